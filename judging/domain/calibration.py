"""Calibration before screening: the committee scores the same few entries first, compares, and
agrees on how to read the rubric.

* An admin marks ``MIN_ENTRIES``–``MAX_ENTRIES`` entries of a screening round as calibration
  entries while the round is a draft (fewer or more is refused; an empty list removes
  calibration). They must be entries the round will judge: eligible entries of its edition.
* Once the round is open every committee member scores each of them, on a calibration sheet of
  their own (``CalibrationSheet``: same rubric, same ranges, saved then submitted). A member's own
  queue opens only after all their calibration sheets are submitted: the domain refuses their
  assignments until then (``judging.domain.calibration_gate``), whatever the client.
* The cockpit shows, per member, the *offset from the committee's median*: for each calibration
  entry the member submitted, their weighted total (the ranking's :func:`weighted_total` under the
  round's frozen rubric) minus the median of all submitted totals on that entry; ``offset`` is the
  mean of these, ``None`` with none.
* The admin records the rubric notes the committee agreed on (``CalibrationNotes``); every member
  sees them on their score sheets.

Calibration sheets live in their own table: the ranking, the agreement figures and the shortlist
read ``Assignment`` only, so calibration scores never count in any of them.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from contest import clock
from contest.db import atomic, fetch, lock_row
from contest.domain.audit import Actor, append_event
from contest.enums import EntryState
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.i18n import t
from contest.numbers import whole_number
from contest.rules import is_organiser, require_organiser
from contest.tables import Entry
from judging.domain.assignments import stored_sheet
from judging.domain.calibration_gate import calibration_left
from judging.domain.ranking import validate_scores, weighted_total
from judging.domain.round_rows import criteria_of, get_round_row
from judging.domain.scoring import checked_sheet, rubric_of, score_error
from judging.domain.shortlist import ranking_rules
from judging.enums import AssignmentState, RoundKind, RoundState
from judging.tables import CalibrationEntry, CalibrationNotes, CalibrationSheet, Member

MIN_ENTRIES = 3
MAX_ENTRIES = 5
MAX_NOTES = 10000


# --- the admin's side -----------------------------------------------------------------------------

def _entry_ids(values: Any) -> list[int]:
    if not isinstance(values, list):
        raise ValidationFailed(errors={"entry_ids": t("List the calibration entries by number.")})
    ids = [whole_number(v) for v in values]
    if any(i is None for i in ids) or len({i for i in ids}) != len(ids):
        raise ValidationFailed(errors={"entry_ids": t("List the calibration entries by number, each once.")})
    if ids and not MIN_ENTRIES <= len(ids) <= MAX_ENTRIES:
        raise ValidationFailed(errors={"entry_ids": t(
            "Choose from {low} to {high} calibration entries (you chose {n}); or none, to calibrate no more.",
            low=MIN_ENTRIES, high=MAX_ENTRIES, n=len(ids))})
    return [int(i) for i in ids if i is not None]


async def set_entries(*, actor: Actor, round_id: int, entry_ids: Any) -> list[int]:
    """Mark the round's calibration entries (module docstring), replacing any marked before."""
    require_organiser(actor)
    ids = _entry_ids(entry_ids)
    row = await get_round_row(round_id)
    if row["kind"] != RoundKind.screening:
        raise Conflict("Calibration is for the screening round.", code="not_screening")
    if row["state"] != RoundState.draft:
        raise Conflict("Calibration entries are chosen before the round opens (this one is {state}).",
                       code="round_state", state=row["state"])
    if ids:
        found = {e["id"] for e in await Entry.select(Entry.id).where(
            Entry.id.is_in(ids) & (Entry.edition == row["edition"]) & (Entry.state == EntryState.eligible))}
        missing = [i for i in ids if i not in found]
        if missing:
            raise ValidationFailed(errors={"entry_ids": t(
                "Only eligible entries of this edition can be calibration entries: {ids}.",
                ids=", ".join(f"#{i}" for i in missing))})
    async with atomic():
        await lock_row("judging_round", round_id)
        before = sorted(r["entry"] for r in await CalibrationEntry.select(CalibrationEntry.entry).where(
            CalibrationEntry.round == round_id))
        await CalibrationEntry.delete().where(CalibrationEntry.round == round_id)
        if ids:
            await CalibrationEntry.insert(*[CalibrationEntry(key=f"{round_id}:{e}", round=round_id, entry=e,
                                                             marked_by=actor.id) for e in ids])
        await append_event(actor=actor, action="round.calibration_entries", subject_type="round",
                           subject_id=round_id, before={"entries": before}, after={"entries": sorted(ids)})
    return sorted(ids)


async def set_notes(*, actor: Actor, round_id: int, notes: Any) -> str:
    """Record the rubric notes the committee agreed on (shown to members on their sheets)."""
    require_organiser(actor)
    if not isinstance(notes, str):
        raise ValidationFailed(errors={"rubric_notes": t("The rubric notes are text.")})
    text = notes.strip()
    if len(text) > MAX_NOTES:
        raise ValidationFailed(errors={"rubric_notes": t("At most {n} characters.", n=MAX_NOTES)})
    row = await get_round_row(round_id)
    if row["state"] == RoundState.signed:
        raise Conflict("The round is {state}: its decisions can no longer change.", code="round_state",
                       state=row["state"])
    async with atomic():
        await lock_row("judging_round", round_id)
        before = await notes_of(round_id)
        await CalibrationNotes.delete().where(CalibrationNotes.round == round_id)
        await CalibrationNotes.insert(CalibrationNotes(key=str(round_id), round=round_id, note=text,
                                                       updated_by=actor.id, updated_at=clock.now()))
        await append_event(actor=actor, action="round.rubric_notes", subject_type="round", subject_id=round_id,
                           before={"notes": before}, after={"notes": text})
    return text


async def notes_of(round_id: int) -> str:
    """The rubric notes the committee agreed on ("" when none)."""
    rows = await fetch("SELECT note FROM judging_calibration_notes WHERE round = {} LIMIT 1", round_id)
    return rows[0]["note"] if rows else ""


async def has_entries(round_id: int) -> bool:
    """Whether the round has calibration entries (a written-out statement: the progress page asks
    on every request)."""
    return bool(await fetch("SELECT 1 AS found FROM judging_calibration_entry WHERE round = {} LIMIT 1", round_id))


async def entries_of(round_id: int) -> list[dict[str, Any]]:
    """The round's calibration entries with their title and organisation, by entry id."""
    rows = await CalibrationEntry.select(CalibrationEntry.entry, CalibrationEntry.entry._.title,
                                         CalibrationEntry.entry._.organisation._.name_th).where(
        CalibrationEntry.round == round_id).order_by(CalibrationEntry.entry)
    return [{"entry_id": r["entry"], "title": r["entry.title"], "organisation_name_th": r["entry.organisation.name_th"]}
            for r in rows]


def median_offsets(totals: dict[int, dict[int, float]]) -> dict[int, float]:
    """Each member's mean offset from the committee's median: ``totals`` is entry -> member ->
    weighted total of their submitted calibration sheet. Pure."""
    medians = {entry: statistics.median(by_member.values()) for entry, by_member in totals.items() if by_member}
    offsets: dict[int, list[float]] = {}
    for entry, by_member in totals.items():
        for member, total in by_member.items():
            offsets.setdefault(member, []).append(total - medians[entry])
    return {member: math.fsum(values) / len(values) for member, values in offsets.items()}


async def committee_view(round_id: int) -> dict[str, Any]:
    """The admin's view: the entries, the notes, and per member how many calibration sheets they
    submitted and their offset from the committee's median (module docstring)."""
    row = await get_round_row(round_id)
    entries = await entries_of(round_id)
    marked = {e["entry_id"] for e in entries}
    rules = ranking_rules(row, await criteria_of(round_id))
    sheets = await CalibrationSheet.select(CalibrationSheet.entry, CalibrationSheet.reviewer,
                                           CalibrationSheet.scores).where(
        (CalibrationSheet.round == round_id) & (CalibrationSheet.state == AssignmentState.submitted))
    totals: dict[int, dict[int, float]] = {}
    submitted: dict[int, int] = {}
    for s in sheets:
        if s["entry"] not in marked:
            continue
        totals.setdefault(s["entry"], {})[s["reviewer"]] = weighted_total(rules.criteria, stored_sheet(s["scores"]))
        submitted[s["reviewer"]] = submitted.get(s["reviewer"], 0) + 1
    offsets = median_offsets(totals)
    members = await Member.select(Member.user, Member.user._.name, Member.user._.email).where(
        Member.round == round_id).order_by(Member.user)
    medians = {e: statistics.median(v.values()) for e, v in totals.items()}
    return {
        "round_id": round_id, "entries": [{**e, "median": medians.get(e["entry_id"]),
                                           "sheets": len(totals.get(e["entry_id"], {}))} for e in entries],
        "rubric_notes": await notes_of(round_id),
        "members": [{"user_id": m["user"], "name": m["user.name"], "email": m["user.email"],
                     "submitted": submitted.get(m["user"], 0), "done": submitted.get(m["user"], 0) >= len(entries),
                     "offset": offsets.get(m["user"])} for m in members],
    }


# --- the member's side ----------------------------------------------------------------------------

async def _require_member(actor: Actor, round_id: int) -> dict[str, Any]:
    row = await get_round_row(round_id)
    if actor.id is None or not await Member.exists().where((Member.round == round_id) & (Member.user == actor.id)):
        raise NotFound("No such round.", code="round_not_found")
    return row


async def _ensure_sheets(round_id: int, user_id: int) -> None:
    """Every calibration entry has a sheet for the member (made on first need)."""
    marked = [r["entry"] for r in await CalibrationEntry.select(CalibrationEntry.entry).where(
        CalibrationEntry.round == round_id)]
    have = {r["entry"] for r in await CalibrationSheet.select(CalibrationSheet.entry).where(
        (CalibrationSheet.round == round_id) & (CalibrationSheet.reviewer == user_id))}
    missing = [e for e in marked if e not in have]
    if missing:
        async with atomic():
            await lock_row("judging_round", round_id)
            have = {r["entry"] for r in await CalibrationSheet.select(CalibrationSheet.entry).where(
                (CalibrationSheet.round == round_id) & (CalibrationSheet.reviewer == user_id))}
            new = [CalibrationSheet(key=f"{round_id}:{e}:{user_id}", round=round_id, entry=e, reviewer=user_id)
                   for e in missing if e not in have]
            if new:
                await CalibrationSheet.insert(*new)


async def my_calibration(actor: Actor, round_id: int) -> dict[str, Any]:
    """A member's calibration in a round: the entries with their own sheets, the rubric notes,
    and how many are left. For anyone but a member (or an admin, who gets the committee's view)
    the round does not exist."""
    row = await _require_member(actor, round_id)
    if row["state"] != RoundState.draft:
        await _ensure_sheets(round_id, actor.id or 0)
    sheets = {s["entry"]: s for s in await CalibrationSheet.select().where(
        (CalibrationSheet.round == round_id) & (CalibrationSheet.reviewer == actor.id))}
    entries = await entries_of(round_id)
    items = []
    for e in entries:
        s = sheets.get(e["entry_id"])
        items.append({**e, "state": s["state"] if s else "assigned", "scores": stored_sheet(s["scores"]) if s else {},
                      "comment": s["comment"] if s else "", "version": s["version"] if s else 1,
                      "submitted_at": s["submitted_at"] if s else None})
    left = await calibration_left(round_id, actor.id or 0)
    return {"round_id": round_id, "state": row["state"], "entries": items, "left": left,
            "done": left == 0, "rubric_notes": await notes_of(round_id)}


async def _sheet_row(sheet_id: int) -> dict[str, Any]:
    row = await CalibrationSheet.select().where(CalibrationSheet.id == sheet_id).first()
    if row is None:
        raise NotFound("No such calibration entry.", code="calibration_entry_not_found")
    found: dict[str, Any] = row
    return found


async def _own_sheet(actor: Actor, round_id: int, entry_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    row = await _require_member(actor, round_id)
    if row["state"] == RoundState.open:
        await _ensure_sheets(round_id, actor.id or 0)
    sheet = await CalibrationSheet.select().where(
        (CalibrationSheet.round == round_id) & (CalibrationSheet.entry == entry_id)
        & (CalibrationSheet.reviewer == actor.id)).first()
    if sheet is None or not await CalibrationEntry.exists().where(
            (CalibrationEntry.round == round_id) & (CalibrationEntry.entry == entry_id)):
        raise NotFound("No such calibration entry.", code="calibration_entry_not_found")
    return row, sheet


def _require_scoring(row: dict[str, Any], sheet: dict[str, Any]) -> None:
    if row["state"] != RoundState.open:
        raise Conflict("Scoring has closed for this round.", code="round_closed")
    if sheet["state"] == AssignmentState.submitted:
        raise Conflict("These scores were submitted and are locked.", code="already_submitted")


async def save_sheet(*, actor: Actor, round_id: int, entry_id: int, scores: Any, comment: Any = None,
                     version: Any = None) -> dict[str, Any]:
    """Save a calibration sheet: any subset of the criteria, each within its range (as a score
    sheet)."""
    if is_organiser(actor):
        raise NotFound("No such calibration entry.", code="calibration_entry_not_found")
    row, sheet = await _own_sheet(actor, round_id, entry_id)
    _require_scoring(row, sheet)
    values, comment, number = checked_sheet(await criteria_of(round_id), scores, comment, version)
    async with atomic():
        await lock_row("judging_calibration_sheet", sheet["id"])
        current = await _sheet_row(sheet["id"])
        _require_scoring(row, current)
        if number is not None and number != current["version"]:
            raise Conflict("These scores changed in another window. Reload to see them.", code="stale_version",
                           current_version=current["version"])
        values = {code: float(value) for code, value in values.items()}
        changes: dict[Any, Any] = {CalibrationSheet.scores: values, CalibrationSheet.updated_at: clock.now(),
                                   CalibrationSheet.version: CalibrationSheet.version + 1}
        if comment is not None:
            changes[CalibrationSheet.comment] = comment
        updated = await CalibrationSheet.update(changes).where(CalibrationSheet.id == sheet["id"]).returning(
            CalibrationSheet.version)
    return {"entry_id": entry_id, "state": "assigned", "scores": values, "version": updated[0]["version"],
            "comment": comment if comment is not None else current["comment"]}


async def submit_sheet(*, actor: Actor, round_id: int, entry_id: int) -> dict[str, Any]:
    """Lock a complete calibration sheet; the last one opens the member's own queue."""
    if is_organiser(actor):
        raise NotFound("No such calibration entry.", code="calibration_entry_not_found")
    row, sheet = await _own_sheet(actor, round_id, entry_id)
    async with atomic():
        await lock_row("judging_calibration_sheet", sheet["id"])
        current = await _sheet_row(sheet["id"])
        _require_scoring(row, current)
        scores = stored_sheet(current["scores"])
        criteria = await criteria_of(round_id)
        problems = validate_scores(rubric_of(criteria), scores)
        if problems:
            by_code = {c["code"]: c for c in criteria}
            raise ValidationFailed("Score every criterion before submitting.", code="incomplete",
                                   errors={f"scores.{p.code}": score_error(p, by_code) for p in problems})
        now = clock.now()
        await CalibrationSheet.update({CalibrationSheet.state: AssignmentState.submitted,
                                       CalibrationSheet.submitted_at: now, CalibrationSheet.updated_at: now,
                                       CalibrationSheet.version: CalibrationSheet.version + 1}).where(
            CalibrationSheet.id == sheet["id"])
        await append_event(actor=actor, action="calibration.submit", subject_type="round", subject_id=round_id,
                           after={"entry": entry_id, "scores": scores})
    left = await calibration_left(round_id, actor.id or 0)
    return {"entry_id": entry_id, "state": "submitted", "scores": scores, "submitted_at": now, "left": left,
            "queue_open": left == 0}

