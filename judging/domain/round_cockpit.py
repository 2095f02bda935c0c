"""A round's judging cockpit: what the organisers watch while the committee scores.

* *Burn-down.* The sheets still to submit at the end of each Bangkok calendar day, from the day
  the round opened to its deadline (the edition's screening or final deadline; with none, to
  today), against the even pace that would reach zero on the deadline. ``total`` is the round's
  live sheets (assigned or submitted, as in ``scoring.progress``); a sheet counts as done on the
  day it was last submitted. Days after today (and after the last submission) have no actual value.
* *Near the cut.* The entries ranked within ``window`` places of the cut (the shortlist size in
  screening, the number of winners in the final; ``window`` = the larger of 5 and a quarter of the
  cut) whose submitted totals differ, by ``spread`` (highest − lowest raw weighted total, as in
  ``judging.domain.quality``), the widest first, at most 10. These are the entries where a further
  reader helps most: a wide disagreement that decides which side of the cut an entry falls.

Both are kept per round while the ranking's fingerprint (the round's last sheet change, its tie
decisions and rules) is unchanged, like the quality figures.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from contest import clock
from judging.domain.quality import Quality, round_quality_read
from judging.domain.ranking import RankedEntry
from judging.domain.round_rows import cut_of, deadline_of, get_round_row
from judging.domain.shortlist import compute_round_ranking, ranking_fingerprint
from judging.enums import AssignmentState
from judging.tables import Assignment

#: Near the cut: at least this many places either side...
NEAR_CUT_MIN = 5
#: ...or this share of the cut, whichever is larger.
NEAR_CUT_SHARE = 0.25
#: How many entries near the cut are listed.
TOP_NEAR_CUT = 10
#: A burn-down longer than this many days shows its last days only.
MAX_DAYS = 180


@dataclass(frozen=True, slots=True)
class NearCut:
    entry_id: int
    rank: int
    spread: float
    inside: bool

    def as_dict(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "rank": self.rank, "spread": round(self.spread, 6), "inside": self.inside}


@dataclass(frozen=True, slots=True)
class BurnDay:
    day: date
    remaining: int | None  # None after today
    submitted: int | None  # submitted that day
    ideal: float | None  # the even pace; None without a deadline


@dataclass(frozen=True, slots=True)
class BurnDown:
    total: int
    submitted: int
    start: date | None
    deadline: date | None
    today: date
    days: list[BurnDay]

    @property
    def behind(self) -> int | None:
        """Sheets behind the even pace today (negative: ahead); None without a deadline."""
        for d in self.days:
            if d.day == self.today and d.remaining is not None and d.ideal is not None:
                return d.remaining - math.ceil(d.ideal)
        return None


def near_cut(ranking: Sequence[RankedEntry], spreads: dict[int, float], cut: int) -> list[NearCut]:
    """The widest disagreements among the entries ranked near the cut (module docstring). Pure."""
    window = max(NEAR_CUT_MIN, math.ceil(cut * NEAR_CUT_SHARE))
    rows = [NearCut(r.entry_id, r.rank, spreads[r.entry_id], r.rank <= cut) for r in ranking
            if cut - window < r.rank <= cut + window and spreads.get(r.entry_id, 0) > 0]
    rows.sort(key=lambda n: (-n.spread, n.rank, n.entry_id))
    return rows[:TOP_NEAR_CUT]


def bangkok_day(value: datetime) -> date:
    return clock.to_bangkok(value).date()


def burn_down(*, total: int, submitted_on: Counter[date], start: date | None, deadline: date | None,
              today: date) -> BurnDown:
    """The burn-down of ``total`` sheets given how many were submitted on each day. Pure."""
    submitted = sum(submitted_on.values())
    if start is None:
        return BurnDown(total, submitted, None, deadline, today, [])
    first = min([start, *submitted_on]) if submitted_on else start
    last = max(d for d in (deadline, today, *submitted_on) if d is not None)
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
    span = max(1, ((deadline or last) - first).days)
    # A day with a submission on record has happened, whatever this server's clock says.
    known = max([today, *submitted_on])
    before = sum(n for d, n in submitted_on.items() if d < first)
    remaining = total - before
    days: list[BurnDay] = []
    day = first
    while day <= last:
        ideal = max(0.0, total * (span - (day - first).days) / span) if deadline is not None else None
        if day <= known:
            remaining -= submitted_on.get(day, 0)
            days.append(BurnDay(day, remaining, submitted_on.get(day, 0), ideal))
        else:
            days.append(BurnDay(day, None, None, ideal))
        day += timedelta(days=1)
    return BurnDown(total, submitted, first, deadline, today, days)


# Per round: (fingerprint, submitted per day) and (fingerprint, near the cut), each reused while
# the fingerprint holds.
_SUBMITTED_ON: dict[int, tuple[tuple[Any, ...], Counter[date]]] = {}
_NEAR: dict[int, tuple[tuple[Any, ...], list[NearCut]]] = {}
_COMPUTED_MAX = 16


def forget_figures() -> None:
    """Drop this process's computed cockpit figures (the next read computes afresh)."""
    _SUBMITTED_ON.clear()
    _NEAR.clear()


def _keep(store: dict[int, tuple[tuple[Any, ...], Any]], round_id: int, fingerprint: tuple[Any, ...],
          value: Any) -> None:
    if len(store) >= _COMPUTED_MAX and round_id not in store:
        store.pop(next(iter(store)))
    store[round_id] = (fingerprint, value)


async def _submitted_on(round_id: int) -> Counter[date]:
    rows = await Assignment.select(Assignment.submitted_at).where(
        (Assignment.round == round_id) & (Assignment.state == AssignmentState.submitted))
    return Counter(bangkok_day(r["submitted_at"]) for r in rows if r["submitted_at"] is not None)


async def near_cut_of(round_id: int, figures: Quality, row: dict[str, Any], fingerprint: tuple[Any, ...]
                      ) -> list[NearCut]:
    """The round's disagreements near the cut (module docstring), from the quality ``figures`` of
    its submitted sheets and the ``row`` and ``fingerprint`` they were read with: none before the
    round opens."""
    cached = _NEAR.get(round_id)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    near: list[NearCut] = []
    if row["state"] != "draft" and figures.spreads:
        _, ranking = await compute_round_ranking(round_id, with_borderline=False)
        near = near_cut(ranking, figures.spreads, cut_of(row))
    _keep(_NEAR, round_id, fingerprint, near)
    return near


async def quality_view(round_id: int) -> dict[str, Any]:
    """The quality figures as the API gives them (``Quality.as_dict``), with the disagreements
    near the cut the progress page lists. An unknown round is ``NotFound``."""
    row, fingerprint, figures = await round_quality_read(round_id)
    near = await near_cut_of(round_id, figures, row, fingerprint)
    return {**figures.as_dict(), "near_cut": [n.as_dict() for n in near]}


async def cockpit_figures(round_id: int, figures: Quality, *, total: int, row: dict[str, Any] | None = None,
                          fingerprint: tuple[Any, ...] | None = None) -> tuple[BurnDown, list[NearCut]]:
    """The round's burn-down (of ``total`` live sheets) and its disagreements near the cut, from
    the quality ``figures`` of the same sheets (with the ``row`` and ``fingerprint`` they were read
    with, when the caller has them). An unknown round is ``NotFound``."""
    if row is None:
        row = await get_round_row(round_id)
    if fingerprint is None:
        fingerprint = await ranking_fingerprint(round_id, row)
    cached = _SUBMITTED_ON.get(round_id)
    if cached is not None and cached[0] == fingerprint:
        submitted_on = cached[1]
    else:
        submitted_on = await _submitted_on(round_id)
        _keep(_SUBMITTED_ON, round_id, fingerprint, submitted_on)
    near = await near_cut_of(round_id, figures, row, fingerprint)
    deadline = deadline_of(row)
    burn = burn_down(total=total, submitted_on=submitted_on,
                     start=bangkok_day(row["opened_at"]) if row["opened_at"] else None,
                     deadline=bangkok_day(deadline) if deadline else None, today=bangkok_day(clock.now()))
    return burn, near
