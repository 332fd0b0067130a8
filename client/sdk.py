"""A small Python client for the Store Price API, on ``requests``.

    from client import StorePriceClient
    api = StorePriceClient()          # STOREPRICE_URL and STOREPRICE_API_KEY from the environment
    answer = api.cheapest_stores(["milk-whole-1l", ("eggs-free-range-12", 2)], country="US")

What it does for you, and why:
- **The key stays out of code.** It comes from ``STOREPRICE_API_KEY`` (set it in the
  environment or in a git-ignored ``.env``); a key in source ends up in git history,
  screenshots and forks. It travels only in the ``X-API-Key`` header (never the URL,
  which lands in logs) and is never printed: ``repr(client)`` shows the public key id.
- **One ``requests.Session``**, so calls reuse a kept-alive connection.
- **A timeout on every call**: without one, a stalled network hangs your app forever.
- **Bounded retries** with exponential backoff on 429, 502, 503 and 504 and on
  connection failures, honouring ``Retry-After``. Every method here only *reads*, so
  retrying is safe, including the POST of the cheapest-stores query. A wait longer
  than ``max_wait`` (a daily quota resets at midnight) is not slept through inside a
  call: you get ``QuotaExceeded``/``RateLimited`` with ``retry_after`` and decide.
- **Typed exceptions** from the API's problem+json errors (see ``client/errors.py``).
"""
from __future__ import annotations

import email.utils
import logging
import os
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from .errors import ApiError, ConfigurationError, NetworkError, error_from_response

DEFAULT_URL = "http://127.0.0.1:5000"
URL_VARIABLE = "STOREPRICE_URL"
KEY_VARIABLE = "STOREPRICE_API_KEY"
USER_AGENT = "storeprice-client/1.0"

Json = dict[str, Any]
BasketEntry = str | tuple[str, int]   # an item id, or (item id, quantity)
Near = tuple[float, float]            # (latitude, longitude) in degrees

log = logging.getLogger("storeprice.client")


class _BoundedRetry(Retry):
    """urllib3's Retry, except that it stops at once when the server asks for a longer
    wait than ``retry_after_max``. Plain urllib3 would cap the wait, sleep, and retry
    into the same 429 - spending the caller's time and the retry budget for nothing."""

    def increment(self, method: str | None = None, url: str | None = None,
                  response: BaseHTTPResponse | None = None, error: Exception | None = None,
                  _pool: ConnectionPool | None = None,
                  _stacktrace: TracebackType | None = None) -> Self:
        wait = _retry_after_seconds(response)
        if wait is not None and wait > self.retry_after_max:
            # With raise_on_status=False urllib3 hands the 429 back; we raise it typed.
            raise MaxRetryError(_pool, url or "",  # type: ignore[arg-type]  # as urllib3 does
                                ResponseError(f"Retry-After {wait:.0f}s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _retry_after_seconds(response: BaseHTTPResponse | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    parsed = email.utils.parsedate_tz(value)
    return max(0.0, email.utils.mktime_tz(parsed) - time.time()) if parsed else None


class StorePriceClient:
    """Calls the Store Price API with one key. Use one instance per thread (a
    ``requests.Session`` is not guaranteed thread-safe), or as a context manager."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *,
                 timeout: float | tuple[float, float] = (3.05, 15.0),
                 max_retries: int = 3, backoff_factor: float = 0.5,
                 max_wait: int = 30) -> None:
        """``base_url`` and ``api_key`` default to ``STOREPRICE_URL`` and
        ``STOREPRICE_API_KEY``. Pass ``api_key`` only from a secret store, never a literal.

        Worst case a call takes about ``(1 + max_retries) * timeout`` plus the waits
        between tries, each at most ``max_wait`` seconds: the server's ``Retry-After``
        when it sends one, else ``backoff_factor * 2 ** (try - 1)`` (the first retry is
        immediate, as urllib3 does)."""
        self.base_url = (base_url or os.environ.get(URL_VARIABLE) or DEFAULT_URL).rstrip("/")
        key = (api_key if api_key is not None else os.environ.get(KEY_VARIABLE, "")).strip()
        if not key:
            raise ConfigurationError(
                f"No API key: set {KEY_VARIABLE} in the environment or in a .env file "
                "(see client/.env.example).")
        # The id between "spk_" and the secret is public (it appears in logs and usage
        # reports), so it is what we show when we need to say which key is in use.
        parts = key.split("_")
        self.key_id = parts[1] if len(parts) == 3 and parts[0] == "spk" else "?"
        self.timeout = timeout
        self.sunset: str | None = None  # set when the API says this key was rotated out

        retry = _BoundedRetry(
            total=max_retries, backoff_factor=backoff_factor, backoff_max=max_wait,
            retry_after_max=max_wait, respect_retry_after_header=True,
            status_forcelist=(429, 502, 503, 504),  # transient; a 500 is a bug, not luck
            allowed_methods=frozenset({"GET", "POST"}),  # POST here is a read query
            raise_on_status=False)  # give us the last response, to raise it typed
        self._session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({"X-API-Key": key, "Accept": "application/json",
                                      "User-Agent": USER_AGENT})

    def __repr__(self) -> str:  # never the key itself: reprs end up in logs and tracebacks
        return f"StorePriceClient(base_url={self.base_url!r}, key_id={self.key_id!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the API, one method per endpoint ---------------------------------------

    def whoami(self) -> Json:
        """The calling key: scopes, countries, categories, limits, expiry and ``today``
        (``used``, ``remaining``, ``resets_in`` seconds)."""
        return self._request("GET", "/v1/key")

    def usage(self, days: int = 30) -> Json:
        """The calling key's usage per UTC day and endpoint."""
        return self._request("GET", "/v1/usage", params={"days": days})

    def items(self, q: str | None = None, category: str | None = None,
              page: int = 1, per_page: int = 50) -> Json:
        """Search the catalogue: ``{"data": [item, ...], "page", "per_page", "total"}``."""
        return self._request("GET", "/v1/items", params={
            "q": q, "category": category, "page": page, "per_page": per_page})

    def stores(self, country: str | None = None, near: Near | None = None,
               radius_km: float | None = None, page: int = 1, per_page: int = 50) -> Json:
        """Stores; with ``near=(lat, lon)`` only those within ``radius_km`` (the API's
        default 10), nearest first, each with ``distance_km``."""
        return self._request("GET", "/v1/stores", params={
            "country": country, **_near_params(near, radius_km), "page": page,
            "per_page": per_page})

    def prices(self, item: str | None = None, store: str | None = None,
               country: str | None = None, page: int = 1, per_page: int = 50) -> Json:
        """Current prices; ``regular_price``/``promo_ends`` are set while on promotion."""
        return self._request("GET", "/v1/prices", params={
            "item": item, "store": store, "country": country, "page": page,
            "per_page": per_page})

    def deals(self, country: str | None = None, category: str | None = None,
              near: Near | None = None, radius_km: float | None = None,
              page: int = 1, per_page: int = 50) -> Json:
        """Today's promotions, biggest saving first (within ``radius_km`` of ``near``)."""
        return self._request("GET", "/v1/deals", params={
            "country": country, "category": category, **_near_params(near, radius_km),
            "page": page, "per_page": per_page})

    def cheapest_stores(self, items: Iterable[BasketEntry], country: str | None = None,
                        max_stores: int = 2, limit: int = 5, near: Near | None = None,
                        radius_km: float | None = None) -> Json:
        """Where to buy a basket at the lowest price: ranked single ``stores``, the
        cheapest offer ``per_item`` and the best ``plan`` over at most ``max_stores``;
        with ``near=(lat, lon)`` only stores within ``radius_km``, each with
        ``distance_km``."""
        body: Json = {"items": [entry if isinstance(entry, str)
                                else {"item": entry[0], "quantity": entry[1]}
                                for entry in items],
                      "max_stores": max_stores, "limit": limit}
        if country:
            body["country"] = country
        if near is not None:
            body["near"] = {"lat": near[0], "lon": near[1]}
            if radius_km is not None:
                body["radius_km"] = radius_km
        return self._request("POST", "/v1/cheapest-stores", json=body)

    # --- transport ---------------------------------------------------------------

    def _request(self, method: str, path: str, params: Json | None = None,
                 json: Json | None = None) -> Json:
        try:
            response = self._session.request(
                method, self.base_url + path, json=json, timeout=self.timeout,
                params={name: value for name, value in (params or {}).items()
                        if value is not None},
                # requests strips Authorization on a redirect to another host, but not a
                # custom header like X-API-Key. The API never redirects, so we refuse to
                # follow one rather than risk handing the key to another server.
                allow_redirects=False)
        except requests.RequestException as error:
            # After the retries; a read timeout arrives as a ConnectionError by then.
            what = "did not answer in time" if "timed out" in str(error) else "is unreachable"
            raise NetworkError(f"The Store Price API at {self.base_url} {what}.") from error

        if "Sunset" in response.headers and response.headers["Sunset"] != self.sunset:
            # The key was rotated and we still use the old secret (RFC 8594).
            self.sunset = response.headers["Sunset"]
            log.warning("API key %s was rotated: the secret in use stops working at %s. "
                        "Switch to the new key (%s).", self.key_id, self.sunset, KEY_VARIABLE)
        if not 200 <= response.status_code < 300:
            raise error_from_response(response)
        if response.status_code == 204:
            return {}
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ApiError(response.status_code, "about:blank", "Unexpected response",
                           "The API answered with something other than a JSON object.",
                           response.headers.get("X-Request-ID"))
        return answer


def _near_params(near: Near | None, radius_km: float | None) -> Json:
    """``near=LAT,LON`` and ``radius_km`` as query parameters (none without ``near``)."""
    if near is None:
        return {}
    return {"near": f"{near[0]:.6f},{near[1]:.6f}", "radius_km": radius_km}
