"""Judging quality of a round: agreement (Krippendorff's alpha on the submitted sheets), each
reviewer's offset from the others with the flag, and the widest disagreements — computed, over
the API (admin only) and on the progress page."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import krippendorff
import numpy as np
import pytest

from contest.db import stored_json
from judging.domain import scoring
from judging.domain.agreement import grouped_interval_alphas, interval_alpha, interval_alphas
from judging.domain.quality import judge_quality, totals_of, weighted_totals
from judging.domain.ranking import Criterion, Review, weighted_total
from judging.domain.rounds import DEFAULT_RUBRIC
from judging.tables import Assignment, Round
from tests.conftest import run
from tests.factories import browser_login, login_token, make_user
from tests.judging.support import admin_actors, score_all, screening

ONE = (Criterion("q", 1, 0, 10),)
RUBRIC = tuple(Criterion(c["code"], c["weight"], c["min"], c["max"]) for c in DEFAULT_RUBRIC)


def reference(units: dict[int, dict[int, float]], coders: list[int]) -> float:
    """The krippendorff package's interval alpha of entry -> reviewer -> value."""
    entries = sorted(units)
    data = np.array([[units[e].get(c, np.nan) for e in entries] for c in coders], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))


# --- pure -----------------------------------------------------------------------------------------

@pytest.mark.unit
def test_weighted_total_is_the_correctly_rounded_exact_mean() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        criteria = [Criterion(f"c{i}", rng.choice([rng.randint(1, 30), rng.uniform(0.01, 5), 0.1, 0.3]), 0, 10)
                    for i in range(rng.randint(1, 6))]
        scores = {c.code: rng.choice([rng.randint(0, 10), rng.uniform(0, 10), rng.randint(0, 20) / 2])
                  for c in criteria}
        exact = sum(Fraction(c.weight) * Fraction(scores[c.code]) for c in criteria) / sum(
            Fraction(c.weight) for c in criteria)
        assert weighted_total(criteria, scores) == float(exact)


@pytest.mark.unit
def test_the_round_wide_totals_and_alphas_equal_the_one_by_one_ones() -> None:
    rng = random.Random(23)
    for _ in range(300):
        criteria = [Criterion(f"c{i}", rng.choice([rng.randint(1, 30), rng.uniform(0.01, 5), 0.1, 0.3]), 0, 10)
                    for i in range(rng.randint(1, 6))]
        scores = {c.code: rng.choice([rng.randint(0, 10), rng.uniform(0, 10), rng.randint(0, 20) / 2])
                  for c in criteria}
        assert totals_of(criteria)(scores) == weighted_total(criteria, scores)
    units = [[[rng.uniform(0, 10) for _ in range(3)] for _ in range(rng.randint(1, 4))] for _ in range(200)]
    together = interval_alphas(units, 3)
    for k in range(3):
        alone = interval_alpha([[row[k] for row in unit] for unit in units])
        assert together[k] == pytest.approx(alone, abs=1e-12)
    assert interval_alphas([[[1.0, 5.0], [1.0, 5.0]]], 2) == [None, None]  # no variation: undefined
    assert interval_alphas([[[1.0]]], 1) == [None]


@pytest.mark.unit
def test_the_whole_round_at_once_gives_the_sheet_by_sheet_figures() -> None:
    """The round-wide computation (numpy) keeps every total exactly the ranking's weighted total,
    whatever the scores (whole, half, one or two decimals, arbitrary floats) and weights, and the
    alphas those of one column at a time."""
    rng = random.Random(41)
    for case in range(60):
        criteria = tuple(Criterion(f"c{i}", rng.choice([rng.randint(1, 30), 0.15, 0.1, rng.uniform(0.5, 5)]), 0, 100)
                         for i in range(rng.randint(1, 6)))
        kind = case % 4
        reviews = [Review(e, r, {c.code: [float(rng.randint(0, 10)), rng.randint(0, 200) / 2,
                                          round(rng.uniform(0, 100), rng.choice([1, 2])), rng.uniform(0, 100)][kind]
                                 for c in criteria})
                   for e in range(1, 40) for r in rng.sample(range(1, 9), rng.randint(1, 4))]
        codes = [c.code for c in criteria]
        matrix = np.array([[r.scores[c] for c in codes] for r in reviews])
        one_by_one = [weighted_total(criteria, r.scores) for r in reviews]
        assert weighted_totals(matrix, criteria, reviews).tolist() == one_by_one
        q = judge_quality(reviews, criteria)
        by_entry: dict[int, list[Review]] = {}
        for r in reviews:
            by_entry.setdefault(r.entry_id, []).append(r)
        units = [[weighted_total(criteria, r.scores) for r in sheets] for sheets in by_entry.values()]
        assert q.overall == pytest.approx(interval_alpha(units), abs=1e-12)
        for code in codes:
            assert q.by_criterion[code] == pytest.approx(
                interval_alpha([[r.scores[code] for r in sheets] for sheets in by_entry.values()]), abs=1e-12)
        assert q.spreads == {e: max(u) - min(u) for e, u in zip(by_entry, units, strict=True) if len(u) >= 2}
    values = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0], [7.0, 2.0], [9.0, 2.0]])
    assert grouped_interval_alphas(values, np.array([2, 1, 2]))[0] == pytest.approx(
        interval_alpha([[1.0, 3.0], [5.0], [7.0, 9.0]]), abs=1e-12)
    assert grouped_interval_alphas(values, np.array([2, 1, 2]))[1] is None  # no variation: undefined
    assert grouped_interval_alphas(values, np.array([1, 1, 1, 1, 1])) == [None, None]


@pytest.mark.unit
def test_offsets_are_own_total_minus_the_others_mean() -> None:
    reviews = [Review(1, 10, {"q": 8}), Review(1, 20, {"q": 6}), Review(1, 30, {"q": 4}),
               Review(2, 10, {"q": 9}), Review(2, 20, {"q": 5}),
               Review(3, 30, {"q": 7})]  # alone on entry 3: counts as a sheet, not as an offset
    q = judge_quality(reviews, ONE)
    by_user = {r.user_id: r for r in q.reviewers}
    assert by_user[10].sheets == 2 and by_user[10].mean_offset == pytest.approx((3 + 4) / 2)
    assert by_user[10].sd == pytest.approx(0.5)
    assert by_user[20].mean_offset == pytest.approx((0 - 4) / 2) and by_user[20].sd == pytest.approx(2)
    assert by_user[30].sheets == 2 and by_user[30].mean_offset == pytest.approx(-3) and by_user[30].sd == 0
    assert q.disagreements == [(1, 4.0), (2, 4.0)]  # equal spreads by entry id; entry 3 has no spread
    # Two entries with two or more sheets are too few for agreement: no number, said so.
    assert q.paired_entries == 2 and not q.sufficient and q.overall is None and q.by_criterion == {"q": None}
    more = reviews + [Review(e, r, {"q": float((e * r) % 11)}) for e in range(4, 7) for r in (10, 20)]
    units = {1: {10: 8, 20: 6, 30: 4}, 2: {10: 9, 20: 5}, 3: {30: 7},
             **{e: {r: float((e * r) % 11) for r in (10, 20)} for e in range(4, 7)}}
    enough = judge_quality(more, ONE)
    assert enough.sufficient and enough.overall == pytest.approx(reference(units, [10, 20, 30]), abs=1e-12)


@pytest.mark.unit
def test_a_reviewer_with_one_sheet_is_never_flagged_however_far_off() -> None:
    reviews = [Review(e, r, {"q": 5 + (e % 3) * 0.5 + (0.2 if r == 1 else 0)}) for e in range(12) for r in (1, 2, 3, 4)]
    reviews.append(Review(0, 99, {"q": 10}))  # one sheet, far above everyone
    q = judge_quality(reviews, ONE)
    lonely = next(r for r in q.reviewers if r.user_id == 99)
    assert lonely.sheets == 1 and lonely.mean_offset is not None and lonely.mean_offset > 4
    assert not lonely.flagged
    # With a second sheet as far off, the same reviewer is flagged.
    reviews.append(Review(1, 99, {"q": 10}))
    assert [r.user_id for r in judge_quality(reviews, ONE).reviewers if r.flagged] == [99]


@pytest.mark.unit
def test_a_reviewer_far_outside_the_committee_is_flagged_and_close_ones_are_not() -> None:
    rng = random.Random(11)
    reviewers = list(range(1, 9))
    reviews = []
    for entry in range(40):
        base = rng.uniform(3, 7)
        for r in rng.sample(reviewers, 3):
            harsh = -2.5 if r == 5 else 0.0
            reviews.append(Review(entry, r, {"q": round(min(10, max(0, base + harsh + rng.gauss(0, 0.3))), 1)}))
    q = judge_quality(reviews, ONE)
    assert [r.user_id for r in q.reviewers if r.flagged] == [5]
    harsh = next(r for r in q.reviewers if r.user_id == 5)
    assert harsh.mean_offset is not None and harsh.mean_offset < -2

    # Everyone within a tenth of a point: nobody is flagged, however the offsets spread.
    close = [Review(e, r, {"q": 5 + (0.1 if r == 1 else 0)}) for e in range(6) for r in (1, 2, 3, 4)]
    assert not any(r.flagged for r in judge_quality(close, ONE).reviewers)
    # Fewer than three reviewers with offsets: no committee to compare with.
    pair = [Review(e, r, {"q": 9 if r == 1 else 1}) for e in range(4) for r in (1, 2)]
    assert not any(r.flagged for r in judge_quality(pair, ONE).reviewers)


@pytest.mark.unit
def test_at_most_ten_disagreements_widest_first_and_undefined_agreement_is_none() -> None:
    reviews = [Review(e, r, {"q": float(e % 10) if r == 1 else 0.0}) for e in range(1, 25) for r in (1, 2)]
    q = judge_quality(reviews, ONE)
    assert len(q.disagreements) == 10
    spreads = [s for _, s in q.disagreements]
    assert spreads == sorted(spreads, reverse=True) and spreads[0] == 9
    assert q.disagreements[:3] == [(9, 9.0), (19, 9.0), (8, 8.0)]

    assert judge_quality([], ONE).overall is None
    flat = judge_quality([Review(1, 1, {"q": 5}), Review(1, 2, {"q": 5})], ONE)
    assert flat.overall is None and flat.by_criterion == {"q": None} and flat.disagreements == []
    alone = judge_quality([Review(1, 1, {"q": 5}), Review(2, 2, {"q": 7})], ONE)
    assert alone.overall is None and [r.mean_offset for r in alone.reviewers] == [None, None]


# --- a round over the database, the API and the page ---------------------------------------------

def _demo_values(harsh_reviewer: int):  # type: ignore[no-untyped-def]
    """Entry quality plus seeded noise per sheet; one reviewer scores everything 3 points lower."""
    def value_for(entry_id: int, reviewer_id: int, code: str) -> float:
        rng = random.Random(f"{entry_id}:{reviewer_id}:{code}")
        base = 3 + (entry_id * 7919 % 11) / 2
        value = base + rng.choice([-1, -0.5, 0, 0, 0.5, 1]) - (3 if reviewer_id == harsh_reviewer else 0)
        return min(10.0, max(0.0, value))
    return value_for


def _stored_units(round_id: int) -> tuple[dict[str, dict[int, dict[int, float]]], list[int]]:
    rows = run(Assignment.select(Assignment.entry, Assignment.reviewer, Assignment.scores).where(
        (Assignment.round == round_id) & (Assignment.state == "submitted")))
    per: dict[str, dict[int, dict[int, float]]] = {"total": {}}
    for r in rows:
        scores = stored_json(r["scores"], {})
        per["total"].setdefault(r["entry"], {})[r["reviewer"]] = weighted_total(RUBRIC, scores)
        for code, value in scores.items():
            per.setdefault(code, {}).setdefault(r["entry"], {})[r["reviewer"]] = value
    return per, sorted({r["reviewer"] for r in rows})


@pytest.mark.integration
def test_round_quality_over_the_api_matches_the_reference_and_flags_the_harsh_reviewer(client: Any) -> None:
    s = screening(entries=12, reviewers=6, per_entry=3)
    harsh = s.reviewers[2]
    score_all(s.round_id, _demo_values(harsh))
    email = f"quality{id(object())}@dga.or.th"
    run(make_user("admin", email=email))
    headers = login_token(client, email)

    resp = client.get(f"/api/v1/rounds/{s.round_id}/quality", headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["method"] == "krippendorff_interval"
    units, coders = _stored_units(s.round_id)
    assert body["agreement"]["overall"] == pytest.approx(reference(units["total"], coders), abs=1e-6)
    assert set(body["agreement"]["by_criterion"]) == {c.code for c in RUBRIC}
    for code, alpha in body["agreement"]["by_criterion"].items():
        assert alpha == pytest.approx(reference(units[code], coders), abs=1e-6)

    by_user = {r["user_id"]: r for r in body["reviewers"]}
    assert set(by_user) == set(s.reviewers)
    assert sum(r["sheets"] for r in body["reviewers"]) == 12 * 3
    assert [u for u, r in by_user.items() if r["flagged"]] == [harsh]
    assert by_user[harsh]["mean_offset"] < -2

    spreads = [d["spread"] for d in body["disagreements"]]
    assert 0 < len(spreads) <= 10 and spreads == sorted(spreads, reverse=True)
    widest = max(max(v.values()) - min(v.values()) for v in units["total"].values())
    assert spreads[0] == pytest.approx(widest, abs=1e-6)

    # A reopened sheet no longer counts: the figures follow at once.
    reopened = run(Assignment.select(Assignment.id).where(
        (Assignment.round == s.round_id) & (Assignment.reviewer == harsh)).first())["id"]
    run(scoring.reopen(actor=admin_actors(s.admins)[0], assignment_id=reopened, reason="แก้คะแนน"))
    again = client.get(f"/api/v1/rounds/{s.round_id}/quality", headers=headers).json()
    assert {r["user_id"]: r["sheets"] for r in again["reviewers"]}[harsh] == by_user[harsh]["sheets"] - 1

    # The same figures on the progress page, in Thai.
    browser_login(client, email)
    page = client.get(f"/admin/judging/rounds/{s.round_id}/progress")
    assert page.status_code == 200
    assert "คุณภาพการให้คะแนน" in page.text and "ควรตรวจสอบ" in page.text
    assert f"{again['agreement']['overall']:.3f}".rstrip("0").rstrip(".") in page.text
    assert f"/admin/entries/{again['disagreements'][0]['entry_id']}" in page.text


@pytest.mark.integration
def test_quality_of_a_round_without_submitted_sheets_and_of_an_unknown_round(client: Any) -> None:
    s = screening(entries=4, reviewers=3, per_entry=2, open_round=False)
    email = f"quality{id(object())}@dga.or.th"
    run(make_user("admin", email=email))
    headers = login_token(client, email)
    body = client.get(f"/api/v1/rounds/{s.round_id}/quality", headers=headers).json()
    assert body["agreement"]["overall"] is None and body["agreement"]["sufficient"] is False
    assert set(body["agreement"]["by_criterion"].values()) == {None}
    assert body["reviewers"] == [] and body["disagreements"] == [] and body["near_cut"] == []
    missing = run(Round.select(Round.id).order_by(Round.id, ascending=False).first())["id"] + 1
    resp = client.get(f"/api/v1/rounds/{missing}/quality", headers=headers)
    assert resp.status_code == 404 and resp.json()["code"] == "round_not_found"


@pytest.mark.integration
def test_the_progress_pass_gives_the_same_ranking_fingerprint_as_reading_it_alone(db: str) -> None:
    """The progress page hands the submitted sheets' sums it counted to the quality and cockpit
    steps: the fingerprint made from them is the one read on its own, with no sheet submitted,
    with every sheet submitted, and after a reopen."""
    from judging.domain import round_rows, shortlist

    s = screening(entries=6, reviewers=4, per_entry=2)

    def both_ways() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        row = run(round_rows.get_round_row(s.round_id))
        _, submitted = run(scoring.progress_and_sheets(s.round_id, row=row))
        return (run(shortlist.ranking_fingerprint(s.round_id, row, submitted)),
                run(shortlist.ranking_fingerprint(s.round_id, row)))

    seen = []
    for step in ("none", "all", "reopened"):
        if step == "all":
            score_all(s.round_id, lambda e, r, c: float((e + r) % 10))
        if step == "reopened":
            reopened = run(Assignment.select(Assignment.id).where(Assignment.round == s.round_id).first())["id"]
            run(scoring.reopen(actor=admin_actors(s.admins)[0], assignment_id=reopened, reason="แก้คะแนน"))
        passed, alone = both_ways()
        assert passed == alone
        seen.append(alone)
    assert len(set(seen)) == 3
