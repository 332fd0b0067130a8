"""least privilege: restrictions per declared dimension, owners with a shared daily limit,
the acting key's owner in the audit trail

Revision ID: 0006
Revises: 0005

Data step: keys kept their restrictions in two comma-separated columns, ``countries``
("US,CA") and ``categories``; NULL meant all. They now live in one JSON object per key,
one entry per restricted dimension, so the API can declare dimensions of its own (the
marketplace adds ``chains``):

    countries "US,CA", categories NULL  ->  restrictions {"countries": ["CA", "US"]}
    both NULL                           ->  restrictions {}

No key's restrictions change. Downgrading writes countries and categories back; a
restriction on another dimension (chains) cannot be expressed there, so such a key is
refused every call after a downgrade (scopes emptied) rather than silently widened.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_COLUMNS = ("countries", "categories")


def _keys(*columns):
    return sa.table("api_keys", sa.column("id", sa.String), *columns)


def upgrade():
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("restrictions", sa.JSON(), nullable=True,
                                   server_default="{}"))
    connection = op.get_bind()
    old = _keys(*(sa.column(name, sa.String) for name in OLD_COLUMNS))
    new = _keys(sa.column("restrictions", sa.JSON))
    for row in connection.execute(sa.select(old)).all():
        restrictions = {name: sorted(set(getattr(row, name).split(",")))
                        for name in OLD_COLUMNS if getattr(row, name)}
        connection.execute(new.update().where(new.c.id == row.id)
                           .values(restrictions=restrictions))
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("restrictions", existing_type=sa.JSON(), nullable=False)
        for name in OLD_COLUMNS:
            batch.drop_column(name)

    op.create_table(
        "owners",
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("daily_limit", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("owner"))
    op.create_table(
        "owner_quota",
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("owner", "day"))
    # A plain ADD COLUMN: a batch copy of audit_events would delete its rows, which its
    # append-only triggers refuse.
    op.add_column("audit_events", sa.Column("actor_owner", sa.String(length=120),
                                            nullable=True))


def downgrade():
    op.drop_column("audit_events", "actor_owner")
    op.drop_table("owner_quota")
    op.drop_table("owners")
    with op.batch_alter_table("api_keys") as batch:
        for name in OLD_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=400), nullable=True))
    connection = op.get_bind()
    keys = _keys(sa.column("restrictions", sa.JSON), sa.column("scopes", sa.String),
                 *(sa.column(name, sa.String) for name in OLD_COLUMNS))
    for row in connection.execute(sa.select(keys.c.id, keys.c.restrictions)).all():
        restrictions = row.restrictions or {}
        values = {name: ",".join(restrictions[name]) if name in restrictions else None
                  for name in OLD_COLUMNS}
        if set(restrictions) - set(OLD_COLUMNS):  # not expressible: never wider
            values["scopes"] = ""
        connection.execute(keys.update().where(keys.c.id == row.id).values(**values))
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("restrictions")
