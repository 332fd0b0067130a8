"""The key lifecycle and usage reports over HTTP (scope ``admin``). The CLI calls the
same service functions (lifecycle.py, usage.py, anomalies.py)."""
from datetime import timedelta

import marshmallow as ma
from flask import Response
from werkzeug.routing import BaseConverter
from ...blueprint import Blueprint

from ...clock import now
from ...openapi import describe_path_parameter
from ...schemas import StrictSchema, report_day
from .. import anomalies as anomaly_service
from .. import format as keyformat
from .. import lifecycle as keys
from .. import usage
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


@blp.route("/keys", methods=["GET"])
@blp.arguments(KeyListArgs, location="query")
@blp.response(200, KeyPage)
@keyed_operation(blp, 422)
@requires("admin")
def list_keys(args):
    """List keys."""
    return keys.list_keys(**args)


@blp.route("/keys", methods=["POST"])
@blp.arguments(KeyCreate)
@blp.response(201, NewKeySchema)
@keyed_operation(blp, 422)
@requires("admin")
def create_key(data):
    """Create a key; the full key is in this response only."""
    return with_full_key(*keys.create_key(**data))


@blp.route("/keys/<key_id:key_id>", methods=["GET"])
@blp.response(200, KeySchema)
@keyed_operation(blp, 404)
@requires("admin")
def show_key(key_id):
    """Show a key."""
    return keys.get_key(key_id)


@blp.route("/keys/<key_id:key_id>", methods=["PATCH"])
@blp.arguments(KeyChanges)
@blp.response(200, KeySchema)
@keyed_operation(blp, 404, 422)
@requires("admin")
def update_key(data, key_id):
    """Change a key's restrictions, limits or expiry."""
    return keys.update_key(key_id, data)


@blp.route("/keys/<key_id:key_id>/rotate", methods=["POST"])
@blp.arguments(RotateArgs)
@blp.response(200, NewKeySchema)
@keyed_operation(blp, 404, 409, 422)
@requires("admin")
def rotate_key(data, key_id):
    """New secret; the old one works for the grace period."""
    return with_full_key(*keys.rotate_key(key_id, data.get("grace")))


@blp.route("/keys/<key_id:key_id>/revoke", methods=["POST"])
@blp.response(200, KeySchema)
@keyed_operation(blp, 404)
@requires("admin")
def revoke_key(key_id):
    """Revoke a key, effective immediately."""
    return keys.revoke_key(key_id)


@blp.route("/keys/<key_id:key_id>", methods=["DELETE"])
@blp.response(204)
@keyed_operation(blp, 404)
@requires("admin")
def delete_key(key_id):
    """Delete a key (its usage history is kept)."""
    keys.delete_key(key_id)


class PruneAnswer(ma.Schema):
    deleted = ma.fields.List(ma.fields.String())


@blp.route("/keys/prune", methods=["POST"])
@blp.arguments(PruneArgs)
@blp.response(200, PruneAnswer)
@keyed_operation(blp, 422)
@requires("admin")
def prune_keys(data):
    """Delete keys unused for N days."""
    return {"deleted": keys.prune_keys(data["unused_days"])}


class ReportArgs(StrictSchema):
    from_ = report_day("first day; default: 29 days before `to`; not after `to`",
                       data_key="from")
    to = report_day("last day, inclusive; default: today (UTC)")
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]),
                              metadata={"description": "json, or csv (text/csv)"})

    @ma.validates_schema
    def from_is_not_after_to(self, data, **_):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError("`from` is after `to`.", "from")


class ReportAnswer(ma.Schema):
    start = ma.fields.Date(data_key="from")
    end = ma.fields.Date(data_key="to")
    data = ma.fields.List(ma.fields.Dict())
    billing = ma.fields.List(ma.fields.Dict())


@blp.route("/usage")
@blp.arguments(ReportArgs, location="query")
@blp.response(200, ReportAnswer)
@blp.alt_response(200, description="OK (JSON, or CSV with format=csv)",
                  content_type="text/csv", schema={"type": "string"})
@keyed_operation(blp, 422)
@requires("admin")
def usage_report(args):
    """Usage of all keys per day and endpoint, with a billing summary (or CSV)."""
    end = args.get("to") or now().date()
    start = args.get("from_") or end - timedelta(days=29)
    rows = usage.daily_usage(start, end)
    if args["format"] == "csv":
        return Response(usage.as_csv(rows), mimetype="text/csv")
    return {"start": start, "end": end, "data": rows,
            "billing": usage.billing_summary(start, end)}


class AnomalyAnswer(ma.Schema):
    data = ma.fields.List(ma.fields.Dict())


@blp.route("/anomalies")
@blp.response(200, AnomalyAnswer)
@keyed_operation(blp)
@requires("admin")
def anomalies():
    """Keys behaving unusually this hour, each flag explained."""
    return {"data": anomaly_service.anomalies()}
