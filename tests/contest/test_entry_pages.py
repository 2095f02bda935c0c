"""The server-rendered entry pages: list, form with autosave, attachments, submit, receipt, admin."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from contest import clock
from contest.i18n import format_size
from contest.tables import Attachment, DeadlineExtension, Entry, Receipt
from tests.conftest import run
from tests.contest.entry_form import FORM
from tests.contest.entry_form import create_entry as _create
from tests.contest.entry_form import save_entry as _save
from tests.contest.entry_form import sign_in_applicant as _applicant
from tests.contest.entry_form import upload_file as _upload
from tests.factories import browser_login, csrf, decoded_body, make_edition, make_org, make_user, wait_for_mails
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration


def _version(html: str) -> int:
    match = re.search(r'name="version" id="f-version" value="(\d+)"', html)
    assert match, html
    return int(match.group(1))


def _stored_files() -> list:  # type: ignore[type-arg]
    from contest.settings import get_settings
    return [p for p in get_settings().var_dir.joinpath("uploads").rglob("*") if p.is_file()]


def test_entries_page_lists_and_creates_an_entry(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    page = client.get("/entries")
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    assert "สร้างผลงาน" in page.text or "Create an entry" in page.text
    assert "2569" in page.text  # the deadline is shown in the Buddhist Era
    entry_id = _create(client)
    assert run(Entry.count()) == 1
    listed = client.get("/entries")
    assert f'href="/entries/{entry_id}"' in listed.text
    assert "ฉบับร่าง" in listed.text
    # one entry per organisation by default: the button is gone, and posting again is refused
    assert 'action="/entries"' not in listed.text
    again = client.post("/entries", data={"_csrf": csrf(client)}, follow_redirects=False)
    assert again.status_code == 409 and run(Entry.count()) == 1


def test_entry_form_renders_sections_and_autosave_attributes(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    page = client.get(f"/entries/{entry_id}")
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1") == 1
    assert f'hx-post="/entries/{entry_id}/autosave"' in html
    assert 'hx-trigger="input delay:1500ms, change"' in html
    assert 'hx-target="#save-status"' in html and 'hx-swap="outerHTML"' in html
    assert _version(html) == 1
    for name in ("title", "category", "summary", "problem", "solution", "citizens_served", "results",
                 "in_service_since", "technology", "links", "video_url", "contact_name", "contact_email",
                 "contact_phone", "consent_publish", "kind", "file"):
        assert f'for="f-{name}"' in html and f'id="f-{name}"' in html, name
    assert 'name="in_service_since-year"' in html and 'type="date"' not in html and 'value="service"' in html
    # the upload form: multipart, _csrf before the file input, accepted types, limits in MB
    form = html[html.index('enctype="multipart/form-data"'):]
    assert form.index('name="_csrf"') < form.index('type="file"')
    assert 'accept=".pdf,.jpg,.jpeg,.png,.webp,.mp4,.docx,.pptx,.xlsx"' in form
    assert "100 MB" in form and "300 MB" in form


def test_save_with_the_form_increments_the_version(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    resp = _save(client, entry_id, 1, **FORM)
    assert resp.status_code == 303 and resp.headers["location"] == f"/entries/{entry_id}?saved=1"
    page = client.get(resp.headers["location"])
    assert "บันทึกเรียบร้อยแล้ว" in page.text
    assert _version(page.text) == 2
    row = run(Entry.select().where(Entry.id == entry_id).first())
    assert row["title"] == FORM["title"] and row["citizens_served"] == 12000 and row["consent_publish"] is True
    assert "https://example.go.th/dashboard" in page.text
    # an unchecked checkbox sends nothing: consent is withdrawn
    no_consent = {k: v for k, v in FORM.items() if k != "consent_publish"}
    assert _save(client, entry_id, 2, **no_consent).status_code == 303
    assert run(Entry.select(Entry.consent_publish, Entry.version).where(Entry.id == entry_id).first()) == {
        "consent_publish": False, "version": 3}


def test_save_with_errors_is_422_with_messages_next_to_fields(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    resp = _save(client, entry_id, 1, **{**FORM, "contact_email": "not-an-email", "citizens_served": "หลายคน"})
    assert resp.status_code == 422
    html = resp.text
    assert 'id="e-contact_email"' in html and 'id="e-citizens_served"' in html
    assert 'href="#f-contact_email"' in html  # linked from the error summary
    assert 'value="not-an-email"' in html  # what was typed is kept
    assert run(Entry.select(Entry.version).first())["version"] == 1


def test_autosave_returns_status_and_new_version_out_of_band(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    token = csrf(client)
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    resp = client.post(f"/entries/{entry_id}/autosave", data={**FORM, "version": "1"}, headers=headers)
    assert resp.status_code == 200, resp.text
    assert 'id="save-status"' in resp.text and "บันทึกอัตโนมัติแล้ว" in resp.text
    assert re.search(r'<input type="hidden" name="version" id="f-version" value="2" hx-swap-oob="true">', resp.text)
    again = client.post(f"/entries/{entry_id}/autosave", data={**FORM, "title": "ชื่อใหม่", "version": "2"},
                        headers=headers)
    assert 'value="3"' in again.text
    assert run(Entry.select(Entry.version, Entry.title).first()) == {"version": 3, "title": "ชื่อใหม่"}
    # a stale version: the partial says so and links to reload
    stale = client.post(f"/entries/{entry_id}/autosave", data={**FORM, "title": "เก่า", "version": "2"},
                        headers=headers)
    assert stale.status_code == 409
    assert f'href="/entries/{entry_id}"' in stale.text and "hx-swap-oob" not in stale.text
    # without the CSRF header (and no _csrf field) nothing is saved
    refused = client.post(f"/entries/{entry_id}/autosave", data={**FORM, "title": "x", "version": "3"},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 403
    assert run(Entry.select(Entry.title).first())["title"] == "ชื่อใหม่"


def test_stale_save_shows_their_value_and_keeps_mine(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    assert _save(client, entry_id, 1, **{**FORM, "title": "ชื่อจากคนแรก"}).status_code == 303
    resp = _save(client, entry_id, 1, **{**FORM, "title": "ชื่อของฉัน"})
    assert resp.status_code == 409
    html = resp.text
    assert "ชื่อจากคนแรก" in html  # their value in the what-changed table
    assert 'value="ชื่อของฉัน"' in html  # mine kept in the form
    assert _version(html) == 2  # saving again overwrites deliberately
    changes = html[html.index('id="changes"'):]
    assert 'href="#f-title"' in changes and 'href="#f-summary"' not in changes
    assert run(Entry.select(Entry.title).first())["title"] == "ชื่อจากคนแรก"
    assert _save(client, entry_id, 2, **{**FORM, "title": "ชื่อของฉัน"}).status_code == 303
    assert run(Entry.select(Entry.title, Entry.version).first()) == {"title": "ชื่อของฉัน", "version": 3}


def test_upload_through_the_form_is_listed(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    pdf = make_pdf(3)
    resp = _upload(client, entry_id, "แผนงาน.pdf", pdf)
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"] == f"/entries/{entry_id}#attachments"
    [att] = run(Attachment.select())
    assert att["sha256"] == hashlib.sha256(pdf).hexdigest() and att["kind"] == "presentation"
    assert _check_done(att["id"]) == "passed"
    page = client.get(f"/entries/{entry_id}").text
    assert "แผนงาน.pdf" in page and f'href="/api/v1/attachments/{att["id"]}/content"' in page
    assert '<span class="check check-passed">ผ่านการตรวจสอบ</span>' in page
    assert '<span class="hint">3 หน้า</span>' in page and "กำลังตรวจสอบ" not in page
    assert client.get(f"/api/v1/attachments/{att['id']}/content").content == pdf
    # XHR (site.js) gets the attachments partial instead of a redirect
    xhr = _upload(client, entry_id, "second.pdf", make_pdf(), headers={"X-Requested-With": "XMLHttpRequest"})
    assert xhr.status_code == 200 and xhr.text.lstrip().startswith('<section id="attachments"')
    assert "second.pdf" in xhr.text and "<h1" not in xhr.text
    # remove a file
    removed = client.post(f"/entries/{entry_id}/attachments/{att['id']}/delete", data={"_csrf": csrf(client)},
                          follow_redirects=False)
    assert removed.status_code == 303
    assert "แผนงาน.pdf" not in client.get(f"/entries/{entry_id}").text


def _check_done(attachment_id: int, timeout: float = 15.0) -> str:
    """Run the check job here too (the app's in-process runner may be on it) until it recorded a state."""
    import time

    from contest import jobs  # noqa: F401 - registers the handlers
    from contest.domain import outbox

    deadline = time.monotonic() + timeout
    while True:
        run(outbox.run_due())
        state = run(Attachment.select(Attachment.check_state).where(Attachment.id == attachment_id).first())
        if state["check_state"] != "pending" or time.monotonic() > deadline:
            return state["check_state"]
        time.sleep(0.05)


def test_pending_check_is_polled_until_it_finishes(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    assert _upload(client, entry_id, "แผนงาน.pdf", make_pdf(2)).status_code == 303
    [att] = run(Attachment.select(Attachment.id))
    assert _check_done(att["id"]) == "passed"
    run(Attachment.update({Attachment.check_state: "pending"}).where(Attachment.id == att["id"]))
    poller = (f'hx-get="/entries/{entry_id}/attachments" '
              "hx-trigger=\"every 3s [!!document.querySelector('#attachment-list.checks-pending')]\"")

    # the page (also without JavaScript, on reload) shows the pending state and arms the poller
    page = client.get(f"/entries/{entry_id}").text
    assert '<div id="attachment-list" class="checks-pending">' in page
    assert "กำลังตรวจสอบ" in page and poller in page
    assert "ระบบจะตรวจสอบไฟล์ทันทีที่ได้รับ" in page and "<noscript>โหลดหน้านี้ใหม่เพื่อดูผลการตรวจสอบ</noscript>" in page
    # the poll gets the list alone, still pending
    polled = client.get(f"/entries/{entry_id}/attachments", headers={"HX-Request": "true"})
    assert polled.status_code == 200
    assert polled.text.lstrip().startswith('<div id="attachment-list" class="checks-pending">')
    assert "<h1" not in polled.text and "upload-form" not in polled.text and "กำลังตรวจสอบ" in polled.text

    # once the check is recorded, the list is not marked pending: the poller sends nothing more
    run(Attachment.update({Attachment.check_state: "passed", Attachment.check_details: {"pages": 2}})
        .where(Attachment.id == att["id"]))
    polled = client.get(f"/entries/{entry_id}/attachments", headers={"HX-Request": "true"})
    assert polled.text.lstrip().startswith('<div id="attachment-list">')
    assert "ผ่านการตรวจสอบ" in polled.text and "2 หน้า" in polled.text
    assert "กำลังตรวจสอบ" not in polled.text and "ระบบจะตรวจสอบไฟล์ทันทีที่ได้รับ" not in polled.text
    assert '<div id="attachment-list">' in client.get(f"/entries/{entry_id}").text
    # a plain visit of the partial's address lands on the page
    plain = client.get(f"/entries/{entry_id}/attachments", follow_redirects=False)
    assert (plain.status_code, plain.headers["location"]) == (303, f"/entries/{entry_id}#attachments")


def test_attachment_list_of_another_organisation_is_404(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    client.cookies.clear()
    _applicant(client, email="other@example.go.th")
    assert client.get(f"/entries/{entry_id}/attachments", headers={"HX-Request": "true"}).status_code == 404


def test_check_note_on_a_passed_file_is_shown(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    assert _upload(client, entry_id, "big.pdf", make_pdf()).status_code == 303
    [att] = run(Attachment.select(Attachment.id))
    _check_done(att["id"])
    run(Attachment.update({Attachment.check_state: "passed",
                           Attachment.check_details: {"pages": None, "note": "pages_not_counted"},
                           Attachment.check_message: "ไม่ได้นับจำนวนหน้า / The pages were not counted"})
        .where(Attachment.id == att["id"]))
    page = client.get(f"/entries/{entry_id}").text
    assert '<span class="hint">ไม่ได้นับจำนวนหน้า</span>' in page


def test_upload_without_csrf_is_403_and_stores_nothing(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    resp = _upload(client, entry_id, "a.pdf", make_pdf(), token=False)
    assert resp.status_code == 403
    assert run(Attachment.count()) == 0 and _stored_files() == []


def test_disguised_file_is_415_with_message_on_the_page(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    resp = _upload(client, entry_id, "setup.pdf", b"MZ\x90\x00" + b"\x00" * 4000)
    assert resp.status_code == 415
    assert "<h1" in resp.text and 'id="e-file"' in resp.text
    assert "ระบบไม่รองรับไฟล์ประเภทนี้" in resp.text
    assert run(Attachment.count()) == 0 and _stored_files() == []


def test_submit_then_receipt_shows_every_file_hash(client) -> None:  # type: ignore[no-untyped-def]
    org = _applicant(client)
    entry_id = _create(client)
    pdf = make_pdf(2)
    assert _upload(client, entry_id, "ผลงาน.pdf", pdf).status_code == 303
    # the submit button belongs to the entry form: what is typed is saved, then submitted
    resp = client.post(f"/entries/{entry_id}/submit", data={"_csrf": csrf(client), "version": "1", **FORM},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    number = run(Receipt.select(Receipt.number).first())["number"]
    assert resp.headers["location"] == f"/receipts/{number}"
    receipt = client.get(f"/receipts/{number}")
    assert receipt.status_code == 200
    html = receipt.text
    assert number in html and hashlib.sha256(pdf).hexdigest() in html and "ผลงาน.pdf" in html
    assert FORM["title"] in html and "2569" in html and "data-print" in html
    assert html.count("<h1") == 1
    # The agency's header, Thai and English, printed with it.
    header = html[html.index('<header class="agency-header">'):html.index("<h1")]
    assert "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) (สพร.)" in header
    assert "Digital Government Development Agency (DGA)" in header
    # Each fingerprint is selectable text with a copy button that site.js shows.
    digest = hashlib.sha256(pdf).hexdigest()
    assert f'<code class="hash">{digest}</code> <button type="button" class="copy-button no-print" ' \
           f'data-copy="{digest}" data-copied="คัดลอกแล้ว" hidden>คัดลอก' in html
    # The mail gives sizes as people read them.
    [mail] = wait_for_mails("staff@example.go.th")
    body = decoded_body(mail)
    assert f"ผลงาน.pdf ({format_size(len(pdf))}) SHA-256 {digest}" in body and "bytes" not in body
    assert format_size(536) == "536 B" and format_size(12_700) == "12.4 KB" and format_size(96 * 2**20) == "96.0 MB"
    assert "ลายพิมพ์ของแต่ละไฟล์" in body
    listed = client.get("/entries").text
    assert number in listed and "ส่งแล้ว" in listed
    # another organisation cannot read the receipt
    client.post("/logout", data={"_csrf": csrf(client)})
    _applicant(client, email="other@example.go.th")
    assert client.get(f"/receipts/{number}").status_code == 404
    assert org


def test_incomplete_submit_is_422_listing_missing_items(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    resp = client.post(f"/entries/{entry_id}/submit", data={"_csrf": csrf(client)}, follow_redirects=False)
    assert resp.status_code == 422
    summary = resp.text[resp.text.index("error-summary"):]
    for name in ("title", "summary", "problem", "contact_email"):
        assert f'href="#f-{name}"' in summary, name
    assert 'href="#f-file"' in summary  # no attachment yet
    assert run(Receipt.count()) == 0


def test_page_is_read_only_after_the_deadline(client) -> None:  # type: ignore[no-untyped-def]
    closes = clock.now() + timedelta(hours=1)
    _applicant(client, submission_closes_at=closes)
    entry_id = _create(client)
    assert _save(client, entry_id, 1, **FORM).status_code == 303
    clock.freeze(closes + timedelta(days=1))
    page = client.get(f"/entries/{entry_id}")
    assert page.status_code == 200
    html = page.text
    assert "ปิดรับผลงานแล้วเมื่อ" in html and FORM["title"] in html
    main = html[html.index('<main'):]
    for control in ("<textarea", "<select", 'type="file"', "/autosave", f"/entries/{entry_id}/submit"):
        assert control not in main, control
    late = client.post(f"/entries/{entry_id}/submit", data={"_csrf": csrf(client)}, follow_redirects=False)
    assert late.status_code == 409 and "ปิดรับผลงานแล้วเมื่อ" in late.text
    upload = _upload(client, entry_id, "late.pdf", make_pdf())
    assert upload.status_code == 409 and "หมดเวลารับผลงานแล้วเมื่อ" in upload.text
    assert run(Receipt.count()) == 0 and run(Attachment.count()) == 0 and _stored_files() == []


def test_withdraw_asks_first_then_withdraws(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    confirm = client.get(f"/entries/{entry_id}/withdraw")
    assert confirm.status_code == 200 and f'action="/entries/{entry_id}/withdraw"' in confirm.text
    assert run(Entry.select(Entry.state).first())["state"] == "draft"
    resp = client.post(f"/entries/{entry_id}/withdraw", data={"_csrf": csrf(client)}, follow_redirects=False)
    assert resp.status_code == 303
    assert run(Entry.select(Entry.state).first())["state"] == "withdrawn"
    assert "ถอนแล้ว" in client.get(resp.headers["location"]).text


def test_another_organisations_entry_is_404(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    client.post("/logout", data={"_csrf": csrf(client)})
    _applicant(client, email="other@example.go.th")
    assert client.get(f"/entries/{entry_id}").status_code == 404
    assert _save(client, entry_id, 1, title="x").status_code == 404
    assert _upload(client, entry_id, "a.pdf", make_pdf()).status_code == 404
    assert run(Attachment.count()) == 0


def test_admin_list_filters_and_counts(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(2569))
    north = run(make_org(name_th="อบต.เหนือ"))
    south = run(make_org(name_th="เทศบาลใต้", kind="town_municipality", province_code="90",
                         province_name_th="สงขลา"))
    for email, org in (("n@example.go.th", north), ("s@example.go.th", south)):
        _applicant(client, email=email, org=org)
        _create(client)
        client.post("/logout", data={"_csrf": csrf(client)})
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    page = client.get("/admin/editions/2569/entries")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert "อบต.เหนือ" in page.text and "เทศบาลใต้" in page.text
    by_state = page.text[page.text.index("counts-h"):]
    assert re.search(r'<span class="n">2</span> ฉบับร่าง</a>', by_state)
    filtered = client.get("/admin/editions/2569/entries", params={"province": "90"})
    assert "เทศบาลใต้" in filtered.text and "อบต.เหนือ" not in filtered.text.split("counts-h")[1].split("<tbody>")[-1]
    by_kind = client.get("/admin/editions/2569/entries", params={"kind": "town_municipality", "state": "draft"})
    rows = by_kind.text.split('id="entries-caption"')[-1]
    assert "เทศบาลใต้" in rows and "อบต.เหนือ" not in rows
    assert client.get("/admin/entries", follow_redirects=False).headers["location"] == "/admin/editions/2569/entries"


def test_admin_entry_page_and_deadline_extension(client) -> None:  # type: ignore[no-untyped-def]
    org = _applicant(client)
    entry_id = _create(client)
    assert _save(client, entry_id, 1, **FORM).status_code == 303
    client.post("/logout", data={"_csrf": csrf(client)})
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    page = client.get(f"/admin/entries/{entry_id}")
    assert page.status_code == 200
    assert FORM["title"] in page.text and "สร้างผลงาน" in page.text and "แก้ไขผลงาน" in page.text
    # errors next to the fields, nothing granted
    bad = client.post(f"/admin/entries/{entry_id}/extend", data={"_csrf": csrf(client), "closes_at": "",
                                                                  "reason": ""})
    assert bad.status_code == 422 and 'id="e-closes_at"' in bad.text
    early = client.post(f"/admin/entries/{entry_id}/extend", data={
        "_csrf": csrf(client), "closes_at": "2020-01-01T10:00", "reason": "ไฟฟ้าดับ"})
    assert early.status_code == 422 and 'id="e-closes_at"' in early.text and "ไฟฟ้าดับ" in early.text
    no_reason = client.post(f"/admin/entries/{entry_id}/extend", data={
        "_csrf": csrf(client), "closes_at": "2199-01-01T10:00", "reason": " "})
    assert no_reason.status_code == 422 and 'id="e-reason"' in no_reason.text
    assert run(DeadlineExtension.count()) == 0
    later = clock.to_bangkok(clock.now() + timedelta(days=40)).replace(second=0, microsecond=0)
    ok = client.post(f"/admin/entries/{entry_id}/extend", data={
        "_csrf": csrf(client), "closes_at": later.strftime("%Y-%m-%dT%H:%M"), "reason": "น้ำท่วมสำนักงาน"})
    assert ok.status_code == 200, ok.text
    [ext] = run(DeadlineExtension.select())
    assert ext["closes_at"] == later and ext["reason"] == "น้ำท่วมสำนักงาน"
    assert ext["organisation"] is not None and org in ok.text
    # the applicant pages stay closed to an admin
    assert client.get(f"/entries/{entry_id}").status_code == 403


def test_english_switch_renders(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    assert _upload(client, entry_id, "plan.pdf", make_pdf()).status_code == 303
    page = client.get(f"/entries/{entry_id}", params={"lang": "en"})
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "Name of the service" in page.text and "Attachments" in page.text and "Upload file" in page.text
    listed = client.get("/entries")  # the choice is remembered
    assert "My entries" in listed.text and "Draft" in listed.text
    resp = client.post(f"/entries/{entry_id}/submit", data={"_csrf": csrf(client), "version": "1", **FORM},
                       follow_redirects=False)
    receipt = client.get(resp.headers["location"])
    assert "Receipt of submission" in receipt.text and "(Bangkok time)" in receipt.text


# --- the audit's gaps ----------------------------------------------------------------------------

def _admin_login(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")


def test_infected_file_is_listed_without_a_download_link(client) -> None:  # type: ignore[no-untyped-def]
    _applicant(client)
    entry_id = _create(client)
    assert _upload(client, entry_id, "แผนงาน.pdf", make_pdf()).status_code == 303
    [att] = run(Attachment.select(Attachment.id))
    _check_done(att["id"])
    run(Attachment.update({Attachment.check_state: "infected",
                           Attachment.check_message: "ตรวจพบมัลแวร์ในไฟล์ (Eicar) / Malware was found (Eicar)"})
        .where(Attachment.id == att["id"]))
    link = f'href="/api/v1/attachments/{att["id"]}/content"'
    page = client.get(f"/entries/{entry_id}").text
    assert "แผนงาน.pdf" in page and link not in page
    assert "พบไวรัส" in page and '<span class="error">ตรวจพบมัลแวร์ในไฟล์ (Eicar)</span>' in page
    assert client.get(f"/api/v1/attachments/{att['id']}/content").status_code == 403
    _admin_login(client)
    admin_page = client.get(f"/admin/entries/{entry_id}").text
    assert "แผนงาน.pdf" in admin_page and link not in admin_page


def test_upload_form_says_how_much_room_is_left_and_that_storage_failed(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from contest.controllers import entries_api
    from contest.tables import Edition
    _applicant(client)
    run(Edition.update({Edition.max_file_bytes: 200_000, Edition.max_entry_bytes: 250_000}).where(Edition.year == 2569))
    entry_id = _create(client)
    first = make_pdf() + b"0" * (150_000 - len(make_pdf()))
    assert _upload(client, entry_id, "first.pdf", first).status_code == 303
    resp = _upload(client, entry_id, "second.pdf", make_pdf() + b"0" * 190_000)
    assert resp.status_code == 413 and 'id="e-file"' in resp.text
    assert "ไฟล์ทั้งหมดของผลงานรวมกันได้ไม่เกิน 244.1 KB และเหลือพื้นที่อีก 97.7 KB" in resp.text

    class Broken:
        def has_room(self, size: int) -> bool:
            return True

        async def begin_write(self):  # type: ignore[no-untyped-def]
            from uploads.storage import StorageError
            raise StorageError("S3 unreachable")

    monkeypatch.setattr(entries_api, "get_storage", lambda: Broken())
    failed = _upload(client, entry_id, "third.pdf", make_pdf())
    assert failed.status_code == 503 and 'id="e-file"' in failed.text
    assert "ระบบไม่ได้บันทึกไฟล์นี้ เพราะที่จัดเก็บไฟล์ไม่พร้อมใช้งานในขณะนี้" in failed.text
    assert "ข้อมูลที่ท่านส่งมาไม่สูญหาย" not in failed.text
    assert run(Attachment.count()) == 1 and len(_stored_files()) == 1


# A count's bar and number: an SVG bar (its length out of 100), then the count as text.
BAR = r'\s*<svg class="bar"[^>]*><rect width="\d+" height="10"/></svg>\s*<span class="n">'


def test_admin_list_pages_keep_filters_and_counts_follow_them(client) -> None:  # type: ignore[no-untyped-def]
    from contest.controllers import entry_pages
    from tests.factories import make_submitted_entries
    run(make_edition(2569))
    north = run(make_submitted_entries(2569, 5, provinces=("50",)))
    south = run(make_submitted_entries(2569, 3, provinces=("90",)))
    run(Entry.update({Entry.state: "draft"}).where(Entry.id == south[0]))
    _admin_login(client)
    size = entry_pages.ADMIN_PAGE_SIZE
    entry_pages.ADMIN_PAGE_SIZE = 2
    try:
        page1 = client.get("/admin/editions/2569/entries", params={"state": "submitted"})
        page2 = client.get("/admin/editions/2569/entries", params={"state": "submitted", "page": 2})
        last = client.get("/admin/editions/2569/entries", params={"state": "submitted", "page": 99})
    finally:
        entry_pages.ADMIN_PAGE_SIZE = size
    html = page1.text
    rows = lambda text: re.findall(r'<td><a href="/admin/entries/(\d+)">', text)  # noqa: E731
    assert rows(html) == [str(i) for i in north[:2]]
    assert "ผลงานลำดับที่ 1–2 จากทั้งหมด 7 ผลงาน" in html
    nav = html[html.index('<nav class="pager entries-pager" aria-label="หน้า">'):]
    assert 'href="/admin/editions/2569/entries?state=submitted&amp;page=2" aria-current' not in nav
    assert '<a href="/admin/editions/2569/entries?state=submitted&amp;page=1" aria-current="page">' in nav
    assert '<a href="/admin/editions/2569/entries?state=submitted&amp;page=2" rel="next">' in nav
    assert '<a href="/admin/editions/2569/entries?state=submitted&amp;page=4">' in nav
    assert rows(page2.text) == [str(i) for i in north[2:4]] and 'rel="prev"' in page2.text
    assert rows(last.text) == [str(south[2])]  # past the end: the last page
    assert "ผลงานลำดับที่ 7–7 จากทั้งหมด 7 ผลงาน" in last.text

    # Counts: each table applies the other filters; provinces are counted too.
    counts = client.get("/admin/editions/2569/entries", params={"province": "90"}).text
    counts = counts[counts.index('id="counts-h"'):counts.index("</section>", counts.index('id="counts-h"'))]
    assert re.search(r'href="\?state=submitted&amp;province=90"><span class="n">2</span> ส่งแล้ว</a>', counts)
    assert re.search(r'href="\?state=draft&amp;province=90"><span class="n">1</span> ฉบับร่าง</a>', counts)
    assert re.search(r'href="\?province=50">จังหวัด50</a>' + BAR + '5</span>', counts)  # its own dimension: all
    assert re.search(r'aria-current="true">จังหวัด90</a>' + BAR + '3</span>', counts)
    by_state = client.get("/admin/editions/2569/entries", params={"state": "draft"}).text
    by_state = by_state[by_state.index('id="counts-h"'):]
    assert re.search(r'href="\?state=draft&amp;province=90"[^>]*>จังหวัด90</a>' + BAR + '1</span>', by_state)
    assert "จังหวัด50</a>" not in by_state.split("</section>")[0]


def test_entry_history_shows_the_organisations_deadline_extensions(client) -> None:  # type: ignore[no-untyped-def]
    from contest.domain import extensions
    from contest.domain.audit import SYSTEM
    org = _applicant(client)
    entry_id = _create(client)
    edition = run(_edition_row())
    later = edition["submission_closes_at"] + timedelta(days=5)
    run(extensions.extend_deadline(actor=SYSTEM, year=2569, organisation_code=org, closes_at=later,
                                       reason="น้ำท่วมสำนักงาน"))
    other = run(make_org())
    run(extensions.extend_deadline(actor=SYSTEM, year=2569, organisation_code=other, closes_at=later,
                                       reason="ไฟดับทั้งตำบล"))
    _admin_login(client)
    page = client.get(f"/admin/entries/{entry_id}").text
    history = page[page.index('id="history-h"'):]
    assert "<td>สร้างผลงาน</td>" in history and "<td>ขยายเวลาส่งผลงานให้หน่วยงาน</td>" in history
    assert "น้ำท่วมสำนักงาน" in history and "ไฟดับทั้งตำบล" not in history


async def _edition_row():  # type: ignore[no-untyped-def]
    from contest.tables import Edition
    return await Edition.select().where(Edition.year == 2569).first()


def test_my_entries_link_results_of_earlier_editions_and_the_presentation(client) -> None:  # type: ignore[no-untyped-def]
    from contest.domain import entries as entries_domain
    from contest.tables import Edition
    org = _applicant(client)
    entry_id = _create(client)
    run(make_edition(2568, submission_opens_at=clock.now() - timedelta(days=400),
                     submission_closes_at=clock.now() - timedelta(days=300),
                     announcement_at=clock.now() - timedelta(days=200)))
    last_year = run(Edition.select(Edition.id).where(Edition.year == 2568).first())["id"]
    org_id = run(Entry.select(Entry.organisation).where(Entry.id == entry_id).first())["organisation"]
    [old] = run(Entry.insert(Entry(edition=last_year, organisation=org_id, state="not_shortlisted",
                                   title="ผลงานปีก่อน")).returning(Entry.id))
    page = client.get("/entries").text
    assert "การประกวดปีก่อน ๆ" in page and "ผลงานปีก่อน" in page
    assert f'href="/entries/{old["id"]}/result"' not in page  # not published: no verdict, no link
    run(Edition.update({Edition.published_at: clock.now()}).where(Edition.id == last_year))
    page = client.get("/entries").text
    assert f'href="/entries/{old["id"]}/result"' in page and f'href="/entries/{entry_id}/result"' not in page

    # A finalist gets a link to its presentation slot once the finalists are invited (judging's
    # provider, one query); a slot set but not yet sent shows nothing.
    from judging.tables import Presentation, Round
    edition_id = run(Edition.select(Edition.id).where(Edition.year == 2569).first())["id"]
    [final] = run(Round.insert(Round(edition=edition_id, kind="final", state="open")).returning(Round.id))
    run(Presentation.insert(Presentation(key=f"{final['id']}:{entry_id}", round=final["id"], entry=entry_id,
                                         starts_at=clock.now() + timedelta(days=3))))
    assert f'href="/entries/{entry_id}/presentation"' not in client.get("/entries").text
    run(Round.update({Round.invitations_sent_at: clock.now()}).where(Round.id == final["id"]))
    page = client.get("/entries").text
    assert (f'<a href="/entries/{entry_id}/presentation">การนำเสนอผลงานต่อคณะกรรมการผู้ทรงคุณวุฒิ'
            f'<span class="sr-only">') in page
    assert f'href="/entries/{old["id"]}/presentation"' not in page
    assert entries_domain.LINK_PROVIDERS  # registered by judging, which contest never imports
    assert org
