"""Appeals: who may appeal, when, how often, the two signatures of a decision, the correction an
upheld appeal makes to the published results, the mails, and the pages."""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import timedelta

import pytest

from contest import (
    clock,
    jobs,  # noqa: F401 - registers the job handlers
)
from contest.domain import announcement, outbox
from contest.domain.audit import SYSTEM, verify_chain
from contest.tables import Appeal, AuditEvent, Edition, Entry, ResultCorrection, ResultSnapshot
from tests.conftest import run
from tests.contest.appeal_world import INELIGIBLE_OWNER, OTHER, OWNER, WINNER_OWNER, build
from tests.factories import browser_login, csrf, decoded_body, login_token, make_user, wait_for_mails
from tests.judging.support import YEAR
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration

REASON = "คะแนนของกรรมการคนที่สองต่ำผิดปกติ ขอให้ทบทวน"


def _appeal(client, entry_id: int, email: str = OWNER, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/entries/{entry_id}/appeals", json=body or {"reason": REASON},
                       headers=login_token(client, email))


def _published_at():  # type: ignore[no-untyped-def]
    return run(Edition.select(Edition.published_at).where(Edition.year == YEAR).first())["published_at"]


def test_owner_appeals_once_within_the_window(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    resp = _appeal(client, w.entry_id)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["state"] == "open" and body["id"] > 0 and body["entry_id"] == w.entry_id
    assert body["due_at"].startswith((clock.now() + timedelta(days=30)).date().isoformat()[:7])
    assert body["signatures"] == 0 and body["outcome"] is None
    again = _appeal(client, w.entry_id, reason="อีกครั้ง")
    assert again.status_code == 409 and again.json()["code"] == "appeal_exists", again.text
    assert "อุทธรณ์" in again.json()["detail"] and "once" in again.json()["detail_en"]
    assert run(Appeal.count()) == 1
    event = run(AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "appeal.lodge").first())
    assert json.loads(event["after"])["reason"] == REASON
    received = wait_for_mails(OWNER)
    assert any("อุทธรณ์" in decoded_body(m) for m in received)


def test_the_window_closes_after_the_editions_days(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    published = _published_at()
    clock.freeze(published + timedelta(days=15) - timedelta(seconds=1))
    assert _appeal(client, w.ineligible_id, INELIGIBLE_OWNER).status_code == 201
    clock.freeze(published + timedelta(days=15))
    late = _appeal(client, w.entry_id)
    assert late.status_code == 409 and late.json()["code"] == "appeal_window_closed", late.text
    assert "closed_at" in late.json()
    assert run(Appeal.count()) == 1


def test_the_edition_sets_its_window(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client, appeal_days=3)
    assert client.get(f"/api/v1/editions/{YEAR}").json()["appeal_days"] == 3
    clock.freeze(_published_at() + timedelta(days=3, minutes=1))
    assert _appeal(client, w.entry_id).json()["code"] == "appeal_window_closed"


def test_the_window_is_an_edition_setting_fixed_at_publication(client) -> None:  # type: ignore[no-untyped-def]
    build(client, publish=False)
    run(make_user("admin", email="editor@dga.or.th"))
    headers = login_token(client, "editor@dga.or.th")
    assert client.get(f"/api/v1/editions/{YEAR}").json()["appeal_days"] == 15  # the default
    bad = client.patch(f"/api/v1/editions/{YEAR}", json={"appeal_days": 0}, headers=headers)
    assert bad.status_code == 422 and "appeal_days" in bad.json()["errors"], bad.text
    ok = client.patch(f"/api/v1/editions/{YEAR}", json={"appeal_days": 30}, headers=headers)
    assert ok.status_code == 200 and ok.json()["appeal_days"] == 30, ok.text
    run(announcement.publish_results(actor=SYSTEM, year=YEAR))
    frozen = client.patch(f"/api/v1/editions/{YEAR}", json={"appeal_days": 40}, headers=headers)
    assert frozen.status_code == 409 and frozen.json()["code"] == "edition_published"
    # The edition form has the field.
    browser_login(client, "editor@dga.or.th")
    page = client.get(f"/admin/editions/{YEAR}/edit")
    assert 'name="appeal_days"' in page.text and 'value="30"' in page.text


def test_only_refused_entries_can_be_appealed(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    winner = _appeal(client, w.winner_id, WINNER_OWNER)
    assert winner.status_code == 409 and winner.json()["code"] == "not_appealable", winner.text
    ineligible = _appeal(client, w.ineligible_id, INELIGIBLE_OWNER)
    assert ineligible.status_code == 201, ineligible.text


def test_nothing_to_appeal_before_publication(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client, publish=False)
    resp = _appeal(client, w.entry_id)
    assert resp.status_code == 409 and resp.json()["code"] == "not_published", resp.text
    assert run(Appeal.count()) == 0


def test_only_the_entrys_own_verified_staff_may_appeal(client) -> None:  # type: ignore[no-untyped-def]
    from contest.domain import accounts, memberships
    from contest.domain.audit import SYSTEM, Actor
    from contest.tables import User
    from tests.factories import PASSWORD

    w = build(client)
    assert client.post(f"/api/v1/entries/{w.entry_id}/appeals", json={"reason": REASON}).status_code == 401
    assert _appeal(client, w.entry_id, OTHER).status_code == 404
    admin = _appeal(client, w.entry_id, w.admins[0])
    assert admin.status_code == 403 and admin.json()["code"] in ("applicant_only", "forbidden", "admin_only")
    assert _appeal(client, w.entry_id, w.reviewer_emails[0]).status_code == 403
    # Someone who asked to join the organisation and is not yet approved.
    code = run(Entry.select(Entry.organisation.code).where(Entry.id == w.entry_id).first())["organisation.code"]
    run(accounts.create_user(actor=SYSTEM, email="newcomer@appeal.example.go.th", password=PASSWORD,
                             role="applicant"))
    newcomer = run(User.select(User.id).where(User.email == "newcomer@appeal.example.go.th").first())["id"]
    run(memberships.request_membership(actor=Actor(id=newcomer, email="newcomer@appeal.example.go.th",
                                                   role="applicant"), organisation_code=code))
    pending = _appeal(client, w.entry_id, "newcomer@appeal.example.go.th")
    assert pending.status_code == 403 and pending.json()["code"] == "membership_pending", pending.text
    assert run(Appeal.count()) == 0


def test_bad_input_changes_nothing(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    headers = login_token(client, OWNER)
    for body in ({}, {"reason": "   "}, {"reason": "ก" * 5001}, {"reason": 12}):
        resp = client.post(f"/api/v1/entries/{w.entry_id}/appeals", json=body, headers=headers)
        assert resp.status_code == 422 and "reason" in resp.json()["errors"], (body, resp.text)
    assert run(Appeal.count()) == 0


def _decide(client, appeal_id: int, email: str, outcome: str, reason: str = ""):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/appeals/{appeal_id}/decide", json={"outcome": outcome, "reason": reason},
                       headers=login_token(client, email))


def test_a_decision_needs_two_administrators(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    appeal_id = _appeal(client, w.entry_id).json()["id"]
    before = run(ResultSnapshot.select(ResultSnapshot.sha256).first())["sha256"]
    assert _decide(client, appeal_id, OWNER, "dismissed", "ไม่").status_code == 403
    bad = _decide(client, appeal_id, w.admins[0], "maybe", "x")
    assert bad.status_code == 422 and "outcome" in bad.json()["errors"]
    no_reason = _decide(client, appeal_id, w.admins[0], "dismissed", "")
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["errors"]
    first = _decide(client, appeal_id, w.admins[0], "dismissed", "คะแนนเป็นไปตามเกณฑ์")
    assert first.status_code == 200 and first.json()["state"] == "open" and first.json()["signatures"] == 1
    assert first.json()["outcome"] is None and first.json()["decision_reason"] == ""  # not final yet
    same = _decide(client, appeal_id, w.admins[0], "dismissed", "")
    assert same.status_code == 409 and same.json()["code"] == "already_signed", same.text
    final = _decide(client, appeal_id, w.admins[1], "dismissed")
    assert final.status_code == 200, final.text
    assert final.json()["state"] == "dismissed" and final.json()["signatures"] == 2
    assert final.json()["decision_reason"] == "คะแนนเป็นไปตามเกณฑ์"
    again = _decide(client, appeal_id, w.admins[1], "upheld", "เปลี่ยนใจ")
    assert again.status_code == 409 and again.json()["code"] == "appeal_decided"
    # A dismissed appeal changes no result.
    assert run(ResultSnapshot.select(ResultSnapshot.sha256).first())["sha256"] == before
    assert run(Entry.select(Entry.state).where(Entry.id == w.entry_id).first())["state"] == "not_shortlisted"
    assert run(ResultCorrection.count()) == 0
    mails = [decoded_body(m) for m in wait_for_mails(OWNER, 2)]
    assert any("คะแนนเป็นไปตามเกณฑ์" in m for m in mails), mails
    actions = [r["action"] for r in run(AuditEvent.select(AuditEvent.action).where(
        AuditEvent.subject_id == str(w.entry_id)).order_by(AuditEvent.seq))]
    assert actions[-4:] == ["appeal.lodge", "appeal.sign", "appeal.sign", "appeal.decide"]


def test_another_proposal_voids_the_first_signature(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    appeal_id = _appeal(client, w.entry_id).json()["id"]
    _decide(client, appeal_id, w.admins[0], "dismissed", "ไม่มีเหตุ")
    other = _decide(client, appeal_id, w.admins[1], "upheld", "กรรมการให้คะแนนผิดเกณฑ์")
    assert other.status_code == 200 and other.json()["state"] == "open" and other.json()["signatures"] == 1
    row = run(Appeal.select().first())
    assert row["proposed_outcome"] == "upheld" and row["first_signed_by"] is not None
    final = _decide(client, appeal_id, w.admins[0], "upheld")
    assert final.json()["state"] == "upheld", final.text


def test_an_upheld_appeal_corrects_the_results_with_a_new_snapshot(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    old = client.get(f"/api/v1/editions/{YEAR}/results").json()
    assert w.entry_id not in [a["entry_id"] for a in old["awarded"]]
    appeal_id = _appeal(client, w.entry_id).json()["id"]
    _decide(client, appeal_id, w.admins[0], "upheld", "กรรมการให้คะแนนผิดเกณฑ์ข้อ 2")
    final = _decide(client, appeal_id, w.admins[1], "upheld")
    assert final.status_code == 200 and final.json()["state"] == "upheld", final.text
    new = client.get(f"/api/v1/editions/{YEAR}/results").json()
    assert new["snapshot_sha256"] != old["snapshot_sha256"]
    assert final.json()["correction_sha256"] == new["snapshot_sha256"]
    assert w.entry_id in [a["entry_id"] for a in new["awarded"]]
    [correction] = new["corrections"]
    assert correction["previous_sha256"] == old["snapshot_sha256"] and correction["entry_id"] == w.entry_id
    assert correction["appeal_id"] == appeal_id and "อุทธรณ์" in correction["note_th"]
    # The replaced snapshot is kept exactly as hashed, linked to the one that replaced it.
    kept = run(ResultCorrection.select().first())
    assert kept["previous_sha256"] == old["snapshot_sha256"] and kept["sha256"] == new["snapshot_sha256"]
    assert hashlib.sha256(kept["previous_payload"].encode()).hexdigest() == old["snapshot_sha256"]
    stored = run(ResultSnapshot.select().first())
    assert hashlib.sha256(stored["payload"].encode()).hexdigest() == new["snapshot_sha256"]
    assert run(Entry.select(Entry.state).where(Entry.id == w.entry_id).first())["state"] == "finalist"
    # Open data and the public page say so.
    data = client.get(f"/open-data/{YEAR}/results.json").json()
    assert data["snapshot_sha256"] == new["snapshot_sha256"] and data["corrections"][0]["entry_id"] == w.entry_id
    assert w.entry_id in [r["entry_id"] for r in data["records"]]
    page = client.get(f"/results/{YEAR}")
    assert "Corrections to these results" in page.text or "การแก้ไขผลการประกาศ" in page.text
    assert old["snapshot_sha256"] in page.text
    # Both snapshots stay public, byte for byte, linked to each other.
    replaced = client.get(f"/open-data/{YEAR}/snapshots/{old['snapshot_sha256']}")
    assert replaced.status_code == 200 and hashlib.sha256(replaced.content).hexdigest() == old["snapshot_sha256"]
    successor = f'/open-data/{YEAR}/snapshots/{new["snapshot_sha256"]}>; rel="successor-version"'
    assert successor in replaced.headers["link"]
    current = client.get(f"/open-data/{YEAR}/snapshots/{new['snapshot_sha256']}")
    assert hashlib.sha256(current.content).hexdigest() == new["snapshot_sha256"]
    assert 'rel="predecessor-version"' in current.headers["link"]
    unknown = client.get(f"/open-data/{YEAR}/snapshots/{'0' * 64}", headers={"Accept": "application/json"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "snapshot_not_found"
    assert f'/open-data/{YEAR}/snapshots/{old["snapshot_sha256"]}' in page.text
    # The integrity checks follow the correction.
    assert run(announcement.verify_snapshots()) == []
    assert run(verify_chain()).ok
    assert [r["action"] for r in run(AuditEvent.select(AuditEvent.action).where(
        AuditEvent.action == "edition.correct"))] == ["edition.correct"]
    # The organisation's result shows the award now, and it was mailed the decision.
    result = client.get(f"/api/v1/entries/{w.entry_id}/result", headers=login_token(client, OWNER)).json()
    assert result["awarded"] is True and result["snapshot_sha256"] == new["snapshot_sha256"]
    assert any("กรรมการให้คะแนนผิดเกณฑ์ข้อ 2" in decoded_body(m) for m in wait_for_mails(OWNER, 2))


def test_owner_pages_appeal_with_a_document(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    browser_login(client, OWNER)
    result = client.get(f"/entries/{w.entry_id}/result")
    assert result.status_code == 200 and f"/entries/{w.entry_id}/appeal" in result.text
    assert f"/api/v1/entries/{w.entry_id}/evidence.zip" in result.text
    form = client.get(f"/entries/{w.entry_id}/appeal")
    assert form.status_code == 200 and 'name="reason"' in form.text and 'name="attachment"' in form.text
    token = csrf(client)
    empty = client.post(f"/entries/{w.entry_id}/appeal", data={"_csrf": token, "reason": ""},
                        files={"attachment": ("", b"", "application/octet-stream")})
    assert empty.status_code == 422 and 'id="e-reason"' in empty.text
    assert run(Appeal.count()) == 0
    sent = client.post(f"/entries/{w.entry_id}/appeal", data={"_csrf": token, "reason": REASON},
                       files={"attachment": ("หลักฐาน.pdf", make_pdf(), "application/pdf")}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    row = run(Appeal.select().first())
    assert row["attachment_name"] == "หลักฐาน.pdf" and len(row["attachment_sha256"]) == 64
    # The document is checked as attachments are (the app's own job runner may be doing it now).
    deadline = time.monotonic() + 30
    while (state := run(Appeal.select(Appeal.attachment_check_state).first())["attachment_check_state"]) == "pending" \
            and time.monotonic() < deadline:
        run(outbox.run_due())
        time.sleep(0.05)
    assert state == "passed"
    status = client.get(f"/entries/{w.entry_id}/appeal?sent=1")
    assert REASON in status.text and "หลักฐาน.pdf" in status.text
    document = client.get(f"/entries/{w.entry_id}/appeal/document")
    assert document.status_code == 200 and document.content.startswith(b"%PDF")


def test_owner_page_appeal_without_a_document(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    browser_login(client, INELIGIBLE_OWNER)
    sent = client.post(f"/entries/{w.ineligible_id}/appeal",
                       data={"_csrf": csrf(client), "reason": REASON},
                       files={"attachment": ("", b"", "application/octet-stream")}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    assert run(Appeal.select(Appeal.attachment_key).first())["attachment_key"] is None


def test_admin_pages_show_what_decided_the_entry_and_take_both_signatures(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    appeal_id = _appeal(client, w.entry_id).json()["id"]
    browser_login(client, w.admins[0])
    listing = client.get("/admin/appeals")
    assert listing.status_code == 200 and f"/admin/appeals/{appeal_id}" in listing.text
    detail = client.get(f"/admin/appeals/{appeal_id}")
    assert detail.status_code == 200 and REASON in detail.text
    assert "reviewer 1" in detail.text and "reviewer 2" in detail.text
    for email in w.reviewer_emails:
        assert email not in detail.text
    assert "กรรมการ สมชาย" not in detail.text
    proposed = client.post(f"/admin/appeals/{appeal_id}/decide",
                           data={"_csrf": csrf(client), "outcome": "dismissed", "reason": "ไม่มีเหตุให้เปลี่ยน"})
    assert proposed.status_code == 200 and run(Appeal.select(Appeal.state).first())["state"] == "open"
    client.cookies.clear()
    browser_login(client, w.admins[1])
    page = client.get(f"/admin/appeals/{appeal_id}")
    assert re.search(r'name="outcome" value="dismissed"', page.text)
    final = client.post(f"/admin/appeals/{appeal_id}/decide", data={"_csrf": csrf(client), "outcome": "dismissed"})
    assert final.status_code == 200 and run(Appeal.select(Appeal.state).first())["state"] == "dismissed"
