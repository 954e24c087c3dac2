"""Routing to the paper's four repositories (kg.repositories): each subject to the named graph of its
class, and the routed write as triples grouped by graph (QuadsByGraph), which reads as its quads and which
the embedded store's bulk path loads graph by graph as text — into the same graphs."""
from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Triple

from kg.namespaces import DLOM, RDF, RDFS
from kg.ontology import ontology_quads
from kg.repositories import QuadsByGraph, Repository, route, route_by_graph
from kg.store import open_store
from kg.writes import write_triples

DLN, DEVICE, MODEL = (NamedNode(f"https://w3id.org/dlom/id/{k}/repositories-test/1") for k in ("dln", "device", "model"))
TRIPLES = [Triple(DLN, RDF.type, DLOM.DLN), Triple(MODEL, RDF.type, DLOM.Model), Triple(DLN, RDFS.label, Literal("a DLN")),
           Triple(DEVICE, RDFS.label, Literal("a device")), Triple(MODEL, DLOM.usesDLN, DLN)]


def test_each_subject_goes_to_the_graph_of_its_class() -> None:
    routed = route_by_graph(TRIPLES, known_types={DEVICE.value: [DLOM.EndDevice.value]})  # typed in the store
    assert routed.by_graph == {
        Repository.DLN_PARAMETERS.graph: [TRIPLES[0], TRIPLES[2]],
        Repository.MODELS_AND_PERFORMANCE.graph: [TRIPLES[1], TRIPLES[4]],
        Repository.CLIENT_CONFIGURATIONS.graph: [TRIPLES[3]]}


def test_the_grouped_write_reads_as_its_quads() -> None:
    routed = route_by_graph(TRIPLES)
    quads = list(routed)
    assert len(routed) == len(quads) == len(TRIPLES) and quads == route(TRIPLES)
    assert {q.triple for q in quads} == set(TRIPLES)
    assert [routed[i] for i in range(-len(routed), len(routed))] == quads + quads
    assert routed[1:4] == quads[1:4]
    with pytest.raises(IndexError):
        routed[len(routed)]
    assert all(isinstance(q, Quad) for q in routed) and isinstance(routed, QuadsByGraph)


@pytest.mark.parametrize("cores", [2, 1], ids=["check-while-loading", "check-first"])
def test_the_bulk_path_loads_each_group_into_its_graph(tmp_path: Path, cores: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from kg.stores import oxigraph

    monkeypatch.setattr(oxigraph.os, "cpu_count", lambda: cores)
    store = open_store(f"oxigraph://{tmp_path / 'store'}")
    try:
        store.add(ontology_quads())
        dlns = [NamedNode(f"https://w3id.org/dlom/id/dln/repositories-test/n{i}") for i in range(300)]
        triples = [t for d in dlns for t in (Triple(d, RDF.type, DLOM.DLN), Triple(d, RDFS.label, Literal(f"{d.value} \\u00e9 \"x\"")))]
        write_triples(store, triples, source="repositories test", bulk=True)
        graph = Repository.DLN_PARAMETERS.graph
        stored = {q.triple for q in store.quads(graph)}
        assert stored == set(triples)  # every triple, its literal intact, in the DLN repository
    finally:
        store.close()
