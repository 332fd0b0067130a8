"""usage: the unit price each row was metered at

Each usage row records the plan's price (micro-dollars per 1,000 units) in force when its
calls were metered, and the price is part of the row's key, so a price change or plan
move within an hour starts a new row. Billing prices each row at its own price, so a bill
for a past window never changes.

Existing rows get the price their key was billed at when this release was installed (its
plan's price now; a deleted key's plan from the audit event that deleted it, as billing
read it), so the bills shown before the upgrade are the bills shown after it.

Downgrading merges the rows that differ only by price and drops the column.

Revision ID: 0008
Revises: 0007
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMN = "price_per_1000_units_micros"
COUNTERS = ("calls", "admitted", "units", "incomplete", "status_2xx", "status_3xx",
            "status_4xx", "status_5xx", "status_401", "status_403", "status_429")


def upgrade():
    with op.batch_alter_table("usage") as batch_op:
        batch_op.add_column(sa.Column(COLUMN, sa.Integer(), server_default="0",
                                      nullable=False))
    connection = op.get_bind()
    connection.execute(sa.text(f"""
        UPDATE usage SET {COLUMN} = (
            SELECT plans.price_per_1000_units_micros FROM api_keys
            JOIN plans ON plans.id = api_keys.plan WHERE api_keys.id = usage.key_id)
        WHERE EXISTS (SELECT 1 FROM api_keys WHERE api_keys.id = usage.key_id)"""))
    for key_id, price in _deleted_keys_prices(connection).items():
        connection.execute(sa.text(f"UPDATE usage SET {COLUMN} = :price WHERE key_id = :key"),
                           {"price": price, "key": key_id})
    _set_primary_key(("key_id", "hour", "endpoint", COLUMN))


def downgrade():
    connection = op.get_bind()
    sums = ", ".join(f"SUM({c}) AS {c}" for c in COUNTERS)
    connection.execute(sa.text(f"""CREATE TABLE usage_merged AS
        SELECT key_id, hour, endpoint, {sums} FROM usage GROUP BY key_id, hour, endpoint"""))
    connection.execute(sa.text("DELETE FROM usage"))
    _set_primary_key(("key_id", "hour", "endpoint"))
    with op.batch_alter_table("usage") as batch_op:
        batch_op.drop_column(COLUMN)
    columns = ", ".join(("key_id", "hour", "endpoint", *COUNTERS))
    connection.execute(sa.text(f"INSERT INTO usage ({columns}) SELECT {columns} "
                               "FROM usage_merged"))
    connection.execute(sa.text("DROP TABLE usage_merged"))


def _set_primary_key(columns):
    if op.get_bind().dialect.name == "sqlite":  # the table is copied with the new key
        with op.batch_alter_table("usage", recreate="always") as batch_op:
            batch_op.create_primary_key("pk_usage", list(columns))
    else:
        name = op.get_bind().execute(sa.text(
            "SELECT constraint_name FROM information_schema.table_constraints "
            "WHERE table_name = 'usage' AND constraint_type = 'PRIMARY KEY'")).scalar()
        op.drop_constraint(name, "usage", type_="primary")
        op.create_primary_key("usage_pkey", "usage", list(columns))


def _deleted_keys_prices(connection) -> dict:
    """Usage of keys that no longer exist: the plan their deletion's audit event records
    (the latest deletion wins), at that plan's price; unknown plans stay at 0."""
    gone = set(connection.execute(sa.text(
        "SELECT DISTINCT key_id FROM usage WHERE key_id NOT IN (SELECT id FROM api_keys)"
    )).scalars())
    if not gone:
        return {}
    prices = dict(connection.execute(sa.text(
        "SELECT id, price_per_1000_units_micros FROM plans")).all())
    found = {}
    for target, changes in connection.execute(sa.text(
            "SELECT target, changes FROM audit_events WHERE action IN "
            "('key.delete', 'key.prune') ORDER BY id")):
        if target not in gone:
            continue
        changes = json.loads(changes) if isinstance(changes, str) else changes
        plan = (changes.get("plan") or [None])[0]
        if plan in prices:
            found[target] = prices[plan]
    return found
