"""Last step of the pipeline: record what the key did, for billing, quotas and
troubleshooting, and write one structured log line per request.

Billable units: 1 per successful (2xx) call, plus 1 per 10 basket items on the
cheapest-stores query (a view sets ``g.extra_units``). Refused or failed calls cost nothing
but are still counted by status class, which is what anomaly detection reads.

One write per call: the limit step bills an admitted call as a plain success in the same
transaction that counts it against the daily quota (``record_admitted_call``). After the
handler, ``meter`` writes only the difference when the answer was something else (an
error, or extra units). Nothing is held in process memory, so a crashed worker cannot lose
a call that was counted."""
import json
import logging
import time
from datetime import timedelta

from flask import g, request
from sqlalchemy import DateTime, bindparam, text

from ..clock import now
from ..extensions import db, request_connection

log = logging.getLogger("storeprice.requests")
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often


# One upsert: a new (key, hour, endpoint) row, or add these counts to the existing one.
RECORD_CALL = text("""
    INSERT INTO usage (key_id, hour, endpoint, calls, units, status_2xx, status_3xx,
                       status_4xx, status_5xx, status_403, status_429)
    VALUES (:key_id, :hour, :endpoint, :calls, :units, :status_2xx, :status_3xx,
            :status_4xx, :status_5xx, :status_403, :status_429)
    ON CONFLICT (key_id, hour, endpoint) DO UPDATE SET
        calls = usage.calls + excluded.calls,
        units = usage.units + excluded.units,
        status_2xx = usage.status_2xx + excluded.status_2xx,
        status_3xx = usage.status_3xx + excluded.status_3xx,
        status_4xx = usage.status_4xx + excluded.status_4xx,
        status_5xx = usage.status_5xx + excluded.status_5xx,
        status_403 = usage.status_403 + excluded.status_403,
        status_429 = usage.status_429 + excluded.status_429
""").bindparams(bindparam("hour", type_=DateTime()))
TOUCH_KEY = text("UPDATE api_keys SET last_used_at = :moment WHERE id = :key_id") \
    .bindparams(bindparam("moment", type_=DateTime()))


def counts(status: int, units: int) -> dict:
    """One call with this status and these units, as usage counters."""
    return {"calls": 1, "units": units,
            **{f"status_{n}xx": int(status // 100 == n) for n in (2, 3, 4, 5)},
            "status_403": int(status == 403), "status_429": int(status == 429)}


ADMITTED = counts(200, 1)  # what an admitted call is billed as until its answer is known


def record_admitted_call(connection, caller, moment) -> None:
    """Bill an admitted call as a success; the caller commits with the quota count."""
    g.admitted_at = moment
    _record(connection, caller, moment, ADMITTED)
    _touch_key(connection, caller, moment)


def meter(caller, response) -> None:
    status = response.status_code
    g.units = (1 + g.get("extra_units", 0)) if 200 <= status < 300 else 0
    actual = counts(status, g.units)
    admitted_at = g.get("admitted_at")
    if admitted_at is None:  # refused before admission (scope, restrictions, limits)
        moment, change = now(), actual
    else:  # correct what admission assumed, in the same hour's row
        moment, change = admitted_at, {name: actual[name] - ADMITTED[name] for name in actual}
        if not any(change.values()):
            return  # the usual case: a plain success, already recorded
    connection = request_connection()
    try:
        # End whatever a failed handler left open: on SQLite an uncommitted session write
        # holds the database lock this connection is about to need.
        db.session.rollback()
        connection.rollback()
        _record(connection, caller, moment, change)
        if admitted_at is None:  # admission has touched the key already
            _touch_key(connection, caller, moment)
        connection.commit()
    except Exception:  # metering must never turn a good answer into an error
        connection.rollback()
        log.exception("metering failed for key %s", caller.id)


def _record(connection, caller, moment, change: dict) -> None:
    connection.execute(RECORD_CALL, {
        "key_id": caller.id, "hour": moment.replace(minute=0, second=0, microsecond=0),
        "endpoint": endpoint_label(), **change})


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
