"""Catalogue writes: prices, items and stores (scope ``write``)."""
from ...blueprint import Blueprint

from ...keys.openapi import keyed_operation
from ...keys.restrictions import current_restrictions
from ...keys.scope import requires
from ...openapi import describe_path_parameter
from .. import writes
from ..schemas import (
    SLUG,
    ItemSchema,
    PriceBatch,
    PriceInput,
    PricePage,
    PriceSchema,
    StoreSchema,
)

blp = Blueprint("writes", __name__, url_prefix="/v1", description="Catalogue writes")
describe_path_parameter("store_id", "The store's id (lowercase letters, digits, dashes).",
                        pattern=SLUG.regex.pattern)
describe_path_parameter("item_id", "The item's id (lowercase letters, digits, dashes).",
                        pattern=SLUG.regex.pattern)


@blp.route("/stores/<store_id>/prices/<item_id>", methods=["PUT"])
@blp.arguments(PriceInput)
@blp.response(200, PriceSchema)
@blp.alt_response(201, schema=PriceSchema, description="Created")
@keyed_operation(blp, 404, 422)
@requires("write")
def put_price(data, store_id, item_id):
    """Create or replace one price.

    Sets the price of an item in a store: 201 when it is new, 200 when it replaced one. The
    store's country and the item's category must be within the key's restrictions.
    """
    created, rows = writes.upsert_prices(current_restrictions(), store_id,
                                         [{**data, "item": item_id}], batch=False)
    return rows[0], 201 if created else 200


@blp.route("/stores/<store_id>/prices", methods=["POST"])
@blp.arguments(PriceBatch)
@blp.response(200, PricePage)
@keyed_operation(blp, 404, 422)
@requires("write")
def post_prices(data, store_id):
    """Create or replace many prices of one store, all or nothing.

    Sets up to 1000 prices of one store in one transaction: if any entry is invalid (listed
    per index in `errors`), none is written. Each item may appear once. The body is at
    most 64 KiB: about 1,000 plain prices, or 550 with `regular_price` and `promo_ends`.
    """
    _, rows = writes.upsert_prices(current_restrictions(), store_id, data["prices"])
    return {"data": rows, "page": 1, "per_page": len(rows), "total": len(rows)}


@blp.route("/stores/<store_id>/prices/<item_id>", methods=["DELETE"])
@blp.response(204)
@keyed_operation(blp, 404)
@requires("write")
def delete_price(store_id, item_id):
    """Remove a price.

    Deletes the price of an item in a store; 404 if the store has none for it.
    """
    writes.delete_price(current_restrictions(), store_id, item_id)


@blp.route("/items", methods=["POST"])
@blp.arguments(ItemSchema)
@blp.response(201, ItemSchema)
@keyed_operation(blp, 409, 422)
@requires("write")
def create_item(data):
    """Add an item to the catalogue.

    Adds an item with a new id to an existing category; an id that exists already is a 409.
    """
    return writes.create_item(current_restrictions(), data)


@blp.route("/stores", methods=["POST"])
@blp.arguments(StoreSchema)
@blp.response(201, StoreSchema)
@keyed_operation(blp, 409, 422)
@requires("write")
def create_store(data):
    """Add a store.

    Adds a store with a new id to an existing chain and country; an id that exists already
    is a 409.
    """
    return writes.create_store(current_restrictions(), data)
