"""Adjusting plans from usage: "analyze the usage statistics of each key to adjust the
quotas of different plans".

For a window of N UTC days ending today, per plan: its keys, their calls, billable units,
revenue (what those units were billed, each at the price it was metered at, as in the
billing report), the share of key-days that hit the daily limit, and p50/p95 of daily use
as a fraction of the limit. Per key, a suggestion when the numbers say so:
- ``upgrade``: it hit its daily limit on at least ``UPGRADE_DAYS`` days of the window;
- ``downgrade``: its p95 daily use fits in a cheaper plan's limit at <= 50 %.

Daily use is what the daily quota counted (``daily_quota.used``: admitted calls), over
the key-days since the key was created. Only active keys get suggestions; deleted keys
have no plan any more and are left out. The statistics below ``review`` are pure
functions of plain values, so tests can feed them any history."""
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from ..clock import now
from ..extensions import db
from .lifecycle import status
from .models import ApiKey, DailyQuota, Usage
from .plans import amount_due, effective_limits, list_plans, micros_to_price
from .usage import units_by_price

UPGRADE_DAYS = 3          # days at the limit in the window that suggest an upgrade
DOWNGRADE_HEADROOM = 0.5  # p95 daily use must fit in a cheaper plan at this share


@dataclass(frozen=True)
class PlanTerms:
    id: str
    daily_limit: int
    price_micros: int


@dataclass(frozen=True)
class KeyHistory:
    key_id: str
    plan: str
    daily_limit: int           # effective: the key's override or its plan's
    daily_use: tuple[int, ...]  # admitted calls per key-day in the window, zeros included
    calls: int = 0
    units: int = 0
    active: bool = True
    # (units, micro-dollars per 1,000 units) as billed: a price change or a plan move
    # in the window bills each part at its own price.
    priced_units: tuple[tuple[int, int], ...] = ()


def percentile(values, share: float) -> float:
    """Nearest-rank percentile (0 for no values): the smallest value with at least
    ``share`` of the values at or below it. Deterministic, no interpolation."""
    ordered = sorted(values)
    if not ordered:
        return 0
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def days_at_limit(history: KeyHistory) -> int:
    return sum(1 for used in history.daily_use if used >= history.daily_limit)


def plan_figures(plan: PlanTerms, histories: list[KeyHistory]) -> dict:
    fractions = [used / h.daily_limit for h in histories for used in h.daily_use]
    at_limit = sum(days_at_limit(h) for h in histories)
    units = sum(h.units for h in histories)
    return {"plan": plan.id, "keys": len(histories), "calls": sum(h.calls for h in histories),
            "units": units,
            "revenue": amount_due(pair for h in histories for pair in h.priced_units),
            "days_at_limit_share": round(at_limit / len(fractions), 4) if fractions else 0.0,
            "p50_daily_use": round(percentile(fractions, 0.50), 4),
            "p95_daily_use": round(percentile(fractions, 0.95), 4)}


def suggestion(history: KeyHistory, plans: list[PlanTerms], days: int) -> dict | None:
    """``upgrade``, ``downgrade`` or None for one key; ``plans`` in any order."""
    if not history.active:
        return None
    current = next(p for p in plans if p.id == history.plan)
    hits = days_at_limit(history)
    if hits >= UPGRADE_DAYS:
        bigger = sorted((p for p in plans
                         if p.id != current.id and p.daily_limit > history.daily_limit),
                        key=lambda p: (p.price_micros, p.daily_limit, p.id))
        target = bigger[0] if bigger else None
        reason = (f"It hit its daily limit of {history.daily_limit} calls on {hits} of the "
                  f"last {days} days; " + (
                      f"plan '{target.id}' allows {target.daily_limit} a day." if target else
                      "no plan allows more, so consider a daily_limit override."))
        return _suggest(history, "upgrade", target, reason)
    p95 = percentile(history.daily_use, 0.95)
    cheaper = sorted((p for p in plans if p.price_micros < current.price_micros
                      and p95 <= DOWNGRADE_HEADROOM * p.daily_limit),
                     key=lambda p: (p.price_micros, p.daily_limit, p.id))
    if cheaper:
        target = cheaper[0]
        reason = (f"On its busiest days (p95) it used {p95} calls, "
                  f"{p95 / target.daily_limit:.0%} of the {target.daily_limit} a day of plan "
                  f"'{target.id}', which costs ${micros_to_price(target.price_micros)} "
                  f"instead of ${micros_to_price(current.price_micros)} per 1,000 units.")
        return _suggest(history, "downgrade", target, reason)
    return None


def _suggest(history, action, target, reason) -> dict:
    return {"key": history.key_id, "plan": history.plan, "action": action,
            "suggested_plan": target.id if target else None, "reason": reason}


def analyse(plans: list[PlanTerms], histories: list[KeyHistory], days: int) -> dict:
    """The whole review from plain values: figures per plan, suggestions per key."""
    figures = [plan_figures(p, [h for h in histories if h.plan == p.id]) for p in plans]
    suggestions = [s for h in sorted(histories, key=lambda h: h.key_id)
                   if (s := suggestion(h, plans, days)) is not None]
    return {"days": days, "plans": figures, "suggestions": suggestions}


# --- reading the database ----------------------------------------------------------------

def review(days: int = 30) -> dict:
    """The plan review for the ``days`` UTC days ending today."""
    today = now().date()
    start = today - timedelta(days=days - 1)
    plans = [PlanTerms(p.id, p.daily_limit, p.price_per_1000_units_micros)
             for p in list_plans()]
    used = {(row.key_id, row.day): row.used for row in db.session.execute(
        select(DailyQuota.key_id, DailyQuota.day, func.sum(DailyQuota.used).label("used"))
        .where(DailyQuota.day >= start, DailyQuota.day <= today)
        .group_by(DailyQuota.key_id, DailyQuota.day))}
    totals = _usage_totals(start, today)
    priced = units_by_price(start, today)
    histories = []
    for key in db.session.scalars(select(ApiKey)):
        first = max(start, key.created_at.date())
        key_days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
        calls, units = totals.get(key.id, (0, 0))
        histories.append(KeyHistory(
            key.id, key.plan, effective_limits(key)["daily_limit"],
            tuple(used.get((key.id, day), 0) for day in key_days), calls, units,
            active=status(key) == "active", priced_units=tuple(priced.get(key.id, ()))))
    return analyse(plans, histories, days)


def _usage_totals(start: date, end: date) -> dict[str, tuple[int, int]]:
    rows = db.session.execute(
        select(Usage.key_id, func.sum(Usage.calls), func.sum(Usage.units))
        .where(Usage.hour >= _midnight(start), Usage.hour < _midnight(end + timedelta(days=1)))
        .group_by(Usage.key_id))
    return {key_id: (int(calls), int(units)) for key_id, calls, units in rows}


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)
