"""Malformed JSON bodies on the judging API get a 422 with the field and a Thai-first message
(English with Accept-Language: en), never a 500, and change nothing."""

from __future__ import annotations

import pytest

from judging.tables import Assignment, Round
from tests.conftest import run
from tests.factories import login_token, make_edition, make_user
from tests.judging.support import YEAR, screening

pytestmark = pytest.mark.integration

EN = {"Accept-Language": "en"}


def _admin(client):  # type: ignore[no-untyped-def]
    run(make_user("admin", email="input@dga.or.th"))
    return login_token(client, "input@dga.or.th")


def test_round_without_kind_is_422_on_kind(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    headers = _admin(client)
    for body in ({}, {"kind": None}, {"kind": ""}, {"kind": ["screening"]}):
        resp = client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers, json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["code"] == "validation_failed"
        assert resp.json()["errors"] == {"kind": "โปรดเลือกรอบกลั่นกรองหรือรอบตัดสิน"}
    resp = client.post(f"/api/v1/editions/{YEAR}/rounds", headers={**headers, **EN}, json={"criteria": None})
    assert resp.status_code == 422 and resp.json()["errors"] == {"kind": "Choose screening or final."}
    assert resp.json()["detail"] == "Please correct the highlighted fields."
    assert run(Round.count()) == 0


def test_score_sheet_version_and_comment_must_have_their_types(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=1)  # one entry each
    me = login_token(client, s.reviewer_emails[0])
    aid = client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=me).json()[0]["id"]
    url = f"/api/v1/assignments/{aid}/scores"
    for version in ("abc", [1], {"v": 1}, True, 1.5, "-1", "²", "①"):
        resp = client.put(url, headers=me, json={"scores": {"fit": 5}, "version": version})
        assert resp.status_code == 422, (version, resp.text)
        assert resp.json()["errors"] == {
            "version": "หมายเลขฉบับ (version) ต้องเป็นจำนวนเต็มตามที่อ่านได้พร้อมใบให้คะแนน"}
    resp = client.put(url, headers={**me, **EN}, json={"scores": {"fit": 5}, "version": "abc"})
    assert resp.json()["errors"] == {"version": "The version is the whole number you read with the sheet."}
    for comment in (5, ["ดี"], {"text": "ดี"}, False):
        resp = client.put(url, headers=me, json={"scores": {"fit": 5}, "comment": comment})
        assert resp.status_code == 422, (comment, resp.text)
        assert resp.json()["errors"] == {"comment": "ความเห็นต้องเป็นข้อความ"}
    resp = client.put(url, headers={**me, **EN}, json={"scores": {"fit": 5}, "comment": 5})
    assert resp.json()["errors"] == {"comment": "The comment is text."}
    row = run(Assignment.select(Assignment.scores, Assignment.version).where(Assignment.id == aid).first())
    assert row["scores"] in ({}, "{}") and row["version"] == 1
    # The version as its digits is fine, and a stale one is still 409.
    resp = client.put(url, headers=me, json={"scores": {"fit": 5}, "version": "1", "comment": "ดี"})
    assert resp.status_code == 200 and resp.json()["version"] == 2 and resp.json()["comment"] == "ดี"
    resp = client.put(url, headers=me, json={"scores": {"fit": 6}, "version": 1})
    assert resp.status_code == 409 and resp.json()["code"] == "stale_version"


def test_score_errors_name_the_criterion_in_the_callers_language(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=1)
    me = login_token(client, s.reviewer_emails[0])
    aid = client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=me).json()[0]["id"]
    url = f"/api/v1/assignments/{aid}/scores"
    fit_th = "ความสอดคล้องระหว่างปัญหาและความต้องการของประชาชนกับโซลูชันดิจิทัล"
    fit_en = "Fit between local problems or citizens' needs and the digital solution"
    resp = client.put(url, headers=me, json={"scores": {"fit": 11, "technology": "abc", "charm": 5}})
    assert resp.status_code == 422
    assert resp.json()["errors"] == {
        "scores.fit": f'คะแนนเกณฑ์ "{fit_th}" ต้องอยู่ระหว่าง 0 ถึง 10',
        "scores.technology": 'คะแนนเกณฑ์ "การนำเทคโนโลยีดิจิทัลมาใช้" ต้องเป็นตัวเลข',
        "scores.charm": "ไม่มีเกณฑ์ charm ในเกณฑ์การให้คะแนนของรอบนี้"}
    resp = client.put(url, headers={**me, **EN}, json={"scores": {"fit": 11, "technology": "abc"}})
    assert resp.json()["errors"] == {"scores.fit": f'The score for "{fit_en}" must be between 0 and 10.',
                                     "scores.technology": 'The score for "Use of digital technology" must be a number.'}
    assert client.put(url, headers=me, json={"scores": {"fit": 7}}).status_code == 200
    resp = client.post(f"/api/v1/assignments/{aid}/submit", headers={**me, **EN})
    assert resp.status_code == 422 and resp.json()["code"] == "incomplete"
    assert resp.json()["errors"]["scores.vision"] == 'No score given for "Executives\' vision and policy".'
    assert "scores.fit" not in resp.json()["errors"] and len(resp.json()["errors"]) == 5
    resp = client.post(f"/api/v1/assignments/{aid}/submit", headers=me)
    assert resp.json()["errors"]["scores.vision"] == 'ยังไม่ได้ให้คะแนนเกณฑ์ "วิสัยทัศน์และนโยบายของผู้บริหาร"'


def test_reopening_a_sheet_needs_a_reason(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=1)
    me = login_token(client, s.reviewer_emails[0])
    aid = client.get(f"/api/v1/rounds/{s.round_id}/assignments", headers=me).json()[0]["id"]
    full = {c: 5 for c in ("fit", "technology", "vision", "implementation", "results", "adoption")}
    assert client.put(f"/api/v1/assignments/{aid}/scores", headers=me, json={"scores": full}).status_code == 200
    assert client.post(f"/api/v1/assignments/{aid}/submit", headers=me).status_code == 200
    headers = _admin(client)
    url = f"/api/v1/assignments/{aid}/reopen"
    for body in (None, {}, {"reason": ""}, {"reason": "   "}):
        resp = client.post(url, headers=headers, json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["errors"] == {"reason": "โปรดระบุเหตุผลที่เปิดให้แก้ไข (ระบบจะบันทึกไว้)"}
    resp = client.post(url, headers={**headers, **EN}, json={})
    assert resp.json()["errors"] == {"reason": "Say why the sheet is reopened (it is recorded)."}
    assert run(Assignment.select(Assignment.state).where(Assignment.id == aid).first())["state"] == "submitted"
    resp = client.post(url, headers=headers, json={"reason": "กรอกคะแนนสลับเกณฑ์"})
    assert resp.status_code == 200 and resp.json() == {"id": aid, "state": "assigned"}
