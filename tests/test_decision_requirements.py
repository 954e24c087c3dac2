"""Requirements: field-level validation, 'Any', safe SPARQL binding (injection stays a literal), filters."""
from __future__ import annotations

import dataclasses

import pytest
from decision_graph import ModelSpec, model_iri, write_models

from decision.recommend import recommend
from decision.requirements import RequirementsError, parse_requirements
from decision.retrieval import build_query, retrieve
from kg.store import Store


def _errors(data) -> list[dict]:
    with pytest.raises(RequirementsError) as info:
        parse_requirements(data)
    return [dataclasses.asdict(e) for e in info.value.errors]


def test_field_level_errors() -> None:
    errors = _errors({"performance": {"min_accuracy": 1.5, "max_latency_ms": -3},
                      "project": {"total_budget_usd": "lots", "number_of_devices": 0}})
    fields = {e["field"]: e["message"] for e in errors}
    assert fields["performance.min_accuracy"] == "must be in [0, 1]"
    assert "greater than 0" in fields["performance.max_latency_ms"]
    assert "project.total_budget_usd" in fields and "project.number_of_devices" in fields


def test_unknown_fields_objectives_and_levels_are_named() -> None:
    fields = {e["field"] for e in _errors({"network": {"layers_min": 3}})}
    assert fields == {"network.layers_min"}
    errors = _errors({"preferences": {"comparisons": [{"more": "speed", "less": "cost", "level": "much"}]}})
    assert {e["field"] for e in errors} == {"preferences.comparisons.0.more", "preferences.comparisons.0.level"}
    errors = _errors({"preferred": ["performance.bogus"]})
    assert errors[0]["field"] == "preferred" and "unknown requirement field" in errors[0]["message"]
    assert _errors([1, 2])[0]["field"] == "(root)"


def test_any_everywhere_is_valid_and_states_nothing() -> None:
    req = parse_requirements({"project": {"business_focus": None}, "network": {}, "performance": {"min_accuracy": None}})
    assert req.stated() == {}
    q = build_query(req)
    assert q.params == {}
    body = q.text.split("WHERE", 1)[1]
    assert "?p_" not in body
    # every attribute is OPTIONAL: only the model's mandatory shape (DLN) is required; the one filter
    # leaves out models on a benchmark host (not an IoT device)
    assert [line.strip() for line in body.splitlines() if "FILTER" in line] == [
        "FILTER NOT EXISTS { ?m dlom:deployedOn ?hostDev . ?hostDev a dlom:BenchmarkHost }"]


INJECTIONS = [
    '" } DROP ALL #',
    'Medical" ) } } ; DELETE WHERE { ?s ?p ?o } #',
    "Medical' || true || '",
    'x"^^<http://www.w3.org/2001/XMLSchema#string> } UNION { ?m ?p ?o',
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_attempt_stays_a_literal(store: Store, text: str) -> None:
    write_models(store, [ModelSpec("Derm", area="Medical", cost=100, accuracy=0.9, latency_ms=3)])
    before = store.count()
    req = parse_requirements({"project": {"business_focus": text, "purpose": text},
                              "network": {"network": text}, "device": {"framework": text}})
    q = build_query(req)
    assert text not in q.text and text.lower() not in q.text  # never concatenated
    found = retrieve(store, req)
    assert found.iris == []  # matched as a (non-matching) string, not as query syntax
    assert store.count() == before
    assert recommend(store, req).status == "no_match"


def test_injection_text_matches_when_stored_verbatim(store: Store) -> None:
    """The bound literal compares as plain text: a model whose area *is* that text is found."""
    weird = '" } DROP ALL #'
    write_models(store, [ModelSpec("Weird", area=weird, accuracy=0.9, latency_ms=3),
                         ModelSpec("Plain", area="Medical", accuracy=0.9, latency_ms=3)])
    found = retrieve(store, parse_requirements({"project": {"business_focus": weird}}))
    assert found.iris == [model_iri("Weird").value]


@pytest.fixture
def mixed_store(store: Store) -> Store:
    write_models(store, [
        ModelSpec("Fast", accuracy=0.80, latency_ms=5, energy_uj=50, dln="ResNet-50", layers=50, memory_kb=512,
                  device="Raspberry Pi 4", shielded=True, protocol="TLS"),
        ModelSpec("Accurate", accuracy=0.95, latency_ms=80, energy_uj=500, dln="MobileNet V2", layers=53,
                  device="STM32 Nucleo", memory_kb=320),
        ModelSpec("NoMetrics", dln="DS-CNN", layers=5, device="Arduino Nano"),
    ])
    return store


def _labels(store: Store, data: dict) -> set[str]:
    found = retrieve(store, parse_requirements(data))
    names = {model_iri(n).value: n for n in ("Fast", "Accurate", "NoMetrics")}
    return {names[i] for i in found.iris}


def test_mandatory_filters_and_unknown_policy(mixed_store: Store) -> None:
    assert _labels(mixed_store, {}) == {"Fast", "Accurate", "NoMetrics"}
    assert _labels(mixed_store, {"performance": {"max_latency_ms": 50}}) == {"Fast"}
    assert _labels(mixed_store, {"performance": {"max_latency_ms": 50}, "allow_unknown": True}) == {"Fast", "NoMetrics"}
    assert _labels(mixed_store, {"performance": {"min_accuracy": 0.9}}) == {"Accurate"}
    assert _labels(mixed_store, {"performance": {"max_energy_uj": 100}}) == {"Fast"}
    assert _labels(mixed_store, {"network": {"network": "resnet50"}}) == {"Fast"}
    assert _labels(mixed_store, {"network": {"min_layers": 51}}) == {"Accurate"}
    assert _labels(mixed_store, {"device": {"min_memory_kb": 400}}) == {"Fast"}
    assert _labels(mixed_store, {"project": {"device_types": ["raspberry", "nucleo"]}}) == {"Fast", "Accurate"}
    assert _labels(mixed_store, {"cloud": {"shielded_execution": True}}) == {"Fast"}
    assert _labels(mixed_store, {"cloud": {"shielded_execution": False}}) == {"Fast", "Accurate", "NoMetrics"}


def test_preferred_requirements_rank_instead_of_filter(mixed_store: Store) -> None:
    data = {"performance": {"max_latency_ms": 50}, "preferred": ["performance.max_latency_ms"]}
    rec = recommend(mixed_store, data)
    assert rec.candidates_considered == 3
    by_label = {e.label: e for e in rec.recommendations}
    check = next(r for r in by_label["Accurate"].requirements if r.field == "performance.max_latency_ms")
    assert check.status == "missed" and check.margin == pytest.approx(-30) and not check.mandatory
    fast = next(r for r in by_label["Fast"].requirements if r.field == "performance.max_latency_ms")
    assert fast.status == "met" and fast.margin == pytest.approx(45)
    assert "margin +45 ms" in fast.describe()


@pytest.mark.parametrize(("section", "name", "value"), [
    ("performance", "max_latency_ms", "1e100"), ("project", "number_of_devices", "10"),
    ("project", "number_of_devices", 2.5), ("cloud", "shielded_execution", "yes"), ("cloud", "shielded_execution", 1),
])
def test_a_number_or_flag_given_as_something_else_is_a_field_error(section: str, name: str, value: object) -> None:
    with pytest.raises(RequirementsError) as info:
        parse_requirements({section: {name: value}})
    assert [e.field for e in info.value.errors] == [f"{section}.{name}"]


def test_an_integer_is_a_number() -> None:
    assert parse_requirements({"performance": {"max_latency_ms": 5}}).performance.max_latency_ms == 5.0
