"""Plans and server binding under several gunicorn worker processes: a plan change and a
binding change apply to the very next call in every worker (nothing cached), with exact
counts. SQLite always; PostgreSQL + Redis when TEST_DATABASE_URL and TEST_REDIS_URL are set."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import key_id, parallel_get, quota_used
from servers import Gunicorn

from app.extensions import db
from app.keys import lifecycle, plans
from app.keys.models import ApiKey, AuditEvent


@pytest.fixture
def backend(worker_backend):
    """The shared multi-worker backend, with a "load" plan whose limits the tests change."""
    app, _ = worker_backend
    with app.app_context():
        plans.create_plan({"id": "load", "name": "Load", "daily_limit": 1000,
                           "rate_limit": "10000/minute", "price_per_1000_units_micros": 0})
    return worker_backend


def new_key(app, **options):
    with app.app_context():
        return lifecycle.create_key("load test", **options)[1]


def test_a_plan_change_applies_to_the_next_call_in_every_worker(backend):
    app, env = backend
    key = new_key(app, plan="load")
    admin = new_key(app, scopes=["read", "write", "admin"], plan="load", daily_limit=100)
    with Gunicorn(env, workers=4) as url:
        assert set(parallel_get(f"{url}/v1/items", key, 48)) == {(200, None)}  # every worker
        changed = requests.patch(f"{url}/v1/admin/plans/load", headers={"X-API-Key": admin},
                                 json={"daily_limit": 60}, timeout=10)
        assert changed.status_code == 200
        results = parallel_get(f"{url}/v1/items", key, 72)
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
    admin = new_key(app, scopes=["read", "write", "admin"], plan="load")
    with Gunicorn(env, workers=4) as url:
        refused = parallel_get(f"{url}/v1/items", key, 40)
        spoofed = parallel_get(f"{url}/v1/items", key, 20, **{"X-Forwarded-For": "203.0.113.9"})
        bound_here = requests.patch(f"{url}/v1/admin/keys/{key_id(key)}",
                                    headers={"X-API-Key": admin},
                                    json={"allowed_ips": ["127.0.0.1", "203.0.113.0/24"]},
                                    timeout=10)
        assert bound_here.status_code == 200
        allowed = parallel_get(f"{url}/v1/items", key, 40)
    assert set(refused) == set(spoofed) == {(403, "/problems/ip-not-allowed")}
    assert set(allowed) == {(200, None)}
    assert quota_used(app, key) == 40  # the 60 refusals never counted


def test_forwarded_for_is_trusted_only_for_the_configured_hops(backend):
    app, env = backend
    key = new_key(app, plan="load", allowed_ips=["203.0.113.0/24"])
    with Gunicorn({**env, "TRUSTED_PROXY_HOPS": "1"}, workers=2) as url:
        via_proxy = parallel_get(f"{url}/v1/items", key, 20,
                                 **{"X-Forwarded-For": "203.0.113.9"})
        spoofed = parallel_get(f"{url}/v1/items", key, 20,
                               **{"X-Forwarded-For": "203.0.113.9, 192.0.2.1"})
    assert set(via_proxy) == {(200, None)}
    assert set(spoofed) == {(403, "/problems/ip-not-allowed")}
    assert quota_used(app, key) == 20


def test_two_admins_revoking_each_other_at_once_leave_one(backend):
    """The last-admin rule holds under a race: whichever revocation lands first, the other
    admin key stays active, in every worker and on both backends."""
    app, env = backend
    first, second = (new_key(app, scopes=["read", "write", "admin"], plan="load") for _ in range(2))

    def revoke(pair):
        actor, target = pair
        response = requests.post(f"{url}/v1/admin/keys/{key_id(target)}/revoke",
                                 headers={"X-API-Key": actor}, timeout=60)
        return response.status_code, response.json().get("type")

    with Gunicorn(env, workers=4) as url:
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(revoke, [(first, second), (second, first)] * 16))
    with app.app_context():
        states = {key.id: key.revoked_at is None for key in
                  db.session.scalars(db.select(ApiKey).where(
                      ApiKey.id.in_([key_id(first), key_id(second)])))}
        revocations = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                                        .where(AuditEvent.action == "key.revoke"))
    assert sorted(states.values()) == [False, True]  # exactly one left active
    assert revocations == 1
    assert {kind for _, kind in results} <= {None, "/problems/last-admin-key",
                                             "/problems/revoked-key"}
    assert (200, None) in results


def test_concurrent_rotations_one_wins_the_others_are_told(backend):
    app, env = backend
    admin = new_key(app, scopes=["read", "write", "admin"], plan="load")
    target = new_key(app, plan="load")

    def rotate(_):
        response = requests.post(f"{url}/v1/admin/keys/{key_id(target)}/rotate",
                                 headers={"X-API-Key": admin}, json={"grace": "1h"},
                                 timeout=60)
        return response.status_code, response.json()

    with Gunicorn(env, workers=4) as url:
        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(rotate, range(12)))
        winners = [body["key"] for status, body in results if status == 200]
        assert len(winners) == 1  # exactly one rotation; no new secret silently lost
        assert {body["type"] for status, body in results if status != 200} \
            == {"/problems/rotation-in-progress"}
        for secret in (winners[0], target):  # the new one, and the old one in its grace
            assert requests.get(f"{url}/v1/key", headers={"X-API-Key": secret},
                                timeout=10).status_code == 200
