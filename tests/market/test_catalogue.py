"""Catalogue reads and writes, and the cheapest-stores query, on the small catalogue."""
from datetime import date, datetime, timedelta

import pytest
from conftest import row_count
from sqlalchemy import text

from app.extensions import db


@pytest.fixture
def headers(make_key, catalogue):
    return {"X-API-Key": make_key(scopes=["read", "write"])}


def test_items_search_and_pagination(client, headers):
    page = client.get("/v1/items?per_page=2&page=2", headers=headers).json
    assert (page["page"], page["per_page"], page["total"]) == (2, 2, 4)
    assert [item["id"] for item in page["data"]] == ["novel", "tshirt"]
    found = client.get("/v1/items?q=ILK", headers=headers).json["data"]
    assert found == [{"id": "milk", "name": "Milk", "category": "dairy", "size": 1.0,
                      "unit": "l"}]
    for wildcard in ("%25", "_", "/", "m_lk", "m%25k"):  # LIKE's wildcards match literally
        assert client.get(f"/v1/items?q={wildcard}", headers=headers).json["total"] == 0
    assert client.get("/v1/items?q=ilk&category=dairy", headers=headers).json["total"] == 1
    assert client.get("/v1/items?q=ilk&category=bakery", headers=headers).json["total"] == 0


def test_stores_and_prices_with_currency_minor_digits(client, headers):
    stores = client.get("/v1/stores?country=JP", headers=headers).json["data"]
    # chain is the chain's id, chain_name its name; the small catalogue's stores were
    # made without coordinates (as if before release 2), so lat/lon are null.
    assert stores == [{"id": "jp-cheapo-1", "name": "Jp Cheapo 1", "chain": "cheapo",
                       "chain_name": "Cheapo", "country": "JP", "city": "Tokyo",
                       "lat": None, "lon": None}]
    prices = client.get("/v1/prices?store=jp-cheapo-1", headers=headers).json["data"]
    assert [(p["item"], p["price"], p["regular_price"], p["currency"]) for p in prices] == \
        [("bread", "420", "500", "JPY"), ("milk", "180", None, "JPY")]


def test_deals_biggest_relative_saving_first(client, headers):
    deals = client.get("/v1/deals", headers=headers).json["data"]
    assert [(d["store"], d["item"], d["saving"], d["saving_percent"]) for d in deals] == \
        [("us-posh-1", "milk", "0.50", 17), ("jp-cheapo-1", "bread", "80", 16)]


def test_cheapest_stores_answer(client, headers):
    response = client.post("/v1/cheapest-stores", headers=headers, json={
        "items": ["milk", {"item": "bread", "quantity": 2}], "country": "US",
        "max_stores": 2})
    assert response.status_code == 200
    body = response.json
    assert (body["country"], body["currency"]) == ("US", "USD")
    assert [(s["store"]["id"], s["total"], s["items_found"], s["missing"])
            for s in body["stores"]] == [("us-posh-1", "8.47", 2, []),
                                         ("us-cheapo-1", "8.97", 2, []),
                                         ("us-cheapo-2", "1.89", 1, ["bread"])]
    promo_ends = (date.today() + timedelta(days=7)).isoformat()
    assert body["stores"][0]["lines"] == [
        {"item": "milk", "quantity": 1, "unit_price": "2.49", "regular_price": "2.99",
         "promo_ends": promo_ends, "line_total": "2.49"},
        {"item": "bread", "quantity": 2, "unit_price": "2.99", "regular_price": None,
         "promo_ends": None, "line_total": "5.98"}]
    assert [(b["item"], b["store"], b["unit_price"]) for b in body["per_item"]] == \
        [("milk", "us-cheapo-2", "1.89"), ("bread", "us-posh-1", "2.99")]
    assert body["lower_bound"] == "7.87"
    assert body["plan"] == {"max_stores": 2, "total": "7.87", "exact": True, "missing": [],
                            "stores": [{"store": "us-cheapo-2", "items": ["milk"],
                                        "subtotal": "1.89", "name": "Us Cheapo 2",
                                        "chain": "cheapo", "chain_name": "Cheapo",
                                        "city": "Denver"},
                                       {"store": "us-posh-1", "items": ["bread"],
                                        "subtotal": "5.98", "name": "Us Posh 1",
                                        "chain": "posh", "chain_name": "Posh",
                                        "city": "Boston"}]}
    assert body["stores"][0]["store"] == {"id": "us-posh-1", "name": "Us Posh 1",
                                          "chain": "posh", "chain_name": "Posh",
                                          "city": "Boston"}
    assert "note" not in body
    same = client.get("/v1/cheapest-stores?items=milk,bread&country=US&max_stores=1",
                      headers=headers).json
    assert same["plan"] is None and same["stores"][0]["total"] == "5.48"


def test_cheapest_in_yen(client, headers):
    body = client.get("/v1/cheapest-stores?items=milk,bread&country=JP",
                      headers=headers).json
    assert body["currency"] == "JPY" and body["stores"][0]["total"] == "600"


def test_put_price_creates_then_replaces(app, client, headers):
    url = "/v1/stores/us-cheapo-2/prices/bread"
    created = client.put(url, json={"price": "2.50"}, headers=headers)
    assert created.status_code == 201 and created.json["price"] == "2.50"
    replaced = client.put(url, json={"price": "2.40", "regular_price": "2.80",
                                     "promo_ends": "2099-12-31"}, headers=headers)
    assert replaced.status_code == 200
    assert (replaced.json["price"], replaced.json["regular_price"],
            replaced.json["promo_ends"]) == ("2.40", "2.80", "2099-12-31")
    assert client.put("/v1/stores/jp-cheapo-1/prices/novel", json={"price": "1200"},
                      headers=headers).json["price"] == "1200"
    assert client.put("/v1/stores/jp-cheapo-1/prices/novel", json={"price": "12.5"},
                      headers=headers).status_code == 422  # yen have no decimals


def test_a_promotion_is_over_after_its_last_day(app, client, headers):
    """From the day after promo_ends, every read takes the regular price as the price: the
    basket, the price list and the deals, while the row keeps what was written."""
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert client.put("/v1/stores/us-cheapo-1/prices/milk", headers=headers, json={
        "price": "1.00", "regular_price": "2.50", "promo_ends": tomorrow}).status_code == 200

    def now_seen():
        price = client.get("/v1/prices?store=us-cheapo-1&item=milk", headers=headers)
        basket = client.post("/v1/cheapest-stores", headers=headers, json={
            "items": ["milk"], "country": "US", "max_stores": 1}).json
        line = next(s for s in basket["stores"] if s["store"]["id"] == "us-cheapo-1")
        deals = client.get("/v1/deals?country=US", headers=headers).json["data"]
        row = price.json["data"][0]
        return ((row["price"], row["regular_price"], row["promo_ends"]),
                (line["total"], line["lines"][0]["regular_price"], line["lines"][0]["promo_ends"]),
                ("us-cheapo-1", "milk") in [(d["store"], d["item"]) for d in deals])

    assert now_seen() == (("1.00", "2.50", tomorrow), ("1.00", "2.50", tomorrow), True)
    app.config["CLOCK"] = lambda: datetime.utcnow() + timedelta(days=2)
    assert now_seen() == (("2.50", None, None), ("2.50", None, None), False)
    with app.app_context():
        assert db.session.execute(text(
            "SELECT amount, regular_amount FROM prices JOIN stores ON stores.id = store_id "
            "JOIN items ON items.id = item_id WHERE stores.slug = 'us-cheapo-1' "
            "AND items.slug = 'milk'")).one() == (100, 250)


def test_a_promotion_without_an_end_is_a_deal_until_the_next_write(client, headers):
    assert client.put("/v1/stores/us-cheapo-1/prices/bread", headers=headers, json={
        "price": "1.00", "regular_price": "4.00"}).status_code in (200, 201)
    deals = client.get("/v1/deals?country=US", headers=headers).json["data"]
    assert [(d["store"], d["item"], d["promo_ends"]) for d in deals][0] == \
        ("us-cheapo-1", "bread", None)  # 75 % off: the biggest saving


def test_a_batch_names_each_item_once(app, client, headers):
    """Two entries for one item: which should win is the caller's to say, not ours."""
    response = client.post("/v1/stores/us-cheapo-1/prices", headers=headers, json={"prices": [
        {"item": "milk", "price": "1.20"}, {"item": "bread", "price": "3.00"},
        {"item": "milk", "price": "1.30"}]})
    assert response.status_code == 422
    assert response.json["errors"] == {
        "prices": ["Each item may appear once in a batch; repeated: milk."]}
    prices = client.get("/v1/prices?store=us-cheapo-1", headers=headers).json["data"]
    assert {p["item"]: p["price"] for p in prices}["milk"] == "1.99"  # nothing written


def test_yen_prices_reach_the_column_limit(client, headers):
    url = "/v1/stores/jp-cheapo-1/prices/novel"
    assert client.put(url, json={"price": "2147483647"}, headers=headers).json["price"] == \
        "2147483647"
    assert client.put(url, json={"price": "2147483648"}, headers=headers).status_code == 422


def test_batch_is_all_or_nothing(app, client, headers):
    before = row_count(app, "prices")
    bad = client.post("/v1/stores/us-cheapo-2/prices", headers=headers, json={"prices": [
        {"item": "bread", "price": "2.00"}, {"item": "novel", "price": "-1"}]})
    assert bad.status_code == 422
    assert bad.json["errors"] == {"prices": {"1": {"price": ["Use a decimal string such "
                                                            'as "1.99".']}}}
    unknown = client.post("/v1/stores/us-cheapo-2/prices", headers=headers, json={"prices": [
        {"item": "bread", "price": "2.00"}, {"item": "caviar", "price": "9.00"}]})
    assert unknown.status_code == 404 and unknown.json["unknown"] == ["caviar"]
    assert row_count(app, "prices") == before
    good = client.post("/v1/stores/us-cheapo-2/prices", headers=headers, json={"prices": [
        {"item": "bread", "price": "2.00"}, {"item": "novel", "price": "8.00"}]})
    assert good.status_code == 200 and good.json["total"] == 2
    assert row_count(app, "prices") == before + 2


def test_delete_price(app, client, headers):
    url = "/v1/stores/us-cheapo-1/prices/milk"
    assert client.delete(url, headers=headers).status_code == 204
    assert client.delete(url, headers=headers).status_code == 404
    assert client.delete("/v1/stores/nowhere/prices/milk", headers=headers).status_code == 404


def test_add_items_and_stores(app, client, headers):
    item = {"id": "croissant", "name": "Croissant", "category": "bakery", "size": 0.07,
            "unit": "kg"}
    assert client.post("/v1/items", json=item, headers=headers).json == item
    assert client.post("/v1/items", json=item, headers=headers).status_code == 409
    assert client.post("/v1/items", json={**item, "id": "x", "category": "toys"},
                       headers=headers).json["errors"] == {"category": ["No category 'toys'."]}
    store = {"id": "us-new-1", "name": "New", "chain": "posh", "country": "US",
             "city": "Austin", "lat": 30.2672, "lon": -97.7431}
    created = client.post("/v1/stores", json=store, headers=headers)
    assert created.status_code == 201
    assert created.json == {**store, "chain_name": "Posh"}
    assert client.post("/v1/stores", json={**store, "id": "x2", "chain": "nope"},
                       headers=headers).status_code == 422
    for bad, field in (({"lat": 90.5}, "lat"), ({"lon": -181}, "lon"), ({"lat": None}, "lat")):
        refused = client.post("/v1/stores", json={**store, "id": "x3", **bad}, headers=headers)
        assert refused.status_code == 422 and list(refused.json["errors"]) == [field]
    unplaced = {key: value for key, value in store.items() if key != "lon"}
    refused = client.post("/v1/stores", json={**unplaced, "id": "x4"}, headers=headers)
    assert refused.status_code == 422 and refused.json["errors"] == {
        "lon": ["Missing data for required field."]}
    assert row_count(app, "stores") == 6 and row_count(app, "items") == 5
