"""The judging overview and a round's own tab: each edition's rounds, then one round's state with
opening (which freezes its rules), assigning reviewers and closing."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from contest.confirmation import Confirmation, confirmation_page
from contest.db import one_read
from contest.domain import outcomes
from contest.errors import Conflict, DomainError, ValidationFailed
from contest.guards import require_actor
from contest.i18n import t
from judging.controllers.admin.shared import (
    HELPERS,
    AdminPages,
    Form,
    done_message,
    grouped,
    reads,
    redirect,
    round_state_label,
)
from judging.controllers.labels import error_text, round_kind_label
from judging.domain import admin_views, assignments, rounds
from judging.enums import AssignmentState, RoundKind, RoundState
from judging.tables import Assignment


def _round_facts(view: rounds.RoundView) -> list[tuple[str, str]]:
    """What identifies the round on its confirmation pages."""
    return [(t("Round"), f"{round_kind_label(view.kind)} · {t('Edition {year}', year=view.year)}"),
            (t("State"), round_state_label(view.state)), (t("Committee members"), grouped(view.members))]


class RoundPages(AdminPages):
    """The overview of every edition's rounds, and one round's state and its three actions."""

    @get("/")
    async def index(self, done: str | None = None, n: int | None = None) -> Template:
        async with one_read():
            editions = await admin_views.judging_overview()
        return Template("judging/admin/index.html", context={
            "editions": editions, "flash": done_message(done, n), **HELPERS})

    @reads
    async def _round_page(self, round_id: int, status: int = 200, **extra: Any) -> Template:
        view = await rounds.get_round(round_id)
        pending = 0
        if view.kind == RoundKind.screening and view.state == RoundState.draft:
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

    @get("/rounds/{round_id:int}/open")
    async def confirm_open(self, round_id: int) -> Template:
        """Opening freezes the rules: say so, and what the round takes, before it happens."""
        async with one_read():
            view = await rounds.get_round(round_id)
            pending = 0
            if view.kind == RoundKind.screening and view.state == RoundState.draft:
                pending = await outcomes.count_in_state(view.edition_id, "submitted")
        takes = (t("It takes every entry marked eligible; from then on eligibility can no longer change.")
                 if view.kind == RoundKind.screening else t("It takes the shortlist signed in the screening round."))
        blocked = None
        if view.state != RoundState.draft:
            blocked = t("This round is already open: there is nothing to confirm.")
        elif pending:
            blocked = t("{n} submitted entries have no eligibility decision yet: the round cannot open until each "
                        "one is marked eligible or not eligible.", n=grouped(pending))
        return confirmation_page(Confirmation(
            title=t("Open the round?"), facts=_round_facts(view),
            happens=[t("The round opens for scoring. Its rules freeze: the criteria, weights, reviewers per entry, "
                       "normalisation and tie-breaks can no longer be changed, and their hash is recorded."), takes],
            cannot_undo=t("An open round cannot go back to draft, and its frozen rules cannot be changed."),
            action=f"/admin/judging/rounds/{round_id}/open", confirm=t("Yes, open the round and freeze its rules"),
            cancel=f"/admin/judging/rounds/{round_id}", blocked=blocked))

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

    @get("/rounds/{round_id:int}/close")
    async def confirm_close(self, round_id: int) -> Template:
        """Closing stops scoring for good: say how many sheets count and how many do not."""
        async with one_read():
            view = await rounds.get_round(round_id)
            submitted = await Assignment.count().where((Assignment.round == round_id)
                                                       & (Assignment.state == AssignmentState.submitted))
            waiting = await Assignment.count().where((Assignment.round == round_id)
                                                     & (Assignment.state == AssignmentState.assigned))
        facts = [*_round_facts(view), (t("Score sheets submitted"), grouped(submitted)),
                 (t("Score sheets not submitted"), grouped(waiting))]
        happens = [t("Scoring stops: the submitted sheets count, the sheets not submitted do not, and committee "
                     "members can no longer score.")]
        if waiting:
            happens.append(t("{n} score sheets are not submitted yet: they will not count.", n=grouped(waiting)))
        return confirmation_page(Confirmation(
            title=t("Close the round?"), facts=facts, happens=happens,
            cannot_undo=t("A closed round cannot be opened again."),
            action=f"/admin/judging/rounds/{round_id}/close", confirm=t("Yes, close the round"),
            cancel=f"/admin/judging/rounds/{round_id}", danger=True,
            blocked=None if view.state == RoundState.open else t("This round is not open: there is nothing to close.")))

    @post("/rounds/{round_id:int}/close")
    async def close_round(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        try:
            await rounds.close_round(actor=require_actor(request), round_id=round_id)
        except (Conflict, ValidationFailed) as exc:
            return await self._action_failed(round_id, exc)
        return redirect(f"/admin/judging/rounds/{round_id}", "closed")
