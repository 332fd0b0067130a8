"""Step 4 of the pipeline: how much a key may do.

- The **per-minute rate limit** (the key's ``rate_limit``, e.g. "60/minute") uses
  flask-limiter's storage and strategy, so it is shared by every worker that points
  RATELIMIT_STORAGE_URI at the same Redis.
- The **daily limit** is one atomic, conditional increment in the database:
  ``INSERT ... ON CONFLICT DO UPDATE SET used = used + 1 WHERE used < limit RETURNING used``.
  No read-then-write, no process memory: exact across workers, hosts and restarts.
Both run only after the key check, so nobody can spend another key's budget."""
import logging
import time
from functools import lru_cache
from typing import NamedTuple

from flask import current_app, g
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Date, bindparam, text

from .clock import now, seconds_until_next_utc_day
from .errors import Problem
from .extensions import limiter, request_connection

log = logging.getLogger("storeprice")
DAY = 86400


class Window(NamedTuple):
    """One limit as the RateLimit headers describe it."""
    quota: int      # calls allowed per window
    seconds: int    # window length
    remaining: int  # calls left in this window
    resets_in: int  # seconds until it resets


@lru_cache(maxsize=1)
def _fallback_limiter():
    """Per-process memory, created only if fail-open mode is ever needed."""
    return FixedWindowRateLimiter(MemoryStorage())


@lru_cache(maxsize=256)
def parse_rate(rate: str):
    """ "60/minute" -> a limits RateLimitItem (parsing is pure, so caching it is safe)."""
    return parse(rate)


def enforce_limits(caller) -> None:
    """Minute window first: a call it refuses must not use up the daily quota."""
    rate = parse_rate(caller.rate_limit)
    allowed, reset_at, remaining = _hit(rate, "key", caller.id)
    window_reset = max(1, int(reset_at - now_ts()))
    g.minute_window = Window(rate.amount, rate.get_expiry(), remaining, window_reset)
    if not allowed:
        raise Problem(429, "rate-limited",
                      f"Rate limit of {caller.rate_limit} exceeded for this key.",
                      {"Retry-After": str(window_reset)},
                      key_id=caller.id, retry_after=window_reset)

    moment = now()
    used = increment_daily_quota(caller.id, moment.date(), caller.daily_limit)
    reset = seconds_until_next_utc_day(moment)
    remaining = caller.daily_limit - used if used is not None else 0
    g.daily_window = Window(caller.daily_limit, DAY, remaining, reset)
    if used is None:
        raise Problem(429, "quota-exceeded",
                      f"Daily limit of {caller.daily_limit} calls used up; it resets at "
                      f"00:00 UTC.", {"Retry-After": str(reset)},
                      key_id=caller.id, retry_after=reset)


# The whole daily limit in one statement, the same on SQLite and PostgreSQL. The database
# serialises concurrent upserts of the same row, so two workers can never both take the
# last call; when the WHERE fails, no row is returned and nothing is written.
COUNT_ONE_CALL = text("""
    INSERT INTO daily_quota (key_id, day, used) VALUES (:key_id, :day, 1)
    ON CONFLICT (key_id, day) DO UPDATE SET used = daily_quota.used + 1
    WHERE daily_quota.used < :daily_limit
    RETURNING used
""").bindparams(bindparam("day", type_=Date()))


def increment_daily_quota(key_id: str, day, daily_limit: int) -> int | None:
    """Count one call; return the new count, or None when the limit is already reached."""
    connection = request_connection()
    used = connection.execute(COUNT_ONE_CALL, {"key_id": key_id, "day": day,
                                               "daily_limit": daily_limit}).scalar()
    connection.commit()
    return used


def rate_limit_headers() -> dict:
    """IETF httpapi ratelimit-headers draft: RateLimit-Policy and RateLimit."""
    windows = {name: g.get(attr) for name, attr in
               (("daily", "daily_window"), ("minute", "minute_window")) if g.get(attr)}
    if not windows:
        return {}
    return {
        "RateLimit-Policy": ", ".join(f'"{name}";q={w.quota};w={w.seconds}'
                                      for name, w in windows.items()),
        "RateLimit": ", ".join(f'"{name}";r={w.remaining};t={w.resets_in}'
                               for name, w in windows.items()),
    }


# --- failed authentication, limited per client IP -----------------------------------

def check_auth_throttle(client_ip: str) -> None:
    rate = parse_rate(current_app.config["AUTH_FAILURE_LIMIT"])
    if not _run(lambda lim: lim.test(rate, "auth-failures", client_ip)):
        reset_at = _run(lambda lim: lim.get_window_stats(rate, "auth-failures", client_ip)[0])
        retry = max(1, int(reset_at - now_ts()))
        raise Problem(429, "rate-limited", "Too many failed authentications from this "
                      "address; slow down.", {"Retry-After": str(retry)}, retry_after=retry)


def record_auth_failure(client_ip: str) -> None:
    rate = parse_rate(current_app.config["AUTH_FAILURE_LIMIT"])
    _run(lambda lim: lim.hit(rate, "auth-failures", client_ip))


# --- storage access with the configured failure mode --------------------------------

def _hit(rate, *identifiers):
    def hit_and_stats(lim):
        allowed = lim.hit(rate, *identifiers)
        reset_at, remaining = lim.get_window_stats(rate, *identifiers)
        return allowed, reset_at, remaining
    return _run(hit_and_stats)


def _run(operation):
    """Run a limiter operation; if the storage (Redis) is down, fail closed with 503 or,
    when RATELIMIT_FAILURE_MODE=open, fall back to per-process memory with a warning."""
    try:
        return operation(limiter.limiter)
    except Exception as error:  # redis raises its own ConnectionError/TimeoutError types
        if current_app.config["RATELIMIT_FAILURE_MODE"] == "open":
            log.warning("rate-limit storage unreachable (%s); failing open to memory",
                        error.__class__.__name__)
            return operation(_fallback_limiter())
        log.error("rate-limit storage unreachable (%s); failing closed",
                  error.__class__.__name__)
        raise Problem(503, "unavailable", "Rate limiting is temporarily unavailable; try "
                      "again shortly.", {"Retry-After": "5"}) from None


def now_ts() -> float:
    return time.time()  # limiter windows are in epoch seconds, not the app clock
