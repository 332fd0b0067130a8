"""How a keyed operation shows in the OpenAPI document: it needs the ``ApiKey`` security
scheme and answers its errors as application/problem+json."""
from ..errors import ProblemSchema

# The errors every keyed operation can answer with.
KEYED_ERRORS = (400, 401, 403, 429)

DESCRIPTIONS = {400: "Malformed request, or the key sent in the URL",
                401: "Missing, invalid, expired or revoked key",
                403: "Missing scope, outside the key's countries/categories, or called "
                     "from an address the key is not bound to",
                404: "Not found", 409: "Conflicts with the current state (see type)",
                422: "Invalid input (see errors)", 429: "Rate limit or daily quota exceeded"}


def register_security_scheme(api) -> None:
    api.spec.components.security_scheme(
        "ApiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})


def keyed_operation(blp, *codes):
    """OpenAPI only: the operation needs an API key and answers errors as problem+json."""
    def decorate(view):
        view = blp.doc(security=[{"ApiKey": []}])(view)
        for code in (*KEYED_ERRORS, *codes):
            view = blp.alt_response(code, description=DESCRIPTIONS[code],
                                    content_type="application/problem+json",
                                    schema=ProblemSchema)(view)
        return view
    return decorate
