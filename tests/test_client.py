"""The partner SDK (client/sdk.py) against a REAL API server on a loopback port: its
retries, timeouts and typed errors. The fixtures here serve the CLI, page and browser tests
too (tests/test_client_*.py).

Small catalogue (tests/conftest.py), US prices in USD, placed by STORE_PLACES below:
    us-cheapo-1 (Boston, 4.4 km from us-posh-1): milk 1.99, bread 3.49, novel 9.99
    us-posh-1   (Boston centre): milk 2.49 (promo, regular 2.99), bread 2.99, tshirt 15.00
    us-cheapo-2 (Denver): milk 1.89
    jp-cheapo-1 (Tokyo):  milk 180, bread 420 (promo, regular 500)   (JPY)
so for milk + bread in the whole US: best single store us-cheapo-1 at 5.48 (tie with
us-posh-1, broken by store id), best two-store plan us-cheapo-2 + us-posh-1 at 4.88; near
Boston (10 km) Denver drops out: the plan is us-cheapo-1 + us-posh-1 at 4.98, saving 0.50.
"""
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import fresh_window, load_small_catalogue, make_app
from werkzeug.serving import WSGIRequestHandler, make_server

from app.extensions import db
from app.keys import lifecycle
from app.market.models import Store
from client import (
    AuthError,
    ConfigurationError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    QuotaExceeded,
    RateLimited,
    ServerError,
    StorePriceClient,
    ValidationError,
)
from client.deals import parse_basket

ROOT = Path(__file__).resolve().parent.parent
PROMO_ENDS = (date.today() + timedelta(days=7)).isoformat()  # as load_small_catalogue sets


class QuietHandler(WSGIRequestHandler):
    """No access log lines on stderr: the CLI tests read stderr."""

    def log_request(self, *args, **kwargs):
        pass


@dataclass
class Server:
    app: object
    url: str

    def key(self, **options) -> str:
        """A new key straight from the key service (the admin CLI does the same)."""
        options.setdefault("scopes", ["read"])
        with self.app.app_context():
            _, full_key = lifecycle.create_key(options.pop("name", "client test"), **options)
        return full_key


def serve(wsgi_app):
    """Serve a WSGI app on a free loopback port in a thread; returns (url, stop)."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(5)
        server.server_close()
    return f"http://127.0.0.1:{server.server_port}", stop


# (lat, lon): the Boston stores at the city centre and 4.4 km west of it (Cambridge).
STORE_PLACES = {"us-cheapo-1": (42.3736, -71.1097), "us-posh-1": (42.3601, -71.0589),
                "us-cheapo-2": (39.7392, -104.9903), "jp-cheapo-1": (35.6812, 139.7671),
                "fr-posh-1": (48.8566, 2.3522)}
BOSTON = (42.3601, -71.0589)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "c.db"
    app = make_app(f"sqlite:///{path}", RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        load_small_catalogue()
        for store in db.session.scalars(db.select(Store)):
            store.lat, store.lon = STORE_PLACES[store.slug]
        db.session.commit()
    url, stop = serve(app)
    yield Server(app, url)
    stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def sdk(server_or_url, key, **options):
    """A client with tiny waits, so retry tests stay fast."""
    url = getattr(server_or_url, "url", server_or_url)
    options = {"max_retries": 2, "backoff_factor": 0.01, "max_wait": 3, "timeout": 5, **options}
    return StorePriceClient(url, key, **options)


def one_line(text: str) -> str:
    assert "Traceback" not in text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


# --- the SDK --------------------------------------------------------------------------

def test_whoami_shows_what_the_key_allows(api_server):
    key = api_server.key(name="grocery app", countries=["US"], categories=["dairy", "bakery"],
                         daily_limit=50, rate_limit="30/minute", expires_in="30d")
    with sdk(api_server, key) as api:
        me = api.whoami()
        assert me["id"] == key.split("_")[1] == api.key_id
        assert (me["scopes"], me["countries"], me["categories"]) == (
            ["read"], ["US"], ["bakery", "dairy"])
        assert (me["daily_limit"], me["rate_limit"], me["status"]) == (50, "30/minute", "active")
        assert me["expires_at"] is not None
        assert (me["today"]["used"], me["today"]["remaining"]) == (0, 50)  # whoami is free
        # The key is a secret: the client's repr shows only the public key id.
        assert key not in repr(api) and me["id"] in repr(api)


def test_cheapest_stores_with_quantities(api_server):
    with sdk(api_server, api_server.key()) as api:
        answer = api.cheapest_stores(["milk", ("bread", 2)], country="US")
    assert (answer["country"], answer["currency"]) == ("US", "USD")
    # us-posh-1: 2.49 + 2 x 2.99 = 8.47 beats us-cheapo-1: 1.99 + 2 x 3.49 = 8.97
    assert [(s["store"]["id"], s["total"]) for s in answer["stores"][:2]] == [
        ("us-posh-1", "8.47"), ("us-cheapo-1", "8.97")]
    assert answer["stores"][0]["lines"][0]["regular_price"] == "2.99"  # milk on promotion
    assert [(b["item"], b["store"], b["unit_price"]) for b in answer["per_item"]] == [
        ("milk", "us-cheapo-2", "1.89"), ("bread", "us-posh-1", "2.99")]
    assert answer["plan"]["total"] == "7.87"  # 1.89 + 2 x 2.99


def test_listings(api_server):
    with sdk(api_server, api_server.key(countries=["US"], categories=["dairy"])) as api:
        assert [i["id"] for i in api.items()["data"]] == ["milk"]  # narrowed to dairy
        assert {s["id"] for s in api.stores()["data"]} == {
            "us-cheapo-1", "us-cheapo-2", "us-posh-1"}
        deal = api.deals(country="US")["data"][0]
        assert (deal["store"], deal["item"], deal["price"], deal["regular_price"],
                deal["promo_ends"]) == ("us-posh-1", "milk", "2.49", "2.99", PROMO_ENDS)
        assert api.prices(item="milk", store="us-cheapo-2")["data"][0]["price"] == "1.89"
        assert api.usage(days=1)["data"]  # the calls above were metered


def test_rotated_key_is_noticed(api_server, tmp_path):
    old_key = api_server.key()
    with api_server.app.app_context():
        lifecycle.rotate_key(old_key.split("_")[1], "1h")
    with sdk(api_server, old_key) as api:
        api.whoami()  # still works during the grace period...
        assert api.sunset and api.sunset.endswith(" GMT")  # ...and the client knows until when
    done = run_program(tmp_path, {"STOREPRICE_API_KEY": old_key}, "whoami", "--url",
                       api_server.url)
    assert done.returncode == 0
    assert one_line(done.stderr).startswith(
        f"note: API key {old_key.split('_')[1]} was rotated: the secret in use stops working at")


def test_bad_key_is_an_auth_error(api_server):
    with sdk(api_server, "not-a-key") as api:
        with pytest.raises(AuthError) as raised:
            api.whoami()
    error = raised.value
    assert (error.status, error.type) == (401, "/problems/invalid-key")
    assert error.request_id  # from the problem's "instance"
    # A well-formed key the server does not know is refused the same way.
    forged = "spk_AAAAAAAA_" + "B" * 38
    with sdk(api_server, forged) as api, pytest.raises(AuthError):
        api.whoami()


def test_restrictions_are_forbidden_errors_naming_the_violation(api_server):
    with sdk(api_server, api_server.key(countries=["US"])) as api:
        with pytest.raises(ForbiddenError) as raised:
            api.cheapest_stores(["milk"], country="FR")
    assert raised.value.status == 403 and raised.value.violated == ["country:FR"]

    with sdk(api_server, api_server.key(categories=["dairy"])) as api:
        with pytest.raises(ForbiddenError) as raised:
            api.cheapest_stores(["milk", "bread"], country="US")
    assert raised.value.violated == ["category:bakery"]


def test_unknown_items_and_invalid_input(api_server):
    with sdk(api_server, api_server.key()) as api:
        with pytest.raises(NotFoundError) as raised:
            api.cheapest_stores(["milk", "caviar"], country="US")
        assert raised.value.unknown == ["caviar"]
        with pytest.raises(ValidationError) as invalid:
            api.cheapest_stores([("milk", 100)], country="US")
        assert "items" in invalid.value.errors


def test_429_is_retried_after_retry_after_then_succeeds(api_server):
    key = api_server.key(rate_limit="2/second")
    with sdk(api_server, key, max_wait=3) as api:
        fresh_window(1, needed=0.8)  # the three calls must fall into one 1-second window
        started = time.monotonic()
        api.whoami()
        api.whoami()
        answer = api.cheapest_stores(["milk"], country="US")  # 429, wait, retry (a POST)
        elapsed = time.monotonic() - started
    assert answer["per_item"][0]["unit_price"] == "1.89"
    assert 0.9 <= elapsed < 3  # the server said Retry-After: 1, and we waited for it
    with sdk(api_server, key) as api:
        rows = api.usage(days=1)["data"]
    # The server saw exactly one 429, then the retry's 200 on the POST. A call refused by
    # the minute window is tallied, not written, and the key's next window writes the
    # tally on a row of its own (app/keys/tally.py).
    post = next(r for r in rows if r["endpoint"] == "POST /v1/cheapest-stores")
    assert (post["calls"], post["status_429"], post["status_2xx"]) == (1, 0, 1)
    tallied = next(r for r in rows if r["endpoint"] == "* refused by the minute window")
    assert (tallied["calls"], tallied["status_429"]) == (1, 1)


def test_daily_quota_is_not_slept_through(api_server):
    """Retry-After until midnight is longer than max_wait: raise at once, don't hang."""
    with sdk(api_server, api_server.key(daily_limit=1)) as api:
        api.items()
        started = time.monotonic()
        with pytest.raises(QuotaExceeded) as raised:
            api.items()
    assert time.monotonic() - started < 1
    assert isinstance(raised.value, RateLimited) and raised.value.retry_after > 3


@pytest.fixture
def stub():
    """A stand-in API that always answers ``status`` with ``headers``; counts the hits."""
    state = {"hits": 0, "status": "503 Service Unavailable", "headers": {}, "delay": 0}

    def app(environ, start_response):
        state["hits"] += 1
        time.sleep(state["delay"])
        body = json.dumps({"type": "/problems/unavailable", "title": "Service unavailable",
                           "status": int(state["status"][:3]), "detail": "Down for a moment.",
                           "instance": f"stub-{state['hits']}"}).encode()
        start_response(state["status"], [("Content-Type", "application/problem+json"),
                                          ("Content-Length", str(len(body))),
                                          *state["headers"].items()])
        return [body]
    url, stop = serve(app)
    state["url"] = url
    yield state
    stop()


@pytest.mark.parametrize("call", ["whoami", "cheapest_stores"])
def test_503_retries_are_bounded(stub, call):
    stub["headers"] = {"Retry-After": "0"}
    with sdk(stub["url"], "spk_test", max_retries=2, backoff_factor=0.01) as api:
        with pytest.raises(ServerError) as raised:
            api.whoami() if call == "whoami" else api.cheapest_stores(["milk"], "US")
    assert stub["hits"] == 1 + 2  # the first try plus max_retries
    assert raised.value.status == 503 and raised.value.request_id == "stub-3"


def test_long_retry_after_is_returned_not_waited(stub):
    stub.update(status="429 Too Many Requests", headers={"Retry-After": "3600"})
    with sdk(stub["url"], "spk_test", max_wait=3) as api, pytest.raises(RateLimited) as raised:
        api.whoami()
    assert stub["hits"] == 1 and raised.value.retry_after == 3600


def test_every_call_has_a_timeout(stub):
    stub["delay"] = 1
    started = time.monotonic()
    with sdk(stub["url"], "spk_test", timeout=0.2, max_retries=1) as api:
        with pytest.raises(NetworkError, match="did not answer in time"):
            api.whoami()
    assert stub["hits"] == 2 and time.monotonic() - started < 1


def test_unreachable_api_is_a_network_error():
    with sdk("http://127.0.0.1:9", "spk_test", max_retries=1) as api:
        with pytest.raises(NetworkError, match="127.0.0.1:9 is unreachable"):
            api.whoami()


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("STOREPRICE_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="STOREPRICE_API_KEY"):
        StorePriceClient("http://127.0.0.1:9")


def test_basket_syntax():
    assert parse_basket(["milk", "bread:2", "milk"]) == [("milk", 2), ("bread", 2)]
    for bad in (["milk:x"], ["milk:0"], ["milk:100"], []):
        with pytest.raises(ValueError):
            parse_basket(bad)


def test_near_me_narrows_and_measures(api_server):
    with sdk(api_server, api_server.key()) as api:
        stores = api.stores(near=BOSTON, radius_km=10)["data"]
        assert [(s["id"], s["distance_km"]) for s in stores] == [
            ("us-posh-1", 0.0), ("us-cheapo-1", 4.44)]  # nearest first
        deal = api.deals(near=BOSTON, radius_km=10)["data"][0]
        assert (deal["store"], deal["item"], deal["distance_km"]) == ("us-posh-1", "milk", 0.0)
        answer = api.cheapest_stores(["milk", "bread"], "US", near=BOSTON, radius_km=10)
    assert answer["plan"]["total"] == "4.98"  # Denver's cheaper milk is out of reach
    assert {s["store"]: s["distance_km"] for s in answer["plan"]["stores"]} == {
        "us-cheapo-1": 4.44, "us-posh-1": 0.0}


def run_program(cwd, variables, *argv):
    """``python -m client ARGV`` in a fresh process, with only ``variables`` for the client."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREPRICE_")}
    env.update(variables, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "client", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=30, check=False)

