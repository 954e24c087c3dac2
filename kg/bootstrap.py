"""First-run set-up of a store: the ontology and the knowledge graph DLOM ships."""
from __future__ import annotations

from pathlib import Path

from pyoxigraph import Quad

from kg.dump import read_nquads
from kg.ontology import ontology_quads
from kg.repositories import Repository
from kg.store import Store

SHIPPED_GRAPH = Path(__file__).parent / "data" / "dlom-kg.nq.gz"


def shipped_quads() -> list[Quad]:
    """The shipped knowledge graph (built from all MLPerf Tiny rounds by ``scripts/build_shipped_graph.py``)."""
    return read_nquads(SHIPPED_GRAPH) if SHIPPED_GRAPH.exists() else []


def ensure_initialized(store: Store, with_shipped_graph: bool = True) -> bool:
    """Load the ontology (and the shipped graph) into a store that has no ontology yet.

    Returns True when it loaded something. One transaction: a killed first run leaves an empty store,
    and the next run starts over.
    """
    if store.count(Repository.ONTOLOGY.graph):
        return False
    quads = list(ontology_quads())
    if with_shipped_graph:
        quads += [q for q in shipped_quads() if q.graph_name != Repository.ONTOLOGY.graph]
    store.add(quads)
    return True
