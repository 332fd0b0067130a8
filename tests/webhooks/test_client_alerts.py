"""``python -m client alerts``: the partner's receiver verifies each delivery with the
endpoint's secret, prints one line per event (once, however often it is retried) and
refuses a forged one."""
import io
import threading

import requests
from helpers import subscribe

from app.keys.webhooks import delivery
from client import alerts
from conftest import key_id


def test_the_client_verifies_prints_and_deduplicates(app, client, make_key):
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_TIMEOUT=2)
    manager = make_key(scopes=["keys", "read"], owner="Acme")
    key = make_key(scopes=["read"], owner="Acme", daily_limit=5)
    out = io.StringIO()
    server = None
    try:
        hook, secret = subscribe(client, manager, "http://127.0.0.1:9/")  # URL set below
        server = alerts.make_server("127.0.0.1", 0, secret, out)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        client.patch(f"/v1/webhooks/{hook}", headers={"X-API-Key": manager}, json={"url": url})
        for _ in range(5):
            client.get("/v1/items", headers={"X-API-Key": key})
        with app.app_context():
            assert delivery.run(once=True) == 3
        [first] = client.get(f"/v1/webhooks/{hook}/deliveries?per_page=1",
                             headers={"X-API-Key": manager}).json["data"]
        client.post(f"/v1/webhooks/{hook}/deliveries/{first['id']}/retry",
                    headers={"X-API-Key": manager})
        with app.app_context():
            assert delivery.run(once=True) == 1  # sent again, same webhook-id
        forged = requests.post(url, data=b'{"type":"quota.threshold"}', timeout=5, headers={
            "webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"})
        assert forged.status_code == 400
    finally:
        if server is not None:
            server.shutdown()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4, lines
    assert f"key {key_id(key)} used 80% of its daily limit (4/5" in lines[0]
    assert "used 100%" in lines[2] and lines[3].startswith("rejected")
