"""Daily quota, per-minute rate limit, failed-auth throttling and the rate-limit headers;
what counts against the quota, and one clock reading per request."""
import re
from datetime import datetime, timedelta

from conftest import fresh_window, key_id, quota_used, row_count


def call(client, key, url="/v1/items"):  # a call the daily quota counts
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
    assert quota_used(app, limited) == 2  # refused by the minute window: not counted
    assert refused.json["type"] == "/problems/rate-limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert call(client, other).status_code == 200
    me = call(client, limited, "/v1/key")  # self-inspection: the minute window applies
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


def test_what_the_handler_refuses_still_counts(app, client, make_key, catalogue):
    """Admitted calls count whatever the handler answers: 403 restricted, 404, 422."""
    key = make_key(countries=["US"], daily_limit=3)
    answers = [call(client, key, url) for url in
               ("/v1/stores?country=FR", "/v1/prices?item=nope", "/v1/items?page=0",
                "/v1/items")]
    assert [a.status_code for a in answers] == [403, 404, 422, 429]
    assert answers[0].json["type"] == "/problems/restricted"
    assert answers[3].json["type"] == "/problems/quota-exceeded"
    assert quota_used(app, key) == 3
    today = call(client, key, "/v1/key").json["today"]
    assert (today["used"], today["remaining"]) == (3, 0)


def test_self_inspection_is_free_and_answers_when_the_quota_is_used_up(app, client, make_key):
    key = make_key(daily_limit=2, rate_limit="8/minute")
    fresh_window(needed=20)
    for _ in range(2):
        me = call(client, key, "/v1/key")
        assert me.status_code == 200 and me.json["today"]["used"] == 0
    assert call(client, key, "/v1/usage").status_code == 200
    assert [call(client, key).status_code for _ in range(3)] == [200, 200, 429]
    me = call(client, key, "/v1/key")
    assert me.status_code == 200
    assert (me.json["today"]["used"], me.json["today"]["remaining"]) == (2, 0)
    assert me.headers["RateLimit"].startswith('"daily";r=0;')
    assert call(client, key, "/v1/usage").status_code == 200
    assert quota_used(app, key) == 2
    # The minute window still applies: 8 calls made, the ninth is refused.
    refused = call(client, key, "/v1/key")
    assert refused.status_code == 429 and refused.json["type"] == "/problems/rate-limited"


def test_one_clock_reading_per_request_across_midnight(app, client, make_key):
    """The clock is read once, before the key check: a call that starts at 23:59:59.9 is
    that day's call in the expiry check, the quota, the usage row, the headers and
    GET /v1/key, although the clock has moved into the next day while it runs."""
    from app.extensions import db
    from app.keys.models import Usage
    before, after = datetime(2030, 1, 1, 23, 59, 59, 900000), datetime(2030, 1, 2, 0, 0, 1)
    app.config["CLOCK"] = lambda: datetime(2030, 1, 1, 23, 59, 59)
    key = make_key(daily_limit=5, expires_in="1s")  # expires at midnight
    readings = []

    def clock():
        readings.append(1)
        return before if len(readings) == 1 else after
    app.config["CLOCK"] = clock
    response = call(client, key)
    assert response.status_code == 200 and len(readings) == 1
    assert re.search(r'"daily";r=4;t=1\b', response.headers["RateLimit"])
    readings.clear()
    me = call(client, key, "/v1/key")
    assert me.status_code == 200 and len(readings) == 1
    assert me.json["today"] == {"day": "2030-01-01", "used": 1, "remaining": 4,
                                "resets_in": 1}
    from sqlalchemy import text
    with app.app_context():
        day, used = db.session.execute(text("SELECT day, used FROM daily_quota")).one()
        assert (str(day), used) == ("2030-01-01", 1)
        hours = {(row.hour, row.endpoint, row.admitted) for row in db.session.query(Usage)}
    assert hours == {(datetime(2030, 1, 1, 23), "GET /v1/items", 1),
                     (datetime(2030, 1, 1, 23), "GET /v1/key", 0)}
    readings.clear()  # from now on the clock says 00:00:01: the key has expired
    readings.append(1)
    assert call(client, key).json["type"] == "/problems/expired-key"


def test_flask_limiter_adds_no_hooks_of_its_own(app, client, make_key):
    """The pipeline counts in flask-limiter's storage explicitly; its automatic hooks are
    taken out (app/extensions.py). Should a flask-limiter release register them another
    way, this names the hook left behind."""
    from app.extensions import limiter
    hooks = [*app.before_request_funcs[None], *app.after_request_funcs[None],
             *app.teardown_request_funcs[None]]
    assert [hook for hook in hooks if getattr(hook, "__self__", None) is limiter
            or limiter in getattr(hook, "args", ())] == []
    assert limiter.storage is not None  # the storage itself is still flask-limiter's
    key = make_key(rate_limit="2/minute")
    fresh_window()
    assert [call(client, key).status_code for _ in range(3)] == [200, 200, 429]
