"""Schema building blocks both packages use: strict input, UTC times, pages of rows.
marshmallow schemas validate every input and shape every output, and flask-smorest turns
them into the OpenAPI document."""
from datetime import timezone

import marshmallow as ma
from marshmallow import fields, validate


class UtcDateTime(fields.DateTime):
    """Times are stored as naive UTC; on the wire they always carry their offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is not None:  # compare like with like: naive UTC everywhere
            try:
                moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
            except OverflowError:  # 0001-01-01T00:00+05:00 is before datetime.min in UTC
                raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        return moment


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE  # a misspelt field is an error, not silently ignored


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


def page_schema(row_schema, name):
    """{"data": [...], "page", "per_page", "total"} around a row schema."""
    return type(name, (ma.Schema,), {
        "data": fields.List(fields.Nested(row_schema)),
        "page": fields.Integer(), "per_page": fields.Integer(), "total": fields.Integer()})
