#!/usr/bin/env python3
"""Start real Neo4j and Fuseki servers on loopback ports for DLOM's store-backend tests.

Both come from Maven Central through ``mvn`` (cached in ``~/.m2``, so only the first run downloads):

* Neo4j 5.26 (embedded, via ``org.neo4j.test:neo4j-harness``): ``tests/servers/neo4j/pom.xml`` is
  resolved to a classpath, ``tests/servers/neo4j/src/Neo4jTestServer.java`` is compiled with ``javac``
  and run with only the Bolt connector on ``127.0.0.1:PORT`` (auth off, throw-away data).
* Fuseki (``org.apache.jena:jena-fuseki-server``, ``tests/servers/fuseki/pom.xml``) with an in-memory,
  updatable dataset ``/ds`` on ``127.0.0.1:PORT``.

Needs Java 17+ and Maven on PATH. Used by the pytest plugin ``tests/conftest_backends.py`` (which starts
the servers itself when ``DLOM_TEST_NEO4J_URL`` / ``DLOM_TEST_FUSEKI_URL`` are not set) and by hand:

    python scripts/start_test_servers.py            # start both, print their URLs, stop on Ctrl-C
    python scripts/start_test_servers.py --prefetch # only download and compile (e.g. a CI cache step)

Progress goes to stderr; each server's own log goes to ``<cache>/<name>-<port>.log``.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVERS = REPO / "tests" / "servers"
CACHE = Path(os.environ.get("DLOM_TEST_SERVER_CACHE", Path.home() / ".cache" / "dlom" / "test-servers"))
MAVEN_TIMEOUT_S = 900  # a cold ~/.m2 downloads ~150 MB
START_TIMEOUT_S = 180


class ServerStartError(RuntimeError):
    """A server could not be prepared or started; the message says why (and where its log is)."""


def log(message: str) -> None:
    print(f"[test-servers] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the OS picks it, so parallel runs do not collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ServerStartError(f"{tool!r} is not on PATH (Java 17+ and Maven are needed for the test servers)")
    return path


def _maven(args: list[str], what: str) -> None:
    mvn = _require("mvn")
    CACHE.mkdir(parents=True, exist_ok=True)
    log_path = CACHE / "maven.log"
    log(f"maven: {what} (first run downloads from Maven Central into ~/.m2; log: {log_path})")
    started = time.monotonic()
    with open(log_path, "a") as out:
        try:
            done = subprocess.run([mvn, "-B", "-ntp", *args], stdout=out, stderr=subprocess.STDOUT,
                                  timeout=MAVEN_TIMEOUT_S, cwd=REPO)
        except subprocess.TimeoutExpired:
            raise ServerStartError(f"maven did not finish '{what}' in {MAVEN_TIMEOUT_S} s (log: {log_path})") from None
    if done.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        raise ServerStartError(f"maven failed to {what} (exit {done.returncode}, log: {log_path}):\n" + "\n".join(tail))
    log(f"maven: {what}: done in {time.monotonic() - started:.1f} s")


@contextlib.contextmanager
def _cache_lock(name: str) -> Iterator[None]:
    """Held while one process prepares ``name`` in the cache: parallel test workers (pytest-xdist)
    each start their own servers, and the first prepares them while the others wait."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def prepare_neo4j() -> tuple[Path, str]:
    """Resolve the harness classpath and compile the launcher; returns (classes dir, classpath)."""
    with _cache_lock("neo4j"):
        return _prepare_neo4j()


def _prepare_neo4j() -> tuple[Path, str]:
    pom = SERVERS / "neo4j" / "pom.xml"
    source = SERVERS / "neo4j" / "src" / "Neo4jTestServer.java"
    work = CACHE / "neo4j"
    work.mkdir(parents=True, exist_ok=True)
    cp_file = work / "classpath.txt"
    if not cp_file.exists() or cp_file.stat().st_mtime < pom.stat().st_mtime:
        _maven(["-q", "-f", str(pom), "dependency:build-classpath", f"-Dmdep.outputFile={cp_file}"],
               "resolve Neo4j harness")
    classpath = cp_file.read_text().strip()
    missing = [p for p in classpath.split(os.pathsep) if p and not Path(p).exists()]
    if missing:  # ~/.m2 was cleaned since: resolve again
        cp_file.unlink()
        return _prepare_neo4j()
    classes = work / "classes"
    compiled = classes / "Neo4jTestServer.class"
    if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
        classes.mkdir(exist_ok=True)
        log("javac: compiling Neo4jTestServer")
        done = subprocess.run([_require("javac"), "-cp", classpath, "-d", str(classes), str(source)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise ServerStartError(f"javac failed on {source}:\n{done.stderr[-2000:]}")
    return classes, classpath


def prepare_fuseki() -> Path:
    """The Fuseki server jar (copied out of ~/.m2 into the cache)."""
    with _cache_lock("fuseki"):
        return _prepare_fuseki()


def _prepare_fuseki() -> Path:
    pom = SERVERS / "fuseki" / "pom.xml"
    out = CACHE / "fuseki"
    jars = sorted(out.glob("jena-fuseki-server-*.jar")) if out.exists() else []
    if not jars:
        _maven(["-q", "-f", str(pom), "dependency:copy-dependencies", "-DexcludeTransitive=true",
                f"-DoutputDirectory={out}"], "fetch the Fuseki server jar")
        jars = sorted(out.glob("jena-fuseki-server-*.jar"))
    if not jars:
        raise ServerStartError(f"no jena-fuseki-server jar in {out} after maven ran")
    return jars[-1]


@dataclass
class RunningServer:
    """A server process we started; :meth:`stop` ends it (and only it)."""

    name: str
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path
    workdir: Path
    _stopped: bool = field(default=False, repr=False)

    def stop(self, timeout_s: float = 30.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # both JVMs shut down cleanly on SIGTERM
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop in {timeout_s:g} s; killing pid {self.process.pid}")
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)
        log(f"{self.name} on port {self.port} stopped")


def _launch(name: str, command: list[str], port: int, ready, url: str, cwd: Path) -> RunningServer:
    CACHE.mkdir(parents=True, exist_ok=True)
    log_path = CACHE / f"{name}-{port}.log"
    log(f"starting {name} on 127.0.0.1:{port} (log: {log_path})")
    with open(log_path, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=cwd, start_new_session=True)
    server = RunningServer(name, url, port, process, log_path, cwd)
    deadline = time.monotonic() + START_TIMEOUT_S
    started = time.monotonic()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
            server.stop()
            raise ServerStartError(f"{name} exited with code {process.returncode} while starting:\n{tail}")
        if port_open(port) and ready():
            log(f"{name} ready at {url} after {time.monotonic() - started:.1f} s")
            return server
        time.sleep(0.5)
    server.stop()
    raise ServerStartError(f"{name} did not become ready on port {port} within {START_TIMEOUT_S} s (log: {log_path})")


def start_neo4j(port: int | None = None) -> RunningServer:
    """A real Neo4j 5 with Bolt on 127.0.0.1; raises :class:`ServerStartError` with the reason."""
    _require("java")
    classes, classpath = prepare_neo4j()
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="dlom-neo4j-"))
    log_path = CACHE / f"neo4j-{port}.log"
    command = [_require("java"), "-Xms1g", "-Xmx2g", "-XX:+UseParallelGC",
               "-cp", f"{classes}{os.pathsep}{classpath}", "Neo4jTestServer", str(port), str(workdir / "db")]
    return _launch("neo4j", command, port, lambda: "READY" in log_path.read_text(errors="replace"),
                   f"neo4j://127.0.0.1:{port}", workdir)


def _fuseki_ready(port: int) -> bool:
    data = urllib.parse.urlencode({"query": "ASK {}"}).encode()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ds/query", data=data, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_fuseki(port: int | None = None) -> RunningServer:
    """A real Fuseki with an in-memory, updatable ``/ds`` on 127.0.0.1."""
    java = _require("java")
    jar = prepare_fuseki()
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="dlom-fuseki-"))
    # --timeout: a query a client gave up on must not keep the test server busy (or hold its locks).
    command = [java, "-Xmx1g", "-jar", str(jar), "--localhost", "--port", str(port), "--timeout=30000",
               "--mem", "--update", "/ds"]
    return _launch("fuseki", command, port, lambda: _fuseki_ready(port),
                   f"sparql+http://127.0.0.1:{port}/ds", workdir)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefetch", action="store_true", help="download and compile only, start nothing")
    parser.add_argument("--only", choices=["neo4j", "fuseki"], help="start just one of them")
    parser.add_argument("--neo4j-port", type=int)
    parser.add_argument("--fuseki-port", type=int)
    args = parser.parse_args()
    try:
        if args.prefetch:
            if args.only in (None, "neo4j"):
                prepare_neo4j()
            if args.only in (None, "fuseki"):
                prepare_fuseki()
            log("prefetch done")
            return 0
        servers = []
        if args.only in (None, "neo4j"):
            servers.append(start_neo4j(args.neo4j_port))
        if args.only in (None, "fuseki"):
            servers.append(start_fuseki(args.fuseki_port))
    except ServerStartError as e:
        log(f"error: {e}")
        return 1
    for server in servers:
        env = "DLOM_TEST_NEO4J_URL" if server.name == "neo4j" else "DLOM_TEST_FUSEKI_URL"
        print(f"export {env}={server.url}", flush=True)
    stop = False

    def request_stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        while not stop and all(s.process.poll() is None for s in servers):
            time.sleep(0.5)
    finally:
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
