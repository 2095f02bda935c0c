"""Permission predicates ``(actor, obj) -> bool``: used by guards and checked again in the domain."""

from __future__ import annotations

from typing import Any

from contest.domain.audit import Actor
from contest.errors import PermissionDenied


def is_admin(actor: Actor | None) -> bool:
    return actor is not None and actor.role == "admin"


def is_organiser(actor: Actor | None) -> bool:
    """Acts for DGA, the organiser: an administrator, or the system itself (the CLI, jobs, the
    demo loader)."""
    return actor is not None and actor.role in ("admin", "system")


def require_organiser(actor: Actor | None, message: str = "This is for contest administrators only.") -> None:
    """Refuse (403 ``admin_only``) anyone who does not act for the organiser."""
    if not is_organiser(actor):
        raise PermissionDenied(message, code="admin_only")


def is_reviewer(actor: Actor | None) -> bool:
    return actor is not None and actor.role == "reviewer"


def is_applicant(actor: Actor | None) -> bool:
    return actor is not None and actor.role == "applicant" and actor.organisation_id is not None


def can_manage_editions(actor: Actor | None, _edition: Any = None) -> bool:
    return is_organiser(actor)


def can_manage_users(actor: Actor | None, _user: Any = None) -> bool:
    return is_organiser(actor)
