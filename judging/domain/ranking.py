"""Scoring arithmetic, normalisation and ranking of a judging round — pure functions, no I/O.

The domain layer fetches submitted scores, calls :func:`compute_ranking` and stores what it
returns. Everything here is deterministic: the same reviews (in any order, under any entry-id
labelling) give the same result, bit for bit.

Choices, and why
----------------

*Weighted total.* One reviewer's total for one entry is ``sum(weight * value) / sum(weight)``,
so it lies on the rubric's own scale ``[lo, hi]`` where ``lo``/``hi`` are the weighted means of the
criteria's ``min``/``max``. This is ``raw_score``'s scale.

*Exact arithmetic.* Every score and weight is a binary float, i.e. an exact rational with a
power-of-two denominator. Internally they are scaled to integers by one common power of two, so
totals, reviewer means and deviations are exact integers (weights like 0.1/0.2/0.3 included: two
score sheets with mathematically equal totals tie). Floats appear only in correctly rounded final
steps (``int / int`` and ``math.sqrt``), and every sum of floats is ``math.fsum`` (exact, hence
independent of order). Published numbers are rounded to 9 decimals — raw means exactly (half up),
z-based ones as ``round(x * 1e9)`` — and the ranking compares exactly those rounded numbers (as
integers). Consequences: under ``"none"`` every comparison is exact; under ``"zscore"`` equal z
multisets give bit-identical scores, and any other float noise (~1e-15) is absorbed by the rounding
unless it happens to straddle a rounding boundary (probability ~1e-6 per near-tie, and even then
deterministic). Nothing depends on input order or on entry/reviewer ids.

*Normalisation* ``"zscore"``. Per reviewer, over all of that reviewer's reviews in the input:
``z = (total - mean) / sd`` with the population standard deviation. ``z`` is computed as
``sign(d) * sqrt(n * d**2 / Q)`` from the exact integers ``d = n*S - sum(S)`` and ``Q = sum(d**2)``;
that rational is unchanged by ``S -> a*S + b`` (``a > 0``), so a reviewer who is uniformly stricter
or more generous (any positive affine change of all their scores) produces *bit-identical* z values
and therefore an identical ranking. A reviewer with a single review, or whose totals are all equal
(``sd == 0``), carries no information about their own scale: every such review gets ``z = 0``
(the reviewer counts as "average" for each entry). The entry's normalised score is
``mid + (hi - lo) / 6 * mean(z)`` with ``mid = (lo + hi) / 2``: ±3 standard deviations span the
rubric's range. It is *not* clamped — clamping would merge distinct scores at the edges and the map
would no longer be affine — so a very strong or weak entry can score slightly outside ``[lo, hi]``.

*Criterion means* (shown per entry, and used by the tie-break chain) follow the round's
normalisation: raw means under ``"none"``; under ``"zscore"`` each criterion is z-scored per reviewer
in the same way (over that reviewer's values on that criterion, ``z = 0`` when they never vary) and
shown as ``criterion_mid + (max - min) / 6 * mean(z)``. Tie-breaks therefore keep the same invariance
as the score: a positive affine change of one reviewer's scores changes no rank.

*Spread* is the population standard deviation of the entry's per-reviewer totals on the score's
scale (normalised totals under ``"zscore"``, raw totals under ``"none"``); 0 with one reviewer.

*Ranking* sorts by score (desc), then by each tie-break criterion's mean (desc, in the chain's
order), then — only inside a group still tied after that, and only when the committee recorded a
position for *every* entry in that group — by the recorded position (lower is better; equal
positions stay tied). A partial decision does not apply: the whole group stays tied, so a missing
decision is visible rather than silently resolved. Ranks are competition ranks ("1224"): an entry's
rank is 1 + the number of entries strictly ahead of it. Entries still tied share their rank and are
marked ``tied``; ties are never broken by entry id or input order (only the *listing* order among
fully tied entries is by entry id, for stable output).

*Borderline.* With ``cut`` places, an entry is inside when ``rank <= cut`` (a tie straddling the
cut puts the whole group inside). It is borderline when leaving out any single reviewer — all of
that reviewer's reviews, the whole computation redone (normalisation included) — moves it to the
other side. An entry that loses all its reviews in such a scenario cannot be ranked there and counts
as *outside*: an entry inside the cut on the strength of a single reviewer is borderline.

Only entries with at least one review are ranked; entries nobody scored are the caller's business.
Range checks belong to recording scores (:func:`validate_scores`); :func:`compute_ranking` only
refuses scores it cannot compute with (unknown or missing criterion, not a finite number).

Where it lives: the rubric, rules and score sheets in :mod:`judging.domain.rubric` (re-exported
here), the exact per-review numbers and keys in :mod:`judging.domain.ranking_model`, the borderline
analysis in :mod:`judging.domain.borderline`; this module ranks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from judging.domain.borderline import borderline_entries
from judging.domain.ranking_model import QUANTUM, Key, ScoreModel, final_keys
from judging.domain.rubric import (
    NORMALISATIONS,
    Criterion,
    Normalisation,
    Review,
    Rules,
    ScoreProblem,
    rules_hash,
    validate_scores,
    weighted_total,
)

__all__ = [
    "NORMALISATIONS",
    "Criterion",
    "Decision",
    "Normalisation",
    "RankedEntry",
    "Review",
    "Rules",
    "ScoreProblem",
    "compute_ranking",
    "rules_hash",
    "validate_scores",
    "weighted_total",
]


@dataclass(frozen=True, slots=True)
class Decision:
    """Recorded committee decisions on ties: entry id -> position within its tied group (lower wins).

    A position only matters inside a group still tied after score and tie-break chain, and only
    when every entry of that group has one.
    """

    positions: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        positions = dict(self.positions)
        for entry_id, position in positions.items():
            if isinstance(position, bool) or not isinstance(position, int):
                raise ValueError(f"decision for entry {entry_id}: position must be an integer")
        object.__setattr__(self, "positions", MappingProxyType(positions))


@dataclass(frozen=True, slots=True)
class RankedEntry:
    """One entry's place in the ranking (see the module docstring for every definition)."""

    entry_id: int
    rank: int
    score: float
    raw_score: float
    reviewers: int
    spread: float
    borderline: bool
    criterion_means: dict[str, float]
    tied: bool


def compute_ranking(
    reviews: Iterable[Review],
    rules: Rules,
    decisions: Decision | Mapping[int, int] | None = None,
    *,
    with_borderline: bool = True,
) -> list[RankedEntry]:
    """Rank every reviewed entry, best first, under ``rules`` (definitions: module docstring).

    ``decisions``: recorded committee positions for tied groups. ``with_borderline=False`` skips
    the leave-one-reviewer-out analysis (every ``borderline`` is then False).
    Raises ``ValueError`` for a review with missing or unknown criteria, a non-finite score, or a
    reviewer reviewing the same entry twice.
    """
    if isinstance(decisions, Decision):
        positions: Mapping[int, int] = decisions.positions
    else:
        positions = Decision(decisions or {}).positions

    model = ScoreModel(reviews, rules)
    criterion_q = [model.quantised(c) for c in range(len(model.codes))]
    score_q = model.quantised(None)
    base, groups = _base_keys(model.entry_of_span, [score_q, *(criterion_q[c] for c in model.tie_break_index)])
    final = final_keys(groups, positions)

    # Listing order: best first; equal keys by entry id (their ranks are equal regardless).
    order = sorted(final, key=lambda e: (final[e], e))
    ranks, tied = _competition_ranks(order, final)
    borderline = (
        borderline_entries(model, order, final, groups, base, positions, rules.cut) if with_borderline else set()
    )
    return _ranked_entries(model, order, ranks, tied, borderline, score_q, criterion_q)


def _base_keys(span_entries: list[int], key_columns: list[list[int]]) -> tuple[dict[int, Key], dict[Key, list[int]]]:
    """Each entry's key before tie decisions (negated score, then tie-break means), and the entries
    sharing each key."""
    base: dict[int, Key] = {}
    groups: dict[Key, list[int]] = defaultdict(list)
    for entry_id, *values in zip(span_entries, *key_columns, strict=False):
        key = tuple(-v for v in values)
        base[entry_id] = key
        groups[key].append(entry_id)
    return base, groups


def _ranked_entries(model: ScoreModel, order: list[int], ranks: dict[int, int], tied: set[int], borderline: set[int],
                    score_q: list[int], criterion_q: list[list[int]]) -> list[RankedEntry]:
    """The published rows, in listing order: quantised numbers back to floats, and each flag."""
    codes = model.codes
    raw_q = model.raw_quantised()
    spreads = model.spreads()
    span_index = {entry_id: s for s, entry_id in enumerate(model.entry_of_span)}
    spans = model.spans
    quantum = QUANTUM
    result = []
    for entry_id in order:
        s = span_index[entry_id]
        a, b = spans[s]
        result.append(
            RankedEntry(
                entry_id=entry_id,
                rank=ranks[entry_id],
                score=score_q[s] / quantum,
                raw_score=raw_q[s] / quantum,
                reviewers=b - a,
                spread=spreads[s],
                borderline=entry_id in borderline,
                criterion_means={code: column[s] / quantum for code, column in zip(codes, criterion_q, strict=False)},
                tied=entry_id in tied,
            )
        )
    return result


def _competition_ranks(order: list[int], final: dict[int, Key]) -> tuple[dict[int, int], set[int]]:
    """Ranks "1, 2, 2, 4" over the listing order, and the entries sharing their rank."""
    ranks: dict[int, int] = {}
    tied: set[int] = set()
    previous: Key | None = None
    rank = 0
    for place, entry_id in enumerate(order, start=1):
        key = final[entry_id]
        if key != previous:
            rank, previous = place, key
        else:
            tied.add(entry_id)
            tied.add(order[place - 2])
        ranks[entry_id] = rank
    return ranks, tied

