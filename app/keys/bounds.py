"""The subset rule (least privilege): a key made or changed over the API never gets more
than the key that made or changed it, on any axis.

- scopes: within the actor's (``admin`` implies ``keys``);
- each restriction dimension: within the actor's values; "all" only if the actor has all;
- ``allowed_ips``: every network inside one of the actor's; "anywhere" only if the
  actor may be used from anywhere;
- expiry: not after the actor's; "never" only if the actor never expires;
- for an actor that is not ``admin`` (scope ``keys``): the actor's own owner, the
  actor's plan, and daily and per-minute limits no higher than its own.

The same rule says which existing keys an actor may see and act on at all: only keys it
could have made itself. So a restricted admin key cannot rotate an unrestricted one and
take it over. Pure: no Flask, no database; lifecycle.py feeds it."""
import ipaddress
from dataclasses import dataclass
from datetime import datetime

from .dimensions import by_field

SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
IMPLIED_SCOPES = {"admin": {"keys"}}


@dataclass(frozen=True)
class Bounds:
    """What a key may do, as the subset rule compares it."""
    scopes: frozenset[str]
    restrictions: dict[str, frozenset[str] | None]  # per dimension field; None = all
    allowed_ips: tuple[str, ...] | None              # networks; None = anywhere
    expires_at: datetime | None                      # None = never
    owner: str
    plan: str
    daily_limit: int                                 # effective (override or plan)
    rate_limit: str                                  # effective, "60/minute"


@dataclass(frozen=True)
class Actor:
    """A key acting on keys over HTTP, and how far its reach goes."""
    id: str
    bounds: Bounds
    own_owner_only: bool  # the self-service endpoints: only keys of the actor's owner
    limited: bool         # not admin: plan and limits are the actor's too


def granted(scopes) -> frozenset[str]:
    """A key's scopes with what they imply: {"admin"} -> {"admin", "keys"}."""
    return frozenset(scopes).union(*(IMPLIED_SCOPES.get(scope, ()) for scope in scopes))


def violations(key: Bounds, actor: Actor) -> list[str]:
    """Each axis on which ``key`` lies outside ``actor``'s bounds, named as the API's
    403 exceeds-own-bounds says it: "scope:admin", "country:FR", "country:*",
    "ip:0.0.0.0/0", "expires_at", "owner:<owner>", "plan", "daily_limit", "rate_limit"."""
    mine = actor.bounds
    violated = [f"scope:{scope}" for scope in sorted(key.scopes - granted(mine.scopes))]
    for field, dimension in by_field().items():
        allowed, wanted = mine.restrictions.get(field), key.restrictions.get(field)
        if allowed is None:
            continue
        violated += ([f"{dimension.label}:*"] if wanted is None else
                     [f"{dimension.label}:{value}" for value in sorted(wanted - allowed)])
    violated += _outside_networks(key.allowed_ips, mine.allowed_ips)
    if mine.expires_at is not None and (key.expires_at is None
                                        or key.expires_at > mine.expires_at):
        violated.append("expires_at")
    if actor.own_owner_only and key.owner != mine.owner:
        violated.append(f"owner:{key.owner}")
    if actor.limited:
        if key.plan != mine.plan:
            violated.append("plan")
        if key.daily_limit > mine.daily_limit:
            violated.append("daily_limit")
        if not rate_within(key.rate_limit, mine.rate_limit):
            violated.append("rate_limit")
    return violated


def sees_every_key(actor: Actor, scopes) -> bool:
    """Whether no key can lie outside ``actor``'s bounds but by its owner: the actor
    grants every one of ``scopes`` (the API's) and has no restriction, network, expiry or
    plan bound. Its listings can then be paged by the database instead of checked key by
    key."""
    mine = actor.bounds
    return (not actor.limited and granted(mine.scopes) >= frozenset(scopes)
            and all(values is None for values in mine.restrictions.values())
            and mine.allowed_ips is None and mine.expires_at is None)


def _outside_networks(wanted, allowed) -> list[str]:
    if allowed is None:
        return []
    if wanted is None:
        return ["ip:*"]
    mine = [ipaddress.ip_network(network) for network in allowed]
    return [f"ip:{network}" for network in wanted
            if not any(_inside(ipaddress.ip_network(network), own) for own in mine)]


def _inside(network, own) -> bool:
    return network.version == own.version and network.subnet_of(own)


def rate_within(rate: str, limit: str) -> bool:
    """Is ``rate`` ("100/hour") no more than ``limit`` ("60/minute")? On average (calls
    per second), and, when its window is longer, also in the calls one window allows at
    once: 100/hour averages less than 60/minute, yet admits a burst of 100 in a minute."""
    try:
        calls, window = _rate(rate)
        limit_calls, limit_window = _rate(limit)
    except (ValueError, KeyError):  # not "N/unit": never taken for a smaller rate
        return False
    return (calls * limit_window <= limit_calls * window
            and (window <= limit_window or calls <= limit_calls))


def _rate(rate: str) -> tuple[int, int]:
    calls, unit = rate.split("/")
    return int(calls), SECONDS[unit]
