"""Self-service key management for partners (scope ``keys``), under /v1/keys: the same
bodies and answers as the admin endpoints, limited to the keys of the caller's own
``owner`` (organisation) that lie within the caller's own bounds. Another owner's keys
answer 404, so their ids do not leak; ``owner`` cannot be set to another one. A partner's
key with scope ``keys`` makes keys for its applications without asking the provider,
and none of them can do more than the key that made it (bounds.py)."""
from ...blueprint import Blueprint
from .. import lifecycle as keys
from ..authority import acting
from ..openapi import keyed_operation
from ..schemas import (
    KeyChanges,
    KeyCreate,
    KeyListArgs,
    KeyPage,
    KeySchema,
    NewKeySchema,
    RotateArgs,
)
from ..scope import requires
from .admin import with_full_key

blp = Blueprint("self_service", __name__, url_prefix="/v1/keys",
                description="Your organisation's keys (scope keys)")
OWN_KEY_LINKS = {name: {"operationId": name, "parameters": {"key_id": "$response.body#/id"}}
                 for name in ("show_own_key", "update_own_key", "rotate_own_key",
                              "revoke_own_key", "delete_own_key")}


def own_actor():
    """The calling key, reaching only its own owner's keys within its bounds."""
    return acting(own_owner_only=True)


@blp.route("", methods=["GET"])
@blp.arguments(KeyListArgs, location="query")
@blp.response(200, KeyPage)
@keyed_operation(blp, 422)
@requires("keys")
def list_own_keys(args):
    """List your organisation's keys.

    The keys of the calling key's owner that lie within its bounds, oldest first. Secrets
    never appear: only the public key id.
    """
    return keys.list_keys(**args, actor=own_actor())


@blp.route("", methods=["POST"])
@blp.arguments(KeyCreate)
@blp.response(201, NewKeySchema)
@blp.doc(responses={201: {"links": OWN_KEY_LINKS}})
@keyed_operation(blp, 422)
@requires("keys")
def create_own_key(data):
    """Create a key for your organisation; the full key is in this response only.

    The new key belongs to the calling key's owner and takes its plan. It lies within the
    calling key's bounds: scopes, every restriction, `allowed_ips`, expiry (the default
    is shortened to the caller's), daily and per-minute limits (defaults lowered to the
    caller's). Anything wider, another `owner` or another `plan` is a 403
    exceeds-own-bounds naming each violation, and nothing is written.
    """
    return with_full_key(*keys.create_key(**data, actor=own_actor()))


@blp.route("/<key_id:key_id>", methods=["GET"])
@blp.response(200, KeySchema)
@keyed_operation(blp, 404)
@requires("keys")
def show_own_key(key_id):
    """Show one of your organisation's keys.

    Another owner's key, or one beyond the calling key's bounds, answers 404.
    """
    return keys.get_key(key_id, actor=own_actor())


@blp.route("/<key_id:key_id>", methods=["PATCH"])
@blp.arguments(KeyChanges)
@blp.response(200, KeySchema)
@keyed_operation(blp, 404, 409, 422)
@requires("keys")
def update_own_key(data, key_id):
    """Change one of your organisation's keys.

    Changes only the fields sent; the result must stay within the calling key's bounds
    (403 exceeds-own-bounds), also when a key changes itself: a key can narrow itself,
    never widen.
    """
    return keys.update_key(key_id, data, actor=own_actor())


@blp.route("/<key_id:key_id>/rotate", methods=["POST"])
@blp.arguments(RotateArgs, required=False)
@blp.response(200, NewKeySchema)
@keyed_operation(blp, 404, 409, 422)
@requires("keys")
def rotate_own_key(data, key_id):
    """New secret for one of your organisation's keys.

    As the admin rotation: the previous secret works for `grace`, a second rotation in a
    grace period needs `force`.
    """
    return with_full_key(*keys.rotate_key(key_id, data.get("grace"), data["force"],
                                          actor=own_actor()))


@blp.route("/<key_id:key_id>/revoke", methods=["POST"])
@blp.response(200, KeySchema)
@keyed_operation(blp, 404, 409)
@requires("keys")
def revoke_own_key(key_id):
    """Revoke one of your organisation's keys, effective immediately.

    From the next request on, in every worker, the key answers 401 revoked-key; its usage
    history stays. The last active admin key cannot be revoked (409 last-admin-key).
    """
    return keys.revoke_key(key_id, actor=own_actor())


@blp.route("/<key_id:key_id>", methods=["DELETE"])
@blp.response(204)
@keyed_operation(blp, 404, 409)
@requires("keys")
def delete_own_key(key_id):
    """Delete one of your organisation's keys (its usage and audit history stay).

    Calls made with it answer 401 invalid-key. The last active admin key cannot be
    deleted (409 last-admin-key).
    """
    keys.delete_key(key_id, actor=own_actor())
