"""A round's ranking and decision tabs: the ranking (paginated; the only pages that compute it),
the committee's order for tied entries, the proposed decision with its overrides, and its two
signatures."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from contest.confirmation import Confirmation, confirmation_page
from contest.db import one_read
from contest.domain import outcomes
from contest.errors import Conflict, ValidationFailed
from contest.guards import require_actor
from contest.i18n import t
from judging import forms
from judging.controllers.admin.shared import (
    HELPERS,
    AdminPages,
    Form,
    done_message,
    entry_state_label,
    grouped,
    reads,
    redirect,
)
from judging.controllers.labels import error_text, round_kind_label
from judging.domain import admin_views, rounds, shortlist
from judging.domain.round_rows import get_round_row
from judging.enums import RoundState

RANKING_PER_PAGE = 100


class RankingPages(AdminPages):
    """The ranking, tie orders, the decision and its signatures."""

    @reads
    async def _ranking_page(self, round_id: int, *, page: int = 1, show: str = "", status: int = 200,
                            **extra: Any) -> Template:
        row = await get_round_row(round_id)
        view = await rounds.get_round(round_id, row=row)
        context: dict[str, Any] = {"round": view, "tab": "ranking", "show": show, **HELPERS}
        if view.state == RoundState.draft:
            context["not_open"] = True
            return Template("judging/admin/ranking.html", status_code=status, context={**context, **extra})
        ranking = await shortlist.ranking_items(round_id, row=row, shared=True)
        items = ranking["items"]
        if show == "flagged":
            items = [i for i in items if i["borderline"] or i["tied"]]
        total = len(items)
        page = admin_views.clamp_page(page, total, RANKING_PER_PAGE)
        # The rows shown get their titles: copies (the ranking's rows are shared).
        shown = [dict(i) for i in items[(page - 1) * RANKING_PER_PAGE: page * RANKING_PER_PAGE]]
        groups = admin_views.tied_groups(ranking["items"])
        groups = [[dict(i) for i in g] for g in groups[:50]] + groups[50:]
        await shortlist.with_entry_info([*shown, *(i for g in groups[:50] for i in g)])
        cut = ranking["cut"]
        ranked = borderline = tied = 0
        last_inside = None
        for i in ranking["items"]:  # listed best first, unranked entries last
            if i["rank"] is not None:
                ranked += 1
                if i["rank"] <= cut:
                    last_inside = i["entry_id"]
            borderline += i["borderline"]
            tied += i["tied"]
        context.update(
            items=shown, rows=admin_views.Page(shown, total, page, RANKING_PER_PAGE), cut=cut,
            ranked=ranked, borderline=borderline, tied=tied, groups=groups[:50], group_count=len(groups),
            decisions=await admin_views.tie_decisions(round_id), criteria=view.criteria, last_inside=last_inside,
        )
        extra.setdefault("tie_form", {})
        extra.setdefault("tie_errors", {})
        return Template("judging/admin/ranking.html", status_code=status, context={**context, **extra})

    @get("/rounds/{round_id:int}/ranking")
    async def ranking(self, round_id: int, page: int = 1, show: str = "", done: str | None = None,
                      n: int | None = None) -> Template:
        return await self._ranking_page(round_id, page=page, show=show if show == "flagged" else "",
                                        flash=done_message(done, n))

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
                                            error=error_text(exc))
        return redirect(f"/admin/judging/rounds/{round_id}/ranking", "tie")

    # decision and signatures

    @reads
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
        return await self._decision_page(round_id, flash=done_message(done, n),
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
                                             error=" ".join(other) or error_text(exc))
        except Conflict as exc:
            return await self._decision_page(round_id, exc.status_code, rows=rows, actor_id=actor.id,
                                             error=error_text(exc), error_code=exc.code,
                                             tied_ids=exc.params.get("entry_ids") or [])
        return redirect(f"/admin/judging/rounds/{round_id}/decision", "decided")

    @get("/rounds/{round_id:int}/sign")
    async def confirm_sign(self, request: Request, round_id: int, decision_hash: str | None = None) -> Template:
        """Before signing: the proposal signed (its hash and counts), and whether this signature
        makes the decision final. ``decision_hash`` is the proposal the person read."""
        actor = require_actor(request)
        async with one_read():
            view = await rounds.get_round(round_id)
            decision = await shortlist.decision_view(round_id) if view.decision_hash else None
        cancel = f"/admin/judging/rounds/{round_id}/decision"
        inside_label, outside_label = outcomes.OUTCOMES[view.kind]
        facts = [(t("Round"), f"{round_kind_label(view.kind)} · {t('Edition {year}', year=view.year)}")]
        blocked, happens, final = None, [], False
        if decision is None or view.state != RoundState.closed:
            blocked = t("There is no proposal to sign: the round must be closed and a decision proposed first.")
        else:
            outside = len(decision["outcomes"]) - decision["inside"]
            facts += [(t("Decision hash"), decision["decision_hash"]),
                      (entry_state_label(inside_label), grouped(decision["inside"])),
                      (entry_state_label(outside_label), grouped(outside)),
                      (t("Signatures so far"), ", ".join(s["name"] or s["email"] for s in decision["signatures"])
                       or t("none"))]
            final = bool(decision["signatures"])
            if any(s["user_id"] == actor.id for s in decision["signatures"]):
                blocked = t("You have signed this proposal. A different administrator must sign it to make it final.")
            elif decision_hash and decision_hash != decision["decision_hash"]:
                blocked = t("The proposal changed after you opened it. Read the new proposal, then sign it.")
            elif final:
                happens = [t("Yours is the second signature: the decision becomes final. Every entry's outcome "
                             "is recorded and the round is locked.")]
            else:
                happens = [t("Your signature is recorded on this proposal. A second, different administrator must "
                             "sign it too before it is final.")]
            happens += [w["message"] for w in decision["warnings"]]
        return confirmation_page(Confirmation(
            title=t("Sign the decision?"), facts=facts, happens=happens,
            cannot_undo=t("A final decision cannot be changed: the outcomes stand as signed.") if final else
            t("A signature cannot be withdrawn; only a new proposal, which voids every signature, replaces it."),
            action=f"/admin/judging/rounds/{round_id}/sign", confirm=t("Yes, sign the decision"), cancel=cancel,
            hidden={"decision_hash": decision["decision_hash"]} if decision else {}, blocked=blocked))

    @post("/rounds/{round_id:int}/sign")
    async def sign(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        actor = require_actor(request)
        try:
            result = await shortlist.sign_decision(actor=actor, round_id=round_id,
                                                   decision_hash=forms.field_text(data, "decision_hash") or None)
        except Conflict as exc:
            return await self._decision_page(round_id, exc.status_code, actor_id=actor.id, error=error_text(exc),
                                             error_code=exc.code)
        return redirect(f"/admin/judging/rounds/{round_id}/decision", "final" if result["final"] else "signed")
