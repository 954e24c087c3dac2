"""The SHACL shapes (kg/ontology/shapes.ttl), checked with pySHACL — an independent validator — against
the whole shipped knowledge graph (every kg/data/*.nq.gz, all named graphs as one data graph) with the
ontology and Table 1's effects as pySHACL's ontology graph (so subclass instances are targets).

DLOM's own validator admitted every write of the shipped graph; this confirms the result with a
second implementation. pySHACL runs without inference, as DLOM's validator does (see
tests/test_validation.py for the one deliberate RDFS-inference difference).

Time: with the shipped graph of 3 Dec 2026 (1,387,879 triples, MLPerf Tiny + Inference + AI Hub) pySHACL
took 273 s on this 2-core host (9 s at 14,762 triples): marked slow.
"""
from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest
import rdflib

from kg.ontology import EFFECTS_FILE, ONTOLOGY_FILE, SHAPES_FILE

pyshacl = pytest.importorskip("pyshacl")

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted((REPO / "kg" / "data").glob("*.nq.gz"))
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@pytest.mark.slow
def test_whole_shipped_graph_conforms_to_the_shapes_under_pyshacl() -> None:
    assert SHIPPED, "no shipped graph files"
    data = rdflib.Graph()
    lines = 0
    for path in SHIPPED:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        lines += sum(1 for line in text.splitlines() if line.strip() and not line.startswith("#"))
        dataset = rdflib.Dataset()
        dataset.parse(data=text, format="nquads")
        for s, p, o, _g in dataset.quads((None, None, None, None)):
            data.add((s, p, o))
    # Every quad line of the files is in the data graph (distinct triples: one per line unless a triple
    # stands in several named graphs, which the union keeps once).
    assert 0 < len(data) <= lines
    ontology = rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle").parse(EFFECTS_FILE, format="turtle")
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")

    started = time.perf_counter()
    conforms, results, text = pyshacl.validate(data, shacl_graph=shapes, ont_graph=ontology, inference="none",
                                               advanced=False, allow_warnings=False)
    seconds = time.perf_counter() - started
    violations = sorted({(str(results.value(r, SH.focusNode)), str(results.value(r, SH.resultPath)))
                         for r in results.subjects(rdflib.RDF.type, SH.ValidationResult)})
    assert conforms, f"{len(violations)} violations, e.g. {violations[:10]}\n{text[:4000]}"
    print(f"pySHACL: {len(data)} triples from {len(SHIPPED)} files conform ({seconds:.1f} s)")
