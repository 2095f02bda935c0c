"""Krippendorff's alpha with the interval metric — a pure function, no I/O.

Reliability data are *units* (here: entries), each holding the values the coders (here:
reviewers) gave it; a coder who did not code a unit simply has no value in it. Following
Krippendorff ("Computing Krippendorff's Alpha-Reliability", 2011):

* only *pairable* values count: a unit with fewer than two values is left out;
* ``n`` is the number of pairable values, ``m_u`` the number of values in unit ``u``;
* observed disagreement ``D_o = 1/n * sum_u 1/(m_u - 1) * sum_{i != j in u} (v_i - v_j)**2``;
* expected disagreement ``D_e = 1/(n (n - 1)) * sum_{i != j over all pairable values} (v_i - v_j)**2``;
* ``alpha = 1 - D_o / D_e``.

With the squared difference of the interval metric, the pair sums are sums of squared deviations
from a mean (``sum_{i != j} (v_i - v_j)**2 = 2 m * sum (v - mean)**2``), so the computation is
linear in the number of values:
``alpha = 1 - (n - 1) * sum_u [m_u / (m_u - 1) * SS_u] / (n * SS)``, ``SS_u`` the squared deviations
inside unit ``u`` and ``SS`` those of all pairable values around their grand mean.

Alpha is undefined (``None``) when no unit has two values, or when the pairable values do not vary
at all (``D_e == 0``): there is nothing to agree or disagree about. Every sum is ``math.fsum``
(correctly rounded), so the result does not depend on the order of units or values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from operator import mul

import numpy as np

__all__ = ["grouped_interval_alphas", "interval_alpha", "interval_alphas", "units_from_matrix"]


def _squared_deviations(values: Sequence[float]) -> float:
    mean = math.fsum(values) / len(values)
    return math.fsum((v - mean) ** 2 for v in values)


def interval_alpha(units: Iterable[Sequence[float]]) -> float | None:
    """Krippendorff's alpha (interval metric) of ``units``, each the values given to one unit.

    Units with fewer than two values are ignored; ``None`` when alpha is undefined (no pairable
    values, or no variation among them). Raises ``ValueError`` for a value that is not a finite
    number.
    """
    pairable: list[Sequence[float]] = []
    for unit in units:
        values = [float(v) for v in unit]
        if any(not math.isfinite(v) for v in values):
            raise ValueError("reliability values must be finite numbers")
        if len(values) >= 2:
            pairable.append(values)
    if not pairable:
        return None
    every = [v for unit in pairable for v in unit]
    n = len(every)
    total = _squared_deviations(every)
    if total == 0:
        return None
    within = math.fsum(len(unit) / (len(unit) - 1) * _squared_deviations(unit) for unit in pairable)
    return 1.0 - (n - 1) * within / (n * total)


def units_from_matrix(matrix: Sequence[Sequence[float | None]]) -> list[list[float]]:
    """Units (columns) of a coders-by-units reliability matrix; ``None`` or NaN marks a missing value."""
    if not matrix:
        return []
    width = len(matrix[0])
    if any(len(row) != width for row in matrix):
        raise ValueError("every coder's row needs one cell per unit")
    return [[float(v) for row in matrix if (v := row[u]) is not None and not math.isnan(v)]
            for u in range(width)]


def interval_alphas(units: Iterable[Sequence[Sequence[float]]], width: int) -> list[float | None]:
    """:func:`interval_alpha` of each of ``width`` columns at once, in one pass: each unit is a
    sequence of rows (one per coder), each row ``width`` finite numbers. For a whole round's sheets
    (a few thousand units, a total and six criteria) this is several times faster than one call per
    column. Plain sums in the given order (the caller fixes the order): the same as
    :func:`interval_alpha` up to rounding in the last digits."""
    within = [0.0] * width
    sums = [0.0] * width
    squares = [0.0] * width
    n = 0
    for rows in units:
        m = len(rows)
        if m < 2:
            continue
        n += m
        factor = m / (m - 1)
        for k, column in enumerate(zip(*rows, strict=True)):
            s = sum(column)
            q = sum(map(mul, column, column))
            within[k] += factor * (q - s * s / m)
            sums[k] += s
            squares[k] += q
    out: list[float | None] = []
    for k in range(width):
        if n == 0:
            out.append(None)
            continue
        total = squares[k] - sums[k] * sums[k] / n
        if total <= 1e-12 * max(1.0, squares[k]):
            out.append(None)
            continue
        out.append(1.0 - (n - 1) * within[k] / (n * total))
    return out


def grouped_interval_alphas(values: np.ndarray, sizes: np.ndarray) -> list[float | None]:
    """:func:`interval_alpha` of each column of ``values`` (one row per coder's values, the rows
    of a unit next to each other, ``sizes`` the number of rows of each unit in order), computed
    with numpy: a whole round's sheets (thousands of units, a total and six criteria) in a few
    milliseconds. Units of fewer than two rows are left out. The squared deviations are taken
    from each unit's mean and from the grand mean (not from sums of squares), so the result agrees
    with :func:`interval_alpha` up to rounding in the last digits."""
    sizes = np.asarray(sizes, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64).reshape(int(sizes.sum()), -1)
    width = values.shape[1]
    pairable = sizes >= 2
    if not pairable.any():
        return [None] * width
    rows = values[np.repeat(pairable, sizes)]
    m = sizes[pairable]
    starts = np.concatenate(([0], np.cumsum(m)[:-1]))
    means = np.add.reduceat(rows, starts, axis=0) / m[:, None]
    deviations = rows - np.repeat(means, m, axis=0)
    within = ((m / (m - 1))[:, None] * np.add.reduceat(deviations * deviations, starts, axis=0)).sum(axis=0)
    n = rows.shape[0]
    spread = rows - rows.mean(axis=0)
    total = (spread * spread).sum(axis=0)
    squares = (rows * rows).sum(axis=0)
    out: list[float | None] = []
    for k in range(width):
        if total[k] <= 1e-12 * max(1.0, float(squares[k])):
            out.append(None)  # no variation at all: undefined
        else:
            out.append(float(1.0 - (n - 1) * within[k] / (n * total[k])))
    return out
