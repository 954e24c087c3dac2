"""AHP preference elicitation: Saaty mapping, eigenvector weights, consistency ratio, Harker completion."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decision.elicitation import (GUIDED_COMPARISONS, RANDOM_INDEX, SAATY_VALUE, PreferenceError, ahp_weights,
                                  assess, comparison_matrix, elicit)
from decision.objectives import OBJECTIVES
from decision.requirements import PairwiseComparison, Preferences

LEVELS = list(SAATY_VALUE)
PAIRS = list(itertools.combinations(OBJECTIVES, 2))

comparison_lists = st.lists(
    st.tuples(st.sampled_from(PAIRS), st.sampled_from(LEVELS), st.booleans()), min_size=0, max_size=15,
    unique_by=lambda t: t[0])


def _comparisons(raw) -> list[PairwiseComparison]:
    out = []
    for (a, b), level, flip in raw:
        more, less = (b, a) if flip else (a, b)
        out.append(PairwiseComparison(more=more, less=less, level=level))
    return out


def _full(raw) -> list[PairwiseComparison]:
    """A complete set of 15 comparisons from a (possibly partial) hypothesis draw."""
    given_pairs = {frozenset(p) for p, _, _ in raw}
    extra = [((a, b), "equal", False) for a, b in PAIRS if frozenset((a, b)) not in given_pairs]
    return _comparisons(list(raw) + extra)


@settings(max_examples=150, deadline=None)
@given(comparison_lists)
def test_weights_are_positive_and_sum_to_one(raw) -> None:
    result = elicit(_full(raw))
    assert result.weights.shape == (6,)
    assert np.all(result.weights > 0)
    assert result.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert result.consistency_ratio >= 0


@settings(max_examples=100, deadline=None)
@given(comparison_lists)
def test_matrix_is_reciprocal(raw) -> None:
    a = comparison_matrix(_full(raw))
    assert np.allclose(a * a.T, 1.0)
    assert np.allclose(np.diag(a), 1.0)
    result = elicit(_full(raw))
    assert np.allclose(result.completed * result.completed.T, 1.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0.05, max_value=20.0), min_size=6, max_size=6))
def test_perfectly_consistent_matrix_has_cr_zero_and_recovers_weights(priorities) -> None:
    w = np.array(priorities) / sum(priorities)
    a = np.outer(w, 1.0 / w)
    result = ahp_weights(a)
    assert result.consistency_ratio == pytest.approx(0.0, abs=1e-9)
    assert result.lambda_max == pytest.approx(6.0, abs=1e-9)
    assert np.allclose(result.weights, w, atol=1e-9)
    assert result.most_inconsistent == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.05, max_value=20.0), min_size=6, max_size=6),
       st.sets(st.sampled_from(range(15)), max_size=10))
def test_harker_completion_recovers_consistent_weights(priorities, dropped) -> None:
    """Drop up to 10 entries of a consistent matrix, keeping it connected: Harker's method must give the
    same weights (and CR 0), since the missing entries are implied exactly."""
    w = np.array(priorities) / sum(priorities)
    a = np.outer(w, 1.0 / w)
    for k in sorted(dropped):
        i, j = (OBJECTIVES.index(x) for x in PAIRS[k])
        a[i, j] = a[j, i] = np.nan
    try:
        result = ahp_weights(a)
    except PreferenceError:
        return  # the drops disconnected the comparison graph; covered by its own test
    assert np.allclose(result.weights, w, atol=1e-9)
    assert result.consistency_ratio == pytest.approx(0.0, abs=1e-9)
    assert result.missing_pairs == len(dropped)


def test_saaty_mapping_and_direction() -> None:
    assert SAATY_VALUE == {"equal": 1.0, "weak": 3.0, "stronger": 5.0, "absolute": 9.0}
    a = comparison_matrix([PairwiseComparison(more="security", less="latency", level="weak")])
    assert a[2, 4] == 3.0 and a[4, 2] == pytest.approx(1 / 3)
    assert np.isnan(a[0, 1])
    two = elicit([PairwiseComparison(more="performance", less="cost", level="absolute")] +
                 [PairwiseComparison(more=o, less="cost", level="equal")
                  for o in ("reliability", "security", "latency", "complexity")])
    assert two.weights[0] / two.weights[3] == pytest.approx(9.0)
    assert two.consistency_ratio == pytest.approx(0.0, abs=1e-9)


def test_no_comparisons_gives_equal_weights() -> None:
    result = elicit([])
    assert np.allclose(result.weights, 1 / 6)
    assert result.consistency_ratio == pytest.approx(0.0, abs=1e-12)


def test_inconsistent_judgements_are_flagged_with_the_responsible_comparison() -> None:
    # a consistent base (all equal) with one wild judgement: security absolutely over performance
    # while performance is absolutely over cost and cost absolutely over security (a cycle)
    comps = [PairwiseComparison(more=a, less=b, level="equal") for a, b in PAIRS]
    cycle = {frozenset(("performance", "cost")): ("performance", "cost"),
             frozenset(("cost", "security")): ("cost", "security"),
             frozenset(("security", "performance")): ("security", "performance")}
    comps = [PairwiseComparison(more=cycle[frozenset((c.more.value, c.less.value))][0],
                                less=cycle[frozenset((c.more.value, c.less.value))][1], level="absolute")
             if frozenset((c.more.value, c.less.value)) in cycle else c for c in comps]
    result = elicit(comps)
    assert result.consistency_ratio > 0.1 and not result.consistent
    flagged = {frozenset((d.more.value, d.less.value)) for d in result.most_inconsistent}
    assert flagged & set(cycle), result.most_inconsistent
    assert "inconsistent" in result.note()
    # CR by its definition, from an independent eigenvalue computation
    a = comparison_matrix(comps)
    lam = max(np.linalg.eigvals(a).real)
    assert result.consistency_ratio == pytest.approx((lam - 6) / 5 / RANDOM_INDEX[6], abs=1e-9)


def test_disconnected_comparisons_are_refused_with_the_groups() -> None:
    with pytest.raises(PreferenceError, match="performance \\+ cost"):
        elicit([PairwiseComparison(more="performance", less="cost", level="weak"),
                PairwiseComparison(more="security", less="latency", level="weak")])


def test_a_half_finished_set_is_incomplete_not_an_error() -> None:
    """Two comparisons leave four groups; assess() says which, and the comparisons that would join them
    connect everything once answered (whatever the levels)."""
    status = assess([PairwiseComparison(more="performance", less="cost", level="weak"),
                     PairwiseComparison(more="security", less="latency", level="weak")])
    assert status.status == "incomplete" and status.result is None
    groups = [{o.value for o in g} for g in status.groups]
    assert {"performance", "cost"} in groups and {"security", "latency"} in groups and len(groups) == 4
    assert len(status.needed) == len(groups) - 1
    body = status.to_dict()
    assert body["weights"] is None and body["status"] == "incomplete" and "performance + cost" in body["message"]
    completed = assess([PairwiseComparison(more="performance", less="cost", level="weak"),
                        PairwiseComparison(more="security", less="latency", level="weak")]
                       + [PairwiseComparison(more=a, less=b, level="equal") for a, b in status.needed])
    assert completed.status == "complete" and completed.result is not None
    assert completed.to_dict()["unconnected_groups"] == []


def test_the_guided_set_is_a_spanning_tree_of_the_six_objectives() -> None:
    """Five comparisons, every objective in one group: the fewest that determine weights."""
    assert len(GUIDED_COMPARISONS) == len(OBJECTIVES) - 1
    status = assess([PairwiseComparison(more=a, less=b, level="weak") for a, b in GUIDED_COMPARISONS])
    assert status.status == "complete" and status.result.missing_pairs == 15 - 5
    # any four of them leave exactly two groups, and the pair suggested to join them is the dropped one
    for dropped in GUIDED_COMPARISONS:
        partial = assess([PairwiseComparison(more=a, less=b, level="weak") for a, b in GUIDED_COMPARISONS if (a, b) != dropped])
        assert len(partial.groups) == 2 and [set(n) for n in partial.needed] == [set(dropped)]


def test_no_comparisons_is_complete_with_equal_weights() -> None:
    status = assess([])
    assert status.status == "complete" and np.allclose(status.result.weights, 1 / 6)


def test_bad_comparisons_are_rejected() -> None:
    with pytest.raises(ValueError, match="itself"):
        PairwiseComparison(more="cost", less="cost", level="weak")
    with pytest.raises(ValueError, match="both compare"):
        Preferences(comparisons=[PairwiseComparison(more="cost", less="latency", level="weak"),
                                 PairwiseComparison(more="latency", less="cost", level="weak")])
