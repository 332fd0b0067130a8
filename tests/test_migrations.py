"""migrations/ owns the schema: upgrading an empty database to head gives exactly the
tables the models declare (no drift), on SQLite and on PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db
from conftest import TEST_DATABASE_URL


def drift(database_url: str) -> list:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
    return differences


def test_models_and_migrations_agree_on_sqlite(tmp_path):
    assert drift(f"sqlite:///{tmp_path / 'm.db'}") == []


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to check PostgreSQL")
def test_models_and_migrations_agree_on_postgresql():
    assert drift(TEST_DATABASE_URL) == []
