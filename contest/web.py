"""Per-request plumbing shared by every route, as five small middlewares (``REQUEST_MIDDLEWARE``,
in order): an answer before the body was read closes the connection, language, path integers, who
is calling, and what body it may send with its CSRF token;
plus the security headers of every answer (``security_headers``, a ``before_send`` hook).

* Identity: ``Authorization: Bearer <token>`` (API clients) or the ``tdsid`` session cookie
  (browsers). Both are opaque random secrets looked up server-side, so a tampered cookie simply
  resolves to nobody (and is cleared).
* Language: ``?lang=th|en`` (remembered in a cookie), else the cookie, else Accept-Language,
  else Thai.
* Body types: a page takes url-encoded forms, an API route takes JSON; a route that reads a
  multipart body says so with ``opt=MULTIPART`` (and then checks the ``_csrf`` field it reads
  itself, see ``check_deferred_csrf``). Any other body is refused with 415 before anything parses
  it. A JSON body nested deeper than ``MAX_JSON_DEPTH`` is refused with 400.
* CSRF: every unsafe request that carries the session cookie (or looks like a browser form) must
  carry the token derived from the ``csrftoken`` cookie, whatever its Content-Type: in the
  ``X-CSRF-Token`` header (htmx, fetch), the ``_csrf`` field of a url-encoded form, or, for the
  routes that stream multipart bodies, the ``_csrf`` field they read. Bearer requests carry no
  ambient authority and need no token.
* Path integers: every ``{name:int}`` segment must be plain ASCII digits that a database integer
  can hold; anything else (``๒``, ``+1``, ``1_000``, 2**31) is "not found", by one rule for every
  route.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from contest import memo
from contest.domain.accounts import TokenUser, resolve_token
from contest.enums import AuthTokenKind
from contest.i18n import both, current_language, pick_language, t
from contest.numbers import MAX_DB_INTEGER
from contest.settings import get_settings

SESSION_COOKIE = "tdsid"
CSRF_COOKIE = "csrftoken"
LANG_COOKIE = "lang"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# A form or JSON body larger than this is refused (413) unless its route sets its own
# ``request_max_body_size``; the app is created with the same default.
MAX_FORM_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART_TYPE = "multipart/form-data"
# ``opt`` of a route that reads a multipart body and checks its ``_csrf`` field itself.
MULTIPART: dict[str, Any] = {"accepts_multipart": True}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'")
# The interactive API documentation pages load their viewer from its publisher's CDN.
DOCS_CONTENT_SECURITY_POLICY = "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"


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


async def _reject(send: Send, scope: Scope, status: int, code: str, message: str, **params: str) -> None:
    lang = current_language.get()
    detail = t(message, lang)
    wants_json = scope["path"].startswith("/api/") or "json" in (_header(scope, b"accept") or "")
    if wants_json:
        body = json.dumps({"status_code": status, "detail": detail, "detail_en": t(message, "en"),
                           "code": code, **params}, ensure_ascii=False).encode()
        ctype = b"application/json"
    else:
        from html import escape
        body = (f"<!doctype html><html lang=\"{lang}\"><meta charset=\"utf-8\"><title>{status}</title>"
                f"<main><h1>{escape(both(message))}</h1><p><a href=\"/\">"
                f"{escape(t('Back to the home page', lang))}</a></p></main></html>").encode()
        ctype = b"text/html; charset=utf-8"
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    if status == 415 and params.get("accept"):
        headers.append((b"accept-post", params["accept"].encode()))
    start: Any = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    end: Any = {"type": "http.response.body", "body": body}
    await send(end)


_SECRET_PATH = re.compile(r"^(/account/(?:reset|confirm)/)[^/]+")


def loggable_path(path: str) -> str:
    """``path`` fit for a log line: the secret of a reset or confirmation link is left out."""
    return _SECRET_PATH.sub(r"\1…", path)


def same_site_path(path: str) -> str:
    """``path`` as a link that stays on this site: ``//evil.example/x`` or ``/\\evil.example``
    would leave it (browsers read both as another host)."""
    return "/" + path.lstrip("/\\")


def forwarded_client(peer: str, forwarded_for: str | None, trusted: tuple[Any, ...]) -> str:
    """The address of the person calling. The peer of the connection is believed as it is, unless
    it is one of our own reverse proxies (``TRUSTED_PROXIES``): then X-Forwarded-For is read from
    the right, skipping our proxies, and the first address that is not one of them is the client.
    Addresses further left were written by the client and could be anything."""

    def is_trusted(text: str) -> bool:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return False
        return any(address in network for network in trusted)

    if not trusted or not is_trusted(peer) or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header: fall back to what we know
        if not is_trusted(hop):
            return hop
    return hops[0] if hops else peer


def client_address(scope: Scope) -> str:
    """The caller's address for rate limits and the list of signed-in devices."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    # Several X-Forwarded-For headers count as one list, in order.
    forwarded = ",".join(v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-forwarded-for")
    return forwarded_client(peer, forwarded or None, get_settings().trusted_proxies)


def _integer_segments_valid(scope: Scope) -> bool:
    """Every integer parameter of the matched route's path was written as ASCII digits that a
    database integer can hold (Python's ``int`` also reads ``๒``, ``+1`` and ``1_000``)."""
    params = scope.get("path_params") or {}
    if not any(type(v) is int for v in params.values()):
        return True
    template = scope.get("path_template") or ""
    for pattern, value in zip(template.split("/"), scope["path"].split("/"), strict=False):
        if pattern.startswith("{") and type(params.get(pattern[1:-1])) is int and not (
                value.isascii() and value.isdigit() and len(value) <= 12 and int(value) <= MAX_DB_INTEGER):
            return False
    return True


def _media_type(scope: Scope) -> str:
    return (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return _header(scope, b"transfer-encoding") is not None


def _accepted(scope: Scope) -> tuple[str, ...]:
    handler = scope.get("route_handler")
    opt = getattr(handler, "opt", None) or {}
    main = JSON if scope["path"].startswith("/api/") else FORM
    return (main, MULTIPART_TYPE) if opt.get("accepts_multipart") else (main,)


def _body_limit(scope: Scope) -> int:
    handler = scope.get("route_handler")
    resolve = getattr(handler, "resolve_request_max_body_size", None)
    limit = resolve() if resolve else None
    return limit if isinstance(limit, int) and limit > 0 else MAX_FORM_BYTES


_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Is a JSON text nested deeper than ``limit``? Strings are skipped, so brackets inside them
    do not count; the decoder itself would exhaust the stack on a few thousand levels."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


async def security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: every answer (pages, API, files, errors, even an unknown path's 404)
    forbids framing, inline script and cross-site referrers; HSTS when served over HTTPS."""
    if message["type"] != "http.response.start":
        return
    path = scope.get("path", "")
    docs = path == "/schema" or path.startswith("/schema/")
    headers = [
        (b"content-security-policy", (DOCS_CONTENT_SECURITY_POLICY if docs else CONTENT_SECURITY_POLICY).encode()),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"x-content-type-options", b"nosniff"),
    ]
    if get_settings().secure_cookies:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    existing = list(message.get("headers") or [])
    if scope.get("method") == "OPTIONS" and scope.get("path_template") and "litestar_app" in scope:
        # Each controller answers OPTIONS with its own methods; a path served by several
        # controllers (GET here, PATCH there) is answered with all of them.
        allowed = _allowed_methods(scope["litestar_app"], scope["path_template"])
        existing = [(k, v) for k, v in existing if bytes(k).lower() != b"allow"]
        existing.append((b"allow", ", ".join(allowed).encode()))
    present = {bytes(name).lower() for name, _ in existing}
    message["headers"] = existing + [h for h in headers if h[0] not in present]


_ALLOWED: dict[tuple[int, str], list[str]] = {}


def _allowed_methods(app: Any, path_template: str) -> list[str]:
    key = (id(app), path_template)
    if key not in _ALLOWED:
        methods = {"OPTIONS"}
        for route in app.routes:
            if getattr(route, "path_format", None) == path_template:
                methods.update(getattr(route, "methods", ()))
        if "GET" in methods:
            methods.add("HEAD")
        _ALLOWED[key] = sorted(methods)
    return _ALLOWED[key]


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def _request_cookies(scope: Scope) -> dict[str, str]:
    state = _state(scope)
    if "cookies" not in state:
        state["cookies"] = _cookies(scope)
    cookies: dict[str, str] = state["cookies"]
    return cookies


def _adding_headers(send: Send, headers: list[tuple[bytes, bytes]], *, public_safe: bool = True) -> Send:
    """``send`` that appends ``headers`` (as they are when the answer starts) to the answer.
    With ``public_safe=False`` they are left off an answer a shared cache may keep."""
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and headers:
            existing = message.get("headers", [])
            if public_safe or not _publicly_cacheable(existing):
                message = {**message, "headers": [*existing, *headers]}
        await send(message)

    return wrapped


def unread_body_middleware(app: ASGIApp) -> ASGIApp:
    """An answer given before the request's body was read to its end (a refused upload, a body of
    the wrong type or too large) says ``Connection: close``: the server then drops the connection
    with the unread rest, and a client told so opens a new one for its next request instead of
    sending it on a connection about to close (where it would be lost without an answer)."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await app(scope, receive, send)
            return
        read = [False]

        async def receiving() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                read[0] = True
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and not read[0]:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await app(scope, receiving, sending)

    return middleware


def language_middleware(app: ASGIApp) -> ASGIApp:
    """``?lang=th|en`` (remembered in a cookie), else the cookie, else Accept-Language, else Thai."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        cookies = _request_cookies(scope)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query_lang = next(iter(query.get("lang") or []), None)
        lang = pick_language(query_lang, cookies.get(LANG_COOKIE), _header(scope, b"accept-language"))
        token = current_language.set(lang)
        _state(scope)["language"] = lang
        headers = []
        if query_lang in ("th", "en"):
            headers.append(_cookie_header(LANG_COOKIE, query_lang, max_age=365 * 86400, http_only=False))
        try:
            await app(scope, receive, _adding_headers(send, headers))
        finally:
            current_language.reset(token)

    return middleware


def path_integer_middleware(app: ASGIApp) -> ASGIApp:
    """A path whose integer parameter is not plain digits within a database integer names nothing."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _integer_segments_valid(scope):
            raise NotFoundException()
        await app(scope, receive, send)

    return middleware


def authentication_middleware(app: ASGIApp) -> ASGIApp:
    """Who is calling: a bearer token (API clients) or the session cookie (browsers); an unknown
    session cookie is cleared."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        state = _state(scope)
        cookies = _request_cookies(scope)
        headers = []
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
                headers.append(_cookie_header(SESSION_COOKIE, "", max_age=0))
        state["user"] = user
        state["session_token"] = cookies.get(SESSION_COOKIE) if user and not state["bearer"] else None
        with memo.request_scope():
            await app(scope, receive, _adding_headers(send, headers))

    return middleware


def csrf_middleware(app: ASGIApp) -> ASGIApp:
    """The body a route takes, within its limits, and the CSRF token of every unsafe request that
    carries the session cookie or a browser form (see the module's docstring)."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        state = _state(scope)
        cookies = _request_cookies(scope)
        headers = []
        csrf_cookie = cookies.get(CSRF_COOKIE)
        if not csrf_cookie or len(csrf_cookie) > 64:
            csrf_cookie = secrets.token_urlsafe(24)
            headers.append(_cookie_header(CSRF_COOKIE, csrf_cookie, max_age=365 * 86400))
        state["csrf_token"] = csrf_token_for(csrf_cookie)
        # A shared cache would hand one CSRF cookie to every visitor, making the token
        # guessable: a public page never sets it.
        send = _adding_headers(send, headers, public_safe=False)
        if scope.get("method") not in SAFE_METHODS:
            rejected, receive = await _check_unsafe_request(scope, receive, cookies)
            if rejected is not None:
                status, code, message, params = rejected
                await _reject(send, scope, status, code, message, **params)
                return
        await app(scope, receive, send)

    return middleware


Rejection = tuple[int, str, str, dict[str, str]]


async def _check_unsafe_request(scope: Scope, receive: Receive,
                                cookies: dict[str, str]) -> tuple[Rejection | None, Receive]:
    """Body type, size and nesting, then the CSRF token; the body read here is replayed."""
    state = _state(scope)
    media = _media_type(scope)
    accepted = _accepted(scope)
    if (media or _has_body(scope)) and media not in accepted:
        return (415, "unsupported_media_type", "This kind of request body is not accepted here.",
                {"accept": ", ".join(accepted)}), receive
    body: bytes | None = None
    if media in (FORM, JSON):
        body, receive = await _buffer(receive, _body_limit(scope))
        if body is None:
            return (413, "too_large", "The request is too large.", {}), receive
        if media == JSON and json_too_deep(body):
            return (400, "invalid_input", "The data sent is nested too deeply.", {}), receive
    # Only ambient credentials (the session cookie) or a browser form can be forged cross-site;
    # a JSON call with no session carries no authority to abuse.
    if state.get("bearer") or not (SESSION_COOKIE in cookies or media in (FORM, MULTIPART_TYPE)):
        return None, receive
    expected = csrf_token_for(cookies[CSRF_COOKIE]) if CSRF_COOKIE in cookies else None
    sent = _header(scope, b"x-csrf-token")
    if sent is None and media == FORM and body is not None:
        sent = next(iter(parse_qs(body.decode("utf-8", "replace")).get("_csrf") or []), None)
    if sent is None and media == MULTIPART_TYPE:
        # Only a route that reads multipart takes it (checked above), and it checks the
        # ``_csrf`` field it reads before acting.
        state["csrf_deferred"] = True
        return None, receive
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        return (403, "csrf_failed",
                "This form has expired or came from another site. Reload the page and try again.", {}), receive
    return None, receive


# In this order: language first (every later refusal speaks it), then the path, the caller, and
# what the caller sent.
REQUEST_MIDDLEWARE = [unread_body_middleware, language_middleware, path_integer_middleware,
                      authentication_middleware, csrf_middleware]


def _publicly_cacheable(headers: Any) -> bool:
    for name, value in headers:
        if name.lower() == b"cache-control":
            return b"public" in value.lower()
    return False


async def _buffer(receive: Receive, limit: int = MAX_FORM_BYTES) -> tuple[bytes | None, Receive]:
    """Read a form or JSON body (at most ``limit`` bytes, else None) so it can be checked, then
    replay it to the route."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Any:
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
