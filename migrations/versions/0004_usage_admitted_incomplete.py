"""usage: admitted, incomplete and status_401 counters

Admitted calls (counted against the daily quota) and incomplete ones (admitted, no answer
produced: billed nothing) become their own counters, and 401s of a stale key its own.
Release-1 rows are kept: they billed every admitted call at admission, so their admitted
calls are estimated as every call not refused by a limit (``calls - status_429``); their
incomplete calls are unknown and stay 0.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 08:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admitted', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('incomplete', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('status_401', sa.Integer(), server_default='0',
                                      nullable=False))
    op.execute("UPDATE usage SET admitted = calls - status_429")


def downgrade():
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.drop_column('status_401')
        batch_op.drop_column('incomplete')
        batch_op.drop_column('admitted')
