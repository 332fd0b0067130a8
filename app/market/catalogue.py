"""Catalogue queries. Every query goes through the caller's Restrictions: explicit filters
outside them are refused (403), everything else is narrowed to what the key may see."""
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, or_, select

from ..errors import Problem
from ..extensions import db, request_connection
from ..keys.restrictions import Restrictions
from .geo import Circle, rounded_km
from .models import Chain, Country, Item, Price, Store
from .money import format_money
from .nearby import no_store_note, stores_near


class Listing(NamedTuple):
    """The two statements of a paged listing: the count of all rows, and one page."""
    count: Select
    page: Select


def listing(stmt, order_by) -> Listing:
    """``stmt``'s count and its pages in ``order_by`` (limit and offset bound per call)."""
    return Listing(select(func.count()).select_from(stmt.order_by(None).subquery()),
                   stmt.order_by(*order_by).limit(bindparam("limit"))
                   .offset(bindparam("offset")))


def page_of(rows: Listing, page: int, per_page: int, params: dict | None = None) -> dict:
    """One page of plain rows and the count of all pages, on the request's connection
    (Core rows, not ORM objects: a listing only reads them out)."""
    sql, params = request_connection(), params or {}
    total = sql.scalar(rows.count, params)
    found = sql.execute(rows.page, {**params, "limit": per_page,
                                    "offset": (page - 1) * per_page}).all()
    return {"data": found, "page": page, "per_page": per_page, "total": total}


def list_items(rules: Restrictions, page, per_page, q=None, category=None) -> dict:
    if category:
        rules.check(categories=[category])
    params = {"category": category, "pattern": f"%{escape_like(q)}%" if q else None}
    return page_of(item_listing(rules, bool(category), bool(q)), page, per_page, params)


@lru_cache(maxsize=256)
def item_listing(rules: Restrictions, by_category: bool, by_name: bool) -> Listing:
    """Item listings of one shape, built once (a listing is called for far more often
    than it changes shape; building its statements cost more than running them). The
    values of ``category`` and ``pattern`` are bound per call; a key's restrictions are
    part of the shape (there are as many as keys, and they rarely change)."""
    stmt = rules.narrow(select(Item.__table__), categories=Item.category)
    if by_category:
        stmt = stmt.where(Item.category == bindparam("category"))
    if by_name:
        pattern = bindparam("pattern")
        stmt = stmt.where(func.lower(Item.name).like(func.lower(pattern), escape=LIKE_ESCAPE)
                          | func.lower(Item.slug).like(func.lower(pattern), escape=LIKE_ESCAPE))
    return listing(stmt, [Item.slug])


LIKE_ESCAPE = "/"


def escape_like(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern: its % and _ are not wildcards."""
    return (text.replace(LIKE_ESCAPE, 2 * LIKE_ESCAPE).replace("%", LIKE_ESCAPE + "%")
            .replace("_", LIKE_ESCAPE + "_"))


# Store rows as the API shows them: `chain` is the chain's id, `chain_name` its name.
STORE_ROWS = select(Store.id, Store.slug, Store.name, Chain.slug.label("chain"),
                    Chain.name.label("chain_name"), Store.country, Store.city, Store.lat,
                    Store.lon).join(Chain, Store.chain_id == Chain.id)


def store_dict(row, distance_km: float | None = None) -> dict:
    store = {"slug": row.slug, "name": row.name, "chain": row.chain,
             "chain_name": row.chain_name, "country": row.country, "city": row.city,
             "lat": row.lat, "lon": row.lon}
    if distance_km is not None:
        store["distance_km"] = rounded_km(distance_km)
    return store


def visible_stores(rules: Restrictions, country: str | None):
    """The stores the key may see, in ``country`` if given (checked against the key)."""
    if country:
        rules.check(countries=[country])
    stmt = rules.narrow(STORE_ROWS, countries=Store.country, chains=Chain.slug)
    return stmt.where(Store.country == country) if country else stmt


def list_stores(rules: Restrictions, page, per_page, country=None,
                near: Circle | None = None) -> dict:
    """By id; with ``near``, only those within the radius, nearest first."""
    stmt = visible_stores(rules, country)
    if near is None:
        result = page_of(listing(stmt, [Store.slug]), page, per_page)
        return {**result, "data": [store_dict(row) for row in result["data"]]}
    found = stores_near(stmt, near)
    start = (page - 1) * per_page
    answer = {"data": [store_dict(row, km) for km, row in found[start:start + per_page]],
              "page": page, "per_page": per_page, "total": len(found)}
    return answer if found else {**answer, "note": no_store_note(near)}


def price_on(day: date, amount: int, regular_amount: int | None,
             promo_ends: date | None) -> tuple[int, int | None, date | None]:
    """A price as it stands on `day` (amount, regular_amount, promo_ends): after a
    promotion's last day the regular price is the price again, with no promotion. The
    row keeps what was written until the store writes again; every read applies this."""
    if promo_ends is not None and promo_ends < day and regular_amount is not None:
        return regular_amount, None, None
    return amount, regular_amount, promo_ends


def narrow_prices(rules: Restrictions, stmt):
    """For price_rows statements: what the key may see."""
    return rules.narrow(stmt, countries=Store.country, categories=Item.category,
                        chains=Chain.slug)


def price_rows():
    """Prices with what a client needs to read them: slugs, currency and digits."""
    return (select(Price.amount, Price.regular_amount, Price.promo_ends, Price.updated_at,
                   Price.store_id, Store.slug.label("store"), Item.slug.label("item"),
                   Country.currency, Country.minor_digits)
            .join(Store, Price.store_id == Store.id).join(Item, Price.item_id == Item.id)
            .join(Country, Store.country == Country.code)
            .join(Chain, Store.chain_id == Chain.id))


def list_prices(rules: Restrictions, today, page, per_page, item=None, store=None,
                country=None):
    """Prices as they stand today (price_on: a promotion past its last day is over)."""
    # Collect every explicit filter first, so a 403 names all violations at once.
    countries = [country] if country else []
    categories = [get_item(item).category] if item else []
    chains = []
    if store:
        found = get_store(store)
        countries.append(found.country)
        chains.append(found.chain.slug)
    rules.check(countries=countries, categories=categories, chains=chains)
    stmt = narrow_prices(rules, price_rows())
    if item:
        stmt = stmt.where(Item.slug == item)
    if store:
        stmt = stmt.where(Store.slug == store)
    if country:
        stmt = stmt.where(Store.country == country)
    result = page_of(listing(stmt, [Store.slug, Item.slug]), page, per_page)
    return {**result, "data": [price_dict(row, today) for row in result["data"]]}


def list_deals(rules: Restrictions, today, page, per_page, country=None, category=None,
               near: Circle | None = None):
    """Today's promotions, biggest relative saving first (currencies differ, so percent);
    with ``near``, only at stores within the radius, each deal with its distance_km."""
    rules.check(countries=[country] if country else [], categories=[category] if category else [])
    saving = (Price.regular_amount - Price.amount) * 1.0 / Price.regular_amount
    # On promotion today: a regular price, and an end not yet passed (or none given).
    stmt = narrow_prices(rules, price_rows().where(
        Price.regular_amount.is_not(None),
        or_(Price.promo_ends.is_(None), Price.promo_ends >= today)))
    if country:
        stmt = stmt.where(Store.country == country)
    if category:
        stmt = stmt.where(Item.category == category)
    distances = {}
    if near is not None:
        distances = {row.id: km for km, row in stores_near(visible_stores(rules, country), near)}
        if not distances:
            return {"data": [], "page": page, "per_page": per_page, "total": 0,
                    "note": no_store_note(near)}
        stmt = stmt.where(Price.store_id.in_(distances))
    result = page_of(listing(stmt, [saving.desc(), Store.slug, Item.slug]), page, per_page)
    data = []
    for row in result["data"]:
        deal = deal_dict(row, today)
        if near is not None:
            deal["distance_km"] = rounded_km(distances[row.store_id])
        data.append(deal)
    return {**result, "data": data}


def price_dict(row, today) -> dict:
    digits = row.minor_digits
    amount, regular, ends = price_on(today, row.amount, row.regular_amount, row.promo_ends)
    return {"store": row.store, "item": row.item,
            "price": format_money(amount, digits),
            "regular_price": format_money(regular, digits) if regular is not None else None,
            "promo_ends": ends, "currency": row.currency, "updated_at": row.updated_at}


def deal_dict(row, today) -> dict:
    saving = row.regular_amount - row.amount
    return {**price_dict(row, today), "saving": format_money(saving, row.minor_digits),
            "saving_percent": round(100 * saving / row.regular_amount)}


def get_item(slug: str) -> Item:
    item = db.session.scalar(select(Item).where(Item.slug == slug))
    if item is None:
        raise Problem(404, "not-found", f"No item with id '{slug}'.")
    return item


def get_store(slug: str) -> Store:
    store = db.session.scalar(select(Store).where(Store.slug == slug))
    if store is None:
        raise Problem(404, "not-found", f"No store with id '{slug}'.")
    return store
