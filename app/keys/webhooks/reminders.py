"""Time-based events, emitted by the delivery worker's loop (nothing else happens at the
moment they become due, so no request could emit them):

- ``key.expiring``: 7 days and 1 day before a key's expiry, once each (a key first seen
  with less than a day left gets only the 1-day one); a new expiry warns again.
- ``plan.suggestion``: the plan review's upgrade/downgrade suggestion for a key, at most
  once per key and suggestion per 7 days.

Several workers may run: on PostgreSQL one of them at a time looks (a transaction-level
advisory lock; the others skip this round), so the 7-day rule holds between them too."""
from datetime import timedelta

from sqlalchemy import select, text

from ...clock import now
from ...extensions import db
from .. import audit
from ..models import ApiKey
from ..plan_review import review
from .events import emit
from .models import WebhookEvent

WARN_DAYS = (7, 1)
SUGGESTION_EVERY = timedelta(days=7)
REVIEW_DAYS = 30
LOCK_ID = 0x5EB400C5  # this app's advisory lock number for "looking for reminders"


def emit_reminders() -> int:
    """Emit what is due now; return how many events were written."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and not connection.execute(
            text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": LOCK_ID}).scalar():
        db.session.rollback()
        return 0  # another worker is looking right now
    moment = now()
    written = _expiring(connection, moment) + _suggestions(connection, moment)
    db.session.commit()
    return written


def _expiring(connection, moment) -> int:
    keys = db.session.execute(select(ApiKey.id, ApiKey.owner, ApiKey.expires_at).where(
        ApiKey.revoked_at.is_(None), ApiKey.expires_at > moment,
        ApiKey.expires_at <= moment + timedelta(days=max(WARN_DAYS))))
    due = {}
    for key_id, owner, expires_at in keys:
        days_left = min(d for d in WARN_DAYS if expires_at - moment <= timedelta(days=d))
        once = f"key.expiring:{key_id}:{expires_at:%Y%m%dT%H%M%S}:{days_left}"
        due[once] = (key_id, owner, expires_at, days_left)
    if not due:
        return 0
    sent = set(db.session.scalars(select(WebhookEvent.once).where(WebhookEvent.once.in_(due))))
    written = 0
    for once, (key_id, owner, expires_at, days_left) in due.items():
        if once not in sent:
            written += emit(connection, "key.expiring", owner, key_id, moment, {
                "key_id": key_id, "owner": owner, "expires_at": audit.wire(expires_at),
                "days_left": days_left}, once=once) is not None
    return written


def _suggestions(connection, moment) -> int:
    suggestions = review(REVIEW_DAYS)["suggestions"]
    if not suggestions:
        return 0
    owners = dict(db.session.execute(select(ApiKey.id, ApiKey.owner).where(
        ApiKey.id.in_([s["key"] for s in suggestions]))).all())
    recent = set(db.session.scalars(select(WebhookEvent.once).where(
        WebhookEvent.type == "plan.suggestion",
        WebhookEvent.created_at > moment - SUGGESTION_EVERY)))
    written = 0
    for s in suggestions:
        subject = f"plan.suggestion:{s['key']}:{s['action']}:{s['suggested_plan']}"
        if any(once.startswith(subject + ":") for once in recent) or s["key"] not in owners:
            continue
        owner = owners[s["key"]]
        written += emit(connection, "plan.suggestion", owner, s["key"], moment, {
            "key_id": s["key"], "owner": owner, "plan": s["plan"],
            "suggested_plan": s["suggested_plan"], "action": s["action"],
            "reason": s["reason"]}, once=f"{subject}:{moment:%Y%m%dT%H%M%S%f}") is not None
    return written
