"""Usage metering: exact figures per endpoint and status class, reports, CSV, anomalies,
and one structured log line per request."""
import json
import logging
from datetime import datetime, timedelta

from conftest import key_id, quota_used

from app.extensions import db
from app.keys.models import Usage


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
                      headers=headers).status_code == 403  # scope

    rows = client.get("/v1/usage?days=1", headers=headers).json["data"]
    by_endpoint = {row["endpoint"]: row for row in rows}
    assert set(by_endpoint) == {"GET /v1/items", "GET /v1/stores", "POST /v1/cheapest-stores",
                                "PUT /v1/stores/<store_id>/prices/<item_id>", "GET /v1/usage"}
    # The report includes the call asking for it: admitted calls are billed at admission.
    this_call = by_endpoint["GET /v1/usage"]
    assert (this_call["calls"], this_call["units"], this_call["status_2xx"]) == (1, 1, 1)
    items = by_endpoint["GET /v1/items"]
    assert (items["calls"], items["units"], items["status_2xx"], items["status_4xx"]) \
        == (4, 3, 3, 1)
    stores = by_endpoint["GET /v1/stores"]
    assert (stores["calls"], stores["units"], stores["status_403"]) == (1, 0, 1)
    cheapest = by_endpoint["POST /v1/cheapest-stores"]
    assert (cheapest["calls"], cheapest["units"], cheapest["status_2xx"],
            cheapest["status_4xx"]) == (2, 1, 1, 1)
    assert by_endpoint["PUT /v1/stores/<store_id>/prices/<item_id>"]["status_403"] == 1


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
    admin = make_key(scopes=["admin"])
    reader = make_key(plan="pro")
    for _ in range(4):
        client.get("/v1/key", headers={"X-API-Key": reader})
    report = client.get("/v1/admin/usage", headers={"X-API-Key": admin}).json
    billing = {row["key_id"]: row for row in report["billing"]}
    assert billing[key_id(reader)]["units"] == 4 and billing[key_id(reader)]["plan"] == "pro"
    assert billing[key_id(reader)]["amount_usd"] == "0.00"  # 4 units at $0.50 per 1,000
    csv_text = client.get("/v1/admin/usage?format=csv", headers={"X-API-Key": admin})
    assert csv_text.mimetype == "text/csv"
    lines = csv_text.get_data(as_text=True).splitlines()
    assert lines[0].startswith("key_id,day,endpoint,calls,units")
    assert any(line.startswith(f"{key_id(reader)},") and ",4,4," in line for line in lines)
    result = app.test_cli_runner().invoke(args=["usage", "report"])
    assert key_id(reader) in result.output and "pro" in result.output
    result = app.test_cli_runner().invoke(args=["usage", "report", "--csv"])
    assert result.output.splitlines()[0] == lines[0]


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
                       headers={"X-API-Key": make_key(scopes=["admin"])}).json["data"]
    kinds = {flag["flag"]: flag["explanation"] for flag in flags if flag["key_id"] == key_id(noisy)}
    assert set(kinds) == {"traffic-spike", "forbidden-burst"}
    assert "55 calls this hour" in kinds["traffic-spike"]
    assert "15 calls refused with 403" in kinds["forbidden-burst"]
    for _ in range(30):
        client.get("/v1/prices?item=nope", headers={"X-API-Key": noisy})
    flags = app.test_cli_runner().invoke(args=["usage", "anomalies"]).output
    assert "error-spike" in flags


def test_one_json_log_line_per_request_without_the_secret(client, make_key, caplog):
    key = make_key()
    with caplog.at_level(logging.INFO, logger="storeprice.requests"):
        client.get("/v1/key", headers={"X-API-Key": key, "X-Request-ID": "req-1"})
    lines = [json.loads(r.message) for r in caplog.records if r.name == "storeprice.requests"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req-1" and line["key_id"] == key_id(key)
    assert (line["method"], line["route"], line["status"], line["units"]) \
        == ("GET", "GET /v1/key", 200, 1)
    assert line["duration_ms"] >= 0
    assert key.split("_")[2] not in caplog.text


def usage_row(app, key):
    with app.app_context():
        rows = db.session.execute(db.select(Usage).where(Usage.key_id == key_id(key))).scalars()
        return [(row.hour, row.endpoint, row.calls, row.units, row.status_2xx, row.status_4xx,
                 row.status_5xx) for row in rows]


def test_a_call_that_fails_after_admission_is_corrected_to_a_5xx(app, client, make_key,
                                                                  monkeypatch):
    """Admission bills a success; the after-step turns it into what really happened."""
    key = make_key(daily_limit=10)
    from app.market import catalogue

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated bug")
    monkeypatch.setattr(catalogue, "list_items", broken)
    response = client.get("/v1/items", headers={"X-API-Key": key})
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    [(_, endpoint, calls, units, ok, client_errors, server_errors)] = usage_row(app, key)
    assert (endpoint, calls, units, ok, client_errors, server_errors) == \
        ("GET /v1/items", 1, 0, 0, 0, 1)
    assert quota_used(app, key) == 1  # the quota counts every admitted call


def test_the_correction_lands_in_the_hour_the_call_was_admitted(app, client, make_key):
    """Admitted at 10:59:59, answered after 11:00: one row, in the 10:00 hour."""
    key = make_key(daily_limit=10)
    moments = iter([datetime(2030, 1, 1, 10, 59, 59)] * 2)  # the key check, the limit step
    app.config["CLOCK"] = lambda: next(moments, datetime(2030, 1, 1, 11, 0, 1))
    response = client.get("/v1/items?page=0", headers={"X-API-Key": key})
    assert response.status_code == 422
    assert usage_row(app, key) == [(datetime(2030, 1, 1, 10), "GET /v1/items", 1, 0, 0, 1, 0)]


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
