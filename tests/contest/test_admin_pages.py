"""The organisers' pages: editions, accounts, registry import, audit trail."""

from __future__ import annotations

import pytest

from contest.tables import AuditEvent, Edition, Organisation, User
from tests.conftest import run
from tests.factories import PASSWORD, browser_login, csrf, make_user

pytestmark = pytest.mark.integration


def _admin(client):  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    return csrf(client)


EDITION_FORM = {
    "year": "2570", "title": "รางวัลท้องถิ่นดิจิทัล 2570", "title_en": "Digital Local Government 2027",
    "submission_opens_at": "2027-01-05T09:00", "submission_closes_at": "2027-03-31T16:30",
    "announcement_at": "2027-08-01T10:00", "entries_per_organisation": "2", "shortlist_size": "40",
    "winners": "1", "max_file_mb": "100", "max_entry_mb": "300", "state": "open",
    "categories": "service | บริการประชาชน | Citizen services\nhealth | สาธารณสุข | Health",
}


def test_admin_creates_and_edits_an_edition_in_the_web_ui(client) -> None:  # type: ignore[no-untyped-def]
    token = _admin(client)
    resp = client.post("/admin/editions/new", data={**EDITION_FORM, "_csrf": token}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/admin/editions/2570/edit"
    row = run(Edition.select().where(Edition.year == 2570).first())
    assert row["entries_per_organisation"] == 2
    # Times typed in the form are Bangkok time: 16:30 +07:00 is 09:30 UTC.
    assert row["submission_closes_at"].isoformat().startswith("2027-03-31T09:30:00")
    page = client.get("/admin/editions/2570/edit")
    assert page.status_code == 200 and "สาธารณสุข" in page.text
    resp = client.post("/admin/editions/2570/edit", data={**EDITION_FORM, "shortlist_size": "35", "_csrf": token})
    assert resp.status_code == 200
    assert run(Edition.select(Edition.shortlist_size).where(Edition.year == 2570).first())["shortlist_size"] == 35
    home = client.get("/")
    assert "2570" in home.text and "31 มีนาคม 2570" in home.text


def test_edition_form_errors_are_shown_next_to_fields(client) -> None:  # type: ignore[no-untyped-def]
    token = _admin(client)
    bad = {**EDITION_FORM, "submission_closes_at": "2026-01-01T00:00", "title": "", "_csrf": token}
    resp = client.post("/admin/editions/new", data=bad)
    assert resp.status_code == 422
    assert 'id="e-submission_closes_at"' in resp.text and 'id="e-title"' in resp.text
    assert run(Edition.count()) == 0


def test_admin_creates_reviewer_account(client) -> None:  # type: ignore[no-untyped-def]
    token = _admin(client)
    resp = client.post("/admin/users", data={"email": "judge@example.go.th", "name": "กรรมการ", "role": "reviewer",
                                             "password": PASSWORD, "_csrf": token})
    assert resp.status_code == 200 and "judge@example.go.th" in resp.text
    assert run(User.select(User.role).where(User.email == "judge@example.go.th").first())["role"] == "reviewer"


def test_registry_import_through_the_page(client) -> None:  # type: ignore[no-untyped-def]
    token = _admin(client)
    csv_bytes = ("code,name_th,kind,province_code\n5500101,องค์การบริหารส่วนตำบลทดสอบ,sao,50\n"
                 "bad,ชื่อ,sao,50\n").encode()
    resp = client.post("/admin/registry/import", data={"_csrf": token},
                       files={"file": ("orgs.csv", csv_bytes, "text/csv")})
    assert resp.status_code == 200
    assert run(Organisation.count()) == 1
    assert "องค์การบริหารส่วนตำบลทดสอบ" in resp.text
    no_token = client.post("/admin/registry/import", files={"file": ("orgs.csv", csv_bytes, "text/csv")})
    assert no_token.status_code == 403


def test_audit_page_verifies_the_chain(client) -> None:  # type: ignore[no-untyped-def]
    token = _admin(client)
    resp = client.post("/admin/audit/verify", data={"_csrf": token})
    assert resp.status_code == 200
    events = run(AuditEvent.count())  # the admin's account and its two-factor enrolment
    assert f"ห่วงโซ่ข้อมูลสมบูรณ์: ตรวจสอบแล้ว {events} เหตุการณ์" in resp.text


def test_english_switch_and_buddhist_era_dates(client) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_edition
    run(make_edition(2569))
    thai = client.get("/")
    assert '<html lang="th">' in thai.text and "(ปี พ.ศ. 2569)" in thai.text
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Submission deadline" in english.text
    # The choice is remembered.
    assert '<html lang="en">' in client.get("/").text


def test_not_found_is_thai_by_default_and_english_on_request(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/editions/2400")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "ไม่พบหน้าหรือรายการที่ท่านต้องการ" in page.text
    english = client.get("/api/v1/no-such-route", headers={"Accept-Language": "en"})
    assert english.status_code == 404
