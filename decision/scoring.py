"""Eq. 1 of the DLOM paper and the ranking it induces.

    Ovrl_j = w_prf·Prf_j + w_rel·Rel_j + w_sec·Sec_j + w_cst·Cst_j + w_lat·Lat_j + w_cmp·Cmp_j

with the weights from preference elicitation (sum 1) and the 1-5 objective values (5 best for every
objective, reverse-scaled ones included), so Ovrl_j is itself on the 1-5 scale.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from decision.objectives import OBJECTIVES, Objective


def overall_scores(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Eq. 1 for every candidate: ``values`` (n × 6) · ``weights`` (6)."""
    return np.asarray(values, dtype=float) @ np.asarray(weights, dtype=float)


def tie_order(values: np.ndarray | None, tie_breakers: Sequence[np.ndarray] = (), n: int | None = None) -> np.ndarray:
    """Candidate indices in the order that settles equal Eq. 1 scores, whatever the weights: by the sum
    of the objective values (descending — so a dominated model never outranks its dominator, even when
    the weights ignore the objective where they differ), then by each tie-breaker (descending), then by
    the values in objective order, then by index. ``n``: the number of candidates when ``values`` is None
    (then only the tie-breakers and the index count).

    It does not depend on the weights, so a caller re-ranking one candidate set under new weights
    computes it once (:func:`ranking`'s ``settled``)."""
    breakers = [-np.asarray(t, dtype=float) for t in reversed(tie_breakers)]
    if values is None:
        if n is None:
            raise ValueError("tie_order needs the values or the number of candidates")
        return np.lexsort([np.arange(n), *breakers])
    v = np.asarray(values, dtype=float)
    # np.lexsort's last key is the primary one. The values first objective first: a dominator is
    # lexicographically greater, so this settles what rounding made equal.
    by_values = [-v[:, k] for k in reversed(range(v.shape[1]))]
    return np.lexsort([np.arange(len(v)), *by_values, *breakers, -np.round(v.sum(axis=1), 12)])


def ranking(scores: np.ndarray, values: np.ndarray | None = None,
            tie_breakers: Sequence[np.ndarray] = (), settled: np.ndarray | None = None) -> np.ndarray:
    """Candidate indices from best to worst: by Eq. 1 score (descending), equal scores in
    :func:`tie_order` (``settled``: that order, computed beforehand for ``values`` and ``tie_breakers``)."""
    scores = np.asarray(scores, dtype=float)
    if settled is None:
        settled = tie_order(values, tie_breakers, len(scores))
    # round so floating-point noise does not decide between equal scores; a stable sort of the scores
    # taken in the tie order keeps that order within equal scores
    primary = -np.round(scores, 12)
    return settled[np.argsort(primary[settled], kind="stable")]


@dataclass(frozen=True)
class Contribution:
    objective: Objective
    weight: float
    value: float
    contribution: float


def contributions(values_row: np.ndarray, weights: np.ndarray) -> list[Contribution]:
    """Each objective's share w_i × value_i of one candidate's score."""
    return [Contribution(o, float(w), float(v), float(w * v)) for o, w, v in zip(OBJECTIVES, weights, values_row)]
