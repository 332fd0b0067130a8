"""Bulk-load the prices table: every store x item pair is decided inside the database.

A large demo (1,000 stores x 50,000 items) has ~30 million prices. Building those rows in
Python and sending them over would cost minutes; instead we upload one small row per item
(a temporary table) and run one ``INSERT ... SELECT`` per store over it, the store's own
numbers passed as parameters. Everything random comes from an integer hash of the store's
and the item's keys, which evaluates identically on SQLite and PostgreSQL, so the data is
deterministic and the same on both.
"""
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    MetaData,
    Table,
    bindparam,
    case,
    func,
    insert,
    select,
)

from app.market.models import Price

from .bulk import indexes_rebuilt_after

# Keys are random integers in [1, P); P = 2^31 - 1 is prime, so for a fixed store the hash
# (store key * item key) mod P is spread evenly over the items, and the product of two keys
# still fits in a signed 64-bit integer (SQLite silently turns an overflow into a float).
P = 2_147_483_647


@dataclass(frozen=True)
class StorePricing:
    store_id: int
    key: int  # random in [1, P)
    factors_ppm: tuple[int, ...]  # per category (by index): chain level x country
    #                               conversion, in millionths
    coverage_pm: int  # share of the catalogue the store carries, per mille
    charm: int  # last digit of regular prices: 9 ($2.49), 8 in Japan (¥198)
    promo_ends: date  # the store's current flyer ends on this day


@dataclass(frozen=True)
class ItemPricing:
    id: int
    key: int  # random in [1, P)
    base_cents: int
    category: int  # index of the item's category, which picks the store's factor
    reach_pm: int  # added to a store's coverage: staples are in nearly every store


# Not in the app's metadata, so db.create_all() never creates it. BigInteger because
# PostgreSQL would overflow a 32-bit product of two keys instead of widening it.
_items = Table("seed_item_pricing", MetaData(), Column("id", BigInteger, primary_key=True),
               Column("key", BigInteger), Column("base_cents", BigInteger),
               Column("category", BigInteger), Column("reach_pm", BigInteger),
               prefixes=["TEMPORARY"])


def _store_prices(categories: int):
    """One store's rows for the prices table (the store's numbers are bind parameters).
    The hash h is uniform in [1, P); its mixed-radix "digits" drive independent choices:
    h % 1000 whether the store carries the item, the next digit (base 101) the price noise,
    then whether it is on promotion and at which discount."""
    def store(name: str, type_=BigInteger):
        return bindparam(name, type_=type_)

    item = _items.c
    h = (store("key") * item.key) % P
    noise_pm = 950 + h // 1000 % 101  # +-5 % per store and item
    factor_ppm = case(*((item.category == n, store(f"factor_{n}"))
                        for n in range(categories)))
    # Integer arithmetic only, so SQLite and PostgreSQL round identically.
    raw = item.base_cents * factor_ppm * noise_pm // 1_000_000_000
    regular = raw // 10 * 10 + store("charm")
    on_promo = h // 101_000 % 10 == 0  # ~10 % of prices
    promo_price = regular * (70 + h // 1_010_000 % 21) // 100  # 70-90 % of regular
    return (
        select(store("store_id"), item.id,
               case((on_promo, promo_price), else_=regular),  # amount
               case((on_promo, regular)),  # regular_amount, NULL when not on promotion
               case((on_promo, store("promo_ends", Date))),
               store("now", DateTime))
        .where(h % 1000 < store("coverage_pm") + item.reach_pm)
    )


def _parameters(store: StorePricing, now: datetime) -> dict:
    """One store's bind parameters: its numbers, with one ``factor_N`` per category."""
    row = {**asdict(store), "now": now}
    row.update((f"factor_{n}", factor) for n, factor in enumerate(row.pop("factors_ppm")))
    return row


def load_prices(conn: Connection, stores: list[StorePricing], items: list[ItemPricing],
                now: datetime) -> tuple[int, int]:
    """Fill the (empty) prices table with the prices of ``stores`` x ``items``, in the
    caller's transaction. Returns (prices, promotions)."""
    _items.drop(conn, checkfirst=True)  # left over from a failed run on this connection
    _items.create(conn)
    conn.execute(insert(_items), [asdict(row) for row in items])
    columns = ["store_id", "item_id", "amount", "regular_amount", "promo_ends", "updated_at"]
    with indexes_rebuilt_after(conn, Price.__table__):
        # One statement, run once per store (executemany). Rows come out in (store, item)
        # order, the primary key's, because the item table is scanned in id order.
        categories = len(stores[0].factors_ppm) if stores else 0
        prices = conn.execute(
            insert(Price).from_select(columns, _store_prices(categories))
            .execution_options(preserve_rowcount=True),  # SQLAlchemy drops it otherwise
            [_parameters(store, now) for store in stores],
        ).rowcount
    _items.drop(conn)
    promotions = conn.scalar(select(func.count(Price.regular_amount)))
    return prices, promotions
