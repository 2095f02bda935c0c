"""An extra reader for entries the committee disagrees on.

An organiser picks one or more entries of an open round (in the cockpit: the widest
disagreements near the cut) and asks for one more reader each. The reader is chosen by the
balanced planner (:func:`judging.domain.planner.plan_assignments`) with the round's own rules and
the round's whole assignment as it stands:

* never a member with a declared conflict of interest with the entry's organisation (nor one of
  its own staff), nor one in the same province when the round excludes that;
* never a member who already reads the entry, or who recused from it;
* among the eligible members, one of the least loaded (the seeded tie-break of the round), the
  loads counting each extra reader already placed in the same request.

All or nothing: when some chosen entry has nobody eligible left, nothing is assigned and the
answer names those entries. Each new assignment is audited (``assignment.extra_reader``) and its
reviewer is told through the outbox.
"""

from __future__ import annotations

from typing import Any

from contest.db import atomic, lock_row
from contest.domain import outbox
from contest.domain.audit import Actor, append_event
from contest.errors import Conflict, ValidationFailed
from contest.i18n import t
from contest.numbers import whole_number
from contest.rules import require_organiser
from contest.settings import get_settings
from contest.tables import User
from judging.domain.assignments import planning_inputs
from judging.domain.planner import Existing, plan_assignments
from judging.domain.round_rows import get_round_row
from judging.enums import AssignmentState, AssignmentStates, RoundState
from judging.tables import Assignment

#: At most this many entries in one request.
MAX_ENTRIES = 20


def _entry_ids(values: Any) -> list[int]:
    ids = [whole_number(v) for v in values] if isinstance(values, list) else []
    if not ids or any(i is None for i in ids):
        raise ValidationFailed(errors={"entry_ids": t("Choose at least one entry for an extra reader.")})
    if len(ids) > MAX_ENTRIES:
        raise ValidationFailed(errors={"entry_ids": t("At most {n} entries at a time.", n=MAX_ENTRIES)})
    return sorted({int(i) for i in ids if i is not None})


async def assign_extra_readers(*, actor: Actor, round_id: int, entry_ids: Any) -> list[dict[str, Any]]:
    """One more reader for each of ``entry_ids`` (module docstring). Returns, per entry, the new
    assignment and who was picked: ``[{entry_id, assignment_id, reviewer_id, name, email}]``."""
    require_organiser(actor)
    ids = _entry_ids(entry_ids)
    row = await get_round_row(round_id)
    if row["state"] != RoundState.open:
        raise Conflict("Readers are added while the round is open (this one is {state}).",
                       code="round_state", state=row["state"])
    async with atomic():
        await lock_row("judging_round", round_id)
        new = await _plan_extra_readers(row, ids)
        rows = await Assignment.insert(*[Assignment(key=f"{round_id}:{e}:{r}", round=round_id, entry=e, reviewer=r)
                                         for e, r in new]).returning(Assignment.id, Assignment.entry,
                                                                     Assignment.reviewer)
        users = {u["id"]: u for u in await User.select(User.id, User.email, User.name, User.locale).where(
            User.id.is_in([r for _, r in new]))}
        jobs = await _tell_readers(actor, row, rows, users)
    await outbox.dispatch(jobs)
    return [{"entry_id": a["entry"], "assignment_id": a["id"], "reviewer_id": a["reviewer"],
             "name": users[a["reviewer"]]["name"], "email": users[a["reviewer"]]["email"]}
            for a in sorted(rows, key=lambda a: a["entry"])]


async def _plan_extra_readers(row: dict[str, Any], ids: list[int]) -> list[tuple[int, int]]:
    """(entry, reviewer) for one more reader of each entry, planned one entry after the other on
    the round's whole assignment; all or nothing."""
    entries, reviewers, existing = await planning_inputs(row["id"])
    by_id = {e.entry_id: e for e in entries}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise ValidationFailed(errors={"entry_ids": t("Some entries are not in this round: {ids}.",
                                                      ids=", ".join(f"#{i}" for i in unknown))})
    live: dict[int, int] = {}
    for x in existing:
        if x.state in AssignmentStates.LIVE:
            live[x.entry_id] = live.get(x.entry_id, 0) + 1
    placed = list(existing)
    new: list[tuple[int, int]] = []
    stuck: list[int] = []
    for entry_id in ids:
        plan = plan_assignments([by_id[entry_id]], reviewers, live.get(entry_id, 0) + 1, existing=placed,
                                seed=row["seed"], exclude_same_province=row["exclude_same_province"])
        if plan.problems:
            stuck.append(entry_id)
            continue
        new += plan.new
        placed += [Existing(e, r, AssignmentState.assigned) for e, r in plan.new]
    if stuck:
        raise Conflict("No eligible member is left to read {entries}: every member has a conflict of interest "
                       "with it, already reads it or recused from it. Add members to the committee; nothing "
                       "was assigned.", code="no_eligible_reader",
                       entries=", ".join(f"#{i}" for i in stuck), entry_ids=stuck)
    return new


async def _tell_readers(actor: Actor, row: dict[str, Any], rows: list[dict[str, Any]],
                        users: dict[int, dict[str, Any]]) -> list[int | None]:
    """Audit each new assignment and queue a mail to its reviewer, in the reviewer's language."""
    round_id = row["id"]
    url = f"{get_settings().base_url}/review/rounds/{round_id}"
    jobs: list[int | None] = []
    for a in rows:
        await append_event(actor=actor, action="assignment.extra_reader", subject_type="assignment",
                           subject_id=a["id"], after={"round": round_id, "entry": a["entry"],
                                                      "reviewer": a["reviewer"]})
        user = users[a["reviewer"]]
        lang = user["locale"] or "th"
        jobs.append(await outbox.add_job("send_mail", {
            "to": user["email"],
            "subject": t("One more entry to score: #{entry}", lang, entry=a["entry"]),
            "text": t("Dear {name},\n\nThe organisers ask you to read and score one more entry, #{entry}, in the "
                      "{kind} round of edition {year}: the committee's scores on it differ widely.\n"
                      "Your queue: {url}\n", lang, name=user["name"] or user["email"], entry=a["entry"],
                      kind=t(row["kind"], lang), year=row["edition.year"], url=url)},
            dedupe_key=f"extra-reader:{a['id']}"))
    return jobs


async def picked_readers(round_id: int, assignment_ids: list[int]) -> list[dict[str, Any]]:
    """Who was picked, for the confirmation after the action: the round's assignments among
    ``assignment_ids`` with their entry and reviewer (others are ignored)."""
    if not assignment_ids:
        return []
    rows = await Assignment.select(Assignment.id, Assignment.entry, Assignment.entry._.title, Assignment.reviewer,
                                   Assignment.reviewer._.name, Assignment.reviewer._.email).where(
        (Assignment.round == round_id) & Assignment.id.is_in(assignment_ids[:MAX_ENTRIES])).order_by(Assignment.entry)
    return [{"assignment_id": r["id"], "entry_id": r["entry"], "title": r["entry.title"],
             "reviewer_id": r["reviewer"], "name": r["reviewer.name"], "email": r["reviewer.email"]} for r in rows]
