"""``seed_catalogue``: replace the catalogue with deterministic, realistic demo data.

Same arguments, same catalogue: every random choice comes from one ``random.Random(seed)``
(never the global one) or from a hash of the keys it hands out (see prices.py). Only the
catalogue tables are touched; API keys and their usage survive a re-seed.
"""
import math
import random
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, delete, insert, text
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.market.geo import offset
from app.market.models import Category, Chain, Country, Item, Price, Store

from .bulk import sqlite_bulk_mode
from .items import ItemData, catalogue_items
from .places import (
    CATEGORIES,
    CHAINS,
    CITY_RADIUS_KM,
    COUNTRIES,
    stores_per_city,
    stores_per_country,
)
from .prices import ItemPricing, P, StorePricing, load_prices


@dataclass(frozen=True)
class StoreData:
    slug: str
    name: str
    chain_id: int
    country: str
    city: str
    lat: float
    lon: float


def place_store(slug: str, centre_lat: float, centre_lon: float) -> tuple[float, float]:
    """Where a store stands: within CITY_RADIUS_KM of its city's centre, uniformly over
    the disc (hence the square root), chosen by its slug alone. So a store keeps its
    place whatever --stores, --items and --seed are, and adding stores moves none."""
    rng = random.Random(f"place:{slug}")  # str seeds are hashed with SHA-512: stable
    distance = CITY_RADIUS_KM * math.sqrt(rng.random())
    lat, lon = offset(centre_lat, centre_lon, distance, rng.uniform(0, 360))
    return round(lat, 6), round(lon, 6)  # ~0.1 m


def plan_stores(total: int) -> list[StoreData]:
    """Stores spread over each country's cities by the cities' shares, and within a city
    over the country's chains (a city's first store is of its own "first" chain, the next
    of the next chain...). Stores come lap by lap: every city's first store, then every
    second store...; so the first US store is ``freshmart-us-boston-1``, the second is in
    Chicago."""
    chain_ids = {chain.slug: n for n, chain in enumerate(CHAINS, start=1)}
    stores = []
    for country, count in zip(COUNTRIES, stores_per_country(total).values()):
        chains = [c for c in CHAINS if country.code in c.countries]
        per_city = stores_per_city(country, count)
        numbers: Counter = Counter()
        for lap in range(max(per_city, default=0)):
            for city_index, (city_slug, city, centre_lat, centre_lon) in enumerate(
                    country.cities):
                if lap >= per_city[city_index]:
                    continue
                chain = chains[(city_index + lap) % len(chains)]
                numbers[chain.slug, city_slug] += 1  # FreshMart Boston, FreshMart Boston #2
                number = numbers[chain.slug, city_slug]
                slug = f"{chain.slug}-{country.code.lower()}-{city_slug}-{number}"
                stores.append(StoreData(
                    slug, f"{chain.name} {city}" + (f" #{number}" if number > 1 else ""),
                    chain_ids[chain.slug], country.code, city,
                    *place_store(slug, centre_lat, centre_lon)))
    return stores


def _clear(session: Session) -> None:
    """Delete the catalogue, children before parents so foreign keys hold at every step."""
    if session.get_bind().dialect.name == "postgresql":
        # DELETE would visit (and leave behind for VACUUM) every one of millions of
        # prices; TRUNCATE swaps in an empty file, and is rolled back like the rest.
        session.execute(text("TRUNCATE prices"))
    for model in (Price, Store, Item, Chain, Category, Country):
        session.execute(delete(model))


def _sync_sequences(conn: Connection) -> None:
    """We insert explicit ids (1..n, the same on every database). PostgreSQL's id sequences
    do not notice, so move them past the new rows or the API's next insert would collide."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("chains", "items", "stores"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"coalesce(max(id), 0) + 1, false) FROM {table}"))


def _pricing(stores: list[StoreData], items: list[ItemData], rng: random.Random,
             today: date) -> tuple[list[StorePricing], list[ItemPricing]]:
    """What the price generator needs to know per store and per item (see prices.py)."""
    country = {c.code: c for c in COUNTRIES}
    categories = [slug for slug, _ in CATEGORIES]
    store_pricing = [StorePricing(
        store_id=n, key=rng.randrange(1, P),
        factors_ppm=tuple(round(CHAINS[s.chain_id - 1].level(category)
                                * country[s.country].price_pm * 1000)
                          for category in categories),
        coverage_pm=rng.randint(500, 800),  # carries 50-80 % of the catalogue
        charm=8 if country[s.country].minor_digits == 0 else 9,
        promo_ends=today + timedelta(days=rng.randint(3, 21)),
    ) for n, s in enumerate(stores, start=1)]
    item_pricing = [ItemPricing(id=n, key=rng.randrange(1, P), base_cents=i.base_cents,
                                category=categories.index(i.category),
                                reach_pm=500 if i.staple else 450 if i.everyday else 0)
                    for n, i in enumerate(items, start=1)]
    return store_pricing, item_pricing


def _insert_catalogue(session: Session, stores: list[StoreData],
                      items: list[ItemData]) -> None:
    session.execute(insert(Country), [
        {"code": c.code, "name": c.name, "currency": c.currency,
         "minor_digits": c.minor_digits} for c in COUNTRIES])
    session.execute(insert(Category), [{"slug": s, "name": n} for s, n in CATEGORIES])
    session.execute(insert(Chain), [
        {"id": n, "slug": c.slug, "name": c.name, "price_level": c.price_level}
        for n, c in enumerate(CHAINS, start=1)])
    session.execute(insert(Store), [{"id": n, **asdict(s)} for n, s in enumerate(stores, 1)])
    session.execute(insert(Item), [
        {"id": n, "slug": i.slug, "name": i.name, "category": i.category, "size": i.size,
         "unit": i.unit} for n, i in enumerate(items, start=1)])


def seed_catalogue(session: Session, *, stores: int = 40, items: int = 300, seed: int = 42,
                   today: date | None = None) -> dict[str, int]:
    """Replace the catalogue (countries, categories, chains, stores, items, prices) in one
    transaction and commit it. Returns row counts: {"countries": 6, "categories": 10,
    "chains": 14, "stores": 40, "items": 300, "prices": 8101, "promotions": 820}."""
    today = today or date.today()  # per call, never at import
    rng = random.Random(seed)
    item_rows = catalogue_items(items, rng)
    store_rows = plan_stores(stores)
    store_pricing, item_pricing = _pricing(store_rows, item_rows, rng, today)
    with sqlite_bulk_mode(session):
        try:
            _clear(session)
            _insert_catalogue(session, store_rows, item_rows)
            conn = session.connection()
            prices, promotions = load_prices(conn, store_pricing, item_pricing, utcnow())
            _sync_sequences(conn)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return {"countries": len(COUNTRIES), "categories": len(CATEGORIES), "chains": len(CHAINS),
            "stores": len(store_rows), "items": len(item_rows), "prices": prices,
            "promotions": promotions}
