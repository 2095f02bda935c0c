"""A screening round's calibration (``judging.domain.calibration``): marking its 3 to 5
calibration entries before it opens, following each member's calibration and offset from the
committee's median, and recording the rubric notes the committee agreed on."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from contest.errors import Conflict, ValidationFailed
from contest.guards import require_actor
from contest.i18n import t
from judging import forms
from judging.controllers.admin.shared import HELPERS, AdminPages, Form, reads, redirect
from judging.controllers.labels import error_text
from judging.domain import admin_views, calibration


class CalibrationPages(AdminPages):
    """Calibration entries, members' calibration offsets, the agreed rubric notes."""

    @reads
    async def _page(self, round_id: int, status: int = 200, **extra: Any) -> Template:
        view = await admin_views.round_head(round_id)
        figures = await calibration.committee_view(round_id)
        extra.setdefault("form", {"entry_ids": ", ".join(str(e["entry_id"]) for e in figures["entries"]),
                                  "rubric_notes": figures["rubric_notes"]})
        extra.setdefault("errors", {})
        return Template("judging/admin/calibration.html", status_code=status, context={
            "round": view, "tab": "calibration", "calibration": figures, "min_entries": calibration.MIN_ENTRIES,
            "max_entries": calibration.MAX_ENTRIES, **HELPERS, **extra})

    @get("/rounds/{round_id:int}/calibration")
    async def calibration_page(self, round_id: int, done: str | None = None) -> Template:
        flash = {"entries": t("The calibration entries were saved."),
                 "notes": t("The rubric notes were saved; members see them on their score sheets.")}.get(done or "")
        return await self._page(round_id, flash=flash)

    @post("/rounds/{round_id:int}/calibration")
    async def save(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        """``action=entries`` with ``entry_ids`` (numbers separated by commas or spaces), or
        ``action=notes`` with ``rubric_notes``."""
        action = forms.field_text(data, "action")
        actor = require_actor(request)
        form = {key: forms.field_text(data, key) for key in ("entry_ids", "rubric_notes")}
        try:
            if action == "notes":
                await calibration.set_notes(actor=actor, round_id=round_id, notes=form["rubric_notes"])
            else:
                ids: list[Any] = [part.lstrip("#") for part in forms.split_list(form["entry_ids"])]
                await calibration.set_entries(actor=actor, round_id=round_id, entry_ids=ids)
        except ValidationFailed as exc:
            return await self._page(round_id, 422, form=form, errors=exc.errors)
        except Conflict as exc:
            return await self._page(round_id, exc.status_code, form=form, error=error_text(exc))
        return redirect(f"/admin/judging/rounds/{round_id}/calibration", "notes" if action == "notes" else "entries")
