"""Accounts: sign-up bound to an organisation, email confirmation, log-in, sessions and API
tokens, password reset, and admin-created accounts.

Secrets (session ids, API tokens, email links) are random and only their SHA-256 is stored, so
a copy of the database cannot be used to log in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from ua_parser import parse as ua_parse

from contest import clock, db
from contest.db import atomic, fetch
from contest.domain import memberships, notices, outbox, proposals, twofactor
from contest.domain.audit import SYSTEM, Actor, append_event
from contest.enums import AuthTokenKind, Role, TokenPurpose
from contest.errors import Conflict, DomainError, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import t
from contest.rules import can_manage_users
from contest.settings import get_settings
from contest.tables import AuthToken, EmailToken, Organisation, User

# argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane: the Password Storage
# Cheat Sheet's first choice). argon2-cffi's default (64 MiB, 3 passes, 4 lanes, RFC 9106's
# second option) cost 0.20 s of CPU per log-in here against 0.023 s, and on deadline day that
# was the largest single cost of the whole load (bench/deadline: 2,000 log-ins = 400 CPU-seconds
# on a 2-core machine). Hashes made with other parameters still verify and are re-hashed with
# these at the next log-in (check_needs_rehash).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
CONFIRM_HOURS = 48
RESET_HOURS = 2
# "Last seen" of a session is written at most this often, not on every request.
LAST_SEEN_EVERY = timedelta(minutes=5)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# argon2 costs ~25 ms of CPU and 19 MiB per call: run it off the event loop so other requests
# keep flowing, a few at a time so a burst of log-ins cannot exhaust memory or the cores.
_ARGON2_SLOTS = 4
_argon2_gate: dict[int, asyncio.Semaphore] = {}


def _gate() -> asyncio.Semaphore:
    loop_id = id(asyncio.get_running_loop())
    if loop_id not in _argon2_gate:
        _argon2_gate[loop_id] = asyncio.Semaphore(_ARGON2_SLOTS)
    return _argon2_gate[loop_id]


async def hash_password_async(password: str) -> str:
    async with _gate():
        return await asyncio.to_thread(_hasher.hash, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    async with _gate():
        return await asyncio.to_thread(verify_password, password_hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def actor_from_row(row: dict) -> Actor:
    org = row.get("organisation")
    if isinstance(org, dict):
        org = org.get("id")
    return Actor(id=row["id"], email=row["email"], role=row["role"], organisation_id=org)


def _check_new_password(password: str, errors: dict[str, str]) -> None:
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = t("Password must be at least {n} characters.", n=MIN_PASSWORD)
    elif len(password) > 256:
        errors["password"] = t("Password is too long (at most 256 characters).")


async def _new_password_hash(password: str) -> str:
    """The hash to store for a new password, once it is acceptable (else ValidationFailed)."""
    errors: dict[str, str] = {}
    _check_new_password(password, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    return await hash_password_async(password)


def _validate_email(email: str, errors: dict[str, str]) -> None:
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors["email"] = t("Enter a valid email address, e.g. name@example.go.th.")


@dataclass(frozen=True)
class SignUpResult:
    """``user_id`` is None when the address already had an account (its owner was mailed)."""

    user_id: int | None
    email: str


async def _issue_email_token(user_id: int, purpose: TokenPurpose, hours: int) -> str:
    raw = secrets.token_urlsafe(32)
    await EmailToken.insert(EmailToken(purpose=purpose, token_hash=hash_secret(raw), user=user_id,
                                       expires_at=clock.now() + timedelta(hours=hours)))
    return raw


async def _queue_mail(to: str, subject: str, text: str, dedupe_key: str | None = None) -> int | None:
    return await outbox.add_job("send_mail", {"to": to, "subject": subject, "text": text},
                                dedupe_key=dedupe_key)


def _confirm_mail(name: str, link: str) -> tuple[str, str]:
    subject = t("Confirm your email for the Digital Local Government contest")
    text = t("Hello {name},\n\nPlease confirm your email address by opening this link within "
             "{hours} hours:\n{link}\n\nIf you did not sign up, ignore this message.\n",
             name=name, hours=CONFIRM_HOURS, link=link)
    return subject, text


def _already_registered_mail(name: str) -> tuple[str, str]:
    base = get_settings().base_url
    subject = t("Someone tried to sign up with your email")
    text = t("Hello {name},\n\nSomeone asked to create an account for the Digital Local Government "
             "contest with this email address, which already has an account. If it was you, log in:\n"
             "{login}\nor choose a new password:\n{forgot}\n\nIf it was not you, ignore this message; "
             "nothing has changed.\n", name=name, login=f"{base}/login", forgot=f"{base}/account/forgot")
    return subject, text


async def sign_up(*, email: str, password: str, name: str, organisation_code: str,
                  language: str = "th", actor: Actor = SYSTEM,
                  throttle: Callable[[str], Awaitable[None]] | None = None,
                  notice_version: Any = None) -> SignUpResult:
    """Create an unconfirmed applicant account bound to a registry organisation and mail a
    confirmation link. Several staff may belong to one organisation. ``throttle`` (a rate
    limit) is called with the address once the form is valid, before anything is stored or
    mailed, so correcting a form does not use up the limit. Signing up accepts the privacy notice
    in force; ``notice_version`` is the version the form showed (refused when a newer one came out)."""
    email = normalise_email(email)
    errors: dict[str, str] = {}
    _validate_email(email, errors)
    _check_new_password(password, errors)
    if not (name or "").strip():
        errors["name"] = t("Enter your name.")
    org = await Organisation.select(Organisation.id).where(
        Organisation.code == (organisation_code or "").strip()).first()
    if org is None:
        errors["organisation_code"] = t("Choose your organisation from the registry.")
    if errors or org is None:
        raise ValidationFailed(errors=errors)
    notices.check_version_seen(notice_version, await notices.current_version())
    if throttle is not None:
        await throttle(email)
    password_hash = await hash_password_async(password)
    async with atomic():
        known = await User.select(User.id, User.name).where(User.email == email).first()
        if known is not None:
            # The same answer as for a new address, so sign-up does not reveal who has an
            # account; the owner is told instead, with the way back in.
            job = await _queue_mail(email, *_already_registered_mail(known["name"]))
            await append_event(actor=SYSTEM, action="user.sign_up_known_email", subject_type="user",
                               subject_id=known["id"])
            user_id = None
            member_jobs: list[int | None] = []
        else:
            rows = await User.insert(User(email=email, name=name.strip()[:255], password_hash=password_hash,
                                          role=Role.applicant, organisation=org["id"], locale=language)
                                     ).returning(User.id)
            user_id = rows[0]["id"]
            await notices.accept_current(user_id, "signup")
            raw = await _issue_email_token(user_id, TokenPurpose.confirm_email, CONFIRM_HOURS)
            link = f"{get_settings().base_url}/account/confirm/{raw}"
            subject, text = _confirm_mail(name.strip(), link)
            job = await _queue_mail(email, subject, text)
            signer = actor if actor.id else Actor(id=user_id, email=email, role="applicant")
            await append_event(actor=signer, action="user.sign_up", subject_type="user", subject_id=user_id,
                               after={"email": email, "role": "applicant", "organisation_code": organisation_code})
            # The account asks to act for the organisation; it acts once someone vouches for it.
            _, member_jobs = await memberships.open_request(user_id, org["id"], actor=signer)
    await outbox.dispatch([job, *member_jobs])
    return SignUpResult(user_id=user_id, email=email)


async def _use_email_token(raw: str, purpose: TokenPurpose) -> dict:
    """Mark a single-use link used (inside the caller's transaction) and return its row."""
    row = await EmailToken.select().where(
        (EmailToken.token_hash == hash_secret(raw or "")) & (EmailToken.purpose == purpose)).first()
    if row is None:
        raise NotFound("This link is not valid. Check that you copied the whole link.", code="invalid_link")
    if row["used_at"] is not None:
        raise Conflict("This link has already been used.", code="link_used")
    if row["expires_at"] < clock.now():
        err = DomainError("This link has expired. Request a new one.", code="link_expired")
        err.status_code = 410
        raise err
    updated = await EmailToken.update({EmailToken.used_at: clock.now()}).where(
        (EmailToken.id == row["id"]) & (EmailToken.used_at.is_null())).returning(EmailToken.id)
    if not updated:
        raise Conflict("This link has already been used.", code="link_used")
    return row


async def confirm_email(token: str) -> int:
    """Confirm an applicant's email with the single-use link; returns the user id."""
    async with atomic():
        row = await _use_email_token(token, TokenPurpose.confirm_email)
        user = await db.existing(User.select(User.id, User.email).where(User.id == row["user"]))
        await User.update({User.email_confirmed_at: clock.now()}).where(User.id == row["user"])
        await append_event(actor=Actor(id=user["id"], email=user["email"], role="applicant"),
                           action="user.confirm_email", subject_type="user", subject_id=user["id"],
                           before={"email_confirmed": False}, after={"email_confirmed": True})
    return row["user"]


async def resend_confirmation(email: str) -> None:
    """Send a fresh confirmation link if the account exists and is unconfirmed (silently otherwise)."""
    email = normalise_email(email)
    async with atomic():
        user = await User.select(User.id, User.name, User.email_confirmed_at).where(User.email == email).first()
        if user is None or user["email_confirmed_at"] is not None:
            return
        raw = await _issue_email_token(user["id"], TokenPurpose.confirm_email, CONFIRM_HOURS)
        subject, text = _confirm_mail(user["name"], f"{get_settings().base_url}/account/confirm/{raw}")
        job = await _queue_mail(email, subject, text)
    await outbox.dispatch([job])


async def authenticate(email: str, password: str) -> Actor:
    """Check a password. Unknown email and wrong password get the same message and timing."""
    email = normalise_email(email)
    found = await fetch(_USER_BY_EMAIL, email)
    user = found[0] if found else None
    if user is None:
        await verify_password_async(_DUMMY_HASH, password or "")
        raise NotAuthenticated("Incorrect email or password.", code="invalid_credentials")
    if not await verify_password_async(user["password_hash"], password or "") or not user["is_active"]:
        raise NotAuthenticated("Incorrect email or password.", code="invalid_credentials")
    if user["email_confirmed_at"] is None:
        raise PermissionDenied("Please confirm your email first: open the link we sent you.",
                               code="email_not_confirmed")
    if _hasher.check_needs_rehash(user["password_hash"]):
        new_hash = await hash_password_async(password)  # off the loop, like every argon2 call
        await User.update({User.password_hash: new_hash}).where(User.id == user["id"])
    twofactor.enrolled_as_read(user["id"], user["totp_enabled_at"])  # the log-in asks next
    return actor_from_row(user)


# Every log-in's statements, as fixed SQL (no query object built per log-in).
_USER_BY_EMAIL = ("SELECT id, email, role, organisation, password_hash, email_confirmed_at, is_active, totp_enabled_at "
                  "FROM app_user WHERE email = {}")
_INSERT_TOKEN = ('INSERT INTO auth_token ("kind", "token_hash", "user", "csrf_token", "created_at", "expires_at", '
                 '"revoked_at", "user_agent", "ip_address", "last_seen_at", "mfa_at") '
                 "VALUES ({}, {}, {}, {}, {}, {}, NULL, {}, {}, {}, {})")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    csrf_token: str
    expires_at: datetime


async def issue_token(actor: Actor, kind: AuthTokenKind, user_agent: str = "",
                      ip_address: str = "", *, mfa: bool = False) -> IssuedToken:
    """Start a browser session or issue an API bearer token for an authenticated user."""
    settings = get_settings()
    ttl = timedelta(days=settings.session_days) if kind == AuthTokenKind.session else timedelta(
        hours=settings.api_token_hours)
    raw = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = clock.now() + ttl
    now = clock.now()
    await fetch(_INSERT_TOKEN, str(kind), hash_secret(raw), actor.id, csrf, datetime.now(UTC), expires,
                user_agent[:255], ip_address[:45], now, now if mfa else None)
    return IssuedToken(token=raw, csrf_token=csrf, expires_at=expires)


@dataclass(frozen=True)
class TokenUser:
    actor: Actor
    name: str
    token_id: int
    kind: str
    csrf_token: str
    organisation_id: int | None
    #: Signed in with a second factor (required for admins and committee members).
    mfa: bool = False
    #: The version of the privacy notice this person must accept before going on (None: none due).
    notice_due: int | None = None


# Every request asks this, so it is one statement: the token, its user, the user's open
# membership (for an applicant) and whether the privacy notice in force is still to be accepted.
_RESOLVE_SQL = (
    "SELECT t.id, t.kind, t.csrf_token, t.expires_at, t.revoked_at, t.last_seen_at, t.mfa_at, "
    "u.id AS user_id, u.email, u.role, u.name, u.organisation, u.is_active, "
    "(SELECT m.state FROM membership m WHERE m.\"user\" = u.id AND m.organisation = u.organisation "
    " AND m.state IN ({}, {}) ORDER BY m.id DESC LIMIT 1) AS membership_state, "
    "(SELECT MAX(n.version) FROM privacy_notice n) AS notice_version, "
    "(SELECT COUNT(*) FROM notice_acceptance a WHERE a.\"user\" = u.id "
    " AND a.version = (SELECT MAX(n2.version) FROM privacy_notice n2)) AS notice_accepted "
    "FROM auth_token t JOIN app_user u ON u.id = t.\"user\" "
    "WHERE t.token_hash = {} AND t.kind = {}")


async def resolve_token(raw: str, kind: AuthTokenKind) -> TokenUser | None:
    """The user behind a session id or bearer token, or None if unknown, expired or revoked."""
    if not raw or len(raw) > 128:
        return None
    rows = await db.fetch(_RESOLVE_SQL, *(str(s) for s in memberships.OPEN_STATES), hash_secret(raw), str(kind))
    row = rows[0] if rows else None
    now = clock.now()
    if row is None or row["revoked_at"] is not None or row["expires_at"] < now or not row["is_active"]:
        return None
    if row["last_seen_at"] is None or now - row["last_seen_at"] > LAST_SEEN_EVERY:
        await AuthToken.update({AuthToken.last_seen_at: now}).where(AuthToken.id == row["id"])
    standing = row["membership_state"] if row["role"] == Role.applicant else None
    actor = dataclasses.replace(
        memberships.acting_actor(user_id=row["user_id"], email=row["email"], role=row["role"],
                                 organisation_id=row["organisation"], state=standing),
        two_factor=row["mfa_at"] is not None)
    due = row["notice_version"] if row["notice_version"] is not None and not row["notice_accepted"] else None
    return TokenUser(actor=actor, name=row["name"], token_id=row["id"], kind=row["kind"],
                     csrf_token=row["csrf_token"], organisation_id=actor.organisation_id,
                     mfa=row["mfa_at"] is not None, notice_due=due)


CHALLENGE_MINUTES = 5


async def start_second_step(user_id: int) -> str:
    """After a correct password of an account with two-factor sign-in: a single-use challenge
    for the second step, valid a few minutes. No session exists until the code is given."""
    raw = secrets.token_urlsafe(32)
    expires = clock.now() + timedelta(minutes=CHALLENGE_MINUTES)
    await EmailToken.insert(EmailToken(purpose=TokenPurpose.login_challenge, token_hash=hash_secret(raw),
                                       user=user_id, expires_at=expires))
    return raw


async def challenge_email(raw: str) -> str | None:
    """The email of the account a live challenge belongs to (for the rate limit), or None."""
    row = await EmailToken.select(EmailToken.user.email, EmailToken.used_at, EmailToken.expires_at).where(
        (EmailToken.token_hash == hash_secret(raw or "")) & (EmailToken.purpose == TokenPurpose.login_challenge)
    ).first()
    if row is None or row["used_at"] is not None or row["expires_at"] < clock.now():
        return None
    return str(row["user.email"])


async def finish_second_step(raw: str, code: str) -> Actor:
    """The second step of a log-in: the challenge and a current code (or a recovery code). The
    challenge survives a wrong code (the log-in rate limit counts the tries) but is used up by
    the right one."""
    row = await EmailToken.select().where(
        (EmailToken.token_hash == hash_secret(raw or "")) & (EmailToken.purpose == TokenPurpose.login_challenge)
    ).first()
    if row is None or row["used_at"] is not None or row["expires_at"] < clock.now():
        raise NotAuthenticated("This sign-in has expired. Log in again.", code="challenge_expired")
    if not await twofactor.use_second_factor(row["user"], code):
        raise NotAuthenticated("The code is not correct or was already used. Enter the code your app shows now.",
                               code="otp_invalid")
    async with atomic():
        await _use_email_token(raw, TokenPurpose.login_challenge)
        user = await db.existing(User.select(User.id, User.email, User.role, User.organisation).where(
            User.id == row["user"]))
    return actor_from_row(user)


async def revoke_token(raw: str) -> bool:
    """Log out / revoke: the token stops working at once."""
    rows = await AuthToken.update({AuthToken.revoked_at: clock.now()}).where(
        (AuthToken.token_hash == hash_secret(raw or "")) & AuthToken.revoked_at.is_null()
    ).returning(AuthToken.id)
    return bool(rows)


def describe_device(user_agent: str) -> str:
    """"Firefox 128 on Windows 10" from a User-Agent header, or the header itself when unknown."""
    if not user_agent:
        return ""
    parsed = ua_parse(user_agent)
    browser = " ".join(p for p in (parsed.user_agent.family, parsed.user_agent.major) if p) if parsed.user_agent else ""
    system = " ".join(p for p in (parsed.os.family, parsed.os.major) if p) if parsed.os else ""
    if browser and system:
        return t("{browser} on {system}", browser=browser, system=system)
    return browser or system or user_agent[:80]


@dataclass(frozen=True)
class SignedIn:
    """One active session or API token of an account, as its owner sees it."""

    id: int
    kind: str
    device: str
    ip_address: str
    created_at: datetime
    last_seen_at: datetime | None
    expires_at: datetime
    current: bool


async def list_sessions(actor: Actor, *, current_token_id: int | None = None) -> list[SignedIn]:
    """The account's sessions and API tokens that still work, most recently used first."""
    rows = await AuthToken.select(
        AuthToken.id, AuthToken.kind, AuthToken.user_agent, AuthToken.ip_address, AuthToken.created_at,
        AuthToken.last_seen_at, AuthToken.expires_at,
    ).where((AuthToken.user == actor.id) & AuthToken.revoked_at.is_null()
            & (AuthToken.expires_at > clock.now()))
    items = [SignedIn(id=r["id"], kind=r["kind"], device=describe_device(r["user_agent"]),
                      ip_address=r["ip_address"], created_at=r["created_at"], last_seen_at=r["last_seen_at"],
                      expires_at=r["expires_at"], current=r["id"] == current_token_id) for r in rows]
    return sorted(items, key=lambda i: (not i.current, -(i.last_seen_at or i.created_at).timestamp()))


async def revoke_session(actor: Actor, token_id: int) -> None:
    """End one of one's own sessions or API tokens. Someone else's is "not found", as if it did
    not exist."""
    async with atomic():
        rows = await AuthToken.update({AuthToken.revoked_at: clock.now()}).where(
            (AuthToken.id == token_id) & (AuthToken.user == actor.id) & AuthToken.revoked_at.is_null()
        ).returning(AuthToken.kind)
        if not rows:
            raise NotFound("This session has already ended or does not exist.", code="session_not_found")
        await append_event(actor=actor, action="user.revoke_session", subject_type="user", subject_id=actor.id,
                           after={"token_id": token_id, "kind": rows[0]["kind"]})


async def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists. The caller always shows the same message."""
    email = normalise_email(email)
    async with atomic():
        user = await User.select(User.id, User.name, User.is_active).where(User.email == email).first()
        if user is None or not user["is_active"]:
            return
        raw = await _issue_email_token(user["id"], TokenPurpose.reset_password, RESET_HOURS)
        link = f"{get_settings().base_url}/account/reset/{raw}"
        subject = t("Reset your password for the Digital Local Government contest")
        text = t("Hello {name},\n\nTo choose a new password, open this link within {hours} hours:\n"
                 "{link}\n\nIf you did not ask for this, ignore this message; your password stays "
                 "the same.\n", name=user["name"], hours=RESET_HOURS, link=link)
        job = await _queue_mail(email, subject, text)
    await outbox.dispatch([job])


async def reset_password(token: str, new_password: str) -> int:
    """Set a new password with a single-use reset link; ends every session of the account."""
    password_hash = await _new_password_hash(new_password)
    async with atomic():
        row = await _use_email_token(token, TokenPurpose.reset_password)
        user = await db.existing(User.select(User.id, User.email, User.role).where(User.id == row["user"]))
        await User.update({User.password_hash: password_hash}).where(User.id == row["user"])
        # The link came to their inbox, so the address is confirmed.
        await User.update({User.email_confirmed_at: clock.now()}).where(
            (User.id == row["user"]) & User.email_confirmed_at.is_null())
        await _end_other_access(row["user"], keep_token_id=None)
        await append_event(actor=Actor(id=user["id"], email=user["email"], role=user["role"]),
                           action="user.reset_password", subject_type="user", subject_id=user["id"])
    return row["user"]


async def _end_other_access(user_id: int, *, keep_token_id: int | None) -> int:
    """After a new password: every session and API token of the account ends, except the one
    that made the change, and no reset link sent earlier works any more. Returns how many
    sessions and tokens ended."""
    now = clock.now()
    where = (AuthToken.user == user_id) & AuthToken.revoked_at.is_null()
    if keep_token_id is not None:
        where = where & (AuthToken.id != keep_token_id)
    ended = await AuthToken.update({AuthToken.revoked_at: now}).where(where).returning(AuthToken.id)
    await EmailToken.update({EmailToken.used_at: now}).where(
        (EmailToken.user == user_id) & (EmailToken.purpose == TokenPurpose.reset_password)
        & EmailToken.used_at.is_null())
    return len(ended)


async def change_password(*, actor: Actor, current_password: str, new_password: str,
                          keep_token_id: int | None = None) -> int:
    """Change one's own password after re-entering the current one. Every other session and API
    token ends (``keep_token_id`` is the session making the change); returns how many ended."""
    user_id = actor.id
    if user_id is None:
        raise NotAuthenticated("Please log in first.")
    user = await User.select(User.password_hash).where(User.id == user_id).first()
    if user is None or not await verify_password_async(user["password_hash"], current_password or ""):
        raise ValidationFailed(errors={"current_password": t("The current password is not correct.")})
    password_hash = await _new_password_hash(new_password)
    async with atomic():
        await User.update({User.password_hash: password_hash}).where(User.id == user_id)
        ended = await _end_other_access(user_id, keep_token_id=keep_token_id)
        await append_event(actor=actor, action="user.change_password", subject_type="user",
                           subject_id=actor.id, after={"sessions_ended": ended})
    return ended


async def create_user(*, actor: Actor, email: str, password: str, role: str, name: str = "",
                      organisation_code: str | None = None, confirmed: bool = True) -> int:
    """An admin (or the CLI) creates an account: reviewers, admins, or applicants. An applicant
    created for an organisation is a verified member of it: its creator vouches for it."""
    if not can_manage_users(actor):
        raise PermissionDenied("Only administrators can create accounts.")
    email = normalise_email(email)
    errors: dict[str, str] = {}
    _validate_email(email, errors)
    _check_new_password(password, errors)
    if role not in {r.value for r in Role}:
        errors["role"] = t("Role must be admin, reviewer or applicant.")
    org_id = None
    # An applicant created with an organisation is vouched for by whoever creates it; without
    # one, the account may ask to join an organisation itself.
    if role == Role.applicant and (organisation_code or "").strip():
        org = await Organisation.select(Organisation.id).where(
            Organisation.code == (organisation_code or "").strip()).first()
        if org is None:
            errors["organisation_code"] = t("Unknown organisation code.")
        else:
            org_id = org["id"]
    if errors:
        raise ValidationFailed(errors=errors)
    password_hash = await hash_password_async(password)
    if await User.exists().where(User.email == email):
        raise Conflict("An account with this email already exists.", code="email_taken", field="email")
    if role == Role.admin and proposals.needs_second_admin(actor):
        async with atomic():
            pending_id = await proposals.propose(actor, proposals.CREATE_ADMIN, {"email": email, "name": name},
                                                 private={"password_hash": password_hash})
        raise proposals.Proposed(pending_id)
    async with atomic():
        if await User.exists().where(User.email == email):
            raise Conflict("An account with this email already exists.", code="email_taken", field="email")
        rows = await User.insert(User(
            email=email, name=(name or email.split("@")[0]).strip()[:255], password_hash=password_hash,
            role=role, organisation=org_id, email_confirmed_at=clock.now() if confirmed else None,
            admin_since=clock.now() if role == Role.admin else None,
        )).returning(User.id)
        user_id = rows[0]["id"]
        await append_event(actor=actor, action="user.create", subject_type="user", subject_id=user_id,
                           after={"email": email, "role": role, "organisation_code": organisation_code})
        if org_id is not None:
            await memberships.vouch(actor=actor, user_id=user_id, organisation_id=org_id)
    return user_id


async def create_admin_approved(*, actor: Actor, email: str, name: str, password_hash: str) -> int:
    """Inside the approver's transaction: the administrator another administrator proposed."""
    if await User.exists().where(User.email == email):
        raise Conflict("An account with this email already exists.", code="email_taken", field="email")
    rows = await User.insert(User(email=email, name=(name or email.split("@")[0]).strip()[:255],
                                  password_hash=password_hash, role=Role.admin, email_confirmed_at=clock.now(),
                                  admin_since=clock.now())).returning(User.id)
    user_id = int(rows[0]["id"])
    await append_event(actor=actor, action="user.create", subject_type="user", subject_id=user_id,
                       after={"email": email, "role": "admin", "four_eyes": True})
    return user_id


async def reset_two_factor(*, actor: Actor, user_id: int) -> None:
    """Someone lost their phone: an administrator proposes the reset, another approves it (see
    ``contest.domain.powers``); the operator's command line resets at once."""
    if not can_manage_users(actor):
        raise PermissionDenied("Only administrators can reset two-factor sign-in.")
    user = await User.select(User.id, User.email).where(User.id == user_id).first()
    if user is None:
        raise NotFound("No such account.", code="user_not_found")
    if actor.id == user_id:
        raise PermissionDenied("Ask another administrator to reset your own two-factor sign-in.",
                               code="own_account")
    async with atomic():
        if proposals.needs_second_admin(actor):
            pending_id = await proposals.propose(actor, proposals.RESET_TWO_FACTOR,
                                                 {"user_id": user_id, "email": user["email"]})
        else:
            await twofactor.clear(user_id)
            await append_event(actor=actor, action="user.two_factor_reset", subject_type="user", subject_id=user_id)
            return
    raise proposals.Proposed(pending_id)


async def list_users(*, actor: Actor, role: str | None = None, q: str | None = None,
                     limit: int = 200, offset: int = 0) -> list[dict]:
    if not can_manage_users(actor):
        raise PermissionDenied("Only administrators can list accounts.")
    query = User.select(User.id, User.email, User.name, User.role, User.organisation.code,
                        User.email_confirmed_at, User.is_active, User.created_at)
    where: list[Any] = []
    if role:
        where.append(User.role == role)
    if q:
        where.append(db.contains('"app_user"."email"', q.strip()) | db.contains('"app_user"."name"', q.strip()))
    for clause in where:
        query = query.where(clause)
    return await query.order_by(User.role).order_by(User.email).limit(limit).offset(offset)
