"""Log-in with DGA Digital ID (OpenID Connect): the way out to the provider, the way back, and
for an identity the contest does not know yet, the choice between a new account and linking it
to an existing one (after that account's own log-in)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from contest.controllers.pages import message_page, safe_next, signed_in
from contest.domain import identities
from contest.errors import NotFound
from contest.i18n import t
from contest.settings import get_settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
STATE_COOKIE = "tdoidc"


def _state_cookie(value: str, max_age: int) -> Cookie:
    # Lax: the provider sends the browser back with a top-level GET, which carries it.
    return Cookie(key=STATE_COOKIE, value=value, path="/login/digital-id", httponly=True, samesite="lax",
                  secure=get_settings().secure_cookies, max_age=max_age)


def _require_enabled() -> None:
    if not identities.enabled():
        raise NotFound("The page or item you asked for does not exist.")


def _failed(exc: identities.DigitalIdFailed) -> Template:
    page = message_page(t("DGA Digital ID sign-in did not work"), t(exc.message),
                        link=("/login", t("Log in")), status=exc.status_code)
    page.cookies.append(_state_cookie("", 0))
    return page


class DigitalIdPages(Controller):
    path = "/login/digital-id"
    include_in_schema = False

    @get("/")
    async def begin(self, next: str | None = None, login_hint: str | None = None) -> Redirect | Template:
        _require_enabled()
        try:
            url, state = await identities.start(next_path=safe_next(next), login_hint=login_hint)
        except identities.DigitalIdFailed as exc:
            return _failed(exc)
        return Redirect(url, status_code=303, cookies=[_state_cookie(state, identities.STATE_MINUTES * 60)])

    @get("/callback")
    async def back(self, request: Request, code: str | None = None, error: str | None = None,
                   returned_state: str = Parameter(query="state", default="")) -> Redirect | Template:
        _require_enabled()
        try:
            done = await identities.finish(state=returned_state, cookie_state=request.cookies.get(STATE_COOKIE),
                                           code=code, error=error)
            if done.user_id is not None:
                actor = await identities.account_of(done.user_id)
                response = await signed_in(request, actor, done.next_path or None, mfa=False)
                response.cookies.append(_state_cookie("", 0))
                return response
        except identities.DigitalIdFailed as exc:
            return _failed(exc)
        link_cookie = Cookie(key=identities.LINK_COOKIE, value=done.link_token or "", path="/", httponly=True,
                             samesite="lax", secure=get_settings().secure_cookies,
                             max_age=identities.STATE_MINUTES * 3 * 60)
        return Template("contest/digital_id_choice.html", cookies=[_state_cookie("", 0), link_cookie], context={
            "link": done.link_token, "email": done.email, "name": done.name, "next": done.next_path,
            "form": {"email": done.email}, "errors": {}})

    @post("/new")
    async def new_account(self, request: Request, data: Form) -> Redirect | Template:
        _require_enabled()
        try:
            actor = await identities.sign_up(link_token=data.get("link", ""),
                                             browser_token=request.cookies.get(identities.LINK_COOKIE),
                                             language=request.scope["state"]["language"])
        except identities.DigitalIdFailed as exc:
            return _failed(exc)
        return await signed_in(request, actor, "/account/membership", mfa=False)
