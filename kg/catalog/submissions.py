"""Submitting a measured configuration: a model (DLN + device + techniques with parameters) with its
measured performance and provenance, written in one validated transaction.

:func:`submit_measured_configuration` builds the triples, writes them through
:func:`kg.writes.write_triples` (SHACL-validated, atomic), and reports problems per input field: each
SHACL violation is mapped back to the input field whose value produced it (``techniques[1].bitWidth``,
``metrics.accuracy``), so a client can show the error next to the field.

Field names are the input's own (camelCase, as a GraphQL client sends them, e.g. ``modelSizeKb``); a
violation that no input field produced gets the name ``input``.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import NamedNode

from kg.catalog.records import TechniqueFamily
from kg.errors import FieldError, ValidationError
from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.store import Store
from kg.writes import TripleBuilder, existing_types, write_triples


@dataclass(frozen=True)
class TechniqueInput:
    """One applied technique. ``parameters`` holds the family's typed parameters by input name
    (``bitWidth``, ``sparsity``, …); ``extra_parameters`` free-form ones kept as JSON."""

    family: TechniqueFamily
    label: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    teacher_dln: str | None = None
    tool_name: str | None = None
    extra_parameters: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ProvenanceInput:
    """Where the figures came from: ``source`` (a file, URL or document), the benchmark round, the
    submitting organization, and the software versions used."""

    source: str
    round: str | None = None
    submitter: str | None = None
    software_versions: str | None = None


@dataclass(frozen=True)
class MeasuredConfiguration:
    """A configuration measured on real hardware. ``dln``, ``device``, ``frameworks`` and
    ``cloud_configuration`` are IRIs of entities the store already holds; ``attributes`` are model
    attributes and ``metrics`` performance figures, each by input name (see the tables below)."""

    label: str
    dln: str
    device: str
    provenance: ProvenanceInput
    techniques: tuple[TechniqueInput, ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    frameworks: tuple[str, ...] = ()
    cloud_configuration: str | None = None


@dataclass(frozen=True)
class SubmissionResult:
    """Either ``model_iri`` (written) or ``errors`` (nothing was written)."""

    model_iri: str | None = None
    errors: tuple[FieldError, ...] = ()


MODEL_ATTRIBUTES: dict[str, NamedNode] = {
    "yearCreated": DLOM.yearCreated, "applicationArea": DLOM.applicationArea, "purpose": DLOM.purpose,
    "field": DLOM.field, "totalCostUsd": DLOM.totalCostUsd, "numberOfIotDevices": DLOM.numberOfIoTDevices,
    "costPerDeviceUsd": DLOM.costPerDeviceUsd, "benchmark": DLOM.benchmark, "division": DLOM.division,
}
METRICS: dict[str, NamedNode] = {
    "inferenceLatencyMs": DLOM.inferenceLatencyMs, "systemLatencyMs": DLOM.systemLatencyMs,
    "latencyP90Ms": DLOM.latencyP90Ms, "latencyP99Ms": DLOM.latencyP99Ms, "latencyCv": DLOM.latencyCv,
    "accuracy": DLOM.accuracy, "accuracyMetric": DLOM.accuracyMetric, "accuracyDataset": DLOM.accuracyDataset,
    "stability": DLOM.stability, "averagePowerMw": DLOM.averagePowerMw,
    "energyPerInferenceUj": DLOM.energyPerInferenceUj, "throughputIps": DLOM.throughputIps,
    "memoryMb": DLOM.memoryMb, "modelSizeKb": DLOM.modelSizeKB, "batchSize": DLOM.batchSize,
}
# Technique parameters and the families they apply to (the rdfs:domain of each property in dlom.ttl;
# None: any family).
TECHNIQUE_PARAMETERS: dict[str, tuple[NamedNode, TechniqueFamily | None]] = {
    "bitWidth": (DLOM.bitWidth, TechniqueFamily.QUANTIZATION),
    "quantizationScheme": (DLOM.quantizationScheme, TechniqueFamily.QUANTIZATION),
    "sparsity": (DLOM.sparsity, TechniqueFamily.PRUNING),
    "pruningGranularity": (DLOM.pruningGranularity, TechniqueFamily.PRUNING),
    "rank": (DLOM.rank, TechniqueFamily.TENSOR_DECOMPOSITION),
    "rankRatio": (DLOM.rankRatio, TechniqueFamily.TENSOR_DECOMPOSITION),
    "temperature": (DLOM.temperature, TechniqueFamily.KNOWLEDGE_DISTILLATION),
    "epochs": (DLOM.epochs, None),
    "learningRate": (DLOM.learningRate, None),
}
_FAMILY_LABELS = {f: f.name.replace("_", " ").lower() for f in TechniqueFamily}


# One submission at a time per process: the "label not yet submitted" check and the write must not
# interleave with another submission of the same label.
_SUBMIT_LOCK = threading.Lock()


def model_iri_for(label: str) -> NamedNode:
    """The IRI a submitted model with this label gets (deterministic, so a repeat is detected)."""
    return entity("model", "submitted", label)


class _Builder(TripleBuilder):
    """The submission's triples (each property's input field remembered) and the input errors found."""

    def __init__(self) -> None:
        super().__init__("submitted measured configuration")
        self.errors: list[FieldError] = []

    def iri(self, value: str, field_name: str) -> NamedNode | None:
        try:
            if not value or ":" not in value:
                raise ValueError("an absolute IRI is required")
            return NamedNode(value)
        except ValueError as e:
            self.errors.append(FieldError(field_name, f"not a valid IRI: {value!r} ({e})"))
            return None


def _build(config: MeasuredConfiguration) -> _Builder:
    b = _Builder()
    label = config.label.strip()
    model = model_iri_for(label or "x")
    b.subject(model, "")
    b.add(model, RDF.type, DLOM.Model)
    b.add(model, RDFS.label, label, field="label")
    dln = b.iri(config.dln, "dln")
    device = b.iri(config.device, "device")
    b.add(model, DLOM.usesDLN, dln, field="dln")
    b.add(model, DLOM.deployedOn, device, field="device")
    for i, framework in enumerate(config.frameworks):
        b.add(model, DLOM.usesFramework, b.iri(framework, f"frameworks[{i}]"), field=f"frameworks[{i}]")
    if config.cloud_configuration:
        b.add(model, DLOM.usesCloudConfiguration, b.iri(config.cloud_configuration, "cloudConfiguration"),
              field="cloudConfiguration")
    for name, value in config.attributes.items():
        if name not in MODEL_ATTRIBUTES:
            b.errors.append(FieldError(name, "not a model attribute"))
            continue
        b.add(model, MODEL_ATTRIBUTES[name], value, field=name)

    for i, technique in enumerate(config.techniques):
        prefix = f"techniques[{i}]"
        node = entity("technique", "submitted", label, str(i), technique.family.name.lower())
        b.subject(node, prefix)
        b.add(model, DLOM.appliesOptimization, node, field=prefix)
        b.add(node, RDF.type, NamedNode(technique.family.value))
        b.add(node, RDFS.label, (technique.label or _FAMILY_LABELS[technique.family]).strip(), field=f"{prefix}.label")
        b.add(node, DLOM.sequenceIndex, i, field=prefix)
        b.add(node, DLOM.toolName, technique.tool_name, field=f"{prefix}.toolName")
        if technique.extra_parameters is not None:
            if isinstance(technique.extra_parameters, Mapping):
                b.add(node, DLOM.parameters, dict(technique.extra_parameters), field=f"{prefix}.extraParameters")
            else:
                b.errors.append(FieldError(f"{prefix}.extraParameters", "must be a JSON object of name: value"))
        if technique.teacher_dln is not None:
            if technique.family is not TechniqueFamily.KNOWLEDGE_DISTILLATION:
                b.errors.append(FieldError(f"{prefix}.teacherDln", "applies to knowledge distillation only"))
            b.add(node, DLOM.teacherDLN, b.iri(technique.teacher_dln, f"{prefix}.teacherDln"), field=f"{prefix}.teacherDln")
        for name, value in technique.parameters.items():
            if value is None:
                continue
            spec = TECHNIQUE_PARAMETERS.get(name)
            if spec is None:
                b.errors.append(FieldError(f"{prefix}.{name}", "not a technique parameter"))
                continue
            predicate, family = spec
            if family is not None and family is not technique.family:
                b.errors.append(FieldError(f"{prefix}.{name}", f"applies to {_FAMILY_LABELS[family]} only, "
                                                              f"not {_FAMILY_LABELS[technique.family]}"))
                continue
            b.add(node, predicate, value, field=f"{prefix}.{name}")

    performance = entity("performance", "submitted", label)
    b.subject(performance, "metrics")
    b.add(model, DLOM.hasPerformance, performance, field="metrics")
    b.add(performance, RDF.type, DLOM.MeasuredPerformance)
    b.add(performance, RDFS.label, f"measured performance of {label}")
    if not any(v is not None for v in config.metrics.values()):
        b.errors.append(FieldError("metrics", "give at least one measured figure"))
    for name, value in config.metrics.items():
        if name not in METRICS:
            b.errors.append(FieldError(f"metrics.{name}", "not a performance figure"))
            continue
        b.add(performance, METRICS[name], value, field=f"metrics.{name}")

    prov = config.provenance
    run = entity("run", "submitted", label)
    b.subject(run, "provenance")
    b.add(performance, PROV.wasGeneratedBy, run, field="provenance")
    b.add(run, RDF.type, DLOM.BenchmarkRun)
    b.add(run, RDFS.label, f"measurement of {label}", field="provenance")
    b.add(run, DLOM.benchmarkRound, prov.round, field="provenance.round")
    b.add(run, DLOM.softwareVersions, prov.software_versions, field="provenance.softwareVersions")
    source_text = prov.source.strip()
    if not source_text:
        b.errors.append(FieldError("provenance.source", "must not be empty"))
    else:
        source = entity("source", source_text)
        b.subject(source, "provenance.source")
        b.add(performance, PROV.wasDerivedFrom, source, field="provenance.source")
        b.add(source, RDF.type, DLOM.SourceFile)
        b.add(source, RDFS.label, source_text, field="provenance.source")
        b.add(source, DLOM.sourcePath, source_text, field="provenance.source")
    if prov.submitter is not None:
        name = prov.submitter.strip()
        if not name:
            b.errors.append(FieldError("provenance.submitter", "must not be empty"))
        else:
            submitter = entity("submitter", name)
            b.subject(submitter, "provenance.submitter")
            b.add(run, PROV.wasAssociatedWith, submitter, field="provenance.submitter")
            b.add(submitter, RDF.type, DLOM.Submitter)
            b.add(submitter, RDFS.label, name, field="provenance.submitter")
    if not label:
        b.errors.append(FieldError("label", "must not be empty"))
    return b


def submit_measured_configuration(store: Store, config: MeasuredConfiguration) -> SubmissionResult:
    """Validate and write ``config``; on any problem write nothing and return the field errors.

    A model label may be submitted once (its IRI derives from the label); a repeat is a ``label`` error.
    Referenced IRIs (``dln``, ``device``, …) must name entities of the right class in the store.
    """
    builder = _build(config)
    if builder.errors:
        return SubmissionResult(errors=tuple(builder.errors))
    model = model_iri_for(config.label.strip())
    try:
        with _SUBMIT_LOCK:
            if existing_types(store, [model.value]):
                return SubmissionResult(errors=(FieldError("label", f"a model with this label was already submitted: <{model.value}>"),))
            write_triples(store, builder, source=builder.file)
    except ValidationError as e:
        errors = {FieldError(builder.field_for(v.focus, v.path) or "input", v.message + (f" (value {v.value})" if v.value else ""))
                  for v in e.violations}
        return SubmissionResult(errors=tuple(sorted(errors, key=lambda fe: (fe.field, fe.message))))
    return SubmissionResult(model_iri=model.value)
