"""The shopper page: a tiny Flask app, separate from the API, that shows a shopper where
to buy their list today.

Why a server-side page and not JavaScript calling the API directly? A key in the browser
is a published key: anyone can read it from the page source or the network tab and spend
your quota with it. So the browser posts the shopping list to *this* app, and this app
calls the API with the key it holds (``STOREPRICE_API_KEY``). The key is never put in
HTML, JavaScript, cookies or URLs; the page sets no cookies at all.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, render_template, request

from .cli import describe
from .deals import find_deals, parse_basket
from .errors import (
    AuthError,
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    StorePriceError,
    ValidationError,
)
from .sdk import StorePriceClient

log = logging.getLogger("storeprice.shopper")
CHOICES_TTL = 600  # seconds to reuse the item and country lists (each fetch costs quota)


def create_web_app(make_client: Callable[[], StorePriceClient] = StorePriceClient) -> Flask:
    # Jinja autoescapes .html templates: item names come from the API and are shown
    # escaped, so a catalogue entry can never inject markup into the page.
    app = Flask(__name__)
    local = threading.local()   # one client (one Session) per server thread
    choices: dict[str, Any] = {}

    def api() -> StorePriceClient:
        if not hasattr(local, "client"):
            local.client = make_client()
        client: StorePriceClient = local.client
        return client

    def pick_lists() -> tuple[list[dict[str, Any]], list[str] | None]:
        """Items to tick and countries to choose from (None: the key allows all)."""
        if time.monotonic() - choices.get("at", -CHOICES_TTL) >= CHOICES_TTL:
            key = api().whoami()
            choices.update(items=api().items(per_page=100)["data"],
                           countries=key.get("countries"), at=time.monotonic())
        return choices["items"], choices["countries"]

    def page(status: int = 200, **context: Any) -> tuple[str, int]:
        try:
            items, countries = pick_lists()
        except StorePriceError as error:
            items, countries = [], None
            context.setdefault("error", shopper_message(error))
        context.setdefault("selected", set())
        context.setdefault("country", (countries or ["US"])[0])
        return render_template("shopper.html", items=items, countries=countries,
                               **context), status

    @app.get("/")
    def index() -> tuple[str, int]:
        return page()

    @app.post("/")
    def deals() -> tuple[str, int]:
        ticked = request.form.getlist("item")
        extra = request.form.get("more", "")
        country = request.form.get("country", "").strip().upper()
        form: dict[str, Any] = dict(selected=set(ticked), more=extra, country=country)
        try:
            basket = parse_basket(ticked + extra.split())
        except ValueError as error:
            return page(400, error=str(error), **form)
        try:
            report = find_deals(api(), basket, country or None)
        except StorePriceError as error:
            return page(status_for(error), error=shopper_message(error), **form)
        return page(report=report, **form)

    @app.after_request
    def security_headers(response: Response) -> Response:
        # No scripts at all, and forms may only post back here.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app


def shopper_message(error: StorePriceError) -> str:
    """What to tell a shopper. A bad or missing key is the site owner's problem: log the
    details for them, show the shopper a plain apology."""
    if isinstance(error, (AuthError, ConfigurationError)):
        log.error("shopper page cannot use its API key: %s", describe(error))
        return "Prices are unavailable right now: this site's price service is not set up " \
               "correctly. Please try again later."
    return "Sorry: " + describe(error) + "."


def status_for(error: StorePriceError) -> int:
    if isinstance(error, (ForbiddenError, NotFoundError, ValidationError)):
        return 400   # the shopper asked for something we cannot answer
    if isinstance(error, (AuthError, ConfigurationError)):
        return 500   # our configuration is wrong
    return 503       # the API is busy or down: try again later
