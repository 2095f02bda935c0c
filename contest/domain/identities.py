"""Log-in with DGA Digital ID: OpenID Connect, authorization code with PKCE (S256), ``state``
and ``nonce``. The provider (ThaID, or any certified OpenID provider) is found by discovery from
``OIDC_ISSUER``; its ID token is checked with joserfc against the provider's published keys
(signature, ``iss``, ``aud``, ``exp``, ``nonce``).

The state, nonce and PKCE verifier stay on the server (``DigitalIdLogin``), bound to the browser
by a cookie holding the state, and are used once. A known identity logs into its account. An
unknown one becomes a new organisation-staff account (which then asks to join its
organisation), or is linked to an existing account after that account logs in with its password
(and code): an email that matches is never enough. Only the issuer and subject are kept: a
citizen ID the provider may send is never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from contest import clock, db
from contest.db import atomic
from contest.domain import notices
from contest.domain.accounts import hash_password_async, hash_secret, normalise_email
from contest.domain.audit import SYSTEM, Actor, append_event
from contest.enums import Role
from contest.errors import DomainError, NotFound
from contest.settings import get_settings
from contest.tables import DigitalIdLogin, Identity, User

STATE_MINUTES = 10
_DISCOVERY_SECONDS = 3600
_discovered: dict[str, tuple[float, dict[str, Any], KeySet]] = {}


class DigitalIdFailed(DomainError):
    """The provider's answer cannot be used; nothing was signed in."""

    status_code = 400
    code = "digital_id_failed"


def enabled() -> bool:
    settings = get_settings()
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def forget_provider() -> None:
    """Drop the kept configuration and keys of every provider (the next log-in asks afresh)."""
    _discovered.clear()


def callback_url() -> str:
    return f"{get_settings().base_url}/login/digital-id/callback"


async def _provider(*, refresh: bool = False) -> tuple[dict[str, Any], KeySet]:
    """The provider's configuration (discovery) and signing keys, kept an hour."""
    issuer = get_settings().oidc_issuer or ""
    cached = _discovered.get(issuer)
    if cached and not refresh and time.monotonic() - cached[0] < _DISCOVERY_SECONDS:
        return cached[1], cached[2]
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            config = (await client.get(f"{issuer}/.well-known/openid-configuration")).raise_for_status().json()
            keys = (await client.get(config["jwks_uri"])).raise_for_status().json()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise DigitalIdFailed("DGA Digital ID cannot be reached right now. Try again later, or log in with "
                              "your password.", code="digital_id_unavailable") from exc
    if config.get("issuer") != issuer:
        raise DigitalIdFailed("DGA Digital ID cannot be reached right now. Try again later, or log in with "
                              "your password.", code="digital_id_unavailable")
    key_set = KeySet.import_key_set(keys)
    _discovered[issuer] = (time.monotonic(), config, key_set)
    return config, key_set


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def start(*, next_path: str = "", login_hint: str | None = None) -> tuple[str, str]:
    """Where to send the browser, and the state to keep in its cookie."""
    settings = get_settings()
    config, _ = await _provider()
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(24), secrets.token_urlsafe(64)
    await DigitalIdLogin.insert(DigitalIdLogin(state_hash=hash_secret(state), nonce=nonce, verifier=verifier,
                                               next_path=next_path[:500]))
    params = {"response_type": "code", "client_id": settings.oidc_client_id, "redirect_uri": callback_url(),
              "scope": settings.oidc_scopes, "state": state, "nonce": nonce,
              "code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    if login_hint:
        params["login_hint"] = login_hint[:254]
    return f"{config['authorization_endpoint']}?{urlencode(params)}", state


async def verify_id_token(token: str, *, nonce: str) -> dict[str, Any]:
    """The ID token's claims, after its signature (the provider's keys), issuer, audience,
    expiry and nonce are checked; DigitalIdFailed otherwise."""
    settings = get_settings()
    config, keys = await _provider()
    algorithms = config.get("id_token_signing_alg_values_supported") or ["RS256"]
    try:
        decoded = jwt.decode(token, keys, algorithms=[a for a in algorithms if a != "none"])
    except (JoseError, ValueError) as exc:
        raise DigitalIdFailed("The answer from DGA Digital ID failed its signature check. Nothing was signed in.",
                              code="digital_id_token") from exc
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": settings.oidc_issuer or ""}, sub={"essential": True},
        aud={"essential": True, "value": settings.oidc_client_id}, exp={"essential": True})
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise DigitalIdFailed("The answer from DGA Digital ID is not for this service or has expired. Start "
                              "again.", code="digital_id_token") from exc
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
        raise DigitalIdFailed("The answer from DGA Digital ID does not belong to this sign-in. Start again.",
                              code="digital_id_nonce")
    return dict(claims)


@dataclass(frozen=True)
class Finished:
    """A known identity's account, or (for an unknown one) the token that links or signs it up."""

    user_id: int | None
    next_path: str
    link_token: str | None = None
    email: str = ""
    name: str = ""


def _state_refused() -> DigitalIdFailed:
    return DigitalIdFailed("This sign-in did not start in this browser, was already used, or has expired. "
                           "Start again.", code="digital_id_state")


async def _exchange(config: dict[str, Any], code: str, verifier: str) -> dict[str, Any]:
    settings = get_settings()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await client.post(config["token_endpoint"], auth=(settings.oidc_client_id,
                                                                     settings.oidc_client_secret),
                                     data={"grant_type": "authorization_code", "code": code,
                                           "redirect_uri": callback_url(), "code_verifier": verifier})
    except httpx.HTTPError as exc:
        raise DigitalIdFailed("DGA Digital ID cannot be reached right now. Try again later, or log in with "
                              "your password.", code="digital_id_unavailable") from exc
    body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
    if resp.status_code != 200 or not isinstance(body.get("id_token"), str):
        raise DigitalIdFailed("DGA Digital ID did not accept this sign-in (the code was refused or already "
                              "used). Start again.", code="digital_id_code")
    return dict(body)


async def _userinfo(config: dict[str, Any], access_token: Any, subject: str) -> dict[str, Any]:
    """The person's email and name from the userinfo endpoint, when the ID token leaves them
    out (providers differ); claims about another subject are ignored."""
    if not config.get("userinfo_endpoint") or not isinstance(access_token, str):
        return {}
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await client.get(config["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"})
        info = resp.json() if resp.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {}
    return info if isinstance(info, dict) and info.get("sub") == subject else {}


async def finish(*, state: str, cookie_state: str | None, code: str | None, error: str | None) -> Finished:
    """The provider sent the browser back: check the state against the browser's cookie, use
    the code once, verify the ID token, and say whose account it is (if anyone's)."""
    if error:
        raise DigitalIdFailed("The DGA Digital ID sign-in was cancelled or refused. Nothing was signed in.",
                              code="digital_id_refused")
    if not state or not cookie_state or not hmac.compare_digest(state, cookie_state) or not code:
        raise _state_refused()
    oldest = clock.now() - timedelta(minutes=STATE_MINUTES)
    taken = await DigitalIdLogin.update({DigitalIdLogin.used_at: clock.now()}).where(
        (DigitalIdLogin.state_hash == hash_secret(state)) & DigitalIdLogin.used_at.is_null()
        & (DigitalIdLogin.created_at > oldest)).returning(DigitalIdLogin.id, DigitalIdLogin.nonce,
                                                          DigitalIdLogin.verifier, DigitalIdLogin.next_path)
    if not taken:
        raise _state_refused()
    row = taken[0]
    try:
        config, _ = await _provider()
        tokens = await _exchange(config, code, row["verifier"])
        claims = await verify_id_token(tokens["id_token"], nonce=row["nonce"])
    except DigitalIdFailed as exc:
        # A sign-in this browser started, refused (a used or wrong code, a forged or tampered
        # ID token, another nonce): on the record, with nothing else changed.
        async with atomic():
            await append_event(actor=SYSTEM, action="user.digital_id_refused", subject_type="digital_id_login",
                               subject_id=row["id"], after={"reason": exc.code})
        raise
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    known = await Identity.select(Identity.user).where(Identity.key == f"{issuer} {subject}").first()
    if known is not None:
        return Finished(user_id=known["user"], next_path=row["next_path"])
    if "email" not in claims:
        claims = {**await _userinfo(config, tokens.get("access_token"), subject), **claims}
    name = " ".join(str(claims.get(k) or "") for k in ("given_name", "family_name")).strip()
    email = normalise_email(str(claims.get("email") or "")) if claims.get("email_verified") else ""
    link = secrets.token_urlsafe(32)
    await DigitalIdLogin.update({DigitalIdLogin.issuer: issuer, DigitalIdLogin.subject: subject,
                                 DigitalIdLogin.email: email[:254], DigitalIdLogin.name: name[:255],
                                 DigitalIdLogin.link_hash: hash_secret(link)}).where(DigitalIdLogin.id == row["id"])
    return Finished(user_id=None, next_path=row["next_path"], link_token=link, email=email, name=name)


#: The browser that came back from the provider holds the link token in this cookie too: the
#: token in a form is used only together with it, so a copied token is worth nothing elsewhere.
LINK_COOKIE = "tdoidclink"


async def _pending(link_token: str, browser_token: str | None) -> dict[str, Any]:
    if not link_token or not browser_token or not hmac.compare_digest(link_token, browser_token):
        raise _state_refused()
    row = await DigitalIdLogin.select().where(DigitalIdLogin.link_hash == hash_secret(link_token or "")).first()
    if row is None or row["linked_at"] is not None or not row["subject"] or \
            row["created_at"] < clock.now() - timedelta(minutes=STATE_MINUTES * 3):
        raise _state_refused()
    return row


async def link(*, link_token: str, browser_token: str | None, actor: Actor) -> None:
    """After the account logged in with its password (and code): tie the identity to it."""
    row = await _pending(link_token, browser_token)
    if actor.id is None:
        raise NotFound("No such account.")
    async with atomic():
        await DigitalIdLogin.update({DigitalIdLogin.linked_at: clock.now()}).where(DigitalIdLogin.id == row["id"])
        key = f"{row['issuer']} {row['subject']}"
        if not await Identity.exists().where(Identity.key == key):
            await Identity.insert(Identity(key=key, issuer=row["issuer"], subject=row["subject"], user=actor.id))
        await append_event(actor=actor, action="user.digital_id_link", subject_type="user", subject_id=actor.id,
                           after={"issuer": row["issuer"]})


async def sign_up(*, link_token: str, browser_token: str | None, language: str = "th") -> Actor:
    """A new organisation-staff account for the person the provider vouched for (its verified
    email, its name), confirmed, with no password; it then asks to join its organisation."""
    row = await _pending(link_token, browser_token)
    email = row["email"]
    if not email:
        raise DigitalIdFailed("DGA Digital ID did not give a verified email. Sign up with the form instead.",
                              code="digital_id_no_email")
    if await User.exists().where(User.email == email):
        raise DigitalIdFailed("An account with this email already exists. Log in with its password below to "
                              "link DGA Digital ID to it.", code="digital_id_email_taken")
    unusable = await hash_password_async(secrets.token_urlsafe(32))  # no password until one is reset
    async with atomic():
        rows = await User.insert(User(email=email, name=row["name"] or email.split("@")[0], password_hash=unusable,
                                      role=Role.applicant, email_confirmed_at=clock.now(), locale=language)
                                 ).returning(User.id)
        user_id = int(rows[0]["id"])
        actor = Actor(id=user_id, email=email, role=Role.applicant.value)
        await DigitalIdLogin.update({DigitalIdLogin.linked_at: clock.now()}).where(DigitalIdLogin.id == row["id"])
        await Identity.insert(Identity(key=f"{row['issuer']} {row['subject']}", issuer=row["issuer"],
                                       subject=row["subject"], user=user_id))
        await notices.accept_current(user_id, "digital_id_signup")
        await append_event(actor=actor, action="user.sign_up", subject_type="user", subject_id=user_id,
                           after={"email": email, "role": "applicant", "via": "digital_id"})
    return actor


async def account_of(user_id: int) -> Actor:
    """The account a known identity logs into (a deactivated account is refused)."""
    user = await db.existing(User.select(User.id, User.email, User.role, User.organisation, User.is_active).where(
        User.id == user_id))
    if not user["is_active"]:
        raise DigitalIdFailed("This account is deactivated. Ask the contest's administrators.",
                              code="digital_id_inactive")
    actor = Actor(id=user["id"], email=user["email"], role=user["role"], organisation_id=user["organisation"])
    async with atomic():
        await append_event(actor=actor, action="user.digital_id_login", subject_type="user", subject_id=actor.id)
    return actor
