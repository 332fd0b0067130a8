"""Input and output of the cheapest-stores query."""
import marshmallow as ma
from marshmallow import fields, validate

from ..errors import Problem
from ..schemas import JsonNumber, Pattern, QueryInteger, StrictSchema
from .near_schemas import NEAR_HELP, RADIUS, NearArg, NearbyMixin, NearPoint
from .schemas import SLUG, country_field

MAX_BASKET = 100
# The GET form's `items` (ids and commas) may be this long: with commas sent as %2C
# (2 more bytes each, at most 99 of them) and every other parameter at its longest
# (under 200 bytes with the method, path and HTTP version), the request line stays
# under 3,400 bytes, well within gunicorn's limit_request_line (4,094). Longer
# baskets belong in the POST body: the GET form answers 414 pointing there.
MAX_GET_ITEMS = 3000


SLUG_PATTERN = SLUG.regex.pattern
ITEM_LIST_PATTERN = rf"^{SLUG_PATTERN[1:-1]}(,{SLUG_PATTERN[1:-1]}){{0,{MAX_BASKET - 1}}}$"


class BasketEntry(fields.Field):
    """An item id, or {"item": id, "quantity": n}; loads as (id, quantity)."""
    # How the document states it: one of the two forms, each as strict as BasketLine.
    DOC = {"oneOf": [
        {"type": "string", "pattern": SLUG_PATTERN, "description": "an item id (quantity 1)"},
        {"type": "object", "title": "BasketLine", "required": ["item"],
         "additionalProperties": False,
         "properties": {"item": {"type": "string", "pattern": SLUG_PATTERN},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 99,
                                     "default": 1}}}]}

    def __init__(self, **kwargs):
        super().__init__(metadata=self.DOC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if SLUG.regex.fullmatch(value):  # the common case, without a schema load per item
                return value, 1
            value = {"item": value}  # BasketLine then says what is wrong with it
        if not isinstance(value, dict):
            raise ma.ValidationError('Use an item id or {"item": id, "quantity": n}.')
        return BASKET_LINE.load(value)


class BasketLine(StrictSchema):
    item = fields.String(required=True, validate=SLUG)
    quantity = fields.Integer(load_default=1, strict=True,
                              validate=validate.Range(min=1, max=99))

    @ma.post_load
    def as_pair(self, data, **_):
        return data["item"], data["quantity"]


BASKET_LINE = BasketLine()  # shared by every entry: building a schema costs more than a load


def unique_items(lines):
    ids = [item for item, _ in lines]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ma.ValidationError(f"Each item may appear once; repeated: {', '.join(duplicates)}. "
                                 "Use quantity instead.")


class CheapestQuery(NearbyMixin):
    items = fields.List(BasketEntry(), required=True, validate=[
        validate.Length(min=1, max=MAX_BASKET), unique_items],
        metadata={"description": "1-100 distinct items: an id or {item, quantity (1-99)}; "
                                 "an item may appear once"})
    near = NearPoint(metadata={"description": NEAR_HELP})
    radius_km = JsonNumber(validate=RADIUS, metadata=NearbyMixin.RADIUS_HELP)
    country = country_field(metadata={"description": "required unless the key allows "
                                                     "exactly one country"})
    limit = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=1, max=50),
                           metadata={"description": "single stores to rank (1-50)"})
    max_stores = fields.Integer(load_default=2, strict=True,
                                validate=validate.Range(min=1, max=3),
                                metadata={"description": "stores the plan may combine (1-3); "
                                                         "plan is null when 1"})


class CheapestQueryArgs(NearbyMixin):
    """GET form for curl: ?items=a,b,c&country=US&near=LAT,LON (quantities 1)."""
    items = fields.String(required=True, validate=[
        validate.Length(min=1, max=MAX_GET_ITEMS), Pattern(ITEM_LIST_PATTERN)],
        metadata={"description": f"1-100 distinct item ids, comma-separated, no spaces, at "
                                 f"most {MAX_GET_ITEMS:,} characters (longer: use POST, or "
                                 "get a 414)"})
    country = country_field(metadata={"description": "required unless the key allows "
                                                     "exactly one country"})
    near = NearArg(metadata={"description": NEAR_HELP})
    limit = QueryInteger(load_default=5, validate=validate.Range(min=1, max=50),
                         metadata={"description": "single stores to rank (1-50)"})
    max_stores = QueryInteger(load_default=2, validate=validate.Range(min=1, max=3),
                              metadata={"description": "stores the plan may combine (1-3)"})

    @ma.pre_load
    def fits_in_a_url(self, data, **_):
        if len(data.get("items") or "") > MAX_GET_ITEMS:
            raise Problem(414, "uri-too-long",
                          f"items is longer than the GET form takes ({MAX_GET_ITEMS:,} "
                          "characters): send the basket as JSON to POST /v1/cheapest-stores.")
        return data

    @ma.post_load
    def split_items(self, data, **_):
        lines = [(item, 1) for item in data["items"].split(",")]
        errors = CheapestQuery().validate({"items": [i for i, _ in lines]})
        if errors:
            raise ma.ValidationError(errors["items"], "items")
        return {**data, "items": lines}


DISTANCE = fields.Float(metadata={"description": "km from near (0.01 km), with near only"})


class StoreRef(ma.Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    chain = fields.String(required=True, metadata={"description": "chain id"})
    chain_name = fields.String(required=True)
    city = fields.String(required=True)
    distance_km = DISTANCE


class LineSchema(ma.Schema):
    item = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = fields.String(required=True)
    regular_price = fields.String(required=True, allow_none=True)
    promo_ends = fields.Date(required=True, allow_none=True)
    line_total = fields.String(required=True)


class StoreBasketSchema(ma.Schema):
    store = fields.Nested(StoreRef, required=True)
    total = fields.String(required=True)
    items_found = fields.Integer(required=True)
    missing = fields.List(fields.String(), required=True)
    lines = fields.List(fields.Nested(LineSchema), required=True)


class BestOfferSchema(ma.Schema):
    item = fields.String(required=True)
    store = fields.String(required=True)
    unit_price = fields.String(required=True)
    regular_price = fields.String(required=True, allow_none=True)
    promo_ends = fields.Date(required=True, allow_none=True)


class PlanStopSchema(ma.Schema):
    store = fields.String(required=True, metadata={"description": "store id"})
    name = fields.String(required=True)
    chain = fields.String(required=True, metadata={"description": "chain id"})
    chain_name = fields.String(required=True)
    city = fields.String(required=True)
    distance_km = DISTANCE
    items = fields.List(fields.String(), required=True)
    subtotal = fields.String(required=True)


class PlanSchema(ma.Schema):
    max_stores = fields.Integer(required=True)
    total = fields.String(required=True)
    exact = fields.Boolean(required=True)
    missing = fields.List(fields.String(), required=True)
    stores = fields.List(fields.Nested(PlanStopSchema), required=True)


class CheapestAnswer(ma.Schema):
    country = fields.String(required=True)
    currency = fields.String(required=True)
    stores = fields.List(fields.Nested(StoreBasketSchema), required=True)
    per_item = fields.List(fields.Nested(BestOfferSchema), required=True)
    lower_bound = fields.String(required=True,
                                metadata={"description": "sum of per_item line totals"})
    plan = fields.Nested(PlanSchema, required=True, allow_none=True, metadata={
        "description": "the cheapest way to buy it all from at most max_stores stores; "
                       "null when max_stores is 1"})
    note = fields.String(metadata={"description": "with near, when no store is within the "
                                                  "radius: says so (the answers are empty)"})
