"""The demo-data generator (seed/): realistic, deterministic, idempotent and fast."""
import os
import random
import re
import time
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select, text

from seed import seed_catalogue
from seed.catalogue import plan_stores
from seed.items import HANDWRITTEN, UNITS, catalogue_items
from seed.places import CITY_RADIUS_KM, COUNTRIES, stores_per_country

TODAY = date(2031, 3, 14)  # fixed, so rows can be compared across databases and runs
REQUIRED_SLUGS = {"milk-whole-1l", "eggs-free-range-12", "bread-sourdough-800g",
                  "butter-salted-250g", "bananas-1kg", "coffee-ground-500g", "apples-gala-1kg",
                  "cheddar-mature-400g", "pasta-penne-500g", "tomatoes-canned-400g"}
CATEGORIES = {"dairy", "produce", "bakery", "meat", "pantry", "beverages", "frozen",
              "household", "books", "apparel"}
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def make_db(uri: str, fresh: bool = False):
    """A bare Flask app with only the database extension: the seed needs nothing else."""
    import app.keys.models  # noqa: F401  (registers the tables)
    from app.extensions import db

    flask_app = Flask(__name__)
    flask_app.config["SQLALCHEMY_DATABASE_URI"] = uri
    db.init_app(flask_app)
    with flask_app.app_context():
        if fresh:
            db.drop_all()
        db.create_all()
    return flask_app, db


@pytest.fixture
def sqlite_db(tmp_path):
    flask_app, db = make_db(f"sqlite:///{tmp_path}/t.db")
    with flask_app.app_context():
        yield db
        db.session.remove()
        db.engine.dispose()


def catalogue(db) -> dict[str, list[tuple]]:
    """Every catalogue row, typed (dates as dates on SQLite too), in primary-key order.
    Not updated_at: that is the load time, the one thing that may differ."""
    result = {}
    for name in ("countries", "categories", "chains", "stores", "items", "prices"):
        table = db.metadata.tables[name]
        columns = [c for c in table.columns if c.name != "updated_at"]
        result[name] = [tuple(row) for row in db.session.execute(
            select(*columns).order_by(*table.primary_key.columns))]
    return result


def check_invariants(db, counts: dict, today: date) -> None:
    """What every seeded catalogue must look like, whatever its size."""
    from app.market.models import Item, Price, Store

    s = db.session
    assert counts["prices"] == s.scalar(select(func.count()).select_from(Price))
    assert counts["promotions"] == s.scalar(select(func.count(Price.regular_amount)))
    assert counts["stores"] == s.scalar(select(func.count(Store.id)))
    assert counts["items"] == s.scalar(select(func.count(Item.id)))

    # Each store carries every staple, at least 90 % of the other everyday groceries (the
    # hand-written list) and 40-90 % of the rest (brand variants, books, clothes).
    written = catalogue_items(len(HANDWRITTEN), random.Random(0))
    kind_of = {i.slug: "staple" if i.staple else "everyday" if i.everyday else "other"
               for i in written}
    kinds = {item_id: kind_of.get(slug, "other")
             for item_id, slug in s.execute(select(Item.id, Item.slug))}
    for kind, low, high in (("staple", 1, 1), ("everyday", 0.9, 1), ("other", 0.4, 0.9)):
        total = sum(k == kind for k in kinds.values())
        per_store = Counter(store for store, item in s.execute(
            select(Price.store_id, Price.item_id)) if kinds[item] == kind)
        assert total == 0 or len(per_store) == counts["stores"], kind
        for store_id, carried in per_store.items():
            assert low <= carried / total <= high, (kind, store_id)

    # About 10 % on promotion: 70-90 % of the regular price, ending 3-21 days from today.
    assert 0.07 <= counts["promotions"] / counts["prices"] <= 0.13
    promos = s.execute(select(Price.amount, Price.regular_amount, Price.promo_ends)
                       .where(Price.regular_amount.is_not(None))).all()
    for amount, regular, ends in promos:
        assert 0.69 * regular <= amount < regular
        assert today + timedelta(days=3) <= ends <= today + timedelta(days=21)
    assert s.scalar(select(func.count()).select_from(Price).where(
        Price.regular_amount.is_(None), Price.promo_ends.is_not(None))) == 0
    assert s.scalar(select(func.count()).select_from(Price).where(
        Price.updated_at.is_(None) | (Price.amount <= 0))) == 0

    # Milk costs what milk costs, in every currency (JPY: whole yen, ~100x the dollar).
    milk = defaultdict(list)
    for country, amount in s.execute(
            select(Store.country, Price.amount).join(Price.store).join(Price.item)
            .where(Item.slug == "milk-whole-1l")):
        milk[country].append(amount)
    assert milk
    for country, amounts in milk.items():  # cents, pence, ... and yen: all about 1.4 $
        assert 49 <= min(amounts) and max(amounts) <= 299, country

    # Every store stands within 15 km of its city's real centre.
    check_store_places(s.execute(select(Store.country, Store.city, Store.lat, Store.lon)))


CENTRES = {(c.code, name): (lat, lon) for c in COUNTRIES for _, name, lat, lon in c.cities}


def check_store_places(rows) -> None:
    from app.market.geo import distance_km

    for country, city, lat, lon in rows:
        assert lat is not None and lon is not None, (country, city)
        assert distance_km(*CENTRES[country, city], lat, lon) <= CITY_RADIUS_KM, (city, lat)


def test_default_seed(sqlite_db):
    db = sqlite_db
    from app.market.models import Category, Chain, Country, Item, Store

    started = time.perf_counter()
    counts = seed_catalogue(db.session)
    assert time.perf_counter() - started < 2
    assert counts["stores"] == 40 and counts["items"] == 300
    check_invariants(db, counts, date.today())

    s = db.session
    countries = {c.code: c for c in s.scalars(select(Country))}
    assert len(countries) >= 5
    assert (countries["JP"].currency, countries["JP"].minor_digits) == ("JPY", 0)
    assert (countries["US"].currency, countries["US"].minor_digits) == ("USD", 2)
    assert set(s.scalars(select(Category.slug))) == CATEGORIES
    per_country = Counter(s.scalars(select(Store.country)))
    assert per_country["US"] >= 6 and min(per_country.values()) >= 3
    assert len(per_country) == len(countries)
    assert s.scalar(select(Store.name).where(Store.slug == "freshmart-us-boston-1"))
    levels = list(s.scalars(select(Chain.price_level)))
    assert min(levels) <= 0.9 and max(levels) >= 1.15

    items = s.scalars(select(Item)).all()
    slugs = {i.slug for i in items}
    assert REQUIRED_SLUGS <= slugs
    assert {"books", "apparel"} <= {i.category for i in items}
    assert all(i.unit in UNITS and i.size > 0 for i in items)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) for slug in slugs)
    bread = next(i for i in items if i.slug == "bread-sourdough-800g")
    assert (bread.size, bread.unit) == (0.8, "kg")

    # The bulk load switched foreign keys off; they must be back on for the app.
    assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert s.execute(text("PRAGMA foreign_key_check")).all() == []


def test_same_arguments_same_catalogue(tmp_path):
    seeded = []
    for name in ("a", "b"):
        flask_app, db = make_db(f"sqlite:///{tmp_path}/{name}.db")
        with flask_app.app_context():
            seed_catalogue(db.session, stores=12, items=150, seed=7, today=TODAY)
            seeded.append(catalogue(db))
            seed_catalogue(db.session, stores=12, items=150, seed=8, today=TODAY)
            other = catalogue(db)
            db.engine.dispose()
    assert seeded[0] == seeded[1]
    assert other["prices"] != seeded[0]["prices"]


def test_seeding_again_replaces_the_catalogue_only(sqlite_db):
    db = sqlite_db
    s = db.session
    s.execute(text(
        "INSERT INTO api_keys (id, name, owner, plan, secret_hash, scopes, daily_limit, "
        "rate_limit, created_at) VALUES ('k3y', 'survivor', '', 'free', :hash, 'read', 10, "
        "'60/minute', '2031-01-01 00:00:00.000000')"), {"hash": b"\0" * 32})
    s.execute(text("INSERT INTO usage (key_id, hour, endpoint, calls, units, status_2xx, "
                   "status_3xx, status_4xx, status_5xx, status_403, status_429) VALUES "
                   "('k3y', '2031-01-01 00:00:00.000000', 'items', 1, 1, 1, 0, 0, 0, 0, 0)"))
    # Not committed: the seed commits the session's pending work with its own (and cannot
    # switch SQLite's foreign keys off inside that transaction, so it takes the slow path).

    first = seed_catalogue(db.session, stores=10, items=100, today=TODAY)
    before = catalogue(db)
    second = seed_catalogue(db.session, stores=10, items=100, today=TODAY)
    assert first == second and catalogue(db) == before
    assert s.execute(text("SELECT name FROM api_keys")).all() == [("survivor",)]
    assert s.execute(text("SELECT calls FROM usage")).all() == [(1,)]
    assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1

    smaller = seed_catalogue(db.session, stores=5, items=70, today=TODAY)
    assert (smaller["stores"], smaller["items"]) == (5, 70)
    check_invariants(db, smaller, TODAY)


def test_medium_catalogue_bulk_path(sqlite_db):
    db = sqlite_db
    counts = seed_catalogue(db.session, stores=100, items=2000, today=TODAY)
    assert (counts["stores"], counts["items"]) == (100, 2000)
    check_invariants(db, counts, TODAY)
    s = db.session
    assert s.execute(text("PRAGMA foreign_key_check")).all() == []
    assert "ix_prices_basket" in {ix["name"] for ix in inspect(s.connection())
                                      .get_indexes("prices")}
    # Japanese prices are ~100x American ones in major units, i.e. about equal in minor units.
    avg = dict(s.execute(text(
        "SELECT country, avg(amount) FROM prices JOIN stores ON stores.id = store_id "
        "GROUP BY country")).all())
    assert 0.8 <= avg["JP"] / avg["US"] <= 1.25


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to a PostgreSQL URL "
                    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run this")
def test_postgresql_gives_the_same_catalogue(tmp_path):
    from app.market.models import Item

    flask_app, db = make_db(f"sqlite:///{tmp_path}/ref.db")
    with flask_app.app_context():
        seed_catalogue(db.session, stores=30, items=400, seed=3, today=TODAY)
        expected = catalogue(db)
        db.engine.dispose()

    flask_app, db = make_db(TEST_DATABASE_URL, fresh=True)
    with flask_app.app_context():
        try:
            seed_catalogue(db.session, stores=30, items=400, seed=3, today=TODAY)
            counts = seed_catalogue(db.session, stores=30, items=400, seed=3, today=TODAY)
            assert catalogue(db) == expected
            check_invariants(db, counts, TODAY)
            # The bulk load dropped and re-created the constraints and the index.
            found = inspect(db.session.connection())
            assert found.get_pk_constraint("prices")["constrained_columns"] == [
                "store_id", "item_id"]
            assert len(found.get_foreign_keys("prices")) == 2
            assert "ix_prices_basket" in {i["name"] for i in found.get_indexes("prices")}
            # Explicit ids must not leave the id sequence behind.
            item = Item(slug="new-item", name="New", category="dairy", size=1, unit="l")
            db.session.add(item)
            db.session.flush()
            assert item.id == 401
            db.session.rollback()
        finally:
            db.session.remove()
            db.engine.dispose()


# --- the pure-Python planners ------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=3000))
def test_stores_spread_over_countries(total):
    split = stores_per_country(total)
    assert sum(split.values()) == total
    assert max(split.values()) - split["US"] <= 0  # the US always gets the most
    assert len({s.slug for s in plan_stores(total)}) == total


def test_stores_are_scattered_around_real_city_centres():
    from app.market.geo import distance_km

    assert CENTRES["US", "Boston"] == (42.3601, -71.0589)
    assert CENTRES["JP", "Tokyo"] == (35.6812, 139.7671)
    stores = plan_stores(1000)
    check_store_places((s.country, s.city, s.lat, s.lon) for s in stores)
    # Spread over the disc, not piled at the centre nor on its rim.
    distances = [distance_km(*CENTRES[s.country, s.city], s.lat, s.lon) for s in stores]
    assert len({(s.lat, s.lon) for s in stores}) == 1000
    inner = sum(d <= CITY_RADIUS_KM / 2 for d in distances) / len(distances)
    assert 0.15 <= inner <= 0.35  # a quarter of a disc's area lies within half its radius
    # A store keeps its place when the catalogue grows.
    first = {s.slug: (s.lat, s.lon) for s in plan_stores(40)}
    assert all(first[s.slug] == (s.lat, s.lon) for s in stores if s.slug in first)


def test_many_items_have_unique_readable_slugs():
    import random

    items = catalogue_items(20_000, random.Random(1))
    assert len({i.slug for i in items}) == len(items) == 20_000
    assert all(len(i.slug) <= 80 and len(i.name) <= 120 for i in items)
    assert all(i.unit in UNITS and i.size > 0 and i.base_cents > 0 for i in items)
    assert {i.category for i in items} == CATEGORIES
    assert catalogue_items(5, random.Random(1))[0].slug == "milk-whole-1l"


def test_big_cities_have_several_stores_of_three_or_more_chains():
    stores = plan_stores(40)
    by_city = defaultdict(list)
    for store in stores:
        by_city[store.country, store.city].append(store)
    # Every city of the demo has a store; the big ones several, of different chains.
    assert set(by_city) == set(CENTRES)
    assert {city: len(s) for (country, city), s in by_city.items() if country == "US"} == {
        "Boston": 5, "Chicago": 4, "Seattle": 2, "Austin": 2, "Denver": 2, "Atlanta": 1}
    for city in ("Boston", "Chicago"):
        assert len({s.chain_id for s in by_city["US", city]}) >= 3, city
    assert max(by_city.values(), key=len)[0].city == "Boston"  # the demo's home city
