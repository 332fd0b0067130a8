"""Which keys a calling key may manage, and how far: the subset rule (bounds.py) applied
to keys in the database. Used by the lifecycle service (lifecycle.py) for every create,
update, rotate, revoke and delete made over HTTP; the CLI on the server passes no actor
and is not bound by it (it is the operator's root).

- ``acting`` turns the calling key into an ``Actor``: the admin endpoints reach every
  owner; the self-service endpoints (/v1/keys) only the caller's own owner.
- ``may_see`` says whether a key lies within the actor's bounds: others are answered
  as if they did not exist (404), so ids do not leak and nobody takes over a wider key.
- ``take_defaults`` fills in what a new key takes from its maker: its owner, its plan,
  and an expiry and limits clamped to the maker's.
- ``require_within`` refuses (403 exceeds-own-bounds, naming every axis) a key that
  would end up wider than its maker."""
from flask import g

from ..errors import Problem
from ..extensions import db
from .bounds import Actor, Bounds, rate_within, violations
from .models import ApiKey, Plan


def acting(own_owner_only: bool) -> Actor:
    """The calling key (the pipeline's Caller) as an actor on keys."""
    caller = g.caller
    bounds = Bounds(scopes=caller.scopes, restrictions=dict(caller.restrictions.limits),
                    allowed_ips=tuple(caller.allowed_ips.split(",")) if caller.allowed_ips
                    else None, expires_at=caller.expires_at, owner=caller.owner,
                    plan=caller.plan, daily_limit=caller.daily_limit,
                    rate_limit=caller.rate_limit)
    return Actor(id=caller.id, bounds=bounds, own_owner_only=own_owner_only,
                 limited="admin" not in caller.scopes)


def bounds_of(key: ApiKey) -> Bounds:
    plan = db.session.get(Plan, key.plan)  # from the identity map once loaded
    restrictions = key.restrictions or {}
    return Bounds(scopes=frozenset(key.scopes.split(",")) if key.scopes else frozenset(),
                  restrictions={field: frozenset(values)
                                for field, values in restrictions.items()},
                  allowed_ips=tuple(key.allowed_ips.split(",")) if key.allowed_ips else None,
                  expires_at=key.expires_at, owner=key.owner, plan=key.plan,
                  daily_limit=key.daily_limit if key.daily_limit is not None
                  else plan.daily_limit,
                  rate_limit=key.rate_limit if key.rate_limit is not None
                  else plan.rate_limit)


def may_see(key: ApiKey, actor: Actor | None) -> bool:
    return actor is None or not violations(bounds_of(key), actor)


def take_defaults(options: dict, actor: Actor) -> dict:
    """What a new key takes from its maker unless the body says otherwise."""
    mine = actor.bounds
    if actor.own_owner_only:
        options.setdefault("owner", mine.owner)
    if actor.limited:
        options.setdefault("plan", mine.plan)
    return options


def clamp_to_actor(key: ApiKey, options: dict, actor: Actor) -> None:
    """Defaults that would reach beyond the maker are lowered to the maker's: the default
    expiry (DEFAULT_KEY_TTL, or never) to the maker's expiry; a limited maker's plan
    limits to its own. What the body asks for explicitly is checked, never lowered."""
    mine = actor.bounds
    if "expires_in" not in options and mine.expires_at is not None \
            and (key.expires_at is None or key.expires_at > mine.expires_at):
        key.expires_at = mine.expires_at
    if actor.limited:
        plan = db.session.get(Plan, key.plan)
        if "daily_limit" not in options and key.daily_limit is None \
                and plan.daily_limit > mine.daily_limit:
            key.daily_limit = mine.daily_limit
        if "rate_limit" not in options and key.rate_limit is None \
                and not rate_within(plan.rate_limit, mine.rate_limit):
            key.rate_limit = mine.rate_limit


def require_within(key: ApiKey, actor: Actor | None) -> None:
    if actor is None:
        return
    violated = violations(bounds_of(key), actor)
    if violated:
        raise Problem(403, "exceeds-own-bounds",
                      "A key cannot make or change a key beyond its own bounds: "
                      + ", ".join(violated) + ".", key_id=actor.id, violated=violated)
