"""Usage history for the demo keys, so the plan review (app/keys/plan_review.py) has
something to show on a fresh `make run`: the N UTC days before today, deterministic.

Each demo key gets a daily pattern that tells a story in the review:
- ``tiny-quota`` (5 calls a day) runs into its limit most days: an upgrade;
- ``partner-write`` (plan pro, 20,000 a day) uses about 1,000: a downgrade to starter;
- ``grocery-app`` (plan starter) uses a steady 30-70 % of its limit: no suggestion.
Today is left untouched, so today's quotas are whole (the walkthrough counts on it).
The rows go where the request path would have put them: ``daily_quota`` (admitted calls)
and ``usage`` (calls, admitted, units, status classes), one usage row per day at 12:00 UTC;
each key's ``last_used_at`` is its last recorded call, as metering would have left it (so
``keys prune`` sees the keys the report shows as busy as used)."""
import random
from datetime import datetime, time, timedelta

from app.clock import now
from app.keys.models import ApiKey, DailyQuota, Usage

ENDPOINT = "POST /v1/cheapest-stores"


def daily_pattern(label: str, daily_limit: int, rng: random.Random) -> tuple[int, int]:
    """(admitted, refused) calls on one day for the demo key with this label."""
    if label == "tiny-quota":  # wants 2-12 calls a day against a limit of 5
        wanted = rng.randint(2, 12)
        return min(wanted, daily_limit), max(0, wanted - daily_limit)
    if label == "partner-write":
        return rng.randint(600, 1200), 0
    if label == "grocery-app":
        return rng.randint(int(daily_limit * 0.3), int(daily_limit * 0.7)), 0
    if label == "admin":
        return rng.randint(0, 40), 0
    return 0, 0


def write_history(session, issued, days: int, seed: int = 42) -> int:
    """Write ``days`` days of history for the issued demo keys; returns the rows written."""
    if days <= 0:
        return 0
    today = now().date()
    start = today - timedelta(days=days)
    rows = 0
    for label, _description, full_key in issued:
        key = session.get(ApiKey, full_key.split("_")[1])
        key.created_at = datetime.combine(start, time.min)  # a key-day for each history day
        limit = key.daily_limit if key.daily_limit is not None else key.plan_daily_limit
        rng = random.Random(f"{seed}:{label}")  # deterministic per key, whatever the order
        for offset in range(days):
            day = start + timedelta(days=offset)
            admitted, refused = daily_pattern(label, limit, rng)
            if admitted + refused == 0:
                continue
            if admitted:
                session.add(DailyQuota(key_id=key.id, day=day, used=admitted))
            hour = datetime.combine(day, time(12))
            session.add(Usage(key_id=key.id, hour=hour, endpoint=ENDPOINT,
                              price_per_1000_units_micros=key.plan_row.price_per_1000_units_micros,
                              calls=admitted + refused, admitted=admitted,
                              units=admitted,
                              status_2xx=admitted, status_4xx=refused, status_429=refused))
            key.last_used_at = hour  # days ascend: ends at the last day with a call
            rows += 1
    session.commit()
    return rows
