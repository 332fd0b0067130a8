"""End to end in a real browser: a shopper opens the shopper page in headless Chromium,
ticks items, picks a country, submits and sees the deals, and the API key shows up
nowhere the browser can see: not in the page, not in any response body or header, not
in a cookie.

Needs Debian's chromium (/usr/bin/chromium) and the playwright Python package; we never
run `playwright install` (it downloads its own browsers), we point Playwright at Debian's.
"""
import os

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the playwright package is not installed "
                                      "(pip install playwright)")

# api_server is a pytest fixture: importing it makes it available in this module.
from test_client import api_server, sdk, serve  # noqa: E402,F401

from client.web import create_web_app  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def test_shopper_page_in_chromium(api_server):  # noqa: F811 (the imported fixture)
    key = api_server.key(countries=["US"], categories=["dairy", "bakery"])
    url, stop = serve(create_web_app(lambda: sdk(api_server, key)))
    seen = []  # every response the browser received, read as it arrives

    def record(response):
        body = b"" if 300 <= response.status < 400 else response.body()
        seen.append((response.url, response.all_headers(), body.decode("utf-8", "replace")))

    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.on("response", record)
                page.goto(url + "/")
                page.check("input[name=item][value=milk]")
                page.check("input[name=item][value=bread]")
                page.select_option("select[name=country]", "US")
                with page.expect_navigation():
                    page.click("button[type=submit]")

                deals = page.inner_text("#deals")
                assert "Best single store: Us Cheapo 1, Boston: 5.48" in deals
                assert "Best two-store plan: 4.88, saves 0.60 against Us Cheapo 1" in deals
                assert "Us Cheapo 2: milk = 1.89" in deals
                assert "Us Posh 1: bread = 2.99" in deals
                assert page.is_checked("input[name=item][value=milk]")  # the form remembers

                assert key not in page.content()
                assert page.context.cookies() == []
                assert page.evaluate("document.cookie") == ""
            finally:
                browser.close()
    finally:
        stop()

    assert [u for u, _, _ in seen if u.rstrip("/") == url] == [url + "/", url + "/"]
    for response_url, headers, body in seen:
        assert key not in body, response_url
        assert all(key not in value for value in headers.values()), response_url
