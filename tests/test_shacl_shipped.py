"""The SHACL shapes (kg/ontology/shapes.ttl), checked with pySHACL — an independent validator — against
the shipped knowledge graph (every kg/data/*.nq.gz, all named graphs as one data graph) with the
ontology and Table 1's effects as pySHACL's ontology graph (so subclass instances are targets).

DLOM's own validator admitted every write of the shipped graph (tests/test_shipped_graph.py rebuilds it
through the validated write path from the raw data); this confirms the result with a second
implementation. pySHACL runs without inference, as DLOM's validator does (see tests/test_validation.py for
the one deliberate RDFS-inference difference).

What pySHACL validates: every shape, against the whole data graph (so a shape that refers to another
node finds it), with every focus node of each shape that has at most ``FOCUS_CAP`` of them, and of the
few larger shapes (models, performance records, benchmark runs: 4.5k–43k focus nodes each) every k-th in
IRI order, at most ``FOCUS_CAP`` (a deterministic sample across every data set's IRIs). All focus nodes
took 273 s (one process) or 117–130 s plus the parse (two processes, both cores) on the 2-core sandbox
for the 1.4M triples of Dec 2026 — the slowest test of the suite by far, in a suite with a 30-minute
budget; the sample keeps the cross-check of every shape and every kind of entity at a fraction of it.
The focus nodes are split into parts validated in parallel worker processes, one per core (at most
four): each part holds every shape, with every n-th focus node of each as its targets. (Split by shape
instead, one worker sat idle for most of the run: the performance records' shape outweighs the others.)
pySHACL validates in place (each worker has its own copy of the data graph). The files are parsed with
pyoxigraph into rdflib terms (rdflib's own N-Quads parser took over 3 minutes), so only the validation
is pySHACL's.
"""
from __future__ import annotations

import gzip
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from kg.ontology import EFFECTS_FILE, ONTOLOGY_FILE, SHAPES_FILE

pyshacl = pytest.importorskip("pyshacl")

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted((REPO / "kg" / "data").glob("*.nq.gz"))
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
FOCUS_CAP = 3000
"""The most focus nodes of one shape that pySHACL validates on the shipped graph (see the module docstring)."""

# What the worker processes validate: set before they fork, so each inherits the graphs, not a copy.
_DATA: rdflib.Graph | None = None
_ONTOLOGY: rdflib.Graph | None = None


def _rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal, seen: dict) -> rdflib.term.Node:
    converted = seen.get(term)
    if converted is None:
        if isinstance(term, ox.NamedNode):
            converted = rdflib.URIRef(term.value)
        elif isinstance(term, ox.BlankNode):
            converted = rdflib.BNode(term.value)
        elif term.language:
            converted = rdflib.Literal(term.value, lang=term.language)
        else:
            converted = rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
        seen[term] = converted
    return converted


def _shipped_data() -> tuple[rdflib.Graph, int]:
    """The union of the shipped files' quads as one rdflib graph, and the number of quads read."""
    data, seen, quads = rdflib.Graph(), {}, 0
    for path in SHIPPED:
        batch = [(*(_rdflib_term(t, seen) for t in (q.subject, q.predicate, q.object)), data)
                 for q in ox.parse(gzip.decompress(path.read_bytes()), format=ox.RdfFormat.N_QUADS)]
        quads += len(batch)
        data.addN(batch)
    return data, quads


def _focus_nodes(shape_class: rdflib.term.Node, data: rdflib.Graph, ontology: rdflib.Graph) -> list[rdflib.term.Node]:
    """What ``sh:targetClass shape_class`` targets: the instances of the class and of its subclasses
    (rdfs:subClassOf in the ontology or the data, transitively), sorted."""
    classes, todo = {shape_class}, [shape_class]
    while todo:
        c = todo.pop()
        for g in (ontology, data):
            for sub in g.subjects(rdflib.RDFS.subClassOf, c):
                if sub not in classes:
                    classes.add(sub)
                    todo.append(sub)
    return sorted({s for c in classes for s in data.subjects(rdflib.RDF.type, c)}, key=str)


def _sample(nodes: list[rdflib.term.Node], cap: int | None) -> list[rdflib.term.Node]:
    """All of ``nodes`` (sorted) if there are at most ``cap`` (or no cap), else every k-th, at most ``cap``."""
    if cap is None or len(nodes) <= cap:
        return nodes
    return nodes[::-(-len(nodes) // cap)]


def _shape_parts(shapes: rdflib.Graph, data: rdflib.Graph, ontology: rdflib.Graph, n: int,
                 cap: int | None = None) -> list[rdflib.Graph]:
    """``shapes`` split into ``n`` graphs that each validate about 1/n of every shape's focus nodes (of a
    shape with more than ``cap``, of an evenly spaced sample of ``cap``): a part holds every shape, its
    ``sh:targetClass`` declarations replaced by ``sh:targetNode`` for every n-th focus node. Every focus
    node is validated against its shapes exactly once, in one part; a shape that refers to another still
    finds it."""
    targets = sorted(shapes.subject_objects(SH.targetClass), key=str)
    assert set(shapes.predicates()).isdisjoint(TARGETS[1:]), "a target other than sh:targetClass: split it too"
    focus = [(shape, _sample(_focus_nodes(cls, data, ontology), cap)) for shape, cls in targets]
    parts = []
    for i in range(n):
        part = rdflib.Graph()
        part.addN((*t, part) for t in shapes if t[1] != SH.targetClass)
        for shape, nodes in focus:
            part.addN((shape, SH.targetNode, node, part) for node in nodes[i::n])
        parts.append(part)
    return parts


def _validate(shapes: rdflib.Graph) -> tuple[bool, list[tuple[str, str]], str]:
    conforms, results, text = pyshacl.validate(_DATA, shacl_graph=shapes, ont_graph=_ONTOLOGY, inference="none",
                                               inplace=True, advanced=False, allow_warnings=False)
    violations = sorted({(str(results.value(r, SH.focusNode)), str(results.value(r, SH.resultPath)))
                         for r in results.subjects(rdflib.RDF.type, SH.ValidationResult)})
    return bool(conforms), violations, text[:4000]


@pytest.mark.slow
def test_shipped_graph_conforms_to_the_shapes_under_pyshacl() -> None:
    global _DATA, _ONTOLOGY
    assert SHIPPED, "no shipped graph files"
    data, quads = _shipped_data()
    # Every quad of the files is in the data graph (distinct triples: one per quad unless a triple
    # stands in several named graphs, which the union keeps once).
    assert 0 < len(data) <= quads
    _DATA = data
    _ONTOLOGY = rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle").parse(EFFECTS_FILE, format="turtle")
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    parts = _shape_parts(shapes, data, _ONTOLOGY, min(4, os.cpu_count() or 1), FOCUS_CAP)
    validated = sum(1 for part in parts for _ in part.triples((None, SH.targetNode, None)))

    started = time.perf_counter()
    try:
        if len(parts) == 1:
            outcomes = [_validate(parts[0])]
        else:
            with ProcessPoolExecutor(len(parts), mp_context=multiprocessing.get_context("fork")) as pool:
                outcomes = list(pool.map(_validate, parts))
    finally:
        _DATA = _ONTOLOGY = None
    seconds = time.perf_counter() - started
    violations = sorted(v for _, vs, _ in outcomes for v in vs)
    assert all(c for c, _, _ in outcomes), \
        f"{len(violations)} violations, e.g. {violations[:10]}\n" + "\n".join(t for c, _, t in outcomes if not c)
    print(f"pySHACL: {len(data)} triples from {len(SHIPPED)} files conform: {validated} (shape, focus node) pairs "
          f"validated ({seconds:.1f} s, {len(parts)} processes)")


def test_the_shape_parts_find_what_the_whole_shapes_graph_finds() -> None:
    """Split validation is the same check: boards and models breaking shapes, found in every part, and
    together exactly what the whole shapes graph finds; a subclass instance is a focus node."""
    global _DATA, _ONTOLOGY
    dlom, ex = rdflib.Namespace("https://w3id.org/dlom#"), rdflib.Namespace("https://w3id.org/dlom/id/test/")
    data = rdflib.Graph()
    for i in range(3):
        data.add((ex[f"board{i}"], rdflib.RDF.type, dlom.EndDevice))  # no label
        data.add((ex[f"board{i}"], dlom.memoryKB, rdflib.Literal(-5)))  # below the minimum
        data.add((ex[f"model{i}"], rdflib.RDF.type, dlom.Model))  # no DLN, no device
    data.add((ex.perf, rdflib.RDF.type, dlom.MeasuredPerformance))  # a subclass of dlom:Performance
    data.add((ex.perf, dlom.inferenceLatencyMs, rdflib.Literal("fast")))  # not a number
    ontology = rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    parts = _shape_parts(shapes, data, ontology, 3)
    _DATA, _ONTOLOGY = data, ontology
    try:
        whole = _validate(shapes)
        split = [_validate(p) for p in parts]
    finally:
        _DATA = _ONTOLOGY = None
    assert len(parts) == 3 and not whole[0]
    assert {focus.rsplit("/", 1)[1] for focus, _ in whole[1]} == {"board0", "board1", "board2", "model0", "model1",
                                                                  "model2", "perf"}
    assert sorted(v for _, vs, _ in split for v in vs) == whole[1]  # each violation found once
    assert not any(c for c, _, _ in split)  # every part has some
    assert _sample(list(range(10)), 3) == [0, 4, 8] and _sample(list(range(3)), 3) == [0, 1, 2]
