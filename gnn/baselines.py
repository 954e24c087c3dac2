"""Baselines the GNN is compared with, on the same rows and the same input features.

Every baseline is fitted on the training rows' measured targets and predicts all three metrics
(ln latency, accuracy, ln energy) for any row; a metric with no training value falls back to the
global mean. The tabular baselines (k-NN, gradient-boosted trees) see exactly the attribute features
the GNN's nodes carry — DLN, device, mean of the techniques, mean of the frameworks — flattened into
one row per model (:func:`flat_features`), without the graph's links.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import StandardScaler

from gnn.export import METRICS, ExportedGraph

Baseline = Callable[[ExportedGraph, np.ndarray, np.ndarray], np.ndarray]


def flat_features(graph: ExportedGraph) -> np.ndarray:
    """One row per model: [DLN x, device x, mean technique x, mean framework x, #techniques]."""
    d = graph.data
    dln, dev = d["dln"].x.numpy(), d["device"].x.numpy()
    tech, fw = d["technique"].x.numpy(), d["framework"].x.numpy()

    def mean_of(table: np.ndarray, rows: list[int]) -> np.ndarray:
        return table[rows].mean(0) if rows else np.zeros(table.shape[1], dtype=np.float32)

    out = []
    for i in range(graph.count("model")):
        out.append(np.concatenate([
            dln[graph.model_dln[i]], dev[graph.model_device[i]],
            mean_of(tech, graph.model_techniques[i]), mean_of(fw, graph.model_frameworks[i]),
            [len(graph.model_techniques[i])]]))
    return np.asarray(out, dtype=np.float64)


def _global_means(graph: ExportedGraph, train: np.ndarray) -> np.ndarray:
    m = np.nanmean(graph.targets[train], axis=0) if len(train) else np.full(len(METRICS), np.nan)
    return np.where(np.isnan(m), 0.0, m)


def global_mean(graph: ExportedGraph, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The training mean of each metric."""
    return np.tile(_global_means(graph, train), (len(test), 1))


def per_dln_mean(graph: ExportedGraph, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The training mean of each metric over the models of the same DLN (global mean if none)."""
    g = _global_means(graph, train)
    out = np.tile(g, (len(test), 1))
    for r, i in enumerate(test):
        same = train[graph.model_dln[train] == graph.model_dln[i]]
        for k in range(len(METRICS)):
            vals = graph.targets[same, k]
            vals = vals[~np.isnan(vals)]
            if vals.size:
                out[r, k] = vals.mean()
    return out


def _per_metric_regressor(make: Callable[[], object]) -> Baseline:
    def fit_predict(graph: ExportedGraph, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        x = flat_features(graph)
        scaler = StandardScaler().fit(x[train])
        xs = np.nan_to_num(scaler.transform(x))
        out = np.tile(_global_means(graph, train), (len(test), 1))
        for k in range(len(METRICS)):
            rows = train[~np.isnan(graph.targets[train, k])]
            if rows.size < 2:
                continue
            model = make()
            if isinstance(model, KNeighborsRegressor):
                model.set_params(n_neighbors=min(model.n_neighbors, rows.size))
            model.fit(xs[rows], graph.targets[rows, k])
            out[:, k] = model.predict(xs[test])
        return out

    return fit_predict


knn = _per_metric_regressor(lambda: KNeighborsRegressor(n_neighbors=5, weights="distance"))
knn.__doc__ = "k-NN (k=5, distance-weighted) on the standardized flat features."
gradient_boosted_trees = _per_metric_regressor(
    lambda: GradientBoostingRegressor(n_estimators=300, max_depth=3, learning_rate=0.05, subsample=0.8, random_state=0))
gradient_boosted_trees.__doc__ = "sklearn GradientBoostingRegressor (300 trees, depth 3) on the flat features."


def matrix_factorization(graph: ExportedGraph, train: np.ndarray, test: np.ndarray, rank: int = 4,
                         l2: float = 0.1, steps: int = 500, lr: float = 0.05) -> np.ndarray:
    """Biased matrix factorization of the DLN × device matrix, per metric:
    ``y ≈ μ + b_dln + b_device + p_dln · q_device`` fitted by full-batch gradient descent with L2.
    A device (or DLN) without training rows has zero bias and factors: the prediction falls back to
    the other side's bias — MF cannot cold-start, which is what it is here to show."""
    rng = np.random.default_rng(0)
    n_d, n_v = graph.count("dln"), graph.count("device")
    out = np.tile(_global_means(graph, train), (len(test), 1))
    for k in range(len(METRICS)):
        rows = train[~np.isnan(graph.targets[train, k])]
        if rows.size == 0:
            continue
        di, vi, y = graph.model_dln[rows], graph.model_device[rows], graph.targets[rows, k]
        mu = y.mean()
        bd, bv = np.zeros(n_d), np.zeros(n_v)
        p, q = 0.1 * rng.standard_normal((n_d, rank)), 0.1 * rng.standard_normal((n_v, rank))
        for _ in range(steps):
            err = mu + bd[di] + bv[vi] + (p[di] * q[vi]).sum(1) - y
            gbd = np.bincount(di, err, n_d) / rows.size + l2 * bd / rows.size
            gbv = np.bincount(vi, err, n_v) / rows.size + l2 * bv / rows.size
            gp, gq = np.zeros_like(p), np.zeros_like(q)
            np.add.at(gp, di, err[:, None] * q[vi])
            np.add.at(gq, vi, err[:, None] * p[di])
            p -= lr * (gp / rows.size + l2 * p / rows.size) * 10
            q -= lr * (gq / rows.size + l2 * q / rows.size) * 10
            bd -= lr * gbd * 10
            bv -= lr * gbv * 10
        td, tv = graph.model_dln[test], graph.model_device[test]
        out[:, k] = mu + bd[td] + bv[tv] + (p[td] * q[tv]).sum(1)
    return out


BASELINES: dict[str, Baseline] = {
    "global mean": global_mean,
    "per-DLN mean": per_dln_mean,
    "k-NN": knn,
    "gradient-boosted trees": gradient_boosted_trees,
    "matrix factorization": matrix_factorization,
}
