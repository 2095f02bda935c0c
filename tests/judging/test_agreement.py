"""Krippendorff's alpha (interval metric) of judging.domain.agreement, checked against the
reference implementation (the ``krippendorff`` package) and Krippendorff's own worked example."""

from __future__ import annotations

import math
import random

import krippendorff
import numpy as np
import pytest

from judging.domain.agreement import interval_alpha, units_from_matrix

pytestmark = pytest.mark.unit

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: 4 observers,
# 12 units, values 1-5, missing values as None. Published: interval alpha = 0.849.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def reference(matrix: list[list[float | None]]) -> float:
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))


def test_krippendorffs_published_example_gives_0_849() -> None:
    alpha = interval_alpha(units_from_matrix(KRIPPENDORFF_2011))
    assert alpha is not None
    assert round(alpha, 3) == 0.849
    assert alpha == pytest.approx(reference(KRIPPENDORFF_2011), abs=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_seeded_random_data_with_missing_values_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    coders, units = rng.randint(2, 8), rng.randint(3, 60)
    missing = rng.choice([0.0, 0.2, 0.5])
    truth = [rng.uniform(0, 10) for _ in range(units)]
    matrix: list[list[float | None]] = [
        [None if rng.random() < missing else round(truth[u] + rng.gauss(0, rng.choice([0.3, 1, 4])), 1)
         for u in range(units)]
        for _ in range(coders)
    ]
    # The reference needs at least one pairable unit and some variation.
    usable = units_from_matrix(matrix)
    if not any(len(u) >= 2 for u in usable):
        matrix[0][0], matrix[1][0] = 1.0, 2.0
    assert interval_alpha(units_from_matrix(matrix)) == pytest.approx(reference(matrix), abs=1e-9)


def test_order_of_units_and_values_does_not_change_alpha() -> None:
    units = units_from_matrix(KRIPPENDORFF_2011)
    shuffled = [list(reversed(u)) for u in reversed(units)]
    assert interval_alpha(shuffled) == interval_alpha(units)


def test_units_with_fewer_than_two_values_are_ignored() -> None:
    units = units_from_matrix(KRIPPENDORFF_2011)
    assert interval_alpha([*units, [7.0], []]) == interval_alpha(units)


def test_alpha_is_undefined_without_pairable_values_or_variation() -> None:
    assert interval_alpha([]) is None
    assert interval_alpha([[3.0], [4.0], []]) is None
    assert interval_alpha([[5.0, 5.0], [5.0, 5.0, 5.0]]) is None


def test_perfect_agreement_is_one_and_systematic_disagreement_below_zero() -> None:
    assert interval_alpha([[1, 1], [4, 4], [9, 9]]) == 1.0
    alpha = interval_alpha([[0, 10], [10, 0], [0, 10]])
    assert alpha is not None and alpha < 0


def test_values_must_be_finite() -> None:
    with pytest.raises(ValueError):
        interval_alpha([[1.0, math.inf]])
    with pytest.raises(ValueError):
        units_from_matrix([[1, 2], [3]])
