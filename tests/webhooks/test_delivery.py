"""Events written with the change that causes them, delivered signed to a real HTTP
receiver, retried on the schedule (WEBHOOK_RETRY_SCHEDULE="1,1,1" here) with the same
webhook-id, failed after the last retry, endpoints disabled after 5 days of failures."""
import time
from datetime import timedelta

from helpers import events_of, hooks_app, receiver, subscribe  # noqa: F401 (fixtures)
from sqlalchemy import text

from app.clock import utcnow
from app.config import Config
from app.extensions import db
from app.keys import lifecycle, owners
from app.keys.webhooks import delivery, reminders, settings
from conftest import key_id


def deliver(app):
    with app.app_context():
        return delivery.run(once=True)


def test_production_defaults():
    """Tests shorten them; production waits 10 s for a 2xx and retries over ~28 hours."""
    assert Config.WEBHOOK_TIMEOUT == 10 == settings.DEFAULTS["WEBHOOK_TIMEOUT"]
    assert Config.WEBHOOK_RETRY_SCHEDULE == settings.DEFAULT_RETRY_SCHEDULE \
        == "5,300,1800,7200,18000,36000,36000"
    assert Config.WEBHOOK_ALLOW_PRIVATE is False
    assert Config.WEBHOOK_DISABLE_AFTER == 5 * 86400


def test_thresholds_rotation_and_revocation_arrive_signed(hooks_app, client, make_key,
                                                          receiver):
    manager = make_key(scopes=["keys", "read"], owner="Acme")
    key = make_key(scopes=["read"], owner="Acme", daily_limit=10)
    _, secret = subscribe(client, manager, receiver.url)
    statuses = [client.get("/v1/items", headers={"X-API-Key": key}).status_code
                for _ in range(12)]
    assert statuses.count(200) == 10 and statuses.count(429) == 2
    client.post(f"/v1/keys/{key_id(key)}/rotate", headers={"X-API-Key": manager})
    client.post(f"/v1/keys/{key_id(key)}/revoke", headers={"X-API-Key": manager})
    assert deliver(hooks_app) == 5
    received = receiver.verified(secret)  # raises unless each signature verifies
    kinds = [event["type"] for _, event in received]
    assert kinds == ["quota.threshold"] * 3 + ["key.rotated", "key.revoked"]
    thresholds = [event["data"] for _, event in received[:3]]
    assert [(d["threshold"], d["used"], d["daily_limit"]) for d in thresholds] \
        == [(80, 8, 10), (90, 9, 10), (100, 10, 10)]
    assert thresholds[0]["key_id"] == key_id(key) and thresholds[0]["owner"] == "Acme"
    rotated = received[3][1]["data"]
    assert rotated["actor"] == f"key:{key_id(manager)}" and rotated["key_id"] == key_id(key)
    assert len({webhook_id for webhook_id, _ in received}) == 5
    assert deliver(hooks_app) == 0  # delivered once, nothing left


def test_a_rolled_back_admission_creates_no_event(hooks_app, client, make_key):
    """The 8th call would cross 80 % of the key's 10, but the owner's shared limit of 7
    refuses it: both counts roll back, and so does the event."""
    key = make_key(scopes=["read"], owner="Tight", daily_limit=10)
    with hooks_app.app_context():
        owners.set_daily_limit("Tight", 7)
    statuses = [client.get("/v1/items", headers={"X-API-Key": key}).status_code
                for _ in range(9)]
    assert statuses == [200] * 7 + [429] * 2
    assert events_of(hooks_app, "quota.threshold") == []


def wait_until_due(app):
    with app.app_context():
        due = db.session.execute(text("SELECT min(next_attempt_at) FROM webhook_deliveries "
                                      "WHERE status = 'pending'")).scalar()
        db.session.rollback()
    if due is not None:
        due = due if not isinstance(due, str) else __import__("datetime").datetime \
            .fromisoformat(due)
        time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.05)


def test_down_slow_and_500_are_retried_on_schedule_then_delivered_with_the_same_id(
        hooks_app, client, make_key, receiver):
    manager = make_key(scopes=["keys"], owner="Acme")
    hook, secret = subscribe(client, manager, receiver.url)
    client.post(f"/v1/keys/{key_id(manager)}/rotate", headers={"X-API-Key": manager})
    port = receiver.port

    receiver.stop()                      # 1: down
    started = time.monotonic()
    deliver(hooks_app)
    receiver.start()
    receiver.mode, receiver.delay = "slow", 2.5  # 2: answers after the 1 s timeout
    wait_until_due(hooks_app)
    deliver(hooks_app)
    receiver.mode = "error"              # 3: 500
    wait_until_due(hooks_app)
    deliver(hooks_app)
    receiver.mode = "ok"                 # 4: recovered
    wait_until_due(hooks_app)
    deliver(hooks_app)
    elapsed = time.monotonic() - started
    assert receiver.port == port
    assert elapsed >= 3  # three waits of the 1 s schedule (plus the slow attempt's timeout)

    listing = client.get(f"/v1/webhooks/{hook}/deliveries", headers={"X-API-Key": manager})
    assert listing.status_code == 200
    [row] = listing.json["data"]
    assert row["status"] == "delivered" and row["attempts"] == 4
    assert row["last_status_code"] == 204 and row["delivered_at"] is not None
    received = receiver.verified(secret)  # slow, 500 and ok: three requests arrived
    assert len(received) == 3
    assert {webhook_id for webhook_id, _ in received} == {row["webhook_id"]}


def test_failed_after_the_last_retry_then_retried_by_hand(hooks_app, client, make_key,
                                                          receiver):
    manager = make_key(scopes=["keys"], owner="Acme")
    hook, secret = subscribe(client, manager, receiver.url)
    client.post(f"/v1/keys/{key_id(manager)}/rotate", headers={"X-API-Key": manager})
    receiver.mode = "error"
    for _ in range(4):  # the first attempt and three retries
        deliver(hooks_app)
        wait_until_due(hooks_app)
    [row] = client.get(f"/v1/webhooks/{hook}/deliveries",
                       headers={"X-API-Key": manager}).json["data"]
    assert row["status"] == "failed" and row["attempts"] == 4
    assert row["last_status_code"] == 500 and row["next_attempt_at"] is None
    receiver.mode = "ok"
    retried = client.post(f"/v1/webhooks/{hook}/deliveries/{row['id']}/retry",
                          headers={"X-API-Key": manager})
    assert retried.status_code == 200 and retried.json["status"] == "pending"
    deliver(hooks_app)
    [row] = client.get(f"/v1/webhooks/{hook}/deliveries",
                       headers={"X-API-Key": manager}).json["data"]
    assert row["status"] == "delivered" and row["attempts"] == 5
    assert len({webhook_id for webhook_id, _ in receiver.verified(secret)}) == 1
    assert client.post(f"/v1/webhooks/{hook}/deliveries/999999/retry",
                       headers={"X-API-Key": manager}).status_code == 404


def test_an_endpoint_failing_for_5_days_is_disabled_and_audited(hooks_app, client,
                                                                 make_key, receiver):
    admin = make_key(scopes=["admin"], owner="Operator")
    manager = make_key(scopes=["keys"], owner="Acme")
    rotated = key_id(make_key(scopes=["read"], owner="Acme"))
    hook, _ = subscribe(client, manager, receiver.url)
    receiver.mode = "error"
    start = utcnow()
    for days in (0, 2, 4.9, 5):  # an event now and then, each delivery failing
        hooks_app.config["CLOCK"] = lambda days=days: start + timedelta(days=days)
        with hooks_app.app_context():
            lifecycle.rotate_key(rotated, force=True)
        deliver(hooks_app)
    hooks_app.config["CLOCK"] = utcnow
    shown = client.get(f"/v1/webhooks/{hook}", headers={"X-API-Key": manager}).json
    assert shown["disabled_at"] is not None
    audit = client.get("/v1/admin/audit?action=webhook.disable",
                       headers={"X-API-Key": admin}).json["data"]
    assert [event["target"] for event in audit] == [hook]
    # Disabled: nothing more is sent, until it is enabled again.
    receiver.mode = "ok"
    before = len(receiver.received)
    hooks_app.config["CLOCK"] = lambda: start + timedelta(days=6)  # retries due
    deliver(hooks_app)
    assert len(receiver.received) == before
    client.patch(f"/v1/webhooks/{hook}", headers={"X-API-Key": manager},
                 json={"disabled": False})
    deliver(hooks_app)
    hooks_app.config["CLOCK"] = utcnow
    assert len(receiver.received) > before


def test_expiring_keys_and_plan_suggestions_come_once(hooks_app, client, make_key):
    make_key(scopes=["read"], owner="Acme", expires_in="3d")
    busy = make_key(scopes=["read"], owner="Acme", daily_limit=5)
    with hooks_app.app_context():  # at its limit on 3 days: an upgrade suggestion
        today = utcnow().date()
        db.session.execute(text("UPDATE api_keys SET created_at = :at WHERE id = :k"),
                           {"k": key_id(busy), "at": utcnow() - timedelta(days=5)})
        for n in range(3):
            db.session.execute(text("INSERT INTO daily_quota (key_id, day, used) "
                                    "VALUES (:k, :d, 5)"),
                               {"k": key_id(busy), "d": today - timedelta(days=n)})
        db.session.commit()
        reminders.emit_reminders()
        reminders.emit_reminders()  # nothing new
    expiring = events_of(hooks_app, "key.expiring")
    assert [data["days_left"] for _, data in expiring] == [7]
    suggestions = events_of(hooks_app, "plan.suggestion")
    assert [(d["key_id"], d["action"]) for _, d in suggestions] == [(key_id(busy), "upgrade")]
    # 2.5 days later: one day left; 8 days later the suggestion may come again.
    hooks_app.config["CLOCK"] = lambda: utcnow() + timedelta(days=2, hours=12)
    with hooks_app.app_context():
        reminders.emit_reminders()
    assert [d["days_left"] for _, d in events_of(hooks_app, "key.expiring")] == [7, 1]
    assert len(events_of(hooks_app, "plan.suggestion")) == 1  # within 7 days: not again
    hooks_app.config["CLOCK"] = lambda: utcnow() + timedelta(days=8)
    with hooks_app.app_context():
        reminders.emit_reminders()
    hooks_app.config["CLOCK"] = utcnow
    assert len(events_of(hooks_app, "key.expiring")) == 2  # expired by then: no more
