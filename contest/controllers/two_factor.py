"""Setting up two-factor sign-in (``/account/two-factor``): the QR code, the first code, the
recovery codes; new recovery codes; turning it off where the role allows."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from contest.domain import twofactor
from contest.errors import ValidationFailed
from contest.guards import BEFORE_TWO_FACTOR, current_user, login_required, require_actor
from contest.web import same_site_path

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _next(value: str | None) -> str:
    path = same_site_path(value or "")
    return path if path.startswith("/") and not path.startswith("//") else "/account"


class TwoFactorPages(Controller):
    path = "/account/two-factor"
    include_in_schema = False
    guards = [login_required]
    opt = BEFORE_TWO_FACTOR

    async def _page(self, request: Request, errors: dict[str, str], *, next_path: str | None = None,
                    codes: list[str] | None = None, status: int = 200) -> Template:
        actor = require_actor(request)
        assert actor.id is not None
        enrolled = await twofactor.is_enrolled(actor.id)
        user = current_user(request)
        ctx: dict[str, Any] = {
            "errors": errors, "codes": codes, "enrolled": enrolled, "next": _next(next_path),
            "required_now": twofactor.required_for(actor.role) and not (user and user.mfa),
            "can_turn_off": not twofactor.required_for(actor.role),
        }
        if enrolled:
            ctx["codes_left"] = await twofactor.recovery_codes_left(actor.id)
        elif not codes:
            ctx["enrolment"] = await twofactor.start_enrolment(actor)
        return Template("contest/two_factor.html", context=ctx, status_code=status)

    @get("/")
    async def show(self, request: Request, next: str | None = None) -> Template:
        return await self._page(request, {}, next_path=next)

    @post("/")
    async def confirm(self, request: Request, data: Form) -> Template:
        user = current_user(request)
        try:
            codes = await twofactor.confirm_enrolment(require_actor(request), data.get("code", ""),
                                                      token_id=user.token_id if user else None)
        except ValidationFailed as exc:
            return await self._page(request, exc.errors, next_path=data.get("next"), status=422)
        return await self._page(request, {}, next_path=data.get("next"), codes=codes)

    @post("/recovery-codes")
    async def recovery_codes(self, request: Request, data: Form) -> Template:
        try:
            codes = await twofactor.new_recovery_codes(require_actor(request), data.get("code", ""))
        except ValidationFailed as exc:
            return await self._page(request, exc.errors, status=422)
        return await self._page(request, {}, codes=codes)

    @post("/off")
    async def off(self, request: Request, data: Form) -> Template:
        try:
            await twofactor.turn_off(require_actor(request), data.get("off_code", ""))
        except ValidationFailed as exc:
            return await self._page(request, {"off_code": exc.errors.get("code", "")}, status=422)
        return await self._page(request, {})
