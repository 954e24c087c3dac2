"""The GraphQL API over real HTTP: a uvicorn server on a loopback port serving api.app.create_app over an
in-memory store seeded through the validated write path, queried with httpx.

Seeded catalog (five hand-built models; figures chosen so each filter and sort order has one answer):

  label                 DLN     device  techniques          area             purpose               cost year lat  acc  energy
  kws-int8-nucleo       DS-CNN  nucleo  Q8                  Smart home       Keyword spotting      100 2021  50  .91  1000
  kws-pruned-int8-pi    DS-CNN  pi4     P(.5), Q8           Industrial       Keyword spotting      300 2022   5  .90  3000
  ic-fp32-pi            ResNet  pi4     -                   Medical          Image classification  500 2020  20  .87  5000
  ic-int8-nucleo        ResNet  nucleo  Q8                  Medical imaging  Image classification  150 2023 200  .85   800
                                                                                       + a *predicted* record: lat 1, acc .99 (ignored)
  ic-distilled-nucleo   ResNet  nucleo  KD(T=4), Q8         Agriculture      Image classification   -  2024 100   -    600
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pyoxigraph import NamedNode, Quad, Triple

from api.app import create_app
from api.server import serve_in_background
from api.graphql_api import MAX_ALIASES, MAX_QUERY_DEPTH, MAX_TOKENS
from api.settings import Settings
from kg.framework_names import framework_families
from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.ontology import ontology_quads
from kg.results import QueryResult
from kg.store import Queries, Store, open_store
from kg.terms import literal
from kg.writes import write_triples

TOKEN = "test-update-token-7f3a"


# -- a real server on a loopback port --------------------------------------------------------------


@dataclass
class RunningServer:
    url: str
    store: Store

    def post(self, query: str, variables: Mapping[str, Any] | None = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.url}/graphql", json={"query": query, "variables": dict(variables or {})},
                          headers=headers, timeout=30)

    def data(self, query: str, variables: Mapping[str, Any] | None = None, token: str | None = None) -> dict:
        """The ``data`` of a query that must succeed."""
        response = self.post(query, variables, token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body
        return body["data"]


@pytest.fixture(scope="module")
def serve() -> Iterator[Any]:
    """Start servers (api.server.serve_in_background) for the tests of this module; each is stopped at
    module end."""
    with ExitStack() as servers:
        def start(store: Store, settings: Settings) -> RunningServer:
            return RunningServer(servers.enter_context(serve_in_background(create_app(store, settings))), store)

        yield start


# -- seeding ---------------------------------------------------------------------------------------


def _new_store() -> Store:
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    return store


class Seed:
    """Builds a catalog through kg.writes.write_triples (so seeded data passes the SHACL shapes)."""

    def __init__(self) -> None:
        self.triples: list[Triple] = []

    def add(self, s: NamedNode, p: NamedNode, o: Any) -> None:
        self.triples.append(Triple(s, p, o if isinstance(o, NamedNode) else literal(o)))

    def device(self, key: str, label: str, price: float, framework: NamedNode | None = None) -> NamedNode:
        d = entity("device", "test", key)
        self.add(d, RDF.type, DLOM.EndDevice)
        self.add(d, RDFS.label, label)
        self.add(d, DLOM.priceUsd, price)
        self.add(d, DLOM.clockFrequencyMHz, 120.0)
        if framework is not None:
            self.add(d, DLOM.usesFramework, framework)
        return d

    def framework(self, key: str, label: str) -> NamedNode:
        f = entity("framework", "test", key)
        self.add(f, RDF.type, DLOM.Framework)
        self.add(f, RDFS.label, label)
        for family in framework_families(label):  # as every importer records it
            self.add(f, DLOM.frameworkFamily, family)
        return f

    def dln(self, key: str, label: str, layers: int, derived_from: NamedNode | None = None) -> NamedNode:
        n = entity("dln", "test", key)
        self.add(n, RDF.type, DLOM.DLN)
        self.add(n, RDFS.label, label)
        self.add(n, DLOM.numberOfLayers, layers)
        if derived_from is not None:
            self.add(n, DLOM.derivedFromDLN, derived_from)
        return n

    def model(self, label: str, dln: NamedNode, device: NamedNode, techniques: Sequence[tuple[NamedNode, dict]],
              area: str, purpose: str, cost: float | None, year: int, latency: float, accuracy: float | None,
              energy: float, predicted: dict | None = None) -> NamedNode:
        m = entity("model", "test", label)
        self.add(m, RDF.type, DLOM.Model)
        self.add(m, RDFS.label, label)
        self.add(m, DLOM.usesDLN, dln)
        self.add(m, DLOM.deployedOn, device)
        self.add(m, DLOM.applicationArea, area)
        self.add(m, DLOM.purpose, purpose)
        self.add(m, DLOM.yearCreated, year)
        if cost is not None:
            self.add(m, DLOM.totalCostUsd, cost)
        for i, (family, params) in enumerate(techniques):
            t = entity("technique", "test", label, str(i))
            self.add(m, DLOM.appliesOptimization, t)
            self.add(t, RDF.type, family)
            self.add(t, RDFS.label, f"{family.value.rsplit('#', 1)[1]} of {label}")
            self.add(t, DLOM.sequenceIndex, i)
            for p, v in params.items():
                self.add(t, p, v)
        submitter = entity("submitter", "test", "acme")
        self.add(submitter, RDF.type, DLOM.Submitter)
        self.add(submitter, RDFS.label, "Acme Labs")
        run = entity("run", "test", label)
        self.add(run, RDF.type, DLOM.BenchmarkRun)
        self.add(run, RDFS.label, f"run of {label}")
        self.add(run, DLOM.benchmarkRound, "v1.1")
        self.add(run, PROV.wasAssociatedWith, submitter)
        source = entity("source", "test", label)
        self.add(source, RDF.type, DLOM.SourceFile)
        self.add(source, DLOM.sourcePath, f"v1.1/closed/acme/results/{label}/performance/results.txt")
        perf = entity("performance", "test", label)
        self.add(m, DLOM.hasPerformance, perf)
        self.add(perf, RDF.type, DLOM.MeasuredPerformance)
        self.add(perf, RDFS.label, f"measured {label}")
        self.add(perf, DLOM.inferenceLatencyMs, latency)
        self.add(perf, DLOM.energyPerInferenceUj, energy)
        if accuracy is not None:
            self.add(perf, DLOM.accuracy, accuracy)
        self.add(perf, PROV.wasGeneratedBy, run)
        self.add(perf, PROV.wasDerivedFrom, source)
        if predicted is not None:
            pred = entity("performance", "test", label, "predicted")
            self.add(m, DLOM.hasPerformance, pred)
            self.add(pred, RDF.type, DLOM.PredictedPerformance)
            self.add(pred, RDFS.label, f"predicted {label}")
            self.add(pred, DLOM.predictionConfidence, 0.5)
            self.add(pred, DLOM.predictorVersion, "gnn-test")
            self.add(pred, PROV.wasGeneratedBy, run)
            for p, v in predicted.items():
                self.add(pred, p, v)
        return m

    def write(self, store: Store) -> None:
        write_triples(store, self.triples, source="test seed")


IRI = {
    "nucleo": entity("device", "test", "nucleo").value,
    "pi4": entity("device", "test", "pi4").value,
    "dscnn": entity("dln", "test", "dscnn").value,
    "resnet": entity("dln", "test", "resnet").value,
    "resnet-student": entity("dln", "test", "resnet-student").value,
}


def seed_catalog(store: Store) -> None:
    s = Seed()
    tflm = s.framework("tflm", "TensorFlow Lite Micro")
    nucleo = s.device("nucleo", "Nucleo-L4R5ZI", 20.0, tflm)
    pi4 = s.device("pi4", "Raspberry Pi 4", 55.0)
    dscnn = s.dln("dscnn", "DS-CNN", 5)
    resnet = s.dln("resnet", "ResNet-8", 8)
    s.dln("resnet-student", "ResNet-8 student", 4, derived_from=resnet)
    q8 = (DLOM.Quantization, {DLOM.bitWidth: 8, DLOM.quantizationScheme: "static"})
    s.model("kws-int8-nucleo", dscnn, nucleo, [q8], "Smart home", "Keyword spotting", 100.0, 2021, 50.0, 0.91, 1000.0)
    s.model("kws-pruned-int8-pi", dscnn, pi4, [(DLOM.Pruning, {DLOM.sparsity: 0.5}), q8], "Industrial",
            "Keyword spotting", 300.0, 2022, 5.0, 0.90, 3000.0)
    s.model("ic-fp32-pi", resnet, pi4, [], "Medical", "Image classification", 500.0, 2020, 20.0, 0.87, 5000.0)
    s.model("ic-int8-nucleo", resnet, nucleo, [q8], "Medical imaging", "Image classification", 150.0, 2023, 200.0,
            0.85, 800.0, predicted={DLOM.inferenceLatencyMs: 1.0, DLOM.accuracy: 0.99})
    s.model("ic-distilled-nucleo", resnet, nucleo,
            [(DLOM.KnowledgeDistillation, {DLOM.temperature: 4.0, DLOM.teacherDLN: resnet}), q8],
            "Agriculture", "Image classification", None, 2024, 100.0, None, 600.0)
    s.write(store)


@pytest.fixture(scope="module")
def catalog(serve: Any) -> RunningServer:
    """A read-only server over the five-model catalog (no update token configured)."""
    store = _new_store()
    seed_catalog(store)
    return serve(store, Settings(update_token=None))


@pytest.fixture
def writable(serve: Any) -> RunningServer:
    """A fresh server over the catalog with an update token, for mutations."""
    store = _new_store()
    seed_catalog(store)
    return serve(store, Settings(update_token=TOKEN))


# -- filters ---------------------------------------------------------------------------------------

LABELS = """query($filter: ModelFilter, $sort: ModelSort, $first: Int! = 100) {
  models(filter: $filter, sort: $sort, first: $first) { edges { node { label } } pageInfo { hasNextPage } }
}"""


def labels(server: RunningServer, flt: dict | None = None, sort: dict | None = None) -> list[str]:
    data = server.data(LABELS, {"filter": flt, "sort": sort})
    return [e["node"]["label"] for e in data["models"]["edges"]]


@pytest.mark.parametrize("flt, expected", [
    ({}, {"kws-int8-nucleo", "kws-pruned-int8-pi", "ic-fp32-pi", "ic-int8-nucleo", "ic-distilled-nucleo"}),
    ({"devices": [IRI["nucleo"]]}, {"kws-int8-nucleo", "ic-int8-nucleo", "ic-distilled-nucleo"}),
    ({"devices": [IRI["nucleo"], IRI["pi4"]]},
     {"kws-int8-nucleo", "kws-pruned-int8-pi", "ic-fp32-pi", "ic-int8-nucleo", "ic-distilled-nucleo"}),
    ({"dlns": [IRI["dscnn"]]}, {"kws-int8-nucleo", "kws-pruned-int8-pi"}),
    ({"techniqueFamilies": ["QUANTIZATION", "PRUNING"]}, {"kws-pruned-int8-pi"}),
    ({"techniqueFamilies": ["KNOWLEDGE_DISTILLATION"]}, {"ic-distilled-nucleo"}),
    ({"applicationArea": "medical"}, {"ic-fp32-pi", "ic-int8-nucleo"}),
    ({"purpose": "KEYWORD"}, {"kws-int8-nucleo", "kws-pruned-int8-pi"}),
    ({"labelContains": "int8"}, {"kws-int8-nucleo", "kws-pruned-int8-pi", "ic-int8-nucleo"}),
    ({"costUsd": {"min": 100, "max": 300}}, {"kws-int8-nucleo", "kws-pruned-int8-pi", "ic-int8-nucleo"}),
    # ic-int8-nucleo's *predicted* latency of 1 ms must not count: its measured latency is 200 ms.
    ({"latencyMs": {"max": 50}}, {"kws-int8-nucleo", "kws-pruned-int8-pi", "ic-fp32-pi"}),
    ({"accuracy": {"min": 0.88}}, {"kws-int8-nucleo", "kws-pruned-int8-pi"}),
    ({"energyUj": {"max": 1000}}, {"kws-int8-nucleo", "ic-int8-nucleo", "ic-distilled-nucleo"}),
    ({"year": {"min": 2023}}, {"ic-int8-nucleo", "ic-distilled-nucleo"}),
    ({"devices": [IRI["nucleo"]], "latencyMs": {"max": 150}}, {"kws-int8-nucleo", "ic-distilled-nucleo"}),
    ({"purpose": "keyword", "applicationArea": "medical"}, set()),
])
def test_filters_select_the_matching_models(catalog: RunningServer, flt: dict, expected: set[str]) -> None:
    assert set(labels(catalog, flt)) == expected


def test_a_bad_filter_is_a_clear_graphql_error(catalog: RunningServer) -> None:
    for flt, needle in [({"devices": ["not an iri"]}, "IRI"), ({"latencyMs": {"min": 5, "max": 1}}, "above its maximum")]:
        response = catalog.post(LABELS, {"filter": flt})
        assert response.status_code == 200
        errors = response.json()["errors"]
        assert needle in errors[0]["message"], errors


# -- sorting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("by, direction, expected", [
    ("LATENCY", "ASC", ["kws-pruned-int8-pi", "ic-fp32-pi", "kws-int8-nucleo", "ic-distilled-nucleo", "ic-int8-nucleo"]),
    ("LATENCY", "DESC", ["ic-int8-nucleo", "ic-distilled-nucleo", "kws-int8-nucleo", "ic-fp32-pi", "kws-pruned-int8-pi"]),
    # ic-distilled-nucleo has no accuracy: last in either direction.
    ("ACCURACY", "DESC", ["kws-int8-nucleo", "kws-pruned-int8-pi", "ic-fp32-pi", "ic-int8-nucleo", "ic-distilled-nucleo"]),
    ("ACCURACY", "ASC", ["ic-int8-nucleo", "ic-fp32-pi", "kws-pruned-int8-pi", "kws-int8-nucleo", "ic-distilled-nucleo"]),
    ("ENERGY", "ASC", ["ic-distilled-nucleo", "ic-int8-nucleo", "kws-int8-nucleo", "kws-pruned-int8-pi", "ic-fp32-pi"]),
    ("COST", "ASC", ["kws-int8-nucleo", "ic-int8-nucleo", "kws-pruned-int8-pi", "ic-fp32-pi", "ic-distilled-nucleo"]),
    ("COST", "DESC", ["ic-fp32-pi", "kws-pruned-int8-pi", "ic-int8-nucleo", "kws-int8-nucleo", "ic-distilled-nucleo"]),
    ("YEAR", "DESC", ["ic-distilled-nucleo", "ic-int8-nucleo", "kws-pruned-int8-pi", "kws-int8-nucleo", "ic-fp32-pi"]),
    ("LABEL", "ASC", ["ic-distilled-nucleo", "ic-fp32-pi", "ic-int8-nucleo", "kws-int8-nucleo", "kws-pruned-int8-pi"]),
    ("LABEL", "DESC", ["kws-pruned-int8-pi", "kws-int8-nucleo", "ic-int8-nucleo", "ic-fp32-pi", "ic-distilled-nucleo"]),
])
def test_sorting(catalog: RunningServer, by: str, direction: str, expected: list[str]) -> None:
    assert labels(catalog, sort={"by": by, "direction": direction}) == expected


# -- pagination ------------------------------------------------------------------------------------

PAGE = """query($first: Int!, $after: String) {
  models(first: $first, after: $after, sort: {by: LATENCY}) {
    edges { cursor node { label } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def test_cursor_pagination_walks_every_model_once_in_order(catalog: RunningServer) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        conn = catalog.data(PAGE, {"first": 2, "after": after})["models"]
        pages += 1
        seen += [e["node"]["label"] for e in conn["edges"]]
        info = conn["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == conn["edges"][0]["cursor"] and info["endCursor"] == conn["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 3
    assert seen == labels(catalog, sort={"by": "LATENCY"})


@pytest.mark.parametrize("variables, needle", [
    ({"first": 0}, "first"), ({"first": 101}, "first"), ({"first": 2, "after": "bm90LWEtY3Vyc29y"}, "cursor"),
    ({"first": 2, "after": "%%%"}, "cursor"),
])
def test_bad_page_arguments_are_clear_errors(catalog: RunningServer, variables: dict, needle: str) -> None:
    response = catalog.post(PAGE, variables)
    assert response.status_code == 200
    assert needle in response.json()["errors"][0]["message"]


# -- nested relations ------------------------------------------------------------------------------

NESTED = """query($filter: ModelFilter, $first: Int!) {
  models(filter: $filter, first: $first, sort: {by: LABEL}) {
    edges { node {
      id label yearCreated applicationArea purpose totalCostUsd
      dln { id label numberOfLayers derivedFrom { label } }
      device { id label priceUsd frameworks { label families } }
      devices { label }
      techniques { label family sequenceIndex bitWidth quantizationScheme sparsity temperature teacher { label } }
      performance { id kind inferenceLatencyMs accuracy energyPerInferenceUj
        provenance { activity activityLabel round submitter { id label } source sources } }
    } }
  }
}"""


def test_nested_relations_follow_the_graph(catalog: RunningServer) -> None:
    node = catalog.data(NESTED, {"filter": {"labelContains": "distilled"}, "first": 5})["models"]["edges"][0]["node"]
    assert node["id"] == entity("model", "test", "ic-distilled-nucleo").value
    assert node["dln"] == {"id": IRI["resnet"], "label": "ResNet-8", "numberOfLayers": 8, "derivedFrom": []}
    assert node["device"] == {"id": IRI["nucleo"], "label": "Nucleo-L4R5ZI", "priceUsd": 20.0,
                              "frameworks": [{"label": "TensorFlow Lite Micro",
                                              "families": ["TensorFlow Lite for Microcontrollers"]}]}
    assert [t["family"] for t in node["techniques"]] == ["KNOWLEDGE_DISTILLATION", "QUANTIZATION"]
    assert node["techniques"][0]["temperature"] == 4.0 and node["techniques"][0]["teacher"] == {"label": "ResNet-8"}
    assert node["techniques"][1]["bitWidth"] == 8 and node["techniques"][1]["quantizationScheme"] == "static"
    [perf] = node["performance"]
    assert perf["kind"] == "MEASURED" and perf["inferenceLatencyMs"] == 100.0 and perf["accuracy"] is None
    prov = perf["provenance"]
    assert prov["round"] == "v1.1" and prov["submitter"]["label"] == "Acme Labs"
    assert prov["source"] == "v1.1/closed/acme/results/ic-distilled-nucleo/performance/results.txt"
    assert prov["activity"] == entity("run", "test", "ic-distilled-nucleo").value


def test_lookup_by_iri_and_performance_kinds(catalog: RunningServer) -> None:
    q = """query($id: ID!, $dln: ID!) {
      model(id: $id) { label all: performance { kind } predicted: performance(kind: PREDICTED) { inferenceLatencyMs } }
      dln(id: $dln) { label derivedFrom { id } }
      missing: model(id: "https://w3id.org/dlom/id/model/none") { label }
    }"""
    data = catalog.data(q, {"id": entity("model", "test", "ic-int8-nucleo").value, "dln": IRI["resnet-student"]})
    assert sorted(p["kind"] for p in data["model"]["all"]) == ["MEASURED", "PREDICTED"]
    assert data["model"]["predicted"] == [{"inferenceLatencyMs": 1.0}]
    assert data["dln"] == {"label": "ResNet-8 student", "derivedFrom": [{"id": IRI["resnet"]}]}
    assert data["missing"] is None


# -- DataLoaders: a page costs a constant number of store queries -----------------------------------


class CountingStore(Queries):
    """A real store behind a proxy that counts ``query`` calls (implements the Store protocol).

    With ``keeps_results`` False it reports no ``generation``, so nothing derived from it is kept and
    every request pays its full number of queries."""

    def __init__(self, inner: Store, keeps_results: bool = False) -> None:
        self.inner = inner
        self.url = inner.url
        self.queries = 0
        self._lock = threading.Lock()
        self._keeps_results = keeps_results

    @property
    def generation(self) -> int | None:
        return self.inner.generation if self._keeps_results else None

    def generation_of(self, vocabularies: Iterable[str]) -> int | None:
        return self.inner.generation_of(vocabularies) if self._keeps_results else None

    def query(self, sparql: str, **kwargs: Any) -> QueryResult:
        with self._lock:
            self.queries += 1
        return self.inner.query(sparql, **kwargs)

    def update(self, sparql: str) -> None:
        self.inner.update(sparql)

    def add(self, quads: Iterable[Quad]) -> None:
        self.inner.add(quads)

    def bulk_add(self, quads: Iterable[Quad], check: Callable[[], None] | None = None) -> None:
        self.inner.bulk_add(quads, check)

    def load_nquads(self, data: bytes) -> None:
        self.inner.load_nquads(data)

    def replace(self, remove: Iterable[Quad], add: Iterable[Quad]) -> None:
        self.inner.replace(remove, add)

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        return self.inner.quads(graph)

    def count(self, graph: NamedNode | None = None) -> int:
        return self.inner.count(graph)

    def clear(self) -> None:
        self.inner.clear()

    def close(self) -> None:
        self.inner.close()


def test_a_page_costs_the_same_number_of_store_queries_whatever_its_size(serve: Any) -> None:
    store = _new_store()
    s = Seed()
    tflm = s.framework("tflm", "TensorFlow Lite Micro")
    devices = [s.device(f"d{i}", f"Device {i}", 10.0 + i, tflm) for i in range(7)]
    base = s.dln("base", "Base", 10)
    dlns = [s.dln(f"n{i}", f"Net {i}", 3 + i, derived_from=base) for i in range(5)]
    for i in range(60):
        s.model(f"bulk-{i:02d}", dlns[i % 5], devices[i % 7],
                [(DLOM.Quantization, {DLOM.bitWidth: 8}), (DLOM.Pruning, {DLOM.sparsity: 0.25})],
                "Industrial", "Anomaly detection", 10.0 * i, 2020 + i % 5, 1.0 + i, 0.5 + i / 200, 100.0 + i)
    s.write(store)
    counting = CountingStore(store)
    assert isinstance(counting, Store)
    server = serve(counting, Settings(update_token=None))

    def queries_for(n: int) -> int:
        before = counting.queries
        data = server.data(NESTED, {"filter": {"purpose": "anomaly"}, "first": n})
        edges = data["models"]["edges"]
        assert len(edges) == n
        assert all(e["node"]["dln"]["derivedFrom"] == [{"label": "Base"}] for e in edges)
        assert all(len(e["node"]["techniques"]) == 2 and e["node"]["performance"][0]["provenance"]["round"] == "v1.1"
                   for e in edges)
        return counting.queries - before

    five, fifty = queries_for(5), queries_for(50)
    assert five == fifty
    # page + models + DLNs + derived DLNs + devices + frameworks + techniques + performance (2): no N+1.
    assert fifty <= 10


def test_the_following_pages_reuse_the_kept_order_until_the_store_changes(serve: Any) -> None:
    store = _new_store()
    s = Seed()
    tflm = s.framework("tflm", "TensorFlow Lite Micro")
    device, dln = s.device("d", "Device", 10.0, tflm), s.dln("n", "Net", 3)
    for i in range(6):
        s.model(f"m-{i}", dln, device, [], "Industrial", "Anomaly detection", 10.0 * i, 2020, 1.0 + i, 0.5, 100.0)
    s.write(store)
    counting = CountingStore(store, keeps_results=True)
    server = serve(counting, Settings(update_token=None))
    page = """query($after: String) { models(first: 2, after: $after, sort: {by: LATENCY}) {
        edges { node { label } } pageInfo { endCursor } } }"""

    def labels_and_queries(after: str | None) -> tuple[list[str], str, int]:
        before = counting.queries
        conn = server.data(page, {"after": after})["models"]
        return [e["node"]["label"] for e in conn["edges"]], conn["pageInfo"]["endCursor"], counting.queries - before

    first, cursor, cold = labels_and_queries(None)
    second, _, warm = labels_and_queries(cursor)
    assert (first, second) == (["m-0", "m-1"], ["m-2", "m-3"])
    assert warm == cold - 1  # the listing query ran once; the second page is a slice of its order
    # A write moves the store's generation: the order is computed again and shows the new model first.
    s2 = Seed()
    s2.model("m-fast", dln, device, [], "Industrial", "Anomaly detection", 1.0, 2020, 0.1, 0.5, 100.0)
    s2.write(store)
    again, _, after_write = labels_and_queries(None)
    assert again == ["m-fast", "m-0"] and after_write == cold


# -- the mutation ----------------------------------------------------------------------------------

SUBMIT = """mutation($input: MeasuredConfigurationInput!) {
  submitMeasuredConfiguration(input: $input) {
    __typename
    ... on MeasuredConfigurationSubmitted { model { id label purpose dln { id } device { id }
        techniques { family bitWidth sparsity }
        performance { kind inferenceLatencyMs accuracy provenance { round source submitter { label } } } } }
    ... on SubmissionFailed { errors { field message } }
  }
}"""


def configuration(**overrides: Any) -> dict:
    value = {
        "label": "kws-int4-pi (lab)",
        "dln": IRI["dscnn"],
        "device": IRI["pi4"],
        "purpose": "Keyword spotting",
        "techniques": [{"family": "QUANTIZATION", "bitWidth": 4, "quantizationScheme": "qat",
                        "extraParameters": {"perChannel": True}},
                       {"family": "PRUNING", "sparsity": 0.3}],
        "metrics": {"inferenceLatencyMs": 3.5, "accuracy": 0.88, "accuracyMetric": "top-1"},
        "provenance": {"source": "lab notebook 2026-11-25", "round": "lab-2026", "submitter": "DLOM lab"},
    }
    value.update(overrides)
    return value


def test_submitting_a_measured_configuration_writes_it(writable: RunningServer) -> None:
    result = writable.data(SUBMIT, {"input": configuration()}, token=TOKEN)["submitMeasuredConfiguration"]
    assert result["__typename"] == "MeasuredConfigurationSubmitted", result
    model = result["model"]
    assert model["label"] == "kws-int4-pi (lab)" and model["dln"]["id"] == IRI["dscnn"]
    assert model["device"]["id"] == IRI["pi4"]
    assert model["techniques"] == [{"family": "QUANTIZATION", "bitWidth": 4, "sparsity": None},
                                   {"family": "PRUNING", "bitWidth": None, "sparsity": 0.3}]
    [perf] = model["performance"]
    assert perf["kind"] == "MEASURED" and perf["inferenceLatencyMs"] == 3.5 and perf["accuracy"] == 0.88
    assert perf["provenance"] == {"round": "lab-2026", "source": "lab notebook 2026-11-25",
                                  "submitter": {"label": "DLOM lab"}}
    # It is now in the catalog: listed by the filters like any other model.
    assert labels(writable, {"devices": [IRI["pi4"]], "latencyMs": {"max": 4}}) == ["kws-int4-pi (lab)"]
    # The same label again is refused on the label field.
    again = writable.data(SUBMIT, {"input": configuration()}, token=TOKEN)["submitMeasuredConfiguration"]
    assert again["__typename"] == "SubmissionFailed"
    assert [e["field"] for e in again["errors"]] == ["label"]


@pytest.mark.parametrize("overrides, fields", [
    ({"metrics": {"accuracy": 1.5}}, ["metrics.accuracy"]),
    ({"metrics": {"inferenceLatencyMs": -2.0}}, ["metrics.inferenceLatencyMs"]),
    ({"metrics": {}}, ["metrics"]),
    ({"techniques": [{"family": "QUANTIZATION", "bitWidth": 0}]}, ["techniques[0].bitWidth"]),
    ({"techniques": [{"family": "PRUNING", "sparsity": 0.5}, {"family": "QUANTIZATION", "sparsity": 0.5}]},
     ["techniques[1].sparsity"]),
    ({"dln": IRI["pi4"]}, ["dln"]),  # a device is not a DLN
    ({"device": "https://w3id.org/dlom/id/device/unknown"}, ["device"]),
    ({"device": "no iri"}, ["device"]),
    ({"label": "  "}, ["label"]),
    ({"techniques": [{"family": "QUANTIZATION", "bitWidth": 8, "extraParameters": [1, 2]}]},
     ["techniques[0].extraParameters"]),
    ({"techniques": [{"family": "PRUNING", "teacherDln": IRI["resnet"]}]}, ["techniques[0].teacherDln"]),
    ({"yearCreated": 1800, "metrics": {"accuracy": -0.1}}, ["metrics.accuracy", "yearCreated"]),
])
def test_an_invalid_configuration_gets_field_errors_and_writes_nothing(
        writable: RunningServer, overrides: dict, fields: list[str]) -> None:
    before = writable.store.count()
    result = writable.data(SUBMIT, {"input": configuration(**overrides)}, token=TOKEN)["submitMeasuredConfiguration"]
    assert result["__typename"] == "SubmissionFailed", result
    assert sorted({e["field"] for e in result["errors"]}) == fields, result
    assert all(e["message"] for e in result["errors"])
    assert writable.store.count() == before


@pytest.mark.parametrize("token, needle", [(None, "Authorization: Bearer"), ("wrong", "not valid")])
def test_a_mutation_without_the_token_is_refused(writable: RunningServer, token: str | None, needle: str) -> None:
    before = writable.store.count()
    response = writable.post(SUBMIT, {"input": configuration()}, token=token)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None and needle in body["errors"][0]["message"]
    assert writable.store.count() == before


def test_mutations_are_disabled_without_a_configured_token(catalog: RunningServer) -> None:
    body = catalog.post(SUBMIT, {"input": configuration()}, token="anything").json()
    assert "disabled" in body["errors"][0]["message"]


# -- limits, malformed requests, GraphiQL -----------------------------------------------------------


def test_query_depth_is_limited(catalog: RunningServer) -> None:
    inner = "label"
    for _ in range(MAX_QUERY_DEPTH):
        inner = f"derivedFrom {{ {inner} }}"
    response = catalog.post(f"{{ dln(id: \"{IRI['resnet']}\") {{ {inner} }} }}")
    assert response.status_code == 200 and response.json()["data"] is None  # a validation error, as GraphQL over HTTP says
    assert "exceeds maximum operation depth" in response.json()["errors"][0]["message"]


def test_aliases_are_limited(catalog: RunningServer) -> None:
    fields = " ".join(f"a{i}: model(id: \"x\") {{ label }}" for i in range(MAX_ALIASES + 1))
    response = catalog.post(f"{{ {fields} }}")
    assert response.status_code == 200 and response.json()["data"] is None
    assert "aliases" in response.json()["errors"][0]["message"].lower()


def test_tokens_are_limited(catalog: RunningServer) -> None:
    response = catalog.post("{ " + " ".join(["__typename"] * (MAX_TOKENS + 10)) + " }")
    assert response.status_code == 200 and response.json()["data"] is None
    assert "token" in response.json()["errors"][0]["message"].lower()


@pytest.mark.parametrize("body, status, message", [
    # a document that does not parse or validate, or variables of the wrong type: 200, data null, the
    # error in "errors" (application/json answers, GraphQL over HTTP 7.1.1)
    ('{"query": "{ models { edges { node { label } }"}', 200, "Syntax Error: Expected Name, found <EOF>."),
    ('{"query": "{ noSuchField }"}', 200, "Cannot query field 'noSuchField' on type 'Query'."),
    ('{"query": "query($f: Int!) { models(first: $f) { edges { cursor } } }", "variables": {"f": "x"}}', 200,
     "Variable '$f' has invalid value: Int cannot represent non-integer value: 'x'"),
    # a request that is not a GraphQL request at all: 400
    ('{"query": ', 400, "Unable to parse request body as JSON"),
    ('{"variables": {}}', 400, "No GraphQL query found in the request"),
])
def test_malformed_requests_get_clear_client_errors(catalog: RunningServer, body: str, status: int, message: str) -> None:
    response = httpx.post(f"{catalog.url}/graphql", content=body, headers={"Content-Type": "application/json"},
                          timeout=10)
    assert response.status_code == status, response.text
    assert message in response.text
    assert "Traceback" not in response.text
    if status == 200:
        assert response.json()["data"] is None


def test_graphiql_is_served_to_browsers(catalog: RunningServer) -> None:
    response = httpx.get(f"{catalog.url}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "graphiql" in response.text.lower()


def test_queries_over_get_work_and_mutations_over_get_do_not(catalog: RunningServer) -> None:
    response = httpx.get(f"{catalog.url}/graphql", params={"query": "{ models(first: 1) { edges { cursor } } }"},
                         timeout=10)
    assert response.status_code == 200 and len(response.json()["data"]["models"]["edges"]) == 1
    response = httpx.get(f"{catalog.url}/graphql", params={"query": "mutation { __typename }"}, timeout=10)
    assert response.status_code == 400 and "mutations are not allowed when using GET" in response.text
