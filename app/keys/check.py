"""Step 1 of the pipeline, the key check: who is calling?

A key in the URL is refused; a missing, malformed or unknown key is a 401
(``authenticate``). Only once the secret has verified does the answer say *why* a real key
is refused: revoked, expired, not yet valid (``check_validity``, a refusal that spends the
key's minute window like any other). The verified key, with its plan's limits, its
owner's shared limit and today's counts read in the same query, becomes a ``Caller`` that
later steps read (server binding, scope, restrictions, limits, the subset rule).

The moment of the check is the request's one clock reading (``app.clock``), taken by the
pipeline before this step."""
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app, g, request
from sqlalchemy import Date, bindparam, func, select
from werkzeug.http import http_date

from ..clock import now
from ..errors import Problem
from ..extensions import request_connection
from . import format as keyformat
from .limits import auth_failure
from .models import ApiKey, DailyQuota, Owner, OwnerQuota, Plan
from .plans import effective_limits
from .restrictions import Restrictions

# One round trip: the key, its plan's limits (a change to the plan applies from the next
# call), its owner's shared daily limit, and what key and owner have used today (for the
# RateLimit headers and GET /v1/key on calls that the daily quota does not count), with
# the day's quota shard count (shards.py; none before the day's first admission).
TODAY = bindparam("day", type_=Date())
KEYS_DAY = (DailyQuota.key_id == ApiKey.id) & (DailyQuota.day == TODAY)
KEY_BY_ID = (select(ApiKey.__table__, Plan.daily_limit.label("plan_daily_limit"),
                    Plan.rate_limit.label("plan_rate_limit"),
                    Plan.price_per_1000_units_micros.label("price_micros"),
                    select(func.sum(DailyQuota.used)).where(KEYS_DAY)
                    .scalar_subquery().label("used_today"),
                    select(DailyQuota.shards).where(KEYS_DAY, DailyQuota.shard == 0)
                    .scalar_subquery().label("day_shards"),
                    Owner.daily_limit.label("owner_daily_limit"),
                    OwnerQuota.used.label("owner_used_today"))
             .join(Plan, ApiKey.plan == Plan.id)
             .outerjoin(Owner, Owner.owner == ApiKey.owner)
             .outerjoin(OwnerQuota, (OwnerQuota.owner == ApiKey.owner) & (OwnerQuota.day == TODAY))
             .where(ApiKey.id == bindparam("key_id")))
QUERY_KEY_NAMES = {"api_key", "apikey", "key", "x-api-key", "x_api_key", "token"}


@dataclass(frozen=True)
class Caller:
    """A verified key, copied out of the row so later steps never reload it."""
    id: str
    owner: str
    plan: str
    scopes: frozenset[str]
    restrictions: Restrictions  # per declared dimension (restrictions.py)
    daily_limit: int  # effective: the key's override, else its plan's
    rate_limit: str
    allowed_ips: str | None  # server binding (binding.py); None = anywhere
    last_used_at: datetime | None
    revoked_at: datetime | None = None
    not_before: datetime | None = None
    expires_at: datetime | None = None
    used_today: int = 0  # calls admitted today before this one
    day_shards: int | None = None  # today's quota shard count; None before its first call
    owner_daily_limit: int | None = None  # the organisation's shared limit, if set
    owner_used_today: int = 0
    rotated_at: datetime | None = None  # both set when called with a rotated-out secret
    sunset: datetime | None = None
    price_micros: int = 0  # the plan's price now: what this call's usage is metered at


def authenticate() -> Caller:
    """Return the key whose secret verified (valid or not: see check_validity), or raise
    a 400/401/429 problem."""
    prefix = current_app.config["API_KEY_PREFIX"] + "_"
    if any(name.lower() in QUERY_KEY_NAMES or value.startswith(prefix)
           for name, value in request.args.items(multi=True)):
        raise Problem(400, "key-in-query",
                      "Send the API key in the X-API-Key header, never in the URL: URLs end "
                      "up in server logs, proxies and browser history. Treat this key as "
                      "exposed and rotate it.")
    client_ip = request.remote_addr or "unknown"  # failures are counted per address

    raw = request.headers.get("X-API-Key", "")
    if not raw:
        raise auth_failure(client_ip, Problem(
            401, "missing-key", "Send your API key in the X-API-Key header.",
            {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}))
    parsed = keyformat.parse_key(raw, current_app.config["API_KEY_PREFIX"])
    if parsed is None:  # typo or truncated: the checksum catches it without a DB lookup
        raise auth_failure(client_ip, _invalid(
            "The API key is malformed or its checksum does not match."))

    pepper, moment = current_app.config["KEY_PEPPER"], now()
    key = request_connection().execute(KEY_BY_ID, {"key_id": parsed.key_id,
                                                   "day": moment.date()}).first()
    sunset = None
    if key is None:
        verified = False
    elif keyformat.matches(parsed.full_key, key.secret_hash, pepper):
        verified = True
    else:  # the previous secret still works during the rotation grace period
        verified = (key.previous_valid_until is not None
                    and moment < key.previous_valid_until
                    and keyformat.matches(parsed.full_key, key.previous_secret_hash, pepper))
        sunset = key.previous_valid_until if verified else None
    if not verified:
        raise auth_failure(client_ip, _invalid("The API key is not recognised."))

    # Metering records any refusal from here on under the key id (a stale deployment
    # shows up), never billed.
    g.verified_key_id = key.id
    g.key_row = key  # the whole row, for GET /v1/key
    limits = effective_limits(key)
    # No commit here: the limit step's writes finish this transaction (one round trip
    # fewer on PostgreSQL); a refused call's transaction is rolled back when the
    # connection goes back to the pool.
    return Caller(
        id=key.id, owner=key.owner, plan=key.plan, scopes=frozenset(key.scopes.split(",")),
        restrictions=Restrictions.of(key.restrictions),
        daily_limit=limits["daily_limit"], rate_limit=limits["rate_limit"],
        allowed_ips=key.allowed_ips, last_used_at=key.last_used_at,
        revoked_at=key.revoked_at, not_before=key.not_before, expires_at=key.expires_at,
        used_today=key.used_today or 0, day_shards=key.day_shards,
        # An owner's shared limit caps its applications; the provider's admin keys stay
        # usable whatever it is set to, or an operator could lock itself out for the day.
        owner_daily_limit=None if "admin" in key.scopes.split(",") else key.owner_daily_limit,
        owner_used_today=key.owner_used_today or 0,
        sunset=sunset, rotated_at=key.rotated_at if sunset else None,
        price_micros=key.price_micros)


def check_validity(caller: Caller) -> None:
    """Only now that the secret is proven do we say *why* a real key is refused."""
    moment = now()
    if caller.revoked_at is not None:
        raise Problem(401, "revoked-key", "This API key has been revoked.", key_id=caller.id)
    if caller.expires_at is not None and moment >= caller.expires_at:
        raise Problem(401, "expired-key",
                      f"This API key expired at {caller.expires_at:%Y-%m-%dT%H:%M:%SZ}.",
                      key_id=caller.id)
    if caller.not_before is not None and moment < caller.not_before:
        raise Problem(401, "key-not-yet-valid",
                      f"This API key is valid from {caller.not_before:%Y-%m-%dT%H:%M:%SZ}.",
                      key_id=caller.id)


def _invalid(detail: str) -> Problem:
    return Problem(401, "invalid-key", detail, {"WWW-Authenticate": 'ApiKey header="X-API-Key"'})


def deprecation_headers(caller: Caller) -> dict:
    """RFC 9745 Deprecation and RFC 8594 Sunset on calls made with a rotated-out secret."""
    if caller.sunset is None:
        return {}
    rotated = caller.rotated_at.replace(tzinfo=timezone.utc)
    return {"Deprecation": f"@{int(rotated.timestamp())}",
            "Sunset": http_date(caller.sunset.replace(tzinfo=timezone.utc))}
