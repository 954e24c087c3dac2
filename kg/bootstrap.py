"""First-run set-up of a store: the ontology and the knowledge graph DLOM ships."""
from __future__ import annotations

import gzip
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


def shipped_nquads() -> bytes:
    """The N-Quads text of every shipped file, decompressed (none holds the ontology graph: the build
    writes the graph without it, and :func:`ensure_initialized` adds the current ontology)."""
    return b"".join(gzip.decompress(path.read_bytes()) for path in shipped_files())


def ensure_initialized(store: Store, with_shipped_graph: bool = True) -> bool:
    """Load the ontology (and the shipped graph) into a store that has no ontology yet.

    Returns True when it loaded something. Two atomic writes, the shipped graph through the store's
    native N-Quads bulk path, then the ontology: the ontology marks a store initialized, so a run
    killed before it wrote the ontology is redone (adding the same quads again changes nothing).
    """
    if store.count(Repository.ONTOLOGY.graph):
        return False
    if with_shipped_graph:
        store.load_nquads(shipped_nquads())
    store.bulk_add(list(ontology_quads()))
    return True
