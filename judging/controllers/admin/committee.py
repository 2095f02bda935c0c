"""A round's committee tab: its members, their home provinces and declared conflicts of interest,
the warnings about them, and the recusals that adding them caused.

Members and conflicts are picked from lists: a search (a GET form, so it works without
JavaScript) lists the committee accounts or the organisations that match, each with a box to
tick; lines typed or pasted from a CSV file remain for adding many at once."""

from __future__ import annotations

from typing import Any

import geothai
from litestar import Request, get, post
from litestar.response import Redirect, Template

from contest.domain import organisations
from contest.errors import Conflict, ValidationFailed
from contest.guards import require_actor
from contest.i18n import current_language, t, thai_sorted
from judging import forms
from judging.controllers.admin.shared import HELPERS, AdminPages, Form, done_message, reads, redirect
from judging.controllers.labels import error_text
from judging.domain import admin_views, rounds

#: How many organisations the conflict search lists at most.
ORGANISATIONS_SHOWN = 20
#: The picker's fields the domain's errors about a picked conflict belong to.
CONFLICT_FIELDS = {"email": "conflict_member", "organisation_code": "organisation", "reason": "reason"}


def province_choices() -> list[dict[str, str]]:
    """Every province, for the member's province list: Thai dictionary order in Thai, the
    alphabet in English."""
    provinces = [{"code": p.code, "name": p.name_en if current_language.get() == "en" else p.name_th}
                 for p in geothai.provinces()]
    if current_language.get() == "en":
        return sorted(provinces, key=lambda p: p["name"])
    return thai_sorted(provinces, key=lambda p: p["name"])


def _searches(data: dict[str, Any]) -> dict[str, str]:
    """The two searches a posted picker form carries along, so a refused form lists the same."""
    return {"people": forms.field_text(data, "people_q"), "orgs": forms.field_text(data, "orgs_q")}


def _ticked(data: dict[str, Any]) -> dict[str, Any]:
    """What was ticked and chosen on a refused picker form, to show it again."""
    people: dict[str, str] = {}
    for i in forms.row_indices(data, "people"):
        if forms.field_text(data, f"people-{i}-add") in forms.TRUE_WORDS:
            people[forms.field_text(data, f"people-{i}-email").lower()] = forms.field_text(data, f"people-{i}-province")
    return {"people": people, "organisations": [c.strip() for c in forms.field_values(data, "organisation")],
            "conflict_member": forms.field_text(data, "conflict_member").lower(),
            "reason": forms.field_text(data, "reason")}


class CommitteePages(AdminPages):
    """A round's committee, and adding members and their conflicts of interest."""

    @reads
    async def _committee_page(self, round_id: int, status: int = 200, people: str = "", orgs: str = "",
                              **extra: Any) -> Template:
        view = await rounds.get_round(round_id)
        members = await rounds.list_members(round_id)
        names = await admin_views.organisation_names([c["organisation_code"] for m in members
                                                      for c in m["conflicts"]])
        recused, recused_total = await admin_views.recusals(round_id)
        candidates, candidates_total = await admin_views.committee_candidates(round_id, people)
        found = (await organisations.search_organisations(q=orgs, per_page=ORGANISATIONS_SHOWN)
                 if orgs.strip() else None)
        extra.setdefault("form", {"members": "", "conflicts": ""})
        extra.setdefault("errors", {})
        extra.setdefault("ticked", {"people": {}, "organisations": [], "conflict_member": "", "reason": ""})
        return Template("judging/admin/committee.html", status_code=status, context={
            "round": view, "tab": "committee", "members": members, "org_names": names,
            "warnings": await rounds.committee_warnings(round_id), "recused": recused,
            "recused_total": recused_total, "province_name": rounds.province_name,
            "people_q": people, "candidates": candidates, "candidates_total": candidates_total,
            "orgs_q": orgs, "found": found, "provinces": province_choices(), **HELPERS, **extra})

    @get("/rounds/{round_id:int}/committee")
    async def committee(self, round_id: int, done: str | None = None, n: int | None = None,
                        recused: int | None = None, submitted: int | None = None, people: str = "",
                        orgs: str = "", member: str = "") -> Template:
        flash = done_message(done, n)
        if flash and recused:
            flash += " " + t("{n} assignments were recused because of the declared conflicts or provinces ({k} of them "
                             "already submitted); the gaps were filled where possible. They are listed under "
                             "Recusals.", n=recused, k=submitted or 0)
        ticked = {"people": {}, "organisations": [], "conflict_member": member.strip().lower(), "reason": ""}
        return await self._committee_page(round_id, people=people[:200], orgs=orgs[:200], flash=flash,
                                          ticked=ticked)

    @post("/rounds/{round_id:int}/committee")
    async def add_members(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        action = forms.field_text(data, "action")
        if action == "add_people":
            return await self._add_picked(request, round_id, data, conflicts=False)
        if action == "add_conflicts":
            return await self._add_picked(request, round_id, data, conflicts=True)
        # Lines typed or pasted, for many at once. Not stripped: line numbers in the messages
        # must match what the person sees.
        form = {k: (forms.field_values(data, k) or [""])[-1].rstrip() for k in ("members", "conflicts")}
        try:
            members, conflicts = forms.parse_committee(form["members"], form["conflicts"])
        except ValidationFailed as exc:
            return await self._committee_page(round_id, 422, form=form, errors=exc.errors, bulk_open=True)
        try:
            result = await rounds.add_members(actor=require_actor(request), round_id=round_id, emails=members.emails,
                                              provinces=members.provinces, conflicts=conflicts.conflicts)
        except ValidationFailed as exc:
            return await self._committee_page(round_id, 422, form=form, bulk_open=True,
                                              errors=forms.committee_errors(exc.errors, conflicts.line_of))
        except Conflict as exc:
            return await self._committee_page(round_id, exc.status_code, form=form, errors={}, bulk_open=True,
                                              error=error_text(exc))
        return self._done(round_id, "members", len(result["added"]), result)

    async def _add_picked(self, request: Request, round_id: int, data: dict[str, Any], *,
                          conflicts: bool) -> Template | Redirect:
        """Members ticked in the people search, or one member's conflicts with the organisations
        ticked in the organisation search."""
        searches, ticked = _searches(data), _ticked(data)
        try:
            if conflicts:
                declared = forms.picked_conflicts(data)
                result = await rounds.add_members(actor=require_actor(request), round_id=round_id,
                                                  conflicts=declared.conflicts)
            else:
                picked = forms.picked_members(data)
                result = await rounds.add_members(actor=require_actor(request), round_id=round_id,
                                                  emails=picked.emails, provinces=picked.provinces)
        except ValidationFailed as exc:
            errors = (forms.picker_errors(exc.errors, CONFLICT_FIELDS, "conflict_member") if conflicts
                      else forms.picker_errors(exc.errors, {}, "people"))
            return await self._committee_page(round_id, 422, **searches, errors=errors, ticked=ticked)
        except Conflict as exc:
            return await self._committee_page(round_id, exc.status_code, **searches, errors={}, ticked=ticked,
                                              error=error_text(exc))
        if conflicts:
            return self._done(round_id, "conflicts", len(declared.conflicts), result)
        return self._done(round_id, "members", len(result["added"]), result)

    @staticmethod
    def _done(round_id: int, done: str, n: int, result: dict[str, Any]) -> Redirect:
        taken_off = result["recused"]
        return redirect(f"/admin/judging/rounds/{round_id}/committee", done, n, recused=len(taken_off),
                        submitted=sum(1 for a in taken_off if a["previous_state"] == "submitted"))
