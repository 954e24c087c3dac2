"""The REST API and the Linked-Data pages, over a real socket, on the shipped knowledge graph.

Health and stats, content negotiation of entity pages (HTML with working links, Turtle and JSON-LD
whose triples are exactly the store's), the ontology document, 4xx for unknown or malformed IRIs, HTML
escaping of data, and the OpenAPI schema listing every route.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import rdflib
from pyoxigraph import Literal, NamedNode, Quad

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from kg.bootstrap import ensure_initialized
from kg.namespaces import DLOM, DLOM_ID, RDFS, entity
from kg.repositories import Repository
from kg.results import Solutions
from kg.stats import graph_stats
from kg.store import Store, open_store

XSS = entity("device", "test", "xss")
XSS_LABEL = '<script>alert("x")</script> & co'


@dataclass
class Server:
    url: str
    store: Store
    http: httpx.Client


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    store = open_store("oxigraph://")
    ensure_initialized(store)  # ontology + the shipped graph, as `dlom serve` starts
    store.add([Quad(XSS, RDFS.label, Literal(XSS_LABEL), Repository.CLIENT_CONFIGURATIONS.graph)])
    app = create_app(store, Settings(update_token=None, query_timeout_s=10, max_rows=1000,
                                     max_body_bytes=1 << 20, federation_allowlist=(), query_workers=2))
    with serve_in_background(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield Server(url, store, http)
    store.close()


@pytest.fixture(scope="module")
def model(server: Server) -> NamedNode:
    result = server.store.query("PREFIX dlom: <https://w3id.org/dlom#> SELECT ?m WHERE { ?m a dlom:Model ; "
                                "dlom:deployedOn ?d } ORDER BY ?m LIMIT 1")
    assert isinstance(result, Solutions)
    (row,) = list(result.rows)
    return row[0]


def _path(iri: NamedNode) -> str:
    assert iri.value.startswith(DLOM_ID)
    return "/id/" + iri.value[len(DLOM_ID):]


def test_health(server: Server) -> None:
    r = server.http.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["quads"] == server.store.count()
    # the build it serves (tests/test_packaging_provenance.py checks the figures against the files)
    assert {"graph", "predictor"} <= set(body) and body["graph"]["files"]


def test_stats_match_the_library(server: Server) -> None:
    r = server.http.get("/api/stats")
    assert r.status_code == 200
    expected = graph_stats(server.store)
    assert r.json() == {"total": expected.total, "repositories": expected.repositories, "classes": expected.classes}
    assert r.json()["classes"]["Model"] > 0


def test_instance_page_html_links_resolve(server: Server, model: NamedNode) -> None:
    r = server.http.get(_path(model), headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert model.value in r.text
    links = set(re.findall(r'href="(/id/[^"]+)"', r.text))
    assert links, "the page links to related entities"
    for link in sorted(links)[:5]:
        followed = server.http.get(link, headers={"Accept": "text/html"})
        assert followed.status_code == 200, link
    assert 'href="/ontology/Model"' in r.text  # rdf:type dlom:Model links to the ontology term page


def test_instance_page_turtle_is_exactly_the_description(server: Server, model: NamedNode) -> None:
    r = server.http.get(_path(model), headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    got = {(str(p), str(o)) for s, p, o in g}
    assert {str(s) for s, _, _ in g} == {model.value}
    expected = {(q.predicate.value, q.object.value) for q in server.store.quads() if q.subject == model}
    assert got == expected


def test_instance_page_json_ld(server: Server, model: NamedNode) -> None:
    r = server.http.get(_path(model), headers={"Accept": "application/ld+json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    doc = json.loads(r.text)
    nodes = doc if isinstance(doc, list) else doc.get("@graph", [doc])
    assert any(n.get("@id") == model.value for n in nodes)
    g = rdflib.Graph().parse(data=r.text, format="json-ld")
    assert (rdflib.URIRef(model.value), rdflib.RDF.type, rdflib.URIRef(DLOM.Model.value)) in g


def test_format_parameter_overrides_accept(server: Server, model: NamedNode) -> None:
    r = server.http.get(_path(model), params={"format": "ntriples"}, headers={"Accept": "text/html"})
    assert r.headers["content-type"].startswith("application/n-triples")
    assert f"<{model.value}>" in r.text


def test_ontology_term_and_document(server: Server) -> None:
    r = server.http.get("/ontology/Model", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert (rdflib.URIRef(DLOM.Model.value), rdflib.RDF.type, rdflib.OWL.Class) in g
    r = server.http.get("/ontology", headers={"Accept": "text/html"})
    assert r.status_code == 200 and 'id="Model"' in r.text  # https://w3id.org/dlom#Model lands on its anchor
    r = server.http.get("/ontology", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert (rdflib.URIRef(DLOM.EndDevice.value), rdflib.RDFS.label, None) in g


def test_entity_by_iri(server: Server) -> None:
    r = server.http.get("/api/entity", params={"iri": DLOM.Model.value}, headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert r.text == server.http.get("/ontology/Model", headers={"Accept": "text/turtle"}).text


def test_html_escapes_data(server: Server) -> None:
    r = server.http.get(_path(XSS), headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "<script>" not in r.text
    assert "&lt;script&gt;" in r.text


@pytest.mark.parametrize("path,params,status", [
    ("/id/model/does-not-exist", {}, 404),
    ("/ontology/NoSuchTerm", {}, 404),
    ("/api/entity", {"iri": "http://example.org/unknown"}, 404),
    ("/api/entity", {"iri": "not an iri"}, 400),
    ("/api/entity", {}, 422),
    ("/ontology/Model", {"format": "pdf"}, 400),
])
def test_client_mistakes_are_4xx_with_a_message(server: Server, path: str, params: dict, status: int) -> None:
    r = server.http.get(path, params=params)
    assert r.status_code == status
    assert r.json()["detail"]


def test_unacceptable_format_is_406(server: Server) -> None:
    r = server.http.get("/ontology/Model", headers={"Accept": "image/png"})
    assert r.status_code == 406


def test_openapi_documents_every_route(server: Server) -> None:
    paths = server.http.get("/openapi.json").json()["paths"]
    for path in ("/api/health", "/api/stats", "/api/entity", "/id/{path}", "/ontology", "/ontology/{name}",
                 "/sparql", "/sparql/update"):
        assert path in paths, path
    assert "application/sparql-query" in paths["/sparql"]["post"]["requestBody"]["content"]
