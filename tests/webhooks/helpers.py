"""Shared steps and fixtures of the webhook tests (a test module imports the fixtures it
uses by name: ``from helpers import hooks_app, receiver``)."""
import pytest
from receiver import Receiver
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


@pytest.fixture
def receiver():
    """A real HTTP receiver on a free port, recording what it is sent."""
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def hooks_app(app):
    """The app, delivering to local receivers on a short schedule (1 s between tries)."""
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_RETRY_SCHEDULE="1,1,1",
                      WEBHOOK_TIMEOUT=1)
    return app
