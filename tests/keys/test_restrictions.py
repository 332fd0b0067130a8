"""Countries and categories: every read is narrowed, every explicit request outside them is
refused naming each violation, and no write lands outside them. ``near`` only ever
narrows further: it never shows a store the key may not see."""
import pytest
from conftest import row_count
from sqlalchemy import text

from app.extensions import db

# The small catalogue: store -> country, item -> category.
STORE_COUNTRY = {"us-cheapo-1": "US", "us-posh-1": "US", "us-cheapo-2": "US",
                 "jp-cheapo-1": "JP", "fr-posh-1": "FR"}
ITEM_CATEGORY = {"milk": "dairy", "bread": "bakery", "novel": "books", "tshirt": "apparel"}

# Where the small catalogue's stores stand: two in Boston, one in Denver, Tokyo, Paris.
PLACES = {"us-cheapo-1": (42.3601, -71.0589), "us-posh-1": (42.3700, -71.0500),
          "us-cheapo-2": (39.7392, -104.9903), "jp-cheapo-1": (35.6812, 139.7671),
          "fr-posh-1": (48.8566, 2.3522)}
BOSTON, PARIS = "42.3601,-71.0589", "48.8566,2.3522"

ALLOWED = {"country": "US", "category": "dairy", "store": "us-cheapo-1", "item": "milk",
           "near": BOSTON}
DENIED = {"country": "FR", "category": "bakery", "store": "fr-posh-1", "item": "bread",
          "near": PARIS}


@pytest.fixture
def placed(app, catalogue):
    with app.app_context():
        for slug, (lat, lon) in PLACES.items():
            db.session.execute(text("UPDATE stores SET lat = :lat, lon = :lon WHERE slug = :s"),
                               {"lat": lat, "lon": lon, "s": slug})
        db.session.commit()


@pytest.fixture
def key(make_key, placed):
    return make_key(scopes=["read", "write"], countries=["US"], categories=["dairy"])


def assert_within_scope(body):
    """Walk a JSON body: every store, item, country and category must be allowed."""
    if isinstance(body, list):
        for value in body:
            assert_within_scope(value)
    elif isinstance(body, dict):
        for name, value in body.items():
            if name == "store" and isinstance(value, str):
                assert STORE_COUNTRY[value] == "US", body
            elif name == "store" and isinstance(value, dict):
                assert STORE_COUNTRY[value["id"]] == "US", body
            elif name == "item" and isinstance(value, str):
                assert ITEM_CATEGORY[value] == "dairy", body
            elif name == "items" and isinstance(value, list):
                assert all(ITEM_CATEGORY[i] == "dairy" for i in value), body
            elif name == "country":
                assert value == "US", body
            elif name == "category":
                assert value == "dairy", body
            elif name == "id" and value in STORE_COUNTRY:
                assert STORE_COUNTRY[value] == "US", body
            elif name == "id" and value in ITEM_CATEGORY:
                assert ITEM_CATEGORY[value] == "dairy", body
            else:
                assert_within_scope(value)


READS = [  # (url template, which of country/category/store/item it filters on)
    ("/v1/items?category={category}", ["category"]),
    ("/v1/stores?country={country}", ["country"]),
    ("/v1/prices?country={country}&item={item}", ["country", "category"]),
    ("/v1/prices?store={store}", ["country"]),
    ("/v1/deals?country={country}&category={category}", ["country", "category"]),
    ("/v1/cheapest-stores?items={item}&country={country}", ["country", "category"]),
    # near, at the allowed or the denied country's city: the restrictions come first
    ("/v1/stores?country={country}&near={near}&radius_km=20", ["country"]),
    ("/v1/deals?country={country}&category={category}&near={near}", ["country", "category"]),
    ("/v1/cheapest-stores?items={item}&country={country}&near={near}&radius_km=5",
     ["country", "category"]),
]


@pytest.mark.parametrize("url, restricted", READS)
@pytest.mark.parametrize("country_ok", [True, False])
@pytest.mark.parametrize("category_ok", [True, False])
def test_read_matrix(client, key, url, restricted, country_ok, category_ok):
    values = {name: (ALLOWED if (category_ok if name in ("category", "item") else country_ok)
                     else DENIED)[name] for name in ALLOWED}
    response = client.get(url.format(**values), headers={"X-API-Key": key})
    if "near" in url and response.status_code == 200 and "cheapest" not in url:
        assert all(row["distance_km"] <= 20 for row in response.json["data"])
    expected = [f"country:{values['country'] if 'country' in url else 'FR'}"
                ] if not country_ok and "country" in restricted else []
    expected += ["category:bakery"] if not category_ok and "category" in restricted else []
    if expected:
        assert response.status_code == 403, response.json
        assert response.json["type"] == "/problems/restricted"
        assert sorted(response.json["violated"]) == sorted(expected)
    else:
        assert response.status_code == 200, response.json
        assert_within_scope(response.json)


@pytest.mark.parametrize("url", ["/v1/items", "/v1/stores", "/v1/prices", "/v1/deals"])
def test_listings_without_filters_are_silently_narrowed(client, key, url):
    response = client.get(url, headers={"X-API-Key": key})
    assert response.status_code == 200
    assert response.json["data"], "the allowed part of the catalogue is not empty"
    assert response.json["total"] == len(response.json["data"])
    assert_within_scope(response.json)


@pytest.mark.parametrize("url", [
    "/v1/stores?near={paris}&radius_km=100", "/v1/deals?near={paris}&radius_km=100",
    "/v1/cheapest-stores?items=milk&near={paris}&radius_km=100"])
def test_near_a_store_the_key_may_not_see_finds_nothing(client, key, url):
    """Paris has a store, but this key sees only the US: near narrows, never widens."""
    response = client.get(url.format(paris=PARIS), headers={"X-API-Key": key})
    assert response.status_code == 200, response.json
    body = response.json
    assert body.get("data", body.get("stores")) == [] and "No store within 100 km" in body["note"]
    assert_within_scope(body)


def test_near_with_the_key_s_countries_finds_only_those(client, key, make_key):
    everywhere = make_key(scopes=["read"])
    near_paris = client.get(f"/v1/stores?near={PARIS}", headers={"X-API-Key": everywhere})
    assert [row["id"] for row in near_paris.json["data"]] == ["fr-posh-1"]
    post = client.post("/v1/cheapest-stores", headers={"X-API-Key": key}, json={
        "items": ["milk"], "near": {"lat": 42.3601, "lon": -71.0589}, "radius_km": 5})
    assert post.status_code == 200 and post.json["country"] == "US"
    assert [s["store"]["id"] for s in post.json["stores"]] == ["us-cheapo-1", "us-posh-1"]
    assert_within_scope(post.json)


def test_cheapest_stores_refuses_each_violation_at_once(client, key):
    response = client.post("/v1/cheapest-stores", headers={"X-API-Key": key},
                           json={"items": ["milk", "bread", "tshirt"], "country": "JP"})
    assert response.status_code == 403
    assert response.json["violated"] == ["country:JP", "category:bakery", "category:apparel"]


def test_cheapest_stores_defaults_to_the_keys_only_country(client, key):
    response = client.post("/v1/cheapest-stores", headers={"X-API-Key": key},
                           json={"items": ["milk"]})
    assert response.status_code == 200
    assert response.json["country"] == "US"
    assert_within_scope(response.json)


WRITES = [
    ("PUT", "/v1/stores/{store}/prices/{item}", {"price": "1.00"}),
    ("POST", "/v1/stores/{store}/prices", {"prices": [{"item": "{item}", "price": "1.00"}]}),
    ("DELETE", "/v1/stores/{store}/prices/{item}", None),
]


@pytest.mark.parametrize("method, url, body", WRITES)
@pytest.mark.parametrize("store, item, violated", [
    ("fr-posh-1", "milk", ["country:FR"]),
    ("us-cheapo-1", "bread", ["category:bakery"]),
    ("jp-cheapo-1", "bread", ["country:JP", "category:bakery"]),
])
def test_no_write_lands_outside_the_restrictions(app, client, key, method, url, body,
                                                 store, item, violated):
    if body and "prices" in body:
        body = {"prices": [{"item": item, "price": "1.00"}]}
    before = dump_prices(app)
    response = client.open(url.format(store=store, item=item), method=method, json=body,
                           headers={"X-API-Key": key})
    assert response.status_code == 403
    assert response.json["violated"] == violated
    assert dump_prices(app) == before


def test_batch_with_one_disallowed_item_writes_nothing(app, client, key):
    before = dump_prices(app)
    response = client.post("/v1/stores/us-cheapo-1/prices", headers={"X-API-Key": key},
                           json={"prices": [{"item": "milk", "price": "0.99"},
                                            {"item": "bread", "price": "0.99"}]})
    assert response.status_code == 403 and response.json["violated"] == ["category:bakery"]
    assert dump_prices(app) == before


@pytest.mark.parametrize("url, body, violated", [
    ("/v1/items", {"id": "croissant", "name": "Croissant", "category": "bakery",
                   "size": 0.1, "unit": "kg"}, ["category:bakery"]),
    ("/v1/stores", {"id": "fr-new", "name": "New", "chain": "posh", "country": "FR",
                    "city": "Lyon", "lat": 45.764, "lon": 4.8357}, ["country:FR"]),
])
def test_catalogue_additions_respect_restrictions(app, client, key, url, body, violated):
    table = url.rsplit("/", 1)[1]
    before = row_count(app, table)
    response = client.post(url, json=body, headers={"X-API-Key": key})
    assert response.status_code == 403 and response.json["violated"] == violated
    assert row_count(app, table) == before


def test_allowed_write_lands(app, client, key):
    response = client.put("/v1/stores/us-cheapo-1/prices/milk", headers={"X-API-Key": key},
                          json={"price": "1.49", "regular_price": "1.99",
                                "promo_ends": "2099-01-01"})
    assert response.status_code == 200
    assert response.json["price"] == "1.49" and response.json["regular_price"] == "1.99"
    prices = client.get("/v1/prices?store=us-cheapo-1", headers={"X-API-Key": key}).json
    assert [p["price"] for p in prices["data"]] == ["1.49"]


def dump_prices(app):
    from sqlalchemy import text

    from app.extensions import db
    with app.app_context():
        return db.session.execute(text(
            "SELECT store_id, item_id, amount, regular_amount, promo_ends FROM prices "
            "ORDER BY store_id, item_id")).all()
