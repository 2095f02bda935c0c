"""The final round's presentation slots."""

from __future__ import annotations

import pytest

from contest import jobs  # noqa: F401 - registers the mail job for run_due
from contest.domain import outbox
from contest.domain.audit import SYSTEM
from contest.tables import Entry
from judging.domain import round_rows, rounds
from tests.conftest import run
from tests.factories import decoded_body, login_token, mails, make_user, wait_for_mails
from tests.judging.support import YEAR, make_reviewers, score_all, screening, sign_round

pytestmark = pytest.mark.integration


def test_slots_are_shown_and_mailed_only_once_the_finalists_are_invited(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    finalist, second = run(Entry.select(Entry.id, Entry.organisation.code).where(Entry.state == "shortlisted")
                           .order_by(Entry.id))
    other = run(Entry.select(Entry.id, Entry.organisation.code).where(Entry.state == "not_shortlisted").first())
    run(make_user("applicant", email="finalist@example.go.th", org=finalist["organisation.code"]))
    run(make_user("applicant", email="other@example.go.th", org=other["organisation.code"]))
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final"}))
    panel, _ = make_reviewers(2, prefix="panel")
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    run(make_user("admin", email="boss@dga.or.th"))
    admin = login_token(client, "boss@dga.or.th")
    path = f"/api/v1/rounds/{final_id}/presentations/{finalist['id']}"

    bad = client.put(path, headers=admin, json={"starts_at": "soon", "link": "javascript:alert(1)", "minutes": 1})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"starts_at", "link", "minutes"}
    for odd in ("0001-01-01T00:00:00+07:00", "9999-12-31T23:59:00+07:00"):
        far = client.put(path, headers=admin, json={"starts_at": odd})
        assert far.status_code == 422 and list(far.json()["errors"]) == ["starts_at"], far.text
        assert "2543" in far.json()["errors"]["starts_at"]
    assert client.put(f"/api/v1/rounds/{s.round_id}/presentations/{finalist['id']}", headers=admin,
                      json={"starts_at": "2026-12-01T10:00:00+07:00"}).json()["code"] == "not_final"
    assert client.put(f"/api/v1/rounds/{final_id}/presentations/{other['id']}", headers=admin,
                      json={"starts_at": "2026-12-01T10:00:00+07:00"}).status_code == 404
    resp = client.put(path, headers=admin, json={"starts_at": "2026-12-01T10:00:00+07:00", "minutes": 20,
                                                 "link": "https://meet.example.go.th/final-1", "note": "ห้อง 2"})
    assert resp.status_code == 200, resp.text

    # A slot alone tells the organisation nothing: no mail, no slot, no page, no link.
    finalist_token = login_token(client, "finalist@example.go.th")
    mine = f"/api/v1/entries/{finalist['id']}/presentation"
    run(outbox.run_due())
    assert mails("finalist@example.go.th") == []
    hidden = client.get(mine, headers=finalist_token)
    assert hidden.status_code == 404 and hidden.json()["code"] == "no_presentation"
    assert client.get(mine, headers=admin).status_code == 200

    # The invitations go to every finalist at once: refused while one has no slot.
    invite = f"/api/v1/rounds/{final_id}/presentations/invitations"
    missing = client.post(invite, headers=admin)
    assert missing.status_code == 409 and missing.json()["code"] == "slots_missing"
    assert missing.json()["entry_ids"] == [second["id"]]
    assert client.get(mine, headers=finalist_token).status_code == 404
    assert client.put(f"/api/v1/rounds/{final_id}/presentations/{second['id']}", headers=admin,
                      json={"starts_at": "2026-12-01T11:00:00+07:00"}).status_code == 200
    sent = client.post(invite, headers=admin)
    assert sent.status_code == 200 and sent.json() == {"invited": 2}
    again = client.post(invite, headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "invitations_sent"

    mail = decoded_body(wait_for_mails("finalist@example.go.th")[0])
    assert "https://meet.example.go.th/final-1" in mail and "2569" in mail  # Buddhist-Era date
    assert f"/entries/{finalist['id']}/presentation" in mail
    assert "finalist" not in mail and "รอบสุดท้าย" not in mail  # an invitation names no outcome
    shown = client.get(mine, headers=finalist_token)
    assert shown.status_code == 200 and shown.json()["minutes"] == 20 and shown.json()["link"].endswith("final-1")
    assert client.get(mine, headers=login_token(client, "other@example.go.th")).status_code == 404
    # The entry still reads "submitted" to its organisation: the invitation is not the result.
    assert client.get(f"/api/v1/entries/{finalist['id']}", headers=finalist_token).json()["state"] == "submitted"
    from tests.factories import browser_login
    browser_login(client, "finalist@example.go.th")
    page = client.get(f"/entries/{finalist['id']}/presentation")
    assert page.status_code == 200 and "https://meet.example.go.th/final-1" in page.text and "2569" in page.text
    assert "ห้อง 2" in page.text

    # A slot moved after the invitations is mailed again to that organisation.
    assert client.put(path, headers=admin, json={"starts_at": "2026-12-02T10:00:00+07:00"}).status_code == 200
    assert len(wait_for_mails("finalist@example.go.th", count=2)) == 2
    # The panel still scores every finalist; the slots change nothing there.
    score_all(final_id, lambda e, r, c: 7.0)
    assert len(client.get(f"/api/v1/rounds/{final_id}/presentations", headers=admin).json()) == 2


# --- the panel's feedback, and the rules of the final ----------------------------------

def _feedback(entry_id: int) -> dict:  # type: ignore[type-arg]
    import json

    return json.loads(run(Entry.select(Entry.feedback).where(Entry.id == entry_id).first())["feedback"])


def _signed_screening(entries: int = 4, shortlist_size: int = 2):  # type: ignore[no-untyped-def]
    s = screening(entries=entries, reviewers=3, per_entry=2, shortlist_size=shortlist_size)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    finalists = sorted(e["id"] for e in run(Entry.select(Entry.id).where(Entry.state == "shortlisted")))
    return s, finalists


def test_final_panel_feedback_is_recorded_for_finalists_without_names_or_scores(client) -> None:  # type: ignore[no-untyped-def]
    from judging.domain import assignments, scoring
    from judging.tables import Assignment
    from tests.judging.support import actor_for, after_announcement

    s, (tied, both_scored) = _signed_screening()
    org = run(Entry.select(Entry.organisation.code).where(Entry.id == tied).first())["organisation.code"]
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final"}))
    panel, emails = make_reviewers(2, prefix="panel")
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel, conflicts=[
        {"email": emails[1], "organisation_code": org, "reason": "บ้านเกิด"}]))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=final_id))
    words = {panel[0]: (8.0, "นำเสนอชัดเจน"), panel[1]: (6.0, "ควรขยายผลไปยังตำบลใกล้เคียง")}
    criteria = run(round_rows.criteria_of(final_id))
    for a in run(Assignment.select().where(Assignment.round == final_id)):
        value, comment = words[a["reviewer"]]
        actor = actor_for(a["reviewer"])
        run(scoring.save_scores(actor=actor, assignment_id=a["id"], scores={c["code"]: value for c in criteria},
                                comment=comment))
        run(scoring.submit_scores(actor=actor, assignment_id=a["id"]))
    screening_feedback = _feedback(both_scored)
    sign_round(final_id, s.admins)

    feedback = _feedback(both_scored)
    assert feedback["final"] == {
        "kind": "final", "reviewers": 2, "means_hidden": False,
        "criteria": [{"code": c["code"], "name_th": c["name_th"], "name_en": c["name_en"], "max": c["max"],
                      "mean": 7.0} for c in criteria],
        "comments": sorted(["นำเสนอชัดเจน", "ควรขยายผลไปยังตำบลใกล้เคียง"])}
    assert {k: v for k, v in feedback.items() if k != "final"} == screening_feedback  # the committee's, kept
    assert screening_feedback["kind"] == "screening" and screening_feedback["reviewers"] == 2
    # One panel member only: their per-criterion scores would show through a "mean", so none is given.
    assert _feedback(tied)["final"] == {"kind": "final", "reviewers": 1, "means_hidden": True, "criteria": [],
                                        "comments": ["นำเสนอชัดเจน"]}
    for entry_id in (tied, both_scored):
        raw = run(Entry.select(Entry.feedback).where(Entry.id == entry_id).first())["feedback"]
        assert not any(e in raw for e in emails) and "reviewer_id" not in raw and "scores" not in raw

    # After publication the finalist's organisation reads the panel's feedback with its result.
    after_announcement()
    run(make_user("admin", email="publisher@dga.or.th"))
    assert client.post(f"/api/v1/editions/{YEAR}/publish",
                       headers=login_token(client, "publisher@dga.or.th")).status_code == 200
    owner = run(Entry.select(Entry.organisation.code).where(Entry.id == both_scored).first())["organisation.code"]
    run(make_user("applicant", email="owner@example.go.th", org=owner))
    result = client.get(f"/api/v1/entries/{both_scored}/result", headers=login_token(client, "owner@example.go.th"))
    assert result.status_code == 200 and result.json()["feedback"]["final"]["reviewers"] == 2


def test_screening_feedback_hides_the_means_of_a_single_reviewer(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=1, shortlist_size=1)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    for entry_id in s.entries:
        assert _feedback(entry_id) == {"kind": "screening", "reviewers": 1, "means_hidden": True, "criteria": [],
                                       "comments": ["ดี"]}


def test_final_round_ignores_the_same_province_rule(client) -> None:  # type: ignore[no-untyped-def]
    from judging.domain import assignments

    s, finalists = _signed_screening()  # every entry's organisation is in province 50
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final", "exclude_same_province": True}))
    panel, emails = make_reviewers(2, prefix="panel")
    result = run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel,
                                    provinces={e: "50" for e in emails}))
    assert result["warnings"] == []
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    assigned = run(assignments.assign_reviewers(actor=SYSTEM, round_id=final_id))
    assert assigned.created == 4 and assigned.per_reviewer == {panel[0]: 2, panel[1]: 2}

    # The round form says so.
    from tests.factories import browser_login
    browser_login(client, s.admins[0])
    hint = ("ใช้เฉพาะรอบกลั่นกรอง ในรอบตัดสินจะไม่ใช้กฎนี้ "
            "กรรมการผู้ทรงคุณวุฒิทุกคนให้คะแนนผลงานที่ผ่านเข้ารอบทุกรายการ "
            "ไม่ว่าจะอยู่จังหวัดใด เว้นแต่ถอนตัวเพราะมีส่วนได้เสีย")
    assert hint in client.get(f"/admin/judging/{YEAR}/rounds/new?kind=final").text
    page = client.get(f"/admin/judging/rounds/{final_id}/rules").text
    assert "ไม่ใช้ในรอบตัดสิน: กรรมการทุกคนให้คะแนนผลงานที่ผ่านเข้ารอบทุกรายการ เว้นแต่ถอนตัว" in page


def test_presentation_slots_are_set_on_the_final_rounds_admin_page(client) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from contest import clock
    from judging.tables import Presentation
    from tests.factories import browser_login, csrf

    s, (first, second) = _signed_screening()
    org = run(Entry.select(Entry.organisation.code).where(Entry.id == first).first())["organisation.code"]
    run(make_user("applicant", email="slot@example.go.th", org=org))
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final"}))
    panel, _ = make_reviewers(2, prefix="panel")
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    browser_login(client, s.admins[0])
    token = csrf(client)

    overview = client.get(f"/admin/judging/rounds/{final_id}").text
    assert f'href="/admin/judging/rounds/{final_id}/presentations"' in overview
    page = client.get(f"/admin/judging/rounds/{final_id}/presentations")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert "กำหนดการนำเสนอผลงาน" in page.text and "กำหนดเวลานำเสนอแล้ว 0 จาก 2 รายการ" in page.text
    for entry_id in (first, second):
        assert f'action="/admin/judging/rounds/{final_id}/presentations/{entry_id}"' in page.text
    url = f"/admin/judging/rounds/{final_id}/presentations/{first}"

    bad = client.post(url, data={"_csrf": token, "date": "", "time": "25:00", "minutes": "1",
                                 "link": "javascript:alert(1)", "note": "ห้อง 2"}, follow_redirects=False)
    assert bad.status_code == 422
    assert (f'<p class="error" id="e-p{first}-date">วันและเวลา (เวลากรุงเทพฯ): กรุณากรอกวันที่ เดือน ปี / '
            "Date and time (Bangkok): fill in the day, the month and the year.</p>") in bad.text
    expected = {"minutes": "ระหว่าง 5 ถึง 240 นาที",
                "link": "กรุณากรอกที่อยู่เว็บ เช่น meet.example.go.th/final หรือ https://meet.example.go.th/final"}
    for name, message in expected.items():
        assert f'<p class="error" id="e-p{first}-{name}">{message}</p>' in bad.text, name
        assert f'id="f-p{first}-{name}"' in bad.text
    assert f'id="e-p{second}-date"' not in bad.text  # only the row that was sent
    assert 'value="javascript:alert(1)"' in bad.text and "ห้อง 2" in bad.text  # what was typed is kept
    assert "ยังไม่ได้บันทึกกำหนดการของผลงาน" in bad.text
    english = client.post(url + "?lang=en", data={"_csrf": token, "date": "2026-12-01", "time": "", "minutes": "20"})
    assert english.status_code == 422 and "Date and time (Bangkok): fill in the time." in english.text
    assert run(Presentation.count()) == 0
    client.get("/?lang=th")  # back to Thai (the switch is remembered)

    # A Buddhist-Era year is taken as such; Bangkok time.
    ok = client.post(url, data={"_csrf": token, "date": "2569-12-01", "time": "10:30", "minutes": "20",
                                "link": "https://meet.example.go.th/final-1", "note": ""}, follow_redirects=False)
    assert ok.status_code == 303
    assert ok.headers["location"] == f"/admin/judging/rounds/{final_id}/presentations?done=presentation#p-{first}"
    slot = run(Presentation.select().where(Presentation.entry == first).first())
    assert slot["starts_at"] == datetime(2026, 12, 1, 10, 30, tzinfo=clock.BANGKOK) and slot["minutes"] == 20
    page = client.get(ok.headers["location"]).text
    assert "บันทึกกำหนดการนำเสนอแล้ว" in page and "กำหนดการ: 1 ธันวาคม 2569 เวลา 10:30 น. ใช้เวลา 20 นาที" in page
    assert 'name="date-year" type="text"' in page and 'value="2569"' in page
    assert 'value="10:30"' in page and "กำหนดเวลานำเสนอแล้ว 1 จาก 2 รายการ" in page
    run(outbox.run_due())
    assert mails("slot@example.go.th") == []  # nobody is told before the invitations

    # The invitations: refused (with the reason on the page) until every finalist has a slot.
    invite = f"/admin/judging/rounds/{final_id}/presentations/invitations"
    assert f'href="{invite}"' in page  # to the page that asks first
    confirm = client.get(invite).text
    assert "ยังมีผลงาน 1 รายการที่ยังไม่มีกำหนดการนำเสนอ" in confirm and f'action="{invite}"' not in confirm
    refused = client.post(invite, data={"_csrf": token})
    assert refused.status_code == 409 and "ยังมีผลงาน 1 รายการที่ยังไม่มีกำหนดการนำเสนอ" in refused.text
    assert client.post(f"/admin/judging/rounds/{final_id}/presentations/{second}", follow_redirects=False, data={
        "_csrf": token, "date": "2026-12-01", "time": "11:00", "minutes": "20"}).status_code == 303
    confirm = client.get(invite).text
    assert f'action="{invite}"' in confirm and "อีเมลที่ส่งแล้วเรียกคืนไม่ได้" in confirm
    assert f'href="/admin/judging/rounds/{final_id}/presentations"' in confirm  # Cancel
    sent = client.post(invite, data={"_csrf": token}, follow_redirects=False)
    assert sent.status_code == 303
    page = client.get(sent.headers["location"]).text
    assert "ส่งคำเชิญนำเสนอผลงานแล้ว 2 รายการ" in page and f'href="{invite}"' not in page
    assert "เลื่อนกำหนดการและแจ้งหน่วยงานทางอีเมล" in page
    mail = decoded_body(wait_for_mails("slot@example.go.th")[0])
    assert "https://meet.example.go.th/final-1" in mail and "1 ธันวาคม 2569 เวลา 10:30 น." in mail

    # A screening round has no slots; after signing the slots are read only.
    screening_page = client.get(f"/admin/judging/rounds/{s.round_id}/presentations").text
    assert "กำหนดการนำเสนอผลงานมีเฉพาะในรอบตัดสิน" in screening_page
    assert client.post(f"/admin/judging/rounds/{s.round_id}/presentations/{first}",
                       data={"_csrf": token, "date": "2026-12-01", "time": "10:00"}).status_code == 409
