"""``python -m client``: the grocery-deals app on the command line.

    python -m client deals --city Boston                  # today's deals near Boston
    python -m client deals --near 42.36,-71.06 milk-whole-1l eggs-free-range-12:2
    python -m client deals --list groceries.txt --json
    python -m client whoami
    python -m client web

Exit status: 0 done; 1 the API refused the call or could not be reached; 2 bad command
line or no key configured. Every failure is one line on stderr, never a traceback; the
SDK's retries are not printed. Names come from the API: what is printed goes through
``terminal.printable``, so no escape sequence in a name reaches the terminal (JSON output
escapes control characters itself).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dotenv import find_dotenv, load_dotenv

from .catalogue import ItemDirectory
from .deals import find_basket, parse_basket, read_list
from .errors import ConfigurationError, StorePriceError, ValidationError
from .messages import describe, duration
from .places import (
    DEFAULT_RADIUS_KM,
    Location,
    cities_from_stores,
    city_location,
    find_city,
    parse_near,
    parse_radius,
    point_location,
)
from .render import basket_json, basket_text, deals_json, deals_text
from .sdk import KEY_VARIABLE, URL_VARIABLE, StorePriceClient
from .terminal import printable
from .today import todays_deals


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _show_notes()
    # A .env next to where you run the command (git-ignored) may hold STOREPRICE_API_KEY.
    # Real environment variables win over it, so CI and containers stay in charge.
    dotenv = find_dotenv(usecwd=True)
    if dotenv:
        load_dotenv(dotenv)
    try:
        if args.command == "web":
            return _web(args)
        if args.command == "alerts":
            from . import alerts
            return alerts.main(args)
        with StorePriceClient(args.url) as api:
            return _deals(api, args) if args.command == "deals" else _whoami(api, args)
    except ConfigurationError as error:
        print(printable(f"error: {error}"), file=sys.stderr)
        return 2
    except StorePriceError as error:
        print(printable(f"error: {describe(error)}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `python -m client deals | head` stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # (Python docs' recipe)
        return 0


def _show_notes() -> None:
    """The SDK's warnings a user should act on (a rotated key) become ``note:`` lines.
    Only the SDK's: urllib3 logs each retry as a warning, which is noise here."""
    notes = logging.getLogger("storeprice")
    if not notes.handlers:
        handler = logging.StreamHandler()  # sys.stderr at the time of each message
        handler.setFormatter(_PrintableFormatter("note: %(message)s"))
        notes.addHandler(handler)
        notes.propagate = False
    logging.getLogger("urllib3").setLevel(logging.ERROR)


class _PrintableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help=f"API base URL (default: ${URL_VARIABLE} or "
                                      "http://127.0.0.1:5000)")
    parser = argparse.ArgumentParser(
        prog="python -m client", description="Grocery deals from the Store Price API. "
        f"The API key comes from {KEY_VARIABLE} (environment or .env).")
    commands = parser.add_subparsers(dest="command", required=True)

    deals = commands.add_parser("deals", parents=[common],
                                help="today's deals near you, or where to buy a list")
    deals.add_argument("items", nargs="*", metavar="ITEM",
                       help="item id, or ITEM:QUANTITY (e.g. eggs-free-range-12:2); "
                            "none: today's deals")
    deals.add_argument("--list", metavar="FILE", help="read items from a file, one ITEM or "
                                                      "ITEM:QUANTITY per line (# comments)")
    where = deals.add_mutually_exclusive_group()
    where.add_argument("--near", metavar="LAT,LON", help="where you are, e.g. 42.36,-71.06")
    where.add_argument("--city", metavar="NAME", help="a city with stores, e.g. Boston")
    deals.add_argument("--radius", metavar="KM",
                       help=f"how far to go from --near (default {DEFAULT_RADIUS_KM}) or "
                            "--city (default: far enough for all its stores)")
    deals.add_argument("--country", help="ISO country code such as US (may be omitted when "
                                         "the key allows exactly one country)")
    deals.add_argument("--json", action="store_true", help="machine-readable output")

    whoami = commands.add_parser("whoami", parents=[common],
                                 help="what the key allows and today's quota")
    whoami.add_argument("--json", action="store_true", help="machine-readable output")

    web = commands.add_parser("web", parents=[common], help="serve the shopper page")
    web.add_argument("--port", type=int, default=5050,
                     help="port to listen on (default 5050; 0: a free one, printed at start)")
    web.add_argument("--host", default="127.0.0.1",
                     help="interface to listen on (default: this machine only)")

    alerts = commands.add_parser("alerts", help="receive, verify and print the API's webhooks")
    alerts.add_argument("--port", type=int, required=True, help="port to listen on")
    alerts.add_argument("--host", default="127.0.0.1", help="interface (default: this machine)")
    alerts.add_argument("--secret", help="the endpoint's whsec_... secret "
                                         "(default: $STOREPRICE_WEBHOOK_SECRET)")
    return parser


def _deals(api: StorePriceClient, args: argparse.Namespace) -> int:
    country = args.country.upper() if args.country else None
    try:
        entries = list(args.items) + (read_list(args.list) if args.list else [])
        basket = parse_basket(entries) if entries else None
        location = _location(api, args, country)
    except (OSError, ValueError) as error:
        print(printable(f"error: {error}"), file=sys.stderr)
        return 2
    directory = ItemDirectory()
    try:
        if basket is None:
            today = todays_deals(api, directory, location)
            print(json.dumps(deals_json(today), indent=2) if args.json
                  else printable(deals_text(today)))
        else:
            answer = find_basket(api, directory, basket, location)
            print(json.dumps(basket_json(answer), indent=2) if args.json
                  else printable(basket_text(answer)))
    except ValidationError as error:
        if location.country is None and "country" in error.errors:
            # The API only infers the country for a key limited to exactly one.
            print("error: this key may use several countries: choose one with --country, "
                  "--city or --near", file=sys.stderr)
            return 2
        raise
    return 0


def _location(api: StorePriceClient, args: argparse.Namespace,
              country: str | None) -> Location:
    """Where to look, from --near or --city (and --radius), else the whole country."""
    radius = parse_radius(args.radius)
    if radius is not None and not (args.near or args.city):
        # A distance needs a centre; the API refuses radius_km without near (422), and
        # dropping it would answer for the whole country as if it had been heard.
        raise ValueError("--radius needs a place to measure from: add --near LAT,LON or "
                         "--city NAME.")
    if args.near:
        near = parse_near(args.near)
        if country:
            return Location(f"{near[0]:.4f}, {near[1]:.4f}", country, near,
                            radius or DEFAULT_RADIUS_KM)
        return point_location(cities_from_stores(api), near, radius)
    if args.city:
        cities = [c for c in cities_from_stores(api) if country in (None, c.country)]
        return city_location(find_city(cities, args.city), radius)
    return Location(country or "the key's country", country, None)


def _whoami(api: StorePriceClient, args: argparse.Namespace) -> int:
    key = api.whoami()
    print(json.dumps(key, indent=2) if args.json else printable(render_key(key)))
    return 0


def render_key(key: dict[str, Any]) -> str:
    today = key.get("today") or {}
    expires = key.get("expires_at")
    left = ""
    if expires:
        moment = datetime.fromisoformat(expires).replace(tzinfo=UTC)
        left = f" (in {duration((moment - datetime.now(UTC)).total_seconds())})"
    owner = f", owner {key['owner']}" if key.get("owner") else ""
    return "\n".join([
        f"Key {key['id']} \"{key.get('name', '')}\"{owner}, plan {key.get('plan')}: "
        f"{key.get('status')}",
        f"  Scopes:      {', '.join(key.get('scopes') or []) or 'none'}",
        f"  Countries:   {', '.join(key.get('countries') or []) or 'all'}",
        f"  Categories:  {', '.join(key.get('categories') or []) or 'all'}",
        f"  Limits:      {key.get('daily_limit')} calls per UTC day, "
        f"rate {key.get('rate_limit')}",
        f"  Expires:     {expires.replace('T', ' ')[:16] + ' UTC' + left if expires else 'never'}",
        f"  Today:       {today.get('used')} used, {today.get('remaining')} left "
        f"(resets in {duration(today.get('resets_in', 0))})",
    ])


def _web(args: argparse.Namespace) -> int:
    from .web import serve  # Flask is only needed for this command

    # Fail now with a clear message, not on the first shopper's request.
    StorePriceClient(args.url).close()
    serve(lambda: StorePriceClient(args.url), args.host, args.port)
    return 0
