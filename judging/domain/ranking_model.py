"""The exact per-review numbers a ranking is computed from — pure, no I/O.

Every definition (exact integer arithmetic, z-scores, rounding to 9 decimals, keys) is in
:mod:`judging.domain.ranking`'s docstring. Reviews are put in a canonical order (entry id, reviewer
id), so each entry's reviews form one contiguous span [a, b). Published numbers are handled as
integers q = value * 10**9 (rounded): ranking keys compare those integers, and the published float
is q / 10**9.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from operator import add, itemgetter

from judging.domain.rubric import Criterion, Review, Rules

# Published numbers are rounded to this many decimals; rankings compare the rounded numbers.
DECIMALS = 9
# Under "zscore", +-3 standard deviations span the rubric's range.
ZSCORE_SPAN_SD = 6

QUANTUM = 10**DECIMALS
QUANTUM_FLOAT = float(QUANTUM)

Key = tuple[int, ...]  # smaller is better: (-score_q, -tie_break_q..., decision position or 0)


def zscore_scale(criteria: Sequence[Criterion]) -> tuple[float, float, list[float], list[float]]:
    """Where z-scores are mapped back onto the rubric: the weighted total's and each criterion's
    midpoint, and the unit that puts ``ZSCORE_SPAN_SD`` standard deviations across its range."""
    weights = [Fraction(c.weight) for c in criteria]
    weight_sum = sum(weights)
    lo = sum(w * Fraction(c.min) for w, c in zip(weights, criteria, strict=True)) / weight_sum
    hi = sum(w * Fraction(c.max) for w, c in zip(weights, criteria, strict=True)) / weight_sum
    return (float((lo + hi) / 2), float((hi - lo) / ZSCORE_SPAN_SD),
            [float((Fraction(c.min) + Fraction(c.max)) / 2) for c in criteria],
            [float((Fraction(c.max) - Fraction(c.min)) / ZSCORE_SPAN_SD) for c in criteria])


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


class ScoreModel:
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

        self.mid, self.unit, self.criterion_mid, self.criterion_unit = zscore_scale(criteria)
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
        quantum = QUANTUM
        if is_z:
            q = QUANTUM_FLOAT
            return [round((x + y * (math.fsum(column[a:b]) / (b - a))) * q) for a, b in self.spans]
        out = []
        for a, b in self.spans:
            d = (b - a) * x
            out.append((2 * sum(column[a:b]) * quantum + d) // (2 * d))
        return out

    def raw_quantised(self) -> list[int]:
        quantum, scale, totals = QUANTUM, self.total_scale, self.totals
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
            return -round((x + y * (math.fsum(values) / len(values))) * QUANTUM_FLOAT)
        d = len(values) * x
        return -((2 * sum(values) * QUANTUM + d) // (2 * d))

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



def final_keys(groups: Mapping[Key, list[int]], positions: Mapping[int, int]) -> dict[int, Key]:
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

