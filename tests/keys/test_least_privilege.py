"""Least privilege, tried as an attacker would: every escalation by a key that manages
keys is refused with the exact problem, and nothing is written (key count, audit trail
and the target key unchanged). Runs on SQLite and, in CI, on PostgreSQL + Redis."""
from datetime import timedelta

import pytest
from sqlalchemy import event
from conftest import key_id, row_count

from app.clock import utcnow
from app.extensions import db
from app.keys import lifecycle
from app.keys.models import ApiKey, AuditEvent


def snapshot(app, kid):
    with app.app_context():
        key = db.session.get(ApiKey, kid)
        return lifecycle.snapshot(key), key.secret_hash


def trail(app):
    with app.app_context():
        return [(e.action, e.target, e.actor, e.actor_owner)
                for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]


def nothing_written(app, before):
    """The books an escalation must leave alone: keys and audit events."""
    return (row_count(app, "api_keys"), trail(app)) == before


def books(app):
    return row_count(app, "api_keys"), trail(app)


@pytest.fixture
def root(make_key):
    """The operator's unrestricted admin key (never expires)."""
    return make_key(name="root", scopes=["read", "write", "admin"])


@pytest.fixture
def small_admin(make_key, root):
    """An admin key restricted to US dairy, 20 calls a day, expiring tomorrow."""
    return make_key(name="small admin", owner="Acme", scopes=["read", "admin"],
                    countries=["US"], categories=["dairy"], daily_limit=20,
                    expires_in="1d", allowed_ips=["127.0.0.0/8"])


def test_a_restricted_admin_cannot_create_a_wider_key(app, client, small_admin):
    before = books(app)
    response = client.post("/v1/admin/keys", headers={"X-API-Key": small_admin}, json={
        "name": "root-ish", "scopes": ["read", "write", "admin"], "countries": ["US", "FR"],
        "categories": None, "allowed_ips": ["0.0.0.0/0"], "expires_in": None})
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"
    problem = response.json
    assert problem["type"] == "/problems/exceeds-own-bounds"
    assert problem["violated"] == ["scope:write", "country:FR", "category:*",
                                   "ip:0.0.0.0/0", "expires_at"]
    assert problem["key_id"] == key_id(small_admin)
    assert nothing_written(app, before)


def test_defaults_are_clamped_to_the_maker_and_the_result_works(app, client, small_admin):
    """No expiry given: the new key expires with its maker, not in DEFAULT_KEY_TTL."""
    app.config["DEFAULT_KEY_TTL"] = "90d"
    response = client.post("/v1/admin/keys", headers={"X-API-Key": small_admin}, json={
        "name": "reader", "scopes": ["read"], "countries": ["US"], "categories": ["dairy"],
        "allowed_ips": ["127.0.0.1"]})
    assert response.status_code == 201, response.json
    with app.app_context():
        maker = db.session.get(ApiKey, key_id(small_admin))
        made = db.session.get(ApiKey, response.json["id"])
        assert made.expires_at == maker.expires_at
    explicit = client.post("/v1/admin/keys", headers={"X-API-Key": small_admin}, json={
        "name": "later", "scopes": ["read"], "countries": ["US"], "categories": ["dairy"],
        "allowed_ips": ["127.0.0.1"], "expires_in": "2d"})
    assert explicit.status_code == 403 and explicit.json["violated"] == ["expires_at"]
    called = client.get("/v1/key", headers={"X-API-Key": response.json["key"]})
    assert called.status_code == 200 and called.json["categories"] == ["dairy"]


def test_a_key_cannot_widen_itself(app, client, small_admin):
    kid = key_id(small_admin)
    before, snap = books(app), snapshot(app, kid)
    response = client.patch(f"/v1/admin/keys/{kid}", headers={"X-API-Key": small_admin},
                            json={"countries": None, "categories": None, "expires_in": None,
                                  "allowed_ips": None})
    assert response.status_code == 403
    assert response.json["violated"] == ["country:*", "category:*", "ip:*", "expires_at"]
    assert nothing_written(app, before) and snapshot(app, kid) == snap
    # Narrowing itself is fine.
    narrowed = client.patch(f"/v1/admin/keys/{kid}", headers={"X-API-Key": small_admin},
                            json={"allowed_ips": ["127.0.0.1/32"]})
    assert narrowed.status_code == 200 and narrowed.json["allowed_ips"] == ["127.0.0.1/32"]


def test_a_restricted_admin_cannot_see_or_take_over_a_wider_key(app, client, root,
                                                                small_admin):
    """The rotation takeover: grace 0s, force, and the new secret would be the actor's."""
    target = key_id(root)
    before, snap = books(app), snapshot(app, target)
    headers = {"X-API-Key": small_admin}
    attempts = [client.post(f"/v1/admin/keys/{target}/rotate", headers=headers,
                            json={"grace": "0s", "force": True}),
                client.get(f"/v1/admin/keys/{target}", headers=headers),
                client.patch(f"/v1/admin/keys/{target}", headers=headers,
                             json={"name": "mine now"}),
                client.post(f"/v1/admin/keys/{target}/revoke", headers=headers),
                client.delete(f"/v1/admin/keys/{target}", headers=headers)]
    for response in attempts:
        assert response.status_code == 404, response.json
        assert response.json["type"] == "/problems/not-found"
        assert response.json["detail"] == f"No key with id '{target}'."
    listed = client.get("/v1/admin/keys", headers=headers).json
    assert target not in {key["id"] for key in listed["data"]}
    assert listed["total"] == len(listed["data"]) == 1  # only itself
    assert nothing_written(app, before) and snapshot(app, target) == snap
    assert client.get("/v1/key", headers={"X-API-Key": root}).status_code == 200


def test_an_unbounded_admin_pages_keys_in_the_database(app, client, root, small_admin,
                                                       make_key):
    """Its listing is LIMIT/OFFSET in SQL, not every key loaded and checked; a restricted
    admin's is checked key by key. Both agree with the subset rule on what they see."""
    made = [key_id(make_key(name=f"k{n}", owner="Acme", scopes=["read"])) for n in range(4)]
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "FROM api_keys" in statement:
            statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = client.get("/v1/admin/keys?page=2&per_page=2",
                          headers={"X-API-Key": root}).json
        rooted = list(statements)
        statements.clear()
        narrow = client.get("/v1/admin/keys", headers={"X-API-Key": small_admin}).json
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", seen)
    everyone = [key_id(root), key_id(small_admin), *made]  # oldest first
    assert [key["id"] for key in page["data"]] == everyone[2:4]
    assert page["total"] == 6 and page["page"] == 2 and page["per_page"] == 2
    assert any("LIMIT" in sql for sql in rooted), rooted
    # small admin: US dairy, 20 a day, expiring tomorrow: none of the read keys made
    # above (no restrictions, no expiry) lies within it, only itself.
    assert [key["id"] for key in narrow["data"]] == [key_id(small_admin)]
    assert narrow["total"] == 1 and not any("LIMIT" in sql for sql in statements)


def test_the_last_admin_cannot_be_made_unusable_over_http(app, client, root):
    kid = key_id(root)
    before, snap = books(app), snapshot(app, kid)
    for body in ({"expires_in": "1s"}, {"allowed_ips": ["203.0.113.9"]},
                 {"not_before": "2099-01-01T00:00:00Z"}, {"scopes": ["read", "write"]}):
        response = client.patch(f"/v1/admin/keys/{kid}", headers={"X-API-Key": root},
                                json=body)
        assert response.status_code == 409, body
        assert response.json["type"] == "/problems/last-admin-key"
    for response in (client.post(f"/v1/admin/keys/{kid}/revoke", headers={"X-API-Key": root}),
                     client.delete(f"/v1/admin/keys/{kid}", headers={"X-API-Key": root})):
        assert response.status_code == 409
    assert nothing_written(app, before) and snapshot(app, kid) == snap


@pytest.fixture
def partner(make_key, root):
    """FreshMart's key manager: scope keys, its own owner, chain and countries."""
    return make_key(name="freshmart keys", owner="FreshMart", plan="starter",
                    scopes=["read", "write", "keys"], countries=["US", "CA"],
                    chains=["cheapo"], daily_limit=500)


def test_a_partner_manages_its_own_keys(app, client, partner, make_key):
    headers = {"X-API-Key": partner}
    created = client.post("/v1/keys", headers=headers,
                          json={"name": "price feed", "scopes": ["write"], "countries": ["US"],
                                "chains": ["cheapo"]})
    assert created.status_code == 201, created.json
    new = created.json
    assert new["owner"] == "FreshMart" and new["plan"] == "starter"
    assert new["daily_limit"] == 500 and new["overridden"] == ["daily_limit"]  # clamped
    assert new["chains"] == ["cheapo"] and new["countries"] == ["US"]
    rotated = client.post(f"/v1/keys/{new['id']}/rotate", headers=headers, json={"grace": "0s"})
    assert rotated.status_code == 200 and rotated.json["key"] != new["key"]
    assert client.post(f"/v1/keys/{new['id']}/revoke", headers=headers).json["status"] \
        == "revoked"
    assert client.get("/v1/key", headers={"X-API-Key": rotated.json["key"]}).json["type"] \
        == "/problems/revoked-key"
    ids = {key["id"] for key in client.get("/v1/keys", headers=headers).json["data"]}
    assert ids == {key_id(partner), new["id"]}
    # The audit trail names the actor and its owner.
    assert ("key.create", new["id"], f"key:{key_id(partner)}", "FreshMart") in trail(app)


def test_a_partner_cannot_see_another_owner_nor_exceed_its_bounds(app, client, partner,
                                                                   make_key):
    other = key_id(make_key(name="rival", owner="ValuBasket", scopes=["read"],
                            countries=["US"], chains=["cheapo"], plan="starter",
                            daily_limit=10))
    headers = {"X-API-Key": partner}
    before = books(app)
    for response in (client.get(f"/v1/keys/{other}", headers=headers),
                     client.post(f"/v1/keys/{other}/rotate", headers=headers, json={}),
                     client.post(f"/v1/keys/{other}/revoke", headers=headers),
                     client.delete(f"/v1/keys/{other}", headers=headers)):
        assert response.status_code == 404
    assert other not in {k["id"] for k in client.get("/v1/keys", headers=headers).json["data"]}
    wider = client.post("/v1/keys", headers=headers, json={
        "name": "x", "owner": "ValuBasket", "plan": "pro", "scopes": ["read", "admin"],
        "chains": ["cheapo", "posh"], "daily_limit": 501, "rate_limit": "1000/minute"})
    assert wider.status_code == 403
    assert wider.json["violated"] == ["scope:admin", "country:*", "chain:posh",
                                      "owner:ValuBasket", "plan", "daily_limit", "rate_limit"]
    # Without admin, the admin endpoints stay closed.
    assert client.get("/v1/admin/keys", headers=headers).json["type"] \
        == "/problems/insufficient-scope"
    assert nothing_written(app, before)


def test_an_admin_key_manages_its_own_owner_at_v1_keys(app, client, root, make_key):
    """admin implies keys; /v1/keys stays limited to the caller's owner."""
    mine = key_id(make_key(name="mine", scopes=["read"]))  # owner "" like root
    theirs = key_id(make_key(name="theirs", owner="Acme", scopes=["read"]))
    ids = {k["id"] for k in client.get("/v1/keys", headers={"X-API-Key": root}).json["data"]}
    assert mine in ids and theirs not in ids
    everything = client.get("/v1/admin/keys", headers={"X-API-Key": root}).json["data"]
    assert theirs in {k["id"] for k in everything}


def test_a_chain_key_cannot_touch_another_chains_store(app, client, catalogue, make_key):
    """cheapo's price partner: every write to posh's store is a 403 chain:posh."""
    key = make_key(name="cheapo prices", scopes=["read", "write"], chains=["cheapo"])
    headers = {"X-API-Key": key}
    with app.app_context():
        prices_before = db.session.execute(db.text("SELECT count(*), sum(amount) FROM prices")).one()
    writes = [
        client.put("/v1/stores/us-posh-1/prices/milk", headers=headers, json={"price": "0.10"}),
        client.post("/v1/stores/us-posh-1/prices", headers=headers,
                    json={"prices": [{"item": "milk", "price": "0.10"}]}),
        client.delete("/v1/stores/us-posh-1/prices/milk", headers=headers),
        client.post("/v1/stores", headers=headers, json={
            "id": "us-posh-9", "name": "Posh 9", "chain": "posh", "country": "US",
            "city": "Boston", "lat": 42.36, "lon": -71.06}),
    ]
    for response in writes:
        assert response.status_code == 403, response.json
        assert response.json["type"] == "/problems/restricted"
        assert response.json["violated"] == ["chain:posh"]
    with app.app_context():
        assert db.session.execute(db.text("SELECT count(*), sum(amount) FROM prices")).one() \
            == prices_before
        assert db.session.execute(db.text("SELECT count(*) FROM stores")).scalar() == 5
    # Its own chain's store is fine.
    own = client.put("/v1/stores/us-cheapo-1/prices/milk", headers=headers,
                     json={"price": "1.89"})
    assert own.status_code == 200


def test_reads_are_narrowed_to_the_keys_chains(app, client, catalogue, make_key):
    headers = {"X-API-Key": make_key(scopes=["read"], chains=["cheapo"])}
    stores = client.get("/v1/stores", headers=headers).json["data"]
    assert {s["chain"] for s in stores} == {"cheapo"} and len(stores) == 3
    prices = client.get("/v1/prices", headers=headers).json["data"]
    assert prices and all(p["store"].split("-")[1] == "cheapo" for p in prices)
    assert client.get("/v1/deals?country=US", headers=headers).json["data"] == []  # posh's
    explicit = client.get("/v1/prices?store=us-posh-1", headers=headers)
    assert explicit.status_code == 403 and explicit.json["violated"] == ["chain:posh"]
    basket = client.post("/v1/cheapest-stores", headers=headers,
                         json={"items": ["milk", "bread"], "country": "US", "max_stores": 2})
    answer = basket.json
    assert {s["store"]["id"] for s in answer["stores"]} == {"us-cheapo-1", "us-cheapo-2"}
    assert {line["store"] for line in answer["per_item"]} <= {"us-cheapo-1", "us-cheapo-2"}
    assert all(s["store"].startswith("us-cheapo") for s in answer["plan"]["stores"])


def test_the_cli_is_root_and_takes_chains(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "create", "--name", "c", "--chains", "cheapo,posh",
                                 "--scopes", "read,keys", "--json"])
    assert result.exit_code == 0, result.output
    assert '"chains": ["cheapo", "posh"]' in result.output
    assert '"scopes": ["keys", "read"]' in result.output


def test_expired_actor_bounds_use_the_request_clock(app, client, make_key):
    """A key expiring in an hour may make a key expiring in 30 minutes, not in two hours."""
    maker = make_key(name="m", scopes=["read", "keys"], expires_in="1h")
    ok = client.post("/v1/keys", headers={"X-API-Key": maker},
                     json={"name": "short", "scopes": ["read"], "expires_in": "30m"})
    assert ok.status_code == 201
    with app.app_context():
        made = db.session.get(ApiKey, ok.json["id"])
        assert made.expires_at - utcnow() <= timedelta(minutes=30)
    late = client.post("/v1/keys", headers={"X-API-Key": maker},
                       json={"name": "long", "scopes": ["read"], "expires_in": "2h"})
    assert late.status_code == 403 and late.json["violated"] == ["expires_at"]
