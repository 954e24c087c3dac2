#!/usr/bin/env python3
"""W3C SPARQL 1.1 query-evaluation pass counts for each store backend, through the Store protocol.

For every ``mf:QueryEvaluationTest`` of ``../shared/data/w3c-sparql11`` (the manifest reader and the
result comparison are those of tests/test_w3c_sparql11.py, so the counts are comparable): the test's
data files are loaded into a fresh store, each into a named graph called by its file IRI, and the query
is run with ``default_graph`` = the data files and ``named_graphs`` = the graph-data files (unless it
has its own FROM), then compared with the expected results. CSV serialization tests are left out (they
test an HTTP serializer, not the store).

Usage: python scripts/w3c_pass_count.py [--backend oxigraph|neo4j|sparql ...] [--show-failures]
Servers are started on loopback (scripts/start_test_servers.py) unless DLOM_TEST_NEO4J_URL /
DLOM_TEST_FUSEKI_URL name running ones.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.compare import isomorphic

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import test_w3c_sparql11 as w3c  # noqa: E402 (the manifest reader and comparison of the HTTP suite)

from kg.results import BooleanResult, GraphResult, Solutions  # noqa: E402
from kg.store import Store, open_store  # noqa: E402

_RDF_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".rdf": ox.RdfFormat.RDF_XML}


def _launcher():
    spec = importlib.util.spec_from_file_location("start_test_servers", REPO / "scripts" / "start_test_servers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load(store: Store, test: w3c.W3CTest) -> None:
    store.clear()
    quads = []
    for path in [*test.data, *test.graph_data]:
        graph = ox.NamedNode(path.resolve().as_uri())
        fmt = _RDF_FORMATS.get(path.suffix, ox.RdfFormat.TURTLE)
        quads += [ox.Quad(t.subject, t.predicate, t.object, graph)
                  for t in ox.parse(path=str(path), format=fmt, base_iri=path.resolve().as_uri())]
    if quads:
        store.add(quads)


def run_one(store: Store, test: w3c.W3CTest) -> tuple[bool, str]:
    """(passed, why not) for one evaluation test on one store."""
    text = test.query.read_text(encoding="utf-8")
    query = f"BASE <{test.query.resolve().as_uri()}>\n{text}"
    kwargs = {}
    if not w3c._has_keyword(text, "FROM"):
        kwargs = {"default_graph": [ox.NamedNode(p.resolve().as_uri()) for p in test.data],
                  "named_graphs": [ox.NamedNode(p.resolve().as_uri()) for p in test.graph_data]}
    try:
        load(store, test)
        result = store.query(query, timeout_s=30, **kwargs)
        assert test.result is not None
        is_graph = test.result.suffix in (".ttl", ".nt", ".rdf") and not w3c._is_result_set(test.result)
        if is_graph:
            if not isinstance(result, GraphResult):
                return False, f"expected a graph, got {type(result).__name__}"
            actual = rdflib.Graph().parse(data="".join(f"{t} .\n" for t in result.triples), format="nt")
            fmt = "xml" if test.result.suffix == ".rdf" else "turtle"
            expected = rdflib.Graph().parse(test.result, format=fmt, publicID=test.result.resolve().as_uri())
            return isomorphic(expected, actual), "graphs differ"
        expected = w3c._expected(test.result)
        if isinstance(result, BooleanResult):
            return result.value == expected, f"ASK gave {result.value}"
        if not isinstance(result, Solutions) or isinstance(expected, bool):
            return False, "wrong result form"
        rows = [{v: w3c.canonical(t) for v, t in zip(result.variables, row) if t is not None} for row in result.rows]
        if set(result.variables) != set(expected[0]):
            return False, f"variables {result.variables} vs {expected[0]}"
        ordered = w3c._has_keyword(text, "ORDER")
        ok = w3c._rows_match(expected[1], rows, lambda v: isinstance(v, ox.BlankNode), ordered)
        return ok, "solutions differ"
    except Exception as e:  # noqa: BLE001 - every failure mode counts as a failed test, with its reason
        return False, f"{type(e).__name__}: {str(e)[:200]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", action="append", choices=["oxigraph", "neo4j", "sparql"])
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
    backends = args.backend or ["oxigraph", "neo4j", "sparql"]
    tests = [t for t in w3c.EVALUATION if t.result is not None and t.result.suffix != ".csv"]
    if not tests:
        print("W3C SPARQL 1.1 suite not found under ../shared/data/w3c-sparql11", file=sys.stderr)
        return 1
    started = []
    summary = []
    try:
        for backend in backends:
            if backend == "oxigraph":
                url = "oxigraph://"
            elif backend == "neo4j":
                url = os.environ.get("DLOM_TEST_NEO4J_URL") or (started.append(_launcher().start_neo4j()) or started[-1].url)
            else:
                url = os.environ.get("DLOM_TEST_FUSEKI_URL") or (started.append(_launcher().start_fuseki()) or started[-1].url)
            store = open_store(url)
            outcomes: Counter = Counter()
            failures = []
            t0 = time.monotonic()
            for test in tests:
                ok, why = run_one(store, test)
                outcomes[ok] += 1
                if not ok:
                    failures.append((test.id, why))
            store.clear()
            store.close()
            line = (f"{backend}: {outcomes[True]}/{len(tests)} W3C SPARQL 1.1 query-evaluation tests passed "
                    f"({time.monotonic() - t0:.0f} s)")
            summary.append(line)
            print(line, flush=True)
            if args.show_failures:
                for test_id, why in failures:
                    print(f"  FAIL {test_id}: {why}")
    finally:
        for server in started:
            server.stop()
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
