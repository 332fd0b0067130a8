"""Limits that hold under concurrency: several gunicorn worker processes, parallel
requests, exact expected counts. Runs on SQLite always, and on PostgreSQL + Redis when
TEST_DATABASE_URL and TEST_REDIS_URL are set (CI sets both)."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import (
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    fresh_window,
    key_id,
    make_app,
    quota_used,
)
from servers import Gunicorn

from app.extensions import db
from app.keys import lifecycle
from app.keys.models import Usage

BACKENDS = [pytest.param("sqlite", id="sqlite+memory")]
BACKENDS.append(pytest.param("postgres", id="postgres+redis", marks=pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="set TEST_DATABASE_URL and TEST_REDIS_URL to run on PostgreSQL and Redis")))


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    """(app for setup in this process, environment for the gunicorn workers)."""
    if request.param == "sqlite":
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
               "RATELIMIT_STORAGE_URI": "memory://"}
    else:
        import redis
        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
        env = {"DATABASE_URL": TEST_DATABASE_URL, "RATELIMIT_STORAGE_URI": TEST_REDIS_URL}
    app = make_app(env["DATABASE_URL"], RATELIMIT_STORAGE_URI=env["RATELIMIT_STORAGE_URI"])
    yield app, env
    with app.app_context():
        db.engine.dispose()


def new_key(app, **options):
    with app.app_context():
        return lifecycle.create_key("load test", scopes=["read", "admin"], **options)[1]


def parallel_get(url, key, count, threads=24):
    def one(_):
        response = requests.get(url, headers={"X-API-Key": key}, timeout=60)
        return response.status_code, response.json().get("type")
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def test_daily_limit_is_exact_across_workers_and_restarts(backend):
    app, env = backend
    key = new_key(app, daily_limit=40, rate_limit="10000/minute")
    with Gunicorn(env, workers=4) as url:
        results = parallel_get(f"{url}/v1/key", key, 120)
    assert sum(1 for status, _ in results if status == 200) == 40
    assert sorted(set(results) - {(200, None)}) == [(429, "/problems/quota-exceeded")]
    assert len(results) == 120

    with Gunicorn(env, workers=4) as url:  # a restart keeps the count
        response = requests.get(f"{url}/v1/key", headers={"X-API-Key": key}, timeout=10)
        assert response.status_code == 429
    assert quota_used(app, key) == 40
    # Metering agrees exactly with the quota: 40 billed successes, 81 refusals.
    with app.app_context():
        usage = db.session.execute(db.select(
            db.func.sum(Usage.calls), db.func.sum(Usage.units), db.func.sum(Usage.status_2xx),
            db.func.sum(Usage.status_429)).where(Usage.key_id == key_id(key))).one()
    assert tuple(usage) == (121, 40, 40, 81)


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
