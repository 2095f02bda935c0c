"""Dates as Thai officials type them: day, month, Buddhist-Era year (or C.E., with a hint)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from contest import clock
from contest.dates import (
    DateEntry,
    ce_note,
    entry_from_form,
    entry_from_value,
    field_date,
    iso,
    month_names,
    not_after,
    parse_clock_time,
    read_date,
    year_ce,
)
from contest.i18n import current_language

pytestmark = pytest.mark.unit

LABEL = "เริ่มให้บริการเมื่อ"


@pytest.fixture(autouse=True)
def _thai():
    token = current_language.set("th")
    yield
    current_language.reset(token)


def test_a_buddhist_era_year_is_read_as_such() -> None:
    reading = read_date(DateEntry("5", "6", "2566"), LABEL)
    assert reading.ok and reading.value == date(2023, 6, 5) and not reading.read_as_ce


def test_a_christian_era_year_is_accepted_and_marked() -> None:
    reading = read_date(DateEntry("5", "6", "2023"), LABEL)
    assert reading.value == date(2023, 6, 5) and reading.read_as_ce
    note = ce_note(DateEntry("5", "6", "2023"), LABEL)
    assert "2023" in note and "2566" in note and "ค.ศ." in note and LABEL in note
    assert ce_note(DateEntry("5", "6", "2566"), LABEL) == ""


def test_thai_digits_and_spaces_are_read() -> None:
    assert read_date(DateEntry(" ๕ ", "๖", "๒๕๖๖"), LABEL).value == date(2023, 6, 5)
    assert parse_clock_time("๑๖.๓๐ น.") == time(16, 30)


def test_month_names_are_read_as_well_as_numbers() -> None:
    assert read_date(DateEntry("1", "มกราคม", "2567"), LABEL).value == date(2024, 1, 1)
    assert read_date(DateEntry("1", "ก.พ.", "2567"), LABEL).value == date(2024, 2, 1)
    assert read_date(DateEntry("1", "March", "2024"), LABEL).value == date(2024, 3, 1)
    assert month_names("th")[0] == "มกราคม" and month_names("en")[11] == "December"


def test_a_day_the_month_does_not_have_is_refused_naming_the_month_in_be() -> None:
    reading = read_date(DateEntry("31", "2", "2567"), LABEL)
    assert reading.value is None and reading.bad_parts == {"day"}
    assert LABEL in reading.error and "กุมภาพันธ์ 2567" in reading.error and "29" in reading.error
    assert "/" in reading.error  # Thai first, then English
    assert read_date(DateEntry("29", "2", "2567"), LABEL).value == date(2024, 2, 29)
    assert not read_date(DateEntry("29", "2", "2566"), LABEL).ok
    assert not read_date(DateEntry("31", "4", "2566"), LABEL).ok


def test_empty_fields_and_empty_parts() -> None:
    assert read_date(DateEntry(), LABEL).empty and read_date(DateEntry(), LABEL).ok
    required = read_date(DateEntry(), LABEL, required=True)
    assert not required.ok and LABEL in required.error
    partial = read_date(DateEntry("5", "", "2566"), LABEL)
    assert partial.bad_parts == {"month"} and "กรุณากรอกเดือน" in partial.error and "fill in the month" in partial.error
    two = read_date(DateEntry("", "", "2566"), LABEL)
    assert two.bad_parts == {"day", "month"}
    no_time = read_date(DateEntry("5", "6", "2566", ""), LABEL, with_time=True)
    assert no_time.bad_parts == {"time"}


@pytest.mark.parametrize("day,month,year,part", [
    ("0", "1", "2566", "day"), ("32", "1", "2566", "day"), ("x", "1", "2566", "day"),
    ("1", "13", "2566", "month"), ("1", "abc", "2566", "month"),
    ("1", "1", "66", "year"), ("1", "1", "25666", "year"), ("1", "1", "พ.ศ.", "year"),
])
def test_malformed_parts_name_the_part(day: str, month: str, year: str, part: str) -> None:
    reading = read_date(DateEntry(day, month, year), LABEL)
    assert not reading.ok and reading.bad_parts == {part} and LABEL in reading.error


@pytest.mark.parametrize("year", ["1899", "2200", "2300", "2442", "2743", "9999", "0001"])
def test_out_of_range_years_are_refused_with_the_range_in_be(year: str) -> None:
    reading = read_date(DateEntry("1", "1", year), LABEL)
    assert not reading.ok and reading.bad_parts == {"year"}
    assert "2443" in reading.error and "2742" in reading.error


def test_year_ranges_can_be_narrowed() -> None:
    assert year_ce(2533, earliest=1990) == (1990, False)
    assert year_ce(2532, earliest=1990) is None
    assert year_ce(1990, earliest=1990) == (1990, True)
    reading = read_date(DateEntry("1", "1", "2530"), LABEL, earliest=1990)
    assert "2533" in reading.error


def test_date_and_time_is_bangkok() -> None:
    reading = read_date(DateEntry("31", "3", "2570", "16:30"), LABEL, with_time=True)
    assert reading.value == datetime(2027, 3, 31, 16, 30, tzinfo=clock.BANGKOK)
    assert iso(reading) == "2027-03-31T16:30:00+07:00"
    for bad in ("24:00", "16:60", "1630x", "noon"):
        wrong = read_date(DateEntry("31", "3", "2570", bad), LABEL, with_time=True)
        assert wrong.bad_parts == {"time"} and "16:30" in wrong.error
    assert parse_clock_time("9:05") == time(9, 5)


def test_not_after_shows_both_dates_in_be() -> None:
    message = not_after(date(2026, 12, 25), date(2026, 12, 4), LABEL)
    assert message and "25 ธันวาคม 2569" in message and "4 ธันวาคม 2569" in message and LABEL in message
    assert not_after(date(2026, 12, 4), date(2026, 12, 4), LABEL) is None


def test_stored_values_show_as_be_parts_in_bangkok() -> None:
    assert entry_from_value(date(2023, 6, 5)) == DateEntry("5", "6", "2566")
    assert entry_from_value(datetime.fromisoformat("2026-12-31T17:30:00+00:00"), with_time=True) == \
        DateEntry("1", "1", "2570", "00:30")
    assert entry_from_value("2024-06-01") == DateEntry("1", "6", "2567")
    assert entry_from_value(None) == DateEntry()


def test_posted_parts_and_single_iso_values_are_both_read() -> None:
    entry, reading = field_date({"s-day": "5", "s-month": "6", "s-year": "2023"}, "s", LABEL)
    assert entry == DateEntry("5", "6", "2023") and reading.value == date(2023, 6, 5) and reading.read_as_ce
    entry, reading = field_date({"s": "2024-06-01"}, "s", LABEL)
    assert reading.value == date(2024, 6, 1) and not reading.read_as_ce
    entry, reading = field_date({"s": "2027-01-05T09:00"}, "s", LABEL, with_time=True)
    assert reading.value == datetime(2027, 1, 5, 9, 0, tzinfo=clock.BANGKOK)
    entry, reading = field_date({"s": "not a date"}, "s", LABEL)
    assert entry.raw == "not a date" and not reading.ok
    assert entry_from_form({}, "s").is_empty()
    assert iso(read_date(DateEntry(), LABEL)) == ""


def test_english_pages_name_months_in_english() -> None:
    token = current_language.set("en")
    try:
        reading = read_date(DateEntry("31", "2", "2567"), "Service started")
        assert "กุมภาพันธ์ 2567" in reading.error and "February 2567" in reading.error
        assert month_names()[0] == "January"
    finally:
        current_language.reset(token)
