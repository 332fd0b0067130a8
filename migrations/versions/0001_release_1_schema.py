"""the schema of release 1: catalogue, keys, quotas, usage

Release 1 created its tables with create_all and kept no version table. On such a
database this revision creates nothing and only adopts it (Alembic then records 0001), so
`flask db upgrade` upgrades an old database in place with its data kept.

Revision ID: 0001
Revises: 
Create Date: 2026-12-01 08:09:59.088277

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    if sa.inspect(op.get_bind()).has_table("api_keys"):
        return  # a release-1 database made by create_all: adopt it as it is
    op.create_table('api_keys',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('plan', sa.String(length=20), nullable=False),
    sa.Column('secret_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('previous_secret_hash', sa.LargeBinary(length=32), nullable=True),
    sa.Column('previous_valid_until', sa.DateTime(), nullable=True),
    sa.Column('rotated_at', sa.DateTime(), nullable=True),
    sa.Column('scopes', sa.String(length=40), nullable=False),
    sa.Column('countries', sa.String(length=400), nullable=True),
    sa.Column('categories', sa.String(length=400), nullable=True),
    sa.Column('daily_limit', sa.Integer(), nullable=False),
    sa.Column('rate_limit', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('not_before', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('categories',
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('slug')
    )
    op.create_table('chains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('price_level', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('countries',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('minor_digits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('usage',
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('endpoint', sa.String(length=60), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('status_2xx', sa.Integer(), nullable=False),
    sa.Column('status_3xx', sa.Integer(), nullable=False),
    sa.Column('status_4xx', sa.Integer(), nullable=False),
    sa.Column('status_5xx', sa.Integer(), nullable=False),
    sa.Column('status_403', sa.Integer(), nullable=False),
    sa.Column('status_429', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key_id', 'hour', 'endpoint')
    )
    op.create_table('daily_quota',
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['api_keys.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key_id', 'day')
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Double(), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['category'], ['categories.slug'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_category'), ['category'], unique=False)

    op.create_table('stores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('chain_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['chain_id'], ['chains.id'], ),
    sa.ForeignKeyConstraint(['country'], ['countries.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stores_country'), ['country'], unique=False)

    op.create_table('prices',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('regular_amount', sa.Integer(), nullable=True),
    sa.Column('promo_ends', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ),
    sa.PrimaryKeyConstraint('store_id', 'item_id')
    )
    with op.batch_alter_table('prices', schema=None) as batch_op:
        batch_op.create_index('ix_prices_item_store', ['item_id', 'store_id'], unique=False)

    # ### end Alembic commands ###


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('prices', schema=None) as batch_op:
        batch_op.drop_index('ix_prices_item_store')

    op.drop_table('prices')
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stores_country'))

    op.drop_table('stores')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_category'))

    op.drop_table('items')
    op.drop_table('daily_quota')
    op.drop_table('usage')
    op.drop_table('countries')
    op.drop_table('chains')
    op.drop_table('categories')
    op.drop_table('api_keys')
    # ### end Alembic commands ###
