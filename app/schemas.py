"""Schema building blocks both packages use: strict input, UTC times, pages of rows.
marshmallow schemas validate every input and shape every output, and flask-smorest turns
them into the OpenAPI document."""
import re
from datetime import date, timezone

import marshmallow as ma
from marshmallow import fields, validate


class UtcDateTime(fields.DateTime):
    """Times are stored as naive UTC; on the wire they always carry their offset. Input
    is written as the document's "date-time" (2030-01-01T00:00:00Z): Python's
    fromisoformat alone also reads 20300101T000000Z and week dates (2030-W01-1T00:00)."""
    FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}"
                      r"(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?")

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or self.FORM.fullmatch(value) is None:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is not None:  # compare like with like: naive UTC everywhere
            try:
                moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
            except OverflowError:  # 0001-01-01T00:00+05:00 is before datetime.min in UTC
                raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        return moment


# Days a report may name. A year of four digits from 1970 to 9998, so that a window's end
# + 1 day and its start - 30 days stay inside Python's calendar. JSON Schema has no date
# bounds, so the document states them as a pattern on the ISO date.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)
DAY_PATTERN = (r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
               r"-[0-9]{2}-[0-9]{2}$")


class IsoDay(fields.Date):
    """A day written YYYY-MM-DD, as the document's "date" says: fields.Date (Python's
    date.fromisoformat) also takes 20261201 and week dates like 2026-W48-2."""
    FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or self.FORM.fullmatch(value) is None:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return super()._deserialize(value, attr, data, **kwargs)


def report_day(description: str, **kwargs) -> IsoDay:
    return IsoDay(validate=validate.Range(min=FIRST_DAY, max=LAST_DAY), metadata={
        "description": f"{description} (ISO date, 1970-01-01 to 9998-12-31)",
        "pattern": DAY_PATTERN}, **kwargs)


class Pattern(validate.Regexp):
    """validate.Regexp against the whole value. Regexp uses re.match, where "$" also
    matches before a final newline: "US\n" would pass "^[A-Z]{2}$", be stored, and then
    match nothing. The document states the same pattern, which JSON Schema reads whole."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


# Free text may hold any character but NUL, which PostgreSQL text cannot store: refused
# the same way on every backend, and stated in the document as a pattern.
NO_NUL = Pattern(r"^[^\u0000]*$", error="Text cannot contain a NUL character.")


def text(*, max: int, min: int = 0, **kwargs) -> fields.String:
    """A free-text field: a length range, no NUL."""
    return fields.String(validate=[validate.Length(min=min, max=max), NO_NUL], **kwargs)


class JsonNumber(fields.Float):
    """A number in a JSON body: 5 or 5.0, not "5" (fields.Float would take the string, as
    it must in a query string, where everything is text). fields.Integer(strict=True) is
    the same rule for integers."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class _AsWritten:
    """Numbers in a query string as the document writes them: ASCII, an optional "-", no
    spaces. int() and float() alone would also read "٢", "+5", " 5" and "1_000"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not (value.isascii() and value == value.strip()
                                           and "_" not in value and value[:1] != "+"):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class QueryInteger(_AsWritten, fields.Integer):
    """An integer in a query string."""


class QueryNumber(_AsWritten, fields.Float):
    """A number in a query string."""


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE  # a misspelt field is an error, not silently ignored


class PageArgs(StrictSchema):
    page = QueryInteger(load_default=1, validate=validate.Range(min=1, max=100000),
                        metadata={"description": "page number, from 1"})
    per_page = QueryInteger(load_default=50, validate=validate.Range(min=1, max=100),
                            metadata={"description": "rows per page (1-100)"})


def page_schema(row_schema, name):
    """{"data": [...], "page", "per_page", "total"} around a row schema."""
    return type(name, (ma.Schema,), {
        "data": fields.List(fields.Nested(row_schema), required=True),
        "page": fields.Integer(required=True), "per_page": fields.Integer(required=True),
        "total": fields.Integer(required=True, metadata={"description": "rows in all pages"})})
