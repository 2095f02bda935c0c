"""Sessions end when the password changes, owners see and end their sessions, and the limits on
log-in and on mail-sending forms count exactly, also under parallel requests."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from contest import clock, ratelimit
from contest.domain import accounts
from contest.enums import AuthTokenKind, TokenPurpose
from contest.errors import RateLimited
from contest.settings import parse_networks
from contest.tables import AuditEvent, AuthToken, EmailToken, RateCounter, User
from contest.web import forwarded_client
from tests.conftest import run
from tests.factories import PASSWORD, browser_login, csrf, login_token, make_user

pytestmark = pytest.mark.integration

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")


def _actor(email: str) -> accounts.Actor:
    row = run(User.select().where(User.email == email).first())
    return accounts.actor_from_row(row)


def _live_tokens(email: str) -> int:
    user = run(User.select(User.id).where(User.email == email).first())
    return run(AuthToken.count().where((AuthToken.user == user["id"]) & AuthToken.revoked_at.is_null()))


def test_password_change_ends_every_other_session_token_and_reset_link(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("reviewer", email="r@example.go.th"))
    actor = _actor("r@example.go.th")
    other_session = run(accounts.issue_token(actor, AuthTokenKind.session, CHROME, "10.1.2.3")).token
    api = login_token(client, "r@example.go.th")
    run(accounts.request_password_reset("r@example.go.th"))
    browser_login(client, "r@example.go.th")
    assert _live_tokens("r@example.go.th") == 3

    resp = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "a-new-password-2",
                                                  "_csrf": csrf(client)})
    assert resp.status_code == 200
    assert "2" in resp.text  # "2 other sessions and tokens were signed out"
    # This browser stays signed in; the other session, the API token and the reset link do not work.
    assert client.get("/account").status_code == 200
    assert _live_tokens("r@example.go.th") == 1
    assert run(accounts.resolve_token(other_session, AuthTokenKind.session)) is None
    assert client.get("/api/v1/editions", headers=api).status_code in (200,)  # public list still answers
    assert client.get("/api/v1/users", headers=api).json()["code"] == "invalid_token"
    assert run(EmailToken.count().where((EmailToken.purpose == TokenPurpose.reset_password)
                                        & EmailToken.used_at.is_null())) == 0
    event = run(AuditEvent.select().where(AuditEvent.action == "user.change_password").first())
    assert event is not None


def test_password_reset_ends_every_session_and_every_other_reset_link(db: str) -> None:
    run(make_user("applicant", email="a@example.go.th"))
    actor = _actor("a@example.go.th")
    session = run(accounts.issue_token(actor, AuthTokenKind.session)).token
    run(accounts.request_password_reset("a@example.go.th"))
    run(accounts.request_password_reset("a@example.go.th"))
    raw = "a-known-reset-secret"
    run(EmailToken.insert(EmailToken(purpose=TokenPurpose.reset_password, token_hash=accounts.hash_secret(raw),
                                     user=actor.id, expires_at=clock.now() + timedelta(hours=1))))
    run(accounts.reset_password(raw, "a-new-password-3"))
    assert run(accounts.resolve_token(session, AuthTokenKind.session)) is None
    assert run(EmailToken.count().where(EmailToken.used_at.is_null())) == 0


def test_account_page_lists_sessions_and_signs_one_out(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="a@example.go.th"))
    actor = _actor("a@example.go.th")
    phone = run(accounts.issue_token(actor, AuthTokenKind.session, CHROME, "203.0.113.9"))
    browser_login(client, "a@example.go.th")
    page = client.get("/account")
    assert "Chrome 120" in page.text and "Windows 10" in page.text and "203.0.113.9" in page.text
    phone_id = run(AuthToken.select(AuthToken.id).where(AuthToken.token_hash == accounts.hash_secret(phone.token))
                   .first())["id"]
    assert f"/account/sessions/{phone_id}/revoke" in page.text
    resp = client.post(f"/account/sessions/{phone_id}/revoke", data={"_csrf": csrf(client)})
    assert resp.status_code == 200 and resp.url.path == "/account"
    assert "ออกจากระบบบนอุปกรณ์นั้นแล้ว" in resp.text
    assert run(accounts.resolve_token(phone.token, AuthTokenKind.session)) is None
    assert f"/account/sessions/{phone_id}/revoke" not in resp.text
    assert client.get("/account").status_code == 200  # this browser is still signed in


def test_nobody_can_sign_out_someone_elses_session(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="a@example.go.th"))
    run(make_user("applicant", email="b@example.go.th"))
    victim = run(accounts.issue_token(_actor("b@example.go.th"), AuthTokenKind.session))
    victim_id = run(AuthToken.select(AuthToken.id).where(AuthToken.token_hash == accounts.hash_secret(victim.token))
                    .first())["id"]
    browser_login(client, "a@example.go.th")
    resp = client.post(f"/account/sessions/{victim_id}/revoke", data={"_csrf": csrf(client)})
    assert resp.status_code == 404
    assert run(accounts.resolve_token(victim.token, AuthTokenKind.session)) is not None
    # Without the CSRF token nothing happens either.
    assert client.post(f"/account/sessions/{victim_id}/revoke", data={}).status_code == 403


def test_last_seen_is_written_at_most_every_few_minutes(db: str) -> None:
    start = clock.now()
    clock.freeze(start)
    run(make_user("applicant", email="a@example.go.th"))
    issued = run(accounts.issue_token(_actor("a@example.go.th"), AuthTokenKind.session))
    clock.freeze(start + timedelta(minutes=2))
    run(accounts.resolve_token(issued.token, AuthTokenKind.session))
    seen = run(AuthToken.select(AuthToken.last_seen_at).first())["last_seen_at"]
    assert seen == start
    clock.freeze(start + timedelta(minutes=6))
    run(accounts.resolve_token(issued.token, AuthTokenKind.session))
    assert run(AuthToken.select(AuthToken.last_seen_at).first())["last_seen_at"] == start + timedelta(minutes=6)


def _attempts(n: int, email: str, address: str) -> list[int]:
    """Fire n log-in attempts at once; the seconds each was asked to wait (0 = allowed)."""
    async def one() -> int:
        try:
            await ratelimit.check_login_allowed(email, address)
        except RateLimited as exc:
            return exc.retry_after
        return 0

    async def all_at_once() -> list[int]:
        return list(await asyncio.gather(*(one() for _ in range(n))))

    return run(all_at_once())


def test_parallel_attempts_get_exactly_the_free_ones(db: str) -> None:
    clock.freeze(clock.now())
    waits = _attempts(20, "r@example.go.th", "198.51.100.1")
    assert waits.count(0) == ratelimit.LOGIN_PAIR.free
    assert all(w >= 1 for w in waits if w)


def test_parallel_attempts_in_redis_get_exactly_the_free_ones(db: str, redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    ratelimit.use_redis(redis_url)
    try:
        clock.freeze(clock.now())
        waits = _attempts(20, "r@example.go.th", "198.51.100.1")
        assert waits.count(0) == ratelimit.LOGIN_PAIR.free
        assert run(RateCounter.count()) == 0  # counted in Redis, not in the database
    finally:
        ratelimit.use_database()


def test_log_in_keeps_working_when_redis_is_gone(db: str) -> None:
    ratelimit.use_redis("redis://127.0.0.1:9/0")  # nothing listens on the discard port
    try:
        clock.freeze(clock.now())
        assert _attempts(3, "r@example.go.th", "198.51.100.1") == [0, 0, 0]
        assert run(RateCounter.count()) == 3  # the database counted instead
    finally:
        ratelimit.use_database()


def test_the_delay_grows_and_stays_capped_so_the_owner_is_never_locked_out(db: str) -> None:
    """An attacker guessing all day from one address: each wait doubles up to the cap. The owner,
    from another address, waits at most the cap too, never longer."""
    now = clock.now()
    clock.freeze(now)
    waits = []
    for _ in range(40):
        wait = _attempts(1, "owner@example.go.th", "198.51.100.66")[0]
        if wait:
            waits.append(wait)
            now += timedelta(seconds=wait)
            clock.freeze(now)
    assert waits[:5] == [1, 2, 4, 8, 16]
    assert max(waits) == ratelimit.DELAY_CAP_SECONDS
    owner_wait = _attempts(1, "owner@example.go.th", "192.0.2.10")[0]
    assert owner_wait <= ratelimit.DELAY_CAP_SECONDS


def test_a_successful_log_in_clears_the_accounts_delay_but_not_the_addresses(db: str) -> None:
    clock.freeze(clock.now())
    _attempts(5, "r@example.go.th", "198.51.100.1")
    assert _attempts(1, "r@example.go.th", "198.51.100.1")[0] > 0
    run(ratelimit.reset_login_failures("r@example.go.th", "198.51.100.1"))
    assert _attempts(1, "r@example.go.th", "198.51.100.1") == [0]
    address_row = run(RateCounter.select().where(RateCounter.key == "login:address:198.51.100.1").first())
    assert address_row["hits"] == 7


def test_an_api_log_in_clears_the_accounts_delay_and_issues_its_token_together(client) -> None:  # type: ignore[no-untyped-def]
    clock.freeze(clock.now())
    run(make_user("applicant", email="r@example.go.th"))
    for _ in range(3):
        resp = client.post("/api/v1/auth/token", json={"email": "r@example.go.th", "password": "wrong-password!"})
        assert resp.status_code == 401
    resp = client.post("/api/v1/auth/token", json={"email": "r@example.go.th", "password": PASSWORD})
    assert resp.status_code == 200
    assert run(accounts.resolve_token(resp.json()["token"], AuthTokenKind.api)) is not None
    counters = run(RateCounter.select(RateCounter.key, RateCounter.hits).order_by(RateCounter.key))
    assert counters == [{"key": "login:address:testclient", "hits": 4}]


def test_forgot_password_is_limited_per_email_with_a_thai_answer(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="a@example.go.th"))
    token = csrf(client)
    statuses = [client.post("/account/forgot", data={"email": "a@example.go.th", "_csrf": token}).status_code
                for _ in range(ratelimit.MAIL_PER_EMAIL.limit + 1)]
    assert statuses == [200] * ratelimit.MAIL_PER_EMAIL.limit + [429]
    resp = client.post("/account/forgot", data={"email": "a@example.go.th", "_csrf": token})
    assert resp.status_code == 429 and "นาที" in resp.text and int(resp.headers["retry-after"]) > 0
    assert run(EmailToken.count()) == ratelimit.MAIL_PER_EMAIL.limit
    # Another address is not affected.
    assert client.post("/account/forgot", data={"email": "b@example.go.th", "_csrf": token}).status_code == 200


def test_sign_up_form_errors_do_not_use_up_the_limit(client) -> None:  # type: ignore[no-untyped-def]
    token = csrf(client)
    for _ in range(ratelimit.MAIL_PER_EMAIL.limit + 2):
        resp = client.post("/signup", data={"email": "new@example.go.th", "password": "short", "name": "N",
                                            "organisation_code": "nope", "_csrf": token})
        assert resp.status_code == 422
    assert run(RateCounter.count()) == 0


def test_api_log_in_is_limited_with_retry_after(client) -> None:  # type: ignore[no-untyped-def]
    clock.freeze(clock.now())
    run(make_user("reviewer", email="r@example.go.th"))
    for _ in range(ratelimit.LOGIN_PAIR.free):
        resp = client.post("/api/v1/auth/token", json={"email": "r@example.go.th", "password": "wrong-password!"})
        assert resp.status_code == 401
    resp = client.post("/api/v1/auth/token", json={"email": "r@example.go.th", "password": PASSWORD})
    assert resp.status_code == 429
    assert resp.json()["code"] == "rate_limited" and resp.headers["retry-after"] == "1"


@pytest.mark.parametrize(("peer", "header", "expected"), [
    ("203.0.113.5", "1.2.3.4", "203.0.113.5"),                    # not our proxy: header ignored
    ("10.0.0.2", "198.51.100.7", "198.51.100.7"),                 # our proxy: its client
    ("10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"),        # the left part is the client's own text
    ("10.0.0.2", "198.51.100.7, 10.0.0.9", "198.51.100.7"),       # two of our proxies
    ("10.0.0.2", None, "10.0.0.2"),
    ("10.0.0.2", "not-an-address", "10.0.0.2"),
    ("10.0.0.2", "10.0.0.3, 10.0.0.4", "10.0.0.3"),               # only proxies: the first
    ("::1", "2001:db8::1", "2001:db8::1"),
])
def test_forwarded_for_is_believed_only_from_trusted_proxies(peer: str, header: str | None, expected: str) -> None:
    trusted = parse_networks("10.0.0.0/8, ::1")
    assert forwarded_client(peer, header, trusted) == expected


def test_nothing_trusted_by_default() -> None:
    assert forwarded_client("127.0.0.1", "1.2.3.4", parse_networks("")) == "127.0.0.1"


def test_a_wrong_trusted_proxy_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_networks("10.0.0.0/8, proxy.internal")
