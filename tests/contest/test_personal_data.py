"""A person's own data and its erasure (PDPA): the export per role, erasure end to end with the
audit chain still verifying, the refusals the law allows, and the sealing of audit events written
before personal data was sealed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from click.testing import CliRunner

from contest.cli import main
from contest.domain import audit
from contest.domain.audit import GENESIS, canonical_json, verify_chain
from contest.tables import AuditEvent, Entry, ErasureRequest, Outbox, User
from judging.tables import Assignment
from tests.conftest import run
from tests.factories import COMPLETE, PASSWORD, login_token, make_edition, make_org, make_user
from tests.judging import support
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration

EMAIL = "somchai@example.go.th"


def _applicant_with_entry(client: Any) -> tuple[dict[str, str], int]:
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email=EMAIL, org=org))
    headers = login_token(client, EMAIL)
    entry = client.post("/api/v1/editions/2569/entries", headers=headers, json={"title": "บริการ"}).json()
    fields = {**COMPLETE, "contact_name": "สมชาย ใจดี", "contact_email": EMAIL, "contact_phone": "081 234 5678"}
    assert client.patch(f"/api/v1/entries/{entry['id']}", headers=headers,
                        json={**fields, "version": 1}).status_code == 200
    assert client.post(f"/api/v1/entries/{entry['id']}/attachments", headers=headers,
                       files={"file": ("ผลงาน.pdf", make_pdf(2), "application/pdf")}).status_code == 201
    assert client.post(f"/api/v1/entries/{entry['id']}/submit", headers=headers).status_code in (200, 201)
    return headers, entry["id"]


def _admin(client: Any, email: str = "dpo@dga.or.th") -> dict[str, str]:
    run(make_user("admin", email=email))
    return login_token(client, email)


def test_an_applicant_sees_everything_held_about_them(client: Any) -> None:
    headers, entry_id = _applicant_with_entry(client)
    resp = client.get("/api/v1/me/data", headers=headers)
    assert resp.status_code == 200
    data = resp.json()
    assert data["account"]["email"] == EMAIL and data["account"]["role"] == "applicant"
    assert [m["state"] for m in data["memberships"]] == ["verified"]
    assert data["sessions"] and all("ip_address" in s for s in data["sessions"])
    assert [e["id"] for e in data["entries_written"]] == [entry_id]
    assert [(e["id"], e["contact_phone"]) for e in data["entries_as_contact"]] == [(entry_id, "081 234 5678")]
    assert {"entry.create", "entry.submit"} <= {e["action"] for e in data["audit_events"]}
    assert "score_sheets" not in data and data["erasure_requests"] == []
    assert isinstance(data["privacy_notices_accepted"], list)
    assert isinstance(data["consents_given"], list)
    # nobody else's: another applicant sees none of it
    run(make_user("applicant", email="other@example.go.th", org=run(make_org())))
    other = client.get("/api/v1/me/data", headers=login_token(client, "other@example.go.th")).json()
    assert other["entries_written"] == [] and other["entries_as_contact"] == [] and EMAIL not in json.dumps(other)
    assert client.get("/api/v1/me/data").status_code == 401


def test_a_committee_member_sees_their_score_sheets(client: Any) -> None:
    s = support.screening(entries=4, reviewers=3, per_entry=2)
    support.score_all(s.round_id, lambda entry, reviewer, code: 3)
    data = client.get("/api/v1/me/data", headers=login_token(client, s.reviewer_emails[0])).json()
    mine = run(Assignment.count().where(Assignment.reviewer == s.reviewers[0]))
    assert len(data["score_sheets"]) == mine > 0
    assert all(sheet["state"] == "submitted" and sheet["scores"] for sheet in data["score_sheets"])
    assert [m["round"] for m in data["round_memberships"]] == [s.round_id]


def test_the_my_data_page_and_its_download(client: Any) -> None:
    from tests.factories import browser_login

    _applicant_with_entry(client)
    browser_login(client, EMAIL)
    page = client.get("/account/data")
    assert page.status_code == 200 and "ข้อมูลของท่าน" in page.text and "081 234 5678" in page.text
    download = client.get("/account/data/download")
    assert download.status_code == 200 and download.json()["account"]["email"] == EMAIL
    assert "attachment" in download.headers["content-disposition"]


def test_erasure_end_to_end_keeps_receipts_and_the_audit_chain(client: Any) -> None:
    headers, entry_id = _applicant_with_entry(client)
    receipt = client.get(f"/api/v1/entries/{entry_id}", headers=headers).json()["receipts"][0]
    asked = client.post("/api/v1/me/erasure-requests", headers=headers, json={"reason": "ย้ายงานแล้ว"})
    assert asked.status_code == 201 and asked.json()["state"] == "pending"
    again = client.post("/api/v1/me/erasure-requests", headers=headers, json={})
    assert again.status_code == 409 and again.json()["code"] == "erasure_pending"

    admin = _admin(client)
    assert client.post(f"/api/v1/erasure-requests/{asked.json()['id']}/approve", headers=headers).status_code == 403
    done = client.post(f"/api/v1/erasure-requests/{asked.json()['id']}/approve", headers=admin, json={})
    assert done.status_code == 200 and done.json()["state"] == "approved"

    # They can no longer sign in, and their old token no longer works.
    assert client.post("/api/v1/auth/token", json={"email": EMAIL, "password": PASSWORD}).status_code == 401
    assert client.get("/api/v1/me/data", headers=headers).status_code == 401
    # Their identifying data is gone from every table that held it …
    for text in (json.dumps(run(User.select()), default=str), json.dumps(run(Entry.select()), default=str),
                 json.dumps(run(AuditEvent.select()), default=str), json.dumps(run(Outbox.select()), default=str)):
        assert EMAIL not in text and "สมชาย ใจดี" not in text and "081 234 5678" not in text
    # … and nothing else broke: the entry, its receipt and the audit chain stand.
    assert run(Entry.select(Entry.state).where(Entry.id == entry_id).first())["state"] == "submitted"
    shown = client.get(f"/api/v1/receipts/{receipt['number']}", headers=admin)
    assert shown.status_code == 200 and shown.json()["files"] == receipt["files"]
    assert run(verify_chain()).ok
    verified = CliRunner().invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0 and "audit chain intact" in verified.output
    assert run(ErasureRequest.select(ErasureRequest.pseudonym).first())["pseudonym"].startswith("person-")


def test_a_member_of_a_round_being_judged_is_told_why_and_until_when(client: Any) -> None:
    s = support.screening(entries=4, reviewers=3, per_entry=2)
    headers = login_token(client, s.reviewer_emails[0])
    resp = client.post("/api/v1/me/erasure-requests", headers=headers, json={})
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "erasure_refused" and body["until"] and body["date"]
    assert body["date"] in body["detail"] and body["detail"] != body["detail_en"]
    assert run(ErasureRequest.count()) == 0
    # once the round is signed, the request goes to the administrators
    support.score_all(s.round_id, lambda entry, reviewer, code: 3)
    support.sign_round(s.round_id, s.admins)
    assert client.post("/api/v1/me/erasure-requests", headers=headers, json={}).status_code == 201


def test_erasing_a_reviewer_keeps_their_scores_counting(client: Any) -> None:
    s = support.screening(entries=4, reviewers=3, per_entry=2)
    support.score_all(s.round_id, lambda entry, reviewer, code: 4)
    support.sign_round(s.round_id, s.admins)
    before = run(Assignment.select(Assignment.entry, Assignment.scores).where(Assignment.reviewer == s.reviewers[0]))
    asked = client.post("/api/v1/me/erasure-requests", headers=login_token(client, s.reviewer_emails[0]), json={})
    admin = _admin(client)
    assert client.post(f"/api/v1/erasure-requests/{asked.json()['id']}/approve", headers=admin).status_code == 200
    after = run(Assignment.select(Assignment.entry, Assignment.scores).where(Assignment.reviewer == s.reviewers[0]))
    assert after == before
    assert s.reviewer_emails[0] not in json.dumps(run(AuditEvent.select()), default=str)
    assert run(verify_chain()).ok


def test_a_refusal_needs_a_lawful_reason_and_words_for_the_person(client: Any) -> None:
    headers, _ = _applicant_with_entry(client)
    asked = client.post("/api/v1/me/erasure-requests", headers=headers, json={}).json()
    admin = _admin(client)
    url = f"/api/v1/erasure-requests/{asked['id']}/reject"
    bad = client.post(url, headers=admin, json={"refusal_code": "because", "reason": ""})
    assert bad.status_code == 422 and {"refusal_code", "reason"} <= set(bad.json()["errors"])
    ok = client.post(url, headers=admin, json={"refusal_code": "running_contest",
                                               "reason": "การประกวดปีนี้ยังไม่ประกาศผล"})
    assert ok.status_code == 200 and ok.json()["state"] == "rejected"
    assert client.post(url, headers=admin, json={"reason": "x"}).status_code == 409  # decided already
    mine = client.get("/api/v1/me/data", headers=headers).json()["erasure_requests"]
    assert mine[0]["decision_reason"] == "การประกวดปีนี้ยังไม่ประกาศผล"
    assert client.post("/api/v1/erasure-requests/999999/approve", headers=admin).status_code == 404


def test_a_changed_email_in_an_event_still_breaks_the_chain(db: str) -> None:
    run(make_user("applicant", email=EMAIL, org=run(make_org())))
    row = run(AuditEvent.select().where(AuditEvent.action == "user.create").first())
    after = json.loads(row["after"])
    after["email"] = "someone-else@example.go.th"
    run(AuditEvent.update({AuditEvent.after: canonical_json(after)}).where(AuditEvent.id == row["id"]))
    report = run(verify_chain())
    assert not report.ok and report.broken_at_seq == row["seq"]


def test_events_written_before_sealing_are_sealed_and_rechained(db: str) -> None:
    """Events hashed with the email itself (before personal data was sealed) are given salts and
    commitments and re-chained; the old head is kept on record; the chain then verifies and
    erasure no longer breaks it."""
    def old_hash(prev: str, row: dict[str, Any]) -> str:
        body = canonical_json({k: row[k] for k in ("seq", "at", "actor_id", "actor_email", "action",
                                                   "subject_type", "subject_id", "before", "after")})
        return hashlib.sha256((prev + body).encode()).hexdigest()

    prev = GENESIS
    for seq in (1, 2, 3):
        row = {"seq": seq, "at": f"2025-01-0{seq}T00:00:00Z", "actor_id": None, "actor_email": "system",
               "action": "user.create", "subject_type": "user", "subject_id": str(seq), "before": "null",
               "after": canonical_json({"email": f"old{seq}@example.go.th", "role": "applicant"})}
        digest = old_hash(prev, row)
        run(AuditEvent.insert(AuditEvent(**row, prev_hash=prev, hash=digest, pii="{}")))
        prev = digest
    old_head = prev
    report = run(audit.seal_existing_chain())
    assert report == {"events": 3, "previous_head": old_head, "previous_chain_verified": True}
    assert run(verify_chain()).ok
    run(audit.erase_person(user_id=None, values=["old2@example.go.th"], pseudonym="person-x"))
    assert "old2@example.go.th" not in json.dumps(run(AuditEvent.select()), default=str)
    assert run(verify_chain()).ok
    assert run(audit.seal_existing_chain())["events"] == 0  # sealing twice changes nothing


def test_erasing_from_the_admin_page_asks_first(client: Any) -> None:
    from tests.factories import browser_login, csrf

    headers, _entry_id = _applicant_with_entry(client)
    request_id = client.post("/api/v1/me/erasure-requests", headers=headers, json={}).json()["id"]
    _admin(client)
    browser_login(client, "dpo@dga.or.th")
    form = {"decision": "approve", "reason": "ตามคำขอ", "_csrf": csrf(client)}
    asked = client.post(f"/admin/erasure-requests/{request_id}", data=form)
    assert asked.status_code == 200 and EMAIL in asked.text
    assert 'name="confirmed" value="yes"' in asked.text and "ตามคำขอ" in asked.text
    assert run(ErasureRequest.select(ErasureRequest.state).first())["state"] == "pending"  # nothing yet
    done = client.post(f"/admin/erasure-requests/{request_id}", data={**form, "confirmed": "yes"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert run(ErasureRequest.select(ErasureRequest.state).first())["state"] == "approved"
    # A decided request is no longer in the queue: nothing to confirm.
    again = client.post(f"/admin/erasure-requests/{request_id}", data=form)
    assert again.status_code == 404 and 'name="confirmed"' not in again.text
