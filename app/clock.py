"""The current UTC time as the app sees it (naive datetime, always UTC).

Everything time-based (expiry, daily quotas, usage hours) reads this, so tests can move
the clock across a UTC midnight by setting ``app.config["CLOCK"]``.

**One clock reading per request:** the key pipeline reads the clock once, before the key
check (``start_request_clock``); inside that request ``now()`` returns that same moment, so
the expiry check, the daily quota, the handler's "today" and metering all agree, even for
a call made at the stroke of midnight."""
from datetime import datetime, timedelta, timezone

from flask import current_app, g, has_request_context


def utcnow() -> datetime:
    """The real clock; ``app.config["CLOCK"]`` defaults to it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def start_request_clock() -> datetime:
    """Read the clock once for the current request; every later ``now()`` in it agrees."""
    g.moment = current_app.config.get("CLOCK", utcnow)()
    return g.moment


def now() -> datetime:
    if has_request_context():
        moment = g.get("moment")
        if moment is not None:
            return moment
    return current_app.config.get("CLOCK", utcnow)()


def seconds_until_next_utc_day(moment: datetime) -> int:
    tomorrow = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time())
    return max(1, int((tomorrow - moment).total_seconds()))
