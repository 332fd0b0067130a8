"""Key lifecycle input/output, shared by the admin API and the CLI.

JSON bodies are typed: a list is a JSON array (``CodeList``), a flag is true or false
(``JsonBoolean``); the CLI turns its text options into those before loading."""
from datetime import timedelta

import marshmallow as ma
from marshmallow import fields, validate

from ..clock import now
from ..schemas import (
    PageArgs,
    Pattern,
    StrictSchema,
    UtcDateTime,
    page_schema,
    report_day,
    text,
)
from .binding import parse_networks
from .dimensions import declared
from .lifecycle import status as key_status
from .plans import effective_limits, micros_to_price, price_to_micros
from .scope import SCOPES

DURATION = Pattern(r"^[0-9]{1,6}[smhd]$", error="Use a number with s, m, h or d: 30d.")
# An expiry must lie in the future: at least one second from now.
FUTURE_DURATION = Pattern(r"^[1-9][0-9]{0,5}[smhd]$",
                          error="Use a duration above zero: 30d.")
# At least one call per window: "0/minute" would refuse every call with a 429.
RATE = Pattern(r"^[1-9][0-9]{0,5}/(second|minute|hour|day)$",
               error="Use N/second, N/minute, N/hour or N/day with N from 1: 60/minute.")
PLAN_ID = Pattern(r"^[a-z][a-z0-9-]{0,19}$",
                  error="Lower-case letters, digits and '-', at most 20: pro.")


def valid_networks(values):
    try:
        parse_networks(values)
    except ValueError as error:
        raise ma.ValidationError(f"{error} (use an address or a network like "
                                 "203.0.113.0/24, 2001:db8::/32)") from None


class CodeList(fields.List):
    """A list of codes: a JSON array, never a string ("admin" or "US,CA" in a body is a
    mistake, not a list). The CLI takes the same list as one comma-separated option and
    splits it with ``from_text`` before loading."""

    @staticmethod
    def from_text(value: str) -> list[str]:
        # Empty parts are kept, so "US,,CA" is refused (by the item's pattern), not guessed.
        return [part.strip() for part in value.split(",")]


class JsonBoolean(fields.Boolean):
    """true or false, nothing else: fields.Boolean also takes "yes", "true", 1 and 1.0
    (even with truthy={True}, since 1 == True), which in a body is a mistake."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def with_dimensions(schema: type[ma.Schema], make_field) -> type[ma.Schema]:
    """``schema`` with one field per restriction dimension the API declared (countries,
    categories, chains in the marketplace; dimensions.py): the key layer names none."""
    return type(schema.__name__, (schema,), {dimension.field: make_field(dimension)
                                              for dimension in declared()})


def dimension_input(dimension) -> fields.Field:
    return CodeList(fields.String(validate=Pattern(dimension.pattern)), allow_none=True,
                    validate=validate.Length(min=1, max=100),
                    metadata={"description": f"{dimension.description}; null = all"})


def dimension_output(dimension) -> fields.Field:
    def values(key):
        return (key.restrictions or {}).get(dimension.field)
    return fields.Function(values, required=True, allow_none=True, metadata={
        "type": "array", "nullable": True, "items": {"type": "string"},
        "description": f"{dimension.description}; null = all"})


class KeyChanges(StrictSchema):
    """What may change on an existing key; each restriction dimension the API declares is
    a field too (null = all values). Over HTTP, only within the caller's own bounds."""
    name = text(min=1, max=120)
    owner = text(max=120)
    plan = fields.String(validate=PLAN_ID, metadata={"description": "a plan's id"})
    scopes = CodeList(fields.String(validate=validate.OneOf(SCOPES)),
                      validate=validate.Length(min=1))
    allowed_ips = CodeList(fields.String(validate=validate.Length(min=1, max=43)),
                           allow_none=True, validate=[validate.Length(min=1, max=40),
                                                      valid_networks],
                           metadata={"description": "IPv4/IPv6 networks the key may be used "
                                     "from; a bare address is /32 or /128; null = anywhere"})
    daily_limit = fields.Integer(strict=True, allow_none=True,
                                 validate=validate.Range(min=1, max=10**9),
                                 metadata={"description": "override; null = the plan's"})
    rate_limit = fields.String(allow_none=True, validate=RATE,
                               metadata={"description": "override; null = the plan's"})
    expires_in = fields.String(allow_none=True, validate=FUTURE_DURATION,
                               metadata={"description": "from now, e.g. 30d (above zero); "
                                                        "null = never"})
    not_before = UtcDateTime(allow_none=True, metadata={
        "description": "not valid before this moment; it must come before the key's "
                       "expiry (a key valid at no moment is refused)"})


KeyChanges = with_dimensions(KeyChanges, dimension_input)


class KeyCreate(KeyChanges):
    name = text(required=True, min=1, max=120)


class RotateArgs(StrictSchema):
    grace = fields.String(validate=DURATION, metadata={"description": "e.g. 24h (default)"})
    force = JsonBoolean(load_default=False, metadata={
        "description": "rotate even while the previous secret is in its grace period, "
                       "which ends that grace now"})


class PruneArgs(StrictSchema):
    unused_days = fields.Integer(required=True, strict=True,
                                 validate=validate.Range(min=1, max=36500))


class CommaList(fields.Field):
    """Stored as "US,CA"; on the wire as ["CA", "US"], or null for "all"."""

    def __init__(self, item: dict, **kwargs):
        metadata = {"type": "array", "items": {"type": "string", **item},
                    **kwargs.pop("metadata", {})}
        super().__init__(required=True, metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return sorted(value.split(",")) if value else None


STATUSES = ("active", "expired", "revoked", "pending")


class KeySchema(ma.Schema):
    id = fields.String(required=True, metadata={"description": "the public key id"})
    name = fields.String(required=True)
    owner = fields.String(required=True)
    plan = fields.String(required=True)
    status = fields.Function(lambda key: key_status(key), required=True, metadata={
        "type": "string", "enum": list(STATUSES), "description": "pending: not yet valid"})
    scopes = CommaList({"enum": list(SCOPES)})
    allowed_ips = CommaList({}, allow_none=True,
                            metadata={"description": "null: callable from anywhere"})
    daily_limit = fields.Function(lambda key: effective_limits(key)["daily_limit"],
                                  required=True,
                                  metadata={"type": "integer",
                                            "description": "effective: the key's or its plan's"})
    rate_limit = fields.Function(lambda key: effective_limits(key)["rate_limit"],
                                 required=True,
                                 metadata={"type": "string",
                                           "description": "effective: the key's or its plan's"})
    overridden = fields.Function(lambda key: effective_limits(key)["overridden"],
                                 required=True,
                                 metadata={"type": "array", "items": {"type": "string"},
                                           "description": "limits the key sets itself "
                                           "instead of taking its plan's"})
    created_at = UtcDateTime(required=True)
    not_before = UtcDateTime(required=True, allow_none=True)
    expires_at = UtcDateTime(required=True, allow_none=True)
    revoked_at = UtcDateTime(required=True, allow_none=True)
    rotated_at = UtcDateTime(required=True, allow_none=True)
    previous_valid_until = UtcDateTime(required=True, allow_none=True)
    last_used_at = UtcDateTime(required=True, allow_none=True)


KeySchema = with_dimensions(KeySchema, dimension_output)


class NewKeySchema(KeySchema):
    """A key just created or rotated: the service returns (key, full_key) and the view
    attaches the full key as a transient attribute, never stored."""
    key = fields.String(required=True,
                        metadata={"description": "the full key: shown once, store it now"})


class TodaySchema(ma.Schema):
    day = fields.Date(required=True)
    used = fields.Integer(required=True)
    remaining = fields.Integer(required=True)
    resets_in = fields.Integer(required=True, metadata={"description": "seconds until 00:00 UTC"})


class OwnerQuotaSchema(ma.Schema):
    daily_limit = fields.Integer(required=True)
    used = fields.Integer(required=True)
    remaining = fields.Integer(required=True)


class CallerKeySchema(KeySchema):
    today = fields.Nested(TodaySchema, required=True)
    owner_quota = fields.Nested(OwnerQuotaSchema, required=True, allow_none=True, metadata={
        "description": "the daily limit the owner's keys share; null when it has none"})


KeyPage = page_schema(KeySchema, "KeyPage")
KeyListArgs = PageArgs


# --- plans ---------------------------------------------------------------------------

# Stored as integer micro-dollars in a 32-bit column: at most 2147.483647, so four digits
# before the point and the bound stated in the pattern (up to 1999.999999).
PRICE = Pattern(r"^([0-9]{1,3}|1[0-9]{3})(\.[0-9]{1,6})?$",
                error="A decimal USD amount below 2000 with at most 6 decimals: 0.50.")


class PlanChanges(StrictSchema):
    """What an admin may change on a plan; the price arrives as a decimal string."""
    name = text(min=1, max=60)
    daily_limit = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**9))
    rate_limit = fields.String(validate=RATE)
    price_per_1000_units = fields.String(
        validate=PRICE, data_key="price_per_1000_units",
        metadata={"description": "USD per 1,000 billable units, e.g. \"0.50\""})

    @ma.post_load
    def to_micros(self, data, **_):
        if "price_per_1000_units" in data:
            data["price_per_1000_units_micros"] = price_to_micros(
                data.pop("price_per_1000_units"))
        return data


class PlanCreate(PlanChanges):
    id = fields.String(required=True, validate=PLAN_ID)
    name = text(required=True, min=1, max=60)
    daily_limit = fields.Integer(required=True, strict=True,
                                 validate=validate.Range(min=1, max=10**9))
    rate_limit = fields.String(required=True, validate=RATE)
    price_per_1000_units = fields.String(required=True, validate=PRICE)


class BillingPlanSchema(ma.Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    daily_limit = fields.Integer(required=True)
    rate_limit = fields.String(required=True)
    price_per_1000_units = fields.Function(
        lambda plan: micros_to_price(plan.price_per_1000_units_micros), required=True,
        metadata={"type": "string", "description": "USD per 1,000 billable units"})


PlanPage = page_schema(BillingPlanSchema, "PlanPage")


# --- usage reports -------------------------------------------------------------------

class ReportWindow(StrictSchema):
    """The days of a usage report (API and CLI); ``report_window`` fills the defaults."""
    from_ = report_day("first day; default: 29 days before `to`; not after `to`",
                       data_key="from")
    to = report_day("last day, inclusive; default: today (UTC)")

    @ma.validates_schema
    def from_is_not_after_to(self, data, **_):
        # Also against the default `to` (today): from=9998-12-31 alone is an empty window.
        end = data.get("to") or now().date()
        if data.get("from_") and data["from_"] > end:
            raise ma.ValidationError(f"`from` is after `to` ({end}).", "from")


def report_window(args: dict):
    """(first day, last day) of a loaded ReportWindow, with the defaults."""
    end = args.get("to") or now().date()
    return args.get("from_") or end - timedelta(days=29), end


# --- the audit trail -------------------------------------------------------------------

class AuditArgs(PageArgs):
    target = text(min=1, max=40, metadata={"description": "a key id or a plan id"})
    action = fields.String(validate=Pattern(r"^(key|plan|owner|webhook)\.[a-z]{1,20}$"),
                           metadata={"description": "e.g. key.rotate, plan.update, "
                                                    "webhook.disable"})
    since = report_day("a UTC day: events from its midnight on")


class AuditEventSchema(ma.Schema):
    at = UtcDateTime(required=True)
    actor = fields.String(required=True,
                          metadata={"description": "key:<id> (HTTP) or cli:<os user>"})
    actor_owner = fields.String(required=True, allow_none=True, metadata={
        "description": "the acting key's owner (organisation); null from the CLI"})
    action = fields.String(required=True, metadata={"example": "key.rotate"})
    target = fields.String(required=True,
                           metadata={"description": "the key's, plan's or owner's id"})
    changes = fields.Dict(required=True, metadata={"description": "{field: [before, after]}"})
    request_id = fields.String(required=True, allow_none=True)
    ip = fields.String(required=True, allow_none=True)


AuditPage = page_schema(AuditEventSchema, "AuditPage")
