"""Property-based fuzzing of the whole HTTP contract with schemathesis and *every* one of
its checks.

Every operation in /openapi.json is called in-process (WSGI, no server) with generated
valid and invalid inputs, once with a read+write+admin key and once without a key, and
every response must pass all of schemathesis' checks: no 5xx; a documented status
(flask-smorest's catch-all ``default`` is removed first, see fuzz_support); a documented
media type, body schema and headers (required ones present, values of the declared
type); schema-valid input accepted and invalid input refused (positive_data_acceptance,
negative_data_rejection); auth enforced (ignored_auth probes without and with a bad key);
methods the path lacks answered 405 with an exact ``Allow`` (unsupported_method,
allow_header_conformance); plus our own: no ERROR in the app's log behind the answer.
The key lifecycle is also fuzzed statefully, through the document's links.

What the document cannot say in JSON Schema (a field compared with another, a row a
request names) is said in its descriptions; positive cases keep those rules
(fuzz_support.keep_documented_rules) and the fuzz key allows one country, so that a
``country`` may be left out as documented.

Bounded and deterministic: a fixed seed, derandomized Hypothesis, no example database, at
most MAX_EXAMPLES per operation in the fuzzing phase, plus schemathesis' own deterministic
coverage phase (boundary and type-confusion values; about as many cases again).

The bugs it found are fixed; each has a regression test at the end of this file."""
import logging
from collections import Counter

import pytest
import schemathesis
from conftest import key_id
from fuzz_support import (
    LoggedError,
    add_fuzz_webhook,
    keep_documented_rules,
    openapi_document,
    steer,
)
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import ignored_auth
from sqlalchemy import event

from app.extensions import db

SEED = 20240601
MAX_EXAMPLES = 50           # fuzzing phase, per operation, with a key
MAX_EXAMPLES_CHEAP = 120    # ... for the cheap reads (one indexed query or none)
CHEAP_READS = r"^/(healthz|v1/(key|usage|items|stores|prices|deals|admin/anomalies))$"
MAX_EXAMPLES_NO_KEY = 15    # without a key every answer is a 400/401: little to explore

# Values that random generation seldom hits but that break real services: a NUL (which
# PostgreSQL text cannot hold), the ends of the calendar and offsets that cross them, and
# the largest amounts the money pattern allows. Schemathesis swaps one in for a generated
# string with this probability, only where the schema accepts it (in positive cases) or
# rejects it (in negative cases).
EDGE_STRINGS = ["a\x00b", "\x00", "0001-01-01", "9999-12-31",
                "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                "9999-12-31T23:59:59Z", "999999999", "999999999.9999", "99999999.99"]
EDGE_PROBABILITY = 0.2
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428",
              "429", "5xx"]  # schemathesis' default expected rejections, plus 414

FUZZ_SETTINGS = settings(
    # The app and key fixtures are deliberately shared by all examples of one operation:
    # a fresh app per example would cost more than the fuzzing itself.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
    deadline=None, derandomize=True, database=None, print_blob=False)


def fuzz_schema(max_examples: int, with_security_parameters: bool, cheap_examples=None):
    cheap = [{"include-method": "GET", "include-path-regex": CHEAP_READS,
              "generation": {"max-examples": cheap_examples}}] if cheap_examples else []
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "operations": cheap,
        # A GET basket too long for a URL is refused with 414 (uri-too-long), by design.
        "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
        "dictionaries": {"edge": {"values": EDGE_STRINGS}},
        "generation": {
            "mode": "all", "deterministic": True, "max-examples": max_examples,
            "database": "none", "with-security-parameters": with_security_parameters,
            "dictionaries": {"string": {"dictionary": "edge",
                                        "probability": EDGE_PROBABILITY}}},
    })
    return schemathesis.openapi.from_dict(openapi_document(), config=config)


# With a key, X-API-Key is not fuzzed (the negative cases would mostly drop it and only
# test the 401 that the no-key run covers). Without one, schemathesis sends no key, an
# empty one or random strings. /healthz is public: the keyed run covers it.
with_key = fuzz_schema(MAX_EXAMPLES, with_security_parameters=False,
                       cheap_examples=MAX_EXAMPLES_CHEAP)
without_key = fuzz_schema(MAX_EXAMPLES_NO_KEY, with_security_parameters=True).include(
    path_regex=r"^/v1/")


class ErrorLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def fuzz_app(app, catalogue):
    app.config["AUTH_FAILURE_LIMIT"] = "1000000/minute"  # the no-key run fails auth a lot
    with app.app_context():
        engine = db.engine

    # One process, one thread: a wait for an SQLite lock can only be the app waiting for
    # itself, which is a bug. Fail after 0.2 s instead of the app's 15 s busy_timeout
    # (meant for several workers), so such a bug is quick to see, not a stalled run.
    @event.listens_for(engine, "connect")
    def no_waiting_for_itself(dbapi_connection, _record):
        if type(dbapi_connection).__module__ == "sqlite3":
            dbapi_connection.execute("PRAGMA busy_timeout=200")
    engine.dispose()  # pooled connections reconnect through the listener

    errors = ErrorLog()
    logging.getLogger("storeprice").addHandler(errors)
    app.extensions["fuzz_error_log"] = errors
    yield app
    logging.getLogger("storeprice").removeHandler(errors)


@pytest.fixture
def fuzz_key(fuzz_app, make_key):
    # One country: then `country` may be left out of the cheapest-stores query, as its
    # schema says (required unless the key allows exactly one country), and every price the
    # key may write is in USD (see fuzz_support.keep_documented_rules).
    key = make_key(name="fuzz", scopes=["read", "write", "admin"], countries=["US"],
                   daily_limit=10**9, rate_limit="1000000/minute")
    with fuzz_app.app_context():
        add_fuzz_webhook(owner="")  # the fuzz key's owner
    return key


@pytest.fixture
def statuses():
    """Status codes answered during one operation's run (shown with pytest -rP or -s)."""
    seen = Counter()
    yield seen
    print(dict(sorted(seen.items())))


@pytest.fixture
def reaches_success(statuses):
    """After the keyed run of an operation: it answered 2xx at least once, so its success
    schema was checked and the fuzz key kept working (a revoked fuzz key would turn the
    run into a wall of 401s that passes every check)."""
    yield
    assert any(200 <= status < 300 for status in statuses), statuses


def call_and_check(case, app, headers=None):
    """Call, run every check, and fail on an ERROR the app logged behind the answer."""
    log = app.extensions["fuzz_error_log"].records
    logged_before = len(log)
    case.operation.schema.app = app  # checks that send probes of their own go there too
    response = case.call_and_validate(app=app, headers=headers)
    hidden = [LoggedError(record.getMessage(), str(record.exc_info and record.exc_info[1]))
              for record in log[logged_before:]]
    assert not hidden, (f"{case.operation.label} answered {response.status_code} "
                        f"but the app logged: {hidden}\n{case.as_curl_command()}")
    return response


@with_key.parametrize()
@FUZZ_SETTINGS
def test_fuzz_with_key(case, fuzz_app, fuzz_key, make_key, statuses, reaches_success):
    def victim():
        # Within the fuzz key's bounds, or it could not see the victim (404).
        return key_id(make_key(name="fuzz victim", scopes=["read"], countries=["US"]))

    steer(case, key_id(fuzz_key), victim)
    response = call_and_check(case, fuzz_app, {"X-API-Key": fuzz_key})
    statuses[response.status_code] += 1


@without_key.parametrize()
@FUZZ_SETTINGS
def test_fuzz_without_key(case, fuzz_app, statuses):
    response = call_and_check(case, fuzz_app)
    statuses[response.status_code] += 1
    if case.method == "OPTIONS":  # the coverage phase probes it: 204 + Allow, needs no key
        assert response.status_code == 204 and "allow" in response.headers
    else:
        assert response.status_code in (400, 401, 404, 405), "answered without a key"


# --- stateful: the key lifecycle through the document's links -------------------------

STATEFUL_SETTINGS = settings(FUZZ_SETTINGS, max_examples=15, stateful_step_count=6)


def lifecycle_schema():
    """Only the key lifecycle, and only the links the document declares (POST /keys ->
    show/update/rotate/revoke/delete that key): schemathesis' own link inference would
    also follow GET /v1/key's id, which is the fuzz key's."""
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "generation": {"mode": "positive", "deterministic": True, "database": "none",
                       "with-security-parameters": False},
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    })
    return schemathesis.openapi.from_dict(openapi_document(), config=config).include(
        path_regex=r"^/v1/admin/keys")


def test_key_lifecycle_stateful(fuzz_app, fuzz_key, make_key):
    """Create a key, then show, patch, rotate, revoke or delete it, in generated orders:
    every step answers as documented (all checks), the fuzz key survives."""
    schema = lifecycle_schema()
    schema.app = fuzz_app
    fuzz_id, steps = key_id(fuzz_key), Counter()

    class KeyLifecycle(schema.as_state_machine()):
        def before_call(self, case):
            if (case.path_parameters or {}).get("key_id") == fuzz_id:
                case.path_parameters["key_id"] = key_id(make_key(name="fuzz victim",
                                                                 countries=["US"]))
            keep_documented_rules(case)  # all cases of this run are positive

        def get_call_kwargs(self, case):
            return {"app": fuzz_app, "headers": {"X-API-Key": fuzz_key}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # headers=: the credentials are ours, so ignored_auth probes without them
            case.validate_response(response, additional_checks=additional_checks,
                                   headers=kwargs["headers"], transport_kwargs=kwargs,
                                   recorder=self.recorder)

        def after_call(self, response, case):
            super().after_call(response, case)
            steps[(case.method, response.status_code)] += 1

    KeyLifecycle.run(settings=STATEFUL_SETTINGS)
    assert steps[("POST", 201)] and any(method != "POST" and 200 <= status < 300
                                        for method, status in steps), steps
    check = fuzz_app.test_client().get("/v1/key", headers={"X-API-Key": fuzz_key})
    assert check.status_code == 200


# --- regression tests for what the fuzzing found ------------------------------------

def checked(method, path, response, **parts):
    """Run the fuzz checks on one hand-made request's response; return it."""
    # ignored_auth re-sends the request, which a hand-made response cannot; the fuzz runs
    # above check auth enforcement.
    with_key[path][method].Case(**parts).validate_response(response,
                                                            excluded_checks=[ignored_auth])
    return response


def test_unknown_items_problem_is_documented(fuzz_app, fuzz_key):
    query = {"items": "nope", "country": "US"}
    response = fuzz_app.test_client().get("/v1/cheapest-stores", query_string=query,
                                          headers={"X-API-Key": fuzz_key})
    checked("GET", "/v1/cheapest-stores", response, query=query)
    assert response.status_code == 404 and response.json["unknown"] == ["nope"]


def test_insufficient_scope_problem_is_documented(fuzz_app, make_key):
    response = fuzz_app.test_client().get("/v1/admin/anomalies",
                                          headers={"X-API-Key": make_key(scopes=["read"])})
    checked("GET", "/v1/admin/anomalies", response)
    assert response.status_code == 403 and response.json["required_scope"] == "admin"


def test_csv_usage_report_is_documented(fuzz_app, fuzz_key):
    query = {"format": "csv"}
    response = fuzz_app.test_client().get("/v1/admin/usage", query_string=query,
                                          headers={"X-API-Key": fuzz_key})
    checked("GET", "/v1/admin/usage", response, query=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"


def test_failed_price_delete_is_metered_without_waiting(fuzz_app, fuzz_key):
    client, headers = fuzz_app.test_client(), {"X-API-Key": fuzz_key}
    response = client.delete("/v1/stores/us-cheapo-1/prices/tshirt", headers=headers)
    assert response.status_code == 404  # us-cheapo-1 has no tshirt price
    usage = client.get("/v1/usage", headers=headers).json["data"]
    assert [row["calls"] for row in usage
            if row["endpoint"] == "DELETE /v1/stores/<store_id>/prices/<item_id>"] == [1]
    assert fuzz_app.extensions["fuzz_error_log"].records == []


def test_nul_in_a_search_is_refused_not_a_500(fuzz_app, fuzz_key):
    query = {"q": "a\x00b"}
    response = fuzz_app.test_client().get("/v1/items", query_string=query,
                                          headers={"X-API-Key": fuzz_key})
    checked("GET", "/v1/items", response, query=query)


@pytest.mark.parametrize("query", [{"to": "9999-12-31"}, {"to": "0001-01-05"}])
def test_usage_report_at_the_ends_of_the_calendar(fuzz_app, fuzz_key, query):
    response = fuzz_app.test_client().get("/v1/admin/usage", query_string=query,
                                          headers={"X-API-Key": fuzz_key})
    checked("GET", "/v1/admin/usage", response, query=query)
    assert response.status_code == 422


def test_not_before_offset_past_the_calendar(fuzz_app, fuzz_key):
    body = {"name": "edge", "not_before": "0001-01-01T00:00:00+05:00"}
    response = fuzz_app.test_client().post("/v1/admin/keys", json=body,
                                           headers={"X-API-Key": fuzz_key})
    checked("POST", "/v1/admin/keys", response, body=body)
    assert response.status_code == 422


def test_price_beyond_the_amount_column_is_refused(fuzz_app, fuzz_key):
    """The same answer on both backends: SQLite would store it, PostgreSQL fails."""
    body = {"price": "885560063"}  # 88,556,006,300 cents > 2**31 - 1
    response = fuzz_app.test_client().put("/v1/stores/us-cheapo-2/prices/milk", json=body,
                                          headers={"X-API-Key": fuzz_key})
    checked("PUT", "/v1/stores/{store_id}/prices/{item_id}", response, body=body,
            path_parameters={"store_id": "us-cheapo-2", "item_id": "milk"})
    assert response.status_code == 422


def test_prune_is_no_key_id(fuzz_app, fuzz_key):
    """Found with allow_header_conformance: /keys/<key_id> also matched /keys/prune, so
    OPTIONS there advertised GET, PATCH and DELETE, and GET looked for a key "prune"."""
    client, headers = fuzz_app.test_client(), {"X-API-Key": fuzz_key}
    options = client.options("/v1/admin/keys/prune")
    assert set(options.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    response = client.get("/v1/admin/keys/prune", headers=headers)
    assert response.status_code == 405 and response.headers["Allow"]


@pytest.mark.parametrize("body", [{"name": "a\x00b"}, {"name": "x", "owner": "\x00"}])
def test_nul_in_free_text_is_422_on_every_backend(fuzz_app, fuzz_key, body):
    """Found on PostgreSQL with positive_data_acceptance: the document allowed a NUL that
    PostgreSQL cannot store (400 from the database; SQLite stored it)."""
    response = fuzz_app.test_client().post("/v1/admin/keys", json=body,
                                           headers={"X-API-Key": fuzz_key})
    checked("POST", "/v1/admin/keys", response, body=body)
    assert response.status_code == 422


@pytest.mark.parametrize("query", [{"from": "1969-12-31"}, {"to": "9999-12-31"},
                                   {"from": "2026-03-02", "to": "2026-03-01"}])
def test_report_days_outside_the_documented_range_are_422(fuzz_app, fuzz_key, query):
    """Found with positive_data_acceptance: the document allowed any date, the server
    only 1970-9999 (now stated as a pattern); from after to is the documented rule."""
    response = fuzz_app.test_client().get("/v1/admin/usage", query_string=query,
                                          headers={"X-API-Key": fuzz_key})
    checked("GET", "/v1/admin/usage", response, query=query)
    assert response.status_code == 422


def test_the_checks_catch_a_missing_header_or_wrong_media_type(fuzz_app, fuzz_key):
    """The header and media-type promises are really checked: break an answer, see it."""
    client, headers = fuzz_app.test_client(), {"X-API-Key": fuzz_key}
    response = client.get("/v1/items", headers=headers)
    checked("GET", "/v1/items", response)  # as served: fine
    del response.headers["RateLimit"]
    with pytest.raises(FailureGroup) as missing:
        checked("GET", "/v1/items", response)
    assert "RateLimit" in str(missing.value.exceptions)
    problem = client.get("/v1/items?per_page=0", headers=headers)
    assert problem.status_code == 422
    problem.headers["Content-Type"] = "application/json"
    with pytest.raises(FailureGroup) as wrong:
        checked("GET", "/v1/items", problem, query={"per_page": 0})
    assert "Content-Type" in str(wrong.value.exceptions) or "content type" in \
        str(wrong.value.exceptions).lower()
