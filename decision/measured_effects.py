"""Effects of quantization measured on real devices: the paper's Table 1 backed by paired measurements.

For each precision (w8a8, w8a16, ...) against float on the *same* network, component, device, runtime
and release (one toolchain version), :func:`measured_effects` gives the distribution — n, median,
quartiles, min and max — of

* the latency ratio (quantized / float inference latency; < 1 is faster),
* the memory ratio (quantized / float upper end of the peak-memory range; pairs where either is 0 MB
  are left out, a ratio to zero being undefined),
* the accuracy change: quantized − float on-device value of the same metric on the same samples.
  ``accuracy_change`` pools the metrics published in % (top-1 accuracy: percentage points);
  ``accuracy_change_by_metric`` gives each metric apart, in its own unit and direction as published
  (mAP, mIoU, PSNR in dB, ...; for an error metric such as NME a rise is a loss).

Everything is read from the graph (any store: the records of the AI Hub Models importer, or any other
source that states ``dlom:precision`` and ``dlom:runtime`` on its models): from the store's facet index
(:mod:`decision.facet_index`) where it has a current one — milliseconds, also right after a validated
write, which brings the index forward — else with two SPARQL queries (seconds on the shipped graph).
Both give the same measurements as codes (:class:`Measurements`), paired by one numpy computation.
Only ``dlom:MeasuredPerformance`` counts: a ``dlom:CopiedPerformance`` repeats a measurement of another
device and would count the same evidence twice. The CLI (``dlom effects``), REST (``GET /api/effects``),
GraphQL and the decision support (:func:`read_measured_effects`) call :func:`measured_effects`.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from decision.encoded_column import EncodedColumn, row_codes
from decision.facet_index import FacetIndex, current_index
from decision.objectives import MeasuredEffects
from decision.precision_effects import FLOAT, Distribution, PrecisionEffect
from kg.derived_results import derived
from kg.namespaces import DLOM_VOCABULARIES, SPARQL_PREFIXES
from kg.store import Store
from kg.terms import to_python

PAIRING = ("network", "component", "device", "runtime", "release")
"""What a quantized measurement and its float baseline share (accuracy pairs: all but the component)."""

# One row per measured latency: the configuration it belongs to and its figures.
_LATENCY_QUERY = SPARQL_PREFIXES + """
SELECT ?dln ?component ?device ?runtime ?round ?precision ?latency ?memory ?formFactor WHERE {
  ?m a dlom:Model ; dlom:precision ?precision ; dlom:runtime ?runtime ; dlom:usesDLN ?dln ;
     dlom:deployedOn ?device ; dlom:hasPerformance ?p .
  ?p a dlom:MeasuredPerformance ; dlom:inferenceLatencyMs ?latency .
  OPTIONAL { ?m dlom:component ?component }
  OPTIONAL { ?m dlom:benchmarkRound ?round }
  OPTIONAL { ?p dlom:memoryMaxMb ?memory }
  OPTIONAL { ?device dlom:formFactor ?formFactor }
  FILTER NOT EXISTS { ?p dlom:contextLength ?ctx }
}"""

_ACCURACY_QUERY = SPARQL_PREFIXES + """
SELECT ?dln ?device ?runtime ?round ?precision ?metric ?unit ?value ?formFactor WHERE {
  ?m a dlom:Model ; dlom:precision ?precision ; dlom:runtime ?runtime ; dlom:usesDLN ?dln ;
     dlom:deployedOn ?device ; dlom:hasPerformance ?p .
  ?p a dlom:MeasuredPerformance ; dlom:metricValue ?value ; dlom:accuracyMetric ?metric .
  OPTIONAL { ?p dlom:metricUnit ?unit }
  OPTIONAL { ?m dlom:benchmarkRound ?round }
  OPTIONAL { ?device dlom:formFactor ?formFactor }
}"""


def _rows(store: Store, query: str) -> list[dict[str, Any]]:
    result = store.select(query)
    return [{v: to_python(t) for v, t in zip(result.variables, row)} for row in result.rows]


@dataclass(frozen=True)
class Measurements:
    """Measured values, one row each, as codes: ``pair`` is what a quantized row shares with its float
    baseline (:data:`PAIRING`: latency rows; accuracy rows: all but the component, plus the metric and
    its unit), ``precision`` / ``runtime`` / ``form_factor`` (-1: none) / ``metric`` (accuracy rows)
    index the lists beside. ``value`` is the latency (ms) or the metric's value, ``memory`` the upper end
    of the peak-memory range (MB; NaN: not recorded or not a latency row)."""

    pair: np.ndarray
    precision: np.ndarray
    runtime: np.ndarray
    form_factor: np.ndarray
    metric: np.ndarray
    value: np.ndarray
    memory: np.ndarray
    precisions: list[str]
    runtimes: list[str]
    form_factors: list[str]
    metrics: list[tuple[str, str]]  # (metric, unit — "" when none)

    def kept(self, runtime: str | None, form_factor: str | None) -> np.ndarray:
        """The rows on ``runtime`` and on a device of ``form_factor`` (compared case-insensitively)."""
        keep = np.ones(len(self.pair), dtype=bool)
        if runtime is not None:
            keep &= self.runtime == (self.runtimes.index(runtime) if runtime in self.runtimes else -2)
        if form_factor is not None:
            wanted = form_factor.casefold()  # a device without one compares as ""
            ok = np.array([f.casefold() == wanted for f in self.form_factors] + [wanted == ""], dtype=bool)
            keep &= ok[self.form_factor]
        return keep


def _by_query(store: Store) -> tuple[Measurements, Measurements]:
    """The latency and accuracy measurements read with SPARQL (any store)."""

    def measurements(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], tuple], value: str,
                     memory: str | None, metric: Callable[[dict[str, Any]], tuple[str, str]] | None) -> Measurements:
        def column(of: Callable[[dict[str, Any]], Any]) -> EncodedColumn:
            return EncodedColumn.of([of(r) for r in rows])

        precision, runtime = column(lambda r: r["precision"]), column(lambda r: r["runtime"])
        form_factor = column(lambda r: r.get("formFactor"))
        metrics = column(metric) if metric else EncodedColumn(np.full(len(rows), -1, dtype=np.int32), [])
        return Measurements(column(key).codes.astype(np.intp), precision.codes.astype(np.intp),
                            runtime.codes.astype(np.intp), form_factor.codes.astype(np.intp),
                            metrics.codes.astype(np.intp), np.array([float(r[value]) for r in rows], dtype=float),
                            np.array([float(r[memory]) if memory and r.get(memory) is not None else np.nan
                                      for r in rows], dtype=float),
                            precision.values, runtime.values, form_factor.values, metrics.values)

    latency = measurements(_rows(store, _LATENCY_QUERY), lambda r: (r["dln"], r.get("component") or "", r["device"],
                                                                     r["runtime"], r.get("round") or ""),
                           "latency", "memory", None)
    accuracy = measurements(_rows(store, _ACCURACY_QUERY),
                            lambda r: (r["dln"], r["device"], r["runtime"], r.get("round") or "", r["metric"],
                                       r.get("unit") or ""),
                            "value", None, lambda r: (r["metric"], r.get("unit") or ""))
    return latency, accuracy


def _from_index(index: FacetIndex) -> tuple[Measurements, Measurements]:
    """The latency and accuracy measurements the queries of :func:`_by_query` find, from the facet
    index's columns: its measured records of models with a precision, a runtime and a device."""
    texts, records = index.texts, index.perf_model
    precision, runtime, device, dln = (texts[v].codes[records] for v in ("precision", "runtime", "dev", "dln"))
    component, round_ = texts["component"].codes[records], texts["round"].codes[records]
    form_factor = texts["formFactor"].codes[records]
    configured = ~index.perf_predicted & (precision >= 0) & (runtime >= 0) & (device >= 0) & (dln >= 0)
    metric = index.perf_texts["metric"]
    unit = index.perf_texts["metricUnit"]
    latency_rows = np.flatnonzero(configured & ~np.isnan(index.perf_numbers["lat"]) & ~index.perf_in_context)
    accuracy_rows = np.flatnonzero(configured & ~np.isnan(index.perf_numbers["metricValue"]) & (metric.codes >= 0))
    # (an unknown component, round or unit is code -1: one key, as the query's `or ""` makes it)
    metric_code = row_codes([metric.codes[accuracy_rows], unit.codes[accuracy_rows]])
    first = accuracy_rows[np.unique(metric_code, return_index=True)[1]]  # a record of each (metric, unit)
    metric_names = [(metric.values[m], unit.values[u] if u >= 0 else "")
                    for m, u in zip(metric.codes[first].tolist(), unit.codes[first].tolist())]

    def pairs(rows: np.ndarray, keys: list[np.ndarray]) -> np.ndarray:
        return row_codes([k[rows] for k in keys])

    def measurements(rows: np.ndarray, pair: np.ndarray, value: np.ndarray, memory: np.ndarray,
                     metric_of: np.ndarray) -> Measurements:
        return Measurements(pair, precision[rows], runtime[rows], form_factor[rows], metric_of, value[rows], memory,
                            texts["precision"].values, texts["runtime"].values, texts["formFactor"].values,
                            metric_names)

    latency = measurements(latency_rows, pairs(latency_rows, [dln, component, device, runtime, round_]),
                           index.perf_numbers["lat"], index.perf_numbers["memoryMax"][latency_rows],
                           np.full(len(latency_rows), -1, dtype=np.intp))
    accuracy = measurements(accuracy_rows, pairs(accuracy_rows, [dln, device, runtime, round_, metric.codes, unit.codes]),
                            index.perf_numbers["metricValue"], np.full(len(accuracy_rows), np.nan), metric_code)
    return latency, accuracy


def _one_per_configuration(pair: np.ndarray, precision: np.ndarray, value: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pair, precision, value) once per measured (pair, precision): the median where a configuration
    was measured more than once; unknown (NaN) values left out."""
    known = ~np.isnan(value)
    width = int(precision.max(initial=0)) + 1
    key, v = pair[known].astype(np.int64) * width + precision[known], value[known]
    order = np.lexsort((v, key))
    key, v = key[order], v[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.intp)
    n = np.diff(np.r_[starts, len(key)])
    median = (v[starts + (n - 1) // 2] + v[starts + n // 2]) / 2
    return key[starts] // width, key[starts] % width, median


def _against_float(pair: np.ndarray, precision: np.ndarray, value: np.ndarray, precisions: list[str]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pair, precision, value, float baseline's value) of each non-float configuration whose pair has one."""
    pair, precision, value = _one_per_configuration(pair, precision, value)
    if FLOAT not in precisions:
        return pair[:0], precision[:0], value[:0], value[:0]
    is_float = precision == precisions.index(FLOAT)
    base = np.full(int(pair.max(initial=-1)) + 1, np.nan)
    base[pair[is_float]] = value[is_float]
    paired = ~is_float & ~np.isnan(base[pair])
    return pair[paired], precision[paired], value[paired], base[pair[paired]]


def _effects(latency: Measurements, accuracy: Measurements, runtime: str | None, form_factor: str | None,
             wanted: set[str] | None) -> list[PrecisionEffect]:
    lat = latency.kept(runtime, form_factor)
    _, p, quantized, base = _against_float(latency.pair[lat], latency.precision[lat], latency.value[lat],
                                           latency.precisions)
    lat_ratios = _grouped(p, quantized / base, latency.precisions)
    _, p, quantized, base = _against_float(latency.pair[lat], latency.precision[lat], latency.memory[lat],
                                           latency.precisions)
    nonzero = (quantized != 0) & (base != 0)  # a ratio to zero is undefined
    mem_ratios = _grouped(p[nonzero], quantized[nonzero] / base[nonzero], latency.precisions)
    acc = accuracy.kept(runtime, form_factor)
    metric_of_pair = np.zeros(int(accuracy.pair.max(initial=-1)) + 1, dtype=np.intp)
    metric_of_pair[accuracy.pair] = accuracy.metric  # the metric is part of what a pair shares
    pair, p, quantized, base = _against_float(accuracy.pair[acc], accuracy.precision[acc], accuracy.value[acc],
                                              accuracy.precisions)
    by_metric: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    acc_changes: dict[str, list[float]] = defaultdict(list)  # % metrics only
    for code, q, b, m in zip(p.tolist(), quantized.tolist(), base.tolist(), metric_of_pair[pair].tolist()):
        precision, (name, unit) = accuracy.precisions[code], accuracy.metrics[m]
        change = round(q - b, 6)
        by_metric[precision][f"{name} ({unit})" if unit else name].append(change)
        if unit == "%":
            acc_changes[precision].append(change)
    names = sorted(set(lat_ratios) | set(by_metric))
    return [PrecisionEffect(n, Distribution.of(lat_ratios.get(n, [])), Distribution.of(mem_ratios.get(n, [])),
                            Distribution.of(acc_changes[n]),
                            {m: Distribution.of(v) for m, v in sorted(by_metric[n].items())})
            for n in names if wanted is None or n in wanted]


def _grouped(precision: np.ndarray, values: np.ndarray, precisions: list[str]) -> dict[str, list[float]]:
    return {precisions[p]: values[precision == p].tolist() for p in np.unique(precision).tolist()}


def measured_effects(store: Store, runtime: str | None = None, form_factor: str | None = None,
                     precisions: Iterable[str] | None = None) -> list[PrecisionEffect]:
    """Per precision (sorted by name), the distributions of latency ratio, memory ratio and accuracy
    change against float on the same network, component, device, runtime and release; a configuration
    measured more than once counts once, with the median of its measurements.

    ``runtime`` and ``form_factor`` (the device's, e.g. 'IoT') restrict the pairs; ``precisions``
    restricts the precisions reported. Precisions without any pair are left out. Read from the store's
    facet index where it has a current one that stands for every model (the answer is the same:
    ``tests/test_facet_index.py``), else with two SPARQL queries. Read-only.
    """
    index = current_index(store)
    latency, accuracy = _from_index(index) if index is not None and not index.irregular else _by_query(store)
    return _effects(latency, accuracy, runtime, form_factor, set(precisions) if precisions else None)


def read_measured_effects(store: Store) -> MeasuredEffects:
    """The measured effects of every precision in the store, passed to :func:`objective_matrix`. Kept per
    generation of DLOM's vocabularies in the store (:func:`kg.derived_results.derived`): computing them
    reads every paired measurement (seconds on the shipped graph), a recommendation should not repeat
    that, and a new measurement shows in the next one."""
    return derived(store, ("decision.measured_effects_by_precision",),
                   lambda: MeasuredEffects({e.precision: e for e in measured_effects(store)}), DLOM_VOCABULARIES)


_FILTER_VALUES_QUERY = SPARQL_PREFIXES + """
SELECT DISTINCT ?runtime ?formFactor ?precision WHERE {
  ?m a dlom:Model ; dlom:precision ?precision ; dlom:runtime ?runtime ; dlom:deployedOn ?device ;
     dlom:hasPerformance ?p .
  ?p a dlom:MeasuredPerformance .
  OPTIONAL { ?device dlom:formFactor ?formFactor }
}"""


@dataclass(frozen=True)
class FilterValues:
    """The values the filters of :func:`measured_effects` can take in a store: the runtimes and device
    form factors that have a measured float baseline, and the precisions other than float measured
    there (each sorted). A value outside these gives no pair."""

    runtime: list[str]
    form_factor: list[str]
    precision: list[str]

    def as_dict(self) -> dict[str, list[str]]:
        return asdict(self)

    def errors(self, runtime: str | None = None, form_factor: str | None = None,
               precisions: Iterable[str] | None = None) -> list[dict[str, str]]:
        """One ``{"field", "message"}`` per filter value that is not one of these (form factors compared
        case-insensitively, as :func:`measured_effects` compares them); empty when all are known."""
        out = []
        if runtime is not None and runtime not in self.runtime:
            out.append({"field": "runtime", "message": f"no measured float baseline on runtime {runtime!r}; "
                                                       f"known runtimes: {', '.join(self.runtime)}"})
        if form_factor is not None and form_factor.casefold() not in {f.casefold() for f in self.form_factor}:
            out.append({"field": "form_factor", "message": f"no measured float baseline on form factor {form_factor!r}; "
                                                           f"known form factors: {', '.join(self.form_factor)}"})
        for p in precisions or ():
            if p not in self.precision:
                out.append({"field": "precision", "message": f"no measurement in precision {p!r}; "
                                                             f"known precisions: {', '.join(self.precision)}"})
        return out


def effect_filter_values(store: Store) -> FilterValues:
    """What the ``runtime``, ``form_factor`` and ``precisions`` filters of :func:`measured_effects` can
    be (see :class:`FilterValues`), read from the store's measured models (kept per generation of DLOM's
    vocabularies in the store, :func:`kg.derived_results.derived`). Read-only."""
    return derived(store, ("decision.effect_filter_values",), lambda: _filter_values(store), DLOM_VOCABULARIES)


def _filter_values(store: Store) -> FilterValues:
    rows = _rows(store, _FILTER_VALUES_QUERY)
    with_float = [r for r in rows if r["precision"] == FLOAT]
    runtimes = {r["runtime"] for r in with_float}
    form_factors = {r["formFactor"] for r in with_float if r.get("formFactor")}
    precisions = {r["precision"] for r in rows if r["precision"] != FLOAT and r["runtime"] in runtimes}
    return FilterValues(sorted(runtimes), sorted(form_factors), sorted(precisions))
