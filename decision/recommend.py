"""The DSS workflow of Fig. 6: requirements → retrieval → preference elicitation → Eq. 1 ranking with
explanations, the Pareto front and the sensitivity of the top choice — or, when nothing matches, the
hand-off to the prediction model (and an honest status when there is none).

Honest about what is not applied (:mod:`decision.applicability`): a stated requirement that no
candidate records the data for is *not applied* — reported in ``requirements_applied`` with the reason
and marked ``not_applied`` in each explanation — instead of excluding everything (or silently
nothing). Diverse: near-identical variants of one configuration fill one place in the top k, with
the others counted under it (:mod:`decision.diversity`).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from decision.applicability import NOT_APPLIED, Applicability, assess_coverage, checkable_fields, loose_requirements
from decision.checks import RequirementCheck, check_requirements, soft_met_counts
from decision.diversity import group_variants, variant_keys
from decision.elicitation import AHPResult, elicit, explicit_weights
from decision.evidence import Evidence, evidence_for
from decision.facet_index import build_index_quietly
from decision.measured_effects import read_measured_effects
from decision.objectives import (OBJECTIVES, ObjectiveMatrix, ObjectiveValue, ValueSource, objective_matrix,
                                 read_technique_effects)
from decision.pareto import pareto_front
from decision.prediction import NO_PREDICTOR_MESSAGE, CandidatePredictor, PredictedCandidate
from decision.ratings import candidate_ratings
from decision.requirements import Requirements, parse_requirements
from decision.retrieval import Candidate, CandidateSet, candidate_key, labels_of, load_candidates, retrieve
from decision.scoring import Contribution, contributions, overall_scores, ranking, tie_order
from decision.sensitivity import WeightSensitivity, top_choice_sensitivity
from kg.derived_results import derived, derived_per_item
from kg.errors import DlomError
from kg.namespaces import DLOM_VOCABULARIES
from kg.store import Store

STATUS_OK = "ok"
STATUS_NO_MATCH = "no_match"
STATUS_PREDICTED = "predicted"


@dataclass
class Explanation:
    """Why a model is where it is: its score, each objective's contribution (w_i × value_i) with the
    value's source, the requirements it meets and by how much, and the evidence behind its figures."""

    rank: int
    model: str
    label: str
    score: float
    on_pareto_front: bool
    predicted: bool
    values: list[ObjectiveValue]
    contributions: list[Contribution]
    requirements: list[RequirementCheck]
    evidence: list[Evidence]
    attributes: dict[str, Any]
    # near-identical variants of this configuration ranked below it: {"model", "label", "rank", "score"}
    similar: list[dict[str, Any]] = field(default_factory=list)
    similar_count: int = 0  # how many variants are grouped under it (the first SIMILAR_LISTED are listed)


@dataclass
class Recommendation:
    status: str
    message: str
    weights: dict[str, float]
    preference: AHPResult | None
    candidates_considered: int
    recommendations: list[Explanation] = field(default_factory=list)
    pareto_front: list[dict[str, Any]] = field(default_factory=list)
    sensitivity: list[WeightSensitivity] = field(default_factory=list)
    sensitivity_labels: dict[int, str] = field(default_factory=dict)
    predictions: list[PredictedCandidate] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    requirements_applied: list[Applicability] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (what the CLI's --format json and the REST API return)."""
        pref = self.preference
        return {
            "status": self.status,
            "message": self.message,
            "weights": self.weights,
            "consistency": None if pref is None else {
                "method": pref.method,
                "consistency_ratio": pref.consistency_ratio,
                "consistent": pref.consistent,
                "lambda_max": pref.lambda_max,
                "missing_comparisons": pref.missing_pairs,
                "note": pref.note(),
                "most_inconsistent": [{"more": d.more.value, "less": d.less.value, "given": d.given,
                                       "implied": d.implied, "log_deviation": d.log_deviation}
                                      for d in pref.most_inconsistent],
            },
            "candidates_considered": self.candidates_considered,
            "requirements_applied": [a.to_dict() for a in self.requirements_applied],
            "recommendations": [_explanation_dict(e) for e in self.recommendations],
            "pareto_front": self.pareto_front,
            "sensitivity": [{
                "objective": s.objective.value, "weight": s.weight,
                "lowest_weight": s.lowest_weight, "highest_weight": s.highest_weight,
                "decrease_margin": s.decrease_margin, "increase_margin": s.increase_margin,
                "overtaken_below_by": self.sensitivity_labels.get(s.overtaken_below_by) if s.overtaken_below_by is not None else None,
                "overtaken_above_by": self.sensitivity_labels.get(s.overtaken_above_by) if s.overtaken_above_by is not None else None,
            } for s in self.sensitivity],
            "predictions": [{"label": p.label, "dln": p.dln, "devices": list(p.devices), "metrics": p.metrics,
                             "confidence": p.confidence, "predictor_version": p.predictor_version,
                             "techniques": list(p.techniques), "predicted": True} for p in self.predictions],
            "timings_ms": self.timings_ms,
        }


def _explanation_dict(e: Explanation) -> dict[str, Any]:
    return {
        "rank": e.rank, "model": e.model, "label": e.label, "score": e.score,
        "on_pareto_front": e.on_pareto_front, "predicted": e.predicted,
        "objectives": [{"objective": v.objective.value, "value": v.value, "source": v.source.value, "basis": v.basis,
                        # a predicted model's own values are predictions; measured effects are still measured
                        "source_label": (v.source_label.replace("measured", "predicted")
                                         if e.predicted and v.source == ValueSource.DERIVED else v.source_label),
                        "pairs": v.pairs,
                        "ratings": v.ratings, "rating_mean": v.rating_mean,
                        "weight": c.weight, "contribution": c.contribution}
                       for v, c in zip(e.values, e.contributions)],
        "requirements": [{"field": r.field, "required": r.required, "actual": r.actual, "status": r.status,
                          "margin": r.margin, "unit": r.unit.strip(), "mandatory": r.mandatory,
                          "text": r.describe()} for r in e.requirements],
        "evidence": [vars(x) for x in e.evidence],
        "attributes": e.attributes,
        "similar_count": e.similar_count,
        "similar": e.similar,
    }


def preference_weights(req: Requirements) -> AHPResult:
    """The weights the user's preferences give (explicit weights, or AHP over the comparisons)."""
    if req.preferences.weights is not None:
        return explicit_weights(req.preferences.weights)
    return elicit(req.preferences.comparisons)


def _attributes(c: Candidate) -> dict[str, Any]:
    return {k: v for k, v in {
        "application_area": c.application_area, "purpose": c.purpose, "year_created": c.year,
        "total_cost_usd": c.total_cost_usd, "projected_cost_usd": c.projected_cost_usd,
        "number_of_devices": c.number_of_devices, "cost_per_device_usd": c.cost_per_device_usd,
        "dln": c.dln_label, "layers": c.layers, "parameters": c.parameters, "training_dataset": c.training_dataset,
        # IoT devices only: a benchmark host is a machine DLOM measured on, never presented as one
        "devices": [label for iri, label in c.devices.items() if iri not in c.benchmark_hosts],
        "benchmark_hosts": [label for iri, label in c.devices.items() if iri in c.benchmark_hosts] or None,
        "cost_basis": _cost_basis(c), "device_prices_usd": {c.devices[d]: p for d, p in c.device_prices_usd.items()} or None,
        "memory_kb": None if c.devices and set(c.devices) <= c.benchmark_hosts else c.memory_kb,
        "host_memory_kb": c.memory_kb if c.devices and set(c.devices) <= c.benchmark_hosts else None,
        "clock_mhz": c.clock_mhz, "form_factors": sorted(c.form_factors) or None,
        "server_hardware": c.server_hardware, "shielded_execution": c.shielded_execution,
        "accuracy": c.metric("accuracy"), "inference_latency_ms": c.metric("inferenceLatencyMs"),
        "energy_per_inference_uj": c.metric("energyPerInferenceUj"), "throughput_ips": c.metric("throughputIps"),
        "techniques": c.techniques,
    }.items() if v is not None}


def _cost_basis(c: Candidate) -> str | None:
    """Where the projected cost comes from (no cost is invented)."""
    if c.projected_cost_usd is None:
        return None
    if c.total_cost_usd is not None:
        if c.projected_cost_usd != c.total_cost_usd:
            return "recorded total cost, adjusted by the recorded cost per device to the wanted number of devices"
        return "recorded total cost of the model"
    return "recorded device price × number of devices (device hardware only)"


def _not_applied(checks: list[RequirementCheck], not_applied: set[str]) -> list[RequirementCheck]:
    return [RequirementCheck(r.field, r.required, r.actual, NOT_APPLIED, None, r.unit, True)  # type: ignore[arg-type]
            if r.field in not_applied else r for r in checks]


@dataclass
class RankedSet:
    """The numeric core of a recommendation (kept separate so it can be timed and tested alone)."""

    values: np.ndarray
    scores: np.ndarray
    order: np.ndarray
    front: np.ndarray
    sensitivity: list[WeightSensitivity]


def rank_candidates(values: np.ndarray, weights: np.ndarray, tie_breakers: list[np.ndarray] | None = None,
                    front: np.ndarray | None = None, settled: np.ndarray | None = None) -> RankedSet:
    """Eq. 1 scores, the ranking, the Pareto front and the top choice's sensitivity. The front and the
    tie order (``settled``, :func:`decision.scoring.tie_order`) do not depend on the weights: computed
    here unless given."""
    scores = overall_scores(values, weights)
    order = ranking(scores, values, tie_breakers or [], settled)
    front = pareto_front(values) if front is None else front
    sens: list[WeightSensitivity] = []
    if len(order):
        # Only a model of the Pareto front can overtake the top one: a dominated model's line never
        # rises above its dominator's for any weights in [0, 1], so its dominator crosses first.
        # (The top one is on the front: the tie order puts a dominator first.)
        rows = np.union1d(front, [int(order[0])])
        top = int(np.searchsorted(rows, int(order[0])))
        sens = [replace(s, overtaken_below_by=None if s.overtaken_below_by is None else int(rows[s.overtaken_below_by]),
                        overtaken_above_by=None if s.overtaken_above_by is None else int(rows[s.overtaken_above_by]))
                for s in top_choice_sensitivity(values[rows], weights, top)]
    return RankedSet(values, scores, order, front, sens)


def recommend(store: Store, requirements: Requirements | Mapping[str, Any], *,
              predictor: CandidatePredictor | Callable[[], CandidatePredictor | None] | None = None,
              top_k: int = 5, timeout_s: float | None = 30.0, diverse: bool = True) -> Recommendation:
    """Run the DSS. Raises decision.requirements.RequirementsError for invalid requirements and
    decision.elicitation.PreferenceError when the comparisons do not determine weights.

    ``predictor`` is asked for new configurations when nothing matches; it may be given as a function
    returning one (or None), called only then, so that a costly model loads only when it is needed.

    ``diverse`` (default): near-identical variants of one configuration take one place in the top
    ``top_k`` (each explanation counts and lists the others under ``similar``); False: the plain
    ranking."""
    t0 = time.perf_counter()
    req = requirements if isinstance(requirements, Requirements) else parse_requirements(requirements)
    pref = preference_weights(req)
    weights = {o.value: float(w) for o, w in zip(OBJECTIVES, pref.weights)}
    req, found, applied = _retrieve_applicable(store, req, timeout_s)
    not_applied = {a.field for a in applied if a.status == NOT_APPLIED}
    t_retrieved = time.perf_counter()
    n = len(found)
    if not n:
        rec = Recommendation(STATUS_NO_MATCH, NO_PREDICTOR_MESSAGE, weights, pref, 0, requirements_applied=applied)
        if callable(predictor) and not hasattr(predictor, "predict"):
            predictor = predictor()
        if predictor is not None:
            rec.predictions = list(predictor.predict(req, limit=top_k))
            if rec.predictions:
                rec.status = STATUS_PREDICTED
                rec.message = (f"no matching models; the prediction model ({predictor.version}) proposes "
                               f"{len(rec.predictions)} predicted configuration(s) — predicted, not measured")
            else:
                rec.message = f"no matching models, and the prediction model ({predictor.version}) proposed none"
        rec.timings_ms = {"retrieval": (t_retrieved - t0) * 1000, "total": (time.perf_counter() - t0) * 1000}
        return rec

    def values_of_candidates() -> ObjectiveMatrix:
        # Table 1's effects, like the measured ones, are the store's, not the question's: kept across questions
        effects = derived(store, ("decision.technique_effects",), lambda: read_technique_effects(store, timeout_s=timeout_s),
                          DLOM_VOCABULARIES)
        measured = read_measured_effects(store) if found.technique_precisions.test(bool).any() else None
        return objective_matrix(found.raw_columns(), candidate_ratings(store, found), effects, measured)

    # The values depend on the store and the requirements, not on the preferences: kept until the store
    # changes (a new rating, measurement or an edited Table 1 effect shows in the next call), so re-ranking is cheap.
    # (the key of every result derived from the candidate set: it builds the retrieval query, so once)
    set_key = candidate_key(req)
    matrix = derived(store, ("decision.objective_matrix", set_key), values_of_candidates, DLOM_VOCABULARIES)
    t_rank = time.perf_counter()
    ties = [soft_met_counts(found, req)] if req.preferred else []
    front = derived(store, ("decision.pareto_front", set_key), lambda: pareto_front(matrix.values),
                    DLOM_VOCABULARIES)
    settled = derived(store, ("decision.tie_order", set_key, tuple(t.tobytes() for t in ties)),
                      lambda: tie_order(matrix.values, ties), DLOM_VOCABULARIES)
    ranked = rank_candidates(matrix.values, pref.weights, ties, front, settled)
    ranking_ms = (time.perf_counter() - t_rank) * 1000

    front_set = set(ranked.front.tolist())
    position = np.empty(n, dtype=int)
    position[ranked.order] = np.arange(1, n + 1)
    if diverse:
        keys = derived(store, ("decision.variant_keys", set_key), lambda: variant_keys(store, found),
                       DLOM_VOCABULARIES)
        groups = group_variants(ranked.order, keys, top_k)
    else:
        groups = group_variants(ranked.order, None, top_k)
    top = [g.representative for g in groups]
    members = {g.representative: g.members for g in groups}
    listed = {i: ks[:SIMILAR_LISTED] for i, ks in members.items()}
    # What the shown models are read for is kept per model until the store changes: under new weights
    # the top five mostly share models with the last five asked for.
    similar_labels = _labels(store, [found.iris[k] for ks in listed.values() for k in ks])
    shown = derived_per_item(store, ("decision.shown_candidates", set_key), top,
                             lambda todo: load_candidates(store, found, todo), DLOM_VOCABULARIES)
    proofs = derived_per_item(store, ("decision.evidence",), [r for i in top for r in found.records[i]],
                              lambda todo: evidence_for(store, todo), DLOM_VOCABULARIES)
    explanations = []
    for i in top:
        c = shown[i]
        explanations.append(Explanation(
            rank=int(position[i]), model=c.iri, label=c.label, score=float(ranked.scores[i]),
            on_pareto_front=i in front_set, predicted=bool(found.predicted[i]), values=matrix.detail(i),
            contributions=contributions(matrix.values[i], pref.weights),
            requirements=_not_applied(check_requirements(c, req), not_applied),
            evidence=_distinct_evidence([proofs[r] for r in sorted(found.records[i])]), attributes=_attributes(c),
            similar=[{"model": found.iris[k], "label": similar_labels[found.iris[k]], "rank": int(position[k]),
                      "score": float(ranked.scores[k])} for k in listed[i]],
            similar_count=len(members[i])))
    overtakers = {k for s in ranked.sensitivity for k in (s.overtaken_below_by, s.overtaken_above_by) if k is not None}
    label = _labels(store, [found.iris[i] for i in sorted(front_set | overtakers)])
    front = sorted(({"model": found.iris[i], "label": label[found.iris[i]], "rank": int(position[i]),
                     "score": float(ranked.scores[i]),
                     "values": {o.value: float(v) for o, v in zip(OBJECTIVES, matrix.values[i])},
                     "measures": found.measures(i)}
                    for i in ranked.front), key=lambda d: d["rank"])
    labels = {k: label[found.iris[k]] for k in overtakers}
    grouped = sum(len(g.members) for g in groups)
    message = (f"{n} model(s) match the requirements" + (f"; showing the top {len(top)}" if n > len(top) else "")
               + (f" ({grouped} near-identical variant(s) grouped under them)" if grouped else "")
               + f"; {len(front)} on the Pareto front")
    if not_applied:
        message += "; not applied (the data cannot check them): " + ", ".join(sorted(not_applied))
    return Recommendation(STATUS_OK, message, weights, pref, n, explanations, front, ranked.sensitivity, labels,
                          timings_ms={"retrieval": (t_retrieved - t0) * 1000, "ranking": ranking_ms,
                                      "total": (time.perf_counter() - t0) * 1000},
                          requirements_applied=applied)


def _labels(store: Store, iris: list[str]) -> dict[str, str]:
    """:func:`decision.retrieval.labels_of`, each model's kept until the store changes."""
    return derived_per_item(store, ("decision.model_labels",), iris, lambda todo: labels_of(store, todo),
                            DLOM_VOCABULARIES)


SIMILAR_LISTED = 5  # how many of a group's variants an explanation lists (all are counted)


def _distinct_evidence(evidence: list[Evidence]) -> list[Evidence]:
    """The evidence records, one line per distinct provenance (several records of one run, round,
    submitter and source files read as one line, not repeated)."""
    seen: set[tuple] = set()
    out = []
    for e in evidence:
        key = (e.kind, e.activity, e.round, tuple(e.submitters), tuple(e.source_files), e.predictor_version)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _retrieve_applicable(store: Store, req: Requirements,
                         timeout_s: float | None) -> tuple[Requirements, CandidateSet, list[Applicability]]:
    """The candidates with every requirement the data can check applied, and the report of which are
    (see :mod:`decision.applicability`). Returns the requirements the set was retrieved with (the
    not-applied ones moved to ``preferred``: they rank nothing and filter nothing), the set, and the
    report. When the strict retrieval finds candidates, every requirement was checkable."""
    found = retrieve(store, req, timeout_s=timeout_s)
    checkable = checkable_fields(req)
    if not checkable and req.project.number_of_devices is None:
        return req, found, []
    if len(found):
        # every requirement that some candidate here records data for is applied (strict: all of them)
        applied = assess_coverage(found, req)
        if not any(a.status == NOT_APPLIED and a.field in checkable for a in applied):
            return req, found, applied
    loose = retrieve(store, loose_requirements(req), timeout_s=timeout_s)
    applied = assess_coverage(loose, req)
    not_applied = [a.field for a in applied if a.status == NOT_APPLIED and a.field in checkable]
    if req.allow_unknown or not not_applied:
        # unknowns kept: a requirement without any data excluded nothing; or all applied (maybe no match)
        return req, found, applied
    if set(not_applied) == set(checkable):
        return loose_requirements(req), loose, applied  # nothing left that the data can check: the loose set
    effective = req.model_copy(update={"preferred": list(req.preferred) + not_applied})
    return effective, retrieve(store, effective, timeout_s=timeout_s), applied


log = logging.getLogger(__name__)


def warm_decision_support_in_background(store: Store) -> None:
    """At a server's start (``dlom serve``): in one daemon thread, build the store's facet index, then
    read the measured effects of its precisions (both kept per store generation), so the first
    recommendation reads columns and finds the effects computed. One after the other: on a small
    machine two such reads at once would each take twice as long. Nothing for a store without a
    generation (remote stores: neither is kept for them)."""
    if getattr(store, "generation", None) is None:
        return

    def warm() -> None:
        build_index_quietly(store)
        try:
            read_measured_effects(store)
        except DlomError as e:
            log.warning("the measured effects could not be read (%s); the first recommendation reads them", e)

    threading.Thread(target=warm, name="warm-decision-support", daemon=True).start()
