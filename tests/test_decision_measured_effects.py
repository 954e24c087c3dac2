"""Measured effects (decision.measured_effects: paired quantized-vs-float measurements) in the objective
values: where a model's techniques carry a dlom:precision with measured pairs and the model has no
measurement of its own for latency or performance, the precision's measured effect fills the cell before
Table 1 would (rule, precedence, basis, prior weight), and the plumbing (retrieval, facet index,
recommend) carries the precisions.

Expected values are worked out by hand from the rule in decision/objectives.py: the step is +1 when the
interquartile range of the pairs lies wholly on the improving side (latency ratio q3 < 1; accuracy change
q1 > 0), -1 wholly on the worsening side, else 0; value = clamp(3 + step).
"""
from __future__ import annotations

from typing import Any

import pytest
from decision_graph import ModelSpec, model_iri, write_models
from pyoxigraph import Literal, NamedNode, Quad, Triple

from decision import facet_index as fi
from decision import measured_effects as me
from decision.measured_effects import Distribution, PrecisionEffect, measured_effects, read_measured_effects
from decision.objectives import (PRIOR_WEIGHT, MeasuredEffects, Objective, RawMeasures, TechniqueEffects, ValueSource,
                                 measured_step, objective_matrix)
from decision.recommend import recommend
from decision.requirements import parse_requirements
from decision.retrieval import _retrieve, build_query, plan_query
from kg.namespaces import DLOM, DLOM_VOCABULARIES, PROV, RDF, RDFS, entity
from kg.repositories import Repository
from kg.store import Store
from kg.writes import write_triples

QUANT = DLOM.Quantization.value
TABLE1 = TechniqueEffects({QUANT: {Objective.LATENCY: 1.0, Objective.PERFORMANCE: -1.0, Objective.RELIABILITY: -1.0}},
                          {QUANT: "Quantization"})


def dist(n: int, median: float, q1: float, q3: float) -> Distribution:
    return Distribution(n, median, q1, q3, q1, q3)


EMPTY = Distribution.of([])


def effect(precision: str, latency: Distribution = EMPTY, accuracy: Distribution = EMPTY) -> PrecisionEffect:
    return PrecisionEffect(precision, latency, EMPTY, accuracy)


MEASURED = MeasuredEffects({
    "w8a8": effect("w8a8", dist(2345, 0.41, 0.30, 0.55), dist(40, -0.5, -1.2, -0.1)),  # faster, less accurate
    "w8a16": effect("w8a16", dist(120, 0.98, 0.90, 1.05), dist(30, 0.3, 0.1, 0.6)),  # latency: no direction
    "w16a16": effect("w16a16", dist(7, 1.4, 1.2, 1.6)),  # slower; no accuracy pairs
})


def values(m: Any, i: int) -> dict[Objective, Any]:
    return {v.objective: v for v in m.detail(i)}


def test_the_step_follows_the_interquartile_range() -> None:
    # latency ratio: lower is better, no change at 1
    assert measured_step(dist(9, 0.5, 0.4, 0.9), 1.0, higher_is_better=False) == 1
    assert measured_step(dist(9, 1.5, 1.1, 2.0), 1.0, higher_is_better=False) == -1
    # the median says faster, but the middle half of the pairs straddles 1: no consistent change
    assert measured_step(dist(9, 0.8, 0.6, 1.1), 1.0, higher_is_better=False) == 0
    assert measured_step(dist(9, 0.8, 0.6, 1.0), 1.0, higher_is_better=False) == 0  # q3 = 1 is not wholly below
    # accuracy change: higher is better, no change at 0
    assert measured_step(dist(9, 0.5, 0.2, 0.9), 0.0, higher_is_better=True) == 1
    assert measured_step(dist(9, -0.5, -0.9, -0.2), 0.0, higher_is_better=True) == -1
    assert measured_step(dist(9, -0.5, -0.9, 0.2), 0.0, higher_is_better=True) == 0
    assert measured_step(EMPTY, 0.0, higher_is_better=True) == 0


def test_a_quantized_model_without_its_own_latency_gets_the_measured_effect() -> None:
    m = objective_matrix([RawMeasures(technique_classes=frozenset({QUANT}), technique_precisions=frozenset({"w8a8"}))],
                         effects=TABLE1, measured=MEASURED)
    v = values(m, 0)
    lat = v[Objective.LATENCY]
    assert (lat.source, lat.value, lat.pairs) == (ValueSource.MEASURED_EFFECTS, 4.0, 2345)
    assert lat.basis == ("from measured effects of w8a8 vs float: latency ratio median 0.41 (IQR 0.30–0.55, "
                         "2,345 pairs on this graph): faster (+1) → neutral 3 + 1 = 4")
    assert lat.source_label == "measured effects (2,345 paired measurements)"
    perf = v[Objective.PERFORMANCE]
    assert (perf.source, perf.value, perf.pairs) == (ValueSource.MEASURED_EFFECTS, 2.0, 40)
    assert "accuracy change (points) median -0.50 (IQR -1.20 to -0.10, 40 pairs" in perf.basis
    assert perf.basis.endswith("less accurate (-1) → neutral 3 - 1 = 2")
    # objectives the measurements do not speak for keep Table 1
    assert (v[Objective.RELIABILITY].source, v[Objective.RELIABILITY].value) == (ValueSource.EFFECTS, 2.0)
    assert m.sources[0].tolist().count(4) == 2  # the int8 code of the new source


def test_measured_effects_take_precedence_over_table1() -> None:
    # w8a16 is measured more accurate (IQR above 0): 3 + 1 = 4, where Table 1 alone says 3 - 1 = 2
    m = objective_matrix([RawMeasures(technique_classes=frozenset({QUANT}), technique_precisions=frozenset({"w8a16"})),
                          RawMeasures(technique_classes=frozenset({QUANT}), technique_precisions=frozenset({"w16a16"}))],
                         effects=TABLE1, measured=MEASURED)
    assert values(m, 0)[Objective.PERFORMANCE].value == 4.0
    assert values(m, 0)[Objective.PERFORMANCE].source == ValueSource.MEASURED_EFFECTS
    # w16a16 is measured slower (IQR above 1): 3 - 1 = 2, where Table 1 says quantization is faster (4)
    lat = values(m, 1)[Objective.LATENCY]
    assert (lat.source, lat.value) == (ValueSource.MEASURED_EFFECTS, 2.0) and "slower (-1)" in lat.basis


def test_no_consistent_change_leaves_the_cell_missing_not_table1() -> None:
    m = objective_matrix([RawMeasures(technique_classes=frozenset({QUANT}), technique_precisions=frozenset({"w8a16"}))],
                         effects=TABLE1, measured=MEASURED)
    lat = values(m, 0)[Objective.LATENCY]
    # the measurements say no direction; Table 1's +1 for quantization does not override them
    assert (lat.source, lat.value) == (ValueSource.MISSING, 3.0)
    assert lat.basis == ("from measured effects of w8a16 vs float: latency ratio median 0.98 (IQR 0.90–1.05, "
                         "120 pairs on this graph): no consistent change (+0) → no data: neutral 3")
    assert lat.source_label == "no data"


def test_a_precision_without_pairs_falls_back_to_table1() -> None:
    m = objective_matrix([
        RawMeasures(technique_classes=frozenset({QUANT}), technique_precisions=frozenset({"w4a16"})),  # not measured
        RawMeasures(technique_classes=frozenset({QUANT}), technique_precisions=frozenset({"w16a16"})),  # no accuracy
        RawMeasures(technique_classes=frozenset({QUANT})),  # no precision stated
    ], effects=TABLE1, measured=MEASURED)
    for i in (0, 2):
        v = values(m, i)
        assert (v[Objective.LATENCY].source, v[Objective.LATENCY].value) == (ValueSource.EFFECTS, 4.0)
        assert (v[Objective.PERFORMANCE].source, v[Objective.PERFORMANCE].value) == (ValueSource.EFFECTS, 2.0)
    v = values(m, 1)
    assert v[Objective.LATENCY].source == ValueSource.MEASURED_EFFECTS
    assert (v[Objective.PERFORMANCE].source, v[Objective.PERFORMANCE].value) == (ValueSource.EFFECTS, 2.0)
    # and without measured effects passed, nothing changes from before
    plain = objective_matrix([RawMeasures(technique_classes=frozenset({QUANT}), technique_precisions=frozenset({"w8a8"}))],
                             effects=TABLE1)
    assert values(plain, 0)[Objective.LATENCY].source == ValueSource.EFFECTS


def test_a_model_with_its_own_measurement_keeps_the_derived_value() -> None:
    m = objective_matrix([
        RawMeasures(inference_latency_ms=10.0, accuracy=0.7, technique_precisions=frozenset({"w16a16"})),
        RawMeasures(inference_latency_ms=100.0, accuracy=0.9, technique_precisions=frozenset({"w8a8"})),
    ], effects=TABLE1, measured=MEASURED)
    for i, (lat, perf) in enumerate([(5.0, 1.0), (1.0, 5.0)]):
        v = values(m, i)
        assert (v[Objective.LATENCY].source, v[Objective.LATENCY].value) == (ValueSource.DERIVED, lat)
        assert (v[Objective.PERFORMANCE].source, v[Objective.PERFORMANCE].value) == (ValueSource.DERIVED, perf)


def test_ratings_average_with_the_measured_effects_prior_weight() -> None:
    assert PRIOR_WEIGHT[ValueSource.DERIVED] > PRIOR_WEIGHT[ValueSource.MEASURED_EFFECTS] > PRIOR_WEIGHT[ValueSource.EFFECTS]
    w = PRIOR_WEIGHT[ValueSource.MEASURED_EFFECTS]
    m = objective_matrix([RawMeasures(technique_precisions=frozenset({"w8a8"}))],
                         [{Objective.LATENCY: (1.0, 2), Objective.SECURITY: (5.0, 1)}], measured=MEASURED)
    lat = values(m, 0)[Objective.LATENCY]
    assert w == 3.0 and lat.value == pytest.approx((w * 4.0 + 2 * 1.0) / (w + 2))
    assert lat.source == ValueSource.MEASURED_EFFECTS and lat.ratings == 2
    assert lat.source_label == "measured effects (2,345 paired measurements) + rated (2)"
    assert "Bayesian average with 2 user rating(s) (mean 1): (3 × 4 + 2 × 1) / (3 + 2) = 2.8" in lat.basis


# -- on a store: read from the graph, through retrieval, the facet index and recommend ---------------

RUNTIME, RELEASE = "tflite", "0.1"


def _pair_quads(store: Store, name: str, precision: str, latency_ms: float, kind: NamedNode = DLOM.MeasuredPerformance,
                device: str = "Phone") -> list[Quad]:
    """A model of network ``name`` in ``precision`` on ``device`` with one performance record of ``kind``
    (what the AI Hub importer writes), its quantization technique carrying the precision."""
    g = Repository.MODELS_AND_PERFORMANCE.graph
    m = entity("model", "effects-test", name, precision, device, kind.value.rsplit("#", 1)[-1])
    perf = entity("performance", "effects-test", name, precision, device, kind.value.rsplit("#", 1)[-1])
    dln, dev = entity("dln", "effects-test", name), entity("device", "effects-test", device)
    q = [Quad(m, RDF.type, DLOM.Model, g), Quad(m, RDFS.label, Literal(f"{name} {precision}"), g),
         Quad(m, DLOM.usesDLN, dln, g), Quad(m, DLOM.deployedOn, dev, g), Quad(m, DLOM.precision, Literal(precision), g),
         Quad(m, DLOM.runtime, Literal(RUNTIME), g), Quad(m, DLOM.benchmarkRound, Literal(RELEASE), g),
         Quad(m, DLOM.hasPerformance, perf, g), Quad(perf, RDF.type, kind, g),
         Quad(perf, DLOM.inferenceLatencyMs, Literal(latency_ms), g),
         Quad(dln, RDF.type, DLOM.DLN, g), Quad(dev, RDF.type, DLOM.EndDevice, g)]
    if precision != "float":
        t = entity("quantization", "effects-test", precision)
        q += [Quad(m, DLOM.appliesOptimization, t, g), Quad(t, RDF.type, DLOM.Quantization, g),
              Quad(t, DLOM.precision, Literal(precision), g)]
    return q


def _graph(store: Store, copies: bool = False) -> None:
    """Three networks measured in float and w8a8 (ratios 0.4, 0.5, 0.6: faster) and Quant-A, a medical
    model applying the w8a8 quantization with an accuracy but no latency of its own. ``copies``: add
    copied records (dlom:CopiedPerformance) pairing a slower w8a8, which must not count."""
    quads = []
    for name, ratio in (("NetA", 0.4), ("NetB", 0.5), ("NetC", 0.6)):
        quads += _pair_quads(store, name, "float", 10.0) + _pair_quads(store, name, "w8a8", 10.0 * ratio)
    if copies:
        for name in ("NetD", "NetE", "NetF", "NetG"):
            quads += (_pair_quads(store, name, "float", 10.0, DLOM.CopiedPerformance, "Proxy")
                      + _pair_quads(store, name, "w8a8", 30.0, DLOM.CopiedPerformance, "Proxy"))
    store.add(quads)
    write_models(store, [ModelSpec("Quant-A", area="medical", accuracy=0.9), ModelSpec("Plain-B", area="medical",
                                                                                        accuracy=0.8, latency_ms=50)])
    g = Repository.MODELS_AND_PERFORMANCE.graph
    store.add([Quad(model_iri("Quant-A"), DLOM.appliesOptimization, entity("quantization", "effects-test", "w8a8"), g)])


def _objectives(store: Store, label: str) -> dict[str, dict[str, Any]]:
    rec = recommend(store, {"project": {"business_focus": "medical"},
                            "preferences": {"weights": {o.value: 1.0 for o in Objective}}}, diverse=False).to_dict()
    (expl,) = [e for e in rec["recommendations"] if e["label"] == label]
    return {o["objective"]: o for o in expl["objectives"]}


@pytest.mark.parametrize("copies", [False, True], ids=["measured", "with-copies"])
def test_recommend_uses_the_measured_effects_of_the_graph(store: Store, copies: bool) -> None:
    _graph(store, copies)
    got = read_measured_effects(store).by_precision["w8a8"].latency_ratio
    assert (got.n, got.median) == (3, 0.5)  # copied records never count (they would make it 7 pairs, slower)
    a = _objectives(store, "Quant-A")
    assert a["latency"]["source"] == "measured-effects" and a["latency"]["value"] == 4.0
    assert a["latency"]["source_label"] == "measured effects (3 paired measurements)" and a["latency"]["pairs"] == 3
    assert a["latency"]["basis"] == ("from measured effects of w8a8 vs float: latency ratio median 0.50 "
                                     "(IQR 0.45–0.55, 3 pairs on this graph): faster (+1) → neutral 3 + 1 = 4")
    # its own accuracy is derived (the best of the two), Table 1 still gives reliability
    assert a["performance"]["source"] == "derived" and a["performance"]["value"] == 5.0
    assert (a["reliability"]["source"], a["reliability"]["value"]) == ("effects", 2.0)
    b = _objectives(store, "Plain-B")
    assert b["latency"]["source"] == "derived"


def test_the_table_is_kept_until_the_store_changes(store: Store) -> None:
    _graph(store)
    first = read_measured_effects(store)
    assert read_measured_effects(store) is first  # kept: a recommendation does not recompute it
    # a slower w8a8 measurement of a fourth and fifth network: the next read sees it (ratios 0.4..3 → IQR 0.5..3)
    store.add(_pair_quads(store, "NetH", "float", 10.0) + _pair_quads(store, "NetH", "w8a8", 30.0)
              + _pair_quads(store, "NetI", "float", 10.0) + _pair_quads(store, "NetI", "w8a8", 30.0))
    again = read_measured_effects(store)
    assert again is not first and again.by_precision["w8a8"].latency_ratio.n == 5
    a = _objectives(store, "Quant-A")["latency"]
    assert (a["source"], a["value"]) == ("missing", 3.0) and "no consistent change" in a["basis"]


def test_the_facet_index_carries_the_precisions_as_the_query_does(store: Store) -> None:
    _graph(store)
    req = parse_requirements({"project": {"business_focus": "medical"}})
    q = build_query(req)
    slow = _retrieve(store, req, q, None)
    fast = fi.answer(fi.build_index(store), plan_query(req), q)
    assert fast is not None and fast.iris == slow.iris
    assert fast.technique_precisions == slow.technique_precisions
    by_iri = dict(zip(slow.iris, slow.technique_precisions))
    assert by_iri[model_iri("Quant-A").value] == frozenset({"w8a8"}) and by_iri[model_iri("Plain-B").value] == frozenset()
    assert slow.raw_columns().technique_precisions == slow.technique_precisions


def test_a_validated_write_shows_in_the_effects_the_index_gives(store: Store) -> None:
    _graph(store)
    index = fi.facet_index(store)
    assert index is not None and not index.irregular
    first = read_measured_effects(store)
    # a fourth network, measured slower in w8a8, written through the validated path: the index is brought
    # forward (not rebuilt) and the next read pairs it, as the queries do
    triples = [q.triple for q in _pair_quads(store, "NetH", "float", 10.0) + _pair_quads(store, "NetH", "w8a8", 30.0)]
    run = entity("run", "effects-test")
    described = {t.subject for t in triples if t.predicate == RDF.type and t.object != DLOM.Model}
    write_triples(store, triples + [Triple(s, RDFS.label, Literal("NetH test entity")) for s in described]
                  + [Triple(s, PROV.wasGeneratedBy, run) for s in described if "/performance/" in s.value]
                  + [Triple(run, RDF.type, PROV.Activity), Triple(run, RDFS.label, Literal("a test run"))])
    updated = fi.current_index(store)
    assert updated is not None and updated is not index and updated.generation == store.generation_of(DLOM_VOCABULARIES)
    again = read_measured_effects(store)
    assert again is not first and again.by_precision["w8a8"].latency_ratio.n == 4
    assert measured_effects(store) == me._effects(*me._by_query(store), None, None, None)


def test_a_configuration_measured_twice_counts_once_with_its_median(store: Store) -> None:
    quads = _pair_quads(store, "NetA", "float", 10.0) + _pair_quads(store, "NetA", "w8a8", 4.0)
    # a second float record of the same model: 10 and 20 ms, median 15
    m = entity("model", "effects-test", "NetA", "float", "Phone", "MeasuredPerformance")
    perf = entity("performance", "effects-test", "NetA", "float", "Phone", "second")
    g = Repository.MODELS_AND_PERFORMANCE.graph
    store.add(quads + [Quad(m, DLOM.hasPerformance, perf, g), Quad(perf, RDF.type, DLOM.MeasuredPerformance, g),
                       Quad(perf, DLOM.inferenceLatencyMs, Literal(20.0), g)])
    by_query = measured_effects(store)
    assert fi.current_index(store) is None  # (no index asked for: the queries answered)
    (w8a8,) = by_query
    assert (w8a8.latency_ratio.n, w8a8.latency_ratio.median) == (1, 4.0 / 15.0)
    fi.facet_index(store)
    assert measured_effects(store) == by_query
