"""HTTP endpoints, one blueprint per concern. Each view declares its scope with
``@requires``; the pipeline (app/pipeline.py) enforces it before the view runs."""
from ..errors import ProblemSchema


def register_blueprints(api):
    from . import account, admin, catalogue, cheapest, health, writes
    for module in (health, catalogue, writes, cheapest, account, admin):
        api.register_blueprint(module.blp)


# The errors every keyed operation can answer with, for the OpenAPI document.
KEYED_ERRORS = (400, 401, 403, 429)


def keyed_operation(blp, *codes):
    """OpenAPI only: the operation needs an API key and answers errors as problem+json."""
    def decorate(view):
        view = blp.doc(security=[{"ApiKey": []}])(view)
        for code in (*KEYED_ERRORS, *codes):
            view = blp.alt_response(code, description=_DESCRIPTIONS[code],
                                    content_type="application/problem+json",
                                    schema=ProblemSchema)(view)
        return view
    return decorate


_DESCRIPTIONS = {400: "Malformed request, or the key sent in the URL",
                 401: "Missing, invalid, expired or revoked key",
                 403: "Missing scope, or outside the key's countries/categories",
                 404: "Not found", 409: "Already exists",
                 422: "Invalid input (see errors)", 429: "Rate limit or daily quota exceeded"}
