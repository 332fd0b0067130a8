"""The API-key tables: the keys themselves and their counters (daily quota, usage).
Models hold data only; services and views decide when to commit."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class ApiKey(db.Model):
    """An application's credential. Only a hash of the secret is stored (see format.py)."""
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public key id
    name: Mapped[str] = mapped_column(String(120))  # the calling application
    owner: Mapped[str] = mapped_column(String(120), default="")  # the organisation
    plan: Mapped[str] = mapped_column(String(20), default="free")  # for billing reports
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # After a rotation the previous secret keeps working until previous_valid_until.
    previous_secret_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    previous_valid_until: Mapped[datetime | None]
    rotated_at: Mapped[datetime | None]

    scopes: Mapped[str] = mapped_column(String(40), default="read")  # "read,write"
    countries: Mapped[str | None] = mapped_column(String(400))  # "US,CA"; NULL = all
    categories: Mapped[str | None] = mapped_column(String(400))  # "dairy"; NULL = all
    daily_limit: Mapped[int]
    rate_limit: Mapped[str] = mapped_column(String(40))  # flask-limiter syntax: "60/minute"

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]  # refreshed at most once a minute (metering)


class DailyQuota(db.Model):
    """Calls admitted per key per UTC day; incremented atomically in the database so the
    limit is exact across workers, hosts and restarts (see limits.py)."""
    __tablename__ = "daily_quota"
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"),
                                        primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    used: Mapped[int] = mapped_column(default=0)


class Usage(db.Model):
    """Metering: one row per key, UTC hour and endpoint. Daily reports sum the hours;
    anomaly detection compares hours with the key's own baseline (see metering.py).

    ``calls`` = ``admitted`` (counted against the daily quota: summed per day they equal
    ``daily_quota.used``) + calls refused before admission + free self-inspection calls.
    ``incomplete`` = admitted calls without a produced 2xx-4xx answer (the worker died,
    the answer was a 5xx, the database went away): billed nothing."""
    __tablename__ = "usage"
    # No foreign key: billing history outlives a deleted key.
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)  # truncated to the hour, UTC
    endpoint: Mapped[str] = mapped_column(String(60), primary_key=True)
    calls: Mapped[int] = mapped_column(default=0)
    admitted: Mapped[int] = mapped_column(default=0, server_default="0")
    incomplete: Mapped[int] = mapped_column(default=0, server_default="0")
    units: Mapped[int] = mapped_column(default=0)  # billable units (see metering.py)
    status_2xx: Mapped[int] = mapped_column(default=0)
    status_3xx: Mapped[int] = mapped_column(default=0)
    status_4xx: Mapped[int] = mapped_column(default=0)
    status_5xx: Mapped[int] = mapped_column(default=0)
    # Part of 4xx: a revoked, expired or not-yet-valid key whose secret verified (a stale
    # deployment); only such calls are recorded under a key id with a 401.
    status_401: Mapped[int] = mapped_column(default=0, server_default="0")
    status_403: Mapped[int] = mapped_column(default=0)  # part of 4xx; bursts hint at probing
    status_429: Mapped[int] = mapped_column(default=0)  # part of 4xx; refused by a limit
