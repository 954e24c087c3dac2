"""Honest evaluation of the GNN beside baselines: splits, metrics, and the table.

Splits (over models with a measured latency):

* ``random`` — 20 % of the models held out at random (seeded).
* ``device`` — leave-devices-out: devices are grouped by physical hardware (the ``dlom:Hardware`` entity
  the importers give every configuration of one board across rounds, submitters and sources; else the
  board name), so its other rounds cannot leak into training, and the groups are
  split into ``folds`` folds (grouped k-fold); each fold's models are predicted by a model trained
  without any model of those devices. Predictions are pooled over the folds; every device is held out
  exactly once. (``folds=0`` = one fold per group, i.e. strict leave-one-device-out.)
* ``temporal`` — train on the MLPerf Tiny rounds before the latest, test on the latest round.

In every split the held-out models' edges are removed from message passing, so the GNN embeds a
held-out configuration exactly like an unseen proposal.

Metrics: MAE of ln latency; Spearman ρ between predicted and measured latency; share of predictions
within ±10 % and ±25 % of the measured latency; MAE of accuracy and of ln energy where measured;
NDCG@10 of the ranking by predicted Eq.-1 score against the measured Eq.-1 score (min-max scaled
within the group as relevance), within each DLN (a user ranks deployments of one network), averaged over DLN groups with ≥ 2 held-out models.
Proposals: P@5 — of the 5 held-out configurations with the best predicted Eq.-1 score (every network and
device of a fold together, as Build new proposes), the share among the 5 truly best; regret@5 — how many
Eq.-1 points the best of those 5 falls short of the truly best; beside them, what 5 configurations drawn at
random give in expectation (exact, by order statistics), the reference a proposal must beat.
"""
from __future__ import annotations

import datetime as dt
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln
from scipy.stats import spearmanr

from decision.objectives import Objective, objective_matrix
from decision.scoring import overall_scores
from gnn.baselines import BASELINES
from gnn.errors import EmptyGraphError
from gnn.export import ExportedGraph
from gnn.model import ModelConfig, model_batch
from gnn.train import configuration_columns, train_ensemble
from kg.progress import NoProgress, Progress

GNN_NAME = "GNN (ensemble)"
PROPOSALS = 5
"""How many configurations a user would build from the proposals (the k of P@k and regret@k)."""
METRIC_COLUMNS = ("MAE ln lat", "Spearman ρ", "±10 %", "±25 %", "NDCG@10", f"P@{PROPOSALS}", f"regret@{PROPOSALS}",
                  "MAE acc", "MAE ln energy", "n")


@dataclass
class Fold:
    """One train/test division of the model rows."""

    train: np.ndarray
    test: np.ndarray


@dataclass
class SplitResult:
    """The metrics of every method on one split."""

    split: str
    description: str
    n_test: int
    rows: dict[str, dict[str, float]] = field(default_factory=dict)


def device_group(graph: ExportedGraph, device: int) -> str:
    """The hardware a device node stands for: its ``dlom:Hardware`` entity, else its board name
    (normalized), else its IRI."""
    if graph.device_hardware[device] is not None:
        return str(graph.device_hardware[device])
    a = graph.attrs["device"][device]
    board = a.get("board") or a.get("processor")
    return re.sub(r"[^a-z0-9]+", "", str(board).lower()) if board else graph.iris["device"][device]


def random_split(graph: ExportedGraph, test_share: float = 0.2, seed: int = 0) -> list[Fold]:
    rows = np.flatnonzero(~np.isnan(graph.targets[:, 0]))
    rng = np.random.default_rng(seed)
    perm = rng.permutation(rows)
    n_test = max(1, int(round(test_share * rows.size)))
    return [Fold(np.sort(perm[n_test:]), np.sort(perm[:n_test]))]


def device_split(graph: ExportedGraph, folds: int = 10, seed: int = 0) -> list[Fold]:
    rows = np.flatnonzero(~np.isnan(graph.targets[:, 0]))
    groups = np.array([device_group(graph, int(graph.model_device[i])) for i in rows])
    unique = sorted(set(groups))
    if len(unique) < 2:
        raise EmptyGraphError("the device split needs measured models on at least two devices")
    rng = np.random.default_rng(seed)
    order = [unique[i] for i in rng.permutation(len(unique))]
    k = len(unique) if folds <= 0 else min(folds, len(unique))
    assignment = {g: n % k for n, g in enumerate(order)}
    out = []
    for f in range(k):
        test_mask = np.array([assignment[g] == f for g in groups])
        if test_mask.any() and (~test_mask).any():
            out.append(Fold(rows[~test_mask], rows[test_mask]))
    return out


def round_key(r: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", r))


def temporal_split(graph: ExportedGraph) -> list[Fold]:
    rows = np.array([i for i in np.flatnonzero(~np.isnan(graph.targets[:, 0])) if graph.rounds[i]], dtype=np.int64)
    rounds = sorted({graph.rounds[i] for i in rows}, key=round_key)
    if len(rounds) < 2:
        raise EmptyGraphError("the temporal split needs measured models from at least two benchmark rounds")
    latest = rounds[-1]
    test = rows[[graph.rounds[i] == latest for i in rows]]
    train = rows[[graph.rounds[i] != latest for i in rows]]
    return [Fold(train, test)]


def ndcg_at_k(true_scores: np.ndarray, predicted_scores: np.ndarray, k: int = 10) -> float:
    """NDCG@k of ordering by ``predicted_scores``; relevance = the true Eq.-1 score min-max scaled within the
    group (best 1, worst 0), so that an arbitrary order does not score near 1 just because Eq.-1 scores of
    one network's deployments are close together."""
    t = np.asarray(true_scores, dtype=float)
    span = float(t.max() - t.min()) if t.size else 0.0
    rel = (t - t.min()) / span if span > 1e-12 else np.ones_like(t)
    order = np.argsort(-np.asarray(predicted_scores), kind="stable")[:k]
    ideal = np.sort(rel)[::-1][:k]
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    idcg = float((ideal * disc[: ideal.size]).sum())
    if idcg <= 0:
        return 1.0
    return float((rel[order] * disc[: order.size]).sum() / idcg)


def _eq1_scores(graph: ExportedGraph, rows: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(measured, predicted) Eq.-1 scores (equal weights) of the model ``rows``, their objective values
    scaled over these rows. Predicted metrics are used only where the truth is measured, so both
    rankings see the same objectives."""
    weights = np.full(len(Objective), 1.0 / len(Objective))
    true_m = graph.targets[rows]
    pred_m = np.where(np.isnan(true_m), np.nan, predicted)
    counts = [len(graph.model_techniques[j]) for j in rows]
    dlns, devices = graph.model_dln[rows], graph.model_device[rows]
    return tuple(overall_scores(objective_matrix(configuration_columns(graph, dlns, devices, counts, m)).values, weights)
                 for m in (true_m, pred_m))  # type: ignore[return-value]


def group_ndcg(graph: ExportedGraph, test: np.ndarray, predicted: np.ndarray, fold_of: np.ndarray) -> float:
    """Mean NDCG@10 over (fold, DLN) groups of ≥ 2 held-out models."""
    values = []
    keys = sorted({(int(f), int(graph.model_dln[i])) for f, i in zip(fold_of, test)})
    for f, d in keys:
        sel = np.flatnonzero((fold_of == f) & (graph.model_dln[test] == d))
        if sel.size < 2:
            continue
        values.append(ndcg_at_k(*_eq1_scores(graph, test[sel], predicted[sel])))
    return float(np.mean(values)) if values else float("nan")


def proposal_quality(true_scores: np.ndarray, predicted_scores: np.ndarray, k: int = PROPOSALS) -> tuple[float, float]:
    """(precision@k, regret@k) of proposing the ``k`` configurations with the best predicted Eq.-1 score:
    the share of them among the ``k`` truly best, and how far the best of them falls short of the truly
    best configuration (Eq.-1 points on the 1-5 scale; 0 when it is among them). Ties in the truth count
    as best when they equal the k-th best score."""
    t = np.asarray(true_scores, dtype=float)
    k = min(k, t.size)
    chosen = np.argsort(-np.asarray(predicted_scores, dtype=float), kind="stable")[:k]
    kth_best = np.sort(t)[::-1][k - 1]
    return float((t[chosen] >= kth_best - 1e-12).mean()), float(t.max() - t[chosen].max())


def random_proposal_quality(true_scores: np.ndarray, k: int = PROPOSALS) -> tuple[float, float]:
    """What ``k`` configurations drawn at random (without replacement) give on average: (expected
    precision@k, expected regret@k), exactly (order statistics, not sampled)."""
    t = np.sort(np.asarray(true_scores, dtype=float))  # ascending
    n, k = t.size, min(k, t.size)
    kth_best = t[::-1][k - 1]
    precision = float((t >= kth_best - 1e-12).sum() / n)  # each draw hits a best one with this chance
    # P(the best of k draws is the i-th smallest) = C(i-1, k-1) / C(n, k), i = k..n
    i = np.arange(1, n + 1)
    with np.errstate(over="ignore"):
        log_p = np.where(i >= k, _log_comb(i - 1, k - 1) - _log_comb(np.array([n]), k)[0], -np.inf)
    expected_best = float((np.exp(log_p) * t).sum())
    return precision, float(t.max() - expected_best)


def _log_comb(n: np.ndarray, k: int) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    return np.where(n >= k, gammaln(n + 1) - gammaln(k + 1) - gammaln(np.maximum(n - k, 0) + 1), -np.inf)


def proposal_metrics(graph: ExportedGraph, test: np.ndarray, predicted: np.ndarray, fold_of: np.ndarray,
                     by: Callable[[np.ndarray], tuple[float, float]] | None = None) -> tuple[float, float]:
    """Mean (precision@k, regret@k) over the folds with more than :data:`PROPOSALS` held-out models,
    ranking every held-out model of a fold (all networks and devices together: what Build new proposes
    from). ``by``: a function of the measured scores alone instead (the random reference)."""
    found = []
    for f in np.unique(fold_of).tolist():
        sel = np.flatnonzero(fold_of == f)
        if sel.size <= PROPOSALS:
            continue
        true_s, pred_s = _eq1_scores(graph, test[sel], predicted[sel])
        found.append(by(true_s) if by is not None else proposal_quality(true_s, pred_s))
    if not found:
        return float("nan"), float("nan")
    return float(np.mean([p for p, _ in found])), float(np.mean([r for _, r in found]))


def metrics(graph: ExportedGraph, test: np.ndarray, predicted: np.ndarray, fold_of: np.ndarray) -> dict[str, float]:
    """The table's metrics for predictions ``predicted`` (rows aligned with ``test``)."""
    true = graph.targets[test]
    lat = ~np.isnan(true[:, 0])
    err = predicted[lat, 0] - true[lat, 0]
    ratio = np.abs(np.exp(err) - 1.0)
    # ρ is undefined for a constant prediction (e.g. the global mean): reported as missing, not 0.
    varied = lat.sum() > 2 and np.ptp(predicted[lat, 0]) > 0 and np.ptp(true[lat, 0]) > 0
    rho = spearmanr(predicted[lat, 0], true[lat, 0]).statistic if varied else float("nan")
    acc = ~np.isnan(true[:, 1])
    en = ~np.isnan(true[:, 2])
    precision, regret = proposal_metrics(graph, test, predicted, fold_of)
    return {
        "MAE ln lat": float(np.abs(err).mean()) if lat.any() else float("nan"),
        "Spearman ρ": float(rho),
        "±10 %": float((ratio <= 0.10).mean()) if lat.any() else float("nan"),
        "±25 %": float((ratio <= 0.25).mean()) if lat.any() else float("nan"),
        "NDCG@10": group_ndcg(graph, test, predicted, fold_of),
        f"P@{PROPOSALS}": precision,
        f"regret@{PROPOSALS}": regret,
        "MAE acc": float(np.abs(np.clip(predicted[acc, 1], 0, 1) - true[acc, 1]).mean()) if acc.any() else float("nan"),
        "MAE ln energy": float(np.abs(predicted[en, 2] - true[en, 2]).mean()) if en.any() else float("nan"),
        "n": float(test.size),
    }


RANDOM_PICKS = "random picks (expected)"
"""The reference row of the proposal columns: k configurations drawn at random, in expectation."""


SPLITS: dict[str, tuple[str, Callable[..., list[Fold]]]] = {
    "random": ("20 % of the measured models held out at random (seed 0)", random_split),
    "device": ("leave-devices-out: devices grouped by physical hardware (dlom:Hardware) across rounds, grouped "
               "10-fold; every device held out once, predictions pooled", device_split),
    "temporal": ("train on earlier MLPerf Tiny rounds, test on the latest round", temporal_split),
}


def evaluate_split(graph: ExportedGraph, split: str, config: ModelConfig, folds: int = 10,
                   progress: Progress = NoProgress()) -> SplitResult:
    """Train and test the GNN and every baseline on one split; the same folds for all methods."""
    description, make = SPLITS[split]
    fold_list = make(graph, folds=folds) if split == "device" else make(graph)
    test_all = np.concatenate([f.test for f in fold_list])
    fold_of = np.concatenate([np.full(f.test.size, k) for k, f in enumerate(fold_list)])
    predictions: dict[str, np.ndarray] = {}
    gnn_preds = []
    for f in fold_list:
        keep = np.ones(graph.count("model"), dtype=bool)
        keep[f.test] = False
        ens = train_ensemble(graph, f.train, config, keep_models=keep, progress=progress)
        pred = ens.predict(graph, model_batch(graph, f.test), ens.tables(graph, keep))
        gnn_preds.append(pred.mean)
    predictions[GNN_NAME] = np.concatenate(gnn_preds)
    for name, baseline in BASELINES.items():
        predictions[name] = np.concatenate([baseline(graph, f.train, f.test) for f in fold_list])
    if split == "device":
        description = description.replace("10-fold", f"{len(fold_list)}-fold")
    result = SplitResult(split, description, int(test_all.size))
    for name, pred in predictions.items():
        result.rows[name] = metrics(graph, test_all, pred, fold_of)
    precision, regret = proposal_metrics(graph, test_all, predictions[GNN_NAME], fold_of, by=random_proposal_quality)
    result.rows[RANDOM_PICKS] = {c: float("nan") for c in METRIC_COLUMNS} | {
        f"P@{PROPOSALS}": precision, f"regret@{PROPOSALS}": regret, "n": float(test_all.size)}
    return result


def best_baseline(result: SplitResult, column: str = "MAE ln lat") -> tuple[str, float]:
    """The baseline with the lowest value of ``column`` (an error metric)."""
    cands = [(name, row[column]) for name, row in result.rows.items() if name != GNN_NAME]
    return min(cands, key=lambda x: (np.inf if np.isnan(x[1]) else x[1]))


def machine_description() -> str:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{platform.node() or 'host'}: {platform.machine()}, {platform.processor() or 'cpu'}, "
            f"{torch.get_num_threads()} torch thread(s), {gpu}, "
            f"Python {platform.python_version()}, torch {torch.__version__}")


def run_date() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
