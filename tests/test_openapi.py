"""The OpenAPI document is exact: every route is in it, every operation is named and
described, every response declares its headers and its real media type (problem+json
for every error). The fuzzer (test_fuzz.py) checks that the server keeps these promises;
this file checks that they are made."""
import re

import pytest

METHODS = ("get", "post", "put", "patch", "delete")
NOT_IN_THE_DOCUMENT = {"static", "docs.assets", "api-docs.openapi_json",
                       "api-docs.openapi_swagger_ui"}


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method], item.get("parameters", [])


def test_every_route_is_documented(app, spec):
    documented = {(method.upper(), path) for path, method, _, _ in operations(spec)}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_IN_THE_DOCUMENT:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, (method, path)


def test_every_operation_is_named_and_described(spec):
    ids = [op["operationId"] for _, _, op, _ in operations(spec)]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z_]+", i) for i in ids)
    for path, method, op, path_parameters in operations(spec):
        assert op["summary"] and op["description"], (method, path)
        for parameter in op.get("parameters", []) + path_parameters:
            assert parameter.get("description"), (method, path, parameter["name"])
            if parameter["in"] == "path":
                assert parameter["schema"].get("pattern"), (method, path, parameter["name"])


def test_every_response_declares_its_headers_and_media_type(spec):
    for path, method, op, _ in operations(spec):
        responses = op["responses"]
        keyed = op.get("security") == [{"ApiKey": []}]
        assert {"405", "503", "default"} <= set(map(str, responses)), (method, path)
        if "requestBody" in op:
            assert {"400", "413", "415", "422"} <= set(map(str, responses)), (method, path)
        if keyed:
            assert {"400", "401", "403", "429"} <= set(map(str, responses)), (method, path)
        for status, response in responses.items():
            status = str(status)
            headers = response["headers"]
            where = (method, path, status)
            assert headers["X-Request-ID"] == {"$ref": "#/components/headers/X-Request-ID"}
            if status[0] in "45" or status == "default":
                assert list(response["content"]) == ["application/problem+json"], where
            if status == "405":
                assert "Allow" in headers, where
            if status in ("429", "503"):
                assert "Retry-After" in headers, where
            if keyed and status == "401":
                assert "WWW-Authenticate" in headers and "RateLimit" not in headers, where
            elif keyed:
                assert {"RateLimit-Policy", "RateLimit", "Deprecation", "Sunset"} <= \
                    set(headers), where
            if keyed and status.startswith("2"):
                assert headers["RateLimit"]["required"] is True, where
    components = spec["components"]["headers"]
    assert components["X-Request-ID"]["required"] is True
    assert components["Retry-After"]["schema"] == {"type": "integer", "minimum": 0}


def test_real_media_types(spec):
    csv = spec["paths"]["/v1/admin/usage.csv"]["get"]["responses"]["200"]["content"]
    assert list(csv) == ["text/csv"]
    deleted = spec["paths"]["/v1/admin/keys/{key_id}"]["delete"]["responses"]["204"]
    assert "content" not in deleted


def test_constraints_are_stated_in_standard_keywords(spec):
    schemas = spec["components"]["schemas"]
    answer = schemas["CheapestAnswer"]["properties"]
    assert answer["plan"] == {"allOf": [{"$ref": "#/components/schemas/Plan"}],
                              "nullable": True, "description": answer["plan"]["description"]}
    assert "plan" in schemas["CheapestAnswer"]["required"]
    basket = schemas["CheapestQuery"]["properties"]["items"]
    assert basket["minItems"] == 1 and basket["maxItems"] == 100
    line = basket["items"]["oneOf"][1]
    assert line["properties"]["quantity"]["minimum"] == 1
    assert line["properties"]["quantity"]["maximum"] == 99
    assert schemas["Item"]["properties"]["size"]["exclusiveMinimum"] is True
    assert schemas["Store"]["properties"]["country"]["pattern"] == "^[A-Z]{2}$"
    assert schemas["KeyCreate"]["properties"]["expires_in"]["pattern"] == "^[1-9][0-9]{0,5}[smhd]$"
    usage = {p["name"]: p for p in spec["paths"]["/v1/admin/usage"]["get"]["parameters"]}
    assert re.fullmatch(usage["from"]["schema"]["pattern"], "1970-01-01")
    assert not re.fullmatch(usage["from"]["schema"]["pattern"], "1969-12-31")
    assert not re.fullmatch(usage["to"]["schema"]["pattern"], "9999-01-01")
    get_basket = {p["name"]: p for p in spec["paths"]["/v1/cheapest-stores"]["get"]["parameters"]}
    pattern = get_basket["items"]["schema"]["pattern"]
    assert re.fullmatch(pattern, "milk,bread") and not re.fullmatch(pattern, "milk, bread")


def test_problem_types_are_documented(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    assert "violated-policies" in problem["properties"]
