"""Usage reports ("monitor usage"): per key, UTC day and endpoint, for billing and plan
review, read from the rows that metering.py writes.

Reconciliation: per key and day, the sum of ``admitted`` equals ``daily_quota.used``
(``today.used`` in ``GET /v1/key``) exactly; ``units`` are what is billed (2xx answers
produced), ``incomplete`` the admitted calls without a produced answer."""
import csv
import io
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..extensions import db
from .metering import COUNTERS  # calls, admitted, units, incomplete, status classes
from .models import ApiKey, AuditEvent, Usage
from .plans import amount_due


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
    """Per key: plan (its plan now), calls, admitted, incomplete, units and the amount due,
    each usage row priced at the unit price it was metered at: a later plan move or price
    change never changes a past window's bill, and a window that spans a change is billed
    part at each price. A deleted key's usage is billed too: its name, owner and plan come
    from the audit event that deleted it (``deleted``: true)."""
    totals = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in daily_usage(start, end):
        for counter in COUNTERS:
            totals[row["key_id"]][counter] += row[counter]
    keys = {k.id: {"name": k.name, "owner": k.owner, "plan": k.plan, "deleted": False}
            for k in db.session.scalars(select(ApiKey).where(ApiKey.id.in_(totals)))}
    keys.update(_deleted_keys(set(totals) - set(keys)))
    priced = units_by_price(start, end)
    summary = []
    for key_id, counts in sorted(totals.items()):
        key = keys.get(key_id, {"name": None, "owner": None, "plan": "deleted",
                                "deleted": True})
        summary.append({"key_id": key_id, **key,
                        "calls": counts["calls"], "admitted": counts["admitted"],
                        "incomplete": counts["incomplete"], "units": counts["units"],
                        "amount_usd": amount_due(priced.get(key_id, ()))})
    return summary


def units_by_price(start: date, end: date) -> dict[str, list[tuple[int, int]]]:
    """Per key, its billed units at each unit price they were metered at."""
    rows = db.session.execute(
        select(Usage.key_id, Usage.price_per_1000_units_micros, func.sum(Usage.units))
        .where(Usage.hour >= datetime.combine(start, datetime.min.time()),
               Usage.hour < datetime.combine(end + timedelta(days=1), datetime.min.time()))
        .group_by(Usage.key_id, Usage.price_per_1000_units_micros))
    priced = defaultdict(list)
    for key_id, micros, units in rows:
        priced[key_id].append((int(units), micros))
    return priced


def _deleted_keys(key_ids: set[str]) -> dict[str, dict]:
    """What deleted keys were, from the events that deleted them: a deletion records every
    public field as [before, None] (lifecycle.delete_key, prune_keys, the demo re-issue)."""
    if not key_ids:
        return {}
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.target.in_(key_ids), AuditEvent.action.in_(("key.delete", "key.prune")))
        .order_by(AuditEvent.id))
    found = {}
    for event in events:  # the latest deletion of an id wins
        before = {field: change[0] for field, change in event.changes.items()
                  if isinstance(change, list) and change}
        if before.get("plan"):
            found[event.target] = {"name": before.get("name"),
                                   "owner": before.get("owner") or "",
                                   "plan": before["plan"], "deleted": True}
    return found


USAGE_COLUMNS = ("key_id", "day", "endpoint", *COUNTERS)  # daily_usage's rows, in order


def as_csv(rows: list[dict], columns: tuple[str, ...] = USAGE_COLUMNS) -> str:
    """Rows (daily_usage's, unless other `columns` are named) as CSV, with the header
    line even when there are none: an empty window is still a report a spreadsheet opens."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else columns,
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
