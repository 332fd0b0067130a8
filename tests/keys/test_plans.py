"""Plans: limits keys share unless they override them, prices billing reads, managed by
the CLI and the admin API, and a plan in use cannot be deleted."""
import json

import pytest
from conftest import key_id, row_count

from app.extensions import db
from app.keys import plans
from app.keys.models import ApiKey, AuditEvent, Plan


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def admin_headers(make_key):
    return {"X-API-Key": make_key(scopes=["read", "write", "admin"], name="admin")}


def test_four_plans_are_seeded_cheapest_first(client, make_key):
    listing = client.get("/v1/admin/plans", headers=admin_headers(make_key))
    assert listing.status_code == 200
    assert [(p["id"], p["daily_limit"], p["rate_limit"], p["price_per_1000_units"])
            for p in listing.json["data"]] == [
        ("free", 1000, "60/minute", "0.00"), ("starter", 5000, "120/minute", "0.30"),
        ("pro", 20000, "300/minute", "0.50"), ("enterprise", 100000, "1000/minute", "0.80")]
    assert listing.json["total"] == 4


def test_a_key_takes_its_plans_limits_and_shows_which_it_overrides(client, make_key):
    on_plan = make_key(plan="starter")
    me = client.get("/v1/key", headers={"X-API-Key": on_plan}).json
    assert (me["plan"], me["daily_limit"], me["rate_limit"], me["overridden"]) \
        == ("starter", 5000, "120/minute", [])
    assert me["today"]["remaining"] == 5000  # asking GET /v1/key is free
    assert client.get("/v1/key", headers={"X-API-Key": on_plan}) \
        .headers["RateLimit-Policy"] == '"daily";q=5000;w=86400, "minute";q=120;w=60'

    own = make_key(plan="starter", daily_limit=3)
    me = client.get("/v1/key", headers={"X-API-Key": own}).json
    assert (me["daily_limit"], me["rate_limit"], me["overridden"]) \
        == (3, "120/minute", ["daily_limit"])


def test_changing_a_plan_applies_to_its_keys_from_the_next_call(app, client, make_key):
    headers = admin_headers(make_key)
    key = make_key(plan="starter")
    own = make_key(plan="starter", daily_limit=50)
    for _ in range(2):
        assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    changed = client.patch("/v1/admin/plans/starter", headers=headers,
                           json={"daily_limit": 3, "rate_limit": "10/minute"})
    assert changed.status_code == 200 and changed.json["daily_limit"] == 3
    assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    me = client.get("/v1/key", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json["daily_limit"] == 3
    assert me.json["today"] == {**me.json["today"], "used": 3, "remaining": 0}
    refused = client.get("/v1/items", headers={"X-API-Key": key})
    assert refused.status_code == 429 and refused.json["type"] == "/problems/quota-exceeded"
    # A key with its own limit is not affected by the plan's.
    me = client.get("/v1/key", headers={"X-API-Key": own}).json
    assert (me["daily_limit"], me["rate_limit"]) == (50, "10/minute")


def test_clearing_an_override_returns_the_key_to_its_plan(app, client, make_key):
    key = make_key(plan="pro", daily_limit=7, rate_limit="5/minute")
    result = cli(app, "keys", "update", key_id(key), "--daily-limit", "plan",
                 "--rate-limit", "plan", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["overridden"] == []
    me = client.get("/v1/key", headers={"X-API-Key": key}).json
    assert (me["daily_limit"], me["rate_limit"]) == (20000, "300/minute")
    headers = admin_headers(make_key)
    patched = client.patch(f"/v1/admin/keys/{key_id(key)}", headers=headers,
                           json={"daily_limit": 9, "plan": "free"})
    assert (patched.json["plan"], patched.json["daily_limit"], patched.json["rate_limit"],
            patched.json["overridden"]) == ("free", 9, "60/minute", ["daily_limit"])


def test_unknown_plan_is_refused_and_nothing_is_written(app, client, make_key):
    headers = admin_headers(make_key)
    response = client.post("/v1/admin/keys", headers=headers, json={"name": "x",
                                                                    "plan": "gold"})
    assert response.status_code == 422 and "plan" in response.json["errors"]
    result = cli(app, "keys", "create", "--name", "x", "--plan", "gold")
    assert result.exit_code == 1 and "No plan with id 'gold'" in result.output
    assert row_count(app, "api_keys") == 1  # the admin key only
    assert row_count(app, "audit_events") == 1  # its creation


def test_plan_crud_over_the_admin_api(app, client, make_key):
    headers = admin_headers(make_key)
    created = client.post("/v1/admin/plans", headers=headers, json={
        "id": "team", "name": "Team", "daily_limit": 8000, "rate_limit": "200/minute",
        "price_per_1000_units": "0.425"})
    assert created.status_code == 201
    assert created.json == {"id": "team", "name": "Team", "daily_limit": 8000,
                            "rate_limit": "200/minute", "price_per_1000_units": "0.425"}
    with app.app_context():
        assert db.session.get(Plan, "team").price_per_1000_units_micros == 425_000
    again = client.post("/v1/admin/plans", headers=headers, json=created.json)
    assert again.status_code == 409
    assert client.get("/v1/admin/plans/team", headers=headers).json["name"] == "Team"
    patched = client.patch("/v1/admin/plans/team", headers=headers,
                           json={"price_per_1000_units": "1"})
    assert patched.json["price_per_1000_units"] == "1.00"
    assert client.delete("/v1/admin/plans/team", headers=headers).status_code == 204
    assert client.get("/v1/admin/plans/team", headers=headers).status_code == 404
    assert client.delete("/v1/admin/plans/team", headers=headers).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"price_per_1000_units": "-1"}, "price_per_1000_units"),
    ({"price_per_1000_units": "0.1234567"}, "price_per_1000_units"),
    ({"price_per_1000_units": 0.5}, "price_per_1000_units"),
    ({"daily_limit": 0}, "daily_limit"),
    ({"rate_limit": "fast"}, "rate_limit"),
    ({"rate_limit": "0/minute"}, "rate_limit"),  # every call of every key on it: 429
    ({"id": "Has Spaces"}, "id"),
])
def test_bad_plan_input_is_422_and_writes_nothing(app, client, make_key, body, field):
    headers = admin_headers(make_key)
    plan = {"id": "team", "name": "Team", "daily_limit": 8000, "rate_limit": "200/minute",
            "price_per_1000_units": "0.40", **body}
    response = client.post("/v1/admin/plans", headers=headers, json=plan)
    assert response.status_code == 422 and field in response.json["errors"]
    assert row_count(app, "plans") == 4


def test_a_plan_cannot_get_a_zero_rate(app, client, make_key):
    headers = admin_headers(make_key)
    events = row_count(app, "audit_events")
    response = client.patch("/v1/admin/plans/free", headers=headers,
                            json={"rate_limit": "0/minute"})
    assert response.status_code == 422 and set(response.json["errors"]) == {"rate_limit"}
    assert response.content_type == "application/problem+json"
    result = cli(app, "plans", "update", "free", "--rate-limit", "0/second")
    assert result.exit_code == 2 and "rate_limit" in result.output
    assert row_count(app, "audit_events") == events
    with app.app_context():
        assert db.session.get(Plan, "free").rate_limit == "60/minute"
    # The admin key, on plan free, still gets through.
    assert client.get("/v1/admin/plans", headers=headers).status_code == 200
    assert cli(app, "plans", "update", "free", "--rate-limit", "999999/second").exit_code == 0


def test_a_plan_in_use_cannot_be_deleted(app, client, make_key):
    headers = admin_headers(make_key)
    refused = client.delete("/v1/admin/plans/free", headers=headers)  # the admin key is on it
    assert refused.status_code == 409 and refused.json["type"] == "/problems/plan-in-use"
    result = cli(app, "plans", "delete", "free")
    assert result.exit_code == 1 and "Keys are on plan 'free'" in result.output
    assert row_count(app, "plans") == 4
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "plan.delete")) == 0
    # Once its last key has moved, it can go.
    assert cli(app, "plans", "delete", "enterprise").exit_code == 0


def test_plans_cli_create_update_list(app):
    result = cli(app, "plans", "create", "team", "--name", "Team", "--daily-limit", "8000",
                 "--rate-limit", "200/minute", "--price", "0.45", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["price_per_1000_units"] == "0.45"
    bad = cli(app, "plans", "update", "team", "--price", "cheap")
    assert bad.exit_code == 2 and "invalid options" in bad.output
    assert cli(app, "plans", "update", "team", "--daily-limit", "9000").exit_code == 0
    listing = cli(app, "plans", "list", "--json")
    assert {p["id"]: p["daily_limit"] for p in json.loads(listing.output)}["team"] == 9000
    text = cli(app, "plans", "list").output
    assert "team" in text and "$0.45 per 1,000 units" in text


def test_billing_reads_prices_from_the_plans_table_as_they_were_when_metered(
        app, client, make_key):
    admin = admin_headers(make_key)
    key = make_key(plan="pro")
    for _ in range(3):
        assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    client.patch("/v1/admin/plans/pro", headers=admin, json={"price_per_1000_units": "1000"})
    for _ in range(2):
        assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    billing = {row["key_id"]: row for row in
               client.get("/v1/admin/usage", headers=admin).json["billing"]}
    assert billing[key_id(key)]["units"] == 5
    # 3 units at $0.50 per 1,000 before the change, 2 at $1,000 per 1,000 after it
    assert billing[key_id(key)]["amount_usd"] == "2.00"


def test_money_is_exact():
    assert plans.price_to_micros("0.000001") == 1
    assert plans.micros_to_price(1) == "0.000001"
    assert plans.micros_to_price(500_000) == "0.50"
    assert plans.amount_due([(1, 5_000)]) == "0.00"
    assert plans.amount_due([(1000, 5_000)]) == "0.01"
    assert plans.amount_due([(10**9, 300_000)]) == "300000.00"
    assert plans.amount_due([(3, 1_666_667)]) == "0.01"  # 0.005000001 rounds half-up
    # Rounded once, at the end: $0.004 alone is no cent, twice it is one.
    assert plans.amount_due([(1, 4_000_000)]) == "0.00"
    assert plans.amount_due([(1, 4_000_000), (1, 4_000_000)]) == "0.01"


def test_a_key_row_joins_its_plan(app, make_key):
    key = make_key(plan="enterprise")
    with app.app_context():
        stored = db.session.get(ApiKey, key_id(key))
        assert (stored.daily_limit, stored.plan_daily_limit) == (None, 100000)
