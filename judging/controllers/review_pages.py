"""Committee members' pages: my rounds, my queue, and the scoring page (the entry and its files
beside the rubric; autosave; submit and go straight to the next one; declare a conflict of interest).

Server-rendered and usable without JavaScript: the score form posts normally and the file links
open the file. htmx adds autosave (a small status partial, errors next to the field) and the
in-page file viewer; ``/static/review.js`` keeps ``aria-invalid`` in step, makes Enter in a score
move to the next field (never submit), and puts the cursor in the first score still to give
when the page opens, on every screen size.

Thin: parse, guard, call one domain function (``judging.domain.scoring`` for the sheets,
``judging.domain.assignments`` for the queue and one assignment), render. Reads that the pages
need beyond those are in ``judging.domain.review_views``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from contest import clock
from contest.controllers.entry_pages import attachment_kind_label, check_label, field_labels
from contest.db import one_read
from contest.domain.audit import Actor
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.guards import require_actor, reviewer_required
from contest.i18n import current_language, localised, t
from contest.numbers import whole_number
from judging.controllers.labels import error_text, round_kind_label
from judging.domain import assignments, calibration, review_views, scoring
from judging.enums import AssignmentState, RoundState

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

PER_PAGE = 100
SHOWS = ("todo", "submitted", "all")
SCORE_STEP = 0.5
INLINE_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")
PLAYABLE_TYPES = ("video/mp4",)


# --- labels and small helpers (msgids are English; translated at render time) ---------------------

def round_state_label(state: str) -> str:
    return {"draft": t("Not open yet"), "open": t("Open for scoring"), "closed": t("Scoring closed"),
            "signed": t("Decided")}.get(state, state)


def sheet_state(state: str, scored: int, criteria: int) -> tuple[str, str]:
    """(css class, label) for one assignment in the queue."""
    if state == AssignmentState.submitted:
        return "submitted", t("Submitted")
    if state == AssignmentState.recused:
        return "recused", t("Conflict declared")
    if scored == 0:
        return "todo", t("Not started")
    if criteria and scored >= criteria:
        return "ready", t("Scored, not submitted")
    return "started", t("Started")


def num(value: Any) -> str:
    """A score as typed: 7 not 7.0, 7.5 as 7.5."""
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return str(value)


def criterion_other_name(c: dict[str, Any]) -> tuple[str, str]:
    """The name in the other language, with its language code, when there is one."""
    if current_language.get() == "en":
        return (c["name_th"], "th") if c.get("name_en") and c["name_th"] != c["name_en"] else ("", "")
    return (c["name_en"], "en") if c.get("name_en") else ("", "")


def criterion_description(c: dict[str, Any]) -> str:
    """What the criterion asks for, in the caller's language."""
    return localised(c, "description")


def category_name(info: dict[str, Any] | None, code: str) -> str:
    return localised(info) if info else code or ""


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


HELPERS = {"round_kind_label": round_kind_label, "round_state_label": round_state_label, "sheet_state": sheet_state,
           "num": num, "criterion_name": localised, "criterion_other_name": criterion_other_name,
           "criterion_description": criterion_description, "category_name": category_name, "percent": percent,
           "check_label": check_label, "attachment_kind_label": attachment_kind_label,
           "inline_types": INLINE_TYPES, "playable_types": PLAYABLE_TYPES, "step": num(SCORE_STEP)}


def _also(n: int) -> str:
    """After a recusal: the other entries of the same organisation the conflict took away."""
    if not n or n < 1:
        return ""
    return " " + t("Your conflict with this organisation also took {n} of its other entries out of your queue "
                   "(scores you had submitted for them no longer count).", n=n)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _field(code: str) -> str:
    return f"score_{code}"


def raw_scores(data: dict[str, Any], criteria: list[dict[str, Any]]) -> dict[str, str]:
    """What the member typed, by criterion code (only the rubric's criteria are read)."""
    return {c["code"]: str(data.get(_field(c["code"])) or "").strip() for c in criteria}


def field_errors(errors: dict[str, str], criteria: list[dict[str, Any]], raw: dict[str, str]) -> dict[str, str]:
    """The domain's errors (``scores.<code>``, ``comment``) as messages next to the form's fields,
    worded for the member from what they typed and the criterion's range."""
    by_code = {c["code"]: c for c in criteria}
    out: dict[str, str] = {}
    for key, message in errors.items():
        if not key.startswith("scores."):
            out[key] = message
            continue
        code = key.split(".", 1)[1]
        c = by_code.get(code)
        if c is None:
            continue  # not a field of this form
        typed = raw.get(code, "")
        if typed == "":
            out[_field(code)] = t("Give a score for this criterion before you submit.")
            continue
        try:
            float(typed.replace(",", "."))
        except ValueError:
            out[_field(code)] = t("Enter the score as a number, from {low} to {high}.", low=num(c["min"]),
                                  high=num(c["max"]))
            continue
        out[_field(code)] = t("Enter a score from {low} to {high}.", low=num(c["min"]), high=num(c["max"]))
    return out


def error_summary(criteria: list[dict[str, Any]], errors: dict[str, str] | None,
                  recuse_errors: dict[str, str] | None) -> list[dict[str, str]]:
    """The sheet's error summary, in the order of the page: the conflict-of-interest declaration
    (it comes first, before the entry), then each criterion's score in the rubric's order, then
    the comment. Each item links to its field."""
    errors, recuse_errors = errors or {}, recuse_errors or {}
    items = [{"href": f"#f-{k}", "label": t("Conflict of interest"), "message": v}
             for k, v in recuse_errors.items()]
    for c in criteria:
        message = errors.get(_field(c["code"]))
        if message:
            items.append({"href": f"#f-{_field(c['code'])}", "label": localised(c), "message": message})
    if errors.get("comment"):
        items.append({"href": "#f-comment", "label": t("Comment"), "message": errors["comment"]})
    return items


# --- controller ---------------------------------------------------------------------------------

class ReviewPages(Controller):
    path = "/review"
    include_in_schema = False
    guards = [reviewer_required]

    # my rounds

    @get("/")
    async def my_rounds(self, request: Request) -> Template:
        actor = require_actor(request)
        async with one_read():
            rounds = await review_views.my_rounds(actor)
        return Template("judging/review/index.html", context={"rounds": rounds, **HELPERS})

    # my queue

    @get("/rounds/{round_id:int}")
    async def queue(self, request: Request, round_id: int, show: str = "todo", page: int = 1,
                    done: str | None = None, also: int = 0) -> Template | Redirect:
        actor = require_actor(request)
        async with one_read():
            info = await review_views.my_round(actor, round_id)
            try:
                rows = await assignments.reviewer_queue(actor, round_id)  # one query, each sheet's count from its row
            except Conflict as exc:
                if exc.code != "calibration_pending":
                    raise
                return Redirect(f"/review/rounds/{round_id}/calibration", status_code=303)
        show = show if show in SHOWS else "todo"
        counts = {"all": len(rows), "submitted": sum(1 for r in rows if r["state"] == AssignmentState.submitted)}
        counts["todo"] = counts["all"] - counts["submitted"]
        shown = rows if show == "all" else [r for r in rows
                                            if (r["state"] == AssignmentState.submitted) == (show == "submitted")]
        pages = max(1, -(-len(shown) // PER_PAGE))
        page = min(max(page, 1), pages)
        start = (page - 1) * PER_PAGE
        flash = None
        if done == "all":
            flash = t("You have submitted every entry in your queue. Thank you!")
        elif done == "recused":
            flash = t("Your conflict of interest was recorded; the entry was taken out of your queue.") + _also(also)
        return Template("judging/review/queue.html", context={
            "round": info, "rows": shown[start:start + PER_PAGE], "counts": counts, "show": show, "page": page,
            "pages": pages, "first_number": start + 1, "flash": flash, **HELPERS})

    @get("/rounds/{round_id:int}/next")
    async def next_one(self, request: Request, round_id: int, after: int | None = None) -> Redirect:
        """"Score the next one": the first entry still to score (after ``after``, wrapping round)."""
        actor = require_actor(request)
        await review_views.my_round(actor, round_id)
        target = await review_views.next_to_score(actor, round_id, after=after)
        if target is None:
            return Redirect(f"/review/rounds/{round_id}?done=all", status_code=303)
        return Redirect(f"/review/assignments/{target}?go=1", status_code=303)

    # the scoring page

    async def _assignment(self, actor: Actor, assignment_id: int) -> dict[str, Any]:
        row = await assignments.get_assignment(actor, assignment_id)
        if row["reviewer"] != actor.id:  # an admin opening someone's sheet here: not theirs to score
            raise NotFound("No such assignment.", code="assignment_not_found")
        return row

    async def _sheet_context(self, request: Request, assignment_id: int, *, raw: dict[str, str] | None = None,
                             comment: str | None = None, errors: dict[str, str] | None = None,
                             **extra: Any) -> dict[str, Any]:
        actor = require_actor(request)
        row = await self._assignment(actor, assignment_id)
        round_info = await review_views.my_round(actor, row["round"])
        criteria = row["criteria"]
        ctx: dict[str, Any] = {"a": row, "round": round_info, "criteria": criteria, "errors": errors or {},
                               "labels": field_labels(), **HELPERS, **extra}
        if row["state"] == AssignmentState.recused:
            return ctx  # the entry is no longer shown to a member who declared a conflict with it
        ctx["entry"] = await review_views.entry_for_review(actor, row["entry"])
        ctx["place"] = await review_views.place_in_queue(actor, row["round"], assignment_id)
        ctx["values"] = raw if raw is not None else {c["code"]: num(row["scores"].get(c["code"])) for c in criteria}
        ctx["comment"] = comment if comment is not None else row["comment"]
        ctx["scored"] = sum(1 for c in criteria if c["code"] in row["scores"])
        ctx["editable"] = row["state"] == AssignmentState.assigned and row["round.state"] == RoundState.open
        ctx["summary"] = error_summary(criteria, errors, extra.get("recuse_errors")) if ctx["editable"] else []
        ctx["rubric_notes"] = await calibration.notes_of(row["round"])
        return ctx

    async def _sheet(self, request: Request, assignment_id: int, status: int = 200, **kw: Any) -> Template:
        ctx = await self._sheet_context(request, assignment_id, **kw)
        return Template("judging/review/sheet.html", context=ctx, status_code=status)

    @get("/assignments/{assignment_id:int}")
    async def sheet(self, request: Request, assignment_id: int, done: str | None = None, saved: bool = False,
                    go: bool = False, also: int = 0) -> Template | Redirect:
        flash = None
        if done == "submitted":
            flash = t("Your scores were submitted. This is the next entry to score.")
        elif done == "recused":
            flash = t("Your conflict of interest was recorded. This is the next entry to score.") + _also(also)
        elif saved:
            flash = t("Saved.")
        try:
            async with one_read():
                return await self._sheet(request, assignment_id, flash=flash)
        except Conflict as exc:
            if exc.code != "calibration_pending":
                raise
            return Redirect(f"/review/rounds/{exc.params['round_id']}/calibration", status_code=303)

    async def _save(self, request: Request, row: dict[str, Any], data: dict[str, Any], *,
                    version: int | None) -> tuple[dict[str, Any], dict[str, str]]:
        """Save the sheet (``row``, read for this request) as typed. Returns (the saved sheet, what
        was typed)."""
        raw = raw_scores(data, row["criteria"])
        try:
            saved = await scoring.save_scores(actor=require_actor(request), assignment_id=row["id"], scores=raw,
                                              comment=str(data.get("comment") or ""), version=version)
        except ValidationFailed as exc:
            exc.errors = field_errors(exc.errors, row["criteria"], raw)
            raise
        return saved, raw

    @post("/assignments/{assignment_id:int}")
    async def save(self, request: Request, assignment_id: int, data: Form) -> Template | Redirect:
        """The form without JavaScript ("Save"). What the member sees is what is saved."""
        comment = str(data.get("comment") or "")
        row = await self._assignment(require_actor(request), assignment_id)
        try:
            await self._save(request, row, data, version=None)
        except ValidationFailed as exc:
            return await self._sheet(request, assignment_id, 422, raw=raw_scores(data, row["criteria"]),
                                     comment=comment, errors=exc.errors)
        except Conflict as exc:
            return await self._sheet(request, assignment_id, exc.status_code, notice=error_text(exc))
        return Redirect(f"/review/assignments/{assignment_id}?saved=1", status_code=303)

    @post("/assignments/{assignment_id:int}/autosave")
    async def autosave(self, request: Request, assignment_id: int, data: Form) -> Template:
        """htmx partial: the save status, each field's note swapped out of band, the new version."""
        actor = require_actor(request)
        row = await self._assignment(actor, assignment_id)
        changed = request.headers.get("hx-trigger-name", "")
        ctx: dict[str, Any] = {"a": row, "criteria": row["criteria"], "changed": changed, "errors": {},
                               "time": clock.to_bangkok(clock.now()).strftime("%H:%M"), **HELPERS}
        try:
            saved, _ = await self._save(request, row, data, version=whole_number(data.get("version")))
        except ValidationFailed as exc:
            return Template("judging/review/_status.html", status_code=422,
                            context={**ctx, "result": "invalid", "errors": exc.errors})
        except Conflict as exc:
            result = "stale" if exc.code == "stale_version" else "locked"
            return Template("judging/review/_status.html", status_code=409,
                            context={**ctx, "result": result, "message": error_text(exc)})
        return Template("judging/review/_status.html", context={
            **ctx, "result": "saved", "version": saved["version"], "scored": len(saved["scores"])})

    @post("/assignments/{assignment_id:int}/submit")
    async def submit(self, request: Request, assignment_id: int, data: Form) -> Template | Redirect:
        """Save what is typed, lock it, and go straight to the next entry still to score."""
        actor = require_actor(request)
        row = await self._assignment(actor, assignment_id)
        raw = raw_scores(data, row["criteria"])
        comment = str(data.get("comment") or "")
        try:
            if row["state"] == AssignmentState.assigned and row["round.state"] == RoundState.open:
                await self._save(request, row, data, version=None)
            await scoring.submit_scores(actor=actor, assignment_id=assignment_id)
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, row["criteria"], raw) if exc.code == "incomplete" else exc.errors
            return await self._sheet(request, assignment_id, 422, raw=raw, comment=comment, errors=errors,
                                     missing=exc.code == "incomplete")
        except Conflict as exc:
            return await self._sheet(request, assignment_id, exc.status_code, notice=error_text(exc))
        target = await review_views.next_to_score(actor, row["round"], after=assignment_id)
        if target is None:
            return Redirect(f"/review/rounds/{row['round']}?done=all", status_code=303)
        return Redirect(f"/review/assignments/{target}?done=submitted", status_code=303)

    @post("/assignments/{assignment_id:int}/recuse")
    async def recuse(self, request: Request, assignment_id: int, data: Form) -> Template | Redirect:
        """Declare a conflict of interest: the entry leaves my queue and goes to another member."""
        actor = require_actor(request)
        row = await self._assignment(actor, assignment_id)
        reason = str(data.get("reason") or "")
        try:
            result = await scoring.recuse(actor=actor, assignment_id=assignment_id, reason=reason)
        except ValidationFailed as exc:
            return await self._sheet(request, assignment_id, 422, recuse_reason=reason,
                                     recuse_errors=exc.errors)
        except Conflict as exc:
            return await self._sheet(request, assignment_id, exc.status_code, notice=error_text(exc))
        # The conflict also took the member off the organisation's other entries: say how many.
        others = sum(1 for a in result["recused"] if a["assignment_id"] != assignment_id)
        also = f"&also={others}" if others else ""
        target = await review_views.next_to_score(actor, row["round"], after=assignment_id)
        if target is None:
            return Redirect(f"/review/rounds/{row['round']}?done=recused{also}", status_code=303)
        return Redirect(f"/review/assignments/{target}?done=recused{also}", status_code=303)

    @get("/assignments/{assignment_id:int}/files/{attachment_id:int}")
    async def file_viewer(self, request: Request, assignment_id: int, attachment_id: int) -> Template | Redirect:
        """htmx: the file shown inside the page. Without htmx: the file itself, opened in the browser."""
        actor = require_actor(request)
        row = await self._assignment(actor, assignment_id)
        if row["state"] == AssignmentState.recused:
            raise NotFound("No such file.", code="attachment_not_found")
        att = await review_views.attachment_for_review(actor, row["entry"], attachment_id)
        url = f"/api/v1/attachments/{attachment_id}/content"
        if not _is_htmx(request):
            return Redirect(f"{url}?inline=true", status_code=303)
        return Template("judging/review/_viewer.html", context={"att": att, "url": url, **HELPERS})


__all__ = ["ReviewPages"]
