"""Memberships of organisations: asking to join (with the authorisation letter), the queues of
admins and of verified members, approving, rejecting and removing. JSON API and pages."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contest.controllers.entries_api import (
    discard_unrecorded,
    is_multipart,
    receive_into_storage,
    require_form_token,
    upload_error_response,
)
from contest.domain import memberships
from contest.enums import MembershipState, Role
from contest.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from contest.guards import admin_required, login_required, require_actor
from contest.i18n import current_language, t
from contest.openapi import BEARER, UNSAFE, api
from contest.storage import get_storage
from contest.web import MULTIPART
from uploads.errors import UploadError
from uploads.serving import file_response
from uploads.storage import ObjectNotFound

log = logging.getLogger("contest.uploads")


class MembershipRead(msgspec.Struct, kw_only=True):
    id: int
    state: str
    user_email: str
    user_name: str
    organisation_code: str
    organisation_name_th: str
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    reason: str
    has_letter: bool
    letter_check_state: str


class DecisionIn(msgspec.Struct, kw_only=True):
    reason: str | None = None


LETTER_BODY = {
    "schema": {"type": "object", "required": ["letter"], "properties": {
        "letter": {"type": "string", "format": "binary",
                   "description": "The authorisation letter signed by the head of the organisation (PDF, "
                                  "at most 10 MB)."}}},
    "encoding": {"letter": {"contentType": "application/pdf"}},
}


def membership_read(m: dict[str, Any]) -> MembershipRead:
    return MembershipRead(id=m["id"], state=m["state"], user_email=m["user_email"], user_name=m["user_name"],
                          organisation_code=m["organisation_code"], organisation_name_th=m["organisation_name_th"],
                          requested_at=m["requested_at"], decided_at=m["decided_at"], decided_by=m["decided_by"],
                          reason=m["reason"], has_letter=m["has_letter"], letter_check_state=m["letter_check_state"])


async def receive_letter(request: Request, organisation_code: str) -> dict[str, Any]:
    """Stream the letter to storage, then record it with the request; nothing stays stored
    unless the membership holds it."""
    actor = require_actor(request)
    if actor.role != Role.applicant:
        raise PermissionDenied("Only organisation staff accounts can ask to join an organisation.",
                               code="applicant_only")
    storage, received = await receive_into_storage(
        request, "an authorisation letter", max_bytes=memberships.LETTER_MAX_BYTES, file_field="letter")
    try:
        require_form_token(request, received.fields)
        letter = memberships.Letter(name=received.filename, key=received.key, size=received.size,
                                    sha256=received.sha256, content_type=received.content_type)
        return await memberships.request_membership(
            actor=actor, organisation_code=received.fields.get("organisation_code") or organisation_code,
            letter=letter)
    except BaseException:
        await discard_unrecorded(storage, received.key, memberships.is_recorded_letter)
        raise


async def letter_response(request: Request, membership_id: int) -> Response:
    letter = await memberships.letter_for(require_actor(request), membership_id)
    try:
        return await file_response(get_storage(), letter.key, filename=letter.name or "letter.pdf",
                                   content_type="application/pdf", range_header=request.headers.get("range"),
                                   inline=True)
    except ObjectNotFound as exc:
        raise NotFound("No such letter.", code="letter_not_found") from exc


class MembershipApi(Controller):
    tags = ["memberships"]

    @post("/api/v1/organisations/{code:str}/membership-requests", operation_id="requestMembership",
          guards=[login_required], status_code=HTTP_201_CREATED, opt=MULTIPART,
          request_max_body_size=memberships.LETTER_MAX_BYTES + 64 * 1024,
          **api(*UNSAFE, 401, 403, 404, 409, 413, 415, 422, 503, 507, auth=BEARER, multipart=LETTER_BODY,
                reply=MembershipRead))
    async def request_membership(self, request: Request, code: str) -> MembershipRead | Response:
        """Ask to act for an organisation: multipart with field ``letter`` (the authorisation letter,
        PDF), or JSON ``{}`` when a verified member will vouch. A pending request may send its
        letter this way later."""
        if is_multipart(request):
            try:
                return membership_read(await receive_letter(request, code))
            except UploadError as exc:
                return upload_error_response(exc)
        body = await request.json() if await request.body() else {}
        if not isinstance(body, dict) or body:
            raise ValidationFailed(errors={"body": t("Send an empty object, or the letter as multipart.")})
        return membership_read(await memberships.request_membership(actor=require_actor(request),
                                                                    organisation_code=code))

    @get("/api/v1/memberships", operation_id="listMemberships", guards=[login_required],
         **api(401, 403, 422, auth=BEARER))
    async def index(self, request: Request,
                    membership_state: str | None = Parameter(query="state", default=None, required=False),
                    ) -> list[MembershipRead]:
        """Admins: every membership; a verified member: its organisation's. ``state`` filters."""
        return [membership_read(m) for m in
                await memberships.list_memberships(require_actor(request), state=membership_state)]

    @post("/api/v1/memberships/{membership_id:int}/approve", operation_id="approveMembership",
          guards=[login_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=DecisionIn, body_required=False))
    async def approve(self, request: Request, membership_id: int, data: dict[str, Any] | None = None
                      ) -> MembershipRead:
        reason = (data or {}).get("reason") if isinstance(data, dict) else None
        return membership_read(await memberships.approve(actor=require_actor(request), membership_id=membership_id,
                                                         reason=reason if isinstance(reason, str) else ""))

    @post("/api/v1/memberships/{membership_id:int}/reject", operation_id="rejectMembership",
          guards=[login_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=DecisionIn, body_required=False))
    async def reject(self, request: Request, membership_id: int, data: dict[str, Any] | None = None
                     ) -> MembershipRead:
        reason = (data or {}).get("reason") if isinstance(data, dict) else None
        return membership_read(await memberships.reject(actor=require_actor(request), membership_id=membership_id,
                                                        reason=reason if isinstance(reason, str) else ""))

    @delete("/api/v1/memberships/{membership_id:int}", operation_id="removeMembership", guards=[login_required],
            status_code=HTTP_200_OK, **api(*UNSAFE, 401, 403, 404, 409, auth=BEARER))
    async def remove(self, request: Request, membership_id: int) -> MembershipRead:
        return membership_read(await memberships.remove(actor=require_actor(request), membership_id=membership_id))

    @get("/api/v1/memberships/{membership_id:int}/letter", operation_id="getMembershipLetter",
         guards=[login_required], **api(401, 403, 404, 503, auth=BEARER))
    async def letter(self, request: Request, membership_id: int) -> Response:
        """The authorisation letter (PDF): for admins and for the person who sent it."""
        return await letter_response(request, membership_id)


def _flash_for(done: str | None) -> str | None:
    return {"approved": t("The member is approved."), "rejected": t("The request is rejected."),
            "removed": t("The member is removed.")}.get(done or "")


class MembershipPages(Controller):
    """``/account/membership`` for the person, ``/organisation/members`` for verified members,
    ``/admin/memberships`` for DGA admins."""

    include_in_schema = False

    async def _mine(self, request: Request, errors: dict[str, str], **extra: Any) -> Template:
        actor = require_actor(request)
        if actor.role != Role.applicant:
            raise PermissionDenied("This is for staff of a registered organisation.", code="applicant_only")
        mine = await memberships.my_membership(actor)
        return Template("contest/membership.html", status_code=extra.pop("status", 200),
                        context={"mine": mine, "errors": errors, **extra})

    @get("/account/membership", guards=[login_required])
    async def mine(self, request: Request, sent: bool = False) -> Template:
        return await self._mine(request, {}, flash=t("Your request is sent.") if sent else None)

    @post("/account/membership", guards=[login_required], opt=MULTIPART,
          request_max_body_size=memberships.LETTER_MAX_BYTES + 64 * 1024)
    async def ask(self, request: Request) -> Template | Redirect:
        """Ask to join (a plain form with the registry code) or send the letter (multipart)."""
        try:
            if is_multipart(request):
                await receive_letter(request, "")
            else:
                form = await request.form()
                await memberships.request_membership(actor=require_actor(request),
                                                     organisation_code=str(form.get("organisation_code", "")))
        except UploadError as exc:
            message = exc.message_en if current_language.get() == "en" else exc.message_th
            return await self._mine(request, {"letter": message}, status=exc.status_code)
        except ValidationFailed as exc:
            return await self._mine(request, exc.errors, status=422)
        except NotFound as exc:  # an unknown registry code: a mistake in the form
            return await self._mine(request, {"organisation_code": t(exc.message)}, status=422)
        except PermissionDenied:
            raise
        except DomainError as exc:
            return await self._mine(request, {"letter": t(exc.message, **exc.params)}, status=exc.status_code)
        return Redirect("/account/membership?sent=1", status_code=303)

    @get("/account/membership/{membership_id:int}/letter", guards=[login_required])
    async def my_letter(self, request: Request, membership_id: int) -> Response:
        return await letter_response(request, membership_id)

    async def _queue(self, request: Request, template_base: str, done: str | None) -> Template:
        actor = require_actor(request)
        rows = await memberships.list_memberships(actor)
        order = {MembershipState.pending: 0, MembershipState.verified: 1}
        rows.sort(key=lambda m: (order.get(m["state"], 2), m["requested_at"]))
        return Template("contest/memberships.html", context={
            "rows": rows, "admin_view": template_base == "admin", "flash": _flash_for(done),
            "me_id": actor.id})

    @get("/organisation/members", guards=[login_required])
    async def members(self, request: Request, done: str | None = None) -> Template:
        return await self._queue(request, "member", done)

    @get("/admin/memberships", guards=[admin_required])
    async def admin_queue(self, request: Request, done: str | None = None) -> Template:
        return await self._queue(request, "admin", done)

    @get("/admin/memberships/{membership_id:int}/letter", guards=[admin_required])
    async def admin_letter(self, request: Request, membership_id: int) -> Response:
        return await letter_response(request, membership_id)

    @post("/memberships/{membership_id:int}/{action:str}", guards=[login_required])
    async def decide(self, request: Request, membership_id: int, action: str) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        reason = str(form.get("reason", ""))
        functions = {"approve": memberships.approve, "reject": memberships.reject, "remove": memberships.remove}
        if action not in functions:
            raise NotFound("The page or item you asked for does not exist.")
        back = "/admin/memberships" if actor.role == Role.admin else "/organisation/members"
        try:
            await functions[action](actor=actor, membership_id=membership_id, reason=reason)
        except (ValidationFailed, DomainError) as exc:
            if isinstance(exc, (PermissionDenied, NotFound)):
                raise
            ctx = (await self._queue(request, "admin" if actor.role == Role.admin else "member", None)).context
            errors = getattr(exc, "errors", None) or {}
            message = t(exc.message, **exc.params)
            return Template("contest/memberships.html", status_code=exc.status_code,
                            context={**ctx, "error": message, "errors": errors, "error_id": membership_id})
        done = {"approve": "approved", "reject": "rejected", "remove": "removed"}[action]
        return Redirect(f"{back}?done={done}", status_code=303)
