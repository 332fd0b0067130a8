"""Typed exceptions for the Store Price API.

The API answers every failure with an RFC 9457 ``application/problem+json`` body:
``type`` (a stable URI), ``title``, ``status``, ``detail``, ``instance`` (the request id)
and extensions such as ``violated``, ``unknown``, ``errors`` or ``retry_after``.
We turn it into one exception class per thing a caller may want to *handle* differently:
fix the key (401), ask for wider access (403), fix the input (404, 422), wait (429), or
try later (5xx). Code should switch on the class or on ``type``, never on the English
``title``/``detail``, which may be reworded.
"""
from __future__ import annotations

from typing import Any

import requests


class StorePriceError(Exception):
    """Anything this client raises. Catch this to never show a user a traceback."""


class ConfigurationError(StorePriceError):
    """The client is not set up to call the API (for example, no key configured)."""


class TooManyLookups(StorePriceError):
    """Not the API's answer but the shopper page's own guard (guard.py): this visitor, or
    the whole site, has used its API calls for the minute, so the call was not made."""

    def __init__(self, retry_after: float, whole_site: bool) -> None:
        super().__init__("too many price lookups for this minute")
        self.retry_after = retry_after
        self.whole_site = whole_site


class NetworkError(StorePriceError):
    """The API could not be reached or did not answer in time, even after retries."""


class ApiError(StorePriceError):
    """The API answered with an error (a problem+json document)."""

    def __init__(self, status: int, type: str, title: str, detail: str,
                 request_id: str | None = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(detail or title)
        self.status = status
        self.type = type            # e.g. "/problems/quota-exceeded"
        self.title = title
        self.detail = detail
        self.request_id = request_id  # quote it to the API's support: it finds the log line
        self.body = body or {}

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


class AuthError(ApiError):
    """401: the key is missing, malformed, unknown, expired, revoked or not yet valid.
    ``type`` says which; retrying with the same key cannot help."""


class ForbiddenError(ApiError):
    """403: the key lacks a scope, or the request is outside its countries/categories.
    ``violated`` names each restriction, e.g. ``["country:FR", "category:apparel"]``."""

    @property
    def violated(self) -> list[str]:
        return list(self.body.get("violated") or [])


class NotFoundError(ApiError):
    """404. For a basket, ``unknown`` lists the item ids the catalogue does not have."""

    @property
    def unknown(self) -> list[str]:
        return list(self.body.get("unknown") or [])


class ValidationError(ApiError):
    """422: the input is invalid. ``errors`` maps each field to its messages."""

    @property
    def errors(self) -> dict[str, Any]:
        return dict(self.body.get("errors") or {})


class RateLimited(ApiError):
    """429: too many calls. ``retry_after`` is how many seconds to wait. The client has
    already retried short waits itself; you see this when the wait is too long to sit out
    inside one call, or retries ran out."""

    @property
    def retry_after(self) -> int | None:
        value = self.body.get("retry_after")
        return value if isinstance(value, int) else None


class QuotaExceeded(RateLimited):
    """429 with type ``/problems/quota-exceeded``: the key's daily limit is used up until
    00:00 UTC. A subclass of RateLimited, so ``except RateLimited`` catches both."""


class ServerError(ApiError):
    """5xx: the API failed or is unavailable; it was retried. Try again later."""


_BY_STATUS: dict[int, type[ApiError]] = {401: AuthError, 403: ForbiddenError,
                                         404: NotFoundError, 422: ValidationError,
                                         429: RateLimited}


def error_from_response(response: requests.Response) -> ApiError:
    """Build the matching exception from an error response."""
    body: dict[str, Any] = {}
    if "json" in response.headers.get("Content-Type", ""):
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            body = parsed
    status = response.status_code
    type_ = str(body.get("type") or "about:blank")
    if type_.endswith("/quota-exceeded"):
        cls: type[ApiError] = QuotaExceeded
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, ApiError)
    # A proxy in front of the API may answer with HTML; never echo that body to a user.
    detail = str(body.get("detail") or f"HTTP {status} from {response.url.split('?')[0]}")
    if "retry_after" not in body and response.headers.get("Retry-After", "").isdigit():
        body["retry_after"] = int(response.headers["Retry-After"])
    return cls(status, type_, str(body.get("title") or response.reason or "Error"), detail,
               body.get("instance") or response.headers.get("X-Request-ID"), body)
