"""Builders of small, real DLOM graphs for the decision-support tests (written through write_triples)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from pyoxigraph import NamedNode, Triple

from decision import facet_index

from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.store import Store
from kg.terms import literal
from kg.writes import write_triples


@dataclass
class ModelSpec:
    """One model to write; None leaves an attribute out."""

    name: str
    area: str | None = None
    cost: float | None = None
    devices: int | None = None
    cost_per_device: float | None = None
    accuracy: float | None = None
    latency_ms: float | None = None
    energy_uj: float | None = None
    dln: str = "ResNet-50"
    layers: int | None = None
    parameters: int | None = None
    device: str = "Raspberry Pi 3"
    # None: the model's own unit of that device (distinct configurations, not variants of one another);
    # a name: one device shared by every spec that names it (decision.diversity groups such variants)
    device_unit: str | None = None
    device_price: float | None = None  # dlom:priceUsd of the device
    benchmark_host: bool = False  # the device is a dlom:BenchmarkHost (a machine DLOM measured on)
    memory_kb: float | None = None
    shielded: bool | None = None
    protocol: str | None = None
    techniques: int = 0
    purpose: str | None = None
    measured: bool = True
    ratings: dict[str, list[int]] = field(default_factory=dict)


def model_iri(name: str) -> NamedNode:
    return entity("model", "decision-test", name)


def model_triples(spec: ModelSpec) -> list[Triple]:
    m = model_iri(spec.name)
    dln = entity("dln", "decision-test", spec.dln)
    dev = entity("device", "decision-test", spec.device, spec.device_unit or spec.name)
    run = entity("benchmark-run", "decision-test", spec.name)
    sub = entity("submitter", "decision-test-lab")
    src = entity("source-file", "decision-test", spec.name)
    perf = entity("performance", "decision-test", spec.name)
    t = [
        Triple(m, RDF.type, DLOM.Model), Triple(m, RDFS.label, literal(spec.name)),
        Triple(m, DLOM.usesDLN, dln), Triple(m, DLOM.deployedOn, dev),
        Triple(dln, RDF.type, DLOM.DLN), Triple(dln, RDFS.label, literal(spec.dln)),
        Triple(dev, RDF.type, DLOM.EndDevice), Triple(dev, RDFS.label, literal(spec.device)),
        Triple(m, DLOM.hasPerformance, perf),
        Triple(perf, RDF.type, DLOM.MeasuredPerformance if spec.measured else DLOM.PredictedPerformance),
        Triple(perf, RDFS.label, literal(f"performance of {spec.name}")),
        Triple(perf, PROV.wasGeneratedBy, run),
        Triple(run, RDF.type, DLOM.BenchmarkRun), Triple(run, RDFS.label, literal(f"run of {spec.name}")),
        Triple(run, DLOM.benchmarkRound, literal("v1.0")), Triple(run, PROV.wasAssociatedWith, sub),
        Triple(sub, RDF.type, DLOM.Submitter), Triple(sub, RDFS.label, literal("Test Lab")),
        Triple(perf, PROV.wasDerivedFrom, src), Triple(src, RDF.type, DLOM.SourceFile),
        Triple(src, DLOM.sourcePath, literal(f"results/{spec.name}.json")),
    ]
    if not spec.measured:
        t += [Triple(perf, DLOM.predictionConfidence, literal(0.5)), Triple(perf, DLOM.predictorVersion, literal("test"))]
    opt = {"area": DLOM.applicationArea, "cost": DLOM.totalCostUsd, "devices": DLOM.numberOfIoTDevices,
           "cost_per_device": DLOM.costPerDeviceUsd, "purpose": DLOM.purpose}
    for attr, prop in opt.items():
        v = getattr(spec, attr)
        if v is not None:
            t.append(Triple(m, prop, literal(v)))
    for attr, prop in {"accuracy": DLOM.accuracy, "latency_ms": DLOM.inferenceLatencyMs, "energy_uj": DLOM.energyPerInferenceUj}.items():
        v = getattr(spec, attr)
        if v is not None:
            t.append(Triple(perf, prop, literal(float(v))))
    if spec.layers is not None:
        t.append(Triple(dln, DLOM.numberOfLayers, literal(spec.layers)))
    if spec.parameters is not None:
        t.append(Triple(dln, DLOM.numberOfParameters, literal(spec.parameters)))
    if spec.device_price is not None:
        t.append(Triple(dev, DLOM.priceUsd, literal(float(spec.device_price))))
    if spec.benchmark_host:
        t.append(Triple(dev, RDF.type, DLOM.BenchmarkHost))
    if spec.memory_kb is not None:
        t.append(Triple(dev, DLOM.memoryKB, literal(float(spec.memory_kb))))
    if spec.shielded is not None or spec.protocol is not None:
        cloud = entity("cloud", "decision-test", spec.name)
        t += [Triple(m, DLOM.usesCloudConfiguration, cloud), Triple(cloud, RDF.type, DLOM.CloudConfiguration),
              Triple(cloud, RDFS.label, literal(f"cloud of {spec.name}"))]
        if spec.shielded is not None:
            t.append(Triple(cloud, DLOM.shieldedExecution, literal(spec.shielded)))
        if spec.protocol is not None:
            t.append(Triple(cloud, DLOM.securityProtocol, literal(spec.protocol)))
    for k in range(spec.techniques):
        q = entity("technique", "decision-test", spec.name, str(k))
        t += [Triple(m, DLOM.appliesOptimization, q), Triple(q, RDF.type, DLOM.Quantization),
              Triple(q, RDFS.label, literal(f"int8 #{k}"))]
    return t


def write_models(store: Store, specs: list[ModelSpec]) -> None:
    """Write the models (deduplicating shared DLN/device triples) and then their ratings."""
    from decision.objectives import Objective
    from decision.ratings import rate_model

    triples: list[Triple] = []
    seen: set[Triple] = set()
    for spec in specs:
        for t in model_triples(spec):
            if t not in seen:
                seen.add(t)
                triples.append(t)
    write_triples(store, triples, source="decision test data")
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for spec in specs:
        rounds = max((len(v) for v in spec.ratings.values()), default=0)
        for r in range(rounds):
            values = {Objective(o): vs[r] for o, vs in spec.ratings.items() if r < len(vs)}
            rate_model(store, model_iri(spec.name).value, values, f"rater{r}", at=base + dt.timedelta(minutes=r))


def count_index_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, one entry per full build of a facet index (:func:`decision.facet_index.build_index`)
    during the test: an index brought forward after a write adds none."""
    builds: list[int] = []
    real = facet_index.build_index
    monkeypatch.setattr(facet_index, "build_index", lambda store: builds.append(1) or real(store))
    return builds
