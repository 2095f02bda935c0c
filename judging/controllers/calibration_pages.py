"""A committee member's calibration pages (``judging.domain.calibration``): the calibration
entries to score before their own queue opens, and one calibration sheet (save, then submit).
Server-rendered, usable without JavaScript; the rubric notes the committee agreed on are shown."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from contest.errors import Conflict, NotFound, ValidationFailed
from contest.guards import require_actor, reviewer_required
from contest.i18n import t
from judging.controllers.labels import error_text
from judging.controllers.review_pages import HELPERS, field_errors, num, raw_scores
from judging.domain import calibration, review_views
from judging.domain.round_rows import criteria_of
from judging.enums import AssignmentState, RoundState

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class CalibrationReviewPages(Controller):
    path = "/review/rounds/{round_id:int}/calibration"
    include_in_schema = False
    guards = [reviewer_required]

    @get("/")
    async def calibration_list(self, request: Request, round_id: int, done: str | None = None) -> Template:
        actor = require_actor(request)
        # Not inside one_read(): the first visit makes the member's sheets (a write).
        info = await review_views.my_round(actor, round_id)
        mine = await calibration.my_calibration(actor, round_id)
        flash = {"submitted": t("Your calibration sheet was submitted."),
                 "open": t("Your calibration is done: your own queue is open.")}.get(done or "")
        return Template("judging/review/calibration.html", context={
            "round": info, "calibration": mine, "flash": flash, **HELPERS})

    async def _sheet(self, request: Request, round_id: int, entry_id: int, status: int = 200, *,
                     raw: dict[str, str] | None = None, comment: str | None = None,
                     errors: dict[str, str] | None = None, **extra: Any) -> Template:
        actor = require_actor(request)
        info = await review_views.my_round(actor, round_id)
        mine = await calibration.my_calibration(actor, round_id)
        sheet = next((e for e in mine["entries"] if e["entry_id"] == entry_id), None)
        if sheet is None:
            raise NotFound("No such calibration entry.", code="calibration_entry_not_found")
        criteria = await criteria_of(round_id)
        return Template("judging/review/calibration_sheet.html", status_code=status, context={
            "round": info, "calibration": mine, "sheet": sheet, "criteria": criteria,
            "entry": await review_views.entry_for_review(actor, entry_id),
            "values": raw if raw is not None else {c["code"]: num(sheet["scores"].get(c["code"])) for c in criteria},
            "comment": comment if comment is not None else sheet["comment"], "errors": errors or {},
            "editable": sheet["state"] == AssignmentState.assigned and mine["state"] == RoundState.open,
            "rubric_notes": mine["rubric_notes"], **HELPERS, **extra})

    @get("/{entry_id:int}")
    async def sheet(self, request: Request, round_id: int, entry_id: int, saved: bool = False) -> Template:
        return await self._sheet(request, round_id, entry_id, flash=t("Saved.") if saved else None)

    @post("/{entry_id:int}")
    async def save(self, request: Request, round_id: int, entry_id: int, data: Form) -> Template | Redirect:
        """``action=save`` keeps the scores; ``action=submit`` saves and locks them."""
        actor = require_actor(request)
        criteria = await criteria_of(round_id)
        raw = raw_scores(data, criteria)
        comment = str(data.get("comment") or "")
        try:
            await calibration.save_sheet(actor=actor, round_id=round_id, entry_id=entry_id, scores=raw,
                                         comment=comment)
            if data.get("action") != "submit":
                return Redirect(f"/review/rounds/{round_id}/calibration/{entry_id}?saved=1", status_code=303)
            result = await calibration.submit_sheet(actor=actor, round_id=round_id, entry_id=entry_id)
        except ValidationFailed as exc:
            return await self._sheet(request, round_id, entry_id, 422, raw=raw, comment=comment,
                                     errors=field_errors(exc.errors, criteria, raw))
        except Conflict as exc:
            return await self._sheet(request, round_id, entry_id, exc.status_code, notice=error_text(exc))
        if result["queue_open"]:
            return Redirect(f"/review/rounds/{round_id}/calibration?done=open", status_code=303)
        return Redirect(f"/review/rounds/{round_id}/calibration?done=submitted", status_code=303)
