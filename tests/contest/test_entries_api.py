"""Submission through the JSON API: drafts, streamed attachments, deadline, receipts (issue 3)."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

import pytest

from contest import clock
from contest.domain import entries
from contest.domain.audit import SYSTEM
from contest.tables import Attachment, Entry, Receipt
from tests.conftest import run
from tests.factories import login_token, make_edition, make_org, make_user, wait_for_mails
from uploads.testing import make_pdf, make_png

pytestmark = pytest.mark.integration

COMPLETE = {
    "title": "ระบบแจ้งเหตุเดือดร้อนออนไลน์", "category": "service", "summary": "ประชาชนแจ้งเหตุผ่าน LINE",
    "problem": "แจ้งเหตุล่าช้า", "solution": "แชตบอตและแดชบอร์ด", "citizens_served": 12000,
    "results": "ตอบสนองเร็วขึ้น 3 เท่า", "in_service_since": "2024-06-01", "technology": "LINE OA, PostgreSQL",
    "links": ["https://example.go.th/service"], "video_url": "https://video.example/x",
    "contact_name": "สมหญิง ใจดี", "contact_email": "it@example.go.th", "contact_phone": "053 123 456",
    "consent_publish": True,
}


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
    assert resp.status_code == 413
    assert run(Attachment.count()) == 0


async def _shrink_limits() -> None:
    from contest.tables import Edition
    await Edition.update({Edition.max_file_bytes: 200_000, Edition.max_entry_bytes: 300_000}).where(Edition.year == 2569)


def test_malformed_multipart_is_400(client) -> None:  # type: ignore[no-untyped-def]
    headers, _ = _setup(client)
    entry = _create(client, headers)
    resp = client.post(f"/api/v1/entries/{entry['id']}/attachments", content=b"this is not multipart",
                       headers={**headers, "Content-Type": "multipart/form-data; boundary=abc"})
    assert resp.status_code == 400 and resp.json()["code"] in ("malformed_multipart", "incomplete_upload")
    assert run(Attachment.count()) == 0


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
    assert patch.status_code == 409
    up = _upload(client, headers, entry_id, "late.pdf", make_pdf())
    assert up.status_code == 409
    assert run(Receipt.count()) == 0 and run(Attachment.count()) == 1
    assert run(Entry.select(Entry.state, Entry.title).first()) == {"state": "draft", "title": COMPLETE["title"]}


def test_deadline_extension_for_one_organisation(client) -> None:  # type: ignore[no-untyped-def]
    headers, org = _setup(client)
    entry_id, _ = _complete_entry(client, headers)
    edition = run(_edition())
    closes = edition["submission_closes_at"]
    run(entries.extend_deadline(actor=SYSTEM, year=2569, organisation_code=org, closes_at=closes + timedelta(days=2),
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
