"""The organiser's figures for one edition, while submissions arrive: entries by state, per day
toward the deadline (drafts and submitted, cumulative, with the previous edition beside them),
by province, by kind of organisation and by category, and the days left.

Days are Bangkok calendar days. An entry counts as a draft on a day from its creation until it is
submitted; as submitted from then on; a withdrawn entry counts on no day (its history is not
kept day by day).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from contest import clock
from contest.domain.audit import Actor
from contest.domain.editions import get_edition
from contest.enums import EntryState
from contest.rules import require_organiser
from contest.tables import Edition, Entry


def _day(value: datetime) -> date:
    return clock.to_bangkok(value).date()


async def _entries(edition_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await Entry.select(
        Entry.state, Entry.created_at, Entry.submitted_at, Entry.category, Entry.organisation,
        Entry.organisation._.kind.as_alias("kind"), Entry.organisation._.province_code.as_alias("province_code"),
        Entry.organisation._.province_name_th.as_alias("province_name_th"),
    ).where(Entry.edition == edition_id)
    return rows


def by_day(rows: list[dict[str, Any]], first: date, last: date) -> list[dict[str, Any]]:
    """Cumulative drafts and submitted entries at the end of each day from ``first`` to ``last``."""
    if last < first:
        return []
    span = (last - first).days + 1
    created = [0] * (span + 1)
    submitted = [0] * (span + 1)
    for r in rows:
        if r["state"] == EntryState.withdrawn:
            continue
        c = min(max((_day(r["created_at"]) - first).days, 0), span)
        created[c] += 1
        if r["submitted_at"] is not None:
            s = min(max((_day(r["submitted_at"]) - first).days, 0), span)
            submitted[s] += 1
    out, made, sent = [], 0, 0
    for i in range(span):
        made += created[i]
        sent += submitted[i]
        out.append({"date": (first + timedelta(days=i)).isoformat(), "drafts": made - sent, "submitted": sent})
    return out


async def edition_stats(*, actor: Actor, year: int) -> dict[str, Any]:
    require_organiser(actor)
    edition = await get_edition(year, include_draft=True)
    row = await Edition.select(Edition.id).where(Edition.year == year).first()
    assert row is not None  # get_edition found it
    rows = await _entries(row["id"])
    today = _day(clock.now())
    first, closes = _day(edition.submission_opens_at), _day(edition.submission_closes_at)
    last = min(today, closes)

    provinces: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["state"] == EntryState.withdrawn:
            continue
        p = provinces.setdefault(r["province_code"], {"province_code": r["province_code"],
                                                      "name_th": r["province_name_th"], "entries": 0,
                                                      "organisations": set()})
        p["entries"] += 1
        p["organisations"].add(r["organisation"])
    live = [r for r in rows if r["state"] != EntryState.withdrawn]
    previous = await Edition.select(Edition.id, Edition.year, Edition.submission_opens_at).where(
        Edition.year < year).order_by(Edition.year, ascending=False).first()
    previous_by_day: list[dict[str, Any]] = []
    if previous is not None:
        # Aligned on days since submission opened, so the two years read as one chart.
        prev_rows = await _entries(previous["id"])
        prev_first = _day(previous["submission_opens_at"])
        previous_by_day = [{**d, "day": i} for i, d in enumerate(
            by_day(prev_rows, prev_first, prev_first + timedelta(days=(last - first).days)))]
    return {
        "year": year,
        "entries_by_state": dict(sorted(Counter(r["state"] for r in rows).items())),
        "by_day": by_day(rows, first, last),
        "previous_year": previous["year"] if previous is not None else None,
        "previous_by_day": previous_by_day,
        "by_province": sorted(({**p, "organisations": len(p["organisations"])} for p in provinces.values()),
                              key=lambda p: (-p["entries"], p["province_code"])),
        "by_kind": dict(sorted(Counter(r["kind"] for r in live).items())),
        "by_category": dict(sorted(Counter(r["category"] or "" for r in live).items())),
        "days_left": max(0, (closes - today).days) if clock.now() < edition.submission_closes_at else 0,
        "submission_closes_at": edition.submission_closes_at,
    }
