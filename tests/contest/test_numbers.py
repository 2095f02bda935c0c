"""Whole numbers as clients send them (versions, entry ids, Content-Length), within a PostgreSQL
``integer`` column."""

from __future__ import annotations

import pytest

from contest.errors import ValidationFailed
from contest.i18n import t
from contest.numbers import bounded, typed_decimal, whole_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("sent", "read"), [(3, 3), ("3", 3), (" 42 ", 42), (0, 0), (-2, -2),
                                            ("2147483647", 2**31 - 1)])
def test_whole_number_reads_numbers_and_ascii_digits(sent: object, read: int) -> None:
    assert whole_number(sent) == read


@pytest.mark.parametrize("sent", [3.7, 3.0, True, False, None, "", "-1", "3.7", "²", "①", "٣", "1e3", [1], {"v": 1},
                                  2**31, "2147483648", 2**63, "9" * 20])
def test_whole_number_refuses_what_is_not_a_database_integer(sent: object) -> None:
    assert whole_number(sent) is None


@pytest.mark.parametrize(("typed", "read"), [("12,000", 12000), ("๑๒,๐๐๐", 12000), ("๒๕๖๙", 2569),
                                             (" 1,000,000 ", 10**6), ("๑2,๐00", 12000), ("999", 999)])
def test_whole_number_reads_numbers_as_officials_type_them(typed: str, read: int) -> None:
    assert whole_number(typed) == read


@pytest.mark.parametrize("typed", ["1,2,3", "12,00", ",123", "123,", "1,000.5", "12 000", "1_000", "١٢", "๑๒.๕",
                                   "-๑", "1,0000"])
def test_whole_number_refuses_commas_that_do_not_group_thousands_and_other_scripts(typed: str) -> None:
    assert whole_number(typed) is None


@pytest.mark.parametrize(("typed", "read"), [("1,024.5", 1024.5), ("๑๐๐", 100.0), ("0.5", 0.5), ("๑๒.๕", 12.5)])
def test_typed_decimal_reads_separators_and_thai_digits(typed: str, read: float) -> None:
    assert typed_decimal(typed) == read


@pytest.mark.parametrize("typed", ["", "1.", ".5", "1,2.5", "1e3", "nan", "inf", "-1", "๑,๒"])
def test_typed_decimal_refuses_the_rest(typed: str) -> None:
    assert typed_decimal(typed) is None


def test_a_refused_number_is_explained_in_thai_and_english() -> None:
    with pytest.raises(ValidationFailed) as refused:
        bounded("1,2,3", "per_page", minimum=1, maximum=100)
    message = refused.value.errors["per_page"]
    assert message == t("Enter a whole number from {minimum} to {maximum}.", "th", minimum=1, maximum=100)
    assert "จำนวนเต็ม" in message
    assert t("Enter a whole number from {minimum} to {maximum}.", "en", minimum=1, maximum=100) == (
        "Enter a whole number from 1 to 100.")
    assert bounded("๑๒", "per_page", minimum=1, maximum=100) == 12
