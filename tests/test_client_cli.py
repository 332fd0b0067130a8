"""The grocery-deals CLI (``python -m client deals|whoami``) against a real API server: names,
sizes, distances and the plan; --near and --city; every failure one line on stderr (and
the page's sentence for the same bad radius). The catalogue and its places are described in
tests/test_client.py."""
import html
import json
from pathlib import Path

import pytest
import requests
from test_client import (  # noqa: F401 (api_server and stub are fixtures)
    PROMO_ENDS,
    api_server,
    one_line,
    run_program,
    sdk,
    stub,
)

from client.cli import main
from client.today import DEALS_SHOWN
from client.web import create_web_app


@pytest.fixture
def cli(monkeypatch, tmp_path, capsys):
    """Run ``python -m client`` in-process: run(key, *argv) -> (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)  # no developer's .env gets picked up
    monkeypatch.delenv("STOREPRICE_URL", raising=False)

    def run(key, *argv):
        if key is None:
            monkeypatch.delenv("STOREPRICE_API_KEY", raising=False)
        else:
            monkeypatch.setenv("STOREPRICE_API_KEY", key)
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_plan_near_a_city_with_names_sizes_and_distances(api_server, cli):
    code, out, err = cli(api_server.key(), "deals", "--url", api_server.url,
                         "--city", "Boston", "milk:2", "bread", "caviar")
    assert code == 0 and err == ""
    # Measured from Boston's real centre, where us-posh-1 stands; us-cheapo-1 is 4.4 km west.
    assert "Where to buy 2 items (3 units) within 10 km of Boston today, prices in USD:" in out
    assert "Best single store: Us Cheapo 1 (Boston, 4.4 km), total 7.47" in out
    assert "  2 x Milk, 1 l     1.99 each (1.99/l)  = 3.98" in out
    assert "  1 x Bread, 800 g  3.49 each (4.36/kg)  = 3.49" in out
    # Two stores save 0.50 of 7.47 (6.7 %): worth a trip (5 % or $2 is the threshold).
    assert "Best two-store plan: total 6.97, saves 0.50 against Us Cheapo 1" in out
    assert "  Us Posh 1 (Boston, 0.0 km): subtotal 2.99" in out
    assert "    1 x Bread, 800 g  2.99 each (3.74/kg)  = 2.99" in out
    assert "Denver" not in out  # its cheaper milk is 2,800 km away
    assert "Not in the catalogue: caviar." in out


def test_plan_near_coordinates_marks_sales(api_server, cli):
    code, out, _ = cli(api_server.key(), "deals", "--url", api_server.url,
                       "--near", "42.3601,-71.0589", "--radius", "1", "milk", "novel")
    assert code == 0
    # Within 1 km of the centre there is only us-posh-1, which sells no novel.
    assert "Best single store: Us Posh 1 (Boston, 0.0 km), total 2.49" in out
    assert f"1 x Milk, 1 l  2.49 each (2.49/l)  = 2.49  SALE, regular 2.99, until {PROMO_ENDS}" in out
    assert "Not sold there: Novel." in out
    assert "Not sold within 1 km of 42.3601, -71.0589: Novel." in out


def test_todays_deals_by_category(api_server, cli):
    code, out, _ = cli(api_server.key(), "deals", "--url", api_server.url, "--city", "tokyo")
    assert code == 0
    assert out.splitlines()[:4] == [
        "Today's deals within 10 km of Tokyo, biggest saving first:", "", "Bakery",
        f"  Bread, 800 g  420 JPY (regular 500, -16%), until {PROMO_ENDS}  at Jp Cheapo 1, 0.0 km"]


def test_whole_country_and_list_file(api_server, cli, tmp_path):
    shopping = tmp_path / "list.txt"
    shopping.write_text("# weekend\nbread:2\n\nmilk\ntshirt\n")
    code, out, _ = cli(api_server.key(), "deals", "--url", api_server.url,
                       "--country", "JP", "--list", str(shopping))
    assert code == 0
    assert "Where to buy 3 items (4 units) in JP today, prices in JPY:" in out
    assert "Best single store: Jp Cheapo 1 (Tokyo), total 1020" in out  # 180 + 2 x 420
    assert "Best two-store plan: none is cheaper; buy everything at Jp Cheapo 1." in out
    assert "Not sold in JP: Tshirt." in out


def test_json(api_server, cli):
    code, out, _ = cli(api_server.key(), "deals", "--url", api_server.url, "--city", "Boston",
                       "--json", "milk", "bread:2", "caviar")
    assert code == 0
    report = json.loads(out)
    assert report["location"]["label"] == "Boston" and report["location"]["radius_km"] == 10
    best = report["best_store"]
    assert (best["total"], best["stores"][0]["id"], best["stores"][0]["distance_km"]) == (
        "8.47", "us-posh-1", 0.0)
    assert (report["plan"]["total"], report["plan"]["saving"]) == ("7.97", "0.50")
    assert report["plan"]["stores"][1]["lines"] == [{
        "item": "bread", "name": "Bread", "size": "800 g", "quantity": 2, "unit_price": "2.99",
        "per_unit": "3.74/kg", "line_total": "5.98", "on_sale": False, "regular_price": None,
        "promo_ends": None}]
    assert report["unknown"] == ["caviar"]


def test_plan_header_counts_items_and_units(api_server, cli):
    """Items are the list's lines; units appear only when a quantity makes them differ."""
    key = api_server.key()
    for items, header in [(["milk"], "1 item"), (["milk:2"], "1 item (2 units)"),
                          (["milk", "bread"], "2 items")]:
        code, out, _ = cli(key, "deals", "--url", api_server.url, "--country", "US", *items)
        assert code == 0
        assert out.splitlines()[0] == f"Where to buy {header} in US today, prices in USD:"


def test_readme_states_the_deals_cap():
    """The deals list is cut at DEALS_SHOWN while the API may have more: the docs say so."""
    readme = (Path(__file__).resolve().parent.parent / "client" / "README.md").read_text()
    assert f"at most {DEALS_SHOWN} deals" in " ".join(readme.split())


def test_whoami(api_server, cli):
    key = api_server.key(countries=["US"], daily_limit=10)
    code, out, _ = cli(key, "whoami", "--url", api_server.url)
    assert code == 0
    assert "Countries:   US" in out and "Categories:  all" in out
    assert "Limits:      10 calls per UTC day, rate 60/minute" in out
    assert "Today:       0 used, 10 left" in out  # self-inspection is free
    assert key not in out


@pytest.mark.parametrize("key_options, argv, expected", [
    (None, ["--country", "US", "milk"], "error: the API key was refused (The API key is malformed"),
    ({"countries": ["US"]}, ["--country", "FR", "milk"], "error: this key may not access country:FR"),
    ({"categories": ["dairy"]}, ["--country", "US", "milk", "bread"],
     "error: this key may not access category:bakery"),
    ({}, ["--country", "USA", "milk"], "error: invalid input: country: Use an ISO 3166-1"),
    ({}, ["--near", "42.36,-71.06", "--radius", "500", "milk"],
     "error: The radius must be more than 0 and at most 100 km."),
    ({}, ["--near", "north", "milk"], "error: Give coordinates as latitude,longitude"),
    ({}, ["--city", "Atlantis"], "error: No stores in a city called 'Atlantis'. Cities: Paris, "),
    ({}, ["milk", "bread"], "error: this key may use several countries: choose one with"),
    ({}, ["milk:lots"], "error: 'milk:lots' is not an item: use ITEM or ITEM:QUANTITY"),
])
def test_failures_are_one_line(api_server, cli, key_options, argv, expected):
    key = "wrong" if key_options is None else api_server.key(**key_options)
    code, out, err = cli(key, "deals", "--url", api_server.url, *argv)
    assert code in (1, 2) and out == ""
    assert one_line(err).startswith(expected)


@pytest.mark.parametrize("argv", [["--radius", "5", "milk"], ["--radius", "5"],
                                  ["--country", "US", "--radius", "5", "milk"]])
def test_radius_without_a_place_is_refused(api_server, cli, argv):
    """The API refuses radius_km without near (422); the client refuses it before asking,
    rather than answer for the whole country as if the distance had been heard."""
    key = api_server.key(countries=["US"])
    code, out, err = cli(key, "deals", "--url", api_server.url, *argv)
    assert (code, out) == (2, "")
    assert one_line(err) == ("error: --radius needs a place to measure from: add --near "
                             "LAT,LON or --city NAME.")
    _, out, _ = cli(key, "whoami", "--url", api_server.url)
    assert "Today:       0 used" in out  # refused here, not by a call to the API


def test_the_page_says_a_distance_needs_a_place(api_server):
    """The page measures a distance from the chosen city, else the first one; with no city
    at all (this key sees no stores) it says so instead of ignoring the distance."""
    sentence = "A distance needs a city or coordinates to measure from."
    key = api_server.key(countries=["DE"])  # no stores in DE
    web = create_web_app(lambda: sdk(api_server, key)).test_client()
    page = web.get("/?city=&radius_km=5")
    assert page.status_code == 200
    assert sentence in html.unescape(page.get_data(as_text=True))
    assert sentence not in html.unescape(web.get("/?city=").get_data(as_text=True))
    us_key = api_server.key(countries=["US"])
    us = create_web_app(lambda: sdk(api_server, us_key)).test_client()
    text = html.unescape(us.get("/?radius_km=5").get_data(as_text=True))
    assert "Today's deals within 5 km of Boston" in text and sentence not in text


def test_quota_and_network_errors(api_server, cli):
    key = api_server.key(daily_limit=1)
    used = requests.get(f"{api_server.url}/v1/items", headers={"X-API-Key": key}, timeout=10)
    assert used.status_code == 200  # the one counted call of the day
    code, _, err = cli(key, "deals", "--url", api_server.url, "--country", "US", "milk")
    assert code == 1
    assert "daily quota is used up; it resets at 00:00 UTC in " in one_line(err)

    code, _, err = cli(key, "whoami", "--url", "http://127.0.0.1:9")
    assert one_line(err) == "error: The Store Price API at http://127.0.0.1:9 is unreachable."
    assert code == 1


def test_retries_are_not_printed(stub, tmp_path):
    """urllib3 logs every retry as a warning; the CLI shows only the final sentence."""
    stub["headers"] = {"Retry-After": "0"}
    done = run_program(tmp_path, {"STOREPRICE_API_KEY": "spk_test"}, "deals", "--url",
                       stub["url"], "--country", "US", "milk")
    assert stub["hits"] == 4  # the first try and three retries...
    assert done.returncode == 1 and done.stdout == ""
    assert one_line(done.stderr).startswith(  # ...and one line about the last answer
        "error: the API is unavailable right now (503: Down for a moment); try again later")


def test_as_a_program_without_key(tmp_path):
    done = run_program(tmp_path, {}, "deals", "--country", "US", "milk")
    assert done.returncode == 2 and done.stdout == ""
    assert one_line(done.stderr) == (
        "error: No API key: set STOREPRICE_API_KEY in the environment or in a .env file "
        "(see client/.env.example).")


def test_reads_key_and_url_from_dotenv(api_server, tmp_path):
    (tmp_path / ".env").write_text(f"STOREPRICE_API_KEY={api_server.key()}\n"
                                   f"STOREPRICE_URL={api_server.url}\n")
    done = run_program(tmp_path, {}, "deals", "--json", "--country", "US", "milk", "bread")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["plan"]["total"] == "4.88"


@pytest.mark.parametrize("port, url", [(None, "http://127.0.0.1:5000"),
                                       ("8123", "http://127.0.0.1:8123")])
def test_make_run_hints_name_the_port_it_serves_on(monkeypatch, capsys, port, url):
    """`make run PORT=8123` hands PORT to `flask seed`, whose hints must say 8123."""
    from seed.demo_keys import print_demo_keys
    if port is None:
        monkeypatch.delenv("PORT", raising=False)
    else:
        monkeypatch.setenv("PORT", port)
    print_demo_keys([("grocery-app", "the client's key", "spk_demo_key")])
    out = capsys.readouterr().out
    assert f'curl -H "X-API-Key: $KEY" {url}/v1/key' in out
    assert f"export STOREPRICE_API_KEY=spk_demo_key STOREPRICE_URL={url}" in out


def test_no_store_nearby_is_one_sentence(api_server, cli):
    code, out, _ = cli(api_server.key(), "deals", "--url", api_server.url,
                       "--country", "US", "--near", "40.71,-74.01", "milk")  # New York
    assert code == 0
    assert out.splitlines()[2:] == [
        "No store within 10 km of 40.7100, -74.0100 sells any of these items."]


def test_a_city_reaches_all_its_stores_by_default():
    """Stores lie up to 15 km from a city's centre: picking a city must not show it empty."""
    from client.places import City
    assert [City("X", "US", 0, 0, 2, reach).radius_km for reach in (0, 9.9, 13.5, 30, 70)] \
        == [10, 10, 25, 50, 100]
