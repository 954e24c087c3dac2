"""Table 1 effects (kg/ontology/effects.ttl) fill objective values that neither a rating nor a metric
determines: rule, precedence (rating > measured > effects > missing), and that the graph is the source.

Expected values are computed by hand from the rule in decision/objectives.py:
value = clamp(3 + Σ effect(family, objective) over the distinct families applied, 1, 5).
"""
from __future__ import annotations

from typing import Any

import pytest
from decision_graph import ModelSpec, model_iri, write_models
from pyoxigraph import Quad

from decision.objectives import (NEUTRAL, Objective, RawMeasures, TechniqueEffects, ValueSource, objective_matrix,
                                 read_technique_effects)
from decision.ratings import rate_model
from decision.recommend import recommend
from kg.namespaces import DLOM, RDF, RDFS, SPARQL_PREFIXES, entity
from kg.repositories import Repository
from kg.store import Store

QUANT, PRUNE, KD, TD = (DLOM.Quantization.value, DLOM.Pruning.value, DLOM.KnowledgeDistillation.value,
                        DLOM.TensorDecomposition.value)
# what retrieval reports for a technique: its class and the superclass chain
TECHNIQUE = DLOM.OptimizationTechnique.value

# Both models are medical; only Quant-A applies techniques (two quantizations: one family).
# Quant-A: accuracy 0.9, latency 10 ms, cost 1000; Plain-B: accuracy 0.8, latency 100 ms, cost 2000.
# Neither has stability / latency CV (reliability unmeasured) nor a cloud configuration (security unknown).
SPECS = [ModelSpec("Quant-A", area="medical", accuracy=0.9, latency_ms=10, cost=1000, techniques=2),
         ModelSpec("Plain-B", area="medical", accuracy=0.8, latency_ms=100, cost=2000)]


def _recommend(store: Store, weights: dict[str, float] | None = None) -> dict[str, Any]:
    return recommend(store, {"project": {"business_focus": "medical"},
                             "preferences": {"weights": weights or {o.value: 1.0 for o in Objective}}}).to_dict()


def _objectives(rec: dict[str, Any], label: str) -> dict[str, dict[str, Any]]:
    (expl,) = [e for e in rec["recommendations"] if e["label"] == label]
    return {o["objective"]: o for o in expl["objectives"]}


def _set_effect(store: Store, family: str, objective: str, value: int) -> None:
    """Replace one Table 1 effect in the store, in whichever graph holds it (as an editor of the
    ontology graph would)."""
    effect = DLOM[f"effect-{family}-{objective}"]
    store.update(SPARQL_PREFIXES + f"""
        DELETE {{ GRAPH ?g {{ <{effect.value}> dlom:effect ?old }} }}
        INSERT {{ GRAPH ?g {{ <{effect.value}> dlom:effect {value} }} }}
        WHERE {{ GRAPH ?g {{ <{effect.value}> dlom:effect ?old }} }}""")


def test_quantized_model_without_a_metric_gets_the_table1_direction(store: Store) -> None:
    write_models(store, SPECS)
    rec = _recommend(store)
    a, b = _objectives(rec, "Quant-A"), _objectives(rec, "Plain-B")
    # Table 1: quantization lowers reliability → 3 - 1 = 2; applied twice, the family still counts once
    assert a["reliability"]["source"] == "effects" and a["reliability"]["value"] == 2.0
    assert a["reliability"]["basis"] == "from Table 1 effects of Quantization (-1): neutral 3 - 1 = 2"
    # quantization has no effect (0) on privacy/security: an unknown level stays unknown
    assert a["security"]["source"] == "missing" and a["security"]["value"] == NEUTRAL
    # the model without techniques has nothing to derive reliability from
    assert b["reliability"]["source"] == "missing" and b["reliability"]["value"] == NEUTRAL
    # Eq. 1 uses the effects value: the contribution is weight × 2
    assert a["reliability"]["contribution"] == pytest.approx(a["reliability"]["weight"] * 2.0)


def test_effects_change_the_ranking_when_only_that_objective_counts(store: Store) -> None:
    write_models(store, SPECS)
    rec = _recommend(store, {"reliability": 1.0})
    # reliability only: Plain-B 3 (neutral) beats Quant-A 2 (quantization's Table 1 effect)
    assert [(e["label"], e["score"]) for e in rec["recommendations"]] == [("Plain-B", 3.0), ("Quant-A", 2.0)]


def test_a_measured_metric_overrides_the_effect(store: Store) -> None:
    write_models(store, SPECS)
    a = _objectives(_recommend(store), "Quant-A")
    # Table 1 says quantization improves latency (+1 → 4) and cost (+1 → 4), and worsens performance
    # (-1 → 2); Quant-A has measurements, so they decide: it is the best of the two on each (5).
    for objective, basis in (("latency", "inference latency ms"), ("cost", "projected deployment cost"),
                             ("performance", "accuracy")):
        assert a[objective]["source"] == "derived" and a[objective]["value"] == 5.0, objective
        assert a[objective]["basis"].startswith(basis)


def test_measured_values_are_not_adjusted_by_effects() -> None:
    effects = TechniqueEffects({QUANT: {Objective.LATENCY: 1.0, Objective.RELIABILITY: -1.0}}, {QUANT: "Quantization"})
    m = objective_matrix([RawMeasures(inference_latency_ms=10.0, stability=0.01, technique_classes=frozenset({QUANT})),
                          RawMeasures(inference_latency_ms=100.0, stability=0.04)], effects=effects)
    # reverse log min-max: 10 ms → 5, 100 ms → 1; stability variance 0.01 → 5, 0.04 → 1; no ±1 on top
    assert m.values[:, 4].tolist() == [5.0, 1.0] and m.values[:, 1].tolist() == [5.0, 1.0]
    measured = (Objective.LATENCY, Objective.RELIABILITY)
    assert {v.source for v in m.detail(0) if v.objective in measured} == {ValueSource.DERIVED}


def test_ratings_are_averaged_with_effects_and_measurements_not_replacing_them(store: Store) -> None:
    write_models(store, SPECS)
    iri = model_iri("Quant-A").value
    rate_model(store, iri, {Objective.RELIABILITY: 5, Objective.PERFORMANCE: 1}, "alice")
    rate_model(store, iri, {Objective.RELIABILITY: 4}, "bob")
    a = _objectives(_recommend(store), "Quant-A")
    # reliability: effects give 2 (worth 2 ratings), the 2 ratings' mean is 4.5: (2 × 2 + 2 × 4.5) / 4
    assert a["reliability"]["source"] == "effects" and a["reliability"]["value"] == pytest.approx(3.25)
    assert a["reliability"]["ratings"] == 2 and a["reliability"]["source_label"] == "effect-derived (Table 1) + rated (2)"
    assert "Bayesian average with 2 user rating(s)" in a["reliability"]["basis"]
    # performance: the measured accuracy gives 5 (worth 5 ratings); one rating of 1 does not replace it
    assert a["performance"]["source"] == "derived" and a["performance"]["value"] == pytest.approx((5 * 5 + 1) / 6)


def test_the_effect_values_come_from_the_graph(store: Store) -> None:
    write_models(store, SPECS)
    assert _objectives(_recommend(store), "Quant-A")["reliability"]["value"] == 2.0
    _set_effect(store, "Quantization", "Reliability", 1)
    a = _objectives(_recommend(store), "Quant-A")["reliability"]
    assert (a["source"], a["value"]) == ("effects", 4.0)  # 3 + 1, read afresh by the next recommendation
    assert a["basis"] == "from Table 1 effects of Quantization (+1): neutral 3 + 1 = 4"
    _set_effect(store, "Quantization", "Reliability", 0)
    a = _objectives(_recommend(store), "Quant-A")["reliability"]
    assert (a["source"], a["value"]) == ("missing", NEUTRAL)  # 'no effect' says nothing about the level
    # a family's label is read from the graph too
    store.update(SPARQL_PREFIXES + """DELETE { GRAPH ?g { dlom:Quantization rdfs:label ?l } }
        INSERT { GRAPH ?g { dlom:Quantization rdfs:label "Int8 quantization" } }
        WHERE { GRAPH ?g { dlom:Quantization rdfs:label ?l } }""")
    assert _objectives(_recommend(store), "Quant-A")["cost"]["source"] == "derived"
    effects = read_technique_effects(store)
    assert effects.labels[QUANT] == "Int8 quantization" and effects.effects[QUANT][Objective.RELIABILITY] == 0.0


def test_the_stored_table1_has_all_seven_families_on_six_objectives(store: Store) -> None:
    effects = read_technique_effects(store)
    assert len(effects.effects) == 7 and all(len(per) == 6 for per in effects.effects.values())
    # spot checks against the paper's Table 1 (reduction columns read as improvements of the 1-5 score)
    assert effects.effects[PRUNE][Objective.PERFORMANCE] == 1.0 and effects.effects[PRUNE][Objective.LATENCY] == -1.0
    assert effects.effects[QUANT][Objective.COST] == 1.0 and effects.effects[QUANT][Objective.SECURITY] == 0.0
    assert effects.effects[DLOM.ShieldedExecution.value][Objective.SECURITY] == 1.0
    assert DLOM.FineTuning.value not in effects.effects  # Table 1 has no row for fine-tuning


def test_opposite_effects_cancel_and_the_sum_is_clamped(store: Store) -> None:
    effects = read_technique_effects(store)
    m = objective_matrix([
        RawMeasures(technique_classes=frozenset({PRUNE, QUANT, TECHNIQUE})),
        RawMeasures(technique_classes=frozenset({QUANT, KD, TD, TECHNIQUE})),
        RawMeasures(technique_classes=frozenset({DLOM.FineTuning.value, TECHNIQUE})),
    ], effects=effects)
    prune_quant = {v.objective: v for v in m.detail(0)}
    # performance: Pruning +1, Quantization -1 → 3 + 0 = 3, still from effects (they cancel)
    p = prune_quant[Objective.PERFORMANCE]
    assert (p.source, p.value) == (ValueSource.EFFECTS, 3.0)
    assert p.basis == "from Table 1 effects of Pruning (+1), Quantization (-1): neutral 3 + 0 = 3"
    # cost and complexity: +1 +1 → 5; latency -1 +1 → 3; reliability +1 -1 → 3
    assert [prune_quant[o].value for o in (Objective.COST, Objective.COMPLEXITY, Objective.LATENCY,
                                           Objective.RELIABILITY)] == [5.0, 5.0, 3.0, 3.0]
    # security: both families 0 → missing
    assert prune_quant[Objective.SECURITY].source == ValueSource.MISSING
    # performance of Quantization + Knowledge distillation + Tensor decomposition: 3 - 3 = 0 → clamped to 1
    p = {v.objective: v for v in m.detail(1)}[Objective.PERFORMANCE]
    assert (p.source, p.value) == (ValueSource.EFFECTS, 1.0)
    assert p.basis == ("from Table 1 effects of Knowledge distillation (-1), Quantization (-1), "
                       "Tensor decomposition (-1): neutral 3 - 3 = 0, clamped to 1")
    # fine-tuning has no Table 1 row: every value stays missing
    assert {v.source for v in m.detail(2)} == {ValueSource.MISSING}
    # and without effects (e.g. the GNN scoring metrics) nothing changes
    plain = objective_matrix([RawMeasures(technique_classes=frozenset({PRUNE, QUANT}))])
    assert {v.source for v in plain.detail(0)} == {ValueSource.MISSING}


def test_a_technique_typed_by_a_subclass_counts_as_its_family(store: Store) -> None:
    """An ontology extended with a subclass of a family (e.g. int8 quantization): a technique of that
    subclass gets its family's effects. The validated write path checks types against the shipped
    ontology, which has no such subclass yet, so the extension and the technique are added directly."""
    write_models(store, [ModelSpec("Plain-B", area="medical", accuracy=0.8, latency_ms=100, cost=2000)])
    m, t = model_iri("Plain-B"), entity("technique", "decision-test", "Plain-B", "int8")
    cls = DLOM["test-Int8Quantization"]
    store.add([Quad(cls, RDFS.subClassOf, DLOM.Quantization, Repository.ONTOLOGY.graph),
               Quad(m, DLOM.appliesOptimization, t, Repository.MODELS_AND_PERFORMANCE.graph),
               Quad(t, RDF.type, cls, Repository.MODELS_AND_PERFORMANCE.graph)])
    b = _objectives(_recommend(store), "Plain-B")
    assert (b["reliability"]["source"], b["reliability"]["value"]) == ("effects", 2.0)  # Quantization: 3 - 1


def test_the_json_explanation_names_the_effect_source(store: Store) -> None:
    write_models(store, SPECS)
    rec = _recommend(store)
    sources = {o["source"] for e in rec["recommendations"] for o in e["objectives"]}
    assert sources == {"derived", "effects", "missing"}
    effect_rows = [o for e in rec["recommendations"] for o in e["objectives"] if o["source"] == "effects"]
    assert effect_rows and all("Table 1 effects of Quantization" in o["basis"] for o in effect_rows)


def test_the_cli_table_marks_effects_values(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    from dlom.recommend_command import print_recommendation

    write_models(store, SPECS)
    rec = recommend(store, {"project": {"business_focus": "medical"},
                            "preferences": {"weights": {o.value: 1.0 for o in Objective}}})
    print_recommendation(rec)
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines at the terminal width
    assert "2.00e" in out  # Quant-A's reliability: 2 from Table 1 effects
    assert "e = from Table 1 effects" in out
