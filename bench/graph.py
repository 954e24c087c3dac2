"""Benchmark results as DLOM records: ``dlom:Model`` + ``dlom:MeasuredPerformance`` with PROV-O.

One run writes, in one validated transaction (:func:`kg.writes.write_triples`):

* the ``dlom:DLN`` of the network as deployed — the registered network itself (for the four MLPerf
  Tiny networks, the importer's reference DLN, with the facts the importer states copied verbatim so
  the two never disagree) or, when a technique changed the architecture, a variant DLN
  (``dlom:derivedFromDLN`` the base) with its own layers, parameters and MACs; properties a DLN
  already has in the store are never written twice;
* the host's ``dlom:BenchmarkHost`` (and its constrained setting's), from :mod:`bench.host_graph`;
* one ``dlom:OptimizationTechnique`` node per step (its family, ``dlom:sequenceIndex``, the family's
  parameters, the tool and every parameter as JSON, and what it did as a comment);
* the ``dlom:Model``, one ``dlom:MeasuredPerformance`` at batch 1 (latency p50/p90/p99 and CV,
  throughput, size, memory, quality with its metric and data set, stability, energy if measured) and
  one per further batch size (throughput), all ``prov:wasGeneratedBy`` a ``dlom:BenchmarkRun`` that
  records when, on which device, with which software and code version.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyoxigraph import NamedNode

from bench.harness import BenchResult
from bench.host_graph import host_device_triples
from bench.networks.registry import NetworkSpec
from bench.profile import NetworkProfile
from bench.techniques.distillation import student_dln_name
from kg.binding import bind
from kg.framework_names import add_framework
from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.store import Store
from kg.writes import TripleBuilder, WriteReport, write_triples

BENCH_AGENT = entity("agent", "dlom-bench")


def model_iri(network: str, key: str) -> NamedNode:
    """The IRI of the model a configuration produces (stable across runs of the same configuration)."""
    return entity("model", "bench", network, key)


def _reference_facts(network: NetworkSpec) -> dict:
    """The facts the MLPerf Tiny importer states about a reference network (empty for other networks)."""
    if not network.benchmark:
        return {}
    from kg.importers.mlperf_tiny import REFERENCE_NETWORKS, TASKS, TRAINING_DATASETS

    ref = REFERENCE_NETWORKS.get(network.benchmark)
    if ref is None:
        return {}
    return {"label": ref.label, "family": ref.family, "layers": ref.layers_with_weights, "inputs": ref.inputs,
            "outputs": ref.outputs, "activation": ref.activation, "task": TASKS[network.benchmark],
            "dataset": TRAINING_DATASETS[network.benchmark]}


def network_triples(network: NetworkSpec, profile: NetworkProfile) -> TripleBuilder:
    """The registered network as a ``dlom:DLN`` (layers, parameters and MACs computed from the code)."""
    t = TripleBuilder()
    iri = network.dln_iri
    ref = _reference_facts(network)
    t.add(iri, RDF.type, DLOM.DLN)
    t.add(iri, RDFS.label, ref.get("label", network.label))
    t.add(iri, DLOM.architectureFamily, ref.get("family", network.family))
    t.add(iri, DLOM.numberOfLayers, ref.get("layers", profile.layers))
    t.add(iri, DLOM.numberOfInputs, ref.get("inputs", profile.inputs))
    t.add(iri, DLOM.numberOfOutputs, ref.get("outputs", profile.outputs))
    t.add(iri, DLOM.activationFunction, ref.get("activation", network.activation))
    t.add(iri, DLOM.task, ref.get("task", network.task))
    if "dataset" in ref:
        t.add(iri, DLOM.trainingDataset, ref["dataset"])
    t.add(iri, DLOM.numberOfParameters, profile.parameters)
    t.add(iri, DLOM.macs, profile.macs)
    t.add(iri, DLOM.lossFunction, network.loss)
    t.add(iri, DLOM.hyperParameters, {**network.hyper_parameters, "input_shape": list(network.input_shape)})
    return t


def _deployed_dln(result: BenchResult) -> tuple[NamedNode, TripleBuilder]:
    network = result.spec.network
    if not result.architecture_changed:
        return network.dln_iri, TripleBuilder()
    only_distilled = [s.name for s in result.steps if s.name in ("distill", "prune-structured", "decompose-svd", "decompose-conv")] == ["distill"]
    p = result.deployed_profile
    t = TripleBuilder()
    if only_distilled and result.student_width is not None:
        iri = entity("dln", student_dln_name(network.name, result.student_width))
        label = f"{network.label} — distilled student at width {result.student_width:g}"
    else:
        iri = entity("dln", "bench-variant", network.name, result.key)
        label = f"{network.label} — variant after {', '.join(s.name for s in result.steps)}"
    t.add(iri, RDF.type, DLOM.DLN)
    t.add(iri, RDFS.label, label)
    t.add(iri, DLOM.derivedFromDLN, network.dln_iri)
    t.add(iri, DLOM.architectureFamily, network.family)
    t.add(iri, DLOM.numberOfLayers, p.layers)
    t.add(iri, DLOM.numberOfParameters, p.parameters)
    t.add(iri, DLOM.macs, p.macs)
    t.add(iri, DLOM.numberOfInputs, p.inputs)
    t.add(iri, DLOM.numberOfOutputs, p.outputs)
    t.add(iri, DLOM.task, _reference_facts(network).get("task", network.task))
    t.add(iri, DLOM.trainingDataset, result.dataset.split(",")[0])
    return iri, t


def result_triples(result: BenchResult) -> TripleBuilder:
    """Every triple of one result (before de-duplication against the store)."""
    spec, key = result.spec, result.key
    stamp = result.started.strftime("%Y%m%dT%H%M%S%fZ")
    model = model_iri(spec.network.name, key)
    run = entity("benchmark-run", "bench", key, stamp)
    t = network_triples(spec.network, result.base_profile)
    dln, dln_t = _deployed_dln(result)
    t.extend(dln_t)
    device, host_triples = host_device_triples(result.host, result.spec.setting)
    t.extend(host_triples)

    framework = entity("framework", spec.runtime, result.runtime_version)
    add_framework(t, framework,
                  f"{'onnxruntime' if spec.runtime == 'onnxruntime' else 'PyTorch (eager)'} {result.runtime_version}")

    t.add(BENCH_AGENT, RDF.type, PROV.SoftwareAgent)
    t.add(BENCH_AGENT, RDFS.label, "DLOM benchmark harness (bench/)")
    t.add(run, RDF.type, DLOM.BenchmarkRun)
    t.add(run, RDFS.label, f"DLOM bench run of {spec.describe()} at {result.started.isoformat(timespec='seconds')}")
    t.add(run, PROV.startedAtTime, result.started)
    t.add(run, PROV.endedAtTime, result.ended)
    t.add(run, PROV.wasAssociatedWith, BENCH_AGENT)
    t.add(run, PROV.used, device)
    t.add(run, PROV.used, model)
    t.add(run, DLOM.softwareVersions, f"{result.host.software_versions()}; execution provider {result.provider}")
    t.add(run, DLOM.codeVersion, result.code_version)

    t.add(model, RDF.type, DLOM.Model)
    t.add(model, RDFS.label, spec.name or spec.describe())
    t.add(model, DLOM.usesDLN, dln)
    t.add(model, DLOM.deployedOn, device)
    t.add(model, DLOM.usesFramework, framework)
    t.add(model, DLOM.sourceRecord, {"bench_spec": spec.to_raw()})
    t.add(model, DLOM.purpose, _reference_facts(spec.network).get("task", spec.network.task))
    t.add(model, RDFS.comment, f"Weights trained by the DLOM bench: {spec.training.epochs} epoch(s), Adam lr {spec.training.learning_rate:g}, "
                               f"batch {spec.training.batch_size}, on {result.dataset}")

    for step in result.steps:
        node = entity("technique", "bench", key, str(step.index))
        tech = spec.techniques[step.index].technique
        t.add(node, RDF.type, tech.family)
        t.add(node, RDFS.label, tech.describe(step.params))
        t.add(node, DLOM.sequenceIndex, step.index)
        t.add(node, DLOM.toolName, tech.tool)
        t.add(node, DLOM.parameters, {"technique": step.name, **step.params})
        for p, v in tech.properties(step.params, _StateView(spec.network)):
            t.add(node, p, v)
        if step.outcome.notes:
            t.add(node, RDFS.comment, "; ".join(step.outcome.notes))
        t.add(model, DLOM.appliesOptimization, node)

    perf = entity("performance", "bench", key, stamp, "batch-1")
    lat = result.latency
    t.add(model, DLOM.hasPerformance, perf)
    t.add(perf, RDF.type, DLOM.MeasuredPerformance)
    t.add(perf, RDFS.label, f"Measured: {spec.describe()}, batch 1")
    t.add(perf, DLOM.batchSize, 1)
    t.add(perf, DLOM.inferenceLatencyMs, round(lat.p50_ms, 6))
    t.add(perf, DLOM.latencyP90Ms, round(lat.p90_ms, 6))
    t.add(perf, DLOM.latencyP99Ms, round(lat.p99_ms, 6))
    t.add(perf, DLOM.latencyCv, round(lat.cv, 6))
    t.add(perf, DLOM.throughputIps, round(lat.throughput_ips, 3))
    t.add(perf, DLOM.modelSizeKB, round(result.model_bytes / 1024, 3))
    t.add(perf, DLOM.memoryMb, None if result.memory_mb is None else round(result.memory_mb, 3))
    t.add(perf, DLOM.accuracy, round(result.quality, 6))
    t.add(perf, DLOM.accuracyMetric, result.metric)
    t.add(perf, DLOM.accuracyDataset, result.dataset)
    t.add(perf, DLOM.stability, None if result.stability is None else round(result.stability, 8))
    t.add(perf, DLOM.energyPerInferenceUj, None if result.energy_uj is None else round(result.energy_uj, 3))
    t.add(perf, PROV.wasGeneratedBy, run)
    t.add(perf, PROV.generatedAtTime, result.ended)
    seeds = ", ".join(f"seed {s}: {q:.4f}" for s, q in result.quality_by_seed.items())
    t.add(perf, RDFS.comment, "; ".join([*result.notes, f"quality per seed: {seeds}",
                                         f"deployed network: {result.deployed_profile.parameters} parameters, "
                                         f"{result.deployed_profile.macs} MACs, {result.deployed_profile.layers} layers"]))
    for b, stats in sorted(result.batch_latency.items()):
        if b == 1:
            continue
        pb = entity("performance", "bench", key, stamp, f"batch-{b}")
        t.add(model, DLOM.hasPerformance, pb)
        t.add(pb, RDF.type, DLOM.MeasuredPerformance)
        t.add(pb, RDFS.label, f"Measured: {spec.describe()}, batch {b}")
        t.add(pb, DLOM.batchSize, b)
        t.add(pb, DLOM.throughputIps, round(b * stats.throughput_ips, 3))
        t.add(pb, PROV.wasGeneratedBy, run)
        t.add(pb, PROV.generatedAtTime, result.ended)
        t.add(pb, RDFS.comment, f"batch of {b} real test inputs: median {stats.p50_ms:.4f} ms per batch "
                                f"(p90 {stats.p90_ms:.4f}, CV {stats.cv:.3f}, {stats.samples} calls)")
    return t


class _StateView:
    """The little of a pipeline state that technique properties need when recording."""

    def __init__(self, network: NetworkSpec) -> None:
        self.network = network


def _existing_predicates(store: Store, subjects: Iterable[NamedNode]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for s in subjects:
        res = store.select(bind("SELECT DISTINCT ?p WHERE { ?s ?p ?o }", {"s": s}))
        found.update((s.value, row[0].value) for row in res.rows)
    return found


def _shared_subjects(triples: TripleBuilder) -> set[NamedNode]:
    """Subjects other records may already describe: DLNs, devices, frameworks, the agent."""
    shared = {DLOM.DLN, DLOM.EndDevice, DLOM.Framework, PROV.SoftwareAgent}
    return {t.subject for t in triples if t.predicate == RDF.type and t.object in shared}


def write_result(store: Store, result: BenchResult) -> WriteReport:
    """Validate and write one result in one transaction. For entities other records may already hold
    (DLNs, devices, frameworks) only properties they lack are added, so re-runs and the MLPerf Tiny
    importer's records never get a second, different value."""
    triples = result_triples(result)
    shared = _shared_subjects(triples)
    existing = _existing_predicates(store, shared)
    # A shared entity already in the store is *extended* (its rdf:type too is left out), so the
    # validator checks the added values against what the store holds.
    kept = [t for t in triples if t.subject not in shared or (t.subject.value, t.predicate.value) not in existing]
    return write_triples(store, kept, source=f"bench {result.spec.describe()}")


def model_recorded(store: Store, model: NamedNode) -> bool:
    """Whether the store already holds measured performance for ``model``."""
    return store.ask(bind("ASK WHERE { ?m <https://w3id.org/dlom#hasPerformance> ?p . "
                          "?p a <https://w3id.org/dlom#MeasuredPerformance> }", {"m": model}))




def spec_from_model(store: Store, model: NamedNode) -> dict[str, Any]:
    """A spec mapping that re-measures ``model``: the bench spec it was recorded with, or — for a model
    from elsewhere (e.g. an MLPerf Tiny import) — its DLN's registered network and its techniques'
    recorded parameters. Raises :class:`bench.errors.SpecError` naming what cannot be reconstructed."""
    import json

    from bench.errors import SpecError
    from bench.networks.registry import network_for_dln

    where = model.value
    res = store.select(bind("SELECT ?r WHERE { ?m <https://w3id.org/dlom#sourceRecord> ?r }", {"m": model}))
    for (record,) in res.rows:
        try:
            data = json.loads(record.value)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("bench_spec"), dict):
            return data["bench_spec"]
    res = store.select(bind("SELECT ?d WHERE { ?m a <https://w3id.org/dlom#Model> ; <https://w3id.org/dlom#usesDLN> ?d }",
                            {"m": model}))
    rows = list(res.rows)
    if not rows:
        raise SpecError(where, "is not a dlom:Model with a dlom:usesDLN in the store", field_name="model")
    dln = rows[0][0].value
    network = network_for_dln(dln)
    if network is None:
        raise SpecError(where, f"its DLN <{dln}> is not a network the bench can build", field_name="usesDLN")
    res = store.select(bind("SELECT ?t ?i ?p ?l WHERE { ?m <https://w3id.org/dlom#appliesOptimization> ?t . "
                            "OPTIONAL { ?t <https://w3id.org/dlom#sequenceIndex> ?i } "
                            "OPTIONAL { ?t <https://w3id.org/dlom#parameters> ?p } "
                            "OPTIONAL { ?t <http://www.w3.org/2000/01/rdf-schema#label> ?l } } ORDER BY ?i", {"m": model}))
    techniques = []
    for t, _i, p, label in res.rows:
        params = json.loads(p.value) if p is not None else None
        if not isinstance(params, dict) or "technique" not in params:
            name = label.value if label is not None else t.value
            raise SpecError(where, f"technique <{t.value}> ({name}) has no bench implementation to re-apply",
                            field_name="appliesOptimization")
        params = dict(params)
        techniques.append({"name": params.pop("technique"), **params})
    return {"network": network.name, "techniques": techniques}
