"""Accessibility of the web UI (issue 19): an axe-core scan of every view of the app, at the desktop and
the phone viewport, with no violation of impact "critical" or "serious"; and the skip link, which must
move focus to the main region without changing the route.

axe-core comes from npm (conformance/package.json, installed by ``make setup``); the scan injects its
axe.min.js into the page. Skipped when axe-core is not installed, and — like the other browser tests —
without Chromium or the ``playwright`` package.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from decision.facet_index import facet_index
from kg.store import Store

pytest.importorskip("playwright.sync_api")

from test_build_new import wait_for_predictor  # noqa: E402
from test_ui_browser import (  # noqa: E402,F401  (browser: the shared Chromium fixture)
    SERVER_WORK_TIMEOUT_MS, VIEWPORTS, _api_post, browser, browser_page, pytestmark)

AXE = Path(__file__).resolve().parent.parent / "conformance" / "node_modules" / "axe-core" / "axe.min.js"
if not AXE.is_file():
    pytest.skip(f"axe-core is not installed ({AXE} is missing: make setup, or cd conformance && npm ci)",
                allow_module_level=True)

BLOCKING = ("critical", "serious")
"""The impacts that fail the scan; "moderate" and "minor" ones are reported by :func:`test_report_lesser_findings`."""

AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}
"""axe-core's default rules plus WCAG 2.2's target size (24 × 24 px, or spaced so), which axe-core leaves off
by default. The whole document is scanned, nothing excluded: every view here is the app's own. (The GraphiQL
IDE at /graphql and the Swagger UI at /docs are the vendors' pages, not views of this UI, and are not
scanned; the SPARQL view's embedded YASQE editor is scanned, and styled by the app to pass.)"""


@pytest.fixture(scope="module")
def base_url(shipped: Store) -> Iterator[str]:
    """A server with an update token (so the Build-new panel shows all its controls) whose prediction
    model is loaded before the first proposal is asked for."""
    facet_index(shipped)  # as `dlom serve` warms it up: the charts and recommendations read it (by query, tens of s)
    app = create_app(shipped, Settings(update_token="a11y-token", warm_predictor=True))
    with serve_in_background(app) as url:
        wait_for_predictor(app)
        yield url


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """axe-core's violations of the page as it is now (axe.min.js is injected once per document)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("options => axe.run(document, options).then(r => r.violations.map(v => ({"
                         "id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,"
                         "nodes: v.nodes.map(n => ({target: n.target, impact: n.impact, summary: n.failureSummary}))})))",
                         AXE_OPTIONS)


def describe(findings: dict[str, list[dict]]) -> str:
    """Each state's violations: id, impact, help and the nodes' targets."""
    lines = []
    for state, violations in findings.items():
        for v in violations:
            lines.append(f"[{state}] {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
            for node in v["nodes"][:8]:
                summary = " ".join((node.get("summary") or "").split())[:240]
                lines.append(f"    {json.dumps(node['target'])}  {summary}")
            if len(v["nodes"]) > 8:
                lines.append(f"    … and {len(v['nodes']) - 8} more node(s)")
    return "\n".join(lines)


# -- the views, each walked through the states a user sees ----------------------------------------------
# A walk drives the page and yields a name after each state worth scanning.

def _wizard(page) -> Iterator[str]:  # type: ignore[no-untyped-def]
    page.goto("/#/recommend")
    page.get_by_role("heading", name="Tell me more about your project").wait_for()
    page.wait_for_function("document.querySelector('#f-project-purpose')?.options.length > 3")
    yield "step 1, project"
    for number, name, heading in [(2, "Main DLN", "Tell me more about the deep-learning network"),
                                  (3, "Cloud server", "Do you need a cloud server?"),
                                  (4, "End devices", "What do your end devices offer?"),
                                  (5, "Performance", "What is the minimum accepted performance?")]:
        page.get_by_role("button", name=f"{number}. {name}").click()
        page.get_by_role("heading", name=heading).wait_for()
        yield f"step {number}, {name.lower()}"
    # an invalid answer: the error summary and the field's message
    page.fill("#f-performance-min_accuracy", "150")
    page.locator(".wizard-nav button.primary").click()
    page.locator("#err-performance-min_accuracy").filter(has_text="between 0 and 100").wait_for()
    yield "step 5 with an invalid answer"
    page.fill("#f-performance-min_accuracy", "")
    page.get_by_role("button", name="6. Preferences").click()
    page.get_by_role("heading", name="Preference elicitation").wait_for()
    page.locator("#weights .weights").wait_for()
    yield "step 6, preferences (no comparisons)"
    with page.expect_response(_api_post("/api/preferences", '"absolute"')):
        page.get_by_label("Performance has absolute importance over cost").check()
    page.locator("#pref-incomplete").wait_for()
    yield "step 6, preferences (incomplete)"
    page.get_by_text("fill in the paper's example (Fig. 8a)").click()
    page.get_by_label("Performance has absolute importance over cost").check()
    page.get_by_label("Cost has absolute importance over latency").check()
    page.get_by_label("Latency has absolute importance over performance").check()
    page.locator("#revisit").wait_for()
    yield "step 6, preferences (inconsistent)"


def _results(page) -> Iterator[str]:  # type: ignore[no-untyped-def]
    page.goto("/#/recommend")
    page.get_by_role("heading", name="Tell me more about your project").wait_for()
    with page.expect_response(_api_post("/api/recommend"), timeout=SERVER_WORK_TIMEOUT_MS):
        page.get_by_role("button", name="7. Results").click()
    first = page.locator("article.result").first
    first.wait_for()
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('pareto-chart'))")
    for details in page.locator("#results details").all():  # the explanations open, so their tables are scanned
        details.evaluate("el => { el.open = true; }")
    yield "results"
    first.get_by_role("button", name="Choose").click()
    page.locator("#chosen-1").wait_for()
    yield "results, a model chosen"
    with page.expect_response(_api_post("/api/proposals"), timeout=SERVER_WORK_TIMEOUT_MS):
        page.locator("#build-new-button").click()
    page.locator("#build-new-output [data-unavailable], #build-new-output article.result.predicted, "
                 "#build-new-output .notice.warn").first.wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    for details in page.locator("#build-new-output details").all():
        details.evaluate("el => { el.open = true; }")
    yield "build new, proposals"


def _explorer(page) -> Iterator[str]:  # type: ignore[no-untyped-def]
    page.goto("/#/explore")
    page.locator("#explore-q").wait_for()
    yield "explorer, empty"
    page.fill("#explore-q", "NUCLEO-H7A3ZI")
    page.get_by_role("button", name="Search", exact=True).click()
    page.locator("#explore-count").filter(has_text=" of ").wait_for()
    yield "explorer, search results with counts and paging"
    page.locator("#explore-results button").first.click()
    page.wait_for_function("document.getElementById('cy').cy && document.getElementById('cy').cy.nodes().length > 1")
    page.locator("#open-entity-page").wait_for()
    yield "explorer, a device and its neighbours"
    page.goto("/#/explore?iri=https://w3id.org/dlom/id/dln/resnet-50")
    # the cluster list of ResNet-50's panel, not of the device's panel shown before
    page.locator("#entity-panel h2", has_text="ResNet").wait_for()
    page.locator("#cluster-list button").first.click()
    page.locator("#cluster-range").wait_for()
    yield "explorer, a cluster's members"


def _sparql(page) -> Iterator[str]:  # type: ignore[no-untyped-def]
    page.goto("/#/sparql")
    page.locator(".CodeMirror").wait_for()
    yield "sparql, editor"
    page.select_option("#sparql-example", label="Devices with the fastest keyword spotting")
    page.locator("#sparql-run").click()
    page.locator("#sparql-results tbody tr").first.wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    yield "sparql, results"
    page.evaluate("q => document.querySelector('.CodeMirror').CodeMirror.setValue(q)",
                  "PREFIX dlom: <https://w3id.org/dlom#> SELECT ?d ?mhz WHERE { ?d dlom:clockFrequencyMHz ?mhz }")
    page.locator("#sparql-run").click()
    page.locator("#sparql-page-info").wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    yield "sparql, a paged table with labels and units"
    page.evaluate("q => document.querySelector('.CodeMirror').CodeMirror.setValue(q)",
                  "SELECT ?m WHERE { ?m a dlom:Model } LIMIT 3")
    page.locator("#sparql-run").click()
    page.locator("#sparql-error").wait_for()
    yield "sparql, an error"


def _charts(page) -> Iterator[str]:  # type: ignore[no-untyped-def]
    page.goto("/#/charts")
    page.wait_for_function("document.querySelector('#latency-accuracy-note')?.textContent.includes('models')",
                           timeout=SERVER_WORK_TIMEOUT_MS)
    page.locator("#pvm-empty").wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    yield "charts"


def _effects(page) -> Iterator[str]:  # type: ignore[no-untyped-def]
    page.goto("/#/effects?runtime=tflite&form_factor=IoT")
    page.locator("#effects-table tbody tr").first.wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('effects-chart'))")
    yield "effects"
    page.goto("/#/effects?runtime=tflight")
    page.locator("#effects-error").wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    yield "effects, an unknown runtime"


def _linked_data(page) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The server's HTML pages the views link to: an entity's Linked-Data page and the ontology."""
    page.goto("/api/entity?iri=" + quote("https://w3id.org/dlom#Model", safe=""))
    page.locator("h1").wait_for()
    yield "an entity's page"
    page.goto("/ontology")
    page.locator("h1").wait_for()
    yield "the ontology page"


VIEWS: dict[str, Callable[..., Iterator[str]]] = {
    "wizard": _wizard, "results": _results, "explorer": _explorer, "sparql": _sparql, "charts": _charts, "effects": _effects,
    "linked-data": _linked_data,
}
"""The router's views (api/static/js/app.js: recommend — the wizard's steps, then its results and Build
new —, explore, sparql, charts, effects), and the Linked-Data pages they link to."""

_lesser: dict[str, list[dict]] = {}
"""Moderate and minor findings of the scans, reported (not failed) by :func:`test_report_lesser_findings`."""
_scans: list[str] = []
"""The states scanned so far in this session."""


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("view", list(VIEWS))
def test_view_has_no_serious_accessibility_violations(browser, base_url: str, view: str, viewport: str) -> None:  # type: ignore[no-untyped-def]
    blocking: dict[str, list[dict]] = {}
    scanned = 0
    with browser_page(browser, base_url, VIEWPORTS[viewport]) as page:
        for state in VIEWS[view](page):
            violations = axe_violations(page)
            scanned += 1
            name = f"{viewport}: {view}: {state}"
            _scans.append(name)
            if found := [v for v in violations if v["impact"] in BLOCKING]:
                blocking[name] = found
            if lesser := [v for v in violations if v["impact"] not in BLOCKING]:
                _lesser[name] = lesser
    assert scanned > 0
    assert not blocking, "axe-core found critical/serious violations:\n" + describe(blocking)


def test_report_lesser_findings() -> None:
    """Not a gate: prints the moderate/minor findings of the scans above (run with -s to see them)."""
    print(f"\n{len(_scans)} axe-core scan(s) in this session; "
          + (f"moderate/minor findings:\n{describe(_lesser)}" if _lesser else "no moderate or minor findings"))


@pytest.mark.parametrize("route", ["#/explore", "#/sparql", "#/effects", "#/recommend"])
def test_skip_link_focuses_main_and_keeps_the_route(browser, base_url: str, route: str) -> None:  # type: ignore[no-untyped-def]
    with browser_page(browser, base_url, VIEWPORTS["desktop"]) as page:
        page.goto("/" + route)
        view = route.removeprefix("#/")
        page.locator(f"#view-{view}").wait_for()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.classList.contains('skip-link')"), "the skip link is the first stop"
        assert page.locator(".skip-link").is_visible(), "the focused skip link is shown"
        page.keyboard.press("Enter")
        page.wait_for_function("document.activeElement && document.getElementById('main').contains(document.activeElement)")
        assert page.evaluate("location.hash") == route
        assert page.locator(f"#view-{view}").is_visible()
        assert page.evaluate("document.getElementById('view-recommend').hidden") is (view != "recommend")
        # the next Tab goes on from the main region, not back to the header
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
