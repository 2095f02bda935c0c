"""The judging overview and a round's own tab: each edition's rounds, then one round's state with
opening (which freezes its rules), assigning reviewers and closing."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from contest.domain import outcomes
from contest.errors import Conflict, DomainError, ValidationFailed
from contest.guards import require_actor
from judging.controllers.admin.shared import HELPERS, AdminPages, Form, done_message, reads, redirect
from judging.controllers.labels import error_text
from judging.domain import admin_views, assignments, rounds


class RoundPages(AdminPages):
    """The overview of every edition's rounds, and one round's state and its three actions."""

    @get("/")
    async def index(self, done: str | None = None, n: int | None = None) -> Template:
        async with admin_views.reading():
            editions = await admin_views.judging_overview()
        return Template("judging/admin/index.html", context={
            "editions": editions, "flash": done_message(done, n), **HELPERS})

    @reads
    async def _round_page(self, round_id: int, status: int = 200, **extra: Any) -> Template:
        view = await rounds.get_round(round_id)
        pending = 0
        if view.kind == "screening" and view.state == "draft":
            pending = await outcomes.count_in_state(view.edition_id, "submitted")
        return Template("judging/admin/round.html", status_code=status, context={
            "round": view, "tab": "overview", "pending_eligibility": pending, **HELPERS, **extra})

    @get("/rounds/{round_id:int}")
    async def round_page(self, round_id: int, done: str | None = None, n: int | None = None) -> Template:
        return await self._round_page(round_id, flash=done_message(done, n))

    async def _action_failed(self, round_id: int, exc: DomainError) -> Template:
        problems = exc.params.get("problems") if isinstance(exc.params.get("problems"), list) else []
        return await self._round_page(round_id, exc.status_code, error=error_text(exc), error_code=exc.code,
                                      problems=problems, problem_count=exc.params.get("count"))

    @post("/rounds/{round_id:int}/open")
    async def open_round(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        try:
            await rounds.open_round(actor=require_actor(request), round_id=round_id)
        except (Conflict, ValidationFailed) as exc:
            return await self._action_failed(round_id, exc)
        return redirect(f"/admin/judging/rounds/{round_id}", "opened")

    @post("/rounds/{round_id:int}/assign")
    async def assign(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        try:
            result = await assignments.assign_reviewers(actor=require_actor(request), round_id=round_id)
        except (Conflict, ValidationFailed) as exc:
            return await self._action_failed(round_id, exc)
        return redirect(f"/admin/judging/rounds/{round_id}", "assigned", result.created)

    @post("/rounds/{round_id:int}/close")
    async def close_round(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        try:
            await rounds.close_round(actor=require_actor(request), round_id=round_id)
        except (Conflict, ValidationFailed) as exc:
            return await self._action_failed(round_id, exc)
        return redirect(f"/admin/judging/rounds/{round_id}", "closed")
