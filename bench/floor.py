"""The floor: what the guarantees of the two keyed calls cost with no framework at all.

Not how to write the app. A yardstick: the smallest Flask app that still does the work
every keyed call must do, with raw drivers and hand-written SQL, no SQLAlchemy, no
marshmallow, no flask-limiter, no flask-smorest:

  1. read the key row by id (with today's count) and compare the SHA-256 of the key in
     constant time;
  2. count the call in the per-minute window: one Redis round trip (INCR + EXPIRE);
  3. the writes, as the app makes them for that call:
     - ``GET /v1/key`` (self-inspection, never counted against the quota): one write
       transaction, the call's usage record;
     - ``GET /v1/items?per_page=1`` (a counted call): the admission (the conditional
       daily-quota upsert and the usage row's admitted call), the page of items and their
       count, then the completion (that row's status and billed unit).

Served by the same gunicorn settings as the bare route and the app, on the app's bench
database. Its ratio to the bare route (and to the naive peer) is the most any
implementation of those guarantees can reach on this machine; a target above it needs a
different design, not tuning."""
import fcntl
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime

import redis
from flask import Flask, request

from app.keys import format as keyformat

app = Flask(__name__)
DATABASE = os.environ.get("FLOOR_DATABASE", "")  # a SQLite file, or a postgresql:// URL
REDIS_URL = os.environ.get("FLOOR_REDIS", "")
counters = redis.Redis.from_url(REDIS_URL) if REDIS_URL.startswith("redis") else None
POSTGRES = DATABASE.startswith("postgresql")
local = threading.local()  # one connection per thread (gthread workers serve on threads)
in_process = threading.Lock()  # SQLite: one writer per process at a time ...

# The same statements as app/keys/limits.py and app/keys/metering.py, in sqlite3's
# paramstyle (rewritten to psycopg's below): the admission (quota + usage row) in one
# transaction, the completion (the usage row's status and units) in a second one.
KEY_ROW = """
    SELECT api_keys.id, secret_hash, scopes, coalesce(api_keys.daily_limit, plans.daily_limit),
           revoked_at, plans.price_per_1000_units_micros, daily_quota.used
    FROM api_keys JOIN plans ON plans.id = api_keys.plan
    LEFT JOIN daily_quota ON daily_quota.key_id = api_keys.id AND daily_quota.day = ?
    WHERE api_keys.id = ?"""
COUNT_ONE_CALL = """
    INSERT INTO daily_quota (key_id, day, used) VALUES (?, ?, 1)
    ON CONFLICT (key_id, day, shard) DO UPDATE SET used = daily_quota.used + 1
    WHERE daily_quota.used < ? RETURNING used"""
USAGE_COLUMNS = """usage (key_id, hour, endpoint, price_per_1000_units_micros, calls, admitted,
                          incomplete, units, status_2xx, status_3xx, status_4xx, status_5xx,
                          status_401, status_403, status_429)"""
ON_USAGE_ROW = ("ON CONFLICT (key_id, hour, endpoint, price_per_1000_units_micros, shard) "
                "DO UPDATE SET")
RECORD_FREE_CALL = f"""
    INSERT INTO {USAGE_COLUMNS}
    VALUES (?, ?, 'GET /v1/key', ?, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0)
    {ON_USAGE_ROW} calls = usage.calls + 1, status_2xx = usage.status_2xx + 1"""
ADMIT = f"""
    INSERT INTO {USAGE_COLUMNS}
    VALUES (?, ?, 'GET /v1/items', ?, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    {ON_USAGE_ROW} calls = usage.calls + 1, admitted = usage.admitted + 1,
        incomplete = usage.incomplete + 1"""
COMPLETE = """
    UPDATE usage SET incomplete = incomplete - 1, units = units + 1,
        status_2xx = status_2xx + 1
    WHERE key_id = ? AND hour = ? AND endpoint = 'GET /v1/items'
      AND price_per_1000_units_micros = ?"""
ITEMS_PAGE = "SELECT slug, name, category, size, unit FROM items ORDER BY slug LIMIT ? OFFSET 0"
ITEMS_COUNT = "SELECT count(*) FROM items"


def sql(statement: str) -> str:
    return statement.replace("?", "%s") if POSTGRES else statement


class Database:
    """One thread's connection; ``write()`` is one transaction."""

    def __init__(self):
        if POSTGRES:
            import psycopg
            self.connection = psycopg.connect(DATABASE.replace("postgresql+psycopg", "postgresql"))
            self.turn = None
        else:
            self.connection = sqlite3.connect(DATABASE, isolation_level=None, timeout=15)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            # ... and one process at a time (a blocking flock: handed on at once)
            self.turn = os.open(DATABASE + "-floor-writers", os.O_RDWR | os.O_CREAT, 0o600)

    def read(self, statement: str, params: tuple):
        row = self.connection.execute(sql(statement), params).fetchone()
        if POSTGRES:
            self.connection.commit()
        return row

    def read_all(self, statement: str, params: tuple) -> list:
        rows = self.connection.execute(sql(statement), params).fetchall()
        if POSTGRES:
            self.connection.commit()
        return rows

    def write(self, *statements: tuple[str, tuple]):
        """Run the statements in one transaction; the first one's row."""
        if POSTGRES:
            cursors = [self.connection.execute(sql(s), p) for s, p in statements]
            row = cursors[0].fetchone() if cursors[0].description else None
            self.connection.commit()
            return row
        with in_process:
            fcntl.flock(self.turn, fcntl.LOCK_EX)
            try:
                self.connection.execute("BEGIN")
                cursors = [self.connection.execute(s, p) for s, p in statements]
                row = cursors[0].fetchone() if cursors[0].description else None
                self.connection.execute("COMMIT")
            finally:
                fcntl.flock(self.turn, fcntl.LOCK_UN)
        return row


def database() -> Database:
    if getattr(local, "database", None) is None:  # opened after gunicorn has forked
        local.database = Database()
    return local.database


@app.get("/")
def ready():
    return {"status": "ok"}


class Call:
    """The key check and the minute window of one keyed call (``check``: None if the key
    is bad), with the day and hour its rows are written under."""

    def __init__(self, db: Database, row, day, hour):
        self.db, self.row, self.day, self.hour = db, row, day, hour

    @classmethod
    def check(cls):
        parsed = keyformat.parse_key(request.headers.get("X-API-Key", ""))
        moment = datetime.now(UTC).replace(tzinfo=None)
        day, hour = moment.date(), moment.replace(minute=0, second=0, microsecond=0)
        if not POSTGRES:  # as SQLAlchemy stores them on SQLite (text)
            day, hour = day.isoformat(), hour.strftime("%Y-%m-%d %H:%M:%S.%f")
        db = database()
        row = parsed and db.read(KEY_ROW, (day, parsed.key_id))
        if not row or row[4] is not None or not keyformat.matches(parsed.full_key,
                                                                  bytes(row[1])):
            return None
        if counters is not None:
            window = f"floor:{row[0]}:{int(time.time() // 60)}"
            counters.pipeline().incr(window).expire(window, 60).execute()  # one round trip
        return cls(db, row, day, hour)


@app.get("/v1/key")
def show_key():
    call = Call.check()
    if call is None:
        return {"error": "invalid key"}, 401
    row = call.row
    call.db.write((RECORD_FREE_CALL, (row[0], call.hour, row[5])))  # the app: after delivery
    return {"id": row[0], "scopes": row[2].split(","), "daily_limit": row[3],
            "used_today": row[6] or 0}


@app.get("/v1/items")
def list_items():
    call = Call.check()
    if call is None:
        return {"error": "invalid key"}, 401
    row = call.row
    (used,) = call.db.write((COUNT_ONE_CALL, (row[0], call.day, row[3])),
                            (ADMIT, (row[0], call.hour, row[5])))
    per_page = int(request.args.get("per_page", 50))
    page = [dict(zip(("id", "name", "category", "size", "unit"), item))
            for item in call.db.read_all(ITEMS_PAGE, (per_page,))]
    (total,) = call.db.read(ITEMS_COUNT, ())
    call.db.write((COMPLETE, (row[0], call.hour, row[5])))  # the app: after delivery
    return {"data": page, "page": 1, "per_page": per_page, "total": total,
            "used_today": used}
