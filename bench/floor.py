"""The floor: what the guarantees of GET /v1/key cost with no framework at all.

Not how to write the app. A yardstick: the smallest Flask app that still does the work
every keyed call must do, with raw drivers and hand-written SQL, no SQLAlchemy, no
marshmallow, no flask-limiter, no flask-smorest:

  1. read the key row by id and compare the SHA-256 of the key in constant time;
  2. count the call in the per-minute window: one Redis round trip (INCR + EXPIRE);
  3. one write transaction: the conditional daily-quota upsert and the usage upsert.

Served by the same gunicorn settings as the bare route and the app, on the app's bench
database. Its ratio to the bare route is the most any implementation of those guarantees
can reach on this machine; a target above it needs a different design, not tuning."""
import os
import sqlite3
import time
from datetime import datetime, timezone

import redis
from flask import Flask, request

from app.keys import format as keyformat

app = Flask(__name__)
DATABASE = os.environ.get("FLOOR_DATABASE", "")
REDIS_URL = os.environ.get("FLOOR_REDIS", "")
counters = redis.Redis.from_url(REDIS_URL) if REDIS_URL.startswith("redis") else None
_connection = None

# The same statements as app/keys/limits.py and app/keys/metering.py, in sqlite3's paramstyle.
COUNT_ONE_CALL = """
    INSERT INTO daily_quota (key_id, day, used) VALUES (?, ?, 1)
    ON CONFLICT (key_id, day) DO UPDATE SET used = daily_quota.used + 1
    WHERE daily_quota.used < ? RETURNING used"""
RECORD_CALL = """
    INSERT INTO usage (key_id, hour, endpoint, calls, units, status_2xx, status_3xx,
                       status_4xx, status_5xx, status_403, status_429)
    VALUES (?, ?, 'GET /v1/key', 1, 1, 1, 0, 0, 0, 0, 0)
    ON CONFLICT (key_id, hour, endpoint) DO UPDATE SET calls = usage.calls + 1,
        units = usage.units + 1, status_2xx = usage.status_2xx + 1"""


def connection() -> sqlite3.Connection:
    global _connection
    if _connection is None:  # one per worker, opened after gunicorn has forked
        _connection = sqlite3.connect(DATABASE, isolation_level=None, timeout=15)
        _connection.execute("PRAGMA journal_mode=WAL")
        _connection.execute("PRAGMA synchronous=NORMAL")
    return _connection


@app.get("/")
def ready():
    return {"status": "ok"}


@app.get("/v1/key")
def show_key():
    parsed = keyformat.parse_key(request.headers.get("X-API-Key", ""))
    database = connection()
    row = parsed and database.execute(
        "SELECT id, secret_hash, scopes, daily_limit, revoked_at FROM api_keys WHERE id = ?",
        (parsed.key_id,)).fetchone()
    if not row or row[4] is not None or not keyformat.matches(parsed.full_key, row[1]):
        return {"error": "invalid key"}, 401
    if counters is not None:
        window = f"floor:{row[0]}:{int(time.time() // 60)}"
        counters.pipeline().incr(window).expire(window, 60).execute()  # one round trip
    moment = datetime.now(timezone.utc)
    database.execute("BEGIN")
    (used,) = database.execute(COUNT_ONE_CALL, (row[0], moment.date().isoformat(),
                                                row[3])).fetchone()
    database.execute(RECORD_CALL, (row[0], moment.strftime("%Y-%m-%d %H:00:00.000000")))
    database.execute("COMMIT")
    return {"id": row[0], "scopes": row[2].split(","), "daily_limit": row[3],
            "used_today": used}
