"""The minute window stays exact across a stall of its storage: Redis paused (SIGSTOP)
while calls arrive, each refused with a 503, then resumed. The counts of those calls are
still in Redis's socket buffers when it resumes; none of them may land, so the window
admits exactly its limit."""
import os
import signal
import subprocess
import time
from contextlib import contextmanager

import pytest
import redis
from conftest import TEST_REDIS_URL, fresh_window, make_app

from app.keys import lifecycle

pytestmark = pytest.mark.skipif(not TEST_REDIS_URL, reason="set TEST_REDIS_URL to pause Redis")


def redis_server_pid() -> int:
    """The redis-server behind TEST_REDIS_URL (this machine's, as in CI)."""
    port = redis.Redis.from_url(TEST_REDIS_URL).connection_pool.connection_kwargs["port"]
    for line in subprocess.run(["pgrep", "-a", "redis-server"], capture_output=True,
                               text=True).stdout.splitlines():
        pid, command = line.split(" ", 1)
        if f":{port}" in command or port == 6379 and ":" not in command:
            return int(pid)
    pytest.skip("no local redis-server process to pause")


@contextmanager
def redis_paused():
    pid = redis_server_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:  # other tests (and people) share this Redis: always resume it
        os.kill(pid, signal.SIGCONT)


def test_counts_of_calls_refused_during_a_stall_never_land(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'stall.db'}", RATELIMIT_STORAGE_URI=TEST_REDIS_URL)
    with app.app_context():
        _, key = lifecycle.create_key("stall", daily_limit=1000, rate_limit="5/minute")
    client, headers = app.test_client(), {"X-API-Key": key}
    fresh_window(needed=25)
    assert [client.get("/v1/key", headers=headers).status_code for _ in range(2)] == [200] * 2
    with redis_paused():
        stalled = [client.get("/v1/key", headers=headers) for _ in range(4)]
    assert [answer.status_code for answer in stalled] == [503] * 4
    assert {answer.json["type"] for answer in stalled} == {"/problems/unavailable"}
    time.sleep(0.5)  # Redis works off the stalled INCRs it had buffered
    after = [client.get("/v1/key", headers=headers).status_code for _ in range(5)]
    assert after == [200, 200, 200, 429, 429]  # exactly the 5 of the window: 2 + 3
