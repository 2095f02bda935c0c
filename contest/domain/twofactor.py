"""Two-factor sign-in: time-based one-time codes (TOTP, RFC 6238) and recovery codes.

Administrators and committee and panel members must use it before any admin or judging page or
API call; organisation staff may. Enrolment shows a QR code (and the secret, for typing), and
is confirmed with a first code; it issues ten recovery codes, shown once and stored hashed.

A code is good for its 30-second step and one step either side (clock drift), and only once:
the last step used is stored and a code of that step or an earlier one is refused. Using a code
is one atomic UPDATE, so two parallel log-ins with the same code cannot both pass.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno

from contest import clock, db, memo
from contest.db import atomic
from contest.domain.audit import Actor, append_event
from contest.enums import Role
from contest.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from contest.i18n import t
from contest.tables import AuthToken, RecoveryCode, User

ISSUER = "ท้องถิ่นดิจิทัล"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
#: Roles that must sign in with a second factor before any admin or judging call.
REQUIRED_ROLES = frozenset({Role.admin.value, Role.reviewer.value})


def required_for(role: str) -> bool:
    return role in REQUIRED_ROLES


def new_secret() -> str:
    return pyotp.random_base32()  # 32 characters: 160 bits


def _step_now() -> int:
    return int(clock.now().timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).at(step * STEP_SECONDS))


def matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    """The step whose code this is (now, or one step either side), if later than ``after``."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    now = _step_now()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(code.strip().replace("-", "").lower().encode()).hexdigest()


def _recovery_code() -> str:
    raw = secrets.token_hex(5)  # 40 bits, read as xxxxx-xxxxx
    return f"{raw[:5]}-{raw[5:]}"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


async def is_enrolled(user_id: int) -> bool:
    known = memo.recall(("two_factor_enrolled", user_id))
    if known is not memo.MISSING:
        return bool(known)
    rows = await db.fetch("SELECT totp_enabled_at FROM app_user WHERE id = {}", user_id)
    return bool(rows and rows[0]["totp_enabled_at"])


def enrolled_as_read(user_id: int, totp_enabled_at: object) -> None:
    """The account's two-factor enrolment as a read of its row found it: :func:`is_enrolled`
    answers from it for the rest of the request (a log-in does not enrol or disenrol)."""
    memo.remember(("two_factor_enrolled", user_id), bool(totp_enabled_at))


async def start_enrolment(actor: Actor) -> Enrolment:
    """A secret to scan (kept while unconfirmed, so reloading the page shows the same code)."""
    if actor.id is None:
        raise NotAuthenticated("Please log in first.")
    user = await db.existing(User.select(User.email, User.totp_secret, User.totp_enabled_at).where(User.id == actor.id))
    if user["totp_enabled_at"]:
        raise Conflict("Two-factor sign-in is already set up for this account.", code="two_factor_enrolled")
    secret = user["totp_secret"] or new_secret()
    if not user["totp_secret"]:
        await User.update({User.totp_secret: secret}).where(User.id == actor.id)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user["email"], issuer_name=ISSUER)
    # Presentation attributes only (no style attribute, no script): allowed by the page's CSP.
    qr = segno.make(uri, error="m").svg_inline(scale=4, title=t("QR code for your authenticator app"))
    return Enrolment(secret=secret, uri=uri, qr_svg=qr)


async def _issue_recovery_codes(user_id: int) -> list[str]:
    await RecoveryCode.delete().where(RecoveryCode.user == user_id)
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    await RecoveryCode.insert(*[RecoveryCode(user=user_id, code_hash=_hash_recovery(c)) for c in codes])
    return codes


async def confirm_enrolment(actor: Actor, code: str, *, token_id: int | None = None) -> list[str]:
    """Turn two-factor on with a first code from the app. The session that confirmed counts as
    signed in with two factors. Returns the recovery codes, to show once."""
    if actor.id is None:
        raise NotAuthenticated("Please log in first.")
    async with atomic():
        user = await db.existing(User.select(User.totp_secret, User.totp_enabled_at).where(User.id == actor.id))
        if user["totp_enabled_at"]:
            raise Conflict("Two-factor sign-in is already set up for this account.", code="two_factor_enrolled")
        if not user["totp_secret"]:
            raise Conflict("Start the set-up again: scan the QR code first.", code="two_factor_not_started")
        step = matching_step(user["totp_secret"], code, after=None)
        if step is None:
            raise ValidationFailed(
                errors={"code": t("The code is not correct. Enter the 6 digits your app shows now.")},
                code="otp_invalid")
        await User.update({User.totp_enabled_at: clock.now(), User.totp_last_step: step}).where(
            User.id == actor.id)
        codes = await _issue_recovery_codes(actor.id)
        if token_id is not None:
            await AuthToken.update({AuthToken.mfa_at: clock.now()}).where(
                (AuthToken.id == token_id) & (AuthToken.user == actor.id))
        await append_event(actor=actor, action="user.two_factor_enrol", subject_type="user", subject_id=actor.id)
    return codes


async def use_second_factor(user_id: int, code: str) -> bool:
    """Check a code (or a recovery code) and use it up, atomically. False if wrong or used."""
    user = await User.select(User.totp_secret, User.totp_enabled_at, User.totp_last_step).where(
        User.id == user_id).first()
    if user is None or not user["totp_enabled_at"] or not user["totp_secret"]:
        return False
    step = matching_step(user["totp_secret"], code, after=user["totp_last_step"])
    if step is not None:
        taken = await User.update({User.totp_last_step: step}).where(
            (User.id == user_id) & (User.totp_last_step.is_null() | (User.totp_last_step < step))
        ).returning(User.id)
        return bool(taken)
    used = await RecoveryCode.update({RecoveryCode.used_at: clock.now()}).where(
        (RecoveryCode.user == user_id) & (RecoveryCode.code_hash == _hash_recovery(code or ""))
        & RecoveryCode.used_at.is_null()).returning(RecoveryCode.id)
    return bool(used)


async def recovery_codes_left(user_id: int) -> int:
    return await RecoveryCode.count().where((RecoveryCode.user == user_id) & RecoveryCode.used_at.is_null())


async def new_recovery_codes(actor: Actor, code: str) -> list[str]:
    """Replace the recovery codes (the old ones stop working), after a current code."""
    if actor.id is None:
        raise NotAuthenticated("Please log in first.")
    if not await use_second_factor(actor.id, code):
        raise ValidationFailed(errors={"code": t("The code is not correct. Enter the 6 digits your app shows now.")},
                               code="otp_invalid")
    async with atomic():
        codes = await _issue_recovery_codes(actor.id)
        await append_event(actor=actor, action="user.two_factor_recovery_codes", subject_type="user",
                           subject_id=actor.id)
    return codes


async def turn_off(actor: Actor, code: str) -> None:
    """Organisation staff may turn two-factor off again (with a current code); the roles that
    require it may not."""
    if actor.id is None:
        raise NotAuthenticated("Please log in first.")
    if required_for(actor.role):
        raise PermissionDenied("Two-factor sign-in is required for your role.", code="two_factor_required")
    if not await use_second_factor(actor.id, code):
        raise ValidationFailed(errors={"code": t("The code is not correct. Enter the 6 digits your app shows now.")},
                               code="otp_invalid")
    async with atomic():
        await clear(actor.id)
        await append_event(actor=actor, action="user.two_factor_off", subject_type="user", subject_id=actor.id)


async def clear(user_id: int) -> None:
    """Inside the caller's transaction: no second factor any more (a reset starts enrolment over)."""
    await User.update({User.totp_secret: None, User.totp_enabled_at: None, User.totp_last_step: None}).where(
        User.id == user_id)
    await RecoveryCode.delete().where(RecoveryCode.user == user_id)


async def enrol_known_secret(*, actor: Actor, user_id: int, secret: str) -> list[str]:
    """Turn two-factor on with a secret chosen by the operator (the demo's documented secret,
    the tests' fixed one): the person types codes from an app set up with that secret."""
    pyotp.TOTP(secret).byte_secret()  # a wrong secret (not base32, under 112 bits) raises ValueError
    async with atomic():
        await User.update({User.totp_secret: secret, User.totp_enabled_at: clock.now(),
                           User.totp_last_step: None}).where(User.id == user_id)
        codes = await _issue_recovery_codes(user_id)
        await append_event(actor=actor, action="user.two_factor_enrol", subject_type="user", subject_id=user_id,
                           after={"by": "operator"})
    return codes
