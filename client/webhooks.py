"""Is this request really a webhook from the Store Price API? One answer for every receiver
in this client: ``python -m client alerts`` (alerts.py) and the web app's
``POST /webhooks/storeprice`` (operator.py).

The API signs each delivery per Standard Webhooks, and the ``standardwebhooks`` package
checks it: ``webhook-signature`` must be the HMAC-SHA256 of ``id.timestamp.body`` under the
endpoint's secret (the ``whsec_...`` shown once when the endpoint was created), and
``webhook-timestamp`` within five minutes of now, so a recorded delivery cannot be replayed
later. Anything else is ``Rejected``. The secret never appears in a message or a log line.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import (
    EmptyWebhookSecretError,
    Webhook,
    WebhookVerificationError,
)

from .errors import ConfigurationError

SECRET_VARIABLE = "STOREPRICE_WEBHOOK_SECRET"
MAX_BODY = 64 * 1024   # bytes; the API's events are a few hundred


class Rejected(Exception):
    """The request is not a delivery from the API (forged, altered, replayed or garbled)."""


def verifier(secret: str) -> Webhook:
    """The checker for one endpoint's secret; ConfigurationError if it is not a whsec_ value."""
    try:
        return Webhook(secret.strip())
    except (ValueError, TypeError, RuntimeError, EmptyWebhookSecretError):
        raise ConfigurationError("the webhook secret is not a whsec_... value") from None


def verify(webhook: Webhook, body: bytes, headers: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """``(webhook-id, event)`` of a genuine delivery, the event ``{"type", "timestamp",
    "data"}`` as the API sent it; raises Rejected otherwise. ``body`` is the raw body,
    byte for byte: the signature covers exactly those bytes."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        event = webhook.verify(body, lowered)
    except (WebhookVerificationError, ValueError):  # ValueError: verified but not JSON
        raise Rejected("the signature does not verify") from None
    if not isinstance(event, dict):
        raise Rejected("the event is not a JSON object")
    return lowered["webhook-id"], event
