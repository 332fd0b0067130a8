"""Webhook input and output."""
import marshmallow as ma
from marshmallow import fields, validate

from ...schemas import Pattern, StrictSchema, UtcDateTime, page_schema, text
from ..schemas import JsonBoolean
from .events import EVENT_TYPES

URL = [validate.Length(min=9, max=2000),
       Pattern(r"^https?://[^\s\u0000]+$", error="Give an https:// URL.")]
URL_RULES = ("https only, to a public address (a name is resolved: every address must be "
             "public; loopback, private, link-local, multicast and reserved ones are "
             "refused with 422), unless the server sets WEBHOOK_ALLOW_PRIVATE=true")


def events(**kwargs) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)),
                       validate=validate.Length(min=1, max=len(EVENT_TYPES) * 2),
                       metadata={"description": "the event types to receive"}, **kwargs)


class WebhookCreate(StrictSchema):
    url = fields.String(required=True, validate=URL, metadata={"description": URL_RULES})
    events = events(required=True)
    owner = text(max=120, metadata={
        "description": "whose keys' events (admin only; default: the calling key's owner)"})


class WebhookChanges(StrictSchema):
    url = fields.String(validate=URL, metadata={"description": URL_RULES})
    events = events()
    disabled = JsonBoolean(metadata={"description": "false enables a disabled endpoint again"})


class WebhookSchema(ma.Schema):
    id = fields.String(required=True, metadata={"example": "wh_3fK9aQ2mR7tY1uI0"})
    owner = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.Function(lambda endpoint: endpoint.events.split(","), required=True,
                             metadata={"type": "array", "items": {"type": "string"}})
    created_at = UtcDateTime(required=True)
    disabled_at = UtcDateTime(required=True, allow_none=True, metadata={
        "description": "when it was disabled (by hand, or after 5 days of failures)"})


class NewWebhookSchema(WebhookSchema):
    secret = fields.String(required=True, attribute="plain_secret", metadata={
        "description": "whsec_ + base64: verifies the webhook-signature header; shown in "
                       "this answer only"})


class DeliverySchema(ma.Schema):
    id = fields.Integer(required=True)
    event_type = fields.String(required=True, attribute="event.type")
    webhook_id = fields.Function(lambda d: f"msg_{d.event_id}", required=True, metadata={
        "type": "string", "description": "the webhook-id header, the same on every attempt"})
    status = fields.String(required=True, metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True, metadata={
        "description": "why the last attempt failed (no answer in time, could not "
                       "connect, answered 500, ...)"})
    next_attempt_at = UtcDateTime(required=True, allow_none=True)
    delivered_at = UtcDateTime(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)


WebhookPage = page_schema(WebhookSchema, "WebhookPage")
DeliveryPage = page_schema(DeliverySchema, "DeliveryPage")
