"""The six decision objectives of the DLOM paper (§4, Eq. 1) and each model's value on them.

Every objective is scored on the paper's 1-5 scale where 1 is the worst and 5 the best. Performance,
reliability and security are *forward* scaled (a higher raw measure is better); cost, latency and
complexity are *reverse* scaled (a lower raw measure is better), so after scaling a higher 1-5 value is
always better and Eq. 1 can add them.

A value combines the evidence there is, and every value says where it came from
(:class:`ValueSource`, and the number of ratings it includes):

* ``derived`` — computed from the model's recorded metrics (measurements) by the normalizations below;
* ``measured-effects`` — no metric of the model exists, but it applies a technique that carries a
  ``dlom:precision`` (e.g. w8a8) whose effect against float is measured on this graph's paired
  measurements (latency and performance only; see *Measured effects* below);
* ``effects`` — neither, but the model applies optimization techniques whose families have a
  Table 1 effect on the objective (see *Table 1 effects* below);
* ``missing`` — neither: the neutral midpoint 3 is used so the objective neither helps nor hurts;
* users' dlom:Rating values for the objective (the same 1-5 scale, 5 best) are then combined with that
  value as a *Bayesian average weighted by the number of ratings*: the evidence value counts as
  :data:`PRIOR_WEIGHT` ratings (5 for a measurement, 3 for measured effects, 2 for Table 1 effects, 1
  for the neutral 3), so
  ``value = (w × evidence + n × mean rating) / (w + n)``. One rating of 5 moves a measured 3.07 to
  3.39, not to 5; many ratings dominate. A cell whose only evidence is ratings has source ``rating``
  (the neutral 3 as one prior rating); a measured, measured-effects or effects cell keeps its source and
  carries the ratings it includes (:attr:`ObjectiveValue.ratings`), and its basis shows the arithmetic.

Derivations (all relative to the *candidate set*, i.e. min-max over the models being compared, since
the 1-5 scale is a ranking aid, not an absolute unit; when every candidate has the same raw measure
the derived value is 3):

* performance — accuracy (forward, linear min-max), else the points of accuracy the model's precision
  and runtime lose against float (dlom:accuracyLossPoints; reverse, linear, scaled over the candidates
  without an accuracy);
* reliability — dlom:stability (variance of accuracy, reverse, linear), else dlom:latencyCv (reverse,
  linear); neither → missing;
* security — from the cloud configuration: 2 for a cloud configuration without protections, +2 if it
  uses shielded execution, +1 if it names a security protocol (so 2..5); no cloud configuration or
  neither attribute known → missing (an on-device model is not assumed secure or insecure);
* cost — the projected deployment cost (see :mod:`decision.retrieval`), else the cost per device
  (reverse, log-scaled min-max, because costs span orders of magnitude);
* latency — inference latency in ms, else system latency (reverse, log-scaled min-max);
* complexity — mean of the available reverse log-scaled measures of the DLN's parameters, MACs and
  layers, and the number of optimization techniques applied (reverse, linear).

Measured effects (:mod:`decision.measured_effects`: for each precision, the distribution of the
quantized/float latency ratio and of the on-device accuracy change in points (% metrics), over the pairs
of measurements of the same network, component, device, runtime and release; only
dlom:MeasuredPerformance counts, never a dlom:CopiedPerformance; every pair of the store, whatever the
candidate's runtime or device; read by :func:`decision.measured_effects.read_measured_effects`, kept until
the store changes).
For a model and objective with no derivation, where the model's techniques carry precisions (the AI Hub
importer gives each quantization its ``dlom:precision``):

* latency is measured by the latency ratio (no change at 1, lower is better), performance by the
  accuracy change (no change at 0, higher is better); the other objectives are not measured this way;
* a precision's step is +1 when the interquartile range of its pairs lies wholly on the improving side
  (ratio q3 < 1; change q1 > 0), -1 when wholly on the worsening side (ratio q1 > 1; change q3 < 0),
  and 0 otherwise: the middle half of the measurements do not agree on a direction (no threshold is
  chosen; the quartiles are the data's own);
* a precision with no pair of that statistic does not count; when none of the model's precisions has
  one the cell is left to Table 1 below. Otherwise the measured effects decide the cell, in place of
  every Table 1 effect on it (the pairs measure the precision against float with everything else
  equal; a qualitative family step on top would count quantization twice): the value is
  ``clamp(3 + Σ step, 1, 5)`` with source ``measured-effects``, the basis naming the precision, the
  statistic and n, e.g. "from measured effects of w8a8 vs float: latency ratio median 0.41 (IQR
  0.30–0.55, 2,345 pairs on this graph): faster (+1) → neutral 3 + 1 = 4", and
  :attr:`ObjectiveValue.pairs` the number of pairs (source label "measured effects (2,345 paired
  measurements)");
* when the steps sum to 0 the cell stays ``missing`` (neutral 3) with a basis saying "no consistent
  change": measurements that show no direction override Table 1's qualitative one.

Table 1 effects (§2.5, Table 1 of the paper; data in the graph as dlom:TechniqueEffect individuals,
read by :func:`read_technique_effects` — never restated in code). Each effect says whether a technique
family improves (+1), worsens (-1) or does not change (0) an objective's 1-5 score. The rule, for a
model and an objective with no rating, no derivation and no measured effect (above):

* the families considered are the classes the model's techniques are instances of (directly or via
  rdfs:subClassOf) that have an effect on the objective; each family counts once per model, however
  many of its techniques the model applies (Table 1 is qualitative per family, not per application);
* when at least one of them has a non-zero effect, the value is
  ``clamp(3 + Σ effect(family, objective), 1, 5)`` — start at the neutral midpoint and move one step
  per unit of effect (a graph with effects of ±2 moves two steps) — with source ``effects`` and the
  basis naming the families and their effects, e.g. "from Table 1 effects of Quantization (-1):
  neutral 3 - 1 = 2". Opposite effects may cancel (that is still an effects value of 3);
* when every such effect is 0 (or the model has no technique with an effect) the value stays
  ``missing``: "no effect" on an unknown level says nothing about the level.

Effects (measured or Table 1) never adjust a value derived from measurements (ratings are averaged in afterwards, with the
effects value as a weaker prior than a measurement): a measurement of a model
already includes whatever its techniques did (adding the effect would count it twice), and a derived
value is a position within the candidate set that a fixed step would distort. Effects only replace the
uninformative neutral 3. Without a :class:`TechniqueEffects` / :class:`MeasuredEffects` (e.g. the
GNN's scoring of configurations, which all carry metrics and no techniques) no effects are applied.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum

import numpy as np
from pyoxigraph import NamedNode

from decision.encoded_column import EncodedColumn
from decision.precision_effects import FLOAT, Distribution, PrecisionEffect
from kg.namespaces import DLOM, SPARQL_PREFIXES
from kg.store import Store

SCALE_MIN = 1.0
SCALE_MAX = 5.0
NEUTRAL = 3.0


class Objective(str, Enum):
    """The six objectives, in the order of Eq. 1 (this order indexes every weight/value vector)."""

    PERFORMANCE = "performance"
    RELIABILITY = "reliability"
    SECURITY = "security"
    COST = "cost"
    LATENCY = "latency"
    COMPLEXITY = "complexity"

    @property
    def iri(self) -> NamedNode:
        """The ontology individual, e.g. dlom:PerformanceObjective."""
        return DLOM[self.value.capitalize() + "Objective"]

    @property
    def forward(self) -> bool:
        """True when a higher raw measure is better (performance, reliability, security)."""
        return self in (Objective.PERFORMANCE, Objective.RELIABILITY, Objective.SECURITY)

    @classmethod
    def from_iri(cls, iri: str) -> Objective:
        found = _OBJECTIVE_BY_IRI.get(iri)
        if found is None:
            raise ValueError(f"not a DLOM objective: {iri}")
        return found


OBJECTIVES: tuple[Objective, ...] = tuple(Objective)
N_OBJECTIVES = len(OBJECTIVES)
_OBJECTIVE_BY_IRI: dict[str, Objective] = {o.iri.value: o for o in OBJECTIVES}


class ValueSource(str, Enum):
    """Where an objective value came from (see the module docstring for the precedence)."""

    RATING = "rating"
    DERIVED = "derived"
    MISSING = "missing"
    EFFECTS = "effects"
    MEASURED_EFFECTS = "measured-effects"


# The per-cell source codes of ObjectiveMatrix.sources (int8, so a large candidate set stays small).
_RATING, _DERIVED, _MISSING, _EFFECTS, _MEASURED_EFFECTS = 0, 1, 2, 3, 4

PRIOR_WEIGHT: dict[ValueSource, float] = {ValueSource.DERIVED: 5.0, ValueSource.MEASURED_EFFECTS: 3.0,
                                          ValueSource.EFFECTS: 2.0, ValueSource.MISSING: 1.0}
"""How many ratings the evidence value of a cell counts as in the Bayesian average with users' ratings
(by the evidence's source): a measurement of the model outweighs a few ratings, the step measured for
its precision on other models somewhat less, Table 1's qualitative step less still, and the
uninformative neutral 3 counts as a single rating."""
_SOURCE_CODES = {_DERIVED: ValueSource.DERIVED, _MEASURED_EFFECTS: ValueSource.MEASURED_EFFECTS,
                 _EFFECTS: ValueSource.EFFECTS, _MISSING: ValueSource.MISSING}
_PRIOR_BY_CODE = {code: PRIOR_WEIGHT[source] for code, source in _SOURCE_CODES.items()}
_SOURCE_LABELS = {ValueSource.DERIVED: "measured", ValueSource.EFFECTS: "effect-derived (Table 1)",
                  ValueSource.MEASURED_EFFECTS: "measured effects", ValueSource.MISSING: "no data",
                  ValueSource.RATING: "rated"}


@dataclass(frozen=True)
class ObjectiveValue:
    """One model's value on one objective, where it came from, and a human-readable basis."""

    objective: Objective
    value: float
    source: ValueSource
    basis: str
    ratings: int = 0  # how many user ratings the value includes (Bayesian average, see the module docstring)
    rating_mean: float | None = None
    pairs: int = 0  # measured effects: how many paired measurements the value rests on

    @property
    def source_label(self) -> str:
        """How a person reads the source: 'measured', 'rated (3)', 'effect-derived (Table 1)',
        'measured effects (2,345 paired measurements)', 'measured + rated (1)', 'no data'."""
        if self.source == ValueSource.RATING:
            return f"rated ({self.ratings})"
        base = _SOURCE_LABELS[self.source]
        if self.source == ValueSource.MEASURED_EFFECTS:
            base += f" ({self.pairs:,} paired measurement{'s' if self.pairs != 1 else ''})"
        return f"{base} + rated ({self.ratings})" if self.ratings else base


@dataclass(frozen=True)
class RawMeasures:
    """The raw measures of one candidate that objective values are derived from (None = unknown)."""

    accuracy: float | None = None
    stability: float | None = None
    latency_cv: float | None = None
    has_cloud: bool = False
    shielded_execution: bool | None = None
    security_protocol: str | None = None
    cost_usd: float | None = None
    cost_per_device_usd: float | None = None
    inference_latency_ms: float | None = None
    system_latency_ms: float | None = None
    parameters: float | None = None
    macs: float | None = None
    layers: float | None = None
    techniques: int | None = None
    # points of accuracy the model's precision and runtime lose against float (dlom:accuracyLossPoints)
    accuracy_loss_points: float | None = None
    # the classes (with superclasses) of the techniques applied: what Table 1 effects are looked up by
    technique_classes: frozenset[str] = frozenset()
    # the dlom:precision of the techniques applied (e.g. 'w8a8'): what measured effects are looked up by
    technique_precisions: frozenset[str] = frozenset()


@dataclass
class RawColumns:
    """The raw measures of a candidate set as columns (NaN = unknown), the form retrieval produces."""

    accuracy: np.ndarray
    stability: np.ndarray
    latency_cv: np.ndarray
    has_cloud: np.ndarray  # bool
    shielded_execution: np.ndarray  # 1.0 yes, 0.0 no, NaN unknown
    security_protocol: Sequence[str | None]
    cost_usd: np.ndarray
    cost_per_device_usd: np.ndarray
    inference_latency_ms: np.ndarray
    system_latency_ms: np.ndarray
    parameters: np.ndarray
    macs: np.ndarray
    layers: np.ndarray
    techniques: np.ndarray
    accuracy_loss_points: np.ndarray | None = None  # None = not retrieved
    # per candidate, the classes (with superclasses) of its techniques; None = not retrieved (no effects)
    technique_classes: Sequence[frozenset[str]] | None = None
    # per candidate, the precisions of its techniques; None = not retrieved (no measured effects)
    technique_precisions: Sequence[frozenset[str]] | None = None

    def __len__(self) -> int:
        return len(self.accuracy)

    @classmethod
    def from_measures(cls, measures: Sequence[RawMeasures]) -> RawColumns:
        def col(name: str) -> np.ndarray:
            return np.array([np.nan if getattr(m, name) is None else float(getattr(m, name)) for m in measures], dtype=float)

        return cls(
            accuracy=col("accuracy"), stability=col("stability"), latency_cv=col("latency_cv"),
            has_cloud=np.array([m.has_cloud for m in measures], dtype=bool),
            shielded_execution=col("shielded_execution"),
            security_protocol=[m.security_protocol for m in measures],
            cost_usd=col("cost_usd"), cost_per_device_usd=col("cost_per_device_usd"),
            inference_latency_ms=col("inference_latency_ms"), system_latency_ms=col("system_latency_ms"),
            parameters=col("parameters"), macs=col("macs"), layers=col("layers"), techniques=col("techniques"),
            accuracy_loss_points=col("accuracy_loss_points"),
            technique_classes=[m.technique_classes for m in measures],
            technique_precisions=[m.technique_precisions for m in measures])


def _positive(x: np.ndarray) -> np.ndarray:
    """``x`` with non-positive values treated as unknown (they have no logarithm)."""
    return np.where(x > 0, x, np.nan)


def scale(raw: np.ndarray, forward: bool, log: bool = False) -> np.ndarray:
    """Min-max scaling of ``raw`` (NaN = unknown, kept NaN) onto 1..5, 5 best.

    ``forward``: higher raw is better. ``log``: scale log10(raw) (raw must be > 0). When all known
    values are equal the result is the neutral 3 for each of them.
    """
    x = np.log10(raw) if log else np.asarray(raw, dtype=float)
    known = ~np.isnan(x)
    out = np.full(x.shape, np.nan)
    if not known.any():
        return out
    lo, hi = float(np.min(x[known])), float(np.max(x[known]))
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        out[known] = NEUTRAL
        return out
    frac = (x[known] - lo) / (hi - lo)
    if not forward:
        frac = 1.0 - frac
    out[known] = SCALE_MIN + (SCALE_MAX - SCALE_MIN) * frac
    return out


def _first_known(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Element-wise the first non-NaN column's value, and which column (index, -1 = none) gave it."""
    value = np.full(columns[0].shape, np.nan)
    which = np.full(columns[0].shape, -1)
    for k, col in enumerate(columns):
        take = np.isnan(value) & ~np.isnan(col)
        value[take] = col[take]
        which[take] = k
    return value, which


# Table 1 as stored: one row per (family, objective). AVG folds duplicate effect statements (e.g. the
# same effect written into two graphs) into one number instead of counting them twice; rows whose
# effect is not a number are not effects and are left out rather than failing the recommendation.
# MIN picks the same label in every row of a family that has several.
_EFFECTS_QUERY = SPARQL_PREFIXES + """SELECT ?family ?objective (AVG(?effect) AS ?value)
  (MIN(STR(?label)) AS ?familyLabel)
WHERE {
  ?e a dlom:TechniqueEffect ; dlom:effectOf ?family ; dlom:onObjective ?objective ; dlom:effect ?effect .
  FILTER(isNumeric(?effect))
  OPTIONAL { ?family rdfs:label ?label }
}
GROUP BY ?family ?objective"""


@dataclass(frozen=True)
class TechniqueEffects:
    """Table 1 of the paper as read from the graph: ``effects[family IRI][objective]`` is the family's
    effect on the objective's 1-5 score (+1 improves, -1 worsens, 0 none); ``labels[family IRI]`` the
    family's rdfs:label, used in explanations (see :meth:`label`)."""

    effects: dict[str, dict[Objective, float]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, family: str) -> str:
        """How explanations name ``family``: its label, else the local name of its IRI."""
        return self.labels.get(family) or family.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def value_from(self, classes: Iterable[str], objective: Objective) -> tuple[float, str] | None:
        """The effects value of ``objective`` for a model whose techniques are instances of ``classes``
        and its basis text, or None when no family among them has a non-zero effect on it (see the
        module docstring for the rule)."""
        applied = sorted(((self.label(c), e) for c in set(classes)
                          if (e := self.effects.get(c, {}).get(objective)) is not None), key=lambda le: le[0])
        moving = [(label, e) for label, e in applied if e != 0]
        if not moving:
            return None
        total = sum(e for _, e in applied)
        unclamped = NEUTRAL + total
        value = min(max(unclamped, SCALE_MIN), SCALE_MAX)
        families = ", ".join(f"{label} ({e:+g})" for label, e in moving)
        basis = (f"from Table 1 effects of {families}: neutral {NEUTRAL:g} {'-' if total < 0 else '+'} "
                 f"{abs(total):g} = {unclamped:g}" + (f", clamped to {value:g}" if value != unclamped else ""))
        return value, basis


def read_technique_effects(store: Store, timeout_s: float | None = 30.0) -> TechniqueEffects:
    """Table 1's effects as the store holds them now (one query), passed to :func:`objective_matrix`.
    Values computed with them are kept only until the store changes, so a change to an effect shows in
    the next recommendation. Effects on IRIs that are not one of the six objectives are ignored."""
    result = store.select(_EFFECTS_QUERY, timeout_s=timeout_s)
    by_iri = _OBJECTIVE_BY_IRI
    effects: dict[str, dict[Objective, float]] = {}
    labels: dict[str, str] = {}
    for family, objective, value, label in result.rows:
        obj = by_iri.get(objective.value) if objective is not None else None  # type: ignore[union-attr]
        if family is None or obj is None or value is None:
            continue
        iri = family.value  # type: ignore[union-attr]
        effects.setdefault(iri, {})[obj] = float(value.value)  # type: ignore[union-attr]
        if label is not None:
            labels[iri] = label.value  # type: ignore[union-attr]
    return TechniqueEffects(effects, labels)


# What a measured effect speaks for: the objective, the statistic of PrecisionEffect that measures it,
# the value of no change, whether a higher value of the statistic is better, and how it reads.
_MEASURED_STATISTICS: dict[Objective, tuple[str, float, bool, str]] = {
    Objective.LATENCY: ("latency_ratio", 1.0, False, "latency ratio"),
    Objective.PERFORMANCE: ("accuracy_change", 0.0, True, "accuracy change (points)"),
}
_DIRECTION_WORDS = {Objective.LATENCY: ("faster", "slower"), Objective.PERFORMANCE: ("more accurate", "less accurate")}


def measured_step(d: Distribution, no_change: float, higher_is_better: bool) -> int:
    """The step a measured distribution of paired changes gives an objective's 1-5 score: +1 when its
    interquartile range lies wholly on the improving side of ``no_change``, -1 when wholly on the
    worsening side, 0 otherwise (the middle half of the pairs do not agree on a direction). A
    distribution without pairs gives 0."""
    if not d.n or d.q1 is None or d.q3 is None:
        return 0
    if d.q1 > no_change:
        return 1 if higher_is_better else -1
    if d.q3 < no_change:
        return -1 if higher_is_better else 1
    return 0


@dataclass(frozen=True)
class MeasuredEffects:
    """The measured effects of precisions against float (:func:`decision.measured_effects.measured_effects`,
    every pair of the store) by precision name, as objective values use them (see the module docstring)."""

    by_precision: dict[str, PrecisionEffect] = field(default_factory=dict)

    def value_from(self, precisions: Iterable[str], objective: Objective) -> tuple[float | None, str, int] | None:
        """For a model whose techniques carry ``precisions``: None when none of them has paired
        measurements of the statistic that measures ``objective``; else (the value — None when the
        steps sum to 0, "no consistent change", which leaves the cell missing —, its basis, the number
        of pairs)."""
        spec = _MEASURED_STATISTICS.get(objective)
        if spec is None:
            return None
        attribute, no_change, higher_is_better, name = spec
        better, worse = _DIRECTION_WORDS[objective]
        parts, total, pairs = [], 0, 0
        for precision in sorted(set(precisions)):
            effect = self.by_precision.get(precision)
            d: Distribution | None = getattr(effect, attribute) if effect is not None else None
            if d is None or not d.n or d.median is None:
                continue
            step = measured_step(d, no_change, higher_is_better)
            total, pairs = total + step, pairs + d.n
            if attribute == "latency_ratio":
                spread = f"median {d.median:.2f} (IQR {d.q1:.2f}–{d.q3:.2f}"
            else:
                spread = f"median {d.median:+.2f} (IQR {d.q1:+.2f} to {d.q3:+.2f}"
            what = better if step > 0 else (worse if step < 0 else "no consistent change")
            parts.append(f"{precision} vs {FLOAT}: {name} {spread}, {d.n:,} pair{'s' if d.n != 1 else ''} "
                         f"on this graph): {what} ({step:+d})")
        if not parts:
            return None
        head = "from measured effects of " + "; ".join(parts)
        if total == 0:
            return None, f"{head} → no data: neutral {NEUTRAL:g}", pairs
        unclamped = NEUTRAL + total
        value = min(max(unclamped, SCALE_MIN), SCALE_MAX)
        return value, (f"{head} → neutral {NEUTRAL:g} {'-' if total < 0 else '+'} {abs(total):g} = {unclamped:g}"
                       + (f", clamped to {value:g}" if value != unclamped else "")), pairs


@dataclass
class ObjectiveMatrix:
    """Objective values of a candidate set (rows: candidates, columns: :data:`OBJECTIVES`).

    ``values`` holds what Eq. 1 uses; ``sources`` the :class:`ValueSource` code per cell (0 rating
    only, 1 derived, 2 missing, 3 effects, 4 measured effects); ``basis`` an index into ``basis_labels``
    per cell (a missing or rating-only cell may have one: measured effects that found no consistent
    change); ``rating_counts`` / ``rating_means`` the users' ratings per cell (0 / NaN: none),
    ``priors`` the evidence value they were averaged with, and ``pairs`` the paired measurements a
    measured-effects cell rests on. Per-cell objects are only built on demand
    (:meth:`detail`) so a 10k-candidate set stays a few numpy arrays.
    """

    values: np.ndarray
    sources: np.ndarray
    basis: np.ndarray
    basis_labels: list[str]
    shielded_execution: np.ndarray
    security_protocol: Sequence[str | None]
    rating_counts: np.ndarray | None = None
    rating_means: np.ndarray | None = None
    priors: np.ndarray | None = None
    pairs: np.ndarray | None = None

    def _security_basis(self, i: int) -> str:
        shielded = self.shielded_execution[i]
        return (f"cloud configuration: shielded execution {'yes' if shielded == 1.0 else ('no' if shielded == 0.0 else 'unknown')}, "
                f"security protocol {self.security_protocol[i] or 'none'} (2 + 2 if shielded + 1 if a protocol)")

    def detail(self, i: int) -> list[ObjectiveValue]:
        """The six values of candidate ``i`` with their source and basis."""
        out = []
        for j, obj in enumerate(OBJECTIVES):
            code = int(self.sources[i, j])
            n = int(self.rating_counts[i, j]) if self.rating_counts is not None else 0
            mean = float(self.rating_means[i, j]) if n and self.rating_means is not None else None
            value = float(self.values[i, j])
            label = self.basis_labels[int(self.basis[i, j])]
            pairs = int(self.pairs[i, j]) if self.pairs is not None else 0
            if code == _RATING:
                source, basis = ValueSource.RATING, label or "no measurement or Table 1 effect: the neutral 3"
            elif code == _DERIVED:
                source = ValueSource.DERIVED
                basis = self._security_basis(i) if j == 2 else label
            elif code in (_EFFECTS, _MEASURED_EFFECTS):
                source, basis = _SOURCE_CODES[code], label
            else:
                source, basis = ValueSource.MISSING, label or "no data: neutral 3"
            if n and mean is not None and self.priors is not None:
                w = _PRIOR_BY_CODE[_MISSING if code == _RATING else code]
                prior = float(self.priors[i, j])
                basis += (f"; Bayesian average with {n} user rating(s) (mean {mean:.3g}): "
                          f"({w:g} × {prior:.3g} + {n} × {mean:.3g}) / ({w:g} + {n}) = {value:.3g}")
            out.append(ObjectiveValue(obj, value, source, basis, n, mean, pairs if code == _MEASURED_EFFECTS else 0))
        return out


class _Basis(IntEnum):
    """The fixed entries of ``ObjectiveMatrix.basis_labels`` (complexity mixes and effects follow them)."""

    NONE = 0
    ACCURACY = 1
    STABILITY = 2
    LATENCY_CV = 3
    PROJECT_COST = 4
    COST_PER_DEVICE = 5
    INFERENCE_LATENCY = 6
    SYSTEM_LATENCY = 7
    ACCURACY_LOSS = 8


_BASIS_LABELS: dict[_Basis, str] = {
    _Basis.NONE: "",
    _Basis.ACCURACY: "accuracy (min-max over candidates)",
    _Basis.STABILITY: "stability variance (reverse min-max)",
    _Basis.LATENCY_CV: "latency coefficient of variation (reverse min-max)",
    _Basis.PROJECT_COST: "projected deployment cost USD (reverse log min-max)",
    _Basis.COST_PER_DEVICE: "cost per device USD (reverse log min-max)",
    _Basis.INFERENCE_LATENCY: "inference latency ms (reverse log min-max)",
    _Basis.SYSTEM_LATENCY: "system latency ms (reverse log min-max)",
    _Basis.ACCURACY_LOSS: ("accuracy points lost against float, measured for the model's network, precision and "
                           "runtime, possibly on another device (reverse min-max over candidates without an accuracy)"),
}
_COMPLEXITY_PARTS = ("parameters", "MACs", "layers", "techniques")


def _complexity_label(mask: int) -> str:
    return "mean of reverse-scaled " + ", ".join(n for k, n in enumerate(_COMPLEXITY_PARTS) if mask & (1 << k))


def _label_index(labels: list[str]) -> Callable[[str], int]:
    """A function giving a basis text's index in ``labels``, appending it the first time."""
    index: dict[str, int] = {}

    def of(text: str) -> int:
        k = index.get(text)
        if k is None:
            labels.append(text)
            k = index[text] = len(labels) - 1
        return k
    return of


def _mixes(column: Sequence[frozenset[str]]) -> tuple[np.ndarray, list[frozenset[str]]]:
    """(per candidate, the index of its set among the distinct sets; the distinct sets). Candidates share
    a few technique mixes: each is worked out once, then all cells are filled at once."""
    if isinstance(column, EncodedColumn):
        of_candidate, mixes = column.distinct()
        return of_candidate, [m or frozenset() for m in mixes]
    index: dict[frozenset[str], int] = {}
    of_candidate = np.fromiter((index.setdefault(mix, len(index)) for mix in column), dtype=np.intp, count=len(column))
    return of_candidate, list(index)


def _apply_measured_effects(values: np.ndarray, sources: np.ndarray, basis: np.ndarray, labels: list[str],
                            pairs: np.ndarray, precisions: Sequence[frozenset[str]],
                            measured: MeasuredEffects) -> np.ndarray:
    """Fill the missing cells that measured effects determine (in place; see the module docstring);
    returns the missing cells they cover (filled, or left missing as 'no consistent change'), which
    Table 1 does not fill."""
    of_candidate, mixes = _mixes(precisions)
    mix_values = np.full((len(mixes), N_OBJECTIVES), np.nan)
    mix_covered = np.zeros((len(mixes), N_OBJECTIVES), dtype=bool)
    mix_basis = np.zeros((len(mixes), N_OBJECTIVES), dtype=basis.dtype)
    mix_pairs = np.zeros((len(mixes), N_OBJECTIVES), dtype=pairs.dtype)
    label_of = _label_index(labels)
    for m, mix in enumerate(mixes):
        for j, obj in enumerate(OBJECTIVES):
            found = measured.value_from(mix, obj) if mix else None
            if found is None:
                continue
            value, text, n = found
            mix_covered[m, j], mix_basis[m, j], mix_pairs[m, j] = True, label_of(text), n
            if value is not None:
                mix_values[m, j] = value
    # np.copyto(where=) rather than boolean-mask assignment: one pass, no gathered temporaries
    covered = mix_covered[of_candidate] & (sources == _MISSING)
    candidate_values = mix_values[of_candidate]
    fill = covered & ~np.isnan(candidate_values)
    np.copyto(values, candidate_values, where=fill)
    np.copyto(sources, _MEASURED_EFFECTS, where=fill)
    np.copyto(basis, mix_basis[of_candidate], where=covered)
    np.copyto(pairs, mix_pairs[of_candidate], where=covered)
    return covered


def _apply_effects(values: np.ndarray, sources: np.ndarray, basis: np.ndarray, labels: list[str],
                   classes: Sequence[frozenset[str]], effects: TechniqueEffects,
                   blocked: np.ndarray | None = None) -> None:
    """Fill the missing cells that Table 1 effects determine, except the ``blocked`` ones (in place;
    see the module docstring)."""
    of_candidate, mixes = _mixes(classes)
    mix_values = np.full((len(mixes), N_OBJECTIVES), np.nan)
    mix_basis = np.zeros((len(mixes), N_OBJECTIVES), dtype=basis.dtype)
    label_of = _label_index(labels)
    for m, mix in enumerate(mixes):
        for j, obj in enumerate(OBJECTIVES):
            found = effects.value_from(mix, obj) if mix else None
            if found is not None:
                mix_values[m, j], mix_basis[m, j] = found[0], label_of(found[1])
    candidate_values = mix_values[of_candidate]
    fill = ~np.isnan(candidate_values) & (sources == _MISSING)
    if blocked is not None:
        fill &= ~blocked
    np.copyto(values, candidate_values, where=fill)
    np.copyto(basis, mix_basis[of_candidate], where=fill)
    np.copyto(sources, _EFFECTS, where=fill)


Ratings = Sequence[dict[Objective, tuple[float, int]]] | Mapping[int, dict[Objective, tuple[float, int]]]
"""Users' ratings of candidates: per candidate (a sequence), or by candidate index for the rated ones only."""


def objective_matrix(measures: Sequence[RawMeasures] | RawColumns,
                     ratings: Ratings | None = None,
                     effects: TechniqueEffects | None = None,
                     measured: MeasuredEffects | None = None) -> ObjectiveMatrix:
    """The objective values of a candidate set: the value derived from the raw measures, else — given
    ``measured`` and the candidates' technique precisions — the value from the measured effects of
    their precisions (latency, performance), else — given ``effects`` and the candidates' technique
    classes — the value from Table 1's effects, else the neutral 3 marked missing; then combined with
    the users' ratings (``ratings[i]`` maps an objective to (mean, count)) as a Bayesian average
    weighted by the number of ratings (:data:`PRIOR_WEIGHT`).

    Each fallback measure (e.g. system latency when inference latency is unknown) is scaled over the
    candidates that use it, so different measures are never mixed on one min-max range.
    """
    raw = measures if isinstance(measures, RawColumns) else RawColumns.from_measures(measures)
    derived = _DerivedValues(len(raw))
    derived.from_measures(raw)
    values, basis, labels = derived.values, derived.basis, derived.labels
    sources = np.where(np.isnan(values), _MISSING, _DERIVED).astype(np.int8)
    pairs = np.zeros(values.shape, dtype=np.int64)
    covered = None
    # only cells still missing: a measurement of the model already reflects what its techniques did
    if measured is not None and raw.technique_precisions is not None:
        covered = _apply_measured_effects(values, sources, basis, labels, pairs, raw.technique_precisions, measured)
    if effects is not None and raw.technique_classes is not None:
        _apply_effects(values, sources, basis, labels, raw.technique_classes, effects, covered)
    values[sources == _MISSING] = NEUTRAL
    priors = values.copy()
    rating_counts, rating_means = _average_with_ratings(values, sources, priors, ratings or {})
    return ObjectiveMatrix(values, sources, basis, labels, raw.shielded_execution, raw.security_protocol,
                           rating_counts, rating_means, priors, pairs)


class _DerivedValues:
    """The objective values the raw measures give (NaN where they give none), each cell with the index
    of its basis label; one method per objective, addressed by :class:`Objective`, not by position."""

    def __init__(self, n: int) -> None:
        self.values = np.full((n, N_OBJECTIVES), np.nan)
        self.basis = np.zeros((n, N_OBJECTIVES), dtype=np.int64)
        self.labels = [_BASIS_LABELS[b] for b in _Basis]

    def put(self, objective: Objective, scaled: np.ndarray, basis: int) -> None:
        take = ~np.isnan(scaled)
        col = OBJECTIVES.index(objective)
        np.copyto(self.values[:, col], scaled, where=take)
        np.copyto(self.basis[:, col], basis, where=take)

    def from_measures(self, raw: RawColumns) -> None:
        self.put(Objective.PERFORMANCE, scale(raw.accuracy, forward=True), _Basis.ACCURACY)
        if raw.accuracy_loss_points is not None:  # scaled apart: points lost are not an accuracy
            lost = np.where(np.isnan(raw.accuracy), raw.accuracy_loss_points, np.nan)
            self.put(Objective.PERFORMANCE, scale(lost, forward=False), _Basis.ACCURACY_LOSS)
        self.first_known(Objective.RELIABILITY, (raw.stability, _Basis.STABILITY),
                         (raw.latency_cv, _Basis.LATENCY_CV), log=False)
        self.security(raw)
        self.first_known(Objective.COST, (_positive(raw.cost_usd), _Basis.PROJECT_COST),
                         (_positive(raw.cost_per_device_usd), _Basis.COST_PER_DEVICE), log=True)
        self.first_known(Objective.LATENCY, (_positive(raw.inference_latency_ms), _Basis.INFERENCE_LATENCY),
                         (_positive(raw.system_latency_ms), _Basis.SYSTEM_LATENCY), log=True)
        self.complexity(raw)

    def first_known(self, objective: Objective, preferred: tuple[np.ndarray, _Basis],
                    fallback: tuple[np.ndarray, _Basis], *, log: bool) -> None:
        """Reverse-scaled (lower is better) from the preferred measure, else the fallback; each scaled
        over the candidates that use it."""
        _, which = _first_known(preferred[0], fallback[0])
        for k, (column, basis) in enumerate((preferred, fallback)):
            self.put(objective, scale(np.where(which == k, column, np.nan), forward=False, log=log), basis)

    def security(self, raw: RawColumns) -> None:
        """2 for a cloud part with what it secures known, +2 for shielded execution, +1 for a protocol."""
        protocols = raw.security_protocol
        has_protocol = (protocols.test(bool) if isinstance(protocols, EncodedColumn)
                        else np.array([bool(p) for p in protocols], dtype=bool))
        shielded_known = ~np.isnan(raw.shielded_execution)
        secured = raw.has_cloud & (shielded_known | has_protocol)
        self.values[secured, OBJECTIVES.index(Objective.SECURITY)] = (
            2.0 + 2.0 * (raw.shielded_execution[secured] == 1.0) + 1.0 * has_protocol[secured])

    def complexity(self, raw: RawColumns) -> None:
        """The mean of the reverse-scaled parts (:data:`_COMPLEXITY_PARTS`) a candidate has, labelled by
        which parts those were."""
        stack = np.vstack([
            scale(_positive(raw.parameters), forward=False, log=True),
            scale(_positive(raw.macs), forward=False, log=True),
            scale(_positive(raw.layers), forward=False, log=True),
            scale(raw.techniques, forward=False),
        ])
        known = ~np.isnan(stack)
        counts = known.sum(axis=0)
        has = counts > 0
        col = OBJECTIVES.index(Objective.COMPLEXITY)
        self.values[has, col] = np.where(known, stack, 0.0).sum(axis=0)[has] / counts[has]
        masks = (known * (1 << np.arange(len(_COMPLEXITY_PARTS)))[:, None]).sum(axis=0)
        for mask in np.unique(masks[has]):
            self.labels.append(_complexity_label(int(mask)))
            self.basis[has & (masks == mask), col] = len(self.labels) - 1


def _average_with_ratings(values: np.ndarray, sources: np.ndarray, priors: np.ndarray,
                          ratings: Ratings) -> tuple[np.ndarray, np.ndarray]:
    """Combine each rated cell with its evidence value ``priors`` as a Bayesian average (in place on
    ``values`` and ``sources``); returns the rating counts and means per cell (0 / NaN: none)."""
    rating_counts = np.zeros(values.shape, dtype=np.int64)
    rating_means = np.full(values.shape, np.nan)
    column = {obj: j for j, obj in enumerate(OBJECTIVES)}
    cells = [(i, column[obj], float(mean), int(count))
             for i, rated in (ratings.items() if isinstance(ratings, Mapping) else enumerate(ratings))
             for obj, (mean, count) in rated.items() if count > 0]
    if not cells:
        return rating_counts, rating_means
    rows, cols = np.array([c[0] for c in cells], dtype=np.intp), np.array([c[1] for c in cells], dtype=np.intp)
    means, counts = np.array([c[2] for c in cells]), np.array([c[3] for c in cells], dtype=np.int64)
    weight_of = np.full(max(_PRIOR_BY_CODE) + 1, np.nan)
    weight_of[list(_PRIOR_BY_CODE)] = list(_PRIOR_BY_CODE.values())
    w = weight_of[sources[rows, cols]]
    values[rows, cols] = (w * priors[rows, cols] + counts * means) / (w + counts)
    rating_counts[rows, cols], rating_means[rows, cols] = counts, means
    missing = sources[rows, cols] == _MISSING
    sources[rows[missing], cols[missing]] = _RATING  # ratings are the only evidence
    return rating_counts, rating_means
