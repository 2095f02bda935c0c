"""Four eyes on powers: what one administrator may only propose, and another must approve.

Creating an administrator, resetting another account's two-factor sign-in, moving an edition's
announcement time after screening opened, publishing a new version of the privacy notice and
setting who signs an edition's certificates are
not done when an administrator asks: they become a *pending action* (answered 202
``{pending_action_id}``), carried out only when a different administrator approves it
(``contest.domain.powers``). The operator's command line
acts as the system and is not asked twice.

This module only records proposals; it imports no other domain module, so the modules whose
powers need a second pair of eyes can propose without an import circle.
"""

from __future__ import annotations

from typing import Any

from contest.domain.audit import Actor, append_event
from contest.errors import DomainError
from contest.rules import is_admin_person
from contest.tables import PendingAction

CREATE_ADMIN = "create_admin"
RESET_TWO_FACTOR = "reset_two_factor"
MOVE_ANNOUNCEMENT = "move_announcement"
PUBLISH_NOTICE = "publish_notice"
CERTIFICATE_SIGNATORY = "certificate_signatory"
KINDS = (CREATE_ADMIN, RESET_TWO_FACTOR, MOVE_ANNOUNCEMENT, PUBLISH_NOTICE, CERTIFICATE_SIGNATORY)


class Proposed(DomainError):
    """Not done yet: proposed, waiting for a second administrator (202 with its id)."""

    status_code = 202
    code = "pending_approval"

    def __init__(self, pending_action_id: int) -> None:
        super().__init__("Proposed. Another administrator must approve it before it takes effect.",
                         pending_action_id=pending_action_id)
        self.pending_action_id = pending_action_id


def needs_second_admin(actor: Actor) -> bool:
    """A person (not the operator's command line or a job) asks for a power."""
    return is_admin_person(actor)


async def propose(actor: Actor, kind: str, payload: dict[str, Any], *,
                  private: dict[str, Any] | None = None) -> int:
    """Inside the caller's transaction: record the proposal and audit it. ``private`` holds what
    approval needs but nobody may read back (a password hash)."""
    assert kind in KINDS, kind
    rows = await PendingAction.insert(PendingAction(kind=kind, proposed_by=actor.id, payload=payload,
                                                    private=private or {})).returning(PendingAction.id)
    pending_id = int(rows[0]["id"])
    await append_event(actor=actor, action="pending_action.propose", subject_type="pending_action",
                       subject_id=pending_id, after={"kind": kind, "payload": payload})
    return pending_id
