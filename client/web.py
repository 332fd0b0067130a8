"""The shopper page: a small Flask app, separate from the API, that holds the API key and
shows a shopper today's deals near them and where to buy their list.

Why a server in between, and not JavaScript calling the API? A key in the browser is a
published key: anyone can read it from the page source or the network tab and spend your
quota with it. So the browser talks only to *this* app (the page, and ``/items`` for the
search as you type), and this app calls the API with the key it holds
(``STOREPRICE_API_KEY``). The key is never put in HTML, JavaScript, cookies or URLs; the page
sets no cookies at all, and its Content-Security-Policy allows scripts and requests to this
app only.
"""
from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.datastructures import MultiDict

from .catalogue import ItemDirectory
from .deals import MAX_QUANTITY, find_basket, parse_basket
from .errors import (
    AuthError,
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    StorePriceError,
    ValidationError,
)
from .messages import describe, for_shopper
from .places import (
    RADII_KM,
    CityList,
    Location,
    city_location,
    find_city,
    parse_near,
    parse_radius,
    point_location,
)
from .sdk import StorePriceClient
from .today import todays_deals

log = logging.getLogger("storeprice.shopper")
SYMBOLS = {"USD": "$", "CAD": "CA$", "GBP": "£", "EUR": "€", "JPY": "¥"}


def create_web_app(make_client: Callable[[], StorePriceClient] = StorePriceClient) -> Flask:
    # Jinja autoescapes .html templates: names come from the API and are shown escaped,
    # so a catalogue entry can never inject markup into the page.
    app = Flask(__name__)
    local = threading.local()   # one client (one requests Session) per server thread
    directory = ItemDirectory()  # names and sizes, shared by every shopper
    cities = CityList()

    def api() -> StorePriceClient:
        if not hasattr(local, "client"):
            local.client = make_client()
        client: StorePriceClient = local.client
        return client

    def failed(error: StorePriceError, problems: list[str]) -> None:
        if isinstance(error, (AuthError, ConfigurationError)):
            log.error("shopper page cannot use its API key: %s", describe(error))
        else:
            log.warning("API call failed: %s", describe(error))
        message = for_shopper(error)
        if message not in problems:
            problems.append(message)

    @app.get("/")
    def index() -> tuple[str, int]:
        problems: list[str] = []   # friendly sentences, shown at the top
        statuses = [200]
        try:
            city_list = cities.get(api())
        except StorePriceError as error:
            city_list = []
            failed(error, problems)
            statuses.append(status_for(error))
        location, where_error = pick_location(request.args, city_list)

        context: dict[str, Any] = {"cities": city_list, "location": location,
                                   "where_error": where_error, "radii": RADII_KM,
                                   "form": request.args, "max_quantity": MAX_QUANTITY}
        basket, list_error = pick_basket(request.args)
        context["list_error"] = list_error
        try:
            items = directory.resolve(api(), [i for i, _ in basket])
            context["shopping_list"] = [(items[i], q) for i, q in basket]
            if basket and request.args.get("plan"):
                context["answer"] = find_basket(api(), directory, basket, location)
        except StorePriceError as error:
            context.setdefault("shopping_list", [])
            failed(error, problems)
            statuses.append(status_for(error))
        try:
            context["today"] = todays_deals(api(), directory, location)
        except StorePriceError as error:
            failed(error, problems)
            statuses.append(status_for(error))
        return render_template("index.html", problems=problems, **context), max(statuses)

    @app.get("/items")
    def search_items() -> tuple[Response, int]:
        """The search as you type, for the page's script: items whose name contains q."""
        try:
            found = directory.search(api(), request.args.get("q", "")[:100])
        except StorePriceError as error:
            failed(error, [])
            return jsonify(error=for_shopper(error)), status_for(error)
        return jsonify(items=[{"id": i.id, "name": i.name, "size": i.size_note,
                               "label": i.label} for i in found]), 200

    @app.template_filter("money")
    def money(amount: str, currency: str | None) -> str:
        symbol = SYMBOLS.get(currency or "")
        return f"{symbol}{amount}" if symbol else f"{amount} {currency or ''}".strip()

    @app.template_filter("day")
    def day(iso: str | None) -> str:
        moment = date.fromisoformat(str(iso))
        return f"{moment:%a} {moment.day} {moment:%b}"

    @app.after_request
    def security_headers(response: Response) -> Response:
        # Scripts, styles and requests from this app only; forms post back here.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app


def pick_location(form: MultiDict, cities: list[Any]) -> tuple[Location, str | None]:
    """The shopper's place from the form: coordinates when given, else the chosen city,
    else the first city. Returns it with a sentence when the input was unusable."""
    error = None
    try:
        radius = parse_radius(form.get("radius_km"))
    except ValueError as problem:
        radius, error = None, str(problem)
    if form.get("lat") or form.get("lon"):
        try:
            near = parse_near(f"{form.get('lat', '')},{form.get('lon', '')}")
            return point_location(cities, near, radius), error
        except ValueError as problem:
            error = str(problem)
    if form.get("city"):
        try:
            return city_location(find_city(cities, form["city"]), radius), error
        except ValueError as problem:
            error = str(problem)
    if cities:
        return city_location(cities[0], radius), error
    if radius is not None and error is None:
        # No city to measure from (the key sees no stores, or they could not be listed):
        # say so rather than show the whole country as if the distance applied.
        error = "A distance needs a city or coordinates to measure from."
    return Location("your area", None, None), error


def pick_basket(form: MultiDict) -> tuple[list[tuple[str, int]], str | None]:
    """``item=ID&qty=N`` pairs from the list form, in the shopper's order."""
    quantities = form.getlist("qty")
    entries = [f"{item}:{quantities[n] if n < len(quantities) else 1}"
               for n, item in enumerate(form.getlist("item"))]
    if not entries:
        return [], None
    try:
        return parse_basket(entries), None
    except ValueError as problem:
        return [], str(problem)


def status_for(error: StorePriceError) -> int:
    if isinstance(error, (ForbiddenError, NotFoundError, ValidationError)):
        return 400   # the shopper asked for something we cannot answer
    if isinstance(error, (AuthError, ConfigurationError)):
        return 500   # our configuration is wrong
    return 503       # the API is busy or down: try again later


def serve(make_client: Callable[[], StorePriceClient], host: str, port: int) -> None:
    """``python -m client web``: Flask's development server, on the port asked for (0: a
    free one), printing the address it really listens on."""
    from werkzeug.serving import make_server

    try:
        server = make_server(host, port, create_web_app(make_client), threaded=True)
    except OSError as error:
        raise ConfigurationError(f"Cannot listen on {host}:{port} ({error.strerror}); "
                                 "choose another --port.") from error
    print(f"Shopper page on http://{host}:{server.server_port}/ (the API key stays here; "
          "Ctrl+C stops it)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
