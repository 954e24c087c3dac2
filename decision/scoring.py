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


def ranking(scores: np.ndarray, values: np.ndarray | None = None,
            tie_breakers: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Candidate indices from best to worst: by Eq. 1 score (descending); equal scores by the sum of
    the objective values (descending — so a dominated model never outranks its dominator, even when
    the weights ignore the objective where they differ), then by each tie-breaker (descending), then
    by the values in objective order, then by index so the order is deterministic."""
    scores = np.asarray(scores, dtype=float)
    # round so floating-point noise does not decide between equal scores
    primary = -np.round(scores, 12)
    order = np.argsort(primary, kind="stable")  # equal scores in index order
    ranked = primary[order]
    equal_next = ranked[1:] == ranked[:-1]
    tied = np.flatnonzero(np.r_[equal_next, False] | np.r_[False, equal_next])
    if not len(tied):
        return order
    # Only candidates whose score equals another's need the further keys: sort those within their run
    # of equal scores (np.lexsort's last key is the primary one).
    sub = order[tied]
    run = np.cumsum(np.r_[True, ranked[tied][1:] != ranked[tied][:-1]])
    keys = [-np.asarray(t, dtype=float)[sub] for t in reversed(tie_breakers)]
    if values is not None:
        v = np.asarray(values, dtype=float)[sub]
        # then by the values themselves, first objective first: a dominator is lexicographically
        # greater, so this settles what rounding made equal
        keys = [-v[:, k] for k in reversed(range(v.shape[1]))] + keys + [-np.round(v.sum(axis=1), 12)]
    order[tied] = sub[np.lexsort([sub, *keys, run])]
    return order


@dataclass(frozen=True)
class Contribution:
    objective: Objective
    weight: float
    value: float
    contribution: float


def contributions(values_row: np.ndarray, weights: np.ndarray) -> list[Contribution]:
    """Each objective's share w_i × value_i of one candidate's score."""
    return [Contribution(o, float(w), float(v), float(w * v)) for o, w, v in zip(OBJECTIVES, weights, values_row)]
