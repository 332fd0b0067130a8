"""One error shape for everything, and no bad input ever produces a 5xx."""
import pytest
from conftest import make_app

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


@pytest.fixture
def reader(make_key, catalogue):
    return {"X-API-Key": make_key(scopes=["read", "write"])}


def assert_problem(response, status, type_=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.json
    assert PROBLEM_KEYS <= set(body) and body["status"] == status
    if type_:
        assert body["type"] == f"/problems/{type_}"
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_unknown_route_and_wrong_method(client, reader):
    assert_problem(client.get("/nowhere"), 404, "not-found")
    body = assert_problem(client.patch("/v1/items", headers=reader), 405, "method-not-allowed")
    assert "405" not in body["title"]


def test_malformed_json_is_400(client, reader):
    response = client.post("/v1/cheapest-stores", data="{not json",
                           headers={**reader, "Content-Type": "application/json"})
    assert_problem(response, 400)


@pytest.mark.parametrize("body, field", [
    ({}, "items"),
    ({"items": [], "country": "US"}, "items"),
    ({"items": "milk", "country": "US"}, "items"),
    ({"items": [{"item": "milk", "quantity": 0}], "country": "US"}, "items"),
    ({"items": [{"item": "milk", "quantity": 100}], "country": "US"}, "items"),
    ({"items": [{"item": "milk", "quantity": "2"}], "country": "US"}, "items"),
    ({"items": [{"item": "milk", "qty": 2}], "country": "US"}, "items"),
    ({"items": ["milk", "milk"], "country": "US"}, "items"),
    ({"items": [f"item-{n}" for n in range(101)], "country": "US"}, "items"),
    ({"items": [None], "country": "US"}, "items"),
    ({"items": [["milk"]], "country": "US"}, "items"),
    ({"items": ["milk"], "country": "usa"}, "country"),
    ({"items": ["milk"], "country": "US", "max_stores": 4}, "max_stores"),
    ({"items": ["milk"], "country": "US", "limit": 0}, "limit"),
    ({"items": ["milk"], "country": "US", "surprise": 1}, "surprise"),
    ({"items": ["milk"]}, "country"),
])
def test_bad_baskets_are_422_naming_the_field(client, reader, body, field):
    problem = assert_problem(client.post("/v1/cheapest-stores", json=body, headers=reader),
                             422, "validation-error")
    assert field in problem["errors"], problem


@pytest.mark.parametrize("body", [[], "text", 42, None, [1, 2]])
def test_non_object_bodies_never_500(client, reader, body):
    response = client.post("/v1/cheapest-stores", json=body, headers=reader)
    assert response.status_code in (400, 422)
    assert response.content_type == "application/problem+json"


def test_unknown_items_are_404_listing_them(client, reader):
    problem = assert_problem(client.post("/v1/cheapest-stores", headers=reader, json={
        "items": ["milk", "caviar", "truffle"], "country": "US"}), 404, "unknown-items")
    assert problem["unknown"] == ["caviar", "truffle"]


def test_get_form_validates_too(client, reader):
    assert_problem(client.get("/v1/cheapest-stores?country=US", headers=reader), 422)
    assert_problem(client.get("/v1/cheapest-stores?items=,,&country=US", headers=reader), 422)
    assert_problem(client.get("/v1/cheapest-stores?items=milk,milk&country=US",
                              headers=reader), 422)
    assert_problem(client.get("/v1/items?per_page=101", headers=reader), 422)
    assert_problem(client.get("/v1/items?page=abc", headers=reader), 422)


def test_body_over_the_size_limit_is_413(client, reader):
    response = client.post("/v1/cheapest-stores", headers=reader,
                           data="x" * (64 * 1024 + 1), content_type="application/json")
    assert_problem(response, 413, "payload-too-large")


@pytest.mark.parametrize("body, field", [
    ({"price": "abc"}, "price"), ({"price": 1.99}, "price"), ({}, "price"),
    ({"price": "1.999"}, "price"), ({"price": "0"}, "price"),
    ({"price": "2.00", "regular_price": "1.00"}, "regular_price"),
    ({"price": "1.00", "promo_ends": "2030-01-01"}, "promo_ends"),
    ({"price": "1.00", "promo_ends": "tomorrow", "regular_price": "2.00"}, "promo_ends"),
])
def test_bad_prices_are_422_and_write_nothing(client, reader, body, field):
    problem = assert_problem(client.put("/v1/stores/us-cheapo-1/prices/milk", json=body,
                                        headers=reader), 422)
    assert field in problem["errors"]
    prices = client.get("/v1/prices?store=us-cheapo-1&item=milk", headers=reader).json
    assert prices["data"][0]["price"] == "1.99"


def test_database_unreachable_is_503(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    from app.extensions import db
    with app.app_context():  # point the engine at a database that does not answer
        from sqlalchemy import create_engine
        db.engines[None] = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                         connect_args={"connect_timeout": 1})
    client = app.test_client()
    assert_problem(client.get("/healthz"), 503, "unavailable")
    response = client.get("/v1/key", headers={"X-API-Key": "spk_00000000_" + "a" * 38})
    assert response.status_code in (401, 503)  # checksum fails before any database access


def test_openapi_documents_every_operation(client):
    spec = client.get("/openapi.json").json
    assert spec["components"]["securitySchemes"]["ApiKey"]["name"] == "X-API-Key"
    operations = [(path, method, op) for path, ops in spec["paths"].items()
                  for method, op in ops.items() if method in ("get", "post", "put", "patch",
                                                              "delete")]
    assert len(operations) == 31
    for path, method, op in operations:
        assert op.get("summary"), (path, method)
        if path.startswith("/v1"):
            assert {"401", "403", "429"} <= set(op["responses"]), (path, method)
            assert op.get("security") == [{"ApiKey": []}], (path, method)
    assert client.get("/docs").status_code == 200
