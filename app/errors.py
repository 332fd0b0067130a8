"""One error shape for everything: RFC 9457 ``application/problem+json``.

Views and pipeline steps raise ``Problem``; werkzeug's HTTP errors (404, 405, 413, ...),
webargs validation (422), rate-limit refusals and unexpected exceptions all end up in
``problem_response``, so a client never sees HTML or a traceback."""
import logging

import marshmallow as ma
from flask import g, json, request
from flask_smorest import Api
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger("storeprice")

PROBLEM_JSON = "application/problem+json"

# A stable type URI per failure. Clients switch on this, never on the English title.
TITLES = {
    "bad-request": "Malformed request",
    "key-in-query": "API key sent in the URL",
    "missing-key": "API key required",
    "invalid-key": "Invalid API key",
    "expired-key": "API key expired",
    "key-not-yet-valid": "API key not yet valid",
    "revoked-key": "API key revoked",
    "insufficient-scope": "Missing scope",
    "restricted": "Outside the key's restrictions",
    "ip-not-allowed": "Address not allowed for this key",
    "rotation-in-progress": "A rotation is already in progress",
    "last-admin-key": "The last active admin key",
    "plan-in-use": "Plan in use",
    "not-found": "Not found",
    "unknown-items": "Unknown items",
    "method-not-allowed": "Method not allowed",
    "request-timeout": "Request body not received in time",
    "payload-too-large": "Request body too large",
    "unsupported-media-type": "Body is not JSON",
    "uri-too-long": "Request URI too long",
    "expectation-failed": "Expect header not supported",
    "headers-too-large": "Request headers too large",
    "not-implemented": "Not implemented",
    "validation-error": "Invalid input",
    "conflict": "Conflict",
    "quota-exceeded": "Daily quota exceeded",
    "rate-limited": "Too many requests",
    "unavailable": "Service unavailable",
    "internal-error": "Internal server error",
}
# werkzeug's own errors get a type from their status code.
TYPE_BY_STATUS = {400: "bad-request", 401: "missing-key", 404: "not-found",
                  405: "method-not-allowed", 408: "request-timeout", 409: "conflict",
                  413: "payload-too-large", 414: "uri-too-long",
                  415: "unsupported-media-type", 417: "expectation-failed",
                  422: "validation-error",
                  429: "rate-limited", 431: "headers-too-large", 500: "internal-error",
                  501: "not-implemented", 503: "unavailable"}


class Problem(Exception):
    """Raise to answer with a problem document; ``extensions`` become extra members."""

    def __init__(self, status: int, type_: str, detail: str, headers=None, **extensions):
        super().__init__(detail)
        self.status, self.type, self.detail = status, type_, detail
        self.headers = headers or {}
        self.extensions = extensions


def problem_response(problem: Problem):
    body = {"type": f"/problems/{problem.type}",
            "title": TITLES.get(problem.type, problem.type.replace("-", " ").capitalize()),
            "status": problem.status, "detail": problem.detail,
            "instance": g.get("request_id")}
    body.update(problem.extensions)
    return json.dumps(body), problem.status, {"Content-Type": PROBLEM_JSON, **problem.headers}


def from_http_exception(error: HTTPException) -> Problem:
    data = getattr(error, "data", None) or {}
    extensions = {}
    if "messages" in data:  # webargs validation: {"json": {"field": ["message"]}}
        extensions["errors"] = _flatten_locations(data["messages"])
    headers = dict(data.get("headers") or {})
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    detail = data.get("message") or error.description or error.name
    if error.code == 422 and "errors" in extensions:
        detail = "Some fields are invalid: " + ", ".join(sorted(extensions["errors"])) + "."
    if error.code == 400 and "messages" in data:
        detail = "The request body is not valid JSON."
    return Problem(error.code or 500, TYPE_BY_STATUS.get(error.code, "bad-request"),
                   detail, headers, **extensions)


def _flatten_locations(messages: dict) -> dict:
    """webargs nests errors by location (json, query); clients want field -> messages."""
    flat = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            flat.update(location_errors)
        else:
            flat.setdefault("_schema", []).extend(location_errors)
    return flat


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as documented in the OpenAPI document."""
    type = ma.fields.String(required=True, metadata={
        "example": "/problems/quota-exceeded",
        "description": "stable URI of the failure; switch on this, never on the title"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True, validate=ma.validate.Range(min=400, max=599))
    detail = ma.fields.String(required=True)
    instance = ma.fields.String(required=True, allow_none=True,
                                metadata={"description": "the request id (X-Request-ID)"})
    key_id = ma.fields.String(metadata={"description": "the calling key's public id"})
    violated = ma.fields.List(ma.fields.String(), metadata={
        "description": 'restrictions refused, e.g. ["country:FR", "ip:203.0.113.9"]'})
    violated_policies = ma.fields.List(
        ma.fields.String(), data_key="violated-policies",
        metadata={"description": 'the RateLimit-Policy entries that refused the call: '
                                 '["daily"] or ["minute"]'})
    errors = ma.fields.Dict(metadata={"description": "field -> messages (validation-error)"})
    retry_after = ma.fields.Integer(metadata={"description": "seconds (as Retry-After)"})
    required_scope = ma.fields.String()
    unknown = ma.fields.List(ma.fields.String(), metadata={"description": "unknown item ids"})


class ProblemApi(Api):
    """flask-smorest's Api with problem+json errors instead of its own error format, and
    the document's tags (the sections of /docs) in the order OPENAPI_TAGS_FIRST gives."""
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return problem_response(from_http_exception(error))

    def register_blueprint(self, blp, **options):
        super().register_blueprint(blp, **options)
        from .openapi import order_tags  # app/openapi.py imports this module
        order_tags(self.spec, self._app.config.get("OPENAPI_TAGS_FIRST", ()))


def register_error_handlers(app):
    app.register_error_handler(Problem, problem_response)

    @app.errorhandler(OperationalError)  # unreachable, silent past DATABASE_TIMEOUT, ...
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)  # no free pooled connection within DATABASE_TIMEOUT
    def database_unavailable(error):
        log.error("database unavailable: %s", error.__class__.__name__)
        g.database_unavailable = True  # metering: do not wait for it a second time
        return problem_response(Problem(503, "unavailable", "The database is unreachable; "
                                        "try again shortly.", {"Retry-After": "5"}))

    @app.errorhandler(IntegrityError)
    def conflict(error):  # e.g. two clients creating the same id at the same moment
        return problem_response(Problem(409, "conflict", "This conflicts with existing data "
                                        "(a duplicate id?); nothing was written."))

    @app.errorhandler(DataError)
    def unstorable(error):  # e.g. PostgreSQL: a NUL in text, a number beyond the column type
        return problem_response(Problem(400, "bad-request", "The request holds a value the "
                                        "database cannot store or search for (a NUL "
                                        "character, or a number out of range)."))

    @app.errorhandler(RecursionError)
    def nested_too_deep(error):  # a last line of defence; app/blueprint.py checks depth first
        return problem_response(Problem(400, "bad-request", "The input is nested too deep."))

    @app.errorhandler(Exception)
    def unexpected(error):
        if isinstance(error, HTTPException):
            return problem_response(from_http_exception(error))
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(Problem(500, "internal-error",
                                        "Something went wrong on our side; the request id "
                                        "helps us find it."))
