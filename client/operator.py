"""The partner's operator learns of the key's quota before the shoppers do: the web app
receives the API's signed webhooks and shows the latest quota alert on ``/operator``.

``POST /webhooks/storeprice`` is for the API only. Each delivery is verified with the
endpoint's secret (``STOREPRICE_WEBHOOK_SECRET``, environment or .env) by webhooks.py, the
check ``python -m client alerts`` uses: a forged one is answered 400 and changes nothing; a
genuine one is recorded once per webhook-id (alert_file.py) and answered 204. Without a
secret the route answers 404: nothing listens. It never calls the API and is exempt from
the per-visitor limits, so a busy page cannot make the API's deliveries fail.

``/operator`` is for the people running this deployment, not for shoppers: it asks for
HTTP Basic credentials, any user name and the password ``STOREPRICE_OPERATOR_PASSWORD``
(without one set it answers 404), and is rate-limited like the page so that the password
cannot be guessed quickly. It sets no cookie and is never cached.
"""
from __future__ import annotations

import hmac
import logging
import os
from typing import Any

from flask import Flask, Response, abort, render_template, request
from flask_limiter import Limiter

from .alert_file import AlertFile, sentence
from .errors import ConfigurationError
from .webhooks import MAX_BODY, SECRET_VARIABLE, Rejected, verifier, verify

log = logging.getLogger("storeprice.shopper")
PASSWORD_VARIABLE = "STOREPRICE_OPERATOR_PASSWORD"
FILE_VARIABLE = "STOREPRICE_ALERT_FILE"
OPERATOR_LIMIT = "30/minute"


def install(app: Flask, limiter: Limiter) -> None:
    """Add the webhook route and the operator page to the shopper app (settings from the
    environment, read once: STOREPRICE_WEBHOOK_SECRET, STOREPRICE_OPERATOR_PASSWORD,
    STOREPRICE_ALERT_FILE)."""
    env = os.environ.get
    secret, password = env(SECRET_VARIABLE) or "", env(PASSWORD_VARIABLE) or ""
    alerts = AlertFile(env(FILE_VARIABLE)
                       or os.path.join(app.instance_path, "storeprice-alerts.json"))
    app.extensions["operator_alerts"] = alerts
    checker: Any = None
    if secret:
        try:
            checker = verifier(secret)
        except ConfigurationError as error:
            log.error("%s: %s; webhooks are refused (503)", SECRET_VARIABLE, error)

    @app.post("/webhooks/storeprice")
    @limiter.exempt
    def receive_webhook() -> tuple[str, int]:
        if not secret:
            abort(404)
        if checker is None:
            return "", 503
        if (request.content_length or 0) > MAX_BODY:
            return "", 413
        body = request.stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return "", 413
        try:
            webhook_id, event = verify(checker, body, request.headers)
        except Rejected as error:
            log.warning("webhook refused (400): %s", error)
            return "", 400
        if alerts.record(webhook_id, event):
            log.info("webhook %s received: %s", webhook_id[:64], str(event.get("type"))[:64])
        return "", 204

    @app.get("/operator")
    @limiter.limit(OPERATOR_LIMIT)
    def operator_page() -> Response:
        if not password:
            abort(404)
        given = request.authorization.password if request.authorization else None
        if not given or not hmac.compare_digest(given.encode(), password.encode()):
            return Response("Operator credentials needed.", 401, {
                "WWW-Authenticate": 'Basic realm="operator", charset="UTF-8"',
                "Cache-Control": "no-store"})
        alert = alerts.latest() if secret else None
        page = render_template("operator.html", alert=alert, receiving=bool(checker),
                               sentence=sentence(alert) if alert else None)
        return Response(page, 200, {"Cache-Control": "no-store"})
