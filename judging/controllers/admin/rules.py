"""A round's rules tab: creating a round, and its rubric and rules while it is a draft (frozen
once it opens). A refused form is shown again with each message beside its field; the criterion
rows are those the person typed, spare rows included."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from contest.db import one_read
from contest.errors import Conflict, ValidationFailed
from contest.guards import require_actor
from contest.i18n import localised, t
from contest.summary import in_page_order
from judging import forms
from judging.controllers.admin.shared import HELPERS, AdminPages, Form, done_message, number, redirect
from judging.controllers.labels import error_text
from judging.domain import round_rows, rounds
from judging.domain.rounds import DEFAULT_RUBRIC, DEFAULT_TIE_BREAK
from judging.enums import RoundKind


def _criteria_rows(criteria: list[dict[str, Any]], extra: int = 0) -> list[dict[str, str]]:
    """Stored criteria as the form's rows, and ``extra`` empty rows to fill in."""
    rows = [{k: number(c.get(k), 4) if k in ("weight", "min", "max") else str(c.get(k) or "")
             for k in forms.CRITERION_FIELDS} for c in criteria]
    rows += [dict.fromkeys(forms.CRITERION_FIELDS, "") for _ in range(extra)]
    return rows


def _rules_form(view: rounds.RoundView | None, kind: str = RoundKind.screening) -> dict[str, Any]:
    """The form as a round's rules stand, or for a new round DGA's default rubric."""
    if view is None:
        return {"kind": kind, "criteria": _criteria_rows(DEFAULT_RUBRIC, 1),
                "reviewers_per_entry": str(forms.DEFAULT_REVIEWERS), "normalisation": "none",
                "tie_break": list(DEFAULT_TIE_BREAK),
                "exclude_same_province": False, "seed": ""}
    return {"kind": view.kind, "criteria": _criteria_rows(view.criteria, 0 if view.frozen else 1),
            "reviewers_per_entry": str(view.reviewers_per_entry), "normalisation": view.normalisation,
            "tie_break": list(view.tie_break), "exclude_same_province": view.exclude_same_province,
            "seed": str(view.seed)}


def _rules_labels(form: dict[str, Any]) -> dict[str, str]:
    """Each field's name in the error summary."""
    labels = {"kind": t("Kind of round"), "criteria": t("Criteria"), "reviewers_per_entry": t("Reviewers per entry"),
              "normalisation": t("Normalisation"), "tie_break": t("Tie-break chain"),
              "exclude_same_province": t("Same-province rule"), "seed": t("Assignment seed")}
    parts = {"code": t("code"), "name_th": t("Thai name"), "name_en": t("English name"), "weight": t("weight"),
             "range": t("score range"), "min": t("minimum"), "max": t("maximum")}
    for i in range(len(form.get("criteria", []))):
        for part, label in parts.items():
            labels[f"criteria-{i}-{part}"] = t("Criterion {n}, {part}", n=i + 1, part=label)
    return labels


def _tie_choices(form: dict[str, Any]) -> dict[str, str]:
    """The criteria the tie-break list offers, code to name in the caller's language, in the
    rubric's order (the rows as typed, so a criterion added on the form can be chosen at once)."""
    return {row["code"].strip(): localised(row) or row["code"].strip()
            for row in form.get("criteria", []) if row.get("code", "").strip()}


def _rules_anchors(form: dict[str, Any]) -> dict[str, str]:
    """Where the error summary links for errors that are not about one input."""
    anchors = {"criteria": "criterion-0", "normalisation": "norm-none"}
    for i in range(len(form.get("criteria", []))):
        anchors[f"criteria-{i}-range"] = f"f-criteria-{i}-min"
    return anchors


def _rules_order(form: dict[str, Any]) -> list[str]:
    """The rules form's fields from top to bottom: the error summary follows them."""
    order = ["kind", "criteria"]
    for i in range(len(form.get("criteria", []))):
        order += [f"criteria-{i}-{part}" for part in ("range", "code", "weight", "min", "max", "name_th", "name_en",
                                                      "description_th", "description_en")]
    return order + ["reviewers_per_entry", "normalisation", "tie_break", "exclude_same_province", "seed"]


def _tie_break_moved(data: dict[str, Any], form: dict[str, Any]) -> bool:
    """A move in the ordered tie-break list (up, down, remove, add) applied to ``form``, which
    is shown again with the focus on the moved step; ``False`` when the form was sent to save."""
    moved = forms.tie_break_action(form["tie_break"], forms.field_text(data, "action"),
                                   forms.field_text(data, "tie_add"))
    if moved is None:
        return False
    form["tie_break"], form["focus"] = moved
    return True


class RulesPages(AdminPages):
    """Creating a round and editing its rules."""

    @staticmethod
    def _rules_page(edition: dict[str, Any], view: rounds.RoundView | None, form: dict[str, Any],
                    status: int = 200, errors: dict[str, str] | None = None, **extra: Any) -> Template:
        return Template("judging/admin/rules.html", status_code=status, context={
            "edition": edition, "round": view, "form": form, "errors": in_page_order(errors or {}, _rules_order(form)),
            "tab": "rules", "anchors": _rules_anchors(form), "labels": _rules_labels(form),
            "tie_choices": _tie_choices(form), **HELPERS, **extra})

    @get("/{year:int}/rounds/new")
    async def new_round(self, year: int, kind: str = RoundKind.screening) -> Template:
        edition = await round_rows.edition_row(year)
        return self._rules_page(edition, None, _rules_form(None, kind if kind in rounds.KINDS else RoundKind.screening))

    @post("/{year:int}/rounds")
    async def create_round(self, request: Request, year: int, data: Form) -> Template | Redirect:
        edition = await round_rows.edition_row(year)
        form, payload, row_of = forms.parse_rules(data)
        if forms.field_text(data, "action") == "add_row":
            form["criteria"].append(dict.fromkeys(forms.CRITERION_FIELDS, ""))
            return self._rules_page(edition, None, form)
        if _tie_break_moved(data, form):
            return self._rules_page(edition, None, form)
        try:
            round_id = await rounds.create_round(actor=require_actor(request), year=year,
                                                 data={**payload, "kind": form["kind"]})
        except (ValidationFailed, Conflict) as exc:
            errors = forms.rules_errors(exc.errors, row_of) if isinstance(exc, ValidationFailed) else {}
            return self._rules_page(edition, None, form, exc.status_code, errors,
                                    error=None if errors else error_text(exc))
        return redirect(f"/admin/judging/rounds/{round_id}", "created")

    @get("/rounds/{round_id:int}/rules")
    async def rules(self, round_id: int, done: str | None = None, n: int | None = None) -> Template:
        async with one_read():
            view = await rounds.get_round(round_id)
        return self._rules_page({"year": view.year}, view, _rules_form(view), flash=done_message(done, n))

    @post("/rounds/{round_id:int}/rules")
    async def save_rules(self, request: Request, round_id: int, data: Form) -> Template | Redirect:
        view = await rounds.get_round(round_id)
        form, payload, row_of = forms.parse_rules(data)
        form["kind"] = view.kind
        if forms.field_text(data, "action") == "add_row" and not view.frozen:
            form["criteria"].append(dict.fromkeys(forms.CRITERION_FIELDS, ""))
            return self._rules_page({"year": view.year}, view, form)
        if not view.frozen and _tie_break_moved(data, form):
            return self._rules_page({"year": view.year}, view, form)
        try:
            await rounds.update_round(actor=require_actor(request), round_id=round_id, data=payload)
        except ValidationFailed as exc:
            return self._rules_page({"year": view.year}, view, form, 422, forms.rules_errors(exc.errors, row_of))
        except Conflict as exc:  # frozen: show the rules as they now stand, and why nothing changed
            current = await rounds.get_round(round_id)
            return self._rules_page({"year": view.year}, current, _rules_form(current), exc.status_code,
                                    error=error_text(exc))
        return redirect(f"/admin/judging/rounds/{round_id}/rules", "saved")
