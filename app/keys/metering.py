"""Last step of the pipeline: record what the key did, for billing, quotas and
troubleshooting, and write one structured log line per request.

**Billing only what was served.** Billable units: 1 per 2xx answer the handler produced,
plus 1 per 10 basket items on the cheapest-stores query (a view sets ``g.extra_units``).
Self-inspection, refusals and failures cost nothing, but are counted by status class,
which is what anomaly detection reads.

**Two writes per admitted call, each one true when it is made:**

1. *Admission* (``record_admission``, in the limit step's transaction, with the daily
   quota's count): ``calls + 1, admitted + 1, incomplete + 1``. Nothing is billed yet.
2. *Completion* (``meter``, once the answer exists): ``incomplete - 1`` and the answer's
   status class and units. A 5xx answer records its status but stays incomplete.

A worker killed between the two, or a database lost before the second, leaves the call
admitted, incomplete and unbilled: the books never claim an answer that nobody produced.
Calls not admitted (refused by scope or server binding, over a daily quota, free
self-inspection, a revoked or expired key whose secret verified) are recorded once, after
the answer, under the key id. Calls refused by the minute window are tallied in the
limiter storage instead and written by the key's next call in a later window (tally.py),
so a flood of them costs no database write per call. Nothing is held in process memory."""
import json
import logging
import time
from datetime import timedelta

from flask import current_app, g, request
from sqlalchemy import DateTime, bindparam, text

from ..clock import now
from ..database import writers_take_turns
from ..extensions import db, limiter, request_connection
from . import tally

log = logging.getLogger("storeprice.requests")
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often
COUNTERS = ("calls", "admitted", "units", "incomplete", "status_2xx", "status_3xx",
            "status_4xx", "status_5xx", "status_401", "status_403", "status_429")

# One upsert: a new (key, hour, endpoint) row, or add these counts to the existing one.
RECORD_CALL = text(f"""
    INSERT INTO usage (key_id, hour, endpoint, {", ".join(COUNTERS)})
    VALUES (:key_id, :hour, :endpoint, {", ".join(":" + c for c in COUNTERS)})
    ON CONFLICT (key_id, hour, endpoint) DO UPDATE SET
        {", ".join(f"{c} = usage.{c} + excluded.{c}" for c in COUNTERS)}
""").bindparams(bindparam("hour", type_=DateTime()))
TOUCH_KEY = text("UPDATE api_keys SET last_used_at = :moment WHERE id = :key_id") \
    .bindparams(bindparam("moment", type_=DateTime()))

ADMISSION = {**dict.fromkeys(COUNTERS, 0), "calls": 1, "admitted": 1, "incomplete": 1}


def answer_counts(status: int, units: int) -> dict:
    """The status-class counters and units of one answer."""
    return {**dict.fromkeys(COUNTERS, 0), "units": units,
            **{f"status_{n}xx": int(status // 100 == n) for n in (2, 3, 4, 5)},
            "status_401": int(status == 401), "status_403": int(status == 403),
            "status_429": int(status == 429)}


def record_admission(connection, caller, moment) -> None:
    """An admitted call, not yet answered; the limit step commits it with the quota."""
    g.admitted = True
    _record(connection, caller.id, moment, ADMISSION)
    _touch_key(connection, caller, moment)


def meter(response) -> None:
    """Complete an admitted call, or record a call that was not admitted."""
    caller = g.get("caller")
    key_id = caller.id if caller is not None else g.get("verified_key_id")
    if key_id is None:
        return  # nobody proven: a missing, malformed or unknown key is not anyone's call
    if g.get("tallied"):  # refused by the minute window: one INCR, no database write
        tally.add(limiter.storage, key_id)
        return
    status, admitted = response.status_code, g.get("admitted", False)
    g.units = (1 + g.get("extra_units", 0)) if admitted and 200 <= status < 300 else 0
    change = answer_counts(status, g.units)
    if admitted:
        change["incomplete"] = 0 if status >= 500 else -1  # a 5xx answer stays incomplete
    else:
        change["calls"] = 1
    if g.get("database_unavailable"):
        log.warning("usage of key %s not recorded: the database is unavailable", key_id)
        return  # an admitted call stays incomplete, as it should
    connection = request_connection()
    # The key's first call of a minute window also writes what was tallied before it.
    owed = tally.take(limiter.storage, key_id) if g.get("first_in_window") else 0
    try:
        # End whatever the handler left open (views commit their own work): on SQLite
        # an open session transaction can hold the lock this connection is about to need.
        if db.session.registry.has():
            db.session.rollback()
        if status >= 400:
            connection.rollback()
        with writers_take_turns(connection, current_app.config["DATABASE_TIMEOUT"]):
            _record(connection, key_id, now(), change)
            if owed:
                _record(connection, key_id, now(), {**dict.fromkeys(COUNTERS, 0),
                                                    **tally.usage_counts(owed)},
                        endpoint=tally.TALLIED)
            if caller is not None and not admitted:  # admission touched the key already
                _touch_key(connection, caller, now())
            connection.commit()
    except Exception as error:  # metering must never turn an answer into an error
        log.error("usage of key %s not recorded (%s)", key_id, error.__class__.__name__)
        if owed:
            tally.give_back(limiter.storage, key_id, owed)
        try:
            connection.rollback()
        except Exception:  # the connection is gone; teardown hands it back invalidated
            pass


def _record(connection, key_id: str, moment, change: dict, endpoint=None) -> None:
    connection.execute(RECORD_CALL, {
        "key_id": key_id, "hour": moment.replace(minute=0, second=0, microsecond=0),
        "endpoint": endpoint or endpoint_label(), **change})


def _touch_key(connection, caller, moment) -> None:
    if caller.last_used_at is None or moment - caller.last_used_at > LAST_USED_RESOLUTION:
        connection.execute(TOUCH_KEY, {"moment": moment, "key_id": caller.id})


def endpoint_label() -> str:
    """ "GET /v1/items" - the route template, so ids do not explode the row count."""
    rule = request.url_rule.rule if request.url_rule else request.path
    return f"{request.method} {rule}"


def log_request(response) -> None:
    if not log.isEnabledFor(logging.INFO):
        return  # LOG_LEVEL=WARNING: skip building the line at all
    caller = g.get("caller")
    started = g.get("started", time.perf_counter())
    log.info(json.dumps({
        "request_id": g.get("request_id"), "key_id": caller.id if caller else None,
        "method": request.method, "route": endpoint_label(), "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "units": g.get("units", 0)}))
