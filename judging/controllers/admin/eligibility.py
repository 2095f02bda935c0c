"""An edition's eligibility tab: the submitted entries, filtered and paginated, marked eligible
or not eligible (ticked ones, or every one the filters match) with a reason."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from contest.db import stored_json
from contest.domain import outcomes
from contest.enums import EditionState
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.guards import require_actor
from contest.i18n import t
from judging import forms
from judging.controllers.admin.shared import HELPERS, AdminPages, Form, done_message, reads, redirect
from judging.controllers.labels import error_text
from judging.domain import admin_views, round_rows

ELIGIBILITY_PER_PAGE = 100


class EligibilityPages(AdminPages):
    """Marking an edition's submitted entries eligible or not."""

    @reads
    async def _eligibility_page(self, year: int, *, filters: dict[str, str], page: int = 1, status: int = 200,
                                **extra: Any) -> Template:
        edition = await round_rows.edition_row(year)
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
                edition["id"]), "frozen": edition["state"] != EditionState.open,
            "states": admin_views.ELIGIBILITY_STATES,
            **HELPERS, **extra})

    @get("/{year:int}/eligibility")
    async def eligibility(self, year: int,
                          entry_state: str | None = Parameter(query="state", default=None, required=False),
                          province: str | None = None, category: str | None = None, page: int = 1,
                          done: str | None = None, n: int | None = None) -> Template:
        filters = {"state": entry_state or "", "province": province or "", "category": category or ""}
        return await self._eligibility_page(year, filters=filters, page=page, flash=done_message(done, n))

    @post("/{year:int}/eligibility")
    async def set_eligibility(self, request: Request, year: int, data: Form) -> Template | Redirect:
        edition = await round_rows.edition_row(year)
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
                                                form=form, error=error_text(exc))
        query = {k: v for k, v in filters.items() if v}
        return redirect(f"/admin/judging/{year}/eligibility", action, len(changed), **query,
                        page=page if page > 1 else None)
