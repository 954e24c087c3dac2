"""Eq. 1, ranking, Pareto front, sensitivity and the derivation of objective values."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from decision.objectives import NEUTRAL, RawMeasures, ValueSource, objective_matrix, scale
from decision.diversity import group_variants
from decision.encoded_column import EncodedColumn
from decision.pareto import dominates, pareto_front
from decision.recommend import rank_candidates
from decision.scoring import overall_scores, ranking, tie_order
from decision.sensitivity import top_choice_sensitivity

values_1_5 = st.floats(min_value=1.0, max_value=5.0, allow_nan=False)
weight_vectors = hnp.arrays(np.float64, 6, elements=st.floats(min_value=0.0, max_value=1.0)).filter(lambda w: w.sum() > 1e-6)


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, 6, elements=values_1_5),
       hnp.arrays(np.float64, 6, elements=st.floats(min_value=0.0, max_value=2.0)),
       weight_vectors, hnp.arrays(np.float64, (5, 6), elements=values_1_5))
def test_a_dominated_model_never_outranks_its_dominator(base, gap, w, others) -> None:
    assume(gap.max() > 1e-3)
    better = np.minimum(base + gap, 5.0)
    assume(dominates(better, base))
    values = np.vstack([base, others, better])  # dominated first, dominator last
    w = w / w.sum()
    order = list(ranking(overall_scores(values, w), values))
    assert order.index(len(values) - 1) < order.index(0)


def _brute_front(v: np.ndarray) -> set[int]:
    return {i for i in range(len(v)) if not any(dominates(v[j], v[i]) for j in range(len(v)) if j != i)}


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 40), st.just(6)),
                  elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, 2.5])))
def test_pareto_front_equals_brute_force(values) -> None:
    assert set(pareto_front(values).tolist()) == _brute_front(values)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 25), st.just(6)), elements=values_1_5), weight_vectors)
def test_top_choice_is_on_the_pareto_front(values, w) -> None:
    w = w / w.sum()
    scores = overall_scores(values, w)
    top = int(ranking(scores)[0])
    front = set(pareto_front(values).tolist())
    # the top is on the front, or tied in score with a front member that dominates it
    assert top in front or any(abs(scores[f] - scores[top]) < 1e-9 for f in front)


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 12), st.just(6)), elements=values_1_5),
       hnp.arrays(np.float64, 6, elements=st.floats(min_value=0.01, max_value=1.0)))
def test_sensitivity_interval_is_exact(values, w) -> None:
    w = w / w.sum()
    top = int(ranking(overall_scores(values, w))[0])
    for i, s in enumerate(top_choice_sensitivity(values, w, top)):
        def winner(t: float) -> tuple[int, float, float]:
            wt = w * (1 - t) / (1 - w[i])
            wt[i] = t
            sc = values @ wt
            return int(np.argmax(sc)), float(sc[top]), float(sc.max())
        for t in np.linspace(s.lowest_weight, s.highest_weight, 7)[1:-1]:
            _, mine, best = winner(float(t))
            assert mine >= best - 1e-9  # still (at least tied for) the top inside the interval
        if s.overtaken_above_by is not None and s.highest_weight < 1 - 1e-6:
            k, mine, _ = winner(min(1.0, s.highest_weight + 1e-6))
            sc_k = values[s.overtaken_above_by] @ np.where(np.arange(6) == i, s.highest_weight + 1e-6,
                                                          w * (1 - s.highest_weight - 1e-6) / (1 - w[i]))
            assert sc_k > mine - 1e-12
        if s.overtaken_below_by is not None and s.lowest_weight > 1e-6:
            t = s.lowest_weight - 1e-6
            wt = w * (1 - t) / (1 - w[i])
            wt[i] = t
            assert values[s.overtaken_below_by] @ wt > values[top] @ wt - 1e-12


def test_eq1_and_ties() -> None:
    v = np.array([[5, 1, 1, 1, 1, 1], [1, 5, 1, 1, 1, 1], [5, 1, 1, 1, 1, 1.0]])
    w = np.array([0.5, 0.5, 0, 0, 0, 0])
    assert overall_scores(v, w).tolist() == [3.0, 3.0, 3.0]
    assert ranking(overall_scores(v, w)).tolist() == [0, 1, 2]
    assert ranking(overall_scores(v, w), tie_breakers=[np.array([0, 2, 1])]).tolist() == [1, 2, 0]
    # equal scores: the larger value sum first (here the dominator, row 1)
    v2 = np.array([[5, 1, 1, 1, 1, 1], [5, 1, 2, 1, 1, 1.0]])
    assert ranking(overall_scores(v2, w), v2).tolist() == [1, 0]


def test_scale_forward_reverse_log_and_neutral() -> None:
    raw = np.array([1.0, 10.0, 100.0, np.nan])
    assert scale(raw, forward=False, log=True)[:3].tolist() == [5.0, 3.0, 1.0]
    assert np.isnan(scale(raw, forward=True)[3])
    assert scale(np.array([0.5, 0.9]), forward=True).tolist() == [1.0, 5.0]
    assert scale(np.array([7.0, 7.0]), forward=True).tolist() == [NEUTRAL, NEUTRAL]


def test_objective_values_say_rating_derived_or_missing() -> None:
    measures = [
        RawMeasures(accuracy=0.9, inference_latency_ms=1.0, parameters=1e4, techniques=1),
        RawMeasures(accuracy=0.8, inference_latency_ms=100.0, parameters=1e6, techniques=3, has_cloud=True,
                    shielded_execution=True, security_protocol="TLS 1.3", cost_usd=1000.0),
        RawMeasures(system_latency_ms=50.0),
    ]
    from decision.objectives import Objective
    m = objective_matrix(measures, [{Objective.PERFORMANCE: (2.5, 4)}, {}, {Objective.PERFORMANCE: (5.0, 1)}])
    d0, d1, d2 = m.detail(0), m.detail(1), m.detail(2)
    # measured 5 (best accuracy, worth 5 ratings) averaged with 4 ratings of mean 2.5
    assert d0[0].source == ValueSource.DERIVED and d0[0].value == pytest.approx((5 * 5 + 4 * 2.5) / 9)
    assert d0[0].ratings == 4 and "4 user" in d0[0].basis and d0[0].source_label == "measured + rated (4)"
    # no other evidence: the rating averaged with the neutral 3 (worth one rating)
    assert d2[0].source == ValueSource.RATING and d2[0].value == 4.0 and d2[0].source_label == "rated (1)"
    assert d1[0].source == ValueSource.DERIVED and d1[0].value == 1.0  # lowest accuracy of the set
    assert d0[4].value == 5.0 and d1[4].value == 1.0  # fastest / slowest (log reverse)
    assert d2[4].source == ValueSource.DERIVED and d2[4].value == NEUTRAL and "system latency" in d2[4].basis
    assert d1[2].value == 5.0 and "shielded" in d1[2].basis  # 2 + 2 shielded + 1 protocol
    assert d0[2].source == ValueSource.MISSING and d0[2].value == NEUTRAL
    assert d1[3].source == ValueSource.DERIVED and d0[3].source == ValueSource.MISSING
    assert d0[5].value == 5.0 and d1[5].value == 1.0 and "parameters" in d0[5].basis
    assert d2[1].source == ValueSource.MISSING  # no stability data
    assert m.values.shape == (3, 6) and not np.isnan(m.values).any()


def test_performance_falls_back_on_the_accuracy_lost_scaled_apart() -> None:
    """Without an accuracy, the points a model's precision and runtime lose against float give its
    performance (fewer lost is better), scaled over those candidates only: never mixed with accuracies."""
    measures = [RawMeasures(accuracy=0.9), RawMeasures(accuracy=0.5),
                RawMeasures(accuracy_loss_points=0.2), RawMeasures(accuracy_loss_points=2.0),
                RawMeasures(accuracy=0.7, accuracy_loss_points=9.0), RawMeasures()]
    d = [m[0] for m in (objective_matrix(measures).detail(i) for i in range(len(measures)))]
    assert [x.value for x in d[:2]] == [5.0, 1.0] and "accuracy (min-max" in d[0].basis
    assert [x.value for x in d[2:4]] == [5.0, 1.0] and all("points lost" in x.basis for x in d[2:4])
    assert d[4].value == pytest.approx(3.0) and "accuracy (min-max" in d[4].basis  # its own accuracy wins
    assert d[2].source == ValueSource.DERIVED and d[5].source == ValueSource.MISSING


def test_a_dominator_closer_than_rounding_still_ranks_first() -> None:
    """Scores and sums are rounded to 12 decimals so float noise does not decide; a dominator that
    differs by less than that is still placed above the model it dominates (found by hypothesis)."""
    base = np.full(6, 5.0 - 1e-13)
    better = np.full(6, 5.0)
    values = np.vstack([base, np.ones((5, 6)), better])
    order = list(ranking(overall_scores(values, np.full(6, 1 / 6)), values))
    assert order[:2] == [6, 0]


def test_a_model_tied_with_the_top_bounds_its_interval_at_the_current_weight() -> None:
    """Two models tied under equal weights (found by hypothesis): raising the weight of the objective
    the other one is better on makes it win at once, so the top's interval ends at the current weight."""
    values = np.array([[2.0, 1, 1, 1, 1, 1], [1.0, 2, 1, 1, 1, 1]])
    w = np.full(6, 1 / 6)
    top = int(ranking(overall_scores(values, w))[0])
    assert top == 0
    second = top_choice_sensitivity(values, w, top)[1]  # reliability: model 1 is better on it
    assert second.highest_weight == pytest.approx(1 / 6) and second.overtaken_above_by == 1


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(0, 30), st.just(6)),
                  elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, 2.5])),
       weight_vectors, st.integers(0, 2))
def test_ranking_is_the_documented_sort(values, w, n_tie_breakers) -> None:
    # few distinct values, so ties at every level of the key are common
    w = w / w.sum()
    scores = overall_scores(values, w)
    breakers = [values[:, k] * (k + 1) % 3 for k in range(n_tie_breakers)]
    expected = sorted(range(len(values)), key=lambda i: (
        -round(float(scores[i]), 12), -round(float(values[i].sum()), 12), *(-float(t[i]) for t in breakers),
        *(-float(x) for x in values[i]), i))
    assert ranking(scores, values, breakers).tolist() == expected
    # the tie order computed beforehand (as re-ranking under new weights keeps it): the same ranking
    assert ranking(scores, values, breakers, tie_order(values, breakers)).tolist() == expected


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 40), st.just(6)),
                  elements=st.sampled_from([1.0, 1.5, 2.0, 3.0, 4.0, 5.0])),
       hnp.arrays(np.float64, 6, elements=st.integers(0, 10).map(float)).filter(lambda w: w.sum() > 0))
def test_the_top_choice_sensitivity_over_the_front_is_that_over_every_candidate(values, w) -> None:
    # rank_candidates looks for overtakers on the Pareto front only. (Weights on a grid of tenths, as
    # people give them: a weight of 1e-8 makes ties that rounding, not the front, decides.)
    w = w / w.sum()
    ranked = rank_candidates(values, w)
    everyone = top_choice_sensitivity(values, w, int(ranked.order[0]))
    front = set(ranked.front.tolist())
    assert [s.objective for s in ranked.sensitivity] == [s.objective for s in everyone]
    top = int(ranked.order[0])
    for i, (s, e) in enumerate(zip(ranked.sensitivity, everyone)):
        # equal but for the last bits: the scores of a subset sum in another order
        assert (s.lowest_weight, s.highest_weight) == pytest.approx((e.lowest_weight, e.highest_weight), abs=1e-12)
        for mine, theirs, end, bound in ((s.overtaken_below_by, e.overtaken_below_by, s.lowest_weight, 0.0),
                                         (s.overtaken_above_by, e.overtaken_above_by, s.highest_weight, 1.0)):
            # over every candidate, rounding may make a model tied with the top at weight 0 or 1 look
            # like one crossing a hair inside: not an overtaker
            assert (mine is None) == (theirs is None) or mine is None and end == pytest.approx(bound, abs=1e-12)
            if mine is not None:
                # a model of the front that ties the top where the weight reaches that end (of several
                # crossing there, either may be named)
                moved = np.where(np.arange(6) == i, end, w * (1 - end) / (1 - w[i]))
                assert mine in front and values[mine] @ moved == pytest.approx(values[top] @ moved, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from("abcdef"), max_size=40), st.randoms(use_true_random=False), st.integers(0, 7))
def test_variant_groups_are_the_first_groups_in_rank_order(labels, rnd, top_k) -> None:
    keys = [(label, frozenset(), frozenset()) for label in labels]
    order = list(range(len(keys)))
    rnd.shuffle(order)
    expected: dict[str, list[int]] = {}  # label → its candidates in rank order, groups in order of first appearance
    for i in order:
        expected.setdefault(labels[i], []).append(i)
    # the keys as a list, dictionary-encoded, and encoded with one code per row (equal values repeated)
    for column in (keys, EncodedColumn.of(keys), EncodedColumn(np.arange(len(keys), dtype=np.int32), keys)):
        groups = group_variants(np.array(order, dtype=np.int64), column, top_k)
        assert [[g.representative, *g.members] for g in groups] == list(expected.values())[:top_k]
    alone = group_variants(np.array(order, dtype=np.int64), None, top_k)  # no grouping
    assert [[g.representative, *g.members] for g in alone] == [[i] for i in order][:top_k]
