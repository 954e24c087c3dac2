"""The SPARQL endpoint's cost over HTTP: the paper's Query 1 shape through /sparql, beside the same query
in-process (the embedded store) and beside rdflib's engine on the same data.

Query 1 (§6): models of an application area within a budget for at least N devices, with a latency
filter, ordered by latency (``benchmarks.kg_query1.QUERY_1``, parameters bound with kg.binding).

What is compared, and why it is a fair comparison
    * In-process: ``Store.query`` of the same query text on an ``OxigraphStore`` holding the same
      generated graph, reading the ``?model`` IRIs of the rows.
    * HTTP: the same query text as a form POST to ``/sparql`` with ``Accept:
      application/sparql-results+json`` (checked on the response), the JSON parsed and the ``?model``
      IRIs read. The server is the real app (``api.app.create_app``) under uvicorn with the loop and
      HTTP implementation ``dlom serve`` uses (:func:`api.server.uvicorn_options`; no access log), in
      its own process on the same deterministic graph, so client and server do not share a GIL.
    * Both must return the same rows in the same order (asserted), and so must rdflib (the anchor).
    * The HTTP client for the headline figure is the standard library's ``http.client`` on one
      keep-alive connection: it adds little beyond the socket, so the figure is the endpoint's cost.
      The same requests through ``httpx`` are timed too and shown beside it: the difference is the
      client library's own per-request cost, which a caller pays but the endpoint does not cause.
    * In-process and HTTP repetitions are interleaved in rounds, so a burst of load from other work on
      the machine hits both sides alike instead of whichever ran at that moment.

Throughput: queries per second with ``client_threads`` threads, each looping over its own keep-alive
connection (HTTP) or calling the store (in-process). Prints the figures side by side. Not a test.

Usage: python -m benchmarks.api_sparql [n_triples=200000] [repetitions=300] [client_threads=4]
"""
from __future__ import annotations

import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import httpx
import pyoxigraph
import rdflib
from rich.console import Console
from rich.table import Table

from api.app import create_app
from api.server import uvicorn_options
from api.settings import Settings
from benchmarks.generate_graph import generate_graph
from benchmarks.kg_query1 import PARAMS, QUERY_1, percentile
from kg.binding import bind
from kg.store import open_store

ACCEPT = "application/sparql-results+json"
ROUNDS = 10
"""In-process and HTTP repetitions alternate in this many rounds (see the module docstring)."""

Run = Callable[[], list[str]]


def _time_once(run: Run, into: list[float]) -> list[str]:
    t0 = time.perf_counter()
    rows = run()
    into.append((time.perf_counter() - t0) * 1000)
    return rows


def _interleaved(runs: dict[str, Run], reps: int) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Milliseconds of ``reps`` runs of each of ``runs`` (after one warm-up each), taken in ROUNDS
    alternating rounds, and each one's last result."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    rows = {name: run() for name, run in runs.items()}  # warm-up
    per_round = max(1, reps // ROUNDS)
    while any(len(t) < reps for t in times.values()):
        for name, run in runs.items():
            for _ in range(min(per_round, reps - len(times[name]))):
                rows[name] = _time_once(run, times[name])
    return times, rows


def _throughput(make_run: Callable[[], Run], threads: int, seconds: float) -> float:
    """Queries per second with ``threads`` clients looping for ``seconds``."""
    done = [0] * threads
    runs = [make_run() for _ in range(threads)]
    for run in runs:
        run()  # connect and warm up outside the timed window
    stop = time.perf_counter() + seconds

    def client(i: int) -> None:
        while time.perf_counter() < stop:
            runs[i]()
            done[i] += 1

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / (time.perf_counter() - t0)


def _serve(n: int, port: int, workers: int, kind: str = "memory") -> None:
    """Server side, run in its own process so client and server do not share one GIL. ``kind``:
    ``memory`` (in-memory store, threads), ``disk-threads`` (on-disk store, in-thread evaluation as
    before), ``disk-processes`` (on-disk store, killable worker processes: :mod:`kg.query_pool`)."""
    import tempfile

    import uvicorn

    store = open_store("oxigraph://" if kind == "memory" else f"oxigraph://{tempfile.mkdtemp()}/store")
    store.bulk_add(generate_graph(n))
    app = create_app(store, Settings(update_token=None, query_timeout_s=30, max_rows=10_000,
                                     max_body_bytes=1 << 20, federation_allowlist=(), query_workers=workers,
                                     query_processes=kind == "disk-processes", client_max_concurrent=0,
                                     client_budget_s=0))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, **uvicorn_options())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _server_process(n: int, workers: int, kind: str = "memory") -> Iterator[int]:
    """A benchmark server on a loopback port (yielded) once it answers."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.api_sparql", "--serve", str(n), str(port), str(workers),
                             kind])
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/sparql", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _models(payload: bytes, content_type: str | None) -> list[str]:
    """The ``?model`` IRIs of a SPARQL JSON response (checking it is the format asked for)."""
    if not (content_type or "").startswith(ACCEPT):
        raise AssertionError(f"asked for {ACCEPT}, got {content_type}")
    return [b["model"]["value"] for b in json.loads(payload)["results"]["bindings"]]


def _stdlib_client(port: int, body: bytes) -> Run:
    """One keep-alive ``http.client`` connection posting the form ``body`` to /sparql."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": ACCEPT}

    def run() -> list[str]:
        conn.request("POST", "/sparql", body=body, headers=headers)  # bytes: one send with the headers
        response = conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise AssertionError(f"/sparql answered {response.status}: {payload[:200]!r}")
        return _models(payload, response.getheader("content-type"))

    return run


def _httpx_client(client: httpx.Client, query: str) -> Run:
    def run() -> list[str]:
        r = client.post("/sparql", data={"query": query}, headers={"Accept": ACCEPT})
        r.raise_for_status()
        return _models(r.content, r.headers.get("content-type"))

    return run


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    console = Console()
    console.print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                  f"pyoxigraph {getattr(pyoxigraph, '__version__', '?')}, load average at start "
                  f"{os.getloadavg()[0]:.1f}")
    query = bind(QUERY_1, PARAMS)
    form = urlencode({"query": query}).encode()
    with _server_process(n, threads) as port:
        quads = generate_graph(n)  # the server builds the same (deterministic) graph itself
        store = open_store("oxigraph://")
        store.add(quads)

        def in_process() -> list[str]:
            result = store.select(query)
            return [row[0].value for row in result.rows]

        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as httpx_client:
            runs = {"local": in_process, "http": _stdlib_client(port, form),
                    "httpx": _httpx_client(httpx_client, query)}
            times, rows = _interleaved(runs, reps)
        local_qps = _throughput(lambda: in_process, threads, 3.0)
        http_qps = _throughput(lambda: _stdlib_client(port, form), threads, 3.0)
        store.close()

    ds = rdflib.Dataset(default_union=True)
    ds.parse(data="".join(f"{q} .\n" for q in quads), format="nquads")
    rdflib_times: list[float] = []
    rdflib_run: Run = lambda: [str(row[0]) for row in ds.query(query)]  # noqa: E731
    rdflib_rows = rdflib_run()  # warm-up
    for _ in range(5):
        rdflib_rows = _time_once(rdflib_run, rdflib_times)

    # The same models in the same order from all (ORDER BY latency; the generator's latencies are
    # distinct to three decimals in practice).
    assert rows["local"] == rows["http"] == rows["httpx"] == rdflib_rows, (rows, rdflib_rows)
    p50 = {k: statistics.median(v) for k, v in {**times, "rdflib": rdflib_times}.items()}
    p99 = {k: percentile(v, 99) for k, v in {**times, "rdflib": rdflib_times}.items()}
    table = Table("engine", "p50 ms", "p99 ms", f"queries/s ({threads} clients)", "p50 vs in-process")
    table.add_row("Oxigraph in-process (Store.query)", f"{p50['local']:.2f}", f"{p99['local']:.2f}",
                  f"{local_qps:,.0f}", "1.0×")
    table.add_row("Oxigraph via HTTP /sparql (uvicorn, JSON; http.client)", f"{p50['http']:.2f}",
                  f"{p99['http']:.2f}", f"{http_qps:,.0f}", f"{p50['http'] / p50['local']:.1f}×")
    table.add_row("  same requests through httpx (client library cost included)", f"{p50['httpx']:.2f}",
                  f"{p99['httpx']:.2f}", "", f"{p50['httpx'] / p50['local']:.1f}×")
    table.add_row("rdflib in-process (anchor)", f"{p50['rdflib']:.2f}", f"{p99['rdflib']:.2f}",
                  "", f"{p50['rdflib'] / p50['local']:.0f}×")
    console.print(f"graph: {len(quads):,} quads; Query 1 returns {len(rows['local'])} rows (the same from all); "
                  f"{reps} repetitions each, in-process and HTTP interleaved in {ROUNDS} rounds (rdflib: 5)")
    console.print(table)
    console.print(f"load average at end {os.getloadavg()[0]:.1f} (figures are noisy when the machine is shared)")
    _compare_evaluation(console, n, reps, threads, form)
    overhead = p50["http"] - p50["local"]
    console.print(f"HTTP overhead per query (p50): {overhead:.2f} ms with http.client "
                  f"({p50['httpx'] - p50['local']:.2f} ms with httpx); target ≤ 2 ms: "
                  f"{'met' if overhead <= 2.0 else 'NOT met'}; rdflib is {p50['rdflib'] / p50['http']:.0f}× "
                  "slower than the HTTP endpoint")


def _compare_evaluation(console: Console, n: int, reps: int, threads: int, form: bytes) -> None:
    """The per-query cost of killable worker processes against in-thread evaluation: two servers over
    the same on-disk graph, one of each, the same requests interleaved in rounds."""
    with _server_process(n, threads, "disk-threads") as thread_port, \
            _server_process(n, threads, "disk-processes") as process_port:
        runs = {"threads": _stdlib_client(thread_port, form), "processes": _stdlib_client(process_port, form)}
        times, rows = _interleaved(runs, reps)
    assert rows["threads"] == rows["processes"]
    p50 = {k: statistics.median(v) for k, v in times.items()}
    p99 = {k: percentile(v, 99) for k, v in times.items()}
    table = Table("evaluation (on-disk store, via HTTP)", "p50 ms", "p99 ms")
    table.add_row("in a thread (cannot be stopped)", f"{p50['threads']:.2f}", f"{p99['threads']:.2f}")
    table.add_row("in a worker process (killed at the deadline)", f"{p50['processes']:.2f}", f"{p99['processes']:.2f}")
    console.print(table)
    console.print(f"worker-process overhead per query (p50): {p50['processes'] - p50['threads']:.2f} ms")


if __name__ == "__main__":
    main()
