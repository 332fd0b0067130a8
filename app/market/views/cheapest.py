"""The core query (scope ``read``)."""
from flask import current_app, g

from ...blueprint import Blueprint
from ...errors import PROBLEM_JSON, ProblemSchema
from ...keys.openapi import keyed_operation
from ...keys.restrictions import current_restrictions
from ...keys.scope import requires
from .. import cheapest
from ..cheapest_schemas import CheapestAnswer, CheapestQuery, CheapestQueryArgs

blp = Blueprint("cheapest", __name__, url_prefix="/v1", description="Cheapest stores")

UNITS_PER_EXTRA = 10  # billing: 1 unit per call + 1 per 10 basket items


def answer(args):
    """The answer as JSON. cheapest.py builds it in its final shape (CheapestAnswer
    documents it, and the tests check that dumping it through the schema changes
    nothing), so it is sent as is: dumping a ~10 kB answer field by field again was a
    fifth of the request's CPU time."""
    g.extra_units = len(args["items"]) // UNITS_PER_EXTRA
    return current_app.json.response(cheapest.cheapest_stores(
        current_restrictions(), args["items"], args.get("country"), args["limit"],
        args["max_stores"], args.get("near")))


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
    With `near` ({"lat", "lon"}) and `radius_km` (default 10, at most 100), only stores
    within that radius count, and every store in the answer carries its `distance_km`;
    when no store is that close, the answers are empty and `note` says so.
    """
    return answer(args)


@blp.route("/cheapest-stores", methods=["GET"])
@blp.arguments(CheapestQueryArgs, location="query")
@blp.response(200, CheapestAnswer)
@blp.alt_response(414, description="items too long for a URL: use POST",
                  content_type=PROBLEM_JSON, schema=ProblemSchema)
@keyed_operation(blp, 404, 422)
@requires("read")
def get_cheapest_stores(args):
    """The same for curl: ?items=a,b,c&country=US&near=LAT,LON, quantities 1.

    The same answer as the POST form, for quantities of 1: with `near` (and `radius_km`,
    default 10, at most 100) only stores within the radius, each with its `distance_km`,
    and a `note` when none is that close. `items` holds at most 3,000 characters, so
    that the request line fits in what the server accepts (gunicorn's 4,094 bytes); a
    longer one is answered 414 pointing to the POST form. An unknown parameter (say
    `radius=5`) is a 422 naming it, as an unknown field of the POST body is.
    """
    return answer(args)
