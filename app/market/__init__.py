"""The marketplace: the API the keys protect. Catalogue (countries, chains, items, stores,
prices), catalogue writes, and the cheapest-stores query with its pure engine.

    models.py           countries, categories, chains, items, stores, prices
    money.py            integer minor units <-> decimal strings (pure)
    basket.py           the cheapest-stores engine: single stores, per item (pure)
    plan.py             its best plan over several stores (pure), with
      plan_pruning.py, plan_search.py   what skips store sets, and the search itself
    geo.py, nearby.py   distances (pure); stores near a point
    catalogue.py        reads, narrowed by the key's restrictions
    writes.py           price, item and store writes, all or nothing
    cheapest.py         the core query: database in, engine, answer out
    schemas.py, cheapest_schemas.py, near_schemas.py   input and output
    views/              the HTTP endpoints
    cli.py              flask seed

It uses the key layer (``app.keys``) only through its public face: the restriction
dimensions it declares below, ``@requires`` for the scope, ``current_restrictions()`` for
what the key may see."""
from ..keys import Dimension

# What a key of this API may be restricted to. The key layer stores and checks them;
# the marketplace narrows its queries with them (catalogue.py, cheapest.py, writes.py).
DIMENSIONS = [
    Dimension("countries", "country", r"^[A-Z]{2}$", "ISO 3166-1 alpha-2 country codes"),
    Dimension("categories", "category", r"^[a-z][a-z-]{0,39}$", "item category ids"),
    # A chain's pricing partner gets a key for its own chain: it cannot see or touch a
    # competitor's stores and prices.
    Dimension("chains", "chain", r"^[a-z0-9][a-z0-9-]{0,59}$", "store chain ids"),
]


def init_app(app, api):
    from .views import catalogue, cheapest, writes
    for module in (catalogue, writes, cheapest):
        api.register_blueprint(module.blp)
    from .cli import demo_keys_command, seed_command
    app.cli.add_command(seed_command)
    app.cli.add_command(demo_keys_command)
