"""Sensitivity of the top choice to each weight.

For objective i the weight is moved to t while the other weights keep their proportions and are
rescaled to sum 1 − t: w_j(t) = w_j (1 − t)/(1 − w_i). Every score is then linear in t,

    S_k(t) = t·v_ki + (1 − t)·b_k,   b_k = Σ_{j≠i} w_j v_kj / (1 − w_i),

so the top model T stays on top over an interval [t_low, t_high] ∋ w_i whose ends are where some
other model's line crosses T's. We report, per objective, that interval, how far the weight may move
each way, and which model overtakes at each end (None when the top model wins up to 0 or 1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decision.objectives import OBJECTIVES, Objective

_TIE = 1e-9  # scores closer than this are tied


@dataclass(frozen=True)
class WeightSensitivity:
    objective: Objective
    weight: float
    lowest_weight: float
    highest_weight: float
    overtaken_below_by: int | None
    overtaken_above_by: int | None

    @property
    def decrease_margin(self) -> float:
        return self.weight - self.lowest_weight

    @property
    def increase_margin(self) -> float:
        return self.highest_weight - self.weight


def top_choice_sensitivity(values: np.ndarray, weights: np.ndarray, top: int) -> list[WeightSensitivity]:
    """For each objective, the weight range over which candidate ``top`` keeps the highest score."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    out = []
    others = np.arange(len(v)) != top
    for i, obj in enumerate(OBJECTIVES):
        rest = 1.0 - w[i]
        if rest <= 1e-12:
            # all weight on i: moving it down mixes in nothing defined; report the trivial interval
            out.append(WeightSensitivity(obj, float(w[i]), float(w[i]), 1.0, None, None))
            continue
        a = v[:, i]
        b = (v @ w - w[i] * v[:, i]) / rest
        # d_k(t) = S_k(t) − S_T(t) = (b_k − b_T) + t·[(a_k − b_k) − (a_T − b_T)]
        c0 = b - b[top]
        c1 = (a - b) - (a[top] - b[top])
        lo, hi, below, above = 0.0, 1.0, None, None
        with np.errstate(divide="ignore", invalid="ignore"):
            t_cross = np.where(np.abs(c1) > 1e-15, -c0 / np.where(np.abs(c1) > 1e-15, c1, 1.0), np.nan)
        valid = others & ~np.isnan(t_cross)
        # A model whose line rises faster than the top's overtakes when the weight grows past t_cross.
        # A model tied with the top at the current weight crosses at w_i itself, which rounding may put
        # a hair below it: hence the tolerance, and the interval clamped to contain w_i.
        rising = valid & (c1 > 0) & (t_cross >= w[i] - _TIE) & (t_cross < 1.0)
        if rising.any():
            k = int(np.flatnonzero(rising)[np.argmin(t_cross[rising])])
            hi, above = max(float(t_cross[k]), float(w[i])), k
        falling = valid & (c1 < 0) & (t_cross <= w[i] + _TIE) & (t_cross > 0.0)
        if falling.any():
            k = int(np.flatnonzero(falling)[np.argmax(t_cross[falling])])
            lo, below = min(float(t_cross[k]), float(w[i])), k
        out.append(WeightSensitivity(obj, float(w[i]), max(lo, 0.0), min(hi, 1.0), below, above))
    return out
