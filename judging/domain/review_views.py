"""Read queries for the committee member's pages: my rounds, the round a queue belongs to, where
an assignment sits in the queue, and the entry as a reviewer sees it (what was submitted, never
the contact details). Nothing here writes; state changes stay in ``judging.domain.scoring``.

Every function answers only for the calling member's own assignments: another member's (or an
unknown) id is ``NotFound``, exactly as ``assignments`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from contest.db import fetch, stored_json
from contest.domain import entries as contest_entries
from contest.domain.audit import Actor
from contest.errors import NotFound
from contest.rules import refuse_pending_member
from contest.tables import Attachment
from judging.domain import assignments
from judging.enums import AssignmentState
from judging.tables import Assignment, Member

LIVE = list(assignments.LIVE)
# What a reviewer reads of an entry: everything the applicant wrote about the service, never how
# to contact them (PDPA: collect and show the minimum).
REVIEW_FIELDS = ("title", "category", "summary", "problem", "solution", "citizens_served", "results",
                 "in_service_since", "technology", "links", "video_url")




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


_MY_ROUND_SQL = (
    "SELECT r.kind, r.state, e.year, e.title, "
    "CASE WHEN EXISTS (SELECT 1 FROM judging_member m WHERE m.round = r.id AND m.\"user\" = {}) "
    "OR EXISTS (SELECT 1 FROM judging_assignment a WHERE a.round = r.id AND a.reviewer = {}) "
    "THEN 1 ELSE 0 END AS mine, "
    "(SELECT COUNT(*) FROM judging_criterion c WHERE c.round = r.id) AS criteria "
    "FROM judging_round r JOIN edition e ON e.id = r.edition WHERE r.id = {}")


async def my_round(actor: Actor, round_id: int) -> dict[str, Any]:
    """A round I am a member of (or hold assignments in), with its rubric size."""
    rows = await fetch(_MY_ROUND_SQL, actor.id, actor.id, round_id)
    if not rows or not rows[0]["mine"]:
        raise NotFound("No such round.", code="round_not_found")
    row = rows[0]
    return {"id": round_id, "kind": row["kind"], "state": row["state"], "year": row["year"],
            "title": row["title"], "criteria": int(row["criteria"])}


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


# The queue around one sheet in one pass over the member's assignments in the round (a thousand
# rows at most), rather than a query per figure.
_PLACE_SQL = (
    "SELECT COUNT(*) AS total, "
    "SUM(CASE WHEN id <= {} THEN 1 ELSE 0 END) AS position, "
    f"SUM(CASE WHEN state = '{AssignmentState.submitted}' THEN 1 ELSE 0 END) AS submitted, "
    "MAX(CASE WHEN id < {} THEN id END) AS previous_id, "
    "MIN(CASE WHEN id > {} THEN id END) AS next_id, "
    f"MIN(CASE WHEN state = '{AssignmentState.assigned}' AND id > {{}} THEN id END) AS next_todo, "
    f"MIN(CASE WHEN state = '{AssignmentState.assigned}' AND id <> {{}} THEN id END) AS first_todo "
    "FROM judging_assignment WHERE round = {} AND reviewer = {} AND state IN ("
    + ", ".join(f"'{state}'" for state in LIVE) + ")")


async def place_in_queue(actor: Actor, round_id: int, assignment_id: int) -> Place:
    """Where the assignment sits among the member's live assignments, and the next one still to
    score after it (wrapping round to the start)."""
    a = assignment_id
    row = (await fetch(_PLACE_SQL, a, a, a, a, a, round_id, actor.id))[0]
    return Place(position=int(row["position"] or 0), total=int(row["total"] or 0),
                 submitted=int(row["submitted"] or 0), previous_id=row["previous_id"], next_id=row["next_id"],
                 next_todo_id=row["next_todo"] if row["next_todo"] is not None else row["first_todo"])


# --- the entry ----------------------------------------------------------------------------------

def _as_date(value: Any) -> Any:
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


# The organisation and the edition's categories an entry is read with, in one statement.
_CONTEXT_SQL = (
    "SELECT o.code, o.name_th, o.name_en, o.kind, o.province_name_th, o.district_name_th, ed.categories "
    "FROM organisation o, edition ed WHERE o.id = {} AND ed.id = {}")


# The entry's latest receipt, and the files of an entry without one (those not removed).
_LATEST_RECEIPT_SQL = (
    "SELECT submitted_at, snapshot, files FROM receipt WHERE entry = {} ORDER BY sequence DESC LIMIT 1")
_DRAFT_FILES_SQL = "SELECT * FROM attachment WHERE entry = {} AND deleted_at IS NULL ORDER BY id"


async def entry_for_review(actor: Actor, entry_id: int) -> dict[str, Any]:
    """The entry as submitted (the latest receipt's snapshot and files, when there is a receipt;
    the entry itself otherwise) with its organisation and category, without contact details.
    Who may read it is decided by the contest domain (an assigned reviewer, never a recused one)."""
    row = await contest_entries.entry_row(entry_id)
    if row is None or not await contest_entries.can_view_entry(actor, row):
        refuse_pending_member(actor, row["organisation"] if row else None)
        raise NotFound("No such entry.", code="entry_not_found")
    org = (await fetch(_CONTEXT_SQL, row["organisation"], row["edition"]))[0]
    receipts = await fetch(_LATEST_RECEIPT_SQL, entry_id)
    receipt = receipts[0] if receipts else None
    fields = {f: row.get(f) for f in REVIEW_FIELDS}
    submitted_at = row.get("submitted_at")
    if receipt is not None:
        snapshot = stored_json(receipt["snapshot"], {})
        fields.update({f: snapshot[f] for f in REVIEW_FIELDS if f in snapshot})
        ids = [f["attachment_id"] for f in stored_json(receipt["files"], []) if f.get("attachment_id")]
        # Files on the receipt stay what was judged, even if removed from the draft afterwards.
        attachments = await Attachment.select().where(Attachment.id.is_in(ids)).order_by(Attachment.id) if ids else []
        submitted_at = receipt["submitted_at"]
    else:
        attachments = await fetch(_DRAFT_FILES_SQL, entry_id)
    fields["links"] = [u for u in stored_json(fields.get("links"), []) if isinstance(u, str)]
    fields["in_service_since"] = _as_date(fields.get("in_service_since"))
    categories = {c["code"]: c for c in stored_json(org["categories"], []) if isinstance(c, dict)}
    return {
        "id": entry_id, **fields, "submitted_at": submitted_at, "category_info": categories.get(fields["category"]),
        "organisation": {"code": org["code"], "name_th": org["name_th"], "name_en": org["name_en"] or "",
                         "kind": org["kind"], "province_name_th": org["province_name_th"] or "",
                         "district_name_th": org["district_name_th"] or ""},
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
