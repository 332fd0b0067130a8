"""Catalogue input and output: listings, item/store/price rows and price writes. "near"
(a point plus a radius), wherever stores are looked up, is near_schemas.py's."""
from collections import Counter

import marshmallow as ma
from marshmallow import fields, validate

from ..clock import now
from ..schemas import (
    IsoDay,
    JsonNumber,
    PageArgs,
    Pattern,
    StrictSchema,
    UtcDateTime,
    page_schema,
    text,
)
from .near_schemas import LAT, LON, NEAR_HELP, NearArg, NearbyMixin


def country_field(**kwargs):
    return fields.String(validate=Pattern(
        r"^[A-Z]{2}$", error="Use an ISO 3166-1 alpha-2 code such as US."), **kwargs)


SLUG = Pattern(r"^[a-z0-9][a-z0-9-]{0,79}$",
               error="Use lowercase letters, digits and dashes (max 80).")
# Digits are written [0-9], not \d: Python's \d also matches other scripts' digits ("١"),
# which Decimal() and float() would then read, but the document's pattern does not allow.
MONEY = Pattern(r"^[0-9]{1,10}(\.[0-9]{1,4})?$",  # 10 digits: 2,147,483,647 yen
                error="Use a decimal string such as \"1.99\".")


def described(text):
    return {"metadata": {"description": text}}


class ItemQuery(PageArgs):
    q = text(max=100, **described("text found in the item's name or id, as typed "
                                  "(case-insensitive): milk, oat-drink"))
    category = text(max=40,
                             **described("category id; outside the key's categories: 403"))


class StoreQuery(PageArgs, NearbyMixin):
    country = country_field(**described("ISO 3166-1 alpha-2; outside the key's countries: 403"))
    near = NearArg(metadata={"description": NEAR_HELP + ", nearest first"})


class PriceQuery(PageArgs):
    item = fields.String(validate=SLUG, **described("item id"))
    store = fields.String(validate=SLUG, **described("store id"))
    country = country_field(**described("ISO 3166-1 alpha-2; outside the key's countries: 403"))


class DealsQuery(PageArgs, NearbyMixin):
    country = country_field(**described("ISO 3166-1 alpha-2; outside the key's countries: 403"))
    category = text(max=40, **described("category id; outside the key's categories: 403"))
    near = NearArg()


class ItemSchema(StrictSchema):
    id = fields.String(attribute="slug", required=True, validate=SLUG)
    name = text(required=True, min=1, max=120)
    category = text(required=True, min=1, max=40)
    size = JsonNumber(required=True, validate=validate.Range(min=0, min_inclusive=False,
                                                             max=100000))
    unit = fields.String(required=True, validate=validate.OneOf(["l", "kg", "pcs"]))


class StoreSchema(StrictSchema):
    """A store row; dumped from plain dicts (catalogue.store_dict), loaded by POST."""
    id = fields.String(attribute="slug", required=True, validate=SLUG)
    name = text(required=True, min=1, max=120)
    chain = fields.String(required=True, validate=SLUG, metadata={"description": "chain id"})
    chain_name = fields.String(dump_only=True, required=True,
                               metadata={"description": "for display"})
    country = country_field(required=True)
    city = text(required=True, min=1, max=80)
    # Required for new stores; null only for a store from before release 2 whose place
    # the upgrade did not know (migration 0002): such a store is never "near" anything.
    lat = JsonNumber(required=True, validate=LAT)
    lon = JsonNumber(required=True, validate=LON)
    distance_km = fields.Float(dump_only=True, metadata={"description": "with near only"})


class StoreRow(StoreSchema):
    """What listings answer: lat/lon may be null (see StoreSchema)."""
    lat = fields.Float(required=True, allow_none=True)
    lon = fields.Float(required=True, allow_none=True)


class PriceSchema(ma.Schema):
    """Dumped from rows that carry the price plus its store/item slugs and currency
    (catalogue.price_dict): every field is always sent, so every one is required."""
    store = fields.String(required=True)
    item = fields.String(required=True)
    price = fields.String(required=True, metadata={"example": "1.99"})
    regular_price = fields.String(required=True, allow_none=True)
    promo_ends = fields.Date(required=True, allow_none=True)
    currency = fields.String(required=True, metadata={"example": "USD"})
    updated_at = UtcDateTime(required=True)


class DealSchema(PriceSchema):
    saving = fields.String(required=True, metadata={"description": "regular_price - price"})
    saving_percent = fields.Integer(required=True)
    distance_km = fields.Float(metadata={"description": "the store's, with near only"})


NOTE = fields.String(metadata={"description": "with near, when no store is within the "
                                              "radius: says so (data is then empty)"})


def noted_page_schema(row_schema, name):
    """A page that may carry a ``note`` (near, and no store within the radius)."""
    return type(name, (page_schema(row_schema, name + "Base"),), {"note": NOTE})


ItemPage = page_schema(ItemSchema, "ItemPage")
StorePage = noted_page_schema(StoreRow, "StorePage")
PricePage = page_schema(PriceSchema, "PricePage")
DealPage = noted_page_schema(DealSchema, "DealPage")


# --- writes -------------------------------------------------------------------------

AMOUNT = ("a decimal string, above zero, with at most the store currency's minor digits "
          "(USD 2, JPY 0) and at most 2147483647 minor units")


class PriceInput(StrictSchema):
    price = fields.String(required=True, validate=MONEY,
                          metadata={"description": f"the price now: {AMOUNT}"})
    regular_price = fields.String(allow_none=True, validate=MONEY, metadata={
        "description": f"on promotion, the usual price, above `price`: {AMOUNT}"})
    promo_ends = IsoDay(allow_none=True, metadata={
        "description": "the promotion's last day (today or later; none: until the next "
                       "write); needs regular_price. After it, reads show regular_price "
                       "as the price"})

    @ma.validates_schema
    def promotion_is_complete(self, data, **_):
        if data.get("promo_ends") and not data.get("regular_price"):
            raise ma.ValidationError("A promotion needs its regular_price.", "promo_ends")
        if data.get("promo_ends") and data["promo_ends"] < now().date():
            # Every read would take it as over already (catalogue.price_on): say so now.
            raise ma.ValidationError("promo_ends is in the past: that promotion is over.",
                                     "promo_ends")


class PriceBatchEntry(PriceInput):
    item = fields.String(required=True, validate=SLUG)


def distinct_items(entries):
    repeated = sorted(item for item, times in Counter(e["item"] for e in entries).items()
                      if times > 1)
    if repeated:  # which entry should win? The caller knows; we do not guess.
        raise ma.ValidationError(f"Each item may appear once in a batch; repeated: "
                                 f"{', '.join(repeated)}.")


class PriceBatch(StrictSchema):
    prices = fields.List(fields.Nested(PriceBatchEntry), required=True,
                         validate=[validate.Length(min=1, max=1000), distinct_items])
