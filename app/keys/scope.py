"""Step 2 of the pipeline, the scope ("extent of service"): may this key call this endpoint?

- ``read`` and ``write``: the API's own data;
- ``keys``: manage the keys of the caller's own owner (organisation), within the
  caller's own bounds (bounds.py);
- ``admin``: all keys, plans, owners and reports; it implies ``keys``.

A view declares what it needs with ``@requires("read" | "write" | "keys" | "admin" |
"any")``. A view that declares nothing needs ``admin``: a new route fails closed."""
from flask import current_app, request

from ..errors import Problem
from .bounds import granted  # a key's scopes with what they imply: admin -> keys

SCOPES = ("read", "write", "keys", "admin")


def requires(scope: str):
    """Declare the scope a view needs: ``read``, ``write``, ``keys``, ``admin`` or ``any``."""
    def decorate(view):
        view.required_scope = scope
        return view
    return decorate


def required_scope() -> str:
    """The scope the current request's view declared with ``@requires``."""
    view = current_app.view_functions[request.endpoint]
    return getattr(view, "required_scope", "admin")


def require_scope(caller, scope: str) -> None:
    if scope != "any" and scope not in granted(caller.scopes):
        raise Problem(403, "insufficient-scope",
                      f"This endpoint needs the '{scope}' scope; the key has "
                      f"{', '.join(sorted(caller.scopes)) or 'none'}.",
                      key_id=caller.id, required_scope=scope)
