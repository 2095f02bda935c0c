"""Four eyes for real: what one administrator proposes, another approves; a shadow administrator
made during a round cannot sign its decision; nobody moves the announcement alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contest import clock
from contest.domain import accounts
from contest.domain.audit import SYSTEM, Actor
from contest.errors import PermissionDenied
from contest.tables import AuditEvent, Edition, PendingAction, User
from judging.domain import shortlist
from tests.conftest import run
from tests.factories import PASSWORD, login_token, make_edition, make_user
from tests.judging.support import YEAR, admin_actors, score_all, screening

pytestmark = pytest.mark.integration


@pytest.fixture()
def admins(client):  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin1@dga.or.th"))
    run(make_user("admin", email="admin2@dga.or.th"))
    return login_token(client, "admin1@dga.or.th"), login_token(client, "admin2@dga.or.th")


def test_an_admin_proposes_an_admin_and_only_another_admin_makes_it_happen(client, admins) -> None:  # type: ignore[no-untyped-def]
    first, second = admins
    resp = client.post("/api/v1/users", headers=first, json={"email": "shadow-admin@dga.or.th", "password": PASSWORD,
                                                             "role": "admin", "name": "เงา"})
    assert resp.status_code == 202 and resp.json()["code"] == "pending_approval"
    pending_id = resp.json()["pending_action_id"]
    assert not run(User.exists().where(User.email == "shadow-admin@dga.or.th"))
    listed = client.get("/api/v1/pending-actions", headers=second).json()
    assert listed[0]["kind"] == "create_admin" and listed[0]["proposed_by"] == "admin1@dga.or.th"
    assert "password" not in str(listed) and "argon2" not in str(listed)
    # The proposer cannot approve it, however often they try.
    own = client.post(f"/api/v1/pending-actions/{pending_id}/approve", headers=first)
    assert own.status_code == 403 and own.json()["code"] == "own_proposal"
    assert not run(User.exists().where(User.email == "shadow-admin@dga.or.th"))
    ok = client.post(f"/api/v1/pending-actions/{pending_id}/approve", headers=second)
    assert ok.status_code == 200 and ok.json()["state"] == "approved"
    assert ok.json()["decided_by"] == "admin2@dga.or.th"
    made = run(User.select().where(User.email == "shadow-admin@dga.or.th").first())
    assert made["role"] == "admin" and made["admin_since"] is not None
    assert accounts.verify_password(made["password_hash"], PASSWORD)
    again = client.post(f"/api/v1/pending-actions/{pending_id}/approve", headers=second)
    assert again.status_code == 409
    actions = {r["action"] for r in run(AuditEvent.select(AuditEvent.action))}
    assert {"pending_action.propose", "pending_action.approve"} <= actions


def test_a_rejected_proposal_changes_nothing(client, admins) -> None:  # type: ignore[no-untyped-def]
    first, second = admins
    pending_id = client.post("/api/v1/users", headers=first, json={
        "email": "x@dga.or.th", "password": PASSWORD, "role": "admin"}).json()["pending_action_id"]
    resp = client.post(f"/api/v1/pending-actions/{pending_id}/reject", headers=second, json={"reason": "ไม่จำเป็น"})
    assert resp.json()["state"] == "rejected"
    assert client.post(f"/api/v1/pending-actions/{pending_id}/approve", headers=second).status_code == 409
    assert not run(User.exists().where(User.email == "x@dga.or.th"))
    # Other roles never see the queue.
    run(make_user("reviewer", email="r@dga.or.th"))
    assert client.get("/api/v1/pending-actions", headers=login_token(client, "r@dga.or.th")).status_code == 403


def test_the_operator_command_line_creates_an_admin_at_once(db: str) -> None:
    user_id = run(accounts.create_user(actor=SYSTEM, email="ops@dga.or.th", password=PASSWORD, role="admin"))
    assert run(User.select(User.role).where(User.id == user_id).first())["role"] == "admin"
    assert run(PendingAction.count()) == 0


def test_resetting_someone_elses_two_factor_takes_two_admins(client, admins) -> None:  # type: ignore[no-untyped-def]
    first, second = admins
    user_id = run(make_user("reviewer", email="lost-phone@dga.or.th"))
    resp = client.post(f"/api/v1/users/{user_id}/two-factor/reset", headers=first)
    assert resp.status_code == 202
    assert run(User.select(User.totp_enabled_at).where(User.id == user_id).first())["totp_enabled_at"] is not None
    client.post(f"/api/v1/pending-actions/{resp.json()['pending_action_id']}/approve", headers=second)
    after = run(User.select(User.totp_enabled_at, User.totp_secret).where(User.id == user_id).first())
    assert after["totp_enabled_at"] is None and after["totp_secret"] is None


def test_the_announcement_moves_after_screening_opened_only_with_a_second_admin(client, admins) -> None:  # type: ignore[no-untyped-def]
    first, second = admins
    edition = run(make_edition(YEAR))
    # While the edition is open, one admin may move it.
    later = edition.announcement_at + timedelta(days=1)
    resp = client.patch(f"/api/v1/editions/{YEAR}", headers=first, json={"announcement_at": later.isoformat()})
    assert resp.status_code == 200
    run(Edition.update({Edition.state: "screening"}).where(Edition.year == YEAR))
    past = clock.now() - timedelta(hours=1)
    resp = client.patch(f"/api/v1/editions/{YEAR}", headers=first, json={"announcement_at": past.isoformat()})
    if resp.status_code == 422:  # the timeline refuses an announcement before the deadline: a later one then
        past = later + timedelta(days=2)
        resp = client.patch(f"/api/v1/editions/{YEAR}", headers=first, json={"announcement_at": past.isoformat()})
    assert resp.status_code == 202, resp.text
    stored = run(Edition.select(Edition.announcement_at).where(Edition.year == YEAR).first())["announcement_at"]
    assert stored == later
    client.post(f"/api/v1/pending-actions/{resp.json()['pending_action_id']}/approve", headers=second)
    stored = run(Edition.select(Edition.announcement_at).where(Edition.year == YEAR).first())["announcement_at"]
    assert abs((stored - past).total_seconds()) < 1


def test_an_admin_made_after_the_round_opened_cannot_sign_its_decision(db: str) -> None:
    s = screening(entries=6, reviewers=3, per_entry=2, shortlist_size=3)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    from judging.domain import rounds

    run(rounds.close_round(actor=SYSTEM, round_id=s.round_id))
    run(shortlist.decide(actor=SYSTEM, round_id=s.round_id))
    [first, _] = admin_actors(s.admins)
    run(shortlist.sign_decision(actor=first, round_id=s.round_id))
    clock.freeze(clock.now() + timedelta(minutes=5))
    shadow_id = run(make_user("admin", email="shadow@dga.or.th"))
    shadow = Actor(id=shadow_id, email="shadow@dga.or.th", role="admin", two_factor=True)
    with pytest.raises(PermissionDenied) as exc:
        run(shortlist.sign_decision(actor=shadow, round_id=s.round_id))
    assert exc.value.code == "signer_too_new"
    # And a real admin signed in with the password only may not sign either.
    [_, second] = admin_actors(s.admins)
    with pytest.raises(PermissionDenied) as exc:
        run(shortlist.sign_decision(actor=Actor(id=second.id, email=second.email, role="admin"), round_id=s.round_id))
    assert exc.value.code == "two_factor_required"
    run(shortlist.sign_decision(actor=second, round_id=s.round_id))
    from judging.tables import Round

    assert run(Round.select(Round.state).where(Round.id == s.round_id).first())["state"] == "signed"


def test_pending_actions_page_lets_the_second_admin_approve(client, admins) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import browser_login, csrf

    first, _ = admins
    pending_id = client.post("/api/v1/users", headers=first, json={
        "email": "page-admin@dga.or.th", "password": PASSWORD, "role": "admin"}).json()["pending_action_id"]
    browser_login(client, "admin2@dga.or.th")
    page = client.get("/admin/pending-actions")
    assert "page-admin@dga.or.th" in page.text and f"/admin/pending-actions/{pending_id}/approve" in page.text
    # Approving carries the action out: the page says what it is first, and nothing happens yet.
    asked = client.post(f"/admin/pending-actions/{pending_id}/approve", data={"_csrf": csrf(client)})
    assert asked.status_code == 200 and "page-admin@dga.or.th" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert not run(User.exists().where(User.email == "page-admin@dga.or.th"))
    resp = client.post(f"/admin/pending-actions/{pending_id}/approve", data={"_csrf": csrf(client), "confirmed": "yes"})
    assert resp.status_code == 200 and run(User.exists().where(User.email == "page-admin@dga.or.th"))
