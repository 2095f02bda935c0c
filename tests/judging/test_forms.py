"""Reading the organisers' judging forms (judging.forms, pure): committee lines, conflict lines,
the rules with their criterion rows, tie-break chains and tie orders, overrides, ticked entries
and presentation slots; bad input answered in Thai, or English on request, per field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from contest import clock
from contest.dates import DateEntry
from contest.errors import ValidationFailed
from contest.i18n import current_language
from judging import forms

pytestmark = pytest.mark.unit


@contextmanager
def language(code: str) -> Iterator[None]:
    token = current_language.set(code)
    try:
        yield
    finally:
        current_language.reset(token)


def refused(call: Callable[..., object], *args: str) -> dict[str, str]:
    """The field errors ``call(*args)`` answers with (it must refuse)."""
    with pytest.raises(ValidationFailed) as caught:
        call(*args)
    return caught.value.errors


# --- fields -------------------------------------------------------------------------------------

def test_field_text_is_the_last_value_stripped():
    assert forms.field_text({"a": ["one", "  two "]}, "a") == "two"
    assert forms.field_text({"a": 7}, "a") == "7"
    assert forms.field_text({}, "a") == ""
    assert forms.field_values({"a": None}, "a") == []


def test_int_or_raw_keeps_what_is_not_a_whole_number():
    assert forms.int_or_raw(" 12 ") == 12
    assert forms.int_or_raw("  ") is None
    assert forms.int_or_raw("1.5") == "1.5"
    assert forms.int_or_raw("three") == "three"
    assert forms.int_or_raw("๑๕") == 15 and forms.int_or_raw("1,000") == 1000 and forms.int_or_raw("1,0") == "1,0"


def test_page_number_is_at_least_one():
    assert forms.page_number("4") == 4
    assert forms.page_number("0") == 1
    assert forms.page_number("-3") == 1
    assert forms.page_number("two") == 1
    assert forms.page_number(None) == 1


def test_field_key_turns_domain_keys_into_form_names():
    assert forms.field_key("criteria[0].code") == "criteria-0-code"
    assert forms.field_key("tie_break") == "tie_break"


# --- committee ----------------------------------------------------------------------------------

def test_members_with_and_without_a_province():
    found = forms.parse_members("A@Example.go.th, 50\n\n  b@example.go.th  \nc@example.go.th;\t10\n")
    assert found.emails == ["a@example.go.th", "b@example.go.th", "c@example.go.th"]
    assert found.provinces == {"a@example.go.th": "50", "c@example.go.th": "10"}


def test_members_bad_lines_are_named_by_number_in_thai():
    errors = refused(forms.parse_members, "a@example.go.th\nnot an address\nb@example.go.th, Chiang Mai")
    assert errors == {"members": 'บรรทัด 2: "not an address" ไม่ใช่อีเมล บรรทัด 3: จังหวัดต้องเป็นรหัสสองหลัก (เช่น 50)'}


def test_members_bad_lines_in_english_on_request():
    with language("en"):
        errors = refused(forms.parse_members, "nobody\nb@example.go.th, 5")
    assert errors == {"members": 'Line 1: "nobody" is not an e-mail address. '
                                 "Line 2: the province is its two-digit code (e.g. 50)."}


def test_members_empty_text_is_no_one():
    found = forms.parse_members("  \n\n")
    assert (found.emails, found.provinces) == ([], {})


def test_conflicts_keep_commas_in_the_reason_and_their_line():
    found = forms.parse_conflicts("\nA@x.go.th, 5012345, advised them, twice\nb@x.go.th;1000001\n")
    assert found.conflicts == [
        {"email": "a@x.go.th", "organisation_code": "5012345", "reason": "advised them, twice"},
        {"email": "b@x.go.th", "organisation_code": "1000001", "reason": ""},
    ]
    assert found.line_of == [2, 3]


def test_conflicts_need_an_email_and_an_organisation():
    errors = refused(forms.parse_conflicts, "a@x.go.th\n, 5012345, reason")
    assert errors == {"conflicts": "บรรทัด 1: โปรดเขียนอีเมล รหัสหน่วยงาน และเหตุผล คั่นด้วยจุลภาค "
                                   "บรรทัด 2: โปรดเขียนอีเมล รหัสหน่วยงาน และเหตุผล คั่นด้วยจุลภาค"}


def test_committee_names_the_problems_of_both_fields_at_once():
    errors = refused(forms.parse_committee, "nobody", "a@x.go.th")
    assert set(errors) == {"members", "conflicts"}


def test_committee_needs_someone_or_a_conflict():
    with language("en"):
        assert refused(forms.parse_committee, "", "  ") == {
            "members": "Write at least one e-mail address, or a conflict line."}
    assert refused(forms.parse_committee, "", "") == {
        "members": "โปรดใส่อีเมลอย่างน้อยหนึ่งรายการ หรือรายการส่วนได้เสียอย่างน้อยหนึ่งบรรทัด"}


def test_committee_with_conflicts_only():
    members, conflicts = forms.parse_committee("", "a@x.go.th, 5012345, board member")
    assert members.emails == []
    assert conflicts.line_of == [1]


def test_committee_errors_point_at_the_typed_line():
    with language("en"):
        errors = forms.committee_errors({"conflicts[1].reason": "Give a reason.", "conflicts": "Too many.",
                                         "emails": "Unknown: z@x.go.th."}, line_of=[2, 5])
    assert errors == {"conflicts": "Line 5: Give a reason. Too many.", "members": "Unknown: z@x.go.th."}


def test_committee_errors_past_the_lines_sent_count_from_one():
    with language("en"):
        assert forms.committee_errors({"conflicts[3]": "Bad."}, line_of=[]) == {"conflicts": "Line 4: Bad."}


# --- rules --------------------------------------------------------------------------------------

def rules_data(**extra: str) -> dict[str, str]:
    return {"kind": "screening", "reviewers_per_entry": "4", "normalisation": "zscore",
            "tie_break": "impact; fit  use", "exclude_same_province": "on", "seed": "42",
            "criteria-0-code": "fit", "criteria-0-name_th": "ความเหมาะสม", "criteria-0-weight": "20",
            "criteria-0-min": "0", "criteria-0-max": "10",
            "criteria-1-code": "", "criteria-1-name_th": "",  # a spare row left empty
            "criteria-2-code": "impact", "criteria-2-name_th": "ผลลัพธ์", "criteria-2-weight": "1.5", **extra}


def test_rules_send_only_rows_that_say_something():
    form, payload, row_of = forms.parse_rules(rules_data())
    assert [c["code"] for c in payload["criteria"]] == ["fit", "impact"]
    assert payload["criteria"][1]["weight"] == "1.5"  # weights are the domain's to judge
    assert row_of == [0, 2]
    assert len(form["criteria"]) == 3
    assert payload["reviewers_per_entry"] == 4
    assert payload["normalisation"] == "zscore"
    assert payload["tie_break"] == ["impact", "fit", "use"]
    assert payload["exclude_same_province"] is True
    assert payload["seed"] == 42


def test_rules_defaults_when_fields_are_empty():
    form, payload, row_of = forms.parse_rules({"kind": "final"})
    assert payload == {"criteria": [], "reviewers_per_entry": 3, "normalisation": "none", "tie_break": [],
                       "exclude_same_province": False}
    assert form["normalisation"] == "none"
    assert row_of == []


def test_rules_pass_unreadable_numbers_on_as_typed():
    _, payload, _ = forms.parse_rules(rules_data(reviewers_per_entry="three", seed="x1"))
    assert payload["reviewers_per_entry"] == "three"
    assert payload["seed"] == "x1"


def test_rules_read_at_most_fifty_rows():
    data = {f"criteria-{i}-code": f"c{i}" for i in range(60)}
    _, payload, _ = forms.parse_rules(data)
    assert len(payload["criteria"]) == forms.MAX_CRITERION_ROWS


def test_rules_errors_point_at_the_form_rows():
    errors = forms.rules_errors({"criteria[1].weight": "w", "criteria[0]": "c", "criteria[7].code": "far",
                                 "tie_break": "t", "criteria": "all"}, row_of=[0, 2])
    assert errors == {"criteria-2-weight": "w", "criteria-0-code": "c", "criteria-7-code": "far",
                      "tie_break": "t", "criteria": "all"}


def test_tie_break_chain_ignores_extra_separators():
    assert forms.parse_tie_break(" , impact,,fit ;") == ["impact", "fit"]
    assert forms.parse_tie_break("") == []


# --- ranking ties and the decision --------------------------------------------------------------

def test_tie_order_reads_numbers_with_or_without_a_hash():
    assert forms.parse_tie_order("#12, 7 ;31") == [12, 7, 31]
    assert forms.parse_tie_order("  ") == []


def test_tie_order_refuses_what_is_not_an_entry_number():
    assert refused(forms.parse_tie_order, "12, seven") == {
        "order": "โปรดใส่เฉพาะเลขที่ผลงาน เรียงจากอันดับดีที่สุด คั่นด้วยจุลภาค"}
    with language("en"):
        assert refused(forms.parse_tie_order, "#") == {
            "order": "List entry numbers only, best first, separated by commas."}


def test_overrides_skip_empty_rows_and_remember_theirs():
    data = {"override-0-entry_id": "#5", "override-0-outcome": "shortlisted", "override-0-reason": "why",
            "override-1-entry_id": "", "override-2-reason": "only a reason"}
    rows = forms.override_rows(data)
    assert rows[1] == {"entry_id": "", "outcome": "", "reason": ""}
    overrides, row_of = forms.overrides_to_send(rows)
    assert overrides == [{"entry_id": "5", "outcome": "shortlisted", "reason": "why"},
                         {"entry_id": "", "outcome": "", "reason": "only a reason"}]
    assert row_of == [0, 2]


def test_override_rows_are_bounded():
    data = {f"override-{i}-entry_id": str(i) for i in range(250)}
    assert len(forms.override_rows(data)) == forms.MAX_OVERRIDE_ROWS


def test_override_errors_by_form_row():
    by_row, other = forms.override_errors({"overrides[1].reason": "r", "overrides[1].outcome": "o",
                                           "overrides[9]": "far", "overrides": "all"}, row_of=[0, 2])
    assert by_row == {2: "r o"}
    assert other == ["far", "all"]


# --- eligibility --------------------------------------------------------------------------------

def test_entry_ids_skip_what_is_not_a_number():
    assert forms.parse_entry_ids(["3", "x", "", "12"]) == [3, 12]


# --- presentation slots -------------------------------------------------------------------------

def slot(date: str, time: str, minutes: str = "") -> dict[str, Any]:
    return forms.slot_form({"date": date, "time": time, "minutes": minutes, "link": "", "note": ""})


def test_slot_start_in_bangkok_time():
    starts, errors = forms.parse_slot_start(slot("2026-12-01", "9.30"))
    assert errors == {}
    assert starts == datetime(2026, 12, 1, 9, 30, tzinfo=clock.BANGKOK)


def test_slot_start_reads_a_buddhist_era_year_and_the_typed_parts():
    starts, _ = forms.parse_slot_start(slot("2569-12-01", "10:00"))
    assert starts == datetime(2026, 12, 1, 10, 0, tzinfo=clock.BANGKOK)
    parts = forms.slot_form({"date-day": "๑", "date-month": "12", "date-year": "2569", "date-time": "10.00 น."})
    assert forms.parse_slot_start(parts)[0] == datetime(2026, 12, 1, 10, 0, tzinfo=clock.BANGKOK)


@pytest.mark.parametrize(("day", "at"), [
    ("2026-02-30", "10:00"), ("1/12/2026", "10:00"), ("2026-12-01", "24:00"), ("2026-12-01", "10:60"), ("", ""),
])
def test_slot_start_refuses_impossible_dates_and_times(day: str, at: str):
    starts, errors = forms.parse_slot_start(slot(day, at))
    assert starts is None
    assert set(errors) == {"date"}


def test_slot_errors_in_both_languages():
    _, errors = forms.parse_slot_start(slot("2026-12-01", "noon"))
    assert errors["date"].startswith("วันและเวลา (เวลากรุงเทพฯ): กรุณากรอกเวลา")
    assert "Date and time (Bangkok): enter the time" in errors["date"]


def test_slot_minutes_default_and_as_typed():
    assert forms.slot_minutes(slot("", "")) == forms.DEFAULT_SLOT_MINUTES
    assert forms.slot_minutes(slot("", "", "30")) == 30
    assert forms.slot_minutes(slot("", "", "half an hour")) == "half an hour"


def test_slot_values_round_trip_through_the_form():
    stored = {"starts_at": datetime(2026, 12, 1, 3, 0, tzinfo=UTC), "minutes": 20, "link": "https://x",
              "note": "n"}
    shown = forms.slot_values(stored)
    assert shown == {"date": DateEntry("1", "12", "2569", "10:00"), "minutes": "20", "link": "https://x", "note": "n"}
    assert forms.parse_slot_start(shown)[0] == stored["starts_at"]
    assert forms.slot_values(None)["minutes"] == "15"


def test_slot_form_reads_only_its_fields():
    assert forms.slot_form({"date": " 2026-12-01 ", "other": "x"}) == {
        "date": DateEntry("01", "12", "2026", ""), "minutes": "", "link": "", "note": ""}
