"""Webhooks across processes: gunicorn workers on two "hosts" pushing one key through its
quota emit exactly one event per threshold; a delivery worker killed mid-delivery loses
nothing; two delivery workers on PostgreSQL deliver 500 events with no duplicate."""
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from helpers import events_of, receiver  # noqa: F401 (fixture)
from servers import ROOT, Gunicorn

from app.clock import utcnow
from app.extensions import db
from app.keys import lifecycle
from app.keys.webhooks import delivery, events
from app.keys.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.keys.webhooks.signing import new_secret
from conftest import TEST_DATABASE_URL, TEST_REDIS_URL, make_app

FLASK = Path(sys.executable).parent / "flask"
HOOK_SETTINGS = {"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_SCHEDULE": "1,1,1"}


def endpoint_for(app, owner: str, url: str) -> str:
    """An endpoint row made directly (the HTTP path is tested in test_endpoints.py)."""
    with app.app_context():
        secret = new_secret()
        db.session.add(WebhookEndpoint(id="wh_" + owner.ljust(16, "0")[:16], owner=owner,
                                       url=url, events="quota.threshold,key.rotated",
                                       secret=secret, created_at=utcnow()))
        db.session.commit()
    return secret


def worker(env: dict, *args) -> subprocess.Popen:
    return subprocess.Popen([str(FLASK), "--app", "wsgi", "webhooks", "deliver", *args],
                            cwd=ROOT, env={**os.environ, **HOOK_SETTINGS, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_exactly_three_threshold_events_from_4_workers_on_2_hosts(worker_backend, receiver):
    app, env = worker_backend
    limit = 50
    with app.app_context():
        _, key = lifecycle.create_key("busy app", owner="Acme", scopes=["read"],
                                      daily_limit=limit, rate_limit="100000/minute")
    secret = endpoint_for(app, "Acme", receiver.url)
    with Gunicorn(env, workers=4) as first, Gunicorn(env, workers=4) as second:
        def call(n):
            return requests.get(f"{(first, second)[n % 2]}/v1/items", timeout=60,
                                headers={"X-API-Key": key}).status_code
        with ThreadPoolExecutor(24) as pool:
            statuses = list(pool.map(call, range(80)))
    assert statuses.count(200) == limit and statuses.count(429) == 30
    done = worker(env, "--once")
    assert done.wait(timeout=60) == 0, done.stderr.read().decode()
    received = receiver.verified(secret)  # each signature verified with standardwebhooks
    data = sorted((event["data"] for _, event in received), key=lambda d: d["threshold"])
    assert [event["type"] for _, event in received] == ["quota.threshold"] * 3
    assert [(d["threshold"], d["used"]) for d in data] == [(80, 40), (90, 45), (100, 50)]
    assert len({webhook_id for webhook_id, _ in received}) == 3
    assert len(events_of(app, "quota.threshold")) == 3


def test_a_worker_killed_mid_delivery_loses_nothing(worker_backend, receiver):
    """The receiver holds the request; the worker is killed (SIGKILL) while it waits. The
    delivery stays pending and, once the claim lapses, is delivered with the same id."""
    app, env = worker_backend
    secret = endpoint_for(app, "Acme", receiver.url)
    with app.app_context():
        _, _key = lifecycle.create_key("app", owner="Acme", scopes=["read"])
        lifecycle.rotate_key(_key.split("_")[1])
    receiver.mode, receiver.delay = "slow", 30
    killed = worker({**env, "WEBHOOK_TIMEOUT": "20"})
    deadline = time.monotonic() + 30
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.received, killed.stderr.read().decode() if killed.poll() else "no request"
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    with app.app_context():
        [row] = db.session.query(WebhookDelivery).all()
        assert row.status == "pending" and row.attempts == 1
        db.session.rollback()
    receiver.mode = "ok"
    # Later than the claim's lapse (20 s timeout + margin), in another worker.
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_TIMEOUT=1,
                      CLOCK=lambda: utcnow() + timedelta(minutes=2))
    with app.app_context():
        assert delivery.run(once=True) == 1
        row = db.session.query(WebhookDelivery).one()
        assert row.status == "delivered" and row.attempts == 2
    received = receiver.verified(secret)
    assert len(received) == 2 and len({webhook_id for webhook_id, _ in received}) == 1


@pytest.mark.skipif(not (TEST_DATABASE_URL and TEST_REDIS_URL),
                    reason="set TEST_DATABASE_URL (and TEST_REDIS_URL) to run two delivery "
                           "workers on PostgreSQL: SQLite has no row locks (one worker)")
def test_two_workers_on_postgresql_deliver_500_events_once_each(receiver):
    app = make_app(TEST_DATABASE_URL)
    secret = endpoint_for(app, "Acme", receiver.url)
    with app.app_context():
        moment = utcnow()
        connection = db.session.connection()
        for n in range(500):
            events.emit(connection, "key.rotated", "Acme", f"key{n:05d}", moment,
                        {"key_id": f"key{n:05d}", "owner": "Acme", "at": "", "actor": "t"})
        db.session.commit()
    env = {"DATABASE_URL": TEST_DATABASE_URL}
    workers = [worker(env, "--once") for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    attempts = [int(out.split()[0]) for out, _ in outputs]
    received = receiver.verified(secret)
    ids = [webhook_id for webhook_id, _ in received]
    assert len(ids) == 500 and len(set(ids)) == 500  # every event once, no duplicate
    assert sum(attempts) == 500 and min(attempts) > 0, attempts  # both took part
    with app.app_context():
        assert {row.status for row in db.session.query(WebhookDelivery)} == {"delivered"}
        db.session.remove()
        db.engine.dispose()
