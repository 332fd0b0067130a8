"""Catalogue writes: prices, items and stores (scope ``write``)."""
from ...blueprint import Blueprint

from ...keys.openapi import keyed_operation
from ...keys.restrictions import current_restrictions
from ...keys.scope import requires
from .. import writes
from ..schemas import (
    ItemSchema,
    PriceBatch,
    PriceInput,
    PricePage,
    PriceSchema,
    StoreSchema,
)

blp = Blueprint("writes", __name__, url_prefix="/v1", description="Catalogue writes")


@blp.route("/stores/<store_id>/prices/<item_id>", methods=["PUT"])
@blp.arguments(PriceInput)
@blp.response(200, PriceSchema)
@blp.alt_response(201, schema=PriceSchema, description="Created")
@keyed_operation(blp, 404, 422)
@requires("write")
def put_price(data, store_id, item_id):
    """Create or replace one price."""
    created, rows = writes.upsert_prices(current_restrictions(), store_id,
                                         [{**data, "item": item_id}], batch=False)
    return rows[0], 201 if created else 200


@blp.route("/stores/<store_id>/prices", methods=["POST"])
@blp.arguments(PriceBatch)
@blp.response(200, PricePage)
@keyed_operation(blp, 404, 422)
@requires("write")
def post_prices(data, store_id):
    """Create or replace many prices of one store, all or nothing."""
    _, rows = writes.upsert_prices(current_restrictions(), store_id, data["prices"])
    return {"data": rows, "page": 1, "per_page": len(rows), "total": len(rows)}


@blp.route("/stores/<store_id>/prices/<item_id>", methods=["DELETE"])
@blp.response(204)
@keyed_operation(blp, 404)
@requires("write")
def delete_price(store_id, item_id):
    """Remove a price."""
    writes.delete_price(current_restrictions(), store_id, item_id)


@blp.route("/items", methods=["POST"])
@blp.arguments(ItemSchema)
@blp.response(201, ItemSchema)
@keyed_operation(blp, 409, 422)
@requires("write")
def create_item(data):
    """Add an item to the catalogue."""
    return writes.create_item(current_restrictions(), data)


@blp.route("/stores", methods=["POST"])
@blp.arguments(StoreSchema)
@blp.response(201, StoreSchema)
@keyed_operation(blp, 409, 422)
@requires("write")
def create_store(data):
    """Add a store."""
    return writes.create_store(current_restrictions(), data)
