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

PROJECT = Path(__file__).resolve().parent.parent
BASKET_SIZE = 10
# The naive peer: what a Flask tutorial would write for the same job, over our database.
# It lives outside the repository (it is the yardstick, not our code) and is run from
# its own folder; the bench never copies it.
NAIVE_PEER = PROJECT.parent / "shared" / "bench" / "naive_peer.py"
NEAR = {"lat": 42.3601, "lon": -71.0589}   # Boston's centre, where the seed puts Boston
NEAR_RADIUS_KM = 10


@dataclass(frozen=True)
class Catalogue:
    stores: int
    items: int
    path: Path            # the SQLite file
    key: str              # a read key with limits far above anything the bench sends
    seed_seconds: float
    prices: int

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"  # absolute path: sqlite:////tmp/...


def flask_cli(database_url: str, *args: str) -> str:
    """Run one admin command against ``database_url``; return its stdout."""
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                          cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stderr.strip()[-2000:]}")
    return done.stdout


def build(directory: Path, stores: int, items: int, seed: int = 1) -> Catalogue:
    """Seed a fresh SQLite (WAL) catalogue and issue a bench key in it."""
    path = directory / f"bench-{stores}x{items}.db"
    url = f"sqlite:///{path}"
    started = time.perf_counter()
    # --no-keys: the demo keys are irrelevant here, and they would print live secrets.
    flask_cli(url, "seed", "--stores", str(stores), "--items", str(items),
              "--seed", str(seed), "--no-keys")
    seconds = time.perf_counter() - started
    shrink_wal(path)
    # The key schema caps rate limits at 6 digits, so 999999/second stands in for
    # "unlimited" (the brief's 100000000/minute is refused with a validation error).
    created = json.loads(flask_cli(url, "keys", "create", "--name", "bench", "--scopes", "read",
                                   "--daily-limit", "100000000", "--rate-limit", "999999/second",
                                   "--expires-in", "never", "--json"))
    with sqlite3.connect(path) as db:
        prices = db.execute("SELECT count(*) FROM prices").fetchone()[0]
    return Catalogue(stores, items, path, created["key"], seconds, prices)


def shrink_wal(path: Path) -> None:
    """The seed loads everything in one transaction, so its WAL file grows to the size of
    the database and stays that big (2.6 GB at 1,000 x 50,000) although SQLite has already
    copied it into the database. Truncating it halves the disk the bench needs."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def journal_mode(catalogue: Catalogue) -> str:
    with sqlite3.connect(catalogue.path) as db:
        return db.execute("PRAGMA journal_mode").fetchone()[0]


def basket_items(catalogue: Catalogue, count: int = BASKET_SIZE) -> list[str]:
    """The first items of the catalogue: the seed lists its hand-written staples first,
    so this is a realistic shopping list, and the same one for every catalogue size."""
    with sqlite3.connect(catalogue.path) as db:
        rows = db.execute("SELECT slug FROM items ORDER BY id LIMIT ?", (count,)).fetchall()
    return [slug for (slug,) in rows]


def basket_request(items: list[str], near: bool = False) -> dict:
    """The POST /v1/cheapest-stores body every HTTP measurement sends; with ``near``,
    the same basket within 10 km of Boston's centre."""
    body = {"items": items, "country": "US", "max_stores": 2}
    return {**body, "near": NEAR, "radius_km": NEAR_RADIUS_KM} if near else body


def naive_peer() -> Path:
    """../shared/bench/naive_peer.py relative to the repository root, or a clear error."""
    if not NAIVE_PEER.is_file():
        raise RuntimeError(f"the naive peer is missing: expected {NAIVE_PEER} (that is "
                           "../shared/bench/naive_peer.py relative to the repository root); "
                           "the ours-vs-peer rows need it")
    return NAIVE_PEER
