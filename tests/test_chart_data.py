"""The UI's chart data through the facet index (decision.chart_data) equals the query's
(kg.exploration): on a generated graph with predictions (some pairing with measurements), second labels,
benchmarks, processors and copied records; after a validated write; and the query answers where the index
cannot stand for every model. The shipped graph's parity is in ``tests/test_facet_index.py``."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyoxigraph import Triple
from test_catalog_listing import _store

from decision import chart_data
from decision import facet_index as fi
from kg import exploration
from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.repositories import route
from kg.store import Store
from kg.terms import literal
from kg.writes import write_triples


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = _store(21)
    assert fi.facet_index(s) is not None
    yield s
    s.close()


def assert_same_charts(store: Store) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both charts through the index equal the query's; returns them (the index's)."""
    index = fi.current_index(store)
    assert index is not None and not index.unplotted and not index.unlisted  # answered from the index
    points, pairs = chart_data.latency_accuracy_points(store), chart_data.predicted_vs_measured(store)
    assert points == exploration.latency_accuracy_points(store)
    assert pairs == exploration.predicted_vs_measured(store)
    return points, pairs


def test_the_charts_come_from_the_index_as_from_the_query(store: Store) -> None:
    chart, pairs = assert_same_charts(store)
    points = chart["points"]
    assert {p["kind"] for p in points} == {"measured", "predicted"} and chart["models_plotted"] == chart["models"]
    assert {p["family"] for p in points} >= {"Arm Cortex-M4", "RISC-V", "unknown"}
    assert any(p["benchmark"] == "Anomaly detection" for p in points)
    assert pairs["pairs"] and pairs["predicted_values"] > len(pairs["pairs"]) // 2
    assert {p["predictor_version"] for p in pairs["pairs"]} == {"gnn-1", "gnn-2"}


def test_the_charts_follow_a_validated_write(store: Store) -> None:
    m = entity("model", "synthetic", "4")
    perf = entity("performance", "chart-test", "4", "predicted")
    write_triples(store, [Triple(m, DLOM.hasPerformance, perf), Triple(perf, RDF.type, DLOM.PredictedPerformance),
                          Triple(perf, RDFS.label, literal("a prediction")), Triple(perf, PROV.wasGeneratedBy, entity("run", "synthetic")),
                          Triple(perf, DLOM.predictorVersion, literal("gnn-3")), Triple(perf, DLOM.predictionConfidence, literal(0.5)),
                          Triple(perf, DLOM.accuracy, literal(0.5)),
                          Triple(perf, DLOM.inferenceLatencyMs, literal(2.0))])
    chart, pairs = assert_same_charts(store)
    assert any(p["model"] == m.value and p["kind"] == "predicted" and p["accuracy"] == 0.5 for p in chart["points"])
    assert any(p["predictor_version"] == "gnn-3" for p in pairs["pairs"])


def test_the_query_answers_where_the_index_cannot_stand_for_a_model() -> None:
    s = _store(22)
    try:
        p = entity("performance", "synthetic", "2")  # a second accuracy: a record the columns cannot stand for
        s.add(route([Triple(p, DLOM.accuracy, literal(0.123))]))
        index = fi.facet_index(s)
        assert index is not None and entity("model", "synthetic", "2").value in index.unplotted
        assert chart_data.latency_accuracy_points(s) == exploration.latency_accuracy_points(s)
        assert chart_data.predicted_vs_measured(s) == exploration.predicted_vs_measured(s)
    finally:
        s.close()
