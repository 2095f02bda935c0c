"""Screening through the JSON API: rubric, eligibility, committee and conflicts, assignment,
scoring, recusal, ranking, the decision and its two signatures, exports."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest

from contest import clock
from contest.tables import AuditEvent, Edition, Entry
from judging.tables import Assignment, Member, Round, Signature
from tests.conftest import run
from tests.factories import login_token, make_edition, make_org, make_submitted_entries, make_user, wait_for_mails
from tests.judging.support import YEAR, actor_for, past_deadline, score_all, screening

pytestmark = pytest.mark.integration


def admin(client):  # type: ignore[no-untyped-def]
    email = f"boss{id(object())}@dga.or.th"
    run(make_user("admin", email=email))
    return login_token(client, email)


def assignments(round_id: int, state: str | None = None) -> list[dict]:
    query = Assignment.select().where(Assignment.round == round_id)
    if state:
        query = query.where(Assignment.state == state)
    return run(query)


# --- rubric and rules ---------------------------------------------------------------------------

def test_round_created_with_default_rubric_and_frozen_when_opened(client) -> None:  # type: ignore[no-untyped-def]
    past_deadline()
    entries = run(make_submitted_entries(YEAR, 3))
    headers = admin(client)
    resp = client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers, json={"kind": "screening"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["state"] == "draft" and body["reviewers_per_entry"] == 3
    assert [c["code"] for c in body["criteria"]] == ["fit", "technology", "vision", "implementation", "results",
                                                     "adoption"]
    assert body["criteria"][0]["name_th"].startswith("ความสอดคล้อง")
    round_id = body["id"]

    # A draft may change; a duplicate screening round may not exist.
    resp = client.patch(f"/api/v1/rounds/{round_id}", headers=headers, json={"normalisation": "zscore"})
    assert resp.status_code == 200 and resp.json()["normalisation"] == "zscore"
    assert client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers,
                       json={"kind": "screening"}).json()["code"] == "round_exists"

    # Opening while submitted entries await their eligibility is refused; with eligible ones it
    # freezes and hashes the rules.
    refused = client.post(f"/api/v1/rounds/{round_id}/open", headers=headers).json()
    assert refused["code"] == "eligibility_pending" and refused["count"] == 3
    resp = client.post(f"/api/v1/editions/{YEAR}/eligibility", headers=headers,
                       json={"entry_ids": entries, "eligible": True})
    assert resp.status_code == 200 and resp.json()["changed"] == entries
    resp = client.post(f"/api/v1/rounds/{round_id}/open", headers=headers)
    assert resp.status_code == 200, resp.text
    opened = resp.json()
    assert opened["state"] == "open" and len(opened["rules_hash"]) == 64 and opened["entries"] == 3
    assert run(Edition.select(Edition.state).first())["state"] == "screening"

    resp = client.patch(f"/api/v1/rounds/{round_id}", headers=headers, json={"normalisation": "none"})
    assert resp.status_code == 409 and resp.json()["code"] == "frozen"
    assert client.get(f"/api/v1/rounds/{round_id}", headers=headers).json()["normalisation"] == "zscore"
    # Eligibility is frozen too, and the edition's submission rules.
    resp = client.post(f"/api/v1/entries/{entries[0]}/eligibility", headers=headers,
                       json={"eligible": False, "reason": "ไม่ครบ"})
    assert resp.status_code == 409 and resp.json()["code"] == "screening_opened"
    assert client.patch(f"/api/v1/editions/{YEAR}", headers=headers,
                        json={"shortlist_size": 10}).status_code == 409


def test_round_rules_validated(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    headers = admin(client)
    resp = client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers, json={
        "kind": "screening", "normalisation": "median", "reviewers_per_entry": 0, "tie_break": ["nope"],
        "criteria": [{"code": "a", "name_th": "ก", "weight": 0, "min": 5, "max": 1},
                     {"code": "a", "name_th": "", "weight": 1, "min": 0, "max": 10}]})
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert set(errors) >= {"normalisation", "reviewers_per_entry", "tie_break", "criteria[0].weight",
                           "criteria[0].range", "criteria[1].code", "criteria[1].name_th"}
    assert run(Round.count()) == 0


def test_screening_does_not_open_before_the_deadline(client) -> None:  # type: ignore[no-untyped-def]
    edition = run(make_edition(YEAR))
    entries = run(make_submitted_entries(YEAR, 2))
    headers = admin(client)
    # Before the deadline the entries cannot even be judged eligible (their organisations may still edit).
    resp = client.post(f"/api/v1/editions/{YEAR}/eligibility", headers=headers,
                       json={"entry_ids": entries, "eligible": True})
    assert resp.status_code == 409 and resp.json()["code"] == "submissions_open"
    round_id = client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers, json={"kind": "screening"}).json()["id"]
    resp = client.post(f"/api/v1/rounds/{round_id}/open", headers=headers)
    assert resp.status_code == 409 and resp.json()["code"] == "submissions_open"
    assert run(Round.select(Round.state).first())["state"] == "draft"
    # Once it has passed: eligibility, then the round opens.
    clock.freeze(edition.submission_closes_at + timedelta(minutes=1))
    assert client.post(f"/api/v1/editions/{YEAR}/eligibility", headers=headers,
                       json={"entry_ids": entries, "eligible": True}).status_code == 200
    resp = client.post(f"/api/v1/rounds/{round_id}/open", headers=headers)
    assert resp.status_code == 200 and resp.json()["entries"] == 2


# --- eligibility --------------------------------------------------------------------------------

def test_eligibility_single_and_bulk(client) -> None:  # type: ignore[no-untyped-def]
    past_deadline()
    submitted = run(make_submitted_entries(YEAR, 3))
    draft = run(make_submitted_entries(YEAR, 1, state="draft"))[0]
    withdrawn = run(make_submitted_entries(YEAR, 1, state="withdrawn"))[0]
    headers = admin(client)

    resp = client.post(f"/api/v1/entries/{submitted[0]}/eligibility", headers=headers,
                       json={"eligible": False, "reason": "ไม่ใช่บริการที่ใช้งานจริง"})
    assert resp.status_code == 200 and resp.json()["state"] == "ineligible"
    row = run(Entry.select(Entry.state, Entry.eligibility_reason).where(Entry.id == submitted[0]).first())
    assert row == {"state": "ineligible", "eligibility_reason": "ไม่ใช่บริการที่ใช้งานจริง"}
    # Ineligible needs a reason the applicant will see.
    resp = client.post(f"/api/v1/entries/{submitted[1]}/eligibility", headers=headers, json={"eligible": False})
    assert resp.status_code == 422 and "reason" in resp.json()["errors"]
    # Drafts and withdrawn entries never enter; a bulk request with one of them changes nothing.
    for bad in (draft, withdrawn):
        resp = client.post(f"/api/v1/editions/{YEAR}/eligibility", headers=headers,
                           json={"entry_ids": [submitted[1], bad], "eligible": True})
        assert resp.status_code == 409 and resp.json()["code"] == "not_submitted"
    assert run(Entry.select(Entry.state).where(Entry.id == submitted[1]).first())["state"] == "submitted"
    resp = client.post(f"/api/v1/editions/{YEAR}/eligibility", headers=headers,
                       json={"entry_ids": submitted[1:], "eligible": True})
    assert resp.json()["changed"] == submitted[1:]
    assert run(Entry.count().where(Entry.state == "eligible")) == 2
    # Unknown ids: 404; applicants and reviewers: 403.
    assert client.post("/api/v1/entries/999999/eligibility", headers=headers,
                       json={"eligible": True}).status_code == 404
    run(make_user("reviewer", email="r@dga.or.th"))
    assert client.post(f"/api/v1/entries/{submitted[1]}/eligibility", headers=login_token(client, "r@dga.or.th"),
                       json={"eligible": True}).status_code == 403


# --- committee, conflicts, assignment ------------------------------------------------------------

def test_assignment_balanced_conflict_free_and_gap_filling(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=20, reviewers=7, assign=False)
    headers = admin(client)
    tied_org = run(Entry.select(Entry.organisation.code).where(Entry.id == s.entries[0]).first())["organisation.code"]
    resp = client.post(f"/api/v1/rounds/{s.round_id}/members", headers=headers, json={
        "emails": [s.reviewer_emails[0]],
        "conflicts": [{"email": s.reviewer_emails[0], "organisation_code": tied_org, "reason": "เคยเป็นที่ปรึกษา"}]})
    assert resp.status_code == 200, resp.text
    resp = client.post(f"/api/v1/rounds/{s.round_id}/assign", headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["created"] == 60 and len(body["assignments"]) == 60
    loads = body["per_reviewer"]
    assert max(loads.values()) - min(loads.values()) <= 1 and sum(loads.values()) == 60
    per_entry = Counter(a["entry_id"] for a in body["assignments"])
    assert set(per_entry.values()) == {3}
    assert all(len({a["reviewer_id"] for a in body["assignments"] if a["entry_id"] == e}) == 3 for e in per_entry)
    assert not any(a["entry_id"] == s.entries[0] and a["reviewer_id"] == s.reviewers[0] for a in body["assignments"])

    # Re-running changes nothing.
    again = client.post(f"/api/v1/rounds/{s.round_id}/assign", headers=headers).json()
    assert again["created"] == 0 and again["assignments"] == body["assignments"]

    # A conflict declared later recuses the member and the gap is filled by someone else.
    mine = [a for a in body["assignments"] if a["reviewer_id"] == s.reviewers[1]]
    target = mine[0]["entry_id"]
    org = run(Entry.select(Entry.organisation.code).where(Entry.id == target).first())["organisation.code"]
    resp = client.post(f"/api/v1/rounds/{s.round_id}/members", headers=headers, json={
        "emails": [s.reviewer_emails[1]],
        "conflicts": [{"email": s.reviewer_emails[1], "organisation_code": org, "reason": "ญาติทำงานที่นี่"}]})
    assert resp.status_code == 200
    live = [a for a in assignments(s.round_id) if a["entry"] == target and a["state"] != "recused"]
    assert len(live) == 3 and s.reviewers[1] not in {a["reviewer"] for a in live}


def test_assignment_with_too_few_reviewers_says_why_and_assigns_nothing(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=2, per_entry=3, assign=False)
    resp = client.post(f"/api/v1/rounds/{s.round_id}/assign", headers=admin(client))
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "too_few_reviewers" and body["count"] == 4
    assert body["problems"][0]["needed"] == 3 and body["problems"][0]["available"] == 2
    assert "3" in body["detail"] and body["detail_en"].startswith("Not enough reviewers")
    assert assignments(s.round_id) == []


def test_same_province_rule(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=6, reviewers=4, per_entry=2, assign=False, provinces=("10", "50"),
                  exclude_same_province=True)
    headers = admin(client)
    resp = client.post(f"/api/v1/rounds/{s.round_id}/members", headers=headers, json={
        "emails": s.reviewer_emails[:2], "provinces": {s.reviewer_emails[0]: "10", s.reviewer_emails[1]: "50"}})
    assert resp.status_code == 200
    assert client.post(f"/api/v1/rounds/{s.round_id}/assign", headers=headers).status_code == 200
    provinces = {e["id"]: e["organisation.province_code"] for e in run(
        Entry.select(Entry.id, Entry.organisation.province_code))}
    for a in assignments(s.round_id):
        if a["reviewer"] == s.reviewers[0]:
            assert provinces[a["entry"]] != "10"
        if a["reviewer"] == s.reviewers[1]:
            assert provinces[a["entry"]] != "50"


# --- scoring ------------------------------------------------------------------------------------

def test_scoring_validation_locking_and_isolation(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=3)
    me = login_token(client, s.reviewer_emails[0])
    other = login_token(client, s.reviewer_emails[1])
    mine = client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=me).json()
    assert len(mine) == 4 and {a["reviewer_id"] for a in mine} == {s.reviewers[0]}
    aid = mine[0]["id"]

    resp = client.put(f"/api/v1/assignments/{aid}/scores", headers=me, json={"scores": {"fit": 11}})
    assert resp.status_code == 422 and "ต้องอยู่ระหว่าง 0 ถึง 10" in resp.json()["errors"]["scores.fit"]
    resp = client.put(f"/api/v1/assignments/{aid}/scores", headers={**me, "Accept-Language": "en"},
                      json={"scores": {"fit": 11}})
    assert "must be between 0 and 10" in resp.json()["errors"]["scores.fit"]
    resp = client.put(f"/api/v1/assignments/{aid}/scores", headers=me, json={"scores": {"charm": 5}})
    assert resp.status_code == 422 and "scores.charm" in resp.json()["errors"]
    resp = client.put(f"/api/v1/assignments/{aid}/scores", headers=me, json={"scores": {"fit": "abc"}})
    assert resp.status_code == 422
    # Someone else's assignment does not exist for them.
    assert client.put(f"/api/v1/assignments/{aid}/scores", headers=other,
                      json={"scores": {"fit": 5}}).status_code == 404
    assert client.get(f"/api/v1/assignments/{aid}", headers=other).status_code == 404

    # Partial sheets autosave; submitting needs every criterion.
    resp = client.put(f"/api/v1/assignments/{aid}/scores", headers=me, json={"scores": {"fit": 7.5}, "comment": "ดี"})
    assert resp.status_code == 200 and resp.json()["scores"] == {"fit": 7.5}
    resp = client.post(f"/api/v1/assignments/{aid}/submit", headers=me)
    assert resp.status_code == 422 and resp.json()["code"] == "incomplete"
    full = {"fit": 7.5, "technology": 8, "vision": 6, "implementation": 7, "results": 9, "adoption": 5}
    assert client.put(f"/api/v1/assignments/{aid}/scores", headers=me, json={"scores": full}).status_code == 200
    resp = client.post(f"/api/v1/assignments/{aid}/submit", headers=me)
    assert resp.status_code == 200 and resp.json()["state"] == "submitted"
    resp = client.put(f"/api/v1/assignments/{aid}/scores", headers=me, json={"scores": {"fit": 1}})
    assert resp.status_code == 409 and resp.json()["code"] == "already_submitted"
    assert client.post(f"/api/v1/assignments/{aid}/submit", headers=me).status_code == 409

    # An admin reopens (audited); the member may then correct.
    headers = admin(client)
    assert client.post(f"/api/v1/assignments/{aid}/reopen", headers=headers,
                       json={"reason": "แก้ไขคะแนนผิดช่อง"}).status_code == 200
    assert run(AuditEvent.exists().where(AuditEvent.action == "assignment.reopen"))
    assert client.put(f"/api/v1/assignments/{aid}/scores", headers=me,
                      json={"scores": {**full, "fit": 8}}).status_code == 200

    # Members see no ranking; after the round closes nobody scores.
    assert client.get(f"/api/v1/rounds/{s.round_id}/ranking", headers=me).status_code == 403
    assert client.post(f"/api/v1/rounds/{s.round_id}/close", headers=headers).status_code == 200
    again = client.post(f"/api/v1/rounds/{s.round_id}/close", headers=headers).json()
    assert again["state"] == "closed" and "ปิด" in again["detail"] and "closed" not in again["detail"]
    assert again["detail_en"].endswith("(this one is closed).")
    resp = client.put(f"/api/v1/assignments/{aid}/scores", headers=me, json={"scores": full})
    assert resp.status_code == 409 and resp.json()["code"] == "round_closed"


def test_reviewer_reads_assigned_entries_only(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=6, reviewers=3, per_entry=1)
    me = login_token(client, s.reviewer_emails[0])
    mine = {a["entry_id"] for a in client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=me).json()}
    assert mine
    for entry_id in s.entries:
        resp = client.get(f"/api/v1/entries/{entry_id}", headers=me)
        assert resp.status_code == (200 if entry_id in mine else 404)
        if resp.status_code == 200:  # the innovation, not the contact person
            body = resp.json()
            assert body["title"] and body["contact_email"] == "" and body["contact_name"] == ""
            assert "it@example.go.th" not in resp.text


def test_recusal_reassigns_and_never_returns_the_entry(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=4, per_entry=2)
    me = login_token(client, s.reviewer_emails[0])
    aid, entry_id = next((a["id"], a["entry_id"]) for a in client.get(
        f"/api/v1/rounds/{s.round_id}/assignments", headers=me).json())
    assert client.post(f"/api/v1/assignments/{aid}/recuse", headers=me, json={}).status_code == 422
    resp = client.post(f"/api/v1/assignments/{aid}/recuse", headers=me, json={"reason": "เคยรับจ้างทำระบบนี้"})
    assert resp.status_code == 200 and resp.json() == {"id": aid, "state": "recused", "reassigned": True, "recused": [
        {"assignment_id": aid, "entry_id": entry_id, "reviewer_id": s.reviewers[0], "previous_state": "assigned"}]}
    live = [a for a in assignments(s.round_id) if a["entry"] == entry_id and a["state"] == "assigned"]
    assert len(live) == 2 and s.reviewers[0] not in {a["reviewer"] for a in live}
    # Re-running the assignment never hands it back; the entry is no longer readable by them.
    client.post(f"/api/v1/rounds/{s.round_id}/assign", headers=admin(client))
    assert not any(a["entry"] == entry_id and a["reviewer"] == s.reviewers[0] and a["state"] != "recused"
                   for a in assignments(s.round_id))
    assert client.get(f"/api/v1/entries/{entry_id}", headers=me).status_code == 404
    assert client.put(f"/api/v1/assignments/{aid}/scores", headers=me,
                      json={"scores": {"fit": 5}}).json()["code"] == "recused"


def test_progress_and_reminders(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=2, per_entry=2)
    first = assignments(s.round_id)[0]
    actor = actor_for(first["reviewer"])
    from judging.domain import scoring
    run(scoring.save_scores(actor=actor, assignment_id=first["id"],
                            scores={c: 5 for c in ("fit", "technology", "vision", "implementation", "results",
                                                   "adoption")}))
    run(scoring.submit_scores(actor=actor, assignment_id=first["id"]))
    headers = admin(client)
    body = client.get(f"/api/v1/rounds/{s.round_id}/progress", headers=headers).json()
    assert body["reviews"] == 8 and body["reviews_submitted"] == 1 and body["entries"] == 4
    by_member = {m["user_id"]: m for m in body["members"]}
    assert by_member[first["reviewer"]]["submitted"] == 1 and by_member[first["reviewer"]]["pending"] == 3
    resp = client.post(f"/api/v1/rounds/{s.round_id}/reminders", headers=headers)
    assert resp.status_code == 200 and resp.json() == {"queued": 2}
    for email in s.reviewer_emails:  # the mail of the assignment, then the reminder
        assert len(wait_for_mails(email, count=2)) == 2
    # Again the same day: no second reminder.
    assert client.post(f"/api/v1/rounds/{s.round_id}/reminders", headers=headers).json() == {"queued": 0}


# --- ranking, decision, signatures ---------------------------------------------------------------

def _quality(entry_id: int, reviewer_id: int, code: str) -> float:
    return float(entry_id % 10)


def test_ranking_decision_and_two_signatures(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=10, reviewers=5, per_entry=3, shortlist_size=3)
    score_all(s.round_id, lambda e, r, c: float((e * 7) % 11 if (e * 7) % 11 <= 10 else 10))
    headers = admin(client)
    ranking = client.get(f"/api/v1/rounds/{s.round_id}/ranking", headers=headers).json()
    assert len(ranking) == 10 and {"entry_id", "rank", "score", "raw_score", "reviewers", "borderline",
                                   "spread"} <= set(ranking[0])
    assert [r["rank"] for r in ranking] == sorted(r["rank"] for r in ranking)
    assert all(r["reviewers"] == 3 for r in ranking)

    # Deciding needs a closed round.
    assert client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={}).json()["code"] == "round_open"
    assert client.post(f"/api/v1/rounds/{s.round_id}/close", headers=headers).status_code == 200
    resp = client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={})
    assert resp.status_code == 200, resp.text
    proposal = resp.json()
    top3 = [r["entry_id"] for r in ranking[:3]]
    assert {o["entry_id"] for o in proposal["outcomes"] if o["outcome"] == "shortlisted"} == set(top3)

    # Override: swap the third for the fourth, each with a reason; a change without one is 422.
    fourth = ranking[3]["entry_id"]
    bad = client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={"overrides": [
        {"entry_id": fourth, "outcome": "shortlisted"}]})
    assert bad.status_code == 422 and "overrides[0].reason" in bad.json()["errors"]
    resp = client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={"overrides": [
        {"entry_id": top3[2], "outcome": "not_shortlisted", "reason": "พบว่าบริการหยุดให้บริการแล้ว"},
        {"entry_id": fourth, "outcome": "shortlisted", "reason": "ลำดับถัดไป"}]})
    assert resp.status_code == 200
    proposal = resp.json()
    inside = {o["entry_id"] for o in proposal["outcomes"] if o["outcome"] == "shortlisted"}
    assert inside == {top3[0], top3[1], fourth} and proposal["inside"] == 3

    # Two different admins sign; the same one twice and a third are refused.
    first = login_token(client, s.admins[0])
    second = login_token(client, s.admins[1])
    resp = client.post(f"/api/v1/rounds/{s.round_id}/sign", headers=first, json={})
    assert resp.status_code == 200 and not resp.json()["final"]
    assert run(Entry.count().where(Entry.state == "shortlisted")) == 0
    resp = client.post(f"/api/v1/rounds/{s.round_id}/sign", headers=first, json={})
    assert resp.status_code == 409 and resp.json()["code"] == "already_signed"
    resp = client.post(f"/api/v1/rounds/{s.round_id}/sign", headers=second,
                       json={"decision_hash": proposal["decision_hash"]})
    assert resp.status_code == 200 and resp.json()["final"]
    resp = client.post(f"/api/v1/rounds/{s.round_id}/sign", headers=headers, json={})
    assert resp.status_code == 409 and resp.json()["code"] == "already_final"
    assert run(Signature.count()) == 2

    states = {e["id"]: e for e in run(Entry.select(Entry.id, Entry.state, Entry.outcome_rank, Entry.feedback))}
    assert {e for e, v in states.items() if v["state"] == "shortlisted"} == inside
    assert sum(1 for v in states.values() if v["state"] == "not_shortlisted") == 7
    assert states[top3[0]]["outcome_rank"] == 1
    feedback = states[top3[0]]["feedback"]
    assert "ดี" in feedback and not any(email in feedback for email in s.reviewer_emails)
    assert '"reviewer_id"' not in feedback and '"scores"' not in feedback
    assert run(Round.select(Round.state).first())["state"] == "signed"
    assert run(AuditEvent.count().where(AuditEvent.action == "entry.screening_outcome")) == 10
    # No decision changes after the signatures.
    assert client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers,
                       json={}).json()["code"] == "already_final"


def test_a_new_proposal_voids_an_earlier_signature(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=6, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    headers = admin(client)
    client.post(f"/api/v1/rounds/{s.round_id}/close", headers=headers)
    old = client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={}).json()
    client.post(f"/api/v1/rounds/{s.round_id}/sign", headers=login_token(client, s.admins[0]), json={})
    last = old["outcomes"][-1]["entry_id"]
    client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={"overrides": [
        {"entry_id": last, "outcome": "shortlisted", "reason": "คณะกรรมการมีมติ"}]})
    assert run(Signature.count()) == 0
    resp = client.post(f"/api/v1/rounds/{s.round_id}/sign", headers=login_token(client, s.admins[1]),
                       json={"decision_hash": old["decision_hash"]})
    assert resp.status_code == 409 and resp.json()["code"] == "stale_decision"


def test_tie_across_the_cut_needs_a_committee_decision(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=3, per_entry=3, shortlist_size=1)
    best = s.entries[:2]
    score_all(s.round_id, lambda e, r, c: 9.0 if e in best else 3.0)
    headers = admin(client)
    client.post(f"/api/v1/rounds/{s.round_id}/close", headers=headers)
    ranking = client.get(f"/api/v1/rounds/{s.round_id}/ranking", headers=headers).json()
    assert [r["rank"] for r in ranking[:2]] == [1, 1] and all(r["tied"] for r in ranking[:2])
    resp = client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={})
    assert resp.status_code == 409 and resp.json()["code"] == "unresolved_tie"
    assert sorted(resp.json()["entry_ids"]) == sorted(best)
    # The committee decides the second-listed entry is ahead (not the lower id).
    resp = client.post(f"/api/v1/rounds/{s.round_id}/ties", headers=headers,
                       json={"entry_ids": [best[1], best[0]], "reason": "มติที่ประชุม 3/2569"})
    assert resp.status_code == 200
    ranking = client.get(f"/api/v1/rounds/{s.round_id}/ranking", headers=headers).json()
    assert [r["entry_id"] for r in ranking[:2]] == [best[1], best[0]] and ranking[1]["rank"] == 2
    proposal = client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={}).json()
    assert [o["entry_id"] for o in proposal["outcomes"] if o["outcome"] == "shortlisted"] == [best[1]]


def test_exports_csv_and_xlsx(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=5, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    headers = admin(client)
    resp = client.get(f"/api/v1/rounds/{s.round_id}/ranking.csv", headers=headers)
    assert resp.status_code == 200 and resp.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["rank", "entry_id", "organisation_code", "organisation_name_th"]
    assert len(rows) == 6 and rows[1][5].startswith("นวัตกรรมบริการดิจิทัล")
    resp = client.get(f"/api/v1/rounds/{s.round_id}/ranking.xlsx", headers=headers)
    assert resp.status_code == 200
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(resp.content))
    values = list(book["ranking"].iter_rows(values_only=True))
    assert values[0][:2] == ("rank", "entry_id") and values[1][:2] == ("อันดับ / Rank", "เลขที่ผลงาน / Entry number")
    assert len(values) == 7 and values[2][5].startswith("นวัตกรรมบริการดิจิทัล")
    assert client.get(f"/api/v1/rounds/{s.round_id}/ranking.csv",
                      headers=login_token(client, s.reviewer_emails[0])).status_code == 403


# --- the final round ----------------------------------------------------------------------------

def test_final_round_every_member_scores_every_finalist(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=6, reviewers=3, per_entry=2, shortlist_size=3)
    headers = admin(client)
    resp = client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers, json={"kind": "final"})
    final_id = resp.json()["id"]
    assert client.post(f"/api/v1/rounds/{final_id}/open", headers=headers).json()["code"] == "screening_not_signed"
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    client.post(f"/api/v1/rounds/{s.round_id}/close", headers=headers)
    client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={})
    for email in s.admins:
        client.post(f"/api/v1/rounds/{s.round_id}/sign", headers=login_token(client, email), json={})
    finalists = [e["id"] for e in run(Entry.select(Entry.id).where(Entry.state == "shortlisted"))]
    assert len(finalists) == 3

    panel_ids = [run(make_user("reviewer", email=f"panel{i}@dga.or.th")) for i in range(4)]
    tied = run(Entry.select(Entry.organisation.code).where(Entry.id == finalists[0]).first())["organisation.code"]
    client.post(f"/api/v1/rounds/{final_id}/members", headers=headers, json={
        "user_ids": panel_ids,
        "conflicts": [{"email": "panel0@dga.or.th", "organisation_code": tied, "reason": "บ้านเกิด"}]})
    resp = client.post(f"/api/v1/rounds/{final_id}/open", headers=headers)
    assert resp.status_code == 200 and resp.json()["entries"] == 3
    assert run(Edition.select(Edition.state).first())["state"] == "final"
    resp = client.post(f"/api/v1/rounds/{final_id}/assign", headers=headers)
    assert resp.status_code == 200
    pairs = {(a["entry_id"], a["reviewer_id"]) for a in resp.json()["assignments"]}
    expected = {(e, p) for e in finalists for p in panel_ids} - {(finalists[0], panel_ids[0])}
    assert pairs == expected

    score_all(final_id, lambda e, r, c: 9.0 if e == finalists[1] else 6.0)
    client.post(f"/api/v1/rounds/{final_id}/close", headers=headers)
    proposal = client.post(f"/api/v1/rounds/{final_id}/decide", headers=headers, json={}).json()
    assert [o["entry_id"] for o in proposal["outcomes"] if o["outcome"] == "winner"] == [finalists[1]]
    for email in s.admins:
        client.post(f"/api/v1/rounds/{final_id}/sign", headers=login_token(client, email), json={})
    states = {e["id"]: e["state"] for e in run(Entry.select(Entry.id, Entry.state).where(Entry.id.is_in(finalists)))}
    assert states == {finalists[0]: "finalist", finalists[1]: "winner", finalists[2]: "finalist"}


def test_members_must_be_committee_accounts(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=2, reviewers=1, per_entry=1, open_round=False)
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    headers = admin(client)
    resp = client.post(f"/api/v1/rounds/{s.round_id}/members", headers=headers,
                       json={"emails": ["staff@example.go.th", "nobody@example.go.th"]})
    assert resp.status_code == 422
    assert run(Member.count()) == 1
    resp = client.post(f"/api/v1/rounds/{s.round_id}/members", headers=headers, json={
        "emails": [s.reviewer_emails[0]], "conflicts": [{"email": s.reviewer_emails[0], "organisation_code": "0000"}]})
    assert resp.status_code == 422 and "conflicts[0].organisation_code" in resp.json()["errors"]


def test_unknown_round_and_assignment_are_404(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    headers = admin(client)
    assert client.get("/api/v1/rounds/4242", headers=headers).status_code == 404
    assert client.post("/api/v1/rounds/4242/open", headers=headers).status_code == 404
    run(make_user("reviewer", email="r@dga.or.th"))
    assert client.put("/api/v1/assignments/4242/scores", headers=login_token(client, "r@dga.or.th"),
                      json={"scores": {}}).status_code == 404
    assert client.get("/api/v1/rounds/4242/ranking").status_code == 401
    _ = (clock, timedelta)


def test_deciding_with_no_submitted_review_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=1, shortlist_size=1)
    headers = admin(client)
    client.post(f"/api/v1/rounds/{s.round_id}/close", headers=headers)
    resp = client.post(f"/api/v1/rounds/{s.round_id}/decide", headers=headers, json={})
    assert resp.status_code == 409 and resp.json()["code"] == "no_reviews"
    assert run(Round.select(Round.decision_hash).first())["decision_hash"] == ""


def test_ranking_follows_a_changed_sheet(client) -> None:  # type: ignore[no-untyped-def]
    """The ranking is reused while nothing changed, and recomputed after a reopened sheet changes."""
    s = screening(entries=2, reviewers=1, per_entry=1, shortlist_size=1)
    score_all(s.round_id, lambda e, r, c: 8.0 if e == s.entries[0] else 4.0)
    headers = admin(client)
    first = client.get(f"/api/v1/rounds/{s.round_id}/ranking", headers=headers).json()
    assert first[0]["entry_id"] == s.entries[0]
    assert client.get(f"/api/v1/rounds/{s.round_id}/ranking", headers=headers).json() == first
    aid = next(a["id"] for a in assignments(s.round_id) if a["entry"] == s.entries[0])
    client.post(f"/api/v1/assignments/{aid}/reopen", headers=headers, json={"reason": "พิมพ์ผิด"})
    me = login_token(client, s.reviewer_emails[0])
    low = {c: 1 for c in ("fit", "technology", "vision", "implementation", "results", "adoption")}
    assert client.put(f"/api/v1/assignments/{aid}/scores", headers=me, json={"scores": low}).status_code == 200
    assert client.post(f"/api/v1/assignments/{aid}/submit", headers=me).status_code == 200
    again = client.get(f"/api/v1/rounds/{s.round_id}/ranking", headers=headers).json()
    assert again[0]["entry_id"] == s.entries[1] and again[1]["raw_score"] == 1.0


@pytest.mark.integration
def test_progress_per_entry_follows_every_submission_reopening_and_recusal(db: str) -> None:
    """The per-entry counts are kept between reads while nothing changed, and counted again after
    each change of an assignment's state."""
    from judging.domain import scoring
    from tests.judging.support import admin_actors

    s = screening(entries=4, reviewers=3, per_entry=2)
    rows = run(Assignment.select(Assignment.id, Assignment.entry, Assignment.reviewer).where(
        Assignment.round == s.round_id).order_by(Assignment.id))
    first = run(scoring.progress(s.round_id))
    assert first["incomplete_total"] == 4 and first["entries_complete"] == 0
    assert run(scoring.progress(s.round_id)) == first  # kept: the same figures
    score_all(s.round_id, lambda entry, reviewer, code: 5.0)
    done = run(scoring.progress(s.round_id))
    assert done["incomplete_total"] == 0 and done["entries_complete"] == 4 and done["incomplete_entries"] == []
    reopened = rows[0]
    run(scoring.reopen(actor=admin_actors(s.admins)[0], assignment_id=reopened["id"], reason="แก้คะแนน"))
    again = run(scoring.progress(s.round_id))
    assert again["incomplete_total"] == 1
    assert [(e["entry_id"], e["reviewers"], e["submitted"]) for e in again["incomplete_entries"]] == [
        (reopened["entry"], 2, 1)]
    run(scoring.recuse(actor=actor_for(reopened["reviewer"]), assignment_id=reopened["id"], reason="รู้จักผู้สมัคร"))
    after = run(scoring.progress(s.round_id))
    entry = next(e for e in after["incomplete_entries"] if e["entry_id"] == reopened["entry"]) \
        if after["incomplete_entries"] else None
    # The recused sheet no longer counts: the entry has one live sheet (or a new reader, not yet submitted).
    assert entry is not None and entry["submitted"] == 1 and entry["reviewers"] in (1, 2)
