"""Webhook endpoints and their deliveries, as the HTTP API manages them.

Whose: a key with scope ``keys`` manages its own owner's (organisation's) endpoints; an
``admin`` key any owner's, naming it in the body. An endpoint of another owner is
answered as if it did not exist (404), so ids do not leak. The signing secret is made
here and returned once, at creation; what is stored is sealed (sealing.py)."""
import re
import secrets
import string

from flask import g
from sqlalchemy import delete, func, select

from ...clock import now
from ...errors import Problem
from ...extensions import db
from .models import WebhookDelivery, WebhookEndpoint
from .sealing import seal
from .settings import allow_private, setting
from .signing import new_secret
from .urls import UnsafeUrl, check_url

ID_ALPHABET = string.ascii_letters + string.digits
ID_PATTERN = r"^wh_[0-9A-Za-z]{16}$"
DELIVERY_ID_PATTERN = r"^[0-9]{1,9}$"  # within every database's integer


def _is_admin() -> bool:
    return "admin" in g.caller.scopes


def owner_for(requested: str | None) -> str:
    """The owner a new endpoint belongs to: the caller's, or (admin only) the one named."""
    if requested is None or requested == g.caller.owner:
        return g.caller.owner
    if _is_admin():
        return requested
    raise Problem(403, "exceeds-own-bounds", "A key with scope keys manages its own "
                  "owner's webhooks only; naming another owner needs admin.",
                  key_id=g.caller.id, violated=[f"owner:{requested}"])


def _safe_url(url: str) -> str:
    try:
        check_url(url, allow_private())
    except UnsafeUrl as refused:
        raise Problem(422, "validation-error", str(refused), errors={"url": [str(refused)]})
    return url


def _visible():
    stmt = select(WebhookEndpoint)
    return stmt if _is_admin() else stmt.where(WebhookEndpoint.owner == g.caller.owner)


def create(url: str, events: list[str], owner: str | None = None) -> WebhookEndpoint:
    """The new endpoint, with its signing secret as ``plain_secret`` (never stored: the
    row holds it sealed) for the one answer that shows it."""
    secret = new_secret()
    endpoint = WebhookEndpoint(
        id="wh_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(16)),
        owner=owner_for(owner), url=_safe_url(url), events=",".join(sorted(set(events))),
        secret=seal(secret, setting("WEBHOOK_SECRET_KEYS")), created_at=now())
    db.session.add(endpoint)
    db.session.commit()
    endpoint.plain_secret = secret
    return endpoint


def list_endpoints(page: int = 1, per_page: int = 50) -> dict:
    stmt = _visible()
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return {"data": rows, "page": page, "per_page": per_page, "total": total}


def get(webhook_id: str) -> WebhookEndpoint:
    endpoint = db.session.scalar(_visible().where(WebhookEndpoint.id == webhook_id))
    if endpoint is None:
        raise Problem(404, "not-found", f"No webhook with id '{webhook_id}'.")
    return endpoint


def update(webhook_id: str, changes: dict) -> WebhookEndpoint:
    endpoint = get(webhook_id)
    if "url" in changes:
        endpoint.url = _safe_url(changes["url"])
    if "events" in changes:
        endpoint.events = ",".join(sorted(set(changes["events"])))
    if "disabled" in changes:
        if changes["disabled"] and endpoint.disabled_at is None:
            endpoint.disabled_at = now()
        elif not changes["disabled"]:  # enabled again: failures count from scratch
            endpoint.disabled_at = endpoint.failing_since = None
    db.session.commit()
    return endpoint


def remove(webhook_id: str) -> None:
    endpoint = get(webhook_id)
    # Its deliveries go with it (also where the database does not enforce the cascade).
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.commit()


def list_deliveries(webhook_id: str, page: int = 1, per_page: int = 50) -> dict:
    endpoint = get(webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(WebhookDelivery.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return {"data": rows, "page": page, "per_page": per_page, "total": total}


def retry(webhook_id: str, delivery_id: str) -> WebhookDelivery:
    """Due again now, whatever its state: the next worker round sends it (same webhook-id)."""
    endpoint = get(webhook_id)
    delivery = None
    if re.fullmatch(DELIVERY_ID_PATTERN, delivery_id):
        delivery = db.session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.id == int(delivery_id), WebhookDelivery.endpoint_id == endpoint.id)
            .with_for_update(of=WebhookDelivery))
    if delivery is None:
        raise Problem(404, "not-found", f"No delivery {delivery_id} of webhook '{webhook_id}'.")
    delivery.status, delivery.next_attempt_at, delivery.delivered_at = "pending", now(), None
    db.session.commit()
    return delivery
