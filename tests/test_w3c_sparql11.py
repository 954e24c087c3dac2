"""The W3C SPARQL 1.1 query-evaluation tests, run through the HTTP endpoint.

Reads the manifests under ``../shared/data/w3c-sparql11`` (``manifest-sparql11-query.ttl`` and
``manifest-sparql11-results.ttl`` with their ``mf:include`` lists) and makes one pytest test per entry:

* ``mf:QueryEvaluationTest`` / ``mf:CSVResultFormatTest``: ``qt:data`` files are loaded each into a
  named graph called by its file IRI and ``qt:graphData`` files into named graphs of theirs, in a fresh
  in-memory store that the one uvicorn server is pointed at; the query is POSTed over a real socket
  with ``default-graph-uri`` = the data files and ``named-graph-uri`` = the graph-data files (so the
  dataset is exactly the test's), unless the query names its own dataset with FROM. The query's base
  IRI is its file's IRI (a ``BASE`` line is prepended, as the W3C harness sets the base).
* Results are compared as the W3C harness does: blank nodes up to isomorphism, rows unordered unless
  the query has ORDER BY, literals as RDF terms, except that a numeric or boolean literal is compared by
  value *within its own datatype* (``"2.0"^^xsd:decimal`` = ``"2"^^xsd:decimal``, but never =
  ``"2"^^xsd:integer``): Oxigraph stores such literals by value, so it returns them in canonical form.
  Graph results by rdflib's graph isomorphism.
* The result format asked for rotates over every format the endpoint serves (SPARQL JSON / XML, TSV
  or CSV where the expected file is one; Turtle / N-Triples / JSON-LD for graphs), so the W3C data
  also checks the hand-written serializers. The endpoint's output is parsed by pyoxigraph/rdflib.
* ``mf:PositiveSyntaxTest11`` / ``mf:NegativeSyntaxTest11`` (syntax-query) and the
  ``mf:NegativeSyntaxTest`` entries: a bad query must get 400, a good one must not.

Tests withdrawn by the W3C are skipped. Tests the embedded engine (Oxigraph) gets wrong are xfail with
the reason (:data:`KNOWN_ENGINE_FAILURES`); every other test must pass. The pass count is printed at
the end of the session (``-s``) for the README.
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from kg.store import Store, open_store

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
DAWGT = "http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
W3C_SPARQL11 = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "w3c-sparql11"  # as tests/conftest.py names it
MANIFESTS = ("manifest-sparql11-query.ttl", "manifest-sparql11-results.ttl")

_GRAPH_SUBQUERY = ("Oxigraph leaves ?g unbound for GRAPH ?g around a pattern that matches no triple "
                   "(a sub-SELECT with COUNT, or VALUES): checked directly in pyoxigraph 0.5, not via HTTP")
_ZERO_PATH = ("Oxigraph returns no solution for a zero-length path (p* / p?) from a constant on an empty "
              "dataset: checked directly in pyoxigraph 0.5")
KNOWN_ENGINE_FAILURES: dict[str, str] = {
    "aggregates/agg-empty-group-count-graph": _GRAPH_SUBQUERY,
    "bindings/graph": _GRAPH_SUBQUERY,
    "aggregates/agg-groupconcat-04": "Oxigraph's GROUP_CONCAT keeps a common language tag (\"1 2\"@en), "
                                     "the 1.1 test expects a simple literal",
    "aggregates/agg-groupconcat-06": "Oxigraph's GROUP_CONCAT keeps a common language tag (\"1\"@en), "
                                     "the 1.1 test expects a simple literal",
    "functions/bnode01": "Oxigraph's BNODE(str) returns the same blank node for the same string in "
                         "different solutions; SPARQL requires a fresh one per solution",
    "csv-tsv-res/tsv03": "Oxigraph stores xsd:negativeInteger by value and returns it as xsd:integer",
    "negation/graph-minus": "Oxigraph removes solutions in MINUS inside GRAPH ?g although the two sides share "
                            "no variable (checked directly in pyoxigraph 0.5)",
    "property-path/zero_or_more_set_end": _ZERO_PATH,
    "property-path/zero_or_more_set_start": _ZERO_PATH,
    "property-path/zero_or_one_set_end": _ZERO_PATH,
    "property-path/zero_or_one_set_start": _ZERO_PATH,
}
"""W3C test id → why the embedded engine (Oxigraph 0.5) fails it; each was reproduced on pyoxigraph
directly, so it is the engine's behaviour, not the endpoint's. Only failures seen and explained."""

pytestmark = pytest.mark.skipif(not W3C_SPARQL11.exists(), reason="W3C SPARQL 1.1 test suite not available")


# -- manifests -------------------------------------------------------------------------------------


@dataclass
class W3CTest:
    iri: str
    name: str
    kind: str
    query: Path
    data: list[Path] = field(default_factory=list)
    graph_data: list[Path] = field(default_factory=list)
    result: Path | None = None

    @property
    def id(self) -> str:
        parts = urlsplit(self.iri)
        return f"{Path(unquote(parts.path)).parent.name}/{parts.fragment or Path(parts.path).name}"


def _path(term: ox.NamedNode) -> Path:
    return Path(unquote(urlsplit(term.value).path))


def _objects(g: ox.Store, s: object, p: str) -> list:
    return [q.object for q in g.quads_for_pattern(s, ox.NamedNode(p), None, None)]


def _list(g: ox.Store, head: object) -> list:
    items = []
    while head != ox.NamedNode(RDF_NS + "nil"):
        items.append(_objects(g, head, RDF_NS + "first")[0])
        head = _objects(g, head, RDF_NS + "rest")[0]
    return items


_KINDS = {"QueryEvaluationTest", "CSVResultFormatTest", "PositiveSyntaxTest11", "NegativeSyntaxTest11",
          "NegativeSyntaxTest", "PositiveSyntaxTest"}


def _read_manifest(path: Path, seen: set[Path]) -> Iterator[W3CTest]:
    if path in seen or not path.exists():
        return
    seen.add(path)
    g = ox.Store()
    g.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
    me = ox.NamedNode(path.resolve().as_uri())
    for lst in _objects(g, me, MF + "include"):
        for sub in _list(g, lst):
            yield from _read_manifest(_path(sub), seen)
    for lst in _objects(g, me, MF + "entries"):
        for entry in _list(g, lst):
            kind = next((t.value.split("#")[-1] for t in _objects(g, entry, RDF_NS + "type")
                         if t.value.startswith(MF)), None)
            if kind not in _KINDS:
                continue
            if any(a.value == DAWGT + "Withdrawn" for a in _objects(g, entry, DAWGT + "approval")):
                continue
            name = next((n.value for n in _objects(g, entry, MF + "name")), entry.value)
            action = _objects(g, entry, MF + "action")[0]
            result = next(iter(_objects(g, entry, MF + "result")), None)
            if isinstance(action, ox.NamedNode):  # syntax tests: the action is the query file
                yield W3CTest(entry.value, name, kind, _path(action))
                continue
            yield W3CTest(
                entry.value, name, kind, _path(_objects(g, action, QT + "query")[0]),
                data=[_path(d) for d in _objects(g, action, QT + "data")],
                graph_data=[_path(d) for d in _objects(g, action, QT + "graphData")],
                result=_path(result) if isinstance(result, ox.NamedNode) else None,
            )


def load_tests() -> list[W3CTest]:
    seen: set[Path] = set()
    tests = [t for m in MANIFESTS for t in _read_manifest(W3C_SPARQL11 / m, seen)]
    return sorted(tests, key=lambda t: t.id)


TESTS = load_tests() if W3C_SPARQL11.exists() else []
EVALUATION = [t for t in TESTS if t.kind in ("QueryEvaluationTest", "CSVResultFormatTest")]
SYNTAX = [t for t in TESTS if "Syntax" in t.kind]


# -- server ----------------------------------------------------------------------------------------


@dataclass
class W3CServer:
    url: str
    app: object
    client: httpx.Client


@pytest.fixture(scope="module")
def server() -> Iterator[W3CServer]:
    """One real uvicorn server; each test points it at a fresh store of its own data."""
    app = create_app(open_store("oxigraph://"), Settings(update_token=None, query_timeout_s=20, max_rows=100_000,
                                                         max_body_bytes=1 << 20, federation_allowlist=(),
                                                         query_workers=2))
    with serve_in_background(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield W3CServer(url, app, client)


_RDF_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".rdf": ox.RdfFormat.RDF_XML}


def _store_for(test: W3CTest) -> Store:
    store = open_store("oxigraph://")
    for path in [*test.data, *test.graph_data]:
        fmt = _RDF_FORMATS.get(path.suffix, ox.RdfFormat.TURTLE)
        graph = ox.NamedNode(path.resolve().as_uri())
        triples = ox.parse(path=str(path), format=fmt, base_iri=path.resolve().as_uri())
        store.add(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    return store


_NOISE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>\s]*>|#[^\n]*')


def _has_keyword(query: str, keyword: str) -> bool:
    return re.search(rf"(?<![\w:?$]){keyword}(?![\w:])", _NOISE.sub(" ", query), re.IGNORECASE) is not None


def _ask(server: W3CServer, test: W3CTest, accept: str) -> httpx.Response:
    text = test.query.read_text(encoding="utf-8")
    query = f"BASE <{test.query.resolve().as_uri()}>\n{text}"
    params: list[tuple[str, str]] = []
    if not _has_keyword(text, "FROM"):
        params += [("default-graph-uri", p.resolve().as_uri()) for p in test.data]
        params += [("named-graph-uri", p.resolve().as_uri()) for p in test.graph_data]
    return server.client.post("/sparql", params=params, content=query.encode(),
                              headers={"Content-Type": "application/sparql-query", "Accept": accept})


# -- result comparison -----------------------------------------------------------------------------

Row = dict[str, object]


def _rows_match(expected: list[Row], actual: list[Row], is_blank: Callable[[object], bool], ordered: bool) -> bool:
    """Whether the rows are equal up to a consistent renaming of blank nodes (a bijection), as
    multisets — or as sequences when ``ordered``."""
    if len(expected) != len(actual):
        return False

    def erase(row: Row) -> frozenset:
        return frozenset((k, "_:" if is_blank(v) else v) for k, v in row.items())

    if ordered:
        if [erase(r) for r in expected] != [erase(r) for r in actual]:
            return False
    elif Counter(map(erase, expected)) != Counter(map(erase, actual)):
        return False
    if not any(is_blank(v) for r in expected for v in r.values()):
        return True

    def extend(e: Row, a: Row, fwd: dict, back: dict) -> tuple[dict, dict] | None:
        if e.keys() != a.keys():
            return None
        fwd, back = dict(fwd), dict(back)
        for k, ev in e.items():
            av = a[k]
            if is_blank(ev) != is_blank(av):
                return None
            if not is_blank(ev):
                if ev != av:
                    return None
                continue
            if fwd.setdefault(ev, av) != av or back.setdefault(av, ev) != ev:
                return None
        return fwd, back

    def search(i: int, used: frozenset[int], fwd: dict, back: dict) -> bool:
        if i == len(expected):
            return True
        for j in ([i] if ordered else range(len(actual))):
            if j in used:
                continue
            ext = extend(expected[i], actual[j], fwd, back)
            if ext is not None and search(i + 1, used | {j}, *ext):
                return True
        return False

    return search(0, frozenset(), {}, {})


_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGERS = {_XSD + n for n in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                                 "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
                                 "unsignedShort", "unsignedByte")}


def canonical(term: object) -> object:
    """A numeric (or boolean) literal in the canonical lexical form of its own datatype ("2.0"^^xsd:decimal →
    "2"^^xsd:decimal, "2.0E-1"^^xsd:double → "0.2"^^xsd:double), other terms unchanged: numbers are
    equal when datatype and value are, as the W3C harness compares them. Datatypes never mix."""
    if not isinstance(term, ox.Literal):
        return term
    dt = term.datatype.value
    try:
        if dt in _INTEGERS:
            return ox.Literal(str(int(term.value)), datatype=term.datatype)
        if dt == _XSD + "decimal":
            value = Decimal(term.value).normalize()
            return ox.Literal(format(value, "f") if value == value.to_integral() else str(value), datatype=term.datatype)
        if dt == _XSD + "boolean" and term.value in ("0", "1", "true", "false"):
            return ox.Literal("true" if term.value in ("1", "true") else "false", datatype=term.datatype)
        if dt in (_XSD + "double", _XSD + "float"):
            return ox.Literal(repr(float(term.value)), datatype=term.datatype)
    except (ValueError, ArithmeticError):
        return term  # an ill-typed literal is compared as written
    return term


def _solutions(parsed: object) -> tuple[list[str], list[Row]] | bool:
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    variables = [v.value for v in parsed.variables]
    rows = []
    for solution in parsed:
        rows.append({v: canonical(solution[v]) for v in variables if solution[v] is not None})
    return variables, rows


def _result_set_from_rdf(path: Path) -> tuple[list[str], list[Row]] | bool:
    """A result set written in the W3C rs: vocabulary (the .ttl results of a few SELECT/ASK tests)."""
    g = ox.Store()
    g.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
    rs_node = next(q.subject for q in g.quads_for_pattern(None, ox.NamedNode(RDF_NS + "type"),
                                                          ox.NamedNode(RS + "ResultSet"), None))
    boolean = _objects(g, rs_node, RS + "boolean")
    if boolean:
        return boolean[0].value == "true"
    variables = [v.value for v in _objects(g, rs_node, RS + "resultVariable")]
    rows = []
    for solution in _objects(g, rs_node, RS + "solution"):
        row = {}
        for binding in _objects(g, solution, RS + "binding"):
            row[_objects(g, binding, RS + "variable")[0].value] = canonical(_objects(g, binding, RS + "value")[0])
        rows.append(row)
    return variables, rows


def _is_result_set(path: Path) -> bool:
    return path.suffix == ".ttl" and (RS + "ResultSet") in path.read_text(encoding="utf-8") or \
        (path.suffix == ".ttl" and "rs:ResultSet" in path.read_text(encoding="utf-8"))


def _expected(path: Path) -> tuple[list[str], list[Row]] | bool:
    if path.suffix == ".ttl":
        return _result_set_from_rdf(path)
    fmt = {".srx": ox.QueryResultsFormat.XML, ".srj": ox.QueryResultsFormat.JSON,
           ".tsv": ox.QueryResultsFormat.TSV}[path.suffix]
    return _solutions(ox.parse_query_results(path=str(path), format=fmt))


_SOLUTION_ACCEPT = [("application/sparql-results+json", ox.QueryResultsFormat.JSON),
                    ("application/sparql-results+xml", ox.QueryResultsFormat.XML)]
_GRAPH_ACCEPT = [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld")]


def _csv_cell(cell: str) -> object:
    # CSV drops datatypes, so a number can only be compared by value ("1.0E6" = "1000000").
    try:
        return float(cell)
    except ValueError:
        return cell


def _csv_rows(text: str) -> tuple[list[str], list[Row]]:
    records = list(csv.reader(io.StringIO(text, newline="")))
    header, body = records[0], records[1:]
    return header, [{h: _csv_cell(cell) for h, cell in zip(header, record) if cell != ""} for record in body]


def _check_csv(server: W3CServer, test: W3CTest) -> None:
    response = _ask(server, test, "text/csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "\r\n" in response.text, "CSV lines must end with CRLF"
    expected_vars, expected = _csv_rows(test.result.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    actual_vars, actual = _csv_rows(response.text)
    assert set(actual_vars) == set(expected_vars)  # SELECT * fixes no column order
    is_blank = lambda v: isinstance(v, str) and v.startswith("_:")  # noqa: E731
    assert _rows_match(expected, actual, is_blank, ordered=False), f"expected {expected}\nactual {actual}"


def _check_evaluation(server: W3CServer, test: W3CTest, index: int) -> None:
    assert test.result is not None
    if test.result.suffix == ".csv":
        return _check_csv(server, test)
    query_text = test.query.read_text(encoding="utf-8")
    is_graph_result = test.result.suffix in (".ttl", ".nt", ".rdf") and not _is_result_set(test.result)
    if is_graph_result:
        accept, rdflib_format = _GRAPH_ACCEPT[index % len(_GRAPH_ACCEPT)]
        response = _ask(server, test, accept)
        assert response.status_code == 200, response.text
        actual = rdflib.Graph().parse(data=response.content, format=rdflib_format)
        expected = rdflib.Graph().parse(test.result, format="turtle",
                                        publicID=test.result.resolve().as_uri())
        assert isomorphic(expected, actual), (
            f"graphs differ\nexpected:\n{expected.serialize(format='nt')}\nactual:\n{response.text}")
        return
    if test.result.suffix == ".tsv":
        accept, fmt = "text/tab-separated-values", ox.QueryResultsFormat.TSV
    else:
        accept, fmt = _SOLUTION_ACCEPT[index % len(_SOLUTION_ACCEPT)]
    response = _ask(server, test, accept)
    assert response.status_code == 200, response.text
    actual = _solutions(ox.parse_query_results(response.content, format=fmt))
    expected = _expected(test.result)
    if isinstance(expected, bool):
        assert actual == expected
        return
    assert not isinstance(actual, bool), "expected solutions, got a boolean"
    assert set(actual[0]) == set(expected[0]), f"variables differ: {actual[0]} vs {expected[0]}"
    ordered = _has_keyword(query_text, "ORDER")
    is_blank = lambda v: isinstance(v, ox.BlankNode)  # noqa: E731
    assert _rows_match(expected[1], actual[1], is_blank, ordered), (
        f"solutions differ (ordered={ordered})\nexpected: {expected[1]}\nactual:   {actual[1]}")


_OUTCOMES: Counter = Counter()


@pytest.mark.parametrize("index,test", list(enumerate(EVALUATION)), ids=[t.id for t in EVALUATION])
def test_query_evaluation(server: W3CServer, index: int, test: W3CTest) -> None:
    if test.id in KNOWN_ENGINE_FAILURES:
        pytest.xfail(KNOWN_ENGINE_FAILURES[test.id])
    store = _store_for(test)
    server.app.state.store = store  # type: ignore[attr-defined]
    try:
        _check_evaluation(server, test, index)
    finally:
        store.close()
    _OUTCOMES["evaluation passed"] += 1


@pytest.mark.parametrize("test", SYNTAX, ids=[t.id for t in SYNTAX])
def test_query_syntax(server: W3CServer, test: W3CTest) -> None:
    server.app.state.store = open_store("oxigraph://")  # type: ignore[attr-defined]
    response = _ask(server, test, "*/*")
    if test.kind.startswith("Negative"):
        assert response.status_code == 400, f"a malformed query got {response.status_code}: {response.text}"
        assert response.json()["detail"]
    else:  # a well-formed query may still fail to evaluate (e.g. an unknown extension function)
        assert response.status_code < 500, response.text
        if response.status_code == 400:
            assert "syntax error" not in response.json()["detail"], response.text
    _OUTCOMES["syntax passed"] += 1


def test_suite_found() -> None:
    """The manifests were read: a broken reader must not make the suite pass vacuously."""
    assert len(EVALUATION) > 200
    assert len(SYNTAX) > 50


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    total_eval = len(EVALUATION) - sum(1 for t in EVALUATION if t.id in KNOWN_ENGINE_FAILURES)
    print(f"\nW3C SPARQL 1.1 via HTTP: {_OUTCOMES['evaluation passed']}/{len(EVALUATION)} query-evaluation tests "
          f"passed ({len(EVALUATION) - total_eval} xfail), {_OUTCOMES['syntax passed']}/{len(SYNTAX)} syntax tests passed")
