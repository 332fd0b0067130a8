"""The shopper web app (client/web.py) through Flask's test client, against a real API
server: what the server renders and proxies, and that the key stays on the server. The same
page in a real browser: tests/test_client_browser.py. Catalogue: tests/test_client.py."""
import html as markup
import re

import pytest
from test_client import PROMO_ENDS, api_server, sdk, stub  # noqa: F401 (fixtures)

from decimal import Decimal

from client.deals import TripThreshold
from client.web import create_web_app


@pytest.fixture
def shopper(api_server):  # noqa: F811
    """The shopper web app with its SDK pointed at the real API; (test client, key)."""
    key = api_server.key(countries=["US"])
    app = create_web_app(lambda: sdk(api_server, key))
    return app.test_client(), key


def visible_text(response) -> str:
    """The page's text without tags, templates or scripts, whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(template|script|noscript)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def assert_no_key(response, key):
    assert key not in response.get_data(as_text=True)
    assert all(key not in value for _, value in response.headers.items())
    assert "Set-Cookie" not in response.headers


def test_first_screen_is_todays_deals_in_the_city_with_most_stores(shopper):
    web, key = shopper
    page = web.get("/")
    assert page.status_code == 200
    text = visible_text(page)
    # The key allows the US only: its cities, derived from the stores, are Boston and Denver;
    # Boston has two stores, Denver one. Distances are from Boston's real centre (where
    # us-posh-1 stands), not from the middle of its stores.
    assert re.search(r'<option value="Boston, US" selected>Boston</option>\s*'
                     r'<option value="Denver, US" >Denver</option>', page.get_data(as_text=True))
    assert ("Today's deals within 10 km of Boston Dairy Milk 1 l $2.49 regular price $2.99 "
            "−17% $2.49/l Us Posh 1 · 0.0 km Until") in text
    assert "Your list is empty." in text
    assert_no_key(page, key)


def test_search_proxy_answers_json_without_the_key(shopper):
    web, key = shopper
    found = web.get("/items?q=MIL")
    assert found.status_code == 200
    # With the best price within the city's reach of Boston's centre (the page's default
    # place): us-cheapo-1's 1.99 beats us-posh-1's 2.49 on sale.
    assert found.get_json() == {"items": [{
        "id": "milk", "name": "Milk", "size": "1 l", "label": "Milk, 1 l", "price": "$1.99",
        "on_sale": False, "regular_price": None, "per_unit": "$1.99/l",
        "store": "Us Cheapo 1"}], "prices_note": None}
    # Near us-posh-1 only (2 km), the sale price, with its badge's data.
    near = web.get("/items?q=milk&lat=42.3601&lon=-71.0589&radius_km=2").get_json()
    assert near["items"][0] | {"id": "milk"} == {
        "id": "milk", "name": "Milk", "size": "1 l", "label": "Milk, 1 l", "price": "$2.49",
        "on_sale": True, "regular_price": "$2.99", "per_unit": "$2.49/l",
        "store": "Us Posh 1"}
    assert web.get("/items?q=").get_json() == {"items": [], "prices_note": None}
    assert_no_key(found, key)


def test_the_answer_per_store_with_sales_and_missing_items(shopper):
    web, key = shopper
    page = web.get("/?city=Boston,+US&radius_km=10&item=milk&qty=2&item=bread&qty=1"
                   "&item=tshirt&qty=1&item=caviar&qty=1&plan=1")
    assert page.status_code == 200
    text = visible_text(page)
    assert "Where to buy your list within 10 km of Boston" in text
    # us-posh-1 is the only store with everything: 2 x 2.49 + 2.99 + 15.00.
    assert ("Best single store $22.97 Us Posh 1 Boston · 0.0 km away "
            "2 × Milk 1 l Sale $2.49 each · $2.49/l · regular $2.99, sale until") in text
    assert "$4.98 1 × Bread 800 g $2.99 each · $3.74/kg $2.99 1 × Tshirt $15.00 each $15.00" \
        in text
    # Two stores save $1.00 of $22.97 (4.4 %): less than $2 or 5 %, not worth a second trip.
    assert ("Best two-store plan Splitting your list over Us Cheapo 1 and Us Posh 1 would "
            "save only $1.00: not worth a second trip. Buy everything at Us Posh 1.") in text
    assert "Not in the catalogue any more: caviar." in text
    # The list comes back from the URL, with names, in the shopper's order.
    assert re.findall(r'name="item" value="([a-z]*)"', page.get_data(as_text=True)) == [
        "milk", "bread", "tshirt", "caviar", ""]  # "" is the row template
    assert_no_key(page, key)


def test_the_trip_threshold_is_configurable(api_server):  # noqa: F811
    key = api_server.key(countries=["US"])
    web = create_web_app(lambda: sdk(api_server, key),
                         threshold=TripThreshold(Decimal("0.50"), Decimal(5))).test_client()
    text = visible_text(web.get("/?city=Boston,+US&radius_km=10&item=milk&qty=2&item=bread"
                                "&qty=1&item=tshirt&qty=1&plan=1"))
    assert ("Best two-store plan $21.97 Saves $1.00 against Us Posh 1 Us Cheapo 1 Boston · "
            "4.4 km away 2 × Milk 1 l $1.99 each · $1.99/l $3.98 Subtotal $3.98") in text


def test_coordinates_win_and_say_what_is_not_sold(shopper):
    web, _ = shopper
    page = web.get("/?city=Denver,+US&lat=42.3601&lon=-71.0589&radius_km=2"
                   "&item=milk&qty=1&item=novel&qty=1&plan=1")
    text = visible_text(page)
    assert "Where to buy your list within 2 km of 42.3601, -71.0589" in text
    assert "Best single store $2.49 Us Posh 1 Boston · 0.0 km away" in text
    assert "Not sold at Us Posh 1: Novel." in text
    assert "No store within 2 km of 42.3601, -71.0589 sells Novel." in text
    assert "No two stores are cheaper together: buy everything at Us Posh 1." in text


@pytest.mark.parametrize("query, sentence", [
    ("lat=95&lon=0", "Latitude must be between -90 and 90"),
    ("radius_km=500", "The radius must be more than 0 and at most 100 km."),
    ("city=Atlantis", "No stores in a city called 'Atlantis'."),
    ("item=milk&qty=0&plan=1", "Quantity of milk must be 1 to 99, not 0."),
])
def test_bad_input_is_a_sentence_and_the_page_still_works(shopper, query, sentence):
    web, _ = shopper
    page = web.get("/?" + query)
    assert page.status_code == 200
    text = visible_text(page)
    assert sentence in text and "Today's deals within 10 km of Boston" in text


def test_items_the_key_cannot_see_are_not_in_its_catalogue(api_server):  # noqa: F811
    key = api_server.key(categories=["dairy"])  # may not see bakery
    web = create_web_app(lambda: sdk(api_server, key)).test_client()
    page = web.get("/?city=Boston,+US&item=milk&qty=1&item=bread&qty=1&plan=1")
    assert page.status_code == 200
    text = visible_text(page)
    # The page's catalogue is what the key may see: bread is not in it, so it is not sent
    # (the API would refuse the whole list with a 403, and bill the call).
    assert "Best single store $1.99 Us Cheapo 1" in text
    assert "Not in the catalogue any more: bread." in text
    assert "None" not in text and "Traceback" not in text and "violated" not in text


def test_api_refusals_are_friendly_sentences(stub):  # noqa: F811
    stub["status"] = "403 Forbidden"
    web = create_web_app(lambda: sdk(stub["url"], "spk_test")).test_client()
    page = web.get("/?item=milk&qty=1&plan=1")
    assert page.status_code == 400
    text = visible_text(page)
    assert "Sorry, this site cannot show prices for that request." in text
    assert "None" not in text and "Traceback" not in text and "violated" not in text


def test_unavailable_api_is_a_sentence(stub):  # noqa: F811
    stub["headers"] = {"Retry-After": "0"}
    web = create_web_app(lambda: sdk(stub["url"], "spk_test")).test_client()
    page = web.get("/")
    assert page.status_code == 503
    assert visible_text(page).count("The price service is having trouble right now. Please "
                                    "try again in a minute.") == 1  # said once, not per call
    search = web.get("/items?q=milk")
    assert search.status_code == 503
    assert search.get_json() == {"error": "The price service is having trouble right now. "
                                          "Please try again in a minute."}


def test_key_problems_are_hidden_from_shoppers(api_server, caplog):  # noqa: F811
    web = create_web_app(lambda: sdk(api_server, "wrong")).test_client()
    page = web.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 500 and "not set up correctly" in html
    assert "malformed" not in html and "STOREPRICE_API_KEY" not in html
    assert "check STOREPRICE_API_KEY" in caplog.text  # ...but the site owner is told


def test_names_from_the_api_are_escaped(api_server):  # noqa: F811
    web = create_web_app(lambda: sdk(api_server, api_server.key())).test_client()
    page = web.get("/?item=%3Cscript%3Ealert(1)%3C/script%3E&qty=1&plan=1")
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_page_allows_only_its_own_scripts(shopper):
    web, _ = shopper
    policy = web.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert web.get("/static/app.js").status_code == 200


def test_used_up_quota_is_a_sentence(api_server):  # noqa: F811
    key = api_server.key(daily_limit=1)  # the city list takes it; the deals meet the 429
    web = create_web_app(lambda: sdk(api_server, key)).test_client()
    page = web.get("/")
    assert page.status_code == 503
    assert re.search(r"This site has used all of today's price lookups\. They start again at "
                     r"midnight UTC in \d+[hms]( \d+[ms])?\.", visible_text(page))
