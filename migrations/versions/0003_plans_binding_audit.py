"""plans, server binding (allowed_ips) and the audit trail

Revision ID: 0003
Revises: 0002

Data step: release 1 stored a free-text ``plan`` on each key and every key carried its own
limits. Each key now belongs to a row of ``plans``:

    release 1 plan   ->  plan     (why)
    free             ->  free
    partner          ->  pro      (same price: $0.50 per 1,000 units)
    enterprise       ->  enterprise
    internal         ->  free     (same price: nothing)
    anything else    ->  free

A key's release-1 ``daily_limit``/``rate_limit`` are kept as overrides where they differ
from its new plan's and cleared (NULL = follow the plan) where they are the same, so no
key's limits change in the upgrade. Downgrading maps pro back to partner and writes the
effective limits back onto the keys; plans and audit events are dropped.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# id, name, calls per UTC day, per-minute rate, USD micro-dollars per 1,000 units
# (the same rows as app/keys/models.py SEEDED_PLANS; a migration never imports the app).
PLANS = [
    ("free", "Free", 1000, "60/minute", 0),
    ("starter", "Starter", 5000, "120/minute", 300_000),
    ("pro", "Pro", 20000, "300/minute", 500_000),
    ("enterprise", "Enterprise", 100000, "1000/minute", 800_000),
]
RELEASE_1_PLANS = {"free": "free", "partner": "pro", "enterprise": "enterprise",
                   "internal": "free"}
APPEND_ONLY = {
    "sqlite": [f"CREATE TRIGGER audit_events_no_{op_} BEFORE {op_.upper()} ON audit_events "
               f"BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
               for op_ in ("update", "delete")],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_events is append-only'; END $$",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"],
}


def upgrade():
    plans = op.create_table(
        "plans",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("daily_limit", sa.Integer(), nullable=False),
        sa.Column("rate_limit", sa.String(length=40), nullable=False),
        sa.Column("price_per_1000_units_micros", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"))
    op.bulk_insert(plans, [dict(zip(("id", "name", "daily_limit", "rate_limit",
                                     "price_per_1000_units_micros"), row)) for row in PLANS])

    # The data step, before the constraint: map each key's plan, then clear the limits
    # that equal its plan's.
    mapping = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in RELEASE_1_PLANS.items())
    op.execute(f"UPDATE api_keys SET plan = CASE plan {mapping} ELSE 'free' END")
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("daily_limit", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("rate_limit", existing_type=sa.String(length=40), nullable=True)
        batch.add_column(sa.Column("allowed_ips", sa.String(length=2000), nullable=True))
        batch.create_foreign_key("fk_api_keys_plan_plans", "plans", ["plan"], ["id"],
                                 ondelete="RESTRICT")
    for limit in ("daily_limit", "rate_limit"):
        op.execute(f"UPDATE api_keys SET {limit} = NULL WHERE {limit} = "
                   f"(SELECT plans.{limit} FROM plans WHERE plans.id = api_keys.plan)")

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_target", "audit_events", ["target"])
    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    op.drop_table("audit_events")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    for limit in ("daily_limit", "rate_limit"):
        op.execute(f"UPDATE api_keys SET {limit} = (SELECT plans.{limit} FROM plans "
                   f"WHERE plans.id = api_keys.plan) WHERE {limit} IS NULL")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("fk_api_keys_plan_plans", type_="foreignkey")
        batch.drop_column("allowed_ips")
        batch.alter_column("daily_limit", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("rate_limit", existing_type=sa.String(length=40), nullable=False)
    op.execute("UPDATE api_keys SET plan = 'partner' WHERE plan IN ('starter', 'pro')")
    op.drop_table("plans")
