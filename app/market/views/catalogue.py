"""Catalogue reads: items, stores, prices and deals (scope ``read``)."""
from ...blueprint import Blueprint

from ...clock import now
from ...keys.openapi import keyed_operation
from ...keys.restrictions import current_restrictions
from ...keys.scope import requires
from .. import catalogue
from ..schemas import (
    DealPage,
    DealsQuery,
    ItemPage,
    ItemQuery,
    PricePage,
    PriceQuery,
    StorePage,
    StoreQuery,
)

blp = Blueprint("catalogue", __name__, url_prefix="/v1", description="Catalogue and prices")


@blp.route("/items")
@blp.arguments(ItemQuery, location="query")
@blp.response(200, ItemPage)
@keyed_operation(blp, 422)
@requires("read")
def list_items(args):
    """Search the catalogue (narrowed to the key's categories).

    Items whose name matches `q`, optionally of one category. Without `category`, only the
    key's categories are listed; a category outside them is a 403.
    """
    return catalogue.list_items(current_restrictions(), **args)


@blp.route("/stores")
@blp.arguments(StoreQuery, location="query")
@blp.response(200, StorePage)
@keyed_operation(blp, 422)
@requires("read")
def list_stores(args):
    """List stores (narrowed to the key's countries).

    Stores, optionally of one country: without `country`, only the key's countries are
    listed; a country outside them is a 403. By id. With `near=LAT,LON`, only the stores
    within `radius_km` (default 10, at most 100) of that point, nearest first, each with
    its `distance_km` (great-circle, 0.01 km); when none is that close, `data` is empty
    and `note` says so. `chain` is the chain's id, `chain_name` its display name.
    """
    return catalogue.list_stores(current_restrictions(), **args)


@blp.route("/prices")
@blp.arguments(PriceQuery, location="query")
@blp.response(200, PricePage)
@keyed_operation(blp, 404, 422)
@requires("read")
def list_prices(args):
    """List current prices, filtered by item, store or country.

    Current prices, each with its store, item, currency and promotion. An unknown item or
    store is a 404.
    """
    return catalogue.list_prices(current_restrictions(), now().date(), **args)


@blp.route("/deals")
@blp.arguments(DealsQuery, location="query")
@blp.response(200, DealPage)
@keyed_operation(blp, 422)
@requires("read")
def list_deals(args):
    """Today's discounted prices, biggest saving first.

    Prices on promotion today (regular_price above price, promo_ends not passed), biggest
    relative saving first, within the key's restrictions. With `near=LAT,LON` (and
    `radius_km`, default 10), only the deals of stores within that radius, each with the
    store's `distance_km`; when no store is that close, `data` is empty and `note` says so.
    """
    return catalogue.list_deals(current_restrictions(), now().date(), **args)
