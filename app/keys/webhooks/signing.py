"""Signing per Standard Webhooks (standardwebhooks.com): every request carries
``webhook-id`` (the event's, the same on every retry, so a receiver can deduplicate),
``webhook-timestamp`` (epoch seconds of this attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``). The ``standardwebhooks`` package
signs here and verifies on the receiver's side: nothing is hand-rolled."""
import base64
import json
import secrets
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

SECRET_BYTES = 24


def new_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes (192 bits), as Standard Webhooks writes it."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def webhook_id(event_id: int) -> str:
    return f"msg_{event_id}"


def body(event_type: str, created_at: datetime, data: dict) -> str:
    """The event as sent: ``{"type", "timestamp", "data"}``, timestamp in ISO 8601 UTC."""
    moment = created_at.replace(tzinfo=timezone.utc) if created_at.tzinfo is None else created_at
    return json.dumps({"type": event_type,
                       "timestamp": moment.isoformat().replace("+00:00", "Z"),
                       "data": data}, separators=(",", ":"))


def signed_headers(secret: str, message_id: str, moment: datetime, payload: str) -> dict:
    timestamp = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    return {"webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, timestamp, payload),
            "Content-Type": "application/json"}
