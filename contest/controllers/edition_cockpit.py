"""The edition cockpit: an edition's figures while submissions arrive (charts with their tables,
refreshed in place by htmx), the organisations with unsubmitted drafts and their reminder, and the
figures as XLSX. The edition's settings form is at ``/admin/editions/{year}/edit``."""

from __future__ import annotations

import math
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from markupsafe import Markup

from contest.charts import Series, Tile, bar_chart, line_chart, tile_map
from contest.domain import cockpit, cockpit_export, draft_reminders
from contest.errors import Conflict, ValidationFailed
from contest.guards import admin_required, require_actor
from contest.i18n import EN_MONTHS, THAI_MONTHS_SHORT, current_language, format_date, t
from contest.numbers import whole_number
from contest.province_tiles import PROVINCE_TILES, province_names

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

#: How often an open edition's figures ask for themselves again.
POLL_SECONDS = 30


def _short_day(day: Any) -> str:
    if current_language.get() == "th":
        return f"{day.day} {THAI_MONTHS_SHORT[day.month - 1]}"
    return f"{day.day} {EN_MONTHS[day.month - 1][:3]}"


def _trend_summary(view: dict[str, Any]) -> str:
    trend, previous = view["trend"], view["previous_year"]
    shown = [r for r in trend if r["submitted"] is not None]
    if not shown:
        return t("Submissions have not opened yet.")
    last = shown[-1]
    summary = t("By {date} ({days} days before the deadline), {submitted} entries were submitted and {drafts} "
                "were drafts.", date=format_date(last["date"], with_time=False), days=last["before"],
                submitted=f"{last['submitted']:,}", drafts=f"{last['drafts']:,}")
    if previous is not None and last["previous_submitted"] is not None:
        summary += " " + t("On the same day before its deadline, edition {year} had {n} submitted entries.",
                           year=previous, n=f"{last['previous_submitted']:,}")
    return summary


def _trend_chart(view: dict[str, Any], summary: str) -> Markup:
    trend = view["trend"]
    year, previous = view["edition"].year, view["previous_year"]
    series = [Series(t("Submitted ({year})", year=year), [r["submitted"] for r in trend], "series-a"),
              Series(t("Drafts ({year})", year=year), [r["drafts"] for r in trend], "series-b")]
    if previous is not None:
        series.append(Series(t("Submitted ({year})", year=previous), [r["previous_submitted"] for r in trend],
                             "series-previous"))
    today = next((i for i, r in enumerate(trend) if r["date"] == view["today"]), None)
    return line_chart("chart-trend", t("Entries per day toward the deadline"), summary, series,
                      [_short_day(r["date"]) for r in trend], tick_every=max(1, math.ceil(len(trend) / 5)),
                      marker=today, marker_label=t("Today"))


def _largest(rows: list[dict[str, Any]], total: int) -> str:
    if not total:
        return t("No entries yet.")
    top = max(rows, key=lambda r: r["entries"])
    return t("Most entries: {label}, {n} of {total}.", label=top["label"], n=f"{top['entries']:,}",
             total=f"{total:,}")


def _province_map(view: dict[str, Any]) -> tuple[Markup, str]:
    """The 77 provinces as a tile map, shaded by their entries, and its one-sentence summary."""
    english = current_language.get() == "en"
    entries = {p["province_code"]: p["entries"] for p in view["provinces"]}
    names = province_names()
    tiles = [Tile(column, row, short, names[code][1] if english else names[code][0], entries.get(code, 0))
             for code, (column, row, short) in PROVINCE_TILES.items()]
    if view["provinces"]:
        top = view["provinces"][0]  # the most entries first
        summary = t("Entries from {n} of 77 provinces; the most from {name} ({count}).",
                    n=view["totals"]["provinces"], name=top["name"], count=f"{top['entries']:,}")
    else:
        summary = t("No entries yet.")
    return tile_map("chart-provinces", t("Map of entries by province"), summary, tiles,
                    none_label=t("No entries")), summary


def _charts(view: dict[str, Any]) -> dict[str, Any]:
    """Each chart (SVG) and its one-sentence summary, which the SVG's description repeats."""
    total = view["totals"]["entries"]
    out: dict[str, Any] = {"trend_summary": _trend_summary(view)}
    out["trend"] = _trend_chart(view, out["trend_summary"])
    out["provinces"], out["provinces_summary"] = _province_map(view)
    for key, title in (("regions", t("Entries by region")), ("kinds", t("Entries by kind of organisation")),
                       ("categories", t("Entries by category"))):
        out[f"{key}_summary"] = _largest(view[key], total)
        out[key] = bar_chart(f"chart-{key}", title, out[f"{key}_summary"],
                             [(r["label"], r["entries"]) for r in view[key]])
    return out


def _flash(reminded: str | None, recently: str | None, unreachable: str | None) -> str | None:
    numbers = [whole_number(v) if v is not None and v.isascii() and v.isdigit() else None
               for v in (reminded, recently, unreachable)]
    if numbers[0] is None:
        return None
    text = t("Reminders were sent to {n} organisations.", n=numbers[0])
    if numbers[1]:
        text += " " + t("{n} organisations were reminded less than a day ago and were not mailed again.",
                        n=numbers[1])
    if numbers[2]:
        text += " " + t("{n} organisations have no verified member and no contact address to mail.", n=numbers[2])
    return text


class EditionCockpitPages(Controller):
    path = "/admin/editions"
    guards = [admin_required]
    include_in_schema = False

    async def _context(self, request: Request, year: int) -> dict[str, Any]:
        view = await cockpit.cockpit_view(actor=require_actor(request), year=year, draft_rows=cockpit.DRAFT_ROWS)
        recent = await draft_reminders.recent_reminders(view["edition"].id)
        return {"view": view, "charts": _charts(view), "recent": recent, "poll_seconds": POLL_SECONDS,
                "draft_rows": cockpit.DRAFT_ROWS, "year": year}

    @get("/{year:int}")
    async def cockpit_page(self, request: Request, year: int, reminded: str | None = None,
                           recently: str | None = None, unreachable: str | None = None) -> Template:
        """The cockpit. Old bookmarks of the settings form land here; it links to the form."""
        context = await self._context(request, year)
        return Template("contest/admin/edition_cockpit.html",
                        context={**context, "flash": _flash(reminded, recently, unreachable)})

    @post("/{year:int}")
    async def old_settings_form(self, year: int) -> Redirect:
        """A settings form opened before the form moved to ``/edit`` posts here: 307 sends the same
        request (method, fields, CSRF token) on to the form's address."""
        return Redirect(f"/admin/editions/{year}/edit", status_code=307)

    @get("/{year:int}/figures")
    async def cockpit_figures(self, request: Request, year: int) -> Template:
        """htmx partial: the figures alone, asking for themselves again while submissions are open."""
        return Template("contest/admin/_cockpit_figures.html", context=await self._context(request, year))

    @post("/{year:int}/reminders")
    async def remind(self, request: Request, year: int, data: Form) -> Template | Redirect:
        raw = str(data.get("organisation", "") or "")
        organisation = whole_number(raw) if raw else None
        try:
            if raw and organisation is None:
                raise ValidationFailed(errors={"organisation": t(
                    "This organisation has no draft in this edition (it may have just submitted).")})
            report = await draft_reminders.remind_drafts(
                actor=require_actor(request), year=year,
                organisation_ids=[organisation] if organisation is not None else None)
        except (Conflict, ValidationFailed) as exc:
            errors = getattr(exc, "errors", None) or {}
            message = next(iter(errors.values()), None) or t(exc.message, **exc.params)
            context = await self._context(request, year)
            return Template("contest/admin/edition_cockpit.html", status_code=exc.status_code,
                            context={**context, "error": message})
        return Redirect(f"/admin/editions/{year}?reminded={len(report.reminded)}&recently={len(report.recently)}"
                        f"&unreachable={len(report.unreachable)}#drafts", status_code=303)

    @get("/{year:int}/cockpit.xlsx")
    async def cockpit_xlsx(self, request: Request, year: int) -> Response[bytes]:
        view = await cockpit.cockpit_view(actor=require_actor(request), year=year)
        return Response(cockpit_export.cockpit_xlsx(view), media_type=cockpit_export.XLSX_TYPE, headers={
            "Content-Disposition": f'attachment; filename="edition-{year}-figures.xlsx"'})
