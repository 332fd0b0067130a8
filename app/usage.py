"""Usage for billing, quotas and troubleshooting, read from the metering tables."""
import csv
import io
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from .clock import now
from .extensions import db
from .models import ApiKey, Usage

COUNTERS = ("calls", "units", "status_2xx", "status_3xx", "status_4xx", "status_5xx",
            "status_403", "status_429")
# Billing: price per 1,000 billable units by plan, in USD cents (documented in README).
PLAN_CENTS_PER_1000_UNITS = {"free": 0, "partner": 50, "enterprise": 30, "internal": 0}


def daily_usage(start: date, end: date, key_id: str | None = None) -> list[dict]:
    """One row per key, UTC day and endpoint between start and end (inclusive)."""
    day = func.date(Usage.hour)
    stmt = (select(Usage.key_id, day.label("day"), Usage.endpoint,
                   *[func.sum(getattr(Usage, c)).label(c) for c in COUNTERS])
            .where(Usage.hour >= datetime.combine(start, datetime.min.time()),
                   Usage.hour < datetime.combine(end + timedelta(days=1), datetime.min.time()))
            .group_by(Usage.key_id, day, Usage.endpoint)
            .order_by(day, Usage.key_id, Usage.endpoint))
    if key_id is not None:
        stmt = stmt.where(Usage.key_id == key_id)
    return [{"key_id": row.key_id, "day": str(row.day)[:10], "endpoint": row.endpoint,
             **{c: int(getattr(row, c)) for c in COUNTERS}}
            for row in db.session.execute(stmt)]


def billing_summary(start: date, end: date) -> list[dict]:
    """Per key: plan, calls, units and the amount due at the plan's unit price."""
    totals = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in daily_usage(start, end):
        for counter in COUNTERS:
            totals[row["key_id"]][counter] += row[counter]
    keys = {k.id: k for k in db.session.scalars(select(ApiKey).where(ApiKey.id.in_(totals)))}
    summary = []
    for key_id, counts in sorted(totals.items()):
        key = keys.get(key_id)
        plan = key.plan if key else "deleted"
        cents = counts["units"] * PLAN_CENTS_PER_1000_UNITS.get(plan, 0) / 1000
        summary.append({"key_id": key_id, "name": key.name if key else None,
                        "owner": key.owner if key else None, "plan": plan,
                        "calls": counts["calls"], "units": counts["units"],
                        "amount_usd": f"{cents / 100:.2f}"})
    return summary


def as_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# --- anomaly flags ------------------------------------------------------------------

SPIKE_FACTOR, SPIKE_MIN_CALLS = 5, 50
ERROR_RATIO, ERROR_MIN_CALLS = 0.5, 20
FORBIDDEN_BURST = 10


def anomalies() -> list[dict]:
    """Flags per key for the current UTC hour against the key's own previous 7 days."""
    current = now().replace(minute=0, second=0, microsecond=0)
    since = current - timedelta(days=7)
    hours = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))  # key -> hour -> counts
    for row in db.session.execute(
            select(Usage.key_id, Usage.hour, func.sum(Usage.calls),
                   func.sum(Usage.status_4xx + Usage.status_5xx), func.sum(Usage.status_403))
            .where(Usage.hour >= since).group_by(Usage.key_id, Usage.hour)):
        hours[row[0]][row[1]] = [int(row[2]), int(row[3]), int(row[4])]

    flags = []
    for key_id, by_hour in sorted(hours.items()):
        calls, errors, forbidden = by_hour.get(current, [0, 0, 0])
        past = [counts for hour, counts in by_hour.items() if hour < current]
        baseline = sum(c[0] for c in past) / (7 * 24)  # hours without calls count as zero
        past_calls = sum(c[0] for c in past)
        past_ratio = sum(c[1] for c in past) / past_calls if past_calls else 0.0
        if calls >= SPIKE_MIN_CALLS and calls > SPIKE_FACTOR * baseline:
            flags.append(_flag(key_id, "traffic-spike", f"{calls} calls this hour against a "
                               f"7-day average of {baseline:.1f} per hour."))
        if calls >= ERROR_MIN_CALLS and errors / calls >= ERROR_RATIO > past_ratio:
            flags.append(_flag(key_id, "error-spike", f"{errors} of {calls} calls failed this "
                               f"hour ({errors / calls:.0%}) against {past_ratio:.0%} before."))
        if forbidden >= FORBIDDEN_BURST:
            flags.append(_flag(key_id, "forbidden-burst", f"{forbidden} calls refused with 403 "
                               "this hour: a misconfigured client, or someone probing beyond "
                               "the key's scopes and restrictions."))
    return flags


def _flag(key_id: str, kind: str, explanation: str) -> dict:
    return {"key_id": key_id, "flag": kind, "explanation": explanation}
