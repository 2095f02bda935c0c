"""Read queries for the committee member's pages: my rounds, the round a queue belongs to, where
an assignment sits in the queue, and the entry as a reviewer sees it (what was submitted, never
the contact details). Nothing here writes; state changes stay in ``judging.domain.scoring``.

Every function answers only for the calling member's own assignments: another member's (or an
unknown) id is ``NotFound``, exactly as ``assignments`` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from contest.db import engine, stored_json
from contest.domain import entries as contest_entries
from contest.domain.audit import Actor
from contest.errors import NotFound
from contest.tables import Attachment
from judging.domain import assignments
from judging.enums import AssignmentState
from judging.tables import Assignment, Criterion, Member, Round

LIVE = list(assignments.LIVE)
# What a reviewer reads of an entry: everything the applicant wrote about the service, never how
# to contact them (PDPA: collect and show the minimum).
REVIEW_FIELDS = ("title", "category", "summary", "problem", "solution", "citizens_served", "results",
                 "in_service_since", "technology", "links", "video_url")


@asynccontextmanager
async def reading() -> AsyncIterator[None]:
    """A page's reads on one connection and one snapshot (on SQLite every query outside a
    transaction opens a connection of its own). Reads only: writes go through ``scoring``, whose
    ``atomic()`` must not be nested in this."""
    async with engine().transaction():
        yield




# --- rounds -------------------------------------------------------------------------------------

async def my_rounds(actor: Actor) -> list[dict[str, Any]]:
    """``assignments.reviewer_rounds`` (rounds with my assignments and my counts, grouped in SQL) plus
    the rounds I am a member of that have nothing assigned to me yet."""
    rows = await assignments.reviewer_rounds(actor)
    seen = {r["id"] for r in rows}
    members = await Member.select(Member.round, Member.round._.kind, Member.round._.state,
                                  Member.round._.edition._.year,
                                  Member.round._.edition._.title).where(Member.user == actor.id)
    for m in members:
        if m["round"] in seen:
            continue
        rows.append({"id": m["round"], "kind": m["round.kind"], "state": m["round.state"],
                     "year": m["round.edition.year"], "title": m["round.edition.title"],
                     "assigned": 0, "submitted": 0, "recused": 0, "total": 0})
    rows.sort(key=lambda r: r["id"], reverse=True)
    return rows


async def my_round(actor: Actor, round_id: int) -> dict[str, Any]:
    """A round I am a member of (or hold assignments in), with its rubric size."""
    row = await Round.select(Round.id, Round.kind, Round.state, Round.edition._.year, Round.edition._.title).where(
        Round.id == round_id).first()
    if row is None or not (
            await Member.exists().where((Member.round == round_id) & (Member.user == actor.id))
            or await Assignment.exists().where((Assignment.round == round_id) & (Assignment.reviewer == actor.id))):
        raise NotFound("No such round.", code="round_not_found")
    return {"id": round_id, "kind": row["kind"], "state": row["state"], "year": row["edition.year"],
            "title": row["edition.title"], "criteria": await Criterion.count().where(Criterion.round == round_id)}


# --- the queue around one assignment ------------------------------------------------------------

def _mine(actor: Actor, round_id: int) -> Any:
    return (Assignment.round == round_id) & (Assignment.reviewer == actor.id)


async def next_to_score(actor: Actor, round_id: int, *, after: int | None = None) -> int | None:
    """The next assignment still to score (not submitted) in queue order after ``after``, wrapping
    round to the start; ``None`` when nothing is left."""
    todo = _mine(actor, round_id) & (Assignment.state == AssignmentState.assigned)
    if after is not None:
        row = await Assignment.select(Assignment.id).where(todo & (Assignment.id > after)).order_by(
            Assignment.id).first()
        if row:
            return row["id"]
        todo = todo & (Assignment.id != after)
    row = await Assignment.select(Assignment.id).where(todo).order_by(Assignment.id).first()
    return row["id"] if row else None


@dataclass(frozen=True)
class Place:
    """Where an assignment sits in its member's queue (live assignments, in queue order)."""

    position: int
    total: int
    submitted: int
    previous_id: int | None
    next_id: int | None
    next_todo_id: int | None


async def place_in_queue(actor: Actor, round_id: int, assignment_id: int) -> Place:
    live = _mine(actor, round_id) & Assignment.state.is_in(LIVE)
    before = await Assignment.select(Assignment.id).where(live & (Assignment.id < assignment_id)).order_by(
        Assignment.id, ascending=False).first()
    after = await Assignment.select(Assignment.id).where(live & (Assignment.id > assignment_id)).order_by(
        Assignment.id).first()
    position = await Assignment.count().where(live & (Assignment.id <= assignment_id))
    total = await Assignment.count().where(live)
    submitted = await Assignment.count().where(_mine(actor, round_id) & (Assignment.state == AssignmentState.submitted))
    return Place(position=position, total=total, submitted=submitted,
                 previous_id=before["id"] if before else None, next_id=after["id"] if after else None,
                 next_todo_id=await next_to_score(actor, round_id, after=assignment_id))


# --- the entry ----------------------------------------------------------------------------------

def _as_date(value: Any) -> Any:
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


async def entry_for_review(actor: Actor, entry_id: int) -> dict[str, Any]:
    """The entry as submitted (the latest receipt's snapshot and files, when there is a receipt;
    the entry itself otherwise) with its organisation and category, without contact details.
    Who may read it is decided by the contest domain (an assigned reviewer, never a recused one)."""
    detail = await contest_entries.get_entry(actor, entry_id)
    entry = detail.entry
    fields = {f: entry.get(f) for f in REVIEW_FIELDS}
    attachments = detail.attachments
    submitted_at = entry.get("submitted_at")
    if detail.receipts:
        receipt = detail.receipts[0]  # newest first
        snapshot = receipt.get("snapshot") or {}
        fields.update({f: snapshot[f] for f in REVIEW_FIELDS if f in snapshot})
        ids = [f["attachment_id"] for f in receipt.get("files") or [] if f.get("attachment_id")]
        # Files on the receipt stay what was judged, even if removed from the draft afterwards.
        attachments = await Attachment.select().where(Attachment.id.is_in(ids)).order_by(Attachment.id) if ids else []
        submitted_at = receipt["submitted_at"]
    fields["links"] = [u for u in stored_json(fields.get("links"), []) if isinstance(u, str)]
    fields["in_service_since"] = _as_date(fields.get("in_service_since"))
    categories = {c["code"]: c for c in stored_json(detail.edition.get("categories"), []) if isinstance(c, dict)}
    org = detail.organisation
    return {
        "id": entry_id, **fields, "submitted_at": submitted_at, "category_info": categories.get(fields["category"]),
        "organisation": {"code": org["code"], "name_th": org["name_th"], "name_en": org.get("name_en") or "",
                         "kind": org["kind"], "province_name_th": org.get("province_name_th") or "",
                         "district_name_th": org.get("district_name_th") or ""},
        "attachments": [{"id": a["id"], "name": a["name"], "size": a["size"], "kind": a["kind"],
                         "content_type": a["content_type"], "check_state": a["check_state"]} for a in attachments],
    }


async def attachment_for_review(actor: Actor, entry_id: int, attachment_id: int) -> dict[str, Any]:
    """One of the files shown with the entry under review."""
    entry = await entry_for_review(actor, entry_id)
    for a in entry["attachments"]:
        if a["id"] == attachment_id:
            return a
    raise NotFound("No such file.", code="attachment_not_found")
