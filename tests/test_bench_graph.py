"""Benchmark results land in the graph, validated, with PROV-O provenance; queried back with SPARQL."""
from __future__ import annotations

import json

import pytest
import torch
from pyoxigraph import NamedNode

from bench.graph import model_iri, model_recorded, spec_from_model, write_result
from bench.harness import run_benchmark
from bench.spec import parse_spec
from kg.binding import bind
from kg.namespaces import SPARQL_PREFIXES, entity
from kg.terms import to_python

torch.set_num_threads(1)

FAST = {"training": {"epochs": 1}, "measure": {"warmup": 3, "repetitions": 20, "min_time_s": 0.05, "batch_sizes": [1, 4]}}


def _rows(store, sparql, **values):
    return [[to_python(v) for v in row] for row in store.query(bind(SPARQL_PREFIXES + sparql, values)).rows]


@pytest.fixture(scope="module")
def measured():
    from kg.ontology import ontology_quads
    from kg.store import open_store

    store = open_store("oxigraph://")
    store.add(ontology_quads())
    spec = parse_spec({"network": "small-cnn", "seeds": [0, 1], "runtime": {"threads": 1, "cores": [0]},
                       "techniques": [{"name": "prune-unstructured", "sparsity": 0.5}, {"name": "fine-tune", "epochs": 1},
                                      {"name": "quantize-static", "calibration_samples": 16}], **FAST})
    result = run_benchmark(spec)
    write_result(store, result)
    yield store, spec, result
    store.close()


def test_model_and_measured_performance_are_in_the_graph(measured):
    store, spec, result = measured
    model = model_iri("small-cnn", result.key)
    rows = _rows(store, """SELECT ?lat ?p90 ?p99 ?cv ?acc ?metric ?ds ?stab ?size ?mem ?thr WHERE {
        ?m a dlom:Model ; dlom:hasPerformance ?p . ?p a dlom:MeasuredPerformance ; dlom:batchSize 1 ;
           dlom:inferenceLatencyMs ?lat ; dlom:latencyP90Ms ?p90 ; dlom:latencyP99Ms ?p99 ; dlom:latencyCv ?cv ;
           dlom:accuracy ?acc ; dlom:accuracyMetric ?metric ; dlom:accuracyDataset ?ds ; dlom:stability ?stab ;
           dlom:modelSizeKB ?size ; dlom:memoryMb ?mem ; dlom:throughputIps ?thr }""", m=model)
    assert len(rows) == 1
    lat, p90, p99, cv, acc, metric, ds, stab, size, mem, thr = rows[0]
    assert 0 < lat <= p90 <= p99
    assert acc == pytest.approx(result.quality, abs=1e-6) and 0.5 < acc <= 1
    assert metric == "top-1 accuracy" and "load_digits" in ds
    assert stab == pytest.approx(result.stability, abs=1e-8)
    assert size == pytest.approx(result.model_bytes / 1024, abs=0.01)
    # Throughput at the extra batch size is its own record.
    assert _rows(store, "SELECT ?t WHERE { ?m dlom:hasPerformance ?p . ?p dlom:batchSize 4 ; dlom:throughputIps ?t }", m=model)
    # Energy is not measured on a host without RAPL, and the record says so instead of guessing.
    energy = _rows(store, "SELECT ?e WHERE { ?m dlom:hasPerformance ?p . ?p dlom:energyPerInferenceUj ?e }", m=model)
    comments = _rows(store, "SELECT ?c WHERE { ?m dlom:hasPerformance ?p . ?p dlom:batchSize 1 ; rdfs:comment ?c }", m=model)
    assert energy or "energy: not measured" in comments[0][0]


def test_provenance_says_when_where_and_with_which_code(measured):
    store, spec, result = measured
    rows = _rows(store, """SELECT ?run ?start ?end ?sw ?code ?dev ?setting ?cores ?host ?cpu WHERE {
        ?m dlom:hasPerformance ?p ; dlom:deployedOn ?dev . ?p prov:wasGeneratedBy ?run .
        ?run a dlom:BenchmarkRun ; prov:startedAtTime ?start ; prov:endedAtTime ?end ; dlom:softwareVersions ?sw ;
             dlom:codeVersion ?code ; prov:used ?dev .
        ?dev a dlom:EndDevice ; dlom:hostSetting ?setting ; dlom:cpuCores ?cores ; prov:specializationOf ?host .
        ?host a dlom:EndDevice ; dlom:processor ?cpu } LIMIT 1""", m=model_iri("small-cnn", result.key))
    assert rows
    run, start, end, sw, code, dev, setting, cores, host, cpu = rows[0]
    assert "onnxruntime" in sw and "torch" in sw
    assert code and code == result.code_version
    assert "1 intra-op thread" in setting and "pinned to CPU core(s) 0" in setting and "not another device" in setting
    assert cores == 1 and cpu == result.host.cpu_model
    assert dev != host


def test_techniques_are_recorded_in_order_with_their_family_parameters(measured):
    store, spec, result = measured
    rows = _rows(store, """SELECT ?i ?type ?params ?sparsity ?epochs ?bits ?scheme WHERE {
        ?m dlom:appliesOptimization ?t . ?t a ?type ; dlom:sequenceIndex ?i ; dlom:parameters ?params .
        FILTER(?type != dlom:OptimizationTechnique)
        OPTIONAL { ?t dlom:sparsity ?sparsity } OPTIONAL { ?t dlom:epochs ?epochs }
        OPTIONAL { ?t dlom:bitWidth ?bits } OPTIONAL { ?t dlom:quantizationScheme ?scheme } } ORDER BY ?i""",
                 m=model_iri("small-cnn", result.key))
    assert [r[0] for r in rows] == [0, 1, 2]
    assert [r[1].rsplit("#", 1)[1] for r in rows] == ["Pruning", "FineTuning", "Quantization"]
    assert rows[0][3] == 0.5 and rows[1][4] == 1 and rows[2][5:] == [8, "static"]
    assert json.loads(rows[2][2])["technique"] == "quantize-static"


def test_dln_has_parameters_and_macs_from_the_code(measured):
    store, spec, result = measured
    rows = _rows(store, "SELECT ?n ?macs ?layers WHERE { ?m dlom:usesDLN ?d . ?d dlom:numberOfParameters ?n ; dlom:macs ?macs ; "
                        "dlom:numberOfLayers ?layers }", m=model_iri("small-cnn", result.key))
    assert rows == [[result.base_profile.parameters, result.base_profile.macs, 3]]


def test_rerun_adds_a_measurement_without_duplicating_shared_facts_and_resumes_from_the_graph(measured):
    store, spec, result = measured
    model = model_iri("small-cnn", result.key)
    assert model_recorded(store, model)
    # Re-measure from the model IRI alone (the spec is reconstructed from the graph).
    raw = spec_from_model(store, model)
    again = run_benchmark(parse_spec({**raw, **FAST, "seeds": [0, 1]}))
    write_result(store, again)
    assert again.key == result.key
    runs = _rows(store, "SELECT DISTINCT ?run WHERE { ?m dlom:hasPerformance ?p . ?p prov:wasGeneratedBy ?run }", m=model)
    assert len(runs) == 2
    counts = _rows(store, "SELECT (COUNT(?n) AS ?c) WHERE { ?d dlom:numberOfParameters ?n }", d=entity("dln", "small-cnn"))
    assert counts == [[1]]


def test_distilled_model_uses_a_student_dln_derived_from_the_teacher():
    from kg.ontology import ontology_quads
    from kg.store import open_store

    store = open_store("oxigraph://")
    store.add(ontology_quads())
    spec = parse_spec({"network": "mlp", "runtime": {"name": "pytorch", "threads": 1},
                       "techniques": [{"name": "distill", "student_width": 0.5, "epochs": 1}], **FAST})
    result = run_benchmark(spec)
    write_result(store, result)
    rows = _rows(store, """SELECT ?student ?params ?teacher ?temp WHERE { ?m dlom:usesDLN ?student ; dlom:appliesOptimization ?k .
        ?student dlom:derivedFromDLN ?base ; dlom:numberOfParameters ?params .
        ?k a dlom:KnowledgeDistillation ; dlom:teacherDLN ?teacher ; dlom:temperature ?temp }""",
                 m=model_iri("mlp", result.key))
    assert len(rows) == 1
    student, params, teacher, temp = rows[0]
    assert teacher == entity("dln", "mlp").value and student != teacher
    assert params == result.deployed_profile.parameters < result.base_profile.parameters
    assert temp == 4.0
    store.close()


def test_tiny_network_facts_agree_with_the_mlperf_importer():
    """The bench writes the importer's reference facts verbatim, so both records of a Tiny DLN agree."""
    from bench.graph import network_triples
    from bench.networks import get_network
    from bench.profile import profile_network
    from kg.importers.mlperf_tiny import REFERENCE_NETWORKS, TASKS

    spec = get_network("mobilenetv1-0.25")
    triples = {t.predicate.value.rsplit("#", 1)[-1]: to_python(t.object) for t in network_triples(spec, profile_network(spec.build(1.0), spec.input_shape))}
    ref = REFERENCE_NETWORKS["vww"]
    assert triples["activationFunction"] == ref.activation and triples["task"] == TASKS["vww"]
    assert triples["numberOfLayers"] == ref.layers_with_weights
    assert isinstance(NamedNode(spec.dln_iri.value), NamedNode)
