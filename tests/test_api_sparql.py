"""The SPARQL 1.1 endpoint over a real socket: SPARQLWrapper (and httpx where a status code or header
matters) against uvicorn on a loopback port, serving an in-memory store.

Covers every protocol form (GET, POST form, POST direct; dataset parameters), every result format
(with escaping-hostile literals, parsed back by independent parsers), content negotiation with
q-values, the service description, syntax errors, SERVICE/LOAD refusal (and that nothing is fetched),
time and row limits, 413/415, update authorization, and SHACL validation of updates.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from fastapi import FastAPI
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple
from SPARQLWrapper import CSV, JSON, JSONLD, POST, POSTDIRECTLY, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, Unauthorized

from api.app import create_app
from api.results_formats import TRUNCATED_LINK
from api.server import serve_in_background
from api.settings import Settings
from kg.namespaces import DLOM, RDF, RDFS, XSD, entity
from kg.ontology import ontology_quads
from kg.repositories import Repository
from kg.store import Store, open_store
from kg.writes import write_triples

EX = "http://example.org/"
G1, G2 = NamedNode(EX + "g1"), NamedNode(EX + "g2")
TOKEN = "s3cret-token"
MAX_ROWS = 50
TRICKY = Literal('say "hi", then\nnew\tline <&> ünï')
DEVICE = entity("device", "test", "board-1")


def _store() -> Store:
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    store.add([
        Quad(NamedNode(EX + "a"), NamedNode(EX + "name"), TRICKY, G1),
        Quad(NamedNode(EX + "a"), NamedNode(EX + "label"), Literal("chat", language="fr"), G1),
        Quad(NamedNode(EX + "a"), NamedNode(EX + "size"), Literal("42", datatype=XSD.integer), G1),
        Quad(NamedNode(EX + "a"), NamedNode(EX + "knows"), BlankNode("someone"), G1),
        Quad(NamedNode(EX + "b"), NamedNode(EX + "name"), Literal("only in g2"), G2),
    ])
    # 200 filler subjects: enough rows to pass the row limit, and a cross product slow enough to time out.
    store.add(Quad(NamedNode(f"{EX}n{i}"), NamedNode(EX + "v"), Literal(str(i), datatype=XSD.integer), G2)
              for i in range(200))
    write_triples(store, [Triple(DEVICE, RDF.type, DLOM.EndDevice), Triple(DEVICE, RDFS.label, Literal("Board 1")),
                          Triple(DEVICE, DLOM.clockFrequencyMHz, Literal("80", datatype=XSD.integer))], source="test")
    return store


SETTINGS = Settings(update_token=TOKEN, query_timeout_s=10, max_rows=MAX_ROWS, max_body_bytes=64 * 1024,
                    federation_allowlist=(), query_workers=4)


@dataclass
class Server:
    url: str
    app: FastAPI
    store: Store
    http: httpx.Client

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    def wrapper(self, query: str, fmt: str = JSON, method: str = "GET") -> SPARQLWrapper:
        w = SPARQLWrapper(self.sparql, updateEndpoint=self.sparql + "/update")
        w.setQuery(query)
        w.setReturnFormat(fmt)
        w.setMethod(method)
        return w


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    store = _store()
    app = create_app(store, SETTINGS)
    with serve_in_background(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield Server(url, app, store, http)
    store.close()


@pytest.fixture
def settings(server: Server) -> Iterator[callable]:
    """Change the running server's settings for one test (restored after)."""
    original = server.app.state.settings

    def change(**kwargs: object) -> None:
        server.app.state.settings = dataclasses.replace(original, **kwargs)

    yield change
    server.app.state.settings = original


SELECT_A = f"SELECT ?p ?o WHERE {{ <{EX}a> ?p ?o }} ORDER BY ?p"


def _bindings(result: dict) -> list[dict]:
    return result["results"]["bindings"]


# -- protocol forms ----------------------------------------------------------------------------------


def test_get_post_form_and_post_direct_give_the_same_results(server: Server) -> None:
    by_get = server.wrapper(SELECT_A).queryAndConvert()
    w = server.wrapper(SELECT_A, method=POST)
    by_form = w.queryAndConvert()
    w = server.wrapper(SELECT_A, method=POST)
    w.setRequestMethod(POSTDIRECTLY)
    by_direct = w.queryAndConvert()
    assert by_get == by_form == by_direct
    assert by_get["head"]["vars"] == ["p", "o"]
    assert len(_bindings(by_get)) == 4


def test_json_terms_follow_the_spec(server: Server) -> None:
    rows = {b["p"]["value"]: b["o"] for b in _bindings(server.wrapper(SELECT_A).queryAndConvert())}
    assert rows[EX + "name"] == {"type": "literal", "value": TRICKY.value}  # xsd:string: no datatype key
    assert rows[EX + "label"] == {"type": "literal", "value": "chat", "xml:lang": "fr"}
    assert rows[EX + "size"] == {"type": "literal", "value": "42", "datatype": str(XSD.integer.value)}
    assert rows[EX + "knows"]["type"] == "bnode"


def test_default_dataset_is_the_union_of_named_graphs(server: Server) -> None:
    query = f"SELECT ?s WHERE {{ ?s <{EX}name> ?o }} ORDER BY ?s"
    subjects = [b["s"]["value"] for b in _bindings(server.wrapper(query).queryAndConvert())]
    assert subjects == [EX + "a", EX + "b"]


def test_default_graph_uri_and_named_graph_uri_set_the_dataset(server: Server) -> None:
    w = server.wrapper(f"SELECT ?s WHERE {{ ?s <{EX}name> ?o }}")
    w.addDefaultGraph(G2.value)
    assert [b["s"]["value"] for b in _bindings(w.queryAndConvert())] == [EX + "b"]
    w = server.wrapper(f"SELECT ?g ?s WHERE {{ GRAPH ?g {{ ?s <{EX}name> ?o }} }}", method=POST)
    w.addNamedGraph(G1.value)
    rows = _bindings(w.queryAndConvert())
    assert [(b["g"]["value"], b["s"]["value"]) for b in rows] == [(G1.value, EX + "a")]
    # Only named graphs given: the default graph is then empty, as the protocol says.
    w = server.wrapper(f"SELECT ?s WHERE {{ ?s <{EX}name> ?o }}")
    w.addNamedGraph(G1.value)
    assert _bindings(w.queryAndConvert()) == []


def test_dataset_parameters_with_post_direct_come_from_the_url(server: Server) -> None:
    r = server.http.post("/sparql", params={"default-graph-uri": G1.value},
                         content=f"SELECT ?s WHERE {{ ?s <{EX}name> ?o }}",
                         headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 200
    assert [b["s"]["value"] for b in _bindings(r.json())] == [EX + "a"]


# -- result formats ----------------------------------------------------------------------------------


def test_xml_results_parse_to_the_same_terms(server: Server) -> None:
    raw = server.wrapper(SELECT_A, XML).query().response.read()
    root = ElementTree.fromstring(raw)  # well-formed despite <, &, quotes and newlines in the data
    assert root.tag == "{http://www.w3.org/2005/sparql-results#}sparql"
    parsed = ox.parse_query_results(raw, format=ox.QueryResultsFormat.XML)
    objects = {s["p"].value: s["o"] for s in parsed}
    assert objects[EX + "name"] == TRICKY
    assert objects[EX + "label"] == Literal("chat", language="fr")
    assert objects[EX + "size"] == Literal("42", datatype=XSD.integer)
    assert isinstance(objects[EX + "knows"], BlankNode)


def test_tsv_results_round_trip_exactly(server: Server) -> None:
    raw = server.wrapper(SELECT_A, TSV).query().response.read()
    assert raw.decode().splitlines()[0] == "?p\t?o"
    assert len(raw.decode().split("\n")) == 4 + 2  # header, 4 rows, final newline: no raw tab/newline leaked
    parsed = ox.parse_query_results(raw, format=ox.QueryResultsFormat.TSV)
    objects = {s["p"].value: s["o"] for s in parsed}
    assert objects[EX + "name"] == TRICKY
    assert objects[EX + "label"] == Literal("chat", language="fr")


def test_csv_results_are_rfc4180(server: Server) -> None:
    response = server.wrapper(SELECT_A, CSV).query().response
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.read().decode()
    assert text.startswith("p,o\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    values = {row[0]: row[1] for row in rows[1:]}
    assert values[EX + "name"] == TRICKY.value  # quoted field keeps the comma, quotes and newline
    assert values[EX + "size"] == "42"
    assert values[EX + "knows"].startswith("_:")


def test_ask_in_json_and_xml_and_406_for_csv(server: Server) -> None:
    ask = f"ASK {{ <{EX}a> ?p ?o }}"
    assert server.wrapper(ask, JSON).queryAndConvert() == {"head": {}, "boolean": True}
    raw = server.wrapper(ask, XML).query().response.read()
    assert ElementTree.fromstring(raw).find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"
    r = server.http.get("/sparql", params={"query": ask}, headers={"Accept": "text/csv"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.json()["detail"]


CONSTRUCT_A = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1.value}> {{ ?s ?p ?o }} }}"


def _expected_graph() -> rdflib.Graph:
    """Graph g1 of the fixture data, written by pyoxigraph and read by rdflib."""
    store = _store()
    nt = ox.serialize([Triple(q.subject, q.predicate, q.object) for q in store.quads(G1)], format=ox.RdfFormat.N_TRIPLES)
    store.close()
    return rdflib.Graph().parse(data=nt, format="nt")


@pytest.mark.parametrize("fmt,accept,rdflib_format", [
    (TURTLE, "text/turtle", "turtle"),
    (JSONLD, "application/ld+json", "json-ld"),
    (None, "application/n-triples", "nt"),
    (None, "application/rdf+xml", "xml"),
])
def test_construct_in_every_rdf_format(server: Server, fmt: str | None, accept: str, rdflib_format: str) -> None:
    if fmt is not None:
        response = server.wrapper(CONSTRUCT_A, fmt).query().response
        body, content_type = response.read(), response.headers["Content-Type"]
    else:
        r = server.http.get("/sparql", params={"query": CONSTRUCT_A}, headers={"Accept": accept})
        body, content_type = r.content, r.headers["content-type"]
    assert content_type.startswith(accept)
    assert isomorphic(rdflib.Graph().parse(data=body, format=rdflib_format), _expected_graph())


@pytest.mark.parametrize("accept,expected", [
    ("application/sparql-results+xml;q=0.5, text/csv;q=0.9", "text/csv"),
    ("*/*;q=0.1, text/tab-separated-values", "text/tab-separated-values"),
    ("text/*", "text/csv"),
    ("application/json", "application/sparql-results+json"),
    ("", "application/sparql-results+json"),
    ("text/html, application/xml;q=0.2", "application/sparql-results+xml"),
])
def test_accept_header_with_q_values(server: Server, accept: str, expected: str) -> None:
    r = server.http.get("/sparql", params={"query": SELECT_A}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == expected


def test_nothing_acceptable_is_406(server: Server) -> None:
    r = server.http.get("/sparql", params={"query": SELECT_A}, headers={"Accept": "image/png, text/csv;q=0"})
    assert r.status_code == 406


def test_service_description(server: Server) -> None:
    r = server.http.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = g.value(predicate=rdflib.RDF.type, object=sd.Service)
    assert service is not None
    assert g.value(service, sd.endpoint) == rdflib.URIRef(server.sparql)
    languages = set(g.objects(service, sd.supportedLanguage))
    assert {sd.SPARQL11Query, sd.SPARQL11Update} <= languages  # updates are on in this server
    names = {str(n) for n in g.objects(None, sd.name)}
    assert {r.value for r in Repository} <= names


# -- errors ------------------------------------------------------------------------------------------


def test_syntax_error_is_400_with_message_and_position(server: Server) -> None:
    with pytest.raises(QueryBadFormed) as caught:
        server.wrapper("SELECT * WHERE {\n  ?s ?p \n}").query()
    assert b"syntax error" in str(caught.value).encode()
    r = server.http.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    assert r.status_code == 400
    body = r.json()
    assert body["line"] == 3 and body["column"] >= 1
    assert "error at 3:" in body["detail"]


def test_a_missing_prefix_is_named_with_the_prefix_line_to_add(server: Server) -> None:
    query = "# dlom: in a comment is no use\nSELECT ?m WHERE {\n  ?m a dlom:Model ; foaf:name ?n ; rdfs:label \"x:y\" }"
    r = server.http.get("/sparql", params={"query": query})
    assert r.status_code == 400
    body = r.json()
    assert body["missing_prefixes"] == [
        {"prefix": "dlom", "iri": str(DLOM), "declaration": f"PREFIX dlom: <{DLOM}>"},
        {"prefix": "foaf", "iri": None, "declaration": None},
        {"prefix": "rdfs", "iri": str(RDFS), "declaration": f"PREFIX rdfs: <{RDFS}>"}]
    assert "undeclared prefix dlom:, foaf:, rdfs:" in body["detail"]
    assert f"add PREFIX dlom: <{DLOM}> and PREFIX rdfs: <{RDFS}> at the top" in body["detail"]
    assert body["line"] == 3 and "error at 3:" in body["detail"]
    # declared, it runs; any other syntax error keeps the parser's message
    assert server.http.get("/sparql", params={"query": f"PREFIX dlom: <{DLOM}>\nSELECT ?m WHERE {{ ?m a dlom:Model }} LIMIT 1"}).status_code == 200
    broken = server.http.get("/sparql", params={"query": f"PREFIX dlom: <{DLOM}> SELECT * WHERE {{ ?s dlom:x }}"}).json()
    assert "missing_prefixes" not in broken and "undeclared" not in broken["detail"]


def test_two_query_parameters_and_update_at_sparql_are_400(server: Server) -> None:
    r = server.http.get("/sparql", params=[("query", SELECT_A), ("query", SELECT_A)])
    assert r.status_code == 400 and "exactly one" in r.json()["detail"]
    r = server.http.post("/sparql", data={"update": "CLEAR ALL"})
    assert r.status_code == 400 and "/sparql/update" in r.json()["detail"]


def test_wrong_content_type_is_415(server: Server) -> None:
    r = server.http.post("/sparql", content=SELECT_A, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = server.http.post("/sparql/update", content="CLEAR ALL",
                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 415


def test_oversized_requests_are_413(server: Server) -> None:
    big = SELECT_A + " #" + "x" * (SETTINGS.max_body_bytes + 10)
    r = server.http.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    r = server.http.post("/sparql", data={"query": big})
    assert r.status_code == 413
    # Chunked (no Content-Length): cut while streaming.
    r = server.http.post("/sparql", content=iter([big[:40_000].encode(), big[40_000:].encode()]),
                         headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    assert server.http.get("/api/health").status_code == 200


# -- SERVICE / LOAD ----------------------------------------------------------------------------------


@pytest.fixture
def trap() -> Iterator[tuple[str, list]]:
    """A listening socket that records any connection: proof of whether the server fetched."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.2)
    hits: list = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                hits.append(conn)
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/sparql", hits
    stop.set()
    thread.join()
    sock.close()


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ service silent <{url}> {{ ?s ?p ?o }} }} }} LIMIT 1",
    "PREFIX remote: <{url}#> SELECT * WHERE {{ SERVICE remote:x {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    "select * {{ ?s ?p ?o .service<{url}>{{?a ?b ?c}} }}",
    # PN_LOCAL escape: the '#' of ex:a\#x is part of the name, not a comment hiding what follows.
    "PREFIX ex: <http://example.org/> SELECT * WHERE {{ ?s ex:a\\#x ?o . SERVICE <{url}> {{ ?a ?b ?c }} }}",
])
def test_service_is_refused_and_nothing_is_fetched(server: Server, trap: tuple[str, list], template: str) -> None:
    url, hits = trap
    r = server.http.get("/sparql", params={"query": template.format(url=url)})
    assert r.status_code == 403, r.text
    assert "SERVICE" in r.json()["detail"]
    time.sleep(0.3)
    assert hits == []


def test_load_in_an_update_is_refused(server: Server, trap: tuple[str, list]) -> None:
    url, hits = trap
    r = server.http.post("/sparql/update", data={"update": f"LOAD <{url}> INTO GRAPH <{EX}x>"},
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 403, r.text
    time.sleep(0.3)
    assert hits == []


def test_the_word_service_in_a_string_or_iri_is_not_refused(server: Server) -> None:
    q = f'SELECT ?x WHERE {{ BIND("SERVICE <http://evil/> {{}}" AS ?x) FILTER(?x != <{EX}LOAD>) }} # SERVICE'
    r = server.http.get("/sparql", params={"query": q})
    assert r.status_code == 200, r.text


def test_an_allowlisted_service_is_federated(server: Server, settings) -> None:
    settings(federation_allowlist=(server.sparql,))
    q = f"SELECT ?o WHERE {{ SERVICE <{server.sparql}> {{ <{EX}a> <{EX}size> ?o }} }}"
    r = server.http.get("/sparql", params={"query": q})
    assert r.status_code == 200, r.text
    assert [b["o"]["value"] for b in _bindings(r.json())] == ["42"]


# -- limits ------------------------------------------------------------------------------------------

SLOW = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a <{EX}v> ?x . ?b <{EX}v> ?y . ?c <{EX}v> ?z }}"


def test_a_slow_query_times_out_and_the_server_keeps_serving(server: Server, settings) -> None:
    settings(query_timeout_s=0.3)
    started = time.monotonic()
    r = server.http.get("/sparql", params={"query": SLOW})
    elapsed = time.monotonic() - started
    assert r.status_code == 503, r.text
    assert "time limit" in r.json()["detail"]
    assert elapsed < 2.0
    # While the abandoned query still runs in its worker, others are answered at once.
    started = time.monotonic()
    quick = server.wrapper(SELECT_A).queryAndConvert()
    assert len(_bindings(quick)) == 4
    assert time.monotonic() - started < 1.0


def test_results_over_the_row_limit_are_truncated_explicitly(server: Server) -> None:
    q = f"SELECT ?s WHERE {{ ?s <{EX}v> ?o }}"
    r = server.http.get("/sparql", params={"query": q})
    assert r.status_code == 200
    assert r.headers["DLOM-Results-Truncated"] == "true"
    assert r.headers["DLOM-Max-Rows"] == str(MAX_ROWS)
    body = r.json()
    assert len(_bindings(body)) == MAX_ROWS
    assert body["head"]["link"] == [TRUNCATED_LINK]
    r = server.http.get("/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+xml"})
    assert f'<link href="{TRUNCATED_LINK}"/>' in r.text
    r = server.http.get("/sparql", params={"query": f"CONSTRUCT WHERE {{ ?s <{EX}v> ?o }}"})
    assert r.headers["DLOM-Results-Truncated"] == "true"
    assert r.text.startswith("# DLOM: results truncated")
    assert len(list(ox.parse(r.content, format=ox.RdfFormat.TURTLE))) == MAX_ROWS


def test_results_under_the_limit_are_not_marked(server: Server) -> None:
    r = server.http.get("/sparql", params={"query": f"SELECT ?s WHERE {{ ?s <{EX}v> ?o }} LIMIT {MAX_ROWS}"})
    assert "DLOM-Results-Truncated" not in r.headers
    assert "link" not in r.json()["head"]


# -- updates -----------------------------------------------------------------------------------------


def _update(server: Server, text: str, token: str | None = TOKEN, form: bool = False) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if form:
        return server.http.post("/sparql/update", data={"update": text}, headers=headers)
    return server.http.post("/sparql/update", content=text,
                            headers={**headers, "Content-Type": "application/sparql-update"})


def test_update_authorization(server: Server, settings) -> None:
    insert = f"INSERT DATA {{ GRAPH <{EX}g3> {{ <{EX}z> <{EX}p> 1 }} }}"
    r = _update(server, insert, token=None)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    r = server.http.post("/sparql/update", data={"update": insert}, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401
    r = server.http.post("/sparql/update", data={"update": insert}, headers={"Authorization": "Bearer"})
    assert r.status_code == 401
    r = _update(server, insert, token="wrong")
    assert r.status_code == 403
    w = server.wrapper(insert, method=POST)
    with pytest.raises(Unauthorized):
        w.query()  # SPARQLWrapper sends no credentials: 401
    settings(update_token=None)
    r = _update(server, insert)
    assert r.status_code == 403 and "disabled" in r.json()["detail"]
    assert server.store.count(NamedNode(EX + "g3")) == 0


def test_sparqlwrapper_update_with_bearer_token(server: Server) -> None:
    w = server.wrapper(f"INSERT DATA {{ GRAPH <{EX}g4> {{ <{EX}w> <{EX}p> 'via wrapper' }} }}", method=POST)
    w.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    result = w.query()
    assert result.response.status == 200
    assert json.loads(result.response.read()) == {"inserted": 1, "deleted": 0}
    assert server.store.count(NamedNode(EX + "g4")) == 1


def test_valid_update_is_committed_and_routed(server: Server) -> None:
    board = entity("device", "test", "board-2")
    r = _update(server, f"""PREFIX dlom: <{DLOM}> PREFIX rdfs: <{RDFS}>
        INSERT DATA {{ <{board.value}> a dlom:EndDevice ; rdfs:label "Board 2" ; dlom:memoryKB 256 }}""", form=True)
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 3
    graphs = {q.graph_name for q in server.store.quads() if q.subject == board}
    assert graphs == {Repository.CLIENT_CONFIGURATIONS.graph}  # default-graph inserts are routed


def test_invalid_update_is_refused_and_changes_nothing(server: Server) -> None:
    before = sorted(map(str, server.store.quads()))
    bad = entity("device", "test", "bad")
    r = _update(server, f"""PREFIX dlom: <{DLOM}>
        INSERT DATA {{ <{bad.value}> a dlom:EndDevice ; dlom:clockFrequencyMHz -5 }}""")
    assert r.status_code == 422, r.text
    messages = " ".join(v["message"] for v in r.json()["violations"])
    assert "at least 1" in messages and "> 0" in messages
    assert sorted(map(str, server.store.quads())) == before


def test_update_removing_a_required_value_is_refused(server: Server) -> None:
    before = sorted(map(str, server.store.quads()))
    r = _update(server, f"""PREFIX rdfs: <{RDFS}>
        DELETE {{ GRAPH ?g {{ <{DEVICE.value}> rdfs:label ?l }} }} WHERE {{ GRAPH ?g {{ <{DEVICE.value}> rdfs:label ?l }} }}""")
    assert r.status_code == 422, r.text
    assert r.json()["violations"][0]["focus"] == DEVICE.value
    assert sorted(map(str, server.store.quads())) == before


def test_update_with_where_clause_and_delete(server: Server) -> None:
    r = _update(server, f"""PREFIX dlom: <{DLOM}>
        DELETE {{ GRAPH ?g {{ <{DEVICE.value}> dlom:clockFrequencyMHz ?f }} }}
        INSERT {{ GRAPH ?g {{ <{DEVICE.value}> dlom:clockFrequencyMHz 160 }} }}
        WHERE {{ GRAPH ?g {{ <{DEVICE.value}> dlom:clockFrequencyMHz ?f }} }}""")
    assert r.status_code == 200, r.text
    assert r.json() == {"inserted": 1, "deleted": 1}
    values = [q.object.value for q in server.store.quads() if q.subject == DEVICE and q.predicate == DLOM.clockFrequencyMHz]
    assert values == ["160"]


def test_update_syntax_error_is_400(server: Server) -> None:
    r = _update(server, "INSERT DATA { <http://x> }")
    assert r.status_code == 400
    assert "line" in r.json()


def test_an_update_abandoned_before_its_commit_writes_nothing(server: Server) -> None:
    """What a timed-out /sparql/update relies on: once the request gives up, the worker does not commit."""
    from api.sparql_endpoint import _Ticket
    from kg.validated_update import apply_validated_update

    before = server.store.count()
    report = apply_validated_update(server.store, f"INSERT DATA {{ GRAPH <{EX}g5> {{ <{EX}q> <{EX}p> 1 }} }}",
                                    _Ticket(abandoned=True).may_commit)
    assert report.committed is False
    assert server.store.count() == before
