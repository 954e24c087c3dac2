"""The GraphQL API at /graphql (strawberry): models with their DLN, end devices, optimization techniques,
cloud configurations, frameworks and performance (with provenance), following kg/ontology/dlom.ttl.

* ``id`` fields are the entities' IRIs.
* ``models(filter, sort, first, after)`` is a Relay-style connection (edges/node/cursor/pageInfo).
  Cursors are opaque; they encode a position in the requested order.
* Relations are fetched through DataLoaders created per request, one per entity kind, so a page of N
  models with their relations costs the same number of store queries whatever N (up to
  :data:`kg.catalog.queries.BATCH_SIZE`).
* ``effects(runtime, formFactor, precision)``: the measured effects of precisions against float, as
  ``GET /api/effects`` answers them (:mod:`api.graphql_effects`).
* ``submitMeasuredConfiguration(input)`` writes a measured configuration through the validated write
  path and answers with the created model or per-field errors. Mutations need
  ``Authorization: Bearer <DLOM_UPDATE_TOKEN>``.
* GraphiQL is served at GET /graphql; query depth, aliases and tokens are limited; errors that are not
  the client's own are masked (no internals leak).

This module holds no SPARQL and no business rules: resolvers call :mod:`kg.catalog`.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import functools
import json
from concurrent.futures import Executor
from contextvars import ContextVar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.tools import merge_types
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from graphql import GraphQLError
from strawberry.dataloader import DataLoader
from strawberry.extensions import (AddValidationRules, MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, ParserCache,
                                   QueryDepthLimiter, ValidationCache)
from strawberry.fastapi import BaseContext, GraphQLRouter
from cross_web import HTTPException as StrawberryHTTPException  # what strawberry's views raise and answer
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from api import results_formats as rf
from api.auth import UpdateTokenRefused, check_update_token
from api.dependencies import get_settings, get_store
from api.ui import APP_LINK_BAR_HEIGHT, with_app_link
from api.graphql_decision import DecisionQuery
from api.graphql_effects import EffectsQuery
from api.settings import Settings
from kg.catalog import queries as catalog
from kg.catalog import records
from kg.catalog import submissions
from kg.errors import DlomError
from kg.store import Store

MAX_QUERY_DEPTH = 10
"""Deepest selection nesting accepted (a page of models with nested relations needs about 6)."""
MAX_ALIASES = 30
MAX_TOKENS = 4000
"""Enough for GraphiQL's introspection query and hand-written queries; stops token floods."""
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "models:"

R = TypeVar("R")
T = TypeVar("T")


class ClientError(Exception):
    """A mistake in the client's request (bad cursor, page size, missing token): its message is shown."""


# -- per-request context and DataLoaders ----------------------------------------------------------


async def _in_worker(executor: Executor | None, fn: Callable[..., R], *args: Any) -> R:
    """Run a blocking store call off the event loop, in the app's query pool when it has one (so GraphQL
    shares the SPARQL endpoint's bound on concurrent store work), else in asyncio's default pool."""
    return await asyncio.get_running_loop().run_in_executor(executor, functools.partial(fn, *args))


def _loader(store: Store, fetch: Callable[[Store, Sequence[str], float | None], dict[str, R]],
            timeout_s: float | None, executor: Executor | None) -> DataLoader[str, R | None]:
    """A DataLoader that fetches every key requested in one event-loop tick with one ``fetch`` call."""

    async def load(keys: list[str]) -> list[R | None]:
        found = await _in_worker(executor, fetch, store, keys, timeout_s)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


@dataclass
class CatalogLoaders:
    """One DataLoader per entity kind, created per request (so nothing is cached across requests)."""

    model: DataLoader[str, records.ModelRecord | None]
    dln: DataLoader[str, records.DLNRecord | None]
    device: DataLoader[str, records.EndDeviceRecord | None]
    technique: DataLoader[str, records.TechniqueRecord | None]
    cloud_configuration: DataLoader[str, records.CloudConfigurationRecord | None]
    framework: DataLoader[str, records.FrameworkRecord | None]
    performance: DataLoader[str, records.PerformanceRecord | None]

    @classmethod
    def for_store(cls, store: Store, timeout_s: float | None, executor: Executor | None) -> CatalogLoaders:
        return cls(
            model=_loader(store, catalog.models_by_iri, timeout_s, executor),
            dln=_loader(store, catalog.dlns_by_iri, timeout_s, executor),
            device=_loader(store, catalog.devices_by_iri, timeout_s, executor),
            technique=_loader(store, catalog.techniques_by_iri, timeout_s, executor),
            cloud_configuration=_loader(store, catalog.cloud_configurations_by_iri, timeout_s, executor),
            framework=_loader(store, catalog.frameworks_by_iri, timeout_s, executor),
            performance=_loader(store, catalog.performances_by_iri, timeout_s, executor),
        )


class GraphQLContext(BaseContext):
    """What every resolver sees: the app's store and settings and this request's loaders."""

    def __init__(self, store: Store, settings: Settings, executor: Executor | None) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self.executor = executor
        self.loaders = CatalogLoaders.for_store(store, settings.query_timeout_s, executor)

    async def run(self, fn: Callable[..., R], *args: Any) -> R:
        """Run a blocking store call off the event loop (see :func:`_in_worker`)."""
        return await _in_worker(self.executor, fn, *args)


async def get_context(request: Request, store: Store = Depends(get_store),
                      settings: Settings = Depends(get_settings)) -> GraphQLContext:
    return GraphQLContext(store, settings, getattr(request.app.state, "query_executor", None))


def _context(info: Info) -> GraphQLContext:
    return info.context


async def _load_many(loader: DataLoader[str, R | None], iris: Sequence[str]) -> list[R]:
    """The records for ``iris`` in order, leaving out IRIs the store does not hold."""
    if not iris:
        return []
    return [r for r in await loader.load_many(list(iris)) if r is not None]


@functools.cache
def _shared_fields(cls: type, record_type: type, extra: frozenset[str]) -> tuple[str, ...]:
    """The fields ``cls`` takes from a ``record_type`` record (once per pair: a page makes thousands)."""
    names = {f.name for f in dataclasses.fields(cls)} - extra
    return tuple(f.name for f in dataclasses.fields(record_type) if f.name in names)


def _from_record(cls: type[T], record: Any, **extra: Any) -> T:
    """A GraphQL object of ``cls`` with the record's like-named fields (``iri`` becomes ``id``)."""
    values = {name: getattr(record, name) for name in _shared_fields(cls, type(record), frozenset(extra))}
    return cls(id=strawberry.ID(record.iri), **values, **extra)


# -- enums ----------------------------------------------------------------------------------------

TechniqueFamily = strawberry.enum(
    Enum("TechniqueFamily", [(f.name, f.name) for f in records.TechniqueFamily]),  # type: ignore[misc]
    description="Optimization technique families (subclasses of dlom:OptimizationTechnique).",
)
PerformanceKind = strawberry.enum(
    Enum("PerformanceKind", [(k.name, k.name) for k in records.PerformanceKind]),  # type: ignore[misc]
    description="MEASURED on hardware (dlom:MeasuredPerformance), PREDICTED (dlom:PredictedPerformance), "
                "or UNSPECIFIED.",
)


@strawberry.enum(description="What models are sorted by (see `ModelFilter` for how each figure is defined).")
class ModelSortField(Enum):
    LABEL = "label"
    LATENCY = "latency"
    ACCURACY = "accuracy"
    ENERGY = "energy"
    COST = "cost"
    YEAR = "year"


@strawberry.enum
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


# -- output types ---------------------------------------------------------------------------------


@strawberry.type(description="An inference framework or runtime (dlom:Framework).")
class Framework:
    id: strawberry.ID
    label: str | None
    vendor: str | None
    families: list[str] = strawberry.field(description="The products this release belongs to (dlom:frameworkFamily), "
                                           "one name whatever the submitter's spelling; the label keeps the spelling.")


@strawberry.type(description="A deep learning network (dlom:DLN).")
class DLN:
    id: strawberry.ID
    label: str | None
    number_of_layers: int | None
    number_of_parameters: int | None
    macs: int | None
    training_dataset: str | None
    hyper_parameters: JSON | None
    activation_function: str | None
    loss_function: str | None
    number_of_inputs: int | None
    number_of_outputs: int | None
    architecture_family: str | None
    task: str | None
    derived_from_iris: strawberry.Private[tuple[str, ...]]

    @strawberry.field(description="Networks this one is a variant of (dlom:derivedFromDLN).")
    async def derived_from(self, info: Info) -> list[DLN]:
        return [_from_record(DLN, r) for r in await _load_many(_context(info).loaders.dln, self.derived_from_iris)]


@strawberry.type(description="An IoT end or edge device (dlom:EndDevice).")
class EndDevice:
    id: strawberry.ID
    label: str | None
    board: str | None
    soc: str | None
    processor: str | None
    gpu: str | None
    accelerator: str | None
    vendor: str | None
    clock_frequency_mhz: float | None
    accelerator_frequency_mhz: float | None
    memory_kb: float | None
    storage_kb: float | None
    cpu_cores: int | None
    isa_features: str | None
    operating_system: str | None
    camera: str | None
    camera_megapixels: float | None
    price_usd: float | None
    host_setting: str | None
    framework_iris: strawberry.Private[tuple[str, ...]]

    @strawberry.field
    async def frameworks(self, info: Info) -> list[Framework]:
        return [_from_record(Framework, r) for r in await _load_many(_context(info).loaders.framework, self.framework_iris)]


@strawberry.type(description="One application of an optimization technique with its parameters.")
class OptimizationTechnique:
    id: strawberry.ID
    label: str | None
    family: TechniqueFamily | None  # type: ignore[valid-type]
    sequence_index: int | None
    tool_name: str | None
    bit_width: int | None
    quantization_scheme: str | None
    sparsity: float | None
    pruning_granularity: str | None
    rank: int | None
    rank_ratio: float | None
    temperature: float | None
    epochs: int | None
    learning_rate: float | None
    parameters: JSON | None
    teacher_iris: strawberry.Private[tuple[str, ...]]

    @strawberry.field(description="The teacher network of a knowledge distillation (dlom:teacherDLN).")
    async def teacher(self, info: Info) -> DLN | None:
        found = await _load_many(_context(info).loaders.dln, self.teacher_iris[:1])
        return _from_record(DLN, found[0]) if found else None


@strawberry.type(description="Server-side settings for the main DLN (dlom:CloudConfiguration).")
class CloudConfiguration:
    id: strawberry.ID
    label: str | None
    host_address: str | None
    backup_address: str | None
    response_time_ms: float | None
    shielded_execution: bool | None
    security_protocol: str | None
    cost_plan: str | None
    monthly_cost_usd: float | None
    server_hardware: str | None


@strawberry.type(description="An organization that submitted measurements (dlom:Submitter).")
class Submitter:
    id: strawberry.ID
    label: str | None


@strawberry.type(description="Where a performance record came from (PROV-O).")
class Provenance:
    activity: strawberry.ID | None = strawberry.field(description="The run that generated the figures (prov:wasGeneratedBy).")
    activity_label: str | None
    round: str | None = strawberry.field(description="Benchmark round, e.g. MLPerf Tiny v1.0.")
    division: str | None
    submitter: Submitter | None
    source: str | None = strawberry.field(description="The first (in sorted order) of `sources`.")
    sources: list[str] = strawberry.field(description="Source files, URLs or documents the figures were derived from "
                                                      "(prov:wasDerivedFrom), sorted.")


@strawberry.type(description="A set of performance figures of one model (dlom:Performance).")
class Performance:
    id: strawberry.ID
    label: str | None
    kind: PerformanceKind  # type: ignore[valid-type]
    system_latency_ms: float | None
    inference_latency_ms: float | None
    latency_p90_ms: float | None
    latency_p99_ms: float | None
    latency_cv: float | None
    accuracy: float | None
    accuracy_metric: str | None
    accuracy_dataset: str | None
    stability: float | None
    average_power_mw: float | None
    energy_per_inference_uj: float | None
    throughput_ips: float | None
    memory_mb: float | None
    model_size_kb: float | None
    batch_size: int | None
    prediction_confidence: float | None
    predictor_version: str | None
    provenance: Provenance

    @staticmethod
    def from_record(record: records.PerformanceRecord) -> Performance:
        p = record.provenance
        provenance = Provenance(
            activity=strawberry.ID(p.activity_iri) if p.activity_iri else None,
            activity_label=p.activity_label, round=p.round, division=p.division,
            submitter=Submitter(id=strawberry.ID(p.submitter_iri), label=p.submitter_label) if p.submitter_iri else None,
            source=p.source, sources=list(p.sources),
        )
        return _from_record(Performance, record, kind=PerformanceKind[record.kind.name], provenance=provenance)


@strawberry.type(description="A deployed configuration: a DLN with optimization techniques on an end device, "
                             "with its performance (dlom:Model).")
class Model:
    id: strawberry.ID
    label: str | None
    year_created: int | None
    application_area: str | None = strawberry.field(description="Business focus (dlom:applicationArea).")
    purpose: str | None
    field: str | None
    total_cost_usd: float | None
    number_of_iot_devices: int | None
    cost_per_device_usd: float | None
    benchmark: str | None
    division: str | None
    benchmark_round: str | None
    dln_iris: strawberry.Private[tuple[str, ...]]
    device_iris: strawberry.Private[tuple[str, ...]]
    technique_iris: strawberry.Private[tuple[str, ...]]
    cloud_configuration_iris: strawberry.Private[tuple[str, ...]]
    performance_iris: strawberry.Private[tuple[str, ...]]
    framework_iris: strawberry.Private[tuple[str, ...]]

    @strawberry.field(description="The main DLN (dlom:usesDLN).")
    async def dln(self, info: Info) -> DLN | None:
        found = await _load_many(_context(info).loaders.dln, self.dln_iris[:1])
        return _from_record(DLN, found[0]) if found else None

    @strawberry.field(description="The devices the model is deployed on (dlom:deployedOn).")
    async def devices(self, info: Info) -> list[EndDevice]:
        return [_from_record(EndDevice, r) for r in await _load_many(_context(info).loaders.device, self.device_iris)]

    @strawberry.field(description="The first device the model is deployed on (by IRI); most models have one.")
    async def device(self, info: Info) -> EndDevice | None:
        found = await _load_many(_context(info).loaders.device, self.device_iris[:1])
        return _from_record(EndDevice, found[0]) if found else None

    @strawberry.field(description="Applied techniques in sequence order (dlom:appliesOptimization).")
    async def techniques(self, info: Info) -> list[OptimizationTechnique]:
        found = await _load_many(_context(info).loaders.technique, self.technique_iris)
        return [_from_record(OptimizationTechnique, r, family=TechniqueFamily[r.family.name] if r.family else None)
                for r in sorted(found, key=lambda r: r.order_key)]

    @strawberry.field
    async def cloud_configurations(self, info: Info) -> list[CloudConfiguration]:
        found = await _load_many(_context(info).loaders.cloud_configuration, self.cloud_configuration_iris)
        return [_from_record(CloudConfiguration, r) for r in found]

    @strawberry.field
    async def frameworks(self, info: Info) -> list[Framework]:
        return [_from_record(Framework, r) for r in await _load_many(_context(info).loaders.framework, self.framework_iris)]

    @strawberry.field(description="Measured and predicted performance records (dlom:hasPerformance).")
    async def performance(self, info: Info, kind: PerformanceKind | None = None) -> list[Performance]:  # type: ignore[valid-type]
        found = await _load_many(_context(info).loaders.performance, self.performance_iris)
        return [Performance.from_record(r) for r in found if kind is None or r.kind.name == kind.name]


def _model(record: records.ModelRecord) -> Model:
    return _from_record(Model, record)


# -- connection -----------------------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class ModelEdge:
    cursor: str
    node: Model


@strawberry.type
class ModelConnection:
    edges: list[ModelEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many models match the filter (all pages).")


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode()


def _position_after(cursor: str | None) -> int:
    """The offset of the first model after ``cursor`` (0 without one)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(cursor)
        position = int(text[len(_CURSOR_PREFIX):])
        if position < 0:
            raise ValueError(cursor)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ClientError(f"after: {cursor!r} is not a cursor this API issued") from None
    return position + 1


# -- filter and sort inputs -----------------------------------------------------------------------


@strawberry.input(description="An inclusive range; leave either end out for an open range.")
class RangeInput:
    min: float | None = None
    max: float | None = None

    def to_range(self) -> catalog.Range:
        return catalog.Range(self.min, self.max)


@strawberry.input(description=(
    "Which models to list. Empty fields do not filter. devices/dlns: any of these IRIs. techniqueFamilies: "
    "the model applies a technique of every listed family. applicationArea (business focus), purpose, "
    "labelContains: case-insensitive substring. latencyMs is the smallest inference latency, accuracy the "
    "largest accuracy and energyUj the smallest energy per inference over the model's measured "
    "performance records (neither predicted nor copied from another device); costUsd is dlom:totalCostUsd; year is dlom:yearCreated. A model without the "
    "figure a range names is left out. All fields combine with AND (see kg.catalog.queries.ModelFilter)."))
class ModelFilter:
    devices: list[strawberry.ID] | None = None
    dlns: list[strawberry.ID] | None = None
    technique_families: list[TechniqueFamily] | None = None  # type: ignore[valid-type]
    application_area: str | None = None
    purpose: str | None = None
    label_contains: str | None = None
    cost_usd: RangeInput | None = None
    latency_ms: RangeInput | None = None
    accuracy: RangeInput | None = None
    energy_uj: RangeInput | None = None
    year: RangeInput | None = None
    scenario: str | None = strawberry.field(default=None, description=(
        "A performance record of the model is of this MLPerf Inference scenario (dlom:scenario): one of "
        + ", ".join(catalog.SCENARIOS.values()) + " (case-insensitive)."))
    accelerator: str | None = strawberry.field(default=None, description=(
        "Case-insensitive substring of the accelerator of the model's end device (dlom:accelerator) or cloud "
        "configuration (dlom:acceleratorModel), e.g. \"A100\", \"Hexagon NPU\"; or the IRI of the dlom:Hardware "
        "the device or configuration is (dlom:hardware) or has as its SoC (dlom:socHardware)."))
    precision: str | None = strawberry.field(default=None, description=(
        "The data type: the model's dlom:precision (AI Hub: float, w8a8, w8a16, w8a16_mixed_int16, ...) or the "
        "dlom:quantizationScheme of a quantization it applies (MLPerf Inference: int8, fp16, bf16, int4; each part "
        "of a mixed precision); case-insensitive, exact."))
    device_class: str | None = strawberry.field(default=None, description=(
        "What the model runs on: " + ", ".join(c.name for c in catalog.DeviceClass) + " (or the ontology class: "
        "EndDevice, BenchmarkHost, CloudConfiguration; case and spaces ignored). CLOUD_CONFIGURATION: MLPerf "
        "Inference datacenter systems (dlom:usesCloudConfiguration); END_DEVICE: dlom:deployedOn an end device."))
    runtime: str | None = strawberry.field(default=None, description=(
        "The model's runtime (dlom:runtime; AI Hub: tflite, qnn_dlc, onnx, qnn_context_binary, "
        "precompiled_qnn_onnx, ...); case-insensitive, exact."))
    compute_unit: str | None = strawberry.field(default=None, description=(
        "A performance record of the model ran mostly on this unit (dlom:primaryComputeUnit): one of "
        + ", ".join(catalog.COMPUTE_UNITS) + " (case-insensitive)."))
    form_factor: str | None = strawberry.field(default=None, description=(
        "The form factor of the model's device (dlom:formFactor; AI Hub: Phone, Tablet, IoT, XR, Auto, Compute); "
        "case-insensitive, exact."))

    def to_filter(self) -> catalog.ModelFilter:
        def rng(r: RangeInput | None) -> catalog.Range | None:
            return r.to_range() if r is not None else None

        try:
            return catalog.ModelFilter(
                devices=tuple(self.devices or ()), dlns=tuple(self.dlns or ()),
                technique_families=tuple(records.TechniqueFamily[f.name] for f in self.technique_families or ()),
                application_area=self.application_area, purpose=self.purpose, label_contains=self.label_contains,
                cost_usd=rng(self.cost_usd), latency_ms=rng(self.latency_ms), accuracy=rng(self.accuracy),
                energy_uj=rng(self.energy_uj), year=rng(self.year),
                scenario=self.scenario, accelerator=self.accelerator, precision=self.precision,
                device_class=self.device_class, runtime=self.runtime, compute_unit=self.compute_unit,
                form_factor=self.form_factor,
            )
        except catalog.UnknownFilterValue as e:
            # the library names its own field; the client sees the input field it wrote
            raise ClientError(f"filter.{to_camel_case(e.field)}: {e.value!r} is not one of "
                              f"{', '.join(e.allowed)}") from None


@strawberry.input(description="Sort order; models without the sorted figure come last. Ties: by IRI.")
class ModelSort:
    by: ModelSortField = ModelSortField.LABEL
    direction: SortDirection = SortDirection.ASC


# -- query ----------------------------------------------------------------------------------------


async def _one(loader: DataLoader[str, R | None], iri: str) -> R | None:
    found = await _load_many(loader, [iri])
    return found[0] if found else None


@strawberry.type
class Query:
    @strawberry.field(description="A page of models (Relay connection): filter, sort, first (1-100), after.")
    async def models(self, info: Info, filter: ModelFilter | None = None, sort: ModelSort | None = None,
                     first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> ModelConnection:
        if not 1 <= first <= MAX_PAGE_SIZE:
            raise ClientError(f"first: must be between 1 and {MAX_PAGE_SIZE}, got {first}")
        offset = _position_after(after)
        sort = sort or ModelSort()
        ctx = _context(info)
        page = await ctx.run(
            catalog.find_models, ctx.store, filter.to_filter() if filter else None,
            catalog.ModelSortKey(sort.by.value), sort.direction is SortDirection.DESC, offset, first,
            ctx.settings.query_timeout_s)
        # The page's model records come through the loader, so later lookups in this request share them.
        found = await ctx.loaders.model.load_many([row.iri for row in page.rows])
        edges = [ModelEdge(cursor=_cursor(offset + i), node=_model(record))
                 for i, record in enumerate(found) if record is not None]
        return ModelConnection(
            edges=edges, total_count=page.total,
            page_info=PageInfo(
                has_next_page=page.has_next, has_previous_page=offset > 0,
                start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description="A model by IRI.")
    async def model(self, info: Info, id: strawberry.ID) -> Model | None:
        record = await _one(_context(info).loaders.model, id)
        return _model(record) if record else None

    @strawberry.field(description="A DLN by IRI.")
    async def dln(self, info: Info, id: strawberry.ID) -> DLN | None:
        record = await _one(_context(info).loaders.dln, id)
        return _from_record(DLN, record) if record else None

    @strawberry.field(description="An end device by IRI.")
    async def end_device(self, info: Info, id: strawberry.ID) -> EndDevice | None:
        record = await _one(_context(info).loaders.device, id)
        return _from_record(EndDevice, record) if record else None

    @strawberry.field(description="A performance record by IRI.")
    async def performance(self, info: Info, id: strawberry.ID) -> Performance | None:
        record = await _one(_context(info).loaders.performance, id)
        return Performance.from_record(record) if record else None


# -- mutation -------------------------------------------------------------------------------------


@strawberry.input(description="One applied technique; give only the parameters of its family.")
class TechniqueInput:
    family: TechniqueFamily  # type: ignore[valid-type]
    label: str | None = None
    tool_name: str | None = None
    bit_width: int | None = None
    quantization_scheme: str | None = None
    sparsity: float | None = None
    pruning_granularity: str | None = None
    rank: int | None = None
    rank_ratio: float | None = None
    temperature: float | None = None
    epochs: int | None = None
    learning_rate: float | None = None
    teacher_dln: strawberry.ID | None = None
    extra_parameters: JSON | None = strawberry.field(default=None, description="Other parameters, kept as JSON.")


_TECHNIQUE_PARAMETER_FIELDS = ("bit_width", "quantization_scheme", "sparsity", "pruning_granularity", "rank",
                               "rank_ratio", "temperature", "epochs", "learning_rate")


@strawberry.input(description="Measured figures (at least one).")
class MetricsInput:
    inference_latency_ms: float | None = None
    system_latency_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_cv: float | None = None
    accuracy: float | None = strawberry.field(default=None, description="A fraction in [0, 1].")
    accuracy_metric: str | None = None
    accuracy_dataset: str | None = None
    stability: float | None = None
    average_power_mw: float | None = None
    energy_per_inference_uj: float | None = None
    throughput_ips: float | None = None
    memory_mb: float | None = None
    model_size_kb: float | None = None
    batch_size: int | None = None


@strawberry.input
class ProvenanceInput:
    source: str = strawberry.field(description="The file, URL or document the figures come from.")
    round: str | None = None
    submitter: str | None = strawberry.field(default=None, description="The submitting organization's name.")
    software_versions: str | None = None


@strawberry.input(description="A configuration measured on real hardware. dln, device, frameworks and "
                              "cloudConfiguration are IRIs of entities the store already holds.")
class MeasuredConfigurationInput:
    label: str
    dln: strawberry.ID
    device: strawberry.ID
    provenance: ProvenanceInput
    metrics: MetricsInput
    techniques: list[TechniqueInput] = strawberry.field(default_factory=list)
    frameworks: list[strawberry.ID] = strawberry.field(default_factory=list)
    cloud_configuration: strawberry.ID | None = None
    year_created: int | None = None
    application_area: str | None = None
    purpose: str | None = None
    field: str | None = None
    total_cost_usd: float | None = None
    number_of_iot_devices: int | None = None
    cost_per_device_usd: float | None = None
    benchmark: str | None = None
    division: str | None = None

    def to_configuration(self) -> submissions.MeasuredConfiguration:
        def named(obj: Any, names: Sequence[str]) -> dict[str, Any]:
            # Input field names as the client wrote them (camelCase), so field errors name them too.
            return {to_camel_case(n): getattr(obj, n) for n in names if getattr(obj, n) is not None}

        attribute_names = [n for n in ("year_created", "application_area", "purpose", "field", "total_cost_usd",
                                       "number_of_iot_devices", "cost_per_device_usd", "benchmark", "division")]
        return submissions.MeasuredConfiguration(
            label=self.label, dln=self.dln, device=self.device,
            provenance=submissions.ProvenanceInput(source=self.provenance.source, round=self.provenance.round,
                                                   submitter=self.provenance.submitter,
                                                   software_versions=self.provenance.software_versions),
            techniques=tuple(
                submissions.TechniqueInput(
                    family=records.TechniqueFamily[t.family.name], label=t.label, tool_name=t.tool_name,
                    teacher_dln=t.teacher_dln, extra_parameters=t.extra_parameters,
                    parameters=named(t, _TECHNIQUE_PARAMETER_FIELDS))
                for t in self.techniques),
            metrics=named(self.metrics, [f.name for f in dataclasses.fields(MetricsInput)]),
            attributes=named(self, attribute_names),
            frameworks=tuple(self.frameworks), cloud_configuration=self.cloud_configuration,
        )


# The GraphQL schema's face of kg.errors.FieldError (the one field-error type).
@strawberry.type(description="One problem with one input field (e.g. `techniques[0].bitWidth`, `metrics.accuracy`).")
class FieldError:
    field: str
    message: str


@strawberry.type(description="The configuration was written.")
class MeasuredConfigurationSubmitted:
    model: Model


@strawberry.type(description="Nothing was written; each error names its input field.")
class SubmissionFailed:
    errors: list[FieldError]


SubmitMeasuredConfigurationResult = Annotated[
    MeasuredConfigurationSubmitted | SubmissionFailed, strawberry.union("SubmitMeasuredConfigurationResult")]


def _require_update_token(info: Info) -> None:
    """:func:`api.auth.check_update_token`, its refusal as a GraphQL error (HTTP 200, as GraphQL
    clients expect) whose ``extensions.status`` is the 401 or 403 the HTTP routes answer."""
    ctx = _context(info)
    request = ctx.request
    header = request.headers.get("authorization") if isinstance(request, Request) else None
    try:
        check_update_token(ctx.settings, header, "mutations")
    except UpdateTokenRefused as e:
        raise GraphQLError(e.message, extensions={"status": e.status}) from None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Submit a measured configuration (needs the update token). Written through "
                                     "SHACL validation in one transaction; answers the model or field errors.")
    async def submit_measured_configuration(self, info: Info, input: MeasuredConfigurationInput) -> SubmitMeasuredConfigurationResult:
        _require_update_token(info)
        ctx = _context(info)
        result = await ctx.run(submissions.submit_measured_configuration, ctx.store, input.to_configuration())
        if result.model_iri is None:
            return SubmissionFailed(errors=[FieldError(field=e.field, message=e.message) for e in result.errors])
        record = await _one(ctx.loaders.model, result.model_iri)
        assert record is not None, "a model just written must be readable"
        return MeasuredConfigurationSubmitted(model=_model(record))


# -- schema and router ----------------------------------------------------------------------------


def _should_mask(error: GraphQLError) -> bool:
    """Show the client its own mistakes and DLOM's errors (which say what went wrong); mask the rest."""
    original = error.original_error
    return original is not None and not isinstance(original, ClientError | DlomError | GraphQLError)


class CatalogSchema(strawberry.Schema):
    """The schema, logging only errors that are not the client's: a syntax error or a missing token is
    answered to the client and is no server error."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = [e for e in errors if _should_mask(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


# The depth and alias limits as validation rules built once, so that a document validated under them
# is the same cache key on every request (ValidationCache below).
_LIMIT_RULES = (*QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH).validation_rules,
                *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules)

schema = CatalogSchema(
    query=merge_types("Query", (Query, DecisionQuery, EffectsQuery)),
    mutation=Mutation,
    # Factories: strawberry builds fresh extension instances per request.
    extensions=[
        lambda: AddValidationRules(list(_LIMIT_RULES)),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="internal error (see the server log)"),
        # Clients send the same documents again and again: parse and validate each once (module-level
        # LRU caches, shared by every request).
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ],
)

GRAPHIQL_ASSETS = "/ui/vendor/graphiql"
"""Where the GraphiQL page loads its scripts and styles from: files under api/static/vendor/graphiql/
(copied from ui/node_modules by scripts/setup_ui.sh, served by :mod:`api.ui`), never a CDN, so the IDE
works on a machine without internet access."""

GRAPHIQL_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>DLOM GraphiQL</title>
  <link rel="icon" href="/ui/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{assets}/graphiql.min.css">
  <style>
    body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }}
    #graphiql {{ height: calc(100vh - {bar}); display: flex; }}
    .graphiql-missing {{ font-family: system-ui, sans-serif; padding: 2rem; max-width: 40rem; }}
  </style>
  <script src="{assets}/react.production.min.js"></script>
  <script src="{assets}/react-dom.production.min.js"></script>
  <script src="{assets}/graphiql.min.js"></script>
</head>
<body>
  <div id="graphiql" class="graphiql-container">Loading GraphiQL&hellip;</div>
  <script>
    (function () {{
      var holder = document.getElementById("graphiql");
      if (!window.React || !window.ReactDOM || !window.GraphiQL) {{
        // The vendor files are missing: say how to install them instead of showing a blank page.
        holder.className = "graphiql-missing";
        holder.innerHTML = "<h1>GraphiQL is not installed on this server</h1>" +
          "<p>Run <code>scripts/setup_ui.sh</code> (needs npm) to install its files, then reload. " +
          "The GraphQL API itself works: POST queries to <code>/graphql</code>.</p>";
        return;
      }}
      // As on strawberry's page: ?q= shares a query (not ?query=, which GET /graphql executes);
      // queries go to this page's own URL.
      var parameters = new URLSearchParams(window.location.search);
      var fetchURL = window.location.href.split("?")[0];
      var socketURL = new URL(fetchURL);
      socketURL.protocol = socketURL.protocol === "https:" ? "wss:" : "ws:";
      var fetcher = GraphiQL.createFetcher({{ url: fetchURL, subscriptionUrl: socketURL.toString() }});
      function updateURL(name, value) {{
        if (value) {{ parameters.set(name, value); }} else {{ parameters.delete(name); }}
        var search = parameters.toString();
        history.replaceState(null, "", search ? "?" + search : window.location.pathname);
      }}
      ReactDOM.createRoot(holder).render(React.createElement(GraphiQL, {{
        fetcher: fetcher,
        defaultEditorToolsVisibility: true,
        defaultQuery: "# DLOM GraphQL: press the run button (or Ctrl-Enter) to run a query.\\n" +
          "{{\\n  models(first: 5) {{\\n    edges {{ node {{ id label }} }}\\n  }}\\n}}\\n",
        query: parameters.get("q") || undefined,
        variables: parameters.get("variables") || undefined,
        onEditQuery: function (q) {{ updateURL("q", q); }},
        onEditVariables: function (v) {{ updateURL("variables", v); }},
        inputValueDeprecation: true,
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
      }}));
    }})();
  </script>
</body>
</html>
""".format(assets=GRAPHIQL_ASSETS, bar=APP_LINK_BAR_HEIGHT)
"""The GraphiQL page: strawberry's default page loads React and GraphiQL from unpkg.com, which leaves a
blank page offline, so this one loads the same libraries from :data:`GRAPHIQL_ASSETS`."""


# GraphQL over HTTP's two response media types. application/graphql-response+json is used when the
# client names it and prefers it at least as much as application/json; otherwise (no Accept, */*,
# application/json) the legacy application/json answers, always with 200 as strawberry does.
GRAPHQL_RESPONSE_JSON = rf.Format("graphql-response", "application/graphql-response+json")
LEGACY_JSON = rf.Format("json", "application/json")
_RESPONSE_FORMAT: ContextVar[rf.Format] = ContextVar("graphql_response_format", default=LEGACY_JSON)


def response_format(accept: str | None) -> rf.Format:
    """The media type a GraphQL response is sent as, for the request's Accept header."""
    if not accept or GRAPHQL_RESPONSE_JSON.media_type not in accept.lower():
        return LEGACY_JSON
    return rf.negotiate(accept, (GRAPHQL_RESPONSE_JSON, LEGACY_JSON)) or LEGACY_JSON


def is_request_error(response: Any) -> bool:
    """True for a result that is a GraphQL *request error* (the document did not parse or validate, or
    the variables did not coerce): no data, and no error with a ``path`` (a field error always has one)."""
    return (isinstance(response, dict) and response.get("data") is None and bool(response.get("errors"))
            and all(isinstance(e, dict) and "path" not in e for e in response["errors"]))


_GRAPHQL_RESULT = {"type": "object", "properties": {
    "data": {"anyOf": [{"type": "object"}, {"type": "null"}]},
    "errors": {"type": "array", "items": {"type": "object", "required": ["message"], "properties": {
        "message": {"type": "string"}, "locations": {"type": "array"}, "path": {"type": "array"},
        "extensions": {"type": "object"}}}},
    "extensions": {"type": "object"}}}
_EXAMPLE_QUERY = "{ models(first: 2) { edges { node { id label } } pageInfo { hasNextPage endCursor } } }"
_GRAPHQL_REQUEST = {"type": "object", "required": ["query"], "properties": {
    "query": {"type": "string"},
    "variables": {"anyOf": [{"type": "object"}, {"type": "null"}]},
    "operationName": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    "extensions": {"anyOf": [{"type": "object"}, {"type": "null"}]}}}
_GRAPHQL_RESPONSES = {
    "400": {"description": "Not a GraphQL request: no query, a body that is not a JSON object of the right "
                           "members, an unsupported content type, a mutation over GET (text/plain, the reason); "
                           "or, answered as application/graphql-response+json, a request error (the document "
                           "does not parse or validate, variables that do not coerce): errors and no data",
            "content": {"text/plain": {"schema": {"type": "string"}},
                        GRAPHQL_RESPONSE_JSON.media_type: {"schema": _GRAPHQL_RESULT}}},
}
_GRAPHQL_RESULTS = {f.media_type: {"schema": _GRAPHQL_RESULT} for f in (LEGACY_JSON, GRAPHQL_RESPONSE_JSON)}
GRAPHQL_OPENAPI = {
    "get": {
        "parameters": [
            {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "the GraphQL document (a query; mutations need POST)", "example": _EXAMPLE_QUERY},
            {"name": "variables", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "the variables, a JSON object"},
            {"name": "operationName", "in": "query", "required": False, "schema": {"type": "string"}},
            {"name": "extensions", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "a JSON object"},
        ],
        "responses": {
            "200": {"description": "GraphiQL (text/html, when the Accept header prefers HTML), or the result: "
                                   "application/json, or application/graphql-response+json when asked for",
                    "content": {"text/html": {"schema": {"type": "string"}}, **_GRAPHQL_RESULTS}},
            **_GRAPHQL_RESPONSES,
        },
    },
    "post": {
        "requestBody": {"required": True, "content": {"application/json": {"schema": _GRAPHQL_REQUEST,
                                                                           "example": {"query": _EXAMPLE_QUERY}}}},
        "responses": {
            "200": {"description": "The result (with field errors, if any): application/json, or "
                                   "application/graphql-response+json when asked for", "content": _GRAPHQL_RESULTS},
            **_GRAPHQL_RESPONSES,
        },
    },
}
"""The OpenAPI description of ``/graphql`` (strawberry's own says only "GraphiQL" and an empty schema):
the GraphQL over HTTP request and response, merged into the routes' operations."""


class CatalogGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    """strawberry's FastAPI router, serving GraphiQL from local files (see :data:`GRAPHIQL_PAGE`) and
    answering ``application/graphql-response+json`` as GraphQL over HTTP specifies (a request error is
    400 without a ``data`` entry; results with field errors stay 200); everything else (queries,
    mutations, errors) is strawberry's own behaviour. Its HTTP routes are documented as
    :data:`GRAPHQL_OPENAPI` says."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for route in self.routes:
            methods = getattr(route, "methods", None) or ()
            for method in methods:
                doc = GRAPHQL_OPENAPI.get(method.lower())
                if doc is not None:
                    route.openapi_extra = doc  # type: ignore[attr-defined]

    def parse_json(self, data: str | bytes) -> Any:
        # strawberry catches only a JSON syntax error: bytes that are not text would be a 500.
        try:
            return self.decode_json(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise StrawberryHTTPException(400, "Unable to parse request body as JSON") from e

    async def parse_http_body(self, request: Any) -> Any:
        # strawberry reads a POSTed JSON body as an object (or a batch, a list); any other JSON value
        # (a string, a number, null) would be a 500 there. Refused here as the 400 it is (the body is
        # cached by Starlette, so strawberry's own parse reads it again without a second receive).
        if request.method == "POST" and "application/json" in (request.content_type or ""):
            body = self.parse_json(await request.get_body())
            if not isinstance(body, (dict, list)):
                raise StrawberryHTTPException(400, "The GraphQL request must be a JSON object with `query` "
                                                   "(and optionally `variables`, `operationName`, `extensions`)")
        return await super().parse_http_body(request)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        # no-cache: a server restarted with new vendor files serves a page that matches them.
        return HTMLResponse(with_app_link(GRAPHIQL_PAGE), headers={"Cache-Control": "no-cache"})

    async def run(self, request: Any, context: Any = strawberry.UNSET, root_value: Any = strawberry.UNSET) -> Any:
        # The media type is chosen per request (a context variable: concurrent requests do not share it).
        accept = request.headers.get("accept") if isinstance(request, Request) else None
        token = _RESPONSE_FORMAT.set(response_format(accept))
        try:
            return await super().run(request, context, root_value)
        finally:
            _RESPONSE_FORMAT.reset(token)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        if _RESPONSE_FORMAT.get() is not GRAPHQL_RESPONSE_JSON:
            return super().create_response(response_data, sub_response)
        status = sub_response.status_code or 200
        if is_request_error(response_data):
            response_data = {k: v for k, v in response_data.items() if k != "data"}
            status = 400
        response = Response(self.encode_json(response_data), media_type=GRAPHQL_RESPONSE_JSON.media_type,
                            status_code=status)
        response.headers.raw.extend(sub_response.headers.raw)
        return response


router = CatalogGraphQLRouter(schema, path="/graphql", context_getter=get_context, graphql_ide="graphiql")
