"""Calibration before screening: 3 to 5 entries marked before the round opens, every member
scores them first and their own queue opens only then (domain and API), each member's offset from
the committee's median, the rubric notes on the sheets, and calibration scores that never count in
the ranking, the agreement figures or the shortlist."""

from __future__ import annotations

from typing import Any

import pytest

from contest.domain.audit import SYSTEM
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.tables import AuditEvent
from judging.domain import (
    assignments,
    calibration,
    personal,
    quality,
    round_cockpit,
    round_rows,
    rounds,
    scoring,
    shortlist,
)
from judging.tables import Assignment, CalibrationSheet
from tests.conftest import run
from tests.factories import browser_login, csrf, login_token, make_user
from tests.judging.support import actor_for, admin_actors, score_all, screening
from tests.judging.test_judging_admin_pages import text_of

pytestmark = pytest.mark.integration


def _calibrated(entries: int = 12, reviewers: int = 4, per_entry: int = 2, **kw: Any):  # type: ignore[no-untyped-def]
    s = screening(entries=entries, reviewers=reviewers, per_entry=per_entry, open_round=False, **kw)
    admin = admin_actors(s.admins)[0]
    run(calibration.set_entries(actor=admin, round_id=s.round_id, entry_ids=s.entries[:3]))
    run(rounds.open_round(actor=SYSTEM, round_id=s.round_id))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=s.round_id))
    return s, admin


def _calibrate(round_id: int, member: int, value_for: Any = None, entries: list[int] | None = None) -> None:
    actor = actor_for(member)
    criteria = run(round_rows.criteria_of(round_id))
    mine = run(calibration.my_calibration(actor, round_id))
    for e in mine["entries"]:
        if entries is not None and e["entry_id"] not in entries:
            continue
        scores = {c["code"]: (value_for(e["entry_id"], member, c["code"]) if value_for else 5.0) for c in criteria}
        run(calibration.save_sheet(actor=actor, round_id=round_id, entry_id=e["entry_id"], scores=scores))
        run(calibration.submit_sheet(actor=actor, round_id=round_id, entry_id=e["entry_id"]))


def test_three_to_five_entries_before_the_round_opens_else_a_clear_refusal(db: str) -> None:
    s = screening(entries=8, reviewers=3, per_entry=2, open_round=False)
    admin = admin_actors(s.admins)[0]
    for wrong in (s.entries[:2], s.entries[:6], [s.entries[0]] * 3, ["x", 1, 2]):
        with pytest.raises(ValidationFailed) as refused:
            run(calibration.set_entries(actor=admin, round_id=s.round_id, entry_ids=wrong))
        assert "entry_ids" in refused.value.errors
    with pytest.raises(ValidationFailed) as few:
        run(calibration.set_entries(actor=admin, round_id=s.round_id, entry_ids=s.entries[:2]))
    assert "3" in few.value.errors["entry_ids"] and "5" in few.value.errors["entry_ids"]
    assert run(calibration.entries_of(s.round_id)) == []  # nothing changed
    with pytest.raises(ValidationFailed):
        run(calibration.set_entries(actor=admin, round_id=s.round_id, entry_ids=[*s.entries[:2], 10**9]))
    with pytest.raises(PermissionDenied):
        run(calibration.set_entries(actor=actor_for(s.reviewers[0]), round_id=s.round_id, entry_ids=s.entries[:3]))

    assert run(calibration.set_entries(actor=admin, round_id=s.round_id, entry_ids=s.entries[:5])) == s.entries[:5]
    assert run(calibration.set_entries(actor=admin, round_id=s.round_id, entry_ids=s.entries[1:4])) == s.entries[1:4]
    assert [e["entry_id"] for e in run(calibration.entries_of(s.round_id))] == s.entries[1:4]
    events = run(AuditEvent.select(AuditEvent.action).where(AuditEvent.action == "round.calibration_entries"))
    assert len(events) == 2

    run(rounds.open_round(actor=SYSTEM, round_id=s.round_id))
    with pytest.raises(Conflict) as late:
        run(calibration.set_entries(actor=admin, round_id=s.round_id, entry_ids=s.entries[:3]))
    assert late.value.code == "round_state"


def test_a_members_queue_opens_only_after_their_calibration_sheets_are_submitted(client: Any) -> None:
    s, admin = _calibrated()
    member = s.reviewers[0]
    actor = actor_for(member)
    own = run(Assignment.select(Assignment.id).where(
        (Assignment.round == s.round_id) & (Assignment.reviewer == member)).first())["id"]
    for call in (lambda: assignments.reviewer_queue(actor, s.round_id),
                 lambda: assignments.list_assignments(actor, s.round_id),
                 lambda: assignments.get_assignment(actor, own),
                 lambda: scoring.save_scores(actor=actor, assignment_id=own, scores={}),
                 lambda: scoring.submit_scores(actor=actor, assignment_id=own)):
        with pytest.raises(Conflict) as held:
            run(call())
        assert held.value.code == "calibration_pending" and held.value.params["n"] == 3
    # Admins are never held.
    assert run(assignments.get_assignment(admin, own))["id"] == own

    token = login_token(client, s.reviewer_emails[0])
    resp = client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=token)
    assert resp.status_code == 409 and resp.json()["code"] == "calibration_pending"
    assert "ปรับเทียบ" in resp.json()["detail"]
    assert client.put(f"/api/v1/assignments/{own}/scores", headers=token,
                      json={"scores": {}}).json()["code"] == "calibration_pending"

    # Over the API: the member's calibration, a refused incomplete submit, then every sheet.
    mine = client.get(f"/api/v1/rounds/{s.round_id}/calibration", headers=token).json()
    assert [e["entry_id"] for e in mine["entries"]] == s.entries[:3] and mine["left"] == 3
    first = s.entries[0]
    incomplete = client.post(f"/api/v1/rounds/{s.round_id}/calibration/{first}/submit", headers=token)
    assert incomplete.status_code == 422 and incomplete.json()["code"] == "incomplete"
    criteria = run(round_rows.criteria_of(s.round_id))
    out_of_range = client.put(f"/api/v1/rounds/{s.round_id}/calibration/{first}/scores", headers=token,
                              json={"scores": {criteria[0]["code"]: 99}})
    assert out_of_range.status_code == 422
    for n, entry in enumerate(s.entries[:3], 1):
        saved = client.put(f"/api/v1/rounds/{s.round_id}/calibration/{entry}/scores", headers=token,
                           json={"scores": {c["code"]: 6 for c in criteria}, "comment": "ชัดเจน"})
        assert saved.status_code == 200, saved.text
        done = client.post(f"/api/v1/rounds/{s.round_id}/calibration/{entry}/submit", headers=token).json()
        assert done["left"] == 3 - n and done["queue_open"] == (n == 3)
        if n < 3:
            assert client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=token).status_code == 409
    assert client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=token).status_code == 200
    locked = client.put(f"/api/v1/rounds/{s.round_id}/calibration/{first}/scores", headers=token,
                        json={"scores": {}})
    assert locked.status_code == 409 and locked.json()["code"] == "already_submitted"
    # Another member is still held; an entry that is not a calibration entry is not found.
    other = login_token(client, s.reviewer_emails[1])
    assert client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=other).status_code == 409
    assert client.put(f"/api/v1/rounds/{s.round_id}/calibration/{s.entries[5]}/scores", headers=other,
                      json={"scores": {}}).status_code == 404
    with pytest.raises(NotFound):
        run(calibration.my_calibration(actor_for(run(make_user("reviewer"))), s.round_id))


def test_offsets_from_the_committees_median_and_the_rubric_notes_on_the_sheets(client: Any) -> None:
    s, admin = _calibrated(reviewers=4)
    generous = {s.reviewers[0]: 2.0}
    for member in s.reviewers:
        _calibrate(s.round_id, member, lambda e, r, c: 5.0 + generous.get(r, 0.0) + (r == s.reviewers[1]) * 1.0)
    view = run(calibration.committee_view(s.round_id))
    offsets = {m["user_id"]: m["offset"] for m in view["members"]}
    # Totals per entry: 7, 6, 5, 5 -> median 5.5.
    assert offsets[s.reviewers[0]] == pytest.approx(1.5) and offsets[s.reviewers[1]] == pytest.approx(0.5)
    assert offsets[s.reviewers[2]] == pytest.approx(-0.5) and all(m["done"] for m in view["members"])
    assert calibration.median_offsets({1: {10: 1.0, 20: 3.0, 30: 8.0}}) == {10: -2.0, 20: 0.0, 30: 5.0}
    # The member's own data export lists their calibration sheets.
    assert len(run(personal.my_judging(actor_for(s.reviewers[0])))["calibration_sheets"]) == 3

    run(calibration.set_notes(actor=admin, round_id=s.round_id, notes="  นวัตกรรม: ต้องมีผู้ใช้จริงแล้ว  "))
    assert run(calibration.notes_of(s.round_id)) == "นวัตกรรม: ต้องมีผู้ใช้จริงแล้ว"
    with pytest.raises(ValidationFailed):
        run(calibration.set_notes(actor=admin, round_id=s.round_id, notes="ก" * 10001))
    browser_login(client, s.reviewer_emails[2])
    own = run(Assignment.select(Assignment.id).where(
        (Assignment.round == s.round_id) & (Assignment.reviewer == s.reviewers[2])).first())["id"]
    sheet = client.get(f"/review/assignments/{own}")
    assert sheet.status_code == 200 and "นวัตกรรม: ต้องมีผู้ใช้จริงแล้ว" in sheet.text

    email = f"calib{id(object())}@dga.or.th"
    run(make_user("admin", email=email))
    browser_login(client, email)
    page = text_of(client.get(f"/admin/judging/rounds/{s.round_id}/progress").text)
    assert "การปรับเทียบ" in page and "1.5" in page and "นวัตกรรม: ต้องมีผู้ใช้จริงแล้ว" in page


def test_calibration_scores_never_count_in_ranking_agreement_or_shortlist(db: str) -> None:
    s, admin = _calibrated(entries=12, reviewers=4, per_entry=2)
    for member in s.reviewers:
        _calibrate(s.round_id, member, lambda e, r, c: float(r % 10))
    score_all(s.round_id, lambda e, r, c: (e - s.entries[0]) * 0.5 + (r % 2) * 0.25)  # no ties

    def figures() -> tuple[Any, ...]:
        quality.forget_figures()
        shortlist.forget_rankings()
        round_cockpit.forget_figures()
        row = run(round_rows.get_round_row(s.round_id))
        return (run(shortlist.ranking_view(s.round_id))["items"], run(quality.round_quality(s.round_id)).as_dict(),
                run(shortlist.ranking_fingerprint(s.round_id, row)))

    before = figures()
    # The calibration sheets change as much as they can: nothing else moves.
    criteria = run(round_rows.criteria_of(s.round_id))
    run(CalibrationSheet.update({CalibrationSheet.scores: {c["code"]: c["max"] for c in criteria}}).where(
        CalibrationSheet.round == s.round_id))
    assert figures() == before
    reviewed = {r.entry_id for r in run(shortlist.submitted_reviews(s.round_id))}
    assert len(run(shortlist.submitted_reviews(s.round_id))) == 12 * 2 and reviewed == set(s.entries)

    run(rounds.close_round(actor=SYSTEM, round_id=s.round_id))
    proposal = run(shortlist.decide(actor=admin, round_id=s.round_id))
    run(CalibrationSheet.delete().where(CalibrationSheet.round == s.round_id))
    again = run(shortlist.decide(actor=admin, round_id=s.round_id))
    assert again["outcomes"] == proposal["outcomes"] and again["decision_hash"] == proposal["decision_hash"]


def test_the_pages_mark_entries_and_lead_a_member_through_calibration(client: Any) -> None:
    s = screening(entries=8, reviewers=3, per_entry=2, open_round=False)
    email = f"calib{id(object())}@dga.or.th"
    run(make_user("admin", email=email))
    browser_login(client, email)
    url = f"/admin/judging/rounds/{s.round_id}/calibration"
    refused = client.post(url, data={"_csrf": csrf(client), "action": "entries",
                                     "entry_ids": f"{s.entries[0]}, {s.entries[1]}"}, follow_redirects=False)
    assert refused.status_code == 422 and "ตั้งแต่ 3 ถึง 5" in text_of(refused.text)
    saved = client.post(url, data={"_csrf": csrf(client), "action": "entries",
                                   "entry_ids": " ".join(f"#{e}" for e in s.entries[:3])}, follow_redirects=False)
    assert saved.status_code == 303
    assert [e["entry_id"] for e in run(calibration.entries_of(s.round_id))] == s.entries[:3]
    notes = client.post(url, data={"_csrf": csrf(client), "action": "notes", "rubric_notes": "ผลลัพธ์ต้องวัดได้"},
                        follow_redirects=False)
    assert notes.status_code == 303 and run(calibration.notes_of(s.round_id)) == "ผลลัพธ์ต้องวัดได้"
    run(rounds.open_round(actor=SYSTEM, round_id=s.round_id))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=s.round_id))

    browser_login(client, s.reviewer_emails[0])
    queue = client.get(f"/review/rounds/{s.round_id}", follow_redirects=False)
    assert queue.status_code == 303 and queue.headers["location"] == f"/review/rounds/{s.round_id}/calibration"
    listing = client.get(f"/review/rounds/{s.round_id}/calibration")
    assert listing.status_code == 200 and "ผลลัพธ์ต้องวัดได้" in listing.text
    criteria = run(round_rows.criteria_of(s.round_id))
    for entry in s.entries[:3]:
        page = client.get(f"/review/rounds/{s.round_id}/calibration/{entry}")
        assert page.status_code == 200 and "ผลลัพธ์ต้องวัดได้" in page.text
        half = client.post(f"/review/rounds/{s.round_id}/calibration/{entry}",
                           data={"_csrf": csrf(client), "action": "submit"}, follow_redirects=False)
        assert half.status_code == 422
        done = client.post(f"/review/rounds/{s.round_id}/calibration/{entry}", follow_redirects=False, data={
            "_csrf": csrf(client), "action": "submit", **{f"score_{c['code']}": "7" for c in criteria}})
        assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"].endswith("done=open")
    assert client.get(f"/review/rounds/{s.round_id}", follow_redirects=False).status_code == 200
