"""The REST API and the Linked-Data pages, over a real socket, on the shipped knowledge graph.

Health and stats, content negotiation of entity pages (HTML with working links, Turtle and JSON-LD
whose triples are exactly the store's), the ontology document, 4xx for unknown or malformed IRIs, HTML
escaping of data, and the OpenAPI schema listing every route. On the same server: the GraphQL filters of
the grown graph (scenario, accelerator, precision, device class, runtime, compute unit, form factor), each
counted against an independent SPARQL query, combined with paging; GraphQL ``effects`` equal to
GET /api/effects; and the README's two worked decision examples through :func:`decision.recommend.recommend`.
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
from decision.recommend import recommend
from kg.bootstrap import ensure_initialized
from kg.namespaces import DLOM, DLOM_ID, RDFS, SPARQL_PREFIXES, entity
from kg.repositories import Repository
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
    result = server.store.select("PREFIX dlom: <https://w3id.org/dlom#> SELECT ?m WHERE { ?m a dlom:Model ; "
                                 "dlom:deployedOn ?d } ORDER BY ?m LIMIT 1")
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


# -- GraphQL filters of the grown graph, each against an independent SPARQL count ----------------------

RPI4 = "https://w3id.org/dlom/id/hardware/board/raspberry-pi-4-model-b"
ON = "{ ?m dlom:deployedOn ?d } UNION { ?m dlom:usesCloudConfiguration ?d }"
COUNT_QUERY = """query($f: ModelFilter, $after: String) {
  models(filter: $f, first: 100, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }"""


def _sparql_models(server: Server, where: str) -> set[str]:
    result = server.store.select(f"{SPARQL_PREFIXES}SELECT DISTINCT ?m WHERE {{ ?m a dlom:Model . {where} }}")
    return {row[0].value for row in result.rows}


def _graphql(server: Server, query: str, variables: dict | None = None) -> dict:
    r = server.http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("flt, where", [
    ({"scenario": "Offline"}, '?m dlom:hasPerformance ?p . ?p dlom:scenario "Offline"'),
    ({"scenario": "single stream"}, '?m dlom:hasPerformance ?p . ?p dlom:scenario "SingleStream"'),
    ({"computeUnit": "gpu"}, '?m dlom:hasPerformance ?p . ?p dlom:primaryComputeUnit "GPU"'),
    ({"deviceClass": "CLOUD_CONFIGURATION"}, "?m dlom:usesCloudConfiguration ?c . ?c a dlom:CloudConfiguration"),
    ({"deviceClass": "EndDevice"}, "?m dlom:deployedOn ?d . ?d a dlom:EndDevice"),
    ({"deviceClass": "benchmark host"}, "?m dlom:deployedOn ?d . ?d a dlom:BenchmarkHost"),
    ({"runtime": "TFLite"}, '?m dlom:runtime "tflite"'),
    ({"precision": "w8a16"}, '?m dlom:precision "w8a16"'),
    # MLPerf Inference writes the weight data type as the quantization scheme, mixed ones as 'mixed precision (a+b)'
    ({"precision": "fp16"}, '{ ?m dlom:precision "fp16" } UNION { ?m dlom:appliesOptimization ?q . '
                            '?q a dlom:Quantization ; dlom:quantizationScheme ?s . '
                            'FILTER(?s = "fp16" || REGEX(?s, "^mixed precision [(](.*[+])?fp16([+].*)?[)]$")) }'),
    ({"formFactor": "iot"}, '?m dlom:deployedOn ?d . ?d dlom:formFactor "IoT"'),
    ({"accelerator": "a100"}, '{ ?m dlom:deployedOn ?d . ?d dlom:accelerator ?a } UNION '
                              '{ ?m dlom:usesCloudConfiguration ?d . ?d dlom:acceleratorModel ?a } FILTER(REGEX(?a, "A100", "i"))'),
    ({"accelerator": RPI4}, f"{ON} {{ ?d dlom:hardware <{RPI4}> }} UNION {{ ?d dlom:socHardware <{RPI4}> }}"),
])
def test_graphql_filter_counts_what_sparql_counts(server: Server, flt: dict, where: str) -> None:
    expected = _sparql_models(server, where)
    assert expected, f"the shipped graph has no model for {flt}: the test would prove nothing"
    data = _graphql(server, COUNT_QUERY, {"f": flt})["data"]["models"]
    assert data["totalCount"] == len(expected)
    assert {e["node"]["id"] for e in data["edges"]} <= expected


@pytest.mark.parametrize("flt, sort, where", [
    # MLPerf Inference: int8 image classifiers measured Offline on a Cloud AI 100, by label descending
    ({"scenario": "OFFLINE", "accelerator": "cloud ai 100", "precision": "int8", "purpose": "image classification"},
     {"by": "LABEL", "direction": "DESC"},
     '?m dlom:hasPerformance ?p . ?p dlom:scenario "Offline" . ?m dlom:purpose ?pu FILTER(CONTAINS(?pu, "image classification")) '
     '{ ?m dlom:deployedOn ?d . ?d dlom:accelerator ?a } UNION { ?m dlom:usesCloudConfiguration ?d . ?d dlom:acceleratorModel ?a } '
     'FILTER(CONTAINS(LCASE(?a), "cloud ai 100")) ?m dlom:appliesOptimization ?q . ?q dlom:quantizationScheme "int8"'),
    # AI Hub: w8a8 on tflite on the NPU of IoT boards, under 0.5 ms measured, fastest first
    ({"runtime": "tflite", "computeUnit": "NPU", "formFactor": "IoT", "precision": "w8a8", "latencyMs": {"max": 0.5}},
     {"by": "LATENCY", "direction": "ASC"},
     '?m dlom:runtime "tflite" ; dlom:precision "w8a8" ; dlom:deployedOn ?d . ?d dlom:formFactor "IoT" . '
     '?m dlom:hasPerformance ?u . ?u dlom:primaryComputeUnit "NPU" . '
     '{ SELECT ?m (MIN(?l) AS ?lat) WHERE { ?m dlom:hasPerformance ?p . ?p dlom:inferenceLatencyMs ?l '
     'FILTER NOT EXISTS { ?p a dlom:PredictedPerformance } FILTER NOT EXISTS { ?p a dlom:CopiedPerformance } } '
     'GROUP BY ?m } FILTER(?lat <= 0.5)'),
])
def test_graphql_filters_combine_with_the_others_sort_and_paging(server: Server, flt: dict, sort: dict, where: str) -> None:
    expected = _sparql_models(server, where)
    assert 10 < len(expected) < 400, len(expected)  # several pages of 7, few enough to walk
    query = """query($f: ModelFilter, $s: ModelSort, $after: String) {
      models(filter: $f, sort: $s, first: 7, after: $after) {
        totalCount edges { cursor node { id label performance { kind inferenceLatencyMs } } }
        pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    seen: list[dict] = []
    after = None
    while True:
        page = _graphql(server, query, {"f": flt, "s": sort, "after": after})["data"]["models"]
        assert page["totalCount"] == len(expected)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [n["id"] for n in seen] == list(dict.fromkeys(n["id"] for n in seen))  # each model once
    assert {n["id"] for n in seen} == expected
    if sort["by"] == "LABEL":
        keys = [n["label"].casefold() for n in seen]
        assert keys == sorted(keys, reverse=True)
    else:
        # the listing's latency: the smallest over measured records (copies of another device's are not)
        keys = [min(p["inferenceLatencyMs"] for p in n["performance"]
                    if p["inferenceLatencyMs"] is not None and p["kind"] == "MEASURED") for n in seen]
        assert keys == sorted(keys) and keys[-1] <= 0.5


@pytest.mark.parametrize("field, value, allowed", [
    ("scenario", "Batch", "SingleStream, MultiStream, Offline, Server"),
    ("computeUnit", "TPU", "NPU, GPU, CPU"),
    ("deviceClass", "smartwatch", "END_DEVICE, BENCHMARK_HOST, CLOUD_CONFIGURATION"),
])
def test_an_unknown_closed_filter_value_is_an_error_naming_field_and_values(
        server: Server, field: str, value: str, allowed: str) -> None:
    body = _graphql(server, COUNT_QUERY, {"f": {field: value}})
    assert body["data"] is None
    message = body["errors"][0]["message"]
    assert f"filter.{field}" in message and repr(value) in message and allowed in message, message


def test_an_open_filter_value_no_model_has_is_an_empty_page(server: Server) -> None:
    body = _graphql(server, COUNT_QUERY, {"f": {"runtime": '" } DROP ALL #', "formFactor": "Smartwatch"}})
    assert "errors" not in body
    assert body["data"]["models"] == {"totalCount": 0, "edges": [],
                                      "pageInfo": {"hasNextPage": False, "endCursor": None}}


def test_graphql_effects_answer_what_rest_answers(server: Server) -> None:
    rest = server.http.get("/api/effects", params={"runtime": "tflite", "form_factor": "IoT",
                                                   "precision": ["w8a8", "w8a16"]})
    assert rest.status_code == 200
    dist = "n median q1 q3 min max"
    body = _graphql(server, f"""{{ effects(runtime: "tflite", formFactor: "IoT", precision: ["w8a8", "w8a16"]) {{
        baseline pairing effects {{ precision latencyRatio {{ {dist} }} memoryRatio {{ {dist} }}
          accuracyChange {{ {dist} }} accuracyChangeByMetric {{ metric change {{ {dist} }} }} }} }} }}""")
    assert "errors" not in body, body
    got = body["data"]["effects"]
    expected = rest.json()
    assert expected["effects"] and expected["effects"][0]["latency_ratio"]["n"] > 0
    as_rest = {"baseline": got["baseline"], "pairing": got["pairing"], "effects": [{
        "precision": e["precision"], "latency_ratio": e["latencyRatio"], "memory_ratio": e["memoryRatio"],
        "accuracy_change": e["accuracyChange"],
        "accuracy_change_by_metric": {m["metric"]: m["change"] for m in e["accuracyChangeByMetric"]}}
        for e in got["effects"]]}
    assert as_rest == expected


# -- the README's worked decision examples, through the library on the shipped graph ------------------

RESNET50 = "ResNet-50 v1.5 (MLPerf Inference reference)"


def _devices_of(server: Server, model: str) -> list[str]:
    result = server.store.select(f"{SPARQL_PREFIXES}SELECT ?d WHERE {{ <{model}> dlom:deployedOn ?d }}")
    return [row[0].value for row in result.rows]


def test_readme_example_a_resnet50_on_a_raspberry_pi_and_on_cloud_instances(server: Server) -> None:
    """§6: ResNet-50 on a Raspberry Pi, and the same network on cloud instances (Google Compute Engine N2),
    SingleStream latency under a second, ranked with Eq. 1 under latency- and accuracy-heavy weights."""
    weights = {"performance": 0.4, "latency": 0.4, "cost": 0.2}
    pi = recommend(server.store, {"network": {"network": RESNET50}, "project": {"device_types": ["Raspberry Pi"]},
                                  "performance": {"max_latency_ms": 1000}, "preferences": {"weights": weights}})
    cloud = recommend(server.store, {"network": {"network": RESNET50}, "cloud": {"server_hardware": "n2-"},
                                     "performance": {"max_latency_ms": 1000}, "preferences": {"weights": weights}})
    for rec in (pi, cloud):
        assert rec.status == "ok" and rec.recommendations
        scores = [e.score for e in rec.recommendations]
        assert scores == sorted(scores, reverse=True)
        for e in rec.recommendations:
            assert e.attributes["dln"] == RESNET50
            assert 0 < e.attributes["inference_latency_ms"] <= 1000
    for e in pi.recommendations:
        assert all("raspberry pi" in label.lower() for label in e.attributes["devices"]) and e.attributes["devices"]
    for e in cloud.recommendations:
        assert "n2-" in e.attributes["server_hardware"]
    # the cloud instances answer an order of magnitude faster than any Raspberry Pi
    assert max(e.attributes["inference_latency_ms"] for e in cloud.recommendations) < \
        min(e.attributes["inference_latency_ms"] for e in pi.recommendations)


def test_readme_example_b_an_image_classifier_on_an_iot_board_under_5_ms(server: Server) -> None:
    """An image classifier on an IoT board (device.form_factor: the boards AI Hub files under IoT) under
    5 ms, ranked with Eq. 1. (The '≤ 1 point of top-1 lost to quantization' part is not a requirement the
    decision support can state yet; the README answers it with SPARQL.)"""
    result = server.store.select(SPARQL_PREFIXES + 'SELECT DISTINCT ?n WHERE { ?d dlom:formFactor "IoT" ; '
                                 'dlom:publishedName ?n } ORDER BY ?n')
    boards = [row[0].value for row in result.rows]
    assert boards
    wanted = {"project": {"purpose": "image classification"}, "performance": {"max_latency_ms": 5},
              "preferences": {"weights": {"performance": 0.4, "latency": 0.4, "cost": 0.2}}}
    rec = recommend(server.store, {**wanted, "device": {"form_factor": "IoT"}}, top_k=10)
    by_names = recommend(server.store, {**wanted, "project": {**wanted["project"], "device_types": boards}}, top_k=10)
    assert rec.status == "ok" and rec.recommendations
    assert rec.message == by_names.message  # the form factor and the boards' names select the same models
    assert [e.model for e in rec.recommendations] == [e.model for e in by_names.recommendations]
    iot = _sparql_models(server, '?m dlom:deployedOn ?d . ?d dlom:formFactor "IoT"')
    for e in rec.recommendations:
        assert e.model in iot and _devices_of(server, e.model)
        assert "image classification" in e.attributes["purpose"]
        assert 0 < e.attributes["inference_latency_ms"] <= 5
