"""kg/validation.py's own SHACL Core checks agree with pySHACL on kg/ontology/shapes.ttl.

Each case is a batch of triples; both validators must give the same verdict and the same set of
(focus node, property path) violations. pySHACL runs with the ontology as ``ont_graph`` (so the
``rdfs:subClassOf`` triples make subclass instances targets) and with ``inference='rdfs'``, and again
without inference.

One deliberate difference: with RDFS inference, pySHACL types a node from the ``rdfs:range`` of the
property that points at it (``?m dlom:usesDLN ?x`` makes ``?x`` a ``dlom:DLN``), so an ``sh:class``
constraint on such a property can never fail there, and a literal wrongly given as the value of such
a property (``?m dlom:hasPerformance "fast"``) becomes a ``dlom:Performance`` focus node itself.
DLOM's validator does no such inference (a write is not made valid, or judged, by the very link whose
target is wrong), so those cases are compared with pySHACL without inference only
(``rdfs_range_artefact=True``); the test below pins the difference down.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pytest
import rdflib
from pyoxigraph import Literal, NamedNode, Triple

from kg.errors import ValidationError
from kg.namespaces import DLOM, PREFIXES, PROV, RDF, RDFS, XSD
from kg.ontology import ONTOLOGY_FILE, SHAPES_FILE
from kg.repositories import Repository
from kg.validation import validate
from kg.writes import existing_counts, existing_types, write_triples

pyshacl = pytest.importorskip("pyshacl")

EX = "https://example.org/v/"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def ex(name: str) -> NamedNode:
    return NamedNode(EX + name)


def lit(value: str, datatype: NamedNode | None = None) -> Literal:
    return Literal(value, datatype=datatype) if datatype else Literal(value)


def dec(value: str) -> Literal:
    return Literal(value, datatype=XSD.decimal)


def integer(value: int) -> Literal:
    return Literal(str(value), datatype=XSD.integer)


def valid_record() -> list[Triple]:
    """A complete, valid deployment: model, DLN, device, two techniques, cloud, performance, run."""
    t = [
        (ex("m"), RDF.type, DLOM.Model), (ex("m"), RDFS.label, lit("model")),
        (ex("m"), DLOM.usesDLN, ex("dln")), (ex("m"), DLOM.deployedOn, ex("dev")),
        (ex("m"), DLOM.appliesOptimization, ex("q")), (ex("m"), DLOM.appliesOptimization, ex("pr")),
        (ex("m"), DLOM.usesCloudConfiguration, ex("cloud")), (ex("m"), DLOM.hasPerformance, ex("perf")),
        (ex("m"), DLOM.yearCreated, integer(2022)), (ex("m"), DLOM.totalCostUsd, dec("70.5")),
        (ex("dln"), RDF.type, DLOM.DLN), (ex("dln"), RDFS.label, lit("ResNet-50")), (ex("dln"), DLOM.numberOfLayers, integer(50)),
        (ex("dev"), RDF.type, DLOM.EndDevice), (ex("dev"), RDFS.label, lit("Pi")), (ex("dev"), DLOM.memoryKB, integer(1024)),
        (ex("dev"), DLOM.priceUsd, dec("70")), (ex("dev"), DLOM.usesFramework, ex("fw")),
        (ex("fw"), RDF.type, DLOM.Framework), (ex("fw"), RDFS.label, lit("TFLite")),
        (ex("q"), RDF.type, DLOM.Quantization), (ex("q"), RDFS.label, lit("int8")), (ex("q"), DLOM.bitWidth, integer(8)),
        (ex("pr"), RDF.type, DLOM.Pruning), (ex("pr"), RDFS.label, lit("50%")), (ex("pr"), DLOM.sparsity, dec("0.5")),
        (ex("cloud"), RDF.type, DLOM.CloudConfiguration), (ex("cloud"), RDFS.label, lit("tier")),
        (ex("cloud"), DLOM.shieldedExecution, Literal("true", datatype=XSD.boolean)),
        (ex("perf"), RDF.type, DLOM.MeasuredPerformance), (ex("perf"), RDFS.label, lit("perf")),
        (ex("perf"), DLOM.accuracy, dec("0.9")), (ex("perf"), DLOM.inferenceLatencyMs, dec("12.5")),
        (ex("perf"), PROV.wasGeneratedBy, ex("run")),
        (ex("run"), RDF.type, DLOM.BenchmarkRun), (ex("run"), RDFS.label, lit("run")),
    ]
    return [Triple(*x) for x in t]


def changed(remove: list[tuple] = (), add: list[tuple] = ()) -> list[Triple]:  # type: ignore[assignment]
    drop = {Triple(*x) for x in remove}
    return [t for t in valid_record() if t not in drop] + [Triple(*x) for x in add]


@dataclass
class Case:
    name: str
    triples: list[Triple]
    constraint: str  # which SHACL constraint the case violates ("" for a valid batch)
    rdfs_range_artefact: bool = False


CASES = [
    Case("valid", valid_record(), ""),
    # (a model may run server-side only, without dlom:deployedOn: its DLN is what it cannot lack)
    Case("minCount", changed(remove=[(ex("m"), DLOM.usesDLN, ex("dln"))]), "minCount"),
    Case("minCount-subclass-target", changed(remove=[(ex("q"), RDFS.label, lit("int8"))]), "minCount"),
    Case("maxCount", changed(add=[(ex("m"), DLOM.usesDLN, ex("dln2")), (ex("dln2"), RDF.type, DLOM.DLN),
                                  (ex("dln2"), RDFS.label, lit("other"))]), "maxCount"),
    Case("datatype", changed(add=[(ex("m"), DLOM.purpose, integer(3))]), "datatype"),
    Case("or-datatype", changed(remove=[(ex("dev"), DLOM.priceUsd, dec("70"))],
                                add=[(ex("dev"), DLOM.priceUsd, lit("cheap"))]), "or"),
    Case("class-prov", changed(remove=[(ex("perf"), PROV.wasGeneratedBy, ex("run"))],
                               add=[(ex("perf"), PROV.wasGeneratedBy, ex("dev"))]), "class"),
    Case("class-range-typed", changed(remove=[(ex("m"), DLOM.usesDLN, ex("dln"))],
                                      add=[(ex("m"), DLOM.usesDLN, ex("fw"))]), "class", rdfs_range_artefact=True),
    Case("nodeKind", changed(add=[(ex("m"), DLOM.hasPerformance, lit("fast"))]), "nodeKind", rdfs_range_artefact=True),
    Case("nodeKind-literal", changed(remove=[(ex("dln"), RDFS.label, lit("ResNet-50"))],
                                     add=[(ex("dln"), RDFS.label, ex("label-iri"))]), "nodeKind"),
    Case("minInclusive", changed(add=[(ex("m"), DLOM.numberOfIoTDevices, integer(0))]), "minInclusive"),
    Case("maxInclusive", changed(remove=[(ex("perf"), DLOM.accuracy, dec("0.9"))],
                                 add=[(ex("perf"), DLOM.accuracy, dec("1.7"))]), "maxInclusive"),
    Case("maxInclusive-subclass", changed(remove=[(ex("q"), DLOM.bitWidth, integer(8))],
                                          add=[(ex("q"), DLOM.bitWidth, integer(65))]), "maxInclusive"),
    Case("minExclusive", changed(remove=[(ex("perf"), DLOM.inferenceLatencyMs, dec("12.5"))],
                                 add=[(ex("perf"), DLOM.inferenceLatencyMs, dec("0"))]), "minExclusive"),
    Case("minLength", changed(remove=[(ex("fw"), RDFS.label, lit("TFLite"))], add=[(ex("fw"), RDFS.label, lit(""))]), "minLength"),
    Case("several", changed(remove=[(ex("perf"), DLOM.accuracy, dec("0.9")), (ex("m"), RDFS.label, lit("model"))],
                            add=[(ex("perf"), DLOM.accuracy, dec("-1")), (ex("pr"), DLOM.sparsity, dec("2"))]), "several"),
]


@lru_cache(maxsize=1)
def shapes_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES_FILE, format="turtle")


@lru_cache(maxsize=1)
def ontology_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")


def pyshacl_report(triples: list[Triple], inference: str) -> tuple[bool, set[tuple[str, str]]]:
    data = rdflib.Graph().parse(data="".join(f"{t} .\n" for t in triples), format="nt")
    conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes_graph(), ont_graph=ontology_graph(),
                                            inference=inference, advanced=False)
    found = set()
    for result in results.subjects(RDF_TYPE, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        path = results.value(result, SH.resultPath)
        found.add((str(focus), str(path)))
    return bool(conforms), found


RDF_TYPE = rdflib.RDF.type


def expand(path: str | None) -> str:
    for prefix, ns in PREFIXES.items():
        if path and path.startswith(prefix + ":"):
            return ns + path[len(prefix) + 1:]
    return (path or "").strip("<>")


def dlom_report(triples: list[Triple], store=None) -> tuple[bool, set[tuple[str, str]]]:
    kwargs = {}
    if store is not None:
        kwargs = {"existing_types": lambda iris: existing_types(store, iris),
                  "existing_counts": lambda pairs: existing_counts(store, pairs)}
    violations = validate(triples, **kwargs)
    return not violations, {(v.focus, expand(v.path)) for v in violations}


def test_every_constraint_kind_is_violated_by_some_case() -> None:
    used = {c.constraint for c in CASES}
    assert {"minCount", "maxCount", "datatype", "or", "class", "nodeKind", "minInclusive", "maxInclusive",
            "minExclusive", "minLength", ""} <= used


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("inference", ["rdfs", "none"])
def test_agrees_with_pyshacl(case: Case, inference: str) -> None:
    if inference == "rdfs" and case.rdfs_range_artefact:
        pytest.skip("RDFS range inference types the value from the property (see module docstring)")
    expected = pyshacl_report(case.triples, inference)
    actual = dlom_report(case.triples)
    assert actual == expected
    assert actual[0] == (case.constraint == "")


def test_range_inference_is_the_only_difference_for_range_typed_class_constraints() -> None:
    case = next(c for c in CASES if c.name == "class-range-typed")
    conforms, _ = pyshacl_report(case.triples, "rdfs")
    assert conforms  # pySHACL+RDFS infers ex:fw to be a dlom:DLN from dlom:usesDLN's range
    assert dlom_report(case.triples) == (False, {(EX + "m", DLOM.usesDLN.value)})


def _store_data(store) -> list[Triple]:
    return [q.triple for q in store.quads() if q.graph_name != Repository.ONTOLOGY.graph]


def test_extending_an_existing_entity_counts_the_stores_values(store) -> None:
    write_triples(store, valid_record())
    # A second DLN for the model (maxCount 1 counted with the store's value) and a second price.
    batch = [Triple(ex("m"), DLOM.usesDLN, ex("dln2")), Triple(ex("dln2"), RDF.type, DLOM.DLN),
             Triple(ex("dln2"), RDFS.label, lit("other")), Triple(ex("dev"), DLOM.priceUsd, dec("80"))]
    union = _store_data(store) + batch
    for inference in ("rdfs", "none"):
        assert dlom_report(batch, store) == pyshacl_report(union, inference)
    assert dlom_report(batch, store)[1] == {(EX + "m", DLOM.usesDLN.value), (EX + "dev", DLOM.priceUsd.value)}
    before = store.count()
    with pytest.raises(ValidationError):
        write_triples(store, batch)
    assert store.count() == before


def test_extension_within_limits_and_class_satisfied_by_a_node_typed_in_the_store(store) -> None:
    write_triples(store, valid_record())
    # A new model pointing at the DLN, device and run typed only in the store; and a new value for a
    # property of an existing node that has none yet.
    batch = [Triple(ex("m2"), RDF.type, DLOM.Model), Triple(ex("m2"), RDFS.label, lit("m2")),
             Triple(ex("m2"), DLOM.usesDLN, ex("dln")), Triple(ex("m2"), DLOM.deployedOn, ex("dev")),
             Triple(ex("m2"), DLOM.hasPerformance, ex("perf2")),
             Triple(ex("perf2"), RDF.type, DLOM.MeasuredPerformance), Triple(ex("perf2"), RDFS.label, lit("p2")),
             Triple(ex("perf2"), PROV.wasGeneratedBy, ex("run")),
             Triple(ex("dev"), DLOM.storageKB, integer(4096))]
    union = _store_data(store) + batch
    for inference in ("rdfs", "none"):
        assert dlom_report(batch, store) == pyshacl_report(union, inference) == (True, set())
    # The same batch without the store's types fails sh:class (nothing says ex:dln is a DLN).
    assert dlom_report(batch) == (False, {(EX + "m2", DLOM.usesDLN.value), (EX + "m2", DLOM.deployedOn.value),
                                          (EX + "perf2", PROV.wasGeneratedBy.value)})
    bad = batch + [Triple(ex("m2"), DLOM.usesCloudConfiguration, ex("dev"))]
    assert dlom_report(bad, store) == pyshacl_report(_store_data(store) + bad, "none")
    assert dlom_report(bad, store)[1] == {(EX + "m2", DLOM.usesCloudConfiguration.value)}
    write_triples(store, batch)


def test_an_extension_of_an_existing_entity_lands_in_the_entitys_repository(store) -> None:
    """A write that adds a property to an entity typed only in the store is routed by the store's type
    (an end device's new attribute goes to the client-configurations graph, not models-and-performance)."""
    write_triples(store, valid_record())
    write_triples(store, [Triple(ex("dev"), DLOM.storageKB, integer(4096))])
    graphs = {q.graph_name for q in store.quads() if q.subject == ex("dev") and q.predicate == DLOM.storageKB}
    assert graphs == {Repository.CLIENT_CONFIGURATIONS.graph}
