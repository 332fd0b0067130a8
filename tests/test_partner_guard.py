"""The partner page under attack: what anonymous visitors can cost the partner's API key.

1,000 hostile requests (unknown ids, plan=1, long lists, searches for made-up words, random
places) from one visitor and from many, against a real API server; every API call the
page makes is counted (the SDK's own count, below the page's guard). The bound stated in
client/README.md: one visitor causes at most VISITOR_CALLS (20) API calls a minute, all
visitors together at most SITE_CALLS (120), plus the shared lists (cities, catalogue).
"""
import random
import re

import pytest
from test_client import api_server, sdk  # noqa: F401 (fixtures)

from client.guard import Allowance
from client.web import create_web_app

HOSTILE = 1000


class CountingClient:
    """The real SDK, counting the calls that reach the API (what the key is billed for)."""
    calls = 0

    def __init__(self, server, key):
        self.api = sdk(server, key)

    def __getattr__(self, name):
        attribute = getattr(self.api, name)
        if name.startswith("_") or not callable(attribute) or name == "close":
            return attribute

        def call(*args, **kwargs):
            CountingClient.calls += 1
            return attribute(*args, **kwargs)
        return call


def hostile_urls(rng: random.Random, n: int) -> list[str]:
    """What an attacker would send: each kind of request that cost the key before."""
    urls = []
    for k in range(n):
        kind = k % 5
        if kind == 0:    # 40 unknown ids and plan=1 (33 billed calls each, before)
            ids = "&".join(f"item=fake-{rng.randrange(10**6)}&qty=1" for _ in range(40))
            urls.append(f"/?{ids}&plan=1")
        elif kind == 1:  # a real item plus unknown ones, at a random place
            urls.append(f"/?item=milk&qty=1&item=nope-{k}&qty=2&plan=1"
                        f"&lat={rng.uniform(20, 60):.4f}&lon={rng.uniform(-120, -70):.4f}")
        elif kind == 2:  # the same question again and again
            urls.append("/?city=Boston,+US&item=milk&qty=2&item=bread&qty=1&plan=1")
        elif kind == 3:  # searches for words nobody sells
            urls.append(f"/items?q=zz{rng.randrange(10**6)}")
        else:            # a valid list at ever different radii (no cache can help)
            urls.append(f"/?city=Boston,+US&radius_km={rng.uniform(1, 99):.3f}"
                        "&item=milk&qty=1&plan=1")
    return urls


@pytest.fixture
def page(api_server):  # noqa: F811
    key = api_server.key(countries=["US"], rate_limit="100000/minute", daily_limit=1000000)
    CountingClient.calls = 0
    allowance = Allowance("20/minute", "120/minute")
    app = create_web_app(lambda: CountingClient(api_server, key), allowance=allowance)
    return app, allowance


def test_one_visitor_causes_at_most_the_stated_calls(page):
    app, allowance = page
    web = app.test_client()
    statuses = [web.get(url).status_code for url in hostile_urls(random.Random(1), HOSTILE)]
    # One visitor, well within a minute: at most 20 calls for their own answers, plus the
    # shared lists (the cities: 1 page; the catalogue: 1 page), each fetched once.
    shared = 2
    assert CountingClient.calls <= 20 + shared, CountingClient.calls
    assert allowance.calls == CountingClient.calls
    # The page's own routes are rate-limited too: most requests never ran.
    assert statuses.count(429) >= HOSTILE - 60
    assert set(statuses) <= {200, 429}
    print(f"one visitor, {HOSTILE} hostile requests: {CountingClient.calls} API calls; "
          f"statuses {sorted(set(statuses))}, {statuses.count(429)} refused")


def test_many_visitors_cause_at_most_the_site_bound(page):
    app, allowance = page
    urls = hostile_urls(random.Random(2), HOSTILE)
    statuses = []
    for n, url in enumerate(urls):  # 200 visitors, 5 requests each
        visitor = app.test_client()
        visitor.environ_base["REMOTE_ADDR"] = f"198.51.100.{n % 200}"
        statuses.append(visitor.get(url).status_code)
    # 200 visitors x 20 would be 4,000; the site's allowance holds them to 120 a minute.
    assert CountingClient.calls <= 120 + 2, CountingClient.calls
    assert set(statuses) <= {200, 429}
    print(f"200 visitors, {HOSTILE} hostile requests: {CountingClient.calls} API calls")


def test_unknown_ids_cost_no_call_once_the_catalogue_is_cached(page):
    app, _ = page
    web = app.test_client()
    web.get("/?item=milk&qty=1")   # cities, catalogue and today's deals: cached now
    before = CountingClient.calls
    ids = "&".join(f"item=fake-{n}&qty=1" for n in range(29))
    page_ = web.get(f"/?{ids}&plan=1")
    assert page_.status_code == 200 and CountingClient.calls == before
    assert "Not in the catalogue any more: fake-0" in page_.get_data(as_text=True)
    # A list longer than 30 lines is refused before any call.
    ids = "&".join(f"item=milk-{n}&qty=1" for n in range(31))
    text = web.get(f"/?{ids}&plan=1").get_data(as_text=True)
    assert "A shopping list holds at most 30 items." in text
    assert CountingClient.calls == before


def test_identical_answers_come_from_the_cache(page):
    app, _ = page
    web = app.test_client()
    url = "/?city=Boston,+US&item=milk&qty=2&item=bread&qty=1&plan=1"
    first = web.get(url).get_data(as_text=True)
    before = CountingClient.calls
    again = web.get(url).get_data(as_text=True)
    assert CountingClient.calls == before
    assert re.sub(r"\s+", " ", first) == re.sub(r"\s+", " ", again)
    web.get("/items?q=milk")
    before = CountingClient.calls
    web.get("/items?q=milk")
    assert CountingClient.calls == before


def test_a_visitor_out_of_lookups_gets_a_sentence(page):
    app, _ = page
    web = app.test_client()
    for n in range(30):  # every radius a new question: the allowance runs out
        response = web.get(f"/?city=Boston,+US&radius_km={n + 1}&item=milk&qty=1&plan=1")
    assert response.status_code == 429
    assert ("You have looked up a lot of prices in a short time: please wait a minute and "
            "try again.") in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
