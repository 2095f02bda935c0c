"""Who may act for an organisation: a new account waits, the first member is approved by an admin
from the authorisation letter, later members by a verified member, and members can be removed.
Through the JSON API and the pages of the real app."""

from __future__ import annotations

import pytest

from contest import jobs  # noqa: F401 - registers the job handlers
from contest.domain import accounts, outbox
from contest.enums import AuthTokenKind
from contest.tables import AuditEvent, Membership, Organisation, User
from tests.conftest import run
from tests.factories import (
    PASSWORD,
    browser_login,
    csrf,
    decoded_body,
    login_token,
    mails,
    make_edition,
    make_org,
    make_user,
    wait_for_mails,
)
from uploads.testing import make_pdf, make_png

pytestmark = pytest.mark.integration


def _signed_up(client, email: str, code: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Sign up through the page, confirm through the domain, and log in through the API."""
    token = csrf(client)
    resp = client.post("/signup", data={"email": email, "password": PASSWORD, "name": email.split("@")[0],
                                        "organisation_code": code, "_csrf": token})
    assert resp.status_code == 200, resp.text
    run(User.update({User.email_confirmed_at: User.created_at}).where(User.email == email))
    return login_token(client, email)


def _membership(email: str) -> dict:
    user = run(User.select(User.id).where(User.email == email).first())
    return run(Membership.select().where(Membership.user == user["id"]).order_by(Membership.id, ascending=False)
               .first())


def _send_letter(client, headers: dict[str, str], code: str, data: bytes = b"", name: str = "letter.pdf",  # type: ignore[no-untyped-def]
                 content_type: str = "application/pdf"):
    return client.post(f"/api/v1/organisations/{code}/membership-requests", headers=headers,
                       files={"letter": (name, data or make_pdf(), content_type)})


def _run_jobs() -> None:
    run(outbox.run_due())


def _letter_checked(email: str, timeout: float = 30.0) -> str:
    """The letter's check state once its check ran (the app's own job runner may be running it)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        _run_jobs()
        state = _membership(email)["letter_check_state"]
        if state != "pending" or time.monotonic() > deadline:
            return str(state)
        time.sleep(0.05)


@pytest.fixture()
def world(client):  # type: ignore[no-untyped-def]
    code = run(make_org("1234567", name_th="อบต.ทดสอบ"))
    other = run(make_org("7654321", name_th="อบต.อื่น"))
    run(make_edition(2569))
    run(make_user("admin", email="admin@example.go.th"))
    return {"code": code, "other": other, "admin": login_token(client, "admin@example.go.th")}


def test_a_new_account_waits_and_sees_nothing_of_its_organisation(client, world) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="old@example.go.th", org=world["code"]))
    old = login_token(client, "old@example.go.th")
    entry = client.post("/api/v1/editions/2569/entries", headers=old, json={"title": "ระบบลับของ อบต."})
    assert entry.status_code == 201
    entry_id = entry.json()["id"]
    other_entry = client.post("/api/v1/editions/2569/entries", headers=login_token(
        client, run(_user_of(world["other"]))), json={"title": "อีกที่"}).json()["id"]

    new = _signed_up(client, "new@example.go.th", world["code"])
    assert _membership("new@example.go.th")["state"] == "pending"
    for method, path, body in [("GET", "/api/v1/entries", None), ("GET", f"/api/v1/entries/{entry_id}", None),
                               ("PATCH", f"/api/v1/entries/{entry_id}", {"title": "x"}),
                               ("POST", f"/api/v1/entries/{entry_id}/withdraw", None),
                               ("POST", "/api/v1/editions/2569/entries", {"title": "x"})]:
        resp = client.request(method, path, headers=new, json=body)
        assert resp.status_code == 403, (method, path, resp.text)
        assert resp.json()["code"] == "membership_pending"
        assert "ระบบลับ" not in resp.text
    # Someone else's organisation: the stranger's "not found", as before.
    assert client.get(f"/api/v1/entries/{other_entry}", headers=new).status_code == 404
    # The members of the organisation were told, in Thai first.
    _run_jobs()
    notice = decoded_body(mails("old@example.go.th")[-1])
    assert "new@example.go.th" in notice and "/organisation/members" in notice


async def _user_of(code: str) -> str:
    email = f"member-{code}@example.go.th"
    await make_user("applicant", email=email, org=code)
    return email


def test_the_first_member_is_approved_by_an_admin_from_the_letter(client, world) -> None:  # type: ignore[no-untyped-def]
    new = _signed_up(client, "first@example.go.th", world["code"])
    membership_id = _membership("first@example.go.th")["id"]
    # Without the letter an admin cannot approve the organisation's first member.
    resp = client.post(f"/api/v1/memberships/{membership_id}/approve", headers=world["admin"], json={})
    assert resp.status_code == 409 and resp.json()["code"] == "letter_required"
    # A picture is not a letter; nothing is stored.
    resp = _send_letter(client, new, world["code"], make_png(), "letter.png", "image/png")
    assert resp.status_code == 422 and resp.json()["code"] == "letter_not_pdf"
    assert not _membership("first@example.go.th")["letter_key"]
    resp = _send_letter(client, new, world["code"])
    assert resp.status_code == 201, resp.text
    assert resp.json()["state"] == "pending" and resp.json()["has_letter"] is True
    assert _letter_checked("first@example.go.th") == "passed"
    # The admin reads the letter in the browser's viewer.
    letter = client.get(f"/api/v1/memberships/{membership_id}/letter", headers=world["admin"])
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    assert "inline" in letter.headers["content-disposition"]
    # A member of another organisation cannot approve it, or learn it exists.
    stranger = login_token(client, run(_user_of(world["other"])))
    assert client.post(f"/api/v1/memberships/{membership_id}/approve", headers=stranger, json={}).status_code == 404
    assert client.get(f"/api/v1/memberships/{membership_id}/letter", headers=stranger).status_code == 404
    resp = client.post(f"/api/v1/memberships/{membership_id}/approve", headers=world["admin"], json={})
    assert resp.status_code == 200 and resp.json()["state"] == "verified"
    assert resp.json()["decided_by"] == "admin@example.go.th"
    # Now the account acts for its organisation.
    assert client.post("/api/v1/editions/2569/entries", headers=new, json={"title": "ใหม่"}).status_code == 201
    _run_jobs()
    assert "/entries" in decoded_body(mails("first@example.go.th")[-1])
    actions = [r["action"] for r in run(AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id))]
    assert "membership.request" in actions and "membership.letter" in actions and "membership.approve" in actions


def test_later_members_are_approved_by_a_verified_member_and_can_be_removed(client, world) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="head@example.go.th", org=world["code"]))
    head = login_token(client, "head@example.go.th")
    new = _signed_up(client, "later@example.go.th", world["code"])
    membership_id = _membership("later@example.go.th")["id"]
    listed = client.get("/api/v1/memberships?state=pending", headers=head).json()
    assert [m["user_email"] for m in listed] == ["later@example.go.th"]
    # The pending account may not approve itself, nor see the queue.
    assert client.post(f"/api/v1/memberships/{membership_id}/approve", headers=new, json={}).status_code == 403
    assert client.get("/api/v1/memberships", headers=new).json()["code"] == "membership_pending"
    resp = client.post(f"/api/v1/memberships/{membership_id}/approve", headers=head, json={})
    assert resp.status_code == 200 and resp.json()["state"] == "verified"
    # Approved twice: refused, nothing changes.
    assert client.post(f"/api/v1/memberships/{membership_id}/approve", headers=head, json={}).status_code == 409
    assert client.get("/api/v1/entries", headers=new).status_code == 200
    # The head removes the member: access ends at once, and the account may ask elsewhere.
    assert client.delete(f"/api/v1/memberships/{membership_id}", headers=head).json()["state"] == "removed"
    assert client.get("/api/v1/entries", headers=new).json() == []
    later = run(User.select(User.organisation).where(User.email == "later@example.go.th").first())
    assert later["organisation"] is None
    resp = client.post(f"/api/v1/organisations/{world['other']}/membership-requests", headers=new, json={})
    assert resp.status_code == 201 and resp.json()["organisation_code"] == world["other"]


def test_a_rejection_needs_a_reason_the_person_sees(client, world) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="head@example.go.th", org=world["code"]))
    head = login_token(client, "head@example.go.th")
    _signed_up(client, "nope@example.go.th", world["code"])
    membership_id = _membership("nope@example.go.th")["id"]
    resp = client.post(f"/api/v1/memberships/{membership_id}/reject", headers=head, json={})
    assert resp.status_code == 422 and _membership("nope@example.go.th")["state"] == "pending"
    resp = client.post(f"/api/v1/memberships/{membership_id}/reject", headers=head,
                       json={"reason": "ไม่ใช่บุคลากรของ อบต."})
    assert resp.json()["state"] == "rejected"
    # The confirmation mail came first; the app's own runner may be sending the rejection now.
    sent = wait_for_mails("nope@example.go.th", count=2)
    assert any("ไม่ใช่บุคลากรของ อบต." in decoded_body(m) for m in sent)


def test_accounts_made_by_an_operator_are_vouched_for(client, world) -> None:  # type: ignore[no-untyped-def]
    admin = run(User.select().where(User.email == "admin@example.go.th").first())
    actor = accounts.actor_from_row(admin)
    run(accounts.create_user(actor=actor, email="vouched@example.go.th", password=PASSWORD, role="applicant",
                             organisation_code=world["code"]))
    assert _membership("vouched@example.go.th")["state"] == "verified"
    run(accounts.create_user(actor=actor, email="free@example.go.th", password=PASSWORD, role="applicant"))
    free = login_token(client, "free@example.go.th")
    assert client.get("/api/v1/entries", headers=free).json() == []
    resp = client.post(f"/api/v1/organisations/{world['code']}/membership-requests", headers=free,
                       json={"unexpected": 1})
    assert resp.status_code == 422
    resp = client.post("/api/v1/organisations/0000000/membership-requests", headers=free, json={})
    assert resp.status_code == 404
    resp = client.post(f"/api/v1/organisations/{world['code']}/membership-requests", headers=free, json={})
    assert resp.status_code == 201 and resp.json()["state"] == "pending"
    again = client.post(f"/api/v1/organisations/{world['code']}/membership-requests", headers=free, json={})
    assert again.status_code == 409


def test_the_pages_walk_a_pending_member_and_an_admin_through(client, world) -> None:  # type: ignore[no-untyped-def]
    _signed_up(client, "page@example.go.th", world["code"])
    browser_login(client, "page@example.go.th")
    resp = client.get("/entries")
    assert resp.url.path == "/account/membership"
    assert "รอการอนุมัติ" in resp.text  # waiting for approval
    assert 'name="letter"' in resp.text  # the organisation's first member sends the letter
    resp = client.post("/account/membership", files={"letter": ("หนังสือมอบหมาย.pdf", make_pdf(), "application/pdf")},
                       data={"_csrf": csrf(client), "organisation_code": world["code"]})
    assert resp.status_code == 200 and resp.url.path == "/account/membership"
    assert "หนังสือมอบหมาย.pdf" in resp.text
    assert _letter_checked("page@example.go.th") == "passed"
    client.cookies.clear()
    browser_login(client, "admin@example.go.th")
    queue = client.get("/admin/memberships")
    membership_id = _membership("page@example.go.th")["id"]
    assert f"/admin/memberships/{membership_id}/letter" in queue.text
    resp = client.post(f"/memberships/{membership_id}/approve", data={"_csrf": csrf(client)})
    assert resp.status_code == 200 and resp.url.path == "/admin/memberships"
    assert _membership("page@example.go.th")["state"] == "verified"


def test_a_forged_approval_without_the_csrf_token_changes_nothing(client, world) -> None:  # type: ignore[no-untyped-def]
    _signed_up(client, "forge@example.go.th", world["code"])
    membership_id = _membership("forge@example.go.th")["id"]
    browser_login(client, "admin@example.go.th")
    resp = client.post(f"/memberships/{membership_id}/approve", data={})
    assert resp.status_code == 403
    assert _membership("forge@example.go.th")["state"] == "pending"


def test_the_organisation_of_a_session_follows_the_membership(db: str) -> None:
    code = run(make_org())
    run(make_user("applicant", email="m@example.go.th", org=code))
    user = run(User.select().where(User.email == "m@example.go.th").first())
    issued = run(accounts.issue_token(accounts.actor_from_row(user), AuthTokenKind.session))
    org_id = run(Organisation.select(Organisation.id).where(Organisation.code == code).first())["id"]
    assert run(accounts.resolve_token(issued.token, AuthTokenKind.session)).actor.organisation_id == org_id
    run(Membership.update({Membership.state: "pending"}).where(Membership.user == user["id"]))
    actor = run(accounts.resolve_token(issued.token, AuthTokenKind.session)).actor
    assert actor.organisation_id is None and actor.pending_organisation_id == org_id
