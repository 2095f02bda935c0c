"""The proposed decision: overrides that name an entry twice or not as a whole number are
refused, a proposal with more or fewer entries inside than the edition's number is flagged
(answer and admin page); the final round's assignment refusal speaks of the panel; a reviewer
outside a round cannot list its assignments."""

from __future__ import annotations

import pytest

from contest.domain.audit import SYSTEM
from contest.tables import Entry
from judging.domain import rounds
from judging.tables import Round
from tests.conftest import run
from tests.factories import browser_login, login_token, make_user
from tests.judging.support import YEAR, make_reviewers, score_all, screening, sign_round

pytestmark = pytest.mark.integration

EN = {"Accept-Language": "en"}


def _admin(client):  # type: ignore[no-untyped-def]
    run(make_user("admin", email="decider@dga.or.th"))
    return login_token(client, "decider@dga.or.th")


def _closed(client, headers, *, entries: int = 5, shortlist_size: int = 2):  # type: ignore[no-untyped-def]
    s = screening(entries=entries, reviewers=3, per_entry=2, shortlist_size=shortlist_size)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    assert client.post(f"/api/v1/rounds/{s.round_id}/close", headers=headers).status_code == 200
    ranking = client.get(f"/api/v1/rounds/{s.round_id}/ranking", headers=headers).json()
    return s, [r["entry_id"] for r in ranking]


def test_overrides_naming_an_entry_twice_or_not_as_a_whole_number_are_422(client) -> None:  # type: ignore[no-untyped-def]
    headers = _admin(client)
    s, ranked = _closed(client, headers)
    url = f"/api/v1/rounds/{s.round_id}/decide"
    twice = [{"entry_id": ranked[3], "outcome": "shortlisted", "reason": "ทบทวน"},
             {"entry_id": ranked[3], "outcome": "not_shortlisted", "reason": "ทบทวนอีกครั้ง"}]
    resp = client.post(url, headers=headers, json={"overrides": twice})
    assert resp.status_code == 422
    assert resp.json()["errors"] == {
        "overrides[1].entry_id": f"ผลงาน {ranked[3]} ถูกระบุซ้ำ กรุณาระบุการปรับผลเพียงครั้งเดียวต่อผลงาน"}
    resp = client.post(url, headers={**headers, **EN}, json={"overrides": twice})
    assert resp.json()["errors"] == {
        "overrides[1].entry_id": f"Entry {ranked[3]} is listed twice: give one override per entry."}
    for bad in (ranked[3] + 0.7, float(ranked[3]), True, "3.7", None, [ranked[3]], "²"):
        resp = client.post(url, headers=headers, json={"overrides": [
            {"entry_id": bad, "outcome": "shortlisted", "reason": "ทบทวน"}]})
        assert resp.status_code == 422, (bad, resp.text)
        assert resp.json()["errors"] == {"overrides[0].entry_id": "กรุณาระบุเลขที่ผลงาน (จำนวนเต็ม)"}
    assert run(Round.select(Round.decision_hash).first())["decision_hash"] == ""
    # The number as text (what the form sends) is fine.
    resp = client.post(url, headers=headers, json={"overrides": [
        {"entry_id": str(ranked[2]), "outcome": "shortlisted", "reason": "ทบทวน"}]})
    assert resp.status_code == 200, resp.text


def test_a_proposal_with_more_or_fewer_inside_than_the_cut_is_flagged(client) -> None:  # type: ignore[no-untyped-def]
    headers = _admin(client)
    s, ranked = _closed(client, headers)
    url = f"/api/v1/rounds/{s.round_id}/decide"
    assert client.post(url, headers=headers, json={}).json()["warnings"] == []

    more = client.post(url, headers=headers, json={"overrides": [
        {"entry_id": ranked[2], "outcome": "shortlisted", "reason": "คะแนนใกล้เคียงกันมาก"}]}).json()
    assert more["inside"] == 3
    message = "เสนอให้ผลงาน 3 รายการผ่านการคัดเลือก ซึ่งมากกว่า 2 รายการที่กำหนดไว้สำหรับการประกวดปีนี้ 1 รายการ"
    assert more["warnings"] == [{"code": "inside_count", "inside": 3, "cut": 2, "message": message}]
    english = client.get(f"/api/v1/rounds/{s.round_id}/decision", headers={**headers, **EN}).json()
    assert english["warnings"][0]["message"] == (
        "3 entries are proposed as shortlisted: 1 more than the 2 the edition sets.")

    browser_login(client, "decider@dga.or.th")
    page = client.get(f"/admin/judging/rounds/{s.round_id}/decision").text
    assert 'id="warning-inside_count"' in page and "มากกว่า 2 รายการที่กำหนดไว้" in page

    fewer = client.post(url, headers=headers, json={"overrides": [
        {"entry_id": ranked[0], "outcome": "not_shortlisted", "reason": "หยุดให้บริการแล้ว"}]}).json()
    assert fewer["inside"] == 1 and fewer["warnings"][0]["message"] == (
        "เสนอให้ผลงาน 1 รายการผ่านการคัดเลือก ซึ่งน้อยกว่า 2 รายการที่กำหนดไว้สำหรับการประกวดปีนี้ 1 รายการ")
    assert "น้อยกว่า 2 รายการที่กำหนดไว้" in client.get(f"/admin/judging/rounds/{s.round_id}/decision").text


def test_final_assignment_refusal_speaks_of_the_panel_not_reviewers_per_entry(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    finalist = run(Entry.select(Entry.organisation.code).where(Entry.state == "shortlisted").first())
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final", "reviewers_per_entry": 7}))
    panel, emails = make_reviewers(1, prefix="panel")
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel, conflicts=[
        {"email": emails[0], "organisation_code": finalist["organisation.code"], "reason": "บ้านเกิด"}]))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    headers = _admin(client)
    resp = client.post(f"/api/v1/rounds/{final_id}/assign", headers=headers)
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "too_few_reviewers" and body["count"] == 1 and "needed" not in body
    assert body["detail"].startswith(
        "กรรมการไม่พอ: ผลงานที่ผ่านเข้ารอบ 1 รายการไม่มีกรรมการที่ไม่มีส่วนได้เสียให้คะแนนได้เลย")
    assert body["detail_en"].startswith("Not enough panel members: 1 finalists cannot be scored by any member")
    assert "7" not in body["detail"] and "7" not in body["detail_en"]


def test_a_reviewer_outside_the_round_cannot_list_its_assignments(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=1)
    outsider = "outsider@dga.or.th"
    run(make_user("reviewer", email=outsider))
    resp = client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=login_token(client, outsider))
    assert resp.status_code == 404 and resp.json()["code"] == "round_not_found"
    mine = client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=login_token(client, s.reviewer_emails[0]))
    assert mine.status_code == 200 and len(mine.json()) == 1
