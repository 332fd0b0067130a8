"""Plans: the limits and the price a group of keys shares.

A key belongs to one plan; its own ``daily_limit`` and ``rate_limit`` are optional
overrides (NULL = the plan's). The key check reads key and plan in one joined query on
every call (check.py), so a change to a plan applies to every key on it from its next
call, in every worker, with no cache to invalidate. Prices are integer micro-dollars per
1,000 billable units; on the wire they are decimal strings ("0.50"). One service for the
CLI (cli/plans.py) and the admin API (views/plans.py); each function commits its own unit
of work together with its audit event."""
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import exists, select

from ..errors import Problem
from ..extensions import db
from . import audit
from .models import ApiKey, Plan

MICROS = Decimal(1_000_000)
LIMITS = ("daily_limit", "rate_limit")  # what a key may override
PUBLIC_FIELDS = ("name", "daily_limit", "rate_limit", "price_per_1000_units")


def price_to_micros(text: str) -> int:
    """ "0.50" -> 500000 (the schema has checked the form: up to 6 decimals)."""
    return int(Decimal(text) * MICROS)


def micros_to_price(micros: int) -> str:
    """500000 -> "0.50": at least cents, more digits only when the price has them."""
    price = Decimal(micros) / MICROS
    return f"{price:.2f}" if price == round(price, 2) else f"{price.normalize():f}"


def amount_due(priced_units) -> str:
    """What (units, micro-dollars per 1,000 units) pairs cost together, in USD, rounded
    half-up to the cent once, at the end (exact: no cent is lost per window)."""
    amount = sum((Decimal(units) * micros for units, micros in priced_units), Decimal(0))
    return str((amount / (1000 * MICROS)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def effective_limits(key) -> dict:
    """The limits a key works under, and which of them are its own (``overridden``).
    ``key`` is an ApiKey or the key check's joined row: both have the same names."""
    limits = {field: getattr(key, field) if getattr(key, field) is not None
              else getattr(key, f"plan_{field}") for field in LIMITS}
    limits["overridden"] = [field for field in LIMITS if getattr(key, field) is not None]
    return limits


def snapshot(plan: Plan) -> dict:
    return {"name": plan.name, "daily_limit": plan.daily_limit, "rate_limit": plan.rate_limit,
            "price_per_1000_units": micros_to_price(plan.price_per_1000_units_micros)}


def list_plans() -> list[Plan]:
    """Cheapest first, then by daily limit: the order a plan review reads them in."""
    return db.session.scalars(select(Plan).order_by(
        Plan.price_per_1000_units_micros, Plan.daily_limit, Plan.id)).all()


def get_plan(plan_id: str) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise Problem(404, "not-found", f"No plan with id '{plan_id}'.")
    return plan


def create_plan(data: dict) -> Plan:
    """``data`` as loaded by schemas.PlanCreate (price already in micro-dollars)."""
    if db.session.get(Plan, data["id"]) is not None:
        raise Problem(409, "conflict", f"A plan with id '{data['id']}' already exists.")
    plan = Plan(**data)
    db.session.add(plan)
    audit.record("plan.create", plan.id, audit.diff({}, snapshot(plan)))
    db.session.commit()
    return plan


def update_plan(plan_id: str, changes: dict) -> Plan:
    """New limits apply to every key on the plan from its next call."""
    plan = get_plan(plan_id)
    before = snapshot(plan)
    for field, value in changes.items():
        setattr(plan, field, value)
    if changed := audit.diff(before, snapshot(plan)):  # nothing changed: nothing to record
        audit.record("plan.update", plan.id, changed)
    db.session.commit()
    return plan


def delete_plan(plan_id: str) -> None:
    plan = get_plan(plan_id)
    if db.session.scalar(select(exists().where(ApiKey.plan == plan_id))):
        raise Problem(409, "plan-in-use", f"Keys are on plan '{plan_id}'; move them to "
                      "another plan first.")
    audit.record("plan.delete", plan.id, audit.diff(snapshot(plan), {}))
    db.session.delete(plan)
    db.session.commit()  # the foreign key (RESTRICT) catches a key added meanwhile: 409
