"""usage: endpoint labels up to 200 characters

A usage row's ``endpoint`` is the route template with its method ("POST
/v1/webhooks/<id>/deliveries/<delivery_id>/retry"). Sixty characters held the
marketplace's routes, but an API that installs the key layer may have longer ones, and a
label that does not fit would fail metering's write on PostgreSQL. Widening keeps every
row as it is.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("usage") as batch_op:
        batch_op.alter_column("endpoint", existing_type=sa.String(length=60),
                              type_=sa.String(length=200), existing_nullable=False)


def downgrade():
    # Labels longer than 60 characters would not fit back: cut them, as a report would.
    op.execute("UPDATE usage SET endpoint = substr(endpoint, 1, 60) "
               "WHERE length(endpoint) > 60")
    with op.batch_alter_table("usage") as batch_op:
        batch_op.alter_column("endpoint", existing_type=sa.String(length=200),
                              type_=sa.String(length=60), existing_nullable=False)
