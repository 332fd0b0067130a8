"""Daily quota, per-minute rate limit, failed-auth throttling and the rate-limit headers."""
import re
from datetime import datetime, timedelta

from conftest import fresh_window, key_id, quota_used, row_count


def call(client, key, url="/v1/key"):
    return client.get(url, headers={"X-API-Key": key})


def test_daily_limit_is_exact_and_refusals_do_not_count(app, client, make_key):
    key = make_key(daily_limit=3)
    statuses = [call(client, key).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = call(client, key)
    assert refused.json["type"] == "/problems/quota-exceeded"
    assert refused.json["key_id"] == key_id(key)
    seconds = int(refused.headers["Retry-After"])
    assert refused.json["retry_after"] == seconds and 0 < seconds <= 86400
    from sqlalchemy import text

    from app.extensions import db
    with app.app_context():
        assert db.session.execute(text("SELECT used FROM daily_quota")).scalar() == 3


def test_daily_quota_resets_at_utc_midnight(app, client, make_key):
    key = make_key(daily_limit=2)
    late = datetime(2030, 1, 1, 23, 59, 58)
    app.config["CLOCK"] = lambda: late
    assert [call(client, key).status_code for _ in range(3)] == [200, 200, 429]
    assert call(client, key).headers["Retry-After"] == "2"
    app.config["CLOCK"] = lambda: late + timedelta(seconds=3)
    assert [call(client, key).status_code for _ in range(3)] == [200, 200, 429]
    assert row_count(app, "daily_quota") == 2  # one row per key per day


def test_a_call_refused_by_scope_does_not_count(app, client, make_key, catalogue):
    key = make_key(scopes=["read"], daily_limit=1)
    assert client.delete("/v1/stores/us-cheapo-1/prices/milk",
                         headers={"X-API-Key": key}).status_code == 403
    assert call(client, key).status_code == 200


def test_minute_rate_limit_is_per_key_and_does_not_use_the_daily_quota(app, client, make_key):
    limited, other = make_key(rate_limit="2/minute", daily_limit=10), make_key()
    fresh_window()
    assert [call(client, limited).status_code for _ in range(3)] == [200, 200, 429]
    refused = call(client, limited)
    assert refused.json["type"] == "/problems/rate-limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert call(client, other).status_code == 200
    me = call(client, limited)  # still limited, but the quota shows only the 2 admitted
    assert quota_used(app, limited) == 2
    assert me.status_code == 429


def test_ratelimit_headers_follow_the_ietf_draft(client, make_key):
    key = make_key(daily_limit=100, rate_limit="10/minute")
    fresh_window()
    response = call(client, key)
    assert response.headers["RateLimit-Policy"] == '"daily";q=100;w=86400, "minute";q=10;w=60'
    match = re.fullmatch(r'"daily";r=(\d+);t=(\d+), "minute";r=(\d+);t=(\d+)',
                         response.headers["RateLimit"])
    assert match and match.group(1) == "99" and match.group(3) == "9"
    assert 0 < int(match.group(2)) <= 86400 and 0 < int(match.group(4)) <= 60


def test_failed_authentication_is_throttled_per_ip(app, client, make_key):
    app.config["AUTH_FAILURE_LIMIT"] = "3/minute"
    good = make_key()
    fresh_window()
    statuses = [client.get("/v1/key", headers={"X-API-Key": "spk_bad"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    throttled = client.get("/v1/key", headers={"X-API-Key": "spk_bad"})
    assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 60
    assert throttled.json["type"].endswith("/rate-limited") and "key_id" not in throttled.json
    # Beyond the budget a wrong key gets no 401 any more, but a valid key from the same
    # address (a NAT, a proxy) is still served, and other addresses are untouched.
    assert client.get("/v1/key", headers={"X-API-Key": good}).status_code == 200
    other_ip = client.get("/v1/key", headers={"X-API-Key": "spk_bad"},
                          environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other_ip.status_code == 401
