"""Admission control (api.admission): per-client concurrency and time budget (429 + Retry-After), and the
deadline of the routes that do not bound themselves (503). Over real HTTP against the embedded on-disk
store (whose runaway queries are killed at the deadline), clients told apart by loopback address."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest

from api.admission import Admission, ClientLedger
from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from kg.bootstrap import ensure_initialized
from kg.store import Store, open_store

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?p ?d . ?e ?p ?f }"
TRIVIAL = "ASK { ?s ?p ?o }"


# -- the ledger ---------------------------------------------------------------------------------------


def test_ledger_concurrency_and_release() -> None:
    ledger, settings = ClientLedger(), Settings(client_max_concurrent=2, client_budget_s=0)
    assert ledger.admit("a", settings, now=0) is None and ledger.admit("a", settings, now=0) is None
    refusal = ledger.admit("a", settings, now=0)
    assert refusal is not None and refusal.limit == "concurrency" and refusal.retry_after_s == 1
    assert ledger.admit("b", settings, now=0) is None  # another client is not affected
    ledger.release("a", 0.1, now=0.1)
    assert ledger.admit("a", settings, now=0.1) is None


def test_ledger_budget_ages_out_over_the_minute() -> None:
    ledger, settings = ClientLedger(), Settings(client_max_concurrent=0, client_budget_s=10)
    for ended, seconds in ((0.0, 4.0), (20.0, 4.0), (30.0, 4.0)):
        assert ledger.admit("a", settings, now=ended - seconds) is None
        ledger.release("a", seconds, now=ended)
    refusal = ledger.admit("a", settings, now=31.0)
    assert refusal is not None and refusal.limit == "time budget" and "12.0 s" in refusal.message
    assert refusal.retry_after_s == 29  # the 4 s that ended at 0 leave the window at 60
    assert ledger.admit("a", settings, now=60.5) is None  # 8 s left in the window: under the budget


def test_a_disabled_limit_admits_everything() -> None:
    ledger, settings = ClientLedger(), Settings(client_max_concurrent=0, client_budget_s=0)
    assert all(ledger.admit("a", settings, now=0) is None for _ in range(100))


# -- over HTTP ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_store(f"oxigraph://{tmp_path_factory.mktemp('admission')}/store")
    ensure_initialized(s)
    yield s
    s.close()


def _serve(store: Store, **settings: object):
    return serve_in_background(create_app(store, Settings(**{"query_timeout_s": 1.0, **settings})))


def _client(url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(local_address=address))


def test_over_the_concurrency_limit_is_429_at_once(store: Store) -> None:
    with _serve(store, client_max_concurrent=2, client_budget_s=0) as url:
        answers: list[tuple[int, float, httpx.Response]] = []

        def one() -> None:
            with _client(url, "127.0.0.1") as c:
                started = time.monotonic()
                r = c.get("/sparql", params={"query": RUNAWAY})
                answers.append((r.status_code, time.monotonic() - started, r))

        threads = [threading.Thread(target=one) for _ in range(3)]
        for t in threads:
            t.start()
            time.sleep(0.1)
        with _client(url, "127.0.0.2") as other:  # another client is served meanwhile
            assert other.get("/sparql", params={"query": TRIVIAL}).json()["boolean"] is True
        for t in threads:
            t.join()
    answers.sort(key=lambda a: a[0])
    assert [a[0] for a in answers] == [429, 503, 503]
    status, seconds, refused = answers[0]
    assert seconds < 0.5 and refused.headers["Retry-After"] == "1"
    assert "DLOM_CLIENT_MAX_CONCURRENT" in refused.json()["detail"]
    assert refused.json()["errors"][0]["field"] == "(client)"


def test_over_the_time_budget_is_429_with_retry_after(store: Store) -> None:
    with _serve(store, client_max_concurrent=0, client_budget_s=1.5) as url:
        with _client(url, "127.0.0.1") as c:
            # Each runaway query spends its 1 s deadline and a little more (how much more depends on the
            # machine), so the 1.5 s budget is spent after the first or the second; then the client is refused.
            statuses: list[int] = []
            while 429 not in statuses and len(statuses) < 4:
                statuses.append(c.get("/sparql", params={"query": RUNAWAY}).status_code)
            assert statuses in ([503, 429], [503, 503, 429])
            r = c.get("/sparql", params={"query": TRIVIAL})
            assert r.status_code == 429 and "DLOM_CLIENT_BUDGET_S" in r.json()["detail"]
            assert 1 <= int(r.headers["Retry-After"]) <= 60
            assert c.post("/graphql", json={"query": "{ __typename }"}).status_code == 429  # one budget for all paths
        with _client(url, "127.0.0.2") as other:
            assert other.get("/sparql", params={"query": TRIVIAL}).status_code == 200


def test_routes_that_do_not_bound_themselves_get_a_503_at_the_deadline() -> None:
    async def slow(scope, receive, send) -> None:  # an ASGI app standing in for a stuck route
        await asyncio.sleep(5)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late"})

    owner = SimpleNamespace(state=SimpleNamespace(settings=Settings(query_timeout_s=0.3)))
    app = Admission(slow, settings_of=owner)  # type: ignore[arg-type]

    async def call(method: str) -> tuple[httpx.Response, float]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            started = time.monotonic()
            r = await c.request(method, "/api/stats")
            return r, time.monotonic() - started

    r, seconds = asyncio.run(call("GET"))
    assert r.status_code == 503 and seconds < 1.5 and r.headers["Retry-After"] == "5"
    assert "time limit" in r.json()["detail"]
    r, _ = asyncio.run(call("POST"))
    assert "may still complete" in r.json()["detail"]
