"""The core query: where to buy a basket at the lowest price. Database in, database out;
the optimisation itself is the pure engine in basket.py."""
from sqlalchemy import bindparam, select

from ..clock import now
from ..errors import Problem
from ..extensions import request_connection
from ..keys.restrictions import Restrictions
from . import basket
from .catalogue import price_on
from .geo import Circle, rounded_km
from .models import Chain, Country, Item, Price, Store
from .money import format_money
from .nearby import no_store_note, stores_near

# Built once, on the tables rather than the ORM classes: this query runs on every basket,
# and plain rows skip the ORM's per-row loading (about 1 ms for ~500 price rows).
items, stores, prices, chains = (model.__table__ for model in (Item, Store, Price, Chain))
ITEMS_BY_SLUG = select(items.c.id, items.c.slug, items.c.category) \
    .where(items.c.slug.in_(bindparam("slugs", expanding=True)))
STORES_IN_COUNTRY = select(stores.c.id, stores.c.slug, stores.c.name, stores.c.city,
                           stores.c.lat, stores.c.lon, chains.c.slug.label("chain"),
                           chains.c.name.label("chain_name")) \
    .join(chains, stores.c.chain_id == chains.c.id) \
    .where(stores.c.country == bindparam("country"))
# The stores in reach are read once (above: the country's, or those near a point), then
# only the basket's prices at those stores, with no join: the (item_id, store_id) index
# answers it, and ids are mapped to slugs in Python rather than joined per row.
BASKET_PRICES = select(prices.c.store_id, prices.c.item_id, prices.c.amount,
                       prices.c.regular_amount, prices.c.promo_ends) \
    .where(prices.c.item_id.in_(bindparam("item_ids", expanding=True)),
           prices.c.store_id.in_(bindparam("store_ids", expanding=True)))
COUNTRY = select(Country.__table__).where(Country.__table__.c.code == bindparam("code"))


def cheapest_stores(rules: Restrictions, lines: list[tuple[str, int]], country: str | None,
                    limit: int, max_stores: int, near: Circle | None = None) -> dict:
    """The answer of POST /v1/cheapest-stores; with ``near``, over the stores within its
    radius only (the country and the key's restrictions still apply first)."""
    code = country or _only_country(rules)
    # Core statements on the request's connection: plain rows, without the ORM session's
    # bookkeeping (and without checking out a second connection).
    sql = request_connection()
    found = sql.execute(ITEMS_BY_SLUG, {"slugs": [slug for slug, _ in lines]}).all()
    category = {item.slug: item.category for item in found}
    unknown = [slug for slug, _ in lines if slug not in category]
    if unknown:
        raise Problem(404, "unknown-items", "Unknown items: " + ", ".join(unknown) + ".",
                      unknown=unknown)
    rules.check(countries=[code], categories=[category[slug] for slug, _ in lines])
    country = sql.execute(COUNTRY, {"code": code}).first()
    if country is None:
        raise Problem(404, "not-found", f"No stores in country '{code}'.")

    item_slug = {item.id: item.slug for item in found}
    # Only the chains the key may see (a chain's own partner key: its chain alone).
    chains = rules.allowed("chains")  # None: every chain
    if near is None:
        in_reach = {store.id: store for store in
                    sql.execute(STORES_IN_COUNTRY, {"country": code}).all()
                    if chains is None or store.chain in chains}
        distance = {}
    else:
        nearby = [(km, store) for km, store in
                  stores_near(STORES_IN_COUNTRY, near, {"country": code})
                  if chains is None or store.chain in chains]
        in_reach = {store.id: store for _, store in nearby}
        distance = {store.slug: rounded_km(km) for km, store in nearby}
    rows = sql.execute(BASKET_PRICES, {"item_ids": list(item_slug),
                                       "store_ids": list(in_reach)}).all() if in_reach else []
    # Plain dicts and tuples from here: a few hundred rows, each read a few times. One
    # pass over the rows, since unpacking a database row costs more than building an Offer.
    store_slug = {store_id: store.slug for store_id, store in in_reach.items()}
    offers, promo_ends, today = [], {}, now().date()
    for store_id, item_id, amount, regular, ends in rows:
        if ends is not None:  # on promotion: price_on says whether that is over today
            amount, regular, ends = price_on(today, amount, regular, ends)
        offer = basket.Offer(store_slug[store_id], item_slug[item_id], amount, regular)
        offers.append(offer)
        if ends is not None:
            promo_ends[offer.store, offer.item] = ends.isoformat()
    quantities = dict(lines)
    by_slug = {store.slug: store for store in in_reach.values()}
    answer = basket.cheapest_stores(quantities, offers, limit=limit, max_stores=max_stores,
                                    chains={slug: store.chain for slug, store in by_slug.items()})
    result = _present(answer, country, quantities, promo_ends, by_slug, distance)
    if near is not None and not in_reach:
        result["note"] = no_store_note(near)
    return result


def _only_country(rules: Restrictions) -> str:
    """country may be left out when the key allows exactly one."""
    countries = rules.allowed("countries")
    if countries is None or len(countries) != 1:
        raise Problem(422, "validation-error", "country is required.",
                      errors={"country": ["Missing data for required field."]})
    (code,) = countries
    return code


def _present(answer: basket.Answer, country, quantities: dict[str, int],
             promo_ends: dict, stores: dict, distance: dict) -> dict:
    """Money as decimal strings, stores with their names (and distances, with near),
    promotions with their end."""
    def money(amount):
        return None if amount is None else format_money(amount, country.minor_digits)

    def store_ref(slug, id_field="id"):
        store = stores[slug]
        ref = {id_field: slug, "name": store.name, "chain": store.chain,
               "chain_name": store.chain_name, "city": store.city}
        if distance:
            ref["distance_km"] = distance[slug]
        return ref

    return {
        "country": country.code, "currency": country.currency,
        "stores": [{
            "store": store_ref(s.store), "total": money(s.total),
            "items_found": s.items_found, "missing": s.missing,
            "lines": [{"item": line.item, "quantity": line.quantity,
                       "unit_price": money(line.unit_price),
                       "regular_price": money(line.regular_price),
                       "promo_ends": promo_ends.get((s.store, line.item)),
                       "line_total": money(line.line_total)} for line in s.lines],
        } for s in answer.stores],
        "per_item": [{"item": b.item, "store": b.store, "unit_price": money(b.unit_price),
                      "regular_price": money(b.regular_price),
                      "promo_ends": promo_ends.get((b.store, b.item))}
                     for b in answer.per_item],
        "lower_bound": money(sum(b.unit_price * quantities[b.item] for b in answer.per_item)),
        "plan": None if answer.plan is None else {
            "max_stores": answer.plan.max_stores, "total": money(answer.plan.total),
            "exact": answer.plan.exact, "missing": answer.plan.missing,
            "stores": [{**store_ref(stop.store, "store"), "items": stop.items,
                        "subtotal": money(stop.subtotal)} for stop in answer.plan.stores]},
    }
