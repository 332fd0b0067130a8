"""Self-service for the calling key: what it may do and what it has used (any scope)."""
from datetime import timedelta
from types import SimpleNamespace

import marshmallow as ma
from flask import g
from ...blueprint import Blueprint

from ...clock import now
from ...schemas import QueryInteger, StrictSchema
from .. import usage
from ..limits import quota_free
from ..openapi import keyed_operation
from ..schemas import CallerKeySchema
from ..scope import requires

blp = Blueprint("account", __name__, url_prefix="/v1", description="The calling key")


class UsageArgs(StrictSchema):
    days = QueryInteger(load_default=30, validate=ma.validate.Range(min=1, max=366),
                             metadata={"description": "UTC days back from today (1-366)"})


class UsageRow(ma.Schema):
    day = ma.fields.String(required=True)
    endpoint = ma.fields.String(required=True)
    calls = ma.fields.Integer(required=True, metadata={"description": "every call recorded"})
    admitted = ma.fields.Integer(required=True, metadata={
        "description": "counted against the daily quota; summed per day = today.used"})
    units = ma.fields.Integer(required=True,
                              metadata={"description": "billed: 2xx answers produced"})
    incomplete = ma.fields.Integer(required=True, metadata={
        "description": "admitted, no answer produced (worker died, 5xx, database lost)"})
    status_2xx = ma.fields.Integer(required=True)
    status_3xx = ma.fields.Integer(required=True)
    status_4xx = ma.fields.Integer(required=True)
    status_5xx = ma.fields.Integer(required=True)
    status_401 = ma.fields.Integer(required=True,
                                   metadata={"description": "revoked/expired key used"})
    status_403 = ma.fields.Integer(required=True)
    status_429 = ma.fields.Integer(required=True)


class UsageAnswer(ma.Schema):
    key_id = ma.fields.String(required=True)
    days = ma.fields.Integer(required=True)
    data = ma.fields.List(ma.fields.Nested(UsageRow), required=True)


@blp.route("/key")
@blp.response(200, CallerKeySchema)
@blp.doc(operationId="show_calling_key")  # admin.show_key is GET /v1/admin/keys/{key_id}
@keyed_operation(blp)
@requires("any")
@quota_free
def show_key():
    """The calling key: scopes, restrictions, limits, expiry and today's usage.

    What the key sending this request may do (scopes, restrictions, limits, expiry), how
    much of today's quota it has used, and of its owner's shared quota if it has one. Works with any scope. Self-inspection:
    never counted against the daily quota, and still answered when the quota is used up
    (the minute window applies).
    """
    # What the key check read (this call is not counted), and the limit step's windows:
    # `used` is the count itself, which may exceed a limit lowered during the day.
    caller, daily, shared = g.caller, g.daily_window, g.get("owner_window")
    today = {"day": now().date(), "used": caller.used_today,
             "remaining": daily.remaining, "resets_in": daily.resets_in}
    owner_quota = shared and {"daily_limit": shared.quota, "used": caller.owner_used_today,
                              "remaining": shared.remaining}
    # The row the key check already read, plus today's counts: no second query.
    return SimpleNamespace(**g.key_row._mapping, today=today, owner_quota=owner_quota)


@blp.route("/usage")
@blp.arguments(UsageArgs, location="query")
@blp.response(200, UsageAnswer)
@keyed_operation(blp, 422)
@requires("any")
@quota_free
def show_usage(args):
    """The calling key's usage per UTC day and endpoint.

    Calls, admitted calls, billable units, incomplete calls and answers by status class of
    the calling key, per UTC day and endpoint, over the last `days` days (today included).
    Self-inspection: never counted against the daily quota. This call itself is recorded
    once it is answered, so it shows in the next report.
    """
    today = now().date()
    rows = usage.daily_usage(today - timedelta(days=args["days"] - 1), today, g.caller.id)
    return {"key_id": g.caller.id, "days": args["days"], "data": rows}
