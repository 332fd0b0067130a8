"""``python -m client``: the grocery-deals app on the command line.

    python -m client deals --country US milk-whole-1l eggs-free-range-12:2
    python -m client deals --list groceries.txt --json
    python -m client whoami
    python -m client web --port 5050

Exit status: 0 done; 1 the API refused the call or could not be reached; 2 bad command
line or no key configured. Every failure is one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dotenv import find_dotenv, load_dotenv

from .deals import find_deals, parse_basket, read_list, render_text
from .errors import (
    ApiError,
    AuthError,
    ConfigurationError,
    ForbiddenError,
    QuotaExceeded,
    RateLimited,
    ServerError,
    StorePriceError,
    ValidationError,
)
from .sdk import KEY_VARIABLE, URL_VARIABLE, StorePriceClient


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The SDK logs warnings a user should act on (a rotated key); show them as notes.
    logging.basicConfig(level=logging.WARNING, format="note: %(message)s")
    # A .env next to where you run the command (git-ignored) may hold STOREPRICE_API_KEY.
    # Real environment variables win over it, so CI and containers stay in charge.
    dotenv = find_dotenv(usecwd=True)
    if dotenv:
        load_dotenv(dotenv)
    try:
        if args.command == "web":
            return _web(args)
        with StorePriceClient(args.url) as api:
            return _deals(api, args) if args.command == "deals" else _whoami(api, args)
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except StorePriceError as error:
        print(f"error: {describe(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help=f"API base URL (default: ${URL_VARIABLE} or "
                                      "http://127.0.0.1:5000)")
    parser = argparse.ArgumentParser(
        prog="python -m client", description="Grocery deals from the Store Price API. "
        f"The API key comes from {KEY_VARIABLE} (environment or .env).")
    commands = parser.add_subparsers(dest="command", required=True)

    deals = commands.add_parser("deals", parents=[common], help="where to buy a list today")
    deals.add_argument("items", nargs="*", metavar="ITEM",
                       help="item id, or ITEM:QUANTITY (e.g. eggs-free-range-12:2)")
    deals.add_argument("--list", metavar="FILE", help="read items from a file, one ITEM or "
                                                      "ITEM:QUANTITY per line (# comments)")
    deals.add_argument("--country", help="ISO country code such as US (may be omitted when "
                                         "the key allows exactly one country)")
    deals.add_argument("--json", action="store_true", help="machine-readable output")

    whoami = commands.add_parser("whoami", parents=[common],
                                 help="what the key allows and today's quota")
    whoami.add_argument("--json", action="store_true", help="machine-readable output")

    web = commands.add_parser("web", parents=[common], help="serve the shopper page")
    web.add_argument("--port", type=int, default=5050)
    web.add_argument("--host", default="127.0.0.1",
                     help="interface to listen on (default: this machine only)")
    return parser


def _deals(api: StorePriceClient, args: argparse.Namespace) -> int:
    try:
        entries = list(args.items) + (read_list(args.list) if args.list else [])
        basket = parse_basket(entries)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    country = args.country.upper() if args.country else None
    try:
        report = find_deals(api, basket, country)
    except ValidationError as error:
        if country is None and "country" in error.errors:
            # The API only infers the country for a key limited to exactly one.
            print("error: this key may use several countries: choose one with --country",
                  file=sys.stderr)
            return 2
        raise
    print(json.dumps(report.to_json(), indent=2) if args.json else render_text(report))
    return 0


def _whoami(api: StorePriceClient, args: argparse.Namespace) -> int:
    key = api.whoami()
    print(json.dumps(key, indent=2) if args.json else render_key(key))
    return 0


def render_key(key: dict[str, Any]) -> str:
    today = key.get("today") or {}
    expires = key.get("expires_at")
    left = ""
    if expires:
        moment = datetime.fromisoformat(expires).replace(tzinfo=UTC)
        left = f" (in {_duration((moment - datetime.now(UTC)).total_seconds())})"
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
        f"(resets in {_duration(today.get('resets_in', 0))})",
    ])


def describe(error: StorePriceError) -> str:
    """One line a person can act on, for any error the client raises."""
    if not isinstance(error, ApiError):
        return str(error)
    detail = error.detail.rstrip(".")
    if isinstance(error, AuthError):
        text = f"the API key was refused ({detail}); check {KEY_VARIABLE}"
    elif isinstance(error, ForbiddenError) and error.violated:
        text = f"this key may not access {', '.join(error.violated)}"
    elif isinstance(error, ForbiddenError):
        text = f"not allowed: {detail}"
    elif isinstance(error, QuotaExceeded):
        text = (f"the key's daily quota is used up; it resets at 00:00 UTC"
                f"{_in(error.retry_after)}")
    elif isinstance(error, RateLimited):
        text = f"too many requests; retry{_in(error.retry_after)}"
    elif isinstance(error, ValidationError) and error.errors:
        text = "invalid input: " + "; ".join(
            f"{name}: {' '.join(_flatten(messages))}" for name, messages in error.errors.items())
    elif isinstance(error, ServerError):
        text = f"the API is unavailable right now ({error.status}: {detail}); try again later"
    else:
        text = f"{detail} ({error.status})"
    return text + (f" [request id {error.request_id}]" if error.request_id else "")


def _in(seconds: int | None) -> str:
    return f" in {_duration(seconds)}" if seconds is not None else " later"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _flatten(messages: Any) -> list[str]:
    """422 messages may nest (a list per basket entry); show the strings."""
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _flatten(v)]
    return [m for value in messages for m in _flatten(value)]


def _web(args: argparse.Namespace) -> int:
    from .web import create_web_app  # Flask is only needed for this command

    # Fail now with a clear message, not on the first shopper's request.
    StorePriceClient(args.url).close()
    app = create_web_app(lambda: StorePriceClient(args.url))
    print(f"Shopper page on http://{args.host}:{args.port}/ (the API key stays here)",
          file=sys.stderr)
    app.run(host=args.host, port=args.port)
    return 0
