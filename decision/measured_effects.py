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

Everything is read from the graph with SPARQL (any store: the records of the AI Hub Models importer,
or any other source that states ``dlom:precision`` and ``dlom:runtime`` on its models). Only
``dlom:MeasuredPerformance`` counts: a ``dlom:CopiedPerformance`` repeats a measurement of another
device and would count the same evidence twice. The CLI (``dlom effects``) and REST
(``GET /api/effects``) call this function.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from kg.derived_results import derived
from kg.namespaces import DLOM_VOCABULARIES, SPARQL_PREFIXES
from kg.store import Store
from kg.terms import to_python

FLOAT = "float"
"""The baseline every precision is compared with."""
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


@dataclass(frozen=True)
class Distribution:
    """Summary of a sample: count, median, quartiles (inclusive method), extremes; None when empty."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None
    min: float | None
    max: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> Distribution:
        xs = sorted(values)
        if not xs:
            return cls(0, None, None, None, None, None)
        if len(xs) == 1:
            return cls(1, xs[0], xs[0], xs[0], xs[0], xs[0])
        q1, med, q3 = statistics.quantiles(xs, n=4, method="inclusive")
        return cls(len(xs), round(med, 6), round(q1, 6), round(q3, 6), xs[0], xs[-1])


@dataclass
class PrecisionEffect:
    """The measured effect of one precision against float."""

    precision: str
    latency_ratio: Distribution
    memory_ratio: Distribution
    accuracy_change: Distribution
    accuracy_change_by_metric: dict[str, Distribution] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rows(store: Store, query: str) -> list[dict[str, Any]]:
    result = store.select(query)
    return [{v: to_python(t) for v, t in zip(result.variables, row)} for row in result.rows]


def measured_effects(store: Store, runtime: str | None = None, form_factor: str | None = None,
                     precisions: Iterable[str] | None = None) -> list[PrecisionEffect]:
    """Per precision (sorted by name), the distributions of latency ratio, memory ratio and accuracy
    change against float on the same network, component, device, runtime and release.

    ``runtime`` and ``form_factor`` (the device's, e.g. 'IoT') restrict the pairs; ``precisions``
    restricts the precisions reported. Precisions without any pair are left out. Read-only.
    """
    wanted = set(precisions) if precisions else None

    def keep(row: dict[str, Any]) -> bool:
        return (runtime is None or row["runtime"] == runtime) and \
            (form_factor is None or (row.get("formFactor") or "").casefold() == form_factor.casefold())

    latency: dict[tuple, dict[str, tuple[float, float | None]]] = defaultdict(dict)
    for r in _rows(store, _LATENCY_QUERY):
        if keep(r):
            key = (r["dln"], r.get("component") or "", r["device"], r["runtime"], r.get("round") or "")
            latency[key][r["precision"]] = (r["latency"], r.get("memory"))
    accuracy: dict[tuple, dict[str, float]] = defaultdict(dict)
    for r in _rows(store, _ACCURACY_QUERY):
        if keep(r):
            key = (r["dln"], r["device"], r["runtime"], r.get("round") or "", r["metric"], r.get("unit") or "")
            accuracy[key][r["precision"]] = r["value"]

    lat_ratios: dict[str, list[float]] = defaultdict(list)
    mem_ratios: dict[str, list[float]] = defaultdict(list)
    acc_changes: dict[str, list[float]] = defaultdict(list)  # % metrics only
    by_metric: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for by_precision in latency.values():
        base = by_precision.get(FLOAT)
        if base is None:
            continue
        for precision, (lat, mem) in by_precision.items():
            if precision == FLOAT:
                continue
            lat_ratios[precision].append(lat / base[0])
            if mem and base[1]:
                mem_ratios[precision].append(mem / base[1])
    for key, by_precision in accuracy.items():
        base = by_precision.get(FLOAT)
        if base is None:
            continue
        for precision, value in by_precision.items():
            if precision == FLOAT:
                continue
            change = round(value - base, 6)
            metric, unit = key[4], key[5]
            by_metric[precision][f"{metric} ({unit})" if unit else metric].append(change)
            if unit == "%":
                acc_changes[precision].append(change)
    names = sorted(set(lat_ratios) | set(by_metric))
    return [PrecisionEffect(p, Distribution.of(lat_ratios[p]), Distribution.of(mem_ratios[p]),
                            Distribution.of(acc_changes[p]),
                            {m: Distribution.of(v) for m, v in sorted(by_metric[p].items())})
            for p in names if wanted is None or p in wanted]


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
