"""Key lifecycle input/output, shared by the admin API and the CLI."""
import marshmallow as ma
from marshmallow import fields, validate

from ..schemas import PageArgs, StrictSchema, UtcDateTime, page_schema, text
from .lifecycle import status as key_status
from .scope import SCOPES

DURATION = validate.Regexp(r"^\d{1,6}[smhd]$", error="Use a number with s, m, h or d: 30d.")
# An expiry must lie in the future: at least one second from now.
FUTURE_DURATION = validate.Regexp(r"^[1-9]\d{0,5}[smhd]$",
                                  error="Use a duration above zero: 30d.")
RATE = validate.Regexp(r"^\d{1,6}/(second|minute|hour|day)$",
                       error="Use N/second, N/minute, N/hour or N/day: 60/minute.")


class CodeList(fields.List):
    """A list given as JSON array or as a comma-separated string ("US,CA")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return super()._deserialize(value, attr, data, **kwargs)


class KeyChanges(StrictSchema):
    """What an admin may change on an existing key (None for countries/categories = all)."""
    name = text(min=1, max=120)
    owner = text(max=120)
    plan = text(min=1, max=20)
    scopes = CodeList(fields.String(validate=validate.OneOf(SCOPES)),
                      validate=validate.Length(min=1))
    countries = CodeList(fields.String(validate=validate.Regexp(r"^[A-Z]{2}$")),
                         allow_none=True, validate=validate.Length(min=1))
    categories = CodeList(fields.String(validate=validate.Regexp(r"^[a-z][a-z-]{0,39}$")),
                          allow_none=True, validate=validate.Length(min=1))
    daily_limit = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**9))
    rate_limit = fields.String(validate=RATE)
    expires_in = fields.String(allow_none=True, validate=FUTURE_DURATION,
                               metadata={"description": "from now, e.g. 30d (above zero); "
                                                        "null = never"})
    not_before = UtcDateTime(allow_none=True)


class KeyCreate(KeyChanges):
    name = text(required=True, min=1, max=120)


class RotateArgs(StrictSchema):
    grace = fields.String(validate=DURATION, metadata={"description": "e.g. 24h (default)"})


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
    plan = fields.String()
    status = fields.Function(lambda key: key_status(key), required=True, metadata={
        "type": "string", "enum": list(STATUSES), "description": "pending: not yet valid"})
    scopes = CommaList({"enum": list(SCOPES)})
    countries = CommaList({"pattern": "^[A-Z]{2}$"}, allow_none=True,
                          metadata={"description": "null: all countries"})
    categories = CommaList({}, allow_none=True, metadata={"description": "null: all categories"})
    daily_limit = fields.Integer(required=True)
    rate_limit = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    not_before = UtcDateTime(required=True, allow_none=True)
    expires_at = UtcDateTime(required=True, allow_none=True)
    revoked_at = UtcDateTime(required=True, allow_none=True)
    rotated_at = UtcDateTime(required=True, allow_none=True)
    previous_valid_until = UtcDateTime(required=True, allow_none=True)
    last_used_at = UtcDateTime(required=True, allow_none=True)


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


class CallerKeySchema(KeySchema):
    today = fields.Nested(TodaySchema, required=True)


KeyPage = page_schema(KeySchema, "KeyPage")
KeyListArgs = PageArgs
