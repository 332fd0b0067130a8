"""migrations/ owns the schema: upgrading an empty database to head gives exactly the
tables the models declare (no drift), and a database made by release 1 upgrades in place
with nothing lost and goes on serving, on SQLite and on PostgreSQL."""
from datetime import datetime, timedelta, timezone

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


# --- upgrading a release-1 database in place ------------------------------------------

RELEASE_1_KEYS = [  # id, plan, daily_limit, rate_limit, scopes
    ("freekey1", "free", 1000, "60/minute", "read"),       # = plan free: follows the plan
    ("partner1", "partner", 5, "60/minute", "read"),       # own daily limit kept
    ("enterpr1", "enterprise", 100000, "1000/minute", "read"),
    ("internl1", "internal", 1000, "600/minute", "admin,read,write"),
    ("oddplan1", "gold", 250, "60/minute", "read"),        # unknown plan: free
]
EXPECTED = {  # id -> (plan, own daily_limit, own rate_limit) after the upgrade
    "freekey1": ("free", None, None), "partner1": ("pro", 5, "60/minute"),
    "enterpr1": ("enterprise", None, None), "internl1": ("free", None, "600/minute"),
    "oddplan1": ("free", 250, None),
}


def fill_release_1(connection, today):
    """Rows as release 1 wrote them, with plain SQL (the models are the new schema)."""
    from app.keys import format as keyformat
    run = lambda sql, rows: connection.execute(text(sql), rows)  # noqa: E731
    run("INSERT INTO countries VALUES (:code, :name, :currency, :digits)",
        [{"code": "US", "name": "United States", "currency": "USD", "digits": 2}])
    run("INSERT INTO categories VALUES (:slug, :name)", [{"slug": "dairy", "name": "Dairy"}])
    run("INSERT INTO chains VALUES (1, 'cheapo', 'Cheapo', 0.9)", [{}])
    run("INSERT INTO stores VALUES (1, 'us-cheapo-1', 'Us Cheapo 1', 1, 'US', 'Boston')", [{}])
    run("INSERT INTO items VALUES (1, 'milk', 'Milk', 'dairy', 1, 'l')", [{}])
    run("INSERT INTO prices VALUES (1, 1, 199, 249, :ends, :at)",
        [{"ends": today + timedelta(days=3), "at": datetime(2026, 1, 1)}])
    keys = {}
    for key_id_, plan, daily, rate, scopes in RELEASE_1_KEYS:
        keys[key_id_] = keyformat.generate_key(key_id_)
        run("INSERT INTO api_keys (id, name, owner, plan, secret_hash, scopes, daily_limit, "
            "rate_limit, created_at) VALUES (:id, :name, 'Acme', :plan, :hash, :scopes, "
            ":daily, :rate, :at)",
            [{"id": key_id_, "name": f"app {key_id_}", "plan": plan, "scopes": scopes,
              "hash": keyformat.hash_key(keys[key_id_], ""), "daily": daily, "rate": rate,
              "at": datetime(2026, 1, 1)}])
        run("INSERT INTO daily_quota VALUES (:id, :day, :used)",
            [{"id": key_id_, "day": today - timedelta(days=1), "used": 7},
             {"id": key_id_, "day": today, "used": 3}])
        run("INSERT INTO usage VALUES (:id, :hour, 'GET /v1/prices', 10, 9, 9, 0, 1, 0, 1, "
            "0)", [{"id": key_id_, "hour": datetime.combine(today, datetime.min.time())}])
    return keys


def snapshot_rows(connection) -> dict:
    tables = {"daily_quota": "key_id, day, used", "usage": "key_id, hour, endpoint, calls, "
              "units, status_2xx, status_4xx, status_403", "prices": "store_id, item_id, "
              "amount, regular_amount, promo_ends", "stores": "id, slug", "items": "id, slug",
              "api_keys": "id, name, owner, secret_hash, scopes, created_at"}
    return {table: sorted(tuple(str(value) for value in row) for row in connection.execute(
        text(f"SELECT {columns} FROM {table}"))) for table, columns in tables.items()}


def upgrade_release_1(database_url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "LOG_LEVEL": "WARNING",
                      "DEFAULT_KEY_TTL": ""})
    today = datetime.now(timezone.utc).date()
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="0001")
        with db.engine.begin() as connection:
            keys = fill_release_1(connection, today)
            before = snapshot_rows(connection)
        upgrade()  # to head
        with db.engine.connect() as connection:
            after = snapshot_rows(connection)
            migrated = {row.id: (row.plan, row.daily_limit, row.rate_limit) for row in
                        connection.execute(text("SELECT id, plan, daily_limit, rate_limit "
                                                "FROM api_keys"))}
            plans = [row[0] for row in connection.execute(text("SELECT id FROM plans"))]
    client = app.test_client()
    served = {key_id_: client.get("/v1/key", headers={"X-API-Key": full})
              for key_id_, full in keys.items()}
    prices = client.get("/v1/prices?item=milk", headers={"X-API-Key": keys["freekey1"]})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
    return before, after, migrated, plans, served, prices


@pytest.mark.parametrize("database", [
    "sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
        not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to check PostgreSQL"))])
def test_a_release_1_database_upgrades_in_place_and_serves(tmp_path, database):
    url = f"sqlite:///{tmp_path / 'r1.db'}" if database == "sqlite" else TEST_DATABASE_URL
    before, after, migrated, plans, served, prices = upgrade_release_1(url)
    assert after == before  # every key, quota, usage row and price is still there
    assert len(after["daily_quota"]) == 10 and len(after["usage"]) == 5
    assert migrated == EXPECTED
    assert sorted(plans) == ["enterprise", "free", "pro", "starter"]
    # Every key still works with its release-1 secret and limits; today's count continues.
    for key_id_, response in served.items():
        assert response.status_code == 200, (key_id_, response.json)
        assert response.json["today"]["used"] == 3  # asking GET /v1/key is free
    limits = {k: (r.json["plan"], r.json["daily_limit"], r.json["rate_limit"])
              for k, r in served.items()}
    assert limits == {"freekey1": ("free", 1000, "60/minute"),
                      "partner1": ("pro", 5, "60/minute"),
                      "enterpr1": ("enterprise", 100000, "1000/minute"),
                      "internl1": ("free", 1000, "600/minute"),
                      "oddplan1": ("free", 250, "60/minute")}
    assert prices.status_code == 200
    assert [(p["price"], p["regular_price"]) for p in prices.json["data"]] == [("1.99", "2.49")]


# --- 0006: restrictions move into one object per key, per declared dimension ------------

RESTRICTED_KEYS = [  # id, countries, categories, restrictions expected after the upgrade
    ("bothset1", "US,CA", "dairy", {"countries": ["CA", "US"], "categories": ["dairy"]}),
    ("country1", "US", None, {"countries": ["US"]}),
    ("nothing1", None, None, {}),
]


@pytest.mark.parametrize("database", [
    "sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
        not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to check PostgreSQL"))])
def test_0006_keeps_every_keys_restrictions_and_serves_them(tmp_path, database):
    from flask_migrate import downgrade

    from app.keys import format as keyformat
    url = f"sqlite:///{tmp_path / 'r6.db'}" if database == "sqlite" else TEST_DATABASE_URL
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING",
                      "DEFAULT_KEY_TTL": ""})
    full = {}
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="0005")
        with db.engine.begin() as connection:
            for kid, countries, categories, _ in RESTRICTED_KEYS:
                full[kid] = keyformat.generate_key(kid)
                connection.execute(text(
                    "INSERT INTO api_keys (id, name, owner, plan, secret_hash, scopes, "
                    "countries, categories, created_at) VALUES (:id, 'app', 'Acme', 'free', "
                    ":hash, 'read', :countries, :categories, :at)"),
                    {"id": kid, "hash": keyformat.hash_key(full[kid], ""), "at": datetime(2026, 1, 1),
                     "countries": countries, "categories": categories})
        upgrade()
        client = app.test_client()
        served = {kid: client.get("/v1/key", headers={"X-API-Key": full[kid]}).json
                  for kid in full}
        refused = client.get("/v1/stores?country=FR", headers={"X-API-Key": full["country1"]})
        downgrade(revision="0005")
        with db.engine.connect() as connection:
            back = {row.id: (row.countries, row.categories) for row in connection.execute(
                text("SELECT id, countries, categories FROM api_keys"))}
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
    for kid, countries, categories, expected in RESTRICTED_KEYS:
        shown = {field: served[kid][field] for field in ("countries", "categories", "chains")}
        assert shown == {"countries": expected.get("countries"),
                         "categories": expected.get("categories"), "chains": None}, kid
        assert back[kid] == (countries and ",".join(sorted(countries.split(","))), categories)
    assert refused.status_code == 403 and refused.json["violated"] == ["country:FR"]


def test_the_audit_trail_stays_append_only_after_every_migration(tmp_path):
    """0009 copies audit_events on SQLite to widen a column: its triggers come back."""
    import sqlalchemy.exc
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}",
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO audit_events (at, actor, action, target, changes) VALUES "
                "('2026-01-01', 'cli:x', 'owner.update', :target, '{}')"), {"target": "o" * 120})
        for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(sqlalchemy.exc.IntegrityError, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text(statement))
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT length(target) FROM audit_events")).scalar() \
                == 120
        db.engine.dispose()
