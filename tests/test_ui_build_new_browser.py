"""'Build new' in a real browser (headless Chromium via Playwright) against a real uvicorn server that
has an update token: the wizard's results → proposals from the GNN marked predicted, each saying whether
this server can measure it → only measurable ones → the token entered in the Build-new panel → one
proposal sent to be measured on this host → progress to completion and
the predicted and measured figures side by side; then a proposal for another machine measured "on this
machine instead". Skipped without Chromium or playwright.

At both viewports (1440×900, 390×844) a second test reads the proposals as a user does: labels, units,
readable metric names, near-identical variants grouped, the results before the chart, a measurement's
progress and its one error message (issue 19).

The server measures with short training / timing settings (``app.state.measurement_overrides``) so the
job takes seconds.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator

import pytest

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from decision.facet_index import facet_index
from kg.store import Store

pytest.importorskip("playwright.sync_api")

from test_build_new import AD_REFERENCE, FAST_MEASUREMENT, wait_for_predictor  # noqa: E402
from test_ui_browser import (  # noqa: E402,F401  (browser: the shared Chromium fixture)
    SERVER_WORK_TIMEOUT_MS, VIEWPORTS, _api_post, browser, browser_page, next_step, no_horizontal_overflow, pytestmark,
    shot, sized)

TOKEN = "ui-build-new-token"


@pytest.fixture(scope="module")
def token_base_url(shipped: Store) -> Iterator[str]:
    facet_index(shipped)  # as `dlom serve` warms it up: the charts and recommendations read it (by query, tens of s)
    app = create_app(shipped, Settings(update_token=TOKEN, warm_predictor=True))
    app.state.measurement_overrides = FAST_MEASUREMENT
    with serve_in_background(app) as url:
        wait_for_predictor(app)
        yield url


@pytest.fixture
def token_page(browser, token_base_url: str):  # type: ignore[no-untyped-def]
    with browser_page(browser, token_base_url) as pg:
        yield pg


def choose_network(page, typed: str, full_name: str) -> None:  # type: ignore[no-untyped-def]
    """Type part of a network's name in step 2; the wizard offers the full names the graph records that
    contain it (a name must match in full, as the requirement table compares it); pick ``full_name``."""
    page.get_by_role("heading", name="Tell me more about the deep-learning network").wait_for()
    page.fill("#f-network-network", typed)
    offer = page.locator("#f-network-network-suggest")
    offer.get_by_role("button", name=full_name, exact=True).click()
    assert page.input_value("#f-network-network") == full_name
    assert offer.inner_text() == ""
    # the values come from /api/wizard-options, as a searchable list (no select hundreds of names long)
    assert page.locator("#f-network-network-values option").count() > 100


def test_build_new_measures_a_proposal_and_compares(token_page) -> None:  # type: ignore[no-untyped-def]
    page = token_page
    page.goto("/#/recommend")
    page.get_by_role("heading", name="Tell me more about your project").wait_for()
    next_step(page)
    page.get_by_role("heading", name="Tell me more about the deep-learning network").wait_for()
    choose_network(page, "FC autoencoder", AD_REFERENCE)
    next_step(page)
    next_step(page)
    # this machine: benchmark hosts are proposed (this one's, and the shipped sweep's of another machine)
    page.get_by_role("heading", name="What do your end devices offer?").wait_for()
    page.check("#this-machine")
    next_step(page)
    next_step(page)
    page.get_by_role("heading", name="Preference elicitation").wait_for()
    for other in ("performance", "cost", "security", "complexity", "reliability"):
        with page.expect_response(_api_post("/api/preferences")):
            page.get_by_label(f"Latency has absolute importance over {other}").check()
    with page.expect_response(_api_post("/api/recommend"), timeout=SERVER_WORK_TIMEOUT_MS):
        page.get_by_role("button", name="Get my recommendations").click()
    page.locator("#build-new").wait_for()

    # every proposal says whether this server can measure it; one it cannot has no active button
    with page.expect_response(_api_post("/api/proposals"), timeout=SERVER_WORK_TIMEOUT_MS) as proposals:
        page.locator("#build-new-button").click()
    assert proposals.value.status == 200, proposals.value.text()
    cards = page.locator("#build-new-output article.result.predicted")
    cards.first.wait_for()
    assert cards.count() >= 1
    assert "predicted" in cards.first.locator(".badge.predicted").first.inner_text()
    assert "confidence" in cards.first.inner_text()
    for proposal, card in zip(proposals.value.json()["proposals"], cards.all()):
        button = card.get_by_role("button", name="Measure this proposal")
        assert button.is_disabled() is (not proposal["measurable_here"])
        assert ("Not measurable here:" in card.inner_text()) is (not proposal["measurable_here"])

    # only what this server can measure, then without the token the measurement is refused
    page.check("#build-new-measurable-only")
    with page.expect_response(_api_post("/api/proposals"), timeout=SERVER_WORK_TIMEOUT_MS) as proposals:
        page.locator("#build-new-button").click()
    assert proposals.value.status == 200 and "measurable_only=true" in proposals.value.url
    cards.first.wait_for()
    assert cards.locator("button[disabled]").count() == 0
    quick = cards.filter(has_not_text=re.compile("Fine-tuning|distillation|pruning"))  # these train first
    card = quick.first if quick.count() else cards.first
    with page.expect_response(_api_post("/api/measurements")) as refused:
        card.get_by_role("button", name="Measure this proposal").click()
    assert refused.value.status == 401
    card.locator(".notice.bad").wait_for()
    assert "update token" in card.inner_text()

    # with the token (kept in page memory only) it is stored, measured, and compared
    page.fill("#build-new-token", TOKEN)
    with page.expect_response(_api_post("/api/measurements")) as accepted:
        card.get_by_role("button", name="Measure this proposal").click()
    assert accepted.value.status == 202, accepted.value.text()
    card.locator("progress").wait_for()
    # the bar follows the job's phases and percentage, never falling; with the test's one-epoch training the
    # job may finish between two polls, so whether a poll catches it running depends on the machine (the
    # rendering of a running job is checked with fixed answers in test_build_new_reads_as_labels_units_and_groups,
    # and test_bench_techniques checks that training reports batch by batch)
    seen: list[tuple[float, str]] = []
    table = card.locator("table.measured-vs-predicted")
    deadline = time.monotonic() + 240
    while not table.count() and time.monotonic() < deadline:
        seen.append(tuple(card.locator("progress").evaluate("el => [el.value, el.nextElementSibling.textContent]")))
        page.wait_for_timeout(200)
    table.wait_for(timeout=1_000)
    moving = [(v, text) for v, text in seen if 0 < v < 1]
    assert all(text.startswith("running: ") and text.endswith(f"({math.floor(v * 100 + 0.5)} %)") for v, text in moving), moving
    assert [v for v, _ in seen] == sorted(v for v, _ in seen), seen
    assert card.locator("progress").evaluate("el => el.value") == 1
    assert "succeeded" in card.inner_text()
    rows = table.locator("tbody tr")
    latency = rows.filter(has_text="Inference latency (ms)")
    assert re.search(r"\d ms", latency.inner_text())
    assert latency.locator(".badge.predicted").count() == 1 and latency.locator(".badge.measured").count() == 1
    assert card.locator("p.small", has_text="Stored as").locator("a").count() == 1  # the measured model's page
    assert TOKEN not in page.evaluate("() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage)")
    shot(page, "build-new-measured")

    # a proposal for another machine: the same network and techniques measured on this machine instead
    page.uncheck("#build-new-measurable-only")
    with page.expect_response(_api_post("/api/proposals"), timeout=SERVER_WORK_TIMEOUT_MS) as proposals:
        page.locator("#build-new-button").click()
    cards.first.wait_for()
    offered = cards.filter(has=page.locator("button.measure-on-this-machine")).filter(
        has_not_text=re.compile("Fine-tuning|distillation|pruning"))
    assert offered.count() >= 1, "a proposal for the shipped sweep's machine offers this machine instead"
    card = offered.first
    with page.expect_response(_api_post("/api/measurements")) as accepted:
        card.get_by_role("button", name="Measure on this machine instead").click()
    assert accepted.value.status == 202, accepted.value.text()
    assert accepted.value.request.post_data_json["on_this_machine"] is True
    card.locator("p.small", has_text="Measuring the same network and techniques on this machine").wait_for()
    card.locator("table.measured-vs-predicted").wait_for(timeout=240_000)
    assert card.locator(".notice.bad").count() == 0
    shot(page, "build-new-measured-on-this-machine")


CAMEL_CASE = re.compile(r"[a-z][A-Z]")
UNIT = re.compile(r"\d\s?(ms|%|µJ|/s|MB|KB|mW)\b|\d\s?%")


@pytest.fixture(params=sorted(VIEWPORTS))
def sized_token_page(request, browser, token_base_url: str):  # type: ignore[no-untyped-def]
    """A page on the server with a token, at each of the two viewports."""
    with sized(browser, token_base_url, request.param) as pg:
        yield pg


def test_build_new_reads_as_labels_units_and_groups(sized_token_page) -> None:  # type: ignore[no-untyped-def]
    """Issue 19 at 1440×900 and 390×844: the wizard's first field on the first screen, results before the
    chart, explanation tables inside their card; Build new's proposals for this machine named by labels
    (not IRIs), every figure with its unit and a readable name, near-identical variants grouped, nothing on
    a benchmark host the bench cannot build; a measurement's progress and its one error message."""
    page = sized_token_page
    phone = page.viewport_name == "phone"
    page.goto("/#/recommend")
    first_field = page.locator("#step-project .field select, #step-project .field input").first
    first_field.wait_for()
    assert first_field.bounding_box()["y"] + first_field.bounding_box()["height"] <= page.viewport_size["height"]
    no_horizontal_overflow(page)
    page.get_by_role("button", name="2. Main DLN").click()
    choose_network(page, "fc autoencoder", AD_REFERENCE)
    page.get_by_role("button", name="4. End devices").click()
    page.check("#this-machine")
    no_horizontal_overflow(page)
    for select in page.locator("#step-device select").all():  # long values are cut off inside the card
        assert select.bounding_box()["x"] + select.bounding_box()["width"] <= page.viewport_size["width"]
    with page.expect_response(_api_post("/api/recommend"), timeout=SERVER_WORK_TIMEOUT_MS) as recommended:
        page.get_by_role("button", name="7. Results").click()
    assert recommended.value.status == 200, recommended.value.text()
    assert recommended.value.json()["recommendations"], "the shipped sweep measured the autoencoder on its host"
    page.locator("#recommendations article.result").first.wait_for()
    page.locator("#pareto-chart").wait_for()
    tops = page.evaluate("[document.querySelector('#recommendations').getBoundingClientRect().top, "
                         "document.querySelector('#pareto-chart').getBoundingClientRect().top]")
    assert tops[0] < tops[1], "the results come before the chart"
    widths = page.evaluate("[...document.querySelectorAll('details.explanation table')].map(t => "
                           "[t.getBoundingClientRect().right, t.closest('article').getBoundingClientRect().right])")
    assert widths and all(table <= card + 0.5 for table, card in widths), widths
    no_horizontal_overflow(page)

    # while the server scores, the panel shows an indeterminate bar and the seconds waited (seen by an
    # observer: a quick answer may replace it before a poll would)
    page.evaluate("""() => { window.sawWaiting = false; new MutationObserver(() => {
        if (document.querySelector('#build-new-waiting progress:not([value])') && document.querySelector('#build-new-waited'))
          window.sawWaiting = true; }).observe(document.body, { childList: true, subtree: true }); }""")
    with page.expect_response(_api_post("/api/proposals"), timeout=SERVER_WORK_TIMEOUT_MS) as answered:
        page.locator("#build-new-button").click()
    body = answered.value.json()
    assert answered.value.status == 200 and body["proposals"], body
    assert page.evaluate("window.sawWaiting")
    cards = page.locator("#build-new-output article.proposal")
    cards.first.wait_for()
    assert cards.count() == len(body["proposals"])
    for proposal, card in zip(body["proposals"], cards.all()):
        assert proposal["dln_label"] == AD_REFERENCE  # the network asked for, in full
        assert proposal["measurable_here"] or proposal["on_this_machine"], "a host runs only what the bench builds"
        dln = card.locator("dd.proposal-dln a")
        assert dln.inner_text() == AD_REFERENCE and dln.get_attribute("title") == proposal["dln"]
        assert card.locator("dd.proposal-devices a").all_inner_texts() == proposal["device_labels"]
        assert "https://" not in card.locator("dl.proposal-facts").inner_text()
        for row in card.locator("tbody.predicted-metrics tr").all():
            name, value = row.locator("td").all_inner_texts()
            assert not CAMEL_CASE.search(name) and "(" in name, name  # "Inference latency (ms)"
            assert UNIT.search(value), value
        if proposal["similar_count"]:
            assert f"{proposal['similar_count']} more like this" in card.locator("details.similar summary").inner_text()
    assert sum(p["similar_count"] for p in body["proposals"]) > 0
    no_horizontal_overflow(page)
    shot(page, f"build-new-proposals-{page.viewport_name}")

    # a measurement's progress is the job's phase and percentage; a failure's message is shown once
    # (the job is answered by the page's own route here: the real run is the test above)
    polls = iter([{"status": "running", "progress": 0.3, "message": "training the baseline (seed 1 of 3)"},
                  {"status": "running", "progress": 0.55, "message": "applying fp16 (seed 2 of 3)"},
                  {"status": "failed", "progress": 0.55, "message": "not measured: the host ran out of memory"}])
    last: dict = {}

    def job(route) -> None:  # type: ignore[no-untyped-def]
        last.update(next(polls, last))
        route.fulfill(json={"id": "j1", "result": {}, **last})
    page.route("**/api/jobs/j1", job)
    page.route("**/api/measurements", lambda route: route.fulfill(status=202, json={
        "job": "j1", "status_url": "/api/jobs/j1", "predicted_model": "https://example.org/m", "predicted": body["proposals"][0]}))
    card = cards.filter(has=page.locator("button:not([disabled])", has_text="Measure")).first
    card.locator("button:not([disabled])", has_text="Measure").first.click()
    status = card.locator("progress + p")
    page.wait_for_function("el => el.textContent.includes('(30 %)')", arg=status.element_handle())
    assert "training the baseline" in status.inner_text()
    page.wait_for_function("el => el.textContent.includes('(55 %)')", arg=status.element_handle())
    card.locator(".notice.bad").wait_for()
    assert card.inner_text().count("ran out of memory") == 1
    assert card.locator("progress").evaluate("el => el.value") == pytest.approx(0.55)
    if phone:
        no_horizontal_overflow(page)
