"""Organisers' judging pages: rounds and their rules, eligibility, committee and conflicts,
assignment, progress and reminders, ranking, tie decisions, the decision with overrides and its
two signatures.

Server-rendered; every form posts (url-encoded, with the ``_csrf`` field) and works without
JavaScript. A successful action redirects (post/redirect/get) with ``?done=<what>`` which the
next page turns into its flash message; a refused one re-renders the page with the domain's
message next to the field it concerns, or plainly at the top for a 409.

Speed: the progress page only reads ``scoring.progress`` (grouped in SQL); only the ranking and
decision pages compute the ranking, and the ranking table is paginated.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from contest.controllers.entry_pages import state_label as entry_state_label
from contest.db import stored_json
from contest.domain import outcomes
from contest.errors import Conflict, DomainError, NotFound, ValidationFailed
from contest.guards import admin_required, require_actor
from contest.i18n import current_language, t
from judging import forms
from judging.domain import admin_views, assignments, final, rounds, scoring, shortlist
from judging.domain.rounds import DEFAULT_RUBRIC, DEFAULT_TIE_BREAK

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

RANKING_PER_PAGE = 100
ELIGIBILITY_PER_PAGE = 100
MEMBER_PER_PAGE = 100


# --- labels (msgids are English; translated when shown) -----------------------------------------

def round_state_label(state: str) -> str:
    return {"draft": t("Draft"), "open": t("Open for scoring"), "closed": t("Scoring closed"),
            "signed": t("Signed (final)")}.get(state, state)


def round_kind_label(kind: str) -> str:
    return {"screening": t("Screening round"), "final": t("Final round")}.get(kind, kind)


def normalisation_label(value: str) -> str:
    return {"none": t("None (raw weighted scores)"),
            "zscore": t("Z-score per reviewer, rescaled to the rubric's range")}.get(value, value)


def assignment_state_label(state: str) -> str:
    return {"assigned": t("Not submitted"), "submitted": t("Submitted"), "recused": t("Recused")}.get(state, state)


def criterion_name(c: dict[str, Any]) -> str:
    if current_language.get() == "en":
        return c.get("name_en") or c.get("name_th", "")
    return c.get("name_th", "")


def edition_state_label(state: str) -> str:
    return {"draft": t("Draft"), "open": t("Open for submissions"), "screening": t("Screening"),
            "final": t("Final judging"), "announced": t("Announced")}.get(state, state)


def number(value: Any, digits: int = 2) -> str:
    """Scores and weights for people: at most ``digits`` decimals, no trailing zeros."""
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def grouped(n: Any) -> str:
    """Counts with thousands separators (7,000)."""
    return f"{n:,}" if isinstance(n, int) and not isinstance(n, bool) else str(n)


HELPERS = {"round_state_label": round_state_label, "round_kind_label": round_kind_label,
           "normalisation_label": normalisation_label, "assignment_state_label": assignment_state_label,
           "entry_state_label": entry_state_label, "criterion_name": criterion_name, "number": number,
           "edition_state_label": edition_state_label, "grouped": grouped}


def _done_message(done: str | None, n: int | None) -> str | None:
    """The flash message after a redirect: ``?done=<what>[&n=<count>]``."""
    if not done:
        return None
    count = n or 0
    return {
        "created": t("The round was created as a draft. Check its rules, add the committee, then open it."),
        "saved": t("The rules were saved."),
        "opened": t("The round is open. Its rules are frozen and their hash is recorded."),
        "assigned": t("Assignment done: {n} new reviews assigned.", n=count),
        "closed": t("The round is closed: scoring has stopped."),
        "members": t("The committee was updated: {n} members added.", n=count),
        "reminders": t("{n} reminders were queued.", n=count),
        "reopened": t("The score sheet was reopened; the member can correct and submit it again."),
        "tie": t("The committee's order for the tied entries was recorded."),
        "decided": t("The proposal was saved. Two different administrators must now sign it."),
        "signed": t("Your signature was recorded. A second administrator must sign too."),
        "final": t("The decision is final: every entry's outcome is recorded."),
        "presentation": t("The presentation slot was saved."),
        "presentation_mailed": t("The presentation slot was saved; the organisation's staff were mailed."),
        "invited": t("{n} finalists were invited to present; each organisation now sees its own slot.", n=count),
        "eligible": t("{n} entries marked eligible.", n=count),
        "ineligible": t("{n} entries marked not eligible.", n=count),
    }.get(done)


# State and kind codes that domain messages carry as parameters ("the round is {state}").
CODE_PARAMS = ("kind", "state", "to")


def _error_text(exc: DomainError) -> str:
    params = {k: t(v) if k in CODE_PARAMS and isinstance(v, str) else v for k, v in exc.params.items()}
    return t(exc.message, **params)


def _redirect(path: str, done: str, n: int | None = None, **params: Any) -> Redirect:
    query = {"done": done, **({"n": n} if n is not None else {}), **{k: v for k, v in params.items() if v}}
    return Redirect(f"{path}?{urlencode(query)}", status_code=303)


# --- the rules form ---------------------------------------------------------------------------

def _criteria_rows(criteria: list[dict[str, Any]], extra: int = 0) -> list[dict[str, str]]:
    rows = [{k: number(c.get(k), 4) if k in ("weight", "min", "max") else str(c.get(k) or "")
             for k in forms.CRITERION_FIELDS} for c in criteria]
    rows += [dict.fromkeys(forms.CRITERION_FIELDS, "") for _ in range(extra)]
    return rows


def _rules_form(view: rounds.RoundView | None, kind: str = "screening") -> dict[str, Any]:
    if view is None:
        return {"kind": kind, "criteria": _criteria_rows(DEFAULT_RUBRIC, 1), "reviewers_per_entry": "3",
                "normalisation": "none", "tie_break": ", ".join(DEFAULT_TIE_BREAK),
                "exclude_same_province": False, "seed": ""}
    return {"kind": view.kind, "criteria": _criteria_rows(view.criteria, 0 if view.frozen else 1),
            "reviewers_per_entry": str(view.reviewers_per_entry), "normalisation": view.normalisation,
            "tie_break": ", ".join(view.tie_break), "exclude_same_province": view.exclude_same_province,
            "seed": str(view.seed)}


def _rules_labels(form: dict[str, Any]) -> dict[str, str]:
    labels = {"kind": t("Kind of round"), "criteria": t("Criteria"), "reviewers_per_entry": t("Reviewers per entry"),
              "normalisation": t("Normalisation"), "tie_break": t("Tie-break chain"),
              "exclude_same_province": t("Same-province rule"), "seed": t("Assignment seed")}
    parts = {"code": t("code"), "name_th": t("Thai name"), "name_en": t("English name"), "weight": t("weight"),
             "range": t("score range"), "min": t("minimum"), "max": t("maximum")}
    for i in range(len(form.get("criteria", []))):
        for part, label in parts.items():
            labels[f"criteria-{i}-{part}"] = t("Criterion {n}, {part}", n=i + 1, part=label)
    return labels


def _rules_anchors(form: dict[str, Any]) -> dict[str, str]:
    """Where the error summary links for errors that are not about one input."""
    anchors = {"criteria": "criterion-0", "normalisation": "norm-none"}
    for i in range(len(form.get("criteria", []))):
        anchors[f"criteria-{i}-range"] = f"f-criteria-{i}-min"
    return anchors


# --- committee form -----------------------------------------------------------------------------

# --- controller ---------------------------------------------------------------------------------

T = TypeVar("T")


def _reads(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Run a page builder's reads together (one connection, one snapshot): see ``reading``."""
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        async with admin_views.reading():
            return await fn(*args, **kwargs)
    return wrapper


class JudgingAdminPages(Controller):
    path = "/admin/judging"
    guards = [admin_required]
    include_in_schema = False

    # overview

    @get("/")
    async def index(self, done: str | None = None, n: int | None = None) -> Template:
        async with admin_views.reading():
            editions = await admin_views.judging_overview()
        return Template("judging/admin/index.html", context={
            "editions": editions, "flash": _done_message(done, n), **HELPERS})

    # rules

    @staticmethod
    def _rules_page(edition: dict[str, Any], view: rounds.RoundView | None, form: dict[str, Any],
                    status: int = 200, errors: dict[str, str] | None = None, **extra: Any) -> Template:
        return Template("judging/admin/rules.html", status_code=status, context={
            "edition": edition, "round": view, "form": form, "errors": errors or {}, "tab": "rules",
            "anchors": _rules_anchors(form), "labels": _rules_labels(form), **HELPERS, **extra})

    @get("/{year:int}/rounds/new")
    async def new_round(self, year: int, kind: str = "screening") -> Template:
        edition = await admin_views.edition_row(year)
        return self._rules_page(edition, None, _rules_form(None, kind if kind in rounds.KINDS else "screening"))

    @post("/{year:int}/rounds")
    async def create_round(self, request: Request, year: int, data: Form) -> Template | Redirect:
        edition = await admin_views.edition_row(year)
        form, payload, row_of = forms.parse_rules(data)
        if forms.field_text(data, "action") == "add_row":
            form["criteria"].append(dict.fromkeys(forms.CRITERION_FIELDS, ""))
            return self._rules_page(edition, None, form)
        try:
            round_id = await rounds.create_round(actor=require_actor(request), year=year,
                                                 data={**payload, "kind": form["kind"]})
        except (ValidationFailed, Conflict) as exc:
            errors = forms.rules_errors(exc.errors, row_of) if isinstance(exc, ValidationFailed) else {}
            return self._rules_page(edition, None, form, exc.status_code, errors,
                                    error=None if errors else _error_text(exc))
        return _redirect(f"/admin/judging/rounds/{round_id}", "created")

    @get("/rounds/{round_id:int}/rules")
    async def rules(self, round_id: int, done: str | None = None, n: int | None = None) -> Template:
        async with admin_views.reading():
            view = await rounds.get_round(round_id)
        return self._rules_page({"year": view.year}, view, _rules_form(view), flash=_done_message(done, n))

    @post("/rounds/{round_id:int}/rules")
    async def save_rules(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        view = await rounds.get_round(round_id)
        form, payload, row_of = forms.parse_rules(data)
        form["kind"] = view.kind
        if forms.field_text(data, "action") == "add_row" and not view.frozen:
            form["criteria"].append(dict.fromkeys(forms.CRITERION_FIELDS, ""))
            return self._rules_page({"year": view.year}, view, form)
        try:
            await rounds.update_round(actor=require_actor(request), round_id=round_id, data=payload)
        except ValidationFailed as exc:
            return self._rules_page({"year": view.year}, view, form, 422, forms.rules_errors(exc.errors, row_of))
        except Conflict as exc:  # frozen: show the rules as they now stand, and why nothing changed
            current = await rounds.get_round(round_id)
            return self._rules_page({"year": view.year}, current, _rules_form(current), exc.status_code,
                                    error=_error_text(exc))
        return _redirect(f"/admin/judging/rounds/{round_id}/rules", "saved")

    # the round

    @_reads
    async def _round_page(self, round_id: int, status: int = 200, **extra: Any) -> Template:
        view = await rounds.get_round(round_id)
        pending = 0
        if view.kind == "screening" and view.state == "draft":
            pending = await outcomes.count_in_state(view.edition_id, "submitted")
        return Template("judging/admin/round.html", status_code=status, context={
            "round": view, "tab": "overview", "pending_eligibility": pending, **HELPERS, **extra})

    @get("/rounds/{round_id:int}")
    async def round_page(self, round_id: int, done: str | None = None, n: int | None = None) -> Template:
        return await self._round_page(round_id, flash=_done_message(done, n))

    async def _action_failed(self, round_id: int, exc: DomainError) -> Template:
        problems = exc.params.get("problems") if isinstance(exc.params.get("problems"), list) else []
        return await self._round_page(round_id, exc.status_code, error=_error_text(exc), error_code=exc.code,
                                      problems=problems, problem_count=exc.params.get("count"))

    @post("/rounds/{round_id:int}/open")
    async def open_round(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        try:
            await rounds.open_round(actor=require_actor(request), round_id=round_id)
        except (Conflict, ValidationFailed) as exc:
            return await self._action_failed(round_id, exc)
        return _redirect(f"/admin/judging/rounds/{round_id}", "opened")

    @post("/rounds/{round_id:int}/assign")
    async def assign(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        try:
            result = await assignments.assign_reviewers(actor=require_actor(request), round_id=round_id)
        except (Conflict, ValidationFailed) as exc:
            return await self._action_failed(round_id, exc)
        return _redirect(f"/admin/judging/rounds/{round_id}", "assigned", result.created)

    @post("/rounds/{round_id:int}/close")
    async def close_round(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        try:
            await rounds.close_round(actor=require_actor(request), round_id=round_id)
        except (Conflict, ValidationFailed) as exc:
            return await self._action_failed(round_id, exc)
        return _redirect(f"/admin/judging/rounds/{round_id}", "closed")

    # committee

    @_reads
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
        flash = _done_message(done, n)
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
                                              error=_error_text(exc))
        taken_off = result["recused"]
        return _redirect(f"/admin/judging/rounds/{round_id}/committee", "members", len(result["added"]),
                         recused=len(taken_off),
                         submitted=sum(1 for a in taken_off if a["previous_state"] == "submitted"))

    # progress

    @_reads
    async def _progress_page(self, round_id: int, status: int = 200, **extra: Any) -> Template:
        view = await admin_views.round_head(round_id)
        progress = await scoring.progress(round_id) if view.state != "draft" else None
        return Template("judging/admin/progress.html", status_code=status, context={
            "round": view, "tab": "progress", "progress": progress, **HELPERS, **extra})

    @get("/rounds/{round_id:int}/progress")
    async def progress(self, round_id: int, done: str | None = None, n: int | None = None) -> Template:
        return await self._progress_page(round_id, flash=_done_message(done, n))

    @post("/rounds/{round_id:int}/reminders")
    async def reminders(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        try:
            queued = await scoring.send_reminders(actor=require_actor(request), round_id=round_id)
        except Conflict as exc:
            return await self._progress_page(round_id, exc.status_code, error=_error_text(exc))
        return _redirect(f"/admin/judging/rounds/{round_id}/progress", "reminders", queued)

    @_reads
    async def _member_page(self, round_id: int, user_id: int, *, assignment_state: str | None = None,
                           page: int = 1, status: int = 200, **extra: Any) -> Template:
        view = await admin_views.round_head(round_id)
        member = await admin_views.member_of(round_id, user_id)
        rows = await admin_views.member_assignments(round_id, user_id, state=assignment_state, page=page,
                                                    per_page=MEMBER_PER_PAGE)
        return Template("judging/admin/member.html", status_code=status, context={
            "round": view, "tab": "progress", "member": member, "rows": rows,
            "filters": {"state": assignment_state or ""}, **HELPERS, **extra})

    @get("/rounds/{round_id:int}/members/{user_id:int}")
    async def member(self, round_id: int, user_id: int,
                     assignment_state: str | None = Parameter(query="state", default=None, required=False),
                     page: int = 1, done: str | None = None, n: int | None = None) -> Template:
        return await self._member_page(round_id, user_id, assignment_state=assignment_state or None, page=page,
                                       flash=_done_message(done, n))

    @post("/rounds/{round_id:int}/assignments/{assignment_id:int}/reopen")
    async def reopen(self, request: Request, round_id: int, assignment_id: int, data: Form) -> Template | Redirect:
        """Reopen a submitted sheet, with the reason (audited). With htmx only the row is swapped."""
        row = await admin_views.assignment_row(assignment_id)
        if row["round"] != round_id:
            raise NotFound("No such assignment.", code="assignment_not_found")
        reason = forms.field_text(data, "reason")
        page = forms.page_number(forms.field_text(data, "page"))
        status, message = 303, None
        try:
            if not reason:
                raise ValidationFailed(errors={"reason": t("Say why the sheet is reopened (it is recorded).")})
            await scoring.reopen(actor=require_actor(request), assignment_id=assignment_id, reason=reason)
        except (ValidationFailed, Conflict) as exc:
            status = exc.status_code
            message = next(iter(exc.errors.values())) if isinstance(exc, ValidationFailed) and exc.errors \
                else _error_text(exc)
        if request.headers.get("hx-request") == "true":
            async with admin_views.reading():
                head = await admin_views.round_head(round_id)
                current = await admin_views.assignment_row(assignment_id)
            return Template("judging/admin/_member_row.html", status_code=200 if message is None else status, context={
                "a": current, "round": head, "page": page, "row_errors": {assignment_id: message} if message else {},
                "reasons": {assignment_id: reason} if message else {}, "reopened": message is None, **HELPERS})
        if message is not None:
            return await self._member_page(round_id, row["reviewer"], page=page, status=status,
                                           row_errors={assignment_id: message}, reasons={assignment_id: reason})
        return _redirect(f"/admin/judging/rounds/{round_id}/members/{row['reviewer']}", "reopened",
                         page=page if page > 1 else None)

    # ranking

    @_reads
    async def _ranking_page(self, round_id: int, *, page: int = 1, show: str = "", status: int = 200,
                            **extra: Any) -> Template:
        view = await rounds.get_round(round_id)
        context: dict[str, Any] = {"round": view, "tab": "ranking", "show": show, **HELPERS}
        if view.state == "draft":
            context["not_open"] = True
            return Template("judging/admin/ranking.html", status_code=status, context={**context, **extra})
        ranking = await shortlist.ranking_view(round_id)
        items = ranking["items"]
        if show == "flagged":
            items = [i for i in items if i["borderline"] or i["tied"]]
        total = len(items)
        page = admin_views.clamp_page(page, total, RANKING_PER_PAGE)
        shown = items[(page - 1) * RANKING_PER_PAGE: page * RANKING_PER_PAGE]
        groups = admin_views.tied_groups(ranking["items"])
        inside = [i for i in ranking["items"] if i["rank"] is not None and i["rank"] <= ranking["cut"]]
        context.update(
            items=shown, rows=admin_views.Page(shown, total, page, RANKING_PER_PAGE), cut=ranking["cut"],
            ranked=sum(1 for i in ranking["items"] if i["rank"] is not None),
            borderline=sum(1 for i in ranking["items"] if i["borderline"]),
            tied=sum(1 for i in ranking["items"] if i["tied"]),
            groups=groups[:50], group_count=len(groups),
            decisions=await admin_views.tie_decisions(round_id),
            criteria=view.criteria, last_inside=inside[-1]["entry_id"] if inside else None,
        )
        extra.setdefault("tie_form", {})
        extra.setdefault("tie_errors", {})
        return Template("judging/admin/ranking.html", status_code=status, context={**context, **extra})

    @get("/rounds/{round_id:int}/ranking")
    async def ranking(self, round_id: int, page: int = 1, show: str = "", done: str | None = None,
                      n: int | None = None) -> Template:
        return await self._ranking_page(round_id, page=page, show=show if show == "flagged" else "",
                                        flash=_done_message(done, n))

    @post("/rounds/{round_id:int}/ties")
    async def record_tie(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        form = {k: forms.field_text(data, k) for k in ("order", "reason", "group")}
        try:
            ids = forms.parse_tie_order(form["order"])
            await shortlist.record_tie_decision(actor=require_actor(request), round_id=round_id, entry_ids=ids,
                                                reason=form["reason"])
        except ValidationFailed as exc:
            found = {("order" if k == "entry_ids" else k): v for k, v in exc.errors.items()}
            return await self._ranking_page(round_id, status=422, tie_form=form, tie_errors=found,
                                            error=" ".join(found.values()))
        except Conflict as exc:
            return await self._ranking_page(round_id, status=exc.status_code, tie_form=form,
                                            error=_error_text(exc))
        return _redirect(f"/admin/judging/rounds/{round_id}/ranking", "tie")

    # decision and signatures

    @_reads
    async def _decision_page(self, round_id: int, status: int = 200, *, rows: list[dict[str, str]] | None = None,
                             **extra: Any) -> Template:
        view = await rounds.get_round(round_id)
        decision = await shortlist.decision_view(round_id) if view.decision_hash else None
        inside_label, outside_label = outcomes.OUTCOMES[view.kind]
        if rows is None:  # keep the current proposal's overrides: deciding again replaces it
            rows = [{"entry_id": str(o["entry_id"]), "outcome": o["outcome"], "reason": o["reason"]}
                    for o in (decision or {}).get("outcomes", []) if o["reason"]]
        spare = 3 if len(rows) < 3 else 1
        rows = rows + [{"entry_id": "", "outcome": "", "reason": ""} for _ in range(spare)]
        listed: list[dict[str, Any]] = []
        if decision:
            listed = [o for o in decision["outcomes"] if o["outcome"] == inside_label or o["reason"]]
        signed_by_me = False
        if decision and extra.get("actor_id") is not None:
            signed_by_me = any(s["user_id"] == extra["actor_id"] for s in decision["signatures"])
        return Template("judging/admin/decision.html", status_code=status, context={
            "round": view, "tab": "decision", "decision": decision, "rows": rows, "listed": listed,
            "inside_label": inside_label, "outside_label": outside_label, "signed_by_me": signed_by_me,
            "row_errors": {}, **HELPERS, **extra})

    @get("/rounds/{round_id:int}/decision")
    async def decision(self, request: Request, round_id: int, done: str | None = None,
                       n: int | None = None) -> Template:
        return await self._decision_page(round_id, flash=_done_message(done, n),
                                         actor_id=require_actor(request).id)

    @post("/rounds/{round_id:int}/decide")
    async def decide(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        actor = require_actor(request)
        rows = forms.override_rows(data)
        if forms.field_text(data, "action") == "add_row":
            return await self._decision_page(round_id, rows=rows, actor_id=actor.id)
        overrides, row_of = forms.overrides_to_send(rows)
        try:
            await shortlist.decide(actor=actor, round_id=round_id, overrides=overrides)
        except ValidationFailed as exc:
            row_errors, other = forms.override_errors(exc.errors, row_of)
            return await self._decision_page(round_id, 422, rows=rows, actor_id=actor.id, row_errors=row_errors,
                                             error=" ".join(other) or _error_text(exc))
        except Conflict as exc:
            return await self._decision_page(round_id, exc.status_code, rows=rows, actor_id=actor.id,
                                             error=_error_text(exc), error_code=exc.code,
                                             tied_ids=exc.params.get("entry_ids") or [])
        return _redirect(f"/admin/judging/rounds/{round_id}/decision", "decided")

    @post("/rounds/{round_id:int}/sign")
    async def sign(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        actor = require_actor(request)
        try:
            result = await shortlist.sign_decision(actor=actor, round_id=round_id,
                                                   decision_hash=forms.field_text(data, "decision_hash") or None)
        except Conflict as exc:
            return await self._decision_page(round_id, exc.status_code, actor_id=actor.id, error=_error_text(exc),
                                             error_code=exc.code)
        return _redirect(f"/admin/judging/rounds/{round_id}/decision", "final" if result["final"] else "signed")

    # the final's presentation slots

    @_reads
    async def _presentations_page(self, round_id: int, status: int = 200, *, entry_id: int | None = None,
                                  form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                                  **extra: Any) -> Template:
        view = await rounds.get_round(round_id)
        rows = await admin_views.finalists(round_id) if view.kind == "final" else []
        slots = {p["entry_id"]: p for p in await final.list_presentations(round_id)}
        items = []
        for r in rows:
            mine = entry_id == r["entry_id"]
            items.append({**r, "slot": slots.get(r["entry_id"]),
                          "form": form if mine and form is not None else forms.slot_values(slots.get(r["entry_id"])),
                          "errors": (errors or {}) if mine else {}})
        return Template("judging/admin/presentations.html", status_code=status, context={
            "round": view, "tab": "presentations", "items": items, "scheduled": len(slots),
            "invitations_sent_at": await final.invitations_sent_at(round_id),
            "editable": view.kind == "final" and view.state in ("open", "closed"), **HELPERS, **extra})

    @get("/rounds/{round_id:int}/presentations")
    async def presentations(self, round_id: int, done: str | None = None, n: int | None = None) -> Template:
        return await self._presentations_page(round_id, flash=_done_message(done, n))

    @post("/rounds/{round_id:int}/presentations/{entry_id:int}")
    async def set_presentation(self, request: Request, round_id: int, entry_id: int, data: Form
                               ) -> Template | Redirect:
        """One finalist's slot: date, time, length, link and note; errors next to their fields."""
        form = forms.slot_form(data)
        starts_at, errors = forms.parse_slot_start(form)
        minutes = forms.slot_minutes(form)
        try:
            try:
                await final.set_presentation(actor=require_actor(request), round_id=round_id, entry_id=entry_id,
                                             starts_at=starts_at or "-", minutes=minutes, link=form["link"],
                                             note=form["note"])
            except ValidationFailed as exc:
                found = {("date" if k == "starts_at" else k): v for k, v in exc.errors.items()}
                if errors:  # the date and time fields' own words, not the API's ISO example
                    found.pop("date", None)
                errors = {**found, **errors}
            if errors:
                raise ValidationFailed(errors=errors)
        except ValidationFailed as exc:
            return await self._presentations_page(
                round_id, 422, entry_id=entry_id, form=form,
                errors={f"p{entry_id}-{k}": v for k, v in exc.errors.items()},
                error=t("The slot for entry {id} was not saved: please correct the fields marked below.", id=entry_id))
        except (Conflict, NotFound) as exc:
            return await self._presentations_page(round_id, exc.status_code, error=_error_text(exc))
        done = "presentation_mailed" if await final.invitations_sent_at(round_id) else "presentation"
        return Redirect(f"/admin/judging/rounds/{round_id}/presentations?done={done}#p-{entry_id}",
                        status_code=303)

    @post("/rounds/{round_id:int}/presentations/invitations")
    async def send_invitations(self, request: Request, round_id: int) -> Template | Redirect:
        """Invite every finalist to present, at once: their slots are shown and mailed to them."""
        try:
            n = await final.send_invitations(actor=require_actor(request), round_id=round_id)
        except Conflict as exc:
            return await self._presentations_page(round_id, exc.status_code, error=_error_text(exc))
        return _redirect(f"/admin/judging/rounds/{round_id}/presentations", "invited", n)

    # eligibility

    @_reads
    async def _eligibility_page(self, year: int, *, filters: dict[str, str], page: int = 1, status: int = 200,
                                **extra: Any) -> Template:
        edition = await admin_views.edition_row(year)
        rows = await admin_views.eligibility_entries(edition["id"], state=filters["state"] or None,
                                                     province=filters["province"] or None,
                                                     category=filters["category"] or None, page=page,
                                                     per_page=ELIGIBILITY_PER_PAGE)
        categories = stored_json(edition["categories"], [])
        extra.setdefault("form", {"reason": "", "selected": []})
        extra.setdefault("errors", {})
        return Template("judging/admin/eligibility.html", status_code=status, context={
            "edition": edition, "rows": rows, "filters": filters, "query": urlencode(
                {k: v for k, v in filters.items() if v}),
            "categories": {c["code"]: c for c in categories}, "provinces": await admin_views.entry_provinces(
                edition["id"]), "frozen": edition["state"] != "open", "states": admin_views.ELIGIBILITY_STATES,
            **HELPERS, **extra})

    @get("/{year:int}/eligibility")
    async def eligibility(self, year: int,
                          entry_state: str | None = Parameter(query="state", default=None, required=False),
                          province: str | None = None, category: str | None = None, page: int = 1,
                          done: str | None = None, n: int | None = None) -> Template:
        filters = {"state": entry_state or "", "province": province or "", "category": category or ""}
        return await self._eligibility_page(year, filters=filters, page=page, flash=_done_message(done, n))

    @post("/{year:int}/eligibility")
    async def set_eligibility(self, request: Request, year: int, data: Form) -> Template | Redirect:
        edition = await admin_views.edition_row(year)
        filters = {k: forms.field_text(data, f"filter_{k}") for k in ("state", "province", "category")}
        page = forms.page_number(forms.field_text(data, "page"))
        action = forms.field_text(data, "action")
        reason = forms.field_text(data, "reason")
        selected = forms.parse_entry_ids(forms.field_values(data, "entry_ids"))
        form = {"reason": reason, "selected": selected}
        try:
            if action not in ("eligible", "ineligible"):
                raise ValidationFailed(errors={"action": t("Choose eligible or not eligible.")})
            if forms.field_text(data, "scope") == "filtered":
                ids = await admin_views.eligibility_ids(edition["id"], state=filters["state"] or None,
                                                        province=filters["province"] or None,
                                                        category=filters["category"] or None)
            else:
                ids = selected
            if not ids:
                raise ValidationFailed(errors={"entry_ids": t("Tick at least one entry, or choose every entry "
                                                              "matching the filters.")})
            changed = await outcomes.set_eligibility(actor=require_actor(request), entry_ids=ids, year=year,
                                                     eligible=action == "eligible", reason=reason)
        except ValidationFailed as exc:
            return await self._eligibility_page(year, filters=filters, page=page, status=422, form=form,
                                                errors=exc.errors)
        except (Conflict, NotFound) as exc:
            return await self._eligibility_page(year, filters=filters, page=page, status=exc.status_code,
                                                form=form, error=_error_text(exc))
        query = {k: v for k, v in filters.items() if v}
        return _redirect(f"/admin/judging/{year}/eligibility", action, len(changed), **query,
                         page=page if page > 1 else None)


__all__ = ["JudgingAdminPages"]
