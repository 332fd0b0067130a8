"""The webhook endpoints under /v1/webhooks (scope ``keys``: the caller's own owner;
``admin``: any owner). See endpoints.py for the rules, events.py for what is sent."""
from ...blueprint import Blueprint
from ...openapi import describe_path_parameter
from ...schemas import PageArgs
from ..openapi import keyed_operation
from ..scope import requires
from . import endpoints
from .schemas import (
    DeliveryPage,
    DeliverySchema,
    NewWebhookSchema,
    WebhookChanges,
    WebhookCreate,
    WebhookPage,
    WebhookSchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks",
                description="Signed webhooks: quota thresholds, expiring, rotated and "
                            "revoked keys, plan suggestions")
# {id}, as the routes are short: usage rows name the route template in 60 characters.
describe_path_parameter("id", "The webhook endpoint's id (wh_...).",
                        pattern=endpoints.ID_PATTERN)
describe_path_parameter("delivery_id", "The delivery's id, from the deliveries listing.",
                        pattern=endpoints.DELIVERY_ID_PATTERN)


@blp.route("", methods=["POST"])
@blp.arguments(WebhookCreate)
@blp.response(201, NewWebhookSchema)
@keyed_operation(blp, 422)
@requires("keys")
def create_webhook(data):
    """Subscribe a URL to events; the signing secret is in this response only.

    Events for the calling key's owner (an admin key may name another `owner`) are POSTed
    to `url`, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`; verify them with the `secret`). The URL must be https and
    resolve to public addresses only (422 otherwise), unless the server sets
    WEBHOOK_ALLOW_PRIVATE=true. Naming another owner without admin is a 403.
    """
    return endpoints.create(**data)


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, WebhookPage)
@keyed_operation(blp, 422)
@requires("keys")
def list_webhooks(args):
    """List webhook endpoints.

    Your owner's endpoints (all owners' for an admin key), oldest first. Secrets never
    appear.
    """
    return endpoints.list_endpoints(**args)


@blp.route("/<id>", methods=["GET"])
@blp.response(200, WebhookSchema)
@keyed_operation(blp, 404)
@requires("keys")
def show_webhook(id):
    """Show one webhook endpoint.

    Another owner's endpoint answers 404 (unless the key is admin).
    """
    return endpoints.get(id)


@blp.route("/<id>", methods=["PATCH"])
@blp.arguments(WebhookChanges)
@blp.response(200, WebhookSchema)
@keyed_operation(blp, 404, 422)
@requires("keys")
def update_webhook(data, id):
    """Change a webhook endpoint's URL or events, or disable or enable it.

    Changes only the fields sent. A new URL is checked as on create (422). `"disabled":
    false` enables an endpoint disabled after 5 days of failures; its pending deliveries
    are then sent.
    """
    return endpoints.update(id, data)


@blp.route("/<id>", methods=["DELETE"])
@blp.response(204)
@keyed_operation(blp, 404)
@requires("keys")
def delete_webhook(id):
    """Delete a webhook endpoint and its deliveries.

    Nothing more is sent to it, including deliveries still pending.
    """
    endpoints.remove(id)


@blp.route("/<id>/deliveries", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, DeliveryPage)
@keyed_operation(blp, 404, 422)
@requires("keys")
def list_deliveries(args, id):
    """List an endpoint's deliveries, newest first.

    Each event sent to it: `pending` (with `next_attempt_at`), `delivered` or `failed`
    (after the last retry), how many attempts were made, and the last one's status code
    or error.
    """
    return endpoints.list_deliveries(id, **args)


@blp.route("/<id>/deliveries/<delivery_id>/retry", methods=["POST"])
@blp.response(200, DeliverySchema)
@keyed_operation(blp, 404)
@requires("keys")
def retry_delivery(id, delivery_id):
    """Send one delivery again, now.

    It becomes `pending` and due at once, whatever its state (a `failed` one, or a
    `delivered` one sent again, with the same `webhook-id`). A disabled endpoint's
    deliveries wait until it is enabled.
    """
    return endpoints.retry(id, delivery_id)
