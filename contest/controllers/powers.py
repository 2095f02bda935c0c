"""Four eyes: the pending actions one administrator proposed and another approves (JSON API and
the admin page), and the proposal to reset another account's two-factor sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from contest.confirmation import Confirmation, confirmation_page
from contest.domain import accounts, powers
from contest.domain.proposals import Proposed
from contest.enums import PendingActionState, PendingActionStates
from contest.errors import DomainError, NotFound, PermissionDenied
from contest.guards import admin_required, require_actor
from contest.i18n import format_date, t
from contest.openapi import BEARER, UNSAFE, api

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class PendingActionRead(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    state: str
    proposed_by: str
    payload: dict[str, Any]
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str


class ProposedRead(msgspec.Struct, kw_only=True):
    pending_action_id: int


class RejectIn(msgspec.Struct, kw_only=True):
    reason: str | None = None


def pending_read(row: dict[str, Any]) -> PendingActionRead:
    return PendingActionRead(**row)


class PendingActionApi(Controller):
    path = "/api/v1"
    tags = ["four eyes"]
    guards = [admin_required]

    @get("/pending-actions", operation_id="listPendingActions", **api(401, 403, auth=BEARER))
    async def index(self, request: Request) -> list[PendingActionRead]:
        """What one administrator proposed and another must approve, newest first."""
        return [pending_read(r) for r in await powers.list_pending(require_actor(request))]

    @post("/pending-actions/{pending_id:int}/approve", operation_id="approvePendingAction", status_code=HTTP_200_OK,
          **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER))
    async def approve(self, request: Request, pending_id: int) -> PendingActionRead:
        """Carry it out: by an administrator other than the proposer (403 ``own_proposal``)."""
        return pending_read(await powers.approve(actor=require_actor(request), pending_id=pending_id))

    @post("/pending-actions/{pending_id:int}/reject", operation_id="rejectPendingAction", status_code=HTTP_200_OK,
          **api(*UNSAFE, 401, 403, 404, 409, auth=BEARER, body=RejectIn, body_required=False))
    async def reject(self, request: Request, pending_id: int, data: dict[str, Any] | None = None) -> PendingActionRead:
        """Drop it (the proposer may withdraw their own)."""
        reason = (data or {}).get("reason") if isinstance(data, dict) else None
        return pending_read(await powers.reject(actor=require_actor(request), pending_id=pending_id,
                                                reason=reason if isinstance(reason, str) else ""))

    @post("/users/{user_id:int}/two-factor/reset", operation_id="resetTwoFactor", status_code=HTTP_202_ACCEPTED,
          **api(*UNSAFE, 401, 403, 404, 409, auth=BEARER, reply=ProposedRead))
    async def reset_two_factor(self, request: Request, user_id: int) -> dict[str, Any]:
        """Propose to reset another account's two-factor sign-in (lost phone): a second
        administrator approves, then the person sets it up again at the next log-in."""
        try:
            await accounts.reset_two_factor(actor=require_actor(request), user_id=user_id)
        except Proposed as proposed:
            return {"pending_action_id": proposed.pending_action_id}
        raise NotFound("No such account.")  # pragma: no cover - an admin always proposes


def describe(action: dict[str, Any]) -> str:
    """A pending action in a sentence, as the pages show it."""
    payload, kind = action["payload"], action["kind"]
    if kind == "create_admin":
        return t("Create the administrator {email}", email=payload.get("email"))
    if kind == "reset_two_factor":
        return t("Reset the two-factor sign-in of {email}", email=payload.get("email"))
    if kind == "move_announcement":
        return t("Move the announcement of {year} to {when}", year=payload.get("year"),
                 when=format_date(payload.get("announcement_at")))
    if kind == "publish_notice":
        return t("Publish a new version of the privacy notice")
    if kind == "certificate_signatory":
        return t("Set who signs the certificates of {year}: {name}, {position}", year=payload.get("year"),
                 name=payload.get("signatory_name"), position=payload.get("position_th"))
    return str(kind)


class PendingActionPages(Controller):
    path = "/admin/pending-actions"
    include_in_schema = False
    guards = [admin_required]

    async def _page(self, request: Request, *, flash: str | None = None, error: str | None = None,
                    status: int = 200) -> Template:
        actor = require_actor(request)
        rows = await powers.list_pending(actor, state=None)
        return Template("contest/admin/pending_actions.html", status_code=status, context={
            "rows": rows, "me": actor.email, "flash": flash, "error": error, "describe": describe})

    @get("/")
    async def index(self, request: Request, done: str | None = None) -> Template:
        flashes: dict[str, str] = {PendingActionState.approved: t("Approved and carried out."),
                                   PendingActionState.rejected: t("Rejected.")}
        flash = flashes.get(done or "")
        return await self._page(request, flash=flash)

    @post("/{pending_id:int}/{decision:str}")
    async def decide(self, request: Request, pending_id: int, decision: str, data: Form) -> Template | Redirect:
        actor = require_actor(request)
        try:
            if decision == "approve" and data.get("confirmed") != "yes":
                return await self._confirm_approval(actor, pending_id)
            if decision == "approve":
                await powers.approve(actor=actor, pending_id=pending_id)
            elif decision == "reject":
                await powers.reject(actor=actor, pending_id=pending_id, reason=data.get("reason", ""))
            else:
                raise NotFound("The page or item you asked for does not exist.")
        except (NotFound, PermissionDenied):
            raise
        except DomainError as exc:
            return await self._page(request, error=t(exc.message, **exc.params), status=exc.status_code)
        done = {"approve": PendingActionState.approved, "reject": PendingActionState.rejected}[decision]
        return Redirect(f"/admin/pending-actions?done={done}", status_code=303)

    async def _confirm_approval(self, actor: Any, pending_id: int) -> Template:
        """Approving carries the action out at once: say what it is first."""
        action = next((a for a in await powers.list_pending(actor, state=None) if a["id"] == pending_id), None)
        if action is None:
            raise NotFound("The page or item you asked for does not exist.")
        blocked = None
        if action["state"] in PendingActionStates.DECIDED:
            blocked = t("This action was already decided: there is nothing to confirm.")
        elif action["proposed_by"] == actor.email:
            blocked = t("You proposed this action: another administrator approves it.")
        return confirmation_page(Confirmation(
            title=t("Approve this action?"),
            facts=[(t("Action"), describe(action)), (t("Proposed by"), str(action["proposed_by"]))],
            happens=[t("It is carried out as soon as you approve, and the audit trail records you as its second "
                       "administrator.")],
            cannot_undo=t("An approved action cannot be taken back from this page."),
            action=f"/admin/pending-actions/{pending_id}/approve", confirm=t("Yes, approve and carry it out"),
            cancel="/admin/pending-actions", hidden={"confirmed": "yes"}, blocked=blocked))
