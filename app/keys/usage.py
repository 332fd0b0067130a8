"""Usage reports ("monitor usage"): per key, UTC day and endpoint, for billing and plan
review, read from the rows that metering.py writes."""
import csv
import io
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..extensions import db
from .models import ApiKey, Plan, Usage
from .plans import revenue

COUNTERS = ("calls", "units", "status_2xx", "status_3xx", "status_4xx", "status_5xx",
            "status_403", "status_429")


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
    """Per key: plan, calls, units and the amount due at the plan's unit price (read from
    the plans table; a deleted key's usage is listed, priced at nothing)."""
    totals = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in daily_usage(start, end):
        for counter in COUNTERS:
            totals[row["key_id"]][counter] += row[counter]
    keys = {k.id: k for k in db.session.scalars(select(ApiKey).where(ApiKey.id.in_(totals)))}
    prices = dict(db.session.execute(select(Plan.id, Plan.price_per_1000_units_micros)).all())
    summary = []
    for key_id, counts in sorted(totals.items()):
        key = keys.get(key_id)
        plan = key.plan if key else "deleted"
        summary.append({"key_id": key_id, "name": key.name if key else None,
                        "owner": key.owner if key else None, "plan": plan,
                        "calls": counts["calls"], "units": counts["units"],
                        "amount_usd": revenue(counts["units"], prices.get(plan, 0))})
    return summary


def as_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
