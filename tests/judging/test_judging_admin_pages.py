"""The organisers' judging pages, through the browser forms: a round with DGA's default
rubric, eligibility in bulk, the committee with a conflict, opening, assignment, progress,
reminders, reopening a sheet, closing, the ranking, a tie decision, the decision with an override
and the two signatures; and the refusals, shown on the page where they happen."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contest.tables import AuditEvent, Entry
from judging.domain.rounds import DEFAULT_RUBRIC, DEFAULT_TIE_BREAK
from judging.tables import Assignment, ConflictOfInterest, Criterion, Member, Round, Signature
from tests.conftest import run
from tests.factories import (
    browser_login,
    csrf,
    make_edition,
    make_submitted_entries,
    make_user,
    wait_for_mails,
)
from tests.judging.support import (
    YEAR,
    make_reviewers,
    past_deadline,
    score_all,
    screening,
)

pytestmark = pytest.mark.integration


def admin_client(client: Any, email: str | None = None) -> str:
    """Log the client in as an admin (created when no email is given); returns the CSRF token."""
    if email is None:
        email = f"organiser{id(object())}@dga.or.th"
        run(make_user("admin", email=email))
    browser_login(client, email)
    return csrf(client)


def rules_form(token: str, kind: str = "screening", **overrides: Any) -> dict[str, Any]:
    """The rules form as the page pre-fills it: DGA's default rubric."""
    data: dict[str, Any] = {"_csrf": token, "kind": kind, "reviewers_per_entry": "3", "normalisation": "none",
                            "tie_break": ", ".join(DEFAULT_TIE_BREAK), "seed": "42"}
    for i, c in enumerate(DEFAULT_RUBRIC):
        for field in ("code", "name_th", "name_en", "description_th", "description_en", "weight", "min", "max"):
            data[f"criteria-{i}-{field}"] = str(c[field])
    data.update(overrides)
    return data


def post(client: Any, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data=data, follow_redirects=False)


def assert_redirect(resp: Any, path: str) -> str:
    assert resp.status_code == 303, resp.text[:3000]
    location = resp.headers["location"]
    assert location.startswith(path), location
    return location


def org_code(entry_id: int) -> str:
    return run(Entry.select(Entry.organisation.code).where(Entry.id == entry_id).first())["organisation.code"]


def text_of(html: str) -> str:
    """The page's text with tags and runs of spaces collapsed, for assertions on what people read."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the whole screening --------------------------------------------------------------------------

def test_screening_from_rubric_to_signed_shortlist_through_the_pages(client, app) -> None:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    past_deadline(shortlist_size=3)
    entries = run(make_submitted_entries(YEAR, 10))
    draft = run(make_submitted_entries(YEAR, 1, state="draft"))[0]
    reviewer_ids, emails = make_reviewers(5)
    first_admin, second_admin = "first-admin@dga.or.th", "second-admin@dga.or.th"
    run(make_user("admin", email=first_admin))
    run(make_user("admin", email=second_admin))
    token = admin_client(client, first_admin)

    # The overview lists the edition; the new-round form is pre-filled with DGA's rubric.
    page = client.get("/admin/judging")
    assert page.status_code == 200 and f"/admin/judging/{YEAR}/eligibility" in page.text
    assert "ยังไม่มีรอบการพิจารณา" in page.text
    page = client.get(f"/admin/judging/{YEAR}/rounds/new?kind=screening")
    assert page.status_code == 200
    assert DEFAULT_RUBRIC[0]["name_th"] in page.text
    assert re.findall(r'name="tie_break" value="(\w+)"', page.text) == ["results", "fit", "technology"]
    # "Add a criterion row" re-renders the form with one more row and saves nothing.
    resp = post(client, f"/admin/judging/{YEAR}/rounds", {**rules_form(token), "action": "add_row"})
    assert resp.status_code == 200 and 'name="criteria-6-code"' in resp.text and run(Round.count()) == 0

    resp = post(client, f"/admin/judging/{YEAR}/rounds", rules_form(token))
    location = assert_redirect(resp, "/admin/judging/rounds/")
    round_id = int(re.search(r"/rounds/(\d+)", location).group(1))
    assert "รอบนี้ถูกสร้างเป็นฉบับร่างแล้ว" in client.get(location).text
    assert [c["code"] for c in run(Criterion.select(Criterion.code).where(Criterion.round == round_id).order_by(
        Criterion.position))] == [c["code"] for c in DEFAULT_RUBRIC]
    row = run(Round.select().where(Round.id == round_id).first())
    assert row["state"] == "draft" and row["seed"] == 42 and row["reviewers_per_entry"] == 3

    # Eligibility: the submitted entries are listed (never the draft); bulk eligible, one ineligible.
    page = client.get(f"/admin/judging/{YEAR}/eligibility")
    assert page.status_code == 200
    assert f'value="{entries[0]}"' in page.text and f'id="sel-{draft}"' not in page.text
    resp = post(client, f"/admin/judging/{YEAR}/eligibility",
                {"_csrf": token, "entry_ids": [str(e) for e in entries[:9]], "action": "eligible", "reason": ""})
    assert "n=9" in assert_redirect(resp, f"/admin/judging/{YEAR}/eligibility")
    resp = post(client, f"/admin/judging/{YEAR}/eligibility",
                {"_csrf": token, "entry_ids": str(entries[9]), "action": "ineligible", "reason": ""})
    assert resp.status_code == 422 and 'id="e-reason"' in resp.text
    resp = post(client, f"/admin/judging/{YEAR}/eligibility",
                {"_csrf": token, "entry_ids": str(entries[9]), "action": "ineligible",
                 "reason": "ยังไม่เปิดให้บริการประชาชนจริง"})
    page = client.get(assert_redirect(resp, f"/admin/judging/{YEAR}/eligibility"))
    assert "ยังไม่เปิดให้บริการประชาชนจริง" in page.text and "ผ่านคุณสมบัติ 9 ผลงาน" in text_of(page.text)
    states = {e["id"]: e["state"] for e in run(Entry.select(Entry.id, Entry.state))}
    assert [states[e] for e in entries] == ["eligible"] * 9 + ["ineligible"] and states[draft] == "draft"

    # The committee: five members (one with a province), one declared conflict.
    tied_org = org_code(entries[0])
    resp = post(client, f"/admin/judging/rounds/{round_id}/committee", {
        "_csrf": token, "members": "\n".join([f"{emails[0]}, 50", *emails[1:]]),
        "conflicts": f"{emails[0]}, {tied_org}, เคยเป็นที่ปรึกษาโครงการ"})
    page = client.get(assert_redirect(resp, f"/admin/judging/rounds/{round_id}/committee"))
    assert "n=5" in resp.headers["location"]
    assert emails[4] in page.text and tied_org in page.text and "เคยเป็นที่ปรึกษาโครงการ" in page.text
    assert run(Member.count().where(Member.round == round_id)) == 5
    member = run(Member.select(Member.province_code).where(Member.user == reviewer_ids[0]).first())
    assert member["province_code"] == "50"
    assert run(ConflictOfInterest.exists().where(
        (ConflictOfInterest.user == reviewer_ids[0])
        & (ConflictOfInterest.organisation_code == tied_org)))

    # Open: the rules freeze; the page shows their hash, and a change is refused with the reason.
    assert_redirect(post(client, f"/admin/judging/rounds/{round_id}/open", {"_csrf": token}),
                    f"/admin/judging/rounds/{round_id}")
    rules_hash = run(Round.select(Round.rules_hash).where(Round.id == round_id).first())["rules_hash"]
    assert len(rules_hash) == 64
    page = client.get(f"/admin/judging/rounds/{round_id}/rules")
    assert rules_hash in page.text and "ตรึง" in page.text and 'name="criteria-0-code"' not in page.text
    resp = post(client, f"/admin/judging/rounds/{round_id}/rules", rules_form(token, normalisation="zscore"))
    assert resp.status_code == 409 and "ตรึง" in resp.text and rules_hash in resp.text
    assert run(Round.select(Round.normalisation).where(Round.id == round_id).first())["normalisation"] == "none"
    # Eligibility is frozen too: the 409 is shown on the page.
    resp = post(client, f"/admin/judging/{YEAR}/eligibility",
                {"_csrf": token, "entry_ids": str(entries[0]), "action": "ineligible", "reason": "ช้าไป"})
    assert resp.status_code == 409 and "เปลี่ยนผลการตรวจสอบคุณสมบัติได้เฉพาะก่อนเปิดรอบกลั่นกรอง" in resp.text

    # Assign: 9 entries x 3 reviewers, never the declared conflict.
    resp = post(client, f"/admin/judging/rounds/{round_id}/assign", {"_csrf": token})
    page = client.get(assert_redirect(resp, f"/admin/judging/rounds/{round_id}"))
    assert "n=27" in resp.headers["location"] and "มอบหมายใหม่ 27 รายการ" in page.text
    rows = run(Assignment.select().where(Assignment.round == round_id))
    assert len(rows) == 27
    assert not any(a["entry"] == entries[0] and a["reviewer"] == reviewer_ids[0] for a in rows)

    # Progress and reminders.
    page = client.get(f"/admin/judging/rounds/{round_id}/progress")
    assert page.status_code == 200 and "0 จาก 27 (0%)" in text_of(page.text)
    assert all(e in page.text for e in emails)
    assert f'action="/admin/judging/rounds/{round_id}/reminders"' in page.text  # offered while the round is open
    resp = post(client, f"/admin/judging/rounds/{round_id}/reminders", {"_csrf": token})
    assert "n=5" in assert_redirect(resp, f"/admin/judging/rounds/{round_id}/progress")
    assert len(wait_for_mails(emails[1], count=2)) == 2  # the mail of the assignment, then the reminder

    # Everyone scores; the admin reopens one sheet (a reason is required), the member resubmits.
    score_all(round_id, lambda e, r, c: float(entries.index(e) + 1))
    page = client.get(f"/admin/judging/rounds/{round_id}/progress")
    assert "27 จาก 27 (100%)" in text_of(page.text)
    member_url = f"/admin/judging/rounds/{round_id}/members/{reviewer_ids[1]}"
    page = client.get(member_url)
    sheet = run(Assignment.select(Assignment.id, Assignment.entry).where(
        (Assignment.round == round_id) & (Assignment.reviewer == reviewer_ids[1])).first())
    assert f"/assignments/{sheet['id']}/reopen" in page.text
    resp = post(client, f"/admin/judging/rounds/{round_id}/assignments/{sheet['id']}/reopen", {"_csrf": token})
    assert resp.status_code == 422 and f'id="e-reason-{sheet["id"]}"' in resp.text
    resp = post(client, f"/admin/judging/rounds/{round_id}/assignments/{sheet['id']}/reopen",
                {"_csrf": token, "reason": "กรอกคะแนนผิดเกณฑ์"})
    assert_redirect(resp, member_url)
    assert run(Assignment.select(Assignment.state).where(Assignment.id == sheet["id"]).first())["state"] == "assigned"
    assert run(AuditEvent.exists().where(AuditEvent.action == "assignment.reopen"))
    score_all(round_id, lambda e, r, c: float(entries.index(e) + 1))

    # Close; the ranking is shown (the best entries score highest here), with the exports.
    assert_redirect(post(client, f"/admin/judging/rounds/{round_id}/close", {"_csrf": token}),
                    f"/admin/judging/rounds/{round_id}")
    page = client.get(f"/admin/judging/rounds/{round_id}/ranking")
    assert page.status_code == 200
    ranked = sorted(entries[:9], key=lambda e: -entries.index(e))
    positions = [page.text.index(f"#{e} ") for e in ranked]
    assert positions == sorted(positions)
    assert f"/api/v1/rounds/{round_id}/ranking.csv" in page.text
    assert f"/api/v1/rounds/{round_id}/ranking.xlsx" in page.text
    assert client.get(f"/api/v1/rounds/{round_id}/ranking.csv").status_code == 200

    # Decide with an override: the fourth replaces the third, each change with its reason.
    third, fourth = ranked[2], ranked[3]
    resp = post(client, f"/admin/judging/rounds/{round_id}/decide", {
        "_csrf": token, "action": "decide",
        "override-0-entry_id": str(third), "override-0-outcome": "not_shortlisted",
        "override-0-reason": "พบว่าหยุดให้บริการแล้ว",
        "override-1-entry_id": str(fourth), "override-1-outcome": "shortlisted", "override-1-reason": "ลำดับถัดไป",
        "override-2-entry_id": "", "override-2-outcome": "", "override-2-reason": ""})
    page = client.get(assert_redirect(resp, f"/admin/judging/rounds/{round_id}/decision"))
    decision_hash = run(Round.select(Round.decision_hash).where(Round.id == round_id).first())["decision_hash"]
    assert decision_hash in page.text and "พบว่าหยุดให้บริการแล้ว" in page.text and "ลำดับถัดไป" in page.text
    # The overrides are kept in the form, so proposing again does not drop them by accident.
    assert f'value="{fourth}"' in page.text

    # Two different administrators sign; the same one twice is refused, plainly.
    resp = post(client, f"/admin/judging/rounds/{round_id}/sign", {"_csrf": token, "decision_hash": decision_hash})
    assert "done=signed" in assert_redirect(resp, f"/admin/judging/rounds/{round_id}/decision")
    page = client.get(resp.headers["location"])
    assert "ท่านลงนามข้อเสนอนี้แล้ว" in page.text and f'action="/admin/judging/rounds/{round_id}/sign"' not in page.text
    resp = post(client, f"/admin/judging/rounds/{round_id}/sign", {"_csrf": token, "decision_hash": decision_hash})
    assert resp.status_code == 409 and "ผู้ดูแลระบบคนอื่นต้องเป็นผู้ลงนาม" in resp.text
    assert run(Entry.count().where(Entry.state == "shortlisted")) == 0

    with TestClient(app=app, base_url="http://testserver.local") as other:
        other_token = admin_client(other, second_admin)
        resp = post(other, f"/admin/judging/rounds/{round_id}/sign",
                    {"_csrf": other_token, "decision_hash": decision_hash})
        page = other.get(assert_redirect(resp, f"/admin/judging/rounds/{round_id}/decision"))
        assert "done=final" in resp.headers["location"] and "ลงนามโดยผู้ดูแลระบบสองคนแล้ว" in page.text
        resp = post(other, f"/admin/judging/rounds/{round_id}/sign", {"_csrf": other_token})
        assert resp.status_code == 409 and "การตัดสินนี้เป็นที่สุดแล้ว" in resp.text

    assert run(Signature.count().where(Signature.round == round_id)) == 2
    shortlisted = {e["id"] for e in run(Entry.select(Entry.id).where(Entry.state == "shortlisted"))}
    assert shortlisted == {ranked[0], ranked[1], fourth}
    assert run(Entry.count().where(Entry.state == "not_shortlisted")) == 6
    assert run(Round.select(Round.state).where(Round.id == round_id).first())["state"] == "signed"
    # The overview now shows the round signed, with its rules hash.
    page = client.get("/admin/judging")
    assert rules_hash[:16] in page.text and "ลงนามแล้ว" in page.text


# --- refusals shown where they happen -------------------------------------------------------------

def test_round_form_errors_are_shown_next_to_their_fields(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    token = admin_client(client)
    resp = post(client, f"/admin/judging/{YEAR}/rounds", rules_form(
        token, reviewers_per_entry="0", tie_break="results, nope", **{
            "criteria-0-weight": "0", "criteria-1-code": "fit", "criteria-2-min": "10", "criteria-2-max": "1",
            "criteria-3-name_th": ""}))
    assert resp.status_code == 422
    for field in ("reviewers_per_entry", "tie_break", "criteria-0-weight", "criteria-1-code", "criteria-2-range",
                  "criteria-3-name_th"):
        assert f'id="e-{field}"' in resp.text, field
    assert "nope" in resp.text and 'href="#f-criteria-2-min"' in resp.text
    assert run(Round.count()) == 0
    # What was sent is kept, the unknown code included, in its place in the chain.
    assert re.findall(r'name="tie_break" value="(\w+)"', resp.text) == ["results", "nope"]


def test_a_second_round_of_the_same_kind_is_refused_on_the_form(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    token = admin_client(client)
    assert_redirect(post(client, f"/admin/judging/{YEAR}/rounds", rules_form(token)), "/admin/judging/rounds/")
    resp = post(client, f"/admin/judging/{YEAR}/rounds", rules_form(token))
    assert resp.status_code == 409 and "การประกวดปีนี้มีรอบกลั่นกรองอยู่แล้ว" in text_of(resp.text)
    assert run(Round.count()) == 1
    # The final round is the other kind; the overview then offers no third.
    assert_redirect(post(client, f"/admin/judging/{YEAR}/rounds", rules_form(token, kind="final")),
                    "/admin/judging/rounds/")
    page = client.get("/admin/judging")
    assert "รอบตัดสิน" in page.text and f'action="/admin/judging/{YEAR}/rounds/new"' not in page.text


def test_draft_rules_change_through_the_form(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    token = admin_client(client)
    location = assert_redirect(post(client, f"/admin/judging/{YEAR}/rounds", rules_form(token)),
                               "/admin/judging/rounds/")
    round_id = int(re.search(r"/rounds/(\d+)", location).group(1))
    form = rules_form(token, normalisation="zscore", reviewers_per_entry="2", exclude_same_province="1",
                      tie_break="fit", **{"criteria-6-code": "security", "criteria-6-name_th": "ความมั่นคงปลอดภัย",
                                          "criteria-6-weight": "5", "criteria-6-min": "0", "criteria-6-max": "5"})
    resp = post(client, f"/admin/judging/rounds/{round_id}/rules", form)
    page = client.get(assert_redirect(resp, f"/admin/judging/rounds/{round_id}/rules"))
    assert "บันทึกกติกาแล้ว" in page.text
    row = run(Round.select().where(Round.id == round_id).first())
    assert row["normalisation"] == "zscore" and row["reviewers_per_entry"] == 2 and row["exclude_same_province"]
    codes = [c["code"] for c in run(Criterion.select(Criterion.code).where(Criterion.round == round_id).order_by(
        Criterion.position))]
    assert codes[-1] == "security" and len(codes) == 7
    assert 'value="ความมั่นคงปลอดภัย"' in page.text


def test_opening_before_the_deadline_shows_why(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    entries = run(make_submitted_entries(YEAR, 2))
    token = admin_client(client)
    # Eligibility waits for the deadline too; the page says until when.
    resp = post(client, f"/admin/judging/{YEAR}/eligibility",
                {"_csrf": token, "entry_ids": [str(e) for e in entries], "action": "eligible"})
    assert resp.status_code == 409 and "ยังแก้ไขผลงาน" in resp.text and 'role="alert"' in resp.text
    assert run(Entry.count().where(Entry.state == "eligible")) == 0
    location = assert_redirect(post(client, f"/admin/judging/{YEAR}/rounds", rules_form(token)),
                               "/admin/judging/rounds/")
    round_id = int(re.search(r"/rounds/(\d+)", location).group(1))
    resp = post(client, f"/admin/judging/rounds/{round_id}/open", {"_csrf": token})
    assert resp.status_code == 409 and "ยังเปิดรับผลงานถึง" in resp.text and 'role="alert"' in resp.text
    assert run(Round.select(Round.state).first())["state"] == "draft"


def test_assignment_with_too_few_reviewers_lists_the_entries_and_why(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=2, per_entry=3, assign=False)
    token = admin_client(client)
    resp = post(client, f"/admin/judging/rounds/{s.round_id}/assign", {"_csrf": token})
    assert resp.status_code == 409
    text = text_of(resp.text)
    assert "กรรมการไม่พอ" in text and "ไม่ได้มอบหมายงานใด" in text
    for entry_id in s.entries:
        assert f"#{entry_id}" in text
    assert run(Assignment.count()) == 0
    english = client.post(f"/admin/judging/rounds/{s.round_id}/assign?lang=en", data={"_csrf": token})
    assert english.status_code == 409 and "Not enough reviewers" in english.text


def test_committee_errors_are_shown_and_change_nothing(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=2, reviewers=1, per_entry=1, open_round=False)
    token = admin_client(client)
    url = f"/admin/judging/rounds/{s.round_id}/committee"
    resp = post(client, url, {"_csrf": token, "members": "nobody@dga.or.th\nnot an email", "conflicts": ""})
    assert resp.status_code == 422 and 'id="e-members"' in resp.text and "บรรทัด 2" in resp.text
    resp = post(client, url, {"_csrf": token, "members": "nobody@dga.or.th", "conflicts": ""})
    assert resp.status_code == 422 and "nobody@dga.or.th" in text_of(resp.text)
    resp = post(client, url, {"_csrf": token, "members": s.reviewer_emails[0],
                              "conflicts": f"\n{s.reviewer_emails[0]}, 0000, ญาติ"})
    assert resp.status_code == 422 and 'id="e-conflicts"' in resp.text
    assert "บรรทัด 2" in resp.text and "0000" in resp.text
    assert run(Member.count()) == 1 and run(ConflictOfInterest.count()) == 0


def test_tied_entries_across_the_cut_need_the_committees_order(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=3, per_entry=3, shortlist_size=1)
    best = s.entries[:2]
    score_all(s.round_id, lambda e, r, c: 9.0 if e in best else 3.0)
    token = admin_client(client)
    assert_redirect(post(client, f"/admin/judging/rounds/{s.round_id}/close", {"_csrf": token}),
                    f"/admin/judging/rounds/{s.round_id}")
    resp = post(client, f"/admin/judging/rounds/{s.round_id}/decide", {"_csrf": token, "action": "decide"})
    assert resp.status_code == 409 and "ranking#ties-h" in resp.text
    assert all(str(e) in text_of(resp.text) for e in best)

    page = client.get(f"/admin/judging/rounds/{s.round_id}/ranking")
    assert "คร่อมเส้นตัด" in page.text and 'name="order"' in page.text
    resp = post(client, f"/admin/judging/rounds/{s.round_id}/ties",
                {"_csrf": token, "group": "1", "order": f"{best[1]}, {best[0]}", "reason": ""})
    assert resp.status_code == 422 and 'id="e-tie-reason-1"' in resp.text
    resp = post(client, f"/admin/judging/rounds/{s.round_id}/ties",
                {"_csrf": token, "group": "1", "order": f"{best[1]}, {best[0]}", "reason": "มติที่ประชุม 3/2569"})
    page = client.get(assert_redirect(resp, f"/admin/judging/rounds/{s.round_id}/ranking"))
    assert "มติที่ประชุม 3/2569" in page.text
    assert page.text.index(f"#{best[1]} ") < page.text.index(f"#{best[0]} ")
    resp = post(client, f"/admin/judging/rounds/{s.round_id}/decide", {"_csrf": token, "action": "decide"})
    assert_redirect(resp, f"/admin/judging/rounds/{s.round_id}/decision")


def test_decision_override_errors_are_shown_on_their_row(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=5, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    token = admin_client(client)
    # Deciding an open round is refused with the reason.
    resp = post(client, f"/admin/judging/rounds/{s.round_id}/decide", {"_csrf": token, "action": "decide"})
    assert resp.status_code == 409 and "ปิดรอบก่อน" in resp.text
    post(client, f"/admin/judging/rounds/{s.round_id}/close", {"_csrf": token})
    resp = post(client, f"/admin/judging/rounds/{s.round_id}/decide", {
        "_csrf": token, "action": "decide",
        "override-0-entry_id": "", "override-0-outcome": "", "override-0-reason": "",
        "override-1-entry_id": str(s.entries[0]), "override-1-outcome": "shortlisted", "override-1-reason": "",
        "override-2-entry_id": "999999", "override-2-outcome": "winner", "override-2-reason": "ผิด"})
    assert resp.status_code == 422
    assert 'id="e-override-1"' in resp.text and 'id="e-override-2"' in resp.text
    assert 'id="e-override-0"' not in resp.text
    assert run(Round.select(Round.decision_hash).first())["decision_hash"] == ""
    # "Add an override row" keeps what was typed.
    resp = post(client, f"/admin/judging/rounds/{s.round_id}/decide", {
        "_csrf": token, "action": "add_row", "override-0-entry_id": str(s.entries[0]),
        "override-0-outcome": "shortlisted", "override-0-reason": "ทบทวน"})
    assert resp.status_code == 200 and 'value="ทบทวน"' in resp.text and 'name="override-1-reason"' in resp.text


def test_eligibility_filters_and_every_matching_entry(client) -> None:  # type: ignore[no-untyped-def]
    past_deadline()
    north = run(make_submitted_entries(YEAR, 3, provinces=("50",)))
    south = run(make_submitted_entries(YEAR, 2, provinces=("90",)))
    token = admin_client(client)
    page = client.get(f"/admin/judging/{YEAR}/eligibility?province=90")
    assert all(f'id="sel-{e}"' in page.text for e in south) and not any(f'id="sel-{e}"' in page.text for e in north)
    resp = post(client, f"/admin/judging/{YEAR}/eligibility", {
        "_csrf": token, "filter_province": "90", "scope": "filtered", "action": "eligible"})
    assert "n=2" in assert_redirect(resp, f"/admin/judging/{YEAR}/eligibility")
    assert "province=90" in resp.headers["location"]
    assert {e["id"] for e in run(Entry.select(Entry.id).where(Entry.state == "eligible"))} == set(south)
    # Nothing ticked: said plainly, nothing changes.
    resp = post(client, f"/admin/judging/{YEAR}/eligibility", {"_csrf": token, "action": "eligible"})
    assert resp.status_code == 422 and 'id="e-entry_ids"' in resp.text
    page = client.get(f"/admin/judging/{YEAR}/eligibility?state=eligible")
    assert all(f'id="sel-{e}"' in page.text for e in south) and not any(f'id="sel-{e}"' in page.text for e in north)


def test_reopening_with_htmx_swaps_only_the_row(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=2)
    score_all(s.round_id, lambda e, r, c: 5.0)
    token = admin_client(client)
    sheet = run(Assignment.select(Assignment.id, Assignment.reviewer).where(Assignment.round == s.round_id).first())
    url = f"/admin/judging/rounds/{s.round_id}/assignments/{sheet['id']}/reopen"
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}
    resp = client.post(url, data={"reason": ""}, headers=htmx)
    assert resp.status_code == 422
    assert f'<tr id="a-{sheet["id"]}">' in resp.text and "<html" not in resp.text
    assert f'id="e-reason-{sheet["id"]}"' in resp.text
    resp = client.post(url, data={"reason": "แก้คะแนนที่กรอกสลับเกณฑ์"}, headers=htmx)
    assert resp.status_code == 200 and "เปิดให้แก้ไขแล้ว" in resp.text and "hx-post" not in resp.text
    assert run(Assignment.select(Assignment.state).where(Assignment.id == sheet["id"]).first())["state"] == "assigned"
    # Again: only a submitted sheet can be reopened, said in the row.
    resp = client.post(url, data={"reason": "อีกครั้ง"}, headers=htmx)
    assert resp.status_code == 409 and "เปิดให้แก้ไขได้เฉพาะคะแนนที่ส่งแล้วเท่านั้น" in resp.text
    page = client.get(f"/admin/judging/rounds/{s.round_id}/members/{sheet['reviewer']}")
    assert 'data-swap-errors' in page.text and f"/assignments/{sheet['id']}/reopen" not in page.text


def test_judging_pages_are_for_administrators_only(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=2, reviewers=1, per_entry=1)
    resp = client.get(f"/admin/judging/rounds/{s.round_id}/progress", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    browser_login(client, s.reviewer_emails[0])
    for url in ("/admin/judging", f"/admin/judging/rounds/{s.round_id}/ranking",
                f"/admin/judging/{YEAR}/eligibility"):
        assert client.get(url).status_code == 403, url
    token = csrf(client)
    assert post(client, f"/admin/judging/rounds/{s.round_id}/close", {"_csrf": token}).status_code == 403
    assert run(Round.select(Round.state).first())["state"] == "open"


def test_pages_in_english_and_unknown_round(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=2)
    admin_client(client)
    page = client.get(f"/admin/judging/rounds/{s.round_id}/progress?lang=en")
    assert page.status_code == 200 and "Reviews submitted" in page.text and "Send reminders" in page.text
    assert client.get("/admin/judging/rounds/4242").status_code == 404
    assert client.get("/admin/judging/2400/eligibility").status_code == 404
