"""Catalogue input and output: listings, item/store/price rows and price writes."""
import marshmallow as ma
from marshmallow import fields, validate

from ..schemas import PageArgs, StrictSchema, UtcDateTime, page_schema


def country_field(**kwargs):
    return fields.String(validate=validate.Regexp(
        r"^[A-Z]{2}$", error="Use an ISO 3166-1 alpha-2 code such as US."), **kwargs)


SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$",
                       error="Use lowercase letters, digits and dashes (max 80).")
MONEY = validate.Regexp(r"^\d{1,9}(\.\d{1,4})?$", error="Use a decimal string such as \"1.99\".")


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
