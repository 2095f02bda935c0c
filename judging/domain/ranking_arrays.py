"""The ranking computed over whole columns at once (numpy): the same numbers as
:func:`judging.domain.ranking.compute_ranking`, bit for bit, for a whole round's score sheets.

:func:`judging.domain.ranking.compute_ranking` is the definition (every rule is in its module's
docstring) and stays the reference; this module computes the very same integers and floats with
array operations, and the tests compare the two on seeded random rounds.

How the exact arithmetic carries over:

* Scores scaled by the round's common power of two are exact integers below ``2**63``, held in
  int64. A weighted total can be wider: it is summed as two int64 halves (31-bit limbs) and put
  together as a Python integer.
* The few steps whose integers are wider than 64 bits (a reviewer's z-score ``n * d**2 / Q``, a
  mean rounded to 9 decimals ``(2 * sum * 10**9 + d) // (2 * d)``) run on numpy arrays of Python
  integers: each element is the same integer operation the reference performs, correctly rounded
  where it divides. Criterion scores repeat a lot, so their z-scores are worked out once per
  distinct (reviewer, value).
* ``math.fsum`` of a few floats is reproduced exactly: every float is an integer times a power of
  two, so the floats of an entry aligned to their smallest exponent are int64 integers whose sum
  is exact, and converting that sum to a float rounds it once, correctly. An entry whose floats
  are too far apart in magnitude for int64 takes ``math.fsum`` itself.
* ``round(x)`` is ``numpy.rint`` (both round half to even), ``round(x, 9)`` and ``x ** 2`` stay
  Python's own.

Numbers outside these bounds (a score needing a power of two beyond ``2**60`` or scaled past
``2**63``, a non-finite score) are handed to the reference, which computes them or refuses
them with its own message.
"""

from __future__ import annotations

import gc
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import chain, repeat
from operator import attrgetter, itemgetter
from typing import Any

import msgspec
import numpy as np

from judging.domain.borderline import borderline_entries
from judging.domain.ranking import Decision, RankedEntry, compute_ranking
from judging.domain.ranking_model import DECIMALS, QUANTUM, Key, zscore_scale
from judging.domain.rubric import Review, Rules

__all__ = ["compute_ranking_arrays", "sheet_arrays"]

_LIMB = 31
_SCALED_LIMIT = 2.0**63
_EXACT_FLOAT_INT = 2**53
_MANTISSA = 53


class _Unsupported(Exception):
    """Numbers this module does not handle exactly: the reference computes them."""


def sheet_arrays(reviews: Sequence[Review], codes: Sequence[str]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(entry ids, reviewer ids, one column per criterion) of ``reviews``; None when a sheet lacks
    a criterion, has another, or holds something other than a number (the reference explains)."""
    return sheet_columns([(r.entry_id, r.reviewer_id, r.scores) for r in reviews], codes)


def sheet_columns(sheets: Sequence[tuple[int, int, Mapping[str, Any]]], codes: Sequence[str]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`sheet_arrays` of (entry id, reviewer id, scores) triples."""
    pick = itemgetter(*codes)
    width = len(codes)
    try:
        rows = [pick(scores) for _, _, scores in sheets]
        if any(len(scores) != width for _, _, scores in sheets):
            return None
    except (KeyError, TypeError):
        return None
    if width == 1:
        rows = [(v,) for v in rows]
    kinds: set[type] = set()
    for column in zip(*rows, strict=True):
        kinds.update(map(type, column))
    if not kinds <= {int, float}:  # a bool, text, null...: the reference says what is wrong
        return None
    count = len(sheets)
    entry = np.fromiter((e for e, _, _ in sheets), dtype=np.int64, count=count)
    reviewer = np.fromiter((r for _, r, _ in sheets), dtype=np.int64, count=count)
    matrix = np.array(rows, dtype=np.float64).reshape(count, width)
    return entry, reviewer, matrix


@lru_cache(maxsize=32)
def _scores_type(codes: tuple[str, ...]) -> Any:
    """Score sheets with exactly these criteria, each a number (a decoding type)."""
    scores = msgspec.defstruct("Scores", [(code, float) for code in codes], forbid_unknown_fields=True, gc=False)
    return list[scores]  # type: ignore[valid-type]


def decode_sheets(entries: str, reviewers: str, scores: str, codes: tuple[str, ...]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The columns of sheets given as comma-joined entry ids, reviewer ids and JSON score sheets
    ``{code: score, ...}`` (in the same order); None when a sheet lacks a criterion, has another,
    or holds something other than a number (the reference explains)."""
    with _collection_paused():
        try:
            entry = np.array(msgspec.json.decode(f"[{entries}]", type=list[int]), dtype=np.int64)
            reviewer = np.array(msgspec.json.decode(f"[{reviewers}]", type=list[int]), dtype=np.int64)
            sheets = msgspec.json.decode(f"[{scores}]", type=_scores_type(codes))
        except (msgspec.ValidationError, OverflowError):
            return None
        count = len(sheets)
        if not len(entry) == len(reviewer) == count:
            return None
        pick = attrgetter(*codes)
        if len(codes) == 1:
            matrix = np.fromiter(map(pick, sheets), dtype=np.float64, count=count)
        else:
            matrix = np.fromiter(chain.from_iterable(map(pick, sheets)), dtype=np.float64, count=count * len(codes))
        return entry, reviewer, matrix.reshape(count, len(codes))


def _as_reviews(entry: np.ndarray, reviewer: np.ndarray, matrix: np.ndarray, codes: Sequence[str]) -> list[Review]:
    return [Review(e, r, dict(zip(codes, row, strict=True)))
            for e, r, row in zip(entry.tolist(), reviewer.tolist(), matrix.tolist(), strict=True)]


def compute_ranking_arrays(entry: np.ndarray, reviewer: np.ndarray, matrix: np.ndarray, rules: Rules,
                           decisions: Decision | Mapping[int, int] | None = None, *,
                           with_borderline: bool = True) -> list[RankedEntry]:
    """:func:`judging.domain.ranking.compute_ranking` of the sheets given as columns: ``entry``
    and ``reviewer`` ids (int64) and ``matrix``, one row per sheet and one column per criterion
    in the rubric's order. The same result, bit for bit."""
    positions = decisions.positions if isinstance(decisions, Decision) else Decision(decisions or {}).positions
    if len(entry) == 0:
        return []
    try:
        with _collection_paused():
            core = _Core(np.asarray(entry, dtype=np.int64), np.asarray(reviewer, dtype=np.int64),
                     np.asarray(matrix, dtype=np.float64), rules)
            return core.ranking(positions, with_borderline)
    except _Unsupported:
        codes = [c.code for c in rules.criteria]
        return compute_ranking(_as_reviews(entry, reviewer, matrix, codes), rules, positions,
                               with_borderline=with_borderline)


@contextmanager
def _collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while the ranking builds its many small objects (tuples,
    floats, the rows), none of which form cycles: a collection in the middle would walk them all,
    sometimes more than once, for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- exact helpers ------------------------------------------------------------------------------

def _objects(values: np.ndarray) -> np.ndarray:
    """int64 values as an array of Python integers."""
    out = np.empty(len(values), dtype=object)
    out[:] = values.tolist()
    return out


def _span_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Exact sum over each span, as Python integers."""
    if values.dtype == object:
        return np.add.reduceat(values, starts)
    return _objects(np.add.reduceat(values, starts))


def _fsums(z: np.ndarray, starts: np.ndarray, sizes: np.ndarray, leave_out: bool = False) -> np.ndarray:
    """``math.fsum`` of each span (per span), or of each span without each of its elements (per
    element, ``leave_out``; nan for an element alone in its span)."""
    mantissa, exponent = np.frexp(z)
    whole = np.ldexp(mantissa, _MANTISSA).astype(np.int64)  # exact: |mantissa| < 1
    power = exponent.astype(np.int64) - _MANTISSA
    power = np.where(whole == 0, np.int64(1 << 20), power)
    lowest = np.minimum.reduceat(power, starts)
    lowest = np.where(lowest == 1 << 20, 0, lowest)
    lowest_each = np.repeat(lowest, sizes)
    shift = np.where(whole == 0, 0, power - lowest_each)
    room = 62 - _MANTISSA - int(sizes.max()).bit_length()
    wide = np.maximum.reduceat(shift, starts) > room
    wide |= lowest < -1000  # results near the subnormal range: fsum itself
    shifted = np.where(np.repeat(wide, sizes), 0, whole << np.minimum(shift, max(room, 0)))
    sums = np.add.reduceat(shifted, starts)
    if leave_out:
        out = np.ldexp((np.repeat(sums, sizes) - shifted).astype(np.float64), lowest_each.astype(np.int32))
        out[np.repeat(sizes == 1, sizes)] = np.nan
    else:
        out = np.ldexp(sums.astype(np.float64), lowest.astype(np.int32))
    if wide.any():
        values = z.tolist()
        ends = starts + sizes
        for s in np.flatnonzero(wide).tolist():
            a, b = int(starts[s]), int(ends[s])
            if leave_out:
                for i in range(a, b):
                    out[i] = math.fsum(values[a:i] + values[i + 1:b]) if b - a > 1 else np.nan
            else:
                out[s] = math.fsum(values[a:b])
    return out


def _z_scores(reviewer: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-reviewer exact z-scores of integer ``values`` (Python integers, object array), as the
    reference's ``_z_table``: ``copysign(sqrt(n * d * d / Q), d)``, 0.0 where ``d`` is 0."""
    order = np.argsort(reviewer, kind="stable")
    by = reviewer[order]
    starts = np.flatnonzero(np.concatenate(([True], by[1:] != by[:-1])))
    sizes = np.diff(np.append(starts, len(by)))
    v = values[order]
    n = _objects(np.repeat(sizes, sizes))
    totals = np.repeat(np.add.reduceat(v, starts), sizes)
    d = n * v - totals
    q = np.repeat(np.add.reduceat(d * d, starts), sizes)
    return _z_from(order, n, d, q)


def _z_from(order: np.ndarray, n: np.ndarray, d: np.ndarray, q: np.ndarray) -> np.ndarray:
    nonzero = (d != 0).astype(bool)
    squared = np.zeros(len(d), dtype=np.float64)
    if nonzero.any():
        squared[nonzero] = (n[nonzero] * d[nonzero] * d[nonzero] / q[nonzero]).astype(np.float64)
    z = np.copysign(np.sqrt(squared), np.where((d < 0).astype(bool), -1.0, 1.0))
    z[~nonzero] = 0.0
    out = np.empty(len(d), dtype=np.float64)
    out[order] = z
    return out


def _codes(values: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """How many distinct values, each value's place among them (same order), and the values."""
    distinct = np.unique(values)
    return len(distinct), np.searchsorted(distinct, values), distinct


def _z_scores_repeating(reviewer: tuple[int, np.ndarray, np.ndarray], values: np.ndarray) -> np.ndarray:
    """:func:`_z_scores` of int64 values that repeat (criterion scores): worked out once per
    distinct (reviewer, value), weighted by how often it occurs. ``reviewer``: the reviewers'
    :func:`_codes`."""
    reviewers, reviewer_code, _ = reviewer
    width, value_code, distinct = _codes(values)
    if reviewers * width <= 4 * len(values) + 1024:
        # Few distinct values: count each (reviewer, value) pair in a grid, no sorting of pairs.
        pair = reviewer_code * width + value_code
        grid = np.bincount(pair, minlength=reviewers * width)
        present = np.flatnonzero(grid)  # in (reviewer, value) order
        counts = grid[present]
        pair_reviewer, pair_value = present // width, _objects(distinct[present % width])
        slot = np.empty(len(grid), dtype=np.int64)
        slot[present] = np.arange(len(present))
        pair_of, order = slot[pair], None
    else:
        order = np.lexsort((values, reviewer_code))
        by, v = reviewer_code[order], values[order]
        first = np.concatenate(([True], (by[1:] != by[:-1]) | (v[1:] != v[:-1])))
        pair_starts = np.flatnonzero(first)
        counts = np.diff(np.append(pair_starts, len(v)))
        pair_of = np.cumsum(first) - 1
        pair_reviewer, pair_value = by[pair_starts], _objects(v[pair_starts])
    r_starts = np.flatnonzero(np.concatenate(([True], pair_reviewer[1:] != pair_reviewer[:-1])))
    r_sizes = np.diff(np.append(r_starts, len(pair_reviewer)))
    weight = _objects(counts)
    n = _objects(np.repeat(np.add.reduceat(counts, r_starts), r_sizes))
    totals = np.repeat(np.add.reduceat(weight * pair_value, r_starts), r_sizes)
    d = n * pair_value - totals
    q = np.repeat(np.add.reduceat(weight * d * d, r_starts), r_sizes)
    pair_z = _z_from(np.arange(len(d)), n, d, q)
    if order is None:
        return pair_z[pair_of]
    out = np.empty(len(values), dtype=np.float64)
    out[order] = pair_z[pair_of]
    return out


def _rounded_means(sums: np.ndarray, counts: np.ndarray, scale: int) -> np.ndarray:
    """``round(sum / (count * scale), 9)`` half up, in units of 1e-9, exactly (int64)."""
    d = _objects(counts) * scale
    q = (2 * sums * QUANTUM + d) // (2 * d)
    return _int64(q)


def _int64(values: np.ndarray) -> np.ndarray:
    as_list = values.tolist()
    if as_list and max(abs(min(as_list)), abs(max(as_list))) >= 2**62:
        raise _Unsupported
    return np.array(as_list, dtype=np.int64)


def _quantised_floats(values: np.ndarray) -> np.ndarray:
    """``round(value)`` of each float (half to even, as Python's), as int64."""
    rounded = np.rint(values)
    if rounded.size and not (np.abs(rounded) < 2.0**62).all():
        raise _Unsupported
    return rounded.astype(np.int64)


def _published(q: np.ndarray) -> list[float]:
    """Quantised numbers as the published floats ``q / 10**9`` (int / int, correctly rounded:
    the same as float division while ``q`` is exact as a float)."""
    if q.size and int(np.abs(q).max()) >= _EXACT_FLOAT_INT:
        return [v / QUANTUM for v in q.tolist()]
    return (q.astype(np.float64) / float(QUANTUM)).tolist()


# --- the computation ----------------------------------------------------------------------------

class _Core:
    """One round's sheets in canonical order (entry, reviewer) and the per-sheet exact numbers."""

    def __init__(self, entry: np.ndarray, reviewer: np.ndarray, matrix: np.ndarray, rules: Rules) -> None:
        criteria = rules.criteria
        self.rules = rules
        self.codes = tuple(c.code for c in criteria)
        self.zscore = rules.normalisation == "zscore"
        if matrix.shape != (len(entry), len(criteria)):
            raise _Unsupported
        if not np.isfinite(matrix).all():
            raise _Unsupported
        order = np.lexsort((reviewer, entry))
        entry, reviewer, matrix = entry[order], reviewer[order], matrix[order]
        twice = np.flatnonzero((entry[1:] == entry[:-1]) & (reviewer[1:] == reviewer[:-1]))
        if twice.size:
            i = int(twice[0]) + 1
            raise ValueError(f"reviewer {int(reviewer[i])} reviewed entry {int(entry[i])} twice")
        self.entry, self.reviewer = entry, reviewer
        n = len(entry)

        value_scale = max([1, *(v.as_integer_ratio()[1] for v in np.unique(matrix).tolist())])
        if value_scale > 2**60:
            raise _Unsupported
        scaled = matrix * float(value_scale)  # a power of two: exact
        if np.abs(scaled).max() >= _SCALED_LIMIT:
            raise _Unsupported
        values = scaled.astype(np.int64)
        weight_scale = max(float(c.weight).as_integer_ratio()[1] for c in criteria)
        weights = [(lambda r: r[0] * (weight_scale // r[1]))(float(c.weight).as_integer_ratio()) for c in criteria]
        weight_sum = sum(weights)
        if weight_sum < 2 ** (62 - _LIMB):  # each half's weighted sum stays below 2**63
            column = np.array(weights, dtype=np.int64)
            high = (values >> _LIMB) @ column
            low = (values & ((1 << _LIMB) - 1)) @ column
            self.totals = _objects(high) * (1 << _LIMB) + _objects(low)
        else:  # weights that are not short binary fractions (0.1, 0.3): Python integers throughout
            self.totals = sum(_objects(values[:, c]) * w for c, w in enumerate(weights))
        self.values = values  # one int64 column per criterion
        self.value_scale = value_scale
        self.total_scale = weight_sum * value_scale

        self.starts = np.flatnonzero(np.concatenate(([True], entry[1:] != entry[:-1])))
        self.sizes = np.diff(np.append(self.starts, n))
        self.entry_of_span = entry[self.starts]
        self.span_of_review = np.repeat(np.arange(len(self.starts)), self.sizes)

        self.mid, self.unit, self.criterion_mid, self.criterion_unit = zscore_scale(criteria)
        self.tie_break_index = [self.codes.index(code) for code in rules.tie_break]
        if self.zscore:
            self.z_total = _z_scores(reviewer, self.totals)
            reviewer_codes = _codes(reviewer)
            self.z_columns = [_z_scores_repeating(reviewer_codes, values[:, c]) for c in range(len(criteria))]
        self._sums: dict[int | None, np.ndarray] = {}

    # per entry (span) -------------------------------------------------------------------------

    def _column(self, c: int | None) -> np.ndarray:
        if c is None:
            return self.totals
        column: np.ndarray = self.values[:, c]
        if np.abs(column).max(initial=0) >= (2**63 - 1) // max(int(self.sizes.max()), 1):
            return _objects(column)
        return column

    def _span_sum(self, c: int | None) -> np.ndarray:
        if c not in self._sums:
            self._sums[c] = _span_sums(self._column(c), self.starts)
        return self._sums[c]

    def _z_measure(self, c: int | None) -> tuple[np.ndarray, float, float]:
        if c is None:
            return self.z_total, self.mid, self.unit
        return self.z_columns[c], self.criterion_mid[c], self.criterion_unit[c]

    def quantised(self, c: int | None) -> np.ndarray:
        """Per entry: the score (c None) or criterion c's mean, in units of 1e-9 (int64)."""
        if self.zscore:
            z, x, y = self._z_measure(c)
            fsum = _fsums(z, self.starts, self.sizes)
            return _quantised_floats((x + y * (fsum / self.sizes.astype(np.float64))) * float(QUANTUM))
        scale = self.total_scale if c is None else self.value_scale
        return _rounded_means(self._span_sum(c), self.sizes, scale)

    def raw_quantised(self) -> np.ndarray:
        return _rounded_means(self._span_sum(None), self.sizes, self.total_scale)

    def spreads(self) -> list[float]:
        sizes = self.sizes
        if self.zscore:
            z = self.z_total
            mean = _fsums(z, self.starts, sizes) / sizes.astype(np.float64)
            squares = np.array([d ** 2 for d in (z - np.repeat(mean, sizes)).tolist()], dtype=np.float64)
            variance = _fsums(squares, self.starts, sizes) / sizes.astype(np.float64)
            values = (self.unit * np.sqrt(variance)).tolist()
        else:
            k = _objects(sizes)
            sums = self._span_sum(None)
            deviation = np.repeat(k, sizes) * self.totals - np.repeat(sums, sizes)
            squared = np.add.reduceat(deviation * deviation, self.starts)
            variance = (squared / (k * k * k * (self.total_scale ** 2))).astype(np.float64)
            values = np.sqrt(variance).tolist()
        return list(map(round, values, repeat(DECIMALS)))

    # leaving one sheet out --------------------------------------------------------------------

    def left_out_array(self, c: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Per sheet: the key component (negated quantised mean) of its entry without that sheet
        (int64), and where the sheet is its entry's only one (there is no such key: 0 there)."""
        sizes = self.sizes
        alone = np.repeat(sizes == 1, sizes)
        if self.zscore:
            z, x, y = self._z_measure(c)
            fsum = _fsums(z, self.starts, sizes, leave_out=True)
            rest = np.repeat(sizes - 1, sizes).astype(np.float64)
            rest[alone] = 1.0
            fsum[alone] = 0.0
            q = _quantised_floats((x + y * (fsum / rest)) * float(QUANTUM))
        else:
            scale = self.total_scale if c is None else self.value_scale
            column = self._column(c)
            values = column if column.dtype == object else _objects(column)
            rest_sizes = np.repeat(sizes - 1, sizes)
            rest_sizes[alone] = 1
            sums = np.repeat(self._span_sum(c), sizes) - values
            d = _objects(rest_sizes) * scale
            q = _int64((2 * sums * QUANTUM + d) // (2 * d))
        q = -q
        q[alone] = 0
        return q, alone

    def left_out(self, c: int | None) -> list[int | None]:
        """:meth:`left_out_array` as a list, None where the entry has no other sheet."""
        q, alone = self.left_out_array(c)
        out: list[int | None] = q.tolist()
        for i in np.flatnonzero(alone).tolist():
            out[i] = None
        return out

    def plain_borderline(self, order_index: np.ndarray, key_columns: list[np.ndarray]) -> set[int]:
        """:func:`judging.domain.borderline.borderline_entries` without recorded decisions, over
        whole columns: every key, the entries' and each sheet's left-out one, becomes its place
        among all of them (equal keys, equal places), so each reviewer's scenario compares
        integers. Leaving reviewer r out changes only r's entries' keys; the scenario's threshold
        is the cut-th smallest of the unchanged head merged with those, and an entry switches
        side when its own key moved across it, or when it lies between the old and the new
        threshold."""
        cut = self.rules.cut
        spans = len(self.starts)
        measures = [None, *self.tie_break_index]
        left = [self.left_out_array(c) for c in measures]
        alone = left[0][1]
        every = np.concatenate([np.column_stack(key_columns), np.column_stack([q for q, _ in left])])
        by_key = np.lexsort(every.T[::-1])
        ordered = every[by_key]
        new_key = np.concatenate(([True], (ordered[1:] != ordered[:-1]).any(axis=1)))
        place = np.empty(len(every), dtype=np.int64)
        place[by_key] = np.cumsum(new_key)
        span_place, sheet_place = place[:spans], place[spans:]

        keys = span_place[order_index]  # ascending
        position = np.empty(spans, dtype=np.int64)
        position[order_index] = np.arange(spans)
        inside_count = spans if spans < cut else int(np.searchsorted(keys, keys[cut - 1], side="right"))
        inside = position < inside_count
        result: set[int] = set()
        entries = self.entry_of_span
        reviewer = self.reviewer
        by_reviewer = np.argsort(reviewer, kind="stable")
        bounds = np.flatnonzero(np.concatenate(([True], np.diff(reviewer[by_reviewer]) != 0, [True])))
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            sheets = by_reviewer[a:b]
            own = self.span_of_review[sheets]
            kept = np.ones(spans, dtype=bool)
            kept[position[own]] = False
            head = keys[kept][:cut]
            moved = ~alone[sheets]
            merged = np.concatenate((head, sheet_place[sheets][moved]))
            if len(merged) < cut:
                now_inside = moved
                new_inside_count = spans
            else:
                threshold = np.partition(merged, cut - 1)[cut - 1]
                now_inside = moved & (sheet_place[sheets] <= threshold)
                new_inside_count = int(np.searchsorted(keys, threshold, side="right"))
            result.update(entries[own[now_inside != inside[own]]].tolist())
            low, high = sorted((inside_count, new_inside_count))
            between = order_index[low:high][kept[low:high]]
            result.update(entries[between].tolist())
        return result

    # the ranking ------------------------------------------------------------------------------

    def ranking(self, positions: Mapping[int, int], with_borderline: bool) -> list[RankedEntry]:
        criterion_q = [self.quantised(c) for c in range(len(self.codes))]
        score_q = self.quantised(None)
        key_columns = [-score_q, *(-criterion_q[c] for c in self.tie_break_index)]
        entries = self.entry_of_span
        spans = len(entries)

        # Base keys: equal keys form a group; a fully decided group of two or more adds positions.
        base_order = np.lexsort([entries, *reversed(key_columns)])
        keys_sorted = np.column_stack([k[base_order] for k in key_columns])
        new_group = np.concatenate(([True], (keys_sorted[1:] != keys_sorted[:-1]).any(axis=1)))
        group_of_sorted = np.cumsum(new_group) - 1
        group_starts = np.flatnonzero(new_group)
        group_sizes = np.diff(np.append(group_starts, spans))
        position = np.zeros(spans, dtype=np.int64)
        if positions:
            decided = np.array([positions.get(e, 0) for e in entries[base_order].tolist()], dtype=np.int64)
            has = np.array([e in positions for e in entries[base_order].tolist()], dtype=bool)
            whole = np.logical_and.reduceat(has, group_starts) & (group_sizes > 1)
            position_sorted = np.where(whole[group_of_sorted], decided, 0)
            position[base_order] = position_sorted
        final_columns = [*key_columns, position]
        order_index = np.lexsort([entries, *reversed(final_columns)])
        final_sorted = np.column_stack([k[order_index] for k in final_columns])
        new_rank = np.concatenate(([True], (final_sorted[1:] != final_sorted[:-1]).any(axis=1)))
        places = np.arange(1, spans + 1)
        rank_sorted = np.maximum.accumulate(np.where(new_rank, places, 0))
        run_starts = np.flatnonzero(new_rank)
        run_sizes = np.diff(np.append(run_starts, spans))
        tied_sorted = np.repeat(run_sizes > 1, run_sizes)

        order = entries[order_index].tolist()
        borderline: set[int] = set()
        if with_borderline and self.rules.cut > 0:
            if positions:
                borderline = self._borderline(order, final_columns, key_columns, positions)
            else:
                borderline = self.plain_borderline(order_index, key_columns)

        raw_q = self.raw_quantised()
        spreads = self.spreads()
        scores = _published(score_q[order_index])
        raws = _published(raw_q[order_index])
        means = list(zip(*(_published(q[order_index]) for q in criterion_q), strict=True))
        codes = self.codes
        # RankedEntry(entry_id, rank, score, raw_score, reviewers, spread, borderline, criterion_means, tied)
        return [RankedEntry(e, rank, score, raw, k, spreads[s], e in borderline, dict(zip(codes, mean, strict=True)),
                            tied)
                for e, rank, score, raw, k, s, mean, tied in zip(
                    order, rank_sorted.tolist(), scores, raws, self.sizes[order_index].tolist(),
                    order_index.tolist(), means, tied_sorted.tolist(), strict=True)]

    def _borderline(self, order: list[int], final_columns: list[np.ndarray], key_columns: list[np.ndarray],
                    positions: Mapping[int, int]) -> set[int]:
        entries = self.entry_of_span.tolist()
        final = dict(zip(entries, zip(*(k.tolist() for k in final_columns), strict=True), strict=True))
        base: dict[int, Key] = {}
        groups: dict[Key, list[int]] = defaultdict(list)
        if positions:  # only a scenario with recorded decisions reads the groups
            base = dict(zip(entries, zip(*(k.tolist() for k in key_columns), strict=True), strict=True))
            for e, key in base.items():
                groups[key].append(e)
        model = _LeaveOneOut(self)
        return borderline_entries(model, order, final, groups, base, positions, self.rules.cut)  # type: ignore[arg-type]


class _LeaveOneOut:
    """What :func:`judging.domain.borderline.borderline_entries` reads from a score model, with
    every sheet's left-out key components worked out over whole columns (on first use)."""

    def __init__(self, core: _Core) -> None:
        self._core = core
        starts = core.starts.tolist()
        ends = (core.starts + core.sizes).tolist()
        self.spans = list(zip(starts, ends, strict=True))
        self.span_of_review = core.span_of_review.tolist()
        self.entry_of_span = core.entry_of_span.tolist()
        by_reviewer: dict[int, list[int]] = defaultdict(list)
        for i, r in enumerate(core.reviewer.tolist()):
            by_reviewer[r].append(i)
        self.by_reviewer = dict(sorted(by_reviewer.items()))
        self._measures: list[int | None] = [None, *core.tie_break_index]
        self._left_out: dict[int, list[int | None]] = {}

    def key_measures(self) -> list[int]:
        return list(range(len(self._measures)))

    def component_without(self, measure: int, a: int, b: int, skip: int) -> int:
        found = self._left_out.get(measure)
        if found is None:
            found = self._left_out[measure] = self._core.left_out(self._measures[measure])
        value = found[skip]
        assert value is not None  # an entry with one sheet has no key without it
        return value

    def key_without(self, measures: list[int], a: int, b: int, skip: int) -> Key:
        return tuple(self.component_without(m, a, b, skip) for m in measures)


def ranking_of(reviews: Sequence[Review], rules: Rules, decisions: Decision | Mapping[int, int] | None = None, *,
               with_borderline: bool = True) -> list[RankedEntry]:
    """:func:`compute_ranking` of ``reviews`` through the arrays (the reference where a sheet
    cannot go into them)."""
    arrays = sheet_arrays(reviews, [c.code for c in rules.criteria])
    if arrays is None:
        return compute_ranking(reviews, rules, decisions, with_borderline=with_borderline)
    return compute_ranking_arrays(*arrays, rules, decisions, with_borderline=with_borderline)

