"""Owners (organisations) over HTTP (scope ``admin``): their keys, today's shared count,
and the daily limit their keys share (owners.py)."""
import marshmallow as ma
from marshmallow import fields, validate
from werkzeug.routing import BaseConverter

from ...blueprint import Blueprint
from ...openapi import describe_path_parameter
from ...schemas import PageArgs, StrictSchema, page_schema
from .. import owners as owner_service
from ..openapi import keyed_operation
from ..scope import requires

blp = Blueprint("owners", __name__, url_prefix="/v1/admin/owners",
                description="Organisations and their shared daily limit")


class OwnerConverter(BaseConverter):
    """``<owner:owner>``: what an owner can be (no slash, no control character, at most
    the column's 120 characters); anything else is a 404 before the view runs."""
    regex = r"[^/\x00-\x1f\x7f]{1,120}"


describe_path_parameter("owner", "The owner (organisation) as keys name it, URL-encoded.",
                        pattern=r"^[^/\u0000-\u001f\u007f]{1,120}$", maxLength=120)


class OwnerSchema(ma.Schema):
    owner = fields.String(required=True)
    daily_limit = fields.Integer(required=True, allow_none=True, metadata={
        "description": "calls per UTC day all its keys share; null = no shared limit"})
    keys = fields.Integer(required=True, metadata={"description": "keys naming this owner"})
    used_today = fields.Integer(required=True, metadata={
        "description": "calls admitted today against the shared limit"})


class OwnerLimit(StrictSchema):
    daily_limit = fields.Integer(required=True, strict=True, allow_none=True,
                                 validate=validate.Range(min=1, max=10**9),
                                 metadata={"description": "null removes the shared limit"})


OwnerPage = page_schema(OwnerSchema, "OwnerPage")


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, OwnerPage)
@keyed_operation(blp, 422)
@requires("admin")
def list_owners(args):
    """List owners (organisations).

    Every owner named by a key or given a shared limit, by name: its shared daily limit,
    how many keys it has and how many calls they made today against that limit.
    """
    return owner_service.list_owners(**args)


@blp.route("/<owner:owner>", methods=["PUT"])
@blp.arguments(OwnerLimit)
@blp.response(200, OwnerSchema)
@keyed_operation(blp, 404, 422)
@requires("admin")
def set_owner_limit(data, owner):
    """Set the daily limit an owner's keys share.

    From the next call on, every key of this owner also counts against `daily_limit`, in
    the same atomic step as its own quota: over it, 429 with violated-policies
    ["owner-daily"]. null removes it. Audited as owner.update.
    """
    return owner_service.set_daily_limit(owner, data["daily_limit"])
