"""Server binding: a key with allowed_ips works only from those networks; a call from
elsewhere is 403 ip-not-allowed and never counts against the quota. X-Forwarded-For is
trusted only for TRUSTED_PROXY_HOPS proxies (default none)."""
import json

import pytest
from conftest import key_id, make_app, quota_used, row_count

from app.extensions import db
from app.keys.binding import client_address, networks_of


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def call(client, key, peer, path="/v1/items", **headers):
    """A quota-counted call (GET /v1/key is free) from ``peer``."""
    return client.get(path, headers={"X-API-Key": key, **headers},
                      environ_base={"REMOTE_ADDR": peer})


def test_a_bound_key_works_only_from_its_networks(app, client, make_key):
    key = make_key(allowed_ips=["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"])
    for peer in ("203.0.113.9", "2001:db8:1::5", "198.51.100.7", "::ffff:203.0.113.1"):
        assert call(client, key, peer).status_code == 200, peer
    for peer in ("198.51.100.8", "192.0.2.1", "2001:db9::1", "127.0.0.1"):
        refused = call(client, key, peer)
        assert refused.status_code == 403, peer
        assert refused.content_type == "application/problem+json"
        assert refused.json["type"] == "/problems/ip-not-allowed"
        assert refused.json["violated"] == [f"ip:{peer}"]
        assert refused.json["key_id"] == key_id(key)
    assert quota_used(app, key) == 4  # the four refusals did not count
    me = call(client, key, "203.0.113.9", path="/v1/key").json
    assert me["allowed_ips"] == ["198.51.100.7/32", "2001:db8::/32", "203.0.113.0/24"]


def test_an_unbound_key_works_from_anywhere(client, make_key):
    key = make_key()
    assert call(client, key, "192.0.2.1").status_code == 200
    assert call(client, key, "2001:db8::1", path="/v1/key").json["allowed_ips"] is None


def test_binding_is_checked_before_the_scope_and_the_limits(app, client, make_key):
    key = make_key(allowed_ips=["203.0.113.0/24"], daily_limit=1)
    refused = client.get("/v1/admin/keys", headers={"X-API-Key": key},
                         environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert refused.json["type"] == "/problems/ip-not-allowed"  # not insufficient-scope
    for _ in range(3):
        assert call(client, key, "192.0.2.1").status_code == 403
    assert quota_used(app, key) == 0
    assert call(client, key, "203.0.113.5").status_code == 200  # the one call of the day
    assert quota_used(app, key) == 1


def test_spoofed_forwarded_for_is_ignored_by_default(client, make_key):
    key = make_key(allowed_ips=["203.0.113.0/24"])
    spoofed = call(client, key, "192.0.2.1", **{"X-Forwarded-For": "203.0.113.9"})
    assert spoofed.status_code == 403 and spoofed.json["violated"] == ["ip:192.0.2.1"]


def test_forwarded_for_is_honoured_for_the_configured_hops(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'proxy.db'}", TRUSTED_PROXY_HOPS=1)
    client = app.test_client()
    from app.keys import lifecycle
    with app.app_context():
        key = lifecycle.create_key("behind a proxy", allowed_ips=["203.0.113.0/24"])[1]
    # The proxy (the socket peer) appended the address it saw: trusted.
    assert call(client, key, "10.0.0.2", **{"X-Forwarded-For": "203.0.113.9"}) \
        .status_code == 200
    # A client that sends its own header gets it prefixed: only the last hop is trusted.
    spoofed = call(client, key, "10.0.0.2", **{"X-Forwarded-For": "203.0.113.9, 192.0.2.1"})
    assert spoofed.status_code == 403 and spoofed.json["violated"] == ["ip:192.0.2.1"]
    with app.app_context():
        db.engine.dispose()


def test_cli_and_admin_api_set_and_clear_allowed_ips(app, client, make_key):
    result = cli(app, "keys", "create", "--name", "srv", "--allowed-ips",
                 "203.0.113.7,2001:db8::/48", "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["allowed_ips"] == ["2001:db8::/48", "203.0.113.7/32"]
    cleared = json.loads(cli(app, "keys", "update", created["id"], "--allowed-ips", "any",
                             "--json").output)
    assert cleared["allowed_ips"] is None
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    patched = client.patch(f"/v1/admin/keys/{created['id']}", headers=admin,
                           json={"allowed_ips": ["198.51.100.0/24"]})
    assert patched.status_code == 200 and patched.json["allowed_ips"] == ["198.51.100.0/24"]


@pytest.mark.parametrize("value", ["203.0.113.7/24", "300.1.1.1", "example.com",
                                   "2001:db8::/129", ""])
def test_bad_networks_are_refused_and_nothing_is_written(app, client, make_key, value):
    admin = {"X-API-Key": make_key(scopes=["read", "write", "admin"])}
    response = client.post("/v1/admin/keys", headers=admin,
                           json={"name": "srv", "allowed_ips": [value]})
    assert response.status_code == 422 and "allowed_ips" in response.json["errors"]
    result = cli(app, "keys", "create", "--name", "srv", "--allowed-ips", value or ",")
    assert result.exit_code == 2 and "allowed_ips" in result.output
    assert row_count(app, "api_keys") == 1


def test_address_parsing():
    assert str(client_address("::ffff:192.0.2.1")) == "192.0.2.1"
    assert client_address("not an address") is None and client_address(None) is None
    assert [str(n) for n in networks_of("192.0.2.1,2001:db8::1")] \
        == ["192.0.2.1/32", "2001:db8::1/128"]
