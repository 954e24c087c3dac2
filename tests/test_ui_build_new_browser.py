"""'Build new' in a real browser (headless Chromium via Playwright) against a real uvicorn server that
has an update token: the wizard's results → proposals from the GNN marked predicted, each saying whether
this server can measure it → only measurable ones → the token entered in the Build-new panel → one
proposal sent to be measured on this host → progress to completion and
the predicted and measured figures side by side; then a proposal for another machine measured "on this
machine instead". Skipped without Chromium or playwright.

The server measures with short training / timing settings (``app.state.measurement_overrides``) so the
job takes seconds.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from kg.bootstrap import ensure_initialized
from kg.store import open_store

pytest.importorskip("playwright.sync_api")

from test_build_new import FAST_MEASUREMENT, wait_for_predictor  # noqa: E402
from test_ui_browser import (  # noqa: E402,F401  (browser: the shared Chromium fixture)
    SERVER_WORK_TIMEOUT_MS, _api_post, browser, browser_page, next_step, pytestmark, shot)

TOKEN = "ui-build-new-token"


@pytest.fixture(scope="module")
def token_base_url() -> Iterator[str]:
    store = open_store("oxigraph://")
    ensure_initialized(store)
    app = create_app(store, Settings(update_token=TOKEN, warm_predictor=True))
    app.state.measurement_overrides = FAST_MEASUREMENT
    with serve_in_background(app) as url:
        wait_for_predictor(app)
        yield url
    store.close()


@pytest.fixture
def token_page(browser, token_base_url: str):  # type: ignore[no-untyped-def]
    with browser_page(browser, token_base_url) as pg:
        yield pg


def test_build_new_measures_a_proposal_and_compares(token_page) -> None:  # type: ignore[no-untyped-def]
    page = token_page
    page.goto("/#/recommend")
    page.get_by_role("heading", name="Tell me more about your project").wait_for()
    next_step(page)
    page.get_by_role("heading", name="Tell me more about the deep-learning network").wait_for()
    page.select_option("#f-network-network", "__other__")
    page.fill("#f-network-network-other", "FC autoencoder")
    next_step(page)
    next_step(page)
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
    table = card.locator("table.measured-vs-predicted")
    table.wait_for(timeout=240_000)
    assert card.locator("progress").evaluate("el => el.value") == 1
    assert "succeeded" in card.inner_text()
    rows = table.locator("tbody tr")
    latency = rows.filter(has_text="inferenceLatencyMs")
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
