"""Approving or rejecting what another administrator proposed (see ``contest.domain.proposals``).

The approver must be an administrator other than the proposer. Approval carries the action out
in the same transaction as the decision, attributed to the approver, with both names audited.
"""

from __future__ import annotations

from typing import Any

from contest import clock
from contest.db import atomic, lock_row, stored_json
from contest.domain import accounts, editions, notices, proposals, signatories, twofactor
from contest.domain.audit import Actor, append_event
from contest.enums import PendingActionState, PendingActionStates
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import t
from contest.rules import is_admin_person
from contest.tables import PendingAction, User


def _require_admin_person(actor: Actor) -> None:
    if not is_admin_person(actor):
        raise PermissionDenied("Only administrators can decide pending actions.", code="admin_only")


def _view(row: dict[str, Any], emails: dict[int, str]) -> dict[str, Any]:
    return {"id": row["id"], "kind": row["kind"], "state": row["state"], "payload": stored_json(row["payload"], {}),
            "proposed_by": emails.get(row["proposed_by"], ""), "created_at": row["created_at"],
            "decided_by": emails.get(row["decided_by"]) if row["decided_by"] else None,
            "decided_at": row["decided_at"], "reason": row["reason"]}


async def _views(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = sorted({r["proposed_by"] for r in rows} | {r["decided_by"] for r in rows if r["decided_by"]})
    emails = {u["id"]: u["email"] for u in await User.select(User.id, User.email).where(User.id.is_in(ids))} \
        if ids else {}
    return [_view(r, emails) for r in rows]


async def list_pending(actor: Actor, *, state: str | None = PendingActionState.pending) -> list[dict[str, Any]]:
    _require_admin_person(actor)
    query = PendingAction.select().order_by(PendingAction.id, ascending=False).limit(500)
    if state:
        query = query.where(PendingAction.state == state)
    return await _views(await query)


async def get_action(actor: Actor, pending_id: int) -> dict[str, Any]:
    _require_admin_person(actor)
    row = await PendingAction.select().where(PendingAction.id == pending_id).first()
    if row is None:
        raise NotFound("No such pending action.", code="pending_action_not_found")
    return (await _views([row]))[0]


async def _locked_pending(actor: Actor, pending_id: int) -> dict[str, Any]:
    """Inside the caller's transaction: the pending action, locked, still waiting."""
    _require_admin_person(actor)
    await lock_row("pending_action", pending_id)
    row = await PendingAction.select().where(PendingAction.id == pending_id).first()
    if row is None:
        raise NotFound("No such pending action.", code="pending_action_not_found")
    if row["state"] in PendingActionStates.DECIDED:
        raise Conflict("This action was already decided.", code="pending_action_decided")
    return row


async def _decidable(actor: Actor, pending_id: int) -> dict[str, Any]:
    """As ``_locked_pending``, and the approver is not the proposer."""
    row = await _locked_pending(actor, pending_id)
    if row["proposed_by"] == actor.id:
        raise PermissionDenied("Another administrator must approve what you proposed.", code="own_proposal")
    return row


async def _carry_out(approver: Actor, row: dict[str, Any]) -> dict[str, Any]:
    payload, private = stored_json(row["payload"], {}), stored_json(row["private"], {})
    if row["kind"] == proposals.CREATE_ADMIN:
        user_id = await accounts.create_admin_approved(
            actor=approver, email=payload["email"], name=payload.get("name", ""),
            password_hash=private["password_hash"])
        return {"user_id": user_id}
    if row["kind"] == proposals.RESET_TWO_FACTOR:
        await twofactor.clear(payload["user_id"])
        await append_event(actor=approver, action="user.two_factor_reset", subject_type="user",
                           subject_id=payload["user_id"], after={"pending_action_id": row["id"]})
        return {"user_id": payload["user_id"]}
    if row["kind"] == proposals.MOVE_ANNOUNCEMENT:
        when = clock.parse_time(payload["announcement_at"])
        if when is None:  # pragma: no cover - stored by the domain in ISO form
            raise ValidationFailed(errors={"announcement_at": t("Enter a valid date and time.")})
        await editions.move_announcement_approved(actor=approver, year=payload["year"], announcement_at=when)
        return {"year": payload["year"]}
    if row["kind"] == proposals.PUBLISH_NOTICE:
        version = await notices.publish_approved(actor=approver, text_th=payload["text_th"],
                                                 text_en=payload["text_en"], replaces=payload.get("replaces"),
                                                 proposed_by=row["proposed_by"])
        return {"version": version}
    if row["kind"] == proposals.CERTIFICATE_SIGNATORY:
        return await signatories.approve_proposed(actor=approver, payload=payload)
    raise Conflict("Unknown kind of action.", code="unknown_action")  # pragma: no cover


async def approve(*, actor: Actor, pending_id: int) -> dict[str, Any]:
    """A second administrator approves: the action is carried out now."""
    async with atomic():
        row = await _decidable(actor, pending_id)
        result = await _carry_out(actor, row)
        await PendingAction.update({PendingAction.state: PendingActionState.approved,
                                    PendingAction.decided_by: actor.id, PendingAction.decided_at: clock.now()}
                                   ).where(PendingAction.id == pending_id)
        await append_event(actor=actor, action="pending_action.approve", subject_type="pending_action",
                           subject_id=pending_id, after={"kind": row["kind"], "proposed_by": row["proposed_by"],
                                                         "result": result})
    return await get_action(actor, pending_id)


async def reject(*, actor: Actor, pending_id: int, reason: str = "") -> dict[str, Any]:
    """A second administrator turns it down (the proposer may withdraw it the same way)."""
    async with atomic():
        row = await _locked_pending(actor, pending_id)
        await PendingAction.update({PendingAction.state: PendingActionState.rejected,
                                    PendingAction.decided_by: actor.id, PendingAction.decided_at: clock.now(),
                                    PendingAction.reason: (reason or "")[:2000]}).where(PendingAction.id == pending_id)
        await append_event(actor=actor, action="pending_action.reject", subject_type="pending_action",
                           subject_id=pending_id, after={"kind": row["kind"], "reason": reason})
    return await get_action(actor, pending_id)
