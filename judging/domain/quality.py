"""How well a round's committee agrees, and which reviewers and entries stand out.

Read from the submitted score sheets only (a sheet still being filled in, or recused, says
nothing yet). Totals are the ranking's weighted totals
(:func:`judging.domain.ranking.weighted_total`) under the round's frozen rubric, on the rubric's
own scale; no normalisation is applied, whatever the round's: the point is to see the raw scores.

*Agreement* is Krippendorff's alpha with the interval metric (:mod:`judging.domain.agreement`),
one unit per entry: per criterion on the raw criterion scores, ``overall`` on the totals. An entry
with fewer than two submitted sheets is left out; alpha is ``None`` when it is undefined.

*Reviewers.* For each of a reviewer's submitted sheets on an entry that has at least one other
submitted sheet, the *offset* is the reviewer's total minus the mean of the other reviewers'
totals on that entry. ``mean_offset`` is the mean of these offsets, ``sd`` their population
standard deviation (both ``None`` when the reviewer shares no entry with anyone); ``sheets``
counts all the reviewer's submitted sheets.

*Flag rule.* Among the reviewers with a ``mean_offset`` (at least three of them needed), take the
median ``M`` of the mean offsets and their population standard deviation ``S``. A reviewer is
flagged when ``|mean_offset - M| > 2 * S`` *and* ``|mean_offset - M| > 5 %`` of the rubric's range
of totals (so a committee that agrees closely does not get anyone flagged over a fraction of a
point). A flag asks for a look at the sheets; it decides nothing.

*Disagreements* are the entries with at least two submitted sheets whose totals differ, by
``spread`` = highest total − lowest total, the widest first (ties by entry id), at most 10.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from judging.domain.agreement import interval_alpha
from judging.domain.ranking import Criterion, Review, weighted_total
from judging.domain.round_rows import criteria_of, get_round_row
from judging.domain.shortlist import _fingerprint as sheets_fingerprint  # what a ranking is computed from
from judging.domain.shortlist import ranking_rules, submitted_reviews

METHOD = "krippendorff_interval"
#: How many of the widest disagreements are listed.
TOP_DISAGREEMENTS = 10
#: A flagged reviewer's mean offset lies this many standard deviations from the committee's median...
FLAG_SDS = 2
#: ...and further than this share of the rubric's range of totals.
FLAG_MIN_SHARE = 0.05
#: Published numbers are rounded to this many decimals.
DECIMALS = 6


@dataclass(frozen=True, slots=True)
class ReviewerQuality:
    user_id: int
    sheets: int
    mean_offset: float | None
    sd: float | None
    flagged: bool


@dataclass(frozen=True, slots=True)
class Quality:
    overall: float | None
    by_criterion: dict[str, float | None]
    reviewers: list[ReviewerQuality]
    disagreements: list[tuple[int, float]]  # (entry id, spread), widest first

    def as_dict(self) -> dict[str, Any]:
        """The API's shape (numbers rounded for publication)."""
        return {
            "agreement": {"overall": _rounded(self.overall),
                          "by_criterion": {code: _rounded(a) for code, a in self.by_criterion.items()}},
            "method": METHOD,
            "reviewers": [{"user_id": r.user_id, "sheets": r.sheets, "mean_offset": _rounded(r.mean_offset),
                           "sd": _rounded(r.sd), "flagged": r.flagged} for r in self.reviewers],
            "disagreements": [{"entry_id": e, "spread": _rounded(s)} for e, s in self.disagreements],
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _flags(mean_offsets: dict[int, float], range_of_totals: float) -> set[int]:
    """The reviewers whose mean offset is far from the committee's (module docstring)."""
    if len(mean_offsets) < 3:
        return set()
    values = list(mean_offsets.values())
    median = statistics.median(values)
    sd = statistics.pstdev(values)
    floor = FLAG_MIN_SHARE * range_of_totals
    return {user for user, m in mean_offsets.items()
            if abs(m - median) > FLAG_SDS * sd and abs(m - median) > floor}


def judge_quality(reviews: Iterable[Review], criteria: Sequence[Criterion]) -> Quality:
    """Agreement, reviewer offsets and disagreements of submitted ``reviews`` under ``criteria``
    (definitions: module docstring). Pure; the same reviews in any order give the same result."""
    by_entry: dict[int, list[tuple[int, float, Review]]] = defaultdict(list)
    sheets: dict[int, int] = defaultdict(int)
    for review in reviews:
        by_entry[review.entry_id].append((review.reviewer_id, weighted_total(criteria, review.scores), review))
        sheets[review.reviewer_id] += 1
    entries = sorted(by_entry)
    for entry_id in entries:
        by_entry[entry_id].sort(key=lambda item: item[0])

    overall = interval_alpha([t for _, t, _ in by_entry[e]] for e in entries)
    by_criterion = {c.code: interval_alpha([float(r.scores[c.code]) for _, _, r in by_entry[e]] for e in entries)
                    for c in criteria}

    offsets: dict[int, list[float]] = defaultdict(list)
    spreads: list[tuple[int, float]] = []
    for entry_id in entries:
        sheet_totals = [(user, total) for user, total, _ in by_entry[entry_id]]
        if len(sheet_totals) < 2:
            continue
        everything = math.fsum(t for _, t in sheet_totals)
        for user, total in sheet_totals:
            others = (everything - total) / (len(sheet_totals) - 1)
            offsets[user].append(total - others)
        spread = max(t for _, t in sheet_totals) - min(t for _, t in sheet_totals)
        if spread > 0:
            spreads.append((entry_id, spread))
    spreads.sort(key=lambda item: (-item[1], item[0]))

    mean_offsets = {user: math.fsum(values) / len(values) for user, values in offsets.items()}
    lowest = weighted_total(criteria, {c.code: c.min for c in criteria})
    highest = weighted_total(criteria, {c.code: c.max for c in criteria})
    flagged = _flags(mean_offsets, highest - lowest)
    reviewers = [
        ReviewerQuality(user_id=user, sheets=count, mean_offset=mean_offsets.get(user),
                        sd=statistics.pstdev(offsets[user]) if user in offsets else None,
                        flagged=user in flagged)
        for user, count in sorted(sheets.items())
    ]
    return Quality(overall=overall, by_criterion=by_criterion, reviewers=reviewers,
                   disagreements=spreads[:TOP_DISAGREEMENTS])


# Figures already computed, per round: reused while the ranking's fingerprint of the submitted
# sheets and rules is unchanged (derived data only, checked against the database on every read).
_COMPUTED: dict[int, tuple[tuple[Any, ...], Quality]] = {}
_COMPUTED_MAX = 16


def forget_figures() -> None:
    """Drop this process's computed figures (the next read computes afresh)."""
    _COMPUTED.clear()


async def round_quality(round_id: int) -> Quality:
    """The quality figures of a round's submitted sheets. An unknown round is ``NotFound``."""
    row = await get_round_row(round_id)
    fingerprint = await sheets_fingerprint(round_id, row)
    cached = _COMPUTED.get(round_id)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    rules = ranking_rules(row, await criteria_of(round_id))
    figures = judge_quality(await submitted_reviews(round_id), rules.criteria)
    if len(_COMPUTED) >= _COMPUTED_MAX:
        _COMPUTED.pop(next(iter(_COMPUTED)))
    _COMPUTED[round_id] = (fingerprint, figures)
    return figures
