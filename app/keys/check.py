"""Step 1 of the pipeline, the key check: who is calling?

A key in the URL is refused; a missing, malformed or unknown key is a 401; only once the
secret has verified does the answer say *why* a real key is refused (revoked, expired,
not yet valid). The verified key, with its plan's limits read in the same query, becomes
a ``Caller`` that later steps read (server binding, scope, restrictions, limits)."""
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app, g, request
from sqlalchemy import bindparam, select
from werkzeug.http import http_date

from ..clock import now
from ..errors import Problem
from ..extensions import request_connection
from . import format as keyformat
from .limits import auth_failure
from .models import ApiKey, Plan
from .plans import effective_limits

# Key and plan in one round trip: a change to the plan applies from the next call.
KEY_BY_ID = (select(ApiKey.__table__, Plan.daily_limit.label("plan_daily_limit"),
                    Plan.rate_limit.label("plan_rate_limit"))
             .join(Plan, ApiKey.plan == Plan.id)
             .where(ApiKey.id == bindparam("key_id")))
QUERY_KEY_NAMES = {"api_key", "apikey", "key", "x-api-key", "x_api_key", "token"}


@dataclass(frozen=True)
class Caller:
    """A verified key, copied out of the ORM so later steps never reload it."""
    id: str
    scopes: frozenset[str]
    countries: frozenset[str] | None
    categories: frozenset[str] | None
    daily_limit: int  # effective: the key's override, else its plan's
    rate_limit: str
    allowed_ips: str | None  # server binding (binding.py); None = anywhere
    last_used_at: datetime | None
    rotated_at: datetime | None = None  # both set when called with a rotated-out secret
    sunset: datetime | None = None


def authenticate() -> Caller:
    """Return the calling key or raise a 400/401/429 problem."""
    if any(name.lower() in QUERY_KEY_NAMES or value.startswith("spk_")
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
    parsed = keyformat.parse_key(raw)
    if parsed is None:  # typo or truncated: the checksum catches it without a DB lookup
        raise auth_failure(client_ip, _invalid(
            "The API key is malformed or its checksum does not match."))

    key = request_connection().execute(KEY_BY_ID, {"key_id": parsed.key_id}).first()
    pepper, moment = current_app.config["KEY_PEPPER"], now()
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

    # Only now that the secret is proven do we say *why* a real key is refused.
    if key.revoked_at is not None:
        raise Problem(401, "revoked-key", "This API key has been revoked.", key_id=key.id)
    if key.expires_at is not None and moment >= key.expires_at:
        raise Problem(401, "expired-key",
                      f"This API key expired at {key.expires_at:%Y-%m-%dT%H:%M:%SZ}.",
                      key_id=key.id)
    if key.not_before is not None and moment < key.not_before:
        raise Problem(401, "key-not-yet-valid",
                      f"This API key is valid from {key.not_before:%Y-%m-%dT%H:%M:%SZ}.",
                      key_id=key.id)

    g.key_row = key  # the whole row, for GET /v1/key
    limits = effective_limits(key)
    g.caller = Caller(
        id=key.id, scopes=frozenset(key.scopes.split(",")),
        countries=frozenset(key.countries.split(",")) if key.countries else None,
        categories=frozenset(key.categories.split(",")) if key.categories else None,
        daily_limit=limits["daily_limit"], rate_limit=limits["rate_limit"],
        allowed_ips=key.allowed_ips,
        last_used_at=key.last_used_at, sunset=sunset,
        rotated_at=key.rotated_at if sunset else None)
    # No commit here: the limit step's writes finish this transaction (one round trip
    # fewer on PostgreSQL); a refused call's transaction is rolled back when the
    # connection goes back to the pool.
    return g.caller


def _invalid(detail: str) -> Problem:
    return Problem(401, "invalid-key", detail, {"WWW-Authenticate": 'ApiKey header="X-API-Key"'})


def deprecation_headers(caller: Caller) -> dict:
    """RFC 9745 Deprecation and RFC 8594 Sunset on calls made with a rotated-out secret."""
    if caller.sunset is None:
        return {}
    rotated = caller.rotated_at.replace(tzinfo=timezone.utc)
    return {"Deprecation": f"@{int(rotated.timestamp())}",
            "Sunset": http_date(caller.sunset.replace(tzinfo=timezone.utc))}
