"""prices: the basket index covers the columns the basket query reads

``ix_prices_item_store (item_id, store_id)`` found a basket's rows, then read each one
from the table. ``ix_prices_basket`` adds the price columns, so the basket query
(app/market/cheapest.py: BASKET_PRICES) is answered from the index alone: about a
quarter less time for a 10-item basket over 50 stores on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:50:00

"""
from alembic import op


revision = '0005'
down_revision = "0004"
branch_labels = None
depends_on = None

BASKET_COLUMNS = ['item_id', 'store_id', 'amount', 'regular_amount', 'promo_ends']


def upgrade():
    with op.batch_alter_table('prices', schema=None) as batch_op:
        batch_op.create_index('ix_prices_basket', BASKET_COLUMNS, unique=False)
        batch_op.drop_index('ix_prices_item_store')


def downgrade():
    with op.batch_alter_table('prices', schema=None) as batch_op:
        batch_op.create_index('ix_prices_item_store', ['item_id', 'store_id'], unique=False)
        batch_op.drop_index('ix_prices_basket')
