"""GET /metrics: Prometheus text, admin key only, never counted or billed; it shows
requests by operation and status class, refusals by problem type and the 503s of a
database outage by cause."""
import re

from conftest import key_id, quota_used
from sqlalchemy.exc import OperationalError

from app.keys import metrics


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample in the exposition, 0 if absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


def test_metrics_show_the_503s_of_a_database_outage(app, client, make_key, monkeypatch):
    admin = {"X-API-Key": make_key(scopes=["read", "admin"], name="ops")}
    reader = {"X-API-Key": make_key(name="reader")}
    before = client.get("/metrics", headers=admin).get_data(as_text=True)
    database_503s = sample(before, "storeprice_unavailable_total", cause="database")
    assert client.get("/v1/items", headers=reader).status_code == 200
    refused = client.get("/metrics", headers=reader)
    assert refused.status_code == 403  # admin only
    refusals = sample(before, "storeprice_refusals_total", problem=refused.json["type"])

    def down(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("connection refused"))
    monkeypatch.setattr("app.keys.check.request_connection", down)
    outage = [client.get("/v1/items", headers=reader) for _ in range(3)]
    assert [(a.status_code, a.json["type"]) for a in outage] == [(503, "/problems/unavailable")] * 3
    monkeypatch.undo()

    scraped = client.get("/metrics", headers=admin)
    assert scraped.status_code == 200 and scraped.mimetype == "text/plain"
    text = scraped.get_data(as_text=True)
    assert sample(text, "storeprice_unavailable_total", cause="database") == database_503s + 3
    assert sample(text, "storeprice_requests_total", operation="GET /v1/items",
                  status_class="2xx") >= 1
    assert sample(text, "storeprice_refusals_total", problem=refused.json["type"]) \
        == refusals + 1
    assert "storeprice_request_duration_seconds_bucket" in text
    # Scrapes are never counted against the quota nor billed.
    assert quota_used(app, admin["X-API-Key"]) == 0
    billing = client.get("/v1/admin/usage", headers=admin).json["billing"]
    assert {row["key_id"]: row["units"] for row in billing}.get(
        key_id(admin["X-API-Key"]), 0) == 0  # three scrapes, no units


def test_webhook_deliveries_are_counted_by_outcome(app, client, make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "admin"], name="ops")}
    before = sample(client.get("/metrics", headers=admin).get_data(as_text=True),
                    "storeprice_webhook_deliveries_total", outcome="delivered")
    metrics.webhook_delivery("delivered")
    after = client.get("/metrics", headers=admin).get_data(as_text=True)
    assert sample(after, "storeprice_webhook_deliveries_total", outcome="delivered") == before + 1
