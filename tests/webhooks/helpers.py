"""Shared steps of the webhook tests."""
from sqlalchemy import select

from app.extensions import db
from app.keys.webhooks.models import WebhookEvent

ALL_EVENTS = ["quota.threshold", "key.expiring", "key.rotated", "key.revoked",
              "plan.suggestion"]


def subscribe(client, key, url, events=ALL_EVENTS, **body):
    """Create a webhook endpoint over HTTP -> (id, secret)."""
    response = client.post("/v1/webhooks", headers={"X-API-Key": key},
                           json={"url": url, "events": events, **body})
    assert response.status_code == 201, response.json
    return response.json["id"], response.json["secret"]


def events_of(app, event_type=None):
    with app.app_context():
        stmt = select(WebhookEvent).order_by(WebhookEvent.id)
        if event_type:
            stmt = stmt.where(WebhookEvent.type == event_type)
        return [(event.type, event.data) for event in db.session.scalars(stmt)]
