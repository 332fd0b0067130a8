"""The shopper page: a small Flask app, separate from the API, that holds the API key and
shows a shopper today's deals near them and where to buy their list.

Why a server in between, and not JavaScript calling the API? A key in the browser is a
published key: anyone can read it from the page source or the network tab and spend your
quota with it. So the browser talks only to *this* app (the page, and ``/items`` for the
search as you type), and this app calls the API with the key it holds
(``STOREPRICE_API_KEY``). The key is never put in HTML, JavaScript, cookies or URLs; the page
sets no cookies at all, and its Content-Security-Policy allows scripts and requests to this
app only.

The page is public, so it also guards what visitors can cost the key (guard.py): unknown
item ids are answered from the cached catalogue without a call, identical questions from
short-lived caches (cache.py), each visitor's requests are rate-limited by flask-limiter,
and each API call is spent from the visitor's and the site's allowances first.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from werkzeug.datastructures import MultiDict
from werkzeug.middleware.proxy_fix import ProxyFix

from .cache import AnswerCache
from .catalogue import ItemDirectory
from .deals import MAX_QUANTITY, TripThreshold, find_basket, parse_basket
from .errors import (
    AuthError,
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    StorePriceError,
    TooManyLookups,
    ValidationError,
)
from .guard import SITE_CALLS, VISITOR_CALLS, Allowance, Metered
from .messages import describe, for_shopper
from .nearby import cheaper_alternatives, cheapest_nearby
from .operator import install as install_operator
from .places import (
    RADII_KM,
    CityList,
    Location,
    busiest_city,
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

# Requests a minute one visitor may make to the page's own routes (flask-limiter). The
# API calls those requests may cause are bounded separately, and more tightly (guard.py).
PAGE_LIMIT = "30/minute"
SEARCH_LIMIT = "60/minute"
MAX_LIST = 30             # lines on one shopping list: a longer one is refused unasked
LOOKUPS_PER_REQUEST = 3   # per-item lookups (a catalogue too large to cache whole)
DEALS_TTL = 300           # seconds an answer is reused: today's deals near a place,
ANSWER_TTL = 120          # ... where to buy a list, and search results' prices


def create_web_app(make_client: Callable[[], StorePriceClient] = StorePriceClient, *,
                   allowance: Allowance | None = None,
                   threshold: TripThreshold | None = None) -> Flask:
    """The page. Settings not passed come from the environment (client/README.md):
    STOREPRICE_WEB_VISITOR_CALLS, STOREPRICE_WEB_SITE_CALLS, STOREPRICE_WEB_LIMITS (the
    counters' storage), STOREPRICE_WEB_PROXIES, STOREPRICE_TRIP_DOLLARS and
    STOREPRICE_TRIP_PERCENT; for the operator's quota alerts (operator.py)
    STOREPRICE_WEBHOOK_SECRET, STOREPRICE_OPERATOR_PASSWORD and STOREPRICE_ALERT_FILE."""
    # Jinja autoescapes .html templates: names come from the API and are shown escaped,
    # so a catalogue entry can never inject markup into the page.
    app = Flask(__name__)
    env = os.environ.get
    storage = env("STOREPRICE_WEB_LIMITS") or "memory://"
    proxies = int(env("STOREPRICE_WEB_PROXIES") or 0)
    if proxies:  # behind N reverse proxies, the visitor is the address they forwarded
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
    allowance = allowance or Allowance(env("STOREPRICE_WEB_VISITOR_CALLS") or VISITOR_CALLS,
                                       env("STOREPRICE_WEB_SITE_CALLS") or SITE_CALLS,
                                       storage)
    threshold = threshold or TripThreshold.from_text(env("STOREPRICE_TRIP_DOLLARS"),
                                                     env("STOREPRICE_TRIP_PERCENT"))
    app.extensions["shopper_allowance"] = allowance  # for the operator's checks and tests
    limiter = Limiter(key_func=visitor, app=app, storage_uri=storage,
                      headers_enabled=True)
    install_operator(app, limiter)  # the API's webhooks in, the latest quota alert out
    local = threading.local()   # one client (one requests Session) per server thread
    directory = ItemDirectory()  # names and sizes, shared by every shopper
    cities = CityList()
    deals_cache: AnswerCache[Any] = AnswerCache(DEALS_TTL)
    answers: AnswerCache[Any] = AnswerCache(ANSWER_TTL)
    prices: AnswerCache[Any] = AnswerCache(ANSWER_TTL)

    def api() -> Metered:
        """The API client for this request: each call spent from this visitor's
        allowance (and the site's) before it is made."""
        if not hasattr(local, "client"):
            local.client = make_client()
        return Metered(local.client, allowance, visitor())

    def place(problems: list[str], statuses: list[int]) -> tuple[Any, dict, Location,
                                                                 str | None]:
        """The cities, the stores by id and the shopper's place, from the request."""
        try:
            city_list, stores = cities.get_with_stores(api().shared())
        except StorePriceError as error:
            city_list, stores = [], {}
            failed(error, problems)
            statuses.append(status_for(error))
        location, where_error = pick_location(request.args, city_list)
        return city_list, stores, location, where_error

    def failed(error: StorePriceError, problems: list[str]) -> None:
        if isinstance(error, (AuthError, ConfigurationError)):
            log.error("shopper page cannot use its API key: %s", describe(error))
        elif isinstance(error, TooManyLookups):
            log.info("visitor %s: %s", visitor(), error)
        else:
            log.warning("API call failed: %s", describe(error))
        message = for_shopper(error)
        if message not in problems:
            problems.append(message)

    @app.get("/")
    @limiter.limit(PAGE_LIMIT)
    def index() -> tuple[str, int]:
        problems: list[str] = []   # friendly sentences, shown at the top
        statuses = [200]
        city_list, stores, location, where_error = place(problems, statuses)
        context: dict[str, Any] = {"cities": city_list, "location": location,
                                   "where_error": where_error, "radii": RADII_KM,
                                   "form": request.args, "max_quantity": MAX_QUANTITY,
                                   "threshold": threshold}
        basket, list_error = pick_basket(request.args)
        context["list_error"] = list_error
        try:
            # The catalogue, read whole every hour at most and paid by the site: the
            # list's ids are checked against it, never looked up one by one.
            directory.read_whole(api().shared(), if_older_than=directory.ttl)
            items = directory.resolve(api(), [i for i, _ in basket], LOOKUPS_PER_REQUEST)
            context["shopping_list"] = [(items[i], q) for i, q in basket]
            if basket and request.args.get("plan"):
                context["answer"] = answers.get(
                    ("basket", tuple(basket), location),
                    lambda: find_basket(api(), directory, basket, location, threshold,
                                        LOOKUPS_PER_REQUEST, trust_catalogue=True))
                listed = [items[i] for i, _ in basket if directory.knows(i)]
                context["alternatives"] = answers.get(
                    ("alternatives", tuple(i.id for i in listed), location),
                    lambda: cheaper_alternatives(api(), directory, listed, location, stores))
        except StorePriceError as error:
            context.setdefault("shopping_list", [])
            failed(error, problems)
            statuses.append(status_for(error))
        try:
            context["today"] = deals_cache.get(
                location, lambda: todays_deals(api(), directory, location,
                                               lookups=LOOKUPS_PER_REQUEST))
        except StorePriceError as error:
            failed(error, problems)
            statuses.append(status_for(error))
        return render_template("index.html", problems=problems, **context), max(statuses)

    @app.get("/items")
    @limiter.limit(SEARCH_LIMIT)
    def search_items() -> tuple[Response, int]:
        """The search as you type, for the page's script: items whose name contains q,
        each with its best price near the shopper's place (city or coordinates)."""
        problems: list[str] = []
        try:
            found = directory.search(api(), request.args.get("q", "")[:100])
        except StorePriceError as error:
            failed(error, problems)
            return jsonify(error=for_shopper(error)), status_for(error)
        offers: dict[str, Any] = {}
        if found:
            _, stores, location, _ = place(problems, [])
            ids = tuple(item.id for item in found)
            try:
                offers = prices.get(("nearby", ids, location),
                                    lambda: cheapest_nearby(api(), list(ids), location, stores))
            except StorePriceError as error:  # names without prices are still an answer
                failed(error, problems)
        return jsonify(items=[_search_row(item, offers.get(item.id), money)
                              for item in found],
                       prices_note=problems[0] if problems else None), 200

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(error: RateLimitExceeded) -> tuple[Any, int]:
        sentence = ("You are asking for pages faster than a shopper can read them: please "
                    "wait a minute and try again.")
        if request.path == "/items":
            return jsonify(error=sentence), 429
        return render_template("busy.html", sentence=sentence), 429

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


def visitor() -> str:
    """Who is asking, for the per-visitor limits: the client's address (behind a proxy,
    the forwarded one: STOREPRICE_WEB_PROXIES)."""
    return request.remote_addr or "unknown"


def _search_row(item: Any, offer: Any, money: Callable[[str, str | None], str]
                ) -> dict[str, Any]:
    row: dict[str, Any] = {"id": item.id, "name": item.name, "size": item.size_note,
                           "label": item.label, "price": None}
    if offer is not None:
        row.update(price=money(offer.price, offer.currency), on_sale=offer.on_sale,
                   regular_price=money(offer.regular_price, offer.currency)
                   if offer.on_sale else None,
                   per_unit=money(item.unit_price(offer.price), offer.currency)
                   if item.unit_price(offer.price) else "",
                   store=offer.store_name)
    return row


def pick_location(form: MultiDict, cities: list[Any]) -> tuple[Location, str | None]:
    """The shopper's place from the form: coordinates when given, else the chosen city,
    else the city with the most stores. Returns it with a sentence when the input was unusable."""
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
        return city_location(busiest_city(cities) or cities[0], radius), error
    if radius is not None and error is None:
        # No city to measure from (the key sees no stores, or they could not be listed):
        # say so rather than show the whole country as if the distance applied.
        error = "A distance needs a city or coordinates to measure from."
    return Location("your area", None, None), error


def pick_basket(form: MultiDict) -> tuple[list[tuple[str, int]], str | None]:
    """``item=ID&qty=N`` pairs from the list form, in the shopper's order."""
    quantities = form.getlist("qty")
    if len(form.getlist("item")) > MAX_LIST:  # refused before any call is made
        return [], f"A shopping list holds at most {MAX_LIST} items."
    entries = [f"{item}:{quantities[n] if n < len(quantities) else 1}"
               for n, item in enumerate(form.getlist("item"))]
    if not entries:
        return [], None
    try:
        return parse_basket(entries), None
    except ValueError as problem:
        return [], str(problem)


def status_for(error: StorePriceError) -> int:
    if isinstance(error, TooManyLookups):
        return 429   # this visitor (or everyone) has used the minute's lookups
    if isinstance(error, (ForbiddenError, NotFoundError, ValidationError)):
        return 400   # the shopper asked for something we cannot answer
    if isinstance(error, (AuthError, ConfigurationError)):
        return 500   # our configuration is wrong
    return 503       # the API is busy or down: try again later


def serve(make_client: Callable[[], StorePriceClient], host: str, port: int) -> None:
    """``python -m client web``: the page served by gunicorn with client/gunicorn.conf.py,
    on the port asked for (0: a free one), printing the address it really listens on."""
    from .serving import run

    run(lambda: create_web_app(make_client), host, port)
