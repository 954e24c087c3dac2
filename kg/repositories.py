"""The paper's four repositories (§5.2) as named graphs, plus one for the ontology.

Every subject is routed to the repository of its class; queries see the union of all of them.
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

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


def route(triples: Iterable[Triple], known_types: dict[str, list[str]] | None = None) -> list[Quad]:
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
    graphs: dict[object, NamedNode] = {}
    quads = []
    append = quads.append
    for t in triples:
        subject = t.subject
        g = graphs.get(subject)
        if g is None:
            subject_types = types.get(subject) or known_types.get(subject.value if isinstance(subject, NamedNode) else str(subject), [])
            g = graphs[subject] = repository_for_types(subject_types).graph
        append(Quad(subject, t.predicate, t.object, g))
    return quads
