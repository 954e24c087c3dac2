"""The facet index: what retrieval and ranking read of every model, as columns (issue 18).

The candidate query (:func:`decision.retrieval.build_query`) reads a candidate's attributes row by row
out of a triple store without range indexes; on the shipped graph (42k models, 1.4M quads) that is the
whole cost of a first recommendation. This index holds, per model (rows ordered by IRI), what the query
tests and fetches — its DLN, device, cloud configuration and their attributes
(:data:`decision.retrieval.PROPERTIES` and the device's price), the device description and frameworks
the device-type and framework filters search, whether it runs on a benchmark host — and one row per
(model, performance record) with the record's kind and metrics; plus each model's techniques, their
classes and precisions, what :mod:`decision.diversity` groups near-identical variants by (DLN family,
hardware), what :mod:`decision.measured_effects` pairs measurements by (the model's DLN, device,
precision, runtime, component and release; a record's peak memory, metric and context), one row per
(model, dlom:Rating) with the rating's objective and value (:func:`decision.ratings.candidate_ratings`),
and what the catalog's model listing filters and sorts by, with that query's semantics — every value a
model has, its figures aggregated as the query aggregates them (:data:`LISTING_TEXTS`,
:data:`LISTING_NUMBERS`; :mod:`decision.catalog_listing` answers the GraphQL and REST listings from them).
:func:`candidates_from_index` evaluates a :class:`decision.retrieval.QueryPlan` over it with numpy masks,
each requirement's test taken from its row of the requirement table
(:meth:`Requirement.matches_column` for numbers, :meth:`Requirement.matches` once per distinct text),
and gives the same :class:`CandidateSet` as the query (``tests/test_facet_index.py`` holds the two to it).

Derived, never written: built from the store with a dozen bulk SELECTs (:func:`build_index`), kept per
generation of DLOM's vocabularies, and brought forward after a validated write (:mod:`kg.writes`
notices) by re-reading only the models the write touched; after any other change (a SPARQL update, a
removal) it is rebuilt in the background while the query answers. SPARQL stays the source of truth:
where a model is irregular — an attribute the query treats as one value recorded twice, a number that is
not a numeric literal, two DLNs, devices or cloud configurations — the columns could not say what the
query's row-by-row semantics give, so the index answers nothing and the query runs. Stores without a
generation (Neo4j, a remote SPARQL endpoint: others write to them) get no index and always run the query.

Why numpy and not pyarrow or DuckDB: what consumes the columns (the objective matrix, Eq. 1, the Pareto
front) is numpy already, the masks are a handful of vectorized comparisons, and texts are
dictionary-encoded (:class:`decision.encoded_column.EncodedColumn`: int32 codes into a list of distinct
values, as Arrow's dictionary arrays are), so a text test runs once per distinct value. pyarrow is not
installed here and would add a dependency and a conversion to numpy per query; DuckDB would add a second
engine whose SQL semantics would need their own parity. ``benchmarks/decision_recommend.py`` prints the
build time, the memory per million models and the answer times beside the bare SPARQL query and numpy Eq. 1.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from pyoxigraph import NamedNode

from decision.encoded_column import EncodedColumn
from decision.requirement_table import BY_PATH, DEVICE_DESCRIPTION, FRAMEWORK_PROPERTY, Comparison, Requirement, device_description
from decision.retrieval import (PERF_METRICS, PRICE, PROPERTIES, TEXT_VARS, CandidateQuery, CandidateSet, QueryPlan,
                                RecordLists, technique_columns)
from kg.binding import values_rows
from kg.catalog.queries import DeviceClass
from kg.catalog.records import TechniqueFamily
from kg.errors import DlomError
from kg.namespaces import DLOM_VOCABULARIES, PREFIXES, SPARQL_PREFIXES
from kg.store import Store
from kg.writes import WriteNotice, add_write_listener

log = logging.getLogger(__name__)

_XSD = PREFIXES["xsd"]
_NUMERIC = {_XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                               "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                               "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}
_BOOLEAN = _XSD + "boolean"
_RDF_TYPE = PREFIXES["rdf"] + "type"
_HOST = PREFIXES["dlom"] + "BenchmarkHost"
_MEASURED = PREFIXES["dlom"] + "MeasuredPerformance"
_PREDICTED = PREFIXES["dlom"] + "PredictedPerformance"
_COPIED = PREFIXES["dlom"] + "CopiedPerformance"
_STRING = _XSD + "string"

MAX_INCREMENTAL_MODELS = 2000
"""A write touching more models than this rebuilds the index (re-reading them one by one would not be cheaper)."""


def _iri(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return PREFIXES[prefix] + local


# What is read of each node: the query's properties by the node they hang off (the model, its DLN,
# device, cloud configuration, performance record), plus the device's price and description.
_NODE_VARS: dict[str, dict[str, str]] = defaultdict(dict)  # node → property IRI → variable
for _var, (_node, _prop) in PROPERTIES.items():
    _NODE_VARS[_node][_iri(_prop)] = _var
_NODE_VARS["dev"][_iri(PRICE)] = "price"
_DESCRIPTION = tuple(_iri(p) for _, p in DEVICE_DESCRIPTION)
_FAMILY, _HARDWARE = _iri("dlom:architectureFamily"), _iri("dlom:hardware")  # what variants share (diversity)
_LINKS = {"dln": "dlom:usesDLN", "dev": "dlom:deployedOn", "cloud": "dlom:usesCloudConfiguration",
          "perf": "dlom:hasPerformance", "rating": "dlom:hasRating", "tech": "dlom:appliesOptimization"}
_MODEL_NUMBERS = tuple(sorted(v for n in ("m", "dln", "dev", "cloud") for v in _NODE_VARS[n].values()
                              if v not in TEXT_VARS))
_MODEL_TEXTS = tuple(sorted(v for n in ("m", "dln", "dev", "cloud") for v in _NODE_VARS[n].values() if v in TEXT_VARS))
_PERF_VARS = tuple(sorted(_NODE_VARS["perf"].values()))
assert set(_PERF_VARS) <= set(PERF_METRICS), "a performance property the candidate set does not average"
# What decision.measured_effects pairs measurements by and compares, beside what retrieval reads: the
# model's configuration (texts), a record's peak memory, metric and context (a long-context record is
# not the model's plain latency).
_EFFECT_MODEL_TEXTS = {_iri("dlom:precision"): "precision", _iri("dlom:runtime"): "runtime",
                       _iri("dlom:component"): "component", _iri("dlom:benchmarkRound"): "round"}
_EFFECT_PERF_NUMBERS = {_iri("dlom:memoryMaxMb"): "memoryMax", _iri("dlom:metricValue"): "metricValue"}
_EFFECT_PERF_TEXTS = {_iri("dlom:accuracyMetric"): "metric", _iri("dlom:metricUnit"): "metricUnit"}
_CHART_PERF_TEXTS = {_iri("dlom:predictorVersion"): "version"}  # what decision.chart_data shows of a prediction
_PERF_TEXT_PROPERTIES = _EFFECT_PERF_TEXTS | _CHART_PERF_TEXTS
_CONTEXT = _iri("dlom:contextLength")
# What decision.ratings averages: each dlom:Rating's objective and value.
_RATED_OBJECTIVE, _RATING_VALUE = _iri("dlom:ratedObjective"), _iri("dlom:ratingValue")
_LINKED_TEXTS = ("dln", "dev")  # the IRIs of the model's DLN and device, as texts
TEXTS = (*_MODEL_TEXTS, *sorted(_EFFECT_MODEL_TEXTS.values()), *_LINKED_TEXTS)
"""The model-level text columns (:attr:`FacetIndex.texts`)."""
PERF_NUMBERS = (*_PERF_VARS, *sorted(_EFFECT_PERF_NUMBERS.values()))
"""The record-level number columns (:attr:`FacetIndex.perf_numbers`)."""
PERF_TEXTS = tuple(sorted(_PERF_TEXT_PROPERTIES.values()))
"""The record-level text columns (:attr:`FacetIndex.perf_texts`)."""
# What kg.catalog's model listing filters and sorts by (kg.catalog.queries.ModelFilter), read with the
# listing query's semantics: every value a model has (a set, not the one value retrieval reads), texts
# lower-cased where the filter ignores case; figures aggregated as the query aggregates them.
_LABEL = _iri("rdfs:label")
_LISTED_MODEL = {_LABEL: "labels", _iri("dlom:applicationArea"): "areas", _iri("dlom:purpose"): "purposes",
                 _iri("dlom:runtime"): "runtimes", _iri("dlom:precision"): "precisions"}
_LISTED_MODEL_FIGURES = {_iri("dlom:yearCreated"): "year", _iri("dlom:totalCostUsd"): "cost"}
_LISTED_PERF = {_iri("dlom:scenario"): "scenarios", _iri("dlom:primaryComputeUnit"): "compute_units"}
_LISTED_PERF_FIGURES = {_iri("dlom:inferenceLatencyMs"): ("latency", min), _iri("dlom:accuracy"): ("accuracy", max),
                        _iri("dlom:energyPerInferenceUj"): ("energy", min)}
_FORM_FACTOR, _ACCELERATOR = _iri("dlom:formFactor"), _iri("dlom:accelerator")
_ACCELERATOR_MODEL, _SOC_HARDWARE = _iri("dlom:acceleratorModel"), _iri("dlom:socHardware")
_BENCHMARK, _PURPOSE, _PROCESSOR = _iri("dlom:benchmark"), _iri("dlom:purpose"), _iri("dlom:processor")
_QUANTIZATION, _SCHEME = _iri("dlom:Quantization"), _iri("dlom:quantizationScheme")
_DEVICE_CLASSES = tuple(c.value for c in DeviceClass)
_FAMILIES = tuple(f.value for f in TechniqueFamily)
LISTING_NUMBERS = ("accuracy", "cost", "energy", "latency", "year")
"""The listing's figures (:attr:`FacetIndex.listing_numbers`), as kg.catalog.queries defines them."""
LISTING_TEXTS = ("label", "labels", "areas", "purposes", "runtimes", "precisions", "scenarios", "compute_units",
                 "devices", "dlns", "families", "device_classes", "form_factors", "accelerators", "hardware",
                 "benchmark", "purpose", "device_label", "processor", "technique_iris")
"""The listing's texts (:attr:`FacetIndex.listing_texts`) and what the charts show of a model
(:mod:`decision.chart_data`): 'label', 'benchmark', 'purpose', 'device_label' and 'processor' are the least
value (of the model, of its devices); the others are frozensets of every value the model has."""


@dataclass(frozen=True)
class FacetIndex:
    """Columns over the models (rows in IRI order) and their performance records (rows in (model, IRI)
    order). NaN / code -1: not recorded. Read-only once built."""

    generation: int  # of DLOM's vocabularies, when it was read
    iris: list[str]
    numbers: dict[str, np.ndarray]  # model-level numbers: :data:`_MODEL_NUMBERS` (shielded: 1/0)
    texts: dict[str, EncodedColumn]  # model-level texts: :data:`TEXTS`
    has_dev: np.ndarray
    has_cloud: np.ndarray
    on_host: np.ndarray
    device_text: EncodedColumn  # the device's description (decision.requirement_table.device_description)
    frameworks: EncodedColumn  # the normalized labels and families of its and its device's frameworks, a frozenset
    any_framework: np.ndarray  # it or its device uses a framework (labelled or not)
    perf_model: np.ndarray  # the record's model row
    perf_iri: list[str]
    perf_predicted: np.ndarray  # a dlom:PredictedPerformance (else a dlom:MeasuredPerformance)
    perf_numbers: dict[str, np.ndarray]  # :data:`PERF_NUMBERS`
    perf_texts: dict[str, EncodedColumn]  # :data:`PERF_TEXTS`
    perf_in_context: np.ndarray  # the record states a dlom:contextLength
    only_predicted: np.ndarray  # every record of the model is predicted (an unmeasured model)
    techniques: np.ndarray
    technique_classes: EncodedColumn  # a frozenset of class IRIs
    technique_precisions: EncodedColumn  # a frozenset of the techniques' dlom:precision values (measured effects)
    variant: EncodedColumn  # what decision.diversity groups by: (DLN IRI, its architecture families, its hardware)
    rating_model: np.ndarray  # per (model, dlom:Rating) row, in (model, rating IRI) order: the model's row
    rating_objective: EncodedColumn  # the rating's dlom:ratedObjective IRI
    rating_value: np.ndarray  # its dlom:ratingValue
    irregular: dict[str, str] = field(default_factory=dict)  # model IRI → why the columns cannot stand for it
    build_ms: float = 0.0
    listing_numbers: dict[str, np.ndarray] = field(default_factory=dict)  # :data:`LISTING_NUMBERS`
    listing_texts: dict[str, EncodedColumn] = field(default_factory=dict)  # :data:`LISTING_TEXTS`
    unlisted: dict[str, str] = field(default_factory=dict)  # model IRI → why the listing columns cannot stand for it
    unplotted: dict[str, str] = field(default_factory=dict)  # model IRI → why its record columns cannot stand for a record

    def __len__(self) -> int:
        return len(self.iris)

    @cached_property
    def rows(self) -> dict[str, int]:
        """Model IRI → its row."""
        return {iri: k for k, iri in enumerate(self.iris)}

    @cached_property
    def iri_array(self) -> np.ndarray:
        """:attr:`iris` as an object array: a candidate set's IRIs are taken by fancy indexing, about
        twice as fast as a Python loop over 42k rows."""
        return np.array(self.iris, dtype=object)

    @cached_property
    def perf_iri_array(self) -> np.ndarray:
        """:attr:`perf_iri` as an object array (see :attr:`iri_array`)."""
        return np.array(self.perf_iri, dtype=object)

    @cached_property
    def label_order(self) -> np.ndarray:
        """Each model's place in the case-folded order of the listing labels (NaN: no label); equal folds,
        equal places — what the listing sorts by label on (:mod:`decision.catalog_listing`)."""
        labels = self.listing_texts["label"]
        folded = [v.casefold() for v in labels.values]
        place = {f: k for k, f in enumerate(sorted(set(folded)))}
        of_value = np.array([place[f] for f in folded] + [np.nan], dtype=float)  # code -1 reads the NaN
        return of_value[labels.codes]

    def nbytes(self) -> int:
        """The memory of the columns and their distinct values (IRIs and texts counted as Python strings)."""
        arrays = [*self.numbers.values(), *self.perf_numbers.values(), self.has_dev, self.has_cloud, self.on_host,
                  self.any_framework, self.perf_model, self.perf_predicted, self.perf_in_context,
                  self.only_predicted, self.techniques, self.rating_model, self.rating_value,
                  *self.listing_numbers.values()]
        texts = [*self.texts.values(), *self.perf_texts.values(), self.device_text, self.frameworks,
                 self.technique_classes, self.technique_precisions, self.variant, self.rating_objective,
                 *self.listing_texts.values()]
        total = sum(a.nbytes for a in arrays) + sum(t.codes.nbytes for t in texts)
        total += sum(sys.getsizeof(s) for s in self.iris) + sum(sys.getsizeof(s) for s in self.perf_iri)
        for t in texts:
            for v in t.values:
                total += _size(v)
        return total


def _size(value: Any) -> int:
    if isinstance(value, tuple | frozenset):
        return sys.getsizeof(value) + sum(_size(x) for x in value)
    return sys.getsizeof(value)


# -- reading ------------------------------------------------------------------------------------------

@dataclass
class _Model:
    """One model as read, before it becomes a row."""

    links: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _scope(iris: Iterable[str] | None) -> str:
    """The SPARQL fragment binding ?m to the models read: all of them, or the named ones."""
    if iris is None:
        return "?m a dlom:Model ."
    return values_rows(["m"], [(NamedNode(i),) for i in iris]) + " ?m a dlom:Model ."


def _select(store: Store, text: str) -> list[tuple]:
    return list(store.select(SPARQL_PREFIXES + text).rows)


def _attributes(store: Store, iris: Sequence[str] | None, nodes: Sequence[str], properties: Iterable[str]
                ) -> dict[str, dict[str, list]]:
    """subject → property IRI → its objects, for the ``nodes`` (the model itself, 'm', or what it links
    to) of the models read (every model: ``iris`` None).

    Measured on the shipped graph: the model's and the records' properties are fastest scanned whole
    (``VALUES ?p``; rows of other subjects are never looked up), the few nodes many models share (DLNs,
    devices) along the links with ``FILTER(?p IN ...)`` — a ``VALUES ?p`` after a join is evaluated
    many times slower by the engine, and a scan of rdfs:label would read every label of the graph."""
    properties = sorted(properties)
    values = " ".join(f"<{p}>" for p in properties)
    listed = ", ".join(f"<{p}>" for p in properties)
    scope = _scope(iris) if iris is not None else ""
    texts = []
    for n in nodes:
        if iris is None and n in ("m", "perf"):
            texts.append(f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} ?s ?p ?o }}")
        elif n == "m":
            texts.append(f"SELECT ?m ?p ?o WHERE {{ {scope} ?m ?p ?o FILTER(?p IN ({listed})) }}")
        else:
            texts.append(f"SELECT DISTINCT ?s ?p ?o WHERE {{ {scope} ?m {_LINKS[n]} ?s . ?s ?p ?o "
                         f"FILTER(?p IN ({listed})) }}")
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for text in texts:
        for subject, p, o in _select(store, text):
            if o not in out[subject.value][p.value]:  # a DLN shared by the models read comes once
                out[subject.value][p.value].append(o)
    return out


def _typed(store: Store, iris: Sequence[str] | None, node: str, classes: Sequence[str]) -> dict[str, set[str]]:
    """subject → which of ``classes`` it is an instance of, for the ``node`` of the models read."""
    values = " ".join(f"<{c}>" for c in classes)
    scope = "" if iris is None else f"{_scope(iris)} ?m {_LINKS[node]} ?s ."
    out: dict[str, set[str]] = defaultdict(set)
    for subject, kind in _select(store, f"SELECT DISTINCT ?s ?k WHERE {{ {scope} VALUES ?k {{ {values} }} ?s a ?k }}"):
        out[subject.value].add(kind.value)
    return out


def _number(terms: list, var: str) -> tuple[float, str | None]:
    """(the value, why it is irregular or None) of a numeric (or boolean: 'shielded') attribute."""
    if not terms:
        return np.nan, None
    if len(terms) > 1:
        return np.nan, f"{var} recorded {len(terms)} times"
    t = terms[0]
    datatype = getattr(getattr(t, "datatype", None), "value", None)
    if var == "shielded":
        if datatype != _BOOLEAN or t.value not in ("true", "false", "1", "0"):
            return np.nan, f"{var} is not a boolean literal"
        return (1.0 if t.value in ("true", "1") else 0.0), None
    if datatype not in _NUMERIC:
        return np.nan, f"{var} is not a numeric literal"
    try:
        return float(t.value), None
    except ValueError:
        return np.nan, f"{var} is not a number"


def _text(terms: list, var: str) -> tuple[str | None, str | None]:
    if len(terms) > 1:
        return None, f"{var} recorded {len(terms)} times"
    return (terms[0].value if terms else None), None


def _read(store: Store, iris: Iterable[str] | None) -> tuple[list[str], dict[str, Any]]:
    """The rows of the models in scope (all, or ``iris``), as Python lists per column, IRI order."""
    iris = None if iris is None else list(iris)
    scope = _scope(iris)
    # every link is read whole when every model is (the models are those with a DLN, read first)
    linked = scope if iris is not None else ""
    models: dict[str, _Model] = defaultdict(_Model)
    typed = {m.value for (m,) in _select(store, f"SELECT ?m WHERE {{ {scope} }}")}
    for m, dln in _select(store, f"SELECT ?m ?dln WHERE {{ {linked} ?m dlom:usesDLN ?dln }}"):
        if m.value in typed:
            models[m.value].links["dln"].append(dln.value)
    for node in ("dev", "cloud", "perf", "rating", "tech"):
        for m, o in _select(store, f"SELECT ?m ?o WHERE {{ {linked} ?m {_LINKS[node]} ?o }}"):
            if m.value in models:
                models[m.value].links[node].append(o.value)
    order = sorted(models)
    scan = iris is None
    attrs = {"m": _attributes(store, iris, ["m"], {*_NODE_VARS["m"], *_EFFECT_MODEL_TEXTS, *_LISTED_MODEL,
                                                   *_LISTED_MODEL_FIGURES, _BENCHMARK} - {_LABEL})}
    # the models' labels through the models: a scan of rdfs:label would read every label of the graph
    for m, label in _select(store, f"SELECT ?m ?o WHERE {{ {scope} ?m rdfs:label ?o }}"):
        labels = attrs["m"][m.value][_LABEL]
        if label not in labels:
            labels.append(label)
    # the DLN's and the device's together: both have labels, read in one pass
    attrs["dln"] = attrs["dev"] = _attributes(store, iris, ["dln", "dev"],
                                              {*_NODE_VARS["dln"], *_NODE_VARS["dev"], *_DESCRIPTION,
                                               _FAMILY, _HARDWARE, _SOC_HARDWARE, _FORM_FACTOR, _ACCELERATOR,
                                               _LABEL, _PROCESSOR})
    attrs["cloud"] = _attributes(store, iris, ["cloud"], {*_NODE_VARS["cloud"], _ACCELERATOR_MODEL, _HARDWARE,
                                                          _SOC_HARDWARE})
    attrs["perf"] = _attributes(store, iris, ["perf"], {*_NODE_VARS["perf"], *_EFFECT_PERF_NUMBERS,
                                                        *_PERF_TEXT_PROPERTIES, _CONTEXT, *_LISTED_PERF,
                                                        *_LISTED_PERF_FIGURES})
    attrs["rating"] = _attributes(store, iris, ["rating"], {_RATED_OBJECTIVE, _RATING_VALUE})
    attrs["tech"] = _attributes(store, iris, ["tech"], {_SCHEME})
    types = {"dev": _typed(store, iris, "dev", _DEVICE_CLASSES), "cloud": _typed(store, iris, "cloud", _DEVICE_CLASSES),
             "perf": _typed(store, iris, "perf", [_MEASURED, _PREDICTED, _COPIED]),
             "tech": _typed(store, iris, "tech", _FAMILIES)}
    kinds = types["perf"]
    fw = _iri(FRAMEWORK_PROPERTY)
    labels: dict[str, set[str]] = defaultdict(set)  # model or device → its frameworks' labels and families
    uses: set[str] = set()  # models and devices that use a framework
    names: dict[str, set[str]] = defaultdict(set)  # framework → its labels and families
    if scan:  # models and devices alike: one scan, keyed by who uses the framework
        used_by = [(s.value, f.value) for s, f in _select(store, f"SELECT ?s ?fw WHERE {{ ?s <{fw}> ?fw }}")]
    else:
        used_by = [(s.value, f.value) for s, f in _select(store, f"SELECT ?m ?fw WHERE {{ {scope} ?m <{fw}> ?fw }}")]
        used_by += [(s.value, f.value) for s, f in _select(
            store, f"SELECT DISTINCT ?s ?fw WHERE {{ {scope} ?m dlom:deployedOn ?s . ?s <{fw}> ?fw }}")]
    names_of = f"SELECT DISTINCT ?fw ?label WHERE {{ ?x <{fw}> ?fw . ?fw rdfs:label|dlom:frameworkFamily ?label }}"
    for f, label in _select(store, names_of):
        names[f.value].add(label.value)
    for subject, f in used_by:
        uses.add(subject)
        labels[subject] |= names.get(f, set())
    framework_row = BY_PATH["device.framework"]

    cols: dict[str, Any] = {v: [] for v in (*_MODEL_NUMBERS, *TEXTS)}
    cols |= {k: [] for k in ("has_dev", "has_cloud", "on_host", "device_text", "frameworks", "any_framework",
                             "perf_model", "perf_iri", "perf_predicted", "perf_in_context", "only_predicted",
                             "irregular", "variant", "rating_model", "rating_objective", "rating_value")}
    cols |= {f"perf:{v}": [] for v in (*PERF_NUMBERS, *PERF_TEXTS)}
    cols |= {f"listing:{v}": [] for v in (*LISTING_NUMBERS, *LISTING_TEXTS)}
    cols["unlisted"] = {m: "no dlom:usesDLN (the index has no row for it)" for m in typed if m not in models}
    cols["unplotted"] = {}
    for row, iri in enumerate(order):
        model = models[iri]
        why: list[str] = []
        links = model.links
        for node in ("dln", "dev", "cloud"):
            if len(links.get(node, ())) > 1:
                why.append(f"{len(links[node])} {_LINKS[node]} values")
        subject = {"m": iri} | {n: (links[n][0] if links.get(n) else None) for n in ("dln", "dev", "cloud")}
        for node in ("m", "dln", "dev", "cloud"):
            got = attrs[node].get(subject[node]) if subject[node] is not None else None
            for prop, var in _NODE_VARS[node].items():
                terms = got.get(prop, []) if got else []
                value, bad = _text(terms, var) if var in TEXT_VARS else _number(terms, var)
                cols[var].append(value)
                if bad:
                    why.append(bad)
        for prop, var in _EFFECT_MODEL_TEXTS.items():
            value, bad = _text(attrs["m"].get(iri, {}).get(prop, []), var)
            cols[var].append(value)
            if bad:
                why.append(bad)
        for node in _LINKED_TEXTS:
            cols[node].append(subject[node])
        dev = subject["dev"]
        got = attrs["dev"].get(dev, {}) if dev is not None else {}
        parts = []
        for prop in _DESCRIPTION:
            text, bad = _text(got.get(prop, []), prop)
            parts.append(text)
            if bad:
                why.append(bad)
        cols["device_text"].append(device_description(*parts) if dev is not None else None)
        families = frozenset(t.value for t in attrs["dln"].get(subject["dln"], {}).get(_FAMILY, []))
        hardware = frozenset(t.value for t in got.get(_HARDWARE, [])) or frozenset([dev] if dev is not None else [])
        cols["variant"].append((subject["dln"], families, hardware))
        cols["has_dev"].append(dev is not None)
        cols["has_cloud"].append(subject["cloud"] is not None)
        cols["on_host"].append(dev is not None and _HOST in types["dev"].get(dev, ()))
        its = labels.get(iri, set()) | (labels.get(dev, set()) if dev is not None else set())
        # the labels as the framework filter compares them (normalized once here, not per query)
        cols["frameworks"].append(frozenset(framework_row.parameter(n) for n in its))
        cols["any_framework"].append(iri in uses or (dev is not None and dev in uses))
        measured = predicted = 0
        before_records = len(why)
        for perf in sorted(set(links.get("perf", ()))):
            got = attrs["perf"].get(perf, {})
            kind = kinds.get(perf, set()) - {_COPIED}
            if not kind:
                continue  # neither measured nor predicted (e.g. copied): the query never matches it
            if len(kind) > 1:
                why.append(f"{perf} is both measured and predicted")
            is_predicted = _PREDICTED in kind
            measured += not is_predicted
            predicted += is_predicted
            cols["perf_model"].append(row)
            cols["perf_iri"].append(perf)
            cols["perf_predicted"].append(is_predicted)
            for prop, var in (*_NODE_VARS["perf"].items(), *_EFFECT_PERF_NUMBERS.items()):
                value, bad = _number(got.get(prop, []), var)
                cols[f"perf:{var}"].append(value)
                if bad:
                    why.append(f"{perf}: {bad}")
            for prop, var in _PERF_TEXT_PROPERTIES.items():
                text, bad = _text(got.get(prop, []), var)
                cols[f"perf:{var}"].append(text)
                if bad:
                    why.append(f"{perf}: {bad}")
            cols["perf_in_context"].append(bool(got.get(_CONTEXT)))
        cols["only_predicted"].append(predicted > 0 and measured == 0)
        if len(why) > before_records:  # a record the columns cannot stand for
            cols["unplotted"][iri] = "; ".join(why[before_records:])
        for rating in sorted(set(links.get("rating", ()))):
            got = attrs["rating"].get(rating, {})
            objective, value = got.get(_RATED_OBJECTIVE, []), got.get(_RATING_VALUE, [])
            if not objective or not value:
                continue  # the ratings query matches only a rating with both
            if len(objective) > 1 or len(value) > 1:
                why.append(f"{rating}: {len(objective)} objectives, {len(value)} values")
                continue
            number, bad = _number(value, "ratingValue")
            if bad:
                why.append(f"{rating}: {bad}")
            cols["rating_model"].append(row)
            cols["rating_objective"].append(objective[0].value)
            cols["rating_value"].append(number)
        cols["irregular"].append("; ".join(why) if why else None)
        listed, unlisted = _listing_row(iri, links, attrs, types)
        for var, value in listed.items():
            cols[f"listing:{var}"].append(value)
        if unlisted:
            cols["unlisted"][iri] = unlisted
    techniques, classes, precisions = technique_columns(store, order)
    cols["techniques"], cols["technique_classes"], cols["technique_precisions"] = techniques, classes, precisions
    return order, cols


_NONE: frozenset[str] = frozenset()


def _least(terms: Sequence[Any]) -> str | None:
    """The least of the terms' texts (SPARQL's MIN(STR(?x))), None for none."""
    return min(t.value for t in terms) if terms else None


def _lower_texts(terms: Sequence[Any]) -> frozenset[str]:
    return frozenset(t.value.lower() for t in terms) if terms else _NONE


def _figure(terms: Sequence[Any], aggregate: Callable[[Iterable[float]], float], what: str
            ) -> tuple[float, str | None]:
    """The aggregate of numeric literals (NaN: none), or why it is not one."""
    if not terms:
        return np.nan, None
    values = []
    for t in terms:
        value, bad = _number([t], what)
        if bad:
            return np.nan, bad
        values.append(value)
    return aggregate(values), None


def _listing_row(iri: str, links: dict[str, list[str]], attrs: dict[str, dict[str, dict[str, list]]],
                 types: dict[str, dict[str, set[str]]]) -> tuple[dict[str, Any], str | None]:
    """The model's listing columns (:data:`LISTING_NUMBERS`, :data:`LISTING_TEXTS`) by the semantics of
    :func:`kg.catalog.queries.model_list_query`, and why they cannot stand for it (None: they can)."""
    got = attrs["m"].get(iri, {})
    row: dict[str, Any] = {}
    why: list[str] = []
    row["label"] = _least(got.get(_LABEL, []))
    row["benchmark"], row["purpose"] = _least(got.get(_BENCHMARK, [])), _least(got.get(_PURPOSE, []))
    for prop, var in _LISTED_MODEL.items():
        row[var] = _lower_texts(got.get(prop, []))
    for prop, var in _LISTED_MODEL_FIGURES.items():
        row[var], bad = _figure(got.get(prop, []), min, var)
        why += [bad] if bad else []
    schemes = (t.value.lower() for tech in set(links.get("tech", ())) if _QUANTIZATION in types["tech"].get(tech, ())
               for t in attrs["tech"].get(tech, {}).get(_SCHEME, []))
    row["precisions"] = row["precisions"] | frozenset(schemes)
    row["families"] = frozenset(c for tech in set(links.get("tech", ())) for c in types["tech"].get(tech, ()))
    row["dlns"] = frozenset(links.get("dln", ()))
    devices, clouds = set(links.get("dev", ())), set(links.get("cloud", ()))
    row["devices"] = frozenset(devices)
    row["technique_iris"] = frozenset(links.get("tech", ()))
    row["device_classes"] = frozenset(c for d in devices for c in types["dev"].get(d, ())) | frozenset(
        c for d in clouds for c in types["cloud"].get(d, ()))
    of_devices = [attrs["dev"].get(d, {}) for d in devices]
    of_clouds = [attrs["cloud"].get(d, {}) for d in clouds]
    row["device_label"] = _least([t for a in of_devices for t in a.get(_LABEL, [])])
    row["processor"] = _least([t for a in of_devices for t in a.get(_PROCESSOR, [])])
    row["form_factors"] = _lower_texts([t for a in of_devices for t in a.get(_FORM_FACTOR, [])])
    row["accelerators"] = _lower_texts([*(t for a in of_devices for t in a.get(_ACCELERATOR, [])),
                                        *(t for a in of_clouds for t in a.get(_ACCELERATOR_MODEL, []))])
    row["hardware"] = frozenset(t.value for a in (*of_devices, *of_clouds) for p in (_HARDWARE, _SOC_HARDWARE)
                                for t in a.get(p, []) if isinstance(t, NamedNode))
    records = [(p, attrs["perf"].get(p, {})) for p in sorted(set(links.get("perf", ())))]
    for prop, var in _LISTED_PERF.items():  # of every record, as the filter's pattern matches a plain literal
        row[var] = frozenset(t.value for _, a in records for t in a.get(prop, [])
                             if getattr(getattr(t, "datatype", None), "value", None) == _STRING)
    counted = [a for p, a in records if not types["perf"].get(p, set()) & {_PREDICTED, _COPIED}]
    for prop, (var, aggregate) in _LISTED_PERF_FIGURES.items():
        row[var], bad = _figure([t for a in counted for t in a.get(prop, [])], aggregate, var)
        why += [bad] if bad else []
    return row, ("; ".join(why) if why else None)


def _assemble(generation: int, iris: list[str], cols: dict[str, Any], build_ms: float) -> FacetIndex:
    boolean = {k: np.array(cols[k], dtype=bool) for k in ("has_dev", "has_cloud", "on_host", "any_framework",
                                                          "perf_predicted", "perf_in_context", "only_predicted")}
    return FacetIndex(
        generation, iris,
        {v: np.array(cols[v], dtype=float) for v in _MODEL_NUMBERS}, {v: EncodedColumn.of(cols[v]) for v in TEXTS},
        boolean["has_dev"], boolean["has_cloud"], boolean["on_host"], EncodedColumn.of(cols["device_text"]),
        EncodedColumn.of(cols["frameworks"]), boolean["any_framework"], np.array(cols["perf_model"], dtype=np.intp),
        list(cols["perf_iri"]), boolean["perf_predicted"],
        {v: np.array(cols[f"perf:{v}"], dtype=float) for v in PERF_NUMBERS},
        {v: EncodedColumn.of(cols[f"perf:{v}"]) for v in PERF_TEXTS}, boolean["perf_in_context"], boolean["only_predicted"],
        np.asarray(cols["techniques"], dtype=float), EncodedColumn.of(list(cols["technique_classes"])),
        EncodedColumn.of(list(cols["technique_precisions"])), EncodedColumn.of(cols["variant"]),
        np.array(cols["rating_model"], dtype=np.intp), EncodedColumn.of(cols["rating_objective"]),
        np.array(cols["rating_value"], dtype=float),
        {i: w for i, w in zip(iris, cols["irregular"]) if w is not None}, build_ms,
        listing_numbers={v: np.array(cols[f"listing:{v}"], dtype=float) for v in LISTING_NUMBERS},
        listing_texts={v: EncodedColumn.of(cols[f"listing:{v}"]) for v in LISTING_TEXTS},
        unlisted=dict(cols["unlisted"]), unplotted=dict(cols["unplotted"]))


def build_index(store: Store) -> FacetIndex:
    """The index of every model of ``store`` (read at its current generation). Read-only on the store."""
    t0 = time.perf_counter()
    generation = store.generation_of(DLOM_VOCABULARIES) or 0
    iris, cols = _read(store, None)
    return _assemble(generation, iris, cols, (time.perf_counter() - t0) * 1000)


def _columns_of(index: FacetIndex) -> dict[str, Any]:
    """The index decoded to per-column Python lists (the form :func:`_read` gives): two indexes of one
    store compare equal in this form whatever their text codes (``tests/test_facet_index.py``)."""
    cols: dict[str, Any] = {v: index.numbers[v].tolist() for v in _MODEL_NUMBERS}
    every = np.arange(len(index))
    cols |= {v: index.texts[v].take(every) for v in TEXTS}
    cols |= {"has_dev": index.has_dev.tolist(), "has_cloud": index.has_cloud.tolist(), "on_host": index.on_host.tolist(),
             "device_text": index.device_text.take(every), "frameworks": index.frameworks.take(every),
             "any_framework": index.any_framework.tolist(), "perf_model": index.perf_model.tolist(),
             "perf_iri": list(index.perf_iri), "perf_predicted": index.perf_predicted.tolist(),
             "perf_in_context": index.perf_in_context.tolist(),
             "only_predicted": index.only_predicted.tolist(), "techniques": index.techniques.tolist(),
             "technique_classes": index.technique_classes.take(every),
             "technique_precisions": index.technique_precisions.take(every), "variant": index.variant.take(every),
             "irregular": [index.irregular.get(i) for i in index.iris], "rating_model": index.rating_model.tolist(),
             "rating_objective": index.rating_objective.take(np.arange(len(index.rating_model))),
             "rating_value": index.rating_value.tolist(), "unlisted": dict(index.unlisted),
             "unplotted": dict(index.unplotted)}
    cols |= {f"listing:{v}": index.listing_numbers[v].tolist() for v in LISTING_NUMBERS}
    cols |= {f"listing:{v}": index.listing_texts[v].take(every) for v in LISTING_TEXTS}
    cols |= {f"perf:{v}": index.perf_numbers[v].tolist() for v in PERF_NUMBERS}
    records = np.arange(len(index.perf_iri))
    cols |= {f"perf:{v}": index.perf_texts[v].take(records) for v in PERF_TEXTS}
    return cols


def _touched_models(store: Store, triples: Sequence[Any]) -> set[str] | None:
    """The models whose rows a write of ``triples`` may change: the models among the subjects and the
    models linked to a subject (its DLN, device, cloud configuration, record, technique, framework).
    None: the write may change rows in a way this cannot follow (a class hierarchy) — rebuild."""
    subclass = _iri("rdfs:subClassOf")
    if any(t.predicate.value == subclass for t in triples):
        return None
    # a blank node of this write cannot be linked from an earlier one: its model is among the subjects
    subjects = sorted({t.subject.value for t in triples if isinstance(t.subject, NamedNode)})
    found: set[str] = set()
    links = " ".join((*_LINKS.values(), FRAMEWORK_PROPERTY))
    for chunk in range(0, len(subjects), 1000):
        scope = values_rows(["s"], [(NamedNode(s),) for s in subjects[chunk:chunk + 1000]])
        for text in (f"SELECT ?s WHERE {{ {scope} ?s a dlom:Model }}",
                     f"SELECT DISTINCT ?m WHERE {{ {scope} VALUES ?link {{ {links} }} ?m ?link ?s . ?m a dlom:Model }}",
                     f"SELECT DISTINCT ?m WHERE {{ {scope} ?dev {FRAMEWORK_PROPERTY} ?s . ?m dlom:deployedOn ?dev . "
                     "?m a dlom:Model }"):
            found |= {m.value for (m,) in _select(store, text)}
        if len(found) > MAX_INCREMENTAL_MODELS:
            return None
    return found


def updated_index(store: Store, index: FacetIndex, notice: WriteNotice) -> FacetIndex | None:
    """``index`` brought to the store after the write of ``notice`` by re-reading only the models it
    touched; None when that cannot be done (rebuild)."""
    t0 = time.perf_counter()
    touched = _touched_models(store, notice.triples)
    if touched is None:
        return None
    if not touched:
        return _replace_generation(index, notice.after)
    new_iris, new = _read(store, sorted(touched))
    part = _assemble(notice.after, new_iris, new, 0.0)
    return _splice(index, part, touched, (time.perf_counter() - t0) * 1000)


def _splice(index: FacetIndex, part: FacetIndex, touched: set[str], build_ms: float) -> FacetIndex:
    """``index`` with the rows of the ``touched`` models replaced by ``part`` (their rows read again),
    in array operations: no row of the others is converted back to Python."""
    kept = np.flatnonzero(np.fromiter((iri not in touched for iri in index.iris), dtype=bool, count=len(index)))
    iris = [index.iris[k] for k in kept.tolist()] + part.iris
    order = np.array(sorted(range(len(iris)), key=iris.__getitem__), dtype=np.intp)

    def rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a[kept], b])[order]

    def texts(a: EncodedColumn, b: EncodedColumn,
              join: Callable[[np.ndarray, np.ndarray], np.ndarray] = rows) -> EncodedColumn:
        values = list(a.values)  # a value no row uses any more stays until a rebuild (tested once, no harm)
        where = {v: i for i, v in enumerate(values)}
        for v in b.values:
            if v not in where:
                where[v] = len(values)
                values.append(v)
        remap = np.array([where[v] for v in b.values] + [-1], dtype=np.int32)  # code -1 stays -1
        return EncodedColumn(join(a.codes, remap[b.codes]), values, distinct_values=True)

    # A record's row: kept models keep their order among themselves (both sides are in IRI order), so
    # the records, each side in (row, IRI) order, need only a stable sort by their new row.
    final = np.empty(len(iris), dtype=np.intp)
    final[order] = np.arange(len(iris))
    old_row = np.full(len(index), -1, dtype=np.intp)
    old_row[kept] = final[: len(kept)]

    def record_table(a_model: np.ndarray, b_model: np.ndarray
                     ) -> tuple[np.ndarray, Callable[[Sequence[Any], Sequence[Any]], Any]]:
        """(the records' new model rows, how to splice a column of them: arrays, or lists)."""
        kept_records = np.flatnonzero(np.isin(a_model, kept))
        new_rows = np.concatenate([old_row[a_model[kept_records]], final[len(kept) + b_model]])
        by_row = np.argsort(new_rows, kind="stable")

        def splice(a: Sequence[Any], b: Sequence[Any]) -> Any:
            if isinstance(a, np.ndarray):
                return np.concatenate([a[kept_records], b])[by_row]
            joined = [a[j] for j in kept_records.tolist()] + list(b)
            return [joined[j] for j in by_row.tolist()]

        return new_rows[by_row], splice

    record_rows, records = record_table(index.perf_model, part.perf_model)
    rating_rows, ratings = record_table(index.rating_model, part.rating_model)
    return FacetIndex(
        part.generation, [iris[k] for k in order.tolist()],
        {v: rows(index.numbers[v], part.numbers[v]) for v in _MODEL_NUMBERS},
        {v: texts(index.texts[v], part.texts[v]) for v in TEXTS},
        rows(index.has_dev, part.has_dev), rows(index.has_cloud, part.has_cloud), rows(index.on_host, part.on_host),
        texts(index.device_text, part.device_text), texts(index.frameworks, part.frameworks),
        rows(index.any_framework, part.any_framework), record_rows, records(index.perf_iri, part.perf_iri),
        records(index.perf_predicted, part.perf_predicted),
        {v: records(index.perf_numbers[v], part.perf_numbers[v]) for v in PERF_NUMBERS},
        {v: texts(index.perf_texts[v], part.perf_texts[v], records) for v in PERF_TEXTS},
        records(index.perf_in_context, part.perf_in_context),
        rows(index.only_predicted, part.only_predicted), rows(index.techniques, part.techniques),
        texts(index.technique_classes, part.technique_classes),
        texts(index.technique_precisions, part.technique_precisions), texts(index.variant, part.variant),
        rating_rows, texts(index.rating_objective, part.rating_objective, ratings),
        ratings(index.rating_value, part.rating_value),
        {i: w for i, w in index.irregular.items() if i not in touched} | part.irregular, build_ms,
        listing_numbers={v: rows(index.listing_numbers[v], part.listing_numbers[v]) for v in LISTING_NUMBERS},
        listing_texts={v: texts(index.listing_texts[v], part.listing_texts[v]) for v in LISTING_TEXTS},
        unlisted={i: w for i, w in index.unlisted.items() if i not in touched} | part.unlisted,
        unplotted={i: w for i, w in index.unplotted.items() if i not in touched} | part.unplotted)


def _replace_generation(index: FacetIndex, generation: int) -> FacetIndex:
    return replace(index, generation=generation)


# -- keeping it current -------------------------------------------------------------------------------

class _Holder:
    """The index of one store, the writes noticed since it was read, and whether a rebuild runs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: FacetIndex | None = None
        self.pending: list[WriteNotice] = []
        self.building = threading.Lock()  # held while the index is read from the store (one read at a time)
        self.gap = False  # a write came that cannot be followed: rebuild


_holders: weakref.WeakKeyDictionary[Store, _Holder] = weakref.WeakKeyDictionary()
_holders_lock = threading.Lock()


def _noticed(notice: WriteNotice) -> None:
    holder = _holders.get(notice.store)
    if holder is None:
        return
    with holder.lock:
        if notice.sole and notice.before != notice.after:
            holder.pending.append(notice)
        elif not notice.sole:
            holder.gap = True


add_write_listener(_noticed)


def _generation(store: Store) -> int | None:
    if getattr(store, "generation", None) is None:
        return None
    return store.generation_of(DLOM_VOCABULARIES)


def _brought_forward(store: Store, holder: _Holder, generation: int) -> FacetIndex | None:
    """The holder's index at ``generation`` if it is current or the noticed writes bring it there
    (applied here); None otherwise. Called with ``holder.lock`` held."""
    index = holder.index
    if index is None:
        return None
    while index is not None and index.generation != generation and not holder.gap:
        step = next((n for n in holder.pending if n.before == index.generation), None)
        if step is None:
            return None
        holder.pending = [n for n in holder.pending if n.before > index.generation and n is not step]
        index = updated_index(store, index, step)
        holder.index = index
    return index if index is not None and index.generation == generation else None


def facet_index(store: Store) -> FacetIndex | None:
    """The index of ``store`` at its current generation, built (or brought forward) here if needed —
    one read at a time: a second caller waits for the first's. None for a store without a generation,
    or when a change other than a validated write came while it was read (it is stale already). From
    now on :func:`current_index` keeps the store's index current."""
    generation = _generation(store)
    if generation is None:
        return None
    with _holders_lock:
        holder = _holders.setdefault(store, _Holder())
    with holder.building:
        with holder.lock:
            index = _brought_forward(store, holder, generation)
            if index is not None:
                return index  # (another caller's read finished while this one waited)
            holder.gap, holder.pending = False, []
        # Read without holding the lock: writes meanwhile are noticed and applied on top (the models they
        # touch are read again), and any other change makes the index stale.
        index = build_index(store)
        with holder.lock:
            if holder.index is None or holder.index.generation <= index.generation:
                holder.index = index
            return _brought_forward(store, holder, _generation(store) or 0)


def current_index(store: Store) -> FacetIndex | None:
    """The store's index if it has one (:func:`facet_index` was asked for it once, e.g. by the server's
    warm-up) and it is current or the noticed writes bring it forward; otherwise None, and a stale index
    starts rebuilding in the background (the caller answers by the query meanwhile)."""
    holder = _holders.get(store)
    generation = _generation(store)
    if holder is None or generation is None:
        return None
    with holder.lock:
        index = _brought_forward(store, holder, generation)
        if index is not None:
            return index
    if not holder.building.locked():  # (two callers may both start one: the second finds it current)
        threading.Thread(target=build_index_quietly, args=(store,), name="facet-index", daemon=True).start()
    return None


def build_index_quietly(store: Store) -> None:
    """Build the index of ``store`` (:func:`facet_index`), logging instead of raising when it cannot be
    built: retrieval then queries the store."""
    try:
        facet_index(store)
    except DlomError as e:
        log.warning("the facet index could not be built (%s); retrieval queries the store", e)


def forget_index(store: Store) -> None:
    """Drop the store's index: retrieval queries the store until :func:`facet_index` is asked again
    (benchmarks compare the two paths)."""
    with _holders_lock:
        _holders.pop(store, None)


# -- answering ----------------------------------------------------------------------------------------

def _test(row: Requirement, index: FacetIndex, projected: np.ndarray, value: Any) -> np.ndarray:
    """The models whose value meets ``row`` (False where unknown), by the row's own comparison."""
    var = row.tested
    if var in index.texts:
        return index.texts[var].test(lambda t: row.matches(t, value))
    column = projected if var == "projCost" else index.numbers[var]
    with np.errstate(invalid="ignore"):
        return np.asarray(row.matches_column(column, value), dtype=bool)


def _unknown(row: Requirement, index: FacetIndex, projected: np.ndarray) -> np.ndarray:
    var = row.tested
    if var in index.texts:
        return index.texts[var].codes < 0
    return np.isnan(projected if var == "projCost" else index.numbers[var])


def _projected_cost(index: FacetIndex, want: int | None) -> np.ndarray:
    """The budget's projected cost, as the candidate query's BIND computes it."""
    n = index.numbers
    cost, cpd, ndev, price = n["cost"], n["cpd"], n["ndev"], n["price"]
    if want is None:
        return np.where(np.isnan(cost), price * ndev, cost)
    adjusted = np.where(np.isnan(cpd) | np.isnan(ndev), cost, cost + cpd * (want - ndev))
    return np.where(np.isnan(cost), price * want, adjusted)


def answer(index: FacetIndex, plan: QueryPlan, q: CandidateQuery) -> CandidateSet | None:
    """The candidate set of ``plan`` over ``index`` — what the query ``q`` answers — or None where the
    index cannot stand for the query (an irregular model)."""
    if index.irregular:
        return None
    t0 = time.perf_counter()
    projected = _projected_cost(index, plan.want_devices)
    keep = index.on_host.copy() if plan.this_machine else ~index.on_host
    if not plan.include_predicted:
        keep &= ~index.only_predicted
    if plan.needs_dev:
        keep &= index.has_dev
    perf_keep = np.ones(len(index.perf_iri), dtype=bool) if plan.include_predicted else ~index.perf_predicted
    perf_link_required = False
    for lenient, rows in ((False, plan.required), (True, plan.lenient)):
        for var, row in rows.items():
            value = plan.values[var]
            if row.node == "perf":
                with np.errstate(invalid="ignore"):
                    ok = np.asarray(row.matches_column(index.perf_numbers[var], value), dtype=bool)
                perf_keep &= (ok | np.isnan(index.perf_numbers[var])) if lenient else ok
                perf_link_required |= not lenient
            else:
                ok = _test(row, index, projected, value)
                keep &= (ok | _unknown(row, index, projected)) if lenient else ok
    if plan.device_types:
        row = BY_PATH["project.device_types"]
        keep &= index.device_text.test(lambda t: row.matches(t, plan.device_types))
    if plan.framework is not None:
        # the labels are normalized already: contained text, as the row's SPARQL pattern tests it
        assert BY_PATH["device.framework"].comparison is Comparison.CONTAINS_TEXT
        ok = index.frameworks.test(lambda names: any(plan.framework in n for n in names))
        keep &= (ok | ~index.any_framework) if plan.allow_unknown else ok
    n = len(index)
    matching = np.bincount(index.perf_model[perf_keep], minlength=n) > 0
    if perf_link_required:
        keep &= matching
    else:
        # an OPTIONAL record: a model without records of the kinds asked for stays, one whose records
        # all fail the (lenient) filters does not
        of_kind = index.perf_model[np.ones_like(perf_keep) if plan.include_predicted else ~index.perf_predicted]
        keep &= matching | (np.bincount(of_kind, minlength=n) == 0)
    rows = np.flatnonzero(keep)
    where = np.full(n, -1, dtype=np.intp)
    where[rows] = np.arange(len(rows))
    records_of = where[index.perf_model] if len(index.perf_model) else np.zeros(0, dtype=np.intp)
    chosen = perf_keep & (records_of >= 0)
    k = records_of[chosen]

    numbers: dict[str, np.ndarray] = {}
    texts: dict[str, EncodedColumn] = {}
    for var in q.variables[4:]:
        if var in PERF_METRICS:
            values = index.perf_numbers[var][chosen]
            known = ~np.isnan(values)
            count = np.bincount(k[known], minlength=len(rows)).astype(float)
            total = np.bincount(k[known], weights=values[known], minlength=len(rows))
            with np.errstate(invalid="ignore", divide="ignore"):
                numbers[var] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        elif var == "projCost":
            numbers[var] = projected[rows]
        elif var in TEXT_VARS:
            texts[var] = index.texts[var].subset(rows)
        else:
            numbers[var] = index.numbers[var][rows]
    # the records are in (model row, IRI) order already: each candidate's are one run of them
    records = RecordLists(index.perf_iri_array[chosen].tolist(),
                          np.r_[0, np.cumsum(np.bincount(k, minlength=len(rows)))].astype(np.intp))
    all_predicted = np.bincount(k[~index.perf_predicted[chosen]], minlength=len(rows)) == 0
    has_records = np.bincount(k, minlength=len(rows)) > 0
    return CandidateSet(index.iri_array[rows].tolist(), numbers, texts, records, has_records & all_predicted,
                        index.has_cloud[rows], index.techniques[rows], q.text, (time.perf_counter() - t0) * 1000,
                        index.technique_classes.subset(rows), index.technique_precisions.subset(rows),
                        rows, index.generation)


def candidates_from_index(store: Store, plan: QueryPlan, q: CandidateQuery) -> CandidateSet | None:
    """The candidate set through the store's current index (:func:`current_index`), or None when the
    store has none or it cannot answer (the caller runs the query)."""
    index = current_index(store)
    return None if index is None else answer(index, plan, q)
