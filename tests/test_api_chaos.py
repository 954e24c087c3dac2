"""Chaos: the real server (``dlom serve`` as a subprocess on a loopback port, the embedded on-disk store in
a temporary DLOM_HOME) under runaway queries. A trivial query from another client answers within 1 s
throughout and after, the CPU returns to idle within twice the deadline (the runaways' workers are
killed, not left running), GraphQL still answers, and SIGTERM ends the server within 5 s with every
acknowledged write there after a restart.

Clients are told apart by their address: the attacker connects from 127.0.0.1, the probe from 127.0.0.2
(the whole of 127/8 is loopback on Linux)."""
from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

DEADLINE_S = 2.0
MAX_CONCURRENT = 6
TOKEN = "chaos-token"
ROOT = Path(__file__).resolve().parents[1]
# Connected (every pattern shares ?p), so it passes the cross-product guard, and still
# sum over predicates of count(p)^3 rows: over 10^11 on the shipped graph. Only a kill stops it.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?p ?d . ?e ?p ?f }"
CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
TRIVIAL = "ASK { ?s ?p ?o }"

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU times from /proc")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, home: Path, deadline_s: float = DEADLINE_S) -> None:
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DLOM_HOME": str(home), "DLOM_QUERY_TIMEOUT_S": str(deadline_s),
               "DLOM_CLIENT_MAX_CONCURRENT": str(MAX_CONCURRENT), "DLOM_UPDATE_TOKEN": TOKEN,
               "PYTHONPATH": str(ROOT)}
        env.pop("DLOM_STORE", None)
        self.log = open(home / f"server-{self.port}.log", "wb")
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "dlom"), "serve", "--port", str(self.port)],
                                        env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (home / f"server-{self.port}.log").read_text()
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the server did not start")

    def client(self, address: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, transport=httpx.HTTPTransport(local_address=address))

    def family(self) -> list[int]:
        """The server process and its descendants (the query workers)."""
        parents: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    stat = Path(f"/proc/{name}/stat").read_text()
                except OSError:
                    continue
                parents[int(name)] = int(stat.rsplit(")", 1)[1].split()[1])
        family, frontier = [self.process.pid], [self.process.pid]
        while frontier:
            frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
            family += frontier
        return family

    def cpu_ticks(self) -> int:
        total = 0
        for pid in self.family():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def stop(self) -> float:
        """SIGTERM; the seconds until the process ended."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.log.close()
        return time.monotonic() - started


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dlom-home")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Server]:
    s = Server(home)
    yield s
    if s.process.poll() is None:
        s.stop()


class Probe(threading.Thread):
    """A well-behaved client asking a trivial query every 0.2 s, recording each answer and its time."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.client = server.client("127.0.0.2")
        self.answers: list[tuple[int, float]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                status = self.client.get("/sparql", params={"query": TRIVIAL}, timeout=5).status_code
            except httpx.HTTPError:
                status = -1
            self.answers.append((status, time.monotonic() - started))
            self.stopping.wait(0.2)


def _fire(server: Server, n: int, address: str = "127.0.0.1") -> tuple[list[threading.Thread], list[httpx.Response]]:
    answers: list[httpx.Response] = []

    def one() -> None:
        with server.client(address) as c:
            answers.append(c.get("/sparql", params={"query": RUNAWAY}))

    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    return threads, answers


def test_a_cross_product_is_refused_before_it_runs(server: Server) -> None:
    with server.client("127.0.0.2") as c:
        r = c.get("/sparql", params={"query": CROSS_PRODUCT})
    assert r.status_code == 400 and r.json()["cause"] == "cross product"
    assert "share no variable" in r.json()["detail"]


def test_runaway_queries_are_stopped_and_others_are_served(server: Server) -> None:
    with server.client("127.0.0.2") as c:
        # The query workers start with the server; on a loaded machine the first answer may be a refusal
        # (503/429 with Retry-After) while they do: asked again until they answer.
        deadline = time.monotonic() + 120
        while (ready := c.get("/sparql", params={"query": TRIVIAL})).status_code in (429, 503) \
                and time.monotonic() < deadline:
            time.sleep(1)
        assert ready.status_code == 200 and ready.json()["boolean"] is True, ready.text[:300]
        # The model listing is computed once, in the background at start-up (api.app.warm_in_background);
        # this waits for it (a page asked before it is done may pass the 2 s limit: 503, asked again): the
        # storm is about isolation, not the first listing's cost.
        deadline = time.monotonic() + 120
        while (status := c.post("/graphql", json={"query": "{ models(first: 1) { edges { node { id } } } }"}).status_code) == 503 \
                and time.monotonic() < deadline:
            time.sleep(1)
        assert status == 200
    # The rest of the start-up work (the facet and label indexes, built in the background) ends before
    # the storm, so what is measured after it is the storm's workers, not the start-up on a busy machine.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        ticks = server.cpu_ticks()
        time.sleep(1.0)
        if (server.cpu_ticks() - ticks) / os.sysconf("SC_CLK_TCK") < 0.05:
            break
    idle_before = server.cpu_ticks()
    probe = Probe(server)
    probe.start()
    fired = time.monotonic()
    threads, answers = _fire(server, 8)
    with server.client("127.0.0.3") as c:  # GraphQL from a third client, during the storm
        time.sleep(0.5)
        started = time.monotonic()
        page = c.post("/graphql", json={"query": "{ models(first: 5) { edges { node { id label } } } }"})
        graphql_s = time.monotonic() - started
    for t in threads:
        t.join(timeout=DEADLINE_S + 10)
    answered = time.monotonic() - fired
    time.sleep(1.0)
    probe.stopping.set()
    probe.join()

    statuses = sorted(r.status_code for r in answers)
    assert statuses == [429] * (8 - MAX_CONCURRENT) + [503] * MAX_CONCURRENT, [r.text for r in answers]
    assert all(r.headers.get("Retry-After") for r in answers)
    assert all("stopped" in r.json()["detail"] for r in answers if r.status_code == 503)
    assert answered < DEADLINE_S + 3
    assert page.status_code == 200 and len(page.json()["data"]["models"]["edges"]) == 5 and graphql_s < 1.0
    assert len(probe.answers) >= 10
    assert all(status == 200 for status, _ in probe.answers), probe.answers
    assert max(seconds for _, seconds in probe.answers) < 1.0, probe.answers

    # Idle within twice the deadline of the storm: the killed workers use no CPU any more.
    time.sleep(max(0.0, fired + 2 * DEADLINE_S - time.monotonic()))
    ticks = server.cpu_ticks()
    time.sleep(1.0)
    used = (server.cpu_ticks() - ticks) / os.sysconf("SC_CLK_TCK")
    assert used < 0.15, f"the server and its workers used {used:.2f} CPU-s in 1 s after the storm"
    assert server.cpu_ticks() >= idle_before


def test_sigterm_stops_the_server_within_5_s_and_keeps_acknowledged_writes(server: Server, home: Path) -> None:
    graph = "https://example.org/chaos/acknowledged"
    acknowledged = []
    with server.client("127.0.0.4") as c:
        for i in range(5):
            r = c.post("/sparql/update", content=f'INSERT DATA {{ GRAPH <{graph}> {{ <https://example.org/chaos/s{i}> '
                                                 f'<https://example.org/chaos/p> "{i}" }} }}',
                       headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
            assert r.status_code == 200, r.text
            acknowledged.append(f"https://example.org/chaos/s{i}")
    threads, _ = _fire(server, 4)  # queries running when the signal comes
    time.sleep(0.5)
    family = server.family()
    assert len(family) > 1  # the server has query workers
    took = server.stop()
    assert took < 5.0, f"SIGTERM took {took:.1f} s"
    time.sleep(0.2)
    assert not [pid for pid in family if Path(f"/proc/{pid}").exists()
                and "(Z)" not in Path(f"/proc/{pid}/stat").read_text()], "query workers outlived the server"
    again = Server(home)
    try:
        with again.client("127.0.0.4") as c:
            r = c.get("/sparql", params={"query": f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
        assert sorted(b["s"]["value"] for b in r.json()["results"]["bindings"]) == sorted(acknowledged)
    finally:
        assert again.stop() < 5.0


LOAD_S = 25.0


def read_subjects(server: Server, graph: str, page: int = 5000) -> set[str]:
    """Every subject in ``graph``, read page by page: a fast machine acknowledges more writes in the load
    than one answer may hold (``DLOM_MAX_ROWS``), and a truncated answer would look like lost writes."""
    subjects: set[str] = set()
    with server.client("127.0.3.1") as c:
        for offset in itertools.count(0, page):
            r = c.get("/sparql", params={"query": f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} "
                                                  f"ORDER BY ?s LIMIT {page} OFFSET {offset}"},
                      headers={"Accept": "application/sparql-results+json"})
            assert r.status_code == 200 and "DLOM-Results-Truncated" not in r.headers, r.text[:300]
            rows = [b["s"]["value"] for b in r.json()["results"]["bindings"]]
            subjects.update(rows)
            if len(rows) < page:
                return subjects
    raise AssertionError("unreachable")


def test_mixed_load(tmp_path: Path) -> None:
    """25 s of queries, GraphQL pages, recommendations and token-protected updates from 4 writers (each
    its own client): no 5xx, every acknowledged write present afterwards, the server's memory stable."""
    server = Server(tmp_path, deadline_s=15.0)
    graph = "https://example.org/load/writes"
    acknowledged: list[str] = []
    statuses: dict[str, list[int]] = {}
    rss: list[int] = []
    stop = time.monotonic() + LOAD_S
    lock = threading.Lock()

    def record(kind: str, status: int) -> None:
        with lock:
            statuses.setdefault(kind, []).append(status)

    def writer(i: int) -> None:
        with server.client(f"127.0.1.{i}") as c:
            n = 0
            while time.monotonic() < stop:
                subject = f"https://example.org/load/w{i}-{n}"
                r = c.post("/sparql/update", content=f'INSERT DATA {{ GRAPH <{graph}> {{ <{subject}> '
                                                     f'<https://example.org/load/n> "{n}" }} }}',
                           headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
                record("update", r.status_code)
                if r.status_code == 200:
                    with lock:
                        acknowledged.append(subject)
                n += 1

    def reader(i: int) -> None:
        cursor = None
        with server.client(f"127.0.2.{i}") as c:
            while time.monotonic() < stop:
                r = c.get("/sparql", params={"query": "SELECT ?m ?l WHERE { ?m a <https://w3id.org/dlom#Model> ; "
                                                      "<http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 20"})
                record("sparql", r.status_code)
                if r.status_code >= 500:
                    record(f"sparql {r.status_code}: {r.text[:300]}", r.status_code)
                after = f', after: "{cursor}"' if cursor else ""
                r = c.post("/graphql", json={"query": f"{{ models(first: 10{after}) {{ edges {{ node {{ id label "
                                                      "device { label } } } pageInfo { hasNextPage endCursor } } }"})
                record("graphql", r.status_code)
                if r.status_code == 200:
                    info = r.json()["data"]["models"]["pageInfo"]
                    cursor = info["endCursor"] if info["hasNextPage"] else None
                r = c.post("/api/recommend", params={"top_k": 3},
                           json={"performance": {"max_latency_ms": 100}})
                record("recommend", r.status_code)

    try:
        # The candidate set of a requirement is computed once per state of the DLOM vocabularies (several
        # seconds on the shipped graph, issue 18) and writes of other predicates keep it (kg.derived_results):
        # asked once before the load, so the load measures isolation, not that first computation.
        # On a slow machine the first computation may pass the server's deadline (503 with Retry-After):
        # asked again until it is kept.
        with server.client("127.0.3.1") as c:
            c.timeout = httpx.Timeout(60)
            deadline = time.monotonic() + 180
            while (first := c.post("/api/recommend", params={"top_k": 3},
                                   json={"performance": {"max_latency_ms": 100}})).status_code == 503 \
                    and time.monotonic() < deadline:
                time.sleep(1)
            assert first.status_code == 200, first.text[:300]
        stop = time.monotonic() + LOAD_S
        threads = [threading.Thread(target=writer, args=(i,)) for i in range(1, 5)]
        threads += [threading.Thread(target=reader, args=(i,)) for i in range(1, 3)]
        for t in threads:
            t.start()
        while time.monotonic() < stop:
            rss.append(server.rss_bytes())
            time.sleep(1.0)
        for t in threads:
            t.join(timeout=60)
        for kind, seen in statuses.items():
            assert seen and all(s < 500 for s in seen), (kind, sorted(set(seen)))
            assert seen.count(200) >= len(seen) * 0.9, (kind, sorted(set(seen)))
        assert len(acknowledged) >= 20
        stored = read_subjects(server, graph)
        assert set(acknowledged) <= stored and len(stored) == len(acknowledged)
        # Memory: the second half of the run grows by less than 64 MiB over the first half's peak.
        half = len(rss) // 2
        assert max(rss[half:]) - max(rss[:half]) < 64 << 20, [r >> 20 for r in rss]
    finally:
        server.stop()
