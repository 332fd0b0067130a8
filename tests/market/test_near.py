"""near + radius_km on the store lookups: distances, nearest-first order, the radius
edges, what an empty radius answers, and the 422s. The small catalogue (conftest.py)
is placed on the map here: two stores in Boston, a third added 12 km south, one in Denver
and one in Tokyo; Paris' store keeps no coordinates (a store from before release 2)."""
import pytest
from sqlalchemy import text

from app.extensions import db
from app.market.geo import distance_km, offset

BOSTON = (42.3601, -71.0589)
EAST_4KM, SOUTH_12KM = offset(*BOSTON, 4, 90), offset(*BOSTON, 12, 180)
PLACES = {"us-cheapo-1": BOSTON, "us-posh-1": EAST_4KM, "us-cheapo-2": (39.7392, -104.9903),
          "jp-cheapo-1": (35.6812, 139.7671)}
NEAR_BOSTON = "42.3601,-71.0589"


@pytest.fixture
def headers(app, client, make_key, catalogue):
    with app.app_context():
        for slug, (lat, lon) in PLACES.items():
            db.session.execute(text("UPDATE stores SET lat = :lat, lon = :lon WHERE slug = :s"),
                               {"lat": lat, "lon": lon, "s": slug})
        db.session.commit()
    headers = {"X-API-Key": make_key(scopes=["read", "write"])}
    lat, lon = SOUTH_12KM
    assert client.post("/v1/stores", headers=headers, json={
        "id": "us-cheapo-3", "name": "Us Cheapo 3", "chain": "cheapo", "country": "US",
        "city": "Boston", "lat": lat, "lon": lon}).status_code == 201
    assert client.post("/v1/stores/us-cheapo-3/prices", headers=headers, json={"prices": [
        {"item": "milk", "price": "1.50"}, {"item": "bread", "price": "5.00"}]}
    ).status_code == 200
    return headers


def get(client, headers, url):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def ids_and_distances(rows, key="id"):
    return [(row[key], row["distance_km"]) for row in rows]


# --- GET /v1/stores ------------------------------------------------------------------

def test_stores_near_a_point_nearest_first_with_distances(client, headers):
    body = get(client, headers, f"/v1/stores?near={NEAR_BOSTON}")          # default 10 km
    assert ids_and_distances(body["data"]) == [("us-cheapo-1", 0.0), ("us-posh-1", 4.0)]
    assert body["total"] == 2 and "note" not in body
    assert body["data"][1] == {"id": "us-posh-1", "name": "Us Posh 1", "chain": "posh",
                               "chain_name": "Posh", "country": "US", "city": "Boston",
                               "lat": EAST_4KM[0], "lon": EAST_4KM[1], "distance_km": 4.0}
    wide = get(client, headers, f"/v1/stores?near={NEAR_BOSTON}&radius_km=100")
    assert ids_and_distances(wide["data"]) == [("us-cheapo-1", 0.0), ("us-posh-1", 4.0),
                                               ("us-cheapo-3", 12.0)]
    # Without near: by id, no distances.
    plain = get(client, headers, "/v1/stores?country=US")["data"]
    assert [row["id"] for row in plain] == ["us-cheapo-1", "us-cheapo-2", "us-cheapo-3",
                                            "us-posh-1"]
    assert all("distance_km" not in row for row in plain)


def test_radius_edge_is_inclusive(client, headers):
    exact = distance_km(*BOSTON, *SOUTH_12KM)                  # 12 km, to float precision
    inside = get(client, headers, f"/v1/stores?near={NEAR_BOSTON}&radius_km={exact!r}")
    assert [row["id"] for row in inside["data"]][-1] == "us-cheapo-3"
    outside = get(client, headers, f"/v1/stores?near={NEAR_BOSTON}&radius_km={exact - 1e-6!r}")
    assert "us-cheapo-3" not in [row["id"] for row in outside["data"]]
    tiny = get(client, headers, f"/v1/stores?near={NEAR_BOSTON}&radius_km=0.001")
    assert ids_and_distances(tiny["data"]) == [("us-cheapo-1", 0.0)]


def test_nearest_first_pages_and_ties_by_id(client, headers):
    page = get(client, headers, f"/v1/stores?near={NEAR_BOSTON}&radius_km=50&per_page=1&page=2")
    assert (page["total"], [row["id"] for row in page["data"]]) == (3, ["us-posh-1"])
    # From a point halfway between the two Boston stores both are 2 km away: by id.
    lat, lon = offset(*BOSTON, 2, 90)
    tie = get(client, headers, f"/v1/stores?near={lat!r},{lon!r}&radius_km=3")["data"]
    assert ids_and_distances(tie) == [("us-cheapo-1", 2.0), ("us-posh-1", 2.0)]


def test_an_empty_radius_is_an_answer_with_a_note(client, headers):
    body = get(client, headers, "/v1/stores?near=0,0&radius_km=100")
    assert body["data"] == [] and body["total"] == 0
    assert body["note"] == ("No store within 100 km of (0, 0): try a larger radius_km "
                            "(up to 100) or another point.")


def test_the_note_repeats_the_point_and_radius_exactly(client, headers):
    # Rounded to 6 digits (:g), this radius read "4.00001 km", which does hold us-posh-1.
    radius = distance_km(*BOSTON, *EAST_4KM) - 1e-9
    body = get(client, headers, f"/v1/stores?near=42.3601,-104.9903&radius_km={radius!r}")
    assert body["note"].startswith(f"No store within {radius!r} km of (42.3601, -104.9903):")
    assert get(client, headers, f"/v1/stores?near={NEAR_BOSTON}&radius_km={radius!r}"
               )["total"] == 1  # only us-cheapo-1 itself: us-posh-1 is just outside


def test_a_store_without_coordinates_is_never_near(client, headers):
    # fr-posh-1 has no place (NULL), so even 100 km around Paris holds nothing.
    body = get(client, headers, "/v1/stores?near=48.8566,2.3522&radius_km=100")
    assert body["data"] == [] and "note" in body
    listed = get(client, headers, "/v1/stores?country=FR")["data"]
    assert [(row["id"], row["lat"], row["lon"]) for row in listed] == [("fr-posh-1", None, None)]


# --- validation ----------------------------------------------------------------------

@pytest.mark.parametrize("query, errors", [
    ("near=91,0", {"near": ["Use a latitude from -90 to 90."]}),
    ("near=0,-180.5", {"near": ["Use a longitude from -180 to 180."]}),
    ("near=-90.1,180.1", {"near": ["Use a latitude from -90 to 90.",
                                   "Use a longitude from -180 to 180."]}),
    ("near=boston", {"near": ["Use near=LAT,LON in degrees, e.g. near=42.3601,-71.0589."]}),
    ("near=1,2,3", {"near": ["Use near=LAT,LON in degrees, e.g. near=42.3601,-71.0589."]}),
    ("near=1,2&radius_km=0", {"radius_km": ["Use a radius above 0 and at most 100 (km)."]}),
    ("near=1,2&radius_km=-3", {"radius_km": ["Use a radius above 0 and at most 100 (km)."]}),
    ("near=1,2&radius_km=100.01", {"radius_km": ["Use a radius above 0 and at most 100 (km)."]}),
    ("near=1,2&radius_km=nan",
     {"radius_km": ["Special numeric values (nan or infinity) are not permitted."]}),
    ("radius_km=5", {"radius_km": ["A radius needs a centre: give near too."]}),
    # Other scripts' digits: Python's \d and float() take "٤" as 4, the pattern does not.
    ("near=%D9%A4,%D9%A0", {"near": ["Use near=LAT,LON in degrees, e.g. near=42.3601,-71.0589."]}),
    # A misspelt parameter is an error, not a silently different question (10 km).
    ("near=1,2&radius=1", {"radius": ["Unknown field."]}),
    ("near=1,2&radius_km=%D9%A5", {"radius_km": ["Not a valid number."]}),  # "٥"
])
@pytest.mark.parametrize("path", ["/v1/stores", "/v1/deals", "/v1/cheapest-stores"])
def test_out_of_range_near_and_radius_are_422_naming_the_field(client, headers, path, query,
                                                               errors):
    if path == "/v1/cheapest-stores":
        query += "&items=milk&country=US"
    response = client.get(f"{path}?{query}", headers=headers)
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["errors"] == errors
    assert response.json["detail"] == f"Some fields are invalid: {', '.join(errors)}."


@pytest.mark.parametrize("body, errors", [
    ({"near": {"lat": 90.01, "lon": 0}}, {"near": {"lat": ["Use a latitude from -90 to 90."]}}),
    ({"near": {"lat": 0, "lon": 200}}, {"near": {"lon": ["Use a longitude from -180 to 180."]}}),
    ({"near": {"lat": 1}}, {"near": {"lon": ["Missing data for required field."]}}),
    ({"near": "42.36,-71.05"}, {"near": ['Use an object: {"lat": 42.3601, "lon": -71.0589}.']}),
    ({"near": [42.36, -71.05]}, {"near": ['Use an object: {"lat": 42.3601, "lon": -71.0589}.']}),
    # JSON numbers, not strings of them (a query string's are text; a body's are not).
    ({"near": {"lat": "42.36", "lon": 0}}, {"near": {"lat": ["Not a valid number."]}}),
    ({"near": {"lat": 1, "lon": 2}, "radius_km": "5"}, {"radius_km": ["Not a valid number."]}),
    ({"near": {"lat": 1, "lon": 2}, "radius_km": 0},
     {"radius_km": ["Use a radius above 0 and at most 100 (km)."]}),
    ({"near": {"lat": 1, "lon": 2}, "radius_km": 101},
     {"radius_km": ["Use a radius above 0 and at most 100 (km)."]}),
    ({"radius_km": 5}, {"radius_km": ["A radius needs a centre: give near too."]}),
])
def test_post_near_422s(client, headers, body, errors):
    response = client.post("/v1/cheapest-stores", headers=headers,
                           json={"items": ["milk"], "country": "US", **body})
    assert response.status_code == 422, response.json
    assert response.json["errors"] == errors


# --- POST/GET /v1/cheapest-stores ----------------------------------------------------

def test_plans_only_combine_stores_within_the_radius(client, headers):
    basket = {"items": ["milk", {"item": "bread", "quantity": 2}], "country": "US",
              "max_stores": 2}
    # The whole country: the milk 12 km south (1.50) is the cheapest, and the plan uses it.
    country = client.post("/v1/cheapest-stores", headers=headers, json=basket).json
    assert [stop["store"] for stop in country["plan"]["stores"]] == ["us-cheapo-3", "us-posh-1"]
    assert all("distance_km" not in stop for stop in country["plan"]["stores"])
    # Near Boston (10 km): only the two Boston stores; every store carries its distance.
    near = client.post("/v1/cheapest-stores", headers=headers,
                       json={**basket, "near": {"lat": BOSTON[0], "lon": BOSTON[1]}}).json
    assert [(s["store"]["id"], s["store"]["distance_km"], s["total"]) for s in near["stores"]] \
        == [("us-posh-1", 4.0, "8.47"), ("us-cheapo-1", 0.0, "8.97")]
    assert near["plan"] == {"max_stores": 2, "total": "7.97", "exact": True, "missing": [],
                            "stores": [{"store": "us-cheapo-1", "name": "Us Cheapo 1",
                                        "chain": "cheapo", "chain_name": "Cheapo",
                                        "city": "Boston", "distance_km": 0.0,
                                        "items": ["milk"], "subtotal": "1.99"},
                                       {"store": "us-posh-1", "name": "Us Posh 1",
                                        "chain": "posh", "chain_name": "Posh",
                                        "city": "Boston", "distance_km": 4.0,
                                        "items": ["bread"], "subtotal": "5.98"}]}
    assert [(b["item"], b["store"]) for b in near["per_item"]] == [("milk", "us-cheapo-1"),
                                                                    ("bread", "us-posh-1")]
    assert near["lower_bound"] == "7.97" and "note" not in near
    # The view sends the answer without dumping it again: it must hold exactly the
    # documented schema's fields, with its types (unknown fields are errors here).
    from app.market.cheapest_schemas import CheapestAnswer
    for body in (country, near):
        assert CheapestAnswer().validate(body) == {}
    # 15 km reaches the third Boston store, whose milk is cheaper.
    wider = client.post("/v1/cheapest-stores", headers=headers, json={
        **basket, "near": {"lat": BOSTON[0], "lon": BOSTON[1]}, "radius_km": 15}).json
    assert [(stop["store"], stop["distance_km"]) for stop in wider["plan"]["stores"]] == [
        ("us-cheapo-3", 12.0), ("us-posh-1", 4.0)]


def test_get_form_with_near_matches_post(client, headers):
    post = client.post("/v1/cheapest-stores", headers=headers, json={
        "items": ["milk", "bread"], "country": "US", "near": {"lat": 42.3601, "lon": -71.0589},
        "radius_km": 5}).json
    got = get(client, headers, f"/v1/cheapest-stores?items=milk,bread&country=US"
                               f"&near={NEAR_BOSTON}&radius_km=5")
    assert got == post and len(got["stores"]) == 2


def test_no_store_in_the_radius_is_an_empty_answer_with_a_note(client, headers):
    body = client.post("/v1/cheapest-stores", headers=headers, json={
        "items": ["milk"], "country": "US", "near": {"lat": 0, "lon": 0}, "radius_km": 1})
    assert body.status_code == 200
    from app.market.cheapest_schemas import CheapestAnswer
    assert CheapestAnswer().validate(body.json) == {}
    assert body.json == {"country": "US", "currency": "USD", "stores": [], "per_item": [],
                         "lower_bound": "0.00",
                         "plan": {"max_stores": 2, "total": "0.00", "exact": True,
                                  "missing": ["milk"], "stores": []},
                         "note": "No store within 1 km of (0, 0): try a larger radius_km "
                                 "(up to 100) or another point."}


def test_near_in_another_country_than_asked_finds_nothing(client, headers):
    body = get(client, headers, f"/v1/cheapest-stores?items=milk&country=JP&near={NEAR_BOSTON}")
    assert body["stores"] == [] and "note" in body


# --- GET /v1/deals -------------------------------------------------------------------

def test_deals_near_a_point(client, headers):
    body = get(client, headers, f"/v1/deals?near={NEAR_BOSTON}")
    assert [(d["store"], d["item"], d["distance_km"]) for d in body["data"]] == [
        ("us-posh-1", "milk", 4.0)]
    tokyo = get(client, headers, "/v1/deals?near=35.6812,139.7671&radius_km=1")
    assert [(d["store"], d["item"], d["distance_km"]) for d in tokyo["data"]] == [
        ("jp-cheapo-1", "bread", 0.0)]
    assert all("distance_km" not in d for d in get(client, headers, "/v1/deals")["data"])
    empty = get(client, headers, f"/v1/deals?near={NEAR_BOSTON}&radius_km=1&category=dairy")
    assert empty["data"] == [] and "note" not in empty   # a store, but no dairy deal there
    nowhere = get(client, headers, "/v1/deals?near=0,0")
    assert nowhere["data"] == [] and nowhere["total"] == 0 and "No store" in nowhere["note"]


# --- the GET form's length -----------------------------------------------------------

def test_get_basket_longer_than_a_url_takes_is_414_pointing_to_post(app, client, headers):
    from conftest import quota_used
    items = ",".join(f"item-{n:05d}" for n in range(273))         # 3,002 characters
    assert len(items) > 3000
    response = client.get(f"/v1/cheapest-stores?items={items}&country=US", headers=headers)
    assert response.status_code == 414
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["type"] == "/problems/uri-too-long"
    assert response.json["title"] == "Request URI too long"
    assert "POST /v1/cheapest-stores" in response.json["detail"]
    # Just within the limit, the usual validation applies (too many items: 422).
    fits = items[:3000].rsplit(",", 1)[0]
    assert client.get(f"/v1/cheapest-stores?items={fits}&country=US",
                      headers=headers).status_code == 422


def test_the_near_lookup_searches_the_index_instead_of_scanning_stores(app, headers):
    """The box is answered by the (country, lat, lon) index: a range search on lat within
    the country, never a scan of the stores table."""
    from app.market.cheapest import STORES_IN_COUNTRY
    from app.market.geo import bounding_box
    from app.market.nearby import in_box
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by table size")
        compiled = STORES_IN_COUNTRY.where(in_box(bounding_box(*BOSTON, 10))).compile(db.engine)
        params = {**compiled.params, "country": "US"}
        plan = db.session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}",
            tuple(params[name] for name in compiled.positiontup)).all()
    details = [row[-1] for row in plan]
    assert any("USING INDEX ix_stores_country_lat_lon (country=? AND lat>? AND lat<?)" in d
               for d in details), details
    assert not any(d.startswith("SCAN") and "stores" in d for d in details), details


def test_the_basket_prices_are_read_from_the_covering_index_alone(app, headers):
    """The basket's prices come from ix_prices_basket (item_id, store_id and every
    column the query reads): one index search per (item, store), no table row read."""
    from app.market.cheapest import BASKET_PRICES
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by table size")
        compiled = BASKET_PRICES.params(item_ids=[1, 2], store_ids=[1, 2, 3]).compile(
            db.engine, compile_kwargs={"render_postcompile": True})
        plan = db.session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", (1, 2, 1, 2, 3)).all()
    details = [row[-1] for row in plan]
    assert any("USING COVERING INDEX ix_prices_basket (item_id=? AND store_id=?)" in d
               for d in details), details
