"""stores get coordinates (lat, lon) for "near me" answers

Existing stores are placed at their city's centre when the city is one the release-1
seed used (matched by country and city name, ignoring case); any other store keeps
lat/lon NULL, which means "place unknown": it is listed as before but never appears in
an answer with ``near``. The centres are copied here, not imported from seed/, so this
revision does the same thing forever.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

CITY_CENTRES = {  # (country, city): (lat, lon), WGS 84
    ("US", "Boston"): (42.3601, -71.0589), ("US", "Chicago"): (41.8781, -87.6298),
    ("US", "Seattle"): (47.6062, -122.3321), ("US", "Austin"): (30.2672, -97.7431),
    ("US", "Denver"): (39.7392, -104.9903), ("US", "Atlanta"): (33.7490, -84.3880),
    ("CA", "Toronto"): (43.6532, -79.3832), ("CA", "Montreal"): (45.5017, -73.5673),
    ("CA", "Vancouver"): (49.2827, -123.1207), ("CA", "Calgary"): (51.0447, -114.0719),
    ("GB", "London"): (51.5074, -0.1278), ("GB", "Manchester"): (53.4808, -2.2426),
    ("GB", "Leeds"): (53.8008, -1.5491), ("GB", "Bristol"): (51.4545, -2.5879),
    ("DE", "Berlin"): (52.5200, 13.4050), ("DE", "Hamburg"): (53.5511, 9.9937),
    ("DE", "Munich"): (48.1351, 11.5820), ("DE", "Cologne"): (50.9375, 6.9603),
    ("FR", "Paris"): (48.8566, 2.3522), ("FR", "Lyon"): (45.7640, 4.8357),
    ("FR", "Marseille"): (43.2965, 5.3698), ("FR", "Lille"): (50.6292, 3.0573),
    ("JP", "Tokyo"): (35.6812, 139.7671), ("JP", "Osaka"): (34.6937, 135.5023),
    ("JP", "Nagoya"): (35.1815, 136.9066), ("JP", "Fukuoka"): (33.5904, 130.4017),
}


def upgrade():
    op.add_column('stores', sa.Column('lat', sa.Double(), nullable=True))
    op.add_column('stores', sa.Column('lon', sa.Double(), nullable=True))
    op.create_index('ix_stores_country_lat_lon', 'stores', ['country', 'lat', 'lon'],
                    unique=False)
    stores = sa.table('stores', sa.column('country', sa.String), sa.column('city', sa.String),
                      sa.column('lat', sa.Double), sa.column('lon', sa.Double))
    for (country, city), (lat, lon) in CITY_CENTRES.items():
        op.execute(stores.update()
                   .where(stores.c.country == country,
                          sa.func.lower(stores.c.city) == city.lower())
                   .values(lat=lat, lon=lon))


def downgrade():
    op.drop_index('ix_stores_country_lat_lon', table_name='stores')
    op.drop_column('stores', 'lon')
    op.drop_column('stores', 'lat')
