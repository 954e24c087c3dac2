"""Shared fixtures: stores, the shared data directory."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

from conftest_backends import SERVER_MODULES
from kg.bootstrap import ensure_initialized
from kg.ontology import ontology_quads
from kg.store import Store, open_store

# The fixtures that start real Neo4j and Fuseki servers (any_store, neo4j_url, fuseki_url).
pytest_plugins = ["conftest_backends"]

# The suite starts many servers on the shipped graph; each would load the prediction model after
# start-up (tens of seconds of CPU). They load it when a request needs it; tests/test_build_new.py
# turns the warm-up on for its server and checks it.
os.environ["DLOM_WARM_PREDICTOR"] = "0"
# Likewise the facet index (decision.facet_index): a server's background build would compete with the
# tests for the CPU; tests/test_facet_index.py builds it where it is tested.
os.environ["DLOM_WARM_FACET_INDEX"] = "0"

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
MLPERF_TINY = SHARED / "data" / "mlperf-tiny"
W3C_SPARQL11 = SHARED / "data" / "w3c-sparql11"


class LoadFileSharingServers(LoadFileScheduling):
    """``--dist loadfile``, except that the modules using the Neo4j and Fuseki test servers
    (tests/conftest_backends.py) go to one worker together, so each server starts once per run, not once
    per worker (a Neo4j start costs about a minute of CPU). pytest-xdist's own ``loadgroup`` cannot do
    it here: its group marks do not reach the scheduler under pytest 9."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return "test-servers" if Path(module).name in SERVER_MODULES else module


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadFileScheduling | None:
    return LoadFileSharingServers(config, log) if config.getvalue("dist") == "loadfile" else None


@pytest.fixture
def store() -> Iterator[Store]:
    """An in-memory store with the ontology loaded (no shipped graph)."""
    s = open_store("oxigraph://")
    s.add(ontology_quads())
    yield s
    s.close()


@pytest.fixture
def disk_store(tmp_path: Path) -> Iterator[Store]:
    """An on-disk store with the ontology loaded."""
    s = open_store(f"oxigraph://{tmp_path / 'store'}")
    s.add(ontology_quads())
    yield s
    s.close()


@pytest.fixture(scope="module")
def shipped() -> Iterator[Store]:
    """An in-memory store with the ontology and the shipped graph, as ``dlom init`` leaves one; one per
    test module (its tests may write to it)."""
    s = open_store("oxigraph://")
    ensure_initialized(s)
    yield s
    s.close()
