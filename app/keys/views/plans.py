"""Plans, the plan review and the audit trail over HTTP (scope ``admin``). The CLI calls
the same services (plans.py, plan_review.py, audit.py)."""
import marshmallow as ma

from ...blueprint import Blueprint
from ...openapi import describe_path_parameter
from ...schemas import QueryInteger, StrictSchema
from .. import audit
from .. import plan_review
from .. import plans as plan_service
from ..openapi import keyed_operation
from ..schemas import (
    PLAN_ID,
    AuditArgs,
    AuditPage,
    BillingPlanSchema,
    PlanChanges,
    PlanCreate,
    PlanPage,
)
from ..scope import requires

blp = Blueprint("plans", __name__, url_prefix="/v1/admin",
                description="Plans, the plan review and the audit trail")
describe_path_parameter("plan_id", "The plan's id, e.g. starter.",
                        pattern=PLAN_ID.regex.pattern)


@blp.route("/plans", methods=["GET"])
@blp.response(200, PlanPage)
@keyed_operation(blp)
@requires("admin")
def list_plans():
    """List plans, cheapest first.

    Each plan's daily and per-minute limits apply to every key on it that does not
    override them; the price is USD per 1,000 billable units."""
    plans = plan_service.list_plans()
    return {"data": plans, "page": 1, "per_page": len(plans), "total": len(plans)}


@blp.route("/plans", methods=["POST"])
@blp.arguments(PlanCreate)
@blp.response(201, BillingPlanSchema)
@keyed_operation(blp, 409, 422)
@requires("admin")
def create_plan(data):
    """Create a plan.

    Written together with its audit event (plan.create)."""
    return plan_service.create_plan(data)


@blp.route("/plans/<plan_id>", methods=["GET"])
@blp.response(200, BillingPlanSchema)
@keyed_operation(blp, 404)
@requires("admin")
def show_plan(plan_id):
    """Show a plan.

    Its limits and price as the key check and billing read them."""
    return plan_service.get_plan(plan_id)


@blp.route("/plans/<plan_id>", methods=["PATCH"])
@blp.arguments(PlanChanges)
@blp.response(200, BillingPlanSchema)
@keyed_operation(blp, 404, 422)
@requires("admin")
def update_plan(data, plan_id):
    """Change a plan's name, limits or price.

    New limits apply to every key on the plan from its next call, in every worker."""
    return plan_service.update_plan(plan_id, data)


@blp.route("/plans/<plan_id>", methods=["DELETE"])
@blp.response(204)
@keyed_operation(blp, 404, 409)
@requires("admin")
def delete_plan(plan_id):
    """Delete a plan that no key is on.

    A plan in use answers 409 plan-in-use."""
    plan_service.delete_plan(plan_id)


class ReviewArgs(StrictSchema):
    days = QueryInteger(load_default=30, validate=ma.validate.Range(min=1, max=366),
                        metadata={"description": "UTC days back from today (1-366)"})


class PlanFigures(ma.Schema):
    plan = ma.fields.String(required=True)
    keys = ma.fields.Integer(required=True)
    calls = ma.fields.Integer(required=True)
    units = ma.fields.Integer(required=True)
    revenue = ma.fields.String(required=True, metadata={
        "description": "USD billed for these units, each at the price it was metered at "
                       "(as the billing report charges them)"})
    days_at_limit_share = ma.fields.Float(required=True, metadata={
        "description": "share of key-days that hit the daily limit"})
    p50_daily_use = ma.fields.Float(required=True, allow_none=True, metadata={
        "description": "fraction of the limit; null without any key-day"})
    p95_daily_use = ma.fields.Float(required=True, allow_none=True, metadata={
        "description": "fraction of the limit; null without any key-day"})


class Suggestion(ma.Schema):
    key = ma.fields.String(required=True)
    plan = ma.fields.String(required=True)
    action = ma.fields.String(required=True, metadata={"enum": ["upgrade", "downgrade"]})
    suggested_plan = ma.fields.String(required=True, allow_none=True)
    reason = ma.fields.String(required=True)


class ReviewAnswer(ma.Schema):
    days = ma.fields.Integer(required=True)
    plans = ma.fields.List(ma.fields.Nested(PlanFigures), required=True)
    suggestions = ma.fields.List(ma.fields.Nested(Suggestion), required=True)


@blp.route("/plan-review")
@blp.arguments(ReviewArgs, location="query")
@blp.response(200, ReviewAnswer)
@keyed_operation(blp, 422)
@requires("admin")
def review(args):
    """Plan review: figures per plan and upgrade/downgrade suggestions per key.

    Over the last `days` UTC days: upgrade when a key hit its daily limit on 3 or more
    days, downgrade when its p95 daily use fits in a cheaper plan's limit at <= 50 %."""
    return plan_review.review(args["days"])


@blp.route("/audit")
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditPage)
@keyed_operation(blp, 422)
@requires("admin")
def audit_trail(args):
    """The audit trail of key and plan changes, newest first.

    Append-only: who (actor), what (action, target, changes as [before, after]), when,
    the request id and the address. Never a secret or a hash."""
    return audit.list_events(**args)
