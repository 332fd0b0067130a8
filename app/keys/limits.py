"""Step 4 of the pipeline: how much a key may do.

- The **per-minute rate limit** (the key's ``rate_limit``, e.g. "60/minute") is a
  clock-aligned fixed window counted in flask-limiter's storage, so it is shared by every
  worker that points RATELIMIT_STORAGE_URI at the same Redis.
- The **daily limit** is one atomic, conditional increment in the database:
  ``INSERT ... ON CONFLICT DO UPDATE SET used = used + 1 WHERE used < limit RETURNING used``.
  No read-then-write, no process memory: exact across workers, hosts and restarts. With
  ``QUOTA_SHARDS`` the count is spread over several rows, each with its share of the
  limit, so that one busy key's calls do not all queue on one row (shards.py).

**What counts:** every call this step admits counts against the daily quota, whatever
the handler then answers (a 403 restricted, 404 or 422 from the handler still used the
service). Refusals before admission (bad key, scope, the minute window) do not count, and
neither does self-inspection (views marked ``@quota_free``: ``GET /v1/key`` and
``GET /v1/usage``), which stays available when the quota is used up; the minute window
still applies to it. Admission is recorded in the same transaction that counts the call
(admitted, not yet complete, nothing billed: see metering.py). Both limits run only
after the key check, so nobody can spend another key's budget."""
import logging
import math
import time
from contextlib import contextmanager
from functools import lru_cache
from typing import NamedTuple

from flask import current_app, g, request
from limits import parse
from limits.storage import MemoryStorage
from sqlalchemy import Date, bindparam, text

from ..clock import now, seconds_until_next_utc_day
from ..database import writers_take_turns
from ..errors import Problem
from ..extensions import limiter, request_connection
from . import shards
from .late_counts import incr_in_time
from .metering import record_admission
from .webhooks.events import emit_quota_reached, emit_quota_thresholds

log = logging.getLogger(__name__)  # "app.keys.limits": the key layer logs under its own names
DAY = 86400


class Window(NamedTuple):
    """One limit as the RateLimit headers describe it."""
    quota: int      # calls allowed per window
    seconds: int    # window length
    remaining: int  # calls left in this window
    resets_in: int  # seconds until it resets


@lru_cache(maxsize=1)
def _fallback_storage():
    """Per-process memory, created only if fail-open mode is ever needed."""
    return MemoryStorage()


@lru_cache(maxsize=256)
def parse_rate(rate: str):
    """ "60/minute" -> a limits RateLimitItem (parsing is pure, so caching it is safe)."""
    return parse(rate)


def quota_free(view):
    """Mark a view as self-inspection: it never counts against the daily quota."""
    view.counts_against_quota = False
    return view


def counts_against_quota() -> bool:
    view = current_app.view_functions[request.endpoint]
    return getattr(view, "counts_against_quota", True)


@contextmanager
def refusals_spend_the_window(caller):
    """A verified key's refusal (revoked, expired, server binding, scope) counts in its
    minute window like an admitted call, so a client that keeps sending refused calls gets
    429s after its minute's worth; those cost no database write (see tally.py)."""
    try:
        yield
    except Problem as refusal:
        spend_minute_window(caller)  # raises 429 once the window is used up
        raise refusal


def spend_minute_window(caller) -> None:
    """Count one call in the key's clock-aligned minute window; 429 once it is over."""
    rate = parse_rate(caller.rate_limit)
    used, resets_in = count_in_window(rate, "key", caller.id)
    g.minute_window = Window(rate.amount, rate.get_expiry(), max(0, rate.amount - used),
                             resets_in)
    g.first_in_window = used == 1  # this call carries the key's tallied refusals (tally.py)
    if used > rate.amount:
        g.tallied = True  # metering counts it in the limiter storage, not the database
        raise Problem(429, "rate-limited",
                      f"Rate limit of {caller.rate_limit} exceeded for this key.",
                      {"Retry-After": str(resets_in)},
                      key_id=caller.id, retry_after=resets_in,
                      **{"violated-policies": ["minute"]})  # the RateLimit-Policy names


def enforce_limits(caller) -> None:
    """Minute window first: a call it refuses must not use up the daily quota. Then the
    key's daily quota and, if its owner has one, the owner's: both counted or neither."""
    spend_minute_window(caller)
    moment = now()  # the request's one clock reading
    reset = seconds_until_next_utc_day(moment)
    owner_limit = caller.owner_daily_limit
    if not counts_against_quota():  # what the key check read, nothing counted
        g.daily_window = Window(caller.daily_limit, DAY,
                                max(0, caller.daily_limit - caller.used_today), reset)
        if owner_limit is not None:
            g.owner_window = Window(owner_limit, DAY,
                                    max(0, owner_limit - caller.owner_used_today), reset)
        return
    connection = request_connection()
    used = owner_used = refused = None
    with writers_take_turns(connection, current_app.config["DATABASE_TIMEOUT"]):
        used, day_shards = count_one_call(connection, caller, moment)
        if used is None:
            refused = "daily"
        elif owner_limit is not None:  # always after the key's row: one lock order
            owner_used = connection.execute(COUNT_ONE_OWNER_CALL, {
                "owner": caller.owner, "day": moment.date(), "daily_limit": owner_limit,
            }).scalar()
            if owner_used is None:
                refused = "owner-daily"
        if refused == "daily" and day_shards > 1:
            emit_quota_reached(connection, caller, moment)  # see there
            connection.commit()
        elif refused:
            connection.rollback()  # neither count stands
        else:
            # Record the admission in the transaction that counted it, so the admitted
            # calls in the usage report always equal the quota's count (nothing billed yet).
            record_admission(connection, caller, moment)
            # A quota.threshold webhook event (80/90/100 %) in the same transaction: sent
            # only if this admission stands. No query unless a threshold is crossed.
            emit_quota_thresholds(connection, caller, moment, used, sharded=day_shards > 1)
            connection.commit()
    if refused == "owner-daily":
        used -= 1  # the key's count was rolled back with the owner's
    g.daily_window = Window(caller.daily_limit, DAY,
                            caller.daily_limit - used if used is not None else 0, reset)
    if owner_limit is not None:
        owner_count = (owner_used if owner_used is not None
                       else owner_limit if refused == "owner-daily"
                       else caller.owner_used_today)
        g.owner_window = Window(owner_limit, DAY, max(0, owner_limit - owner_count), reset)
    if refused == "daily":
        raise Problem(429, "quota-exceeded",
                      f"Daily limit of {caller.daily_limit} calls used up; it resets at "
                      f"00:00 UTC.", {"Retry-After": str(reset)},
                      key_id=caller.id, retry_after=reset,
                      **{"violated-policies": ["daily"]})
    if refused == "owner-daily":
        raise Problem(429, "quota-exceeded",
                      f"The daily limit of {owner_limit} calls that the keys of "
                      f"{caller.owner!r} share is used up; it resets at 00:00 UTC.",
                      {"Retry-After": str(reset)}, key_id=caller.id, retry_after=reset,
                      **{"violated-policies": ["owner-daily"]})


def count_one_call(connection, caller, moment) -> tuple[int | None, int]:
    """Count the call in the key's daily quota: (the day's count after it, or None if the
    limit is used up; the day's shard count). With one shard (the default) that is one
    statement; with several, the call tries the shards in turn (shards.py) and the day's
    count is their sum."""
    day_shards = caller.day_shards
    if day_shards is None:  # the day's first admission, as far as the key check saw
        counted = _count_in_shard(connection, caller, moment, 0,
                                  shards.configured(current_app.config["QUOTA_SHARDS"]))
        if counted is not None:
            return _day_count(connection, caller, moment, *counted)
        # Others were first: shard 0 is full at the share the day's count gives it.
        day_shards = connection.execute(DAY_SHARDS, {"key_id": caller.id,
                                                     "day": moment.date()}).scalar()
    for shard in shards.order(caller.daily_limit, day_shards):
        counted = _count_in_shard(connection, caller, moment, shard, day_shards)
        if counted is not None:
            return _day_count(connection, caller, moment, *counted)
    return None, day_shards


def _count_in_shard(connection, caller, moment, shard: int, day_shards: int):
    counted = connection.execute(COUNT_ONE_CALL, {
        "key_id": caller.id, "day": moment.date(), "shard": shard, "shards": day_shards,
        "daily_limit": caller.daily_limit}).first()
    if counted is None:
        # A refused upsert still locks its row (PostgreSQL): let go of it before the next
        # shard, or two calls trying shards in different orders could deadlock.
        connection.rollback()
        return None
    g.quota_shard = shard  # the usage rows of this call go with it (metering.py)
    return counted


def _day_count(connection, caller, moment, used: int, day_shards: int) -> tuple[int, int]:
    if day_shards == 1:
        return used, 1
    return connection.execute(DAY_COUNT, {"key_id": caller.id,
                                          "day": moment.date()}).scalar(), day_shards


# The whole daily limit (or one shard's share of it) in one statement, the same on SQLite
# and PostgreSQL. The database serialises concurrent upserts of the same row, so two
# workers can never both take its last call; when the WHERE fails, no row is returned and
# nothing is written. The share is computed from the row's own shard count: one shard's
# share is the whole limit.
COUNT_ONE_CALL = text("""
    INSERT INTO daily_quota (key_id, day, shard, shards, used)
    VALUES (:key_id, :day, :shard, :shards, 1)
    ON CONFLICT (key_id, day, shard) DO UPDATE SET used = daily_quota.used + 1
    WHERE daily_quota.used < :daily_limit / daily_quota.shards
        + CASE WHEN daily_quota.shard < :daily_limit % daily_quota.shards THEN 1 ELSE 0 END
    RETURNING used, shards
""").bindparams(bindparam("day", type_=Date()))
DAY_SHARDS = text("SELECT shards FROM daily_quota WHERE key_id = :key_id AND day = :day "
                  "AND shard = 0").bindparams(bindparam("day", type_=Date()))
DAY_COUNT = text("SELECT sum(used) FROM daily_quota WHERE key_id = :key_id AND day = :day") \
    .bindparams(bindparam("day", type_=Date()))
# The owner's shared limit the same way, in the same transaction (after the key's).
COUNT_ONE_OWNER_CALL = text("""
    INSERT INTO owner_quota (owner, day, used) VALUES (:owner, :day, 1)
    ON CONFLICT (owner, day) DO UPDATE SET used = owner_quota.used + 1
    WHERE owner_quota.used < :daily_limit
    RETURNING used
""").bindparams(bindparam("day", type_=Date()))


def rate_limit_headers() -> dict:
    """IETF httpapi ratelimit-headers draft: RateLimit-Policy and RateLimit."""
    windows = {name: g.get(attr) for name, attr in
               (("daily", "daily_window"), ("owner-daily", "owner_window"),
                ("minute", "minute_window")) if g.get(attr)}
    if not windows:
        return {}
    return {
        "RateLimit-Policy": ", ".join(f'"{name}";q={w.quota};w={w.seconds}'
                                      for name, w in windows.items()),
        "RateLimit": ", ".join(f'"{name}";r={w.remaining};t={w.resets_in}'
                               for name, w in windows.items()),
    }


# --- failed authentication, limited per client IP -----------------------------------

def auth_failure(client_ip: str, problem: Problem) -> Problem:
    """Count a failed authentication from this address. Within the budget the caller gets
    the 401 it earned; beyond it, a 429 that says only "slow down" and when to come back.
    A valid key is never refused because someone else at the same address (a NAT, a
    proxy) keeps failing; guessing a key is hopeless anyway at ~190 random bits."""
    rate = parse_rate(current_app.config["AUTH_FAILURE_LIMIT"])
    failures, resets_in = count_in_window(rate, "auth-failures", client_ip)
    if failures <= rate.amount:
        return problem
    return Problem(429, "rate-limited", "Too many failed authentications from this "
                   "address; slow down.", {"Retry-After": str(resets_in)},
                   retry_after=resets_in)


# --- the shared counters, with the configured failure mode ---------------------------

def count_in_window(rate, *identifiers) -> tuple[int, int]:
    """Count one call in the current window of ``rate``; return (calls in this window,
    seconds until it resets).

    Windows are aligned to the clock ("60/minute" counts 12:03:00-12:03:59), so the reset
    time is arithmetic and the whole check is one atomic INCR in flask-limiter's storage:
    one Redis round trip per call. The key expires with its window."""
    length = rate.get_expiry()
    moment = time.time()  # limiter windows are in epoch seconds, not the app clock
    window = int(moment // length)
    key = rate.key_for(*identifiers, str(window))
    return _increment(key, length), max(1, math.ceil((window + 1) * length - moment))


def _increment(key: str, expiry: int) -> int:
    """Atomic INCR in flask-limiter's storage; if it (Redis) is down, fail closed with 503
    or, when RATELIMIT_FAILURE_MODE=open, fall back to per-process memory with a warning.
    An INCR that Redis applies only after we stopped waiting for it does not count
    (late_counts.py), so a stall never leaves counts of refused calls in the window."""
    patience = current_app.config["RATELIMIT_STORAGE_OPTIONS"].get("socket_timeout") or 5
    try:
        return incr_in_time(limiter.storage, key, expiry, patience)
    except Exception as error:  # redis raises its own ConnectionError/TimeoutError types
        g.limiter_storage_unavailable = True  # the 503's cause, for /metrics
        if current_app.config["RATELIMIT_FAILURE_MODE"] == "open":
            log.warning("rate-limit storage unreachable (%s); failing open to memory",
                        error.__class__.__name__)
            return _fallback_storage().incr(key, expiry)
        log.error("rate-limit storage unreachable (%s); failing closed",
                  error.__class__.__name__)
        raise Problem(503, "unavailable", "Rate limiting is temporarily unavailable; try "
                      "again shortly.", {"Retry-After": "5"}) from None
