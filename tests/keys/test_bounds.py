"""The subset rule on its own (app/keys/bounds.py is pure: no Flask, no database)."""
from datetime import datetime

import pytest

from app.keys.bounds import Actor, Bounds, rate_within, sees_every_key, violations
from app.keys.dimensions import declare
from app.market import DIMENSIONS

declare(DIMENSIONS)  # what the marketplace declares; the same again is fine

ACTOR = Bounds(scopes=frozenset({"read", "keys"}),
               restrictions={"countries": frozenset({"US", "CA"}), "chains": frozenset({"a"})},
               allowed_ips=("203.0.113.0/24", "2001:db8::/32"),
               expires_at=datetime(2030, 1, 1), owner="Acme", plan="pro", daily_limit=100,
               rate_limit="60/minute")


def key(**changes) -> Bounds:
    fields = {**ACTOR.__dict__, **changes}
    return Bounds(**fields)


def partner(limited=True, own_owner_only=True) -> Actor:
    return Actor(id="actor", bounds=ACTOR, own_owner_only=own_owner_only, limited=limited)


def test_the_actors_own_bounds_are_within_themselves():
    assert violations(ACTOR, partner()) == []


@pytest.mark.parametrize("changes, violated", [
    ({"scopes": frozenset({"read", "admin", "write"})}, ["scope:admin", "scope:write"]),
    ({"restrictions": {"countries": frozenset({"US", "FR"}), "chains": frozenset({"a"})}},
     ["country:FR"]),
    ({"restrictions": {"chains": frozenset({"a"})}}, ["country:*"]),
    ({"restrictions": {"countries": frozenset({"US"}), "chains": frozenset({"a"}),
                       "categories": frozenset({"dairy"})}}, []),  # narrower is fine
    ({"allowed_ips": None}, ["ip:*"]),
    ({"allowed_ips": ("0.0.0.0/0",)}, ["ip:0.0.0.0/0"]),
    ({"allowed_ips": ("203.0.113.128/25", "2001:db8:1::/48")}, []),
    ({"allowed_ips": ("203.0.112.0/23",)}, ["ip:203.0.112.0/23"]),  # wider prefix
    ({"allowed_ips": ("::ffff:203.0.113.7/128",)}, ["ip:::ffff:203.0.113.7/128"]),  # v6
    ({"expires_at": None}, ["expires_at"]),
    ({"expires_at": datetime(2030, 1, 1, 0, 0, 1)}, ["expires_at"]),
    ({"owner": "Rival"}, ["owner:Rival"]),
    ({"plan": "enterprise"}, ["plan"]),
    ({"daily_limit": 101}, ["daily_limit"]),
    ({"rate_limit": "61/minute"}, ["rate_limit"]),
])
def test_each_axis_is_named(changes, violated):
    assert violations(key(**changes), partner()) == violated


def test_admin_reach_skips_owner_plan_and_limits():
    wider = key(owner="Rival", plan="enterprise", daily_limit=10**6, rate_limit="1000/second")
    assert violations(wider, partner(limited=False, own_owner_only=False)) == []
    assert violations(key(scopes=frozenset({"admin"})),
                      partner(limited=False, own_owner_only=False)) == ["scope:admin"]


def test_admin_implies_keys():
    admin = Bounds(**{**ACTOR.__dict__, "scopes": frozenset({"admin"})})
    actor = Actor(id="a", bounds=admin, own_owner_only=False, limited=False)
    assert violations(key(scopes=frozenset({"keys"})), actor) == []


UNBOUNDED = Bounds(scopes=frozenset({"read", "write", "admin"}), restrictions={},
                  allowed_ips=None, expires_at=None, owner="", plan="pro", daily_limit=1,
                  rate_limit="1/minute")
ALL_SCOPES = ("read", "write", "keys", "admin")


@pytest.mark.parametrize("changes, sees_all", [
    ({}, True),
    ({"restrictions": {"countries": None, "chains": None}}, True),  # None: all values
    ({"restrictions": {"countries": frozenset({"US"})}}, False),
    ({"scopes": frozenset({"read", "admin"})}, False),  # cannot see write keys
    ({"allowed_ips": ("0.0.0.0/0",)}, False),  # ip:* keys lie outside it
    ({"expires_at": datetime(2030, 1, 1)}, False),
])
def test_only_an_admin_without_bounds_sees_every_key(changes, sees_all):
    """Its listing is then paged by the database (lifecycle.list_keys); any bound on any
    axis means some key lies outside it, so the keys are checked one by one."""
    bounds = Bounds(**{**UNBOUNDED.__dict__, **changes})
    admin = Actor(id="a", bounds=bounds, own_owner_only=False, limited=False)
    assert sees_every_key(admin, ALL_SCOPES) is sees_all
    assert not sees_every_key(Actor(id="a", bounds=bounds, own_owner_only=True, limited=True),
                              ALL_SCOPES)  # scope keys: plan and limits bound it
    if sees_all:  # it agrees with the rule itself: not even the widest key lies outside
        assert violations(Bounds(**{**ACTOR.__dict__, "scopes": frozenset(ALL_SCOPES),
                                    "allowed_ips": None, "expires_at": None,
                                    "restrictions": {}}), admin) == []


@pytest.mark.parametrize("rate, limit, within", [
    ("60/minute", "60/minute", True), ("1/second", "60/minute", True),
    ("2/second", "60/minute", False),          # 120 a minute on average
    ("100/hour", "60/minute", False),          # a burst of 100 in one minute
    ("60/hour", "60/minute", True), ("3600/hour", "60/minute", False),
    ("1000/day", "1/minute", False), ("1/day", "1/second", True),
    ("60 per minute", "60/minute", False),     # not the form: never taken as smaller
])
def test_rates_compare_by_average_and_by_burst(rate, limit, within):
    assert rate_within(rate, limit) is within
