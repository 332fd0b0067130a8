"""What one visitor of the shopper page may cost the partner: a bounded number of API calls.

Every API call the page makes is billed to the partner's key, and the page is public: any
site can embed it in an ``<img>`` and make its visitors' browsers call it. So besides
flask-limiter's limits on the page's own routes (requests a minute, web.py), each API call
made for a visitor is spent from two allowances before it is made:

- the visitor's: ``VISITOR_CALLS`` a minute (default 20), per IP address;
- the site's: ``SITE_CALLS`` a minute (default 120), whoever the visitors are.

When either is spent the call is not made: the page says "wait a minute" (429) and shows
what it has. The lists every visitor shares (the cities, the catalogue) are fetched at most
once per cache lifetime whoever asks, and are spent from the site's allowance only.

So one visitor causes at most VISITOR_CALLS API calls a minute, any number of visitors at
most SITE_CALLS, plus the shared lists' refreshes (client/README.md gives the figures).
The counters live in flask-limiter's storage (``STOREPRICE_WEB_LIMITS``, default
``memory://``: per process; give several gunicorn workers a ``redis://`` URL to share).
"""
from __future__ import annotations

import threading
import time
from typing import Any

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from .errors import TooManyLookups
from .sdk import StorePriceClient

VISITOR_CALLS = "20/minute"
SITE_CALLS = "120/minute"
API_METHODS = ("whoami", "usage", "items", "stores", "prices", "deals", "cheapest_stores")


class Allowance:
    """The two per-minute allowances, and a count of the calls made (for the operator's
    log and the tests)."""

    def __init__(self, visitor: str = VISITOR_CALLS, site: str = SITE_CALLS,
                 storage: str = "memory://") -> None:
        self.visitor_limit, self.site_limit = parse(visitor), parse(site)
        self._window = MovingWindowRateLimiter(storage_from_string(storage))
        self._lock = threading.Lock()
        self.calls = 0   # API calls made through this allowance, since start

    def spend(self, visitor: str | None) -> None:
        """Take one call from the site's allowance and, unless ``visitor`` is None (a
        shared list), from the visitor's; raise TooManyLookups when one is spent."""
        # hit() checks and counts in one step (atomic in the storage), so concurrent
        # requests cannot both squeeze through: the bound is exact. The visitor's first:
        # a visitor who is out must not use up the site's calls.
        if visitor is not None and not self._window.hit(self.visitor_limit, "visitor",
                                                        visitor):
            raise TooManyLookups(self._wait(self.visitor_limit, "visitor", visitor), False)
        if not self._window.hit(self.site_limit, "site"):
            raise TooManyLookups(self._wait(self.site_limit, "site"), True)
        with self._lock:
            self.calls += 1

    def _wait(self, limit: Any, *key: str) -> float:
        reset = self._window.get_window_stats(limit, *key).reset_time
        return max(1.0, reset - time.time())


class Metered:
    """A StorePriceClient whose every API call is first spent from ``allowance`` on behalf
    of ``visitor`` (None: a shared list). Anything but the API methods passes through."""

    def __init__(self, api: StorePriceClient, allowance: Allowance,
                 visitor: str | None) -> None:
        self._api, self._allowance, self._visitor = api, allowance, visitor

    def shared(self) -> Metered:
        """The same client, for a list every visitor shares: the site pays for it."""
        return Metered(self._api, self._allowance, None)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._api, name)
        if name not in API_METHODS:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._allowance.spend(self._visitor)
            return attribute(*args, **kwargs)
        return call
