"""Throw-away benchmark databases, built with the project's own admin CLI.

We call ``flask --app wsgi seed`` and ``flask --app wsgi keys create`` in subprocesses
rather than importing the app, so the bench exercises exactly what an operator runs and
never touches the developer's own database (DATABASE_URL points into a temp dir)."""
import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy

PROJECT = Path(__file__).resolve().parent.parent
BASKET_SIZE = 10
# The naive peer: what a Flask tutorial would write for the same job, over our database
# (bench/naive_peer.py; the yardstick, not our code: nothing in app/ imports it).
NAIVE_PEER = PROJECT / "bench" / "naive_peer.py"
NEAR = {"lat": 42.3601, "lon": -71.0589}   # Boston's centre, where the seed puts Boston
NEAR_RADIUS_KM = 10


@dataclass(frozen=True)
class Catalogue:
    stores: int
    items: int
    url: str              # DATABASE_URL: sqlite:////tmp/... or postgresql+psycopg://...
    key: str              # a read key with limits far above anything the bench sends
    seed_seconds: float
    prices: int

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        return Path(self.url.removeprefix("sqlite:///")) if self.sqlite else None

    @property
    def sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def engine(self) -> str:
        return "SQLite" if self.sqlite else "PostgreSQL"


def flask_cli(database_url: str, *args: str) -> str:
    """Run one admin command against ``database_url``; return its stdout."""
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                          cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stderr.strip()[-2000:]}")
    return done.stdout


def build(directory: Path, stores: int, items: int, seed: int = 1,
          postgres: str | None = None) -> Catalogue:
    """Seed a fresh SQLite (WAL) catalogue in ``directory``, or with ``postgres`` (a
    postgresql+psycopg:// URL) drop and re-create that database and seed it; issue a
    bench key in it."""
    if postgres:
        url = postgres
        recreate_postgres(url)
    else:
        url = f"sqlite:///{directory / f'bench-{stores}x{items}.db'}"
    started = time.perf_counter()
    # --no-keys: the demo keys are irrelevant here, and they would print live secrets.
    flask_cli(url, "seed", "--stores", str(stores), "--items", str(items),
              "--seed", str(seed), "--no-keys")
    seconds = time.perf_counter() - started
    if not postgres:
        shrink_wal(Path(url.removeprefix("sqlite:///")))
    # The key schema caps rate limits at 6 digits, so 999999/second stands in for
    # "unlimited" (the brief's 100000000/minute is refused with a validation error).
    created = json.loads(flask_cli(url, "keys", "create", "--name", "bench", "--scopes", "read",
                                   "--daily-limit", "100000000", "--rate-limit", "999999/second",
                                   "--expires-in", "never", "--json"))
    prices = scalar(url, "SELECT count(*) FROM prices")
    return Catalogue(stores, items, url, created["key"], seconds, prices)


def recreate_postgres(url: str) -> None:
    """DROP and CREATE the bench's own database (the name in ``url``; it must be one
    nobody else uses: everything in it is thrown away)."""
    server = sqlalchemy.make_url(url)
    admin = sqlalchemy.create_engine(server.set(database="postgres"),
                                     isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            name = server.database
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()


def scalar(url: str, sql: str, **params):
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(sql), params).scalar()
    finally:
        engine.dispose()


def rows(url: str, sql: str, **params) -> list:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sqlalchemy.text(sql), params))
    finally:
        engine.dispose()


def more_keys(catalogue: Catalogue, count: int) -> list[str]:
    """``count`` more keys like the bench key (same plan, limits, scopes), each with its
    own id and secret: copies of its row with a new id and hash, so the many-keys load of
    the hot-key test costs no CLI start per key. Pepper: the bench runs without one."""
    from app.keys import format as keyformat
    engine = sqlalchemy.create_engine(catalogue.url)
    columns = [c for c in sqlalchemy.inspect(engine).get_columns("api_keys")]
    names = [c["name"] for c in columns if c["name"] not in ("id", "secret_hash")]
    copy = sqlalchemy.text(
        f"INSERT INTO api_keys (id, secret_hash, {', '.join(names)}) "
        f"SELECT :id, :secret_hash, {', '.join(names)} FROM api_keys WHERE id = :source")
    source = catalogue.key.split("_")[1]
    keys = []
    try:
        with engine.begin() as connection:
            for _ in range(count):
                key_id = keyformat.generate_key_id()
                key = keyformat.generate_key(key_id)
                connection.execute(copy, {"id": key_id, "secret_hash": keyformat.hash_key(key),
                                          "source": source})
                keys.append(key)
    finally:
        engine.dispose()
    return keys


def shrink_wal(path: Path) -> None:
    """The seed loads everything in one transaction, so its WAL file grows to the size of
    the database and stays that big (2.6 GB at 1,000 x 50,000) although SQLite has already
    copied it into the database. Truncating it halves the disk the bench needs."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def journal_mode(catalogue: Catalogue) -> str:
    if not catalogue.sqlite:
        return "n/a (PostgreSQL)"
    with sqlite3.connect(catalogue.path) as db:
        return db.execute("PRAGMA journal_mode").fetchone()[0]


def basket_items(catalogue: Catalogue, count: int = BASKET_SIZE) -> list[str]:
    """The first items of the catalogue: the seed lists its hand-written staples first,
    so this is a realistic shopping list, and the same one for every catalogue size."""
    found = rows(catalogue.url, "SELECT slug FROM items ORDER BY id LIMIT :n", n=count)
    return [slug for (slug,) in found]


def basket_request(items: list[str], near: bool = False) -> dict:
    """The POST /v1/cheapest-stores body every HTTP measurement sends; with ``near``,
    the same basket within 10 km of Boston's centre."""
    body = {"items": items, "country": "US", "max_stores": 2}
    return {**body, "near": NEAR, "radius_km": NEAR_RADIUS_KM} if near else body
