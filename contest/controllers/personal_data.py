"""A person's own data (access, erasure requests) and the administrators' decisions on erasure:
JSON API and pages."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contest.confirmation import Confirmation, confirmation_page
from contest.domain import erasure, my_data
from contest.enums import ErasureState
from contest.errors import DomainError, NotFound, ValidationFailed
from contest.guards import admin_required, login_required, require_actor
from contest.i18n import t
from contest.openapi import BEARER, UNSAFE, api

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class ErasureRequestIn(msgspec.Struct, kw_only=True):
    reason: str | None = None


class ErasureDecisionIn(msgspec.Struct, kw_only=True):
    reason: str | None = None
    refusal_code: str | None = None


class ErasureRequestRead(msgspec.Struct, kw_only=True):
    id: int
    state: str
    reason: str
    created_at: datetime
    decided_at: datetime | None
    refusal_code: str
    decision_reason: str


def _text(data: Any, key: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def _json_default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class PersonalDataApi(Controller):
    tags = ["personal data"]

    @get("/api/v1/me/data", operation_id="getMyData", guards=[login_required], **api(401, auth=BEARER))
    async def my_data(self, request: Request) -> dict[str, Any]:
        """Everything held about the signed-in person: account, memberships, sessions, identities,
        entries written or as contact person, score sheets, erasure requests, audit events."""
        return await my_data.my_data(require_actor(request))

    @post("/api/v1/me/erasure-requests", operation_id="requestErasure", guards=[login_required],
          status_code=HTTP_201_CREATED,
          **api(*UNSAFE, 401, 409, 422, auth=BEARER, body=ErasureRequestIn, body_required=False))
    async def request_erasure(self, request: Request, data: dict[str, Any] | None = None) -> ErasureRequestRead:
        """Ask for one's data to be erased; 409 while a request is open, or (with the reason and a
        date) while the law lets the contest keep it."""
        row = await erasure.request_erasure(actor=require_actor(request), reason=_text(data, "reason"))
        return ErasureRequestRead(**row)

    @get("/api/v1/erasure-requests", operation_id="listErasureRequests", guards=[admin_required],
         **api(401, 403, auth=BEARER))
    async def index(self, request: Request,
                    request_state: str | None = Parameter(query="state", default=ErasureState.pending, required=False),
                    ) -> list[dict[str, Any]]:
        """Administrators: erasure requests (``state``: pending by default; empty for all)."""
        return await erasure.list_requests(actor=require_actor(request), state=request_state or None)

    @post("/api/v1/erasure-requests/{request_id:int}/approve", operation_id="approveErasure",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=ErasureDecisionIn, body_required=False))
    async def approve(self, request: Request, request_id: int, data: dict[str, Any] | None = None
                      ) -> ErasureRequestRead:
        """Erase: the person's identifying data becomes a pseudonym everywhere; they can no longer
        log in; scores, receipts and the audit chain still verify."""
        return ErasureRequestRead(**await erasure.approve(actor=require_actor(request), request_id=request_id,
                                                          reason=_text(data, "reason")))

    @post("/api/v1/erasure-requests/{request_id:int}/reject", operation_id="rejectErasure",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=ErasureDecisionIn))
    async def reject(self, request: Request, request_id: int, data: dict[str, Any] | None = None
                     ) -> ErasureRequestRead:
        """Keep the data, with a reason the person reads (``refusal_code``: running_contest or
        legal_retention)."""
        return ErasureRequestRead(**await erasure.reject(
            actor=require_actor(request), request_id=request_id,
            code=_text(data, "refusal_code") or "running_contest", reason=_text(data, "reason")))


class PersonalDataPages(Controller):
    include_in_schema = False

    @get("/account/data", guards=[login_required])
    async def page(self, request: Request, sent: int | None = None) -> Template:
        """ข้อมูลของท่าน: what is held, readable, with a JSON download and the erasure request."""
        return Template("contest/my_data.html", context={
            "data": await my_data.my_data(require_actor(request)), "errors": {}, "sent": bool(sent)})

    @get("/account/data/download", guards=[login_required])
    async def download(self, request: Request) -> Response[bytes]:
        body = json.dumps(await my_data.my_data(require_actor(request)), ensure_ascii=False, indent=1,
                          default=_json_default).encode()
        return Response(body, media_type="application/json", headers={
            "Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"})

    @post("/account/data/erasure", guards=[login_required])
    async def ask(self, request: Request, data: Form) -> Template | Redirect:
        actor = require_actor(request)
        try:
            await erasure.request_erasure(actor=actor, reason=_text(data, "reason"))
        except DomainError as exc:
            return Template("contest/my_data.html", status_code=exc.status_code, context={
                "data": await my_data.my_data(actor), "sent": False,
                "errors": {"reason": t(exc.message, **exc.params)}})
        return Redirect("/account/data?sent=1", status_code=303)


class ErasureAdminPages(Controller):
    path = "/admin/erasure-requests"
    guards = [admin_required]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request, done: str | None = None) -> Template:
        return Template("contest/admin/erasure_requests.html", context={
            "requests": await erasure.list_requests(actor=require_actor(request)), "errors": {},
            "reasons": erasure.REFUSAL_REASONS, "done": done})

    @post("/{request_id:int}")
    async def decide(self, request: Request, request_id: int, data: Form) -> Template | Redirect:
        actor = require_actor(request)
        if _text(data, "decision") == "approve" and _text(data, "confirmed") != "yes":
            return await self._confirm_erasure(actor, request_id, _text(data, "reason"))
        try:
            if _text(data, "decision") == "approve":
                await erasure.approve(actor=actor, request_id=request_id, reason=_text(data, "reason"))
            else:
                await erasure.reject(actor=actor, request_id=request_id, code=_text(data, "refusal_code"),
                                     reason=_text(data, "reason"))
        except ValidationFailed as exc:
            errors = {f"{k}-{request_id}": v for k, v in exc.errors.items()}
            return Template("contest/admin/erasure_requests.html", status_code=422, context={
                "requests": await erasure.list_requests(actor=actor), "errors": errors,
                "reasons": erasure.REFUSAL_REASONS, "done": None})
        return Redirect(f"/admin/erasure-requests?done={request_id}", status_code=303)

    async def _confirm_erasure(self, actor: Any, request_id: int, reason: str) -> Template:
        """Erasing cannot be undone: say whose data goes, and how, before it happens."""
        found = next((r for r in await erasure.list_requests(actor=actor) if r["id"] == request_id), None)
        if found is None:
            raise NotFound("No such request.", code="erasure_request_not_found")
        return confirmation_page(Confirmation(
            title=t("Erase this person's data?"),
            facts=[(t("Person"), f"{found['name']} <{found['email']}>")],
            happens=[t("Their name, email and phone are replaced by a pseudonym everywhere, their sign-in ends, "
                       "and they are told by email. Receipts and the audit trail keep their proof without the "
                       "person's details.")],
            cannot_undo=t("Erased data cannot be brought back."), danger=True,
            action=f"/admin/erasure-requests/{request_id}", confirm=t("Yes, erase the data"),
            cancel="/admin/erasure-requests", hidden={"decision": "approve", "reason": reason, "confirmed": "yes"},
            blocked=None if found["state"] == ErasureState.pending
            else t("This request was already decided: there is nothing to confirm.")))
