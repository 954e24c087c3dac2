"""SPARQL 1.1 protocol completeness over real HTTP: the Graph Store HTTP Protocol at /rdf-graphs/service,
``using-graph-uri`` / ``using-named-graph-uri`` for updates, and relative IRIs resolved against the
endpoint's URL. The store holds the shipped graph; counts are checked against the shipped files."""
from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from kg.bootstrap import ensure_initialized
from kg.repositories import Repository
from kg.store import Store, open_store

TOKEN = "gsp-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SHIPPED = Path(__file__).resolve().parents[1] / "kg" / "data"
G = "https://example.org/gsp/graph-1"
NT = {"Content-Type": "application/n-triples"}
TTL = {"Content-Type": "text/turtle"}


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = open_store("oxigraph://")
    ensure_initialized(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[httpx.Client]:
    settings = Settings(update_token=TOKEN, query_timeout_s=30, max_rows=100_000)
    with serve_in_background(create_app(store, settings)) as url, httpx.Client(base_url=url, timeout=60) as c:
        yield c


def _gsp(graph: str | None) -> str:
    return "/rdf-graphs/service?" + (f"graph={quote(graph, safe='')}" if graph else "default")


def _triples(response: httpx.Response) -> set[ox.Triple]:
    fmt = ox.RdfFormat.from_media_type(response.headers["content-type"].split(";")[0])
    return {t.triple if isinstance(t, ox.Quad) else t for t in ox.parse(response.content, format=fmt)}


def _shipped_lines_in(graph: str) -> set[str]:
    """Distinct N-Quads lines of the shipped files in ``graph``, read as text (not through the store)."""
    tail = re.compile(r"\s<" + re.escape(graph) + r">\s*\.\s*$")
    lines: set[str] = set()
    for path in sorted(SHIPPED.glob("*.nq.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines.update(tail.sub(" .", line.strip()) for line in f if tail.search(line))
    return lines


# -- Graph Store Protocol -------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/n-triples", "text/turtle", "application/ld+json", "application/rdf+xml"])
def test_get_a_repository_graph_in_every_format(client: httpx.Client, accept: str) -> None:
    graph = Repository.DLN_PARAMETERS.graph.value
    expected = _shipped_lines_in(graph)
    assert len(expected) > 100  # the shipped DLN repository is not trivially small
    response = client.get(_gsp(graph), headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    got = _triples(response)
    assert len(got) == len(expected)
    if accept == "application/n-triples":
        assert {f"{t.subject} {t.predicate} {t.object} ." for t in got} == expected


def test_get_refusals(client: httpx.Client) -> None:
    assert client.get(_gsp("https://example.org/no-such-graph")).status_code == 404
    for query in ("", "?graph=a&default", "?graph=relative/iri", f"?graph={G}&graph={G}"):
        r = client.get("/rdf-graphs/service" + query)
        assert r.status_code == 400 and r.json()["detail"], query
    r = client.get(_gsp(Repository.DLN_PARAMETERS.graph.value), headers={"Accept": "image/png"})
    assert r.status_code == 406 and "offered" in r.json()["detail"]


def test_default_graph_is_the_union(client: httpx.Client, store: Store) -> None:
    response = client.get(_gsp(None), headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    union = {q.triple for q in store.quads()}
    got = _triples(response)
    if response.headers.get("DLOM-Results-Truncated") == "true":  # the grown graph is cut at the row limit
        assert len(got) == int(response.headers["DLOM-Max-Rows"]) < len(union) and got <= union
    else:
        assert len(got) == len(union)


def test_put_post_delete_lifecycle(client: httpx.Client, store: Store) -> None:
    before = store.count()
    one = "<https://example.org/gsp/a> <https://example.org/gsp/p> \"1\" .\n<https://example.org/gsp/a> <https://example.org/gsp/q> \"x\" ."
    r = client.put(_gsp(G), content=one, headers={**NT, **AUTH})
    assert r.status_code == 201, r.text
    assert len(_triples(client.get(_gsp(G), headers={"Accept": "application/n-triples"}))) == 2
    # PUT replaces: only the new content remains; relative IRIs resolve against the request URL.
    r = client.put(_gsp(G), content="<b> <https://example.org/gsp/p> 2 .", headers={**TTL, **AUTH})
    assert r.status_code == 204, r.text
    got = _triples(client.get(_gsp(G), headers={"Accept": "application/n-triples"}))
    assert [t.subject.value for t in got] == [str(client.base_url.join("/rdf-graphs/b"))]
    # POST merges.
    r = client.post(_gsp(G), content="<https://example.org/gsp/c> <https://example.org/gsp/p> \"3\" .", headers={**NT, **AUTH})
    assert r.status_code == 204, r.text
    assert len(_triples(client.get(_gsp(G), headers={"Accept": "application/n-triples"}))) == 2
    assert store.count() == before + 2
    assert client.delete(_gsp(G), headers=AUTH).status_code == 204
    assert client.get(_gsp(G)).status_code == 404
    assert client.delete(_gsp(G), headers=AUTH).status_code == 404
    assert store.count() == before


def test_post_to_a_new_graph_creates_it(client: httpx.Client) -> None:
    graph = G + "-posted"
    r = client.post(_gsp(graph), content="<https://example.org/gsp/d> <https://example.org/gsp/p> \"4\" .", headers={**NT, **AUTH})
    assert r.status_code == 201, r.text
    assert client.delete(_gsp(graph), headers=AUTH).status_code == 204


def test_an_invalid_write_changes_nothing(client: httpx.Client, store: Store) -> None:
    client.put(_gsp(G), content="<https://example.org/gsp/keep> <https://example.org/gsp/p> \"1\" .", headers={**NT, **AUTH})
    before = set(store.quads())
    bad_device = ("@prefix dlom: <https://w3id.org/dlom#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                  "<https://example.org/gsp/dev> a dlom:EndDevice ; rdfs:label \"dev\" ; dlom:clockFrequencyMHz \"fast\" .")
    r = client.put(_gsp(G), content=bad_device, headers={**TTL, **AUTH})
    assert r.status_code == 422, r.text
    assert any("clockFrequencyMHz" in v["path"] for v in r.json()["violations"])
    r = client.put(_gsp(G), content="<https://example.org/gsp/x> <https://example.org/gsp/p> .", headers={**NT, **AUTH})
    assert r.status_code == 400 and "line 1" in r.json()["detail"]
    r = client.put(_gsp(G), content="{}", headers={"Content-Type": "application/json", **AUTH})
    assert r.status_code == 415
    assert set(store.quads()) == before
    assert client.delete(_gsp(G), headers=AUTH).status_code == 204


def test_default_graph_writes(client: httpx.Client, store: Store) -> None:
    for method in ("PUT", "DELETE"):
        r = client.request(method, _gsp(None), content="", headers={**NT, **AUTH})
        assert r.status_code == 405 and r.headers["Allow"] == "GET, POST", r.text
    r = client.put(_gsp(Repository.ONTOLOGY.graph.value), content="", headers={**NT, **AUTH})
    assert r.status_code == 403 and "read-only" in r.json()["detail"]
    # POST ?default: routed to the entity's repository, as every DLOM write.
    device = ("@prefix dlom: <https://w3id.org/dlom#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
              "<https://example.org/gsp/device-1> a dlom:EndDevice ; rdfs:label \"GSP device\" ; dlom:clockFrequencyMHz 80 .")
    r = client.post(_gsp(None), content=device, headers={**TTL, **AUTH})
    assert r.status_code == 204, r.text
    graphs = {q.graph_name.value for q in store.quads() if q.subject.value == "https://example.org/gsp/device-1"}
    assert graphs == {Repository.CLIENT_CONFIGURATIONS.graph.value}


# -- using-graph-uri / using-named-graph-uri ----------------------------------------------------------


def _update(client: httpx.Client, text: str, **params: str | list[str]) -> httpx.Response:
    return client.post("/sparql/update", params=params, content=text,
                       headers={"Content-Type": "application/sparql-update", **AUTH})


def test_using_graph_uri_sets_the_where_dataset(client: httpx.Client, store: Store) -> None:
    g, h = G + "-using", G + "-copy"
    client.put(_gsp(g), content="<https://example.org/u/a> <https://example.org/u/p> \"1\" .\n"
                                "<https://example.org/u/b> <https://example.org/u/p> \"2\" .", headers={**NT, **AUTH})
    copy = f"INSERT {{ GRAPH <{h}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"
    r = _update(client, copy)  # the store's own default graph is empty: nothing matches
    assert r.status_code == 200 and r.json() == {"inserted": 0, "deleted": 0}
    r = _update(client, copy, **{"using-graph-uri": g})
    assert r.status_code == 200 and r.json() == {"inserted": 2, "deleted": 0}, r.text
    # The form POST carries them in the body.
    r = client.post("/sparql/update", data={"update": f"DELETE {{ GRAPH <{h}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
                                            "using-named-graph-uri": h}, headers=AUTH)
    assert r.status_code == 200 and r.json() == {"inserted": 0, "deleted": 2}, r.text
    for refused in (f"DELETE {{ ?s ?p ?o }} USING <{g}> WHERE {{ ?s ?p ?o }}",
                    f"WITH <{g}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", "DELETE WHERE { ?s ?p ?o }"):
        r = _update(client, refused, **{"using-graph-uri": g})
        assert r.status_code == 400, refused
    r = _update(client, copy, **{"using-graph-uri": "not an iri"})
    assert r.status_code == 400 and "using-graph-uri" in r.json()["detail"]
    client.delete(_gsp(g), headers=AUTH)


# -- base IRI -------------------------------------------------------------------------------------


def test_relative_iris_resolve_against_the_endpoint(client: httpx.Client, store: Store) -> None:
    r = client.get("/sparql", params={"query": "SELECT (<x> AS ?i) WHERE {}"})
    assert r.status_code == 200, r.text
    assert r.json()["results"]["bindings"][0]["i"]["value"] == str(client.base_url.join("/x"))
    r = client.get("/sparql", params={"query": "CONSTRUCT { <a> <b> <c> } WHERE {}"}, headers={"Accept": "application/n-triples"})
    assert r.text.strip() == f"<{client.base_url.join('/a')}> <{client.base_url.join('/b')}> <{client.base_url.join('/c')}> ."
    # The query's own BASE wins (and a relative one resolves against the endpoint).
    r = client.get("/sparql", params={"query": "BASE <https://example.org/base/> SELECT (<x> AS ?i) WHERE {}"})
    assert r.json()["results"]["bindings"][0]["i"]["value"] == "https://example.org/base/x"
    r = _update(client, f"INSERT DATA {{ GRAPH <{G}-base> {{ <a> <https://example.org/p> 1 }} }}")
    assert r.status_code == 200, r.text
    assert {q.subject.value for q in store.quads(ox.NamedNode(G + "-base"))} == {str(client.base_url.join("/sparql/a"))}
    client.delete(_gsp(G + "-base"), headers=AUTH)


def test_syntax_errors_keep_the_clients_line_numbers(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": "SELECT *\nWHERE { ?s ?p }"})
    assert r.status_code == 400
    body = r.json()
    assert body["line"] == 2 and f"error at 2:{body['column']}" in body["detail"]
