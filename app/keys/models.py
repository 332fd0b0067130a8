"""The API-key tables: plans, the keys themselves, owners and their counters (daily
quotas, usage) and the audit trail. Models hold data only; services and views decide when to commit."""
from datetime import date, datetime

from sqlalchemy import JSON, DDL, ForeignKey, Integer, LargeBinary, SmallInteger, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db


class Plan(db.Model):
    """What a key gets and what it costs: limits every key on the plan shares unless it
    overrides them, and the price of 1,000 billable units (see plans.py)."""
    __tablename__ = "plans"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # "free", "pro", ...
    name: Mapped[str] = mapped_column(String(60))
    daily_limit: Mapped[int]
    rate_limit: Mapped[str] = mapped_column(String(40))  # flask-limiter syntax: "60/minute"
    # Integer millionths of a dollar: exact on every database (SQLite has no decimal type).
    price_per_1000_units_micros: Mapped[int] = mapped_column(default=0)


# The plans a new database starts with (migration 0003 inserts the same rows): id, name,
# calls per UTC day, per-minute rate, USD micro-dollars per 1,000 units.
SEEDED_PLANS = [
    ("free", "Free", 1000, "60/minute", 0),
    ("starter", "Starter", 5000, "120/minute", 300_000),
    ("pro", "Pro", 20000, "300/minute", 500_000),
    ("enterprise", "Enterprise", 100000, "1000/minute", 800_000),
]


@event.listens_for(Plan.__table__, "after_create")
def _seed_plans(table, connection, **_):
    """create_all (tests) starts with the same plans as a migrated database."""
    connection.execute(table.insert(), [
        dict(zip(("id", "name", "daily_limit", "rate_limit", "price_per_1000_units_micros"),
                 row)) for row in SEEDED_PLANS])


class ApiKey(db.Model):
    """An application's credential. Only a hash of the secret is stored (see format.py)."""
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public key id
    name: Mapped[str] = mapped_column(String(120))  # the calling application
    owner: Mapped[str] = mapped_column(String(120), default="")  # the organisation
    # The plan's id. A plan with keys on it cannot be deleted (RESTRICT).
    plan: Mapped[str] = mapped_column(
        ForeignKey("plans.id", name="fk_api_keys_plan_plans", ondelete="RESTRICT"))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # After a rotation the previous secret keeps working until previous_valid_until.
    previous_secret_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    previous_valid_until: Mapped[datetime | None]
    rotated_at: Mapped[datetime | None]

    scopes: Mapped[str] = mapped_column(String(40), default="read")  # "read,keys"
    # Per restriction dimension the API declares (dimensions.py), the allowed values:
    # {"countries": ["CA", "US"], "chains": ["freshmart"]}; a dimension not in it = all.
    restrictions: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # Server binding: "203.0.113.0/24,2001:db8::/32"; NULL = callable from anywhere.
    allowed_ips: Mapped[str | None] = mapped_column(String(2000))
    # Overrides of the plan's limits; NULL = the plan's (changes to the plan apply).
    daily_limit: Mapped[int | None]
    rate_limit: Mapped[str | None] = mapped_column(String(40))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]  # refreshed at most once a minute (metering)

    plan_row: Mapped[Plan] = relationship(lazy="joined", innerjoin=True)

    # The same names as the key check's joined row, so one schema dumps both.
    @property
    def plan_daily_limit(self) -> int:
        return self.plan_row.daily_limit

    @property
    def plan_rate_limit(self) -> str:
        return self.plan_row.rate_limit


class Owner(db.Model):
    """An organisation's shared daily limit: every key whose ``owner`` is this one also
    counts against it (limits.py). Owners without a row, or with a NULL limit, have none."""
    __tablename__ = "owners"
    owner: Mapped[str] = mapped_column(String(120), primary_key=True)
    daily_limit: Mapped[int | None]


class OwnerQuota(db.Model):
    """Calls admitted per owner per UTC day, counted in the same transaction as the key's
    own daily quota: both or neither."""
    __tablename__ = "owner_quota"
    owner: Mapped[str] = mapped_column(String(120), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    used: Mapped[int] = mapped_column(default=0)


class DailyQuota(db.Model):
    """Calls admitted per key per UTC day; incremented atomically in the database so the
    limit is exact across workers, hosts and restarts (see limits.py). One row per shard
    of the day (shards.py): one row unless QUOTA_SHARDS is set; the day's count is their
    sum."""
    __tablename__ = "daily_quota"
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"),
                                        primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0,
                                       server_default="0")
    used: Mapped[int] = mapped_column(default=0)
    # The day's shard count, as its first admission found QUOTA_SHARDS (every row of the
    # day has the same): each shard's share of the limit is computed from it.
    shards: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")


class Usage(db.Model):
    """Metering: one row per key, UTC hour, endpoint and unit price (the price splits a
    row only when it changes within the hour). Daily reports sum the hours;
    anomaly detection compares hours with the key's own baseline (see metering.py).

    ``calls`` = ``admitted`` (counted against the daily quota: summed per day they equal
    ``daily_quota.used``) + calls refused before admission + free self-inspection calls.
    ``incomplete`` = admitted calls whose answer was not handed over whole (the worker
    died, the client hung up first, the answer was a 5xx, the database went away): billed
    nothing."""
    __tablename__ = "usage"
    # No foreign key: billing history outlives a deleted key.
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)  # truncated to the hour, UTC
    endpoint: Mapped[str] = mapped_column(String(200), primary_key=True)  # "GET /v1/items"
    # The plan's price (micro-dollars per 1,000 units) when the calls were metered. Part of
    # the key, so a price change or plan move within the hour starts a new row and a bill
    # for any past window never changes (usage.billing_summary prices each row at its own).
    price_per_1000_units_micros: Mapped[int] = mapped_column(
        primary_key=True, default=0, server_default="0")
    # With quota shards, a key's calls of one hour are spread over several rows, so that
    # they do not all wait for one row's lock (shards.py); reports add them up.
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0,
                                       server_default="0")
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


class AuditEvent(db.Model):
    """One lifecycle change of a key or plan (see audit.py). Append-only: the model refuses
    updates and deletes, and triggers in the database refuse them from any client."""
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(80))       # "key:3fK9aQ2m" or "cli:alice"
    actor_owner: Mapped[str | None] = mapped_column(String(120))  # the acting key's owner
    action: Mapped[str] = mapped_column(String(40))      # "key.rotate", "plan.update", ...
    # No foreign key: a deleted key keeps its history.
    target: Mapped[str] = mapped_column(String(120), index=True)
    changes: Mapped[dict] = mapped_column(JSON)          # {field: [before, after]}
    request_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(45))


# The same statements the migration runs, so a test database made by create_all refuses
# changes to events too. One trigger per dialect and operation.
APPEND_ONLY_TRIGGERS = {
    "sqlite": [f"CREATE TRIGGER audit_events_no_{op} BEFORE {op.upper()} ON audit_events "
               f"BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
               for op in ("update", "delete")],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_events is append-only'; END $$",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"],
}
for _dialect, _statements in APPEND_ONLY_TRIGGERS.items():
    for _statement in _statements:
        event.listen(AuditEvent.__table__, "after_create",
                     DDL(_statement).execute_if(dialect=_dialect))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_changes(_mapper, _connection, target):
    raise ValueError(f"audit event {target.id} is append-only")
