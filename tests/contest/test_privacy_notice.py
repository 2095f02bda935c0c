"""The privacy notice (PDPA): versions in Thai and English, published with four eyes, accepted at
sign-up and, after a newer version, before going on (pages lead to it, the API answers 403)."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

from contest.domain import notices
from contest.domain.audit import SYSTEM
from contest.tables import AuditEvent, NoticeAcceptance, PendingAction, PrivacyNotice, User
from tests.conftest import run
from tests.factories import PASSWORD, browser_login, csrf, login_token, make_org, make_user

pytestmark = pytest.mark.integration

SEED = "contest.piccolo_migrations.contest_2026_12_04t06_11_15_000000"


def publish(text_th: str = "ประกาศฉบับทดสอบ", text_en: str = "A test notice") -> int:
    """The operator's command line publishes at once (no second administrator)."""
    return int(run(notices.propose_version(actor=SYSTEM, text_th=text_th, text_en=text_en)))


def seed_first_version() -> None:
    async def go() -> None:
        manager = await importlib.import_module(SEED).forwards()
        for raw in manager.raw:
            await raw()
    run(go())


def accept_all(client: Any, tokens: Any, version: int) -> None:
    for headers in tokens:
        resp = client.post("/api/v1/me/notice-acceptance", headers=headers, json={"version": version})
        assert resp.status_code == 200, resp.text


@pytest.fixture()
def admins(client: Any) -> tuple[dict[str, str], dict[str, str]]:
    run(make_user("admin", email="admin1@dga.or.th"))
    run(make_user("admin", email="admin2@dga.or.th"))
    return login_token(client, "admin1@dga.or.th"), login_token(client, "admin2@dga.or.th")


def test_version_1_is_the_text_the_site_showed_until_now(client: Any) -> None:
    seed_first_version()
    seed_first_version()  # running the migration's data step again adds nothing
    rows = run(PrivacyNotice.select())
    assert [r["version"] for r in rows] == [1]
    assert "Personal Data Protection Act B.E. 2562" in rows[0]["text_en"]
    assert "พระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562" in rows[0]["text_th"]
    page = client.get("/privacy")
    assert page.status_code == 200
    assert "ประกาศความเป็นส่วนตัว" in page.text and "ฉบับที่ 1" in page.text
    assert page.text.index("พระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล") < page.text.index("Personal Data Protection Act")
    english = client.get("/privacy?lang=en")
    assert english.text.index("Personal Data Protection Act") < english.text.index("พระราชบัญญัติคุ้มครองข้อมูล")
    body = client.get("/api/v1/privacy-notice").json()
    assert body["version"] == 1 and body["text_en"] == rows[0]["text_en"]


def test_without_any_version_the_page_says_so_and_nobody_is_asked(client: Any) -> None:
    assert "ยังไม่มีการเผยแพร่ประกาศความเป็นส่วนตัว" in client.get("/privacy").text
    assert client.get("/api/v1/privacy-notice").status_code == 404
    run(make_user("reviewer", email="r@dga.or.th"))
    assert client.get("/api/v1/pending-actions", headers=login_token(client, "r@dga.or.th")).status_code == 403


def test_an_admin_proposes_a_new_version_and_only_another_admin_publishes_it(client: Any, admins: Any) -> None:
    first, second = admins
    publish("ข้อความเดิม", "The old text")
    accept_all(client, admins, 1)
    resp = client.post("/api/v1/privacy-notice", headers=first,
                       json={"text_th": "ย่อหน้าแรก\n\nย่อหน้าที่สอง", "text_en": "First paragraph\n\nSecond one"})
    assert resp.status_code == 202, resp.text
    pending_id = resp.json()["pending_action_id"]
    assert run(notices.current_version()) == 1
    own = client.post(f"/api/v1/pending-actions/{pending_id}/approve", headers=first)
    assert own.status_code == 403 and own.json()["code"] == "own_proposal"
    assert run(notices.current_version()) == 1
    ok = client.post(f"/api/v1/pending-actions/{pending_id}/approve", headers=second)
    assert ok.status_code == 200, ok.text
    row = run(PrivacyNotice.select().where(PrivacyNotice.version == 2).first())
    admin1 = run(User.select(User.id).where(User.email == "admin1@dga.or.th").first())["id"]
    admin2 = run(User.select(User.id).where(User.email == "admin2@dga.or.th").first())["id"]
    assert row["text_th"] == "ย่อหน้าแรก\n\nย่อหน้าที่สอง" and row["published_by"] == admin2
    assert row["proposed_by"] == admin1
    assert client.get("/api/v1/privacy-notice").json()["version"] == 2
    assert [v["version"] for v in client.get("/api/v1/privacy-notice/versions").json()] == [2, 1]
    assert client.get("/api/v1/privacy-notice/versions/1").json()["text_en"] == "The old text"
    assert client.get("/api/v1/privacy-notice/versions/3").status_code == 404
    page = client.get("/privacy").text
    assert "<p>ย่อหน้าแรก</p>" in page and "<p>ย่อหน้าที่สอง</p>" in page and 'href="/privacy/1"' in page
    earlier = client.get("/privacy/1")
    assert earlier.status_code == 200 and "ข้อความเดิม" in earlier.text and "ไม่มีผลใช้บังคับแล้ว" in earlier.text
    assert client.get("/privacy/9").status_code == 404
    events = [r["action"] for r in run(AuditEvent.select(AuditEvent.action).order_by(AuditEvent.seq))]
    assert events.count("privacy_notice.publish") == 2 and "pending_action.approve" in events


def test_bad_text_and_other_roles_change_nothing(client: Any, admins: Any) -> None:
    first, _ = admins
    empty = client.post("/api/v1/privacy-notice", headers=first, json={"text_th": "  ", "text_en": "Text"})
    assert empty.status_code == 422 and set(empty.json()["errors"]) == {"text_th"}
    nul = client.post("/api/v1/privacy-notice", headers=first, json={"text_th": "ก\x00", "text_en": "x" * 50_001})
    assert nul.status_code == 422 and set(nul.json()["errors"]) == {"text_th", "text_en"}
    run(make_user("applicant", email="a@example.go.th"))
    denied = client.post("/api/v1/privacy-notice", headers=login_token(client, "a@example.go.th"),
                         json={"text_th": "ก", "text_en": "x"})
    assert denied.status_code == 403
    assert not run(PendingAction.exists()) and not run(PrivacyNotice.exists())


def test_a_proposal_overtaken_by_another_version_is_refused_at_approval(client: Any, admins: Any) -> None:
    first, second = admins
    publish()
    accept_all(client, admins, 1)
    ids = [client.post("/api/v1/privacy-notice", headers=first, json={"text_th": f"ฉบับ {n}", "text_en": f"v{n}"}
                       ).json()["pending_action_id"] for n in (2, 3)]
    assert client.post(f"/api/v1/pending-actions/{ids[0]}/approve", headers=second).status_code == 200
    accept_all(client, [second], 2)  # the new version is in force for the approver too
    late = client.post(f"/api/v1/pending-actions/{ids[1]}/approve", headers=second)
    assert late.status_code == 409 and late.json()["code"] == "notice_changed"
    assert run(notices.current_version()) == 2
    waiting = run(PendingAction.select(PendingAction.state).where(PendingAction.id == ids[1]).first())
    assert waiting["state"] == "pending"


def test_the_admin_page_proposes_and_the_pending_actions_page_shows_the_text(client: Any) -> None:
    publish()
    run(make_user("admin", email="admin1@dga.or.th"))  # made after version 1: has accepted it
    browser_login(client, "admin1@dga.or.th")
    token = csrf(client)
    form = client.get("/admin/privacy-notice")
    assert form.status_code == 200 and "ประกาศฉบับทดสอบ" in form.text
    bad = client.post("/admin/privacy-notice", data={"_csrf": token, "text_th": "", "text_en": "x"})
    assert bad.status_code == 422 and 'id="e-text_th"' in bad.text
    resp = client.post("/admin/privacy-notice", data={"_csrf": token, "text_th": "ฉบับใหม่ของประกาศ",
                                                      "text_en": "The new notice"})
    assert resp.status_code == 202 and "ผู้ดูแลระบบอีกคนต้องอนุมัติ" in resp.text
    listed = client.get("/admin/pending-actions").text
    assert "เผยแพร่ประกาศความเป็นส่วนตัวฉบับใหม่" in listed and "ฉบับใหม่ของประกาศ" in listed
    assert run(notices.current_version()) == 1


def _signup(client: Any, email: str, org: str, **extra: str) -> Any:
    return client.post("/signup", data={"_csrf": csrf(client), "email": email, "password": PASSWORD,
                                        "name": "สมหญิง", "organisation_code": org, **extra})


def test_signing_up_accepts_the_version_the_form_showed(client: Any) -> None:
    org = run(make_org())
    publish()
    form = client.get("/signup")
    assert re.search(r'name="notice_version" value="1"', form.text) and 'href="/privacy"' in form.text
    resp = _signup(client, "new@example.go.th", org, notice_version="1")
    assert resp.status_code == 200, resp.text
    user = run(User.select(User.id).where(User.email == "new@example.go.th").first())
    rows = run(NoticeAcceptance.select().where(NoticeAcceptance.user == user["id"]))
    assert [(r["version"], r["how"]) for r in rows] == [(1, "signup")]
    # A newer version came out while the form was open: refused, nothing made.
    publish("ฉบับที่สอง", "Second")
    stale = _signup(client, "late@example.go.th", org, notice_version="1")
    assert stale.status_code == 422 and 'id="e-notice_version"' in stale.text
    assert 'name="notice_version" value="2"' in stale.text
    assert not run(User.exists().where(User.email == "late@example.go.th"))


def test_a_newer_version_stops_the_api_until_it_is_accepted(client: Any) -> None:
    publish()
    run(make_user("applicant", email="a@example.go.th"))
    headers = login_token(client, "a@example.go.th")
    assert client.get("/api/v1/entries", headers=headers).status_code == 200
    publish("ฉบับที่สอง", "Second")
    stopped = client.get("/api/v1/entries", headers=headers)
    assert stopped.status_code == 403
    assert stopped.json()["code"] == "notice_acceptance_required" and stopped.json()["version"] == 2
    old = client.post("/api/v1/me/notice-acceptance", headers=headers, json={"version": 1})
    assert old.status_code == 409 and old.json()["code"] == "notice_changed" and old.json()["version"] == 2
    bad = client.post("/api/v1/me/notice-acceptance", headers=headers, json={"version": "สอง"})
    assert bad.status_code == 400
    assert not run(NoticeAcceptance.exists().where(NoticeAcceptance.version == 2))
    ok = client.post("/api/v1/me/notice-acceptance", headers=headers, json={"version": 2})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    again = client.post("/api/v1/me/notice-acceptance", headers=headers, json={"version": 2})
    assert again.status_code == 200 and again.json()["accepted_at"] == ok.json()["accepted_at"]
    assert client.get("/api/v1/entries", headers=headers).status_code == 200
    hows = run(NoticeAcceptance.select(NoticeAcceptance.version, NoticeAcceptance.how).order_by(
        NoticeAcceptance.version))
    assert [(r["version"], r["how"]) for r in hows] == [(1, "operator"), (2, "api")]
    assert run(AuditEvent.exists().where(AuditEvent.action == "privacy_notice.accept"))


def test_the_next_login_asks_to_accept_the_new_version_before_going_on(client: Any) -> None:
    publish()
    run(make_user("applicant", email="a@example.go.th"))
    publish("ฉบับที่สองของประกาศ", "The second notice")
    token = csrf(client)
    resp = client.post("/login", data={"email": "a@example.go.th", "password": PASSWORD, "_csrf": token},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/account/privacy-notice?next=/entries"
    page = client.get("/account/privacy-notice?next=/entries")
    assert page.status_code == 200
    assert "ประกาศความเป็นส่วนตัวฉบับใหม่" in page.text and "ฉบับที่สองของประกาศ" in page.text
    # Any other page leads back to the notice (the account page and logging out stay open).
    away = client.get("/entries", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/account/privacy-notice?next=/entries"
    assert client.get("/account").status_code == 200
    stale = client.post("/account/privacy-notice", data={"_csrf": token, "version": "1", "next": "/entries"})
    assert stale.status_code == 409 and "ฉบับที่สองของประกาศ" in stale.text
    done = client.post("/account/privacy-notice", data={"_csrf": token, "version": "2", "next": "//evil.example"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert client.get("/entries", follow_redirects=False).status_code == 200
    assert run(NoticeAcceptance.select(NoticeAcceptance.how).where(NoticeAcceptance.version == 2).first())["how"] \
        == "page"


def test_an_admin_signs_in_with_two_factors_first_then_accepts(client: Any) -> None:
    run(make_user("admin", email="admin1@dga.or.th"))
    publish()
    browser_login(client, "admin1@dga.or.th")
    away = client.get("/admin", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/account/privacy-notice?next=/admin"
    done = client.post("/account/privacy-notice", data={"_csrf": csrf(client), "version": "1", "next": "/admin"},
                       follow_redirects=False)
    assert done.headers["location"] == "/admin" and client.get("/admin").status_code == 200
