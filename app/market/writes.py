"""Catalogue writes (scope ``write``). Each function validates everything first, against
the caller's restrictions too, and commits once: a batch lands whole or not at all."""
from sqlalchemy import delete, select

from ..clock import now
from ..errors import Problem
from ..extensions import db
from ..keys.restrictions import Restrictions
from .catalogue import STORE_ROWS, get_item, get_store, price_dict, price_rows, store_dict
from .models import Category, Chain, Country, Item, Price, Store
from .money import parse_money


def upsert_prices(rules: Restrictions, store_slug: str, entries: list[dict],
                  batch: bool = True) -> tuple[bool, list[dict]]:
    """Create or replace prices of one store. Returns (anything created?, price rows)."""
    store = get_store(store_slug)
    slugs = [entry["item"] for entry in entries]
    items = {item.slug: item for item in
             db.session.scalars(select(Item).where(Item.slug.in_(slugs)))}
    unknown = [slug for slug in slugs if slug not in items]
    if unknown:
        raise Problem(404, "unknown-items", "Unknown items: " + ", ".join(unknown) + ".",
                      unknown=unknown)
    rules.check(countries=[store.country], categories=[items[s].category for s in slugs],
                chains=[store.chain.slug])

    digits = db.session.get(Country, store.country).minor_digits
    amounts, errors = [], {}
    for index, entry in enumerate(entries):
        try:
            amounts.append(_amounts(entry, digits))
        except ValueError as error:
            field, message = error.args
            errors[str(index)] = {field: [message]}
    if errors:  # the same shape as the schema's own errors
        raise Problem(422, "validation-error", "Some prices are invalid.",
                      errors={"prices": errors} if batch else errors["0"])

    existing = {price.item_id: price for price in db.session.scalars(
        select(Price).where(Price.store_id == store.id,
                            Price.item_id.in_([items[s].id for s in slugs])))}
    created = False
    for entry, (amount, regular) in zip(entries, amounts):
        item = items[entry["item"]]
        price = existing.get(item.id)
        if price is None:
            price = Price(store_id=store.id, item_id=item.id)
            db.session.add(price)
            created = True
        price.amount, price.regular_amount = amount, regular
        price.promo_ends = entry.get("promo_ends") if regular is not None else None
        price.updated_at = now()
    db.session.commit()
    rows = db.session.execute(price_rows().where(Price.store_id == store.id,
                                                 Item.slug.in_(slugs)))
    by_item = {row.item: price_dict(row, now().date()) for row in rows}
    return created, [by_item[slug] for slug in slugs]


MAX_MINOR_UNITS = 2**31 - 1  # the prices columns are 32-bit integers


def _amounts(entry: dict, digits: int) -> tuple[int, int | None]:
    """Minor units of price and regular_price; the digits depend on the store's currency."""
    amounts = {}
    for field in ("price", "regular_price"):
        if entry.get(field) is not None:
            try:
                amounts[field] = parse_money(entry[field], digits)
            except ValueError as error:
                raise ValueError(field, str(error)) from None
    for field, minor_units in amounts.items():
        if minor_units > MAX_MINOR_UNITS:
            raise ValueError(field, "Too large for this currency.")
    amount, regular = amounts["price"], amounts.get("regular_price")
    if amount <= 0:
        raise ValueError("price", "Must be greater than zero.")
    if regular is not None and regular <= amount:
        raise ValueError("regular_price", "Must be above the promotional price.")
    return amount, regular


def delete_price(rules: Restrictions, store_slug: str, item_slug: str) -> None:
    store, item = get_store(store_slug), get_item(item_slug)
    rules.check(countries=[store.country], categories=[item.category],
                chains=[store.chain.slug])
    deleted = db.session.execute(delete(Price).where(Price.store_id == store.id,
                                                     Price.item_id == item.id)).rowcount
    if not deleted:
        raise Problem(404, "not-found", f"Store '{store_slug}' has no price for '{item_slug}'.")
    db.session.commit()


def create_item(rules: Restrictions, data: dict) -> Item:
    if db.session.get(Category, data["category"]) is None:
        raise Problem(422, "validation-error", "Unknown category.",
                      errors={"category": [f"No category '{data['category']}'."]})
    rules.check(categories=[data["category"]])
    _ensure_new(Item, data["slug"])
    item = Item(**data)
    db.session.add(item)
    db.session.commit()
    return item


def create_store(rules: Restrictions, data: dict) -> dict:
    if db.session.get(Country, data["country"]) is None:
        raise Problem(422, "validation-error", "Unknown country.",
                      errors={"country": [f"No country '{data['country']}'."]})
    rules.check(countries=[data["country"]], chains=[data["chain"]])
    chain = db.session.scalar(select(Chain).where(Chain.slug == data.pop("chain")))
    if chain is None:
        raise Problem(422, "validation-error", "Unknown chain.",
                      errors={"chain": ["No such chain id."]})
    _ensure_new(Store, data["slug"])
    store = Store(chain=chain, **data)
    db.session.add(store)
    db.session.commit()
    return store_dict(db.session.execute(STORE_ROWS.where(Store.id == store.id)).one())


def _ensure_new(model, slug: str) -> None:
    if db.session.scalar(select(model.id).where(model.slug == slug)) is not None:
        raise Problem(409, "conflict", f"'{slug}' already exists.")
