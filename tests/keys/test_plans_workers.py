"""Plans and server binding under several gunicorn worker processes: a plan change and a
binding change apply to the very next call in every worker (nothing cached), with exact
counts. SQLite always; PostgreSQL + Redis when TEST_DATABASE_URL and TEST_REDIS_URL are set."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import TEST_DATABASE_URL, TEST_REDIS_URL, key_id, make_app, quota_used
from servers import Gunicorn

from app.extensions import db
from app.keys import lifecycle, plans

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
    with app.app_context():
        plans.create_plan({"id": "load", "name": "Load", "daily_limit": 1000,
                           "rate_limit": "10000/minute", "price_per_1000_units_micros": 0})
    yield app, env
    with app.app_context():
        db.engine.dispose()


def new_key(app, **options):
    with app.app_context():
        return lifecycle.create_key("load test", **options)[1]


def parallel_get(url, key, count, threads=24, **headers):
    def one(_):
        response = requests.get(url, headers={"X-API-Key": key, **headers}, timeout=60)
        return response.status_code, response.json().get("type")
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def test_a_plan_change_applies_to_the_next_call_in_every_worker(backend):
    app, env = backend
    key = new_key(app, plan="load")
    admin = new_key(app, scopes=["admin"], plan="load", daily_limit=100)
    with Gunicorn(env, workers=4) as url:
        assert set(parallel_get(f"{url}/v1/key", key, 48)) == {(200, None)}  # every worker
        changed = requests.patch(f"{url}/v1/admin/plans/load", headers={"X-API-Key": admin},
                                 json={"daily_limit": 60}, timeout=10)
        assert changed.status_code == 200
        results = parallel_get(f"{url}/v1/key", key, 72)
        limits = {requests.get(f"{url}/v1/key", headers={"X-API-Key": admin},
                               timeout=10).json()["daily_limit"] for _ in range(8)}
    # 48 were used before the change; the new limit of 60 leaves exactly 12, whichever
    # worker takes them.
    assert sum(1 for status, _ in results if status == 200) == 12
    assert set(results) - {(200, None)} == {(429, "/problems/quota-exceeded")}
    assert quota_used(app, key) == 60
    assert limits == {100}  # the admin key's own override is untouched


def test_binding_holds_in_every_worker_and_refusals_do_not_count(backend):
    app, env = backend
    key = new_key(app, plan="load", allowed_ips=["203.0.113.0/24"])
    admin = new_key(app, scopes=["admin"], plan="load")
    with Gunicorn(env, workers=4) as url:
        refused = parallel_get(f"{url}/v1/key", key, 40)
        spoofed = parallel_get(f"{url}/v1/key", key, 20, **{"X-Forwarded-For": "203.0.113.9"})
        bound_here = requests.patch(f"{url}/v1/admin/keys/{key_id(key)}",
                                    headers={"X-API-Key": admin},
                                    json={"allowed_ips": ["127.0.0.1", "203.0.113.0/24"]},
                                    timeout=10)
        assert bound_here.status_code == 200
        allowed = parallel_get(f"{url}/v1/key", key, 40)
    assert set(refused) == set(spoofed) == {(403, "/problems/ip-not-allowed")}
    assert set(allowed) == {(200, None)}
    assert quota_used(app, key) == 40  # the 60 refusals never counted


def test_forwarded_for_is_trusted_only_for_the_configured_hops(backend):
    app, env = backend
    key = new_key(app, plan="load", allowed_ips=["203.0.113.0/24"])
    with Gunicorn({**env, "TRUSTED_PROXY_HOPS": "1"}, workers=2) as url:
        via_proxy = parallel_get(f"{url}/v1/key", key, 20,
                                 **{"X-Forwarded-For": "203.0.113.9"})
        spoofed = parallel_get(f"{url}/v1/key", key, 20,
                               **{"X-Forwarded-For": "203.0.113.9, 192.0.2.1"})
    assert set(via_proxy) == {(200, None)}
    assert set(spoofed) == {(403, "/problems/ip-not-allowed")}
    assert quota_used(app, key) == 20
