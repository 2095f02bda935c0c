"""The privacy notice: the public page with its versions, accepting a newer version (the page a
signed-in person is led to, and the API), and proposing a new version (administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from contest.controllers.pages import safe_next
from contest.domain import notices
from contest.domain.proposals import Proposed
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.guards import BEFORE_NOTICE, admin_required, login_required, require_actor
from contest.i18n import t
from contest.openapi import BEARER, UNSAFE, api

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
_d = msgspec.Meta


class NoticeRead(msgspec.Struct, kw_only=True):
    version: Annotated[int, _d(description="The version number (1, 2, ...); the highest is in force.")]
    text_th: str
    text_en: str
    published_at: datetime


class NoticeVersionRead(msgspec.Struct, kw_only=True):
    version: int
    published_at: datetime


class NoticeAcceptanceIn(msgspec.Struct, kw_only=True):
    version: Annotated[int, _d(description="The version in force, as read from GET /api/v1/privacy-notice.")]


class NoticeAcceptanceRead(msgspec.Struct, kw_only=True):
    version: int
    accepted_at: datetime


class NoticeProposalIn(msgspec.Struct, kw_only=True):
    text_th: Annotated[str, _d(description="The notice in Thai; paragraphs separated by a blank line.")]
    text_en: Annotated[str, _d(description="The notice in English; paragraphs separated by a blank line.")]


class ProposedNoticeRead(msgspec.Struct, kw_only=True):
    pending_action_id: int


def notice_read(row: dict[str, Any]) -> NoticeRead:
    return NoticeRead(version=row["version"], text_th=row["text_th"], text_en=row["text_en"],
                      published_at=row["published_at"])


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "paragraphs_th": notices.paragraphs(row["text_th"]),
            "paragraphs_en": notices.paragraphs(row["text_en"])}


class NoticePages(Controller):
    include_in_schema = False

    @get("/privacy")
    async def privacy(self) -> Template:
        row = await notices.current()
        return Template("contest/privacy.html", context={
            "notice": _view(row) if row else None, "versions": await notices.list_versions(), "is_current": True})

    @get("/privacy/{version:int}")
    async def privacy_version(self, version: int) -> Template:
        row = await notices.get_version(version)
        current = await notices.current_version()
        return Template("contest/privacy.html", context={
            "notice": _view(row), "versions": await notices.list_versions(), "is_current": version == current})

    async def _accept_page(self, request: Request, next_path: str | None, *, message: str | None = None,
                           status: int = 200) -> Template:
        require_actor(request)
        row = await notices.current()
        return Template("contest/notice_accept.html", status_code=status, context={
            "notice": _view(row) if row else None, "next": safe_next(next_path), "message": message})

    @get("/account/privacy-notice", guards=[login_required], opt=BEFORE_NOTICE)
    async def accept_form(self, request: Request, next: str | None = None) -> Template:
        return await self._accept_page(request, next)

    @post("/account/privacy-notice", guards=[login_required], opt=BEFORE_NOTICE)
    async def accept(self, request: Request, data: Form) -> Template | Redirect:
        try:
            await notices.accept(actor=require_actor(request), version=data.get("version"), how="page")
        except (Conflict, ValidationFailed) as exc:
            return await self._accept_page(request, data.get("next"), message=t(exc.message, **exc.params),
                                           status=exc.status_code)
        return Redirect(safe_next(data.get("next")), status_code=303)

    @get("/admin/privacy-notice", guards=[admin_required])
    async def admin_form(self, request: Request) -> Template:
        row = await notices.current()
        return Template("contest/admin/privacy_notice.html", context={
            "notice": row, "form": {"text_th": row["text_th"], "text_en": row["text_en"]} if row else {},
            "errors": {}, "flash": None})

    @post("/admin/privacy-notice", guards=[admin_required])
    async def admin_propose(self, request: Request, data: Form) -> Template:
        row = await notices.current()
        form = {"text_th": data.get("text_th", ""), "text_en": data.get("text_en", "")}
        try:
            await notices.propose_version(actor=require_actor(request), text_th=form["text_th"],
                                          text_en=form["text_en"])
        except ValidationFailed as exc:
            return Template("contest/admin/privacy_notice.html", status_code=422, context={
                "notice": row, "form": form, "errors": exc.errors, "flash": None})
        except Proposed:
            return Template("contest/admin/privacy_notice.html", status_code=202, context={
                "notice": row, "form": form, "errors": {}, "flash": t(
                    "Proposed: another administrator must approve the new privacy notice under Pending actions.")})
        return Template("contest/admin/privacy_notice.html", context={  # pragma: no cover - admins only propose
            "notice": await notices.current(), "form": form, "errors": {}, "flash": None})


class NoticeApi(Controller):
    path = "/api/v1"
    tags = ["privacy"]

    @get("/privacy-notice", operation_id="getPrivacyNotice", **api(404))
    async def current(self) -> NoticeRead:
        """The privacy notice in force, in Thai and English."""
        row = await notices.current()
        if row is None:
            raise NotFound("No privacy notice is published.", code="notice_not_found")
        return notice_read(row)

    @get("/privacy-notice/versions", operation_id="listPrivacyNoticeVersions", **api())
    async def versions(self) -> list[NoticeVersionRead]:
        """Every version of the privacy notice, newest first."""
        return [NoticeVersionRead(version=r["version"], published_at=r["published_at"])
                for r in await notices.list_versions()]

    @get("/privacy-notice/versions/{version:int}", operation_id="getPrivacyNoticeVersion", **api(404))
    async def version(self, version: int) -> NoticeRead:
        """One version of the privacy notice, current or earlier."""
        return notice_read(await notices.get_version(version))

    @post("/privacy-notice", operation_id="proposePrivacyNotice", status_code=HTTP_202_ACCEPTED,
          guards=[admin_required], **api(*UNSAFE, 401, 403, 409, 422, auth=BEARER, reply=ProposedNoticeRead))
    async def propose(self, request: Request, data: NoticeProposalIn) -> dict[str, Any]:
        """Propose a new version of the notice: another administrator approves it under the pending
        actions, and it is then in force; everyone accepts it at their next request."""
        try:
            await notices.propose_version(actor=require_actor(request), text_th=data.text_th, text_en=data.text_en)
        except Proposed as proposed:
            return {"pending_action_id": proposed.pending_action_id}
        raise Conflict("Nothing was proposed.")  # pragma: no cover - an admin always proposes

    @post("/me/notice-acceptance", operation_id="acceptPrivacyNotice", status_code=HTTP_200_OK,
          guards=[login_required], opt=BEFORE_NOTICE, **api(*UNSAFE, 401, 404, 409, 422, auth=BEARER))
    async def accept(self, request: Request, data: NoticeAcceptanceIn) -> NoticeAcceptanceRead:
        """Accept the privacy notice in force (409 ``notice_changed`` for another version). Until a
        newer version is accepted, the other routes answer 403 ``notice_acceptance_required`` with
        its ``version``."""
        row = await notices.accept(actor=require_actor(request), version=data.version, how="api")
        return NoticeAcceptanceRead(version=row["version"], accepted_at=row["accepted_at"])
