"""The core query (scope ``read``)."""
from flask import g
from ...blueprint import Blueprint

from ...keys.openapi import keyed_operation
from ...keys.restrictions import current_restrictions
from ...keys.scope import requires
from .. import cheapest
from ..cheapest_schemas import CheapestAnswer, CheapestQuery, CheapestQueryArgs

blp = Blueprint("cheapest", __name__, url_prefix="/v1", description="Cheapest stores")

UNITS_PER_EXTRA = 10  # billing: 1 unit per call + 1 per 10 basket items


def answer(args):
    g.extra_units = len(args["items"]) // UNITS_PER_EXTRA
    return cheapest.cheapest_stores(current_restrictions(), args["items"], args.get("country"),
                                    args["limit"], args["max_stores"])


@blp.route("/cheapest-stores", methods=["POST"])
@blp.arguments(CheapestQuery)
@blp.response(200, CheapestAnswer)
@keyed_operation(blp, 404, 422)
@requires("read")
def post_cheapest_stores(args):
    """Where to buy a basket at the lowest price: single stores, per item and a plan.

    For a basket of 1-100 distinct items (quantities 1-99) in one country: single stores
    ranked by total (complete baskets first, ties by store id), the cheapest offer per
    item, and the cheapest plan over at most `max_stores` stores. Unknown items are a 404
    listing them. Billed 1 unit plus 1 per 10 items.
    """
    return answer(args)


@blp.route("/cheapest-stores", methods=["GET"])
@blp.arguments(CheapestQueryArgs, location="query")
@blp.response(200, CheapestAnswer)
@keyed_operation(blp, 404, 422)
@requires("read")
def get_cheapest_stores(args):
    """The same for curl: ?items=a,b,c&country=US, quantities 1.

    The POST form's answer for a comma-separated list of item ids, each with quantity 1
    (the request line must stay under 4094 bytes; use POST for large baskets).
    """
    return answer(args)
