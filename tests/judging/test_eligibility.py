"""Eligibility waits for the submission deadline of each entry's organisation (extensions
included), and the screening round does not open while a submitted entry has no decision."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from contest import clock
from contest.domain import extensions
from contest.domain.audit import SYSTEM
from contest.tables import Edition, Entry
from judging.tables import Round
from tests.conftest import run
from tests.factories import browser_login, csrf, login_token, make_edition, make_submitted_entries, make_user
from tests.judging.support import YEAR, past_deadline

pytestmark = pytest.mark.integration

EN = {"Accept-Language": "en"}


def _admin(client):  # type: ignore[no-untyped-def]
    run(make_user("admin", email="eligibility@dga.or.th"))
    return login_token(client, "eligibility@dga.or.th")


def _state(entry_id: int) -> str:
    return run(Entry.select(Entry.state).where(Entry.id == entry_id).first())["state"]


def test_eligibility_waits_for_each_organisations_extended_deadline(client) -> None:  # type: ignore[no-untyped-def]
    edition = run(make_edition(YEAR))
    closes = edition.submission_closes_at
    late, on_time = run(make_submitted_entries(YEAR, 2))
    org = run(Entry.select(Entry.organisation.code).where(Entry.id == late).first())["organisation.code"]
    run(extensions.extend_deadline(actor=SYSTEM, year=YEAR, organisation_code=org,
                                        closes_at=closes + timedelta(days=2), reason="ไฟฟ้าดับทั้งอำเภอ"))
    headers = _admin(client)

    # Mid-window: refused, with the closing time, Thai first (Buddhist-Era year) and in English.
    resp = client.post(f"/api/v1/entries/{on_time}/eligibility", headers=headers, json={"eligible": True})
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "submissions_open" and body["entry_ids"] == [on_time]
    assert body["detail"].startswith(f"หน่วยงานยังแก้ไขผลงาน {on_time} ได้จนถึง ")
    assert str(closes.year + 543) in body["detail"]
    assert body["closes_at"] == closes.isoformat()
    resp = client.post(f"/api/v1/entries/{on_time}/eligibility", headers={**headers, **EN},
                       json={"eligible": False, "reason": "ไม่ครบ"})
    assert resp.json()["detail"].startswith(f"Entry {on_time} can still be changed by its organisation until ")
    assert _state(on_time) == "submitted"

    # The edition's deadline has passed, not the extension: the extended entry waits, all or nothing.
    clock.freeze(closes + timedelta(hours=1))
    resp = client.post(f"/api/v1/editions/{YEAR}/eligibility", headers=headers,
                       json={"entry_ids": [late, on_time], "eligible": True})
    assert resp.status_code == 409 and resp.json()["entry_ids"] == [late]
    assert resp.json()["closes_at"] == (closes + timedelta(days=2)).isoformat()
    assert (_state(late), _state(on_time)) == ("submitted", "submitted")
    resp = client.post(f"/api/v1/editions/{YEAR}/eligibility", headers=headers,
                       json={"entry_ids": [on_time], "eligible": True})
    assert resp.status_code == 200 and resp.json()["changed"] == [on_time]

    clock.freeze(closes + timedelta(days=2, minutes=1))
    resp = client.post(f"/api/v1/entries/{late}/eligibility", headers=headers, json={"eligible": True})
    assert resp.status_code == 200 and _state(late) == "eligible"


def test_screening_refuses_to_open_while_entries_await_eligibility(client) -> None:  # type: ignore[no-untyped-def]
    past_deadline()
    *judged_ids, waiting_id = run(make_submitted_entries(YEAR, 3))
    headers = _admin(client)
    assert client.post(f"/api/v1/editions/{YEAR}/eligibility", headers=headers,
                       json={"entry_ids": judged_ids, "eligible": True}).status_code == 200
    round_id = client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers, json={"kind": "screening"}).json()["id"]

    resp = client.post(f"/api/v1/rounds/{round_id}/open", headers=headers)
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "eligibility_pending" and body["count"] == 1
    assert body["detail"] == ("ยังมีผลงานที่ส่งแล้ว 1 รายการที่ยังไม่ได้พิจารณาคุณสมบัติ "
                              "กรุณาระบุว่าแต่ละรายการผ่านหรือไม่ผ่านคุณสมบัติ แล้วจึงเปิดรอบ")
    resp = client.post(f"/api/v1/rounds/{round_id}/open", headers={**headers, **EN})
    assert resp.json()["detail"].startswith("1 submitted entries have no eligibility decision yet.")
    assert run(Round.select(Round.state).first())["state"] == "draft"
    assert run(Edition.select(Edition.state).first())["state"] == "open"  # nothing moved

    # The admin page says so next to the open button, with the way to fix it; the confirmation
    # page says so instead of offering to open.
    browser_login(client, "eligibility@dga.or.th")
    page = client.get(f"/admin/judging/rounds/{round_id}").text
    notice = re.search(r'<p class="notice bad" id="open-pending">(.*?)</p>', page, re.S)
    assert notice is not None
    assert "ยังมีผลงานที่ส่งแล้ว 1 รายการที่ยังไม่ได้พิจารณาคุณสมบัติ" in notice.group(1)
    assert f'href="/admin/judging/{YEAR}/eligibility?state=submitted"' in notice.group(1)
    assert re.search(rf'<a class="button" href="/admin/judging/rounds/{round_id}/open" '
                     r'aria-describedby="open-pending">', page)
    confirm = client.get(f"/admin/judging/rounds/{round_id}/open").text
    assert "ยังมีผลงานที่ส่งแล้ว 1 รายการที่ยังไม่ได้พิจารณาคุณสมบัติ" in confirm
    assert f'action="/admin/judging/rounds/{round_id}/open"' not in confirm
    resp = client.post(f"/admin/judging/rounds/{round_id}/open", data={"_csrf": csrf(client)},
                       follow_redirects=False)
    assert resp.status_code == 409 and 'role="alert"' in resp.text

    # Decided (not eligible, with its reason): the round opens with the eligible ones only.
    assert client.post(f"/api/v1/entries/{waiting_id}/eligibility", headers=headers,
                       json={"eligible": False, "reason": "ยังไม่เปิดให้บริการจริง"}).status_code == 200
    assert "open-pending" not in client.get(f"/admin/judging/rounds/{round_id}").text
    resp = client.post(f"/api/v1/rounds/{round_id}/open", headers=headers)
    assert resp.status_code == 200 and resp.json()["entries"] == 2
