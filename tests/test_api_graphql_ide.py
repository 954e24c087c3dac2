"""GraphiQL at GET /graphql works offline: its page references only files this server serves (installed
from npm into api/static/vendor/graphiql/ by scripts/setup_ui.sh), and in a real browser whose network
is cut off from everything but localhost it loads, runs a query and shows the API's answer. The web
UI's own views and the API docs page are held to the same rule (nothing fetched from other hosts).

Against a real uvicorn server over an in-memory store holding the shipped MLPerf Tiny graph. The browser
tests use Debian's Chromium through Playwright and are skipped when either is missing; the HTTP tests
need only the vendor files (missing ones fail with the command that installs them).
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from api.app import create_app
from api.graphql_api import GRAPHIQL_ASSETS
from api.server import serve_in_background
from kg.bootstrap import ensure_initialized
from kg.store import open_store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000
ARTIFACTS = Path(__file__).parent / "ui_artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
MODELS_QUERY = "{ models(first: 2) { edges { node { label } } } }"
SETUP_HINT = "run `bash scripts/setup_ui.sh` (needs npm) to install GraphiQL's files"


class _AssetReferences(HTMLParser):
    """Collects every URL a page makes the browser fetch: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def _referenced_urls(html: str) -> list[str]:
    parser = _AssetReferences()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    store = open_store("oxigraph://")
    ensure_initialized(store)
    with serve_in_background(create_app(store)) as url:
        yield url
    store.close()


def _ide_page(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}/graphql", headers={"Accept": "text/html"}, timeout=30)


def _graphql_data(base_url: str, query: str) -> dict[str, Any]:
    response = httpx.post(f"{base_url}/graphql", json={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


# -- over HTTP ------------------------------------------------------------------------------------


def test_ide_page_references_only_local_files(base_url: str) -> None:
    response = _ide_page(base_url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = _referenced_urls(response.text)
    # React, ReactDOM, GraphiQL and its stylesheet at least.
    assert len([u for u in urls if u.startswith(GRAPHIQL_ASSETS + "/")]) >= 4, urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"the GraphiQL page loads {url} from another host"
    # Nothing in the page's own text points at another host either (e.g. a script building a CDN URL).
    for scheme in ("http://", "https://", "//unpkg", "//cdn"):
        assert scheme not in response.text, f"the GraphiQL page mentions {scheme!r}"


def test_every_asset_of_the_ide_page_is_served(base_url: str) -> None:
    page_url = f"{base_url}/graphql"
    urls = _referenced_urls(_ide_page(base_url).text)
    assert urls
    for url in urls:
        asset = httpx.get(urljoin(page_url, url), timeout=30)
        assert asset.status_code == 200, f"{url}: HTTP {asset.status_code} ({SETUP_HINT})"
        assert asset.content, f"{url} is empty"
        expected_type = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}[Path(url).suffix]
        assert asset.headers["content-type"].startswith(expected_type), (url, asset.headers["content-type"])


def test_graphql_requests_are_still_answered_not_given_the_ide(base_url: str) -> None:
    # Only a browser's GET without ?query= gets the page; queries by POST and by GET keep working.
    posted = _graphql_data(base_url, MODELS_QUERY)
    assert len(posted["models"]["edges"]) == 2
    got = httpx.get(f"{base_url}/graphql", params={"query": MODELS_QUERY},
                    headers={"Accept": "application/json"}, timeout=30)
    assert got.status_code == 200
    assert got.json()["data"] == posted


# -- in a browser cut off from everything but localhost --------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class OfflinePage:
    """A page whose requests to hosts other than localhost are aborted and recorded (the test then
    asserts there were none), and whose uncaught JavaScript errors are recorded."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=base_url)
        self.blocked: list[str] = []
        self.failed_local: list[str] = []
        self.js_errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("pageerror", lambda exc: self.js_errors.append(str(exc)))
        self.page.on("requestfailed", lambda request: self.failed_local.append(f"{request.url}: {request.failure}"))

    def _route(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def offline(browser: Any, base_url: str) -> Iterator[OfflinePage]:
    page = OfflinePage(browser, base_url)
    yield page
    page.context.close()


def _editor_value(page: Any, selector: str) -> str:
    """The text of the CodeMirror editor inside ``selector`` (GraphiQL 3's editors are CodeMirror 5)."""
    return page.evaluate(f"document.querySelector({json.dumps(selector + ' .CodeMirror')}).CodeMirror.getValue()")


def test_graphiql_runs_a_query_offline(offline: OfflinePage, base_url: str) -> None:
    expected = _graphql_data(base_url, MODELS_QUERY)
    labels = [edge["node"]["label"] for edge in expected["models"]["edges"]]
    assert len(labels) == 2 and all(labels)

    page = offline.page
    with page.expect_response(lambda r: r.url.endswith(f"{GRAPHIQL_ASSETS}/graphiql.min.js")) as script:
        page.goto("/graphql", wait_until="load")
    assert script.value.status == 200, SETUP_HINT
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    editor.wait_for()
    # Put the query into GraphiQL's own editor (typing would fight its bracket auto-closing).
    page.evaluate(f"document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
                  f".setValue({json.dumps(MODELS_QUERY)})")
    assert _editor_value(page, ".graphiql-query-editor") == MODELS_QUERY

    # Run it with GraphiQL's run button and wait for the API's answer to that very query.
    with page.expect_response(lambda r: r.url.startswith(f"{base_url}/graphql") and r.request.method == "POST"
                              and MODELS_QUERY in (r.request.post_data or "")) as answer:
        page.locator("button.graphiql-execute-button").click()
    assert answer.value.status == 200
    # The result pane shows the JSON the API answered (the labels of the first two models).
    page.wait_for_function(
        "document.querySelector('.graphiql-response .CodeMirror') && "
        "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue().includes('edges')")
    shown = json.loads(_editor_value(page, ".graphiql-response"))
    assert shown == {"data": expected}
    for label in labels:
        page.locator(".graphiql-response").get_by_text(label).first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "graphiql-offline.png"))

    assert not offline.blocked, f"GraphiQL tried to reach other hosts: {offline.blocked}"
    assert not offline.failed_local, f"requests failed: {offline.failed_local}"
    assert not offline.js_errors, f"JavaScript errors: {offline.js_errors}"


def test_graphiql_page_says_how_to_install_missing_files(offline: OfflinePage) -> None:
    # As on a server where scripts/setup_ui.sh never ran: the vendor files are not there.
    offline.context.route(f"**{GRAPHIQL_ASSETS}/**", lambda route: route.fulfill(status=404, body="not found"))
    page = offline.page
    page.goto("/graphql", wait_until="load")
    page.get_by_role("heading", name="GraphiQL is not installed on this server").wait_for()
    assert "scripts/setup_ui.sh" in page.locator("#graphiql").inner_text()
    assert not offline.blocked, f"the page tried to reach other hosts: {offline.blocked}"


@pytest.mark.parametrize("view", ["/#/recommend", "/#/explore", "/#/sparql", "/#/charts"])
def test_ui_views_fetch_nothing_from_other_hosts(offline: OfflinePage, view: str) -> None:
    page = offline.page
    page.goto(view, wait_until="networkidle")
    page.locator("main .view:not([hidden])").first.wait_for()
    assert not offline.blocked, f"{view} tried to reach other hosts: {offline.blocked}"
    assert not offline.failed_local, f"{view}: requests failed: {offline.failed_local}"
    assert not offline.js_errors, f"{view}: JavaScript errors: {offline.js_errors}"


def test_api_docs_page_works_offline(offline: OfflinePage) -> None:
    page = offline.page
    page.goto("/docs", wait_until="networkidle")
    assert not offline.blocked, f"/docs tried to reach other hosts: {offline.blocked}"
    page.locator(".swagger-ui .opblock").first.wait_for()  # Swagger UI rendered the API's operations
    assert not offline.js_errors, f"/docs: JavaScript errors: {offline.js_errors}"


@pytest.mark.parametrize("path", ["/graphql", "/docs"])
def test_vendor_pages_link_back_to_the_app(offline: OfflinePage, path: str) -> None:
    """GraphiQL and Swagger UI (issue 19) carry a bar back to the web UI and the other data tools, and it
    takes the user there; GraphiQL still fits the window below it."""
    page = offline.page
    page.goto(path, wait_until="networkidle")
    bar = page.get_by_role("navigation", name="DLOM")
    assert [a.get_attribute("href") for a in bar.get_by_role("link").all()] == ["/", "/#/sparql", "/graphql", "/docs"]
    if path == "/graphql":
        page.locator(".graphiql-query-editor .CodeMirror").wait_for()
        bottom = page.evaluate("document.getElementById('graphiql').getBoundingClientRect().bottom")
        assert bottom <= page.viewport_size["height"] + 0.5  # nothing of GraphiQL pushed below the window
    else:
        page.locator(".swagger-ui .opblock").first.wait_for()
    bar.get_by_role("link", name="← DLOM web app").click()
    page.locator("main .view:not([hidden])").first.wait_for()
    assert not offline.blocked and not offline.js_errors, (offline.blocked, offline.js_errors)
