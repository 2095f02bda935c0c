"""A round's progress tab, the round's judging cockpit: how far each member has scored (grouped
in SQL by ``scoring.progress``), the burn-down to the deadline and the disagreements near the cut
(``judging.domain.round_cockpit``), the judging quality (``judging.domain.quality``), an extra
reader for chosen entries (``judging.domain.extra_readers``), reminders, one member's sheets, and
reopening a submitted sheet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from markupsafe import Markup, escape

from contest import clock
from contest.db import one_read, snapshot_mark
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.guards import require_actor
from contest.i18n import format_date, t
from judging import forms
from judging.controllers.admin.charts import burn_down_summary, burn_down_svg
from judging.controllers.admin.shared import HELPERS, AdminPages, Form, done_message, reads, redirect
from judging.controllers.labels import error_text
from judging.domain import admin_views, calibration, extra_readers, quality, round_cockpit, round_rows, scoring
from judging.enums import RoundKind, RoundState

MEMBER_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class _ProgressReads:
    """What the progress page shows from the database (shared between requests: read only)."""

    view: admin_views.RoundHead
    progress: dict[str, Any] | None
    figures: dict[str, Any] | None
    burn: round_cockpit.BurnDown | None
    near: list[round_cockpit.NearCut]
    criteria: list[dict[str, Any]]
    calibration: dict[str, Any] | None


# Per round: (the database's mark, what the page read under it); see ``_progress_page``.
_KEPT: dict[int, tuple[str, _ProgressReads]] = {}
_KEPT_MAX = 16


def alpha_label(alpha: float | None) -> str:
    """How far an agreement figure can be relied on, by Krippendorff's own thresholds: at least
    0.800 reliable, at least 0.667 for tentative conclusions only, below that not reliable."""
    if alpha is None:
        return t("Not enough data")
    if alpha >= 0.8:
        return t("Reliable")
    if alpha >= 0.667:
        return t("Tentative")
    return t("Low agreement")


def incomplete_rows(entries: list[dict[str, Any]]) -> Markup:
    """The rows of the entries not fully reviewed (up to a few hundred), written out: the same
    HTML the template's loop gave, every text escaped, at a fraction of the cost."""
    untitled = t("(untitled entry)")
    return Markup("".join(
        f'\n      <tr><td>{e["entry_id"]}</td><td><a href="/admin/entries/{e["entry_id"]}">'
        f'{escape(e["title"] or untitled)}</a><br><span class="hint">{escape(e["organisation_name_th"])}</span></td>'
        f'\n        <td class="num">{e["reviewers"]}</td><td class="num">{e["needed"]}</td>'
        f'<td class="num">{e["submitted"]}</td></tr>' for e in entries))


class ProgressPages(AdminPages):
    """Scoring progress, reminders, one member's sheets and reopening one."""

    @reads
    async def _progress_reads(self, round_id: int) -> _ProgressReads:
        """What the page shows from the database, its reads taken together (``reads``)."""
        # The round's row, read once here, serves the head, progress, quality and cockpit steps.
        row: dict[str, Any] | None = await round_rows.get_round_row(round_id)
        view = await admin_views.round_head(round_id, row)
        if view.state == RoundState.draft:
            row = None
        progress, submitted = await scoring.progress_and_sheets(round_id, row=row) if row is not None \
            else (None, None)
        computed: quality.Quality | None = None
        burn: round_cockpit.BurnDown | None = None
        near: list[round_cockpit.NearCut] = []
        if progress:
            row, fingerprint, computed = await quality.round_quality_read(round_id, row=row, submitted=submitted)
            burn, near = await round_cockpit.cockpit_figures(round_id, computed, total=progress["reviews"], row=row,
                                                             fingerprint=fingerprint)
        criteria = await round_rows.criteria_of(round_id, rules_hash=row["rules_hash"]) if progress and row else []
        calibrated = await calibration.committee_view(round_id) \
            if progress and view.kind == RoundKind.screening and await calibration.has_entries(round_id) else None
        return _ProgressReads(view=view, progress=progress, figures=computed.as_dict() if computed else None,
                              burn=burn, near=near, criteria=criteria,
                              calibration=calibrated if calibrated and calibrated["entries"] else None)

    async def _progress_page(self, round_id: int, status: int = 200, **extra: Any) -> Template:
        # Kept per round while the database is unchanged (PostgreSQL; the mark is read first, so
        # what is kept is at least as new as its mark), and while the burn-down's today is today.
        mark = await snapshot_mark()
        kept = _KEPT.get(round_id)
        if mark is not None and kept is not None and kept[0] == mark and (
                kept[1].burn is None or kept[1].burn.today == round_cockpit.bangkok_day(clock.now())):
            data = kept[1]
        else:
            data = await self._progress_reads(round_id)
            if mark is not None:
                if len(_KEPT) >= _KEPT_MAX and round_id not in _KEPT:
                    _KEPT.pop(next(iter(_KEPT)))
                _KEPT[round_id] = (mark, data)
        progress, burn = data.progress, data.burn
        return Template("judging/admin/progress.html", status_code=status, context={
            "calibration": data.calibration,
            "round": data.view, "tab": "progress", "progress": progress, "quality": data.figures,
            "criteria": data.criteria, "burn": burn, "burn_chart": burn_down_svg(burn) if burn else None,
            "burn_summary": burn_down_summary(burn) if burn else "",
            "member_names": {m["user_id"]: m["name"] or m["email"] for m in progress["members"]} if progress else {},
            "near_cut": data.near, "incomplete_rows": incomplete_rows, "alpha_label": alpha_label,
            "format_date": format_date,
            "min_paired": quality.MIN_PAIRED_ENTRIES, **HELPERS, **extra})

    @get("/rounds/{round_id:int}/progress")
    async def progress(self, round_id: int, done: str | None = None, n: int | None = None,
                       picked: str | None = None) -> Template:
        readers = await extra_readers.picked_readers(round_id, forms.parse_entry_ids(
            (picked or "").split(","))) if done == "extra_readers" else []
        flash = t("{n} extra readers assigned; each was told by mail.", n=n or 0) if done == "extra_readers" \
            else done_message(done, n)
        return await self._progress_page(round_id, flash=flash, picked=readers)

    @post("/rounds/{round_id:int}/extra-readers")
    async def add_extra_readers(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        """One more reader for each ticked entry, through the balanced assignment; the next page
        confirms who was picked."""
        try:
            picked = await extra_readers.assign_extra_readers(
                actor=require_actor(request), round_id=round_id, entry_ids=forms.field_values(data, "entry_ids"))
        except ValidationFailed as exc:
            return await self._progress_page(round_id, exc.status_code, error=next(iter(exc.errors.values()), None)
                                             or error_text(exc))
        except Conflict as exc:
            return await self._progress_page(round_id, exc.status_code, error=error_text(exc))
        return redirect(f"/admin/judging/rounds/{round_id}/progress", "extra_readers", len(picked),
                        picked=",".join(str(p["assignment_id"]) for p in picked))

    @post("/rounds/{round_id:int}/reminders")
    async def reminders(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        try:
            queued = await scoring.send_reminders(actor=require_actor(request), round_id=round_id)
        except Conflict as exc:
            return await self._progress_page(round_id, exc.status_code, error=error_text(exc))
        return redirect(f"/admin/judging/rounds/{round_id}/progress", "reminders", queued)

    @reads
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
                                       flash=done_message(done, n))

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
                else error_text(exc)
        if request.headers.get("hx-request") == "true":
            async with one_read():
                head = await admin_views.round_head(round_id)
                current = await admin_views.assignment_row(assignment_id)
            return Template("judging/admin/_member_row.html", status_code=200 if message is None else status, context={
                "a": current, "round": head, "page": page, "row_errors": {assignment_id: message} if message else {},
                "reasons": {assignment_id: reason} if message else {}, "reopened": message is None, **HELPERS})
        if message is not None:
            return await self._member_page(round_id, row["reviewer"], page=page, status=status,
                                           row_errors={assignment_id: message}, reasons={assignment_id: reason})
        return redirect(f"/admin/judging/rounds/{round_id}/members/{row['reviewer']}", "reopened",
                        page=page if page > 1 else None)
