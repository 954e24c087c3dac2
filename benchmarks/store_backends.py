"""The store backends side by side on one generated graph: bulk load throughput and the paper's Query 1
latency on the embedded Oxigraph store, Neo4j and a remote SPARQL endpoint (Fuseki).

Targets: bulk load into Neo4j >= 20,000 triples/s; Query 1 p50 on Neo4j and on the remote store within
10x of the embedded store. The servers are started on loopback by scripts/start_test_servers.py unless
``--neo4j URL`` / ``--sparql URL`` name running ones (their data is replaced!).

Usage: python -m benchmarks.store_backends [--triples 200000] [--reps 50] [--load-runs 3] [--neo4j URL] [--sparql URL]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.generate_graph import generate_graph
from benchmarks.kg_query1 import PARAMS, QUERY_1, percentile
from kg.binding import bind
from kg.store import Store, open_store

REPO = Path(__file__).resolve().parent.parent


def _launcher():
    spec = importlib.util.spec_from_file_location("start_test_servers", REPO / "scripts" / "start_test_servers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def measure(store: Store, quads: list, query: str, reps: int, load_runs: int) -> dict[str, float]:
    """Load ``quads`` in one Store.add (one transaction) and time ``query``: load rate and latencies.

    A tenth of the graph is loaded and cleared first, so a freshly started server's JIT is warm, as a
    long-running server's would be; the load is timed ``load_runs`` times and the best run reported
    (the machine is shared, and the best run is the least disturbed one).
    """
    store.clear()
    store.add(quads[: len(quads) // 10])
    load_times = []
    for _ in range(load_runs):
        store.clear()
        t0 = time.perf_counter()
        store.add(quads)
        load_times.append(time.perf_counter() - t0)
    load_s = min(load_times)
    assert store.count() == len(quads), f"{store.url}: {store.count()} quads after loading {len(quads)}"
    rows = store.select(query).dicts()  # warm-up: plan caches, JIT
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        store.select(query).dicts()
        times.append((time.perf_counter() - t0) * 1000)
    return {"load_s": load_s, "rate": len(quads) / load_s, "p50": statistics.median(times),
            "p99": percentile(times, 99), "rows": len(rows), "rows_list": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--load-runs", type=int, default=3, help="timed loads per backend (best is reported)")
    parser.add_argument("--neo4j", help="URL of a running Neo4j (default: start one)")
    parser.add_argument("--sparql", help="sparql+http URL of a running endpoint (default: start Fuseki)")
    args = parser.parse_args()
    console = Console()
    started = []
    try:
        neo4j_url, sparql_url = args.neo4j, args.sparql
        if not neo4j_url or not sparql_url:
            launcher = _launcher()
            if not neo4j_url:
                started.append(launcher.start_neo4j())
                neo4j_url = started[-1].url
            if not sparql_url:
                started.append(launcher.start_fuseki())
                sparql_url = started[-1].url
        quads = generate_graph(args.triples)
        query = bind(QUERY_1, PARAMS)
        results = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name, url in [("Oxigraph (embedded, on disk)", f"oxigraph://{tmp}/store"),
                              ("Neo4j 5 (Bolt)", neo4j_url), ("Fuseki (SPARQL 1.1 protocol)", sparql_url)]:
                console.print(f"[bold]{name}[/bold]: loading {len(quads):,} quads ...")
                store = open_store(url)
                try:
                    results[name] = measure(store, quads, query, args.reps, args.load_runs)
                finally:
                    store.close()
        embedded = next(iter(results.values()))
        table = Table("store", "quads", "load s", "triples/s", "Q1 p50 ms", "Q1 p99 ms", "x embedded", "rows")
        for name, r in results.items():
            same = "" if r["rows_list"] == embedded["rows_list"] else " (differs!)"
            table.add_row(name, f"{len(quads):,}", f"{r['load_s']:.2f}", f"{r['rate']:,.0f}", f"{r['p50']:.2f}",
                          f"{r['p99']:.2f}", f"{r['p50'] / embedded['p50']:.1f}", f"{r['rows']}{same}")
        console.print(table)
        neo = results["Neo4j 5 (Bolt)"]
        console.print(f"targets: Neo4j bulk load >= 20,000 triples/s: {neo['rate']:,.0f}; "
                      f"Query 1 within 10x of embedded: Neo4j {neo['p50'] / embedded['p50']:.1f}x, "
                      f"remote {results['Fuseki (SPARQL 1.1 protocol)']['p50'] / embedded['p50']:.1f}x")
    finally:
        for server in started:
            server.stop()


if __name__ == "__main__":
    main()
