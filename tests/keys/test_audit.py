"""The audit trail: every lifecycle change of keys and plans appends one event in the same
transaction, with who, what, before/after, request id and address; never a secret or a
hash; events cannot be changed or deleted, and outlive the key."""
import getpass
import json
from datetime import timedelta

import pytest
from conftest import key_id, row_count
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from app.clock import utcnow
from app.extensions import db
from app.keys import format as keyformat
from app.keys.models import ApiKey, AuditEvent


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def events(app, target=None):
    with app.app_context():
        stmt = db.select(AuditEvent).order_by(AuditEvent.id)
        if target:
            stmt = stmt.where(AuditEvent.target == target)
        return [dict(action=e.action, actor=e.actor, target=e.target, changes=e.changes,
                     request_id=e.request_id, ip=e.ip) for e in db.session.scalars(stmt)]


def test_each_http_lifecycle_action_writes_one_event(app, client, make_key):
    admin_key = make_key(scopes=["read", "write", "admin"], name="admin")
    admin = {"X-API-Key": admin_key, "X-Request-ID": "req-42"}
    actor = f"key:{key_id(admin_key)}"
    created = client.post("/v1/admin/keys", headers=admin, json={
        "name": "shop", "countries": ["US"], "allowed_ips": ["203.0.113.0/24"]},
        environ_base={"REMOTE_ADDR": "192.0.2.10"})
    kid = created.json["id"]
    client.patch(f"/v1/admin/keys/{kid}", headers=admin, json={"countries": ["CA", "US"],
                                                               "daily_limit": 10})
    rotated = client.post(f"/v1/admin/keys/{kid}/rotate", headers=admin, json={"grace": "1h"})
    client.post(f"/v1/admin/keys/{kid}/revoke", headers=admin)
    client.delete(f"/v1/admin/keys/{kid}", headers=admin)
    trail = events(app, kid)
    assert [e["action"] for e in trail] == ["key.create", "key.update", "key.rotate",
                                            "key.revoke", "key.delete"]
    assert {e["actor"] for e in trail} == {actor}
    assert {e["request_id"] for e in trail} == {"req-42"}
    assert trail[0]["ip"] == "192.0.2.10"
    assert trail[0]["changes"]["countries"] == [None, ["US"]]
    assert trail[0]["changes"]["allowed_ips"] == [None, ["203.0.113.0/24"]]
    assert trail[1]["changes"] == {"countries": [["US"], ["CA", "US"]], "daily_limit": [None, 10]}
    assert set(trail[2]["changes"]) == {"rotated_at", "previous_valid_until"}
    assert trail[3]["changes"]["revoked_at"][0] is None
    assert trail[4]["changes"]["name"] == ["shop", None]
    # Deleting the key kept its history, and the API lists it newest first.
    listing = client.get(f"/v1/admin/audit?target={kid}", headers=admin).json
    assert [e["action"] for e in listing["data"]] == ["key.delete", "key.revoke",
                                                      "key.rotate", "key.update", "key.create"]
    assert listing["total"] == 5 and listing["data"][0]["at"].endswith("+00:00")
    assert_no_secrets(app, [admin_key, created.json["key"], rotated.json["key"]])


def test_plan_actions_and_prune_write_events(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"], name="admin")}
    client.post("/v1/admin/plans", headers=admin, json={
        "id": "team", "name": "Team", "daily_limit": 10, "rate_limit": "5/minute",
        "price_per_1000_units": "0.40"})
    client.patch("/v1/admin/plans/team", headers=admin, json={"daily_limit": 20})
    client.delete("/v1/admin/plans/team", headers=admin)
    trail = events(app, "team")
    assert [e["action"] for e in trail] == ["plan.create", "plan.update", "plan.delete"]
    assert trail[0]["changes"]["price_per_1000_units"] == [None, "0.40"]
    assert trail[1]["changes"] == {"daily_limit": [10, 20]}
    assert trail[2]["changes"]["daily_limit"] == [20, None]

    stale = make_key(name="stale")
    with app.app_context():
        db.session.get(ApiKey, key_id(stale)).created_at = utcnow() - timedelta(days=100)
        db.session.commit()
    assert cli(app, "keys", "prune", "--unused-days", "90").exit_code == 0
    pruned = events(app, key_id(stale))
    assert [e["action"] for e in pruned] == ["key.create", "key.prune"]
    assert pruned[1]["actor"] == f"cli:{getpass.getuser()}"
    assert pruned[1]["request_id"] is None and pruned[1]["ip"] is None


def test_cli_actions_are_attributed_to_the_os_user(app):
    result = cli(app, "keys", "create", "--name", "x", "--json")
    kid = json.loads(result.output)["id"]
    cli(app, "keys", "update", kid, "--owner", "Acme")
    cli(app, "keys", "rotate", kid)
    cli(app, "keys", "revoke", kid)
    cli(app, "keys", "delete", kid)
    cli(app, "plans", "update", "pro", "--daily-limit", "25000")
    assert {e["actor"] for e in events(app)} == {f"cli:{getpass.getuser()}"}
    assert [e["action"] for e in events(app)] == ["key.create", "key.update", "key.rotate",
                                                  "key.revoke", "key.delete", "plan.update"]
    listing = cli(app, "audit", "--target", kid)
    assert listing.exit_code == 0
    assert [line.split()[2] for line in listing.output.splitlines()] == [
        "key.delete", "key.revoke", "key.rotate", "key.update", "key.create"]
    assert "owner:  -> Acme" in listing.output
    assert cli(app, "audit", "--since", "2999-01-01").output.strip() == "No audit events."


def test_a_failed_change_writes_no_event(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"], name="admin")}
    before = row_count(app, "audit_events")
    client.post("/v1/admin/keys", headers=admin, json={"name": "", "scopes": ["root"]})
    client.patch("/v1/admin/keys/nope1234", headers=admin, json={"name": "x"})
    client.delete("/v1/admin/plans/free", headers=admin)  # in use
    client.post("/v1/admin/plans", headers=admin, json={"id": "free", "name": "x",
                "daily_limit": 1, "rate_limit": "1/minute", "price_per_1000_units": "0"})
    cli(app, "keys", "create", "--name", "x", "--plan", "gold")
    assert row_count(app, "audit_events") == before


def test_a_change_and_its_event_are_one_transaction(app, make_key):
    """If the event cannot be written, the change is not either."""
    key = make_key(name="x")
    with app.app_context():
        # A target longer than the column: PostgreSQL refuses the insert at commit; on
        # SQLite (no length checks) force the failure with a trigger.
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("CREATE TRIGGER refuse_events BEFORE INSERT ON "
                                    "audit_events BEGIN SELECT RAISE(ABORT, 'no'); END"))
            db.session.commit()
        from app.keys import lifecycle
        with pytest.raises(DatabaseError):
            if db.engine.dialect.name == "sqlite":
                lifecycle.update_key(key_id(key), {"owner": "changed"})
            else:
                lifecycle.update_key(key_id(key), {"owner": "x" * 200})
        db.session.rollback()
        assert db.session.get(ApiKey, key_id(key)).owner == ""


def test_events_cannot_be_updated_or_deleted(app, make_key):
    make_key(name="x")
    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent)).one()
        event.actor = "someone else"
        with pytest.raises(ValueError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalars(db.select(AuditEvent)).one())
        with pytest.raises(ValueError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        # Below the ORM, the database itself refuses (triggers from the migration).
        for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalars(db.select(AuditEvent)).one().actor.startswith("cli:")


def test_audit_filters_and_pagination(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"], name="admin")}
    for n in range(5):
        client.post("/v1/admin/keys", headers=admin, json={"name": f"k{n}"})
    page = client.get("/v1/admin/audit?action=key.create&per_page=2&page=2", headers=admin)
    assert page.status_code == 200
    assert page.json["total"] == 6 and page.json["page"] == 2 and len(page.json["data"]) == 2
    today = utcnow().date()
    assert client.get(f"/v1/admin/audit?since={today}", headers=admin).json["total"] == 6
    tomorrow = today + timedelta(days=1)
    assert client.get(f"/v1/admin/audit?since={tomorrow}", headers=admin).json["total"] == 0
    bad = client.get("/v1/admin/audit?action=drop&since=yesterday", headers=admin)
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"action", "since"}
    # A day is written YYYY-MM-DD, as documented (date.fromisoformat also reads these).
    for since in (today.strftime("%Y%m%d"), today.strftime("%G-W%V-%u")):
        bad = client.get(f"/v1/admin/audit?since={since}", headers=admin)
        assert bad.status_code == 422 and set(bad.json["errors"]) == {"since"}


def test_cli_audit_filters_are_checked_as_the_api_checks_them(app, make_key):
    make_key(name="x")
    today = utcnow().date()
    for args, field in ((["--action", "bogus"], "action"),
                        (["--since", today.strftime("%Y%m%d")], "since"),
                        (["--since", "9999-12-31"], "since"), (["--target", ""], "target")):
        result = cli(app, "audit", *args)
        assert result.exit_code == 2 and field in result.output, (args, result.output)
        assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output
    assert "key.create" in cli(app, "audit", "--action", "key.create",
                               "--since", str(today)).output


def assert_no_secrets(app, full_keys):
    """No event holds a full key, a secret, or any stored hash (hex or raw)."""
    with app.app_context():
        hashes = [h for k in db.session.scalars(db.select(ApiKey))
                  for h in (k.secret_hash, k.previous_secret_hash) if h]
        dumped = json.dumps([e.changes for e in db.session.scalars(db.select(AuditEvent))])
    for full_key in full_keys:
        parsed = keyformat.parse_key(full_key)
        assert full_key not in dumped and parsed.full_key.split("_")[2][:20] not in dumped
    for digest in hashes:
        assert digest.hex() not in dumped and repr(digest) not in dumped
    assert "secret" not in dumped and "hash" not in dumped


def test_an_update_that_changes_nothing_records_nothing(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"], name="admin")}
    kid = key_id(make_key(name="x", countries=["US"]))
    before = row_count(app, "audit_events")
    assert client.patch(f"/v1/admin/keys/{kid}", headers=admin,
                        json={"countries": ["US"], "name": "x"}).status_code == 200
    assert client.patch("/v1/admin/plans/pro", headers=admin, json={}).status_code == 200
    assert row_count(app, "audit_events") == before
