"""Migration 0002 (store coordinates) keeps existing stores valid: a store in a city the
release-1 seed used is placed at that city's centre, any other keeps lat/lon NULL."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db
from conftest import TEST_DATABASE_URL

DATABASES = ["sqlite"] + (["postgres"] if TEST_DATABASE_URL else [])


@pytest.mark.parametrize("backend", DATABASES)
def test_existing_stores_get_their_city_centre_or_stay_unplaced(backend, tmp_path):
    url = TEST_DATABASE_URL if backend == "postgres" else f"sqlite:///{tmp_path / 'm.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="0001")
        with db.engine.begin() as connection:  # a release-1 catalogue, written in SQL
            connection.execute(text(
                "INSERT INTO countries (code, name, currency, minor_digits) VALUES "
                "('US', 'United States', 'USD', 2), ('JP', 'Japan', 'JPY', 0)"))
            connection.execute(text("INSERT INTO chains (id, slug, name, price_level) "
                                    "VALUES (1, 'c', 'C', 1.0)"))
            connection.execute(text(
                "INSERT INTO stores (id, slug, name, chain_id, country, city) VALUES "
                "(1, 'a', 'A', 1, 'US', 'Boston'), (2, 'b', 'B', 1, 'US', 'boston'), "
                "(3, 'c', 'C', 1, 'JP', 'Tokyo'), (4, 'd', 'D', 1, 'US', 'Springfield'), "
                "(5, 'e', 'E', 1, 'JP', 'Boston')"))
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT slug, name, city, lat, lon FROM stores "
                                           "ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [
            ("a", "A", "Boston", 42.3601, -71.0589), ("b", "B", "boston", 42.3601, -71.0589),
            ("c", "C", "Tokyo", 35.6812, 139.7671), ("d", "D", "Springfield", None, None),
            ("e", "E", "Boston", None, None)]   # no Boston in Japan
        downgrade(revision="0001")  # and back, with the stores kept
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM stores")).scalar() == 5
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
