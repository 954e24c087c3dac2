"""The DLOM ontology files and what code needs from them (class hierarchy, shapes)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from pyoxigraph import Quad

from kg.namespaces import RDFS
from kg.repositories import Repository

ONTOLOGY_DIR = Path(__file__).parent
ONTOLOGY_FILE = ONTOLOGY_DIR / "dlom.ttl"
EFFECTS_FILE = ONTOLOGY_DIR / "effects.ttl"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"


@lru_cache(maxsize=1)
def ontology_quads() -> tuple[Quad, ...]:
    """The ontology and Table 1's effects, placed in the ontology named graph."""
    graph = Repository.ONTOLOGY.graph
    quads: list[Quad] = []
    for path in (ONTOLOGY_FILE, EFFECTS_FILE):
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            quads.append(Quad(t.subject, t.predicate, t.object, graph))
    return tuple(quads)


@lru_cache(maxsize=1)
def superclasses() -> dict[str, frozenset[str]]:
    """For each class IRI of the ontology, itself and all its (transitive) superclasses."""
    direct: dict[str, set[str]] = {}
    for q in ontology_quads():
        if q.predicate == RDFS.subClassOf and isinstance(q.object, ox.NamedNode):
            direct.setdefault(q.subject.value, set()).add(q.object.value)
    closure: dict[str, frozenset[str]] = {}

    def up(c: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        if c in closure:
            return closure[c]
        result = {c}
        for parent in direct.get(c, ()):
            if parent not in seen:
                result |= up(parent, seen | {c})
        closure[c] = frozenset(result)
        return closure[c]

    for c in list(direct):
        up(c)
    return closure


def class_closure(types: set[str] | list[str]) -> set[str]:
    """The given classes and all their superclasses."""
    sup = superclasses()
    out: set[str] = set()
    for t in types:
        out |= sup.get(t, {t})
    return out
