"""Connections shared fairly between the served workers (app/balancing.py), under real
gunicorn with gunicorn.conf.py and a probe app that answers with its worker's pid.

The unfair case is made on purpose: one worker is stopped (SIGSTOP) while a burst of
kept-alive connections arrives, so gunicorn's own accept would hand every one of them to
the other worker."""
import collections
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from servers import free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
CONNECTIONS = 16


@pytest.fixture
def probe():
    """gunicorn.conf.py with 2 workers serving tests/pid_probe.py; yields (port, pids)."""
    port = free_port()
    server = subprocess.Popen(
        [str(GUNICORN), "--config", str(ROOT / "gunicorn.conf.py"), "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--pythonpath", str(ROOT / "tests"),
         "--log-level", "warning", "pid_probe:app"],
        cwd=ROOT, env={**os.environ, "ACCESS_LOG": "", "RATELIMIT_ALLOW_PER_PROCESS": "true"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, pids = time.monotonic() + 30, set()
        while len(pids) < 2 and time.monotonic() < deadline:  # both workers answer
            try:
                pids.add(int(requests.get(f"http://127.0.0.1:{port}/", timeout=1).text))
            except requests.RequestException:
                time.sleep(0.1)
        assert len(pids) == 2, "gunicorn did not start two workers"
        yield port, sorted(pids)
    finally:
        for pid in pids:  # never leave a worker stopped
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        server.terminate()
        server.wait(timeout=30)


def ask(sock) -> int:
    """One request on a kept-alive connection: the pid of the worker holding it."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: probe\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1]:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection"
        data += chunk
    return int(data.split(b"\r\n\r\n", 1)[1])


def test_a_burst_is_shared_even_when_one_worker_is_slow_to_accept(probe):
    port, (busy, slow) = probe
    time.sleep(0.2)  # the pids were learnt on connections that are closed by now
    os.kill(slow, signal.SIGSTOP)  # a worker that does not get the CPU for a moment
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=10)
               for _ in range(CONNECTIONS)]
    try:
        for sock in sockets:
            sock.sendall(b"")  # connected; the requests go once the worker is back
        time.sleep(0.5)  # shorter than balancing.STALE: the stopped worker still counts
        os.kill(slow, signal.SIGCONT)
        holders = collections.Counter(ask(sock) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()
    assert set(holders) == {busy, slow}
    # gunicorn alone gives all 16 to the worker that was running; fair: 8 each, give or
    # take balancing.SLACK
    assert abs(holders[busy] - holders[slow]) <= 4, holders


def test_a_killed_worker_does_not_stop_the_others_accepting(probe):
    port, (survivor, killed) = probe
    os.kill(killed, signal.SIGKILL)
    started = time.monotonic()
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=10)
               for _ in range(CONNECTIONS)]
    try:
        holders = collections.Counter(ask(sock) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()
    assert killed not in holders and sum(holders.values()) == CONNECTIONS
    # the dead worker's row is left out after balancing.STALE (1.5 s); the respawned
    # worker takes part as soon as it runs
    assert time.monotonic() - started < 5
