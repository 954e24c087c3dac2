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
    every row it dominates. Cost: O(front size × distinct rows) vectorized, fast for the sizes the DSS sees.
    """
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return np.array([], dtype=int)
    # Rows with equal values share their fate (neither dominates the other; whatever dominates one
    # dominates all), and candidates repeat values a lot: find the front of the distinct rows.
    by_value = np.lexsort(v.T)  # rows with equal values side by side (np.unique(axis=0): five times slower)
    sorted_rows = v[by_value]
    starts = np.concatenate(([True], np.any(sorted_rows[1:] != sorted_rows[:-1], axis=1)))
    distinct = sorted_rows[starts]
    which = np.empty(len(v), dtype=np.int64)
    which[by_value] = np.cumsum(starts) - 1
    order = np.argsort(-distinct.sum(axis=1), kind="stable")
    remaining = order
    rows = distinct[order]
    front = []
    while len(remaining):
        top = rows[0]
        front.append(int(remaining[0]))
        dominated = np.all(rows <= top, axis=1) & np.any(rows < top, axis=1)
        dominated[0] = True  # drop the front point itself from the remaining set
        keep = ~dominated
        remaining, rows = remaining[keep], rows[keep]
    return np.flatnonzero(np.isin(which, front))
