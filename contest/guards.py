"""Route guards built on the permission predicates in ``rules.py``.

The domain checks permissions again; guards only give the caller the right status early.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from contest.domain import twofactor
from contest.domain.accounts import TokenUser
from contest.domain.audit import Actor
from contest.domain.notices import NoticeAcceptanceRequired
from contest.enums import Role
from contest.errors import NotAuthenticated, PermissionDenied, TwoFactorRequired
from contest.rules import refuse_any_pending


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> TokenUser | None:
    return connection.scope.get("state", {}).get("user")


def current_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    user = current_user(connection)
    return user.actor if user else None


def require_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    actor = current_actor(connection)
    if actor is None:
        state = connection.scope.get("state", {})
        if state.get("auth_error"):
            raise NotAuthenticated("The access token is invalid, expired or revoked.", code="invalid_token")
        if state.get("session_invalid"):
            raise NotAuthenticated("Your session has expired or is not valid. Please log in again.",
                                   code="session_invalid")
        raise NotAuthenticated("Please log in first.")
    user = current_user(connection)
    if user is not None and not user.mfa and twofactor.required_for(actor.role) and not _before_two_factor(connection):
        raise TwoFactorRequired("Your role needs two-factor sign-in: set it up, or log in again with your code.")
    if user is not None and user.notice_due is not None and not _route_opt(connection, "before_notice") \
            and not _before_two_factor(connection):
        raise NoticeAcceptanceRequired("A new version of the privacy notice was published. Read it and accept it "
                                       "to go on.", version=user.notice_due)
    return actor


#: Route option of the few routes an account whose role needs two-factor sign-in may use before
#: it has signed in with it: its account page, setting two-factor up, logging out.
BEFORE_TWO_FACTOR = {"before_two_factor": True}
#: Route option of the routes a person may use before accepting a newer privacy notice: reading
#: and accepting it (and the routes open before two-factor sign-in: the account page, logging out).
BEFORE_NOTICE = {"before_notice": True}


def _route_opt(connection: ASGIConnection[Any, Any, Any, Any], name: str) -> bool:
    handler = connection.scope.get("route_handler")
    opt = getattr(handler, "opt", None) or {}
    return bool(opt.get(name))


def _before_two_factor(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return _route_opt(connection, "before_two_factor")


async def login_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    require_actor(connection)


async def admin_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if require_actor(connection).role != Role.admin:
        raise PermissionDenied("This page is for contest administrators only.", code="admin_only")


async def applicant_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    actor = require_actor(connection)
    refuse_any_pending(actor)
    if actor.role != Role.applicant or actor.organisation_id is None:
        raise PermissionDenied("This is for staff of a registered organisation.", code="applicant_only")


async def reviewer_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if require_actor(connection).role not in (Role.reviewer, Role.admin):
        raise PermissionDenied("This is for committee members only.", code="reviewer_only")
