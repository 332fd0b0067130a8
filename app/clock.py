"""The current UTC time as the app sees it (naive datetime, always UTC).

Everything time-based (expiry, daily quotas, usage hours) reads this, so tests can move
the clock across a UTC midnight by setting ``app.config["CLOCK"]``."""
from datetime import datetime, timedelta, timezone

from flask import current_app


def utcnow() -> datetime:
    """The real clock; ``app.config["CLOCK"]`` defaults to it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def now() -> datetime:
    return current_app.config["CLOCK"]()


def seconds_until_next_utc_day(moment: datetime) -> int:
    tomorrow = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time())
    return max(1, int((tomorrow - moment).total_seconds()))
