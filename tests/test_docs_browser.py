"""/docs in a real headless Chromium (Debian's, driven by Playwright): the page renders
every operation of the document, and it loads nothing from any host but this server, so
it works on a machine without internet. A screenshot lands in the git-ignored
screenshots/ folder for a person to look at."""
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the playwright package is not installed")

from test_client import serve  # noqa: E402
from test_client_browser import CHROMIUM_ARGS  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def test_docs_render_every_operation_offline(app):
    spec = app.test_client().get("/openapi.json").get_json()
    operations = [op["operationId"] for path in spec["paths"].values()
                  for method, op in path.items() if method in ("get", "post", "put",
                                                               "patch", "delete")]
    url, stop = serve(app)
    hosts, failed = set(), []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 2400})
                page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
                page.on("requestfailed", lambda request: failed.append(request.url))
                page.goto(url + "/docs")
                page.wait_for_selector(".opblock", timeout=20000)
                rendered = page.locator(".opblock").count()
                summaries = page.inner_text("#swagger-ui-container")
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "docs.png"))
            finally:
                browser.close()
    finally:
        stop()
    assert rendered == len(operations), (rendered, len(operations))
    assert "/v1/cheapest-stores" in summaries and "Store Price API" in summaries
    assert hosts == {urlsplit(url).netloc}, hosts  # no CDN, no validator badge
    assert failed == []
