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

    Stores, optionally of one country. Without `country`, only the key's countries are
    listed; a country outside them is a 403.
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
    return catalogue.list_prices(current_restrictions(), **args)


@blp.route("/deals")
@blp.arguments(DealsQuery, location="query")
@blp.response(200, DealPage)
@keyed_operation(blp, 422)
@requires("read")
def list_deals(args):
    """Today's discounted prices, biggest saving first.

    Prices on promotion today (regular_price above price, promo_ends not passed), biggest
    saving first, within the key's restrictions.
    """
    return catalogue.list_deals(current_restrictions(), now().date(), **args)
