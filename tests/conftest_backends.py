"""Store backends for tests: the embedded store plus real Neo4j and Fuseki servers on loopback ports.

Its fixtures are registered for every test module by ``pytest_plugins`` in tests/conftest.py;
each server is started at most once per test process (the
first fixture that needs it starts it; it is stopped when the process exits) by
``scripts/start_test_servers.py`` (Maven downloads cached in ~/.m2). Set ``DLOM_TEST_NEO4J_URL`` /
``DLOM_TEST_FUSEKI_URL`` to use servers that are already running instead. A test that needs a server
is skipped, with the reason, only when the server cannot be started (e.g. no Java or Maven).
"""
from __future__ import annotations

import atexit
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from kg.ontology import ontology_quads
from kg.store import Store, open_store

REPO = Path(__file__).resolve().parent.parent
BACKENDS = ["oxigraph", "neo4j", "sparql"]
# The modules that use the servers: tests/conftest.py schedules them on one worker.
SERVER_MODULES = frozenset({"test_backends_parity.py", "test_store_backends.py", "test_migrate.py"})


def _launcher() -> ModuleType:
    if "start_test_servers" in sys.modules:
        return sys.modules["start_test_servers"]
    spec = importlib.util.spec_from_file_location("start_test_servers", REPO / "scripts" / "start_test_servers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_started: dict[str, str] = {}  # server name → URL, shared by every module that imports these fixtures
_failed: dict[str, str] = {}  # server name → why it could not start (not retried)


def server_url(name: str) -> str:
    """The store URL of a running ``neo4j`` or ``fuseki`` test server, starting it on first use."""
    env = {"neo4j": "DLOM_TEST_NEO4J_URL", "fuseki": "DLOM_TEST_FUSEKI_URL"}[name]
    if os.environ.get(env):
        return os.environ[env]
    if name in _started:
        return _started[name]
    if name in _failed:
        pytest.skip(f"{name} test server unavailable: {_failed[name]}")
    launcher = _launcher()
    try:
        server = launcher.start_neo4j() if name == "neo4j" else launcher.start_fuseki()
    except launcher.ServerStartError as e:
        _failed[name] = str(e)
        pytest.skip(f"{name} test server unavailable: {e}")
    atexit.register(server.stop)
    _started[name] = server.url
    return server.url


def backend_url(backend: str) -> str:
    """A store URL for one of :data:`BACKENDS` (``oxigraph`` is in-memory, the others are servers)."""
    if backend == "oxigraph":
        return "oxigraph://"
    return server_url("neo4j" if backend == "neo4j" else "fuseki")


def fresh_store(backend: str, *, with_ontology: bool = True) -> Store:
    """An empty store of the backend (servers are cleared), with the ontology loaded unless told not to."""
    store = open_store(backend_url(backend))
    store.clear()
    if with_ontology:
        store.add(ontology_quads())
    return store


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """Each backend in turn: an empty store holding only the ontology."""
    store = fresh_store(request.param)
    yield store
    store.close()


@pytest.fixture
def neo4j_url() -> str:
    return server_url("neo4j")


@pytest.fixture
def fuseki_url() -> str:
    return server_url("fuseki")
