"""The catalog's model listing through the facet index (decision.catalog_listing) gives exactly the pages
the listing query gives (kg.catalog.queries.query_listing): every filter, every sort and direction — on a
generated graph with the deployment facts the importers write (scenarios, compute units, runtimes, mixed
precisions, form factors, accelerators, hardware, predicted and copied records, second labels) for filters
drawn by hypothesis; across validated writes (brought forward, not rebuilt); and it leaves the listing to
the query where the columns cannot stand for a model. The shipped graph's parity is in
``tests/test_facet_index.py`` (it shares that module's store)."""
from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from decision_graph import ModelSpec, count_index_builds, model_iri, write_models
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, Triple

from benchmarks.generate_graph import APPLICATION_AREAS, PURPOSES, TRIPLES_PER_MODEL, generate_graph
from decision import catalog_listing
from decision import facet_index as fi
from kg.catalog import queries
from kg.catalog.queries import (DeviceClass, ModelFilter, ModelSortKey, Range, TechniqueFamily, find_models,
                                query_listing)
from kg.derived_results import forget
from kg.errors import QueryError
from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.ontology import ontology_quads
from kg.repositories import route
from kg.store import Store, open_store
from kg.terms import literal
from kg.writes import write_triples

MODELS = 80
SCENARIOS = ["SingleStream", "Offline", "Server", "MultiStream"]
UNITS = ["NPU", "GPU", "CPU"]
RUNTIMES = ["tflite", "QNN_DLC", "onnx"]
PRECISIONS = ["float", "W8A8", "w8a16", "mixed precision (int8+fp16)", "int4"]
FORM_FACTORS = ["Phone", "IoT", "Auto"]
ACCELERATORS = ["Hexagon NPU", "NVIDIA A100", "Edge TPU"]
HARDWARE = [entity("hardware", "listing-test", h) for h in ("soc-a", "soc-b", "gpu-c")]


def deployment_facts(seed: int) -> list[Triple]:
    """What the MLPerf Inference and AI Hub importers record, scattered over the generated models and
    their devices, with the irregular shapes the listing query must be matched on."""
    rng = random.Random(seed)
    out: list[Triple] = []
    for i in range(MODELS):
        m = entity("model", "synthetic", str(i))
        if rng.random() < 0.5:
            out.append(Triple(m, DLOM.runtime, literal(rng.choice(RUNTIMES))))
        if rng.random() < 0.5:
            out.append(Triple(m, DLOM.precision, literal(rng.choice(PRECISIONS))))
        if rng.random() < 0.15:
            out.append(Triple(m, RDFS.label, literal(f"Second label {i} MobileNet")))
        if rng.random() < 0.3:
            out.append(Triple(m, DLOM.benchmark, literal(rng.choice(["Keyword spotting", "Anomaly detection"]))))
        for k in range(rng.choice([0, 1, 2])):  # further records: a scenario, a unit, some only an accuracy
            p = entity("performance", "listing-test", str(i), str(k))
            kind = rng.choice([DLOM.MeasuredPerformance, DLOM.PredictedPerformance, DLOM.CopiedPerformance, None])
            out += [Triple(m, DLOM.hasPerformance, p)] + ([Triple(p, RDF.type, kind)] if kind else [])
            if kind == DLOM.PredictedPerformance:
                out.append(Triple(p, DLOM.predictorVersion, literal(rng.choice(["gnn-1", "gnn-2"]))))
            if kind == DLOM.CopiedPerformance:
                out.append(Triple(p, RDF.type, DLOM.MeasuredPerformance))
            if rng.random() < 0.6:
                out.append(Triple(p, DLOM.scenario, rng.choice([literal(rng.choice(SCENARIOS)), Literal("Offline", language="en")])))
            if rng.random() < 0.5:
                out.append(Triple(p, DLOM.primaryComputeUnit, literal(rng.choice(UNITS))))
            if rng.random() < 0.6:
                out.append(Triple(p, DLOM.inferenceLatencyMs, literal(round(rng.uniform(0.1, 200), 3))))
                if kind == DLOM.PredictedPerformance and rng.random() < 0.5:  # a point of the latency-accuracy chart
                    out.append(Triple(p, DLOM.accuracy, literal(round(rng.uniform(0.3, 0.99), 3))))
            else:
                out.append(Triple(p, DLOM.accuracy, literal(round(rng.uniform(0.3, 0.99), 3))))
    for i in range(300):
        d = entity("device", "synthetic", str(i))
        if rng.random() < 0.4:
            out.append(Triple(d, DLOM.formFactor, literal(rng.choice(FORM_FACTORS))))
        if rng.random() < 0.4:
            out.append(Triple(d, DLOM.accelerator, literal(rng.choice(ACCELERATORS))))
        if rng.random() < 0.3:
            out.append(Triple(d, rng.choice([DLOM.hardware, DLOM.socHardware]), rng.choice(HARDWARE)))
        if rng.random() < 0.05:
            out.append(Triple(d, RDF.type, DLOM.BenchmarkHost))
        if rng.random() < 0.5:
            out.append(Triple(d, DLOM.processor, literal(rng.choice(["32-bit Arm Cortex-M4", "RISC-V", "Kryo 585"]))))
        if rng.random() < 0.1:
            out.append(Triple(d, RDFS.label, literal(f"Another name of device {i}")))
    for i in range(30):
        c = entity("cloud", "synthetic", str(i))
        if rng.random() < 0.5:
            out.append(Triple(c, DLOM.acceleratorModel, literal(rng.choice(ACCELERATORS))))
        if rng.random() < 0.3:
            out.append(Triple(c, DLOM.hardware, rng.choice(HARDWARE)))
    for i in range(120):
        if rng.random() < 0.5:
            out.append(Triple(entity("technique", "synthetic", str(i)), DLOM.quantizationScheme,
                              literal(rng.choice(["int8", "fp16", "mixed precision (int8+bf16)"]))))
    return out


def _store(seed: int) -> Store:
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    store.add(generate_graph(MODELS * TRIPLES_PER_MODEL, seed=seed))
    store.add(route(deployment_facts(seed)))  # as a bulk load adds them, around the shapes
    return store


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = _store(5)
    index = fi.facet_index(s)
    assert index is not None and not index.unlisted
    yield s
    s.close()


def assert_same_listing(store: Store, flt: ModelFilter, sort: ModelSortKey, descending: bool) -> int:
    """The listing through the index equals the query's; returns its length."""
    fast = catalog_listing.listing_from_index(store, flt, sort, descending)
    assert fast is not None
    slow = query_listing(store, flt, sort, descending)
    assert fast[:] == list(slow)
    assert len(fast) == len(slow)
    if len(slow):
        assert fast[len(slow) - 1] == slow[-1]
    return len(slow)


def _variants(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.lower(), text.upper(), text[: max(1, len(text) // 2)]])


def _filters() -> st.SearchStrategy[ModelFilter]:
    ranges = st.builds(Range, st.none() | st.sampled_from([0.5, 5.0, 50.0]), st.none() | st.sampled_from([60.0, 100.0, 500.0]))
    fields = {
        "scenario": st.sampled_from(SCENARIOS).flatmap(lambda s: st.sampled_from([s, s.lower()])),
        "compute_unit": st.sampled_from(UNITS),
        "device_class": st.sampled_from([c.name for c in DeviceClass] + ["cloud configuration", "BenchmarkHost"]),
        "runtime": st.sampled_from(RUNTIMES).flatmap(_variants),
        "precision": st.sampled_from(["int8", "fp16", "bf16", "w8a8", "W8A16", "float", "int4", "int"]),
        "form_factor": st.sampled_from(FORM_FACTORS).flatmap(_variants),
        "accelerator": st.sampled_from([*ACCELERATORS, "npu", "a100", *(h.value for h in HARDWARE)]),
        "label_contains": st.sampled_from(["mobilenet", "Model 1", "synthetic", "label 3"]),
        "application_area": st.sampled_from(APPLICATION_AREAS[:4]).flatmap(_variants),
        "purpose": st.sampled_from(PURPOSES).flatmap(_variants),
        "technique_families": st.lists(st.sampled_from(list(TechniqueFamily)), max_size=2).map(tuple),
        "devices": st.lists(st.integers(0, 299).map(lambda i: entity("device", "synthetic", str(i)).value), max_size=40).map(tuple),
        "dlns": st.lists(st.integers(0, 39).map(lambda i: entity("dln", "synthetic", str(i)).value), max_size=8).map(tuple),
        "latency_ms": ranges, "accuracy": st.builds(Range, st.none() | st.just(0.5), st.none() | st.just(0.9)),
        "cost_usd": st.builds(Range, st.none() | st.just(1000.0), st.none() | st.just(20000.0)),
        "year": st.builds(Range, st.none() | st.just(2019.0), st.none() | st.just(2023.0)),
        "energy_uj": ranges,
    }
    return st.fixed_dictionaries({}, optional=fields).map(lambda kw: ModelFilter(**kw))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flt=_filters(), sort=st.sampled_from(list(ModelSortKey)), descending=st.booleans())
@example(flt=ModelFilter(), sort=ModelSortKey.LATENCY, descending=False)
@example(flt=ModelFilter(precision="int8"), sort=ModelSortKey.LABEL, descending=False)
@example(flt=ModelFilter(scenario="offline", compute_unit="npu"), sort=ModelSortKey.ACCURACY, descending=True)
@example(flt=ModelFilter(accelerator=HARDWARE[0].value, device_class="END_DEVICE"), sort=ModelSortKey.YEAR, descending=True)
def test_the_index_lists_as_the_query_on_a_generated_graph(store: Store, flt: ModelFilter, sort: ModelSortKey,
                                                           descending: bool) -> None:
    assert_same_listing(store, flt, sort, descending)


def test_the_filters_select_on_the_generated_graph(store: Store) -> None:
    # each filter selects some models and not all, so the parity above compares real selections
    every = assert_same_listing(store, ModelFilter(), ModelSortKey.LABEL, False)
    for flt in (ModelFilter(scenario="Offline"), ModelFilter(compute_unit="GPU"), ModelFilter(precision="int8"),
                ModelFilter(precision="fp16"), ModelFilter(runtime="qnn_dlc"), ModelFilter(form_factor="iot"),
                ModelFilter(accelerator="npu"), ModelFilter(accelerator=HARDWARE[1].value),
                ModelFilter(device_class="benchmark host"), ModelFilter(label_contains="mobilenet"),
                ModelFilter(latency_ms=Range(None, 20.0))):
        assert 0 < assert_same_listing(store, flt, ModelSortKey.LATENCY, False) < every, flt


def test_a_figure_counts_only_measured_records_that_have_it(store: Store) -> None:
    # a model whose records are an accuracy record and a latency record has both figures (the query once
    # gave it no latency: one OPTIONAL over both records left an unbound row, and MIN over it is unbound)
    m = entity("model", "listing-test", "two-records")
    triples = [Triple(m, RDF.type, DLOM.Model), Triple(m, DLOM.usesDLN, entity("dln", "synthetic", "1")),
               Triple(m, RDFS.label, literal("Two records"))]
    for name, prop, value, kind in (("lat", DLOM.inferenceLatencyMs, 7.5, DLOM.MeasuredPerformance),
                                    ("acc", DLOM.accuracy, 0.8, DLOM.MeasuredPerformance),
                                    ("pred", DLOM.inferenceLatencyMs, 0.001, DLOM.PredictedPerformance),
                                    ("copy", DLOM.inferenceLatencyMs, 0.002, DLOM.CopiedPerformance)):
        p = entity("performance", "listing-test", "two-records", name)
        triples += [Triple(m, DLOM.hasPerformance, p), Triple(p, RDF.type, kind), Triple(p, prop, literal(value))]
    s = _store(6)
    try:
        s.add(route(triples))
        fi.facet_index(s)
        rows = {r.iri: r for r in query_listing(s, ModelFilter(label_contains="two records"), ModelSortKey.LATENCY)}
        assert rows[m.value].latency_ms == 7.5
        assert_same_listing(s, ModelFilter(label_contains="two records", accuracy=Range(0.8, 0.8)), ModelSortKey.LATENCY, False)
        assert [r.iri for r in query_listing(s, ModelFilter(accuracy=Range(0.8, 0.8), latency_ms=Range(7.5, 7.5)))] == [m.value]
    finally:
        s.close()


def test_the_listing_follows_validated_writes_without_a_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _store(7)
    try:
        first = fi.facet_index(s)
        builds = count_index_builds(monkeypatch)
        write_models(s, [ModelSpec("Listed", area="Medical", cost=10, accuracy=0.99, latency_ms=0.05)])
        perf = entity("performance", "listing-test", "Listed", "offline")
        write_triples(s, [Triple(model_iri("Listed"), DLOM.hasPerformance, perf), Triple(perf, RDF.type, DLOM.MeasuredPerformance),
                          Triple(perf, RDFS.label, literal("an Offline run")), Triple(perf, PROV.wasGeneratedBy, entity("run", "synthetic")),
                          Triple(perf, DLOM.scenario, literal("Offline")), Triple(perf, DLOM.inferenceLatencyMs, literal(0.01))])
        index = fi.current_index(s)
        assert index is not None and index is not first and builds == []
        for flt, sort in ((ModelFilter(), ModelSortKey.LATENCY), (ModelFilter(scenario="offline"), ModelSortKey.LABEL),
                          (ModelFilter(application_area="medical"), ModelSortKey.ACCURACY)):
            assert_same_listing(s, flt, sort, False)
        catalog_listing.list_models_through_index()
        page = find_models(s, ModelFilter(scenario="Offline"), ModelSortKey.LATENCY, limit=1)
        assert page.rows[0].iri == model_iri("Listed").value and page.rows[0].latency_ms == 0.01
    finally:
        s.close()


def test_find_models_reads_through_the_index_where_it_is_current(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog_listing.list_models_through_index()
    forget(store)
    expected = query_listing(store, ModelFilter(runtime="tflite"), ModelSortKey.ENERGY, True)
    monkeypatch.setattr(queries, "query_listing", lambda *a, **k: pytest.fail("the store was queried"))
    page = find_models(store, ModelFilter(runtime="TFLite"), ModelSortKey.ENERGY, True, offset=2, limit=3)
    assert page.rows == list(expected[2:5]) and page.total == len(expected) and page.has_next == (len(expected) > 5)


def test_a_model_the_columns_cannot_stand_for_leaves_the_listing_to_the_query() -> None:
    s = _store(8)
    try:
        no_dln = entity("model", "listing-test", "no-dln")  # a model without a DLN has no row in the index
        s.add(route([Triple(no_dln, RDF.type, DLOM.Model), Triple(no_dln, RDFS.label, literal("AAA without a DLN"))]))
        index = fi.facet_index(s)
        assert index is not None and no_dln.value in index.unlisted
        assert catalog_listing.listing_from_index(s, ModelFilter(), ModelSortKey.LABEL, False) is None
        page = find_models(s, limit=1)
        assert page.rows[0].iri == no_dln.value
        text = entity("model", "synthetic", "3")  # a year that is not a number: the query's MIN is not one either
        s.add(route([Triple(text, DLOM.yearCreated, literal("twenty twenty"))]))
        assert text.value in fi.facet_index(s).unlisted  # type: ignore[union-attr]
    finally:
        s.close()


def test_a_bad_filter_fails_alike_on_both_paths(store: Store) -> None:
    with pytest.raises(QueryError, match="device"):
        find_models(store, ModelFilter(devices=("not an iri",)))
