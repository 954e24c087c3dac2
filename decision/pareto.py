"""The Pareto front over the six objective values, so no non-dominated option is hidden by the weights.

Model a dominates model b when a is at least as good on every objective and strictly better on at
least one (all values are 'higher is better'). A dominated model can never outrank its dominator under
any non-negative weights, so the front is exactly the set of models some weighting could prefer
(up to ties).
"""
from __future__ import annotations

import numpy as np


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a >= b) and np.any(a > b))


def pareto_front(values: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the non-dominated rows of ``values`` (n × k).

    Repeatedly takes the remaining row with the largest sum — it cannot be dominated, since a
    dominator has a strictly larger sum and would have removed it, transitively, earlier — and drops
    every row it dominates (a row equal to it is not dominated: it is taken in a later round). Cost:
    O(front size × rows) vectorized; the columns are held apart, so each test is a comparison of
    contiguous arrays, and the rows a front point dominates (most of them, early) are gone for the next.
    """
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return np.array([], dtype=int)
    columns = [v[:, k].copy() for k in range(v.shape[1])]
    total = v.sum(axis=1)
    remaining = np.arange(len(v))
    front = []
    while len(remaining):
        j = int(np.argmax(total))
        front.append(int(remaining[j]))
        top = [float(c[j]) for c in columns]
        no_better = columns[0] <= top[0]
        worse_somewhere = columns[0] < top[0]
        for c, t in zip(columns[1:], top[1:]):
            no_better &= c <= t
            worse_somewhere |= c < t
        keep = ~(no_better & worse_somewhere)
        keep[j] = False  # the front point itself
        remaining, total, columns = remaining[keep], total[keep], [c[keep] for c in columns]
    return np.sort(np.array(front, dtype=np.int64))
