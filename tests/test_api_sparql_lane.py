"""The SPARQL endpoint's fast paths answer exactly as the plain ones do.

* ``QueryLane`` (GET/POST /sparql dispatched past FastAPI's router): the same requests through the app
  with and without the lane give the same status, headers and body, including every error path, and
  requests the lane does not own (HEAD, PUT, /sparql/, /sparql/update, 413s) still reach the router.
* The hand-written SPARQL JSON writer gives byte for byte what ``json.dumps`` of the spec's structure
  gives, for escaping-hostile terms of every kind.
* The SERVICE/LOAD pre-check decides exactly as the tokenizer alone does.

The lane comparison drives the real ASGI app in-process (Starlette's TestClient); the endpoint over a
real socket is covered by tests/test_api_sparql.py, which runs through the lane too.
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from api import results_formats as rf
from api import sparql_endpoint as se
from api.app import create_app
from api.settings import Settings
from kg.namespaces import XSD
from kg.store import Store, open_store

EX = "http://example.org/"
G1 = NamedNode(EX + "g1")
SETTINGS = Settings(update_token="tok", query_timeout_s=10, max_rows=3, max_body_bytes=4096,
                    federation_allowlist=(), query_workers=2)


def _store() -> Store:
    store = open_store("oxigraph://")
    store.add([Quad(NamedNode(f"{EX}s{i}"), NamedNode(EX + "p"), Literal(f'v "{i}"\n', language="en"), G1)
               for i in range(5)])
    store.add([Quad(NamedNode(EX + "a"), NamedNode(EX + "size"), Literal("42", datatype=XSD.integer), G1)])
    return store


def _without_lane(app: FastAPI) -> FastAPI:
    """The same app with QueryLane taken out of its middleware (FastAPI rebuilds the stack lazily)."""
    app.user_middleware = [m for m in app.user_middleware if m.cls is not se.QueryLane]
    app.middleware_stack = None
    return app


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[TestClient, TestClient]]:
    store = _store()
    with_lane = create_app(store, SETTINGS)
    assert any(m.cls is se.QueryLane for m in with_lane.user_middleware)
    plain = _without_lane(create_app(store, SETTINGS))
    yield TestClient(with_lane, raise_server_exceptions=False), TestClient(plain, raise_server_exceptions=False)
    store.close()


SELECT = f"SELECT ?s ?o WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?s"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
REQUESTS: list[tuple[str, str, dict]] = [
    ("GET", "/sparql", {"params": {"query": SELECT}}),
    ("GET", "/sparql", {"params": {"query": SELECT}, "headers": {"Accept": "text/csv"}}),
    ("GET", "/sparql", {"params": {"query": SELECT}, "headers": {"Accept": "application/sparql-results+xml"}}),
    ("GET", "/sparql", {"params": {"query": f"ASK {{ <{EX}a> ?p ?o }}"}, "headers": {"Accept": "text/csv"}}),
    ("GET", "/sparql", {"params": {"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"}}),
    ("GET", "/sparql", {}),  # the service description
    ("GET", "/sparql", {"headers": {"Accept": "image/png"}}),
    ("GET", "/sparql", {"params": [("query", SELECT), ("query", SELECT)]}),
    ("GET", "/sparql", {"params": {"query": SELECT, "update": "CLEAR ALL"}}),
    ("GET", "/sparql", {"params": {"query": "SELECT * WHERE { ?s ?p }"}}),
    ("GET", "/sparql", {"params": {"query": SELECT, "default-graph-uri": "not an iri"}}),
    ("GET", "/sparql", {"params": {"query": f"SELECT * WHERE {{ SERVICE <{EX}x> {{ ?s ?p ?o }} }}"}}),
    ("POST", "/sparql", {"data": {"query": SELECT}}),
    ("POST", "/sparql", {"data": {"query": SELECT, "default-graph-uri": str(G1)}}),
    ("POST", "/sparql", {"content": SELECT, "headers": {"Content-Type": "application/sparql-query"}}),
    ("POST", "/sparql?query=x", {"content": SELECT, "headers": {"Content-Type": "application/sparql-query"}}),
    ("POST", "/sparql", {"content": SELECT, "headers": {"Content-Type": "text/plain"}}),
    ("POST", "/sparql", {"content": b"query=%FF", "headers": FORM}),
    ("POST", "/sparql", {"content": b"\xff\xfe", "headers": {"Content-Type": "application/sparql-query"}}),
    ("POST", "/sparql", {"data": {"update": "CLEAR ALL"}}),
    ("POST", "/sparql", {"data": {"nothing": "here"}}),
    ("POST", "/sparql", {"content": "x" * 5000, "headers": {"Content-Type": "application/sparql-query"}}),
    ("POST", "/sparql", {"content": SELECT, "headers": {"Content-Type": "application/sparql-query",
                                                        "Content-Length": "not a number"}}),
    ("POST", "/sparql/update", {"data": {"update": "CLEAR ALL"}}),
    ("HEAD", "/sparql", {}),
    ("PUT", "/sparql", {"content": SELECT}),
    ("DELETE", "/sparql", {}),
    ("GET", "/sparql/", {"params": {"query": SELECT}, "follow_redirects": False}),
]


@pytest.mark.parametrize(("method", "path", "options"), REQUESTS,
                         ids=[f"{m} {p} {sorted(o)}" for m, p, o in REQUESTS])
def test_the_lane_answers_as_the_router_does(clients: tuple[TestClient, TestClient], method: str, path: str,
                                              options: dict) -> None:
    with_lane, plain = clients
    fast, slow = with_lane.request(method, path, **options), plain.request(method, path, **options)
    assert fast.status_code == slow.status_code
    assert fast.status_code < 500, fast.text  # client mistakes are never a 500
    assert fast.content == slow.content
    assert dict(fast.headers) == dict(slow.headers)


def test_the_lane_serves_queries_and_limits_still_apply(clients: tuple[TestClient, TestClient]) -> None:
    with_lane, _ = clients
    r = with_lane.post("/sparql", data={"query": SELECT}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/sparql-results+json; charset=utf-8"
    assert r.headers["DLOM-Results-Truncated"] == "true"  # 5 rows, limit 3
    assert len(r.json()["results"]["bindings"]) == SETTINGS.max_rows
    assert with_lane.post("/sparql", content="x" * 5000,
                          headers={"Content-Type": "application/sparql-query"}).status_code == 413


def test_the_routes_still_document_the_endpoint(clients: tuple[TestClient, TestClient]) -> None:
    paths = clients[0].get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/sparql"])
    assert "post" in paths["/sparql/update"]


# -- SPARQL JSON writer ------------------------------------------------------------------------------


def _spec_term(term: object) -> dict:
    """A term as the SPARQL 1.1 JSON results spec (and SPARQL-star for triple terms) structures it."""
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Triple):
        return {"type": "triple", "value": {"subject": _spec_term(term.subject),
                                            "predicate": _spec_term(term.predicate),
                                            "object": _spec_term(term.object)}}
    assert isinstance(term, Literal)
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype != XSD.string:
        out["datatype"] = term.datatype.value
    return out


HOSTILE = ['', 'plain', 'quote " and \\ backslash', 'new\nline\ttab\rcr', '\x00\x01\x1f\x7f', '\u2028\u2029',
           'ünïcödé 😀 𝄞', '</script><!--', '{"json": [1, 2]}', '\ud7ff\ue000\ufffd']


def _random_term(rng: random.Random) -> object:
    text = rng.choice(HOSTILE) + rng.choice(HOSTILE)
    kind = rng.randrange(6)
    if kind == 0:
        return NamedNode(EX + rng.choice(["a", "é", "😀", "x?y=1&z"]))
    if kind == 1:
        return Literal(text)
    if kind == 2:
        return Literal(text, language=rng.choice(["en", "fr-CA", "zh-Hant-TW"]))
    if kind == 3:
        return Literal(text, datatype=rng.choice([XSD.integer, XSD.string, NamedNode(EX + "dt/é")]))
    if kind == 4:
        return BlankNode()
    return None


@pytest.mark.parametrize("truncated", [False, True])
def test_json_writer_is_json_dumps_of_the_spec_structure(truncated: bool) -> None:
    rng = random.Random(7)
    nested = Triple(NamedNode(EX + "s"), NamedNode(EX + "p"),
                    Triple(BlankNode("b"), NamedNode(EX + "q"), Literal("x\n", language="en")))
    for _ in range(300):
        variables = [rng.choice(["x", "é", "a_b", "v"]) + str(i) for i in range(rng.randrange(5))]
        rows = [tuple(_random_term(rng) for _ in variables) for _ in range(rng.randrange(5))]
        if variables and rows:
            rows.append((nested, *rows[0][1:]))
        head: dict = {"vars": variables}
        if truncated:
            head["link"] = [rf.TRUNCATED_LINK]
        expected = json.dumps({"head": head, "results": {"bindings": [
            {v: _spec_term(t) for v, t in zip(variables, row) if t is not None} for row in rows]}},
            ensure_ascii=False).encode()
        assert rf.solutions_json(variables, rows, truncated) == expected


# -- SERVICE / LOAD pre-check ------------------------------------------------------------------------


def _keyword_by_tokens(text: str) -> bool:
    return any(kind == "word" and value.upper() in ("SERVICE", "LOAD") for kind, value in se._tokens(text))


@pytest.mark.parametrize("text", [
    SELECT,
    f"SELECT * WHERE {{ SERVICE <{EX}x> {{ ?s ?p ?o }} }}",
    f"select * where {{ sErViCe silent <{EX}x> {{ ?s ?p ?o }} }}",
    "LOAD <http://x/> INTO GRAPH <http://g/>",
    "load<http://x/>",
    "SELECT * WHERE { ?s ?p \"SERVICE\" }  # service",
    "SELECT ?serviceLevel WHERE { ?s <http://x/loads> ?serviceLevel }",
    "SELECT * WHERE { ſervice <http://x/> { ?s ?p ?o } }",  # U+017F upper-cases to S
    "SELECT * WHERE { ?s ?p ?o } ##LOAD\n",
])
def test_pre_check_decides_as_the_tokenizer(text: str) -> None:
    assert se._mentions_remote_access(text) == _keyword_by_tokens(text)


def test_pre_check_agrees_with_the_tokenizer_on_random_text() -> None:
    rng = random.Random(11)
    pieces = ["SERVICE", "service", "Load", "LOAD", "ſervice", "lOaD", " ", "<", ">", '"', "'", "#", "\n",
              "?", "x:", "ex:a\\#", "{", "}", "ß", "ﬅ", "S", "ERVICE", "OAD", "L", "é"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(12)))
        assert se._mentions_remote_access(text) == _keyword_by_tokens(text), text
