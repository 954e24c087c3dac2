"""The paper's four repositories (§5.2) as named graphs, plus one for the ontology.

Every subject is routed to the repository of its class; queries see the union of all of them.
"""
from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from typing import overload

from pyoxigraph import NamedNode, Quad, Triple

from kg.namespaces import DLOM, RDF


class Repository(Enum):
    ONTOLOGY = "https://w3id.org/dlom/graph/ontology"
    DLN_PARAMETERS = "https://w3id.org/dlom/graph/dln-parameters"
    CLIENT_CONFIGURATIONS = "https://w3id.org/dlom/graph/client-configurations"
    SERVER_CONFIGURATIONS = "https://w3id.org/dlom/graph/server-configurations"
    MODELS_AND_PERFORMANCE = "https://w3id.org/dlom/graph/models-and-performance"

    @property
    def graph(self) -> NamedNode:
        return NamedNode(self.value)


_CLASSES_BY_REPOSITORY: dict[Repository, tuple[str, ...]] = {
    Repository.DLN_PARAMETERS: ("DLN",),
    Repository.CLIENT_CONFIGURATIONS: (
        "EndDevice", "BenchmarkHost", "Hardware", "Framework", "Compiler", "OptimizationTechnique", "Quantization", "Pruning",
        "KnowledgeDistillation", "TensorDecomposition", "FineTuning", "HardwareOptimization",
    ),
    Repository.SERVER_CONFIGURATIONS: ("CloudConfiguration", "FogComputing", "ShieldedExecution"),
    Repository.ONTOLOGY: ("Objective", "TechniqueEffect"),
}
_BY_CLASS: dict[str, Repository] = {
    DLOM[name].value: repo for repo, names in _CLASSES_BY_REPOSITORY.items() for name in names
}


def repository_for_types(types: Iterable[str]) -> Repository:
    """The repository for a subject with the given rdf:type IRIs; models, performance, provenance and
    anything unclassified go to the models-and-performance repository."""
    for t in types:
        repo = _BY_CLASS.get(t)
        if repo is not None:
            return repo
    return Repository.MODELS_AND_PERFORMANCE


class QuadsByGraph(Sequence[Quad]):
    """Quads held as triples grouped by named graph, each group in the order given. It reads as the
    sequence of its quads, graph by graph (made as they are read); a store may load each group whole
    instead (:meth:`kg.stores.oxigraph.OxigraphStore.bulk_add`), without a quad object per triple."""

    def __init__(self, by_graph: dict[NamedNode, list[Triple]]) -> None:
        self.by_graph = by_graph
        self._starts = list(itertools.accumulate((len(ts) for ts in by_graph.values()), initial=0))

    def __len__(self) -> int:
        return self._starts[-1]

    def __iter__(self) -> Iterator[Quad]:
        for g, triples in self.by_graph.items():
            for t in triples:
                yield Quad(t.subject, t.predicate, t.object, g)

    @overload
    def __getitem__(self, i: int) -> Quad: ...
    @overload
    def __getitem__(self, i: slice) -> list[Quad]: ...

    def __getitem__(self, i: int | slice) -> Quad | list[Quad]:
        if isinstance(i, slice):
            return [self[k] for k in range(len(self))[i]]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        k = bisect.bisect_right(self._starts, i) - 1
        g, triples = list(self.by_graph.items())[k]
        t = triples[i - self._starts[k]]
        return Quad(t.subject, t.predicate, t.object, g)


def route_by_graph(triples: Iterable[Triple], known_types: dict[str, list[str]] | None = None) -> QuadsByGraph:
    """Place each triple in the named graph of its subject's class.

    The subject's types come from the triples themselves, then from ``known_types`` (types already in
    the store, for writes that add to an existing entity), keyed by IRI (a blank node by its ``str``).
    """
    triples = list(triples)
    types: dict[object, list[str]] = {}
    rdf_type = RDF.type
    for t in triples:
        if t.predicate == rdf_type and isinstance(t.object, NamedNode):
            types.setdefault(t.subject, []).append(t.object.value)
    known_types = known_types or {}
    graphs: dict[object, list[Triple]] = {}
    by_graph: dict[NamedNode, list[Triple]] = {}
    for t in triples:
        subject = t.subject
        group = graphs.get(subject)
        if group is None:
            subject_types = types.get(subject) or known_types.get(subject.value if isinstance(subject, NamedNode) else str(subject), [])
            g = repository_for_types(subject_types).graph
            group = graphs[subject] = by_graph.setdefault(g, [])
        group.append(t)
    return QuadsByGraph(by_graph)


def route(triples: Iterable[Triple], known_types: dict[str, list[str]] | None = None) -> list[Quad]:
    """The quads of :func:`route_by_graph`, graph by graph."""
    return list(route_by_graph(triples, known_types))
