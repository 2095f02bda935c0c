"""Accounts through the domain functions and the HTML pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contest import clock
from contest.domain import accounts
from contest.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from contest.tables import AuditEvent, EmailToken, User
from tests.conftest import run
from tests.factories import (
    PASSWORD,
    browser_login,
    csrf,
    decoded_body,
    link_in,
    mails,
    make_org,
    make_user,
    wait_for_mails,
)

pytestmark = pytest.mark.integration


async def _run_jobs() -> None:
    from contest import jobs  # noqa: F401
    from contest.domain import outbox

    await outbox.run_due()


def test_sign_up_creates_unconfirmed_applicant_and_mails_link(db: str) -> None:
    code = run(make_org())
    result = run(accounts.sign_up(email=" Staff@Example.go.th ", password=PASSWORD, name="สมหญิง ใจดี",
                                  organisation_code=code))
    run(_run_jobs())
    user = run(User.select().where(User.id == result.user_id).first())
    assert user["email"] == "staff@example.go.th"
    assert user["role"] == "applicant"
    assert user["email_confirmed_at"] is None
    assert user["password_hash"].startswith("$argon2id$")
    [mail] = mails("staff@example.go.th")
    assert "/account/confirm/" in link_in(mail, "/account/confirm/")


def test_password_hash_uses_owasp_argon2id_parameters_and_old_hashes_are_upgraded(db: str) -> None:
    from argon2 import PasswordHasher

    user_id = run(make_user("admin", email="old-hash@example.go.th"))
    fresh = run(User.select(User.password_hash).where(User.id == user_id).first())["password_hash"]
    assert fresh.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    # An account hashed with argon2-cffi's heavier defaults still logs in, and is re-hashed.
    old = PasswordHasher().hash(PASSWORD)
    assert old.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    run(User.update({User.password_hash: old}).where(User.id == user_id))
    actor = run(accounts.authenticate("old-hash@example.go.th", PASSWORD))
    assert actor.id == user_id
    upgraded = run(User.select(User.password_hash).where(User.id == user_id).first())["password_hash"]
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and upgraded != fresh
    assert accounts.verify_password(upgraded, PASSWORD)


def test_sign_up_with_a_known_email_answers_alike_and_mails_the_owner(db: str) -> None:
    """Sign-up does not reveal who has an account: the answer is the same, no account is made or
    changed, and the owner is mailed the way back in."""
    code = run(make_org())
    run(accounts.sign_up(email="a@example.go.th", password=PASSWORD, name="A", organisation_code=code))
    run(_run_jobs())
    before = run(User.select().where(User.email == "a@example.go.th").first())
    result = run(accounts.sign_up(email="A@example.go.th", password="another-password-1", name="B",
                                  organisation_code=code))
    run(_run_jobs())
    assert result.email == "a@example.go.th" and result.user_id is None
    assert run(User.count()) == 1
    assert run(User.select().where(User.email == "a@example.go.th").first()) == before
    sent = mails("a@example.go.th")
    assert len(sent) == 2
    body = decoded_body(sent[-1])
    assert "/account/forgot" in body and "/account/confirm/" not in body


def test_sign_up_unknown_organisation_is_rejected(db: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        run(accounts.sign_up(email="a@example.go.th", password=PASSWORD, name="A", organisation_code="0000000"))
    assert set(exc.value.errors) == {"organisation_code"}
    assert run(User.count()) == 0


def test_sign_up_short_password_is_rejected(db: str) -> None:
    code = run(make_org())
    with pytest.raises(ValidationFailed) as exc:
        run(accounts.sign_up(email="a@example.go.th", password="short", name="A", organisation_code=code))
    assert set(exc.value.errors) == {"password"}


def test_several_staff_may_belong_to_one_organisation(db: str) -> None:
    code = run(make_org())
    run(accounts.sign_up(email="a@example.go.th", password=PASSWORD, name="A", organisation_code=code))
    run(accounts.sign_up(email="b@example.go.th", password=PASSWORD, name="B", organisation_code=code))
    orgs = {r["organisation"] for r in run(User.select(User.organisation))}
    assert len(orgs) == 1


def _signup_and_token() -> str:
    code = run(make_org())
    run(accounts.sign_up(email="s@example.go.th", password=PASSWORD, name="S", organisation_code=code))
    run(_run_jobs())
    [mail] = mails("s@example.go.th")
    return link_in(mail, "/account/confirm/").rsplit("/", 1)[1]


def test_confirm_email_then_login(db: str) -> None:
    token = _signup_and_token()
    with pytest.raises(PermissionDenied) as exc:
        run(accounts.authenticate("s@example.go.th", PASSWORD))
    assert exc.value.code == "email_not_confirmed"
    run(accounts.confirm_email(token))
    actor = run(accounts.authenticate("s@example.go.th", PASSWORD))
    assert actor.role == "applicant" and actor.organisation_id is not None


def test_confirm_link_reused_conflicts(db: str) -> None:
    token = _signup_and_token()
    run(accounts.confirm_email(token))
    with pytest.raises(Conflict) as exc:
        run(accounts.confirm_email(token))
    assert exc.value.code == "link_used"


def test_confirm_link_expired_is_gone(db: str) -> None:
    token = _signup_and_token()
    clock.freeze(clock.now() + timedelta(hours=49))
    with pytest.raises(Exception) as exc:
        run(accounts.confirm_email(token))
    assert getattr(exc.value, "code", None) == "link_expired"
    assert exc.value.status_code == 410  # type: ignore[attr-defined]
    clock.freeze(None)
    assert run(User.select(User.email_confirmed_at).first())["email_confirmed_at"] is None


def test_confirm_unknown_link_not_found(db: str) -> None:
    with pytest.raises(NotFound):
        run(accounts.confirm_email("nonsense"))


def test_wrong_password_and_unknown_email_get_same_message(db: str) -> None:
    run(make_user("reviewer", email="r@example.go.th"))
    with pytest.raises(NotAuthenticated) as wrong:
        run(accounts.authenticate("r@example.go.th", "wrong-password"))
    with pytest.raises(NotAuthenticated) as unknown:
        run(accounts.authenticate("nobody@example.go.th", "wrong-password"))
    assert wrong.value.message == unknown.value.message
    assert wrong.value.code == unknown.value.code == "invalid_credentials"


def test_password_reset_sets_new_password_and_ends_sessions(db: str) -> None:
    run(make_user("reviewer", email="r@example.go.th"))
    actor = run(accounts.authenticate("r@example.go.th", PASSWORD))
    session = run(accounts.issue_token(actor, accounts.AuthTokenKind.session))
    run(accounts.request_password_reset("r@example.go.th"))
    run(_run_jobs())
    [mail] = mails("r@example.go.th")
    token = link_in(mail, "/account/reset/").rsplit("/", 1)[1]
    run(accounts.reset_password(token, "a-brand-new-password"))
    assert run(accounts.resolve_token(session.token, accounts.AuthTokenKind.session)) is None
    with pytest.raises(NotAuthenticated):
        run(accounts.authenticate("r@example.go.th", PASSWORD))
    assert run(accounts.authenticate("r@example.go.th", "a-brand-new-password")).email == "r@example.go.th"
    with pytest.raises(Conflict):
        run(accounts.reset_password(token, "another-new-password"))


def test_password_reset_for_unknown_email_sends_nothing(db: str) -> None:
    run(accounts.request_password_reset("ghost@example.go.th"))
    run(_run_jobs())
    assert mails() == []
    assert run(EmailToken.count()) == 0


def test_create_user_requires_admin(db: str) -> None:
    run(make_user("reviewer", email="r@example.go.th"))
    reviewer = run(accounts.authenticate("r@example.go.th", PASSWORD))
    with pytest.raises(PermissionDenied):
        run(accounts.create_user(actor=reviewer, email="x@example.go.th", password=PASSWORD, role="admin"))
    assert run(User.count()) == 1


def test_state_changes_are_audited(db: str) -> None:
    code = run(make_org())
    res = run(accounts.sign_up(email="s@example.go.th", password=PASSWORD, name="S", organisation_code=code))
    events = run(AuditEvent.select(AuditEvent.action, AuditEvent.subject_id).order_by(AuditEvent.seq))
    assert {"action": "user.sign_up", "subject_id": str(res.user_id)} in events


# --- through the pages -------------------------------------------------------------------------

def test_signup_page_flow_confirms_and_logs_in(client) -> None:  # type: ignore[no-untyped-def]
    code = run(make_org(name_th="เทศบาลนครทดสอบ"))
    page = client.get("/signup", params={"q": "นครทดสอบ"})
    assert page.status_code == 200
    assert "เทศบาลนครทดสอบ" in page.text
    token = csrf(client)
    resp = client.post("/signup", data={"organisation_code": code, "name": "สมชาย", "email": "som@example.go.th",
                                        "password": PASSWORD, "_csrf": token})
    assert resp.status_code == 200
    link = link_in(wait_for_mails("som@example.go.th")[0], "/account/confirm/")
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 409
    browser_login(client, "som@example.go.th")
    account = client.get("/account")
    assert account.status_code == 200
    assert "som@example.go.th" in account.text and "เทศบาลนครทดสอบ" in account.text


def test_signup_page_shows_field_errors(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/signup", data={"organisation_code": "", "name": "", "email": "not-an-email",
                                        "password": "x", "_csrf": csrf(client)})
    assert resp.status_code == 422
    for field in ("e-email", "e-password", "e-name", "e-organisation_code"):
        assert f'id="{field}"' in resp.text
    assert run(User.count()) == 0


def test_form_without_csrf_token_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    code = run(make_org())
    client.get("/login")
    resp = client.post("/signup", data={"organisation_code": code, "name": "A", "email": "a@example.go.th",
                                        "password": PASSWORD})
    assert resp.status_code == 403
    assert run(User.count()) == 0


def test_tampered_session_cookie_is_treated_as_logged_out(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    assert client.get("/admin").status_code == 200
    client.cookies.set("tdsid", client.cookies.get("tdsid")[:-2] + "xx")
    resp = client.get("/admin", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    assert "tdsid=;" in resp.headers.get("set-cookie", "")  # the bad cookie is cleared


def test_logout_revokes_the_session(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    cookie = client.cookies.get("tdsid")
    client.post("/logout", data={"_csrf": csrf(client)})
    client.cookies.set("tdsid", cookie)
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_login_attempts_are_rate_limited(client) -> None:  # type: ignore[no-untyped-def]
    clock.freeze(clock.now())
    run(make_user("applicant", email="r@example.go.th"))
    token = csrf(client)
    statuses = [client.post("/login", data={"email": "r@example.go.th", "password": "wrong-password!",
                                            "_csrf": token}).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # Even the right password waits while the delay holds; the answer says how long, in Thai.
    resp = client.post("/login", data={"email": "r@example.go.th", "password": PASSWORD, "_csrf": token},
                       follow_redirects=False)
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "1"
    assert "วินาที" in resp.text
    clock.freeze(clock.now() + timedelta(seconds=1))
    resp = client.post("/login", data={"email": "r@example.go.th", "password": PASSWORD, "_csrf": token},
                       follow_redirects=False)
    assert resp.status_code == 303


def test_applicant_calling_admin_page_is_forbidden(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="s@example.go.th"))
    browser_login(client, "s@example.go.th")
    resp = client.get("/admin")
    assert resp.status_code == 403
    assert "ผู้ดูแล" in resp.text or "administrators" in resp.text
