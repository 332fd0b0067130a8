"""quota shards: a key's daily count and usage rows may be spread over several rows

``daily_quota`` and ``usage`` get a ``shard`` column in their primary keys (0 for every
existing row, and for every new one unless QUOTA_SHARDS is set), and ``daily_quota`` the
day's shard count (``shards``, 1 for existing rows). With one shard nothing changes.

Downgrading adds each key's shards back into one row per day (and per hour, endpoint and
price), then drops the columns.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

USAGE_KEY = ("key_id", "hour", "endpoint", "price_per_1000_units_micros")
QUOTA_KEY = ("key_id", "day")
COUNTERS = ("calls", "admitted", "units", "incomplete", "status_2xx", "status_3xx",
            "status_4xx", "status_5xx", "status_401", "status_403", "status_429")


def upgrade():
    with op.batch_alter_table("daily_quota") as batch_op:
        batch_op.add_column(sa.Column("shard", sa.SmallInteger(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("shards", sa.SmallInteger(), server_default="1",
                                      nullable=False))
    with op.batch_alter_table("usage") as batch_op:
        batch_op.add_column(sa.Column("shard", sa.SmallInteger(), server_default="0",
                                      nullable=False))
    _set_primary_key("daily_quota", (*QUOTA_KEY, "shard"))
    _set_primary_key("usage", (*USAGE_KEY, "shard"))


def downgrade():
    _merge_shards("daily_quota", QUOTA_KEY, ("used",))
    _merge_shards("usage", USAGE_KEY, COUNTERS)
    _set_primary_key("daily_quota", QUOTA_KEY)
    _set_primary_key("usage", USAGE_KEY)
    with op.batch_alter_table("daily_quota") as batch_op:
        batch_op.drop_column("shards")
        batch_op.drop_column("shard")
    with op.batch_alter_table("usage") as batch_op:
        batch_op.drop_column("shard")


def _merge_shards(table, key, counters):
    """Add every row of shard 1 and up into its shard 0 row (created if missing)."""
    connection = op.get_bind()
    columns = ", ".join((*key, *counters))
    sums = ", ".join(f"SUM({c})" for c in counters)
    connection.execute(sa.text(
        f"CREATE TABLE {table}_merged AS SELECT {columns} FROM {table} WHERE 1 = 0"))
    connection.execute(sa.text(
        f"INSERT INTO {table}_merged ({columns}) SELECT {', '.join(key)}, {sums} "
        f"FROM {table} GROUP BY {', '.join(key)}"))
    connection.execute(sa.text(f"DELETE FROM {table}"))
    connection.execute(sa.text(f"INSERT INTO {table} ({columns}) SELECT {columns} "
                               f"FROM {table}_merged"))
    connection.execute(sa.text(f"DROP TABLE {table}_merged"))


def _set_primary_key(table, columns):
    if op.get_bind().dialect.name == "sqlite":  # the table is copied with the new key
        with op.batch_alter_table(table, recreate="always") as batch_op:
            batch_op.create_primary_key(f"pk_{table}", list(columns))
    else:
        name = op.get_bind().execute(sa.text(
            "SELECT constraint_name FROM information_schema.table_constraints "
            "WHERE table_name = :table AND constraint_type = 'PRIMARY KEY'"),
            {"table": table}).scalar()
        op.drop_constraint(name, table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, list(columns))
