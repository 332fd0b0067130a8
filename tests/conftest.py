"""Shared fixtures: a real app on a temporary SQLite file (or TEST_DATABASE_URL), a small
hand-made catalogue with known prices, and a factory for keys."""
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import requests
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.keys import lifecycle
from app.market.models import Category, Chain, Country, Item, Price, Store

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def make_app(database_url, **config):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "DEFAULT_KEY_TTL": "", "AUTH_FAILURE_LIMIT": "1000/minute",
                      "LOG_LEVEL": "WARNING", **config})
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app  # each create_app gives flask-limiter a fresh storage (memory:// is empty)


# Every test that uses `app` runs on SQLite + memory://, and again on PostgreSQL + Redis
# when TEST_DATABASE_URL and TEST_REDIS_URL are set (CI sets both).
BACKENDS = ["sqlite"] + (["postgres"] if TEST_DATABASE_URL and TEST_REDIS_URL else [])


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    if request.param == "postgres":
        import redis
        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
        app = make_app(TEST_DATABASE_URL, RATELIMIT_STORAGE_URI=TEST_REDIS_URL)
    else:
        app = make_app(f"sqlite:///{tmp_path / 'test.db'}")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def catalogue(app):
    """US (USD), JP (JPY, no minor unit) and FR (EUR); groceries plus books and apparel."""
    with app.app_context():
        load_small_catalogue()


def load_small_catalogue():
    db.session.add_all([
        Country(code="US", name="United States", currency="USD", minor_digits=2),
        Country(code="JP", name="Japan", currency="JPY", minor_digits=0),
        Country(code="FR", name="France", currency="EUR", minor_digits=2),
        *[Category(slug=s, name=s.title()) for s in ("dairy", "bakery", "books", "apparel")],
        Chain(id=1, slug="cheapo", name="Cheapo", price_level=0.9),
        Chain(id=2, slug="posh", name="Posh", price_level=1.2),
    ])
    stores = [("us-cheapo-1", 1, "US", "Boston"), ("us-posh-1", 2, "US", "Boston"),
              ("us-cheapo-2", 1, "US", "Denver"), ("jp-cheapo-1", 1, "JP", "Tokyo"),
              ("fr-posh-1", 2, "FR", "Paris")]
    store = {slug: Store(slug=slug, name=slug.replace("-", " ").title(), chain_id=chain,
                         country=country, city=city) for slug, chain, country, city in stores}
    items = [("milk", "dairy", 1, "l"), ("bread", "bakery", 0.8, "kg"),
             ("novel", "books", 1, "pcs"), ("tshirt", "apparel", 1, "pcs")]
    item = {slug: Item(slug=slug, name=slug.title(), category=category, size=size, unit=unit)
            for slug, category, size, unit in items}
    db.session.add_all([*store.values(), *item.values()])
    db.session.flush()  # assigns the integer ids
    promo_end = date.today() + timedelta(days=7)
    prices = [("us-cheapo-1", "milk", 199, None), ("us-cheapo-1", "bread", 349, None),
              ("us-cheapo-1", "novel", 999, None), ("us-posh-1", "milk", 249, 299),
              ("us-posh-1", "bread", 299, None), ("us-posh-1", "tshirt", 1500, None),
              ("us-cheapo-2", "milk", 189, None), ("jp-cheapo-1", "milk", 180, None),
              ("jp-cheapo-1", "bread", 420, 500), ("fr-posh-1", "milk", 120, None)]
    for store_slug, item_slug, amount, regular in prices:
        db.session.add(Price(store_id=store[store_slug].id, item_id=item[item_slug].id,
                             amount=amount, regular_amount=regular,
                             promo_ends=promo_end if regular else None))
    db.session.commit()


@pytest.fixture
def make_key(app):
    """make_key(scopes=["read"], countries=None, ...) -> full key string."""
    def make(**options):
        options.setdefault("scopes", ["read"])
        with app.app_context():
            _, full_key = lifecycle.create_key(options.pop("name", "test app"), **options)
        return full_key
    return make


def key_id(full_key: str) -> str:
    return full_key.split("_")[1]


def row_count(app, table: str) -> int:
    with app.app_context():
        return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def quota_used(app, full_key: str) -> int:
    """Calls counted against the key's daily quota, summed over all days."""
    with app.app_context():
        return db.session.execute(text("SELECT coalesce(sum(used), 0) FROM daily_quota "
                                       "WHERE key_id = :id"), {"id": key_id(full_key)}).scalar()


def fresh_window(seconds: int = 60, needed: float = 10) -> None:
    """Rate-limit windows are aligned to the clock (app/keys/limits.py): when the current one
    has less than ``needed`` seconds left, wait for the next, so that a test counting
    calls against a limit never straddles a reset."""
    left = seconds - time.time() % seconds
    if left < needed:
        time.sleep(left + 0.01)


# --- several gunicorn workers (tests/servers.py) ----------------------------------------

WORKER_BACKENDS = [pytest.param("sqlite", id="sqlite+memory"), pytest.param(
    "postgres", id="postgres+redis", marks=pytest.mark.skipif(
        not (TEST_DATABASE_URL and TEST_REDIS_URL),
        reason="set TEST_DATABASE_URL and TEST_REDIS_URL to run on PostgreSQL and Redis"))]


@pytest.fixture(params=WORKER_BACKENDS)
def worker_backend(request, tmp_path):
    """(app for setup in this process, environment for the gunicorn workers): one SQLite
    file shared by the workers, or PostgreSQL + Redis."""
    if request.param == "sqlite":
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
               "RATELIMIT_STORAGE_URI": "memory://"}
    else:
        import redis
        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
        env = {"DATABASE_URL": TEST_DATABASE_URL, "RATELIMIT_STORAGE_URI": TEST_REDIS_URL}
    app = make_app(env["DATABASE_URL"], RATELIMIT_STORAGE_URI=env["RATELIMIT_STORAGE_URI"])
    yield app, env
    with app.app_context():
        db.engine.dispose()


def parallel_get(url, key, count, threads=24, **headers):
    """``count`` GETs from ``threads`` threads -> [(status, problem type or None), ...]."""
    def one(_):
        response = requests.get(url, headers={"X-API-Key": key, **headers}, timeout=60)
        return response.status_code, response.json().get("type")
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))
