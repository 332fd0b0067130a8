"""Every error in words: ``describe`` gives the partner's developer one line to act on (the
CLI's stderr, the web app's log); ``for_shopper`` gives a shopper one friendly sentence,
without the details that are the site owner's business (a bad key, request internals).
Both switch on the exception class, never on the API's English text."""
from __future__ import annotations

from typing import Any

from .errors import (
    ApiError,
    AuthError,
    ConfigurationError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    QuotaExceeded,
    RateLimited,
    ServerError,
    StorePriceError,
    TooManyLookups,
    ValidationError,
)
from .sdk import KEY_VARIABLE

# The API's field names, as a shopper would say them.
FIELDS = {"near": "the location", "near.lat": "the latitude", "near.lon": "the longitude",
          "lat": "the latitude", "lon": "the longitude", "radius_km": "the distance",
          "country": "the country", "items": "the shopping list", "q": "the search"}


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


def for_shopper(error: StorePriceError) -> str:
    """One friendly sentence for the page. Never a field dump, never "None"."""
    if isinstance(error, (AuthError, ConfigurationError)):
        return ("Prices are unavailable right now: this site's price service is not set up "
                "correctly. Please try again later.")
    if isinstance(error, TooManyLookups):
        return ("Lots of price lookups right now: please wait a minute and try again."
                if error.whole_site else "You have looked up a lot of prices in a short "
                "time: please wait a minute and try again.")
    if isinstance(error, QuotaExceeded):
        return ("This site has used all of today's price lookups. They start again at "
                f"midnight UTC{_in(error.retry_after)}.")
    if isinstance(error, RateLimited):
        return f"Lots of shoppers right now: please try again{_in(error.retry_after)}."
    if isinstance(error, ForbiddenError):
        return "Sorry, this site cannot show prices for " + (
            ", ".join(_restriction(v) for v in error.violated) or "that request") + "."
    if isinstance(error, ValidationError):
        fields = [FIELDS.get(name, name.replace("_", " ")) for name in error.errors]
        return f"Please check {' and '.join(fields) or 'what you entered'}: " \
               "the price service could not use it."
    if isinstance(error, NotFoundError):
        return "Sorry, the price service does not know some of what you asked for."
    if isinstance(error, NetworkError):
        return "The price service cannot be reached right now. Please try again in a minute."
    if isinstance(error, ServerError):
        return "The price service is having trouble right now. Please try again in a minute."
    return "Sorry, something went wrong while looking up prices. Please try again."


def _restriction(violated: str) -> str:
    kind, _, value = violated.partition(":")
    return {"country": f"the country {value}", "category": f"the category {value}"}.get(
        kind, violated)


def _in(seconds: int | None) -> str:
    return f" in {duration(seconds)}" if seconds is not None else " later"


def duration(seconds: float) -> str:
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
