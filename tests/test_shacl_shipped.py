"""The SHACL shapes (kg/ontology/shapes.ttl), checked with pySHACL — an independent validator — against
the whole shipped knowledge graph (every kg/data/*.nq.gz, all named graphs as one data graph) with the
ontology and Table 1's effects as pySHACL's ontology graph (so subclass instances are targets).

DLOM's own validator admitted every write of the shipped graph; this confirms the result with a
second implementation. pySHACL runs without inference, as DLOM's validator does (see
tests/test_validation.py for the one deliberate RDFS-inference difference).

Time: pySHACL takes minutes on the whole graph (273 s in one process on the 2-core sandbox for the
1,387,879 triples of 3 Dec 2026), so the shapes are split into parts by their targets and the parts
validated in parallel worker processes, one per core (at most four); each part holds every shape, and
only its own shapes keep their targets, so a shape that refers to another still finds it. The files
are parsed with pyoxigraph into rdflib terms (rdflib's own N-Quads parser took over 3 minutes), so
only the validation is pySHACL's.
"""
from __future__ import annotations

import gzip
import multiprocessing
import os
import time
from collections import Counter
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


def _shipped_data() -> tuple[rdflib.Graph, int, Counter]:
    """The union of the shipped files' quads as one rdflib graph; the number of quads read; the
    number of instances per rdf:type object (to balance the parts)."""
    data, seen, quads, types = rdflib.Graph(), {}, 0, Counter()
    for path in SHIPPED:
        batch = []
        for q in ox.parse(gzip.decompress(path.read_bytes()), format=ox.RdfFormat.N_QUADS):
            triple = tuple(_rdflib_term(t, seen) for t in (q.subject, q.predicate, q.object))
            batch.append((*triple, data))
            if triple[1] == rdflib.RDF.type:
                types[triple[2]] += 1
        quads += len(batch)
        data.addN(batch)
    return data, quads, types


def _shape_parts(shapes: rdflib.Graph, types: Counter, n: int) -> list[rdflib.Graph]:
    """``shapes`` split into at most ``n`` graphs by target: each holds every triple except the target
    declarations of the shapes of the other parts; shapes go to the lightest part, heaviest first (weight:
    the instances of a target class, 1 for another target)."""
    targets: dict[rdflib.term.Node, list[tuple]] = {}
    for p in TARGETS:
        for s, o in shapes.subject_objects(p):
            targets.setdefault(s, []).append((s, p, o))
    weight = {s: sum(types.get(o, 0) if p == SH.targetClass else 1 for _, p, o in ts) for s, ts in targets.items()}
    loads, members = [0] * n, [[] for _ in range(n)]
    for s in sorted(targets, key=lambda s: (-weight[s], str(s))):
        i = loads.index(min(loads))
        loads[i] += weight[s]
        members[i].append(s)
    parts = []
    for own in (m for m in members if m):
        part = rdflib.Graph()
        for triple in shapes:
            part.add(triple)
        for s, ts in targets.items():
            if s not in own:
                for triple in ts:
                    part.remove(triple)
        parts.append(part)
    assert sum(len(list(p.triples((None, t, None)))) for p in parts for t in TARGETS) == \
        sum(len(ts) for ts in targets.values())  # every target declaration in exactly one part
    return parts


def _validate(shapes: rdflib.Graph) -> tuple[bool, list[tuple[str, str]], str]:
    conforms, results, text = pyshacl.validate(_DATA, shacl_graph=shapes, ont_graph=_ONTOLOGY, inference="none",
                                               advanced=False, allow_warnings=False)
    violations = sorted({(str(results.value(r, SH.focusNode)), str(results.value(r, SH.resultPath)))
                         for r in results.subjects(rdflib.RDF.type, SH.ValidationResult)})
    return bool(conforms), violations, text[:4000]


@pytest.mark.slow
def test_whole_shipped_graph_conforms_to_the_shapes_under_pyshacl() -> None:
    global _DATA, _ONTOLOGY
    assert SHIPPED, "no shipped graph files"
    data, quads, types = _shipped_data()
    # Every quad of the files is in the data graph (distinct triples: one per quad unless a triple
    # stands in several named graphs, which the union keeps once).
    assert 0 < len(data) <= quads
    _DATA = data
    _ONTOLOGY = rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle").parse(EFFECTS_FILE, format="turtle")
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    parts = _shape_parts(shapes, types, min(4, os.cpu_count() or 1))

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
    print(f"pySHACL: {len(data)} triples from {len(SHIPPED)} files conform ({seconds:.1f} s, {len(parts)} processes)")


def test_the_shape_parts_find_what_the_whole_shapes_graph_finds() -> None:
    """Split validation is the same check: a device and a model breaking shapes of different parts."""
    global _DATA, _ONTOLOGY
    dlom, ex = rdflib.Namespace("https://w3id.org/dlom#"), rdflib.Namespace("https://w3id.org/dlom/id/test/")
    data = rdflib.Graph()
    data.add((ex.board, rdflib.RDF.type, dlom.EndDevice))  # no label
    data.add((ex.board, dlom.memoryKB, rdflib.Literal(-5)))  # below the minimum
    data.add((ex.model, rdflib.RDF.type, dlom.Model))  # no DLN, no device
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    parts = _shape_parts(shapes, Counter({dlom.Model: 10, dlom.Performance: 9, dlom.EndDevice: 8}), 3)
    _DATA, _ONTOLOGY = data, rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")
    try:
        whole = _validate(shapes)
        split = [_validate(p) for p in parts]
    finally:
        _DATA = _ONTOLOGY = None
    assert len(parts) == 3 and not whole[0] and len(whole[1]) >= 3
    assert sorted({v for _, vs, _ in split for v in vs}) == whole[1]
    assert sum(not c for c, _, _ in split) >= 2  # the violations fall into different parts
