"""The key lifecycle through the CLI runner and the admin API (the same service)."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import key_id, row_count

from app.extensions import db
from app.keys.models import ApiKey, AuditEvent


def utcnow():
    return datetime.now(timezone.utc)


def naive_utcnow():
    return utcnow().replace(tzinfo=None)


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def create_json(app, *args):
    result = cli(app, "keys", "create", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_create_prints_one_json_object_with_the_key_once(app, client):
    data = create_json(app, "--name", "shop", "--owner", "Acme", "--scopes", "read,write",
                       "--countries", "US,CA", "--categories", "dairy,bakery",
                       "--daily-limit", "10", "--rate-limit", "5/minute", "--expires-in", "30d")
    assert data["key"].startswith(f"spk_{data['id']}_")
    assert data["scopes"] == ["read", "write"] and data["countries"] == ["CA", "US"]
    assert data["categories"] == ["bakery", "dairy"] and data["daily_limit"] == 10
    assert data["rate_limit"] == "5/minute" and data["owner"] == "Acme"
    expires = datetime.fromisoformat(data["expires_at"])
    assert timedelta(days=29) < expires - utcnow() <= timedelta(days=30)
    me = client.get("/v1/key", headers={"X-API-Key": data["key"]})
    assert me.status_code == 200 and me.json["id"] == data["id"]
    assert "key" not in me.json and "secret_hash" not in me.json
    listing = cli(app, "keys", "show", data["id"], "--json")
    assert data["key"] not in listing.output and "key" not in json.loads(listing.output)


@pytest.mark.parametrize("args", [
    ["--scopes", "read,superuser"], ["--countries", "usa"], ["--daily-limit", "0"],
    ["--rate-limit", "lots"], ["--expires-in", "3 weeks"],
])
def test_create_rejects_bad_options_and_writes_nothing(app, args):
    result = cli(app, "keys", "create", "--name", "x", *args)
    assert result.exit_code == 2 and "invalid options" in result.output
    assert row_count(app, "api_keys") == 0


def test_default_expiry_is_configurable(app):
    app.config["DEFAULT_KEY_TTL"] = "7d"
    data = create_json(app, "--name", "x")
    expires = datetime.fromisoformat(data["expires_at"])
    assert timedelta(days=6) < expires - utcnow() <= timedelta(days=7)
    assert create_json(app, "--name", "y", "--expires-in", "never")["expires_at"] is None


def test_update_changes_restrictions_and_limits(app, client, catalogue):
    data = create_json(app, "--name", "x", "--countries", "US")
    result = cli(app, "keys", "update", data["id"], "--countries", "all", "--daily-limit",
                 "3", "--json")
    assert result.exit_code == 0
    updated = json.loads(result.output)
    assert updated["countries"] is None and updated["daily_limit"] == 3
    assert client.get("/v1/stores?country=FR", headers={"X-API-Key": data["key"]}
                      ).status_code == 200


def test_unknown_key_id_is_a_one_line_error(app):
    for command in (["show", "nope1234"], ["revoke", "nope1234"], ["delete", "nope1234"],
                    ["rotate", "nope1234"]):
        result = cli(app, "keys", *command)
        assert result.exit_code == 1 and "No key with id 'nope1234'" in result.output
        assert "Traceback" not in result.output


def test_rotation_keeps_the_old_secret_for_the_grace_period(app, client):
    old = create_json(app, "--name", "x")["key"]
    rotated = json.loads(cli(app, "keys", "rotate", key_id(old), "--grace", "1h",
                             "--json").output)
    new = rotated["key"]
    assert new != old and key_id(new) == key_id(old)

    fresh = client.get("/v1/key", headers={"X-API-Key": new})
    assert fresh.status_code == 200 and "Deprecation" not in fresh.headers
    stale = client.get("/v1/key", headers={"X-API-Key": old})
    assert stale.status_code == 200
    assert stale.headers["Deprecation"].startswith("@")
    assert stale.headers["Sunset"].endswith("GMT")

    later = naive_utcnow() + timedelta(hours=2)
    app.config["CLOCK"] = lambda: later
    assert client.get("/v1/key", headers={"X-API-Key": old}).status_code == 401
    assert client.get("/v1/key", headers={"X-API-Key": new}).status_code == 200


def test_revoke_is_immediate_and_delete_removes(app, client):
    data = create_json(app, "--name", "x")
    headers = {"X-API-Key": data["key"]}
    assert client.get("/v1/key", headers=headers).status_code == 200
    assert cli(app, "keys", "revoke", data["id"]).exit_code == 0
    response = client.get("/v1/key", headers=headers)
    assert response.status_code == 401 and response.json["type"] == "/problems/revoked-key"
    assert cli(app, "keys", "delete", data["id"]).exit_code == 0
    assert client.get("/v1/key", headers=headers).json["type"] == "/problems/invalid-key"
    assert row_count(app, "api_keys") == 0
    assert row_count(app, "usage") == 1  # billing history outlives the key


def test_prune_deletes_only_keys_unused_for_n_days(app):
    stale, fresh, never = (create_json(app, "--name", n)["id"] for n in "abc")
    with app.app_context():
        long_ago = naive_utcnow() - timedelta(days=100)
        db.session.get(ApiKey, stale).last_used_at = long_ago
        db.session.get(ApiKey, fresh).last_used_at = naive_utcnow()
        db.session.get(ApiKey, never).created_at = long_ago
        db.session.commit()
    result = cli(app, "keys", "prune", "--unused-days", "90")
    assert result.exit_code == 0 and "deleted 2 key(s)" in result.output
    with app.app_context():
        assert [k.id for k in db.session.query(ApiKey)] == [fresh]


def test_scan_finds_committed_keys_and_fails_on_live_ones(app, tmp_path):
    live = create_json(app, "--name", "live")["key"]
    revoked = create_json(app, "--name", "revoked")
    cli(app, "keys", "revoke", revoked["id"])
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "settings.py").write_text(f'KEY = "{live}"\n')
    (tmp_path / "notes.md").write_text(f"old: {revoked['key']}\nfake: {live[:-3]}abc\n")
    (tmp_path / "blob.bin").write_bytes(b"\xff\xfe\x00" + live.encode())
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(live)
    result = cli(app, "keys", "scan", str(tmp_path))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{tmp_path}/notes.md:1: key {revoked['id']} (revoked)" in lines
    assert f"{tmp_path}/src/settings.py:1: key {key_id(live)} (live)" in lines
    assert len(lines) == 2
    cli(app, "keys", "revoke", key_id(live))
    assert cli(app, "keys", "scan", str(tmp_path)).exit_code == 0


def test_admin_api_runs_the_same_lifecycle(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["admin"])}
    created = client.post("/v1/admin/keys", headers=admin,
                          json={"name": "partner", "scopes": ["read"], "countries": ["US"],
                                "daily_limit": 5})
    assert created.status_code == 201 and created.json["key"].startswith("spk_")
    kid = created.json["id"]
    assert client.get(f"/v1/admin/keys/{kid}", headers=admin).json["countries"] == ["US"]
    patched = client.patch(f"/v1/admin/keys/{kid}", headers=admin, json={"countries": None})
    assert patched.status_code == 200 and patched.json["countries"] is None
    rotated = client.post(f"/v1/admin/keys/{kid}/rotate", headers=admin, json={"grace": "1m"})
    assert rotated.status_code == 200 and rotated.json["key"] != created.json["key"]
    revoked = client.post(f"/v1/admin/keys/{kid}/revoke", headers=admin)
    assert revoked.json["status"] == "revoked"
    listing = client.get("/v1/admin/keys", headers=admin).json
    assert listing["total"] == 2 and "key" not in listing["data"][0]
    assert client.delete(f"/v1/admin/keys/{kid}", headers=admin).status_code == 204
    assert client.get(f"/v1/admin/keys/{kid}", headers=admin).status_code == 404
    bad = client.post("/v1/admin/keys", headers=admin, json={"name": "", "scopes": ["root"]})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"name", "scopes"}


# --- lifecycle edges: a second rotation during a grace period, the last admin key ---------

def test_second_rotation_during_grace_is_409_unless_forced_cli(app, client):
    first = create_json(app, "--name", "x")["key"]
    kid = key_id(first)
    second = json.loads(cli(app, "keys", "rotate", kid, "--grace", "1h", "--json").output)["key"]
    refused = cli(app, "keys", "rotate", kid)
    assert refused.exit_code == 1 and "--force" in refused.output
    assert "Traceback" not in refused.output
    # Nothing changed: both secrets still work, and no event was written for the refusal.
    assert client.get("/v1/key", headers={"X-API-Key": first}).status_code == 200
    assert client.get("/v1/key", headers={"X-API-Key": second}).status_code == 200
    assert audit_actions(app, kid) == ["key.create", "key.rotate"]

    third = json.loads(cli(app, "keys", "rotate", kid, "--force", "--json").output)["key"]
    # The secret that was in grace stops now; the one just replaced gets a new grace.
    assert client.get("/v1/key", headers={"X-API-Key": first}).json["type"] \
        == "/problems/invalid-key"
    assert client.get("/v1/key", headers={"X-API-Key": second}).status_code == 200
    assert client.get("/v1/key", headers={"X-API-Key": third}).status_code == 200
    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.target == kid).order_by(AuditEvent.id.desc())).first()
    assert event.action == "key.rotate" and "earlier_grace_ended" in event.changes


def test_second_rotation_during_grace_is_409_unless_forced_api(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["admin"])}
    kid = key_id(make_key())
    url = f"/v1/admin/keys/{kid}/rotate"
    assert client.post(url, headers=admin, json={"grace": "1h"}).status_code == 200
    refused = client.post(url, headers=admin, json={})
    assert refused.status_code == 409
    assert refused.json["type"] == "/problems/rotation-in-progress"
    assert refused.content_type == "application/problem+json"
    forced = client.post(url, headers=admin, json={"force": True, "grace": "1h"})
    assert forced.status_code == 200
    # Once the grace period is over, a plain rotation is fine again.
    later = naive_utcnow() + timedelta(hours=2)
    app.config["CLOCK"] = lambda: later
    assert client.post(url, headers=admin, json={}).status_code == 200


def test_the_last_active_admin_key_cannot_be_revoked_or_deleted(app, client, make_key):
    only_admin = make_key(scopes=["admin", "read"])
    headers = {"X-API-Key": only_admin}
    kid = key_id(only_admin)
    for response in (client.post(f"/v1/admin/keys/{kid}/revoke", headers=headers),
                     client.delete(f"/v1/admin/keys/{kid}", headers=headers)):
        assert response.status_code == 409
        assert response.json["type"] == "/problems/last-admin-key"
    for command in ("revoke", "delete"):
        result = cli(app, "keys", command, kid)
        assert result.exit_code == 1 and "last active admin key" in result.output
    assert client.get("/v1/key", headers=headers).status_code == 200  # still works
    assert audit_actions(app, kid) == ["key.create"]

    # An expired or revoked admin key does not count as another admin.
    expired = create_json(app, "--name", "old admin", "--scopes", "admin")["id"]
    with app.app_context():
        db.session.get(ApiKey, expired).expires_at = naive_utcnow() - timedelta(days=1)
        db.session.commit()
    assert client.delete(f"/v1/admin/keys/{kid}", headers=headers).status_code == 409
    # With a second active admin, either may go.
    other = create_json(app, "--name", "second admin", "--scopes", "admin,read")
    assert client.post(f"/v1/admin/keys/{kid}/revoke", headers=headers).status_code == 200
    refused = cli(app, "keys", "delete", other["id"])
    assert refused.exit_code == 1 and "last active admin key" in refused.output


def test_prune_keeps_the_last_admin_key(app):
    admin = create_json(app, "--name", "admin", "--scopes", "admin")["id"]
    reader = create_json(app, "--name", "reader")["id"]
    with app.app_context():
        for kid in (admin, reader):
            db.session.get(ApiKey, kid).created_at = naive_utcnow() - timedelta(days=100)
        db.session.commit()
    result = cli(app, "keys", "prune", "--unused-days", "90")
    assert result.exit_code == 0 and f"deleted 1 key(s) unused for 90 days: {reader}" \
        in result.output
    with app.app_context():
        assert [k.id for k in db.session.query(ApiKey)] == [admin]


def audit_actions(app, target):
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEvent.action).where(
            AuditEvent.target == target).order_by(AuditEvent.id)))
