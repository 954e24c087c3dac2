"""First-run set-up of a store: the ontology and the knowledge graph DLOM ships."""
from __future__ import annotations

from pathlib import Path

from pyoxigraph import Quad

from kg.dump import read_nquads
from kg.ontology import ontology_quads
from kg.repositories import Repository
from kg.store import Store

SHIPPED_DIR = Path(__file__).parent / "data"


def shipped_files() -> list[Path]:
    """The shipped knowledge-graph files: ``dlom-kg.nq.gz`` (every MLPerf Tiny round, built by
    ``scripts/build_shipped_graph.py``) and ``bench-sweep.nq.gz`` (DLOM's own measured sweep)."""
    return sorted(SHIPPED_DIR.glob("*.nq.gz"))


def shipped_quads() -> list[Quad]:
    """The quads of every shipped file."""
    return [q for path in shipped_files() for q in read_nquads(path)]


def ensure_initialized(store: Store, with_shipped_graph: bool = True) -> bool:
    """Load the ontology (and the shipped graph) into a store that has no ontology yet.

    Returns True when it loaded something. One atomic bulk write: a killed first run leaves an empty
    store, and the next run starts over.
    """
    if store.count(Repository.ONTOLOGY.graph):
        return False
    quads = list(ontology_quads())
    if with_shipped_graph:
        quads += [q for q in shipped_quads() if q.graph_name != Repository.ONTOLOGY.graph]
    store.bulk_add(quads)
    return True
