"""The key lifecycle over HTTP (scope ``admin``), under /v1/admin, for keys of every
owner; reports.py adds the usage reports and anomaly flags to the same blueprint. The CLI
and the self-service endpoints (self_service.py) call the same service functions
(lifecycle.py). Every call acts as the calling key (``admin_actor``): it sees and changes
only keys within its own bounds, and makes none wider than itself."""
import marshmallow as ma
from werkzeug.routing import BaseConverter

from ...blueprint import Blueprint
from ...openapi import describe_path_parameter
from .. import format as keyformat
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
    PruneArgs,
    RotateArgs,
)
from ..scope import requires

blp = Blueprint("admin", __name__, url_prefix="/v1/admin", description="Administration")


class KeyIdConverter(BaseConverter):
    """``<key_id:key_id>`` matches only what a key id can be, so /keys/prune is never
    taken for a key id (a GET there is a 405, not a 404 for key "prune")."""
    regex = f"[0-9A-Za-z]{{{keyformat.ID_LENGTH}}}"


describe_path_parameter("key_id", "The key's public id (the part after spk_).",
                        pattern=f"^{KeyIdConverter.regex}$")


def with_full_key(key, full_key):
    key.key = full_key  # transient: dumped once by NewKeySchema, never stored
    return key


def admin_actor():
    """The calling admin key, reaching keys of every owner within its bounds."""
    return acting(own_owner_only=False)


@blp.route("/keys", methods=["GET"])
@blp.arguments(KeyListArgs, location="query")
@blp.response(200, KeyPage)
@keyed_operation(blp, 422)
@requires("admin")
def list_keys(args):
    """List keys.

    Every key within the calling key's bounds, oldest first, a page at a time. Secrets
    never appear: only the public key id.
    """
    return keys.list_keys(**args, actor=admin_actor())


# OpenAPI links: what a client (and the fuzzer's stateful run) can do next with a new key.
KEY_LINKS = {name: {"operationId": name, "parameters": {"key_id": "$response.body#/id"}}
             for name in ("show_key", "update_key", "rotate_key", "revoke_key", "delete_key")}


@blp.route("/keys", methods=["POST"])
@blp.arguments(KeyCreate)
@blp.response(201, NewKeySchema)
@blp.doc(responses={201: {"links": KEY_LINKS}})
@keyed_operation(blp, 422)
@requires("admin")
def create_key(data):
    """Create a key; the full key is in this response only.

    Creates a key for an application (`name`) of an organisation (`owner`). The answer's
    `key` is the full key: it is shown here once and never again (only its hash is stored).
    A `not_before` at or after the expiry (`expires_in`, or DEFAULT_KEY_TTL) is a 422: the
    key would never be valid. The new key lies within the calling key's bounds (scopes,
    every restriction, `allowed_ips`, expiry; the default expiry is shortened to the
    caller's): anything wider is a 403 exceeds-own-bounds naming each violation.
    """
    return with_full_key(*keys.create_key(**data, actor=admin_actor()))


@blp.route("/keys/<key_id:key_id>", methods=["GET"])
@blp.response(200, KeySchema)
@keyed_operation(blp, 404)
@requires("admin")
def show_key(key_id):
    """Show a key.

    One key by its public id: restrictions, limits, status, expiry and rotation state. A
    key beyond the calling key's bounds answers 404, as an unknown one.
    """
    return keys.get_key(key_id, actor=admin_actor())


@blp.route("/keys/<key_id:key_id>", methods=["PATCH"])
@blp.arguments(KeyChanges)
@blp.response(200, KeySchema)
@keyed_operation(blp, 404, 409, 422)
@requires("admin")
def update_key(data, key_id):
    """Change a key's restrictions, limits or expiry.

    Changes only the fields sent. `countries`/`categories` null means all; `expires_in`
    counts from now. A `not_before` at or after the expiry is a 422 (the key would never
    be valid). The result must lie within the calling key's bounds (403
    exceeds-own-bounds), also when a key changes itself. Changing the last active admin
    key's scopes, expiry, `not_before` or `allowed_ips` answers 409 last-admin-key.
    """
    return keys.update_key(key_id, data, actor=admin_actor())


@blp.route("/keys/<key_id:key_id>/rotate", methods=["POST"])
@blp.arguments(RotateArgs, required=False)
@blp.response(200, NewKeySchema)
@keyed_operation(blp, 404, 409, 422)
@requires("admin")
def rotate_key(data, key_id):
    """New secret; the old one works for the grace period.

    Issues a new secret for the same key id. The previous secret keeps working for `grace`
    (default ROTATION_GRACE); answers to it carry Deprecation and Sunset. A second
    rotation while a grace period runs answers 409 rotation-in-progress unless `force` is
    true, which ends that grace now.
    """
    return with_full_key(*keys.rotate_key(key_id, data.get("grace"), data["force"],
                                          actor=admin_actor()))


@blp.route("/keys/<key_id:key_id>/revoke", methods=["POST"])
@blp.response(200, KeySchema)
@keyed_operation(blp, 404, 409)
@requires("admin")
def revoke_key(key_id):
    """Revoke a key, effective immediately.

    From the next request on, in every worker, the key answers 401 revoked-key. Its usage
    history stays. The last active admin key cannot be revoked (409 last-admin-key).
    """
    return keys.revoke_key(key_id, actor=admin_actor())


@blp.route("/keys/<key_id:key_id>", methods=["DELETE"])
@blp.response(204)
@keyed_operation(blp, 404, 409)
@requires("admin")
def delete_key(key_id):
    """Delete a key (its usage history and audit events are kept).

    Removes the key; calls made with it answer 401 invalid-key. Usage rows are kept for
    billing. The last active admin key cannot be deleted (409 last-admin-key).
    """
    keys.delete_key(key_id, actor=admin_actor())


class PruneAnswer(ma.Schema):
    deleted = ma.fields.List(ma.fields.String(), required=True)


@blp.route("/keys/prune", methods=["POST"])
@blp.arguments(PruneArgs)
@blp.response(200, PruneAnswer)
@keyed_operation(blp, 422)
@requires("admin")
def prune_keys(data):
    """Delete keys unused for N days.

    Deletes every key within the calling key's bounds not used for `unused_days` days (or
    never used and created that long ago) and lists their ids.
    """
    return {"deleted": keys.prune_keys(data["unused_days"], actor=admin_actor())}
