"""Plain records of the catalog's entities, each built from the property map the store holds for one IRI.

Every attribute field names its ontology property in its metadata (``attribute(DLOM.board)``), so the
mapping from RDF to a record is declared once, next to the field, and :func:`record_from_properties`
is the only code that reads it. Relation fields hold the IRIs of the related entities (never the
entities themselves): callers fetch those in batches.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from pyoxigraph import Literal, NamedNode

from kg.namespaces import DLOM, PROV, RDF, RDFS
from kg.terms import Term, to_python

PropertyMap = dict[str, list[Term]]
"""Predicate IRI → the objects the store holds for one subject."""

_PREDICATE = "predicate"
_MANY = "many"
_JSON = "json"


def attribute(predicate: NamedNode, *, json_value: bool = False) -> Any:
    """A single-valued field read from ``predicate`` (the first value in term order when several)."""
    return field(default=None, metadata={_PREDICATE: predicate.value, _JSON: json_value})


def relation(predicate: NamedNode) -> Any:
    """A many-valued field: the sorted IRIs (or literal values) of ``predicate``."""
    return field(default_factory=tuple, metadata={_PREDICATE: predicate.value, _MANY: True})


class TechniqueFamily(Enum):
    """The optimization technique families of the ontology (subclasses of dlom:OptimizationTechnique)."""

    QUANTIZATION = DLOM.Quantization.value
    PRUNING = DLOM.Pruning.value
    KNOWLEDGE_DISTILLATION = DLOM.KnowledgeDistillation.value
    TENSOR_DECOMPOSITION = DLOM.TensorDecomposition.value
    FINE_TUNING = DLOM.FineTuning.value
    HARDWARE_OPTIMIZATION = DLOM.HardwareOptimization.value
    FOG_COMPUTING = DLOM.FogComputing.value
    SHIELDED_EXECUTION = DLOM.ShieldedExecution.value


class PerformanceKind(Enum):
    """Whether figures were measured on hardware, predicted, or the record does not say."""

    MEASURED = DLOM.MeasuredPerformance.value
    PREDICTED = DLOM.PredictedPerformance.value
    UNSPECIFIED = DLOM.Performance.value


@dataclass(frozen=True)
class ModelRecord:
    iri: str
    label: str | None = attribute(RDFS.label)
    year_created: int | None = attribute(DLOM.yearCreated)
    application_area: str | None = attribute(DLOM.applicationArea)
    purpose: str | None = attribute(DLOM.purpose)
    field: str | None = attribute(DLOM.field)
    total_cost_usd: float | None = attribute(DLOM.totalCostUsd)
    number_of_iot_devices: int | None = attribute(DLOM.numberOfIoTDevices)
    cost_per_device_usd: float | None = attribute(DLOM.costPerDeviceUsd)
    benchmark: str | None = attribute(DLOM.benchmark)
    division: str | None = attribute(DLOM.division)
    benchmark_round: str | None = attribute(DLOM.benchmarkRound)
    dln_iris: tuple[str, ...] = relation(DLOM.usesDLN)
    device_iris: tuple[str, ...] = relation(DLOM.deployedOn)
    technique_iris: tuple[str, ...] = relation(DLOM.appliesOptimization)
    cloud_configuration_iris: tuple[str, ...] = relation(DLOM.usesCloudConfiguration)
    performance_iris: tuple[str, ...] = relation(DLOM.hasPerformance)
    framework_iris: tuple[str, ...] = relation(DLOM.usesFramework)


@dataclass(frozen=True)
class DLNRecord:
    iri: str
    label: str | None = attribute(RDFS.label)
    number_of_layers: int | None = attribute(DLOM.numberOfLayers)
    number_of_parameters: int | None = attribute(DLOM.numberOfParameters)
    macs: int | None = attribute(DLOM.macs)
    training_dataset: str | None = attribute(DLOM.trainingDataset)
    hyper_parameters: Any = attribute(DLOM.hyperParameters, json_value=True)
    activation_function: str | None = attribute(DLOM.activationFunction)
    loss_function: str | None = attribute(DLOM.lossFunction)
    number_of_inputs: int | None = attribute(DLOM.numberOfInputs)
    number_of_outputs: int | None = attribute(DLOM.numberOfOutputs)
    architecture_family: str | None = attribute(DLOM.architectureFamily)
    task: str | None = attribute(DLOM.task)
    derived_from_iris: tuple[str, ...] = relation(DLOM.derivedFromDLN)


@dataclass(frozen=True)
class EndDeviceRecord:
    iri: str
    label: str | None = attribute(RDFS.label)
    board: str | None = attribute(DLOM.board)
    soc: str | None = attribute(DLOM.soc)
    processor: str | None = attribute(DLOM.processor)
    gpu: str | None = attribute(DLOM.gpu)
    accelerator: str | None = attribute(DLOM.accelerator)
    vendor: str | None = attribute(DLOM.vendor)
    clock_frequency_mhz: float | None = attribute(DLOM.clockFrequencyMHz)
    accelerator_frequency_mhz: float | None = attribute(DLOM.acceleratorFrequencyMHz)
    memory_kb: float | None = attribute(DLOM.memoryKB)
    storage_kb: float | None = attribute(DLOM.storageKB)
    cpu_cores: int | None = attribute(DLOM.cpuCores)
    isa_features: str | None = attribute(DLOM.isaFeatures)
    operating_system: str | None = attribute(DLOM.operatingSystem)
    camera: str | None = attribute(DLOM.camera)
    camera_megapixels: float | None = attribute(DLOM.cameraMegapixels)
    price_usd: float | None = attribute(DLOM.priceUsd)
    host_setting: str | None = attribute(DLOM.hostSetting)
    framework_iris: tuple[str, ...] = relation(DLOM.usesFramework)


@dataclass(frozen=True)
class TechniqueRecord:
    iri: str
    label: str | None = attribute(RDFS.label)
    sequence_index: int | None = attribute(DLOM.sequenceIndex)
    tool_name: str | None = attribute(DLOM.toolName)
    bit_width: int | None = attribute(DLOM.bitWidth)
    quantization_scheme: str | None = attribute(DLOM.quantizationScheme)
    sparsity: float | None = attribute(DLOM.sparsity)
    pruning_granularity: str | None = attribute(DLOM.pruningGranularity)
    rank: int | None = attribute(DLOM.rank)
    rank_ratio: float | None = attribute(DLOM.rankRatio)
    temperature: float | None = attribute(DLOM.temperature)
    epochs: int | None = attribute(DLOM.epochs)
    learning_rate: float | None = attribute(DLOM.learningRate)
    parameters: Any = attribute(DLOM.parameters, json_value=True)
    teacher_iris: tuple[str, ...] = relation(DLOM.teacherDLN)
    type_iris: tuple[str, ...] = relation(RDF.type)

    @property
    def family(self) -> TechniqueFamily | None:
        """The technique's family: the one of its rdf:types that is a family class (None if none is)."""
        for t in self.type_iris:
            try:
                return TechniqueFamily(t)
            except ValueError:
                continue
        return None

    @property
    def order_key(self) -> tuple[int, str]:
        """Position in the model's technique sequence (unsequenced last, then by IRI)."""
        return (self.sequence_index if self.sequence_index is not None else 1 << 30, self.iri)


@dataclass(frozen=True)
class CloudConfigurationRecord:
    iri: str
    label: str | None = attribute(RDFS.label)
    host_address: str | None = attribute(DLOM.hostAddress)
    backup_address: str | None = attribute(DLOM.backupAddress)
    response_time_ms: float | None = attribute(DLOM.responseTimeMs)
    shielded_execution: bool | None = attribute(DLOM.shieldedExecution)
    security_protocol: str | None = attribute(DLOM.securityProtocol)
    cost_plan: str | None = attribute(DLOM.costPlan)
    monthly_cost_usd: float | None = attribute(DLOM.monthlyCostUsd)
    server_hardware: str | None = attribute(DLOM.serverHardware)


@dataclass(frozen=True)
class FrameworkRecord:
    iri: str
    label: str | None = attribute(RDFS.label)
    vendor: str | None = attribute(DLOM.vendor)
    families: tuple[str, ...] = relation(DLOM.frameworkFamily)


@dataclass(frozen=True)
class ProvenanceRecord:
    """Where a performance record came from: the activity that generated it, its round and submitter,
    and the sources it was derived from (each a source file's path, else the source's label or IRI),
    sorted; ``source`` is the first of them."""

    activity_iri: str | None = None
    activity_label: str | None = None
    round: str | None = None
    division: str | None = None
    submitter_iri: str | None = None
    submitter_label: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def source(self) -> str | None:
        return self.sources[0] if self.sources else None


@dataclass(frozen=True)
class PerformanceRecord:
    iri: str
    label: str | None = attribute(RDFS.label)
    system_latency_ms: float | None = attribute(DLOM.systemLatencyMs)
    inference_latency_ms: float | None = attribute(DLOM.inferenceLatencyMs)
    latency_p90_ms: float | None = attribute(DLOM.latencyP90Ms)
    latency_p99_ms: float | None = attribute(DLOM.latencyP99Ms)
    latency_cv: float | None = attribute(DLOM.latencyCv)
    accuracy: float | None = attribute(DLOM.accuracy)
    accuracy_metric: str | None = attribute(DLOM.accuracyMetric)
    accuracy_dataset: str | None = attribute(DLOM.accuracyDataset)
    stability: float | None = attribute(DLOM.stability)
    average_power_mw: float | None = attribute(DLOM.averagePowerMw)
    energy_per_inference_uj: float | None = attribute(DLOM.energyPerInferenceUj)
    throughput_ips: float | None = attribute(DLOM.throughputIps)
    memory_mb: float | None = attribute(DLOM.memoryMb)
    model_size_kb: float | None = attribute(DLOM.modelSizeKB)
    batch_size: int | None = attribute(DLOM.batchSize)
    prediction_confidence: float | None = attribute(DLOM.predictionConfidence)
    predictor_version: str | None = attribute(DLOM.predictorVersion)
    generated_by_iris: tuple[str, ...] = relation(PROV.wasGeneratedBy)
    type_iris: tuple[str, ...] = relation(RDF.type)
    provenance: ProvenanceRecord = field(default_factory=ProvenanceRecord)

    @property
    def kind(self) -> PerformanceKind:
        if PerformanceKind.PREDICTED.value in self.type_iris:
            return PerformanceKind.PREDICTED
        if PerformanceKind.MEASURED.value in self.type_iris:
            return PerformanceKind.MEASURED
        return PerformanceKind.UNSPECIFIED


R = TypeVar("R")


def _value(term: Term, json_value: bool) -> Any:
    value = to_python(term)
    if json_value and isinstance(term, Literal):
        try:
            return json.loads(term.value)
        except ValueError:
            # A JSON-typed literal that does not parse is returned as the text the store holds.
            return term.value
    return value


def record_from_properties(cls: type[R], iri: str, properties: PropertyMap, **extra: Any) -> R:
    """A ``cls`` record for ``iri`` from its property map. Single-valued fields take the smallest value
    (so a record is the same whatever order the store returns); many-valued ones all values, sorted."""
    values: dict[str, Any] = {"iri": iri, **extra}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        predicate = f.metadata.get(_PREDICATE)
        if predicate is None or f.name in values:
            continue
        terms = properties.get(predicate, [])
        if f.metadata.get(_MANY):
            values[f.name] = tuple(sorted({t.value for t in terms}))
        elif terms:
            values[f.name] = _value(min(terms, key=str), bool(f.metadata.get(_JSON)))
    return cls(**values)
