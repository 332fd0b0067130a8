"""/v1/webhooks: create (secret once), list, show, update, delete, per owner; URL safety
(https, public addresses only) on create and update unless WEBHOOK_ALLOW_PRIVATE."""
import pytest

from receiver import Receiver

from app.keys.webhooks import urls

EVENTS = ["quota.threshold", "key.revoked"]


def post(client, key, body):
    return client.post("/v1/webhooks", headers={"X-API-Key": key}, json=body)


@pytest.mark.parametrize("url", ["https://127.0.0.1/hook", "https://10.1.2.3/hook",
                                 "https://169.254.169.254/latest", "https://[::1]/hook",
                                 "https://[::ffff:10.0.0.1]/hook", "https://224.0.0.1/",
                                 "https://localhost/hook", "http://93.184.215.14/hook"])
def test_private_targets_and_plain_http_are_refused_by_default(client, make_key, url):
    key = make_key(scopes=["keys"], owner="Acme")
    response = post(client, key, {"url": url, "events": EVENTS})
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert "url" in response.json["errors"]


def test_a_public_address_is_fine(client, make_key):
    key = make_key(scopes=["keys"], owner="Acme")
    response = post(client, key, {"url": "https://93.184.215.14/hook", "events": EVENTS})
    assert response.status_code == 201, response.json


def test_allow_private_lifts_both_rules(app, client, make_key):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    key = make_key(scopes=["keys"], owner="Acme")
    response = post(client, key, {"url": "http://127.0.0.1:9/hook", "events": EVENTS})
    assert response.status_code == 201


def test_delivery_checks_the_address_again(monkeypatch):
    """At delivery the name is resolved and checked again, and so is the address the
    connection reached: a name that now resolves to loopback (DNS rebinding) gets
    nowhere, although the receiver is there and answering."""
    receiver = Receiver().start()
    try:
        for url in (receiver.url.replace("127.0.0.1", "localhost"), receiver.url):
            with pytest.raises(urls.UnsafeUrl):
                urls.session(allow_private=False).post(url, timeout=2)
        # The name looked public when resolved, then the connection reached 127.0.0.1.
        monkeypatch.setattr(urls, "_check_resolved", lambda host, port: None)
        with pytest.raises(urls.UnsafeUrl, match="127.0.0.1 is not a public address"):
            urls.session(allow_private=False).post(receiver.url, timeout=2)
        assert receiver.received == []  # nothing was sent
        assert urls.session(allow_private=True).post(receiver.url, timeout=2).status_code == 204
    finally:
        receiver.stop()


def test_the_secret_is_shown_once_and_owners_see_only_their_own(app, client, make_key):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    acme = make_key(scopes=["keys"], owner="Acme")
    other = make_key(scopes=["keys"], owner="Other")
    admin = make_key(scopes=["admin"], owner="Operator")
    created = post(client, acme, {"url": "http://127.0.0.1:9/a", "events": EVENTS})
    assert created.status_code == 201
    body = created.json
    assert body["secret"].startswith("whsec_") and body["owner"] == "Acme"
    assert set(body) == {"id", "owner", "url", "events", "secret", "created_at", "disabled_at"}
    hook = body["id"]
    shown = client.get(f"/v1/webhooks/{hook}", headers={"X-API-Key": acme})
    assert shown.status_code == 200 and "secret" not in shown.json
    assert client.get(f"/v1/webhooks/{hook}", headers={"X-API-Key": other}).status_code == 404
    assert client.get("/v1/webhooks", headers={"X-API-Key": other}).json["total"] == 0
    assert client.get(f"/v1/webhooks/{hook}", headers={"X-API-Key": admin}).status_code == 200
    # Only admin may name another owner.
    refused = post(client, other, {"url": "http://127.0.0.1:9/b", "events": EVENTS,
                                   "owner": "Acme"})
    assert refused.status_code == 403 and refused.json["violated"] == ["owner:Acme"]
    for_acme = post(client, admin, {"url": "http://127.0.0.1:9/c", "events": EVENTS,
                                    "owner": "Acme"})
    assert for_acme.status_code == 201 and for_acme.json["owner"] == "Acme"
    assert client.get("/v1/webhooks", headers={"X-API-Key": acme}).json["total"] == 2
    # Update, refused update, delete.
    changed = client.patch(f"/v1/webhooks/{hook}", headers={"X-API-Key": acme},
                           json={"events": ["key.expiring"], "disabled": True})
    assert changed.status_code == 200 and changed.json["events"] == ["key.expiring"]
    assert changed.json["disabled_at"] is not None
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    bad = client.patch(f"/v1/webhooks/{hook}", headers={"X-API-Key": acme},
                       json={"url": "https://10.0.0.1/"})
    assert bad.status_code == 422
    assert client.delete(f"/v1/webhooks/{hook}", headers={"X-API-Key": other}).status_code == 404
    assert client.delete(f"/v1/webhooks/{hook}", headers={"X-API-Key": acme}).status_code == 204
    assert client.get(f"/v1/webhooks/{hook}", headers={"X-API-Key": acme}).status_code == 404


def test_scope_read_cannot_manage_webhooks(client, make_key):
    key = make_key(scopes=["read"], owner="Acme")
    assert client.get("/v1/webhooks", headers={"X-API-Key": key}).status_code == 403


@pytest.mark.parametrize("body", [{"url": "https://93.184.215.14/", "events": []},
                                  {"url": "https://93.184.215.14/", "events": ["nope"]},
                                  {"url": "ftp://93.184.215.14/", "events": EVENTS},
                                  {"url": "https://93.184.215.14/"},
                                  {"url": "https://93.184.215.14:99999/", "events": EVENTS},
                                  {"url": "https:///nohost", "events": EVENTS}])
def test_bad_bodies_are_422(client, make_key, body):
    key = make_key(scopes=["keys"], owner="Acme")
    response = post(client, key, body)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
