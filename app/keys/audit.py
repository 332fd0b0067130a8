"""The audit trail: who changed which key, plan or owner, when, from where, and what
changed. Over HTTP the actor is the calling key, recorded with its owner (organisation).

Every lifecycle service (lifecycle.py, plans.py) calls ``record`` before it commits, so the
event and the change land in one transaction: both or neither. Events are append-only
(models.AuditEvent refuses updates and deletes; so do triggers in the database) and hold
only public fields, never a secret or a hash (``SECRET_FIELDS`` is the guard)."""
import getpass
from datetime import date, datetime, time

from flask import g, has_request_context, request
from sqlalchemy import func, select

from ..clock import now
from ..extensions import db
from .models import AuditEvent

# Never written into an event, whatever a caller passes.
SECRET_FIELDS = frozenset({"secret_hash", "previous_secret_hash", "key"})


def actor() -> str:
    """``key:<id>`` over HTTP (the admin key that asked), ``cli:<os user>`` from the CLI."""
    if has_request_context() and g.get("caller") is not None:
        return f"key:{g.caller.id}"
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (some containers)
        return "cli:unknown"


def wire(value):
    """A value as JSON holds it: times as ISO 8601 UTC, sets as sorted lists."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value)
    return value


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for each public field whose value changed."""
    return {field: [wire(before.get(field)), wire(after.get(field))]
            for field in sorted(set(before) | set(after))
            if field not in SECRET_FIELDS and before.get(field) != after.get(field)}


def record(action: str, target: str, changes: dict) -> AuditEvent:
    """Add one event to the current transaction; the caller's commit writes both."""
    in_request = has_request_context()
    caller = g.get("caller") if in_request else None
    event = AuditEvent(
        at=now(), actor=actor(), actor_owner=caller.owner if caller is not None else None,
        action=action, target=target,
        changes={k: v for k, v in changes.items() if k not in SECRET_FIELDS},
        request_id=g.get("request_id") if in_request else None,
        ip=request.remote_addr if in_request else None)
    db.session.add(event)
    return event


def list_events(target: str | None = None, action: str | None = None,
                since: date | None = None, page: int = 1, per_page: int = 50) -> dict:
    """Newest first; ``since`` is a UTC day (events from its midnight on)."""
    stmt = select(AuditEvent)
    if target:
        stmt = stmt.where(AuditEvent.target == target)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(since, time.min))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    events = db.session.scalars(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                .limit(per_page).offset((page - 1) * per_page)).all()
    return {"data": events, "page": page, "per_page": per_page, "total": total}
