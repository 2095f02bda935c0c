"""Submission through the JSON API: drafts, streamed attachments, deadline, receipts."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timedelta

import pytest

from contest import clock
from contest.db import stored_json
from contest.domain import attachments, entries, extensions, submission
from contest.domain.audit import SYSTEM
from contest.enums import EntryState
from contest.errors import Conflict, NotFound
from contest.tables import Attachment, Entry, Receipt
from tests.conftest import run
from tests.factories import COMPLETE, login_token, make_edition, make_org, make_user, wait_for_mails
from uploads.testing import make_pdf, make_png

pytestmark = pytest.mark.integration



def _setup(client):  # type: ignore[no-untyped-def]
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    return login_token(client, "staff@example.go.th"), org


def _create(client, headers, **fields):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/editions/2569/entries", headers=headers, json=fields)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _upload(client, headers, entry_id, name, data, ctype="application/pdf", **kw):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/entries/{entry_id}/attachments", headers=headers,
                       files={"file": (name, data, ctype)}, **kw)


def test_create_patch_and_read_entry(client) -> None:  # type: ignore[no-untyped-def]
    headers, org = _setup(client)
    entry = _create(client, headers, title="ร่างแรก")
    assert entry["state"] == "draft" and entry["version"] == 1 and entry["organisation_code"] == org
    resp = client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json={**COMPLETE, "version": 1})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["version"] == 2 and body["title"] == COMPLETE["title"] and body["citizens_served"] == 12000
    assert body["links"] == COMPLETE["links"] and body["in_service_since"] == "2024-06-01"
    listed = client.get("/api/v1/entries", headers=headers, params={"year": 2569}).json()
    assert [e["id"] for e in listed] == [entry["id"]]


def test_stale_version_is_409_and_changes_nothing(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    assert client.patch(f"/api/v1/entries/{entry['id']}", headers=headers,
                        json={"title": "จากคนแรก", "version": 1}).status_code == 200
    stale = client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json={"title": "จากคนที่สอง", "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert client.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()["title"] == "จากคนแรก"


def test_invalid_fields_get_specific_messages(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    resp = client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json={
        "version": 1, "citizens_served": "หลายคน", "links": ["javascript:alert(1)"], "category": "nope",
        "contact_email": "not-email", "in_service_since": "2999-01-01"})
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"citizens_served", "links", "category", "contact_email", "in_service_since"}
    assert run(Entry.select(Entry.version).first())["version"] == 1


def test_entry_limit_per_organisation(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    first = _create(client, headers)
    second = client.post("/api/v1/editions/2569/entries", headers=headers, json={})
    assert second.status_code == 409 and second.json()["code"] == "entry_limit"
    assert client.post(f"/api/v1/entries/{first['id']}/withdraw", headers=headers).json() == {"state": "withdrawn"}
    assert client.post("/api/v1/editions/2569/entries", headers=headers, json={}).status_code == 201


def test_other_organisations_entry_is_404(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    other_org = run(make_org())
    run(make_user("applicant", email="other@example.go.th", org=other_org))
    other = login_token(client, "other@example.go.th")
    eid = entry["id"]
    assert client.get(f"/api/v1/entries/{eid}", headers=other).status_code == 404
    assert client.patch(f"/api/v1/entries/{eid}", headers=other, json={"title": "x", "version": 1}).status_code == 404
    assert _upload(client, other, eid, "a.pdf", make_pdf()).status_code == 404
    assert client.post(f"/api/v1/entries/{eid}/submit", headers=other).status_code == 404
    assert client.post(f"/api/v1/entries/{eid}/withdraw", headers=other).status_code == 404
    assert run(Attachment.count()) == 0


def test_upload_streams_pdf_with_thai_name_and_hash(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    pdf = make_pdf(3)
    resp = _upload(client, headers, entry["id"], "นำเสนอผลงาน.pdf", pdf)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["name"] == "นำเสนอผลงาน.pdf" and body["size"] == len(pdf)
    assert body["sha256"] == hashlib.sha256(pdf).hexdigest() and body["content_type"] == "application/pdf"
    for _ in range(100):  # the app's in-process runner checks the file in the background
        run(_drain())
        detail = client.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()
        [att] = detail["attachments"]
        if att["check_state"] != "pending":
            break
        time.sleep(0.05)
    assert att["check_state"] == "passed" and att["check_details"]["pages"] == 3
    content = client.get(f"/api/v1/attachments/{att['id']}/content", headers=headers)
    assert content.status_code == 200 and content.content == pdf
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"].startswith("attachment")
    part = client.get(f"/api/v1/attachments/{att['id']}/content", headers={**headers, "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == pdf[:10]


async def _drain() -> None:
    from contest import jobs  # noqa: F401
    from contest.domain import outbox

    await outbox.run_due()


@pytest.mark.parametrize("name,data,status,code", [
    ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 4000, 415, "unsupported_type"),
    ("photo.pdf", make_png(), 415, "unsupported_type"),
    ("empty.pdf", b"", 422, "empty_file"),
    ("../../etc/passwd.pdf", make_pdf(), 201, None),
])
def test_bad_uploads_are_refused_and_leave_nothing(client, name, data, status, code) -> None:  # type: ignore[no-untyped-def]
    from contest.settings import get_settings
    headers, _ = _setup(client)
    entry = _create(client, headers)
    resp = _upload(client, headers, entry["id"], name, data)
    assert resp.status_code == status, resp.text
    if code:
        assert resp.json()["code"] == code
        assert run(Attachment.count()) == 0
        stored = [p for p in get_settings().var_dir.joinpath("uploads").rglob("*") if p.is_file()]
        assert stored == []
    else:
        assert resp.json()["name"] == "passwd.pdf"


def test_upload_over_the_limit_with_and_without_content_length(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    run(_shrink_limits())
    entry = _create(client, headers)
    big = make_pdf() + b"0" * 300_000
    resp = _upload(client, headers, entry["id"], "big.pdf", big)
    assert resp.status_code == 413 and resp.json()["code"] == "file_too_large"

    boundary = "xyzBOUNDARY"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + big + f"\r\n--{boundary}--\r\n".encode()

    def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(body), 16384):
            yield body[i:i + 16384]

    resp = client.post(f"/api/v1/entries/{entry['id']}/attachments", content=chunks(),
                       headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert "content-length" not in resp.request.headers  # streamed: refused once the limit is crossed
    assert resp.status_code == 413 and resp.json()["code"] == "file_too_large"
    assert resp.json()["detail"] == ("ไฟล์มีขนาดใหญ่เกินกำหนด ขนาดสูงสุดที่รับได้คือ 0.2 MB "
                                     "กรุณาลดขนาดไฟล์แล้วส่งใหม่")
    assert run(Attachment.count()) == 0 and _stored() == []
    assert run(Entry.select(Entry.revision).first())["revision"] == 1


async def _shrink_limits() -> None:
    from contest.tables import Edition
    await Edition.update({Edition.max_file_bytes: 200_000, Edition.max_entry_bytes: 300_000}).where(
        Edition.year == 2569)


def test_malformed_multipart_is_400(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    resp = client.post(f"/api/v1/entries/{entry['id']}/attachments", content=b"this is not multipart",
                       headers={**headers, "Content-Type": "multipart/form-data; boundary=abc"})
    assert resp.status_code == 400 and resp.json()["code"] == "malformed_multipart"
    assert run(Attachment.count()) == 0 and _stored() == []


def test_cut_off_upload_leaves_no_file_and_no_row(client) -> None:  # type: ignore[no-untyped-def]
    from contest.settings import get_settings
    headers, _ = _setup(client)
    entry = _create(client, headers)
    boundary = "cutcutcut"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + make_pdf() + b"x" * 50_000
    resp = client.post(f"/api/v1/entries/{entry['id']}/attachments", content=head,  # no closing boundary
                       headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert resp.status_code == 400
    assert run(Attachment.count()) == 0
    assert [p for p in get_settings().var_dir.joinpath("uploads").rglob("*") if p.is_file()] == []


def test_submit_incomplete_is_422(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers, title="ยังไม่ครบ")
    resp = client.post(f"/api/v1/entries/{entry['id']}/submit", headers=headers)
    assert resp.status_code == 422
    assert {"summary", "problem", "attachments"} <= set(resp.json()["errors"])
    assert run(Receipt.count()) == 0


def _complete_entry(client, headers):  # type: ignore[no-untyped-def]
    entry = _create(client, headers)
    client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json={**COMPLETE, "version": 1})
    pdf = make_pdf(2)
    assert _upload(client, headers, entry["id"], "ผลงาน.pdf", pdf).status_code == 201
    return entry["id"], pdf


def test_submit_returns_receipt_and_mails_it(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry_id, pdf = _complete_entry(client, headers)
    resp = client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"] == "submitted"
    receipt = body["receipt"]
    assert receipt["number"].startswith("DLG2569-")
    assert receipt["files"] == [{"name": "ผลงาน.pdf", "size": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()}]
    [mail] = wait_for_mails("staff@example.go.th")
    assert receipt["number"] in mail
    # Submitting again with nothing changed gives the same receipt.
    again = client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers).json()
    assert again["receipt"]["number"] == receipt["number"]
    # Editing then re-submitting gives a new version with its own receipt; the first is kept.
    client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json={"title": "ชื่อใหม่", "version": 2})
    third = client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers).json()
    assert third["receipt"]["number"] != receipt["number"]
    assert run(Receipt.count()) == 2


def test_submit_after_deadline_is_409_with_time_and_changes_nothing(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry_id, _ = _complete_entry(client, headers)
    detail = client.get(f"/api/v1/entries/{entry_id}", headers=headers).json()
    from datetime import datetime
    closes = datetime.fromisoformat(detail["deadline"].replace("Z", "+00:00"))
    clock.freeze(closes + timedelta(seconds=1))
    resp = client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers)
    assert resp.status_code == 409
    assert resp.json()["code"] == "deadline_passed" and "closed_at" in resp.json()
    patch = client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json={"title": "สาย", "version": 2})
    assert patch.status_code == 409 and patch.json()["code"] == "deadline_passed"
    up = _upload(client, headers, entry_id, "late.pdf", make_pdf())
    assert up.status_code == 409 and up.json()["code"] == "deadline_passed"
    [att] = detail["attachments"]
    removed = client.delete(f"/api/v1/attachments/{att['id']}", headers=headers)
    assert removed.status_code == 409 and removed.json()["code"] == "deadline_passed"
    withdrawn = client.post(f"/api/v1/entries/{entry_id}/withdraw", headers=headers)
    assert withdrawn.status_code == 409 and withdrawn.json()["code"] == "deadline_passed"
    for late in (patch, up, removed, withdrawn):
        assert late.json()["closed_at"] == resp.json()["closed_at"]
    assert run(Receipt.count()) == 0 and run(Attachment.count()) == 1
    assert run(Attachment.select(Attachment.deleted_at).first())["deleted_at"] is None and len(_stored()) == 1
    assert run(Entry.select(Entry.state, Entry.title).first()) == {"state": "draft", "title": COMPLETE["title"]}


def test_deadline_extension_for_one_organisation(client) -> None:  # type: ignore[no-untyped-def]
    headers, org = _setup(client)
    entry_id, _ = _complete_entry(client, headers)
    edition = run(_edition())
    closes = edition["submission_closes_at"]
    run(extensions.extend_deadline(actor=SYSTEM, year=2569, organisation_code=org, closes_at=closes + timedelta(days=2),
                                reason="ระบบไฟฟ้าขัดข้องในพื้นที่"))
    clock.freeze(closes + timedelta(hours=1))
    assert client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers).status_code == 200


async def _edition():  # type: ignore[no-untyped-def]
    from contest.tables import Edition
    return await Edition.select().where(Edition.year == 2569).first()


def test_two_concurrent_submits_make_exactly_one_receipt(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry_id, _ = _complete_entry(client, headers)
    results: list[dict] = []

    def submit() -> None:
        results.append(client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers).json())

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len({r["receipt"]["number"] for r in results}) == 1
    assert run(Receipt.count()) == 1


def test_withdraw_after_deadline_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    edition = run(_edition())
    clock.freeze(edition["submission_closes_at"])
    resp = client.post(f"/api/v1/entries/{entry['id']}/withdraw", headers=headers)
    assert resp.status_code == 409 and resp.json()["code"] == "deadline_passed"


def test_delete_attachment_keeps_the_file_a_receipt_lists(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry_id, pdf = _complete_entry(client, headers)
    client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers)
    [att] = client.get(f"/api/v1/entries/{entry_id}", headers=headers).json()["attachments"]
    assert client.delete(f"/api/v1/attachments/{att['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/entries/{entry_id}", headers=headers).json()["attachments"] == []
    run(make_user("admin", email="admin@example.go.th"))
    admin = login_token(client, "admin@example.go.th")
    assert client.get(f"/api/v1/attachments/{att['id']}/content", headers=admin).content == pdf


# --- the audit's gaps (each test fails without its fix) -------------------------------------------

def _stored() -> list:  # type: ignore[type-arg]
    """Every file under the upload root, part files included."""
    from contest.settings import get_settings
    root = get_settings().var_dir.joinpath("uploads")
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _admin(client):  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    return login_token(client, "admin@example.go.th")


def _check_done(attachment_id: int, timeout: float = 15.0) -> dict:  # type: ignore[type-arg]
    """Run the check job here too (the app's in-process runner may be on it) until it is recorded."""
    deadline = time.monotonic() + timeout
    while True:
        run(_drain())
        row = run(Attachment.select().where(Attachment.id == attachment_id).first())
        if row["check_state"] != "pending" or time.monotonic() > deadline:
            return row
        time.sleep(0.05)


def _raw_multipart(name: str, data: bytes, boundary: str = "xyzBOUNDARY") -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()


def _without_length(body: bytes):  # type: ignore[no-untyped-def]
    """A generator body: the client sends it chunked, with no Content-Length."""
    def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(body), 16384):
            yield body[i:i + 16384]
    return chunks()


def test_infected_file_is_refused_to_everyone_and_not_linked(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    att = _upload(client, headers, entry["id"], "ผลงาน.pdf", make_pdf()).json()
    _check_done(att["id"])
    run(Attachment.update({Attachment.check_state: "infected", Attachment.check_details: {"signature": "Eicar"},
                           Attachment.check_message: "ตรวจพบมัลแวร์ในไฟล์ (Eicar) / Malware was found (Eicar)"})
        .where(Attachment.id == att["id"]))
    admin = _admin(client)
    run(make_user("reviewer", email="reviewer@example.go.th"))
    reviewer = login_token(client, "reviewer@example.go.th")

    async def assigned(actor, entry_id):  # type: ignore[no-untyped-def]
        return actor.role == "reviewer"

    monkeypatch.setattr(entries, "EXTRA_VIEWERS", [assigned])
    url = f"/api/v1/attachments/{att['id']}/content"
    for who in (headers, admin, reviewer):
        for params in ({}, {"inline": "true"}):
            resp = client.get(url, headers=who, params=params)
            assert resp.status_code == 403, resp.text
            body = resp.json()
            assert body["code"] == "attachment_infected" and body["status_code"] == 403
            assert body["detail"] == ("ตรวจพบไวรัสในไฟล์นี้ จึงดาวน์โหลดไม่ได้ "
                                      "หน่วยงานควรลบไฟล์นี้แล้วอัปโหลดไฟล์ที่ไม่มีไวรัสแทน")
    english = client.get(url, headers={**admin, "Accept-Language": "en"}).json()
    assert english["detail"] == ("A virus was found in this file, so it cannot be downloaded. The organisation "
                                 "should remove it and upload a clean copy.")
    # The owner still sees the file and why (to remove it), in its own language.
    [listed] = client.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()["attachments"]
    assert listed["check_state"] == "infected" and listed["check_message"] == "ตรวจพบมัลแวร์ในไฟล์ (Eicar)"
    [listed] = client.get(f"/api/v1/entries/{entry['id']}", headers={**headers, "Accept-Language": "en"}
                          ).json()["attachments"]
    assert listed["check_message"] == "Malware was found (Eicar)"
    # A clean file of the same entry still downloads.
    clean = _upload(client, headers, entry["id"], "clean.pdf", make_pdf()).json()
    assert client.get(f"/api/v1/attachments/{clean['id']}/content", headers=admin).status_code == 200


def test_attachment_read_carries_the_check_note(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    bad = make_pdf(2).replace(b"trailer\n<<", b"trailer\n/Bad\n<<")  # pypdf raises AttributeError on it
    att = _upload(client, headers, entry["id"], "เสีย.pdf", bad).json()
    assert att["check_state"] == "pending" and att["check_message"] == ""
    assert _check_done(att["id"])["check_state"] == "failed"
    [th] = client.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()["attachments"]
    assert th["check_state"] == "failed" and th["check_details"] == {"error": "AttributeError"}
    assert th["check_message"] == "เปิดไฟล์ PDF ไม่ได้ ไฟล์อาจเสียหาย กรุณาบันทึกเป็น PDF ใหม่แล้วส่งอีกครั้ง"
    [en] = client.get(f"/api/v1/entries/{entry['id']}", headers={**headers, "Accept-Language": "en"}
                      ).json()["attachments"]
    assert en["check_message"] == ("The PDF cannot be opened; it may be damaged. Please export it to PDF again "
                                   "and resend.")


@pytest.mark.parametrize("version", ["abc", [1], {"v": 1}, 1.5, True, -1, ""])
def test_patch_with_a_non_integer_version_is_422_on_the_field(client, version) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    resp = client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json={"title": "ใหม่", "version": version})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "validation_failed" and list(body["errors"]) == ["version"]
    assert body["errors"]["version"] == ("ต้องระบุฉบับของผลงานเพื่อบันทึก" if version == "" else
                                         "version ต้องเป็นเลขจำนวนเต็มที่ได้รับมาพร้อมกับข้อมูลผลงานที่เปิดไว้ เช่น 3")
    assert run(Entry.select(Entry.version, Entry.title).first()) == {"version": 1, "title": ""}


def test_patch_with_the_version_as_digits_is_accepted(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    resp = client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json={"title": "ใหม่", "version": "1"})
    assert resp.status_code == 200 and resp.json()["version"] == 2


def test_422_details_are_thai_by_default_and_english_on_request(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    bad = {"version": 1, "contact_email": "not-email", "colour": "red"}
    th = client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json=bad).json()
    assert th["status_code"] == 422 and th["code"] == "validation_failed"
    assert th["detail"] == "กรุณาแก้ไขข้อมูลในช่องที่ระบุ"
    assert th["errors"]["contact_email"] == "กรุณาระบุอีเมลให้ถูกต้อง เช่น name@example.go.th"
    assert th["errors"]["colour"].startswith("ไม่รู้จักช่องข้อมูลนี้ ช่องข้อมูลของผลงานมีดังนี้: title, category")
    en = client.patch(f"/api/v1/entries/{entry['id']}", headers={**headers, "Accept-Language": "en"}, json=bad).json()
    assert en["detail"] == "Please correct the highlighted fields."
    assert en["errors"]["contact_email"] == "Enter a valid email address, e.g. name@example.go.th."
    assert en["errors"]["colour"].startswith("Unknown field. The fields of an entry are: title, category")
    # The same on create: an unknown field is refused, not silently dropped.
    created = client.post("/api/v1/editions/2569/entries", headers=headers, json={"title": "x", "colour": "red"})
    assert created.status_code == 422 and list(created.json()["errors"]) == ["colour"]
    assert run(Entry.count()) == 1 and run(Entry.select(Entry.version).first())["version"] == 1


def test_create_with_an_unknown_field_is_422_and_creates_nothing(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    resp = client.post("/api/v1/editions/2569/entries", headers={**headers, "Accept-Language": "en"},
                       json={"title": "ระบบ", "tittle": "typo"})
    assert resp.status_code == 422
    assert resp.json()["errors"] == {"tittle": "Unknown field. The fields of an entry are: " + ", ".join(entries.FIELDS)
                                     + "."}
    assert run(Entry.count()) == 0


async def _limits(max_file: int, max_entry: int) -> None:
    from contest.tables import Edition
    await Edition.update({Edition.max_file_bytes: max_file, Edition.max_entry_bytes: max_entry}).where(
        Edition.year == 2569)


def test_file_over_the_room_left_in_the_entry_is_413_entry_too_large(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    run(_limits(200_000, 250_000))
    entry = _create(client, headers)
    first = make_pdf() + b"0" * (150_000 - len(make_pdf()))
    assert _upload(client, headers, entry["id"], "first.pdf", first).status_code == 201
    left = 250_000 - len(first)  # 100,000 bytes: below the 200,000-byte file limit
    second = make_pdf() + b"0" * 190_000  # within the file limit, over what is left
    expected_th = ("ไฟล์นี้ใหญ่เกินพื้นที่ที่เหลือ ไฟล์ทั้งหมดของผลงานรวมกันได้ไม่เกิน 244.1 KB "
                   "และเหลือพื้นที่อีก 97.7 KB กรุณาลบไฟล์ที่ไม่ใช้แล้ว หรือลดขนาดไฟล์นี้")

    with_length = _upload(client, headers, entry["id"], "second.pdf", second)  # refused before reading
    without_length = client.post(f"/api/v1/entries/{entry['id']}/attachments",
                                 content=_without_length(_raw_multipart("second.pdf", second)),
                                 headers={**headers, "Content-Type": "multipart/form-data; boundary=xyzBOUNDARY"})
    for resp in (with_length, without_length):
        assert resp.status_code == 413, resp.text
        body = resp.json()
        assert (body["code"], body["status_code"], body["detail"]) == ("entry_too_large", 413, expected_th)
        assert body["remaining_bytes"] == left and body["max_entry_bytes"] == 250_000
    english = _upload(client, {**headers, "Accept-Language": "en"}, entry["id"], "second.pdf", second)
    assert english.json()["detail"] == ("The file does not fit: all files of an entry may total at most 244.1 KB, "
                                        "and 97.7 KB is left. Remove a file you no longer need, or make this one "
                                        "smaller.")
    assert run(Attachment.count()) == 1 and len(_stored()) == 1  # only the first file, no part file

    # Over the per-file limit is still file_too_large, whatever room is left.
    too_big = _upload(client, headers, entry["id"], "huge.pdf", make_pdf() + b"0" * 400_000)
    assert too_big.status_code == 413 and too_big.json()["code"] == "file_too_large"
    # No room at all: refused at once, saying 0 B is left.
    run(_limits(200_000, len(first)))
    full = _upload(client, headers, entry["id"], "tiny.pdf", make_pdf())
    assert full.status_code == 413 and full.json()["code"] == "entry_too_large"
    assert full.json()["remaining_bytes"] == 0 and "เหลือพื้นที่อีก 0 B" in full.json()["detail"]
    assert run(Attachment.count()) == 1 and len(_stored()) == 1


class _FailingStorage:
    """Local storage whose writes fail as a full disk (or an unreachable S3) would."""

    def __init__(self, inner):  # type: ignore[no-untyped-def]
        self.inner = inner

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    async def begin_write(self):  # type: ignore[no-untyped-def]
        from uploads.storage import StorageError

        pending = await self.inner.begin_write()

        class Failing:
            key = pending.key

            async def write(self, data):  # type: ignore[no-untyped-def]
                await pending.abort()
                raise StorageError("writing upload failed: [Errno 28] No space left on device")

            async def commit(self):  # type: ignore[no-untyped-def]
                raise StorageError("commit after abort")

            async def abort(self):  # type: ignore[no-untyped-def]
                await pending.abort()

        return Failing()


def test_storage_fault_during_upload_is_503_storage_unavailable(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from contest.controllers import entries_api
    from contest.storage import get_storage
    headers, _ = _setup(client)
    entry = _create(client, headers)
    monkeypatch.setattr(entries_api, "get_storage", lambda: _FailingStorage(get_storage()))
    resp = _upload(client, headers, entry["id"], "ผลงาน.pdf", make_pdf(2))
    assert resp.status_code == 503, resp.text
    assert resp.json() == {
        "status_code": 503, "code": "storage_unavailable",
        "detail": "ระบบไม่ได้บันทึกไฟล์นี้ เพราะที่จัดเก็บไฟล์ไม่พร้อมใช้งานในขณะนี้ กรุณาลองใหม่อีกครั้งในอีกสักครู่",
        "detail_en": "The file was not stored: file storage is not available right now. Please try again in a few "
                     "minutes."}
    english = _upload(client, {**headers, "Accept-Language": "en"}, entry["id"], "a.pdf", make_pdf())
    assert english.status_code == 503 and english.json()["detail"].startswith("The file was not stored")
    assert "Nothing you sent was lost" not in english.text
    assert run(Attachment.count()) == 0 and _stored() == []
    assert run(Entry.select(Entry.revision).first())["revision"] == 1


def test_applicant_state_filter_does_not_reveal_the_outcome_before_publication(client) -> None:  # type: ignore[no-untyped-def]
    from contest.tables import Edition
    headers, _ = _setup(client)
    judged = _create(client, headers)
    run(Entry.update({Entry.state: "winner", Entry.submitted_at: clock.now()}).where(Entry.id == judged["id"]))

    def listed(state: str | None = None) -> list:  # type: ignore[type-arg]
        params = {"state": state} if state else {}
        resp = client.get("/api/v1/entries", headers=headers, params=params)
        assert resp.status_code == 200
        return [(e["id"], e["state"]) for e in resp.json()]

    for verdict in ("winner", "shortlisted", "not_shortlisted", "ineligible", "eligible", "finalist"):
        assert listed(verdict) == [], verdict
    assert listed("submitted") == [(judged["id"], "submitted")]
    assert listed() == [(judged["id"], "submitted")]
    assert listed("draft") == []
    # An administrator filters on the real state.
    admin = _admin(client)
    assert [e["id"] for e in client.get("/api/v1/entries", headers=admin, params={"state": "winner"}).json()] == [
        judged["id"]]
    # Once the results are published the organisation sees, and can filter on, its outcome.
    run(Edition.update({Edition.published_at: clock.now()}).where(Edition.year == 2569))
    assert listed("winner") == [(judged["id"], "winner")]
    assert listed("submitted") == []


def test_entry_list_api_pages_with_total_and_links(client) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_submitted_entries
    _setup(client)
    ids = run(make_submitted_entries(2569, 7))
    admin = _admin(client)
    first = client.get("/api/v1/entries", headers=admin, params={"year": 2569, "per_page": 3})
    assert first.status_code == 200
    assert [e["id"] for e in first.json()] == ids[:3]
    assert first.headers["x-total-count"] == "7"
    assert first.headers["link"] == '</api/v1/entries?year=2569&page=2&per_page=3>; rel="next"'
    third = client.get("/api/v1/entries", headers=admin, params={"year": 2569, "per_page": 3, "page": 3})
    assert [e["id"] for e in third.json()] == ids[6:]
    assert third.headers["link"] == '</api/v1/entries?year=2569&page=2&per_page=3>; rel="prev"'
    filtered = client.get("/api/v1/entries", headers=admin, params={"state": "draft"})
    assert filtered.json() == [] and filtered.headers["x-total-count"] == "0" and "link" not in filtered.headers
    everything = client.get("/api/v1/entries", headers=admin)  # unpaged: every entry, as API.md's list
    assert [e["id"] for e in everything.json()] == ids and "link" not in everything.headers
    for params in ({"per_page": 10_001}, {"page": 0}, {"year": 2**63}, {"page": "two"}):
        resp = client.get("/api/v1/entries", headers=admin, params=params)
        assert resp.status_code == 422 and list(resp.json()["errors"]) == list(params), resp.text


def test_upload_with_an_unknown_kind_is_422_with_the_allowed_kinds(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    resp = client.post(f"/api/v1/entries/{entry['id']}/attachments", headers=headers, data={"kind": "poster"},
                       files={"file": ("a.pdf", make_pdf(), "application/pdf")})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "invalid_kind"
    assert body["allowed_kinds"] == ["presentation", "document", "image", "video", "other"]
    assert body["errors"] == {
        "kind": "ไม่รู้จักประเภทไฟล์นี้ กรุณาเลือกจาก: presentation, document, image, video, other"}
    assert run(Attachment.count()) == 0 and _stored() == []
    ok = client.post(f"/api/v1/entries/{entry['id']}/attachments", headers=headers, data={"kind": "document"},
                     files={"file": ("a.pdf", make_pdf(), "application/pdf")})
    assert ok.status_code == 201 and ok.json()["kind"] == "document"
    default = _upload(client, headers, entry["id"], "b.pdf", make_pdf())
    assert default.status_code == 201 and default.json()["kind"] == "document"


def test_another_organisation_cannot_download_or_delete_an_attachment(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    att = _upload(client, headers, entry["id"], "a.pdf", make_pdf()).json()
    run(make_user("applicant", email="other@example.go.th", org=run(make_org())))
    other = login_token(client, "other@example.go.th")
    for resp in (client.get(f"/api/v1/attachments/{att['id']}/content", headers=other),
                 client.delete(f"/api/v1/attachments/{att['id']}", headers=other)):
        assert resp.status_code == 404
        assert resp.json()["code"] == "attachment_not_found" and resp.json()["detail"] == "ไม่พบไฟล์นี้"
    english = client.get(f"/api/v1/attachments/{att['id']}/content", headers={**other, "Accept-Language": "en"})
    assert english.json()["detail"] == "No such file."
    assert run(Attachment.select(Attachment.deleted_at).first())["deleted_at"] is None and len(_stored()) == 1


def test_error_bodies_are_english_with_accept_language_en(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    en = {**headers, "Accept-Language": "en"}
    entry = _create(client, headers)
    assert client.get("/api/v1/entries/999999", headers=en).json() == {
        "status_code": 404, "detail": "No such entry.", "detail_en": "No such entry.", "code": "entry_not_found"}
    client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json={"title": "หนึ่ง", "version": 1})
    stale = client.patch(f"/api/v1/entries/{entry['id']}", headers=en, json={"title": "สอง", "version": 1}).json()
    assert stale["detail"] == ("Someone else saved this entry after you opened it. Review their changes and save "
                               "again.") and stale["code"] == "stale_version"
    incomplete = client.post(f"/api/v1/entries/{entry['id']}/submit", headers=en).json()
    assert incomplete["detail"] == "The entry is not complete yet." and incomplete["errors"]["summary"] == (
        "Required before submitting.")
    upload = _upload(client, en, entry["id"], "setup.pdf", b"MZ\x90\x00" + b"\x00" * 4000).json()
    assert upload["detail"] == ("This type of file is not accepted. Allowed: PDF, JPEG, PNG, WebP, MP4, DOCX, PPTX "
                                "or XLSX.")


def test_invalid_patch_after_the_deadline_is_409_deadline_passed(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    edition = run(_edition())
    clock.freeze(edition["submission_closes_at"] + timedelta(seconds=1))
    for body in ({"version": 1, "contact_email": "bad", "citizens_served": "many"}, {"version": "abc"},
                 {"title": "x"}, {"version": 1, "colour": "red"}):
        resp = client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json=body)
        assert resp.status_code == 409 and resp.json()["code"] == "deadline_passed", (body, resp.text)
    late = client.post("/api/v1/editions/2569/entries", headers=headers, json={"contact_email": "bad"})
    assert late.status_code == 409 and late.json()["code"] == "deadline_passed"
    assert run(Entry.select(Entry.version).first())["version"] == 1 and run(Entry.count()) == 1


def test_deadline_extension_api_is_audited_and_validated(client) -> None:  # type: ignore[no-untyped-def]
    from contest.tables import AuditEvent, DeadlineExtension
    headers, org = _setup(client)
    entry_id, _ = _complete_entry(client, headers)
    admin = _admin(client)
    edition = run(_edition())
    closes = edition["submission_closes_at"]
    url = "/api/v1/editions/2569/extensions"
    until = clock.to_bangkok(closes + timedelta(days=3)).replace(microsecond=0)

    def post(body, who=admin):  # type: ignore[no-untyped-def]
        return client.post(url, headers=who, json=body)

    bad_date = post({"organisation_code": org, "until": "next tuesday", "reason": "น้ำท่วม"})
    assert bad_date.status_code == 422 and list(bad_date.json()["errors"]) == ["until"]
    assert bad_date.json()["errors"]["until"] == "กรุณากรอกกำหนดส่งใหม่เป็นวันที่และเวลา"
    # The far ends of the calendar overflow when converted to UTC: a clear 422, not a 500.
    for far in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1999-12-31T23:00:00+07:00"):
        out_of_range = post({"organisation_code": org, "until": far, "reason": "น้ำท่วม"})
        assert out_of_range.status_code == 422 and list(out_of_range.json()["errors"]) == ["until"], far
    early = post({"organisation_code": org, "until": (closes - timedelta(days=1)).isoformat(), "reason": "ไฟดับ"})
    assert early.status_code == 422 and list(early.json()["errors"]) == ["until"]
    no_reason = post({"organisation_code": org, "until": until.isoformat(), "reason": "  "})
    assert no_reason.status_code == 422 and list(no_reason.json()["errors"]) == ["reason"]
    missing = post({"organisation_code": org, "until": until.isoformat()})
    assert missing.status_code == 422 and list(missing.json()["errors"]) == ["reason"]
    unknown = post({"organisation_code": "0000000", "until": until.isoformat(), "reason": "ไฟดับ", "x": 1})
    assert unknown.status_code == 422 and set(unknown.json()["errors"]) == {"x"}
    nobody = post({"organisation_code": "0000000", "until": until.isoformat(), "reason": "ไฟดับ"})
    assert list(nobody.json()["errors"]) == ["organisation_code"]
    assert post({"organisation_code": org, "until": until.isoformat(), "reason": "ไฟดับ"}, headers).status_code == 403
    assert run(DeadlineExtension.count()) == 0

    ok = post({"organisation_code": org, "until": until.isoformat(), "reason": "น้ำท่วมสำนักงาน"})
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert (body["year"], body["organisation_code"], body["reason"]) == (2569, org, "น้ำท่วมสำนักงาน")
    assert datetime.fromisoformat(body["until"]) == until == datetime.fromisoformat(body["deadline"])
    [event] = run(AuditEvent.select().where(AuditEvent.action == "deadline.extend"))
    assert (event["subject_type"], event["subject_id"], event["actor_email"]) == (
        "organisation", org, "admin@example.go.th")
    listed = client.get(url, headers=admin).json()
    assert [(e["organisation_code"], e["reason"]) for e in listed] == [(org, "น้ำท่วมสำนักงาน")]
    assert client.get(url, headers=headers).status_code == 403
    # The organisation's deadline moved: it submits after the edition's deadline.
    clock.freeze(closes + timedelta(days=1))
    assert client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers).status_code == 200


def test_extension_after_eligibility_lets_the_organisation_edit_again_and_hides_the_verdict(client) -> None:  # type: ignore[no-untyped-def]
    from contest.domain import outcomes
    from contest.domain.audit import SYSTEM
    from contest.tables import AuditEvent, Entry, Organisation

    headers, org = _setup(client)
    entry_id, _ = _complete_entry(client, headers)
    assert client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers).status_code == 200
    admin = _admin(client)
    closes = run(_edition())["submission_closes_at"]
    clock.freeze(closes + timedelta(hours=1))
    edited_at = run(Entry.select(Entry.updated_at).where(Entry.id == entry_id).first())["updated_at"]
    run(outcomes.set_eligibility(actor=SYSTEM, entry_ids=[entry_id], eligible=False, reason="ไม่ครบ"))
    # "My entries" shows updated_at: a verdict must not move it (its date would tell).
    assert run(Entry.select(Entry.updated_at).where(Entry.id == entry_id).first())["updated_at"] == edited_at
    # Before publication an edit attempt says "submitted", never the verdict (nor a new date).
    version = client.get(f"/api/v1/entries/{entry_id}", headers=headers).json()["version"]
    refused = client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json={"title": "x", "version": version})
    assert refused.status_code == 409 and refused.json()["code"] == "deadline_passed"
    assert "ineligible" not in refused.text and "ไม่ผ่าน" not in refused.text

    until = closes + timedelta(days=3)
    ok = client.post("/api/v1/editions/2569/extensions", headers=admin,
                     json={"organisation_code": f" {org} ", "until": until.isoformat(), "reason": "น้ำท่วม"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["organisation_code"] == org and ok.json()["eligibility_cleared"] == [entry_id]
    row = run(Entry.select(Entry.state, Entry.eligibility_reason).where(Entry.id == entry_id).first())
    assert row == {"state": "submitted", "eligibility_reason": ""}
    [cleared] = run(AuditEvent.select().where(AuditEvent.action == "entry.eligibility_cleared"))
    assert cleared["subject_id"] == str(entry_id)
    [extended] = run(AuditEvent.select().where(AuditEvent.action == "deadline.extend"))
    assert extended["subject_id"] == org  # the normalised code, so the entry's history finds it
    # The extension is worth something: the organisation edits and re-submits.
    edited = client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json={"title": "ชื่อใหม่", "version": version})
    assert edited.status_code == 200, edited.text
    assert client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers).status_code == 200
    # Once screening has begun no deadline can move.
    run(Entry.update({Entry.state: "eligible"}).where(Entry.id == entry_id))
    from contest.tables import Edition
    run(Edition.update({Edition.state: "screening"}).where(Edition.year == 2569))
    late = client.post("/api/v1/editions/2569/extensions", headers=admin,
                       json={"organisation_code": org, "until": (until + timedelta(days=1)).isoformat(),
                             "reason": "อีกครั้ง"})
    assert late.status_code == 409 and late.json()["code"] == "screening_opened"
    assert run(Entry.select(Entry.state).where(Entry.id == entry_id).first())["state"] == "eligible"
    assert run(Organisation.count()) == 1


def test_not_editable_error_names_the_state_the_organisation_may_know(client) -> None:  # type: ignore[no-untyped-def]
    from contest.tables import Entry

    headers, org = _setup(client)
    entry_id, _ = _complete_entry(client, headers)
    assert client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers).status_code == 200
    version = client.get(f"/api/v1/entries/{entry_id}", headers=headers).json()["version"]
    run(Entry.update({Entry.state: "shortlisted"}).where(Entry.id == entry_id))  # a verdict, unpublished
    for resp in (client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json={"title": "x", "version": version}),
                 client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers),
                 client.post(f"/api/v1/entries/{entry_id}/withdraw", headers=headers)):
        assert resp.status_code == 409 and resp.json()["code"] == "not_editable", resp.text
        assert resp.json()["state"] == "submitted" and "shortlisted" not in resp.text


def test_version_written_in_other_digits_is_422_not_500(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    for odd in ("²", "①", "٣"):
        resp = client.patch(f"/api/v1/entries/{entry['id']}", headers=headers, json={"title": "x", "version": odd})
        assert resp.status_code == 422 and list(resp.json()["errors"]) == ["version"], resp.text
    assert client.get("/api/v1/entries", headers=headers, params={"page": 10**20}).status_code == 422


def test_delete_attachment_takes_the_entry_lock_like_submit(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    att = _upload(client, headers, entry["id"], "a.pdf", make_pdf()).json()
    locked: list[tuple[str, int]] = []
    real = attachments.lock_row

    async def recording(table: str, row_id: int) -> None:
        locked.append((table, row_id))
        await real(table, row_id)

    monkeypatch.setattr(attachments, "lock_row", recording)
    assert client.delete(f"/api/v1/attachments/{att['id']}", headers=headers).status_code == 200
    assert locked == [("entry", entry["id"])]


def test_delete_during_a_submit_never_loses_a_file_its_receipt_lists(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A delete that arrives while a submit is writing its receipt waits for it (the entry's
    lock), then sees the receipt and keeps the bytes. Without the lock, on PostgreSQL, the
    delete would finish in between and remove a file the receipt lists. (On SQLite the two
    write transactions are serialised anyway, so the race only exists on PostgreSQL.)"""
    from contest.db import is_sqlite

    if is_sqlite():
        pytest.skip("SQLite serialises every write transaction: the race needs PostgreSQL")
    import asyncio

    from contest.domain import accounts
    from contest.storage import get_storage
    from tests.factories import PASSWORD
    headers, _ = _setup(client)
    entry_id, pdf = _complete_entry(client, headers)
    [att] = client.get(f"/api/v1/entries/{entry_id}", headers=headers).json()["attachments"]
    actor = run(accounts.authenticate("staff@example.go.th", PASSWORD))
    storage = get_storage()
    real_append = submission.append_event

    async def scenario() -> None:
        submitting, deleted = asyncio.Event(), asyncio.Event()

        async def append_event(**kw):  # type: ignore[no-untyped-def]
            if kw.get("action") == "entry.submit":  # the receipt is written, not yet committed
                submitting.set()
                try:
                    await asyncio.wait_for(deleted.wait(), timeout=2)
                except TimeoutError:
                    pass  # the delete is waiting for this transaction: carry on and commit
            return await real_append(**kw)

        async def remove() -> None:  # what DELETE /api/v1/attachments/{id} does
            await submitting.wait()
            key = await attachments.delete_attachment(actor=actor, attachment_id=att["id"])
            deleted.set()
            if key:
                await storage.delete(key)

        monkeypatch.setattr(submission, "append_event", append_event)
        await asyncio.gather(submission.submit_entry(actor=actor, entry_id=entry_id), remove())

    run(scenario())
    [receipt] = run(Receipt.select(Receipt.files))
    assert [f["attachment_id"] for f in stored_json(receipt["files"], [])] == [att["id"]]
    row = run(Attachment.select(Attachment.storage_key, Attachment.deleted_at).where(
        Attachment.id == att["id"]).first())
    assert row["deleted_at"] is not None  # removed from the draft …
    assert run(storage.exists(row["storage_key"]))  # … but what the receipt lists is kept
    admin = _admin(client)
    assert client.get(f"/api/v1/attachments/{att['id']}/content", headers=admin).content == pdf


def test_a_failure_after_the_row_is_written_never_deletes_its_bytes(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The upload's cleanup deletes only an object no row records (a cancellation or error can
    come right after add_attachment committed)."""
    from contest.controllers import entries_api
    headers, _ = _setup(client)
    entry = _create(client, headers)
    real = attachments.add_attachment

    async def committed_then_failed(**kw):  # type: ignore[no-untyped-def]
        await real(**kw)
        raise RuntimeError("connection reset after the commit")

    monkeypatch.setattr(entries_api.attachments, "add_attachment", committed_then_failed)
    resp = _upload(client, headers, entry["id"], "a.pdf", make_pdf())
    assert resp.status_code == 500
    [row] = run(Attachment.select(Attachment.storage_key))
    from contest.storage import get_storage
    assert run(get_storage().exists(row["storage_key"])) and len(_stored()) == 1


def test_a_drafts_written_out_insert_and_save_store_what_the_query_builder_stored(db: str) -> None:
    """Creating a draft and saving its fields use written-out statements; the rows they leave
    are the rows the query builder left: every column, its value and its type, as read back."""
    from contest.db import fetch
    from contest.domain.editions import edition_row
    from contest.domain.entries import clean_fields

    run(make_edition(2569))
    org = run(fetch("SELECT id FROM organisation WHERE code = {}", run(make_org())))[0]
    user_id = run(make_user("applicant"))
    edition = run(edition_row(2569))
    full, errors = clean_fields(COMPLETE, edition)
    assert not errors and full["links"] and full["in_service_since"]

    def read(entry_id: int) -> dict[str, object]:
        row = run(fetch("SELECT * FROM entry WHERE id = {}", entry_id))[0]
        return {k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at")}

    for values in ({}, {"title": "ร่าง"}, full):
        built = run(Entry.insert(Entry(edition=edition["id"], organisation=org["id"], created_by=user_id,
                                       **values)).returning(Entry.id))[0]["id"]
        returned = run(fetch(submission._INSERT_ENTRY,
                             *submission.new_entry_values(edition["id"], org["id"], user_id, values)))[0]
        written = returned["id"]
        assert returned == run(fetch("SELECT * FROM entry WHERE id = {}", written))[0]  # the draft's reply reads it
        assert read(written) == read(built)
        assert {k: type(v) for k, v in read(written).items()} == {k: type(v) for k, v in read(built).items()}
        stamps = run(fetch("SELECT created_at, updated_at FROM entry WHERE id = {}", written))[0]
        assert all(isinstance(v, datetime) and v.tzinfo is not None for v in stamps.values())

        now = clock.now()
        changes = {**full, "title": "แก้แล้ว", "links": ["https://example.go.th/new"], "consent_publish": False}
        run(Entry.update({**changes, Entry.version: Entry.version + 1, Entry.revision: Entry.revision + 1,
                          Entry.updated_at: now}).where((Entry.id == built) & (Entry.version == 1)))
        saved = run(fetch(submission._update_sql(tuple(changes)),
                          *(submission._stored(k, v) for k, v in changes.items()), now, written, 1))
        assert len(saved) == 1 and saved[0]["version"] == 2
        assert saved[0] == run(fetch("SELECT * FROM entry WHERE id = {}", written))[0]  # the save's reply reads it
        assert read(written) == read(built)
        assert {k: type(v) for k, v in read(written).items()} == {k: type(v) for k, v in read(built).items()}
        assert run(fetch(submission._update_sql(("title",)), "x", now, written, 1)) == []  # a stale version
    with pytest.raises(ValueError):
        submission._update_sql(("state",))
    run(Entry.update({Entry.state: EntryState.withdrawn}).where(Entry.id == written))
    assert run(fetch(submission._update_sql(("title",)), "x", now, written, 2)) == []  # no longer editable


def test_the_edition_read_with_the_organisations_deadline_is_the_edition_and_its_deadline(db: str) -> None:
    """The edition and an organisation's deadline read in one statement are the edition's row and
    ``deadline_for``: without an extension, with one, and with a later one beside an earlier."""
    from contest.db import fetch
    from contest.domain.editions import edition_by_id, edition_row

    run(make_edition(2569))
    codes = [run(make_org()), run(make_org())]
    orgs = [run(fetch("SELECT id FROM organisation WHERE code = {}", code))[0]["id"] for code in codes]
    edition = run(edition_row(2569))
    closes = edition["submission_closes_at"]

    def same() -> None:
        for org in orgs:
            expected = (run(edition_by_id(edition["id"])), run(extensions.deadline_for(edition, org)))
            assert run(extensions.edition_with_deadline(org, edition_id=edition["id"])) == expected
            assert run(extensions.edition_with_deadline(org, year=2569)) == expected
            assert {k: type(v) for k, v in expected[0].items()} == {
                k: type(v) for k, v in run(extensions.edition_with_deadline(org, year=2569))[0].items()}

    same()
    for days in (3, 1):
        run(extensions.extend_deadline(actor=SYSTEM, year=2569, organisation_code=codes[0],
                                       closes_at=closes + timedelta(days=days), reason="น้ำท่วมสำนักงาน"))
        same()
    assert run(extensions.edition_with_deadline(orgs[0], year=2569))[1] == closes + timedelta(days=3)
    assert run(extensions.edition_with_deadline(orgs[1], year=2569))[1] == closes
    with pytest.raises(NotFound):
        run(extensions.edition_with_deadline(orgs[0], year=2570))


def test_a_deadline_known_from_earlier_in_the_request_is_read_again_once_it_has_passed(db: str) -> None:
    """``require_open`` keeps a deadline read earlier while it is ahead (deadlines only move later)
    and reads it again once passed: an extension granted meanwhile still lets the change in."""
    from contest.db import fetch
    from contest.domain.editions import edition_row

    run(make_edition(2569))
    code = run(make_org())
    org = run(fetch("SELECT id FROM organisation WHERE code = {}", code))[0]["id"]
    edition = run(edition_row(2569))
    closes = edition["submission_closes_at"]
    clock.freeze(closes - timedelta(hours=1))
    assert run(entries.require_open(edition, org, closes)) == closes
    clock.freeze(closes + timedelta(hours=1))
    with pytest.raises(Conflict):
        run(entries.require_open(edition, org, closes))
    run(extensions.extend_deadline(actor=SYSTEM, year=2569, organisation_code=code,
                                   closes_at=closes + timedelta(days=2), reason="ไฟฟ้าดับทั้งตำบล"))
    assert run(entries.require_open(edition, org, closes)) == closes + timedelta(days=2)


def test_the_entry_read_with_its_edition_and_deadline_is_the_three_reads(client) -> None:  # type: ignore[no-untyped-def]
    """An entry, its edition and its organisation's deadline read in one statement are its row,
    its edition's and ``deadline_for``, locked or not, before and after an extension."""
    from contest.domain.editions import edition_by_id

    _, org = _setup(client)
    headers = login_token(client, "staff@example.go.th")
    entry_id = _create(client, headers)["id"]

    def same() -> None:
        row = run(entries.entry_row(entry_id))
        assert row is not None
        edition = run(edition_by_id(row["edition"]))
        expected = (row, edition, run(extensions.deadline_for(edition, row["organisation"])))
        assert run(extensions.entry_with_deadline(entry_id)) == expected
        assert run(extensions.entry_with_deadline(entry_id, locked=True)) == expected  # outside a transaction too
        found = run(extensions.entry_with_deadline(entry_id))
        assert found is not None and {k: type(v) for k, v in found[1].items()} == {
            k: type(v) for k, v in edition.items()}

    same()
    closes = run(_edition())["submission_closes_at"]
    run(extensions.extend_deadline(actor=SYSTEM, year=2569, organisation_code=org,
                                   closes_at=closes + timedelta(days=2), reason="ถนนขาด เดินทางไม่ได้"))
    same()
    assert run(extensions.entry_with_deadline(entry_id + 1000)) is None


def test_an_upload_recorded_meanwhile_by_its_earlier_try_is_returned_and_nothing_changes(client) -> None:  # type: ignore[no-untyped-def]
    """Recording a file whose key an earlier try recorded while its body arrived returns that
    file and leaves the entry as it was (its revision too); once that file is removed the key
    names a new file."""
    from contest.domain.audit import Actor

    headers, org = _setup(client)
    entry_id = _create(client, headers)["id"]
    user = run(fetch_one("SELECT id, organisation FROM app_user WHERE email = {}", "staff@example.go.th"))
    actor = Actor(id=user["id"], email="staff@example.go.th", role="applicant", organisation_id=user["organisation"])
    allowance = run(attachments.prepare_upload(actor=actor, entry_id=entry_id))

    def record(storage_key: str) -> dict:  # type: ignore[type-arg]
        return run(attachments.add_attachment(
            actor=actor, entry_id=entry_id, name="ผลงาน.pdf", size=1000, content_type="application/pdf",
            sha256="a" * 64, storage_key=storage_key, idempotency_key="upload-0009-abcdef", allowance=allowance))

    first = record("k/first")
    before = run(entries.entry_row(entry_id))
    again = record("k/again")
    assert again["id"] == first["id"] and again["storage_key"] == "k/first"
    assert run(entries.entry_row(entry_id)) == before and run(Attachment.count()) == 1
    run(attachments.delete_attachment(actor=actor, attachment_id=first["id"]))
    third = record("k/third")
    assert third["id"] != first["id"] and third["upload_key"] == f"{entry_id}:upload-0009-abcdef"
    assert run(fetch_one("SELECT upload_key FROM attachment WHERE id = {}", first["id"]))["upload_key"] is None
    assert run(entries.entry_row(entry_id))["revision"] == before["revision"] + 2  # type: ignore[index]


async def fetch_one(sql: str, *args):  # type: ignore[no-untyped-def]
    from contest.db import fetch
    return (await fetch(sql, *args))[0]


def test_a_checks_written_out_record_stores_what_the_query_builder_stored(client) -> None:  # type: ignore[no-untyped-def]
    """The check job's outcome written with a written-out statement: the same values and types
    as the query builder's update left."""
    headers, _ = _setup(client)
    entry_id = _create(client, headers)["id"]
    ids = [_upload(client, headers, entry_id, f"ผลงาน{n}.pdf", make_pdf(n + 1)).json()["id"] for n in (1, 2)]
    for _ in range(500):  # the app's own job runner checks them first
        if run(Attachment.count().where(Attachment.check_state == "pending")) == 0:
            break
        time.sleep(0.02)
    assert run(Attachment.count().where(Attachment.check_state == "pending")) == 0
    details = {"pages": 3, "note": "ภาษาไทย", "nested": {"a": [1, 2]}}
    run(Attachment.update({Attachment.check_state: "passed", Attachment.check_details: details,
                           Attachment.check_message: "ผ่าน"}).where(Attachment.id == ids[0]))
    run(attachments.record_check(attachment_id=ids[1], state="passed", details=details, message="ผ่าน"))
    rows = [run(fetch_one("SELECT check_state, check_details, check_message FROM attachment WHERE id = {}", i))
            for i in ids]
    assert rows[0] == rows[1] and stored_json(rows[1]["check_details"], None) == details


def test_a_submissions_writes_leave_the_rows_the_separate_statements_leave(client) -> None:  # type: ignore[no-untyped-def]
    """The submission's claim, receipt and mail, and a file with its check's job (each one
    statement on PostgreSQL): the receipt is numbered by the entry's count of submissions, and
    the jobs' outbox rows are the rows ``outbox.add_job`` writes for the same jobs."""
    from contest.db import fetch

    headers, _ = _setup(client)
    entry_id, _ = _complete_entry(client, headers)
    for n in (1, 2):
        resp = client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["receipt"]["number"] == f"DLG2569-{entry_id:06d}-{n:02d}"
        client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json={"title": f"ฉบับที่ {n + 1}",
                                                                          "version": 1 + n})
    receipts = run(fetch("SELECT sequence, revision, number FROM receipt WHERE entry = {} ORDER BY id", entry_id))
    assert [r["sequence"] for r in receipts] == [1, 2]
    assert run(fetch_one("SELECT submission_count FROM entry WHERE id = {}", entry_id))["submission_count"] == 2
    assert_written_as_add_job_writes(f"receipt:{receipts[0]['number']}")
    files = run(fetch("SELECT id FROM attachment WHERE entry = {}", entry_id))
    assert files and all(assert_written_as_add_job_writes(f"check:{f['id']}") for f in files)


def assert_written_as_add_job_writes(dedupe_key: str) -> bool:
    """The outbox row of ``dedupe_key`` is the row ``outbox.add_job`` writes for the same job,
    column by column and type by type (but its id, key, times and how far it has run)."""
    from contest.db import atomic
    from contest.domain import outbox

    written = run(fetch_one("SELECT * FROM outbox WHERE dedupe_key = {}", dedupe_key))

    async def add_same() -> int | None:
        async with atomic():
            return await outbox.add_job(written["job"], stored_json(written["args"], {}),
                                        dedupe_key=f"same-as-{dedupe_key}")

    added = run(fetch_one("SELECT * FROM outbox WHERE id = {}", run(add_same())))
    skip = ("id", "dedupe_key", "created_at", "available_at", "state", "attempts", "claimed_until", "done_at")
    assert {k: v for k, v in written.items() if k not in skip} == {k: v for k, v in added.items() if k not in skip}
    stamps = ("created_at", "available_at")  # the state may have moved on: the app's job runner ran it
    assert {k: type(v) for k, v in written.items() if k not in skip or k in stamps} == {
        k: type(v) for k, v in added.items() if k not in skip or k in stamps}
    return True
