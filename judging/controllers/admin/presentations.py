"""The final round's presentation slots: one finalist's slot at a time, and the invitations that
show and mail every finalist its own."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from contest.confirmation import Confirmation, confirmation_page
from contest.db import one_read
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.guards import require_actor
from contest.i18n import t
from judging import forms
from judging.controllers.admin.shared import HELPERS, AdminPages, Form, done_message, reads, redirect
from judging.controllers.labels import error_text, round_kind_label
from judging.domain import admin_views, final, rounds
from judging.enums import RoundKind, RoundState


class PresentationPages(AdminPages):
    """The final's presentation slots and the invitations to present."""

    @reads
    async def _presentations_page(self, round_id: int, status: int = 200, *, entry_id: int | None = None,
                                  form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                                  **extra: Any) -> Template:
        view = await rounds.get_round(round_id)
        rows = await admin_views.finalists(round_id) if view.kind == RoundKind.final else []
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
            "editable": view.kind == RoundKind.final and view.state in (RoundState.open, RoundState.closed),
            "slot_start_label": forms.slot_start_label, **HELPERS, **extra})

    @get("/rounds/{round_id:int}/presentations")
    async def presentations(self, round_id: int, done: str | None = None, n: int | None = None) -> Template:
        return await self._presentations_page(round_id, flash=done_message(done, n))

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
            return await self._presentations_page(round_id, exc.status_code, error=error_text(exc))
        done = "presentation_mailed" if await final.invitations_sent_at(round_id) else "presentation"
        return Redirect(f"/admin/judging/rounds/{round_id}/presentations?done={done}#p-{entry_id}",
                        status_code=303)

    @get("/rounds/{round_id:int}/presentations/invitations")
    async def confirm_invitations(self, round_id: int) -> Template:
        """Before the finalists are mailed: how many, and that mail cannot be called back."""
        async with one_read():
            view = await rounds.get_round(round_id)
            rows = await admin_views.finalists(round_id) if view.kind == RoundKind.final else []
            scheduled = len(await final.list_presentations(round_id))
            sent = await final.invitations_sent_at(round_id)
        blocked = None
        if view.kind != RoundKind.final or view.state not in (RoundState.open, RoundState.closed):
            blocked = t("Invitations belong to an open or closed final round.")
        elif sent:
            blocked = t("The finalists were already invited to present.")
        elif scheduled < len(rows):
            blocked = t("{n} finalists have no presentation slot yet: give every finalist a slot first.",
                        n=len(rows) - scheduled)
        return confirmation_page(Confirmation(
            title=t("Invite every finalist to present?"),
            facts=[(t("Round"), f"{round_kind_label(view.kind)} · {t('Edition {year}', year=view.year)}"),
                   (t("Finalists"), str(len(rows))), (t("Slots set"), str(scheduled))],
            happens=[t("Each finalist organisation's staff are mailed their own presentation slot, and the "
                       "organisation sees it on its entries page."),
                     t("A slot moved afterwards is mailed to its organisation again.")],
            cannot_undo=t("Mail that has been sent cannot be called back, and the invitations cannot be sent twice."),
            action=f"/admin/judging/rounds/{round_id}/presentations/invitations",
            confirm=t("Yes, invite every finalist"), cancel=f"/admin/judging/rounds/{round_id}/presentations",
            blocked=blocked))

    @post("/rounds/{round_id:int}/presentations/invitations")
    async def send_invitations(self, request: Request, round_id: int) -> Template | Redirect:
        """Invite every finalist to present, at once: their slots are shown and mailed to them."""
        try:
            n = await final.send_invitations(actor=require_actor(request), round_id=round_id)
        except Conflict as exc:
            return await self._presentations_page(round_id, exc.status_code, error=error_text(exc))
        return redirect(f"/admin/judging/rounds/{round_id}/presentations", "invited", n)
