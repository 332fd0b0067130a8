"""A database made by release 1 (create_all, no Alembic version table) is adopted by
revision 0001 and upgraded in place by `flask db upgrade`, its rows kept."""
from datetime import datetime

from flask_migrate import upgrade
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db
from app.keys import format as keyformat

# A key row exactly as release 1 wrote it (its columns, not today's model).
RELEASE_1_KEY = text("""
    INSERT INTO api_keys (id, name, owner, plan, secret_hash, scopes, daily_limit, rate_limit,
                          created_at)
    VALUES (:id, 'old app', 'old org', 'partner', :hash, 'read', 100, '60/minute', :now)""")


def test_release_1_database_is_adopted_and_keeps_its_rows(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r1.db'}",
                      "LOG_LEVEL": "WARNING"})
    full_key = keyformat.generate_key("oldkey01")
    with app.app_context():
        upgrade(revision="0001")  # exactly the release-1 tables, then as create_all left them:
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
            connection.execute(RELEASE_1_KEY, {"id": "oldkey01", "now": datetime(2026, 1, 1),
                                               "hash": keyformat.hash_key(full_key)})

        upgrade()  # what `make run` does
        assert inspect(db.engine).has_table("alembic_version")
        names = db.session.execute(text("SELECT name FROM api_keys")).scalars().all()
        assert names == ["old app"]
    response = app.test_client().get("/v1/key", headers={"X-API-Key": full_key})
    assert response.status_code == 200 and response.json["id"] == "oldkey01"
