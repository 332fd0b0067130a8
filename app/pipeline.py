"""The request path of every keyed call, in one place:

    request → key check → scope → restrictions → limits → handler → metering → response

Each step lives in its own module; this file only puts them in order. Every endpoint is
keyed unless it is listed in PUBLIC_ENDPOINTS, so a new route cannot be left open by
accident (tests/test_auth.py walks the url_map to prove it)."""
import re
import time
import uuid

from flask import current_app, g, request

from .auth import authenticate, deprecation_headers, require_scope
from .extensions import close_request_connection
from .limits import enforce_limits, rate_limit_headers
from .metering import log_request, meter
from .restrictions import Restrictions

PUBLIC_ENDPOINTS = {"health.healthz", "api-docs.openapi_json",
                    "api-docs.openapi_swagger_ui", "static"}
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def before_request():
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return  # unknown routes fall through to a 404/405 problem; public ones need no key

    caller = authenticate()                      # key check        (app/auth.py)
    require_scope(caller, required_scope())      # scope            (app/auth.py)
    g.restrictions = Restrictions.of(caller)     # restrictions     (app/restrictions.py)
    enforce_limits(caller)                       # limits           (app/limits.py)
    # ... then the handler runs, using g.restrictions for every query it makes.


def after_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    caller = g.get("caller")
    if caller is not None:
        response.headers.extend(rate_limit_headers())
        response.headers.extend(deprecation_headers(caller))
        meter(caller, response)                  # metering         (app/metering.py)
    log_request(response)
    return response


def required_scope() -> str:
    """The scope a view declared with ``@requires``; undeclared views need ``admin``
    (fail closed)."""
    view = current_app.view_functions[request.endpoint]
    return getattr(view, "required_scope", "admin")


def requires(scope: str):
    """Declare the scope a view needs: ``read``, ``write``, ``admin`` or ``any``."""
    def decorate(view):
        view.required_scope = scope
        return view
    return decorate


def init_app(app):
    app.before_request(before_request)
    app.after_request(after_request)
    app.teardown_request(close_request_connection)
