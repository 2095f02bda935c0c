"""Public and account pages (server-rendered, usable without JavaScript)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlparse

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from contest import ratelimit
from contest.db import existing
from contest.domain import accounts, editions, identities, notices, organisations, results_views, twofactor
from contest.domain.audit import Actor
from contest.enums import AuthTokenKind
from contest.errors import DomainError, NotAuthenticated, PermissionDenied, RateLimited, ValidationFailed
from contest.guards import BEFORE_TWO_FACTOR, current_user, login_required, require_actor
from contest.i18n import t
from contest.settings import get_settings
from contest.summary import in_page_order
from contest.tables import Organisation, User
from contest.web import SESSION_COOKIE, client_address

#: The sign-up page's fields, top to bottom (its error summary follows them).
SIGNUP_ORDER = ("organisation_code", "name", "email", "password", "notice_version")

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _session_cookie(value: str, max_age: int) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=value, path="/", httponly=True, samesite="lax",
                  secure=get_settings().secure_cookies, max_age=max_age)


def safe_next(value: str | None) -> str:
    """Only local paths: never redirect to another site after log-in."""
    if (not value or not value.startswith("/") or value.startswith("//") or "\\" in value
            or any(ord(c) < 32 for c in value) or urlparse(value).netloc):
        return "/"
    return value


async def _throttle_mail(request: Request, email: str) -> None:
    """Forms that send a mail (sign-up, forgot password, resend confirmation): a few per email
    and per address an hour (429 with Retry-After beyond)."""
    await ratelimit.check_mail_request(accounts.normalise_email(email), client_address(request.scope))


async def signed_in(request: Request, actor: Actor, next_path: str | None, *, mfa: bool,
                    link: str | None = None) -> Redirect:
    """Start the browser session and go where the person was going (or to their start page).
    ``link``: a DGA Digital ID identity waiting to be tied to this account, now that it proved
    its password (and code)."""
    if link:
        await identities.link(link_token=link, browser_token=request.cookies.get(identities.LINK_COOKIE),
                              actor=actor)
    issued = await accounts.issue_token(actor, AuthTokenKind.session, request.headers.get("user-agent", ""),
                                        client_address(request.scope), mfa=mfa)
    target = safe_next(next_path)
    if target == "/":
        target = {"admin": "/admin", "applicant": "/entries", "reviewer": "/review"}.get(actor.role, "/account")
    if await notices.due_version(actor.id) is not None:
        target = f"/account/privacy-notice?next={quote(target)}"
    if not mfa and twofactor.required_for(actor.role):
        target = f"/account/two-factor?next={quote(target)}"
    return Redirect(target, status_code=303,
                    cookies=[_session_cookie(issued.token, get_settings().session_days * 86400)])


def _wait_page(template: str, ctx: dict[str, Any], exc: RateLimited) -> Template:
    """The log-in form again, saying how long to wait (429 with Retry-After)."""
    return Template(template, context={**ctx, "message": t(exc.message, **exc.params)}, status_code=429,
                    headers={"Retry-After": str(exc.retry_after)})


def message_page(heading: str, *paragraphs: str, link: tuple[str, str] | None = None, status: int = 200) -> Template:
    return Template("contest/message.html", status_code=status,
                    context={"heading": heading, "paragraphs": paragraphs, "link": link})


class PublicPages(Controller):
    include_in_schema = False

    @get("/", name="home")
    async def home(self) -> Template:
        return Template("contest/home.html", context={"edition": await editions.current_edition(),
                                                      "has_results": await results_views.any_published()})

    @get("/accessibility")
    async def accessibility(self) -> Template:
        return message_page(t("Accessibility statement"),
                        t("This site aims to meet WCAG 2.1 level AA: every page works with a keyboard, form "
                          "fields have labels, errors are shown next to the field, and text has sufficient contrast."),
                        t("Pages work without JavaScript where they can, and on slow connections and old devices."),
                        t("If something does not work for you, tell the contest organisers and we will fix it."))


class AccountPages(Controller):
    include_in_schema = False

    async def _signup_context(self, q: str | None, province: str | None, form: dict[str, Any],
                              errors: dict[str, str]) -> dict[str, Any]:
        orgs: list[dict] = []
        total = 0
        searched = bool((q and q.strip()) or province)
        selected = form.get("organisation_code") or ""
        if searched:
            page = await organisations.search_organisations(q=q, province=province, per_page=30)
            orgs, total = page.items, page.total
        elif selected:
            try:
                orgs, total = [await organisations.get_organisation(selected)], 1
            except DomainError:
                pass
        return {"q": q, "province": province, "provinces": await organisations.list_provinces(),
                "orgs": orgs, "total": total, "searched": searched, "selected": selected,
                "form": form, "errors": errors, "notice_version": await notices.current_version()}

    @get("/signup")
    async def signup_form(self, q: str | None = None, province: str | None = None) -> Template:
        return Template("contest/signup.html", context=await self._signup_context(q, province, {}, {}))

    @get("/signup/organisations")
    async def signup_orgs(self, q: str | None = None, province: str | None = None) -> Template:
        """htmx partial: the organisation choices for the search box."""
        ctx = await self._signup_context(q, province, {}, {})
        return Template("contest/_org_results.html", context=ctx)

    @post("/signup")
    async def signup(self, request: Request, data: Form) -> Template:
        form = {k: str(v) for k, v in data.items() if k != "password"}
        async def throttle(email: str) -> None:
            await _throttle_mail(request, email)

        try:
            await accounts.sign_up(email=data.get("email", ""), password=data.get("password", ""),
                                   name=data.get("name", ""), organisation_code=data.get("organisation_code", ""),
                                   language=request.scope["state"]["language"], throttle=throttle,
                                   notice_version=data.get("notice_version"))
        except ValidationFailed as exc:
            ctx = await self._signup_context(None, None, form, in_page_order(exc.errors, SIGNUP_ORDER))
            return Template("contest/signup.html", context=ctx, status_code=422)
        return message_page(t("Check your email"),
                        t("We sent a confirmation link to {email}. Open it to activate your account.",
                          email=form.get("email", "").strip().lower()),
                        t("The link works for 48 hours. If it does not arrive, check your spam folder."))

    @get("/account/confirm/{token:str}")
    async def confirm(self, token: str) -> Template:
        try:
            await accounts.confirm_email(token)
        except DomainError as exc:
            return message_page(t("This link cannot be used"), t(exc.message),
                            link=("/login", t("Log in")), status=exc.status_code)
        return message_page(t("Your email is confirmed"), t("You can now log in."), link=("/login", t("Log in")))

    @post("/account/resend")
    async def resend(self, request: Request, data: Form) -> Template:
        await _throttle_mail(request, data.get("email", ""))
        await accounts.resend_confirmation(data.get("email", ""))
        return message_page(t("Check your email"),
                        t("If this account still needs confirming, a new link is on its way."))

    @get("/login")
    async def login_form(self, request: Request, next: str | None = None) -> Template:
        message = None
        if request.scope["state"].get("session_invalid"):
            message = t("Your session has expired or is not valid. Please log in again.")
        return Template("contest/login.html", context={"form": {}, "errors": {}, "next": next, "message": message,
                                                       "digital_id": identities.enabled()})

    @post("/login")
    async def login(self, request: Request, data: Form) -> Template | Redirect:
        email = accounts.normalise_email(data.get("email", ""))
        ip = client_address(request.scope)
        ctx: dict[str, Any] = {"form": {"email": email}, "errors": {}, "next": data.get("next"),
                               "link": data.get("link"), "digital_id": identities.enabled()}
        try:
            await ratelimit.check_login_allowed(email, ip)
            actor = await accounts.authenticate(email, data.get("password", ""))
        except RateLimited as exc:
            return _wait_page("contest/login.html", ctx, exc)
        except NotAuthenticated as exc:
            return Template("contest/login.html", context={**ctx, "message": t(exc.message)}, status_code=401)
        except PermissionDenied as exc:
            return Template("contest/login.html", context={**ctx, "message": t(exc.message), "unconfirmed": True},
                            status_code=403)
        if actor.id is not None and await twofactor.is_enrolled(actor.id):
            # The password was right; the session starts only after the second factor.
            challenge = await accounts.start_second_step(actor.id)
            return Template("contest/login_otp.html", context={"challenge": challenge, "next": data.get("next"),
                                                                "link": data.get("link"), "errors": {}})
        await ratelimit.reset_login_failures(email, ip)
        return await signed_in(request, actor, data.get("next"), mfa=False, link=data.get("link") or None)

    @post("/login/otp")
    async def login_otp(self, request: Request, data: Form) -> Template | Redirect:
        """The second step: the code from the authenticator app, or a recovery code."""
        challenge = data.get("challenge", "")
        ip = client_address(request.scope)
        ctx: dict[str, Any] = {"challenge": challenge, "next": data.get("next"), "link": data.get("link"),
                               "errors": {}}
        email = await accounts.challenge_email(challenge)
        if email is None:
            return Template("contest/login.html", status_code=401, context={
                "form": {}, "errors": {}, "next": data.get("next"),
                "message": t("This sign-in has expired. Log in again.")})
        try:
            await ratelimit.check_login_allowed(email, ip)
            actor = await accounts.finish_second_step(challenge, data.get("otp", ""))
        except RateLimited as exc:
            return _wait_page("contest/login_otp.html", ctx, exc)
        except NotAuthenticated as exc:
            return Template("contest/login_otp.html", status_code=401,
                            context={**ctx, "errors": {"otp": t(exc.message)}, "message": t(exc.message)})
        await ratelimit.reset_login_failures(email, ip)
        return await signed_in(request, actor, data.get("next"), mfa=True, link=data.get("link") or None)

    @post("/logout")
    async def logout(self, request: Request) -> Redirect:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await accounts.revoke_token(token)
        return Redirect("/", status_code=303, cookies=[_session_cookie("", 0)])

    @get("/account/forgot")
    async def forgot_form(self) -> Template:
        return Template("contest/forgot.html")

    @post("/account/forgot")
    async def forgot(self, request: Request, data: Form) -> Template:
        await _throttle_mail(request, data.get("email", ""))
        await accounts.request_password_reset(data.get("email", ""))
        return message_page(t("Check your email"),
                        t("If an account exists for this address, we sent a link to choose a new password. "
                          "It works for 2 hours."))

    @get("/account/reset/{token:str}")
    async def reset_form(self, token: str) -> Template:
        return Template("contest/reset.html", context={"token": token, "errors": {}})

    @post("/account/reset/{token:str}")
    async def reset(self, token: str, data: Form) -> Template:
        try:
            await accounts.reset_password(token, data.get("password", ""))
        except ValidationFailed as exc:
            return Template("contest/reset.html", context={"token": token, "errors": exc.errors}, status_code=422)
        except DomainError as exc:
            return message_page(t("This link cannot be used"), t(exc.message),
                            link=("/account/forgot", t("Request a new link")), status=exc.status_code)
        return message_page(t("Your password is changed"), t("You can now log in with the new password."),
                        link=("/login", t("Log in")))

    async def _account_context(self, request: Request, errors: dict[str, str]) -> dict[str, Any]:
        actor = require_actor(request)
        user = current_user(request)
        sessions = await accounts.list_sessions(actor, current_token_id=user.token_id if user else None)
        me = await existing(User.select(User.name, User.email, User.role, User.organisation).where(User.id == actor.id))
        org = None
        if me["organisation"]:
            org = await Organisation.select().where(Organisation.id == me["organisation"]).first()
        role_label = {"admin": t("Administrator"), "reviewer": t("Committee member"),
                      "applicant": t("Organisation staff")}.get(me["role"], me["role"])
        return {"me": me, "org": org, "role_label": role_label, "errors": errors,
                "user": user, "sessions": sessions}

    @get("/account", guards=[login_required], opt=BEFORE_TWO_FACTOR)
    async def account(self, request: Request, signed_out: str | None = None) -> Template:
        ctx = await self._account_context(request, {})
        if signed_out:
            ctx["session_flash"] = t("That device is signed out.")
        return Template("contest/account.html", context=ctx)

    @post("/account/password", guards=[login_required], opt=BEFORE_TWO_FACTOR)
    async def change_password(self, request: Request, data: Form) -> Template:
        user = current_user(request)
        try:
            ended = await accounts.change_password(actor=require_actor(request),
                                                   current_password=data.get("current_password", ""),
                                                   new_password=data.get("new_password", ""),
                                                   keep_token_id=user.token_id if user else None)
        except ValidationFailed as exc:
            return Template("contest/account.html", context=await self._account_context(request, exc.errors),
                            status_code=422)
        ctx = await self._account_context(request, {})
        flash = t("Your password is changed.")
        if ended:
            flash += " " + t("{count} other sessions and tokens were signed out.", count=ended)
        return Template("contest/account.html", context={**ctx, "flash": flash})

    @post("/account/sessions/{token_id:int}/revoke", guards=[login_required], opt=BEFORE_TWO_FACTOR)
    async def revoke_session(self, request: Request, token_id: int) -> Redirect:
        await accounts.revoke_session(require_actor(request), token_id)
        return Redirect("/account?signed_out=1#sessions-h", status_code=303)
