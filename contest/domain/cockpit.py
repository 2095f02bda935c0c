"""The organiser's figures for one edition, while submissions arrive: entries by state, per day
toward the deadline (drafts and submitted, cumulative, with the previous edition beside them),
by region and province, by kind of organisation and by category, the organisations whose drafts
are not yet submitted, and the days left.

Days are Bangkok calendar days. An entry counts as a draft on a day from its creation until it is
submitted; as submitted from then on; a withdrawn entry counts on no day (its history is not
kept day by day). Every figure is one GROUP BY in the database, and the figures of an edition are
kept in this process while its entries are unchanged: one small aggregate over the edition's
entries (their number, latest change and a checksum of ids, states, categories and organisations)
decides whether they must be counted again. The page and the API stay fast at 7,000 entries
(``bench/cockpit``).

The comparison with the previous edition is aligned on days before the deadline: "ten days
before the deadline last year, this many had submitted".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from contest import clock
from contest.db import is_sqlite
from contest.domain.audit import Actor
from contest.domain.editions import EditionView, edition_view
from contest.domain.registry import KIND_LABELS, PROVINCE_REGION, REGION_LABELS, REGIONS
from contest.enums import EntryState
from contest.errors import NotFound
from contest.i18n import current_language, format_date, localised, t, thai_sort_key
from contest.rules import require_organiser
from contest.tables import Edition, Entry

#: Entries that count in the figures (a withdrawn entry is left out everywhere but by state).
_LIVE = "state <> 'withdrawn'"
#: Organisations with drafts listed on the page (the export lists them all).
DRAFT_ROWS = 50


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


@dataclass(frozen=True)
class Figures:
    """What the database counts for one edition (independent of today and of the language)."""

    states: dict[str, int]
    created: dict[str, int]  # Bangkok day -> entries created that day (withdrawn left out)
    submitted: dict[str, int]  # Bangkok day -> entries submitted that day
    provinces: list[dict[str, Any]]
    kinds: dict[str, int]
    categories: dict[str, int]
    draft_organisations: int
    drafts: list[dict[str, Any]]  # every organisation with drafts, the longest untouched first


_FINGERPRINT = (
    "SELECT edition, COUNT(*) AS n, MAX(updated_at) AS changed, MAX(created_at) AS made, "
    "MAX(submitted_at) AS sent, SUM(id) AS ids, SUM(organisation) AS orgs, SUM(id * LENGTH(state)) AS states, "
    "SUM(id * LENGTH(category)) AS cats FROM entry WHERE edition IN ({editions}) GROUP BY edition")


async def _fingerprints(edition_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """Per edition, in one query: changes whenever an entry of it is added, removed, submitted,
    withdrawn, edited, moved to another category or organisation."""
    rows = await _rows(_FINGERPRINT.format(editions=", ".join("{}" for _ in edition_ids)), *edition_ids)
    found = {int(r["edition"]): tuple(str(v) for k, v in r.items() if k != "edition") for r in rows}
    return {i: found.get(i, ("0",)) for i in edition_ids}


async def _fingerprints_up_to(year: int) -> dict[int, tuple[Any, ...]]:
    """:func:`_fingerprints` of the edition of ``year`` and the one before it, found by year (so
    that it can be asked at the same time as the editions themselves)."""
    rows = await _rows(_FINGERPRINT.format(
        editions="SELECT id FROM edition WHERE year <= {} ORDER BY year DESC LIMIT 2"), year)
    return {int(r["edition"]): tuple(str(v) for k, v in r.items() if k != "edition") for r in rows}


async def _count(edition_id: int) -> Figures:
    per_day = []
    for column in ("created_at", "submitted_at"):
        rows = await _rows(
            f"SELECT {_bangkok_day(column)} AS day, COUNT(*) AS n FROM entry "
            f"WHERE edition = {{}} AND {_LIVE} AND {column} IS NOT NULL GROUP BY 1", edition_id)
        per_day.append({str(r["day"]): int(r["n"]) for r in rows})
    states = await _rows("SELECT state, COUNT(*) AS n FROM entry WHERE edition = {} GROUP BY state", edition_id)
    provinces = await _rows(
        "SELECT o.province_code, o.province_name_th AS name_th, o.province_name_en AS name_en, COUNT(*) AS entries, "
        "COUNT(DISTINCT e.organisation) AS organisations FROM entry e JOIN organisation o ON o.id = e.organisation "
        f"WHERE e.edition = {{}} AND e.{_LIVE} GROUP BY o.province_code, o.province_name_th, o.province_name_en",
        edition_id)
    kinds = await _rows(
        "SELECT o.kind, COUNT(*) AS n FROM entry e JOIN organisation o ON o.id = e.organisation "
        f"WHERE e.edition = {{}} AND e.{_LIVE} GROUP BY o.kind", edition_id)
    categories = await _rows(f"SELECT category, COUNT(*) AS n FROM entry WHERE edition = {{}} AND {_LIVE} "
                             "GROUP BY category", edition_id)
    drafts = await _rows(
        "SELECT o.id, o.code, o.name_th, o.name_en, o.province_name_th, o.province_name_en, COUNT(*) AS drafts, "
        "MAX(e.updated_at) AS last_change FROM entry e JOIN organisation o ON o.id = e.organisation "
        "WHERE e.edition = {} AND e.state = 'draft' "
        "GROUP BY o.id, o.code, o.name_th, o.name_en, o.province_name_th, o.province_name_en "
        "ORDER BY MAX(e.updated_at), o.code", edition_id)
    return Figures(
        states={r["state"]: int(r["n"]) for r in sorted(states, key=lambda r: r["state"])},
        created=per_day[0], submitted=per_day[1],
        provinces=sorted(({"province_code": p["province_code"], "name_th": p["name_th"], "name_en": p["name_en"] or "",
                           "entries": int(p["entries"]), "organisations": int(p["organisations"])}
                          for p in provinces), key=lambda p: (-p["entries"], p["province_code"])),
        kinds={r["kind"]: int(r["n"]) for r in sorted(kinds, key=lambda r: r["kind"])},
        categories={(r["category"] or ""): int(r["n"]) for r in sorted(categories, key=lambda r: r["category"] or "")},
        draft_organisations=len(drafts),
        drafts=[{"organisation_id": d["id"], "code": d["code"], "name_th": d["name_th"], "name_en": d["name_en"] or "",
                 "province_name_th": d["province_name_th"], "province_name_en": d["province_name_en"] or "",
                 "drafts": int(d["drafts"]), "last_change": clock.parse_time(d["last_change"])} for d in drafts],
    )


# Figures already counted, per edition, with the fingerprint they were counted at (derived data
# only: the fingerprint is read from the database on every request).
_COUNTED: dict[int, tuple[tuple[Any, ...], Figures]] = {}
_COUNTED_MAX = 16


def forget_figures() -> None:
    """Drop this process's counted figures (the next read counts afresh)."""
    _COUNTED.clear()


async def editions_figures(*edition_ids: int, fingerprints: dict[int, tuple[Any, ...]] | None = None
                           ) -> list[Figures]:
    """The editions' figures (in the order asked), each counted again only when its entries
    changed (``fingerprints``: as :func:`_fingerprints` gives them, when already read)."""
    if fingerprints is None:
        fingerprints = await _fingerprints(list(edition_ids))
    else:
        fingerprints = {i: fingerprints.get(i, ("0",)) for i in edition_ids}
    out = []
    for edition_id in edition_ids:
        kept = _COUNTED.get(edition_id)
        if kept is not None and kept[0] == fingerprints[edition_id]:
            out.append(kept[1])
            continue
        figures = await _count(edition_id)
        if len(_COUNTED) >= _COUNTED_MAX and edition_id not in _COUNTED:
            _COUNTED.pop(next(iter(_COUNTED)))
        _COUNTED[edition_id] = (fingerprints[edition_id], figures)
        out.append(figures)
    return out


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


async def _edition_figures(year: int) -> tuple[EditionView, dict[str, Any] | None, Figures, Figures | None]:
    """The edition of ``year``, the stored row of the one before it, and both their figures. On
    PostgreSQL the editions and the fingerprints of their entries are read at the same time (two
    connections of the pool): a round trip less of waiting per request."""
    if is_sqlite():
        edition, previous = await _edition_and_previous(year)
        prints = None
    else:
        (edition, previous), prints = await asyncio.gather(_edition_and_previous(year), _fingerprints_up_to(year))
    figures, *earlier = await editions_figures(edition.id, *([previous["id"]] if previous else []),
                                               fingerprints=prints)
    return edition, previous, figures, (earlier[0] if earlier else None)


async def _edition_and_previous(year: int) -> tuple[EditionView, dict[str, Any] | None]:
    """The edition of ``year`` (drafts included) and the stored row of the one before it, if any,
    in one query. An unknown year is ``NotFound``."""
    rows = await Edition.select().where(Edition.year <= year).order_by(Edition.year, ascending=False).limit(2)
    if not rows or rows[0]["year"] != year:
        raise NotFound("No such edition.")
    return edition_view(rows[0]), (rows[1] if len(rows) > 1 else None)


def previous_aligned(edition: EditionView, previous: dict[str, Any] | None, past: Figures | None,
                     today: date) -> list[dict[str, Any]]:
    """The previous edition's cumulative counts on the same days *before its own deadline* as each
    day of this edition's curve (``by_day``, from its opening to today or its deadline): "ten days
    before the deadline last year, this many had submitted". One item per item of ``by_day``, with
    the previous edition's ``date``, ``days_before_deadline`` (0 on the deadline's day) and ``day``
    (the position in ``by_day``: days since this edition opened)."""
    if previous is None or past is None:
        return []
    first, closes = _day(edition.submission_opens_at), _day(edition.submission_closes_at)
    last = min(today, closes)
    if last < first:
        return []
    prev_closes = _day(previous["submission_closes_at"])
    rows = by_day(past.created, past.submitted, prev_closes - (closes - first), prev_closes - (closes - last))
    return [{**d, "days_before_deadline": (closes - first).days - i, "day": i} for i, d in enumerate(rows)]


def _days_left(edition: EditionView, today: date) -> int:
    closes = _day(edition.submission_closes_at)
    return max(0, (closes - today).days) if clock.now() < edition.submission_closes_at else 0


async def edition_stats(*, actor: Actor, year: int) -> dict[str, Any]:
    require_organiser(actor)
    edition, previous, figures, past = await _edition_figures(year)
    today = _day(clock.now())
    first, closes = _day(edition.submission_opens_at), _day(edition.submission_closes_at)
    last = min(today, closes)
    previous_by_day = previous_aligned(edition, previous, past, today)
    return {
        "year": year,
        "entries_by_state": figures.states,
        "by_day": by_day(figures.created, figures.submitted, first, last),
        "previous_year": previous["year"] if previous is not None else None,
        "previous_by_day": previous_by_day,
        "by_province": [{k: p[k] for k in ("province_code", "name_th", "entries", "organisations")}
                        for p in figures.provinces],
        "by_kind": figures.kinds,
        "by_category": figures.categories,
        "days_left": _days_left(edition, today),
        "submission_closes_at": edition.submission_closes_at,
    }


# --- the cockpit page -----------------------------------------------------------------------


def _label(pair: tuple[str, str] | None, fallback: str) -> str:
    if pair is None:
        return fallback
    return pair[0] if current_language.get() == "th" else pair[1]


def _trend(edition: EditionView, figures: Figures, previous: dict[str, Any] | None,
           past: Figures | None, today: date) -> list[dict[str, Any]]:
    """One row per day before the deadline (0 is the deadline's day), from the earlier of the two
    editions' openings to the deadline: this edition's cumulative counts up to today, and the
    previous edition's on the same number of days before its own deadline."""
    first, closes = _day(edition.submission_opens_at), _day(edition.submission_closes_at)
    current = {(closes - date.fromisoformat(d["date"])).days: d
               for d in by_day(figures.created, figures.submitted, first, min(today, closes))}
    earlier: dict[int, dict[str, Any]] = {}
    if previous is not None and past is not None:
        prev_first, prev_closes = _day(previous["submission_opens_at"]), _day(previous["submission_closes_at"])
        earlier = {(prev_closes - date.fromisoformat(d["date"])).days: d
                   for d in by_day(past.created, past.submitted, prev_first, prev_closes)}
    span = max([(closes - first).days, *earlier])
    rows = []
    for before in range(span, -1, -1):
        now_row, then_row = current.get(before), earlier.get(before)
        day = closes - timedelta(days=before)
        rows.append({"before": before, "date": day, "label": format_date(day, with_time=False, short=True),
                     "drafts": now_row["drafts"] if now_row else None,
                     "submitted": now_row["submitted"] if now_row else None,
                     "previous_drafts": then_row["drafts"] if then_row else None,
                     "previous_submitted": then_row["submitted"] if then_row else None})
    return rows


async def cockpit_view(*, actor: Actor, year: int, draft_rows: int | None = None) -> dict[str, Any]:
    """Everything the edition cockpit shows, labelled in the reader's language: the organisations
    with drafts, the longest waiting first, all of them or the first ``draft_rows``
    (``draft_organisations`` counts them all)."""
    require_organiser(actor)
    edition, previous, figures, past = await _edition_figures(year)
    today = _day(clock.now())
    english = current_language.get() == "en"
    regions = {r: {"region": r, "label": _label(REGION_LABELS[r], r), "entries": 0, "organisations": 0}
               for r in REGIONS}
    provinces = []
    for p in figures.provinces:
        region = PROVINCE_REGION.get(p["province_code"])
        if region is not None:
            regions[region]["entries"] += p["entries"]
            regions[region]["organisations"] += p["organisations"]
        provinces.append({**p, "name": (p["name_en"] or p["name_th"]) if english else p["name_th"],
                          "region_label": _label(REGION_LABELS.get(region or ""), "")})
    named = {c["code"]: localised(c) for c in edition.categories}
    categories: list[dict[str, Any]] = [
        {"code": code, "label": named.get(code) or code or t("No category"), "entries": n}
        for code, n in figures.categories.items()]
    categories.sort(key=lambda c: (-c["entries"], thai_sort_key(c["label"])))
    kinds: list[dict[str, Any]] = [{"kind": k, "label": _label(KIND_LABELS.get(k), k), "entries": n}
                                   for k, n in figures.kinds.items()]
    kinds.sort(key=lambda k: (-k["entries"], k["kind"]))
    live = sum(n for s, n in figures.states.items() if s != EntryState.withdrawn)
    drafts = figures.states.get(EntryState.draft, 0)
    return {
        "edition": edition,
        "today": today,
        "now": clock.now(),
        "days_left": _days_left(edition, today),
        "accepting": edition.accepting_submissions,
        "closed": clock.now() >= edition.submission_closes_at,
        "totals": {"entries": live, "drafts": drafts, "submitted": live - drafts,
                   "withdrawn": figures.states.get(EntryState.withdrawn, 0),
                   "organisations": sum(p["organisations"] for p in figures.provinces),
                   "provinces": len(figures.provinces)},
        "states": figures.states,
        "trend": _trend(edition, figures, previous, past, today),
        "previous_year": previous["year"] if previous is not None else None,
        "regions": list(regions.values()),
        "provinces": provinces,
        "kinds": kinds,
        "categories": categories,
        "draft_organisations": figures.draft_organisations,
        "drafts": [{**d, "name": (d["name_en"] or d["name_th"]) if english else d["name_th"],
                    "province": (d["province_name_en"] or d["province_name_th"]) if english else d["province_name_th"]}
                   for d in figures.drafts[:draft_rows]],
    }
