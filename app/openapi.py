"""The OpenAPI document is a contract, so it is exact: what every operation shares is added
here, once, instead of in each view (keyed operations add theirs in app/keys/openapi.py).

For every operation: an ``operationId`` (the view's name), ``X-Request-ID`` on every
response, ``405`` with ``Allow``, ``503`` with ``Retry-After`` (the database is down or
silent), ``413``/``415`` where a body is read, and a ``default`` response: every error is
``application/problem+json`` (app/errors.py). Path parameters get the description and
pattern their package registers with ``describe_path_parameter``.

It is an apispec plugin: flask-smorest calls ``operation_helper`` as each view is added."""
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields, validate

from .errors import PROBLEM_JSON, ProblemSchema

# name -> {"description": ..., "schema": {...}}; static documentation, filled at import
PATH_PARAMETERS: dict[str, dict] = {}

HEADERS = {
    "X-Request-ID": {"description": "The request id (yours if it was sane, else a new one); "
                                    "it is the `instance` of a problem.",
                     "required": True,
                     "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"}},
    "Retry-After": {"description": "Seconds to wait before trying again.", "required": True,
                    "schema": {"type": "integer", "minimum": 0}},
    "Allow": {"description": "The methods this path answers.", "required": True,
              "schema": {"type": "string"}},
}

# The answers every operation can give whatever it does, and those of operations that
# read a body.
COMMON_ERRORS = {
    405: ("Method not allowed on this path (see Allow)", ("Allow",)),
    503: ("The database or the rate-limit storage is unreachable or silent",
          ("Retry-After",)),
}
BODY_ERRORS = {
    400: ("Malformed body: not JSON, not UTF-8, or nested too deep", ()),
    413: ("The body is larger than MAX_CONTENT_LENGTH (64 KiB)", ()),
    415: ("The body is not sent as application/json", ()),
}


def describe_path_parameter(name: str, description: str, **schema) -> None:
    """Document a path parameter (``<key_id>``) wherever a route uses it."""
    PATH_PARAMETERS[name] = {"description": description,
                             "schema": {"type": "string", **schema}}


def nullable_nested(self, field, ret, **kwargs) -> dict:
    """A nullable nested object (the basket's ``plan``) as ``allOf: [$ref], nullable``.
    apispec writes ``anyOf: [{type: object, nullable: true}, $ref]``, which any object
    matches and which generators turn into a bare dict instead of the model."""
    if isinstance(field, fields.Nested) and field.allow_none and "anyOf" in ret:
        refs = [branch for branch in ret["anyOf"] if "$ref" in branch]
        if len(refs) == 1:
            del ret["anyOf"]
            ret.update(allOf=refs, nullable=True)
    return {}


def exclusive_bounds(self, field, ret, **kwargs) -> dict:
    """Range(min=0, min_inclusive=False) as OpenAPI 3.0's ``exclusiveMinimum: true``
    (apispec writes only ``minimum``, which would promise that 0 is accepted)."""
    bounds = {}
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                bounds["exclusiveMinimum"] = True
            if validator.max is not None and not validator.max_inclusive:
                bounds["exclusiveMaximum"] = True
    return bounds


def order_tags(spec, first=()) -> None:
    """The tags named in ``first`` lead, in that order; the others keep the order their
    blueprints were registered in. flask-smorest appends a tag per blueprint and apispec
    offers no way to order them, so the list it keeps (``_tags``) is sorted in place."""
    rank = {name: position for position, name in enumerate(first)}
    spec._tags.sort(key=lambda tag: rank.get(tag["name"], len(rank)))  # a stable sort


def header_ref(name: str) -> dict:
    return {"$ref": f"#/components/headers/{name}"}


def problem_response(description: str, headers=()) -> dict:
    return {"description": description,
            "content": {PROBLEM_JSON: {"schema": "Problem"}},
            "headers": {name: header_ref(name) for name in headers}}


class EveryOperation(BasePlugin):
    """What all operations share (see the module docstring)."""

    def init_spec(self, spec):
        super().init_spec(spec)
        self.operation_ids = set()
        for plugin in spec.plugins:
            if isinstance(plugin, MarshmallowPlugin):
                plugin.converter.add_attribute_function(nullable_nested)
                plugin.converter.add_attribute_function(exclusive_bounds)
        spec.components.schema("Problem", schema=ProblemSchema)
        for name, header in HEADERS.items():
            spec.components.header(name, header)

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            if rule is not None:
                operation.setdefault("operationId", rule.endpoint.rsplit(".", 1)[-1])
            if operation.get("operationId") in self.operation_ids:  # generated clients break
                raise ValueError(f"operationId {operation['operationId']} is used twice; "
                                 "name one with @blp.doc(operationId=...)")
            self.operation_ids.add(operation.get("operationId"))
            responses = operation.setdefault("responses", {})
            errors = dict(COMMON_ERRORS)
            if "requestBody" in operation:
                errors.update(BODY_ERRORS)
            declared = {str(code) for code in responses}
            for status, (description, headers) in errors.items():
                if str(status) not in declared:
                    responses[status] = problem_response(description, headers)
            responses["default"] = problem_response("Any other error")
            for status, response in responses.items():
                if not isinstance(response, dict):
                    continue
                headers = response.setdefault("headers", {})
                headers["X-Request-ID"] = header_ref("X-Request-ID")
                _, common = COMMON_ERRORS.get(int(status) if str(status).isdigit() else 0,
                                              ("", ()))
                for name in common:  # also on a 405/503 that a view declared itself
                    headers[name] = header_ref(name)

    def path_helper(self, path=None, operations=None, parameters=None, **kwargs):
        for parameter in parameters or []:  # flask-smorest's FlaskPlugin has added them
            if isinstance(parameter, dict) and parameter.get("in") == "path":
                parameter.update(PATH_PARAMETERS.get(parameter["name"], {}))
        return None
