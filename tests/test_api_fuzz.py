"""Fuzzing the HTTP API: hypothesis generates requests — methods, paths, query parameters, headers
(content types, Accept, Authorization) and bodies, including SPARQL-shaped token soup — and no answer
may be a 5xx. A client's mistake is a 4xx with a message; the catch-all 500 handler exists for real
server faults and is shown separately to leak no stack trace.
"""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad

from api.app import create_app
from api.settings import Settings
from kg.ontology import ontology_quads
from kg.store import open_store

TOKEN = "fuzz-token"

_SPARQL_TOKENS = [
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "*", ".", ";", ",", "?s", "?p", "?o",
    "$x", "<http://example.org/a>", "<https://w3id.org/dlom#Model>", "a", '"lit"', "'x'@en", '"1"^^<bad iri>',
    "42", "-1.5e3", "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH", "SERVICE", "SILENT", "LOAD", "BIND", "AS",
    "VALUES", "UNDEF", "LIMIT", "OFFSET", "ORDER BY", "GROUP BY", "HAVING", "COUNT(*)", "PREFIX", "dlom:",
    "BASE", "INSERT DATA", "DELETE WHERE", "CLEAR ALL", "DROP", "#", "\n", "\\", "\u0000", "é", "🙂",
    "REGEX(?o, \"(a+)+$\")", "<>", "_:b", "[]", "^", "|", "/", "+", "?",
]
sparql_soup = st.lists(st.sampled_from(_SPARQL_TOKENS), max_size=25).map(" ".join)
sparql_like = st.one_of(
    sparql_soup,
    st.text(max_size=200),
    st.sampled_from([
        "SELECT * WHERE { ?s ?p ?o } LIMIT 3",
        "ASK { ?s ?p ?o }",
        "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3",
        "DESCRIBE <https://w3id.org/dlom#Model>",
        "SELECT * WHERE { SERVICE <http://169.254.169.254/> { ?s ?p ?o } }",
        "INSERT DATA { <http://example.org/x> <http://example.org/p> 1 }",
        "LOAD <http://example.org/data.ttl>",
    ]),
)
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
content_types = st.one_of(st.sampled_from([
    "application/sparql-query", "application/sparql-update", "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1", "application/json", "text/plain", "multipart/form-data",
    "", "application/sparql-query; charset=utf-16",
]), header_text)
accepts = st.one_of(st.sampled_from([
    "*/*", "text/csv", "application/sparql-results+xml;q=0.1, text/turtle;q=0", "image/png", "text/html",
    "application/ld+json", "text/*;q=abc", ";;,,", "application/json;q=2",
]), header_text)
authorizations = st.one_of(st.none(), st.just(f"Bearer {TOKEN}"), st.just("Bearer"), st.just("Basic Zm9vOmJhcg=="),
                           header_text)
param_names = st.sampled_from(["query", "update", "default-graph-uri", "named-graph-uri", "iri", "format",
                               "using-graph-uri", "x"])
param_values = st.one_of(sparql_like, st.sampled_from(["https://w3id.org/dlom#Model", "not an iri", "", "turtle",
                                                       "html", "http://example.org/g"]))
paths = st.one_of(
    st.sampled_from(["/sparql", "/sparql/update", "/api/health", "/api/stats", "/api/entity", "/ontology",
                     "/ontology/Model", "/openapi.json", "/nope"]),
    st.text(min_size=1, max_size=40).map(lambda t: "/id/" + quote(t, safe="/", errors="surrogatepass")),
    st.text(min_size=1, max_size=40).map(lambda t: "/ontology/" + quote(t, safe="", errors="surrogatepass")),
)
bodies = st.one_of(st.none(), sparql_like.map(str.encode), st.binary(max_size=300),
                   st.lists(st.tuples(param_names, param_values), max_size=4).map(
                       lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")))


@pytest.fixture(scope="module")
def app() -> Iterator[FastAPI]:
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    store.add(Quad(NamedNode("http://example.org/a"), NamedNode("http://example.org/p"), Literal("1"),
                   NamedNode("http://example.org/g")) for _ in range(1))
    yield create_app(store, Settings(update_token=TOKEN, query_timeout_s=20, max_rows=100, max_body_bytes=4096,
                                     federation_allowlist=(), query_workers=2))
    store.close()


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _send(client: TestClient, method: str, path: str, params: list, content_type: str, accept: str,
          authorization: str | None, body: bytes | None) -> None:
    headers = {"Accept": accept, "Content-Type": content_type}
    if authorization is not None:
        headers["Authorization"] = authorization
    try:
        response = client.request(method, path, params=params, headers=headers, content=body)
    except (UnicodeEncodeError, httpx.InvalidURL):
        return  # the client library cannot even send this (e.g. a lone surrogate): not a server case
    event(f"{method} {path if path in ('/sparql', '/sparql/update') else 'other'} -> {response.status_code}")
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400 and method != "HEAD":
        assert response.content, "an error answer says what was wrong"


_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


@_FUZZ
@given(method=st.sampled_from(["GET", "POST"]), path=st.sampled_from(["/sparql", "/sparql/update"]),
       params=st.lists(st.tuples(param_names, param_values), max_size=4), content_type=content_types,
       accept=accepts, authorization=authorizations, body=bodies)
def test_no_sparql_request_gets_a_5xx(client: TestClient, method: str, path: str, params: list, content_type: str,
                                      accept: str, authorization: str | None, body: bytes | None) -> None:
    _send(client, method, path, params, content_type, accept, authorization, body)


@_FUZZ
@given(method=st.sampled_from(["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"]), path=paths,
       params=st.lists(st.tuples(param_names, param_values), max_size=4), content_type=content_types,
       accept=accepts, authorization=authorizations, body=bodies)
def test_no_request_gets_a_5xx(client: TestClient, method: str, path: str, params: list, content_type: str,
                               accept: str, authorization: str | None, body: bytes | None) -> None:
    _send(client, method, path, params, content_type, accept, authorization, body)


_TARGETS = [("/sparql", "application/sparql-query", None), ("/sparql", "application/x-www-form-urlencoded", "query"),
            ("/sparql/update", "application/sparql-update", None),
            ("/sparql/update", "application/x-www-form-urlencoded", "update")]


@_FUZZ
@given(target=st.sampled_from(_TARGETS), text=sparql_like, accept=accepts,
       graphs=st.lists(st.tuples(st.sampled_from(["default-graph-uri", "named-graph-uri"]), param_values), max_size=2))
def test_well_addressed_sparql_never_gets_a_5xx(client: TestClient, target: tuple, text: str, accept: str,
                                                graphs: list) -> None:
    """Past the protocol checks (right content type, right token): the query or update text itself."""
    path, content_type, field = target
    body = text.encode("utf-8", "surrogatepass") if field is None else \
        f"{field}={quote(text, errors='surrogatepass')}".encode()
    _send(client, "POST", path, graphs, content_type, accept, f"Bearer {TOKEN}", body)


def test_oversized_body_is_413_not_5xx(client: TestClient) -> None:
    r = client.post("/sparql", content=b"x" * 5000, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    r = client.post("/sparql/update", content=b"x" * 5000, headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 413


def test_malformed_content_length_is_400(app: FastAPI) -> None:
    import asyncio

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/sparql", "raw_path": b"/sparql", "query_string": b"",
             "headers": [(b"content-length", b"abc")], "http_version": "1.1", "scheme": "http",
             "server": ("test", 80), "client": ("test", 1), "root_path": "", "app": app}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400


def test_unexpected_errors_become_a_plain_500(app: FastAPI) -> None:
    """The catch-all handler: a genuine server fault answers 500 JSON with no trace or internals."""
    probe = create_app(app.state.store, app.state.settings)

    def broken() -> None:
        raise RuntimeError("secret internal detail at /srv/dlom/store")

    probe.add_api_route("/broken", broken)
    with TestClient(probe, raise_server_exceptions=False) as c:
        r = c.get("/broken")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal server error"}
    assert "secret" not in r.text and "Traceback" not in r.text
