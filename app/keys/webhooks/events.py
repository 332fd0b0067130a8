"""Emitting events into the outbox (a transactional outbox): each event row, and a
delivery row per subscribed endpoint, is written on the connection and in the
transaction of the change that causes it. The change commits with its event or rolls
back with it: no event is lost, none is invented. The delivery worker sends them later.

``once`` makes "exactly one" hold under any concurrency: the event's INSERT is
``ON CONFLICT (once) DO NOTHING``, so of two transactions that both decide to emit the
same threshold, the second writes nothing (it waits for the first on the unique index)."""
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

EVENT_TYPES = ("quota.threshold", "key.expiring", "key.rotated", "key.revoked",
               "plan.suggestion")
THRESHOLDS = (80, 90, 100)  # percent of the daily limit


def thresholds_crossed(used: int, daily_limit: int) -> list[int]:
    """The thresholds this admission crosses: it took the day's count from ``used - 1``
    to ``used``. Counts only go up, one admission at a time, so each threshold is crossed
    by exactly one admission a day. Integer arithmetic: no rounding at 90 % of 7."""
    before = used - 1
    return [t for t in THRESHOLDS if used * 100 >= t * daily_limit > before * 100]


def thresholds_reached(used: int, daily_limit: int) -> list[int]:
    """Every threshold the day's count has reached."""
    return [t for t in THRESHOLDS if used * 100 >= t * daily_limit]


def emit_quota_thresholds(connection, caller, moment: datetime, used: int,
                          sharded: bool = False) -> None:
    """Called by the daily quota (limits.py) inside the admission's transaction, with the
    day's new count. Costs nothing unless a threshold is crossed.

    With quota shards (shards.py) the day's count is a sum over rows that other calls
    update at the same moment, so no single admission can be sure it crossed a threshold:
    every admission past one emits it, and ``once`` keeps the first."""
    crossed = thresholds_reached if sharded else thresholds_crossed
    for threshold in crossed(used, caller.daily_limit):
        _emit_threshold(connection, caller, moment, threshold, used)


def emit_quota_reached(connection, caller, moment: datetime) -> None:
    """A call refused because every quota shard is full (shards.py): the 100 % event, in
    case the admissions that filled the last shards each counted before the others had
    committed and none saw the whole limit."""
    _emit_threshold(connection, caller, moment, 100, caller.daily_limit)


def _emit_threshold(connection, caller, moment: datetime, threshold: int, used: int):
    day = moment.date().isoformat()
    emit(connection, "quota.threshold", caller.owner, caller.id, moment, {
        "key_id": caller.id, "owner": caller.owner, "day": day, "threshold": threshold,
        "used": used, "daily_limit": caller.daily_limit,
    }, once=f"quota.threshold:{caller.id}:{day}:{threshold}")


def emit(connection, event_type: str, owner: str, key_id: str | None, moment: datetime,
         data: dict, once: str | None = None) -> int | None:
    """Write one event and its deliveries on ``connection`` (the caller commits). Returns
    the event's id, or None when ``once`` was emitted already."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    event_id = connection.execute(
        dialect.insert(WebhookEvent)
        .values(type=event_type, owner=owner, key_id=key_id, once=once, data=data,
                created_at=moment)
        .on_conflict_do_nothing(index_elements=["once"])
        .returning(WebhookEvent.id)).scalar()
    if event_id is None:
        return None
    subscribed = literal(",", String) + WebhookEndpoint.events + ","  # ",a,b," LIKE "%,a,%"
    connection.execute(insert(WebhookDelivery).from_select(
        ["event_id", "endpoint_id", "status", "attempts", "next_attempt_at", "created_at"],
        select(literal(event_id, Integer), WebhookEndpoint.id, literal("pending", String),
               literal(0, Integer), literal(moment, DateTime), literal(moment, DateTime))
        .where(WebhookEndpoint.owner == owner, WebhookEndpoint.disabled_at.is_(None),
               subscribed.like(f"%,{event_type},%"))))
    return event_id


def emit_in_session(session, event_type: str, owner: str, key_id: str | None,
                    moment: datetime, data: dict, once: str | None = None) -> int | None:
    """The same in an ORM session's transaction (lifecycle.py: rotate, revoke)."""
    return emit(session.connection(), event_type, owner, key_id, moment, data, once)
