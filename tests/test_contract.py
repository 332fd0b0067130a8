"""The HTTP contract where a generated client or a careful caller found it loose: each
mismatch it found, and the answer the API gives now.

- every answer model lists as `required` each field the server always sends;
- `/healthz` answers a typed body;
- an operation whose body is required refuses a request without one (422 naming `json`);
- numbers in a query string are written as the document writes them;
- a query parameter is given once (422 naming it);
- `//v1/items` is not `/v1/items` (404), HEAD is not served (405), a body is
  `application/json` only (415), a transfer coding other than chunked is a 501, a 417 has
  its own problem type; none of these refusals is billed;
- `/docs` opens with an introduction and lists the marketplace's operations first."""
import json

import pytest
from conftest import row_count
from test_errors import assert_problem
from test_gunicorn import assert_problem as assert_served_problem
from test_gunicorn import exchange, parse, request, served  # noqa: F401 (a fixture)

# Fields an answer sends only in some cases: distance_km and note only with `near`.
SOMETIMES_SENT = {"distance_km", "note"}
# Answer models of the key layer (app/keys) that still leave fields out of `required`;
# the key layer's rewrite adds them (see test_answer_models_list_their_required_fields).

@pytest.fixture
def admin(make_key, catalogue):
    return {"X-API-Key": make_key(scopes=["read", "write", "admin"])}


@pytest.fixture
def document(client):
    return client.get("/openapi.json").json


def answer_models(document) -> set[str]:
    """Every schema a 2xx answer reaches, through $refs."""
    schemas, found = document["components"]["schemas"], set()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref.split("/")[-1] not in found:
                found.add(ref.split("/")[-1])
                walk(schemas[ref.split("/")[-1]])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for operations in document["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):  # a path's "parameters"
                continue
            for status, response in operation.get("responses", {}).items():
                if str(status).startswith("2"):
                    walk(response)
    return found


def test_answer_models_list_their_required_fields(document):
    """A generated client types a field outside `required` as `X | Unset`: every field
    the server always sends must be in the list."""
    loose = {}
    for name in answer_models(document):
        schema = document["components"]["schemas"][name]
        missing = set(schema.get("properties", {})) - set(schema.get("required", [])) \
            - SOMETIMES_SENT
        if missing:
            loose[name] = sorted(missing)
    assert loose == {}


def test_healthz_answer_is_typed(client, document):
    answer = document["paths"]["/healthz"]["get"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert set(document["components"]["schemas"][ref]["required"]) == {"status", "database"}
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


# --- bodies ------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("PATCH", "/v1/admin/plans/free"),
    ("PATCH", "/v1/admin/keys/{own}"),
    ("PUT", "/v1/stores/us-cheapo-1/prices/milk"),
    ("POST", "/v1/cheapest-stores"),
])
def test_a_required_body_cannot_be_left_out(client, admin, method, path):
    path = path.format(own=admin["X-API-Key"].split("_")[1])
    problem = assert_problem(client.open(path, method=method, headers=admin), 422,
                             "validation-error")
    assert "json" in problem["errors"], problem
    # Chunked with nothing in it is no body either.
    problem = assert_problem(client.open(path, method=method, data=b"", headers={
        **admin, "Transfer-Encoding": "chunked", "Content-Type": "application/json"}),
        422, "validation-error")
    assert "json" in problem["errors"], problem


def test_an_empty_object_is_a_body_and_an_optional_body_may_be_left_out(client, admin):
    assert client.patch("/v1/admin/plans/free", json={}, headers=admin).status_code == 200
    own = admin["X-API-Key"].split("_")[1]
    rotated = client.post(f"/v1/admin/keys/{own}/rotate", headers=admin)  # body optional
    assert rotated.status_code == 200, rotated.json


def test_the_document_says_which_bodies_are_required(document):
    assert document["paths"]["/v1/admin/plans/{plan_id}"]["patch"]["requestBody"]["required"]
    assert not document["paths"]["/v1/admin/keys/{key_id}/rotate"]["post"]["requestBody"].get(
        "required")


@pytest.mark.parametrize("content_type", ["application/merge-patch+json",
                                          "application/vnd.api+json", "text/json",
                                          "application/x-json"])
def test_only_application_json_is_json(client, admin, content_type):
    body = json.dumps({"items": ["milk"], "country": "US"})
    assert_problem(client.post("/v1/cheapest-stores", data=body, headers={
        **admin, "Content-Type": content_type}), 415, "unsupported-media-type")
    assert client.post("/v1/cheapest-stores", data=body, headers={
        **admin, "Content-Type": "application/json; charset=utf-8"}).status_code == 200


# --- query strings -----------------------------------------------------------------

@pytest.mark.parametrize("written", ["%D9%A3", "+5", "1_0", "%205", "5%20", "0x5", "5.0"])
@pytest.mark.parametrize("path", ["/v1/items?page={}", "/v1/stores?per_page={}",
                                  "/v1/prices?page={}", "/v1/deals?per_page={}",
                                  "/v1/cheapest-stores?items=milk&country=US&limit={}",
                                  "/v1/cheapest-stores?items=milk&country=US&max_stores={}"])
def test_query_integers_are_written_as_the_document_writes_them(client, admin, path, written):
    problem = assert_problem(client.get(path.format(written), headers=admin), 422,
                             "validation-error")
    name = path.rsplit("&", 1)[-1].rsplit("?", 1)[-1].split("=")[0]
    assert name in problem["errors"], problem


@pytest.mark.parametrize("path", ["/v1/usage?days={}", "/v1/admin/plan-review?days={}"])
def test_key_layer_days_are_written_as_the_document_writes_them(client, admin, path):
    for written in ("%D9%A3", "+5", "1_0"):
        assert_problem(client.get(path.format(written), headers=admin), 422)


@pytest.mark.parametrize("path, name", [
    ("/v1/items?page=1&page=2", "page"),
    ("/v1/stores?country=US&country=CA", "country"),
    ("/v1/cheapest-stores?items=milk&items=bread&country=US", "items"),
    ("/v1/usage?days=1&days=2", "days"),
    ("/v1/items?surprise=1&surprise=2", "surprise"),
])
def test_a_query_parameter_is_given_once(client, admin, path, name):
    problem = assert_problem(client.get(path, headers=admin), 422, "validation-error")
    assert name in problem["errors"], problem


# --- refused before any route: never billed ----------------------------------------

def test_refusals_before_any_route_are_not_billed(app, client, admin):
    usage = row_count(app, "usage")
    assert_problem(client.get("/", environ_overrides={"PATH_INFO": "//v1/items"},
                              headers=admin), 404, "not-found")
    response = client.head("/v1/items", headers=admin)
    assert response.status_code == 405 and response.data == b""
    assert "HEAD" not in response.headers["Allow"] and "GET" in response.headers["Allow"]
    problem = assert_problem(client.post("/v1/cheapest-stores", data=b'{"items": ["milk"]}',
                                         headers={**admin, "Content-Type": "application/json",
                                                  "Transfer-Encoding": "gzip, chunked"}),
                             501, "not-implemented")
    assert "gzip" in problem["detail"]
    assert row_count(app, "usage") == usage and row_count(app, "daily_quota") == 0


def test_options_no_longer_offers_head(client):
    assert "HEAD" not in client.options("/v1/items").headers["Allow"]


def test_the_document_lists_no_head_operation(document):
    assert not any("head" in operations for operations in document["paths"].values())


def test_as_served_double_slash_transfer_codings_and_expect(served):  # noqa: F811
    key = {"X-API-Key": served["key"]}
    assert_served_problem(exchange(served["port"], request("GET", "//v1/items", key)),
                          404, "not-found")
    body = b'{"items": ["milk"], "country": "US"}'
    chunked = hex(len(body))[2:].encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    assert_served_problem(exchange(served["port"], request(
        "POST", "/v1/cheapest-stores", {**key, "Content-Type": "application/json",
                                        "Transfer-Encoding": "gzip, chunked"}, chunked)),
        501, "not-implemented")
    status, _, _ = parse(exchange(served["port"], request(
        "POST", "/v1/cheapest-stores", {**key, "Content-Type": "application/json",
                                        "Transfer-Encoding": "chunked"}, chunked)))
    assert status in (200, 404)  # the served catalogue is empty: unknown items, not a 501
    assert_served_problem(exchange(served["port"], request(
        "GET", "/healthz", {"Expect": "something-else"})), 417, "expectation-failed")


# --- /docs --------------------------------------------------------------------------

def test_docs_open_with_an_introduction_and_the_marketplace_first(document):
    introduction = document["info"]["description"]
    assert "cheapest" in introduction and "X-API-Key" in introduction
    assert [tag["name"] for tag in document["tags"]][:3] == ["cheapest", "catalogue", "writes"]
