"""The SPARQL endpoint's cost over HTTP: the paper's Query 1 shape through /sparql, beside the same query
in-process (the embedded store) and beside rdflib's engine on the same data.

Query 1 (§6): models of an application area within a budget for at least N devices, with a latency
filter, ordered by latency (``benchmarks.kg_query1.QUERY_1``, parameters bound with kg.binding).
Measures p50/p99 of sequential requests over one keep-alive connection, and throughput with several
client threads. The server (uvicorn, the real app) runs in its own process on the same generated
graph, so client and server do not share a GIL. Prints the figures side by side with ratios. Not a test.

Usage: python -m benchmarks.api_sparql [n_triples=200000] [repetitions=300] [client_threads=4]
"""
from __future__ import annotations

import os
import platform
import socket
import subprocess
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pyoxigraph
import rdflib
from rich.console import Console
from rich.table import Table

from api.app import create_app
from api.settings import Settings
from benchmarks.generate_graph import generate_graph
from benchmarks.kg_query1 import PARAMS, QUERY_1, percentile
from kg.binding import bind
from kg.results import Solutions
from kg.store import open_store


def _timed(run: Callable[[], list[str]], reps: int) -> tuple[list[float], list[str]]:
    """Milliseconds of each of ``reps`` runs (after one warm-up), and the last run's result."""
    rows = run()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        rows = run()
        times.append((time.perf_counter() - t0) * 1000)
    return times, rows


def _throughput(make_run: Callable[[], Callable[[], list[str]]], threads: int, seconds: float) -> float:
    """Queries per second with ``threads`` clients looping for ``seconds``."""
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def client(i: int) -> None:
        run = make_run()
        while time.perf_counter() < stop:
            run()
            done[i] += 1

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / (time.perf_counter() - t0)


def _serve(n: int, port: int, workers: int) -> None:
    """Server side, run in its own process so client and server do not share one GIL."""
    import uvicorn

    store = open_store("oxigraph://")
    store.add(generate_graph(n))
    app = create_app(store, Settings(update_token=None, query_timeout_s=30, max_rows=10_000,
                                     max_body_bytes=1 << 20, federation_allowlist=(), query_workers=workers))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _server_process(n: int, workers: int) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.api_sparql", "--serve", str(n), str(port), str(workers)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(url + "/api/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    console = Console()
    console.print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                  f"pyoxigraph {getattr(pyoxigraph, '__version__', '?')}, load average at start "
                  f"{os.getloadavg()[0]:.1f}")
    quads = generate_graph(n)
    query = bind(QUERY_1, PARAMS)
    store = open_store("oxigraph://")
    store.add(quads)

    def in_process() -> list[str]:
        result = store.query(query)
        assert isinstance(result, Solutions)
        return [row[0].value for row in result.rows]

    local_times, local_rows = _timed(in_process, reps)
    local_qps = _throughput(lambda: in_process, threads, 3.0)

    store.close()  # the server process builds the same (deterministic) graph itself
    with _server_process(n, threads) as url:
        def http_run(client: httpx.Client) -> Callable[[], list[str]]:
            def run() -> list[str]:
                r = client.post("/sparql", data={"query": query},
                                headers={"Accept": "application/sparql-results+json"})
                r.raise_for_status()
                return [b["model"]["value"] for b in r.json()["results"]["bindings"]]
            return run

        with httpx.Client(base_url=url) as client:
            http_times, http_rows = _timed(http_run(client), reps)
        clients: list[httpx.Client] = []

        def make_http() -> Callable[[], list[str]]:
            c = httpx.Client(base_url=url)
            clients.append(c)
            return http_run(c)

        http_qps = _throughput(make_http, threads, 3.0)
        for c in clients:
            c.close()

    ds = rdflib.Dataset(default_union=True)
    ds.parse(data="".join(f"{q} .\n" for q in quads), format="nquads")
    rdflib_times, rdflib_rows = _timed(lambda: [str(row[0]) for row in ds.query(query)], 5)

    # The same models in the same order from all three (ORDER BY latency; the generator's latencies
    # are distinct to three decimals in practice).
    assert local_rows == http_rows == rdflib_rows, (local_rows, http_rows, rdflib_rows)
    p50 = {k: statistics.median(v) for k, v in
           {"http": http_times, "local": local_times, "rdflib": rdflib_times}.items()}
    table = Table("engine", "p50 ms", "p99 ms", f"queries/s ({threads} clients)", "p50 vs in-process")
    table.add_row("Oxigraph in-process (Store.query)", f"{p50['local']:.2f}", f"{percentile(local_times, 99):.2f}",
                  f"{local_qps:,.0f}", "1.0×")
    table.add_row("Oxigraph via HTTP /sparql (uvicorn, JSON)", f"{p50['http']:.2f}",
                  f"{percentile(http_times, 99):.2f}", f"{http_qps:,.0f}", f"{p50['http'] / p50['local']:.1f}×")
    table.add_row("rdflib in-process (anchor)", f"{p50['rdflib']:.2f}", f"{percentile(rdflib_times, 99):.2f}",
                  "", f"{p50['rdflib'] / p50['local']:.0f}×")
    console.print(f"graph: {len(quads):,} quads; Query 1 returns {len(local_rows)} rows (the same from all three); {reps} sequential repetitions "
                  f"(rdflib: 5)")
    console.print(table)
    console.print(f"load average at end {os.getloadavg()[0]:.1f} (figures are noisy when the machine is shared)")
    console.print(f"HTTP overhead per query (p50): {p50['http'] - p50['local']:.2f} ms; "
                  f"rdflib is {p50['rdflib'] / p50['http']:.0f}× slower than the HTTP endpoint")


if __name__ == "__main__":
    main()
