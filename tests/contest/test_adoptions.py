"""The adoption network: another organisation asks to adopt an awarded innovation, the owner
answers, contacts are shared only then, the adopter reports its service live; the showcase,
the open data and DGA's overview count organisations only. Through the real app and database."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from contest import jobs  # noqa: F401 - registers the job handlers
from contest.domain import announcement
from contest.domain.audit import Actor
from contest.i18n import t
from contest.tables import Adoption, AuditEvent, Entry, Organisation, User
from tests.conftest import run
from tests.factories import browser_login, csrf, decoded_body, login_token, make_org, make_user, wait_for_mails
from tests.judging.support import YEAR, after_announcement, signed_final

pytestmark = pytest.mark.integration


def th(message: str, **params: Any) -> str:
    return t(message, "th", **params)


def _org_code(entry_id: int) -> str:
    return str(run(Entry.select(Entry.organisation.code).where(Entry.id == entry_id).first())["organisation.code"])


@pytest.fixture()
def world(client: Any) -> dict[str, Any]:
    """A published edition; a member of the winner's organisation (the owner), two members of an
    organisation in Songkhla (the adopter), a pending member elsewhere, and an admin."""
    s = signed_final(entries=6, shortlist_size=3)
    winner = run(Entry.select(Entry.id, Entry.title).where(Entry.state == "winner").first())
    loser = run(Entry.select(Entry.id).where(Entry.state == "not_shortlisted").first())
    after_announcement()
    admin = run(User.select(User.id).where(User.email == s.admins[0]).first())
    run(announcement.publish_results(actor=Actor(id=admin["id"], email=s.admins[0], role="admin"), year=YEAR))
    run(make_user("applicant", email="owner@example.go.th", org=_org_code(winner["id"])))
    adopter = run(make_org("8012345", name_th="เทศบาลนครสงขลาทดสอบ", province_code="90", province_name_th="สงขลา"))
    run(make_user("applicant", email="adopter@example.go.th", org=adopter))
    run(make_user("applicant", email="adopter2@example.go.th", org=adopter))
    third = run(make_org("8054321", name_th="อบต.ที่สาม"))
    run(make_user("applicant", email="third@example.go.th", org=third))
    run(make_user("reviewer", email="rev-adopt@example.go.th"))
    return {
        "winner": winner["id"], "title": winner["title"], "loser": loser["id"], "admin_email": s.admins[0],
        "owner": login_token(client, "owner@example.go.th"), "adopter": login_token(client, "adopter@example.go.th"),
        "adopter2": login_token(client, "adopter2@example.go.th"), "third": login_token(client, "third@example.go.th"),
    }


def _ask(client: Any, headers: dict[str, str], entry_id: int, message: str = "เราอยากนำระบบนี้ไปใช้ในเทศบาล"):
    return client.post(f"/api/v1/showcase/{entry_id}/adoptions", headers=headers, json={"message": message})


def test_the_whole_journey_with_contacts_shared_only_on_acceptance(client: Any, world: dict[str, Any]) -> None:
    resp = _ask(client, world["adopter"], world["winner"])
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["state"] == "requested" and body["id"] > 0 and body["contacts"] is None
    aid = body["id"]

    # Before an answer, neither side sees the other's person.
    mine = client.get(f"/api/v1/adoptions/{aid}", headers=world["owner"]).json()
    assert mine["contacts"] is None and mine["message"] == "เราอยากนำระบบนี้ไปใช้ในเทศบาล"
    told = wait_for_mails("owner@example.go.th", count=2)  # the results, then this request
    assert any("เทศบาลนครสงขลาทดสอบ" in decoded_body(m) for m in told), "the owning organisation is told"

    # Only the owner answers; the adopter cannot accept its own request.
    assert client.post(f"/api/v1/adoptions/{aid}/answer", headers=world["adopter"],
                       json={"accept": True, "message": ""}).status_code == 403
    resp = client.post(f"/api/v1/adoptions/{aid}/answer", headers=world["owner"],
                       json={"accept": True, "message": "ยินดีครับ ส่งคู่มือให้ได้"})
    assert resp.status_code == 200, resp.text
    accepted = resp.json()
    assert accepted["state"] == "accepted"
    assert accepted["contacts"]["requester"]["email"] == "adopter@example.go.th"
    assert accepted["contacts"]["answerer"]["email"] == "owner@example.go.th"
    # The other member of the adopting organisation sees it too; a third organisation does not.
    assert client.get(f"/api/v1/adoptions/{aid}", headers=world["adopter2"]).json()["contacts"]
    assert client.get(f"/api/v1/adoptions/{aid}", headers=world["third"]).status_code == 404
    assert any("owner@example.go.th" in decoded_body(m) for m in wait_for_mails("adopter@example.go.th"))

    # Answering twice is refused and changes nothing.
    again = client.post(f"/api/v1/adoptions/{aid}/answer", headers=world["owner"],
                        json={"accept": False, "message": "no"})
    assert again.status_code == 409 and again.json()["code"] == "adoption_state"

    # The adopter reports its service live: a link typed without a scheme, a date in the past.
    future = client.post(f"/api/v1/adoptions/{aid}/in-service", headers=world["adopter"],
                         json={"in_service_since": "2999-01-01", "url": "www.songkhla.go.th/app"})
    assert future.status_code == 422
    live = client.post(f"/api/v1/adoptions/{aid}/in-service", headers=world["adopter"],
                       json={"in_service_since": "2026-06-01", "url": "www.songkhla.go.th/app"})
    assert live.status_code == 200, live.text
    assert live.json()["state"] == "in_service" and live.json()["service_url"] == "https://www.songkhla.go.th/app"

    actions = [r["action"] for r in run(AuditEvent.select(AuditEvent.action).where(
        (AuditEvent.subject_type == "adoption") & (AuditEvent.subject_id == str(aid))).order_by(AuditEvent.seq))]
    assert actions == ["adoption.request", "adoption.answer", "adoption.in_service"]

    # The public showcase counts and names the adopter (an organisation, never a person).
    page = client.get(f"/showcase/{YEAR}/{world['winner']}")
    assert page.status_code == 200
    assert "เทศบาลนครสงขลาทดสอบ" in page.text and "สงขลา" in page.text
    assert "adopter@example.go.th" not in page.text and "owner@example.go.th" not in page.text
    listing = client.get(f"/showcase/{YEAR}")
    assert th("Adopted by {n} organisations ({live} live)", n=1, live=1) in listing.text

    # Open data: organisations only, no person, no message.
    data = client.get("/open-data/adoptions.json")
    assert data.status_code == 200
    records = data.json()["records"]
    assert [(r["entry_id"], r["adopter_organisation_code"], r["state"]) for r in records] == [
        (world["winner"], "8012345", "in_service")]
    assert set(data.json()["data_dictionary"]) == set(records[0])
    text = json.dumps(data.json(), ensure_ascii=False)
    assert "example.go.th" not in text and "เราอยากนำ" not in text and "ยินดีครับ" not in text
    raw = client.get("/open-data/adoptions.csv")
    assert raw.status_code == 200 and raw.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.content.decode("utf-8-sig"))))
    assert rows[0]["adopter_province_name_th"] == "สงขลา" and rows[0]["in_service_since"] == "2026-06-01"

    # Each person finds what they wrote in their own data (the right of access).
    asked = client.get("/api/v1/me/data", headers=world["adopter"]).json()["adoption_requests"]
    assert [(a["id"], a["asked_by_me"], a["answered_by_me"]) for a in asked] == [(aid, True, False)]
    answered = client.get("/api/v1/me/data", headers=world["owner"]).json()["adoption_requests"]
    assert [(a["answer_message"], a["answered_by_me"]) for a in answered] == [("ยินดีครับ ส่งคู่มือให้ได้", True)]


def test_refusals_are_clear_and_change_nothing(client: Any, world: dict[str, Any]) -> None:
    # Not awarded, or no such entry.
    assert _ask(client, world["adopter"], world["loser"]).status_code == 404
    assert _ask(client, world["adopter"], 999999).status_code == 404
    # The owner's own innovation.
    own = _ask(client, world["owner"], world["winner"])
    assert own.status_code == 409 and own.json()["code"] == "own_innovation"
    # No message, a message too long, a body that is not an object, and a refused consent.
    empty = _ask(client, world["adopter"], world["winner"], "   ")
    assert empty.status_code == 422 and empty.json()["code"] == "message_required"
    assert _ask(client, world["adopter"], world["winner"], "ก" * 2001).status_code == 422
    assert client.post(f"/api/v1/showcase/{world['winner']}/adoptions", headers=world["adopter"],
                       json=["x"]).status_code == 422
    no_consent = client.post(f"/api/v1/showcase/{world['winner']}/adoptions", headers=world["adopter"],
                             json={"message": "ขอใช้", "share_contact": False})
    assert no_consent.status_code == 422 and no_consent.json()["code"] == "contact_consent_required"
    # A reviewer, or a person whose membership is pending.
    reviewer = login_token(client, "rev-adopt@example.go.th")
    assert _ask(client, reviewer, world["winner"]).status_code == 403
    pending_org = run(make_org("8099999"))
    run(make_user("applicant", email="pending@example.go.th", org=pending_org))
    run(User.update({User.organisation: run(Organisation.select(Organisation.id).where(
        Organisation.code == pending_org).first())["id"]}).where(User.email == "pending@example.go.th"))
    from contest.tables import Membership
    run(Membership.update({Membership.state: "pending"}).where(
        Membership.user == run(User.select(User.id).where(User.email == "pending@example.go.th").first())["id"]))
    pending = _ask(client, login_token(client, "pending@example.go.th"), world["winner"])
    assert pending.status_code == 403 and pending.json()["code"] == "membership_pending"
    assert run(Adoption.count()) == 0

    # One open request per organisation and innovation, even from its other member.
    assert _ask(client, world["adopter"], world["winner"]).status_code == 201
    twice = _ask(client, world["adopter2"], world["winner"])
    assert twice.status_code == 409 and twice.json()["code"] == "adoption_exists"
    aid = run(Adoption.select(Adoption.id).first())["id"]
    # Declining needs a reason; reporting live before acceptance is refused.
    bare = client.post(f"/api/v1/adoptions/{aid}/answer", headers=world["owner"], json={"accept": False})
    assert bare.status_code == 422
    early = client.post(f"/api/v1/adoptions/{aid}/in-service", headers=world["adopter"],
                        json={"in_service_since": "2026-01-01", "url": "https://x.go.th"})
    assert early.status_code == 409
    assert run(Adoption.select(Adoption.state).first())["state"] == "requested"
    # Declined with a reason: no contacts; the organisation may then ask again.
    declined = client.post(f"/api/v1/adoptions/{aid}/answer", headers=world["owner"],
                           json={"accept": False, "message": "ระบบยังไม่พร้อมเผยแพร่"})
    assert declined.status_code == 200 and declined.json()["contacts"] is None
    assert _ask(client, world["adopter2"], world["winner"]).status_code == 201
    # The open data holds nothing declined or merely requested.
    assert client.get("/open-data/adoptions.json").json()["records"] == []


def test_withdraw_and_lists_for_each_side(client: Any, world: dict[str, Any]) -> None:
    aid = _ask(client, world["adopter"], world["winner"]).json()["id"]
    assert [a["id"] for a in client.get("/api/v1/adoptions", headers=world["owner"]).json()] == [aid]
    assert [a["id"] for a in client.get("/api/v1/adoptions", headers=world["adopter2"]).json()] == [aid]
    assert client.get("/api/v1/adoptions", headers=world["third"]).json() == []
    assert client.post(f"/api/v1/adoptions/{aid}/withdraw", headers=world["owner"]).status_code == 403
    resp = client.post(f"/api/v1/adoptions/{aid}/withdraw", headers=world["adopter2"])
    assert resp.status_code == 200 and resp.json()["state"] == "withdrawn"
    assert client.get("/api/v1/adoptions?state=withdrawn", headers=world["owner"]).json()[0]["id"] == aid
    assert client.get("/api/v1/adoptions?state=nonsense", headers=world["owner"]).status_code == 422
    admin = login_token(client, world["admin_email"])
    assert [a["id"] for a in client.get("/api/v1/adoptions", headers=admin).json()] == [aid]


def test_pages_ask_answer_and_report_live_in_thai(client: Any, world: dict[str, Any]) -> None:
    browser_login(client, "adopter@example.go.th")
    form = client.get(f"/showcase/{YEAR}/{world['winner']}/adopt")
    assert form.status_code == 200 and th("Ask to adopt this innovation") in form.text
    # Without ticking the consent the form comes back with the message kept.
    resp = client.post(f"/showcase/{YEAR}/{world['winner']}/adopt",
                       data={"message": "ขอศึกษาระบบ", "_csrf": csrf(client)})
    assert resp.status_code == 422 and "ขอศึกษาระบบ" in resp.text
    assert th("Agree to share your name and e-mail with the other organisation: it is how the two "
              "organisations reach each other.") in resp.text
    resp = client.post(f"/showcase/{YEAR}/{world['winner']}/adopt",
                       data={"message": "ขอศึกษาระบบ", "share_contact": "yes", "_csrf": csrf(client)},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/organisation/adoptions?done=requested"
    page = client.get("/organisation/adoptions?done=requested")
    assert th("Your request is sent. The organisation is told by e-mail.") in page.text
    aid = run(Adoption.select(Adoption.id).first())["id"]
    client.post("/logout", data={"_csrf": csrf(client)})

    browser_login(client, "owner@example.go.th")
    page = client.get("/organisation/adoptions")
    assert "เทศบาลนครสงขลาทดสอบ" in page.text and "ขอศึกษาระบบ" in page.text
    # Accepting without agreeing to share contacts is refused on the page.
    resp = client.post(f"/organisation/adoptions/{aid}/accept", data={"message": "", "_csrf": csrf(client)})
    assert resp.status_code == 422
    resp = client.post(f"/organisation/adoptions/{aid}/accept",
                       data={"message": "ยินดี", "share_contact": "yes", "_csrf": csrf(client)},
                       follow_redirects=False)
    assert resp.status_code == 303
    page = client.get("/organisation/adoptions")
    assert "adopter@example.go.th" in page.text
    client.post("/logout", data={"_csrf": csrf(client)})

    browser_login(client, "adopter@example.go.th")
    bad = client.post(f"/organisation/adoptions/{aid}/in-service",
                      data={"in_service_since": "not a date", "url": "www.x.go.th", "_csrf": csrf(client)})
    assert bad.status_code == 422 and "กรุณากรอกวันที่ เลือกเดือน และกรอกปี" in bad.text
    future = client.post(f"/organisation/adoptions/{aid}/in-service", data={
        "in_service_since-day": "1", "in_service_since-month": "1", "in_service_since-year": "2999",
        "url": "www.x.go.th", "_csrf": csrf(client)})
    assert future.status_code == 422 and "ปี 2999 อยู่นอกช่วง" in future.text and 'value="2999"' in future.text
    ok = client.post(f"/organisation/adoptions/{aid}/in-service",
                     data={"in_service_since": "2026-05-01", "url": "www.x.go.th", "_csrf": csrf(client)},
                     follow_redirects=False)
    assert ok.status_code == 303
    assert run(Adoption.select(Adoption.state).first())["state"] == "in_service"
    # A page post without the CSRF token is refused.
    assert client.post(f"/organisation/adoptions/{aid}/withdraw", data={}).status_code == 403


def test_admin_overview_counts_by_province_innovation_and_month(client: Any, world: dict[str, Any]) -> None:
    aid = _ask(client, world["adopter"], world["winner"]).json()["id"]
    client.post(f"/api/v1/adoptions/{aid}/answer", headers=world["owner"], json={"accept": True, "message": ""})
    browser_login(client, world["admin_email"])
    page = client.get("/admin/adoptions")
    assert page.status_code == 200
    assert "สงขลา" in page.text and world["title"] in page.text
    client.post("/logout", data={"_csrf": csrf(client)})
    browser_login(client, "adopter@example.go.th")
    assert client.get("/admin/adoptions").status_code == 403
