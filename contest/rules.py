"""Permission predicates ``(actor, obj) -> bool``: used by guards and checked again in the domain."""

from __future__ import annotations

from typing import Any

from contest.domain.audit import Actor
from contest.enums import Role
from contest.errors import PermissionDenied


def is_admin(actor: Actor | None) -> bool:
    return actor is not None and actor.role == Role.admin


def is_organiser(actor: Actor | None) -> bool:
    """Acts for DGA, the organiser: an administrator, or the system itself (the CLI, jobs, the
    demo loader)."""
    return actor is not None and actor.role in ("admin", "system")


def is_admin_person(actor: Actor | None) -> bool:
    """An administrator signed in as a person (not the operator's command line or a job): who may
    sign, decide another administrator's proposal or need a second administrator."""
    return actor is not None and actor.id is not None and actor.role == Role.admin


def require_organiser(actor: Actor | None, message: str = "This is for contest administrators only.") -> None:
    """Refuse (403 ``admin_only``) anyone who does not act for the organiser."""
    if not is_organiser(actor):
        raise PermissionDenied(message, code="admin_only")


def can_manage_editions(actor: Actor | None, _edition: Any = None) -> bool:
    return is_organiser(actor)


def can_manage_users(actor: Actor | None, _user: Any = None) -> bool:
    return is_organiser(actor)


def refuse_pending_member(actor: Actor | None, organisation_id: int | None) -> None:
    """An account whose membership is not yet verified is told so (403 ``membership_pending``)
    on its organisation's entries, instead of the "not found" a stranger gets. It sees none of
    them either way. ``organisation_id`` None (no such entry): nothing to refuse."""
    if organisation_id is not None and actor is not None and actor.role == Role.applicant \
            and actor.pending_organisation_id == organisation_id:
        raise_membership_pending()


def raise_membership_pending() -> None:
    raise PermissionDenied("Your membership of this organisation is waiting for approval. A verified "
                           "member of the organisation or a DGA administrator must approve it first.",
                           code="membership_pending")


def refuse_any_pending(actor: Actor | None) -> None:
    """Acting for an organisation at all (creating an entry, listing its entries) needs a
    verified membership."""
    if actor is not None and actor.role == Role.applicant and actor.pending_organisation_id is not None:
        raise_membership_pending()
