"""The committee after assignment: a province given or changed later recuses the member's
same-province reviews, a tie recorded by a recusal takes the member off the organisation's other
entries too — and every assignment so recused is reported (answer, audit trail, admin page).
Provinces are checked against the official list; members with no province are warned about."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from contest.i18n import t
from contest.tables import AuditEvent, Entry
from judging.domain import scoring
from judging.tables import Assignment, Member
from tests.conftest import run
from tests.factories import browser_login, csrf, login_token, make_user
from tests.judging.support import actor_for, screening

pytestmark = pytest.mark.integration

EN = {"Accept-Language": "en"}
FULL = {c: 6 for c in ("fit", "technology", "vision", "implementation", "results", "adoption")}


def _admin(client, email: str = "committee@dga.or.th"):  # type: ignore[no-untyped-def]
    run(make_user("admin", email=email))
    return login_token(client, email)


def _assignments(round_id: int, reviewer: int) -> list[dict[str, Any]]:
    return run(Assignment.select(Assignment.id, Assignment.entry, Assignment.state, Assignment.entry.organisation.code,
                                 Assignment.entry.organisation.province_code).where(
        (Assignment.round == round_id) & (Assignment.reviewer == reviewer)).order_by(Assignment.id))


def _submit(reviewer: int, assignment_id: int) -> None:
    run(scoring.save_scores(actor=actor_for(reviewer), assignment_id=assignment_id, scores=FULL))
    run(scoring.submit_scores(actor=actor_for(reviewer), assignment_id=assignment_id))


def _events(action: str) -> list[dict[str, Any]]:
    rows = run(AuditEvent.select(AuditEvent.before, AuditEvent.after).where(AuditEvent.action == action).order_by(
        AuditEvent.id))
    return [{k: json.loads(v) if isinstance(v, str) and v else v for k, v in r.items()} for r in rows]


def test_province_given_after_assignment_recuses_same_province_reviews(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=8, reviewers=4, per_entry=2, provinces=("10", "50"), exclude_same_province=True)
    headers = _admin(client)
    # A member with entries from province 50 (the assignment's seed is random).
    member, email = next((r, e) for r, e in zip(s.reviewers, s.reviewer_emails, strict=False) if any(
        a["entry.organisation.province_code"] == "50" for a in _assignments(s.round_id, r)))
    north = [a for a in _assignments(s.round_id, member) if a["entry.organisation.province_code"] == "50"]
    _submit(member, north[0]["id"])

    # Nobody has a province yet: the committee page warns that the rule cannot apply to them.
    browser_login(client, "committee@dga.or.th")
    page = client.get(f"/admin/judging/rounds/{s.round_id}/committee").text
    warning = t("The same-province rule cannot apply to {n} members with no province: {who}. Give their "
                "province codes.", "th", n=4, who=", ".join(sorted(s.reviewer_emails)))
    assert 'id="warning-no_province"' in page and warning in page

    resp = client.post(f"/api/v1/rounds/{s.round_id}/members", headers=headers,
                       json={"emails": [email], "provinces": {email: "50"}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    expected = [{"assignment_id": a["id"], "entry_id": a["entry"], "reviewer_id": member,
                 "previous_state": "submitted" if a["id"] == north[0]["id"] else "assigned"} for a in north]
    assert body["recused"] == expected
    assert body["warnings"][0]["code"] == "no_province" and email not in body["warnings"][0]["emails"]
    assert len(body["warnings"][0]["emails"]) == 3
    after = {a["id"]: a for a in _assignments(s.round_id, member)}
    assert {i for i, a in after.items() if a["state"] == "recused"} == {a["id"] for a in north}
    assert all(a["entry.organisation.province_code"] == "10" for a in after.values() if a["state"] != "recused")
    assert run(Member.select(Member.province_code).where(Member.user == member).first())["province_code"] == "50"
    # The gaps are filled by members not from province 50 (nobody else has a province).
    for a in north:
        live = run(Assignment.select(Assignment.reviewer).where(
            (Assignment.entry == a["entry"]) & Assignment.state.is_in(["assigned", "submitted"])))
        assert len(live) == 2 and member not in {x["reviewer"] for x in live}
    event = _events("round.member_province")[-1]
    assert event["before"] == {"user": member, "province": ""}
    assert event["after"] == {"user": member, "province": "50", "recused": expected}
    reason = run(Assignment.select(Assignment.recuse_reason).where(Assignment.id == north[0]["id"]).first())
    assert reason["recuse_reason"] == "อยู่ในจังหวัดเดียวกับกรรมการ (50) / From the member's own province (50)."

    # The admin page lists each recusal, the submitted one marked.
    page = client.get(f"/admin/judging/rounds/{s.round_id}/committee").text
    for a in north:
        assert f'id="recused-{a["id"]}"' in page
    row = re.search(rf'<tr id="recused-{north[0]["id"]}">(.*?)</tr>', page, re.S).group(1)
    assert "ส่งคะแนนไว้แล้ว" in row
    assert "เชียงใหม่ (50)" in page  # the member's province, by name


def test_province_codes_are_checked_against_the_official_list(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=2, reviewers=2, per_entry=1, open_round=False, exclude_same_province=True)
    headers = _admin(client)
    url = f"/api/v1/rounds/{s.round_id}/members"
    first, second = s.reviewer_emails
    for code in ("99", "5", "", 50, "ab"):
        resp = client.post(url, headers=headers, json={"emails": [first], "provinces": {first: code}})
        assert resp.status_code == 422, (code, resp.text)
        assert resp.json()["errors"] == {f"provinces.{first}": (
            f"ไม่มีจังหวัดรหัส {code} กรุณาใช้รหัสจังหวัด 2 หลักของกรมการปกครอง (เช่น 50 คือเชียงใหม่)")}
    resp = client.post(url, headers={**headers, **EN}, json={"emails": [first], "provinces": {second: "50"}})
    assert resp.status_code == 422
    assert resp.json()["errors"] == {f"provinces.{second}": f"{second} is not among the members named in this request."}
    resp = client.post(url, headers={**headers, **EN}, json={"emails": [first], "provinces": ["50"]})
    assert resp.json()["errors"] == {"provinces": "Give provinces as email: province code."}
    resp = client.post(url, headers=headers, json={"emails": [first], "provinces": ["50"]})
    assert resp.json()["errors"] == {"provinces": "ระบุจังหวัดในรูปแบบ อีเมล: รหัสจังหวัด"}
    assert {r["province_code"] for r in run(Member.select(Member.province_code))} == {""}
    resp = client.post(url, headers=headers, json={"emails": [first], "provinces": {first.upper(): "50"}})
    assert resp.status_code == 200 and resp.json()["recused"] == []


def test_a_recusal_reports_every_assignment_its_tie_takes_away(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=2, per_entry=2)  # both members review every entry
    org = run(Entry.select(Entry.organisation).where(Entry.id == s.entries[0]).first())["organisation"]
    run(Entry.update({Entry.organisation: org}).where(Entry.id == s.entries[1]))  # two entries, one organisation
    code = run(Entry.select(Entry.organisation.code).where(Entry.id == s.entries[0]).first())["organisation.code"]
    member = s.reviewers[0]
    mine = {a["entry"]: a["id"] for a in _assignments(s.round_id, member)}
    _submit(member, mine[s.entries[1]])
    me = login_token(client, s.reviewer_emails[0])

    resp = client.post(f"/api/v1/assignments/{mine[s.entries[0]]}/recuse", headers=me,
                       json={"reason": "เคยเป็นที่ปรึกษาของหน่วยงานนี้"})
    assert resp.status_code == 200, resp.text
    expected = [{"assignment_id": mine[s.entries[0]], "entry_id": s.entries[0], "reviewer_id": member,
                 "previous_state": "assigned"},
                {"assignment_id": mine[s.entries[1]], "entry_id": s.entries[1], "reviewer_id": member,
                 "previous_state": "submitted"}]
    assert resp.json() == {"id": mine[s.entries[0]], "state": "recused", "reassigned": False, "recused": expected}
    tie = _events("round.tie")[-1]["after"]
    assert tie == {"user": member, "organisation": code, "reason": "เคยเป็นที่ปรึกษาของหน่วยงานนี้",
                   "recused": expected}
    assert {a["before"]["state"] for a in _events("assignment.recuse")} == {"assigned", "submitted"}

    # The organisers see both on the committee page, the submitted one marked.
    _admin(client, "watcher@dga.or.th")
    browser_login(client, "watcher@dga.or.th")
    page = client.get(f"/admin/judging/rounds/{s.round_id}/committee").text
    assert "การถอนตัว (2)" in page
    submitted_row = re.search(rf'<tr id="recused-{mine[s.entries[1]]}">(.*?)</tr>', page, re.S).group(1)
    assigned_row = re.search(rf'<tr id="recused-{mine[s.entries[0]]}">(.*?)</tr>', page, re.S).group(1)
    assert "ส่งคะแนนไว้แล้ว" in submitted_row and "ส่งคะแนนไว้แล้ว" not in assigned_row
    assert "เคยเป็นที่ปรึกษาของหน่วยงานนี้" in submitted_row


def test_a_recusal_on_the_scoring_page_says_what_else_it_took_away(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=2, per_entry=2)
    org = run(Entry.select(Entry.organisation).where(Entry.id == s.entries[2]).first())["organisation"]
    run(Entry.update({Entry.organisation: org}).where(Entry.id == s.entries[3]))
    member = s.reviewers[1]
    mine = {a["entry"]: a["id"] for a in _assignments(s.round_id, member)}
    browser_login(client, s.reviewer_emails[1])
    resp = client.post(f"/review/assignments/{mine[s.entries[2]]}/recuse",
                       data={"_csrf": csrf(client), "reason": "ญาติทำงานที่นี่"}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].endswith("?done=recused&also=1")
    page = client.get(resp.headers["location"]).text
    assert t("Your conflict with this organisation also took {n} of its other entries out of your queue (scores you "
             "had submitted for them no longer count).", "th", n=1) in page
    assert run(Assignment.select(Assignment.state).where(Assignment.id == mine[s.entries[3]]).first())["state"] == \
        "recused"
