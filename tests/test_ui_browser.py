"""The web UI in a real browser: Debian's Chromium, headless, driven by Playwright, against a real
uvicorn server over an in-memory store holding the shipped MLPerf Tiny graph.

Covers the whole wizard → explained results → build new, an invalid answer's message (client-side and
from the API's field-level errors), inconsistent preferences flagged for revisiting, the graph
explorer expanding a node on click, a SPARQL query from the editor, and the charts. Screenshots go to
tests/ui_artifacts/. Skipped when Chromium (apt-get install -y chromium) or the ``playwright`` package
is missing.
"""
from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from api import ui
from api.app import create_app
from api.server import serve_in_background
from decision.facet_index import facet_index
from kg.store import Store

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "ui_artifacts"
TIMEOUT_MS = 20_000
SERVER_WORK_TIMEOUT_MS = 90_000
"""For waits on a response the server computes (recommendations, the prediction model's proposals): under
CPU load that work, not the page, is what is slow, so it gets more time than a UI action."""

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists(),
                                reason="Chromium is not installed (apt-get install -y chromium)")


def _app_with_ui(store):  # type: ignore[no-untyped-def]
    """The product's app, plus the UI and decision routers if the app does not include them yet."""
    app = create_app(store)
    paths = {getattr(r, "path", None) for r in app.routes}
    if "/api/recommend" not in paths:
        from api import decision_routes
        app.include_router(decision_routes.router)
    if "/api/search" not in paths:
        app.include_router(ui.router)
    return app


@pytest.fixture(scope="module")
def base_url(shipped: Store) -> Iterator[str]:
    facet_index(shipped)  # as `dlom serve` warms it up: the charts and recommendations read it (by query, tens of s)
    with serve_in_background(_app_with_ui(shipped)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
"""The two viewports every point of the UI is checked at (issue 19): a desktop and a phone."""


@contextmanager
def browser_page(browser, base_url: str, viewport: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    """A fresh page on ``base_url``; fails the test on any uncaught JavaScript error."""
    context = browser.new_context(viewport=viewport or {"width": 1360, "height": 1000}, base_url=base_url)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    js_errors: list[str] = []
    pg.on("pageerror", lambda exc: js_errors.append(str(exc)))
    yield pg
    context.close()
    assert not js_errors, f"JavaScript errors: {js_errors}"


@pytest.fixture
def page(browser, base_url: str):  # type: ignore[no-untyped-def]
    with browser_page(browser, base_url) as pg:
        yield pg


@contextmanager
def sized(browser, base_url: str, viewport: str):  # type: ignore[no-untyped-def]
    """:func:`browser_page` at the viewport named ``viewport`` in :data:`VIEWPORTS`; ``page.viewport_name`` says which."""
    with browser_page(browser, base_url, VIEWPORTS[viewport]) as pg:
        pg.viewport_name = viewport
        yield pg


@pytest.fixture(params=sorted(VIEWPORTS))
def sized_page(request, browser, base_url: str):  # type: ignore[no-untyped-def]
    """A page at each of :data:`VIEWPORTS` (the test runs once per viewport)."""
    with sized(browser, base_url, request.param) as pg:
        yield pg


def no_horizontal_overflow(page) -> None:  # type: ignore[no-untyped-def]
    """The page is no wider than the viewport (nothing sticks out sideways)."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(el => el.offsetParent !== null
            && el.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8)
            .map(el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} (${Math.round(el.getBoundingClientRect().right)} px)`)""")
        raise AssertionError(f"page is {widths[0]} px wide in a {widths[1]} px viewport: {', '.join(wide)}")


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def next_step(page) -> None:  # type: ignore[no-untyped-def]
    page.locator(".wizard-nav button.primary").click()


def _answer_of(page, url: str, body: dict) -> dict:  # type: ignore[no-untyped-def]
    """The JSON answer of a POST the test sends itself, waiting as the server asks while it is busy (429 or
    503 with Retry-After: the admission control refusing, not failing, on a loaded machine)."""
    for _ in range(10):
        response = page.request.post(url, data=body, timeout=SERVER_WORK_TIMEOUT_MS)
        if response.status not in (429, 503):
            break
        page.wait_for_timeout(1000 * float(response.headers.get("retry-after", "1")))
    assert response.status == 200, response.text()
    return response.json()


def _api_post(path: str, body_has: str | None = None):  # type: ignore[no-untyped-def]
    """A predicate for ``page.expect_response``: the answer to a POST to ``path`` (whose JSON body
    contains ``body_has``, when given). A 429 of the per-client concurrency limit is not the answer:
    the UI asks again after its Retry-After (``api()`` in dom.js)."""
    def matches(response) -> bool:  # type: ignore[no-untyped-def]
        request = response.request
        return (request.method == "POST" and path in response.url and not _asked_again(response)
                and (body_has is None or body_has in (request.post_data or "")))
    return matches


def _asked_again(response) -> bool:  # type: ignore[no-untyped-def]
    """Whether the UI asks again after this answer: a 429 whose Retry-After is at most 2 s."""
    wait = response.headers.get("retry-after")
    return response.status == 429 and wait is not None and wait.isdigit() and int(wait) <= 2


def _shown_consistency_ratio(page, response) -> str:  # type: ignore[no-untyped-def]
    """Wait until the preferences step shows the consistency ratio of ``response`` (an answer of
    POST /api/preferences) and return it as shown. Waiting for this very answer, not just any
    #cr-value, matters: the step's first (empty) answer also shows one."""
    assert response.status == 200, response.text()
    expected = f"{response.json()['consistency']['consistency_ratio']:.3f}"
    page.wait_for_function("expected => { const el = document.querySelector('#cr-value'); "
                           "return el !== null && el.textContent === expected; }", arg=expected)
    return expected


def test_wizard_results_and_build_new(sized_page) -> None:  # type: ignore[no-untyped-def]
    """The paper's §6 example walked end to end on the shipped graph, at 1440×900 and at 390×844."""
    page = sized_page
    page.goto("/")
    page.get_by_role("heading", name="Tell me more about your project").wait_for()
    # the purpose options come from the graph
    page.wait_for_function("document.querySelector('#f-project-purpose')?.options.length > 3")
    page.select_option("#f-project-purpose", "keyword spotting")
    page.fill("#f-project-total_budget_usd", "14000")
    page.fill("#f-project-number_of_devices", "10")
    # unknowns not kept: the purpose filters; the budget, which no model can be checked against, does not empty the result
    page.locator("#allow-unknown").uncheck()
    page.press("#f-project-number_of_devices", "Tab")
    # at the step where it is entered: no MLPerf Tiny model records a price, so the budget cannot be applied
    budget_note = page.locator("[data-field='project.total_budget_usd'] .field-note")
    budget_note.wait_for(state="visible", timeout=SERVER_WORK_TIMEOUT_MS)
    assert "cannot check" in budget_note.inner_text() and "add prices via" in budget_note.inner_text()
    shot(page, f"wizard-1-project-{page.viewport_name}")
    next_step(page)
    page.get_by_role("heading", name="Tell me more about the deep-learning network").wait_for()
    next_step(page)
    next_step(page)
    page.fill("#f-device-min_clock_mhz", "50")
    next_step(page)
    page.fill("#f-performance-min_accuracy", "85")
    page.get_by_label("Accuracy, at least: rank only, don't exclude").check()
    next_step(page)

    # preferences: answering updates the weights and the consistency ratio
    page.get_by_role("heading", name="Preference elicitation").wait_for()
    # (the example's seven comparisons include a "security" one; the first, empty request has none)
    with page.expect_response(_api_post("/api/preferences", '"security"')) as example_answer:
        page.get_by_text("fill in the paper's example (Fig. 8a)").click()
    cr_shown = _shown_consistency_ratio(page, example_answer.value)
    page.wait_for_function("document.querySelector('#pairwise input:checked') && document.querySelector('#cr-value')")
    page.wait_for_selector("#weights .weights")
    cr = float(page.locator("#cr-value").inner_text())
    assert 0 <= cr < 1
    with page.expect_response(_api_post("/api/preferences", '"absolute"')) as latency_answer:
        page.get_by_label("Latency has absolute importance over performance").check()
    assert _shown_consistency_ratio(page, latency_answer.value) != cr_shown
    page.wait_for_function(f"document.querySelector('#cr-value') && document.querySelector('#cr-value').textContent !== '{cr:.3f}'")
    shot(page, f"wizard-6-preferences-{page.viewport_name}")

    # back and forth keeps the answers
    page.get_by_role("button", name="1. Your project").click()
    assert page.input_value("#f-project-number_of_devices") == "10"
    assert page.input_value("#f-project-purpose") == "keyword spotting"
    page.get_by_role("button", name="6. Preferences").click()
    assert page.get_by_label("Latency has absolute importance over performance").is_checked()

    with page.expect_response(_api_post("/api/recommend"), timeout=SERVER_WORK_TIMEOUT_MS) as recommended:
        page.get_by_role("button", name="Get my recommendations").click()
    assert recommended.value.status == 200, recommended.value.text()
    status = page.locator("#results-status")
    status.wait_for()
    assert re.search(r"\d+ model\(s\) match", status.inner_text()), status.inner_text()
    # ... and in the result, with the reason
    assert "project.total_budget_usd" in page.locator("#requirements-not-applied").inner_text()
    first = page.locator("article.result").first
    first.wait_for()
    assert "keyword spotting" in first.locator("dd[data-field='purpose']").inner_text()
    first.locator("dd[data-field='accuracy'] .badge.measured").wait_for()
    assert "%" in first.locator("dd[data-field='accuracy']").inner_text()
    # MLPerf Tiny records no costs: shown as unknown, never invented
    assert first.locator("dd[data-field='total_cost_usd']").inner_text().strip() == "unknown"
    assert page.locator("article.result").count() == 5
    # the explanation: Eq. 1 contributions, requirement checks, evidence
    explanation = first.locator("details.explanation")
    assert "Σ weight × value" in explanation.inner_text()
    assert explanation.locator("td.status-met").count() >= 1
    # evidence names where the measurement came from: an MLPerf Tiny submission or a DLOM bench run
    assert re.search(r"MLPerf Tiny|DLOM bench run", explanation.inner_text()), explanation.inner_text()
    page.locator("#pareto-chart").wait_for()
    page.wait_for_function("window.Chart && Object.keys(window.Chart.instances).length > 0")
    shot(page, f"wizard-7-results-{page.viewport_name}")
    no_horizontal_overflow(page)

    # Choose records the choice (ratings need the server's update token: this server has none)
    first.get_by_role("button", name="Choose").click()
    page.locator("#chosen-1").wait_for()
    page.get_by_label("Your rating of performance, 1 worst to 5 best").first.select_option("5")
    with page.expect_response(_api_post("/api/ratings")):
        page.locator("#chosen-1").get_by_role("button", name="Record my ratings").click()
    refusal = page.locator("#chosen-1 .notice.bad")
    refusal.wait_for()
    assert "update token" in refusal.inner_text()

    # Build new: proposals from the prediction model, or the API's honest 'not available'
    with page.expect_response(_api_post("/api/proposals"), timeout=SERVER_WORK_TIMEOUT_MS):
        page.locator("#build-new-button").click()
    answer = page.locator("#build-new-output [data-unavailable], #build-new-output article.result.predicted, #build-new-output .notice.warn").first
    answer.wait_for()
    text = page.locator("#build-new-output").inner_text()
    assert "not available" in text or "predicted" in text, text
    shot(page, f"wizard-8-build-new-{page.viewport_name}")


def test_wizard_states_the_accuracy_a_quantization_may_cost(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    """README's IoT question in the wizard: an image classifier on an IoT board under 5 ms with at most 1
    point of top-1 lost to quantization — the same models match as the API answers for those requirements,
    and each result shows the check of the points lost."""
    page.goto("/")
    page.wait_for_function("document.querySelector('#f-project-purpose')?.options.length > 3")
    page.select_option("#f-project-purpose", "image classification")
    page.locator("#allow-unknown").uncheck()  # a model not recording what is asked is not kept
    for _ in range(3):
        next_step(page)
    page.wait_for_function("document.querySelector('#f-device-form_factor')?.options.length > 2")
    page.select_option("#f-device-form_factor", "IoT")
    next_step(page)
    page.fill("#f-performance-max_latency_ms", "5")
    page.fill("#f-performance-max_accuracy_loss_points", "1")
    assert "points" in page.locator("[data-field='performance.max_accuracy_loss_points']").inner_text()
    next_step(page)
    with page.expect_response(_api_post("/api/recommend", "max_accuracy_loss_points"),
                              timeout=SERVER_WORK_TIMEOUT_MS) as recommended:
        page.get_by_role("button", name="Get my recommendations").click()
    assert recommended.value.status == 200, recommended.value.text()
    sent = json.loads(recommended.value.request.post_data)
    assert sent["performance"]["max_latency_ms"] == 5 and sent["performance"]["max_accuracy_loss_points"] == 1
    without = dict(sent, performance={k: v for k, v in sent["performance"].items() if k != "max_accuracy_loss_points"})
    fewer = _answer_of(page, base_url + "/api/recommend", without)["candidates_considered"]
    status = page.locator("#results-status")
    status.wait_for()
    found = recommended.value.json()["candidates_considered"]
    assert f"{found} model(s) match" in status.inner_text() and 0 < found < fewer
    first = page.locator("article.result").first
    first.wait_for()
    row = first.locator("details.explanation tr", has_text="max_accuracy_loss_points")
    assert row.locator("td.status-met").count() == 1, first.inner_text()


def test_invalid_answers_show_their_messages(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/#/recommend")
    page.get_by_role("heading", name="Tell me more about your project").wait_for()
    # client-side: an obvious mistake stops the step, next to its field
    page.fill("#f-project-total_budget_usd", "-5")
    next_step(page)
    assert "at least 0" in page.locator("#err-project-total_budget_usd").inner_text()
    assert page.get_attribute("#f-project-total_budget_usd", "aria-invalid") == "true"
    assert "Total budget" in page.locator("#wizard-errors").inner_text()
    page.fill("#f-project-total_budget_usd", "")
    # server-side: the decision library's field-level error lands on its field
    page.fill("#f-project-number_of_devices", "2.5")
    page.get_by_role("button", name="7. Results").click()
    error = page.locator("#err-project-number_of_devices")
    page.wait_for_function("document.querySelector('#err-project-number_of_devices')?.textContent.length > 0")
    assert "integer" in error.inner_text().lower()
    assert page.locator("#step-project").is_visible()
    shot(page, "wizard-invalid-answer")
    page.fill("#f-project-number_of_devices", "")
    page.get_by_role("button", name="5. Performance").click()
    page.fill("#f-performance-min_accuracy", "150")
    next_step(page)
    assert "between 0 and 100" in page.locator("#err-performance-min_accuracy").inner_text()


def test_inconsistent_preferences_name_comparisons_to_revisit(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.get_by_role("button", name="6. Preferences").click()
    # comparisons that leave objectives unconnected do not give weights yet: the step says which are needed
    page.get_by_label("Performance has absolute importance over cost").check()
    page.locator("#pref-incomplete").wait_for()
    assert "needed" in page.locator("#pref-incomplete").inner_text()
    page.get_by_text("fill in the paper's example (Fig. 8a)").click()
    page.get_by_label("Performance has absolute importance over cost").check()
    page.get_by_label("Cost has absolute importance over latency").check()
    page.get_by_label("Latency has absolute importance over performance").check()
    page.locator("#revisit").wait_for()
    assert page.locator("#pairwise tr.revisit").count() >= 1
    assert float(page.locator("#cr-value").inner_text()) > 0.1
    assert "imply" in page.locator("#revisit").inner_text()
    shot(page, "preferences-inconsistent")


def test_explorer_search_and_expand_on_click(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/#/explore")
    page.fill("#explore-q", "NUCLEO-H7A3ZI")
    page.select_option("#explore-class", value="https://w3id.org/dlom#EndDevice")
    page.get_by_role("button", name="Search", exact=True).click()
    page.locator("#explore-results button").first.click()
    page.wait_for_function("document.getElementById('cy').cy && document.getElementById('cy').cy.nodes().length > 1")
    before = page.evaluate("document.getElementById('cy').cy.nodes().length")
    # click a model node (not yet expanded) on the canvas: its neighbours are added
    target = page.evaluate("""() => {
        const cy = document.getElementById('cy').cy;
        const n = cy.nodes().filter(n => !n.hasClass('expanded') && n.data('main') === 'dlom:Model')[0];
        const p = n.renderedPosition();
        return {id: n.id(), x: p.x, y: p.y};
    }""")
    box = page.locator("#cy").bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_function(f"document.getElementById('cy').cy.nodes().length > {before}")
    assert page.evaluate(f"document.getElementById('cy').cy.getElementById({target['id']!r}).hasClass('expanded')")
    assert "Measured performance" in page.locator("#class-filter").inner_text() or "dlom:MeasuredPerformance" in page.locator("#class-filter").inner_text()
    shot(page, "explorer")
    # filter by class hides those nodes
    page.locator("#class-filter label", has_text="dlom:Model").locator("input").uncheck()
    assert page.evaluate("document.getElementById('cy').cy.nodes('.filtered').length") > 0
    href = page.get_attribute("#open-entity-page", "href")
    assert href and href.startswith("/api/entity?iri=")
    shot(page, "explorer-filtered")
    response = page.request.get(base_url + href, headers={"Accept": "text/html"})
    assert response.status == 200


def test_sparql_editor_runs_a_query(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/#/sparql")
    page.locator(".CodeMirror").wait_for()  # the highlighting editor loaded
    page.select_option("#sparql-example", label="Devices with the fastest keyword spotting")
    page.locator("#sparql-run").click()
    rows = page.locator("#sparql-results tbody tr")
    rows.first.wait_for()
    assert rows.count() == 20
    assert "?latency_ms" in page.locator("#sparql-results thead").inner_text()
    assert page.locator(".CodeMirror .cm-keyword").count() > 0  # syntax highlighting
    shot(page, "sparql")
    # a syntax error is reported, not a blank page
    page.evaluate("document.querySelector('.CodeMirror').CodeMirror.setValue('SELECT * WHERE { ?s ?p }')")
    page.locator("#sparql-run").click()
    page.locator("#sparql-error").wait_for()
    assert "400" in page.locator("#sparql-error").inner_text()


def test_charts_show_graph_data_and_honest_empty_state(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/#/charts")
    note = page.locator("#latency-accuracy-note")
    # The charts view renders after its data arrives: until then the note is not in the page at all.
    page.wait_for_function("document.querySelector('#latency-accuracy-note')?.textContent.includes('models')",
                           timeout=SERVER_WORK_TIMEOUT_MS)
    assert re.search(r"\d+ of \d+ models", note.inner_text())
    page.locator("#pvm-empty").wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    assert "no predictions" in page.locator("#pvm-empty").inner_text()
    shot(page, "charts")


def test_preferences_guide_and_never_block(sized_page) -> None:  # type: ignore[no-untyped-def]
    """The guided five connect all objectives; every intermediate answer is a 200, a half-finished table
    keeps the last valid weights and names the comparisons still needed (issue 19, point 1)."""
    from decision.elicitation import GUIDED_COMPARISONS

    page = sized_page
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/api/preferences" in r.url else None)
    page.goto("/")
    page.get_by_role("button", name="6. Preferences").click()
    guided = page.evaluate("[...document.querySelectorAll('#pairwise tr.guided')].map(r => r.dataset.pair)")
    assert guided == ["|".join(sorted((a.value, b.value))) for a, b in GUIDED_COMPARISONS]
    assert page.locator("#pairs-optional").is_visible()
    # one answer: incomplete, equal weights stay on screen, the needed pairs are named and marked
    with page.expect_response(_api_post("/api/preferences", '"absolute"')) as first:
        page.get_by_label("Performance has absolute importance over cost").check()
    assert first.value.status == 200 and first.value.json()["status"] == "incomplete"
    page.locator("#pref-incomplete").wait_for()
    needed = first.value.json()["needed_comparisons"]
    assert f"{len(needed)} more comparison(s) needed" in page.locator("#pref-incomplete").inner_text()
    assert page.locator("#pairwise tr.needed").count() == len(needed)
    assert "16.7 %" in page.locator("#weights").inner_text()
    # the five guided comparisons: complete, weights and CR shown
    labels = [f"{a.value.capitalize()} has weak importance over {b.value}" for a, b in GUIDED_COMPARISONS]
    for label in labels:
        page.get_by_label(label).check()
    page.locator("#cr-value").wait_for()
    page.wait_for_function("!document.querySelector('#pref-incomplete')")
    shown = page.locator("#weights").inner_text()
    assert "16.7 %" not in shown
    # clearing one makes it incomplete again; the last valid weights stay
    a, b = GUIDED_COMPARISONS[-1]
    with page.expect_response(_api_post("/api/preferences")) as again:
        page.get_by_role("button", name=f"Clear {a.value} versus {b.value}").click()
    assert again.value.json()["status"] == "incomplete"
    page.locator("#pref-incomplete").wait_for()
    assert page.locator("#weights").inner_text() == shown
    assert "last complete set of 5" in page.locator("#pref-incomplete").inner_text()
    if page.viewport_name == "phone":
        no_horizontal_overflow(page)
    shot(page, f"preferences-guided-{page.viewport_name}")
    # the results are not blocked: they use the last complete set and say so
    with page.expect_response(_api_post("/api/recommend"), timeout=SERVER_WORK_TIMEOUT_MS) as recommended:
        page.get_by_role("button", name="Get my recommendations").click()
    assert recommended.value.status == 200, recommended.value.text()
    assert len(recommended.value.request.post_data_json["preferences"]["comparisons"]) == 5
    page.locator("#results-preferences-incomplete").wait_for()
    assert statuses and all(s == 200 for s in statuses), statuses


# -- Effects page, palette, Pareto in real units, SPARQL truncation/downloads/prefixes (issues 15, 19) --

_CVD_MATRICES = {  # Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
    "normal vision": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
MIN_DELTA_E = 10.0
"""Two series colours must differ by at least this CIE76 ΔE as seen with each colour-vision deficiency
(about 2.3 is just noticeable; 10 is clearly different at a glance)."""


def _seen_as_lab(hex_colour: str, matrix: tuple[tuple[float, ...], ...]) -> tuple[float, float, float]:
    """CIELAB (D65) of ``hex_colour`` as simulated through ``matrix``."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    rgb = [linear(int(hex_colour[i:i + 2], 16) / 255) for i in (1, 3, 5)]
    r, g, b = (min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb)))) for row in matrix)
    x, y, z = 0.4124 * r + 0.3576 * g + 0.1805 * b, 0.2126 * r + 0.7152 * g + 0.0722 * b, 0.0193 * r + 0.1192 * g + 0.9505 * b

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
    fx, fy, fz = f(x / 0.95047), f(y), f(z / 1.08883)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def test_effects_page_shows_what_the_endpoint_answers(sized_page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page = sized_page
    page.goto("/#/effects?runtime=tflite&form_factor=IoT")
    page.get_by_role("heading", name="Measured effects of quantization").wait_for()
    assert page.locator("nav a[data-view='effects']").get_attribute("aria-current") == "page"
    page.locator("#effects-table tbody tr").first.wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    answer = page.request.get(base_url + "/api/effects?runtime=tflite&form_factor=IoT").json()["effects"]
    assert answer, "the shipped graph holds paired tflite measurements on IoT devices"

    def shown() -> dict[tuple[str, str], int]:
        return {(r["precision"], r["figure"]): int(r["n"]) for r in page.evaluate(
            "[...document.querySelectorAll('#effects-table tbody tr')].map(r => "
            "({precision: r.dataset.precision, figure: r.dataset.figure, n: r.querySelector('td.n').textContent}))")}
    expected = {(e["precision"], f): e[f]["n"] for e in answer for f in ("latency_ratio", "memory_ratio", "accuracy_change")}
    assert shown() == expected
    w8a8 = next(e for e in answer if e["precision"] == "w8a8")
    cells = page.locator("#effects-table tr[data-precision='w8a8'][data-figure='latency_ratio'] td")  # figure, n, median, ...
    assert float(cells.nth(2).inner_text().rstrip("×")) == pytest.approx(w8a8["latency_ratio"]["median"], rel=5e-3)
    # the chart draws the endpoint's quartiles, one box per precision with latency pairs
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('effects-chart'))")
    boxes = page.evaluate("Chart.getChart(document.getElementById('effects-chart')).data.datasets[1].data")
    assert boxes == [[e["latency_ratio"]["q1"], e["latency_ratio"]["q3"]] for e in answer if e["latency_ratio"]["n"]]
    if page.viewport_name == "phone":
        no_horizontal_overflow(page)
    shot(page, f"effects-{page.viewport_name}")

    # a filter changed in the page asks the endpoint again: Any form factor widens the pairs
    with page.expect_response(lambda r: "/api/effects?" in r.url and "form_factor" not in r.url) as wider:
        page.select_option("#effects-form_factor", "")
    page.wait_for_function("n => document.querySelector('#effects-table td.n')?.textContent === String(n)",
                           arg=wider.value.json()["effects"][0]["latency_ratio"]["n"])
    assert "form_factor" not in page.evaluate("location.hash")
    all_tflite = {(e["precision"], "latency_ratio"): e["latency_ratio"]["n"] for e in wider.value.json()["effects"]}
    assert all(shown()[k] == n for k, n in all_tflite.items())
    assert sum(all_tflite.values()) > sum(n for (p, f), n in expected.items() if f == "latency_ratio")

    if page.viewport_name == "desktop":
        # honest empty state: a precision measured without any float counterpart
        offered = page.request.get(base_url + "/api/effects/filters").json()["precision"]
        paired = {e["precision"] for e in page.request.get(base_url + "/api/effects").json()["effects"]}
        unpaired = sorted(set(offered) - paired)
        if unpaired:
            page.goto(f"/#/effects?precision={unpaired[0]}")
            page.locator("#effects-empty").wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
            assert "No paired measurements" in page.locator("#effects-empty").inner_text()
            assert page.locator("#effects-chart").count() == 0
        # a value the graph does not know: the endpoint's 422 message, naming the known runtimes
        page.goto("/#/effects?runtime=tflight")
        page.locator("#effects-error").wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
        assert "422" in page.locator("#effects-error").inner_text() and "tflite" in page.locator("#effects-error").inner_text()


def test_chart_palette_is_distinct_and_colour_blind_safe(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/#/charts")
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('latency-accuracy-chart'))",
                           timeout=SERVER_WORK_TIMEOUT_MS)
    palette = page.evaluate("import('/ui/js/palette.js').then(m => m.PALETTE)")
    for name, matrix in _CVD_MATRICES.items():
        for i, a in enumerate(palette):
            for b in palette[i + 1:]:
                la, lb = _seen_as_lab(a, matrix), _seen_as_lab(b, matrix)
                delta = sum((x - y) ** 2 for x, y in zip(la, lb)) ** 0.5
                assert delta >= MIN_DELTA_E, f"{a} and {b} look alike with {name} (ΔE {delta:.1f})"
    legible, grey = page.evaluate("import('/ui/js/palette.js').then(m => [m.LEGIBLE_SERIES, m.OTHER_GREY])")
    datasets = page.evaluate("Chart.getChart(document.getElementById('latency-accuracy-chart')).data.datasets"
                             ".map(d => [d.label, d.backgroundColor, d.pointStyle, d.data.length, !!d.other])")
    families = page.request.get(page.url.split("#")[0] + "api/charts/latency-accuracy").json()["points"]
    assert len({p["family"] for p in families}) > len(palette), "more device families than colours"
    styles = [(colour, shape) for _, colour, shape, _, other in datasets if not other]
    assert len(styles) > len(palette), "shapes tell the families beyond the colours apart"
    assert len(set(styles)) == len(styles), datasets
    assert {colour for colour, _ in styles} <= set(palette)
    # past what a legend keeps apart, the smallest families share one grey series; no point is lost
    assert len(datasets) <= legible
    assert sum(n for *_, n, _ in datasets) == len([p for p in families])
    others = [d for d in datasets if d[4]]
    assert all(d[1] == grey and grey not in palette for d in others)
    shot(page, "charts-palette")


def test_pareto_chart_plots_measured_units(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.get_by_role("heading", name="Tell me more about your project").wait_for()
    with page.expect_response(_api_post("/api/recommend"), timeout=SERVER_WORK_TIMEOUT_MS) as recommended:
        page.get_by_role("button", name="7. Results").click()
    body = recommended.value.json()
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('pareto-chart'))", timeout=SERVER_WORK_TIMEOUT_MS)
    chart = "Chart.getChart(document.getElementById('pareto-chart'))"
    titles = page.evaluate(f"[{chart}.options.scales.x.title.text, {chart}.options.scales.y.title.text]")
    assert "ms" in titles[0] and "%" in titles[1], titles
    front = page.evaluate(f"{chart}.data.datasets[0].data.flatMap(p => [p.x, p.y])")
    expected = [v for p in body["pareto_front"] if "inference_latency_ms" in p["measures"] and "accuracy" in p["measures"]
                for v in (p["measures"]["inference_latency_ms"], p["measures"]["accuracy"] * 100)]
    assert front and front == pytest.approx(expected)  # the measures in their units, not the 1-5 values
    assert front != pytest.approx([v for p in body["pareto_front"] for v in (p["values"]["latency"], p["values"]["performance"])])
    page.select_option("#pareto-x", "energy_per_inference_uj")
    page.wait_for_function(f"{chart} && {chart}.options.scales.x.title.text.includes('µJ')")
    assert re.search(r"\d+ of \d+ point\(s\) plotted", page.locator("#pareto-note").inner_text())
    shot(page, "pareto-real-units")


def test_sparql_truncation_downloads_and_missing_prefix(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/#/sparql")
    page.locator(".CodeMirror").wait_for()
    set_query = "q => document.querySelector('.CodeMirror').CodeMirror.setValue(q)"
    page.evaluate(set_query, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    with page.expect_response(lambda r: r.url.endswith("/sparql") and r.request.method == "POST",
                              timeout=SERVER_WORK_TIMEOUT_MS) as answer:
        page.locator("#sparql-run").click()
    assert answer.value.headers.get("dlom-results-truncated") == "true"
    limit = int(answer.value.headers["dlom-max-rows"])
    warning = page.locator("#sparql-truncated")
    warning.wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    assert f"{limit:,}" in warning.inner_text()
    assert page.locator("#sparql-results tbody tr").count() == 100  # one page of the table (client-side paging)
    assert f"of {limit:,}" in page.locator("#sparql-page-info").inner_text()
    assert f"cut at the server's limit of {limit:,}" in page.locator("#sparql-info").inner_text()
    shot(page, "sparql-truncated")
    # downloads re-ask the endpoint with the format's Accept header
    with page.expect_request(lambda r: r.url.endswith("/sparql") and r.headers.get("accept") == "text/csv") as asked, \
            page.expect_download() as csv_download:
        page.locator("#sparql-download-csv").click()
    assert asked.value.post_data and "query=" in asked.value.post_data
    lines = Path(csv_download.value.path()).read_text(encoding="utf-8").splitlines()
    assert csv_download.value.suggested_filename == "dlom-query.csv"
    assert lines[0] == "s,p,o" and len(lines) == limit + 1
    with page.expect_download() as json_download:
        page.locator("#sparql-download-json").click()
    document = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    assert document["head"]["vars"] == ["s", "p", "o"] and len(document["results"]["bindings"]) == limit
    # a missing prefix: named, with DLOM's PREFIX line one click away
    page.evaluate(set_query, "SELECT ?m WHERE { ?m a dlom:Model } LIMIT 3")
    page.locator("#sparql-run").click()
    error = page.locator("#sparql-error")
    error.wait_for()
    assert "undeclared prefix dlom:" in error.inner_text() and "PREFIX dlom: <https://w3id.org/dlom#>" in error.inner_text()
    shot(page, "sparql-missing-prefix")
    page.get_by_role("button", name="Add the PREFIX line and run").click()
    page.locator("#sparql-results tbody tr").first.wait_for()
    assert page.locator("#sparql-results tbody tr").count() == 3
    assert page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()").startswith("PREFIX dlom: <https://w3id.org/dlom#>\n")
    assert page.locator("#sparql-truncated").count() == 0


# -- issue 19: the explorer (boards first, counts and paging, clusters, one node per board) and the SPARQL
# page (labels, units, paging, the server's error position), each at both viewports

CY = "(document.getElementById('cy') || {}).cy"


def test_explorer_search_ranks_boards_first_with_counts_and_paging(sized_page) -> None:  # type: ignore[no-untyped-def]
    page = sized_page
    page.goto("/#/explore")
    page.fill("#explore-q", "Nucleo")
    page.get_by_role("button", name="Search", exact=True).click()
    count = page.locator("#explore-count")
    count.wait_for()
    assert re.match(r"1–25 of \d[\d,]* \(\d+ hardware, \d+ other entities, \d+ models, [\d,]+ records\)", count.inner_text())
    kinds = page.locator("#explore-results button small").all_inner_texts()
    assert kinds[0].startswith("dlom:Hardware — one physical board, ") and not any("dlom:Model" in k for k in kinds[:5])
    assert any(re.search(r"dlom:EndDevice — a configuration of NUCLEO-", k) for k in kinds)
    assert page.locator("#explore-prev").is_hidden()
    first = page.locator("#explore-results button").first.inner_text()
    page.locator("#explore-next").click()
    page.wait_for_function("document.getElementById('explore-count').textContent.startsWith('26–50 of')")
    assert page.locator("#explore-results button").first.inner_text() != first
    page.locator("#explore-prev").click()
    page.wait_for_function("document.getElementById('explore-count').textContent.startsWith('1–25 of')")
    no_horizontal_overflow(page)
    shot(page, f"explorer-search-{page.viewport_name}")


def test_explorer_clusters_large_neighbourhoods_and_draws_one_node_per_board(sized_page) -> None:  # type: ignore[no-untyped-def]
    page = sized_page
    dln = "https://w3id.org/dlom/id/dln/resnet-50"
    page.goto(f"/#/explore?iri={dln}")
    page.wait_for_function(f"{CY} && {CY}.nodes('.cluster').length > 0")
    label = page.evaluate(f"{CY}.nodes('.cluster').map(n => n.data('label')).find(l => l.includes('via usesDLN'))")
    total = int(re.match(r"([\d,]+) Models via usesDLN$", label).group(1).replace(",", ""))
    assert total > 100
    assert page.evaluate(f"{CY}.nodes().length") < 40  # not a node per model
    status = page.locator("#graph-status").inner_text()
    assert f"{total:,} in 1 cluster ({label})" in status and "drawn one by one" in status
    # open the cluster from the side panel (the keyboard path), page through it, draw a page
    page.locator("#cluster-list button", has_text="via usesDLN").click()
    page.wait_for_function(f"document.getElementById('cluster-range') && document.getElementById('cluster-range').textContent.startsWith('1–25 of {total:,}')")
    first = page.locator("#cluster-members button").first.inner_text()
    page.locator("#cluster-next").click()
    page.wait_for_function("document.getElementById('cluster-range').textContent.startsWith('26–50 of')")
    assert page.locator("#cluster-members button").first.inner_text() != first
    before = page.evaluate(f"{CY}.nodes().length")
    page.locator("#cluster-draw").click()
    page.wait_for_function(f"{CY}.nodes().length === {before + 25}")
    assert page.evaluate(f"{CY}.nodes('.cluster').map(n => n.data('label')).some(l => l.endsWith('(25 drawn)'))")
    assert "25 drawn" in page.locator("#graph-status").inner_text()
    no_horizontal_overflow(page)
    shot(page, f"explorer-cluster-{page.viewport_name}")
    # a model on a NUCLEO board: its device is drawn as the board (one node for all submitters and rounds)
    model = "https://w3id.org/dlom/id/model/v1-1/closed/stmicroelectronics/nucleo-l4r5zi/ic"
    board = "https://w3id.org/dlom/id/hardware/board/nucleo-l4r5zi"
    page.goto(f"/#/explore?iri={model}")
    page.wait_for_function(f"{CY} && {CY}.getElementById({board!r}).length === 1")
    assert page.evaluate(f"{CY}.nodes().filter(n => (n.data('classes') || []).includes('dlom:EndDevice')).length") == 0
    assert "drawn as its physical board" in page.locator("#graph-status").inner_text()
    page.locator("#entity-panel h2", has_text="NUCLEO").wait_for()  # the model's panel, rendered after its graph
    assert "(through 1 configuration)" in page.locator("#entity-panel").inner_text()
    # the board's own neighbourhood reaches its per-source configurations and the models on any of them
    page.locator("#entity-panel button.link", has_text="NUCLEO-L4R5ZI").click()
    page.wait_for_function(f"{CY}.getElementById({board!r}).hasClass('expanded')")
    clusters = page.evaluate(f"{CY}.nodes('.cluster').map(n => n.data('label'))")
    assert any(re.match(r"\d+ End devices via hasConfiguration", c) for c in clusters)
    assert any(re.match(r"\d+ Models via deployedOn", c) for c in clusters)
    shot(page, f"explorer-board-{page.viewport_name}")


def test_sparql_labels_units_paging_and_error_position(sized_page) -> None:  # type: ignore[no-untyped-def]
    page = sized_page
    page.goto("/#/sparql")
    page.locator(".CodeMirror").wait_for()
    set_query = "q => document.querySelector('.CodeMirror').CodeMirror.setValue(q)"
    page.evaluate(set_query, "PREFIX dlom: <https://w3id.org/dlom#>\nSELECT ?device ?mhz WHERE { ?device a dlom:EndDevice ; "
                  "dlom:clockFrequencyMHz ?mhz } ORDER BY DESC(?mhz) ?device")
    page.locator("#sparql-run").click()
    info = page.locator("#sparql-page-info")
    info.wait_for(timeout=SERVER_WORK_TIMEOUT_MS)
    rows = int(re.search(r"of ([\d,]+)", info.inner_text()).group(1).replace(",", ""))
    assert rows > 100 and info.inner_text().startswith("Rows 1–100 of")
    assert page.locator("#sparql-results tbody tr").count() == 100
    assert "processor clock (MHz)" in page.locator("#sparql-results thead").inner_text()
    link = page.locator("#sparql-results tbody tr").first.locator("td").first.locator("a")
    assert not link.inner_text().startswith("id:") and link.get_attribute("title").startswith("https://w3id.org/dlom/id/")
    assert re.match(r"^[\d.]+ MHz$", page.locator("#sparql-results tbody tr").first.locator("td").nth(1).inner_text())
    shot(page, f"sparql-labels-units-{page.viewport_name}")
    page.locator("#sparql-page-next").click()
    page.wait_for_function("document.getElementById('sparql-page-info').textContent.startsWith('Rows 101–200 of')")
    page.locator("#sparql-labels").uncheck()
    page.wait_for_function("document.querySelector('#sparql-results tbody a').textContent.startsWith('id:')")
    assert "MHz" not in page.locator("#sparql-results tbody tr").first.inner_text()
    assert page.locator("#sparql-page-info").inner_text().startswith("Rows 101–200 of")
    no_horizontal_overflow(page)
    # a syntax error on line 3: the message names 3:… and the editor marks line 3 and puts the cursor there
    page.evaluate(set_query, "PREFIX dlom: <https://w3id.org/dlom#>\nSELECT ?m WHERE {\n  ?m a dlom:Model ; ?p }")
    page.locator("#sparql-run").click()
    page.locator("#sparql-error").wait_for()
    assert re.search(r"error at 3:\d+", page.locator("#sparql-error").inner_text())
    assert page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getCursor().line") == 2
    marked = page.locator(".CodeMirror .sparql-error-line")
    assert marked.count() == 1 and "?m a dlom:Model" in marked.inner_text()


def test_every_view_fits_the_viewport(sized_page) -> None:  # type: ignore[no-untyped-def]
    """Issue 19: no view is wider than the screen at 1440×900 or 390×844; a long select is cut off inside
    its box and a long list is a searchable text box; on a phone the first question is on the first screen
    and the steps are one row."""
    page = sized_page
    page.goto("/")
    page.get_by_role("heading", name="Tell me more about your project").wait_for()
    page.wait_for_function("document.querySelector('#f-network-network-values')?.options.length > 100")
    first = page.locator("#f-project-business_focus").bounding_box()
    assert first["y"] + first["height"] <= page.viewport_size["height"]
    steps = page.evaluate("[...document.querySelectorAll('.steps button')].map(b => b.getBoundingClientRect().top)")
    if page.viewport_name == "phone":
        assert len(set(steps)) == 1, steps  # one row
    for i, step in enumerate(("project", "network", "cloud", "device", "performance", "preferences"), start=1):
        page.get_by_role("button", name=f"{i}. ").first.click()
        page.locator(f"#step-{step}").wait_for()
        no_horizontal_overflow(page)
        boxes = page.evaluate(f"[...document.querySelectorAll('#step-{step} select, #step-{step} input[type=text]')]"
                              ".map(e => [e.id, e.getBoundingClientRect().right, e.closest('.card').getBoundingClientRect().right])")
        assert all(right <= card for _, right, card in boxes), boxes
    # the pairwise comparisons: a table on a desktop, stacked per pair (its seven choices wrapping) on a phone
    rows = page.evaluate("[...document.querySelectorAll('#pairwise tbody tr:not(.pair-group)')].map(r => getComputedStyle(r).display)")
    assert set(rows) == ({"flex"} if page.viewport_name == "phone" else {"table-row"}), rows
    for searchable in ("#f-network-network", "#f-cloud-server_hardware", "#f-device-framework"):
        assert page.locator(searchable).get_attribute("list"), searchable
    for view in ("explore", "sparql", "charts", "effects"):
        page.goto(f"/#/{view}")
        page.locator(f"#view-{view}").wait_for()
        page.wait_for_timeout(300)
        no_horizontal_overflow(page)
        shot(page, f"fits-{view}-{page.viewport_name}")
