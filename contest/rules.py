"""Permission predicates ``(actor, obj) -> bool``: used by guards and checked again in the domain."""

from __future__ import annotations

from typing import Any

from contest.domain.audit import Actor


def is_admin(actor: Actor | None) -> bool:
    return actor is not None and actor.role == "admin"


def is_reviewer(actor: Actor | None) -> bool:
    return actor is not None and actor.role == "reviewer"


def is_applicant(actor: Actor | None) -> bool:
    return actor is not None and actor.role == "applicant" and actor.organisation_id is not None


def can_manage_editions(actor: Actor | None, _edition: Any = None) -> bool:
    return is_admin(actor) or (actor is not None and actor.role == "system")


def can_manage_users(actor: Actor | None, _user: Any = None) -> bool:
    return is_admin(actor) or (actor is not None and actor.role == "system")
