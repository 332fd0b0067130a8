"""Signing secrets at rest: sealed with WEBHOOK_SECRET_KEYS (app/keys/webhooks/sealing.py).
The database holds no secret a dump could sign with; receivers still verify with the
secret shown at creation; keys rotate; a secret nobody can open is never sent unsigned;
the migration's downgrade opens them again."""
import pytest
from cryptography.fernet import Fernet
from helpers import hooks_app, receiver, subscribe  # noqa: F401 (fixtures)
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.keys.webhooks import delivery, sealing
from conftest import key_id

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_seal_and_unseal():
    secret = "whsec_" + "A" * 32
    assert sealing.seal(secret, "") == secret  # no keys: stored as it is
    sealed = sealing.seal(secret, OLD)
    assert sealed.startswith("fernet:") and secret not in sealed
    assert sealing.unseal(sealed, OLD) == secret
    assert sealing.unseal(sealed, f"{NEW},{OLD}") == secret  # any key opens
    assert sealing.unseal(secret, NEW) == secret             # stored before the keys
    resealed = sealing.reseal(sealed, f"{NEW},{OLD}")        # the first key seals
    assert sealing.unseal(resealed, NEW) == secret
    for keys, why in ((NEW, "none of"), ("", "not set")):
        with pytest.raises(sealing.SecretUnavailable, match=why):
            sealing.unseal(sealed, keys)
    with pytest.raises(ValueError):
        sealing.fernet("not-a-fernet-key")


def test_a_malformed_key_stops_the_server(tmp_path):
    with pytest.raises(RuntimeError, match="WEBHOOK_SECRET_KEYS: .*Fernet.generate_key"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                    "WEBHOOK_SECRET_KEYS": "too-short"})


@pytest.fixture
def sealed_app(hooks_app):
    hooks_app.config["WEBHOOK_SECRET_KEYS"] = OLD
    return hooks_app


def stored_secret(app, hook):
    with app.app_context():
        secret = db.session.execute(text("SELECT secret FROM webhook_endpoints WHERE id = :id"),
                                    {"id": hook}).scalar()
        db.session.rollback()
        return secret


def send_rotation_event(app, client, manager):
    assert client.post(f"/v1/keys/{key_id(manager)}/rotate",
                       headers={"X-API-Key": manager}).status_code == 200
    with app.app_context():
        return delivery.run(once=True)


def test_stored_sealed_and_delivered_signed_with_the_secret_shown(sealed_app, client,
                                                                  make_key, receiver):
    manager = make_key(scopes=["keys"], owner="Acme")
    hook, secret = subscribe(client, manager, receiver.url)
    stored = stored_secret(sealed_app, hook)
    assert secret.startswith("whsec_") and stored.startswith("fernet:")
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert send_rotation_event(sealed_app, client, manager) == 1
    [(_, event)] = receiver.verified(secret)  # raises unless the signature verifies
    assert event["type"] == "key.rotated"


def test_keys_rotate_with_seal_secrets(sealed_app, client, make_key, receiver):
    """Sealed under OLD; NEW put first and seal-secrets run; then NEW alone opens it."""
    manager = make_key(scopes=["keys"], owner="Acme")
    hook, secret = subscribe(client, manager, receiver.url)
    before = stored_secret(sealed_app, hook)
    sealed_app.config["WEBHOOK_SECRET_KEYS"] = f"{NEW},{OLD}"
    result = sealed_app.test_cli_runner().invoke(args=["webhooks", "seal-secrets"])
    assert result.exit_code == 0 and "1 signing secret(s) sealed" in result.output
    after = stored_secret(sealed_app, hook)
    assert after != before and sealing.unseal(after, NEW) == secret
    sealed_app.config["WEBHOOK_SECRET_KEYS"] = NEW
    assert send_rotation_event(sealed_app, client, manager) == 1
    assert [event["type"] for _, event in receiver.verified(secret)] == ["key.rotated"]


def test_secrets_stored_before_the_keys_are_sealed_by_the_command(app, client, make_key):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    manager = make_key(scopes=["keys"], owner="Acme")
    hook, secret = subscribe(client, manager, "http://127.0.0.1:9/hook")  # no keys yet
    assert stored_secret(app, hook) == secret
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["webhooks", "seal-secrets"])
    assert refused.exit_code == 1 and "WEBHOOK_SECRET_KEYS is not set" in refused.output
    app.config["WEBHOOK_SECRET_KEYS"] = OLD
    assert runner.invoke(args=["webhooks", "seal-secrets"]).exit_code == 0
    assert sealing.unseal(stored_secret(app, hook), OLD) == secret
    app.config["WEBHOOK_SECRET_KEYS"] = NEW  # a key that did not seal it: all or nothing
    wrong = runner.invoke(args=["webhooks", "seal-secrets"])
    assert wrong.exit_code == 1 and f"{hook}: none of WEBHOOK_SECRET_KEYS" in wrong.output
    assert sealing.unseal(stored_secret(app, hook), OLD) == secret


def test_a_secret_nobody_can_open_is_never_sent_unsigned(sealed_app, client, make_key,
                                                         receiver):
    """The keys went missing: the attempt fails with the reason and nothing is sent;
    with the keys back, the retry delivers it, signed."""
    manager = make_key(scopes=["keys"], owner="Acme")
    hook, secret = subscribe(client, manager, receiver.url)
    sealed_app.config["WEBHOOK_SECRET_KEYS"] = ""
    assert send_rotation_event(sealed_app, client, manager) == 1
    assert receiver.verified(secret) == []
    [row] = client.get(f"/v1/webhooks/{hook}/deliveries",
                       headers={"X-API-Key": manager}).json["data"]
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_status_code"] is None
    assert row["last_error"] == "the signing secret is sealed, but WEBHOOK_SECRET_KEYS is " \
                                "not set"
    sealed_app.config["WEBHOOK_SECRET_KEYS"] = OLD
    retried = client.post(f"/v1/webhooks/{hook}/deliveries/{row['id']}/retry",
                          headers={"X-API-Key": manager})
    assert retried.status_code == 200
    with sealed_app.app_context():
        assert delivery.run(once=True) == 1
    assert [event["type"] for _, event in receiver.verified(secret)] == ["key.rotated"]


def test_the_downgrade_opens_the_sealed_secrets(tmp_path):
    from flask_migrate import downgrade, upgrade
    url = f"sqlite:///{tmp_path / 'd.db'}"
    sealed = sealing.seal("whsec_" + "B" * 32, OLD)
    insert = text("INSERT INTO webhook_endpoints (id, owner, url, events, secret, created_at) "
                  "VALUES ('wh_0000000000000001', 'Acme', 'https://example.com', "
                  "'key.revoked', :secret, '2026-12-01 00:00:00')")
    for keys, downgraded in ((NEW, False), (OLD, True)):
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING",
                          "WEBHOOK_SECRET_KEYS": keys})
        with app.app_context():
            upgrade()
            with db.engine.begin() as connection:
                connection.execute(text("DELETE FROM webhook_endpoints"))
                connection.execute(insert, {"secret": sealed})
            if not downgraded:  # the wrong key: refused (Flask-Migrate exits 1), unchanged
                with pytest.raises(SystemExit):
                    downgrade(revision="0010")
                with db.engine.connect() as connection:
                    assert connection.execute(text("SELECT version_num FROM "
                                                   "alembic_version")).scalar() == "0011"
            else:
                downgrade(revision="0010")
            with db.engine.connect() as connection:
                secret = connection.execute(text("SELECT secret FROM webhook_endpoints")) \
                    .scalar()
            db.engine.dispose()
        assert secret == ("whsec_" + "B" * 32 if downgraded else sealed)
