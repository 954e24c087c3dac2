"""Honest recommendations on small hand-built graphs (written through the validated write path): what
the data cannot check is reported 'not applied', prices are used only where recorded, benchmark hosts
are not IoT devices, and near-identical variants share one place in the top k."""
from __future__ import annotations

import pytest
from decision_graph import ModelSpec, model_iri, write_models

from decision.applicability import requirement_coverage
from decision.recommend import recommend
from decision.requirements import parse_requirements
from kg.store import Store

WEIGHTS = {"performance": 0.5, "latency": 0.3, "cost": 0.2}


def _applied(rec: object) -> dict[str, dict]:
    return {a["field"]: a for a in rec.to_dict()["requirements_applied"]}  # type: ignore[attr-defined]


def test_a_budget_no_candidate_can_be_checked_against_is_not_applied_not_an_empty_result(store: Store) -> None:
    write_models(store, [ModelSpec("Derm-A", area="Medical", accuracy=0.9, latency_ms=10),
                         ModelSpec("Derm-B", area="Medical", accuracy=0.8, latency_ms=5),
                         ModelSpec("Factory", area="Industrial", accuracy=0.99, latency_ms=1)])
    body = {"project": {"business_focus": "Medical", "total_budget_usd": 14000, "number_of_devices": 10},
            "preferences": {"weights": WEIGHTS}}
    rec = recommend(store, body)
    assert rec.status == "ok" and {e.label for e in rec.recommendations} == {"Derm-A", "Derm-B"}  # field applied
    a = _applied(rec)
    assert a["project.business_focus"]["status"] == "applied" and a["project.business_focus"]["with_data"] == 3  # of all 3: Industrial is a field too
    assert a["project.total_budget_usd"]["status"] == "not_applied" and "add prices via" in a["project.total_budget_usd"]["reason"]
    assert a["project.number_of_devices"]["status"] == "not_applied"
    for e in rec.recommendations:
        checks = {r.field: r.status for r in e.requirements}
        assert checks == {"project.business_focus": "met", "project.total_budget_usd": "not_applied"}
        assert "total_cost_usd" not in e.attributes and "projected_cost_usd" not in e.attributes  # none invented
    # the wizard's step check gives the same verdict before any recommendation
    step = {x.field: x.status for x in requirement_coverage(store, parse_requirements(body))}
    assert step == {f: v["status"] for f, v in a.items()}


def test_a_budget_is_applied_where_a_device_price_is_recorded(store: Store) -> None:
    write_models(store, [ModelSpec("Cheap", device_price=1000, accuracy=0.9, latency_ms=10),   # 10 × 1000 = 10000
                         ModelSpec("Dear", device_price=2000, accuracy=0.95, latency_ms=5),    # 20000 > 14000
                         ModelSpec("Total", cost=12000, devices=10, accuracy=0.8, latency_ms=20),
                         ModelSpec("NoPrice", accuracy=0.99, latency_ms=1)])
    rec = recommend(store, {"project": {"total_budget_usd": 14000, "number_of_devices": 10},
                            "preferences": {"weights": WEIGHTS}})
    assert {e.label for e in rec.recommendations} == {"Cheap", "Total"}
    cheap = next(e for e in rec.recommendations if e.label == "Cheap")
    assert cheap.attributes["projected_cost_usd"] == pytest.approx(10000)
    assert cheap.attributes["cost_basis"].startswith("recorded device price")
    a = _applied(rec)
    assert a["project.total_budget_usd"]["status"] == "applied" and a["project.number_of_devices"]["status"] == "applied"
    # unknowns kept: the budget is still applied to those with a price; the one without is marked unknown
    kept = recommend(store, {"project": {"total_budget_usd": 14000, "number_of_devices": 10}, "allow_unknown": True,
                             "preferences": {"weights": WEIGHTS}})
    assert {e.label for e in kept.recommendations} == {"Cheap", "Total", "NoPrice"}
    budget = _applied(kept)["project.total_budget_usd"]
    assert (budget["with_data"], budget["candidates"]) == (2, 3) and "marked unknown" in budget["reason"]
    no_price = next(e for e in kept.recommendations if e.label == "NoPrice")
    assert {r.field: r.status for r in no_price.requirements}["project.total_budget_usd"] == "unknown"


def test_benchmark_hosts_are_offered_only_for_this_machine_and_shown_as_hosts(store: Store) -> None:
    write_models(store, [ModelSpec("On-Pi", accuracy=0.8, latency_ms=50),
                         ModelSpec("On-Host", device="Host AMD EPYC", benchmark_host=True, memory_kb=24_684_092,
                                   accuracy=0.99, latency_ms=0.1)])
    rec = recommend(store, {"preferences": {"weights": WEIGHTS}})
    assert [e.label for e in rec.recommendations] == ["On-Pi"]
    here = recommend(store, {"device": {"this_machine": True}, "preferences": {"weights": WEIGHTS}})
    (host,) = here.recommendations
    assert host.label == "On-Host"
    assert host.attributes["devices"] == [] and host.attributes["benchmark_hosts"] == ["Host AMD EPYC"]
    assert "memory_kb" not in host.attributes and host.attributes["host_memory_kb"] == 24_684_092


def test_near_identical_variants_take_one_place_with_n_more_like_this(store: Store) -> None:
    variants = [ModelSpec(f"KWS-int8-v{k}", dln="DS-CNN", device_unit="board-1", techniques=1 + k % 2,
                          accuracy=0.9 - k / 100, latency_ms=10 + k) for k in range(4)]  # Quantization, minor variants
    write_models(store, variants + [
        ModelSpec("KWS-float", dln="DS-CNN", device_unit="board-1", accuracy=0.85, latency_ms=30),  # no technique
        ModelSpec("VWW", dln="MobileNetV1", device_unit="board-1", accuracy=0.8, latency_ms=40)])
    rec = recommend(store, {"preferences": {"weights": WEIGHTS}}, top_k=3)
    labels = [e.label for e in rec.recommendations]
    assert labels == ["KWS-int8-v0", "KWS-float", "VWW"]
    top = rec.recommendations[0]
    assert top.similar_count == 3 and [s["label"] for s in top.similar] == ["KWS-int8-v1", "KWS-int8-v2", "KWS-int8-v3"]
    assert [s["rank"] for s in top.similar] == [2, 3, 4] and rec.recommendations[1].similar_count == 0
    assert "3 near-identical variant(s) grouped" in rec.message
    plain = recommend(store, {"preferences": {"weights": WEIGHTS}}, top_k=3, diverse=False)
    assert [e.label for e in plain.recommendations] == ["KWS-int8-v0", "KWS-int8-v1", "KWS-int8-v2"]
    assert model_iri("KWS-int8-v1").value == top.similar[0]["model"]
