"""Ranking and normalisation: exact examples and properties (pure, no I/O)."""

from __future__ import annotations

import hashlib
import math
import statistics
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judging.domain.ranking import (
    Criterion,
    Decision,
    RankedEntry,
    Review,
    Rules,
    compute_ranking,
    rules_hash,
    validate_scores,
    weighted_total,
)

pytestmark = pytest.mark.unit

ONE = (Criterion("q", 1, 0, 10),)


def reviews_from(table: dict[int, dict[int, float]], code: str = "q") -> list[Review]:
    """{entry_id: {reviewer_id: value}} for a one-criterion rubric."""
    return [Review(e, r, {code: v}) for e, row in table.items() for r, v in row.items()]


def ranks(result: list[RankedEntry]) -> dict[int, int]:
    return {r.entry_id: r.rank for r in result}


def inside(result: list[RankedEntry], cut: int) -> set[int]:
    return {r.entry_id for r in result if r.rank <= cut}


def naive_borderline(reviews: list[Review], rules: Rules, decisions=None) -> set[int]:
    """Recompute the whole ranking without each reviewer in turn (renormalising everything)."""
    full = compute_ranking(reviews, rules, decisions, with_borderline=False)
    before = inside(full, rules.cut)
    flagged: set[int] = set()
    for reviewer in {r.reviewer_id for r in reviews}:
        rest = [r for r in reviews if r.reviewer_id != reviewer]
        after = inside(compute_ranking(rest, rules, decisions, with_borderline=False), rules.cut)
        flagged |= {r.entry_id for r in full if (r.entry_id in before) != (r.entry_id in after)}
    return flagged


def profile(result: list[RankedEntry]) -> dict[int, tuple]:
    """Everything about each entry except raw_score (which is not normalised)."""
    return {
        r.entry_id: (r.rank, r.score, r.spread, r.borderline, r.criterion_means, r.tied, r.reviewers)
        for r in result
    }


# --- strategies ---------------------------------------------------------------------------


@st.composite
def rounds(draw, normalisation=None, max_entries=8, max_reviewers=5, max_value=None):
    n_criteria = draw(st.integers(1, 3))
    criteria = tuple(
        Criterion(
            f"c{i}",
            draw(st.sampled_from([1, 2, 3, 0.5])),
            0,
            max_value or draw(st.sampled_from([3, 10])),
        )
        for i in range(n_criteria)
    )
    codes = [c.code for c in criteria]
    tie_break = tuple(draw(st.permutations(codes))[: draw(st.integers(0, n_criteria))])
    norm = normalisation or draw(st.sampled_from(["none", "zscore"]))
    n_entries = draw(st.integers(1, max_entries))
    n_reviewers = draw(st.integers(1, max_reviewers))
    reviews = []
    for entry_id in range(1, n_entries + 1):
        who = draw(st.lists(st.integers(1, n_reviewers), min_size=1, max_size=n_reviewers, unique=True))
        for reviewer_id in who:
            scores = {c.code: draw(st.integers(0, int(c.max) * 2)) / 2 for c in criteria}
            reviews.append(Review(entry_id, reviewer_id, scores))
    cut = draw(st.integers(0, n_entries + 1))
    return reviews, Rules(criteria, norm, tie_break, cut)


@st.composite
def rounds_with_decisions(draw, **kwargs):
    reviews, rules = draw(rounds(**kwargs))
    entry_ids = sorted({r.entry_id for r in reviews})
    # Often every entry has a position, so that decisions do cover whole tie groups.
    decided = draw(st.one_of(st.just(entry_ids), st.lists(st.sampled_from(entry_ids), unique=True)))
    positions = {e: draw(st.integers(1, 4)) for e in decided}
    return reviews, rules, Decision(positions)


# --- weighted totals, validation, hashing ---------------------------------------------------


def test_weighted_total_is_weighted_mean_on_rubric_scale():
    criteria = (Criterion("a", 3, 0, 10), Criterion("b", 1, 0, 10))
    assert weighted_total(criteria, {"a": 8, "b": 4}) == 7.0


def test_validate_scores_reports_every_problem():
    criteria = (Criterion("a", 1, 0, 10), Criterion("b", 1, 1, 5), Criterion("c", 1, 0, 10))
    problems = validate_scores(criteria, {"a": 11, "b": float("nan"), "zz": 3})
    assert [(p.code, p.kind) for p in problems] == [
        ("a", "out_of_range"),
        ("b", "not_a_number"),
        ("c", "missing"),
        ("zz", "unknown"),
    ]
    assert problems[0].message_th == "คะแนนเกณฑ์ a ต้องอยู่ระหว่าง 0 ถึง 10 (ได้รับ 11)"
    assert problems[0].message_en == "The score for criterion a must be between 0 and 10 (got 11)"


def test_validate_scores_accepts_bounds():
    criteria = (Criterion("a", 1, 0, 10), Criterion("b", 2, 1, 5))
    assert validate_scores(criteria, {"a": 0, "b": 5.0}) == []


def test_rules_hash_is_sha256_of_canonical_json():
    expected = hashlib.sha256('{"a":[1,2],"b":"ไทย"}'.encode()).hexdigest()
    assert rules_hash({"b": "ไทย", "a": [1, 2]}) == expected
    assert rules_hash({"a": [1, 2], "b": "ไทย"}) == expected


def test_rules_reject_unknown_tie_break_code():
    with pytest.raises(ValueError):
        Rules(ONE, "none", ("nope",), 1)


def test_compute_ranking_rejects_missing_criterion():
    with pytest.raises(ValueError, match="missing criteria"):
        compute_ranking([Review(1, 1, {})], Rules(ONE, "none", (), 1))


def test_compute_ranking_rejects_unknown_criterion():
    with pytest.raises(ValueError, match="unknown criteria"):
        compute_ranking([Review(1, 1, {"q": 1, "x": 2})], Rules(ONE, "none", (), 1))


def test_compute_ranking_rejects_same_reviewer_twice_on_entry():
    with pytest.raises(ValueError, match="twice"):
        compute_ranking(reviews_from({1: {1: 5}}) * 2, Rules(ONE, "none", (), 1))


def test_compute_ranking_empty_input_is_empty():
    assert compute_ranking([], Rules(ONE, "zscore", (), 40)) == []


# --- scores, ranks and ties -----------------------------------------------------------------


def test_compute_ranking_three_way_tie_shares_rank():
    table = {1: {1: 9}, 2: {1: 8}, 3: {2: 8}, 4: {3: 8}, 5: {1: 7}}
    result = compute_ranking(reviews_from(table), Rules(ONE, "none", (), 2))
    assert [(r.entry_id, r.rank, r.tied) for r in result] == [
        (1, 1, False),
        (2, 2, True),
        (3, 2, True),
        (4, 2, True),
        (5, 5, False),
    ]


def test_compute_ranking_tie_straddling_cut_is_all_inside():
    table = {1: {1: 9}, 2: {1: 8}, 3: {2: 8}, 4: {3: 8}, 5: {1: 7}}
    result = compute_ranking(reviews_from(table), Rules(ONE, "none", (), 2), with_borderline=False)
    assert inside(result, 2) == {1, 2, 3, 4}


def test_compute_ranking_tie_break_chain_orders_equal_scores():
    criteria = (Criterion("a", 1, 0, 10), Criterion("b", 1, 0, 10), Criterion("c", 2, 0, 10))
    reviews = [
        Review(1, 1, {"a": 8, "b": 6, "c": 5}),  # total 6, a 8, b 6
        Review(2, 1, {"a": 8, "b": 8, "c": 4}),  # total 6, a 8, b 8
        Review(3, 1, {"a": 6, "b": 8, "c": 5}),  # total 6, a 6, b 8
        Review(4, 1, {"a": 9, "b": 9, "c": 1}),  # total 5
    ]
    by_a_then_b = compute_ranking(reviews, Rules(criteria, "none", ("a", "b"), 1))
    assert [(r.entry_id, r.rank, r.tied) for r in by_a_then_b] == [
        (2, 1, False),
        (1, 2, False),
        (3, 3, False),
        (4, 4, False),
    ]
    by_b_only = compute_ranking(reviews, Rules(criteria, "none", ("b",), 1))
    assert [(r.entry_id, r.rank, r.tied) for r in by_b_only] == [
        (2, 1, True),
        (3, 1, True),
        (1, 3, False),
        (4, 4, False),
    ]
    no_chain = compute_ranking(reviews, Rules(criteria, "none", (), 1))
    assert [(r.entry_id, r.rank, r.tied) for r in no_chain] == [
        (1, 1, True),
        (2, 1, True),
        (3, 1, True),
        (4, 4, False),
    ]


def test_compute_ranking_committee_decision_resolves_tie():
    table = {1: {1: 8}, 2: {2: 8}, 3: {3: 8}, 4: {1: 9}}
    rules = Rules(ONE, "none", (), 2)
    decided = compute_ranking(reviews_from(table), rules, Decision({3: 1, 1: 2, 2: 3}))
    assert [(r.entry_id, r.rank, r.tied) for r in decided] == [
        (4, 1, False),
        (3, 2, False),
        (1, 3, False),
        (2, 4, False),
    ]


def test_compute_ranking_partial_decision_leaves_group_tied():
    table = {1: {1: 8}, 2: {2: 8}, 3: {3: 8}}
    result = compute_ranking(reviews_from(table), Rules(ONE, "none", (), 1), {3: 1, 1: 2})
    assert [(r.entry_id, r.rank, r.tied) for r in result] == [(1, 1, True), (2, 1, True), (3, 1, True)]


def test_compute_ranking_equal_decision_positions_stay_tied():
    table = {1: {1: 8}, 2: {2: 8}, 3: {3: 8}}
    result = compute_ranking(reviews_from(table), Rules(ONE, "none", (), 1), {3: 1, 1: 2, 2: 2})
    assert [(r.entry_id, r.rank, r.tied) for r in result] == [(3, 1, False), (1, 2, True), (2, 2, True)]


def test_compute_ranking_float_noise_does_not_break_tie():
    # 0.1*1 + 0.2*1 != 0.3 in floats; the totals are equal exactly and must tie.
    criteria = (Criterion("a", 0.1, 0, 10), Criterion("b", 0.2, 0, 10), Criterion("c", 0.3, 0, 10))
    reviews = [Review(1, 1, {"a": 1, "b": 1, "c": 0}), Review(2, 1, {"a": 0, "b": 0, "c": 1})]
    result = compute_ranking(reviews, Rules(criteria, "none", (), 1))
    assert [(r.entry_id, r.rank, r.tied, r.score) for r in result] == [(1, 1, True, 0.5), (2, 1, True, 0.5)]


def test_compute_ranking_spread_is_population_sd_of_totals():
    result = compute_ranking(reviews_from({1: {1: 6, 2: 8, 3: 10}}), Rules(ONE, "none", (), 1))
    [entry] = result
    assert entry.score == 8.0
    assert entry.raw_score == 8.0
    assert entry.reviewers == 3
    assert entry.spread == round(math.sqrt(8 / 3), 9)
    assert entry.criterion_means == {"q": 8.0}


def test_compute_ranking_spread_single_reviewer_is_zero():
    [entry] = compute_ranking(reviews_from({1: {1: 6}}), Rules(ONE, "zscore", (), 1))
    assert entry.spread == 0.0


def test_compute_ranking_zscore_rescales_to_rubric_range():
    # Reviewer 1 gives 2, 4, 6: z = -sqrt(1.5), 0, +sqrt(1.5); mid 5, one sd = 10/6.
    table = {1: {1: 2}, 2: {1: 4}, 3: {1: 6}}
    result = compute_ranking(reviews_from(table), Rules(ONE, "zscore", (), 1))
    z = math.sqrt(1.5)
    assert [(r.entry_id, r.rank) for r in result] == [(3, 1), (2, 2), (1, 3)]
    assert [r.score for r in result] == [round(5 + 10 / 6 * z, 9), 5.0, round(5 - 10 / 6 * z, 9)]
    assert [r.raw_score for r in result] == [6.0, 4.0, 2.0]
    assert [r.criterion_means["q"] for r in result] == [r.score for r in result]


def test_compute_ranking_zscore_single_review_reviewer_counts_as_average():
    table = {1: {1: 2, 2: 9}, 2: {1: 6}}  # reviewer 2 has one review: z = 0
    result = compute_ranking(reviews_from(table), Rules(ONE, "zscore", (), 1))
    by_id = {r.entry_id: r for r in result}
    assert by_id[1].score == round(5 + 10 / 6 * (-1 + 0) / 2, 9)
    assert by_id[2].score == round(5 + 10 / 6 * 1, 9)


def test_compute_ranking_zscore_constant_reviewer_counts_as_average():
    table = {1: {1: 7}, 2: {1: 7}, 3: {1: 7}}
    result = compute_ranking(reviews_from(table), Rules(ONE, "zscore", (), 1))
    assert [(r.rank, r.score, r.tied) for r in result] == [(1, 5.0, True)] * 3


def test_compute_ranking_zscore_removes_reviewer_harshness():
    # Reviewer 2 is uniformly 4 points harsher; normalised, entries 1 and 2 are equal.
    table = {1: {1: 9}, 2: {2: 5}, 3: {1: 5}, 4: {2: 1}}
    result = compute_ranking(reviews_from(table), Rules(ONE, "zscore", (), 2))
    assert ranks(result) == {1: 1, 2: 1, 3: 3, 4: 3}
    raw = compute_ranking(reviews_from(table), Rules(ONE, "none", (), 2))
    assert ranks(raw) == {1: 1, 2: 2, 3: 2, 4: 4}


# --- borderline -----------------------------------------------------------------------------


def test_compute_ranking_borderline_when_one_reviewer_decides():
    table = {1: {1: 10, 2: 4}, 2: {1: 6, 3: 6}, 3: {2: 3, 3: 3}}
    result = compute_ranking(reviews_from(table), Rules(ONE, "none", (), 1))
    assert [(r.entry_id, r.rank, r.borderline) for r in result] == [(1, 1, True), (2, 2, True), (3, 3, False)]


def test_compute_ranking_single_reviewer_entry_inside_cut_is_borderline():
    table = {1: {1: 9}, 2: {1: 5, 2: 5}, 3: {2: 4}}
    result = compute_ranking(reviews_from(table), Rules(ONE, "none", (), 1))
    # without reviewer 1, entry 1 has no score (outside) and entry 2 moves in; entry 3's only
    # reviewer leaving keeps it outside.
    assert [(r.entry_id, r.borderline) for r in result] == [(1, True), (2, True), (3, False)]


def test_compute_ranking_borderline_applies_decision_to_tie_formed_without_a_reviewer():
    # Without reviewer 2 both entries score 8; the committee's order for that tie puts 1 first.
    table = {1: {1: 8, 2: 2}, 2: {1: 8, 2: 9}}
    rules = Rules(ONE, "none", (), 1)
    result = compute_ranking(reviews_from(table), rules, Decision({1: 1, 2: 2}))
    assert [(r.entry_id, r.rank, r.borderline) for r in result] == [(2, 1, True), (1, 2, True)]
    assert naive_borderline(reviews_from(table), rules, Decision({1: 1, 2: 2})) == {1, 2}
    undecided = compute_ranking(reviews_from(table), rules)
    assert [(r.entry_id, r.borderline) for r in undecided] == [(2, False), (1, True)]


def test_compute_ranking_cut_zero_has_no_borderline():
    table = {1: {1: 9}, 2: {1: 5, 2: 5}}
    assert [r.borderline for r in compute_ranking(reviews_from(table), Rules(ONE, "none", (), 0))] == [
        False,
        False,
    ]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds_with_decisions(max_value=3))
def test_compute_ranking_borderline_equals_naive_recomputation(case):
    reviews, rules, decisions = case
    fast = {r.entry_id for r in compute_ranking(reviews, rules, decisions) if r.borderline}
    assert fast == naive_borderline(reviews, rules, decisions)


@settings(max_examples=200, deadline=None)
@given(rounds(max_entries=12, max_reviewers=6))
def test_compute_ranking_borderline_equals_naive_without_decisions(case):
    reviews, rules = case
    fast = {r.entry_id for r in compute_ranking(reviews, rules) if r.borderline}
    assert fast == naive_borderline(reviews, rules)


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_compute_ranking_invariant_to_input_order(data):
    reviews, rules, decisions = data.draw(rounds_with_decisions())
    shuffled = data.draw(st.permutations(reviews))
    assert compute_ranking(shuffled, rules, decisions) == compute_ranking(reviews, rules, decisions)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_compute_ranking_zscore_invariant_to_affine_change_of_one_reviewer(data):
    reviews, rules = data.draw(rounds(normalisation="zscore"))
    reviewer = data.draw(st.sampled_from(sorted({r.reviewer_id for r in reviews})))
    # Scores are multiples of 0.5; these maps are exact in binary floating point, so the
    # transformed scores are exactly a*v + b and the normalised results must be identical.
    a = data.draw(st.sampled_from([0.25, 0.5, 1.5, 2, 3, 10]))
    b = data.draw(st.sampled_from([-7, -0.5, 0, 1, 2.5, 100]))
    transformed = [
        (
            Review(r.entry_id, r.reviewer_id, {k: a * v + b for k, v in r.scores.items()})
            if r.reviewer_id == reviewer
            else r
        )
        for r in reviews
    ]
    assert profile(compute_ranking(transformed, rules)) == profile(compute_ranking(reviews, rules))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_compute_ranking_ties_do_not_depend_on_ids(data):
    reviews, rules, decisions = data.draw(rounds_with_decisions())
    entry_ids = sorted({r.entry_id for r in reviews})
    reviewer_ids = sorted({r.reviewer_id for r in reviews})
    new_entry = dict(
        zip(
            entry_ids,
            data.draw(
                st.lists(st.integers(1, 10**6), min_size=len(entry_ids), max_size=len(entry_ids), unique=True)
            ), strict=False,
        )
    )
    new_reviewer = dict(
        zip(
            reviewer_ids,
            data.draw(
                st.lists(
                    st.integers(1, 10**6), min_size=len(reviewer_ids), max_size=len(reviewer_ids), unique=True
                )
            ), strict=False,
        )
    )
    relabelled = [Review(new_entry[r.entry_id], new_reviewer[r.reviewer_id], r.scores) for r in reviews]
    relabelled_decisions = Decision({new_entry[e]: p for e, p in decisions.positions.items()})
    before = profile(compute_ranking(reviews, rules, decisions))
    after = profile(compute_ranking(relabelled, rules, relabelled_decisions))
    assert {new_entry[e]: v for e, v in before.items()} == after


@settings(max_examples=200, deadline=None)
@given(rounds_with_decisions())
def test_compute_ranking_ranks_are_competition_ranks_of_keys(case):
    reviews, rules, decisions = case
    result = compute_ranking(reviews, rules, decisions, with_borderline=False)

    def key(r: RankedEntry) -> tuple:
        return (r.score, *(r.criterion_means[c] for c in rules.tie_break))

    for r in result:
        ahead = [o for o in result if key(o) > key(r)]
        same = [o for o in result if key(o) == key(r) and o is not r]
        assert r.rank >= 1 + len(ahead)
        if not same:
            assert r.rank == 1 + len(ahead) and not r.tied
        elif not all(o.entry_id in decisions.positions for o in [r, *same]):
            assert r.rank == 1 + len(ahead) and r.tied  # never broken by id or order
    assert [r.rank for r in result] == sorted(r.rank for r in result)


@settings(max_examples=200, deadline=None)
@given(rounds(normalisation="none"))
def test_compute_ranking_raw_scores_match_exact_reference(case):
    reviews, rules = case
    weights = {c.code: Fraction(c.weight) for c in rules.criteria}
    total_weight = sum(weights.values())
    totals: dict[int, list[Fraction]] = {}
    for r in reviews:
        totals.setdefault(r.entry_id, []).append(
            sum(weights[k] * Fraction(v) for k, v in r.scores.items()) / total_weight
        )
    for r in compute_ranking(reviews, rules):
        mean = sum(totals[r.entry_id], Fraction(0)) / len(totals[r.entry_id])
        assert r.score == r.raw_score == math.floor(mean * 10**9 + Fraction(1, 2)) / 10**9
        assert r.reviewers == len(totals[r.entry_id])
        assert r.spread == pytest.approx(statistics.pstdev([float(t) for t in totals[r.entry_id]]), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(rounds(normalisation="zscore"))
def test_compute_ranking_zscores_match_float_reference(case):
    reviews, rules = case
    weights = {c.code: c.weight for c in rules.criteria}
    total_weight = sum(weights.values())
    lo = sum(c.weight * c.min for c in rules.criteria) / total_weight
    hi = sum(c.weight * c.max for c in rules.criteria) / total_weight
    total = {
        (r.entry_id, r.reviewer_id): sum(weights[k] * v for k, v in r.scores.items()) / total_weight
        for r in reviews
    }
    z: dict[tuple[int, int], float] = {}
    for reviewer in {r.reviewer_id for r in reviews}:
        mine = {k: v for k, v in total.items() if k[1] == reviewer}
        mean = statistics.fmean(mine.values())
        sd = statistics.pstdev(mine.values())
        for k, v in mine.items():
            z[k] = 0.0 if sd < 1e-12 else (v - mean) / sd
    for r in compute_ranking(reviews, rules):
        zs = [v for k, v in z.items() if k[0] == r.entry_id]
        assert r.score == pytest.approx((lo + hi) / 2 + (hi - lo) / 6 * statistics.fmean(zs), abs=1e-7)
