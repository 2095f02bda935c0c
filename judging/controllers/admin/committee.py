"""A round's committee tab: its members, their home provinces and declared conflicts of interest,
the warnings about them, and the recusals that adding them caused."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from contest.errors import Conflict, ValidationFailed
from contest.guards import require_actor
from contest.i18n import t
from judging import forms
from judging.controllers.admin.shared import HELPERS, AdminPages, Form, done_message, reads, redirect
from judging.controllers.labels import error_text
from judging.domain import admin_views, rounds


class CommitteePages(AdminPages):
    """A round's committee, and adding members and their conflicts of interest."""

    @reads
    async def _committee_page(self, round_id: int, status: int = 200, **extra: Any) -> Template:
        view = await rounds.get_round(round_id)
        members = await rounds.list_members(round_id)
        names = await admin_views.organisation_names([c["organisation_code"] for m in members
                                                      for c in m["conflicts"]])
        recused, recused_total = await admin_views.recusals(round_id)
        extra.setdefault("form", {"members": "", "conflicts": ""})
        extra.setdefault("errors", {})
        return Template("judging/admin/committee.html", status_code=status, context={
            "round": view, "tab": "committee", "members": members, "org_names": names,
            "warnings": await rounds.committee_warnings(round_id), "recused": recused,
            "recused_total": recused_total, "province_name": rounds.province_name, **HELPERS, **extra})

    @get("/rounds/{round_id:int}/committee")
    async def committee(self, round_id: int, done: str | None = None, n: int | None = None,
                        recused: int | None = None, submitted: int | None = None) -> Template:
        flash = done_message(done, n)
        if flash and recused:
            flash += " " + t("{n} assignments were recused because of the declared conflicts or provinces ({k} of them "
                             "already submitted); the gaps were filled where possible. They are listed under "
                             "Recusals.", n=recused, k=submitted or 0)
        return await self._committee_page(round_id, flash=flash)

    @post("/rounds/{round_id:int}/committee")
    async def add_members(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        # Not stripped: line numbers in the messages must match what the person sees.
        form = {k: (forms.field_values(data, k) or [""])[-1].rstrip() for k in ("members", "conflicts")}
        try:
            members, conflicts = forms.parse_committee(form["members"], form["conflicts"])
        except ValidationFailed as exc:
            return await self._committee_page(round_id, 422, form=form, errors=exc.errors)
        try:
            result = await rounds.add_members(actor=require_actor(request), round_id=round_id, emails=members.emails,
                                              provinces=members.provinces, conflicts=conflicts.conflicts)
        except ValidationFailed as exc:
            return await self._committee_page(round_id, 422, form=form,
                                              errors=forms.committee_errors(exc.errors, conflicts.line_of))
        except Conflict as exc:
            return await self._committee_page(round_id, exc.status_code, form=form, errors={},
                                              error=error_text(exc))
        taken_off = result["recused"]
        return redirect(f"/admin/judging/rounds/{round_id}/committee", "members", len(result["added"]),
                        recused=len(taken_off),
                        submitted=sum(1 for a in taken_off if a["previous_state"] == "submitted"))
