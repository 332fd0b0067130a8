"""Limits and books that hold under concurrency: several gunicorn worker processes,
parallel requests, exact expected counts, workers killed mid-request. Runs on SQLite
always, and on PostgreSQL + Redis when TEST_DATABASE_URL and TEST_REDIS_URL are set (CI
sets both)."""
import os
import signal
import threading
import time
from contextlib import contextmanager

import pytest
import requests
from conftest import (
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    fresh_window,
    key_id,
    make_app,
    parallel_get,
    quota_used,
)
from servers import Gunicorn
from sqlalchemy import text

from app.extensions import db
from app.keys import lifecycle
from app.keys.models import Usage


def request_name(backend) -> str:
    return "postgres" if backend[1]["DATABASE_URL"].startswith("postgresql") else "sqlite"


@pytest.fixture
def backend(worker_backend):
    return worker_backend


def new_key(app, **options):
    with app.app_context():
        return lifecycle.create_key("load test", scopes=["read", "admin"], **options)[1]


def test_daily_limit_is_exact_across_workers_and_restarts(backend):
    app, env = backend
    key = new_key(app, daily_limit=40, rate_limit="10000/minute")
    with Gunicorn(env, workers=4) as url:
        results = parallel_get(f"{url}/v1/items", key, 120)
    assert sum(1 for status, _ in results if status == 200) == 40
    assert sorted(set(results) - {(200, None)}) == [(429, "/problems/quota-exceeded")]
    assert len(results) == 120

    with Gunicorn(env, workers=4) as url:  # a restart keeps the count
        response = requests.get(f"{url}/v1/items", headers={"X-API-Key": key}, timeout=10)
        assert response.status_code == 429
        me = requests.get(f"{url}/v1/key", headers={"X-API-Key": key}, timeout=10)
        assert me.status_code == 200 and me.json()["today"]["used"] == 40  # free
    assert quota_used(app, key) == 40
    # Metering agrees exactly with the quota: 40 admitted and billed, 81 refusals.
    assert books(app, key) == {"calls": 122, "admitted": 40, "units": 40, "incomplete": 0,
                               "status_2xx": 41, "status_429": 81}


def test_revocation_is_immediate_in_every_worker(backend):
    app, env = backend
    key = new_key(app, daily_limit=10000, rate_limit="10000/minute")
    with Gunicorn(env, workers=4) as url:
        assert {status for status, _ in parallel_get(f"{url}/v1/key", key, 40)} == {200}
        admin = new_key(app, daily_limit=100, rate_limit="10000/minute")
        revoke = requests.post(f"{url}/v1/admin/keys/{key_id(key)}/revoke",
                               headers={"X-API-Key": admin}, timeout=10)
        assert revoke.status_code == 200
        results = parallel_get(f"{url}/v1/key", key, 40)
    assert set(results) == {(401, "/problems/revoked-key")}


@pytest.mark.skipif(not (TEST_DATABASE_URL and TEST_REDIS_URL),
                    reason="the per-minute limit is shared across workers only with Redis")
def test_minute_limit_is_shared_across_workers_with_redis(tmp_path):
    import redis
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    env = {"DATABASE_URL": TEST_DATABASE_URL, "RATELIMIT_STORAGE_URI": TEST_REDIS_URL}
    app = make_app(TEST_DATABASE_URL)
    key = new_key(app, daily_limit=10000, rate_limit="30/minute")
    with Gunicorn(env, workers=4) as url:
        fresh_window(needed=20)
        results = parallel_get(f"{url}/v1/key", key, 90)
    assert sum(1 for status, _ in results if status == 200) == 30
    assert {kind for status, kind in results if status != 200} == {"/problems/rate-limited"}
    with app.app_context():
        db.engine.dispose()


def books(app, key) -> dict:
    """The key's usage counters, summed over its rows."""
    names = ("calls", "admitted", "units", "incomplete", "status_2xx", "status_429")
    with app.app_context():
        totals = db.session.execute(db.select(
            *[db.func.coalesce(db.func.sum(getattr(Usage, name)), 0) for name in names])
            .where(Usage.key_id == key_id(key))).one()
    return dict(zip(names, map(int, totals)))


def worker_pids(master_pid: int) -> list[int]:
    with open(f"/proc/{master_pid}/task/{master_pid}/children") as children:
        return [int(pid) for pid in children.read().split()]


@contextmanager
def slow_path(app, backend_name):
    """A real slow path for GET-style admitted calls: yields (method, path, json, units).

    PostgreSQL: GET /v1/items, whose first query waits for a lock the test holds on the
    items table until the test releases it. SQLite has no lock that stops a reader in WAL
    mode, so there it is the biggest basket (100 items) on a 400-store catalogue."""
    if backend_name == "postgres":
        with db.engine.connect() as locker:
            locker.execute(text("LOCK TABLE items IN ACCESS EXCLUSIVE MODE"))
            yield "GET", "/v1/items", None, 1
            locker.rollback()
        return
    from seed.catalogue import seed_catalogue
    seed_catalogue(db.session, stores=400, items=2000, seed=1)
    items = db.session.scalars(text("SELECT slug FROM items ORDER BY id LIMIT 100")).all()
    yield "POST", "/v1/cheapest-stores", {"items": items, "country": "US", "max_stores": 3}, 11


def test_workers_killed_mid_request_leave_exact_books(backend):
    """SIGKILL every worker while it serves an admitted call. Such calls are admitted,
    incomplete and billed nothing; every answer clients did receive is billed exactly;
    the admitted calls equal the daily quota's count."""
    app, env = backend
    key = new_key(app, daily_limit=1000, rate_limit="10000/minute")
    headers = {"X-API-Key": key}
    env = {**env, "DATABASE_TIMEOUT": "30"}  # the lock is held longer than the default 5 s
    server = Gunicorn(env, workers=2)
    received, lost = [], 0
    with app.app_context(), server as url:
        with slow_path(app, request_name(backend)) as (method, path, body, units):
            for _attempt in range(10):
                answers = []

                def call():
                    try:
                        answers.append(requests.request(method, f"{url}{path}", json=body,
                                                        headers=headers, timeout=60))
                    except requests.ConnectionError:
                        answers.append(None)
                caller = threading.Thread(target=call)
                before = quota_used(app, key)
                caller.start()
                deadline = time.monotonic() + 30
                while quota_used(app, key) == before:  # admitted: now it is being served
                    assert time.monotonic() < deadline, "the call was never admitted"
                for pid in worker_pids(server.process.pid):
                    os.kill(pid, signal.SIGKILL)
                caller.join(timeout=60)
                [answer] = answers
                if answer is None:
                    lost += 1
                else:
                    received.append(answer.status_code)
                if lost >= 2:
                    break
        assert lost >= 1, "no call was caught mid-request"
        # The master starts new workers; the service goes on and the books stay exact.
        after = [status for status, _ in parallel_get(f"{url}/v1/items", key, 20, threads=4)]
    assert after == [200] * 20
    assert set(received) <= {200}
    admitted = lost + len(received) + 20
    assert books(app, key) == {"calls": admitted, "admitted": admitted,
                               "units": units * len(received) + 20, "incomplete": lost,
                               "status_2xx": len(received) + 20, "status_429": 0}
    assert quota_used(app, key) == admitted
