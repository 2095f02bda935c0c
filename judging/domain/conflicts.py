"""Declared conflicts of interest: a committee member's link to an organisation (they work or
worked there, advised it, are related to its staff). A member is never assigned the entries of an
organisation they have a conflict with, and declaring one takes them off that organisation's
entries they already hold, submitted reviews included.

Not to be confused with a tie in the ranking (``TieDecision``, ``judging.domain.shortlist``): a
conflict is about who may judge an entry, a tie about entries the scores left equal.

This module reads and writes only the conflicts and the assignments they recuse; it imports no
other judging domain module, so rounds, assignments and scoring can all build on it.
"""

from __future__ import annotations

from typing import Any

from contest import clock
from contest.domain.audit import Actor, append_event
from judging.enums import AssignmentState, AssignmentStates
from judging.tables import Assignment, ConflictOfInterest


async def recuse_live(*, actor: Actor, round_id: int, user_id: int, where: Any, reason: str) -> list[dict[str, Any]]:
    """Recuse a member's live assignments that match ``where`` (inside the caller's
    transaction), each audited. Returns every one, with the state it was in."""
    live = await Assignment.select(Assignment.id, Assignment.entry, Assignment.state).where(
        (Assignment.round == round_id) & (Assignment.reviewer == user_id)
        & Assignment.state.is_in(list(AssignmentStates.LIVE)) & where).order_by(Assignment.id)
    for a in live:
        await Assignment.update({Assignment.state: AssignmentState.recused,
                                 Assignment.recuse_reason: reason or "conflict", Assignment.updated_at: clock.now(),
                                 Assignment.version: Assignment.version + 1}
                                ).where(Assignment.id == a["id"])
        await append_event(actor=actor, action="assignment.recuse", subject_type="assignment", subject_id=a["id"],
                           before={"state": a["state"]}, after={"state": "recused", "reason": reason})
    return [{"assignment_id": a["id"], "entry_id": a["entry"], "reviewer_id": user_id, "previous_state": a["state"]}
            for a in live]


async def declare_conflict(*, actor: Actor, round_id: int, user_id: int, organisation_code: str,
                           reason: str) -> list[dict[str, Any]]:
    """Record a member's conflict of interest with an organisation (inside the caller's
    transaction). Every live assignment of that organisation's entries to the member becomes
    recused, submitted ones too (the conflict makes the member's review of that organisation
    unusable). Returns each assignment so recused, with the state it was in; the audit event
    (``round.tie`` in the audit trail) lists them."""
    key = f"{round_id}:{user_id}:{organisation_code}"
    new = not await ConflictOfInterest.exists().where(ConflictOfInterest.key == key)
    if new:
        await ConflictOfInterest.insert(ConflictOfInterest(
            key=key, round=round_id, user=user_id, organisation_code=organisation_code, reason=reason,
            declared_by=actor.id))
    recused = await recuse_live(actor=actor, round_id=round_id, user_id=user_id,
                                where=Assignment.entry._.organisation._.code == organisation_code, reason=reason)
    if new or recused:
        await append_event(actor=actor, action="round.tie", subject_type="round", subject_id=round_id,
                           after={"user": user_id, "organisation": organisation_code, "reason": reason,
                                  "recused": recused})
    return recused


async def conflicts_by_member(round_id: int) -> dict[int, list[dict[str, str]]]:
    """The round's declared conflicts, per member: ``{user id: [{organisation_code, reason}]}``
    in the order they were stored."""
    rows = await ConflictOfInterest.select(ConflictOfInterest.user, ConflictOfInterest.organisation_code,
                                           ConflictOfInterest.reason).where(ConflictOfInterest.round == round_id)
    by_user: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        by_user.setdefault(row["user"], []).append({"organisation_code": row["organisation_code"],
                                                   "reason": row["reason"]})
    return by_user
