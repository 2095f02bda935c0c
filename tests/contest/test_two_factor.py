"""Two-factor sign-in: enrolment with a QR code and recovery codes, the second log-in step on the
page and in the token API, codes used once, and the roles that need it kept out until they
have it."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pyotp
import pytest

from contest import clock
from contest.domain import accounts, twofactor
from contest.domain.audit import SYSTEM
from contest.enums import AuthTokenKind
from contest.tables import AuditEvent, AuthToken, RecoveryCode, User
from tests.conftest import run
from tests.factories import PASSWORD, TOTP_SECRET, csrf, make_user

pytestmark = pytest.mark.integration


def _code(secret: str, offset_steps: int = 0) -> str:
    step = int(clock.now().timestamp()) // twofactor.STEP_SECONDS + offset_steps
    return twofactor.code_at(secret, step)


def _password_step(client, email: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": PASSWORD, "_csrf": csrf(client)},
                       follow_redirects=False)


def _challenge(resp) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'name="challenge" value="([^"]+)"', resp.text)
    assert match, resp.text
    return match.group(1)


def test_an_admin_without_two_factor_is_led_to_set_it_up_and_kept_out_until_then(client) -> None:  # type: ignore[no-untyped-def]
    clock.freeze(clock.now())
    run(accounts.create_user(actor=SYSTEM, email="new-admin@dga.or.th", password=PASSWORD, role="admin"))
    # Through the API: a token, but every admin call answers two_factor_required.
    api = client.post("/api/v1/auth/token", json={"email": "new-admin@dga.or.th", "password": PASSWORD})
    assert api.status_code == 200, api.text
    token = {"Authorization": f"Bearer {api.json()['token']}"}
    listed = client.get("/api/v1/users", headers=token)
    assert listed.status_code == 403 and listed.json()["code"] == "two_factor_required"
    resp = _password_step(client, "new-admin@dga.or.th")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/account/two-factor")
    # Every admin page and call leads to the set-up first.
    resp = client.get("/admin", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/account/two-factor?next=/admin"
    # The set-up page shows a QR code (inline SVG, no script) and the key to type.
    page = client.get("/account/two-factor?next=/admin")
    assert page.status_code == 200 and "<svg" in page.text and "<script" not in page.text.split("<main")[1]
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    assert client.get("/account/two-factor").text.count(secret) == 1  # the same key on reload
    bad = client.post("/account/two-factor", data={"code": "000000", "_csrf": csrf(client), "next": "/admin"})
    assert bad.status_code == 422 and "aria-invalid" in bad.text
    done = client.post("/account/two-factor", data={"code": _code(secret), "_csrf": csrf(client), "next": "/admin"})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    user = run(User.select().where(User.email == "new-admin@dga.or.th").first())
    assert run(RecoveryCode.count().where(RecoveryCode.user == user["id"])) == 10
    assert all(c not in str(run(RecoveryCode.select())) for c in codes)  # stored hashed
    # This session confirmed the code: the admin pages open.
    assert client.get("/admin", follow_redirects=False).status_code == 200
    assert run(AuditEvent.exists().where(AuditEvent.action == "user.two_factor_enrol"))


def test_log_in_asks_for_the_code_and_a_code_works_only_once(client) -> None:  # type: ignore[no-untyped-def]
    clock.freeze(clock.now())
    run(make_user("reviewer", email="r@dga.or.th"))
    first = _password_step(client, "r@dga.or.th")
    assert first.status_code == 200 and 'autocomplete="one-time-code"' in first.text
    assert run(AuthToken.count()) == 0  # no session before the second factor
    wrong = client.post("/login/otp", data={"challenge": _challenge(first), "otp": "000000", "_csrf": csrf(client)},
                        follow_redirects=False)
    assert wrong.status_code == 401 and run(AuthToken.count()) == 0
    code = _code(TOTP_SECRET)
    ok = client.post("/login/otp", data={"challenge": _challenge(first), "otp": code, "_csrf": csrf(client)},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/review"
    assert run(AuthToken.select(AuthToken.mfa_at).first())["mfa_at"] is not None
    # The challenge is used up, and the same code cannot sign in again (replay).
    again = client.post("/login/otp", data={"challenge": _challenge(first), "otp": code, "_csrf": csrf(client)},
                        follow_redirects=False)
    assert again.status_code == 401
    client.cookies.clear()
    second = _password_step(client, "r@dga.or.th")
    replay = client.post("/login/otp", data={"challenge": _challenge(second), "otp": code, "_csrf": csrf(client)},
                         follow_redirects=False)
    assert replay.status_code == 401 and run(AuthToken.count()) == 1
    # The next step's code works (a clock a little ahead is fine).
    ahead = client.post("/login/otp", data={"challenge": _challenge(second), "otp": _code(TOTP_SECRET, 1),
                                            "_csrf": csrf(client)}, follow_redirects=False)
    assert ahead.status_code == 303


def test_a_challenge_expires_and_a_recovery_code_signs_in_once(client) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    clock.freeze(start)
    user_id = run(make_user("admin", email="a@dga.or.th"))
    codes = run(twofactor.enrol_known_secret(actor=SYSTEM, user_id=user_id, secret=TOTP_SECRET))
    first = _password_step(client, "a@dga.or.th")
    clock.freeze(start + timedelta(minutes=accounts.CHALLENGE_MINUTES + 1))
    late = client.post("/login/otp", data={"challenge": _challenge(first), "otp": _code(TOTP_SECRET),
                                           "_csrf": csrf(client)}, follow_redirects=False)
    assert late.status_code == 401 and "หมดอายุ" in late.text
    second = _password_step(client, "a@dga.or.th")
    ok = client.post("/login/otp", data={"challenge": _challenge(second), "otp": codes[0].upper(),
                                         "_csrf": csrf(client)}, follow_redirects=False)
    assert ok.status_code == 303
    assert run(twofactor.recovery_codes_left(user_id)) == 9
    client.cookies.clear()
    third = _password_step(client, "a@dga.or.th")
    reused = client.post("/login/otp", data={"challenge": _challenge(third), "otp": codes[0],
                                             "_csrf": csrf(client)}, follow_redirects=False)
    assert reused.status_code == 401


def test_the_token_api_answers_otp_required_and_otp_invalid(client) -> None:  # type: ignore[no-untyped-def]
    clock.freeze(clock.now())
    run(make_user("admin", email="a@dga.or.th"))
    body = {"email": "a@dga.or.th", "password": PASSWORD}
    missing = client.post("/api/v1/auth/token", json=body)
    assert missing.status_code == 401 and missing.json()["code"] == "otp_required"
    wrong = client.post("/api/v1/auth/token", json={**body, "otp": "12345x"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "otp_invalid"
    code = _code(TOTP_SECRET)
    ok = client.post("/api/v1/auth/token", json={**body, "otp": code})
    assert ok.status_code == 200
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {ok.json()['token']}"}).status_code == 200
    replay = client.post("/api/v1/auth/token", json={**body, "otp": code})
    assert replay.status_code == 401 and replay.json()["code"] == "otp_invalid"
    # A wrong password never reaches the code question.
    assert client.post("/api/v1/auth/token", json={**body, "password": "nope-nope-nope"}).json()["code"] == \
        "invalid_credentials"


def test_parallel_log_ins_with_one_code_let_exactly_one_in(db: str) -> None:
    clock.freeze(clock.now())
    user_id = run(make_user("reviewer", email="r@dga.or.th"))
    code = _code(TOTP_SECRET)

    async def all_at_once() -> list[bool]:
        return list(await asyncio.gather(*(twofactor.use_second_factor(user_id, code) for _ in range(10))))

    assert run(all_at_once()).count(True) == 1


def test_staff_may_turn_it_on_and_off_and_the_roles_that_need_it_may_not(client) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import browser_login

    clock.freeze(clock.now())
    run(make_user("applicant", email="s@example.go.th"))
    browser_login(client, "s@example.go.th")
    page = client.get("/account/two-factor")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    assert pyotp.TOTP(secret).provisioning_uri(name="s@example.go.th", issuer_name=twofactor.ISSUER)
    client.post("/account/two-factor", data={"code": _code(secret), "_csrf": csrf(client)})
    user = run(User.select().where(User.email == "s@example.go.th").first())
    assert user["totp_enabled_at"] is not None
    clock.freeze(clock.now() + timedelta(seconds=twofactor.STEP_SECONDS))
    off = client.post("/account/two-factor/off", data={"off_code": _code(secret), "_csrf": csrf(client)})
    assert off.status_code == 200
    assert run(User.select(User.totp_enabled_at).where(User.id == user["id"]).first())["totp_enabled_at"] is None
    admin_id = run(make_user("admin", email="a@dga.or.th"))
    admin = accounts.actor_from_row(run(User.select().where(User.id == admin_id).first()))
    with pytest.raises(Exception) as exc:
        run(twofactor.turn_off(admin, _code(TOTP_SECRET)))
    assert getattr(exc.value, "code", "") == "two_factor_required"


def test_a_session_without_the_second_factor_is_not_enough_for_judging(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("reviewer", email="r@dga.or.th"))
    actor = accounts.actor_from_row(run(User.select().where(User.email == "r@dga.or.th").first()))
    password_only = run(accounts.issue_token(actor, AuthTokenKind.api))
    resp = client.get("/api/v1/assignments/1", headers={"Authorization": f"Bearer {password_only.token}"})
    assert resp.status_code == 403 and resp.json()["code"] == "two_factor_required"
    with_code = run(accounts.issue_token(actor, AuthTokenKind.api, mfa=True))
    resp = client.get("/api/v1/assignments/1", headers={"Authorization": f"Bearer {with_code.token}"})
    assert resp.status_code == 404  # past the guard: there is simply no such sheet
