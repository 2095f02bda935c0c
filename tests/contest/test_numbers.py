"""Whole numbers as clients send them (versions, entry ids, Content-Length), within a PostgreSQL
``integer`` column."""

from __future__ import annotations

import pytest

from contest.numbers import whole_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("sent", "read"), [(3, 3), ("3", 3), (" 42 ", 42), (0, 0), (-2, -2),
                                            ("2147483647", 2**31 - 1)])
def test_whole_number_reads_numbers_and_ascii_digits(sent: object, read: int) -> None:
    assert whole_number(sent) == read


@pytest.mark.parametrize("sent", [3.7, 3.0, True, False, None, "", "-1", "3.7", "²", "①", "٣", "1e3", [1], {"v": 1},
                                  2**31, "2147483648", 2**63, "9" * 20])
def test_whole_number_refuses_what_is_not_a_database_integer(sent: object) -> None:
    assert whole_number(sent) is None
