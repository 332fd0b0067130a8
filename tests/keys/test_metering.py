"""Usage metering: exact figures per endpoint and status class, reports, CSV, anomalies,
and one structured log line per request."""
import json
import logging
from datetime import datetime, timedelta

import pytest
from conftest import key_id, quota_used
from sqlalchemy import select, text

from app.clock import utcnow
from app.extensions import db
from app.keys.models import ApiKey, Usage


def test_usage_matches_a_scripted_sequence_exactly(app, client, catalogue, make_key):
    key = make_key(scopes=["read"], countries=["US"], daily_limit=1000)
    headers = {"X-API-Key": key}
    basket = {"items": [{"item": "milk", "quantity": 1}], "country": "US"}
    big_basket = {"items": ["milk", "bread"] + [f"x{i}" for i in range(9)], "country": "US"}
    for _ in range(3):
        assert client.get("/v1/items", headers=headers).status_code == 200
    assert client.get("/v1/stores?country=FR", headers=headers).status_code == 403
    assert client.get("/v1/items?page=0", headers=headers).status_code == 422
    assert client.post("/v1/cheapest-stores", json=basket, headers=headers).status_code == 200
    assert client.post("/v1/cheapest-stores", json=big_basket,
                       headers=headers).status_code == 404  # unknown items: no units
    assert client.put("/v1/stores/us-cheapo-1/prices/milk", json={"price": "1"},
                      headers=headers).status_code == 403  # scope: not admitted
    assert client.get("/v1/key", headers=headers).status_code == 200  # free

    rows = client.get("/v1/usage?days=1", headers=headers).json["data"]
    by_endpoint = {row["endpoint"]: row for row in rows}
    assert set(by_endpoint) == {"GET /v1/items", "GET /v1/stores", "POST /v1/cheapest-stores",
                                "PUT /v1/stores/<store_id>/prices/<item_id>", "GET /v1/key"}

    def counters(endpoint, *names):
        return tuple(by_endpoint[endpoint][name] for name in names)
    fields = ("calls", "admitted", "units", "incomplete", "status_2xx", "status_4xx")
    assert counters("GET /v1/items", *fields) == (4, 4, 3, 0, 3, 1)
    assert counters("GET /v1/stores", *fields, "status_403") == (1, 1, 0, 0, 0, 1, 1)
    assert counters("POST /v1/cheapest-stores", *fields) == (2, 2, 1, 0, 1, 1)
    assert counters("PUT /v1/stores/<store_id>/prices/<item_id>", *fields, "status_403") \
        == (1, 0, 0, 0, 0, 1, 1)
    assert counters("GET /v1/key", *fields) == (1, 0, 0, 0, 1, 0)  # self-inspection is free
    # Reconciliation: the admitted calls are exactly what the daily quota counted.
    assert sum(row["admitted"] for row in rows) == quota_used(app, key) == 7
    # GET /v1/usage is recorded once answered: it shows in the next report, unbilled.
    again = client.get("/v1/usage?days=1", headers=headers).json["data"]
    assert [(r["calls"], r["admitted"], r["units"]) for r in again
            if r["endpoint"] == "GET /v1/usage"] == [(1, 0, 0)]


def test_units_grow_with_basket_size(app, client, catalogue, make_key):
    key = make_key()
    # 2 known items per request; 10+ distinct items needed for the extra unit, so build a
    # basket of known items by adding catalogue entries first.
    with app.app_context():
        from app.market.models import Item
        for number in range(10):
            db.session.add(Item(slug=f"extra-{number}", name="Extra", category="dairy",
                                size=1, unit="l"))
        db.session.commit()
    items = ["milk"] + [f"extra-{n}" for n in range(10)]
    response = client.post("/v1/cheapest-stores", headers={"X-API-Key": key},
                           json={"items": items, "country": "US"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.query(Usage).one().units == 2  # 1 + 11 // 10


def test_admin_report_json_csv_and_billing(app, client, make_key):
    admin = make_key(scopes=["read", "write", "admin"])
    reader = make_key(plan="pro")
    for _ in range(4):
        assert client.get("/v1/items", headers={"X-API-Key": reader}).status_code == 200
    report = client.get("/v1/admin/usage", headers={"X-API-Key": admin}).json
    billing = {row["key_id"]: row for row in report["billing"]}
    assert billing[key_id(reader)]["units"] == 4 and billing[key_id(reader)]["plan"] == "pro"
    assert (billing[key_id(reader)]["admitted"], billing[key_id(reader)]["incomplete"]) == (4, 0)
    assert billing[key_id(reader)]["amount_usd"] == "0.00"  # 4 units at $0.50 per 1,000
    csv_text = client.get("/v1/admin/usage?format=csv", headers={"X-API-Key": admin})
    assert csv_text.mimetype == "text/csv"
    lines = csv_text.get_data(as_text=True).splitlines()
    assert lines[0].startswith("key_id,day,endpoint,calls,admitted,units,incomplete,")
    assert any(line.startswith(f"{key_id(reader)},") and ",4,4,4,0," in line for line in lines)
    result = app.test_cli_runner().invoke(args=["usage", "report"])
    assert key_id(reader) in result.output and "pro" in result.output
    result = app.test_cli_runner().invoke(args=["usage", "report", "--csv"])
    assert result.output.splitlines()[0] == lines[0]
    # A window without usage is still a CSV with its header line, as documented.
    empty = client.get("/v1/admin/usage.csv?from=1970-01-01&to=1970-01-31",
                       headers={"X-API-Key": admin}).get_data(as_text=True)
    assert empty.splitlines() == [lines[0]]


def test_anomalies_explain_spikes_errors_and_403_bursts(app, client, catalogue, make_key):
    noisy = make_key(countries=["US"], daily_limit=10000, rate_limit="1000/minute")
    now = datetime.utcnow().replace(minute=0, second=0, microsecond=0)
    with app.app_context():  # a quiet week: 2 calls a day at noon
        for day in range(1, 8):
            db.session.add(Usage(key_id=key_id(noisy), hour=now - timedelta(days=day),
                                 endpoint="GET /v1/items", calls=2, units=2, status_2xx=2))
        db.session.commit()
    for _ in range(40):
        client.get("/v1/items", headers={"X-API-Key": noisy})
    for _ in range(15):
        client.get("/v1/stores?country=FR", headers={"X-API-Key": noisy})
    flags = client.get("/v1/admin/anomalies",
                       headers={"X-API-Key": make_key(scopes=["read", "write", "admin"])}).json["data"]
    kinds = {flag["flag"]: flag["explanation"] for flag in flags if flag["key_id"] == key_id(noisy)}
    assert set(kinds) == {"traffic-spike", "forbidden-burst"}
    assert "55 calls this hour" in kinds["traffic-spike"]
    assert "15 calls refused with 403" in kinds["forbidden-burst"]
    for _ in range(30):
        client.get("/v1/prices?item=nope", headers={"X-API-Key": noisy})
    flags = app.test_cli_runner().invoke(args=["usage", "anomalies"]).output
    assert "error-spike" in flags


def test_one_json_log_line_per_request_without_the_secret(client, make_key, caplog):
    from app.logs import JsonLines
    key = make_key()
    with caplog.at_level(logging.INFO, logger="app.keys.metering"):
        client.get("/v1/items", headers={"X-API-Key": key, "X-Request-ID": "req-1"})
    records = [r for r in caplog.records if r.name == "app.keys.metering"]
    assert len(records) == 1
    line = json.loads(JsonLines().format(records[0]))  # as the handler writes it
    assert set(line) >= {"ts", "level", "logger", "msg", "request_id", "key_id"}
    assert (line["level"], line["logger"], line["msg"]) == ("INFO", "app.keys.metering",
                                                           "request")
    assert line["request_id"] == "req-1" and line["key_id"] == key_id(key)
    assert (line["method"], line["route"], line["status"], line["units"], line["completed"]) \
        == ("GET", "GET /v1/items", 200, 1, True)
    assert line["duration_ms"] >= 0
    assert key.split("_")[2] not in caplog.text


def usage_rows(app, key):
    with app.app_context():
        rows = db.session.execute(db.select(Usage).where(Usage.key_id == key_id(key))).scalars()
        return [(row.endpoint, row.calls, row.admitted, row.units, row.incomplete,
                 row.status_2xx, row.status_4xx, row.status_5xx, row.status_401) for row in rows]


def test_a_call_that_fails_after_admission_is_admitted_incomplete_and_unbilled(
        app, client, make_key, monkeypatch):
    key = make_key(daily_limit=10)
    from app.market import catalogue

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated bug")
    monkeypatch.setattr(catalogue, "list_items", broken)
    response = client.get("/v1/items", headers={"X-API-Key": key})
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert usage_rows(app, key) == [("GET /v1/items", 1, 1, 0, 1, 0, 0, 1, 0)]
    assert quota_used(app, key) == 1  # the quota counts every admitted call


def test_an_admission_that_fails_before_its_commit_leaves_nothing(
        app, client, make_key, monkeypatch):
    """The quota's count and the admission's usage row are one transaction, also on
    PostgreSQL, where the request's reads run in autocommit (app/extensions.py): a failure
    after both statements, before the commit, leaves neither."""
    key = make_key(daily_limit=10)
    from app.keys import limits

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated failure before the commit")
    monkeypatch.setattr(limits, "emit_quota_thresholds", broken)  # after both writes
    response = client.get("/v1/items", headers={"X-API-Key": key})
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert quota_used(app, key) == 0
    assert [row[2] for row in usage_rows(app, key)] in ([], [0])  # nothing admitted
    monkeypatch.undo()  # and the connection went back to the pool fit for the next call
    assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    assert quota_used(app, key) == 1


def test_revoked_and_expired_keys_are_recorded_under_their_id_never_billed(
        app, client, make_key):
    revoked, expiring = make_key(daily_limit=10), make_key(daily_limit=10, expires_in="1h")
    assert client.post(f"/v1/admin/keys/{key_id(revoked)}/revoke",
                       headers={"X-API-Key": make_key(scopes=["read", "write", "admin"])}).status_code == 200
    app.config["CLOCK"] = lambda: datetime.utcnow() + timedelta(hours=2)
    for key, kind in ((revoked, "revoked-key"), (expiring, "expired-key")):
        for _ in range(10):
            answer = client.get("/v1/items", headers={"X-API-Key": key})
            assert answer.status_code == 401 and answer.json["type"] == f"/problems/{kind}"
        assert usage_rows(app, key) == [("GET /v1/items", 10, 0, 0, 0, 0, 10, 0, 10)]
        assert quota_used(app, key) == 0
    # A wrong secret proves nothing: nobody's call, recorded under no key.
    wrong = revoked[:-1] + ("y" if revoked.endswith("x") else "x")  # never the key itself
    assert client.get("/v1/items", headers={"X-API-Key": wrong}).status_code == 401
    assert usage_rows(app, revoked)[0][1] == 10
    flags = app.test_cli_runner().invoke(args=["usage", "anomalies"]).output
    assert f"{key_id(revoked)}  stale-key: 10 calls this hour" in flags
    assert f"{key_id(expiring)}  stale-key: 10 calls this hour" in flags


def test_last_used_at_is_written_at_most_once_a_minute(app, client, make_key):
    from app.keys.models import ApiKey
    key = make_key()
    start = datetime(2030, 1, 1, 12, 0, 0)

    def last_used(at):
        app.config["CLOCK"] = lambda: at
        assert client.get("/v1/key", headers={"X-API-Key": key}).status_code == 200
        with app.app_context():
            return db.session.get(ApiKey, key_id(key)).last_used_at
    assert last_used(start) == start
    assert last_used(start + timedelta(seconds=30)) == start  # within the resolution
    assert last_used(start + timedelta(seconds=90)) == start + timedelta(seconds=90)


def test_release_1_usage_rows_survive_the_upgrade(tmp_path):
    """Migration 0004 keeps every row and estimates the admitted calls of old rows."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r1.db'}",
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade(revision="0001")
        db.session.execute(text(
            "INSERT INTO usage (key_id, hour, endpoint, calls, units, status_2xx, status_3xx,"
            " status_4xx, status_5xx, status_403, status_429) VALUES ('old', "
            "'2026-11-30 10:00:00', 'GET /v1/items', 10, 7, 7, 0, 3, 0, 1, 2)"))
        db.session.commit()
        upgrade()
        row = db.session.execute(text("SELECT calls, admitted, units, incomplete, status_401 "
                                      "FROM usage")).one()
        db.engine.dispose()
    assert tuple(row) == (10, 8, 7, 0, 0)


def test_report_from_is_not_after_the_default_to(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    today = utcnow().date()
    for url in ("/v1/admin/usage", "/v1/admin/usage.csv"):
        for start in ("9998-12-31", str(today + timedelta(days=1))):
            response = client.get(f"{url}?from={start}", headers=admin)
            assert response.status_code == 422, (url, start)
            assert response.content_type == "application/problem+json"
            assert set(response.json["errors"]) == {"from"}
        assert client.get(f"{url}?from={today}", headers=admin).status_code == 200


@pytest.mark.parametrize("query", [{"from": "20261201"}, {"to": "20261231"},
                                   {"from": "2026-W48-2"}, {"to": "2026-12-01T00:00"}])
def test_report_days_are_written_yyyy_mm_dd(app, client, make_key, query):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    for url in ("/v1/admin/usage", "/v1/admin/usage.csv"):
        response = client.get(url, query_string=query, headers=admin)
        assert response.status_code == 422 and set(response.json["errors"]) == set(query)


def put_units(app, full_key, units):
    """Yesterday's usage of a key: ``units`` billable calls, metered at its plan's price."""
    with app.app_context():
        price = db.session.get(ApiKey, key_id(full_key)).plan_row.price_per_1000_units_micros
        db.session.add(Usage(key_id=key_id(full_key), endpoint="GET /v1/items",
                             price_per_1000_units_micros=price,
                             hour=datetime.combine(utcnow().date() - timedelta(days=1),
                                                   datetime.min.time()),
                             calls=units, admitted=units, units=units, status_2xx=units))
        db.session.commit()


def test_a_deleted_or_pruned_key_is_still_billed_at_its_plan(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"], name="admin")}
    deleted = make_key(name="gone", owner="Acme", plan="pro")
    pruned = make_key(name="stale", owner="Beta", plan="starter")
    kept = make_key(name="kept", plan="pro")
    for full_key in (deleted, pruned, kept):
        put_units(app, full_key, 10_000)
    assert client.delete(f"/v1/admin/keys/{key_id(deleted)}", headers=admin).status_code == 204
    with app.app_context():
        db.session.get(ApiKey, key_id(pruned)).created_at = utcnow() - timedelta(days=100)
        db.session.commit()
    pruning = client.post("/v1/admin/keys/prune", headers=admin, json={"unused_days": 90})
    assert pruning.json["deleted"] == [key_id(pruned)]

    billing = {row["key_id"]: row for row in
               client.get("/v1/admin/usage", headers=admin).json["billing"]}
    assert billing[key_id(deleted)] == {
        "key_id": key_id(deleted), "name": "gone", "owner": "Acme", "plan": "pro",
        "deleted": True, "calls": 10_000, "admitted": 10_000, "incomplete": 0,
        "units": 10_000, "amount_usd": "5.00"}  # 10,000 units at $0.50 per 1,000
    assert (billing[key_id(pruned)]["plan"], billing[key_id(pruned)]["amount_usd"],
            billing[key_id(pruned)]["deleted"]) == ("starter", "3.00", True)
    assert (billing[key_id(kept)]["amount_usd"], billing[key_id(kept)]["deleted"]) \
        == ("5.00", False)
    report = app.test_cli_runner().invoke(args=["usage", "report"]).output
    line = next(line for line in report.splitlines() if line.startswith(key_id(deleted)))
    assert "pro" in line and "$5.00" in line and line.endswith("gone (deleted)")


def test_a_long_route_of_a_host_api_is_metered_whole(app, client, make_key):
    """The endpoint label is the route template: an API using the key layer may have
    routes longer than the marketplace's (the column holds 200 characters)."""
    from app.keys.scope import requires

    @requires("read")
    def long_view():
        return {"ok": True}

    rule = "/v1/" + "/".join(["segment"] * 20)  # 163 characters with the method
    app.add_url_rule(rule, "long_view", long_view)
    key = make_key()
    assert client.get(rule, headers={"X-API-Key": key}).status_code == 200
    with app.app_context():
        labels = db.session.scalars(select(Usage.endpoint)).all()
    assert labels == [f"GET {rule}"]


def test_an_answer_not_yet_read_holds_no_transaction(app, make_key, catalogue):
    """Completion waits for the server to finish writing the answer (delivery.py); the
    request's reads must not keep a transaction (and its locks) open meanwhile: a slow
    reader, or a client that never finishes reading, would block a migration's DDL."""
    from werkzeug.test import Client

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL reports its open transactions; SQLite has none to ask")
    key = make_key()
    response = Client(app).open("/v1/items", headers={"X-API-Key": key})  # not closed
    assert response.status_code == 200
    with app.app_context():
        open_transactions = db.session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'idle in transaction'")).scalar()
    assert open_transactions == 0
    response.close()  # now the call completes
    assert Client(app).open("/v1/key", headers={"X-API-Key": key}).status_code == 200
