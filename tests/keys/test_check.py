"""Key check and scope: every /v1 route is keyed, and each failure has its own problem."""
import re
from datetime import datetime

import pytest
from conftest import key_id, row_count

from app.extensions import db
from app.keys import format as keyformat
from app.keys.models import ApiKey
from app.keys.pipeline import public_endpoints

DOCUMENTED_PUBLIC = {"/healthz", "/openapi.json", "/docs", "/docs/assets/<path:filename>"}
EXAMPLES = {"store_id": "us-cheapo-1", "item_id": "milk", "key_id": "abcdefgh", "plan_id": "free",
            "filename": "swagger-ui.css", "owner": "acme", "webhook_id": "1", "id": "1",
            "delivery_id": "1"}


def example_url(rule):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: EXAMPLES[m.group(1)], rule.rule)


def every_route(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_no_route_is_open_except_the_documented_ones(app, client, catalogue):
    open_routes = set()
    for rule, method in every_route(app):
        response = client.open(example_url(rule), method=method, json={})
        if response.status_code != 401:
            open_routes.add(rule.rule)
        else:
            assert response.json["type"] == "/problems/missing-key"
    assert open_routes == DOCUMENTED_PUBLIC
    with app.app_context():
        public = public_endpoints()
    assert {r.rule for r in app.url_map.iter_rules() if r.endpoint in public} \
        == DOCUMENTED_PUBLIC


def test_every_keyed_view_declares_its_scope(app):
    with app.app_context():
        public = public_endpoints()
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in public:
            view = app.view_functions[rule.endpoint]
            assert getattr(view, "required_scope", None) in {"read", "write", "keys", "admin", "any"}, \
                rule.rule


@pytest.mark.parametrize("header, detail_part", [
    (None, "X-API-Key"),
    ("nonsense", "malformed"),
])
def test_missing_or_malformed_key_is_401(client, header, detail_part):
    response = client.get("/v1/items", headers={"X-API-Key": header} if header else {})
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert detail_part in response.json["detail"]
    assert response.headers["WWW-Authenticate"].startswith("ApiKey")


def test_bad_checksum_and_unknown_key_are_401_invalid(client, make_key):
    real = make_key()
    typo = real[:-1] + ("A" if real[-1] != "A" else "B")
    unknown = keyformat.generate_key("zzzzzzzz")
    wrong_secret = keyformat.generate_key(key_id(real))  # right id, wrong secret
    for candidate in (typo, unknown, wrong_secret):
        response = client.get("/v1/key", headers={"X-API-Key": candidate})
        assert response.status_code == 401
        assert response.json["type"] == "/problems/invalid-key"
        assert "key_id" not in response.json  # nothing about a key whose secret failed


def test_key_in_query_string_is_refused_with_400(client, make_key):
    key = make_key()
    for query in (f"api_key={key}", f"key={key}", f"q={key}"):
        response = client.get(f"/v1/items?{query}", headers={"X-API-Key": key})
        assert response.status_code == 400
        assert response.json["type"] == "/problems/key-in-query"
        assert "logs" in response.json["detail"]
        assert key not in response.get_data(as_text=True)


def set_key(app, full_key, **values):
    with app.app_context():
        key = db.session.get(ApiKey, key_id(full_key))
        for name, value in values.items():
            setattr(key, name, value)
        db.session.commit()


@pytest.mark.parametrize("values, problem", [
    ({"expires_at": datetime(2000, 1, 1)}, "expired-key"),
    ({"not_before": datetime(2999, 1, 1)}, "key-not-yet-valid"),
    ({"revoked_at": datetime(2020, 1, 1)}, "revoked-key"),
])
def test_expired_pending_and_revoked_keys_get_their_own_problem(app, client, make_key,
                                                                 values, problem):
    key = make_key()
    set_key(app, key, **values)
    response = client.get("/v1/key", headers={"X-API-Key": key})
    assert response.status_code == 401
    assert response.json["type"] == f"/problems/{problem}"
    assert response.json["key_id"] == key_id(key)
    # the state is only revealed to someone holding the secret
    other = keyformat.generate_key(key_id(key))
    assert client.get("/v1/key", headers={"X-API-Key": other}).json["type"] \
        == "/problems/invalid-key"
    assert row_count(app, "daily_quota") == 0  # refused calls are not counted


@pytest.mark.parametrize("scopes, method, url, allowed", [
    (["read"], "GET", "/v1/items", True),
    (["read"], "PUT", "/v1/stores/us-cheapo-1/prices/milk", False),
    (["write"], "GET", "/v1/items", False),
    (["read", "write"], "GET", "/v1/admin/keys", False),
    (["admin"], "GET", "/v1/admin/keys", True),
    (["write"], "GET", "/v1/key", True),  # self-service needs no particular scope
])
def test_scopes(client, catalogue, make_key, scopes, method, url, allowed):
    key = make_key(scopes=scopes)
    # A body only where the operation reads one: a GET with a body is a 422 of its own.
    response = client.open(url, method=method, headers={"X-API-Key": key},
                           json={"price": "1.00"} if method == "PUT" else None)
    if allowed:
        assert response.status_code == 200, response.json
    else:
        assert response.status_code == 403
        assert response.json["type"] == "/problems/insufficient-scope"
        assert response.json["required_scope"] in response.json["detail"]


def test_failed_write_scope_writes_nothing(app, client, catalogue, make_key):
    key = make_key(scopes=["read"])
    before = row_count(app, "prices")
    client.delete("/v1/stores/us-cheapo-1/prices/milk", headers={"X-API-Key": key})
    assert row_count(app, "prices") == before


def test_database_dump_contains_no_key_secret(app, make_key):
    issued = [make_key() for _ in range(3)]
    with app.app_context():
        dump = "\n".join(repr(row) for table in db.metadata.sorted_tables
                         for row in db.session.execute(table.select()))
    for full_key in issued:
        assert key_id(full_key) in dump
        assert full_key.split("_")[2] not in dump  # secret + checksum
        assert full_key not in dump


def test_request_id_is_kept_when_sane_and_replaced_otherwise(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers[
        "X-Request-ID"] == "abc-123"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\x7f" * 30})
    assert len(replaced.headers["X-Request-ID"]) == 32
    problem = client.get("/v1/items")
    assert problem.json["instance"] == problem.headers["X-Request-ID"]
