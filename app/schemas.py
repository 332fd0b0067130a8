"""marshmallow schemas: they validate every input and shape every output, and
flask-smorest turns them into the OpenAPI document."""
from datetime import timezone

import marshmallow as ma
from marshmallow import fields, validate

def country_field(**kwargs):
    return fields.String(validate=validate.Regexp(
        r"^[A-Z]{2}$", error="Use an ISO 3166-1 alpha-2 code such as US."), **kwargs)


SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$",
                       error="Use lowercase letters, digits and dashes (max 80).")
MONEY = validate.Regexp(r"^\d{1,9}(\.\d{1,4})?$", error="Use a decimal string such as \"1.99\".")


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


# --- listings -----------------------------------------------------------------------

class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class ItemQuery(PageArgs):
    q = fields.String(validate=validate.Length(max=100))
    category = fields.String(validate=validate.Length(max=40))


class StoreQuery(PageArgs):
    country = country_field()


class PriceQuery(PageArgs):
    item = fields.String(validate=SLUG)
    store = fields.String(validate=SLUG)
    country = country_field()


class DealsQuery(PageArgs):
    country = country_field()
    category = fields.String(validate=validate.Length(max=40))


class ItemSchema(StrictSchema):
    id = fields.String(attribute="slug", required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    category = fields.String(required=True, validate=validate.Length(min=1, max=40))
    size = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False,
                                                               max=100000))
    unit = fields.String(required=True, validate=validate.OneOf(["l", "kg", "pcs"]))


class StoreSchema(StrictSchema):
    id = fields.String(attribute="slug", required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    chain = fields.Function(lambda store: store.chain.slug, deserialize=str, required=True,
                            validate=SLUG, metadata={"type": "string", "description": "chain id"})
    country = country_field(required=True)
    city = fields.String(required=True, validate=validate.Length(min=1, max=80))


class PriceSchema(ma.Schema):
    """Dumped from rows that carry the price plus its store/item slugs and currency."""
    store = fields.String()
    item = fields.String()
    price = fields.String(metadata={"example": "1.99"})
    regular_price = fields.String(allow_none=True)
    promo_ends = fields.Date(allow_none=True)
    currency = fields.String(metadata={"example": "USD"})
    updated_at = UtcDateTime()


class DealSchema(PriceSchema):
    saving = fields.String(metadata={"description": "regular_price - price"})
    saving_percent = fields.Integer()


def page_schema(row_schema, name):
    """{"data": [...], "page", "per_page", "total"} around a row schema."""
    return type(name, (ma.Schema,), {
        "data": fields.List(fields.Nested(row_schema)),
        "page": fields.Integer(), "per_page": fields.Integer(), "total": fields.Integer()})


ItemPage = page_schema(ItemSchema, "ItemPage")
StorePage = page_schema(StoreSchema, "StorePage")
PricePage = page_schema(PriceSchema, "PricePage")
DealPage = page_schema(DealSchema, "DealPage")


# --- writes -------------------------------------------------------------------------

class PriceInput(StrictSchema):
    price = fields.String(required=True, validate=MONEY)
    regular_price = fields.String(allow_none=True, validate=MONEY)
    promo_ends = fields.Date(allow_none=True)

    @ma.validates_schema
    def promotion_is_complete(self, data, **_):
        if data.get("promo_ends") and not data.get("regular_price"):
            raise ma.ValidationError("A promotion needs its regular_price.", "promo_ends")


class PriceBatchEntry(PriceInput):
    item = fields.String(required=True, validate=SLUG)


class PriceBatch(StrictSchema):
    prices = fields.List(fields.Nested(PriceBatchEntry), required=True,
                         validate=validate.Length(min=1, max=1000))
