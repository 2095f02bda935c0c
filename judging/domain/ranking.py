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
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from operator import add, itemgetter
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "Criterion",
    "Decision",
    "RankedEntry",
    "Review",
    "Rules",
    "ScoreProblem",
    "compute_ranking",
    "rules_hash",
    "validate_scores",
    "weighted_total",
]

Normalisation = Literal["none", "zscore"]
NORMALISATIONS: tuple[str, ...] = ("none", "zscore")

# Published numbers are rounded to this many decimals; rankings compare the rounded numbers.
DECIMALS = 9
# Under "zscore", +-3 standard deviations span the rubric's range.
ZSCORE_SPAN_SD = 6


@dataclass(frozen=True, slots=True)
class Criterion:
    """One rubric line: a code, a positive weight and the closed range ``[min, max]`` of a score."""

    code: str
    weight: float
    min: float
    max: float

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValueError("criterion code must be a non-empty string")
        for name in ("weight", "min", "max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"criterion {self.code!r}: {name} must be a finite number")
        if self.weight <= 0:
            raise ValueError(f"criterion {self.code!r}: weight must be positive")
        if not self.min < self.max:
            raise ValueError(f"criterion {self.code!r}: min must be below max")


@dataclass(frozen=True, slots=True)
class Review:
    """One reviewer's submitted scores (criterion code -> value) for one entry."""

    entry_id: int
    reviewer_id: int
    scores: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Rules:
    """A round's frozen rules: rubric, normalisation, tie-break chain (criterion codes), cut size."""

    criteria: tuple[Criterion, ...]
    normalisation: Normalisation = "none"
    tie_break: tuple[str, ...] = ()
    cut: int = 40

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", tuple(self.criteria))
        object.__setattr__(self, "tie_break", tuple(self.tie_break))
        if not self.criteria:
            raise ValueError("a rubric needs at least one criterion")
        codes = [c.code for c in self.criteria]
        if len(set(codes)) != len(codes):
            raise ValueError("criterion codes must be unique")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}")
        unknown = [code for code in self.tie_break if code not in codes]
        if unknown:
            raise ValueError(f"tie-break codes not in the rubric: {unknown}")
        if len(set(self.tie_break)) != len(self.tie_break):
            raise ValueError("tie-break codes must be unique")
        if isinstance(self.cut, bool) or not isinstance(self.cut, int) or self.cut < 0:
            raise ValueError("cut must be a non-negative integer")


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


@dataclass(frozen=True, slots=True)
class ScoreProblem:
    """Why a score sheet cannot be accepted, in Thai and English (for a 422)."""

    code: str  # criterion code concerned
    kind: Literal["unknown", "missing", "not_a_number", "out_of_range"]
    message_th: str
    message_en: str


def _number_text(value: float) -> str:
    return f"{value:g}"


def validate_scores(criteria: Iterable[Criterion], scores: Mapping[str, Any]) -> list[ScoreProblem]:
    """Every problem with one score sheet, in rubric order then unknown codes; empty when valid."""
    problems: list[ScoreProblem] = []
    known: set[str] = set()
    for criterion in criteria:
        known.add(criterion.code)
        if criterion.code not in scores:
            problems.append(
                ScoreProblem(
                    criterion.code,
                    "missing",
                    f"ยังไม่ได้ให้คะแนนเกณฑ์ {criterion.code}",
                    f"No score given for criterion {criterion.code}",
                )
            )
            continue
        value = scores[criterion.code]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problems.append(
                ScoreProblem(
                    criterion.code,
                    "not_a_number",
                    f"คะแนนเกณฑ์ {criterion.code} ต้องเป็นตัวเลข",
                    f"The score for criterion {criterion.code} must be a number",
                )
            )
        elif not criterion.min <= value <= criterion.max:
            low, high = _number_text(criterion.min), _number_text(criterion.max)
            problems.append(
                ScoreProblem(
                    criterion.code,
                    "out_of_range",
                    f"คะแนนเกณฑ์ {criterion.code} ต้องอยู่ระหว่าง {low} ถึง {high} (ได้รับ {_number_text(value)})",
                    f"The score for criterion {criterion.code} must be between {low} and {high}"
                    f" (got {_number_text(value)})",
                )
            )
    for code in sorted(str(c) for c in scores if c not in known):
        problems.append(
            ScoreProblem(
                code,
                "unknown",
                f"ไม่มีเกณฑ์ {code} ในเกณฑ์การให้คะแนนของรอบนี้",
                f"Criterion {code} is not part of this round's rubric",
            )
        )
    return problems


def weighted_total(criteria: Iterable[Criterion], scores: Mapping[str, float]) -> float:
    """One review's weighted total ``sum(weight * value) / sum(weight)``, exact then rounded once.

    Every weight and value is an exact rational with a power-of-two denominator (a binary float or
    an integer), so both sums are integers over the largest of those denominators and the one
    division ``int / int`` rounds correctly.
    """
    terms: list[tuple[int, int]] = []
    weights: list[tuple[int, int]] = []
    for criterion in criteria:
        wn, wd = criterion.weight.as_integer_ratio()
        vn, vd = scores[criterion.code].as_integer_ratio()
        terms.append((wn * vn, wd * vd))
        weights.append((wn, wd))
    term_scale = max(d for _, d in terms)
    weight_scale = max(d for _, d in weights)
    numerator = sum(n * (term_scale // d) for n, d in terms)
    denominator = sum(n * (weight_scale // d) for n, d in weights)
    return numerator * weight_scale / (denominator * term_scale)


def rules_hash(rules_dict: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a round's rules: sorted keys, no whitespace, UTF-8."""
    canonical = json.dumps(
        rules_dict, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# The computation
#
# Reviews are put in a canonical order (entry id, reviewer id), so each entry's reviews form one
# contiguous span [a, b). Published numbers are handled as integers q = value * 10**9 (rounded):
# ranking keys compare those integers, and the published float is q / 10**9.

_QUANTUM = 10**DECIMALS
_QUANTUM_FLOAT = float(_QUANTUM)

Key = tuple[int, ...]  # smaller is better: (-score_q, -tie_break_q..., decision position or 0)


def _denominator(value: float) -> int:
    return value.as_integer_ratio()[1]


def _scaled(value: float, scale: int) -> int:
    numerator, denominator = value.as_integer_ratio()
    return numerator * (scale // denominator)


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _z_table(reviewer_ids: list[int], values: list[int]) -> list[float]:
    """Per-reviewer exact z-scores (population sd) of integer values; 0.0 when a reviewer's never vary.

    ``z = sign(d) * sqrt(n * d**2 / Q)`` with ``d = n*v - sum(v)``, ``Q = sum(d**2)``: a function of
    the exact rational ``n*d**2/Q`` (int/int and sqrt round correctly), which a positive affine map
    of one reviewer's values leaves unchanged.
    """
    counts = Counter(zip(reviewer_ids, values, strict=False))
    n: dict[int, int] = defaultdict(int)
    total: dict[int, int] = defaultdict(int)
    for (reviewer, value), count in counts.items():
        n[reviewer] += count
        total[reviewer] += count * value
    q: dict[int, int] = defaultdict(int)
    for (reviewer, value), count in counts.items():
        q[reviewer] += count * (n[reviewer] * value - total[reviewer]) ** 2
    table: dict[tuple[int, int], float] = {}
    for pair in counts:
        reviewer, value = pair
        qr = q[reviewer]
        d = n[reviewer] * value - total[reviewer]
        table[pair] = math.copysign(math.sqrt(n[reviewer] * d * d / qr), d) if d else 0.0
    return list(map(table.__getitem__, zip(reviewer_ids, values, strict=False)))


def _criterion_columns(rows: list[Review], codes: tuple[str, ...]) -> list[tuple[float, ...]]:
    """The reviews' scores as one column per criterion; a review with a missing or unknown
    criterion is a ValueError naming it."""
    width = len(codes)
    getter = itemgetter(*codes)
    try:
        sheets = [getter(r.scores) for r in rows]
        bad = next((r for r in rows if len(r.scores) != width), None)
    except KeyError:
        bad = next(r for r in rows if not all(code in r.scores for code in codes))
    if bad is not None:
        missing = sorted(set(codes) - set(bad.scores))
        unknown = sorted(str(c) for c in set(bad.scores) - set(codes))
        raise ValueError(
            f"review of entry {bad.entry_id} by reviewer {bad.reviewer_id}:"
            f" missing criteria {missing}, unknown criteria {unknown}"
        )
    if not rows:
        return [() for _ in codes]
    return list(zip(*sheets, strict=False)) if width > 1 else [tuple(sheets)]


def _exact_integers(columns: list[tuple[float, ...]], criteria: tuple[Criterion, ...]
                    ) -> tuple[list[int], list[list[int]], int]:
    """(weights, columns, value scale): one power-of-two scale turns every score and weight into
    an exact integer, so sums and means are exact rationals."""
    distinct = [set(column) for column in columns]
    value_scale = 1
    for values in distinct:
        for value in values:
            if not _is_number(value):
                raise ValueError(f"score {value!r} is not a finite number")
            value_scale = max(value_scale, _denominator(float(value)))
    weight_scale = max(_denominator(float(c.weight)) for c in criteria)
    int_weights = [_scaled(float(c.weight), weight_scale) for c in criteria]
    converters = [{v: _scaled(float(v), value_scale) for v in values} for values in distinct]
    int_columns = [list(map(conv.__getitem__, column)) for conv, column in zip(converters, columns, strict=False)]
    return int_weights, int_columns, value_scale


class _Model:
    """Per-review numbers every leave-one-out scenario shares, and an entry's key from its reviews."""

    def __init__(self, reviews: Iterable[Review], rules: Rules) -> None:
        criteria = rules.criteria
        codes = tuple(c.code for c in criteria)
        self.codes = codes
        self.zscore = rules.normalisation == "zscore"

        rows: list[Review] = sorted(reviews, key=lambda r: (r.entry_id, r.reviewer_id))
        columns = _criterion_columns(rows, codes)
        entry_ids = [r.entry_id for r in rows]
        reviewer_ids = [r.reviewer_id for r in rows]
        for i in range(1, len(rows)):
            if entry_ids[i] == entry_ids[i - 1] and reviewer_ids[i] == reviewer_ids[i - 1]:
                raise ValueError(f"reviewer {reviewer_ids[i]} reviewed entry {entry_ids[i]} twice")
        int_weights, int_columns, value_scale = _exact_integers(columns, criteria)
        totals = [0] * len(rows)
        for weight, column in zip(int_weights, int_columns, strict=False):
            totals = list(map(add, totals, map(weight.__mul__, column)))

        spans: list[tuple[int, int]] = []
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or entry_ids[i] != entry_ids[start]:
                spans.append((start, i))
                start = i
        self.spans = spans
        self.entry_ids = entry_ids
        self.entry_of_span = [entry_ids[a] for a, _ in spans]
        self.span_of_review = [0] * len(rows)
        for s, (a, b) in enumerate(spans):
            for i in range(a, b):
                self.span_of_review[i] = s
        by_reviewer: dict[int, list[int]] = defaultdict(list)
        for i, reviewer in enumerate(reviewer_ids):
            by_reviewer[reviewer].append(i)
        self.by_reviewer = dict(sorted(by_reviewer.items()))

        # raw total = S / total_scale; raw criterion value = v_int / value_scale (exact rationals)
        self.totals = totals
        self.int_columns = int_columns
        self.total_scale = sum(int_weights) * value_scale
        self.value_scale = value_scale

        weights = [Fraction(c.weight) for c in criteria]
        weight_sum = sum(weights)
        lo = sum(w * Fraction(c.min) for w, c in zip(weights, criteria, strict=False)) / weight_sum
        hi = sum(w * Fraction(c.max) for w, c in zip(weights, criteria, strict=False)) / weight_sum
        self.mid = float((lo + hi) / 2)
        self.unit = float((hi - lo) / ZSCORE_SPAN_SD)
        self.criterion_mid = [float((Fraction(c.min) + Fraction(c.max)) / 2) for c in criteria]
        self.criterion_unit = [float((Fraction(c.max) - Fraction(c.min)) / ZSCORE_SPAN_SD) for c in criteria]
        self.tie_break_index = [codes.index(code) for code in rules.tie_break]

        if self.zscore:
            # Per-reviewer normalisation uses only that reviewer's reviews, so leaving a reviewer out
            # never changes anyone else's z values: computed once for every scenario.
            self.z_total = _z_table(reviewer_ids, totals)
            self.z_columns = [_z_table(reviewer_ids, column) for column in int_columns]

    # An entry's numbers depend on the multiset of its reviews only. The full computation takes
    # each entry's whole span, a leave-one-out scenario the span without one review; both use the
    # very same arithmetic (kept in step by hand for speed, and checked by the tests).

    def _measure(self, c: int | None) -> tuple[bool, list, float, float]:
        """(is_z, per-review column, mid or scale, unit) of the score (c None) or criterion c."""
        if c is None:
            if self.zscore:
                return True, self.z_total, self.mid, self.unit
            return False, self.totals, self.total_scale, 0.0
        if self.zscore:
            return True, self.z_columns[c], self.criterion_mid[c], self.criterion_unit[c]
        return False, self.int_columns[c], self.value_scale, 0.0

    def quantised(self, c: int | None) -> list[int]:
        """Per entry (span order): the score (c None) or criterion c's mean, in units of 1e-9."""
        is_z, column, x, y = self._measure(c)
        quantum = _QUANTUM
        if is_z:
            q = _QUANTUM_FLOAT
            return [round((x + y * (math.fsum(column[a:b]) / (b - a))) * q) for a, b in self.spans]
        out = []
        for a, b in self.spans:
            d = (b - a) * x
            out.append((2 * sum(column[a:b]) * quantum + d) // (2 * d))
        return out

    def raw_quantised(self) -> list[int]:
        quantum, scale, totals = _QUANTUM, self.total_scale, self.totals
        out = []
        for a, b in self.spans:
            d = (b - a) * scale
            out.append((2 * sum(totals[a:b]) * quantum + d) // (2 * d))
        return out

    def key_measures(self) -> list[tuple[bool, list, float, float]]:
        return [self._measure(None), *(self._measure(c) for c in self.tie_break_index)]

    @staticmethod
    def component_without(measure: tuple[bool, list, float, float], a: int, b: int, skip: int) -> int:
        """One key component (negated quantised mean) of the entry spanning [a, b) without ``skip``."""
        is_z, column, x, y = measure
        values = column[a:skip] + column[skip + 1 : b]
        if is_z:
            return -round((x + y * (math.fsum(values) / len(values))) * _QUANTUM_FLOAT)
        d = len(values) * x
        return -((2 * sum(values) * _QUANTUM + d) // (2 * d))

    def key_without(self, measures: list[tuple[bool, list, float, float]], a: int, b: int, skip: int) -> Key:
        """The base key of the entry spanning [a, b) once review ``skip`` is left out."""
        return tuple(self.component_without(m, a, b, skip) for m in measures)

    def spreads(self) -> list[float]:
        """Population sd of each entry's per-review totals, on the score's scale."""
        out = []
        if self.zscore:
            unit, z_total = self.unit, self.z_total
            for a, b in self.spans:
                k = b - a
                zs = z_total[a:b]
                mean = math.fsum(zs) / k
                out.append(round(unit * math.sqrt(math.fsum([(z - mean) ** 2 for z in zs]) / k), DECIMALS))
        else:
            square_scale = self.total_scale**2
            for a, b in self.spans:
                k = b - a
                totals = self.totals[a:b]
                s = sum(totals)
                variance = sum((k * t - s) ** 2 for t in totals) / (k**3 * square_scale)
                out.append(round(math.sqrt(variance), DECIMALS))
        return out


def _final_keys(groups: Mapping[Key, list[int]], positions: Mapping[int, int]) -> dict[int, Key]:
    """Full key per entry: base key + recorded position, the latter only for fully decided groups."""
    out: dict[int, Key] = {}
    for base, members in groups.items():
        if positions and len(members) > 1 and all(m in positions for m in members):
            for m in members:
                out[m] = (*base, positions[m])
        else:
            for m in members:
                out[m] = (*base, 0)
    return out


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

    model = _Model(reviews, rules)
    span_entries = model.entry_of_span
    codes = model.codes
    criterion_q = [model.quantised(c) for c in range(len(codes))]
    score_q = model.quantised(None)
    key_columns = [score_q, *(criterion_q[c] for c in model.tie_break_index)]

    base: dict[int, Key] = {}
    groups: dict[Key, list[int]] = defaultdict(list)
    for entry_id, *values in zip(span_entries, *key_columns, strict=False):
        key = tuple(-v for v in values)
        base[entry_id] = key
        groups[key].append(entry_id)
    final = _final_keys(groups, positions)

    # Listing order: best first; equal keys by entry id (their ranks are equal regardless).
    order = sorted(final, key=lambda e: (final[e], e))
    ranks, tied = _competition_ranks(order, final)

    borderline = (
        _borderline(model, order, final, groups, base, positions, rules.cut) if with_borderline else set()
    )

    raw_q = model.raw_quantised()
    spreads = model.spreads()
    span_index = {entry_id: s for s, entry_id in enumerate(span_entries)}
    spans = model.spans
    quantum = _QUANTUM
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


def _head(order: list[int], keys: list[Key], excluded: Container[int], cut: int) -> list[Key]:
    """The first ``cut`` keys (ascending) of entries not in ``excluded``."""
    head: list[Key] = []
    for e, key in zip(order, keys, strict=False):
        if e not in excluded:
            head.append(key)
            if len(head) == cut:
                break
    return head


def _borderline(
    model: _Model,
    order: list[int],
    final: dict[int, Key],
    groups: dict[Key, list[int]],
    base: dict[int, Key],
    positions: Mapping[int, int],
    cut: int,
) -> set[int]:
    """Entries whose side of the cut changes when some single reviewer is left out.

    In any ranking, an entry is inside iff its key <= the cut-th smallest key (with multiplicity),
    or there are fewer than ``cut`` entries: with competition ranks, rank <= cut exactly then.
    Leaving reviewer r out changes only the keys of r's entries (every other reviewer's
    normalisation is their own) and of entries sharing a tie group with them (a recorded decision
    applies to complete groups only). So each scenario recomputes those keys, finds its threshold
    by merging them into the unchanged head of the original order, and re-checks the changed
    entries plus the unchanged ones lying between the old and the new threshold. The result equals
    a full recomputation per reviewer (tests check this against the naive way).
    """
    n = len(order)
    if cut == 0 or n == 0:
        return set()  # nobody is ever inside
    keys = [final[e] for e in order]  # ascending
    inside_count = n if n < cut else bisect_right(keys, keys[cut - 1])
    inside = set(order[:inside_count])

    result: set[int] = set()
    spans = model.spans
    span_of_review = model.span_of_review
    span_entries = model.entry_of_span
    decided_groups = {key for key, members in groups.items() if any(m in positions for m in members)}
    measures = model.key_measures()
    for reviewer_indices in model.by_reviewer.values():
        # (entry, span start, span end, index of the review left out); an entry left with no
        # review cannot be ranked and counts as outside in this scenario (key None).
        scenario = []
        for i in reviewer_indices:
            s = span_of_review[i]
            a, b = spans[s]
            scenario.append((span_entries[s], a, b, i))
        if positions:
            changed, head = _decided_scenario(model, measures, scenario, order, keys, cut, groups, base, positions,
                                              decided_groups)
        else:
            changed, head = _plain_scenario(model, measures, scenario, order, keys, cut)

        head.extend(k for k in changed.values() if k is not None)
        if len(head) < cut:
            threshold = None
            new_inside_count = n
        else:
            head.sort()
            threshold = head[cut - 1]
            new_inside_count = bisect_right(keys, threshold)

        for e, k in changed.items():
            now_inside = k is not None and (threshold is None or k <= threshold)
            if now_inside != (e in inside):
                result.add(e)
        # An unchanged entry switches side iff it lies between the old and the new threshold.
        low, high = sorted((inside_count, new_inside_count))
        for e in order[low:high]:
            if e not in changed:
                result.add(e)
    return result


_Scenario = list[tuple[int, int, int, int]]  # (entry, span start, span end, review left out)


def _decided_scenario(model: _Model, measures: list[tuple[bool, list, float, float]], scenario: _Scenario,
                      order: list[int], keys: list[Key], cut: int, groups: dict[Key, list[int]],
                      base: dict[int, Key], positions: Mapping[int, int], decided_groups: set[Key],
                      ) -> tuple[dict[int, Key | None], list[Key]]:
    """One reviewer left out, with recorded tie decisions: the changed keys (of the reviewer's
    entries and of the decided groups they leave or join) and the unchanged head of the order."""
    affected = {e: model.key_without(measures, a, b, i) if b - a > 1 else None for e, a, b, i in scenario}
    changed: dict[int, Key | None] = {e: None if k is None else (*k, 0) for e, k in affected.items()}
    arriving: dict[Key, list[int]] = defaultdict(list)
    for e, k in affected.items():
        if k is not None:
            arriving[k].append(e)
    touched = {base[e] for e in affected} | arriving.keys()
    for key in touched:
        # Only a group with a decided member can have its decision switched on or off.
        if key in decided_groups or any(e in positions for e in arriving.get(key, ())):
            members = [e for e in groups.get(key, ()) if e not in affected]
            members += arriving.get(key, [])
            changed.update(_final_keys({key: members}, positions))
    return changed, _head(order, keys, changed, cut)


def _plain_scenario(model: _Model, measures: list[tuple[bool, list, float, float]], scenario: _Scenario,
                    order: list[int], keys: list[Key], cut: int) -> tuple[dict[int, Key | None], list[Key]]:
    """One reviewer left out, without tie decisions: the changed keys and the unchanged head."""
    score_measure, tie_measures = measures[0], measures[1:]
    component_without = model.component_without
    head = _head(order, keys, {e for e, _, _, _ in scenario}, cut)
    # The scenario's threshold is no worse than the cut-th unchanged key, so an entry whose new
    # score alone is already worse is outside and cannot move the threshold: its tie-break means
    # are not needed.
    bound = head[-1][0] if len(head) == cut else None
    changed: dict[int, Key | None] = {}
    for e, a, b, i in scenario:
        if b - a == 1:
            changed[e] = None
            continue
        first = component_without(score_measure, a, b, i)
        if bound is not None and first > bound:
            changed[e] = None
        else:
            changed[e] = (first, *(component_without(m, a, b, i) for m in tie_measures), 0)
    return changed, head
