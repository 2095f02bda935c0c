"""The ranking over whole columns (numpy) against the reference, on seeded random rounds: the same
result, bit for bit — ranks, ties, every number, borderline flags and listing order."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from judging.domain.ranking import Criterion, Decision, Review, Rules, compute_ranking
from judging.domain.ranking_arrays import compute_ranking_arrays, decode_sheets, ranking_of, sheet_arrays

pytestmark = pytest.mark.unit

WEIGHTS = (1, 2, 3, 0.5, 0.1, 0.3, 20, 15, 0.25)


def _value(rng: random.Random, c: Criterion, style: str) -> float:
    if style == "half":
        return rng.randint(int(c.min) * 2, int(c.max) * 2) / 2
    if style == "tenth":  # not binary fractions: wide exact integers
        return round(rng.uniform(c.min, c.max), 1)
    if style == "few":  # a handful of values: many exact ties
        return float(rng.choice((c.min, c.max, (c.min + c.max) / 2)))
    return rng.uniform(c.min, c.max)  # any float


def random_round(rng: random.Random) -> tuple[list[Review], Rules, dict[int, int]]:
    n_criteria = rng.randint(1, 4)
    low = rng.choice((0, 0, -5, 1))
    criteria = tuple(Criterion(f"c{i}", rng.choice(WEIGHTS), low, low + rng.choice((3, 10, 100)))
                     for i in range(n_criteria))
    codes = [c.code for c in criteria]
    style = rng.choice(("half", "tenth", "few", "any"))
    n_entries = rng.randint(1, 40)
    n_reviewers = rng.randint(1, 8)
    harsh = {r: rng.choice((0, 0, 1, -1)) for r in range(1, n_reviewers + 1)}
    reviews = []
    for entry_id in rng.sample(range(1, 500), n_entries):
        # Missing sheets (a reviewer with a declared conflict, a sheet not submitted or withdrawn):
        # a random subset of the committee, sometimes a single reviewer.
        who = rng.sample(range(1, n_reviewers + 1), rng.randint(1, n_reviewers))
        for reviewer_id in who:
            scores = {}
            for c in criteria:
                value = _value(rng, c, style)
                if style == "half" and harsh[reviewer_id]:
                    value = min(c.max, max(c.min, value + harsh[reviewer_id]))
                scores[c.code] = value
            reviews.append(Review(entry_id, reviewer_id, scores))
    if rng.random() < 0.2:  # copy one entry's sheets to another: a guaranteed exact tie
        source = [r for r in reviews if r.entry_id == reviews[0].entry_id]
        reviews += [Review(1000, r.reviewer_id, dict(r.scores)) for r in source]
    rng.shuffle(reviews)
    tie_break = tuple(rng.sample(codes, rng.randint(0, n_criteria)))
    entries = sorted({r.entry_id for r in reviews})
    cut = rng.randint(0, len(entries) + 1)
    positions: dict[int, int] = {}
    if rng.random() < 0.4:
        decided = entries if rng.random() < 0.5 else rng.sample(entries, rng.randint(1, len(entries)))
        positions = {e: rng.randint(1, 4) for e in decided}
    return reviews, Rules(criteria, rng.choice(("none", "zscore")), tie_break, cut), positions


def _same(reviews: list[Review], rules: Rules, positions: dict[int, int], with_borderline: bool = True) -> None:
    expected = compute_ranking(reviews, rules, Decision(positions), with_borderline=with_borderline)
    got = ranking_of(reviews, rules, Decision(positions), with_borderline=with_borderline)
    assert got == expected
    # == on floats would let -0.0 pass for 0.0: compare the bits too.
    for a, b in zip(got, expected, strict=True):
        assert [math.copysign(1, x) for x in (a.score, a.raw_score, a.spread, *a.criterion_means.values())] == [
            math.copysign(1, x) for x in (b.score, b.raw_score, b.spread, *b.criterion_means.values())]


@pytest.mark.parametrize("seed", range(12))
def test_arrays_equal_the_reference_on_random_rounds(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        reviews, rules, positions = random_round(rng)
        _same(reviews, rules, positions, with_borderline=rng.random() < 0.85)


def test_arrays_equal_the_reference_at_contest_size() -> None:
    """Thousands of entries, three sheets each from a committee with harsh and lenient members,
    scores to one decimal (the exact integers are then wider than 64 bits once weighted)."""
    rng = random.Random(2569)
    criteria = tuple(Criterion(code, weight, 0, 10) for code, weight in
                     (("fit", 20), ("technology", 20), ("vision", 15), ("implementation", 15), ("results", 20),
                      ("adoption", 10)))
    harsh = {r: rng.uniform(-2, 1.5) for r in range(1, 21)}
    reviews = []
    for entry_id in range(1, 1501):
        quality = rng.uniform(3, 9)
        for reviewer_id in rng.sample(range(1, 21), 3 if entry_id % 7 else 2):
            mark = quality + harsh[reviewer_id]
            reviews.append(Review(entry_id, reviewer_id, {c.code: min(10.0, max(0.0, round(mark + rng.gauss(0, 1), 1)))
                                                          for c in criteria}))
    for normalisation in ("none", "zscore"):
        rules = Rules(criteria, normalisation, ("results", "fit"), 40)
        _same(reviews, rules, {})
        ranked = compute_ranking(reviews, rules, with_borderline=False)
        tied = [r.entry_id for r in ranked if r.tied][:4]
        _same(reviews, rules, {e: i for i, e in enumerate(tied, 1)})


def test_one_decimal_scores_and_any_weights_stay_in_the_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    """The arrays compute such rounds themselves (the comparisons above would pass just as well if
    everything went to the reference)."""
    import judging.domain.ranking_arrays as arrays

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("handed to the reference")

    rng = random.Random(7)
    criteria = (Criterion("a", 0.1, 0, 10), Criterion("b", 20, 0, 10), Criterion("c", 0.3, -5, 5))
    reviews = [Review(e, r, {"a": round(rng.uniform(0, 10), 1), "b": round(rng.uniform(0, 10), 1),
                             "c": round(rng.uniform(-5, 5), 2)})
               for e in range(1, 200) for r in rng.sample(range(9), 3)]
    expected = {n: compute_ranking(reviews, Rules(criteria, n, ("c",), 20)) for n in ("none", "zscore")}
    monkeypatch.setattr(arrays, "compute_ranking", refuse)
    for normalisation, ranking in expected.items():
        assert ranking_of(reviews, Rules(criteria, normalisation, ("c",), 20)) == ranking


def test_numbers_beyond_the_arrays_are_handed_to_the_reference() -> None:
    criteria = (Criterion("a", 1, 0, 10), Criterion("b", 3, 0, 10))
    tiny = [Review(1, 1, {"a": 1e-30, "b": 2.0}), Review(1, 2, {"a": 3.0, "b": 2.5}), Review(2, 1, {"a": 4, "b": 1})]
    for normalisation in ("none", "zscore"):
        _same(tiny, Rules(criteria, normalisation, ("b",), 1), {})


def test_arrays_refuse_what_the_reference_refuses() -> None:
    criteria = (Criterion("a", 1, 0, 10),)
    rules = Rules(criteria)
    twice = [Review(1, 1, {"a": 1.0}), Review(1, 1, {"a": 2.0})]
    with pytest.raises(ValueError, match="reviewer 1 reviewed entry 1 twice"):
        ranking_of(twice, rules)
    for bad in ({"b": 1.0}, {"a": 1.0, "b": 2.0}, {"a": float("nan")}, {"a": True}):
        with pytest.raises(ValueError) as expected:
            compute_ranking([Review(1, 1, bad)], rules)
        with pytest.raises(ValueError, match=str(expected.value).replace("[", r"\[").replace("]", r"\]")):
            ranking_of([Review(1, 1, bad)], rules)
    assert sheet_arrays([Review(1, 1, {"a": True})], ["a"]) is None
    assert compute_ranking_arrays(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 1)), rules) == []


def test_sheets_decoded_from_text_are_the_sheets() -> None:
    entry, reviewer, matrix = decode_sheets("3,2", "1,4", '{"a":7.3,"b":5},{"b":0.1,"a":10}', ("a", "b"))
    assert entry.tolist() == [3, 2] and reviewer.tolist() == [1, 4]
    assert matrix.tolist() == [[7.3, 5.0], [10.0, 0.1]]
    for bad in ('{"a":1}', '{"a":1,"b":2,"c":3}', '{"a":true,"b":2}', "null", '{"a":"1","b":2}'):
        assert decode_sheets("1", "1", bad, ("a", "b")) is None
    assert decode_sheets("1,2", "1", '{"a":1,"b":2}', ("a", "b")) is None
