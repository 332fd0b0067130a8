"""The request path of every keyed call, in one place:

    request → key check → server binding → scope → restrictions → limits → handler
            → metering → response

A verified key's refusal on the way (revoked or expired, server binding, scope) still
spends its minute window, so nobody can repeat refused calls for free (limits.py).

Each step lives in its own module; this file only puts them in order. The clock is read
once, before the key check, and every step sees that moment (``app.clock``). Every
endpoint is keyed unless it is declared public (``init_app(app, public=...)``), so a new
route cannot be left open by accident (tests/keys/test_check.py walks the url_map to
prove it)."""
import re
import time
import uuid

from flask import current_app, g, request

from ..clock import start_request_clock
from ..extensions import close_request_connection
from . import metrics
from .delivery import Delivery, DeliveringClient
from .binding import check_binding
from .check import authenticate, check_validity, deprecation_headers
from .limits import enforce_limits, rate_limit_headers, refusals_spend_the_window
from .metering import log_request, meter
from .scope import require_scope, required_scope

# The OpenAPI document and the docs page are public wherever the key layer is used.
ALWAYS_PUBLIC = frozenset({"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "static"})
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def before_request():
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    if (request.endpoint is None or request.method == "OPTIONS"
            or request.endpoint in public_endpoints()):
        return  # unknown routes fall through to a 404/405 problem; OPTIONS (app/http.py)
        # and public endpoints need no key

    start_request_clock()                        # one clock reading for every step
    caller = authenticate()                      # key check        (check.py)
    with refusals_spend_the_window(caller):      # a refusal counts  (limits.py)
        check_validity(caller)                   #   revoked, expired (check.py)
        g.caller = caller
        check_binding(caller)                    # server binding   (binding.py)
        require_scope(caller, required_scope())  # scope            (scope.py)
    g.restrictions = caller.restrictions         # restrictions     (restrictions.py)
    enforce_limits(caller)                       # limits           (limits.py)
    # ... then the handler runs, using g.restrictions for every query it makes.


def after_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    caller = g.get("caller")
    if caller is not None:
        response.headers.extend(rate_limit_headers())
        response.headers.extend(deprecation_headers(caller))
    meter(response)                              # metering         (metering.py)
    log_request(response)
    metrics.observe(response)                    # GET /metrics     (metrics.py)
    return response


def public_endpoints() -> frozenset[str]:
    return current_app.extensions["api_keys"]["public"]


def init_app(app, public=()):
    app.extensions["api_keys"] = {"public": ALWAYS_PUBLIC | frozenset(public)}
    app.before_request(before_request)
    app.after_request(after_request)
    app.teardown_request(close_request_connection)
    # Completion waits for the server to hand over the whole answer (delivery.py).
    app.wsgi_app = Delivery(app.wsgi_app)
    if app.test_client_class is None:
        app.test_client_class = DeliveringClient  # closes every answer, as a server does
