"""Per-request plumbing shared by every route: who is calling, in which language, and CSRF.

* Identity: ``Authorization: Bearer <token>`` (API clients) or the ``tdsid`` session cookie
  (browsers). Both are opaque random secrets looked up server-side, so a tampered cookie simply
  resolves to nobody (and is cleared).
* Language: ``?lang=th|en`` (remembered in a cookie), else the cookie, else Accept-Language,
  else Thai.
* CSRF: every unsafe request that is not a bearer request must carry the token derived from the
  ``csrftoken`` cookie, in the ``X-CSRF-Token`` header (htmx, fetch) or the ``_csrf`` field of a
  url-encoded form. Multipart bodies are never buffered here: they need the header, or the route
  checks the ``_csrf`` field it streams itself (``csrf_deferred``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from contest.domain.accounts import TokenUser, resolve_token
from contest.enums import AuthTokenKind
from contest.i18n import both, current_language, pick_language, t
from contest.settings import get_settings

SESSION_COOKIE = "tdsid"
CSRF_COOKIE = "csrftoken"
LANG_COOKIE = "lang"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
MAX_FORM_BYTES = 1024 * 1024


def csrf_token_for(cookie_value: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, cookie_value.encode(), hashlib.sha256).hexdigest()


def _cookies(scope: Scope) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is treated as absent
                return {}
    return {k: m.value for k, m in jar.items()}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie_header(name: str, value: str, *, max_age: int | None, http_only: bool = True) -> tuple[bytes, bytes]:
    settings = get_settings()
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if http_only:
        parts.append("HttpOnly")
    if settings.secure_cookies:
        parts.append("Secure")
    return b"set-cookie", "; ".join(parts).encode("latin-1")


async def _reject(send: Send, scope: Scope, status: int, code: str, message: str) -> None:
    lang = current_language.get()
    detail = t(message, lang)
    wants_json = scope["path"].startswith("/api/") or "json" in (_header(scope, b"accept") or "")
    if wants_json:
        body = json.dumps({"status_code": status, "detail": detail, "detail_en": t(message, "en"),
                           "code": code}, ensure_ascii=False).encode()
        ctype = b"application/json"
    else:
        from html import escape
        body = (f"<!doctype html><html lang=\"{lang}\"><meta charset=\"utf-8\"><title>{status}</title>"
                f"<main><h1>{escape(both(message))}</h1><p><a href=\"javascript:history.back()\">"
                f"{escape(t('Go back', lang))}</a></p></main></html>").encode()
        ctype = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def request_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        cookies = _cookies(scope)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query_lang = (query.get("lang") or [None])[0]
        lang = pick_language(query_lang, cookies.get(LANG_COOKIE), _header(scope, b"accept-language"))
        token = current_language.set(lang)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["language"] = lang
        extra_headers: list[tuple[bytes, bytes]] = []
        try:
            user: TokenUser | None = None
            auth = _header(scope, b"authorization") or ""
            state["bearer"] = False
            if auth.lower().startswith("bearer "):
                state["bearer"] = True
                user = await resolve_token(auth[7:].strip(), AuthTokenKind.api)
                state["auth_error"] = user is None
            elif session := cookies.get(SESSION_COOKIE):
                user = await resolve_token(session, AuthTokenKind.session)
                if user is None:
                    state["session_invalid"] = True
                    extra_headers.append(_cookie_header(SESSION_COOKIE, "", max_age=0))
            state["user"] = user
            state["session_token"] = cookies.get(SESSION_COOKIE) if user and not state["bearer"] else None

            csrf_cookie = cookies.get(CSRF_COOKIE)
            if not csrf_cookie or len(csrf_cookie) > 64:
                csrf_cookie = secrets.token_urlsafe(24)
                extra_headers.append(_cookie_header(CSRF_COOKIE, csrf_cookie, max_age=365 * 86400))
            state["csrf_token"] = csrf_token_for(csrf_cookie)
            if query_lang in ("th", "en"):
                extra_headers.append(_cookie_header(LANG_COOKIE, query_lang, max_age=365 * 86400, http_only=False))

            ctype = (_header(scope, b"content-type") or "").lower()
            is_form = ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data", "text/plain"))
            # Only ambient credentials (the session cookie) or a browser form can be forged
            # cross-site; a JSON call with no session carries no authority to abuse.
            if scope["method"] not in SAFE_METHODS and not state["bearer"] and (
                    SESSION_COOKIE in cookies or is_form):
                expected = csrf_token_for(cookies[CSRF_COOKIE]) if CSRF_COOKIE in cookies else None
                sent = _header(scope, b"x-csrf-token")
                if sent is None and ctype.startswith("application/x-www-form-urlencoded"):
                    body, receive = await _buffer(receive)
                    if body is None:
                        await _reject(send, scope, 413, "form_too_large", "The form is too large.")
                        return
                    sent = (parse_qs(body.decode("utf-8", "replace")).get("_csrf") or [None])[0]
                if sent is None and ctype.startswith("multipart/form-data"):
                    state["csrf_deferred"] = True
                elif not expected or not sent or not hmac.compare_digest(expected, sent):
                    await _reject(send, scope, 403, "csrf_failed",
                                  "This form has expired or came from another site. Reload the page and try again.")
                    return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start" and extra_headers:
                    headers = message.get("headers", [])
                    added = extra_headers
                    if _publicly_cacheable(headers):
                        # A shared cache would hand this one CSRF cookie to every visitor,
                        # making the token guessable: a public page never sets it.
                        added = [h for h in extra_headers if not h[1].startswith(CSRF_COOKIE.encode() + b"=")]
                    message = {**message, "headers": [*headers, *added]}
                await send(message)

            await app(scope, receive, send_with_headers)
        finally:
            current_language.reset(token)

    return middleware


def _publicly_cacheable(headers: Any) -> bool:
    for name, value in headers:
        if name.lower() == b"cache-control":
            return b"public" in value.lower()
    return False


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive]:
    """Read a small url-encoded body so its ``_csrf`` field can be checked, then replay it."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def check_deferred_csrf(state: dict[str, Any], submitted: str | None) -> bool:
    """For streamed multipart forms: is the ``_csrf`` field the route read itself valid?"""
    if not state.get("csrf_deferred"):
        return True
    expected = state.get("csrf_token")
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))
