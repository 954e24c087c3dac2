"""Evaluation splits, metrics, baselines and the report on the tiny graph (tiny epochs: fast)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gnn.baselines import BASELINES, matrix_factorization, per_dln_mean
from gnn.evaluate import GNN_NAME, device_group, device_split, evaluate_split, ndcg_at_k, random_split, temporal_split
from gnn.export import export_graph
from gnn.model import ModelConfig
from gnn.report import markdown_report
from kg.ontology import ontology_quads
from kg.store import open_store

from test_gnn_pipeline import build_tiny_graph

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def graph():
    s = open_store("oxigraph://")
    s.add(ontology_quads())
    build_tiny_graph(s)
    g = export_graph(s)
    s.close()
    return g


def test_ndcg() -> None:
    true = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    assert ndcg_at_k(true, true) == pytest.approx(1.0)
    assert ndcg_at_k(true, -true) < 0.7 < ndcg_at_k(true, np.array([5.0, 3.0, 4.0, 2.0, 1.0]))
    assert ndcg_at_k(np.array([3.0, 3.0]), np.array([1.0, 2.0])) == pytest.approx(1.0)  # all equally relevant


def test_splits_hold_out_what_they_say(graph) -> None:
    (f,) = random_split(graph)
    assert not set(f.train) & set(f.test) and f.test.size == round(0.2 * 30)
    folds = device_split(graph, folds=3)
    seen = set()
    for f in folds:
        train_groups = {device_group(graph, int(graph.model_device[i])) for i in f.train}
        test_groups = {device_group(graph, int(graph.model_device[i])) for i in f.test}
        assert not train_groups & test_groups  # a device is never in training when it is tested
        seen |= test_groups
    assert len(seen) == 5  # every measured device held out once
    (t,) = temporal_split(graph)
    assert {graph.rounds[i] for i in t.test} == {"v1.1"} and {graph.rounds[i] for i in t.train} == {"v1.0"}


def test_baselines_predict_every_metric(graph) -> None:
    (f,) = random_split(graph)
    for name, baseline in BASELINES.items():
        out = baseline(graph, f.train, f.test)
        assert out.shape == (f.test.size, 3) and np.isfinite(out).all(), name
    # MF cannot cold-start: an unseen device gets its DLN's bias, like the per-DLN mean in spirit
    (d,) = device_split(graph, folds=0)[:1]
    mf, dln = matrix_factorization(graph, d.train, d.test), per_dln_mean(graph, d.train, d.test)
    assert np.abs(mf[:, 0] - dln[:, 0]).max() < 1.0


def test_evaluate_split_and_report(graph) -> None:
    result = evaluate_split(graph, "temporal", ModelConfig(hidden=8, members=2, epochs=5))
    assert set(result.rows) == {GNN_NAME, *BASELINES}
    for row in result.rows.values():
        assert row["n"] == 12 and 0.0 <= row["±25 %"] <= 1.0 and row["MAE ln lat"] >= 0
    doc = markdown_report([result], graph, ModelConfig(), "test machine", "2026-01-01 00:00 UTC", 10)
    assert "## temporal split" in doc and "test machine" in doc and "## Verdict" in doc
    assert "| gradient-boosted trees |" in doc
