"""Last step of the pipeline: record what the key did, for billing, quotas and
troubleshooting, and write one structured log line per request.

**Billing only what was delivered.** Billable units: 1 per 2xx answer that the server
handed over whole, plus 1 per 10 basket items on the cheapest-stores query (a view sets
``g.extra_units``), at the unit price in force when the call was metered (each usage row
records it).
Self-inspection, refusals and failures cost nothing, but are counted by status class,
which is what anomaly detection reads.

**Two writes per admitted call, each one true when it is made:**

1. *Admission* (``record_admission``, in the limit step's transaction, with the daily
   quota's count): ``calls + 1, admitted + 1, incomplete + 1``. Nothing is billed yet.
2. *Completion* (``Record.write``, once the server has written the whole answer; see
   delivery.py): ``incomplete - 1`` and the answer's status class and units. A 5xx
   answer records its status but stays incomplete.

A worker killed between the two, a client that hung up before the whole answer was
written, or a database lost before the second write leaves the call admitted, incomplete
and unbilled: the books never claim an answer that nobody received. The request log line
is written at the same moment and says the same (``completed``, ``units``). Calls not
admitted (refused by scope or server binding, over a daily quota, free self-inspection,
a revoked or expired key whose secret verified) are recorded once, after the answer,
under the key id. Calls refused by the minute window are tallied in the
limiter storage instead and written by the key's next call in a later window (tally.py),
so a flood of them costs no database write per call. Nothing is held in process memory."""
import logging
import random
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, request
from sqlalchemy import DateTime, bindparam, text

from ..clock import now
from ..database import writers_take_turns
from ..extensions import db, limiter, request_connection
from . import shards, tally
from .delivery import after_delivery

log = logging.getLogger(__name__)  # "app.keys.metering": the key layer's own name
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often
COUNTERS = ("calls", "admitted", "units", "incomplete", "status_2xx", "status_3xx",
            "status_4xx", "status_5xx", "status_401", "status_403", "status_429")

# One upsert: a new (key, hour, endpoint) row, or add these counts to the existing one.
# The row carries the unit price in force when the call was metered (the key's plan's price
# read by the key check); a later price change or plan move starts new rows, never
# reprices these.
# With quota shards (shards.py) an admitted call's rows are its quota shard's, and other
# calls pick a shard at random: one key's calls then wait for no single row.
RECORD_CALL = text(f"""
    INSERT INTO usage (key_id, hour, endpoint, price_per_1000_units_micros, shard,
                       {", ".join(COUNTERS)})
    VALUES (:key_id, :hour, :endpoint, :price, :shard,
            {", ".join(":" + c for c in COUNTERS)})
    ON CONFLICT (key_id, hour, endpoint, price_per_1000_units_micros, shard) DO UPDATE SET
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
    _record(connection, caller.id, moment, ADMISSION, endpoint_label(), caller.price_micros,
            g.get("quota_shard", 0))
    _touch_key(connection, caller, moment)


def meter(response) -> None:
    """Prepare the record of this call (after_request). It is written once the server is
    done with the answer (delivery.py): completed and billed if the whole answer was
    handed over, else left as admitted (incomplete, unbilled)."""
    caller = g.get("caller")
    key_id = caller.id if caller is not None else g.get("verified_key_id")
    if key_id is None:
        return  # nobody proven: a missing, malformed or unknown key is not anyone's call
    if g.get("tallied"):  # refused by the minute window: one INCR, no database write
        tally.add(limiter.storage, key_id)
        return
    status, admitted = response.status_code, g.get("admitted", False)
    g.units = (1 + g.get("extra_units", 0)) if admitted and 200 <= status < 300 else 0
    if g.get("database_unavailable"):
        log.warning("usage of key %s not recorded: the database is unavailable", key_id)
        return  # an admitted call stays incomplete, as it should
    # End whatever the handler left open (views commit their own work): on SQLite an open
    # session transaction can hold the lock that the record is about to need.
    if db.session.registry.has():
        db.session.rollback()
    connection = request_connection()
    # No transaction stays open while the answer is written (a slow reader, or a client
    # that never finishes reading, would hold its locks): the handler's reads end here.
    connection.rollback()
    # The request's connection goes with the record (teardown does not close it), so the
    # record costs no second checkout (and on PostgreSQL no second pre-ping).
    record = Record(
        connection=g.pop("db_connection"), storage=limiter.storage,
        timeout=current_app.config["DATABASE_TIMEOUT"], key_id=key_id, caller=caller,
        admitted=admitted, status=status, units=g.units, endpoint=endpoint_label(),
        # the request's one clock reading and the price the key check read: the admission
        # wrote the same, so completion lands in the admission's row
        moment=now(), first_in_window=g.get("first_in_window", False),
        price_micros=caller.price_micros if caller is not None else 0,
        shard=g.get("quota_shard") if admitted else random.randrange(
            shards.configured(current_app.config["QUOTA_SHARDS"])))
    after_delivery(record.write)


@dataclass
class Record:
    """What one call adds to the books, written when its delivery is known."""
    connection: object
    storage: object
    timeout: float
    key_id: str
    caller: object
    admitted: bool
    status: int
    units: int
    endpoint: str
    moment: object
    first_in_window: bool
    price_micros: int
    shard: int  # the usage row's (shards.py)

    def write(self, delivered: bool) -> None:
        """An admitted call whose answer was cut stays as its admission left it; any other
        call is completed (its status, and its units if delivered) or recorded."""
        with closing(self.connection) as connection:
            if self.admitted and not delivered:
                return  # incomplete, unbilled: the admission already says so
            change = answer_counts(self.status, self.units if delivered else 0)
            if self.admitted:
                change["incomplete"] = 0 if self.status >= 500 else -1  # a 5xx stays
            else:
                change["calls"] = 1
            # The key's first call of a minute window also writes what was tallied before.
            owed = tally.take(self.storage, self.key_id) if self.first_in_window else 0
            try:
                with writers_take_turns(connection, self.timeout):
                    _record(connection, self.key_id, self.moment, change, self.endpoint,
                            self.price_micros, self.shard)
                    if owed:
                        _record(connection, self.key_id, self.moment,
                                {**dict.fromkeys(COUNTERS, 0), **tally.usage_counts(owed)},
                                tally.TALLIED, self.price_micros, 0)
                    if self.caller is not None and not self.admitted:  # admission touched it
                        _touch_key(connection, self.caller, self.moment)
                    connection.commit()
            except Exception as error:  # metering must never turn an answer into an error
                log.error("usage of key %s not recorded (%s)", self.key_id,
                          error.__class__.__name__, extra={"key_id": self.key_id})
                if owed:
                    tally.give_back(self.storage, self.key_id, owed)
                try:
                    connection.rollback()
                except Exception:  # the connection is gone; closing invalidates it
                    pass


def _record(connection, key_id: str, moment, change: dict, endpoint: str,
            price_micros: int, shard: int) -> None:
    connection.execute(RECORD_CALL, {
        "key_id": key_id, "hour": moment.replace(minute=0, second=0, microsecond=0),
        "endpoint": endpoint, "price": price_micros, "shard": shard, **change})


def _touch_key(connection, caller, moment) -> None:
    if caller.last_used_at is None or moment - caller.last_used_at > LAST_USED_RESOLUTION:
        connection.execute(TOUCH_KEY, {"moment": moment, "key_id": caller.id})


def endpoint_label() -> str:
    """ "GET /v1/items" - the route template, so ids do not explode the row count."""
    rule = request.url_rule.rule if request.url_rule else request.path
    return f"{request.method} {rule}"


def log_request(response) -> None:
    """One structured line per request, written once the server is done with the answer,
    so that it says what the books say: ``completed`` (the whole answer was handed over)
    and the ``units`` billed for it."""
    if not log.isEnabledFor(logging.INFO):
        return  # LOG_LEVEL=WARNING: skip building the line at all
    caller = g.get("caller")
    line = {"request_id": g.get("request_id"), "key_id": caller.id if caller else None,
            "method": request.method, "route": endpoint_label(),
            "status": response.status_code}
    units, started = g.get("units", 0), g.get("started", time.perf_counter())

    def write(delivered: bool) -> None:
        log.info("request", extra={**line, "completed": delivered,
                                   "units": units if delivered else 0,
                                   "duration_ms": round((time.perf_counter() - started)
                                                        * 1000, 2)})
    after_delivery(write)
