"""Quota shards (app/keys/shards.py): with QUOTA_SHARDS, a key's daily count and usage
rows are spread over several rows and the limit is still exact, in one process and
across gunicorn workers; the day's shard count is fixed by its first call; reports,
GET /v1/key and the threshold webhooks add the shards up."""
import json
from datetime import timedelta

import pytest
from conftest import key_id, make_app, parallel_get, quota_used
from servers import Gunicorn
from sqlalchemy import text

from app.clock import utcnow
from app.extensions import db
from app.keys import lifecycle, shards
from app.keys.models import Usage


# --- the pure rules ------------------------------------------------------------------------

@pytest.mark.parametrize("limit", [1, 3, 4, 10, 1000, 999_999])
@pytest.mark.parametrize("count", [1, 2, 4, 7, 64])
def test_the_shares_add_up_to_the_limit(limit, count):
    parts = [shards.share(limit, count, shard) for shard in range(count)]
    assert sum(parts) == limit and max(parts) - min(parts) <= 1


def test_the_setting_is_used_between_1_and_64_shards():
    assert [shards.configured(n) for n in (-3, 0, 1, 8, 64, 500)] == [1, 1, 1, 8, 64, 64]


def test_a_call_tries_its_shard_first_then_the_others_and_never_an_empty_one():
    assert shards.order(10, 4, first=2) == [2, 3, 0, 1]
    assert shards.order(2, 4, first=3) == [0, 1]  # shards 2 and 3 have a share of 0
    assert sorted(shards.order(100, 8)) == list(range(8))


# --- one process ---------------------------------------------------------------------------

def key_rows(app, key):
    with app.app_context():
        return db.session.execute(text(
            "SELECT shard, shards, used FROM daily_quota WHERE key_id = :id ORDER BY shard"),
            {"id": key_id(key)}).all()


def admitted(app, key) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.coalesce(db.func.sum(Usage.admitted), 0))
                                  .where(Usage.key_id == key_id(key))).scalar()


def threshold_events(app, key) -> list[int]:
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT data FROM webhook_events WHERE type = 'quota.threshold' "
            "AND key_id = :id"), {"id": key_id(key)}).scalars()
        return sorted((row if isinstance(row, dict) else json.loads(row))["threshold"]
                      for row in rows)


@pytest.fixture
def sharded(app):
    app.config["QUOTA_SHARDS"] = 4
    with app.app_context():
        _, key = lifecycle.create_key("hot", daily_limit=10, rate_limit="1000/minute")
    return app, key


def test_the_limit_is_exact_over_shards_and_everything_adds_them_up(sharded, monkeypatch):
    app, key = sharded
    client = app.test_client()
    # Every call starts at shard 1: it fills up, and calls go on to 2, 3 and 0.
    order = shards.order
    monkeypatch.setattr(shards, "order", lambda limit, count: order(limit, count, first=1))
    answers = [client.get("/v1/items", headers={"X-API-Key": key}) for _ in range(13)]
    assert [a.status_code for a in answers] == [200] * 10 + [429] * 3
    assert answers[-1].json["type"] == "/problems/quota-exceeded"
    assert answers[9].headers["RateLimit"].startswith('"daily";r=0;')
    assert answers[8].headers["RateLimit"].startswith('"daily";r=1;')
    # The day's first call fixed 4 shards in shard 0; each shard is full at its share.
    assert key_rows(app, key) == [(0, 4, 3), (1, 4, 3), (2, 4, 2), (3, 4, 2)]
    assert quota_used(app, key) == admitted(app, key) == 10
    me = client.get("/v1/key", headers={"X-API-Key": key})
    assert me.json["today"]["used"] == 10
    assert threshold_events(app, key) == [80, 90, 100]  # each exactly once


def test_a_refused_call_writes_nothing_but_the_100_percent_event(sharded):
    app, key = sharded
    client = app.test_client()
    for _ in range(10):
        assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    with app.app_context():  # as if the admissions that filled it had all missed it
        db.session.execute(text("DELETE FROM webhook_deliveries"))
        db.session.execute(text("DELETE FROM webhook_events"))
        db.session.commit()
    before = key_rows(app, key)
    assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 429
    assert key_rows(app, key) == before and admitted(app, key) == 10
    assert threshold_events(app, key) == [100]


def test_the_days_first_call_fixes_its_shard_count(app):
    app.config["QUOTA_SHARDS"] = 1
    with app.app_context():
        _, key = lifecycle.create_key("hot", daily_limit=100, rate_limit="1000/minute")
    client = app.test_client()
    assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    app.config["QUOTA_SHARDS"] = 8  # changed during the day: today stays in one row
    for _ in range(5):
        assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    assert key_rows(app, key) == [(0, 1, 6)]
    tomorrow = utcnow() + timedelta(days=1)
    app.config["CLOCK"] = lambda: tomorrow
    for _ in range(20):
        assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT shard, shards, used FROM daily_quota WHERE key_id = :id AND day = :day"),
            {"id": key_id(key), "day": tomorrow.date()}).all()
    assert {shards_ for _, shards_, _ in rows} == {8} and sum(u for _, _, u in rows) == 20
    assert len(rows) > 1  # spread (20 random picks over 8 shards)


# --- several workers -----------------------------------------------------------------------

def test_the_limit_is_exact_over_shards_across_workers(worker_backend):
    app, env = worker_backend
    with app.app_context():
        _, key = lifecycle.create_key("hot", daily_limit=45, rate_limit="10000/minute")
    with Gunicorn({**env, "QUOTA_SHARDS": "4"}, workers=4) as url:
        results = parallel_get(f"{url}/v1/items", key, 120)
    assert sum(1 for status, _ in results if status == 200) == 45
    assert sorted(set(results) - {(200, None)}) == [(429, "/problems/quota-exceeded")]
    rows = key_rows(app, key)
    assert [shards_ for _, shards_, _ in rows] == [4] * len(rows)
    assert sum(used for _, _, used in rows) == 45 == admitted(app, key)
    assert threshold_events(app, key) == [80, 90, 100]
