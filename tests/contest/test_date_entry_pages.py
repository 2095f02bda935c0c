"""Dates typed into the forms as day / month / Buddhist-Era year (and a Bangkok time): the entry's
"in service since", the edition's timeline, a deadline extension. The JSON API keeps ISO dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from contest import clock
from contest.tables import DeadlineExtension, Edition, Entry
from tests.conftest import run
from tests.contest.entry_form import FORM, create_entry, save_entry, sign_in_applicant
from tests.factories import browser_login, csrf, make_user

pytestmark = pytest.mark.integration

TEXT = {k: v for k, v in FORM.items() if k != "in_service_since"}


def _started(**parts: str) -> dict[str, str]:
    return {f"in_service_since-{k}": v for k, v in parts.items()}


def test_service_start_in_be_or_ce_with_thai_digits(client) -> None:  # type: ignore[no-untyped-def]
    sign_in_applicant(client)
    entry_id = create_entry(client)
    page = client.get(f"/entries/{entry_id}").text
    assert '<legend>เริ่มให้บริการเมื่อ</legend>' in page and 'name="in_service_since-month"' in page
    assert '<option value="2">กุมภาพันธ์</option>' in page and 'type="date"' not in page
    assert save_entry(client, entry_id, 1, **TEXT, **_started(day="๕", month="6", year="๒๕๖๖")).status_code == 303
    assert run(Entry.select(Entry.in_service_since).first())["in_service_since"] == date(2023, 6, 5)
    shown = client.get(f"/entries/{entry_id}").text
    assert 'name="in_service_since-year" type="text"' in shown and 'value="2566"' in shown
    assert '<option value="6" selected>มิถุนายน</option>' in shown
    # a Christian-Era year is read as such
    saved = save_entry(client, entry_id, 2, **TEXT, **_started(day="1", month="7", year="2023"))
    assert saved.status_code == 303 and saved.headers["location"] == f"/entries/{entry_id}?saved=1&ce=2023"
    told = client.get(saved.headers["location"]).text
    assert "ระบบอ่านปี 2023 เป็นปี ค.ศ. คือ พ.ศ. 2566" in told and 'value="2566"' in told
    assert run(Entry.select(Entry.in_service_since).first())["in_service_since"] == date(2023, 7, 1)
    # the API keeps ISO dates
    api = client.get(f"/api/v1/entries/{entry_id}")
    assert api.status_code == 200 and api.json()["in_service_since"] == "2023-07-01"


def test_service_start_errors_name_the_field_and_keep_what_was_typed(client) -> None:  # type: ignore[no-untyped-def]
    sign_in_applicant(client)
    entry_id = create_entry(client)
    bad = save_entry(client, entry_id, 1, **{**TEXT, "contact_email": "not-email"},
                **_started(day="31", month="2", year="2023"))
    assert bad.status_code == 422
    assert "เริ่มให้บริการเมื่อ: เดือนกุมภาพันธ์ 2566 มีเพียง 28 วัน" in bad.text
    assert "In service since: February 2566 has only 28 days." in bad.text
    assert "ระบบอ่านปี 2023 เป็นปี ค.ศ. คือ พ.ศ. 2566" in bad.text  # the hint that it was read as C.E.
    assert "เริ่มให้บริการเมื่อ: เริ่มให้บริการเมื่อ" not in bad.text  # the summary names the field once
    assert 'value="31"' in bad.text and 'value="2023"' in bad.text and '<option value="2" selected>' in bad.text
    assert 'id="e-contact_email"' in bad.text  # the other fields' errors come too
    assert 'href="#f-in_service_since"' in bad.text and 'id="f-in_service_since"' in bad.text
    assert run(Entry.select(Entry.version).first())["version"] == 1  # nothing was saved
    # in the future: the message gives the dates in B.E.
    today = clock.to_bangkok(clock.now()).date()
    soon = today + timedelta(days=30)
    future = save_entry(client, entry_id, 1, **TEXT, **_started(day=str(soon.day), month=str(soon.month),
                                                           year=str(soon.year + 543)))
    assert future.status_code == 422 and f"{soon.year + 543} ยังมาไม่ถึง" in future.text
    missing = save_entry(client, entry_id, 1, **TEXT, **_started(day="5", month="", year="2566"))
    assert missing.status_code == 422 and "เริ่มให้บริการเมื่อ: กรุณากรอกเดือน" in missing.text
    empty = save_entry(client, entry_id, 1, **TEXT, **_started(day="", month="", year=""))
    assert empty.status_code == 303  # the field is optional
    assert run(Entry.select(Entry.in_service_since).first())["in_service_since"] is None


def _admin(client) -> str:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    return csrf(client)


def _when(name: str, day: str, month: str, year: str, at: str) -> dict[str, str]:
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year, f"{name}-time": at}


EDITION = {
    "year": "2570", "title": "รางวัลท้องถิ่นดิจิทัล 2570", "entries_per_organisation": "1", "shortlist_size": "40",
    "winners": "1", "max_file_mb": "100", "max_entry_mb": "300", "state": "open",
    "categories": "service | บริการประชาชน | Citizen services",
    **_when("submission_opens_at", "5", "1", "2570", "09:00"),
    **_when("submission_closes_at", "31", "3", "2570", "16.30 น."),
    **_when("screening_closes_at", "", "", "", ""), **_when("final_closes_at", "", "", "", ""),
    **_when("announcement_at", "1", "8", "2027", "10:00"),
}


def test_edition_timeline_is_typed_in_be_and_bangkok_time(client) -> None:  # type: ignore[no-untyped-def]
    token = _admin(client)
    form = client.get("/admin/editions/new").text
    assert form.count('class="field date-field') == 5 and 'type="datetime-local"' not in form
    assert '<label for="f-submission_opens_at-time">' in form
    bad = client.post("/admin/editions/new", data={
        **EDITION, **_when("submission_closes_at", "31", "4", "2570", "25:00"), "_csrf": token})
    assert bad.status_code == 422 and run(Edition.count()) == 0
    assert "วันปิดรับผลงาน: เดือนเมษายน 2570 มีเพียง 30 วัน" in bad.text
    assert 'value="25:00"' in bad.text and 'value="31"' in bad.text
    ok = client.post("/admin/editions/new", data={**EDITION, "_csrf": token}, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    row = run(Edition.select().where(Edition.year == 2570).first())
    assert row["submission_closes_at"] == datetime(2027, 3, 31, 16, 30, tzinfo=clock.BANGKOK)
    assert row["announcement_at"] == datetime(2027, 8, 1, 10, 0, tzinfo=clock.BANGKOK)
    assert row["screening_closes_at"] is None
    shown = client.get("/admin/editions/2570/edit").text
    assert 'value="2570"' in shown and 'value="16:30"' in shown
    again = client.post("/admin/editions/2570/edit", data={**EDITION, "_csrf": token})
    assert again.status_code == 200 and "วันประกาศผล: ระบบอ่านปี 2027 เป็นปี ค.ศ. คือ พ.ศ. 2570" in again.text
    api = client.get("/api/v1/editions/2570").json()
    assert api["submission_closes_at"].startswith("2027-03-31T09:30:00")


def test_deadline_extension_is_typed_in_be(client) -> None:  # type: ignore[no-untyped-def]
    sign_in_applicant(client)
    entry_id = create_entry(client)
    client.post("/logout", data={"_csrf": csrf(client)})
    token = _admin(client)
    page = client.get(f"/admin/entries/{entry_id}").text
    assert 'name="closes_at-year"' in page and 'type="datetime-local"' not in page
    later = clock.to_bangkok(clock.now() + timedelta(days=40))
    bad = client.post(f"/admin/entries/{entry_id}/extend", data={
        "_csrf": token, **_when("closes_at", str(later.day), str(later.month), str(later.year + 543), "9"),
        "reason": "น้ำท่วม"})
    assert bad.status_code == 422 and "กำหนดส่งใหม่ (เวลากรุงเทพฯ): กรุณากรอกเวลา" in bad.text
    assert run(DeadlineExtension.count()) == 0
    ok = client.post(f"/admin/entries/{entry_id}/extend", data={
        "_csrf": token, **_when("closes_at", str(later.day), str(later.month), str(later.year + 543), "09:15"),
        "reason": "น้ำท่วม"})
    assert ok.status_code == 200
    [ext] = run(DeadlineExtension.select())
    assert clock.to_bangkok(ext["closes_at"]).strftime("%d %m %Y %H:%M") == later.strftime("%d %m %Y 09:15")
