"""The core query: where to buy a basket at the lowest price. Database in, database out;
the optimisation itself is the pure engine in app/basket.py."""
from sqlalchemy import select

from . import basket
from .errors import Problem
from .extensions import db
from .models import Country, Item, Price, Store
from .money import format_money
from .restrictions import Restrictions


def cheapest_stores(rules: Restrictions, lines: list[tuple[str, int]], country: str | None,
                    limit: int, max_stores: int) -> dict:
    code = country or _only_country(rules)
    items = {item.slug: item for item in db.session.scalars(
        select(Item).where(Item.slug.in_([slug for slug, _ in lines])))}
    unknown = [slug for slug, _ in lines if slug not in items]
    if unknown:
        raise Problem(404, "unknown-items", "Unknown items: " + ", ".join(unknown) + ".",
                      unknown=unknown)
    rules.check(countries=[code], categories=[items[slug].category for slug, _ in lines])
    country = db.session.get(Country, code)
    if country is None:
        raise Problem(404, "not-found", f"No stores in country '{code}'.")

    # Reads only the basket's rows: the prices index is (item_id, store_id).
    rows = db.session.execute(
        select(Store.slug.label("store"), Item.slug.label("item"), Price.amount,
               Price.regular_amount, Price.promo_ends)
        .join(Store, Price.store_id == Store.id).join(Item, Price.item_id == Item.id)
        .where(Price.item_id.in_([item.id for item in items.values()]),
               Store.country == country.code)).all()
    offers = [basket.Offer(store=row.store, item=row.item, unit_price=row.amount,
                           regular_price=row.regular_amount) for row in rows]
    promo_ends = {(row.store, row.item): row.promo_ends for row in rows if row.promo_ends}
    quantities = dict(lines)
    answer = basket.cheapest_stores(quantities, offers, limit=limit, max_stores=max_stores)
    return _present(answer, country, quantities, promo_ends)


def _only_country(rules: Restrictions) -> str:
    """country may be left out when the key allows exactly one."""
    if rules.countries is None or len(rules.countries) != 1:
        raise Problem(422, "validation-error", "country is required.",
                      errors={"country": ["Missing data for required field."]})
    (code,) = rules.countries
    return code


def _present(answer: basket.Answer, country: Country, quantities: dict[str, int],
             promo_ends: dict) -> dict:
    """Money as decimal strings, stores with their names, promotions with their end."""
    def money(amount):
        return None if amount is None else format_money(amount, country.minor_digits)

    slugs = {s.store for s in answer.stores} | {
        stop.store for stop in (answer.plan.stores if answer.plan else [])}
    stores = {store.slug: store for store in db.session.scalars(
        select(Store).where(Store.slug.in_(slugs)))} if slugs else {}

    def store_ref(slug):
        store = stores[slug]
        return {"id": slug, "name": store.name, "chain": store.chain.name, "city": store.city}

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
            "stores": [{**store_ref(stop.store), "store": stop.store, "items": stop.items,
                        "subtotal": money(stop.subtotal)} for stop in answer.plan.stores]},
    }
