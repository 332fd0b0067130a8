"""How a keyed operation shows in the OpenAPI document: it needs the ``ApiKey`` security
scheme, answers the key pipeline's errors as application/problem+json, and its answers carry
the pipeline's headers: ``RateLimit-Policy``/``RateLimit`` (always on a success, and on a
refusal made after the limit step), ``Deprecation``/``Sunset`` (a rotated-out secret),
``WWW-Authenticate`` on 401 and ``Retry-After`` on 429.

``@keyed_operation(blp, 404, 422)`` on a view lists the errors its handler adds; the
``KeyedOperations`` plugin adds the headers to every response of every keyed operation.
What all operations share (X-Request-ID, 405, 503, default) is in app/openapi.py."""
from apispec import BasePlugin

from ..errors import ProblemSchema

# The errors every keyed operation can answer with.
KEYED_ERRORS = (400, 401, 403, 429)

DESCRIPTIONS = {400: "Malformed request or body, or the key sent in the URL",
                401: "Missing, invalid, expired, revoked or not yet valid key",
                403: "Missing scope, outside the key's restrictions (countries, "
                     "categories, chains, ...), beyond the calling key's own bounds "
                     "(exceeds-own-bounds), or called from an address the key is not "
                     "bound to",
                404: "Not found", 409: "Conflicts with the current state (see type)",
                422: "Invalid input (see errors)",
                429: "Per-minute rate limit, the key's daily quota or its owner's shared "
                     "daily quota exceeded (see violated-policies)"}

PIPELINE_HEADERS = {
    "RateLimit-Policy": {"description": 'The key\'s limits, e.g. "daily";q=1000;w=86400, '
                                        '"owner-daily";q=5000;w=86400 (when its owner has a '
                                        'shared limit), "minute";q=60;w=60 (IETF '
                                        'ratelimit-headers draft)',
                         "schema": {"type": "string"}},
    "RateLimit": {"description": 'What is left of each, e.g. "daily";r=742;t=3600',
                  "schema": {"type": "string"}},
    "Deprecation": {"description": "Called with a rotated-out secret: when it was rotated "
                                   "(RFC 9745, @epoch seconds)",
                    "schema": {"type": "string", "pattern": "^@[0-9]+$"}},
    "Sunset": {"description": "Called with a rotated-out secret: when it stops working "
                              "(RFC 8594, an HTTP date)", "schema": {"type": "string"}},
}
WWW_AUTHENTICATE = {"description": 'How to authenticate: ApiKey header="X-API-Key" (on a '
                                   'missing or unrecognised key)',
                    "schema": {"type": "string"}}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/headers/{name}"}


def register_security_scheme(api) -> None:
    api.spec.components.security_scheme(
        "ApiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    for name, header in {**PIPELINE_HEADERS, "WWW-Authenticate": WWW_AUTHENTICATE}.items():
        api.spec.components.header(name, header)
    plugin = KeyedOperations()
    plugin.init_spec(api.spec)
    api.spec.plugins.append(plugin)  # runs for every view registered from now on


def keyed_operation(blp, *codes):
    """OpenAPI only: the operation needs an API key and answers errors as problem+json.

    flask-smorest's doc and alt_response decorators each wrap the view in a function that
    runs on every request; here they only write the documentation, which the view then
    carries itself (``_apidoc``), so a call goes through none of those wrappers."""
    def decorate(view):
        documented = blp.doc(security=[{"ApiKey": []}])(view)
        for code in (*KEYED_ERRORS, *codes):
            documented = blp.alt_response(code, description=DESCRIPTIONS[code],
                                          content_type="application/problem+json",
                                          schema=ProblemSchema)(documented)
        view._apidoc = documented._apidoc
        return view
    return decorate


def is_keyed(operation: dict) -> bool:
    return {"ApiKey": []} in operation.get("security", [])


class KeyedOperations(BasePlugin):
    """Adds the key pipeline's headers to each response of each keyed operation."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if not is_keyed(operation):
                continue
            for code, response in operation.get("responses", {}).items():
                status = str(code)
                if not isinstance(response, dict):
                    continue
                headers = response.setdefault("headers", {})
                if status == "401":  # refused before the limit step: no RateLimit yet
                    headers["WWW-Authenticate"] = ref("WWW-Authenticate")
                    continue
                for name, header in PIPELINE_HEADERS.items():
                    # every success has passed the limit step, so it always has RateLimit
                    if status.startswith("2") and name.startswith("RateLimit"):
                        headers[name] = {**header, "required": True}
                    else:
                        headers[name] = ref(name)
                if status == "429":
                    headers["Retry-After"] = ref("Retry-After")
