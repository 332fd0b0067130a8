"""End to end in a real browser: a shopper uses the grocery-deals page in headless Chromium,
at a phone's width (375 px) and a laptop's (1280 px). They see today's deals near them,
search items by name, set quantities, get a per-store plan, meet an API failure; an axe-core
audit checks labels, keyboard use and contrast; every test saves a screenshot under
screenshots/ (git-ignored) for a person to look at. And the API key shows up nowhere the
browser can see: no page, response, request, header or cookie.

Needs Debian's chromium (/usr/bin/chromium) and the playwright Python package; we never
run `playwright install` (it downloads its own browsers), we point Playwright at Debian's.
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the playwright package is not installed "
                                      "(pip install playwright)")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright",
                                     reason="pip install -r requirements-dev.txt")

# api_server and stub are pytest fixtures: importing them makes them available here.
from test_client import PROMO_ENDS, ROOT, api_server, sdk, serve, stub  # noqa: E402,F401

from client.web import create_web_app  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
SCREENSHOTS = ROOT / "screenshots"
WIDTHS = {"phone": {"width": 375, "height": 812}, "laptop": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Shopper:
    """One browser tab at one width, recording everything the browser sent and received."""

    def __init__(self, browser, width: str, **context):
        self.width = width
        self.context = browser.new_context(viewport=WIDTHS[width], **context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.sent, self.received = [], []
        self.page.on("request", lambda r: self.sent.append((r.url, r.headers, r.post_data)))
        self.page.on("response", self._record)

    def _record(self, response):
        body = b"" if 300 <= response.status < 400 else response.body()
        self.received.append((response.url, response.all_headers(),
                              body.decode("utf-8", "replace")))

    def screenshot(self, name: str, part: str | None = None) -> None:
        """The whole page, or one part of it (a CSS selector) where the page is long."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = str(SCREENSHOTS / f"{name}-{self.width}.png")
        if part:
            self.page.locator(part).screenshot(path=path)
        else:
            self.page.screenshot(path=path, full_page=True)

    def assert_accessible(self) -> None:
        results = axe_playwright.Axe().run(self.page)
        assert results.violations_count == 0, results.generate_report()

    def assert_key_never_seen(self, key: str, origin: str) -> None:
        assert key not in self.page.content()
        assert self.context.cookies() == [] and self.page.evaluate("document.cookie") == ""
        assert self.sent and all(url.startswith(origin) for url, _, _ in self.sent)
        for url, headers, body in self.sent:
            assert key not in url and key not in (body or "")
            assert all(key not in value for value in headers.values()), url
        for url, headers, body in self.received:
            assert key not in body, url
            assert all(key not in value for value in headers.values()), url

    def close(self):
        self.context.close()


@pytest.fixture(params=list(WIDTHS))
def shopper(request, browser):
    tab = Shopper(browser, request.param)
    yield tab
    tab.close()


@pytest.fixture
def site(api_server):  # noqa: F811
    """The shopper page served on a free port, for a key limited to US groceries."""
    key = api_server.key(countries=["US"], categories=["dairy", "bakery"])
    url, stop = serve(create_web_app(lambda: sdk(api_server, key)))
    yield url, key
    stop()


def test_first_screen_is_todays_deals_near_me(site, shopper):
    url, key = site
    page = shopper.page
    page.goto(url + "/")
    deals = page.locator("#deals")
    assert deals.locator("h2").inner_text() == "Today's deals within 10 km of Boston"
    card = deals.locator(".deal").first
    assert re.sub(r"\s+", " ", card.inner_text()).startswith(
        "Milk 1 l $2.49 regular price $2.99 −17% $2.49/l Us Posh 1 · 0.0 km Until")
    first_screen = WIDTHS[shopper.width]["height"]
    if shopper.width == "phone":  # the list and its search first, then the deals
        assert page.locator("#search").bounding_box()["y"] < first_screen
        assert page.locator("#list").bounding_box()["y"] < deals.bounding_box()["y"]
    else:                         # beside each other
        assert card.is_visible() and card.bounding_box()["y"] < first_screen
    shopper.assert_accessible()
    shopper.screenshot("deals")

    page.select_option("#city", "Denver, US")  # another city, by keyboard-usable select
    page.click("text=Show deals")
    assert page.locator("#deals h2").inner_text() == "Today's deals within 10 km of Denver"
    assert "No deals within 10 km of Denver today." in page.locator("#deals").inner_text()
    shopper.assert_key_never_seen(key, url)


def test_search_add_quantities_plan_and_reload(site, shopper):
    url, key = site
    page = shopper.page
    page.goto(url + "/")
    page.click("#find")  # an empty list: a sentence, not a reload
    assert page.locator("#search-status").inner_text() == "Add an item to your list first."
    assert page.evaluate("document.activeElement.id") == "search"
    page.fill("#search", "mil")
    page.locator("#results .result", has_text="Milk, 1 l").wait_for()
    assert page.locator("#search-status").inner_text() == "1 item found for “mil”."
    page.keyboard.press("Enter")  # Enter adds the first match (and does not send the form)
    page.locator("#list-items .list-row").first.wait_for()
    page.get_by_role("button", name="One more Milk").click()
    assert page.get_by_label("Quantity of Milk").input_value() == "2"

    page.fill("#search", "novel")  # a book: outside what this key may see
    page.locator("#search-status", has_text="Nothing found for “novel”.").wait_for()
    page.fill("#search", "brea")
    page.locator("#results .result", has_text="Bread, 800 g").click()
    assert page.locator("#list-items .list-name").all_inner_texts() == ["Milk 1 l", "Bread 800 g"]
    assert page.locator("#list-count").inner_text() == "(2)"
    shopper.screenshot("list")

    page.click("#find")
    answer = page.locator("#answer")
    answer.wait_for()
    text = re.sub(r"\s+", " ", answer.inner_text())
    assert "Where to buy your list within 10 km of Boston" in text
    assert "Best single store $7.47 Us Cheapo 1 Boston · 4.4 km away" in text
    assert "2 × Milk 1 l $1.99 each · $1.99/l $3.98" in text
    assert "Best two-store plan $6.97 Saves $0.50 against Us Cheapo 1" in text
    assert "Us Posh 1 Boston · 0.0 km away 1 × Bread 800 g $2.99 each · $3.74/kg $2.99" in text
    assert page.evaluate("document.activeElement.id") == "answer"  # the answer gets focus
    shopper.assert_accessible()
    shopper.screenshot("answer")

    page.goto(url + "/")  # a new visit: the list is still there, from localStorage
    rows = page.locator("#list-items .list-row")
    assert rows.count() == 2 and page.get_by_label("Quantity of Milk").input_value() == "2"
    page.get_by_role("button", name="Remove Bread").click()
    page.reload()
    assert page.locator("#list-items .list-name").all_inner_texts() == ["Milk 1 l"]
    shopper.assert_key_never_seen(key, url)


def test_add_a_deal_and_use_my_location(api_server, browser, request):  # noqa: F811
    key = api_server.key(countries=["US"])
    url, stop = serve(create_web_app(lambda: sdk(api_server, key)))
    request.addfinalizer(stop)
    tab = Shopper(browser, "phone", geolocation={"latitude": 42.3736, "longitude": -71.1097},
                  permissions=["geolocation"])
    request.addfinalizer(tab.close)
    page = tab.page
    page.goto(url + "/")
    page.click("#locate")
    page.wait_for_url(re.compile(r"lat=42\.3736"))
    assert page.locator("#deals h2").inner_text() == \
        "Today's deals within 10 km of 42.3736, -71.1097"
    page.get_by_role("button", name="Add Milk to list").click()
    page.click("#find")
    assert "Best single store $1.99 Us Cheapo 1 Boston · 0.0 km away" in re.sub(
        r"\s+", " ", page.locator("#answer").inner_text())
    tab.assert_key_never_seen(key, url)


def test_an_api_failure_is_a_sentence(stub, shopper):  # noqa: F811
    stub["headers"] = {"Retry-After": "0"}
    url, stop = serve(create_web_app(lambda: sdk(stub["url"], "spk_test")))
    try:
        page = shopper.page
        page.goto(url + "/?item=milk&qty=2&plan=1")
        alert = page.get_by_role("alert")
        assert alert.inner_text() == ("The price service is having trouble right now. "
                                      "Please try again in a minute.")
        page.fill("#search", "milk")
        page.locator("#search-status", has_text="The price service is having trouble").wait_for()
        body = page.inner_text("body")
        assert "None" not in body and "Traceback" not in body and "503" not in body
        shopper.assert_accessible()
        shopper.screenshot("error")
    finally:
        stop()


# --- the "done when": a new user, from `make run` to a near-me plan --------------------------

def start(argv, env, pattern, seconds=60):
    """Start a program and wait for a line of its stderr matching ``pattern``."""
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        if match := re.search(pattern, line):
            return process, match
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"{argv[:3]} did not print {pattern!r}: {''.join(seen)[-2000:]}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """What `make run` does, on a free port: seed the demo catalogue (printing the demo keys)
    and serve it with gunicorn; then `python -m client web` with the printed key."""
    folder = tmp_path_factory.mktemp("demo")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STOREPRICE_")},
           "DATABASE_URL": f"sqlite:///{folder / 'demo.db'}", "PORT": "0"}
    bin_dir = Path(sys.executable).parent
    seeded = subprocess.run([str(bin_dir / "flask"), "--app", "wsgi", "seed"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300, check=True)
    key = re.search(r"grocery-app\s+(spk_\S+)", seeded.stdout)[1]
    api, bound = start([str(bin_dir / "gunicorn"), "--bind", "127.0.0.1:0", "--workers", "1",
                        "--threads", "4", "wsgi:app"], env, r"Listening at: (http://\S+)")
    env.update(STOREPRICE_API_KEY=key, STOREPRICE_URL=bound[1])
    web, printed = start([sys.executable, "-m", "client", "web", "--port", "0"], env,
                         r"Shopper page on (http://\S+/)")
    yield printed[1], key
    for process in (web, api):
        process.terminate()
        process.wait(10)


def test_new_user_finds_whole_milk_and_gets_a_near_me_plan(demo, shopper):
    url, key = demo
    page = shopper.page
    page.goto(url)
    page.select_option("#city", "Boston, US")
    page.click("text=Show deals")
    page.fill("#search", "milk")
    first = page.locator("#results .result").first
    first.wait_for()
    assert first.inner_text().startswith("Whole milk 1 l")  # the plain one before brands
    first.click()
    page.get_by_role("button", name="One more Whole milk 1 l", exact=True).click()
    assert page.get_by_label("Quantity of Whole milk 1 l", exact=True).input_value() == "2"
    page.click("#find")
    text = re.sub(r"\s+", " ", page.locator("#answer").inner_text())
    # The whole city: its stores stand up to 15 km from its real centre.
    assert "Where to buy your list within 25 km of Boston" in text
    assert re.search(r"Best single store \$\d+\.\d\d .+ Boston · \d+\.\d km away "
                     r"2 × Whole milk 1 l", text), text
    assert "Not sold" not in text
    shopper.assert_accessible()
    shopper.screenshot("new-user")
    shopper.screenshot("new-user-answer", part="#answer")
    shopper.assert_key_never_seen(key, url.rstrip("/"))
