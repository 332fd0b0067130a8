"""One error shape for everything, and no bad input ever produces a 5xx."""
import pytest
from conftest import fresh_window, make_app, row_count

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
    ({"price": "\u0661.\u0669\u0669"}, "price"),  # "١.٩٩": Decimal() would read it as 1.99
    ({"price": "1.00", "regular_price": "2.00", "promo_ends": "2000-01-01"}, "promo_ends"),
    ({"price": "1.990"}, "price"),  # three decimals written for dollars
    ({"price": "1.00", "regular_price": "2.00", "promo_ends": "20991231"}, "promo_ends"),
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


# --- problem+json all the way down (issue 12) -------------------------------------------

def assert_traced_problem(response, status, type_):
    """A problem as above, with the request id in the header and as its instance."""
    body = assert_problem(response, status, type_)
    assert response.headers["X-Request-ID"] and body["instance"] == \
        response.headers["X-Request-ID"]
    return body


@pytest.mark.parametrize("headers, data", [
    ({}, '{"items": ["milk"], "country": "US"}'),                     # no Content-Type
    ({"Content-Type": "text/plain"}, '{"items": ["milk"]}'),          # another one
    ({"Content-Type": "application/x-www-form-urlencoded"}, "items=milk"),
])
def test_body_that_is_not_json_is_415(app, client, reader, headers, data):
    response = client.post("/v1/cheapest-stores", data=data, headers={**reader, **headers})
    assert_traced_problem(response, 415, "unsupported-media-type")


def test_json_nested_too_deep_is_400(client, reader):
    for depth in (33, 5000):  # past our limit, and past Python's recursion limit
        body = '{"items": ' + "[" * depth + "]" * depth + "}"
        response = client.post("/v1/cheapest-stores", data=body,
                               headers={**reader, "Content-Type": "application/json"})
        problem = assert_traced_problem(response, 400, "bad-request")
        assert "nested" in problem["detail"]


def test_integers_with_thousands_of_digits_are_422(client, reader):
    body = '{"items": [{"item": "milk", "quantity": ' + "9" * 5000 + '}], "country": "US"}'
    response = client.post("/v1/cheapest-stores", data=body,
                           headers={**reader, "Content-Type": "application/json"})
    assert_traced_problem(response, 422, "validation-error")


def test_double_slash_is_a_404_problem_not_a_redirect(client, reader):
    for path in ("//v1/items", "/v1//items", "//healthz"):
        assert_traced_problem(client.get(path, headers=reader), 404, "not-found")


def test_options_is_204_with_allow_needs_no_key_and_is_never_billed(app, client, make_key,
                                                                     catalogue):
    usage_rows = row_count(app, "usage")
    response = client.options("/v1/admin/keys/abcdEFGH")  # no key at all
    assert response.status_code == 204
    assert set(response.headers["Allow"].split(", ")) == {"GET", "PATCH", "DELETE", "OPTIONS"}
    assert "Content-Type" not in response.headers and response.data == b""
    assert response.headers["X-Request-ID"]
    key = {"X-API-Key": make_key()}
    assert client.options("/v1/items", headers=key).status_code == 204
    assert row_count(app, "usage") == usage_rows and row_count(app, "daily_quota") == 0
    assert_traced_problem(client.options("/nowhere"), 404, "not-found")


def test_a_204_has_no_content_type(client, make_key, catalogue):
    writer = {"X-API-Key": make_key(scopes=["write"])}
    response = client.delete("/v1/stores/us-cheapo-1/prices/milk", headers=writer)
    assert response.status_code == 204 and "Content-Type" not in response.headers


def test_429_names_the_violated_policy(client, make_key, catalogue):
    fresh_window()
    daily = {"X-API-Key": make_key(daily_limit=1)}
    assert client.get("/v1/items", headers=daily).status_code == 200
    problem = assert_traced_problem(client.get("/v1/items", headers=daily), 429,
                                    "quota-exceeded")
    assert problem["violated-policies"] == ["daily"]
    minute = {"X-API-Key": make_key(rate_limit="1/minute")}
    assert client.get("/v1/items", headers=minute).status_code == 200
    problem = assert_traced_problem(client.get("/v1/items", headers=minute), 429,
                                    "rate-limited")
    assert problem["violated-policies"] == ["minute"]


@pytest.mark.parametrize("expires_in", ["0s", "0d", "000m"])
def test_expires_in_must_be_in_the_future(app, client, make_key, expires_in):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    keys_before = row_count(app, "api_keys")
    response = client.post("/v1/admin/keys", json={"name": "x", "expires_in": expires_in},
                           headers=admin)
    assert "expires_in" in assert_traced_problem(response, 422, "validation-error")["errors"]
    assert row_count(app, "api_keys") == keys_before


def test_usage_report_from_after_to_is_422(client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    response = client.get("/v1/admin/usage?from=2026-02-02&to=2026-02-01", headers=admin)
    assert "from" in assert_traced_problem(response, 422, "validation-error")["errors"]
    same_day = client.get("/v1/admin/usage?from=2026-02-01&to=2026-02-01", headers=admin)
    assert same_day.status_code == 200


@pytest.mark.parametrize("url, field", [
    ("/v1/items?per_page=5&pagesize=1", "pagesize"),
    ("/v1/prices?item=milk&stor=us-cheapo-1", "stor"),
    ("/v1/usage?form=2026-01-01", "form"),
])
def test_unknown_query_parameters_are_422_naming_them(client, reader, url, field):
    """A misspelt parameter must not be dropped: the caller would get an answer to
    another question (every store, not the one they named) and never know."""
    body = assert_problem(client.get(url, headers=reader), 422, "validation-error")
    assert body["errors"] == {field: ["Unknown field."]}


@pytest.mark.parametrize("path, body, field", [
    ("/v1/stores", {"id": "us-new-1", "name": "New", "chain": "cheapo", "country": "US",
                    "city": "Boston", "lat": "42.36", "lon": -71.06}, "lat"),
    ("/v1/items", {"id": "new-item", "name": "New", "category": "dairy", "size": "1",
                   "unit": "l"}, "size"),
])
def test_numbers_sent_as_strings_in_a_body_are_422_and_write_nothing(app, client, reader,
                                                                      path, body, field):
    table = path.rsplit("/", 1)[1]
    before = row_count(app, table)
    problem = assert_problem(client.post(path, json=body, headers=reader), 422)
    assert problem["errors"] == {field: ["Not a valid number."]}
    assert row_count(app, table) == before
    # The same body with a number is taken: only the type was wrong.
    fixed = {**body, field: float(body[field])}
    assert client.post(path, json=fixed, headers=reader).status_code == 201


@pytest.mark.parametrize("method, path, body, field", [
    ("post", "/v1/items", {"id": "new-item\n", "name": "New", "category": "dairy", "size": 1,
                           "unit": "l"}, "id"),
    ("put", "/v1/stores/us-cheapo-1/prices/milk", {"price": "1.99\n"}, "price"),
    ("post", "/v1/admin/keys", {"name": "x", "countries": ["US\n"]}, "countries"),
    ("post", "/v1/admin/keys", {"name": "x", "rate_limit": "60/minute\n"}, "rate_limit"),
    ("post", "/v1/cheapest-stores", {"items": ["milk\n"], "country": "US"}, "items"),
])
def test_a_trailing_newline_does_not_match_a_pattern(app, client, make_key, catalogue, method,
                                                     path, body, field):
    """re.match lets "$" match before a final newline: "US\\n" would pass ^[A-Z]{2}$, be
    stored, and then match nothing. Patterns are matched whole, as the document reads them."""
    headers = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    before = [row_count(app, table) for table in ("items", "api_keys")]
    problem = assert_problem(getattr(client, method)(path, json=body, headers=headers), 422)
    assert field in problem["errors"]
    assert [row_count(app, table) for table in ("items", "api_keys")] == before
    price = client.get("/v1/prices?store=us-cheapo-1&item=milk", headers=headers).json
    assert price["data"][0]["price"] == "1.99"


def test_what_an_operation_does_not_read_is_refused_and_nothing_happens(app, client,
                                                                        make_key, catalogue):
    """A query parameter or a body sent to an operation that reads none is a 422 naming
    it: ignored, `?dry_run=1` would look honoured while the write went ahead."""
    writer = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    victim = make_key(name="victim")
    price_url = "/v1/stores/us-cheapo-1/prices/milk"

    problem = assert_problem(client.put(price_url + "?dry_run=1", json={"price": "9.99"},
                                        headers=writer), 422, "validation-error")
    assert problem["errors"] == {"dry_run": ["Unknown field."]}
    problem = assert_problem(client.get("/v1/key?verbose=1", headers=writer), 422)
    assert problem["errors"] == {"verbose": ["Unknown field."]}
    problem = assert_problem(client.post("/v1/cheapest-stores?country=CA", headers=writer,
                                         json={"items": ["milk"], "country": "US"}), 422)
    assert problem["errors"] == {"country": ["Unknown field."]}
    problem = assert_problem(client.delete(price_url, json={"force": True}, headers=writer), 422)
    assert problem["errors"] == {"json": ["This operation takes no body."]}
    revoke = f"/v1/admin/keys/{victim.split('_')[1]}/revoke"
    assert_problem(client.post(revoke, data="x", content_type="text/plain", headers=writer), 422)

    # Nothing happened: the price stands, the key still works.
    assert client.get("/v1/prices?store=us-cheapo-1&item=milk",
                      headers=writer).json["data"][0]["price"] == "1.99"
    assert client.get("/v1/key", headers={"X-API-Key": victim}).status_code == 200
    # And without the extras, each is served as usual.
    assert client.delete(price_url, headers=writer).status_code == 204
    assert client.post(revoke, headers=writer).status_code == 200


@pytest.mark.parametrize("url, field", [
    ("/v1/items?page=%D9%A2", "page"),          # "٢": int() reads it as 2
    ("/v1/items?per_page=%EF%BC%95", "per_page"),  # a full-width "５"
    ("/v1/items?per_page=+5", "per_page"), ("/v1/items?per_page=%205", "per_page"),
    ("/v1/items?per_page=1_0", "per_page"),
    ("/v1/cheapest-stores?items=milk&country=US&limit=%D9%A1", "limit"),
])
def test_query_numbers_are_ascii_as_the_document_writes_them(client, reader, url, field):
    body = assert_problem(client.get(url, headers=reader), 422, "validation-error")
    assert list(body["errors"]) == [field]
