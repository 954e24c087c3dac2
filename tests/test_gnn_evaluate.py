"""Evaluation splits, metrics, baselines and the report on the tiny graph (tiny epochs: fast)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gnn.baselines import BASELINES, matrix_factorization, per_dln_mean
from gnn.evaluate import (GNN_NAME, RANDOM_PICKS, device_group, device_split, evaluate_split, ndcg_at_k, proposal_quality,
                          random_proposal_quality, random_split, temporal_split)
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


def test_proposal_quality() -> None:
    true = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    assert proposal_quality(true, true, k=3) == (1.0, 0.0)  # the truly best three, the best among them
    precision, regret = proposal_quality(true, -true, k=3)  # the worst three
    assert precision == 0.0 and regret == pytest.approx(8.0 - 3.0)
    assert proposal_quality(true, np.array([0, 0, 0, 0, 0, 9, 9, 0.0]), k=2) == (0.5, 1.0)


def test_random_picks_are_the_exact_expectation() -> None:
    rng = np.random.default_rng(0)
    true = rng.random(12)
    precision, regret = random_proposal_quality(true, k=4)
    # every 4-subset equally likely: the mean over all of them
    import itertools
    subsets = list(itertools.combinations(range(12), 4))
    best4 = set(np.argsort(-true)[:4].tolist())
    assert precision == pytest.approx(np.mean([len(best4 & set(c)) / 4 for c in subsets]))
    assert regret == pytest.approx(np.mean([true.max() - true[list(c)].max() for c in subsets]))


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
    assert set(result.rows) == {GNN_NAME, RANDOM_PICKS, *BASELINES}
    for name, row in result.rows.items():
        assert row["n"] == 12 and 0.0 <= row["P@5"] <= 1.0 and row["regret@5"] >= 0
        if name != RANDOM_PICKS:
            assert 0.0 <= row["±25 %"] <= 1.0 and row["MAE ln lat"] >= 0
    assert np.isnan(result.rows[RANDOM_PICKS]["MAE ln lat"])  # predicts nothing: only the proposal columns
    doc = markdown_report([result], graph, ModelConfig(), "test machine", "2026-01-01 00:00 UTC", 10)
    assert "## temporal split" in doc and "test machine" in doc and "## Verdict" in doc
    assert "| gradient-boosted trees |" in doc and f"| {RANDOM_PICKS} |" in doc and "P@5" in doc
