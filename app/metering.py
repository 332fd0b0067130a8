"""Last step of the pipeline: record what the key did, for billing, quotas and
troubleshooting, and write one structured log line per request.

Billable units: 1 per successful (2xx) call, plus 1 per 10 basket items on the
cheapest-stores query (a view sets ``g.extra_units``). Refused or failed calls cost nothing
but are still counted by status class, which is what anomaly detection reads."""
import json
import logging
import time
from datetime import timedelta

from flask import g, request
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from .clock import now
from .extensions import db
from .models import ApiKey, Usage

log = logging.getLogger("storeprice.requests")
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often


def meter(caller, response) -> None:
    status = response.status_code
    g.units = (1 + g.get("extra_units", 0)) if 200 <= status < 300 else 0
    moment = now()
    counts = {"calls": 1, "units": g.units, f"status_{status // 100}xx": 1}
    if status in (403, 429):
        counts[f"status_{status}"] = 1
    db.session.rollback()  # never commit anything a failed handler left behind
    try:
        db.session.execute(_usage_upsert(caller.id, moment.replace(minute=0, second=0,
                                                                   microsecond=0), counts))
        if caller.last_used_at is None or moment - caller.last_used_at > LAST_USED_RESOLUTION:
            db.session.execute(update(ApiKey).where(ApiKey.id == caller.id)
                               .values(last_used_at=moment))
        db.session.commit()
    except Exception:  # metering must never turn a good answer into an error
        db.session.rollback()
        log.exception("metering failed for key %s", caller.id)


def _usage_upsert(key_id, hour, counts: dict):
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Usage).values(key_id=key_id, hour=hour, endpoint=endpoint_label(),
                                        **counts)
    return stmt.on_conflict_do_update(
        index_elements=["key_id", "hour", "endpoint"],
        set_={column: getattr(Usage, column) + amount for column, amount in counts.items()})


def endpoint_label() -> str:
    """ "GET /v1/items" - the route template, so ids do not explode the row count."""
    rule = request.url_rule.rule if request.url_rule else request.path
    return f"{request.method} {rule}"


def log_request(response) -> None:
    caller = g.get("caller")
    started = g.get("started", time.perf_counter())
    log.info(json.dumps({
        "request_id": g.get("request_id"), "key_id": caller.id if caller else None,
        "method": request.method, "route": endpoint_label(), "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "units": g.get("units", 0)}))
