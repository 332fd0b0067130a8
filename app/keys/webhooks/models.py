"""The webhook tables: endpoints (where an owner wants to hear), events (the outbox: one
row per thing that happened, written in the transaction of the change that caused it) and
deliveries (one per event and subscribed endpoint, with its attempts)."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...clock import utcnow
from ...extensions import db


class WebhookEndpoint(db.Model):
    """An owner's receiver: a URL, the event types it wants, and the secret that signs
    what it is sent. Signing (HMAC) needs the secret back, so it cannot be hashed like a
    key: it is stored sealed with WEBHOOK_SECRET_KEYS (sealing.py), or as it is without
    them; it is shown once, at creation."""
    __tablename__ = "webhook_endpoints"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # "wh_" + 16 base62
    owner: Mapped[str] = mapped_column(String(120), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(String(200))  # "key.revoked,quota.threshold"
    secret: Mapped[str] = mapped_column(String(300))  # "fernet:..." sealed, or "whsec_..."
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]
    # When the current run of failures began (NULL after a success): after
    # WEBHOOK_DISABLE_AFTER of nothing but failures the endpoint is disabled.
    failing_since: Mapped[datetime | None]


class WebhookEvent(db.Model):
    """The outbox. ``once`` names what may happen only once ("quota.threshold:<key>:<day>:80");
    its unique constraint makes a second writer's INSERT do nothing, under any concurrency."""
    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("once", name="uq_webhook_events_once"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(120))
    key_id: Mapped[str | None] = mapped_column(String(16), index=True)  # no FK: history
    once: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]


class WebhookDelivery(db.Model):
    """One event to one endpoint: ``pending`` until a 2xx (``delivered``) or the last
    retry (``failed``). ``webhook-id`` is the event's, so it is the same on every attempt."""
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_events.id", name="fk_webhook_deliveries_event", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", name="fk_webhook_deliveries_endpoint",
                   ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)  # started, including a running one
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Pending: when it is due (a claimed one: when its claim lapses). Otherwise NULL.
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    event: Mapped[WebhookEvent] = relationship(lazy="joined", innerjoin=True)
    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined", innerjoin=True)
