"""Preference elicitation by the Analytic Hierarchy Process (AHP), as in the paper's Fig. 8a.

The paper offers four levels for each pairwise comparison; they map to Saaty's fundamental scale:

    equal → 1, weak → 3 (Saaty's 'moderate'), stronger → 5 ('strong'), absolute → 9 ('extreme').

'A over B at level L' sets a[A][B] = s(L) and a[B][A] = 1/s(L) (reciprocal symmetry).

Weights are the principal right eigenvector of the comparison matrix, normalized to sum to 1. The
consistency ratio is CR = CI / RI with CI = (λmax − n)/(n − 1) and Saaty's random index RI(n); CR >
0.1 is flagged, naming the comparisons that deviate most from the weights (|log(a_ij · w_j / w_i)|).

Missing comparisons are completed with Harker's method (Harker 1987, "Incomplete pairwise comparisons
in the analytic hierarchy process"): in row i each missing a_ij is set to 0 and the diagonal to 1 + m_i
(m_i = the row's missing entries). The principal eigenvector of that matrix C equals the weights of the
matrix completed with a_ij = w_i / w_j, and λmax(C) equals that completed matrix's λmax, so the same
CR formula applies (with the standard RI for n — which is lenient for sparse matrices; we say so in
the result). The comparisons must connect all objectives; otherwise the weights are not determined and
:func:`elicit` raises :class:`PreferenceError` naming the disconnected groups. No comparisons at all →
equal weights.

A half-finished table is a normal state while a user answers, not an error: :func:`assess` answers any
set of comparisons with a :class:`PreferenceStatus` — *complete* (weights and consistency) or
*incomplete* (no weights, the unconnected groups and the comparisons that would connect them, taken
from :data:`GUIDED_COMPARISONS` where one fits). The guided set is a spanning tree of the six
objectives: five comparisons, the fewest that determine weights; every further one refines them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from decision.objectives import N_OBJECTIVES, OBJECTIVES, Objective
from decision.requirements import PairwiseComparison
from kg.errors import DlomError

SAATY_VALUE: dict[str, float] = {"equal": 1.0, "weak": 3.0, "stronger": 5.0, "absolute": 9.0}

# Saaty's random consistency index by matrix order (Saaty 1980).
RANDOM_INDEX: dict[int, float] = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}
CR_THRESHOLD = 0.1

# The comparisons of the paper's §6 example (Fig. 8a), as the text describes them: performance has a
# preference over cost and complexity; latency has a weaker importance than security and cost. The levels
# of the other rows are not legible in the figure, so they are fixed here (7 of the 15 pairs, as in the
# figure; the rest are completed). The paper-example test, the benchmark and the UI's example use them.
PAPER_EXAMPLE_COMPARISONS: tuple[dict[str, str], ...] = (
    {"more": "performance", "less": "cost", "level": "stronger"},
    {"more": "security", "less": "latency", "level": "weak"},
    {"more": "security", "less": "complexity", "level": "weak"},
    {"more": "performance", "less": "complexity", "level": "stronger"},
    {"more": "cost", "less": "reliability", "level": "equal"},
    {"more": "reliability", "less": "latency", "level": "equal"},
    {"more": "cost", "less": "latency", "level": "weak"},
)


# The guided minimal set: the first five of the paper's pairs, which already connect all six objectives
# (performance–cost–reliability and performance–complexity–security–latency), so answering just these
# determines weights. The UI asks them first and offers the other ten as optional refinements.
GUIDED_COMPARISONS: tuple[tuple[Objective, Objective], ...] = tuple(
    (Objective(c["more"]), Objective(c["less"])) for c in PAPER_EXAMPLE_COMPARISONS[:4]) + (
    (Objective.COST, Objective.RELIABILITY),)


class PreferenceError(DlomError):
    """The comparisons do not determine weights (e.g. some objectives are not connected)."""


@dataclass(frozen=True)
class Deviation:
    """A given comparison and how far it is from what the weights imply."""

    more: Objective
    less: Objective
    given: float
    implied: float
    log_deviation: float


@dataclass
class AHPResult:
    """Weights (sum 1, in :data:`OBJECTIVES` order), λmax, CI, CR and the diagnosis."""

    weights: np.ndarray
    lambda_max: float
    consistency_index: float
    consistency_ratio: float
    matrix: np.ndarray
    completed: np.ndarray
    missing_pairs: int
    most_inconsistent: list[Deviation] = field(default_factory=list)
    method: str = "principal eigenvector"

    @property
    def consistent(self) -> bool:
        return self.consistency_ratio <= CR_THRESHOLD

    def weight_map(self) -> dict[Objective, float]:
        return {o: float(w) for o, w in zip(OBJECTIVES, self.weights)}

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data (what REST and GraphQL answer)."""
        return {
            "weights": {o.value: w for o, w in self.weight_map().items()},
            "consistency": {
                "method": self.method, "consistency_ratio": self.consistency_ratio, "consistent": self.consistent,
                "lambda_max": self.lambda_max, "missing_comparisons": self.missing_pairs, "note": self.note(),
                "most_inconsistent": [{"more": d.more.value, "less": d.less.value, "given": d.given, "implied": d.implied,
                                       "log_deviation": d.log_deviation} for d in self.most_inconsistent],
            },
            "completed_matrix": self.completed.tolist(),
        }

    def note(self) -> str:
        parts = []
        if self.missing_pairs:
            parts.append(f"{self.missing_pairs} of {N_OBJECTIVES * (N_OBJECTIVES - 1) // 2} comparisons missing, "
                         "completed by Harker's method (CR uses the standard random index)")
        if not self.consistent:
            worst = ", ".join(f"{d.more.value} vs {d.less.value} (given {d.given:g}, weights imply {d.implied:.2f})"
                              for d in self.most_inconsistent)
            parts.append(f"CR {self.consistency_ratio:.3f} > {CR_THRESHOLD}: the comparisons are inconsistent; "
                         f"revisit {worst}")
        return "; ".join(parts)


def comparison_matrix(comparisons: Sequence[PairwiseComparison], n: int = N_OBJECTIVES) -> np.ndarray:
    """The reciprocal comparison matrix with NaN for missing pairs (diagonal 1)."""
    a = np.full((n, n), np.nan)
    np.fill_diagonal(a, 1.0)
    for c in comparisons:
        i, j = OBJECTIVES.index(c.more), OBJECTIVES.index(c.less)
        v = SAATY_VALUE[c.level]
        a[i, j], a[j, i] = v, 1.0 / v
    return a


def _components(known: np.ndarray) -> list[list[int]]:
    n = known.shape[0]
    seen, groups = set(), []
    for start in range(n):
        if start in seen:
            continue
        stack, group = [start], []
        seen.add(start)
        while stack:
            i = stack.pop()
            group.append(i)
            for j in np.flatnonzero(known[i]):
                if int(j) not in seen:
                    seen.add(int(j))
                    stack.append(int(j))
        groups.append(sorted(group))
    return groups


def principal_eigen(c: np.ndarray) -> tuple[float, np.ndarray]:
    """The Perron eigenvalue and its eigenvector (positive, sum 1) of a positive-diagonal, nonneg matrix."""
    vals, vecs = np.linalg.eig(c)
    k = int(np.argmax(vals.real))
    v = np.abs(vecs[:, k].real)
    return float(vals[k].real), v / v.sum()


def ahp_weights(matrix: np.ndarray) -> AHPResult:
    """AHP weights and consistency of a reciprocal matrix (NaN = missing comparison, Harker-completed)."""
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    known = ~np.isnan(a)
    np.fill_diagonal(known, False)
    groups = _components(known)
    if len(groups) > 1:
        names = [" + ".join(OBJECTIVES[i].value if n == N_OBJECTIVES else str(i) for i in g) for g in groups]
        raise PreferenceError("the comparisons do not connect all objectives, so their relative weights are "
                              f"undetermined; add a comparison between these groups: {' | '.join(names)}")
    missing = (~known).sum(axis=1) - 1  # minus the diagonal
    c = np.where(known, a, 0.0)
    np.fill_diagonal(c, 1.0 + missing)
    lam, w = principal_eigen(c)
    completed = np.where(known, a, np.outer(w, 1.0 / w))
    np.fill_diagonal(completed, 1.0)
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX.get(n, 1.49)
    cr = max(0.0, ci / ri) if ri > 0 else 0.0
    deviations = []
    for i in range(n):
        for j in range(n):
            if known[i, j] and a[i, j] >= 1.0 and (a[i, j] > 1.0 or i < j):
                implied = w[i] / w[j]
                deviations.append(Deviation(OBJECTIVES[i], OBJECTIVES[j], float(a[i, j]), float(implied),
                                            float(abs(np.log(a[i, j] * w[j] / w[i])))))
    deviations.sort(key=lambda d: -d.log_deviation)
    result = AHPResult(weights=w, lambda_max=lam, consistency_index=float(ci), consistency_ratio=float(cr),
                       matrix=a, completed=completed, missing_pairs=int(missing.sum() // 2))
    if not result.consistent:
        result.most_inconsistent = deviations[:3]
    return result


@dataclass
class PreferenceStatus:
    """What a (possibly half-finished) set of comparisons determines.

    ``status`` is ``"complete"`` when the comparisons connect all objectives (or there are none: equal
    weights) — then ``result`` holds the AHP weights — and ``"incomplete"`` otherwise: ``result`` is None,
    ``groups`` are the objectives' connected groups and ``needed`` one comparison per extra group that
    would connect it to the first (a guided pair where one crosses the groups)."""

    status: str
    result: AHPResult | None
    groups: list[list[Objective]]
    needed: list[tuple[Objective, Objective]]
    answered: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data for REST: the AHP result's fields (or None) plus status, groups and needed pairs."""
        body: dict[str, Any] = {"weights": None, "consistency": None, "completed_matrix": None}
        if self.result is not None:
            body.update(self.result.to_dict())
        if self.status == "complete":
            message = ("no comparisons yet: all objectives weigh the same" if self.answered == 0
                       else f"{self.answered} comparison(s) determine the weights")
        else:
            names = " | ".join(" + ".join(o.value for o in g) for g in self.groups)
            pairs = "; ".join(f"{a.value} vs {b.value}" for a, b in self.needed)
            message = (f"incomplete: these groups of objectives are not yet compared with each other ({names}); "
                       f"to get weights, also compare {pairs}")
        body.update({"status": self.status, "message": message, "answered": self.answered,
                     "unconnected_groups": [[o.value for o in g] for g in self.groups] if self.status != "complete" else [],
                     "needed_comparisons": [{"a": a.value, "b": b.value} for a, b in self.needed]})
        return body


def _connecting_pairs(groups: list[list[Objective]]) -> list[tuple[Objective, Objective]]:
    """One comparison per group after the first that joins it to the growing first group; guided pairs
    are preferred so that the user is led along the minimal set."""
    joined = set(groups[0])
    needed = []
    for group in groups[1:]:
        members = set(group)
        pair = next(((a, b) for a, b in GUIDED_COMPARISONS
                     if (a in joined and b in members) or (b in joined and a in members)), None)
        if pair is None:
            pair = (next(o for o in OBJECTIVES if o in joined), group[0])
        needed.append(pair)
        joined |= members
    return needed


def assess(comparisons: Sequence[PairwiseComparison]) -> PreferenceStatus:
    """Weights when the comparisons determine them, else which comparisons are still needed — never raises
    for an unconnected set (that is a half-finished table, the normal state while a user answers)."""
    if not comparisons:
        return PreferenceStatus("complete", elicit(comparisons), [list(OBJECTIVES)], [], 0)
    a = comparison_matrix(comparisons)
    known = ~np.isnan(a)
    np.fill_diagonal(known, False)
    groups = [[OBJECTIVES[i] for i in g] for g in _components(known)]
    if len(groups) > 1:
        return PreferenceStatus("incomplete", None, groups, _connecting_pairs(groups), len(comparisons))
    return PreferenceStatus("complete", ahp_weights(a), groups, [], len(comparisons))


def elicit(comparisons: Sequence[PairwiseComparison]) -> AHPResult:
    """Weights from the user's comparisons; none at all → equal weights (CR 0)."""
    if not comparisons:
        a = np.ones((N_OBJECTIVES, N_OBJECTIVES))
        return ahp_weights(a)
    return ahp_weights(comparison_matrix(comparisons))


def explicit_weights(weights: dict[Objective, float]) -> AHPResult:
    """User-given weights, normalized to sum 1 (no comparisons, so CR is 0 by definition)."""
    w = np.array([float(weights.get(o, 0.0)) for o in OBJECTIVES])
    w = w / w.sum()
    return AHPResult(weights=w, lambda_max=float(N_OBJECTIVES), consistency_index=0.0, consistency_ratio=0.0,
                     matrix=np.full((N_OBJECTIVES, N_OBJECTIVES), np.nan), completed=np.full((N_OBJECTIVES, N_OBJECTIVES), np.nan),
                     missing_pairs=0, method="explicit weights")
