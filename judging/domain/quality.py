"""How well a round's committee agrees, and which reviewers and entries stand out.

Read from the submitted score sheets only (a sheet still being filled in, or recused, says
nothing yet). Totals are the ranking's weighted totals
(:func:`judging.domain.ranking.weighted_total`) under the round's frozen rubric, on the rubric's
own scale; no normalisation is applied, whatever the round's: the point is to see the raw scores.

*Agreement* is Krippendorff's alpha with the interval metric (:mod:`judging.domain.agreement`),
one unit per entry: per criterion on the raw criterion scores, ``overall`` on the totals. An entry
with fewer than two submitted sheets is left out. With fewer than ``MIN_PAIRED_ENTRIES`` entries
that have two or more submitted sheets there are too few sheets for agreement: every alpha is
``None`` and ``sufficient`` is false (a number from three or four entries would only mislead).
Alpha is ``None`` as well when it is undefined (no variation at all).

*Reviewers.* For each of a reviewer's submitted sheets on an entry that has at least one other
submitted sheet, the *offset* is the reviewer's total minus the mean of the other reviewers'
totals on that entry. ``mean_offset`` is the mean of these offsets, ``sd`` their population
standard deviation (both ``None`` when the reviewer shares no entry with anyone); ``sheets``
counts all the reviewer's submitted sheets.

*Flag rule.* Among the reviewers with at least ``MIN_SHEETS_TO_FLAG`` offsets (at least three such
reviewers needed; a reviewer with a single shared sheet is never flagged, nor counted in the
committee's figures), take the median ``M`` of the mean offsets and their population standard
deviation ``S``. A reviewer is
flagged when ``|mean_offset - M| > 2 * S`` *and* ``|mean_offset - M| > 5 %`` of the rubric's range
of totals (so a committee that agrees closely does not get anyone flagged over a fraction of a
point). A flag asks for a look at the sheets; it decides nothing.

*Disagreements* are the entries with at least two submitted sheets whose totals differ, by
``spread`` = highest total − lowest total, the widest first (ties by entry id), at most 10.
``spreads`` keeps the spread of every entry with two or more submitted sheets; *near the cut*
(:mod:`judging.domain.round_cockpit`) reads it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np

from judging.domain.agreement import grouped_interval_alphas
from judging.domain.ranking import Criterion, Review, weighted_total
from judging.domain.round_rows import criteria_of, get_round_row
from judging.domain.shortlist import SubmittedSums, ranking_fingerprint, ranking_rules, submitted_reviews

METHOD = "krippendorff_interval"
#: How many of the widest disagreements are listed.
TOP_DISAGREEMENTS = 10
#: A flagged reviewer's mean offset lies this many standard deviations from the committee's median...
FLAG_SDS = 2
#: ...and further than this share of the rubric's range of totals.
FLAG_MIN_SHARE = 0.05
#: Agreement needs at least this many entries with two or more submitted sheets.
MIN_PAIRED_ENTRIES = 5
#: A reviewer is weighed for a flag only with at least this many sheets shared with others.
MIN_SHEETS_TO_FLAG = 2
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
    paired_entries: int = 0  # entries with two or more submitted sheets
    spreads: dict[int, float] = field(default_factory=dict)  # entry id -> spread, for those entries

    @property
    def sufficient(self) -> bool:
        """Enough sheets for agreement to mean something (module docstring)."""
        return self.paired_entries >= MIN_PAIRED_ENTRIES

    def as_dict(self) -> dict[str, Any]:
        """The API's shape (numbers rounded for publication)."""
        return {
            "agreement": {"overall": _rounded(self.overall),
                          "by_criterion": {code: _rounded(a) for code, a in self.by_criterion.items()},
                          "entries": self.paired_entries, "sufficient": self.sufficient},
            "method": METHOD,
            "reviewers": [{"user_id": r.user_id, "sheets": r.sheets, "mean_offset": _rounded(r.mean_offset),
                           "sd": _rounded(r.sd), "flagged": r.flagged} for r in self.reviewers],
            "disagreements": [{"entry_id": e, "spread": _rounded(s)} for e, s in self.disagreements],
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _flags(mean_offsets: dict[int, float], counts: dict[int, int], range_of_totals: float) -> set[int]:
    """The reviewers whose mean offset is far from the committee's (module docstring)."""
    weighed = {user: m for user, m in mean_offsets.items() if counts[user] >= MIN_SHEETS_TO_FLAG}
    if len(weighed) < 3:
        return set()
    values = list(weighed.values())
    median = statistics.median(values)
    sd = statistics.pstdev(values)
    floor = FLAG_MIN_SHARE * range_of_totals
    return {user for user, m in weighed.items()
            if abs(m - median) > FLAG_SDS * sd and abs(m - median) > floor}


def totals_of(criteria: Sequence[Criterion]) -> Callable[[Mapping[str, float]], float]:
    """:func:`weighted_total` under ``criteria``, with the weights' exact integer form worked out
    once: the same correctly rounded value (both divide the same integers), about twice as fast
    over a whole round's sheets."""
    codes = [c.code for c in criteria]
    ratios = [float(c.weight).as_integer_ratio() for c in criteria]
    scale = max(d for _, d in ratios)  # every denominator is a power of two: each divides the largest
    weights = [n * (scale // d) for n, d in ratios]
    weight_sum = sum(weights)

    def total(scores: Mapping[str, float]) -> float:
        values = [float(scores[code]).as_integer_ratio() for code in codes]
        common = max(d for _, d in values)
        return sum(w * n * (common // d) for w, (n, d) in zip(weights, values, strict=True)) / (weight_sum * common)

    return total


#: A scaled score is split into a high and a low part at this many bits, each summed in int64.
_LIMB = 31
#: Sums of the parts stay below this (exact in int64).
_EXACT_INT = 2 ** 62


def weighted_totals(matrix: np.ndarray, criteria: Sequence[Criterion], reviews: Sequence[Review]) -> np.ndarray:
    """Every sheet's :func:`weighted_total` (one row of ``matrix`` per sheet, one column per
    criterion), the same correctly rounded values, for a whole round at once.

    Every score is a binary float, so scaled by ``2**power`` (the largest its smallest value
    needs) every score is an exact integer. Split into a high and a low part of at most 31 bits
    each, the weighted sums of the parts are exact in int64; the exact numerator of each total is
    then put together as a Python integer and divided once by the integer denominator (``int / int``
    rounds correctly, as :func:`weighted_total` does). Weights or scores too large for that take
    :func:`totals_of` sheet by sheet."""
    ratios = [float(c.weight).as_integer_ratio() for c in criteria]
    scale = max(d for _, d in ratios)  # powers of two: each divides the largest
    weights = [n * (scale // d) for n, d in ratios]
    weight_sum = sum(weights)
    nonzero = matrix[matrix != 0]
    if np.isfinite(matrix).all():
        power = max(0, int((53 - np.frexp(nonzero)[1]).max())) if nonzero.size else 0
        scaled = np.ldexp(matrix, power)  # exact integers
        high = np.floor(scaled / 2 ** _LIMB)
        low = scaled - high * 2 ** _LIMB  # exact, 0 <= low < 2**_LIMB
        if float(np.abs(high).max(initial=0)) * weight_sum < _EXACT_INT and 2 ** _LIMB * weight_sum < _EXACT_INT:
            column = np.array(weights, dtype=np.int64)
            highs = (high.astype(np.int64) @ column).tolist()
            lows = (low.astype(np.int64) @ column).tolist()
            denominator = weight_sum << power
            return np.array([((h << _LIMB) + lo) / denominator for h, lo in zip(highs, lows, strict=True)],
                            dtype=np.float64)
    total_of = totals_of(criteria)
    return np.array([total_of(r.scores) for r in reviews], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Sheets:
    """A round's submitted sheets as arrays, one row per sheet, sorted by entry then reviewer."""

    entry: np.ndarray
    user: np.ndarray
    totals: np.ndarray  # the weighted totals
    matrix: np.ndarray  # one column per criterion
    sizes: np.ndarray  # sheets per entry, in entry order
    starts: np.ndarray  # each entry's first row


def _sheets(reviews: list[Review], criteria: Sequence[Criterion]) -> _Sheets:
    count = len(reviews)
    pick = itemgetter(*(c.code for c in criteria))
    matrix = np.array([pick(r.scores) for r in reviews], dtype=np.float64).reshape(count, len(criteria))
    entry = np.fromiter((r.entry_id for r in reviews), dtype=np.int64, count=count)
    user = np.fromiter((r.reviewer_id for r in reviews), dtype=np.int64, count=count)
    totals = weighted_totals(matrix, criteria, reviews)
    order = np.lexsort((user, entry))
    entry = entry[order]
    starts = np.flatnonzero(np.concatenate(([True], entry[1:] != entry[:-1])))
    return _Sheets(entry=entry, user=user[order], totals=totals[order], matrix=matrix[order],
                   sizes=np.diff(np.append(starts, count)), starts=starts)


def _agreement(sheets: _Sheets, codes: list[str], paired: int) -> tuple[float | None, dict[str, float | None]]:
    """Alpha on the totals and per criterion; all ``None`` with too few entries to agree on."""
    if paired < MIN_PAIRED_ENTRIES:
        return None, {code: None for code in codes}
    alphas = grouped_interval_alphas(np.column_stack((sheets.totals, sheets.matrix)), sheets.sizes)
    return alphas[0], dict(zip(codes, alphas[1:], strict=True))


def _offsets_and_spreads(sheets: _Sheets) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Over the sheets of entries with two or more: each sheet's offset from the mean of the
    others on its entry and its reviewer; each such entry and its spread."""
    pairable = sheets.sizes >= 2
    m = sheets.sizes[pairable]
    rows = np.repeat(pairable, sheets.sizes)
    shared_totals, shared_users = sheets.totals[rows], sheets.user[rows]
    paired_entries = sheets.entry[sheets.starts[pairable]]
    if not m.size:
        return np.zeros(0, dtype=np.float64), shared_users, paired_entries, np.zeros(0, dtype=np.float64)
    unit_starts = np.concatenate(([0], np.cumsum(m)[:-1]))
    everything = np.repeat(np.add.reduceat(shared_totals, unit_starts), m)
    offsets = shared_totals - (everything - shared_totals) / np.repeat(m - 1, m)
    spread = np.maximum.reduceat(shared_totals, unit_starts) - np.minimum.reduceat(shared_totals, unit_starts)
    return offsets, shared_users, paired_entries, spread


def _widest(paired_entries: np.ndarray, spread: np.ndarray) -> list[tuple[int, float]]:
    """The widest disagreements first (equal spreads by entry id), at most ``TOP_DISAGREEMENTS``."""
    differing = np.flatnonzero(spread > 0)
    widest = differing[np.lexsort((paired_entries[differing], -spread[differing]))][:TOP_DISAGREEMENTS]
    return [(int(paired_entries[i]), float(spread[i])) for i in widest]


def _reviewers(sheets: _Sheets, offsets: np.ndarray, shared_users: np.ndarray,
               criteria: Sequence[Criterion]) -> list[ReviewerQuality]:
    """Each reviewer's sheets, mean offset, its spread and the flag (module docstring)."""
    mean_offsets: dict[int, float] = {}
    sds: dict[int, float] = {}
    shared: dict[int, int] = {}
    if offsets.size:
        ids, where, counts = np.unique(shared_users, return_inverse=True, return_counts=True)
        means = np.bincount(where, weights=offsets) / counts
        deviations = offsets - means[where]
        spreads = np.sqrt(np.bincount(where, weights=deviations * deviations) / counts)
        for i, u in enumerate(ids.tolist()):
            mean_offsets[u], sds[u], shared[u] = float(means[i]), float(spreads[i]), int(counts[i])
    lowest = weighted_total(criteria, {c.code: c.min for c in criteria})
    highest = weighted_total(criteria, {c.code: c.max for c in criteria})
    flagged = _flags(mean_offsets, shared, highest - lowest)
    users, sheet_counts = np.unique(sheets.user, return_counts=True)
    return [ReviewerQuality(user_id=u, sheets=n, mean_offset=mean_offsets.get(u), sd=sds.get(u), flagged=u in flagged)
            for u, n in zip(users.tolist(), sheet_counts.tolist(), strict=True)]


def judge_quality(reviews: Iterable[Review], criteria: Sequence[Criterion]) -> Quality:
    """Agreement, reviewer offsets and disagreements of submitted ``reviews`` under ``criteria``
    (definitions: module docstring). Pure; the same reviews in any order give the same result.
    Computed with numpy over the whole round at once (sheets sorted by entry, then reviewer)."""
    reviews = list(reviews)
    codes = [c.code for c in criteria]
    if not reviews:
        return Quality(overall=None, by_criterion={c: None for c in codes}, reviewers=[], disagreements=[])
    sheets = _sheets(reviews, criteria)
    paired = int((sheets.sizes >= 2).sum())
    overall, by_criterion = _agreement(sheets, codes, paired)
    offsets, shared_users, paired_entries, spread = _offsets_and_spreads(sheets)
    return Quality(overall=overall, by_criterion=by_criterion,
                   reviewers=_reviewers(sheets, offsets, shared_users, criteria),
                   disagreements=_widest(paired_entries, spread), paired_entries=paired,
                   spreads=dict(zip(paired_entries.tolist(), spread.tolist(), strict=True)))


# Figures already computed, per round: reused while the ranking's fingerprint of the submitted
# sheets and rules (the round's last sheet change) is unchanged (derived data only, checked
# against the database on every read).
_COMPUTED: dict[int, tuple[tuple[Any, ...], Quality]] = {}
_COMPUTED_MAX = 16


def forget_figures() -> None:
    """Drop this process's computed figures (the next read computes afresh)."""
    _COMPUTED.clear()


async def round_quality(round_id: int) -> Quality:
    """The quality figures of a round's submitted sheets. An unknown round is ``NotFound``."""
    return (await round_quality_read(round_id))[2]


async def round_quality_read(round_id: int, *, row: dict[str, Any] | None = None,
                             submitted: SubmittedSums | None = None
                             ) -> tuple[dict[str, Any], tuple[Any, ...], Quality]:
    """The round's row, the fingerprint the figures were checked against, and the figures: for
    a page that reads more from the same sheets (the cockpit) without asking twice. A page that
    has read the round's row (and the submitted sheets' sums, ``scoring.progress_and_sheets``)
    in the same transaction passes them as ``row`` and ``submitted``."""
    if row is None:
        row = await get_round_row(round_id)
    fingerprint = await ranking_fingerprint(round_id, row, submitted)
    cached = _COMPUTED.get(round_id)
    if cached is not None and cached[0] == fingerprint:
        return row, fingerprint, cached[1]
    rules = ranking_rules(row, await criteria_of(round_id))
    figures = judge_quality(await submitted_reviews(round_id), rules.criteria)
    if len(_COMPUTED) >= _COMPUTED_MAX:
        _COMPUTED.pop(next(iter(_COMPUTED)))
    _COMPUTED[round_id] = (fingerprint, figures)
    return row, fingerprint, figures
