"""Refused calls spend the minute window and a flood of them costs no database write per
call; organisations share a daily limit that holds exactly across keys, workers and
hosts, counted atomically with each key's own."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import fresh_window, key_id, quota_used
from servers import Gunicorn
from sqlalchemy import event, text

from app.extensions import db
from app.keys import limits, lifecycle, tally


class DatabaseWrites:
    """Counts the statements that write, as the server sends them to the database."""

    def __init__(self, app):
        self.count = 0
        with app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_):
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            self.count += 1

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def usage_totals(app, kid):
    with app.app_context():
        row = db.session.execute(text(
            "SELECT sum(calls), sum(admitted), sum(status_403), sum(status_429) FROM usage "
            "WHERE key_id = :k"), {"k": kid}).one()
        tallied = db.session.execute(text(
            "SELECT coalesce(sum(status_429), 0) FROM usage WHERE key_id = :k "
            "AND endpoint = :e"), {"k": kid, "e": tally.TALLIED}).scalar()
    return tuple(row), tallied


class ShiftedTime:
    """The limiter's clock a minute on: the key's next window, without waiting for it."""

    def __init__(self, seconds):
        import time
        self._time, self.seconds = time, seconds

    def time(self):
        return self._time.time() + self.seconds


def test_300_refused_calls_cost_five_refusals_then_429s_and_no_write_each(
        app, client, catalogue, make_key, monkeypatch):
    key = make_key(scopes=["read"], rate_limit="5/minute")  # no write scope
    kid = key_id(key)
    fresh_window(needed=20)
    writes = DatabaseWrites(app)
    answers = []
    for n in range(300):
        answers.append(client.put("/v1/stores/us-cheapo-1/prices/milk",
                                  headers={"X-API-Key": key}, json={"price": "0.10"}))
        if n == 4:
            writes_for_first_five = writes.count
    types = [r.json["type"] for r in answers]
    assert types == ["/problems/insufficient-scope"] * 5 + ["/problems/rate-limited"] * 295
    assert all(r.status_code == 429 and r.headers["Retry-After"] for r in answers[5:])
    assert writes_for_first_five == 6  # one usage upsert each, last_used_at once
    assert writes.count == writes_for_first_five  # the 295 429s wrote nothing
    assert usage_totals(app, kid) == ((5, 0, 5, 0), 0)
    # The next minute: the key's first call writes the tally in its own transaction.
    monkeypatch.setattr(limits, "time", ShiftedTime(60))
    before = writes.count
    assert client.get("/v1/key", headers={"X-API-Key": key}).status_code == 200
    assert writes.count - before == 2  # its own row and the tally's, one transaction
    writes.close()
    assert usage_totals(app, kid) == ((5 + 295 + 1, 0, 5, 295), 295)
    assert quota_used(app, key) == 0  # refusals never count against the daily quota


def test_revoked_and_unbound_keys_spend_their_window_too(app, client, make_key):
    revoked = make_key(scopes=["read"], rate_limit="3/minute")
    with app.app_context():
        lifecycle.revoke_key(key_id(revoked))
    bound = make_key(scopes=["read"], rate_limit="3/minute", allowed_ips=["203.0.113.0/24"])
    fresh_window(needed=10)
    for key, first in ((revoked, "/problems/revoked-key"),
                       (bound, "/problems/ip-not-allowed")):
        types = [client.get("/v1/items", headers={"X-API-Key": key}).json["type"]
                 for _ in range(6)]
        assert types == [first] * 3 + ["/problems/rate-limited"] * 3


def test_the_tally_is_taken_once_by_concurrent_takers(app):
    """Taking with increments alone: however the takers interleave, the sum is exact."""
    with app.app_context():
        from app.extensions import limiter
        storage = limiter.storage
        for _ in range(1000):
            tally.add(storage, "k1")
        with ThreadPoolExecutor(16) as pool:  # takers racing, and refusals still arriving
            taken = list(pool.map(lambda n: tally.take(storage, "k1") if n % 4
                                  else tally.add(storage, "k1") or 0, range(400)))
        assert all(n >= 0 for n in taken)
        assert sum(taken) + tally.take(storage, "k1") == 1000 + 100


def set_owner_limit(client, admin, owner, limit):
    return client.put(f"/v1/admin/owners/{owner}", headers={"X-API-Key": admin},
                      json={"daily_limit": limit})


def test_an_owner_limit_is_shared_by_its_keys(app, client, make_key):
    admin = make_key(scopes=["read", "write", "admin"])
    keys = [make_key(owner="Acme", scopes=["read"]) for _ in range(3)]
    outsider = make_key(owner="Other", scopes=["read"])
    answer = set_owner_limit(client, admin, "Acme", 5)
    assert answer.status_code == 200
    assert answer.json == {"owner": "Acme", "daily_limit": 5, "keys": 3, "used_today": 0}
    results = [client.get("/v1/items", headers={"X-API-Key": keys[n % 3]}) for n in range(9)]
    assert [r.status_code for r in results] == [200] * 5 + [429] * 4
    refusal = results[5]
    assert refusal.json["violated-policies"] == ["owner-daily"]
    assert refusal.json["type"] == "/problems/quota-exceeded" and refusal.headers["Retry-After"]
    assert '"owner-daily";q=5;w=86400' in refusal.headers["RateLimit-Policy"]
    assert '"owner-daily";r=0;' in refusal.headers["RateLimit"]
    assert '"owner-daily";r=4;' in results[0].headers["RateLimit"]
    # Both counts or neither: the keys' own quotas hold only the admitted calls.
    assert sum(quota_used(app, key) for key in keys) == 5
    me = client.get("/v1/key", headers={"X-API-Key": keys[0]}).json
    assert me["owner_quota"] == {"daily_limit": 5, "used": 5, "remaining": 0}
    assert me["today"]["used"] == 2  # this key's own share
    assert client.get("/v1/items", headers={"X-API-Key": outsider}).status_code == 200
    assert client.get("/v1/key", headers={"X-API-Key": outsider}).json["owner_quota"] is None
    listed = client.get("/v1/admin/owners", headers={"X-API-Key": admin}).json["data"]
    assert {"owner": "Acme", "daily_limit": 5, "keys": 3, "used_today": 5} in listed
    # Lifting it applies from the next call; the change is audited.
    assert set_owner_limit(client, admin, "Acme", None).json["daily_limit"] is None
    assert client.get("/v1/items", headers={"X-API-Key": keys[1]}).status_code == 200
    audit = client.get("/v1/admin/audit?action=owner.update",
                       headers={"X-API-Key": admin}).json["data"]
    assert [e["changes"] for e in audit] == [{"daily_limit": [5, None]},
                                            {"daily_limit": [None, 5]}]
    assert audit[0]["actor"] == f"key:{key_id(admin)}" and audit[0]["actor_owner"] == ""


@pytest.mark.parametrize("body", [{"daily_limit": 0}, {"daily_limit": "5"}, {},
                                  {"daily_limit": 5, "x": 1}])
def test_owner_limit_input_is_validated(client, make_key, body):
    admin = make_key(scopes=["read", "write", "admin"])
    response = client.put("/v1/admin/owners/Acme", headers={"X-API-Key": admin}, json=body)
    assert response.status_code == 422 and response.content_type == "application/problem+json"


def test_owner_quota_is_exact_over_keys_workers_and_hosts(worker_backend):
    """3 keys x 4 workers x 2 hosts (two gunicorn instances on one database)."""
    app, env = worker_backend
    limit = 60
    with app.app_context():
        keys = [lifecycle.create_key(f"acme {n}", owner="Acme", scopes=["read"],
                                     rate_limit="100000/minute")[1] for n in range(3)]
        from app.keys import owners
        owners.set_daily_limit("Acme", limit)
    with Gunicorn(env, workers=4) as first, Gunicorn(env, workers=4) as second:
        def call(n):
            url = (first, second)[n % 2]
            response = requests.get(f"{url}/v1/items", timeout=60,
                                    headers={"X-API-Key": keys[n % 3]})
            return response.status_code, response.json().get("violated-policies")
        with ThreadPoolExecutor(24) as pool:
            results = list(pool.map(call, range(180)))
        me = [requests.get(f"{first}/v1/key", headers={"X-API-Key": key}, timeout=10).json()
              for key in keys]
    assert sum(1 for status, _ in results if status == 200) == limit
    assert {tuple(policy or ()) for status, policy in results if status != 200} \
        == {("owner-daily",)}
    assert all(m["owner_quota"] == {"daily_limit": limit, "used": limit, "remaining": 0}
               for m in me)
    assert sum(m["today"]["used"] for m in me) == limit
    assert sum(quota_used(app, key) for key in keys) == limit
    with app.app_context():
        admitted = db.session.execute(text(
            "SELECT sum(admitted) FROM usage WHERE key_id IN :ids").bindparams(
            db.bindparam("ids", expanding=True)), {"ids": [key_id(k) for k in keys]}).scalar()
    assert admitted == limit  # the usage report agrees with the quotas


def test_admin_keys_stay_usable_whatever_their_owners_limit(app, client, make_key):
    """An operator cannot lock itself out by capping its own organisation."""
    admin = make_key(owner="Acme", scopes=["read", "write", "admin"])
    app_key = make_key(owner="Acme", scopes=["read"])
    assert set_owner_limit(client, admin, "Acme", 1).status_code == 200
    assert client.get("/v1/items", headers={"X-API-Key": app_key}).status_code == 200
    assert client.get("/v1/items", headers={"X-API-Key": app_key}).json["violated-policies"] \
        == ["owner-daily"]
    lifted = set_owner_limit(client, admin, "Acme", None)
    assert lifted.status_code == 200 and lifted.json["daily_limit"] is None
    assert client.get("/v1/key", headers={"X-API-Key": admin}).json["owner_quota"] is None


def test_used_today_is_the_count_even_above_a_lowered_limit(app, client, make_key):
    admin = make_key(scopes=["read", "write", "admin"])
    key = make_key(owner="Acme", scopes=["read"])
    for _ in range(3):
        assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    kid = key_id(key)
    client.patch(f"/v1/admin/keys/{kid}", headers={"X-API-Key": admin}, json={"daily_limit": 2})
    set_owner_limit(client, admin, "Acme", 1)
    me = client.get("/v1/key", headers={"X-API-Key": key}).json
    assert me["today"]["used"] == 3 and me["today"]["remaining"] == 0
    assert me["owner_quota"] == {"daily_limit": 1, "used": 0, "remaining": 1}
