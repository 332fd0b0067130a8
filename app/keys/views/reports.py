"""Usage reports and anomaly flags over HTTP (scope ``admin``), on admin.py's blueprint
(/v1/admin, one tag in the document). The CLI calls the same services (usage.py,
anomalies.py) with the same report window (schemas.ReportWindow)."""
import marshmallow as ma
from flask import Response

from .. import anomalies as anomaly_service
from .. import usage
from ..openapi import keyed_operation
from ..schemas import ReportWindow, report_window
from ..scope import requires
from .account import UsageRow
from .admin import blp


class ReportArgs(ReportWindow):
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]),
                              metadata={"description": "json, or csv (text/csv; a generated "
                                                       "client reads it from usage.csv)"})


class ReportRow(UsageRow):
    key_id = ma.fields.String(required=True)


class BillingRow(ma.Schema):
    key_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True, allow_none=True)
    owner = ma.fields.String(required=True, allow_none=True)
    plan = ma.fields.String(required=True, metadata={"description": "the key's plan now"})
    deleted = ma.fields.Boolean(required=True, metadata={
        "description": "the key is deleted; name, owner and plan from its audit event"})
    calls = ma.fields.Integer(required=True)
    admitted = ma.fields.Integer(required=True)
    incomplete = ma.fields.Integer(required=True)
    units = ma.fields.Integer(required=True)
    amount_usd = ma.fields.String(required=True, metadata={
        "description": "each unit at the price it was metered at"})


class ReportAnswer(ma.Schema):
    start = ma.fields.Date(data_key="from", required=True)
    end = ma.fields.Date(data_key="to", required=True)
    data = ma.fields.List(ma.fields.Nested(ReportRow), required=True)
    billing = ma.fields.List(ma.fields.Nested(BillingRow), required=True)


@blp.route("/usage")
@blp.arguments(ReportArgs, location="query")
@blp.response(200, ReportAnswer)
@blp.alt_response(200, description="OK (JSON, or CSV with format=csv)",
                  content_type="text/csv", schema={"type": "string"})
@keyed_operation(blp, 422)
@requires("admin")
def usage_report(args):
    """Usage of all keys per day and endpoint, with a billing summary (or CSV).

    Per key, UTC day and endpoint between `from` and `to` (inclusive; 30 days up to today
    by default), plus the billing summary per key. `format=csv` answers the rows as
    text/csv.
    """
    start, end = report_window(args)
    rows = usage.daily_usage(start, end)
    if args["format"] == "csv":
        return Response(usage.as_csv(rows), mimetype="text/csv")
    return {"start": start, "end": end, "data": rows,
            "billing": usage.billing_summary(start, end)}


@blp.route("/usage.csv")
@blp.arguments(ReportWindow, location="query")
@blp.response(200, {"type": "string"}, content_type="text/csv",
              description="One row per key, UTC day and endpoint, with a header line")
@keyed_operation(blp, 422)
@requires("admin")
def usage_report_csv(args):
    """The usage rows of the report as CSV, for billing.

    The same rows as GET /v1/admin/usage between `from` and `to`, as text/csv: one
    operation, one media type, so a generated client reads it as text.
    """
    return Response(usage.as_csv(usage.daily_usage(*report_window(args))), mimetype="text/csv")


class AnomalyFlag(ma.Schema):
    key_id = ma.fields.String(required=True)
    flag = ma.fields.String(required=True, metadata={"enum": [
        "traffic-spike", "error-spike", "forbidden-burst", "stale-key"]})
    explanation = ma.fields.String(required=True)


class AnomalyAnswer(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(AnomalyFlag), required=True)


@blp.route("/anomalies")
@blp.response(200, AnomalyAnswer)
@keyed_operation(blp)
@requires("admin")
def anomalies():
    """Keys behaving unusually this hour, each flag explained.

    Per key, flags for traffic or error-rate spikes against the key's own baseline and
    bursts of 403s, each with a sentence saying why.
    """
    return {"data": anomaly_service.anomalies()}
