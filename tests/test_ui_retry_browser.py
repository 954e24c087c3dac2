"""The UI's requests under the per-client concurrency limit (api.admission): a request refused with 429
and a short Retry-After is asked again by the UI's one request function (``api()`` in dom.js), so a
page that sends several at once gets every answer; one refused with a long Retry-After (the time
budget) is shown, not retried.

A real server with a concurrency limit of 1 and a real Chromium; the requests are SPARQL queries slow
enough (a join over generated triples) that they overlap.
"""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from kg.ontology import ontology_quads
from kg.store import open_store

pytest.importorskip("playwright.sync_api")

from test_ui_browser import browser, browser_page, pytestmark  # noqa: E402,F401  (browser: the shared Chromium fixture)

G = NamedNode("urn:dlom-test:retry")
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a <urn:dlom-test:p> ?o . ?b <urn:dlom-test:p> ?o }"


def _server(settings: Settings) -> Iterator[str]:
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    # 3,000 subjects in 10 groups: the query's join has 900k rows (tens of ms or more)
    store.add([Quad(NamedNode(f"urn:dlom-test:s{i}"), NamedNode("urn:dlom-test:p"), Literal(str(i % 10)), G)
               for i in range(3000)])
    with serve_in_background(create_app(store, settings)) as url:
        yield url
    store.close()


@pytest.fixture(scope="module")
def one_at_a_time() -> Iterator[str]:
    yield from _server(Settings(client_max_concurrent=1))


@pytest.fixture(scope="module")
def tiny_budget() -> Iterator[str]:
    yield from _server(Settings(client_budget_s=0.001))


def _send_at_once(page, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    """The statuses ``api()`` resolves to for ``n`` copies of the slow query sent at once (each its own
    URL: Chromium sends equal GETs one after the other)."""
    return page.evaluate("""async (paths) => {
        const { api } = await import("/ui/js/dom.js");
        return (await Promise.all(paths.map((path) => api(path)))).map((r) => r.status);
    }""", [f"/sparql?query={quote(f'{SLOW_QUERY} # copy {i}')}" for i in range(n)])


def test_requests_refused_by_the_concurrency_limit_are_asked_again(browser, one_at_a_time: str) -> None:  # type: ignore[no-untyped-def]
    with browser_page(browser, one_at_a_time) as page:
        page.goto("/ui/favicon.svg")  # a page of the server's origin, for the module import
        refused: list[str] = []
        page.on("response", lambda r: refused.append(r.headers.get("retry-after", "")) if r.status == 429 else None)
        assert _send_at_once(page, 4) == [200] * 4
        assert refused and set(refused) == {"1"}  # they did overlap, and were asked again after 1 s


def test_a_request_over_the_time_budget_is_shown_not_retried(browser, tiny_budget: str) -> None:  # type: ignore[no-untyped-def]
    with browser_page(browser, tiny_budget) as page:
        page.goto("/ui/favicon.svg")
        answers: list[int] = []
        page.on("response", lambda r: answers.append(r.status) if "/sparql" in r.url else None)
        first = _send_at_once(page, 1)  # spends the budget
        assert first == [200]
        assert _send_at_once(page, 1) == [429]
        assert answers == [200, 429]  # the refusal was sent once, not asked again
