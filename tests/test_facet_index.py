"""The facet index (decision.facet_index) answers exactly what the candidate query answers: the same models
in the same order with the same columns — on the shipped graph for realistic requirements, and on
generated graphs for requirements drawn by hypothesis; and it stays so across writes (incrementally after
a validated write, rebuilt after any other change). The embedded store only: stores without a generation
(Neo4j, remote SPARQL) get no index and always run the query."""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from decision_graph import ModelSpec, count_index_builds, model_iri, write_models
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyoxigraph import Triple

from api.app import create_app
from api.settings import Settings
from benchmarks.generate_graph import APPLICATION_AREAS, PURPOSES, TRIPLES_PER_MODEL, generate_graph
from decision import catalog_listing, chart_data, diversity, ratings
from decision import facet_index as fi
from decision import measured_effects
from decision.elicitation import PAPER_EXAMPLE_COMPARISONS
from decision.objectives import Objective
from decision.requirements import PREFERRABLE_FIELDS, parse_requirements
from decision.retrieval import CandidateSet, _retrieve, build_query, plan_query, retrieve
from kg import exploration
from kg.catalog.queries import ModelFilter, ModelSortKey, Range, TechniqueFamily, query_listing
from kg.derived_results import forget
from kg.errors import ValidationError
from kg.namespaces import DLOM, DLOM_VOCABULARIES, PROV, RDF, RDFS, entity
from kg.ontology import ontology_quads
from kg.repositories import route
from kg.store import Store, open_store
from kg.terms import literal
from kg.writes import write_triples

REPO = Path(__file__).resolve().parent.parent
FIG_8A = [dict(c) for c in PAPER_EXAMPLE_COMPARISONS]

# README's examples (the ResNet-50 bodies, the AI Hub IoT question), examples/requirements.yaml, and the
# paper's §6 example — the shipped graph answers each through both paths
SHIPPED_BODIES: list[dict[str, Any]] = [
    {"network": {"network": "ResNet-50 v1.5 (MLPerf Inference reference)"}, "cloud": {"server_hardware": "n2-"},
     "performance": {"max_latency_ms": 1000}},
    {"project": {"purpose": "image classification"}, "device": {"form_factor": "IoT"},
     "performance": {"max_latency_ms": 5}},
    yaml.safe_load((REPO / "examples" / "requirements.yaml").read_text()),
    {"project": {"business_focus": "Medical", "total_budget_usd": 14000, "number_of_devices": 10},
     "preferences": {"comparisons": FIG_8A}},
]


def assert_same(fast: CandidateSet | None, slow: CandidateSet) -> None:
    assert fast is not None, "the index declined to answer"
    assert fast.iris == slow.iris
    assert fast.numbers.keys() == slow.numbers.keys()
    for var in slow.numbers:
        # the engine sums decimals exactly, numpy in doubles: equal to the last bits only
        np.testing.assert_allclose(fast.numbers[var], slow.numbers[var], rtol=1e-12, equal_nan=True, err_msg=var)
    assert fast.texts == slow.texts
    assert fast.records == slow.records
    assert fast.predicted.tolist() == slow.predicted.tolist()
    assert fast.has_cloud.tolist() == slow.has_cloud.tolist()
    assert fast.techniques.tolist() == slow.techniques.tolist()
    assert fast.technique_classes == slow.technique_classes
    assert fast.technique_precisions == slow.technique_precisions
    assert fast.query == slow.query


def assert_same_variants(store: Store, found: CandidateSet) -> None:
    """decision.diversity's variant keys read from the index equal those its query reads."""
    assert fi.current_index(store) is not None
    dln, hardware = diversity._by_query(store, found)
    by_query = [(d or i, frozenset(h)) for d, h, i in zip(dln, hardware, found.iris)]
    assert [k[:2] for k in diversity.variant_keys(store, found)] == by_query


def both_paths(store: Store, body: dict[str, Any], index: fi.FacetIndex | None = None) -> tuple[CandidateSet | None, CandidateSet]:
    req = parse_requirements(body)
    q = build_query(req)
    index = index or fi.facet_index(store)
    assert index is not None
    return fi.answer(index, plan_query(req), q), _retrieve(store, req, q, None)


@pytest.mark.parametrize("body", SHIPPED_BODIES, ids=["readme-resnet-cloud", "readme-iot", "example-yaml", "paper"])
def test_the_index_answers_as_the_query_on_the_shipped_graph(shipped: Store, body: dict[str, Any]) -> None:
    fast, slow = both_paths(shipped, body)
    assert_same(fast, slow)
    assert_same_variants(shipped, slow)
    # the paper's Medical company finds nothing in the shipped graph (the same nothing on both paths)
    assert len(slow) > 0 or body is SHIPPED_BODIES[-1]


def test_the_index_gives_the_measured_effects_the_queries_give_on_the_shipped_graph(shipped: Store) -> None:
    index = fi.facet_index(shipped)
    assert index is not None and not index.irregular
    by_query, from_index = measured_effects._by_query(shipped), measured_effects._from_index(index)
    assert [len(m.pair) for m in from_index] == [len(m.pair) for m in by_query]
    assert len(by_query[0].pair) > 10_000  # the AI Hub Models measurements, paired
    for runtime, form_factor in ((None, None), ("tflite", None), ("qnn_dlc", "phone"), (None, "IoT")):
        found = measured_effects._effects(*from_index, runtime, form_factor, None)
        assert found == measured_effects._effects(*by_query, runtime, form_factor, None)
        assert runtime is not None or any(e.latency_ratio.n for e in found)


# -- generated graphs ---------------------------------------------------------------------------------

# Besides the generator's models (every attribute recorded once): models with unknowns, predictions,
# clouds, frameworks, a benchmark host, device prices and costs per device — what the query's OPTIONAL
# and lenient branches are about.
EXTRA = [
    ModelSpec("Bare", dln="MobileNet v2", device="Jetson Nano"),
    ModelSpec("Predicted-only", area="Medical", cost=900, accuracy=0.9, latency_ms=30, measured=False),
    ModelSpec("Priced", area="medical ", devices=4, cost_per_device=50, device_price=120, latency_ms=12,
              memory_kb=512, shielded=True, protocol="TLS 1.3", techniques=2, purpose="Keyword spotting"),
    ModelSpec("Host", area="Industrial", cost=100, accuracy=0.7, benchmark_host=True, layers=12),
    ModelSpec("Unshielded", area="Retail", cost=3000, devices=10, shielded=False, energy_uj=900,
              parameters=1_000_000, device="Raspberry Pi 4"),
]


# The GraphQL listing filters on the shipped graph's real values, each with a sort (a filter with a
# figure the sort does not name computes both)
SHIPPED_LISTINGS: list[tuple[ModelFilter, ModelSortKey, bool]] = [
    (ModelFilter(), ModelSortKey.LABEL, False), (ModelFilter(), ModelSortKey.LATENCY, False),
    (ModelFilter(), ModelSortKey.ACCURACY, True), (ModelFilter(scenario="offline"), ModelSortKey.LATENCY, True),
    (ModelFilter(compute_unit="npu"), ModelSortKey.LATENCY, False), (ModelFilter(device_class="CloudConfiguration"), ModelSortKey.LABEL, True),
    (ModelFilter(runtime="TFLite", precision="w8a8"), ModelSortKey.LATENCY, False),
    (ModelFilter(precision="int8", device_class="END_DEVICE"), ModelSortKey.YEAR, False),
    (ModelFilter(form_factor="iot", accelerator="hexagon"), ModelSortKey.ENERGY, False),
    (ModelFilter(accelerator="A100", technique_families=(TechniqueFamily.QUANTIZATION,)), ModelSortKey.COST, True),
    (ModelFilter(label_contains="mobilenet", latency_ms=Range(None, 5)), ModelSortKey.LABEL, False),
    (ModelFilter(accuracy=Range(0.7, None), year=Range(2020, 2023)), ModelSortKey.LATENCY, False),
]


@pytest.mark.parametrize(("flt", "sort", "descending"), SHIPPED_LISTINGS)
def test_the_index_lists_models_as_the_query_on_the_shipped_graph(shipped: Store, flt: ModelFilter, sort: ModelSortKey,
                                                                  descending: bool) -> None:
    fi.facet_index(shipped)
    fast = catalog_listing.listing_from_index(shipped, flt, sort, descending)
    assert fast is not None  # the shipped graph has no model the listing columns cannot stand for
    slow = query_listing(shipped, flt, sort, descending)
    assert len(slow) > 0 and fast[:] == list(slow)


def test_the_charts_come_from_the_index_as_from_the_query_on_the_shipped_graph(shipped: Store) -> None:
    index = fi.facet_index(shipped)
    assert index is not None and not index.unplotted and not index.unlisted  # so the charts read the index
    points = chart_data.latency_accuracy_points(shipped)
    assert len(points["points"]) > 10_000 and points == exploration.latency_accuracy_points(shipped)
    assert chart_data.predicted_vs_measured(shipped) == exploration.predicted_vs_measured(shipped)


def _generated(seed: int) -> Store:
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    store.add(generate_graph(60 * TRIPLES_PER_MODEL, seed=seed))
    write_models(store, EXTRA)
    tflite, onnx = entity("framework", "decision-test", "tflite"), entity("framework", "decision-test", "onnx")
    device = entity("device", "decision-test", "Raspberry Pi 4", "Unshielded")
    # added as they are (the shapes want a label on every framework; data from elsewhere may lack one)
    store.add(route([
        Triple(tflite, RDF.type, DLOM.Framework), Triple(tflite, RDFS.label, literal("TensorFlow Lite (TFLite)")),
        Triple(onnx, RDF.type, DLOM.Framework),  # no label: a framework, but none the filter can match
        Triple(model_iri("Priced"), DLOM.usesFramework, tflite), Triple(device, DLOM.usesFramework, tflite),
        Triple(model_iri("Host"), DLOM.usesFramework, onnx), Triple(entity("model", "synthetic", "2"), DLOM.usesFramework, onnx),
        Triple(entity("model", "synthetic", "1"), DLOM.usesFramework, tflite),
        # what decision.diversity groups variants by: an architecture family, one physical product
        Triple(entity("dln", "synthetic", "3"), DLOM.architectureFamily, literal(" ResNet ")),
        Triple(entity("device", "synthetic", "5"), DLOM.hardware, entity("hardware", "decision-test", "soc")),
        Triple(entity("device", "synthetic", "6"), DLOM.hardware, entity("hardware", "decision-test", "soc"))]))
    return store


@pytest.fixture(scope="module")
def generated() -> Iterator[list[Store]]:
    stores = [_generated(seed) for seed in (3, 7)]
    yield stores
    for s in stores:
        s.close()


def _requirements() -> st.SearchStrategy[dict[str, Any]]:
    texts = st.sampled_from([*APPLICATION_AREAS[:4], "medical", " MEDICAL "])
    sections: dict[str, st.SearchStrategy[Any]] = {
        "project.business_focus": texts,
        "project.purpose": st.sampled_from([p.lower()[:8] for p in PURPOSES] + ["keyword"]),
        "project.total_budget_usd": st.sampled_from([500.0, 5000.0, 14000.0, 30000.0]),
        "project.number_of_devices": st.integers(1, 40),
        "project.device_types": st.lists(st.sampled_from(["synthetic device 1", "jetson", "raspberry", "pi 4"]),
                                         min_size=1, max_size=2),
        "network.network": st.sampled_from(["Synthetic DLN 3", "synthetic-dln-7", "MobileNet_v2", "resnet50"]),
        "network.min_layers": st.integers(1, 120),
        "cloud.shielded_execution": st.booleans(),
        "cloud.max_monthly_cost_usd": st.sampled_from([100.0, 1000.0]),
        "device.min_memory_kb": st.sampled_from([200.0, 600.0]),
        "device.min_clock_mhz": st.sampled_from([100.0, 400.0]),
        "device.framework": st.sampled_from(["tflite", "onnx"]),
        "performance.min_accuracy": st.sampled_from([0.5, 0.8, 0.95]),
        "performance.max_latency_ms": st.sampled_from([5.0, 20.0, 100.0]),
        "performance.max_energy_uj": st.sampled_from([100.0, 1000.0]),
        "performance.min_throughput_ips": st.sampled_from([5.0, 50.0]),
        "performance.max_memory_mb": st.sampled_from([1.0, 32.0]),
    }

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(sorted(sections)), max_size=4, unique=True))
        body: dict[str, Any] = {}
        for path in chosen:
            section, name = path.split(".")
            body.setdefault(section, {})[name] = draw(sections[path])
        preferrable = [p for p in chosen if p in PREFERRABLE_FIELDS]
        if preferrable and draw(st.booleans()):
            body["preferred"] = draw(st.lists(st.sampled_from(preferrable), max_size=2, unique=True))
        body["allow_unknown"] = draw(st.booleans())
        body["include_predicted"] = draw(st.booleans())
        if draw(st.integers(0, 9)) == 0:
            body.setdefault("device", {})["this_machine"] = True
        return body

    return build()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_requirements(), which=st.integers(0, 1))
@example(body={"device": {"framework": "tflite"}, "allow_unknown": True}, which=0)
@example(body={"device": {"framework": "TFLite", "this_machine": True}, "network": {"min_layers": 5}}, which=0)
@example(body={"project": {"device_types": ["raspberry", "Synthetic device 2"], "total_budget_usd": 5000,
                           "number_of_devices": 8}, "allow_unknown": True}, which=1)
@example(body={"performance": {"max_latency_ms": 20, "min_accuracy": 0.8}, "allow_unknown": True,
               "include_predicted": True}, which=0)
@example(body={"cloud": {"shielded_execution": True}, "project": {"business_focus": "medical"},
               "preferred": ["project.business_focus"]}, which=0)
def test_the_index_answers_as_the_query_on_generated_graphs(generated: list[Store], body: dict[str, Any],
                                                            which: int) -> None:
    fast, slow = both_paths(generated[which], body)
    assert_same(fast, slow)
    assert_same_variants(generated[which], slow)


# -- keeping current ----------------------------------------------------------------------------------

def _columns(index: fi.FacetIndex) -> dict[str, Any]:
    cols = fi._columns_of(index)
    return {k: [None if isinstance(x, float) and np.isnan(x) else x for x in v] for k, v in cols.items()} | {"iris": index.iris}


def test_a_validated_write_updates_the_index_for_the_models_it_touches(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _generated(5)
    try:
        assert fi.current_index(store) is None  # nobody asked for one: the query answers
        first = fi.facet_index(store)
        assert first is not None and fi.current_index(store) is first
        builds = count_index_builds(monkeypatch)
        # a new model, then a new measurement of an existing one, then a device's new price
        write_models(store, [ModelSpec("New", area="Medical", cost=10, accuracy=0.99, latency_ms=1.0)])
        perf = entity("performance", "decision-test", "Bare", "second")
        write_triples(store, [Triple(model_iri("Bare"), DLOM.hasPerformance, perf),
                              Triple(perf, RDF.type, DLOM.MeasuredPerformance),
                              Triple(perf, RDFS.label, literal("a second measurement")),
                              Triple(perf, PROV.wasGeneratedBy, entity("run", "synthetic")),
                              Triple(perf, DLOM.inferenceLatencyMs, literal(3.5)), Triple(perf, DLOM.accuracy, literal(0.81))])
        write_triples(store, [Triple(entity("device", "synthetic", "4"), DLOM.board, literal("Pi 4 board"))])
        updated = fi.current_index(store)
        assert updated is not None and updated is not first and builds == []
        assert model_iri("New").value in updated.iris
        fresh = fi.build_index(store)  # a full build, to compare with
        assert _columns(updated) == _columns(fresh)
        forget(store)
        for body in ({}, {"project": {"business_focus": "medical"}, "performance": {"max_latency_ms": 4}}):
            assert_same(*both_paths(store, body, updated))
            assert_same(retrieve(store, parse_requirements(body)), _retrieve(store, parse_requirements(body),
                                                                              build_query(parse_requirements(body)), None))
    finally:
        store.close()


def test_ratings_come_from_the_index_as_from_the_query_and_follow_each_new_rating(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _generated(11)
    try:
        found_by_query = retrieve(store, parse_requirements({}))
        assert fi.current_index(store) is None

        def both() -> tuple[dict, dict]:
            forget(store)
            found = retrieve(store, parse_requirements({}))
            assert found.index_rows is not None  # answered from the index
            return ratings.candidate_ratings(store, found), ratings.candidate_ratings(store, found_by_query)

        fi.facet_index(store)
        at = dt.datetime(2026, 12, 6, tzinfo=dt.timezone.utc)
        builds = count_index_builds(monkeypatch)
        for k, (name, value) in enumerate([("Bare", 2), ("Bare", 5), ("Priced", 4), ("Bare", 3)]):
            ratings.rate_model(store, model_iri(name).value, {Objective.COST: value, Objective.LATENCY: 6 - value},
                               "tester", at + dt.timedelta(minutes=k))
            fast, slow = both()
            assert fast.keys() == slow.keys() and fast
            for i in slow:
                assert fast[i].keys() == slow[i].keys()
                for o, (mean, n) in slow[i].items():
                    assert fast[i][o][1] == n and fast[i][o][0] == pytest.approx(mean, rel=1e-12)
        assert builds == []  # brought forward, never rebuilt
        bare = found_by_query.iris.index(model_iri("Bare").value)
        assert fast[bare][Objective.COST] == (pytest.approx(10 / 3), 3)
    finally:
        store.close()


def test_a_bulk_write_its_validation_refuses_leaves_the_index_current(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _generated(12)
    try:
        first = fi.facet_index(store)
        builds = count_index_builds(monkeypatch)
        generation = store.generation_of(DLOM_VOCABULARIES)
        bad = model_iri("Refused")  # a model without a DLN: the shapes refuse it
        with pytest.raises(ValidationError):
            write_triples(store, [Triple(bad, RDF.type, DLOM.Model), Triple(bad, RDFS.label, literal("refused"))], bulk=True)
        assert store.generation_of(DLOM_VOCABULARIES) != generation  # the bulk path moved it, writing nothing
        index = fi.current_index(store)
        assert index is not None and builds == []  # brought to the new generation, not rebuilt
        assert _columns(index) == _columns(first) and bad.value not in index.iris
    finally:
        store.close()


def test_a_change_outside_the_validated_writes_rebuilds_the_index_while_the_query_answers() -> None:
    store = _generated(6)
    try:
        first = fi.facet_index(store)
        assert first is not None
        iri = model_iri("Bare").value
        store.update(f"INSERT DATA {{ GRAPH <urn:dlom-test:g> {{ <{iri}> <{DLOM.applicationArea.value}> \"Zoology\" }} }}")
        assert fi.current_index(store) is None  # stale, no notice: rebuilding in the background
        rebuilt = fi.facet_index(store)
        assert rebuilt is not None and rebuilt is not first
        fast, slow = both_paths(store, {"project": {"business_focus": "zoology"}}, rebuilt)
        assert_same(fast, slow)
        assert slow.iris == [iri]
    finally:
        store.close()


def test_an_irregular_model_leaves_the_answer_to_the_query() -> None:
    store = _generated(8)
    try:
        # two application areas: the shapes reject it, data added around them (a bulk load) may not
        store.add(route([Triple(model_iri("Bare"), DLOM.applicationArea, literal("Medical")),
                         Triple(model_iri("Bare"), DLOM.applicationArea, literal("Retail"))]))
        index = fi.facet_index(store)
        assert index is not None and model_iri("Bare").value in index.irregular
        body = {"project": {"business_focus": "retail"}}
        fast, slow = both_paths(store, body, index)
        assert fast is None
        assert retrieve(store, parse_requirements(body)).iris == slow.iris
    finally:
        store.close()


def test_a_store_without_a_generation_gets_no_index() -> None:
    store = open_store("oxigraph://")
    try:
        store.generation = None  # as a remote store: others write to it, nothing derived is kept
        assert fi.facet_index(store) is None and fi.current_index(store) is None
    finally:
        store.close()


def test_the_server_builds_the_index_right_after_start_up() -> None:
    store, other = _generated(9), _generated(10)
    try:
        with TestClient(create_app(store, Settings(warm_facet_index=True))):
            for thread in threading.enumerate():
                if thread.name == "warm-decision-support":
                    thread.join()
            index = fi.current_index(store)
            assert index is not None and model_iri("Priced").value in index.iris
        with TestClient(create_app(other, Settings(warm_facet_index=False))):
            pass
        assert fi.current_index(other) is None  # never asked for: recommendations query the store
    finally:
        store.close()
        other.close()
