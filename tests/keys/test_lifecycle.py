"""The key lifecycle through the CLI runner and the admin API (the same service)."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import key_id, row_count

from app.extensions import db
from app.keys import lifecycle
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
    ["--rate-limit", "0/minute"],  # every call would be a 429
    ["--countries", "US,,CA"],  # an empty entry is a typo, not "US,CA"
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
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
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


@pytest.mark.parametrize("not_before, status", [
    ("20300101T000000Z", 422), ("2030-W01-1T00:00:00Z", 422), ("2030-01-01", 422),
    ("2030-01-01T00:00:00Z", 201), ("2030-01-01t00:00:00.5+02:00", 201),
])
def test_not_before_is_written_as_the_document_s_date_time(app, client, make_key,
                                                           not_before, status):
    """fromisoformat alone also reads basic and week forms the document does not allow."""
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    before = row_count(app, "api_keys")
    created = client.post("/v1/admin/keys", headers=admin,
                          json={"name": "later", "not_before": not_before})
    assert created.status_code == status, created.json
    if status == 422:
        assert list(created.json["errors"]) == ["not_before"]
        assert row_count(app, "api_keys") == before


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
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
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


def key_row(app, kid):
    """The key's public fields as stored (lifecycle.snapshot), to show nothing changed."""
    with app.app_context():
        return lifecycle.snapshot(db.session.get(ApiKey, kid))


@pytest.mark.parametrize("body", [
    {"not_before": "2030-01-01T00:00:00Z"},        # pending: not valid yet
    {"scopes": ["read"]},                           # no longer an admin key
    {"scopes": ["read", "write"], "name": "ops"},   # the whole change is refused
])
def test_an_update_cannot_leave_no_active_admin_key_api(app, client, make_key, body):
    only_admin = make_key(scopes=["admin", "read", "write"])
    headers, kid = {"X-API-Key": only_admin}, key_id(only_admin)
    before = key_row(app, kid)
    response = client.patch(f"/v1/admin/keys/{kid}", headers=headers, json=body)
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "/problems/last-admin-key"
    assert response.json["key_id"] == kid and "last active admin key" in response.json["detail"]
    assert key_row(app, kid) == before and audit_actions(app, kid) == ["key.create"]
    assert client.get("/v1/admin/keys", headers=headers).status_code == 200  # still an admin

    # Changes that leave its scopes, expiry and binding alone are fine, and so is the
    # same change once another active admin key exists.
    assert client.patch(f"/v1/admin/keys/{kid}", headers=headers,
                        json={"name": "renamed"}).status_code == 200
    make_key(scopes=["read", "write", "admin"], name="second admin")
    changed = client.patch(f"/v1/admin/keys/{kid}", headers=headers, json=body)
    assert changed.status_code == 200, changed.json


def test_an_update_cannot_leave_no_active_admin_key_cli(app, make_key):
    kid = key_id(make_key(scopes=["admin", "read"]))
    reader = key_id(make_key(scopes=["read"]))
    before = key_row(app, kid)
    result = cli(app, "keys", "update", kid, "--scopes", "read")
    assert result.exit_code == 1 and "last active admin key" in result.output
    assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output
    assert key_row(app, kid) == before and audit_actions(app, kid) == ["key.create"]
    # Other keys are not held up by the rule.
    assert cli(app, "keys", "update", reader, "--scopes", "read,write").exit_code == 0


def test_a_key_that_could_never_be_valid_is_refused(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    keys_before, events_before = row_count(app, "api_keys"), row_count(app, "audit_events")
    never = {"name": "x", "not_before": "2030-01-01T00:00:00Z", "expires_in": "1d"}
    refused = [client.post("/v1/admin/keys", headers=admin, json=never)]
    app.config["DEFAULT_KEY_TTL"] = "30d"  # the default expiry counts as well
    refused.append(client.post("/v1/admin/keys", headers=admin,
                               json={"name": "x", "not_before": "2030-01-01T00:00:00Z"}))
    for response in refused:
        assert response.status_code == 422
        assert response.content_type == "application/problem+json"
        assert response.json["type"] == "/problems/validation-error"
        assert set(response.json["errors"]) == {"not_before"}
        assert "never be valid" in response.json["errors"]["not_before"][0]
    assert row_count(app, "api_keys") == keys_before
    assert row_count(app, "audit_events") == events_before
    # A window that exists is fine.
    later = dict(never, expires_in="3650d")
    assert client.post("/v1/admin/keys", headers=admin, json=later).status_code == 201


def test_an_update_that_would_make_a_key_never_valid_is_refused(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    expiring = key_id(make_key(expires_in="1d"))
    pending = key_id(make_key(not_before=datetime(2030, 1, 1)))
    rows = {kid: key_row(app, kid) for kid in (expiring, pending)}
    for kid, body, field in ((expiring, {"not_before": "2030-01-01T00:00:00Z"}, "not_before"),
                             (pending, {"expires_in": "1d"}, "expires_in"),
                             (pending, {"expires_in": "1d", "not_before": "2031-01-01T00:00:00Z"},
                              "not_before")):
        response = client.patch(f"/v1/admin/keys/{kid}", headers=admin, json=body)
        assert response.status_code == 422 and set(response.json["errors"]) == {field}
        assert response.json["type"] == "/problems/validation-error"
    result = cli(app, "keys", "update", pending, "--expires-in", "1d")
    assert result.exit_code == 1 and "never be valid" in result.output
    assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output
    assert {kid: key_row(app, kid) for kid in rows} == rows
    assert audit_actions(app, expiring) == audit_actions(app, pending) == ["key.create"]


@pytest.mark.parametrize("body, field", [
    ({"scopes": "admin"}, "scopes"),             # a string is not a list of scopes
    ({"countries": "US,,CA"}, "countries"),
    ({"countries": "US"}, "countries"),
    ({"categories": "dairy"}, "categories"),
    ({"allowed_ips": "203.0.113.0/24"}, "allowed_ips"),
    ({"rate_limit": "0/minute"}, "rate_limit"),  # every call would be a 429
    ({"rate_limit": "00/minute"}, "rate_limit"),
])
def test_wrong_json_types_and_a_zero_rate_are_refused(app, client, make_key, body, field):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    kid = key_id(make_key())
    keys_before, events_before = row_count(app, "api_keys"), row_count(app, "audit_events")
    before = key_row(app, kid)
    for response in (client.post("/v1/admin/keys", headers=admin, json={"name": "x", **body}),
                     client.patch(f"/v1/admin/keys/{kid}", headers=admin, json=body)):
        assert response.status_code == 422
        assert response.content_type == "application/problem+json"
        assert set(response.json["errors"]) == {field}
    assert row_count(app, "api_keys") == keys_before
    assert row_count(app, "audit_events") == events_before and key_row(app, kid) == before


def test_lists_stay_comma_separated_on_the_cli_and_every_rate_unit_works(app, client):
    data = create_json(app, "--name", "x", "--countries", "US, CA", "--scopes", "read",
                       "--rate-limit", "999999/second")
    assert data["countries"] == ["CA", "US"] and data["rate_limit"] == "999999/second"
    admin = create_json(app, "--name", "admin", "--scopes", "read,admin")["key"]
    for rate in ("1/second", "60/minute", "100/hour", "1000/day"):
        response = client.patch(f"/v1/admin/keys/{data['id']}", json={"rate_limit": rate},
                                headers={"X-API-Key": admin})
        assert response.status_code == 200 and response.json["rate_limit"] == rate


@pytest.mark.parametrize("force", ["yes", "true", 1, 1.0, 0, None])
def test_rotate_force_must_be_a_json_boolean(app, client, make_key, force):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    first = make_key()
    kid = key_id(first)
    url = f"/v1/admin/keys/{kid}/rotate"
    second = client.post(url, headers=admin, json={"grace": "1h"}).json["key"]
    before = key_row(app, kid)
    response = client.post(url, headers=admin, json={"force": force})
    assert response.status_code == 422 and set(response.json["errors"]) == {"force"}
    assert response.content_type == "application/problem+json"
    # Not forced: both secrets still work, nothing recorded.
    assert key_row(app, kid) == before
    assert audit_actions(app, kid) == ["key.create", "key.rotate"]
    for full_key in (first, second):
        assert client.get("/v1/key", headers={"X-API-Key": full_key}).status_code == 200
    assert client.post(url, headers=admin, json={"force": True}).status_code == 200


def test_prune_takes_the_api_s_bound_on_unused_days(app):
    kid = create_json(app, "--name", "x")["id"]
    for days in ("999999", "36501", "0"):
        result = cli(app, "keys", "prune", "--unused-days", days)
        assert result.exit_code == 2 and "unused_days" in result.output
        assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output
    assert key_row(app, kid)["name"] == "x"
    result = cli(app, "keys", "prune", "--unused-days", "36500")
    assert result.exit_code == 0 and "deleted 0 key(s)" in result.output
