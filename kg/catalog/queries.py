"""Catalog reads: find a page of models by filters and sort order, and fetch entities by lists of IRIs.

Every function here costs a fixed number of store queries whatever the number of IRIs (up to
:data:`BATCH_SIZE` per query), which is what lets the GraphQL layer batch a page's relations with
DataLoaders. Nothing here decides anything: it reads what the store holds. User values reach the
SPARQL text only as typed terms in VALUES blocks (:mod:`kg.binding`).

How a model's figures are defined for filtering and sorting (one rule, stated once):
  * latency = the smallest ``dlom:inferenceLatencyMs``, accuracy = the largest ``dlom:accuracy`` and
    energy = the smallest ``dlom:energyPerInferenceUj`` over the model's performance records that are
    neither ``dlom:PredictedPerformance`` (predictions never rank or filter models) nor
    ``dlom:CopiedPerformance`` (another device's measurement repeated for this one, not a measurement of it),
    among the records that state the figure (a record of accuracy alone does not take a model's latency away);
  * cost = the smallest ``dlom:totalCostUsd``; year = the smallest ``dlom:yearCreated``; label = the least
    ``rdfs:label``.
A model without the figure a range filter names is left out; when sorting, models without the figure
come last in either direction. Ties are broken by model IRI, so pages are stable.

Cost: :func:`find_models` evaluates the filters and sort key over every model (the store has no sorted
index), so it grows linearly with the number of models; the batch fetches do not grow with the graph. A
registered listing source (:func:`add_listing_source`: the facet index, :mod:`decision.catalog_listing`)
answers the same in numpy where it can, and the store query runs where it cannot.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from pyoxigraph import Literal, NamedNode

from kg.binding import values_rows
from kg.catalog.records import (
    CloudConfigurationRecord,
    DLNRecord,
    EndDeviceRecord,
    FrameworkRecord,
    ModelRecord,
    PerformanceRecord,
    PropertyMap,
    ProvenanceRecord,
    TechniqueFamily,
    TechniqueRecord,
    record_from_properties,
)
from kg.derived_results import derived
from kg.errors import QueryError
from kg.importers.mlperf_inference import SCENARIOS
from kg.namespaces import DLOM
from kg.namespaces import DLOM_VOCABULARIES, SPARQL_PREFIXES
from kg.results import Solutions
from kg.store import Store
from kg.terms import literal, to_python

BATCH_SIZE = 500
"""IRIs per VALUES block: a fetch of up to this many IRIs is one query."""

R = TypeVar("R")


# -- filters, sort order, pages ------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """An inclusive numeric range; either end may be open (None)."""

    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise QueryError(f"range minimum {self.minimum} is above its maximum {self.maximum}")

    @property
    def is_open(self) -> bool:
        return self.minimum is None and self.maximum is None


class DeviceClass(Enum):
    """What a model runs on, by the ontology class of its device or server-side configuration."""

    END_DEVICE = DLOM.EndDevice.value
    """An end or edge device the model is deployed on (dlom:deployedOn): MLPerf Tiny boards, MLPerf
    Inference ``edge`` systems, AI Hub devices, and DLOM's benchmark hosts (a subclass)."""
    BENCHMARK_HOST = DLOM.BenchmarkHost.value
    """A machine DLOM itself measured on (dlom:deployedOn)."""
    CLOUD_CONFIGURATION = DLOM.CloudConfiguration.value
    """A server-side configuration the model uses (dlom:usesCloudConfiguration): MLPerf Inference
    ``datacenter`` systems."""


COMPUTE_UNITS = ("NPU", "GPU", "CPU")
"""The values of dlom:primaryComputeUnit (the ontology's closed set)."""


class UnknownFilterValue(QueryError):
    """A filter of a closed set named a value outside it; ``field`` is the ModelFilter field."""

    def __init__(self, field: str, value: str, allowed: Sequence[str]) -> None:
        self.field, self.value, self.allowed = field, value, tuple(allowed)
        super().__init__(f"{field}: {value!r} is not one of {', '.join(self.allowed)}")


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _closed_value(field: str, value: str, allowed: Mapping[str, str]) -> str:
    """The canonical value of ``allowed`` (folded spelling → canonical) that ``value`` names, matched
    ignoring case, spaces and punctuation; :class:`UnknownFilterValue` otherwise."""
    found = allowed.get(_fold(value))
    if found is None:
        raise UnknownFilterValue(field, value, list(dict.fromkeys(allowed.values())))
    return found


_SCENARIO_NAMES = {_fold(v): v for v in SCENARIOS.values()}
_COMPUTE_UNIT_NAMES = {_fold(v): v for v in COMPUTE_UNITS}
_DEVICE_CLASS_NAMES = {**{_fold(c.name): c.name for c in DeviceClass},
                       **{_fold(c.value.rsplit("#", 1)[1]): c.name for c in DeviceClass}}
IRI_TEXT = re.compile(r"^(https?://|urn:)\S+$")


@dataclass(frozen=True)
class ModelFilter:
    """What a model must satisfy to be listed. Empty fields do not filter; the fields combine with AND.

    ``devices``/``dlns``: the model is deployed on / uses any of these IRIs. ``technique_families``: the
    model applies a technique of every listed family. ``application_area``/``purpose``/
    ``label_contains``: case-insensitive substring of ``dlom:applicationArea`` / ``dlom:purpose`` /
    ``rdfs:label``. Ranges apply to the figures defined in the module docstring.

    What the importers record, filtered on exactly that:

    * ``scenario``: a performance record of the model has this ``dlom:scenario`` (MLPerf Inference:
      SingleStream, MultiStream, Offline, Server — a closed set, matched ignoring case);
    * ``compute_unit``: a performance record of the model has this ``dlom:primaryComputeUnit``
      (AI Hub Models: NPU, GPU, CPU — closed, ignoring case);
    * ``device_class``: the model is deployed on a device of this class, or uses a cloud configuration
      (:class:`DeviceClass`; a string names a member or its ontology class, ignoring case and spaces:
      ``END_DEVICE``, ``EndDevice``, ``end device``);
    * ``runtime``: the model's ``dlom:runtime`` equals it, ignoring case (AI Hub: tflite, qnn_dlc, onnx, ...);
    * ``precision`` (the data type): the model's ``dlom:precision`` (AI Hub: float, w8a8, w8a16, ...) or
      the ``dlom:quantizationScheme`` of a ``dlom:Quantization`` the model applies (MLPerf Inference's weight
      data types: int8, fp16, bf16, int4, ...; a mixed precision such as ``int8+fp16`` matches each of its
      parts) equals it, ignoring case;
    * ``form_factor``: the ``dlom:formFactor`` of the model's device equals it, ignoring case (AI Hub:
      Phone, Tablet, IoT, XR, Auto, Compute);
    * ``accelerator``: a case-insensitive substring of the ``dlom:accelerator`` of the model's device or
      the ``dlom:acceleratorModel`` of its cloud configuration (e.g. "A100", "Hexagon NPU"); given as an
      IRI (``http(s)://…``, ``urn:…``), the ``dlom:Hardware`` the device or configuration is
      (``dlom:hardware``) or sits on (``dlom:socHardware``).

    The open sets (runtime, precision, form factor, accelerator) are free text: a value no model has
    selects nothing. The closed ones raise :class:`UnknownFilterValue` for a value outside the set.
    """

    devices: tuple[str, ...] = ()
    dlns: tuple[str, ...] = ()
    technique_families: tuple[TechniqueFamily, ...] = ()
    application_area: str | None = None
    purpose: str | None = None
    label_contains: str | None = None
    cost_usd: Range | None = None
    latency_ms: Range | None = None
    accuracy: Range | None = None
    energy_uj: Range | None = None
    year: Range | None = None
    scenario: str | None = None
    accelerator: str | None = None
    precision: str | None = None
    device_class: DeviceClass | str | None = None
    runtime: str | None = None
    compute_unit: str | None = None
    form_factor: str | None = None

    def __post_init__(self) -> None:
        # canonical spellings, so equal filters are one cache key (kg.derived_results) and bad ones fail here
        if self.scenario is not None:
            object.__setattr__(self, "scenario", _closed_value("scenario", self.scenario, _SCENARIO_NAMES))
        if self.compute_unit is not None:
            object.__setattr__(self, "compute_unit",
                               _closed_value("compute_unit", self.compute_unit, _COMPUTE_UNIT_NAMES))
        if isinstance(self.device_class, str):
            object.__setattr__(self, "device_class",
                               DeviceClass[_closed_value("device_class", self.device_class, _DEVICE_CLASS_NAMES)])
        if self.accelerator is not None and IRI_TEXT.match(self.accelerator):
            _iri_terms([self.accelerator], "accelerator")


class ModelSortKey(Enum):
    LABEL = "label"
    LATENCY = "latency"
    ACCURACY = "accuracy"
    ENERGY = "energy"
    COST = "cost"
    YEAR = "year"


@dataclass(frozen=True)
class ModelRow:
    """One listed model with the figures it was filtered and sorted by (None: not computed or absent)."""

    iri: str
    label: str | None
    year: int | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    accuracy: float | None = None
    energy_uj: float | None = None


@dataclass(frozen=True)
class ModelPage:
    rows: list[ModelRow]
    offset: int
    has_next: bool
    total: int
    """How many models the whole listing (every page) holds."""


# The per-model figures: name → (aggregate over the pattern's variable, the pattern's variable,
# the pattern binding it for model ?m). Performance figures share one OPTIONAL over the model's
# non-predicted performance records.
_MODEL_FIGURES: dict[str, tuple[str, str, str]] = {
    "year": ("MIN", "y", "dlom:yearCreated"),
    "cost": ("MIN", "c", "dlom:totalCostUsd"),
}
_PERFORMANCE_FIGURES: dict[str, tuple[str, str, str]] = {
    "latency": ("MIN", "lat", "dlom:inferenceLatencyMs"),
    "accuracy": ("MAX", "acc", "dlom:accuracy"),
    "energy": ("MIN", "en", "dlom:energyPerInferenceUj"),
}
_FIGURES = {**_MODEL_FIGURES, **_PERFORMANCE_FIGURES}
FIGURE_FIELDS = {"year": "year", "cost": "cost_usd", "latency": "latency_ms", "accuracy": "accuracy",
                 "energy": "energy_uj"}
"""A figure's name → the :class:`ModelRow` field that holds it."""
SORT_FIGURE = {ModelSortKey.LATENCY: "latency", ModelSortKey.ACCURACY: "accuracy",
               ModelSortKey.ENERGY: "energy", ModelSortKey.COST: "cost", ModelSortKey.YEAR: "year"}
"""A sort key → the figure it sorts by (the label sort has none)."""


def _iri_terms(iris: Sequence[str], what: str) -> list[tuple[NamedNode]]:
    try:
        return [(NamedNode(iri),) for iri in iris]
    except ValueError as e:
        raise QueryError(f"{what}: not a valid IRI ({e})") from None


def _text_filter(predicate: str, variable: str, text: str) -> str:
    """A FILTER EXISTS that ?m has ``predicate`` containing ``text`` (case-insensitive)."""
    block = values_rows([variable], [(Literal(text),)])
    return (f"FILTER EXISTS {{ {block} ?m {predicate} ?{variable}_v . "
            f"FILTER(CONTAINS(LCASE(STR(?{variable}_v)), LCASE(?{variable}))) }}")


def _models_where(pattern: str) -> str:
    """A subquery of the models ``?m`` that ``pattern`` matches, joined to the listing: evaluated once, not
    once per model as a FILTER EXISTS is (which Oxigraph runs from its most selective pattern, ignoring
    the bound ?m: 50 s instead of 0.1 s on the shipped graph; for a technique family in memory, 135 s
    instead of 0.2 s)."""
    return f"{{ SELECT DISTINCT ?m WHERE {{ {pattern} }} }}"


def _equal_filter(variable: str, text: str, pattern: str) -> str:
    """The models whose ``pattern`` (which binds ``?v``) has a value equal to ``text``, ignoring case."""
    return _models_where(f"{values_rows([variable], [(Literal(text),)])} {pattern} "
                         f"FILTER(LCASE(STR(?v)) = LCASE(?{variable}))")


# A mixed precision as the MLPerf Inference importer writes it, 'mixed precision (int8+fp16)', folded to
# '+int8+fp16+' so that each part is found as '+<part>+'. The same rule twice: as SPARQL, and in Python
# for the listing over the facet index (decision.catalog_listing).
_PRECISION_PATTERN = ("{ ?m dlom:precision ?v } UNION "
                      "{ ?m dlom:appliesOptimization ?q . ?q a dlom:Quantization ; dlom:quantizationScheme ?v } "
                      "FILTER(LCASE(STR(?v)) = LCASE(?prec) || CONTAINS(REPLACE(LCASE(STR(?v)), "
                      "\"^mixed precision [(](.*)[)]$\", \"+$1+\"), CONCAT(\"+\", LCASE(?prec), \"+\")))")
_MIXED_PRECISION = re.compile(r"mixed precision [(](.*)[)]")


def precision_matches(value: str, wanted: str) -> bool:
    """Whether a recorded precision ``value`` (lower-cased) is the ``wanted`` one (lower-cased), as
    :data:`_PRECISION_PATTERN` tests it: equal, or one part of a mixed precision."""
    mixed = _MIXED_PRECISION.fullmatch(value)
    return value == wanted or f"+{wanted}+" in (f"+{mixed.group(1)}+" if mixed else value)


def _deployment_filters(flt: ModelFilter) -> list[str]:
    """The subqueries of the scenario, compute unit, device class, runtime, precision, form factor and
    accelerator filters (see :class:`ModelFilter`)."""
    out: list[str] = []
    if flt.scenario is not None:
        out.append(_models_where(f"{values_rows(['scenario'], [(Literal(flt.scenario),)])} "
                                 "?p dlom:scenario ?scenario . ?m dlom:hasPerformance ?p"))
    if flt.compute_unit is not None:
        out.append(_models_where(f"{values_rows(['unit'], [(Literal(flt.compute_unit),)])} "
                                 "?p dlom:primaryComputeUnit ?unit . ?m dlom:hasPerformance ?p"))
    if isinstance(flt.device_class, DeviceClass):
        out.append(_models_where(f"{values_rows(['class'], [(NamedNode(flt.device_class.value),)])} ?d a ?class . "
                                 "{ ?m dlom:deployedOn ?d } UNION { ?m dlom:usesCloudConfiguration ?d }"))
    if flt.runtime:
        out.append(_equal_filter("runtime", flt.runtime, "?m dlom:runtime ?v ."))
    if flt.precision:
        out.append(_models_where(f"{values_rows(['prec'], [(Literal(flt.precision),)])} {_PRECISION_PATTERN}"))
    if flt.form_factor:
        out.append(_equal_filter("ff", flt.form_factor, "?d dlom:formFactor ?v . ?m dlom:deployedOn ?d ."))
    if flt.accelerator and IRI_TEXT.match(flt.accelerator):
        out.append(_models_where(f"{values_rows(['hw'], _iri_terms([flt.accelerator], 'accelerator'))} "
                                 "{ ?d dlom:hardware ?hw } UNION { ?d dlom:socHardware ?hw } "
                                 "{ ?m dlom:deployedOn ?d } UNION { ?m dlom:usesCloudConfiguration ?d }"))
    elif flt.accelerator:
        out.append(_models_where(f"{values_rows(['acc'], [(Literal(flt.accelerator),)])} "
                                 "{ ?m dlom:deployedOn ?d . ?d dlom:accelerator ?v } UNION "
                                 "{ ?m dlom:usesCloudConfiguration ?d . ?d dlom:acceleratorModel ?v } "
                                 "FILTER(CONTAINS(LCASE(STR(?v)), LCASE(?acc)))"))
    return out


def figure_ranges(flt: ModelFilter) -> dict[str, Range]:
    """The figures (names of :data:`FIGURE_FIELDS`) the filter bounds, with their ranges."""
    ranges = {"cost": flt.cost_usd, "latency": flt.latency_ms, "accuracy": flt.accuracy, "energy": flt.energy_uj,
              "year": flt.year}
    return {name: rng for name, rng in ranges.items() if rng is not None and not rng.is_open}


def listed_figures(flt: ModelFilter, sort: ModelSortKey) -> frozenset[str]:
    """The figures a listing computes (and its rows show; the others are None): those the filter bounds
    and the one it is sorted by."""
    return frozenset({*figure_ranges(flt), *([SORT_FIGURE[sort]] if sort in SORT_FIGURE else [])})


def model_list_query(flt: ModelFilter, sort: ModelSortKey) -> str:
    """The SPARQL text of :func:`find_models`: every model matching ``flt``, unordered, with the
    figures the filter and the sort need."""
    needed = listed_figures(flt, sort)
    inner: list[str] = ["?m a dlom:Model .", "OPTIONAL { ?m rdfs:label ?lab }"]
    if flt.devices:
        inner.append(_models_where(f"{values_rows(['dev'], _iri_terms(flt.devices, 'device'))} ?m dlom:deployedOn ?dev"))
    if flt.dlns:
        inner.append(_models_where(f"{values_rows(['dln'], _iri_terms(flt.dlns, 'dln'))} ?m dlom:usesDLN ?dln"))
    for family in dict.fromkeys(flt.technique_families):
        block = values_rows(["fam"], [(NamedNode(family.value),)])
        inner.append(_models_where(f"{block} ?tech a ?fam . ?m dlom:appliesOptimization ?tech"))
    if flt.application_area:
        inner.append(_text_filter("dlom:applicationArea", "area", flt.application_area))
    if flt.purpose:
        inner.append(_text_filter("dlom:purpose", "purpose", flt.purpose))
    if flt.label_contains:
        inner.append(_text_filter("rdfs:label", "labeltext", flt.label_contains))
    inner += _deployment_filters(flt)
    aggregates = ["(MIN(STR(?lab)) AS ?label)"]
    for name, (function, var, predicate) in _MODEL_FIGURES.items():
        if name in needed:
            aggregates.append(f"({function}(?{var}) AS ?{name})")
            inner.append(f"OPTIONAL {{ ?m {predicate} ?{var} }}")
    for name, (function, var, predicate) in _PERFORMANCE_FIGURES.items():
        if name in needed:
            # One OPTIONAL per figure, each requiring its value: under one OPTIONAL of the records, a record
            # without the figure (an accuracy record, when the figure is latency) binds nothing, and the
            # engine's MIN over a group with an unbound row is unbound — the model would have no figure.
            aggregates.append(f"({function}(?{var}) AS ?{name})")
            inner.append(f"OPTIONAL {{ ?m dlom:hasPerformance ?{var}_perf . ?{var}_perf {predicate} ?{var} . "
                         f"FILTER NOT EXISTS {{ ?{var}_perf a dlom:PredictedPerformance }} "
                         f"FILTER NOT EXISTS {{ ?{var}_perf a dlom:CopiedPerformance }} }}")

    # Range bounds enter as VALUES-bound variables; grouping by them (each has one value) makes them
    # visible to HAVING, so the whole listing is one flat GROUP BY query (the same query as a subquery under
    # an outer FILTER measured 10-50% slower).
    bounds: list[str] = []
    having: list[str] = []
    for name, rng in figure_ranges(flt).items():
        function, var, _ = _FIGURES[name]
        aggregate = f"{function}(?{var})"
        for end, op, value in (("min", ">=", rng.minimum), ("max", "<=", rng.maximum)):
            if value is None:
                continue
            inner.insert(0, values_rows([f"{name}_{end}"], [(literal(float(value)),)]))
            bounds.append(f"?{name}_{end}")
            having.append(f"({aggregate} {op} ?{name}_{end})")

    return (
        f"{SPARQL_PREFIXES}SELECT ?m {' '.join(aggregates)} WHERE {{\n  " + "\n  ".join(inner) + "\n}\n"
        + f"GROUP BY ?m {' '.join(bounds)}\n"
        + (f"HAVING ({' && '.join(having)})\n" if having else "")
    )


def find_models(
    store: Store,
    flt: ModelFilter | None = None,
    sort: ModelSortKey = ModelSortKey.LABEL,
    descending: bool = False,
    offset: int = 0,
    limit: int = 20,
    timeout_s: float | None = None,
) -> ModelPage:
    """One page of the models that satisfy ``flt``, in ``sort`` order, starting at ``offset``.

    ``has_next`` says whether models follow the page. The label order is case-insensitive (Unicode case
    folding); models without the sort figure come last; ties go by IRI. The whole order is one store
    query, kept until the store changes (:mod:`kg.derived_results`), so the following pages of a
    listing are slices of it rather than new queries.
    """
    if offset < 0 or limit < 1:
        raise QueryError(f"invalid page: offset {offset} must be >= 0 and limit {limit} >= 1")
    flt = flt or ModelFilter()
    ordered = derived(store, ("catalog.models", flt, sort, descending),
                      lambda: _ordered_models(store, flt, sort, descending, timeout_s), DLOM_VOCABULARIES)
    window = ordered[offset : offset + limit + 1]
    return ModelPage(rows=list(window[:limit]), offset=offset, has_next=len(window) > limit, total=len(ordered))


ListingSource = Callable[[Store, ModelFilter, ModelSortKey, bool], "Sequence[ModelRow] | None"]
"""A faster way to the whole order of a listing — what :func:`find_models` slices pages from — that
must give the rows the store query gives, or None where it cannot (the query answers)."""
_listing_sources: list[ListingSource] = []


def add_listing_source(source: ListingSource) -> None:
    """Have :func:`find_models` ask ``source`` before it queries the store (once per source; the
    decision support's facet index registers one, :mod:`decision.catalog_listing`)."""
    if source not in _listing_sources:
        _listing_sources.append(source)


def warm_model_listing(store: Store) -> None:
    """Compute the default listing of models (every model, label order) and keep it (see
    :func:`find_models`), so the first page any client asks for is a slice of it. On the shipped graph
    the listing takes one to two seconds; a server starts this in the background at start-up."""
    find_models(store, limit=1)


def _ordered_models(store: Store, flt: ModelFilter, sort: ModelSortKey, descending: bool,
                    timeout_s: float | None) -> Sequence[ModelRow]:
    model_list_query(flt, sort)  # first: a bad filter fails here alike on every path
    for source in _listing_sources:
        found = source(store, flt, sort, descending)
        if found is not None:
            return found
    return query_listing(store, flt, sort, descending, timeout_s)


def query_listing(store: Store, flt: ModelFilter, sort: ModelSortKey = ModelSortKey.LABEL, descending: bool = False,
                  timeout_s: float | None = None) -> tuple[ModelRow, ...]:
    """Every model satisfying ``flt`` in :func:`find_models`' order, by the store query alone (what a
    listing source must give; parity tests and benchmarks compare the two)."""
    # Sorted here rather than by ORDER BY: Oxigraph sorts the whole match either way (there is no
    # index order to read a page from), and decodes both strings at every comparison of labels, which
    # costs about twice what sorting them here does (measured on ~45k models).
    result = store.select(model_list_query(flt, sort), timeout_s=timeout_s)
    rows = sorted(_model_rows(result), key=lambda r: r.iri)
    if sort is ModelSortKey.LABEL:
        figure = lambda r: r.label.casefold() if r.label is not None else None  # noqa: E731
    else:
        figure = lambda r: getattr(r, FIGURE_FIELDS[SORT_FIGURE[sort]])  # noqa: E731
    present = sorted((r for r in rows if figure(r) is not None), key=figure, reverse=descending)  # stable: IRI order within ties
    return tuple(present + [r for r in rows if figure(r) is None])


def _model_rows(result: Solutions) -> Iterator[ModelRow]:
    index = {v: i for i, v in enumerate(result.variables)}

    def value(row: tuple, name: str) -> Any:
        i = index.get(name)
        return to_python(row[i]) if i is not None else None

    for row in result.rows:
        yield ModelRow(iri=row[index["m"]].value, label=value(row, "label"), year=_int_or_none(value(row, "year")),
                       cost_usd=value(row, "cost"), latency_ms=value(row, "latency"), accuracy=value(row, "accuracy"),
                       energy_uj=value(row, "energy"))


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


# -- entities by IRI -----------------------------------------------------------------------------


def properties_of(store: Store, iris: Sequence[str], timeout_s: float | None = None) -> dict[str, PropertyMap]:
    """Every (predicate → objects) the store holds for each IRI; IRIs with nothing are left out.

    One query per :data:`BATCH_SIZE` IRIs.
    """
    unique = list(dict.fromkeys(iris))
    found: dict[str, PropertyMap] = {}
    for start in range(0, len(unique), BATCH_SIZE):
        block = values_rows(["s"], _iri_terms(unique[start : start + BATCH_SIZE], "id"))
        result = store.select(f"SELECT ?s ?p ?o WHERE {{ {block} ?s ?p ?o }}", timeout_s=timeout_s)
        for s, p, o in result.rows:
            found.setdefault(s.value, {}).setdefault(p.value, []).append(o)
    return found


def _records(store: Store, cls: type[R], iris: Sequence[str], timeout_s: float | None) -> dict[str, R]:
    return {iri: record_from_properties(cls, iri, props) for iri, props in properties_of(store, iris, timeout_s).items()}


def models_by_iri(store: Store, iris: Sequence[str], timeout_s: float | None = None) -> dict[str, ModelRecord]:
    """The models among ``iris`` (one query per batch); unknown IRIs are left out."""
    return _records(store, ModelRecord, iris, timeout_s)


def dlns_by_iri(store: Store, iris: Sequence[str], timeout_s: float | None = None) -> dict[str, DLNRecord]:
    return _records(store, DLNRecord, iris, timeout_s)


def devices_by_iri(store: Store, iris: Sequence[str], timeout_s: float | None = None) -> dict[str, EndDeviceRecord]:
    return _records(store, EndDeviceRecord, iris, timeout_s)


def techniques_by_iri(store: Store, iris: Sequence[str], timeout_s: float | None = None) -> dict[str, TechniqueRecord]:
    return _records(store, TechniqueRecord, iris, timeout_s)


def cloud_configurations_by_iri(
    store: Store, iris: Sequence[str], timeout_s: float | None = None
) -> dict[str, CloudConfigurationRecord]:
    return _records(store, CloudConfigurationRecord, iris, timeout_s)


def frameworks_by_iri(store: Store, iris: Sequence[str], timeout_s: float | None = None) -> dict[str, FrameworkRecord]:
    return _records(store, FrameworkRecord, iris, timeout_s)


# Each field where it may hang (off the run, or off the record) in an OPTIONAL of its own: an OPTIONAL
# over a UNION of the two is evaluated by reading every triple of the predicate (1.1 s instead of 6 ms for
# a 50-record page on the shipped graph).
_PROVENANCE_QUERY = SPARQL_PREFIXES + """
SELECT ?p ?run ?runLabel ?round_run ?round_p ?division_run ?division_p ?submitter_run ?submitterLabel_run
       ?submitter_p ?submitterLabel_p ?source WHERE {
  %s
  ?p prov:wasGeneratedBy ?run .
  OPTIONAL { ?run rdfs:label ?runLabel }
  OPTIONAL { ?run dlom:benchmarkRound ?round_run } OPTIONAL { ?p dlom:benchmarkRound ?round_p }
  OPTIONAL { ?run dlom:division ?division_run } OPTIONAL { ?p dlom:division ?division_p }
  OPTIONAL { ?run prov:wasAssociatedWith ?submitter_run OPTIONAL { ?submitter_run rdfs:label ?submitterLabel_run } }
  OPTIONAL { ?p prov:wasAttributedTo ?submitter_p OPTIONAL { ?submitter_p rdfs:label ?submitterLabel_p } }
  OPTIONAL { ?p prov:wasDerivedFrom ?src .
             OPTIONAL { ?src dlom:sourcePath ?srcPath } OPTIONAL { ?src rdfs:label ?srcLabel }
             BIND(COALESCE(?srcPath, ?srcLabel, STR(?src)) AS ?source) }
}"""


def provenance_of(store: Store, performance_iris: Sequence[str], timeout_s: float | None = None) -> dict[str, ProvenanceRecord]:
    """Provenance of each performance record (one query per batch): its run, and the round, division and
    submitter of the run or of the record itself. Where a record has several values of a field the
    smallest is taken, so the answer does not depend on store order."""
    unique = list(dict.fromkeys(performance_iris))
    rows_by_iri: dict[str, list[dict]] = {}
    for start in range(0, len(unique), BATCH_SIZE):
        block = values_rows(["p"], _iri_terms(unique[start : start + BATCH_SIZE], "performance"))
        result = store.select(_PROVENANCE_QUERY % block, timeout_s=timeout_s)
        for row in result.dicts():
            rows_by_iri.setdefault(row["p"].value, []).append(row)

    def smallest(rows: list[dict], *variables: str) -> str | None:
        values = sorted(to_python(r[v]) for r in rows for v in variables if v in r)
        return str(values[0]) if values else None

    return {
        iri: ProvenanceRecord(
            activity_iri=smallest(rows, "run"),
            activity_label=smallest(rows, "runLabel"),
            round=smallest(rows, "round_run", "round_p"),
            division=smallest(rows, "division_run", "division_p"),
            submitter_iri=smallest(rows, "submitter_run", "submitter_p"),
            submitter_label=smallest(rows, "submitterLabel_run", "submitterLabel_p"),
            sources=tuple(sorted({str(to_python(r["source"])) for r in rows if "source" in r})),
        )
        for iri, rows in rows_by_iri.items()
    }


def performances_by_iri(store: Store, iris: Sequence[str], timeout_s: float | None = None) -> dict[str, PerformanceRecord]:
    """Performance records with their provenance (two queries per batch)."""
    properties = properties_of(store, iris, timeout_s)
    provenance = provenance_of(store, list(properties), timeout_s)
    return {
        iri: record_from_properties(PerformanceRecord, iri, props, provenance=provenance.get(iri, ProvenanceRecord()))
        for iri, props in properties.items()
    }

