"""The organiser's figures for one edition, while submissions arrive: entries by state, per day
toward the deadline (drafts and submitted, cumulative, with the previous edition beside them),
by province, by kind of organisation and by category, and the days left.

Days are Bangkok calendar days. An entry counts as a draft on a day from its creation until it is
submitted; as submitted from then on; a withdrawn entry counts on no day (its history is not
kept day by day). Every figure is one GROUP BY in the database: the page stays fast at 7,000
entries (``bench/cockpit``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from contest import clock
from contest.db import is_sqlite
from contest.domain.audit import Actor
from contest.domain.editions import get_edition
from contest.rules import require_organiser
from contest.tables import Edition, Entry

#: Entries that count in the figures (a withdrawn entry is left out everywhere but by state).
_LIVE = "state <> 'withdrawn'"


def _day(value: datetime) -> date:
    return clock.to_bangkok(value).date()


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await Entry.raw(sql, *args)
    return rows


def _bangkok_day(column: str) -> str:
    """SQL for the Bangkok calendar day of a timestamp column, as text YYYY-MM-DD."""
    if is_sqlite():
        return f"date({column}, '+7 hours')"
    return f"to_char({column} AT TIME ZONE 'Asia/Bangkok', 'YYYY-MM-DD')"


async def _per_day(edition_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """Entries created and entries submitted per Bangkok day (withdrawn ones left out)."""
    out = []
    for column in ("created_at", "submitted_at"):
        rows = await _rows(
            f"SELECT {_bangkok_day(column)} AS day, COUNT(*) AS n FROM entry "
            f"WHERE edition = {{}} AND {_LIVE} AND {column} IS NOT NULL GROUP BY 1", edition_id)
        out.append({str(r["day"]): int(r["n"]) for r in rows})
    return out[0], out[1]


def by_day(created: dict[str, int], submitted: dict[str, int], first: date, last: date) -> list[dict[str, Any]]:
    """Cumulative drafts and submitted entries at the end of each day from ``first`` to ``last``
    (what happened before ``first`` counts on ``first``)."""
    if last < first:
        return []
    made = sum(n for d, n in created.items() if d < first.isoformat())
    sent = sum(n for d, n in submitted.items() if d < first.isoformat())
    out = []
    for i in range((last - first).days + 1):
        key = (first + timedelta(days=i)).isoformat()
        made += created.get(key, 0)
        sent += submitted.get(key, 0)
        out.append({"date": key, "drafts": made - sent, "submitted": sent})
    return out


async def edition_stats(*, actor: Actor, year: int) -> dict[str, Any]:
    require_organiser(actor)
    edition = await get_edition(year, include_draft=True)
    row = await Edition.select(Edition.id).where(Edition.year == year).first()
    assert row is not None  # get_edition found it
    edition_id = row["id"]
    today = _day(clock.now())
    first, closes = _day(edition.submission_opens_at), _day(edition.submission_closes_at)
    last = min(today, closes)
    states = await _rows("SELECT state, COUNT(*) AS n FROM entry WHERE edition = {} GROUP BY state", edition_id)
    provinces = await _rows(
        "SELECT o.province_code, o.province_name_th AS name_th, COUNT(*) AS entries, "
        "COUNT(DISTINCT e.organisation) AS organisations FROM entry e JOIN organisation o ON o.id = e.organisation "
        f"WHERE e.edition = {{}} AND e.{_LIVE} GROUP BY o.province_code, o.province_name_th", edition_id)
    kinds = await _rows(
        "SELECT o.kind, COUNT(*) AS n FROM entry e JOIN organisation o ON o.id = e.organisation "
        f"WHERE e.edition = {{}} AND e.{_LIVE} GROUP BY o.kind", edition_id)
    categories = await _rows(f"SELECT category, COUNT(*) AS n FROM entry WHERE edition = {{}} AND {_LIVE} "
                             "GROUP BY category", edition_id)
    previous = await Edition.select(Edition.id, Edition.year, Edition.submission_opens_at).where(
        Edition.year < year).order_by(Edition.year, ascending=False).first()
    previous_by_day: list[dict[str, Any]] = []
    if previous is not None:
        # Aligned on days since submission opened, so the two years read as one chart.
        prev_first = _day(previous["submission_opens_at"])
        previous_by_day = [{**d, "day": i} for i, d in enumerate(
            by_day(*await _per_day(previous["id"]), prev_first, prev_first + timedelta(days=(last - first).days)))]
    return {
        "year": year,
        "entries_by_state": {r["state"]: int(r["n"]) for r in sorted(states, key=lambda r: r["state"])},
        "by_day": by_day(*await _per_day(edition_id), first, last),
        "previous_year": previous["year"] if previous is not None else None,
        "previous_by_day": previous_by_day,
        "by_province": sorted(({"province_code": p["province_code"], "name_th": p["name_th"],
                                "entries": int(p["entries"]), "organisations": int(p["organisations"])}
                               for p in provinces), key=lambda p: (-p["entries"], p["province_code"])),
        "by_kind": {r["kind"]: int(r["n"]) for r in sorted(kinds, key=lambda r: r["kind"])},
        "by_category": {(r["category"] or ""): int(r["n"])
                        for r in sorted(categories, key=lambda r: r["category"] or "")},
        "days_left": max(0, (closes - today).days) if clock.now() < edition.submission_closes_at else 0,
        "submission_closes_at": edition.submission_closes_at,
    }
