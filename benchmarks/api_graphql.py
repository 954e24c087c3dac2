"""GraphQL: a 50-model page with nested device, DLN, techniques and performance (with provenance), over
HTTP against a real uvicorn server, beside the in-process time of the same resolver calls (the anchor).

On a generated graph shaped like the ontology (benchmarks/generate_graph.py, ~1M triples by default),
for each scenario it times:
  1. HTTP: httpx POST /graphql to uvicorn on a loopback port (app = api.app.create_app(store)); the
     server runs in a thread of this process, so client and server share one interpreter;
  2. in-process GraphQL: the same document executed by the same schema with the same per-request context
     and DataLoaders, with no HTTP, JSON or ASGI in between;
  3. catalog only: the kg.catalog calls those resolvers make (the page, then each batch fetch), called
     directly — the store's share of the time; and of that, the page query alone (filter + sort over
     every model, the part that grows with the graph; the batch fetches cost the same at any size).
It also counts the store queries per page (the DataLoaders keep this constant whatever the page size).

Each is timed three times: *cold, by the query* — nothing kept and no facet index, so the listing query
(filter + sort over every model) runs for the page: the engine's floor for a new listing; *first page,
facet index* — the first page of a new listing as a server answers it, the order computed over the
decision support's facet index (decision.catalog_listing) rather than by the query; and *kept order* —
the following page of the same listing, a slice of the order the first page computed and kept until the
store changes (kg.derived_results). The store proxy switches off everything derived by reporting no
generation; the first-page rows drop the kept listing before each call.
Usage: python -m benchmarks.api_graphql [n_triples | store URL] [repetitions]
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from api.app import create_app
from api.graphql_api import GraphQLContext, schema
from api.server import serve_in_background
from api.settings import Settings
from benchmarks.generate_graph import generate_graph
from benchmarks.timing import machine_line
from decision.catalog_listing import list_models_through_index
from decision.facet_index import facet_index
from kg.catalog import queries as catalog
from kg.derived_results import forget
from kg.ontology import ontology_quads
from kg.store import Queries, Store, open_store

PAGE = """query($filter: ModelFilter, $sort: ModelSort, $after: String) {
  models(first: 50, filter: $filter, sort: $sort, after: $after) {
    edges { cursor node {
      id label yearCreated applicationArea purpose totalCostUsd
      dln { id label numberOfLayers numberOfParameters }
      device { id label clockFrequencyMhz memoryKb priceUsd }
      techniques { id label family sequenceIndex }
      performance { id kind inferenceLatencyMs accuracy energyPerInferenceUj throughputIps
        provenance { activity activityLabel round source } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SCENARIOS: list[tuple[str, dict[str, Any]]] = [
    ("sorted by label, no filter", {"sort": {"by": "LABEL"}}),
    ("sorted by latency, no filter", {"sort": {"by": "LATENCY"}}),
    ("medical, latency <= 50 ms, by accuracy desc",
     {"filter": {"applicationArea": "medical", "latencyMs": {"max": 50}}, "sort": {"by": "ACCURACY", "direction": "DESC"}}),
]


class CountingStore(Queries):
    """The real store, counting ``query`` calls (the Store protocol, delegated; select, ask and construct count through query). With ``keep`` False it
    reports no generation, so nothing derived from it is kept (every page is cold)."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.url, self.queries, self.keep = inner, inner.url, 0, False

    @property
    def generation(self) -> int | None:
        return self.inner.generation if self.keep else None

    def query(self, sparql: str, **kwargs: Any) -> Any:
        self.queries += 1
        return self.inner.query(sparql, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def timed(fn: Callable[[], Any], reps: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process-CPU milliseconds of ``reps`` calls (after one warm-up call). CPU time is
    reported beside wall time because a shared machine's load inflates wall time; it counts every
    thread of this process (for HTTP: the client and the server)."""
    fn()  # warm-up (parser caches, first-touch of the store's pages)
    wall, cpu = [], []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def page_only(store: Store, variables: dict[str, Any], timeout_s: float) -> catalog.ModelPage:
    """The page alone (cold: the listing query, filter + sort over every model — the part whose cost
    grows with the graph)."""
    sort = variables.get("sort", {})
    flt = variables.get("filter") or {}

    def rng(d: dict | None) -> catalog.Range | None:
        return catalog.Range(d.get("min"), d.get("max")) if d else None

    return catalog.find_models(
        store, catalog.ModelFilter(application_area=flt.get("applicationArea"), latency_ms=rng(flt.get("latencyMs"))),
        catalog.ModelSortKey[sort.get("by", "LABEL")], sort.get("direction") == "DESC", 0, 50, timeout_s)


def catalog_calls(store: Store, variables: dict[str, Any], timeout_s: float) -> int:
    """The kg.catalog calls the resolvers make for one page, in the same order; returns the model count."""
    page = page_only(store, variables, timeout_s)
    models = catalog.models_by_iri(store, [r.iri for r in page.rows], timeout_s)
    catalog.dlns_by_iri(store, sorted({i for m in models.values() for i in m.dln_iris[:1]}), timeout_s)
    catalog.devices_by_iri(store, sorted({i for m in models.values() for i in m.device_iris[:1]}), timeout_s)
    catalog.techniques_by_iri(store, sorted({i for m in models.values() for i in m.technique_iris}), timeout_s)
    catalog.performances_by_iri(store, sorted({i for m in models.values() for i in m.performance_iris}), timeout_s)
    return len(models)


def main() -> None:
    graph = sys.argv[1] if len(sys.argv) > 1 else "1000000"
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    console = Console(width=200)
    t0 = time.perf_counter()
    if graph.isdigit():
        store = open_store("oxigraph://")
        store.add(ontology_quads())
        store.add(generate_graph(int(graph)))
        console.print(f"generated and loaded {store.count():,} quads in {time.perf_counter() - t0:.1f} s")
    else:  # a store URL, e.g. the shipped graph after `dlom init --store oxigraph:///tmp/bench-store`
        store = open_store(graph)
        console.print(f"opened {graph}: {store.count():,} quads")
    settings = Settings(update_token=None)
    counting = CountingStore(store)
    resources = ExitStack()
    url = resources.enter_context(serve_in_background(create_app(counting, settings)))  # type: ignore[arg-type]
    client = resources.enter_context(httpx.Client(timeout=120))

    def over_http(variables: dict[str, Any]) -> dict:
        r = client.post(f"{url}/graphql", json={"query": PAGE, "variables": variables})
        body = r.json()
        assert r.status_code == 200 and not body.get("errors"), body
        return body["data"]

    loop = asyncio.new_event_loop()

    def in_process(variables: dict[str, Any]) -> dict:
        result = loop.run_until_complete(
            schema.execute(PAGE, variable_values=variables, context_value=GraphQLContext(counting, settings, None)))
        assert not result.errors, result.errors
        return result.data  # type: ignore[return-value]

    counting.keep = True
    list_models_through_index()  # as create_app does
    t0 = time.perf_counter()
    index = facet_index(counting)  # type: ignore[arg-type]
    assert index is not None and not index.unlisted
    console.print(f"facet index of {len(index):,} models built in {time.perf_counter() - t0:.1f} s, "
                  f"{index.nbytes() / 1e6:.1f} MB")

    def new_listing(fn: Callable[[], Any]) -> Callable[[], Any]:
        def call() -> Any:
            forget(counting, lambda key: isinstance(key, tuple) and key[:1] == ("catalog.models",))  # type: ignore[arg-type]
            return fn()
        return call

    table = Table("scenario", "page", "models", "store queries", "HTTP p50 ms (cpu)", "HTTP p90 ms",
                  "in-process GraphQL p50 ms (cpu)", "catalog only p50 ms (cpu)", "of which the page p50 ms (cpu)")
    try:
        for name, variables in SCENARIOS:
            counting.keep = True
            first = over_http(variables)["models"]
            following = {**variables, "after": first["pageInfo"]["endCursor"]}
            for label, keep, fresh, vs in (("first, cold, by the query", False, False, variables),
                                           ("first, facet index", True, True, variables),
                                           ("following, kept order", True, False, following)):
                counting.keep = keep
                wrap = new_listing if fresh else (lambda fn: fn)
                before = counting.queries
                edges = wrap(lambda: over_http(vs))()["models"]["edges"]
                queries = counting.queries - before
                assert len(edges) == len(in_process(vs)["models"]["edges"])
                http, http_cpu = timed(wrap(lambda: over_http(vs)), reps)
                inproc, inproc_cpu = timed(wrap(lambda: in_process(vs)), reps)
                direct, direct_cpu = timed(wrap(lambda: catalog_calls(counting, vs, settings.query_timeout_s)), reps)  # type: ignore[arg-type]
                page, page_cpu = timed(wrap(lambda: page_only(counting, vs, settings.query_timeout_s)), reps)  # type: ignore[arg-type]
                table.add_row(name if label.startswith("first, cold") else "", label, str(len(edges)), str(queries),
                              f"{statistics.median(http):.1f} ({statistics.median(http_cpu):.0f})", f"{pct(http, 90):.1f}",
                              f"{statistics.median(inproc):.1f} ({statistics.median(inproc_cpu):.0f})",
                              f"{statistics.median(direct):.1f} ({statistics.median(direct_cpu):.0f})",
                              f"{statistics.median(page):.1f} ({statistics.median(page_cpu):.0f})")
    finally:
        resources.close()
        loop.close()
    console.print(table)
    console.print(f"graph: {store.count():,} quads; {reps} repetitions each; {machine_line()}")


if __name__ == "__main__":
    main()
