"""Ratings stored as dlom:Rating (who, when) and used by Eq. 1; the no-match path and predicted models."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from decision_graph import ModelSpec, model_iri, write_models

from decision.objectives import Objective
from decision.prediction import (NO_PREDICTOR_MESSAGE, CandidatePredictor, PredictedCandidate,
                                 save_predicted_candidate)
from decision.ratings import RatingInputError, UnknownModelError, mean_ratings, rate_model
from decision.recommend import recommend
from decision.requirements import Requirements
from kg.errors import ValidationError
from kg.namespaces import SPARQL_PREFIXES, entity
from kg.store import Store


def test_ratings_are_stored_with_who_and_when(store: Store) -> None:
    write_models(store, [ModelSpec("A", accuracy=0.9, latency_ms=3)])
    iri = model_iri("A").value
    at = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)
    stored = rate_model(store, iri, {Objective.COST: 4, Objective.SECURITY: 2}, "alice", at=at)
    assert len(stored) == 2
    rows = store.select(SPARQL_PREFIXES + """SELECT ?v ?o ?who ?when WHERE {
        ?m dlom:hasRating ?r . ?r a dlom:Rating ; dlom:ratingValue ?v ; dlom:ratedObjective ?o ;
        dlom:raterName ?who ; prov:generatedAtTime ?when } ORDER BY ?v""", substitutions={"m": model_iri("A")})
    got = [(int(v.value), o.value.rsplit("#", 1)[1], who.value, when.value) for v, o, who, when in rows.rows]
    assert got == [(2, "SecurityObjective", "alice", "2026-03-04T05:06:07Z"),
                   (4, "CostObjective", "alice", "2026-03-04T05:06:07Z")]
    rate_model(store, iri, {Objective.COST: 1}, "bob", at=at)
    assert mean_ratings(store)[iri][Objective.COST] == (2.5, 2)
    assert mean_ratings(store, [iri])[iri][Objective.SECURITY] == (2.0, 1)


def test_ratings_drive_the_objective_values(store: Store) -> None:
    write_models(store, [ModelSpec("A", accuracy=0.9, latency_ms=3), ModelSpec("B", accuracy=0.8, latency_ms=30)])
    rate_model(store, model_iri("B").value, {Objective.PERFORMANCE: 5}, "carol")
    rec = recommend(store, {"preferences": {"weights": {"performance": 1.0}}})
    b = next(e for e in rec.recommendations if e.label == "B")
    a = next(e for e in rec.recommendations if e.label == "A")
    # one rating does not replace a measurement: B's lowest accuracy (1) counts as 5 ratings
    assert b.values[0].source.value == "derived" and b.values[0].ratings == 1
    assert b.values[0].value == pytest.approx((5 * 1.0 + 5) / 6) and b.values[0].source_label == "measured + rated (1)"
    assert a.values[0].source.value == "derived" and a.values[0].value == 5.0  # best accuracy of the set
    assert [e.label for e in rec.recommendations] == ["A", "B"]
    # many ratings outweigh it: ten users rate A 1 and B 5
    for k in range(10):
        rate_model(store, model_iri("A").value, {Objective.PERFORMANCE: 1}, f"user{k}")
        rate_model(store, model_iri("B").value, {Objective.PERFORMANCE: 5}, f"user{k}")
    rec = recommend(store, {"preferences": {"weights": {"performance": 1.0}}})
    assert [e.label for e in rec.recommendations] == ["B", "A"]
    assert rec.recommendations[0].values[0].value == pytest.approx((5 * 1.0 + 11 * 5) / 16)
    assert rec.recommendations[1].values[0].value == pytest.approx((5 * 5.0 + 10 * 1) / 15)


def test_bad_ratings_are_refused_and_nothing_is_written(store: Store) -> None:
    write_models(store, [ModelSpec("A", accuracy=0.9)])
    before = store.count()
    with pytest.raises(RatingInputError) as info:
        rate_model(store, model_iri("A").value, {Objective.COST: 4, Objective.LATENCY: 7}, "eve")
    assert info.value.field == "ratings.latency"
    with pytest.raises(UnknownModelError):
        rate_model(store, "https://example.org/no-such-model", {Objective.COST: 3}, "eve")
    with pytest.raises(RatingInputError) as info:
        rate_model(store, "not an iri", {Objective.COST: 3}, "eve")
    assert info.value.field == "model"
    with pytest.raises(RatingInputError):
        rate_model(store, model_iri("A").value, {Objective.COST: 3}, "  ")
    assert store.count() == before


def test_no_match_without_a_predictor_is_honest(store: Store) -> None:
    write_models(store, [ModelSpec("A", area="Industrial", cost=10, accuracy=0.9)])
    rec = recommend(store, {"project": {"business_focus": "Medical"}})
    assert rec.status == "no_match"
    assert rec.message == NO_PREDICTOR_MESSAGE
    assert rec.recommendations == [] and rec.predictions == []
    assert rec.to_dict()["recommendations"] == []


class _ComponentPredictor:
    """A real (if simple) CandidatePredictor: proposes the store's first DLN on its first device with the
    requirement's latency as the prediction — enough to exercise the hand-off contract."""

    version = "rule-based-test-0.1"

    def __init__(self, dln: str, device: str) -> None:
        self.dln, self.device = dln, device

    def predict(self, requirements: Requirements, limit: int = 5) -> Sequence[PredictedCandidate]:
        latency = requirements.performance.max_latency_ms or 10.0
        return [PredictedCandidate(label="proposal", dln=self.dln, devices=(self.device,),
                                   metrics={"inferenceLatencyMs": latency * 0.9, "accuracy": 0.9},
                                   confidence=0.4, predictor_version=self.version)][:limit]


def test_no_match_hands_off_to_a_predictor_and_saves_the_choice_as_predicted(store: Store) -> None:
    write_models(store, [ModelSpec("A", area="Industrial", cost=10, accuracy=0.9, latency_ms=100)])
    dln, dev = entity("dln", "decision-test", "ResNet-50").value, entity("device", "decision-test", "Raspberry Pi 3", "A").value
    predictor = _ComponentPredictor(dln, dev)
    assert isinstance(predictor, CandidatePredictor)
    req = {"performance": {"max_latency_ms": 20}}
    rec = recommend(store, req, predictor=predictor)
    assert rec.status == "predicted" and "predicted, not measured" in rec.message
    assert rec.to_dict()["predictions"][0]["predicted"] is True
    iri = save_predicted_candidate(store, rec.predictions[0])
    rows = store.select(SPARQL_PREFIXES + """SELECT ?kind ?conf ?ver ?act WHERE { ?m dlom:hasPerformance ?p .
        ?p a ?kind ; dlom:predictionConfidence ?conf ; dlom:predictorVersion ?ver ; prov:wasGeneratedBy ?act .
        ?act a prov:Activity }""", substitutions={"m": entity("model", "predicted", predictor.version, "proposal")})
    (kind, conf, ver, _), = list(rows.rows)
    assert kind.value.endswith("#PredictedPerformance") and float(conf.value) == 0.4 and ver.value == predictor.version
    assert iri.endswith("/proposal")
    # a predicted model is not an existing measured model: excluded unless asked for, then marked
    assert recommend(store, req).status == "no_match"
    with_pred = recommend(store, dict(req, include_predicted=True))
    assert with_pred.status == "ok" and with_pred.recommendations[0].predicted


def test_saving_a_prediction_with_unknown_components_writes_nothing(store: Store) -> None:
    before = store.count()
    bad = PredictedCandidate(label="x", dln="https://example.org/dln/none", devices=("https://example.org/dev/none",),
                             metrics={"accuracy": 0.5}, confidence=0.5, predictor_version="v")
    with pytest.raises(ValidationError):
        save_predicted_candidate(store, bad)
    with pytest.raises(ValueError, match="confidence"):
        save_predicted_candidate(store, PredictedCandidate("x", "https://e.org/a", ("https://e.org/b",), {}, 1.5, "v"))
    assert store.count() == before
