"""Anomaly flags ("troubleshoot"): each key's current UTC hour against its own previous 7
days. A traffic spike, an error-rate spike, a burst of 403s (a misconfigured client, or
someone probing beyond the key's scopes and restrictions), or calls with a revoked or
expired key (a stale deployment), each with a sentence saying why."""
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select

from ..clock import now
from ..extensions import db
from .models import Usage

SPIKE_FACTOR, SPIKE_MIN_CALLS = 5, 50
ERROR_RATIO, ERROR_MIN_CALLS = 0.5, 20
FORBIDDEN_BURST = 10


def anomalies() -> list[dict]:
    """Flags per key for the current UTC hour against the key's own previous 7 days."""
    current = now().replace(minute=0, second=0, microsecond=0)
    since = current - timedelta(days=7)
    hours = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))  # key -> hour -> counts
    for row in db.session.execute(
            select(Usage.key_id, Usage.hour, func.sum(Usage.calls),
                   func.sum(Usage.status_4xx + Usage.status_5xx), func.sum(Usage.status_403),
                   func.sum(Usage.status_401))
            .where(Usage.hour >= since).group_by(Usage.key_id, Usage.hour)):
        hours[row[0]][row[1]] = [int(row[2]), int(row[3]), int(row[4]), int(row[5])]

    flags = []
    for key_id, by_hour in sorted(hours.items()):
        calls, errors, forbidden, stale = by_hour.get(current, [0, 0, 0, 0])
        past = [counts for hour, counts in by_hour.items() if hour < current]
        baseline = sum(c[0] for c in past) / (7 * 24)  # hours without calls count as zero
        past_calls = sum(c[0] for c in past)
        past_ratio = sum(c[1] for c in past) / past_calls if past_calls else 0.0
        if calls >= SPIKE_MIN_CALLS and calls > SPIKE_FACTOR * baseline:
            flags.append(_flag(key_id, "traffic-spike", f"{calls} calls this hour against a "
                               f"7-day average of {baseline:.1f} per hour."))
        if calls >= ERROR_MIN_CALLS and errors / calls >= ERROR_RATIO > past_ratio:
            flags.append(_flag(key_id, "error-spike", f"{errors} of {calls} calls failed this "
                               f"hour ({errors / calls:.0%}) against {past_ratio:.0%} before."))
        if forbidden >= FORBIDDEN_BURST:
            flags.append(_flag(key_id, "forbidden-burst", f"{forbidden} calls refused with 403 "
                               "this hour: a misconfigured client, or someone probing beyond "
                               "the key's scopes and restrictions."))
        if stale:  # only a verified secret of a revoked/expired key is recorded as a 401
            flags.append(_flag(key_id, "stale-key", f"{stale} calls this hour with this key "
                               "although it is revoked, expired or not yet valid: a "
                               "deployment still uses it."))
    return flags


def _flag(key_id: str, kind: str, explanation: str) -> dict:
    return {"key_id": key_id, "flag": kind, "explanation": explanation}
