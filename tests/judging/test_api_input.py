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
    for version in ("abc", [1], {"v": 1}, True, 1.5, "-1"):
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
