"""Assignments, read and written: who reviews what in a round, the reviewer's queue, one
assignment with its sheet, and who may read an entry because it is assigned to them.

Two modules, two jobs: ``judging.domain.planner`` is the pure planner (no I/O: it decides which
new pairs make a balanced, conflict-free plan); this module reads the round, its committee and
its declared conflicts, asks the planner, and stores the plan. Score sheets themselves (saving,
submitting, recusal, reopening, progress, reminders) are ``judging.domain.scoring``.

A reviewer only ever reaches their own assignments: someone else's id is 404, never 403. In a
round with calibration entries a member's own queue opens once their calibration sheets are all
submitted (``judging.domain.calibration_gate``): until then their queue, their assignments and the
entries assigned to them answer 409 ``calibration_pending`` (admins are never held).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from contest.db import atomic, fetch, is_sqlite, lock_row
from contest.domain import outbox
from contest.domain.audit import Actor, append_event
from contest.enums import Role
from contest.errors import Conflict, NotFound
from contest.i18n import t
from contest.rules import is_admin, is_organiser, require_organiser
from contest.settings import get_settings
from contest.tables import User
from judging.domain.calibration_gate import calibration_left, counts_sql, require_calibrated
from judging.domain.conflicts import conflicts_by_member
from judging.domain.planner import EntryRef, Existing, ReviewerRef, plan_assignments
from judging.domain.round_rows import criteria_of, get_round_row
from judging.enums import AssignmentState, RoundKind, RoundState
from judging.tables import Assignment, Member, Round, RoundEntry

LIVE = ("assigned", "submitted")
BATCH = 1000


# --- assignment ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AssignResult:
    created: int
    per_reviewer: dict[int, int]
    problems: list[dict[str, Any]]


@dataclass(frozen=True)
class _Plan:
    new: list[tuple[int, int]]
    loads: dict[int, int]
    problems: list[Any]


async def planning_inputs(round_id: int) -> tuple[list[EntryRef], list[ReviewerRef], list[Existing]]:
    """What the planner needs of a round: its entries with their organisation and province, its
    members with their declared conflicts (their own organisation included), and every assignment
    already made (recused ones too: a recused pair is never assigned again)."""
    entries = await RoundEntry.select(RoundEntry.entry, RoundEntry.entry._.organisation._.code,
                                      RoundEntry.entry._.organisation._.province_code).where(
        RoundEntry.round == round_id)
    members = await Member.select(Member.user, Member.province_code, Member.user._.organisation._.code).where(
        Member.round == round_id)
    conflicts = {user: {c["organisation_code"] for c in declared}
                 for user, declared in (await conflicts_by_member(round_id)).items()}
    for m in members:
        if m["user.organisation.code"]:
            conflicts.setdefault(m["user"], set()).add(m["user.organisation.code"])
    rows = await Assignment.select(Assignment.entry, Assignment.reviewer, Assignment.state).where(
        Assignment.round == round_id)
    existing = [Existing(a["entry"], a["reviewer"], a["state"]) for a in rows]
    entry_refs = [EntryRef(e["entry"], e["entry.organisation.code"], e["entry.organisation.province_code"])
                  for e in entries]
    reviewer_refs = [ReviewerRef(m["user"], m["province_code"] or None, frozenset(conflicts.get(m["user"], ())))
                     for m in members]
    return entry_refs, reviewer_refs, existing


async def _plan(round_id: int, row: dict[str, Any], *, best_effort: bool = False) -> _Plan:
    """What to add. Screening: ``reviewers_per_entry`` each, balanced (judging.domain.planner);
    with ``best_effort`` the entries that cannot be filled get what can be had. Final: every
    member on every finalist they have no conflict of interest with (whatever their province)."""
    entry_refs, reviewer_refs, existing = await planning_inputs(round_id)
    if row["kind"] == RoundKind.final:
        return _plan_final(entry_refs, reviewer_refs, existing)
    seed, same_province, per_entry = row["seed"], row["exclude_same_province"], row["reviewers_per_entry"]
    plan = plan_assignments(entry_refs, reviewer_refs, per_entry, existing=existing, seed=seed,
                            exclude_same_province=same_province)
    if not plan.problems or not best_effort:
        return _Plan(plan.new, dict(plan.loads), list(plan.problems))
    stuck = {p.entry_id: p for p in plan.problems}
    plan = plan_assignments([e for e in entry_refs if e.entry_id not in stuck], reviewer_refs, per_entry,
                            existing=existing, seed=seed, exclude_same_province=same_province)
    new = list(plan.new)
    placed = existing + [Existing(e, r, AssignmentState.assigned) for e, r in new]
    for entry in entry_refs:
        problem = stuck.get(entry.entry_id)
        if problem is None or problem.available == 0:
            continue
        partial = plan_assignments([entry], reviewer_refs, per_entry - problem.needed + problem.available,
                                   existing=placed, seed=seed, exclude_same_province=same_province)
        new += partial.new
        placed += [Existing(e, r, AssignmentState.assigned) for e, r in partial.new]
    loads: dict[int, int] = {}
    for p in placed:
        if p.state in LIVE:
            loads[p.reviewer_id] = loads.get(p.reviewer_id, 0) + 1
    return _Plan(sorted(new), loads, list(stuck.values()))


def _plan_final(entries: list[EntryRef], reviewers: list[ReviewerRef], existing: list[Existing]) -> _Plan:
    """Every member on every finalist, unless recused or in conflict with its organisation. The
    same-province rule does not apply in the final (every member scores every finalist)."""
    taken = {(x.entry_id, x.reviewer_id) for x in existing}
    loads = {r.reviewer_id: 0 for r in reviewers}
    for x in existing:
        if x.state in LIVE:
            loads[x.reviewer_id] = loads.get(x.reviewer_id, 0) + 1
    new: list[tuple[int, int]] = []
    nobody: list[Any] = []
    for entry in entries:
        count = 0
        for r in reviewers:
            if (entry.entry_id, r.reviewer_id) in taken:
                count += any(x.entry_id == entry.entry_id and x.reviewer_id == r.reviewer_id and x.state in LIVE
                             for x in existing)
                continue
            if entry.organisation_code in r.conflicts:
                continue
            new.append((entry.entry_id, r.reviewer_id))
            loads[r.reviewer_id] += 1
            count += 1
        if count == 0:
            nobody.append(_NoPanel(entry.entry_id))
    return _Plan(sorted(new), loads, nobody)


@dataclass(frozen=True)
class _NoPanel:
    entry_id: int
    needed: int = 1
    available: int = 0
    code: str = "too_few_reviewers"

    @property
    def message_th(self) -> str:
        return f"ผลงาน {self.entry_id}: ไม่มีกรรมการที่ไม่มีส่วนได้เสียให้คะแนน"

    @property
    def message_en(self) -> str:
        return f"Entry {self.entry_id}: no panel member without a conflict of interest can score it"


async def _insert(round_id: int, pairs: list[tuple[int, int]]) -> list[int | None]:
    """Store the new assignments and queue each member's mail (inside the caller's transaction);
    returns the outbox jobs to dispatch after commit."""
    for start in range(0, len(pairs), BATCH):
        await Assignment.insert(*[Assignment(key=f"{round_id}:{e}:{r}", round=round_id, entry=e, reviewer=r)
                                  for e, r in pairs[start:start + BATCH]])
    return await _mail_assigned(round_id, pairs)


ASSIGNED_MAIL = ("Dear {name},\n\n{n} entries were assigned to you to score in the {kind} round of edition "
                 "{year}.\nYour queue: {url}\n")


async def _mail_assigned(round_id: int, pairs: list[tuple[int, int]]) -> list[int | None]:
    """One mail to each member given new entries in this batch: how many, and a link to their
    queue, Thai then English. The planner never pairs a member with an organisation they have a
    conflict with, and a pair recused since is no longer live: only live pairs are counted."""
    if not pairs:
        return []
    row = await get_round_row(round_id)
    live = {(a["entry"], a["reviewer"]) for a in await Assignment.select(Assignment.entry, Assignment.reviewer).where(
        (Assignment.round == round_id) & Assignment.state.is_in(list(LIVE)))}
    batch: dict[int, list[int]] = {}
    for entry_id, reviewer_id in pairs:
        if (entry_id, reviewer_id) in live:
            batch.setdefault(reviewer_id, []).append(entry_id)
    if not batch:
        return []
    users = {u["id"]: u for u in await User.select(User.id, User.email, User.name).where(
        User.id.is_in(list(batch)) & (User.is_active == True))}  # noqa: E712
    url = f"{get_settings().base_url}/review/rounds/{round_id}"
    jobs: list[int | None] = []
    for reviewer_id, entry_ids in sorted(batch.items()):
        user = users.get(reviewer_id)
        if user is None:
            continue
        values = {"name": user["name"] or user["email"], "n": len(entry_ids), "year": row["edition.year"],
                  "url": url}
        text = "\n\n".join(t(ASSIGNED_MAIL, lang, kind=t(row["kind"], lang), **values) for lang in ("th", "en"))
        subject = " / ".join(t("{n} entries assigned to you to score", lang, n=len(entry_ids)) for lang in ("th", "en"))
        batch_id = hashlib.sha256(",".join(map(str, sorted(entry_ids))).encode()).hexdigest()[:16]
        jobs.append(await outbox.add_job("send_mail", {"to": user["email"], "subject": subject, "text": text},
                                         dedupe_key=f"assigned:{round_id}:{reviewer_id}:{batch_id}"))
    return jobs


def _problem_view(p: Any) -> dict[str, Any]:
    return {"entry_id": p.entry_id, "needed": p.needed, "available": p.available, "code": p.code,
            "message_th": p.message_th, "message_en": p.message_en}


async def assign_reviewers(*, actor: Actor, round_id: int) -> AssignResult:
    """Assign every entry of an open round to the required number of distinct members, never a
    conflict, loads balanced, deterministic for the round's seed. Re-running fills only the gaps
    (after recusals or new members) and never moves a review. In the final round every member
    reviews every finalist they have no conflict with. All or nothing: if some entry cannot get its
    reviewers, nothing is assigned and the answer says which entries and why."""
    require_organiser(actor)
    row = await get_round_row(round_id)
    if row["state"] != RoundState.open:
        raise Conflict("Reviewers are assigned while the round is open (this one is {state}).",
                       code="round_state", state=row["state"])
    async with atomic():
        await lock_row("judging_round", round_id)
        plan = await _plan(round_id, row)
        problems = plan.problems
        if problems and row["kind"] == RoundKind.final:
            raise Conflict("Not enough panel members: {count} finalists cannot be scored by any member without a "
                           "conflict of interest. In the final every member scores every finalist they have no "
                           "conflict with; add members or review the declared conflicts. Nothing was assigned.",
                           code="too_few_reviewers", count=len(problems),
                           problems=[_problem_view(p) for p in problems[:200]])
        if problems:
            raise Conflict("Not enough reviewers: {count} entries cannot get {needed} reviewers each without a "
                           "conflict of interest. Add members or lower the number of reviewers per entry; "
                           "nothing was assigned.", code="too_few_reviewers", count=len(problems),
                           needed=row["reviewers_per_entry"], problems=[_problem_view(p) for p in problems[:200]])
        jobs = await _insert(round_id, plan.new)
        if plan.new:
            await append_event(actor=actor, action="round.assign", subject_type="round", subject_id=round_id,
                               after={"created": len(plan.new), "seed": row["seed"]})
    await outbox.dispatch(jobs)
    return AssignResult(created=len(plan.new), per_reviewer=dict(plan.loads), problems=[])


async def fill_gaps(*, actor: Actor, round_id: int) -> int:
    """Best effort after a recusal: assign what can be assigned; gaps that remain show in progress."""
    row = await get_round_row(round_id)
    if row["state"] != RoundState.open:
        return 0
    async with atomic():
        await lock_row("judging_round", round_id)
        plan = await _plan(round_id, row, best_effort=True)
        jobs = await _insert(round_id, plan.new)
        if plan.new:
            await append_event(actor=actor, action="round.reassign", subject_type="round", subject_id=round_id,
                               after={"created": len(plan.new)})
    await outbox.dispatch(jobs)
    return len(plan.new)


async def list_assignments(actor: Actor, round_id: int, *, state: str | None = None) -> list[dict[str, Any]]:
    """Admins see every assignment of the round, a member only their own; to anyone else the
    round does not exist (404)."""
    await get_round_row(round_id)
    query = Assignment.select(Assignment.id, Assignment.entry, Assignment.reviewer, Assignment.state).where(
        Assignment.round == round_id)
    if not is_organiser(actor):
        member = await Member.exists().where((Member.round == round_id) & (Member.user == actor.id))
        if not member and not await Assignment.exists().where(
                (Assignment.round == round_id) & (Assignment.reviewer == actor.id)):
            raise NotFound("No such round.", code="round_not_found")
        await require_calibrated(round_id, actor.id or 0)
        query = query.where(Assignment.reviewer == actor.id)
    if state:
        query = query.where(Assignment.state == state)
    return await query.order_by(Assignment.id)


# --- the reviewer's queue -----------------------------------------------------------------------

async def reviewer_rounds(actor: Actor) -> list[dict[str, Any]]:
    """The rounds a member has assignments in, with their own progress."""
    rows = await Assignment.select(Assignment.round, Assignment.state, Count(Assignment.id).as_alias("n")).where(
        Assignment.reviewer == actor.id).group_by(Assignment.round, Assignment.state)
    by_round: dict[int, dict[str, int]] = {}
    for r in rows:
        by_round.setdefault(r["round"], {"assigned": 0, "submitted": 0, "recused": 0})[r["state"]] = r["n"]
    if not by_round:
        return []
    rounds = await Round.select(Round.id, Round.kind, Round.state, Round.edition._.year, Round.edition._.title).where(
        Round.id.is_in(list(by_round))).order_by(Round.id, ascending=False)
    return [{"id": r["id"], "kind": r["kind"], "state": r["state"], "year": r["edition.year"],
             "title": r["edition.title"], **by_round[r["id"]],
             "total": by_round[r["id"]]["assigned"] + by_round[r["id"]]["submitted"]} for r in rounds]


async def reviewer_queue(actor: Actor, round_id: int, *, state: str | None = None) -> list[dict[str, Any]]:
    """One member's live assignments in a round, in a stable order, with what they need to choose
    the next one: title, organisation, province, and how many criteria they have scored. Held
    (``calibration_pending``) until the member's calibration sheets are submitted."""
    if actor.id is not None:
        await require_calibrated(round_id, actor.id)
    rows = await Assignment.select(
        Assignment.id, Assignment.state, Assignment.entry, Assignment.entry._.title, Assignment.entry._.category,
        Assignment.entry._.organisation._.name_th, Assignment.entry._.organisation._.province_name_th,
        Assignment.updated_at, Assignment.submitted_at, Assignment.scores,
    ).where((Assignment.round == round_id) & (Assignment.reviewer == actor.id)
            & Assignment.state.is_in(list(LIVE))).order_by(Assignment.id)
    if state:
        rows = [r for r in rows if r["state"] == state]
    return [{"id": r["id"], "state": r["state"], "entry_id": r["entry"], "title": r["entry.title"],
             "category": r["entry.category"], "organisation_name_th": r["entry.organisation.name_th"],
             "province_name_th": r["entry.organisation.province_name_th"], "scored": len(stored_sheet(r["scores"])),
             "updated_at": r["updated_at"], "submitted_at": r["submitted_at"]} for r in rows]


# Asked by every score sheet's page, autosave and submit: one statement, written out.
_OWN_SQL = (
    "SELECT a.id, a.key, a.round, a.entry, a.reviewer, a.state, a.scores, a.comment, a.recuse_reason, "
    "a.version, a.created_at, a.updated_at, a.submitted_at, "
    "r.state AS \"round.state\", r.kind AS \"round.kind\", r.rules_hash AS \"round.rules_hash\", "
    + counts_sql("a.round", "a.reviewer")
    + " FROM judging_assignment a JOIN judging_round r ON r.id = a.round WHERE a.id = {}")
_OWN_LOCKED_SQL = _OWN_SQL + " FOR UPDATE OF a"


async def own_assignment(actor: Actor, assignment_id: int, *, lock: bool = False) -> dict[str, Any]:
    """An assignment's row with its round's state, kind and rules hash: the caller's own, or any for an
    admin; anyone else's (or an unknown id) is ``NotFound``. With ``lock`` (in a write transaction)
    the row is read once its writers before have finished and held until the transaction ends: on
    PostgreSQL the read itself locks it (``FOR UPDATE``), SQLite's write transaction already
    holds the database."""
    rows = await fetch(_OWN_LOCKED_SQL if lock and not is_sqlite() else _OWN_SQL, assignment_id)
    row = rows[0] if rows else None
    if row is None or (row["reviewer"] != actor.id and not is_admin(actor)):
        raise NotFound("No such assignment.", code="assignment_not_found")
    counts = (row.pop("calibration_needed"), row.pop("calibration_done"))
    if row["reviewer"] == actor.id and not is_organiser(actor):
        await require_calibrated(row["round"], row["reviewer"], counts=counts)
    return row


async def get_assignment(actor: Actor, assignment_id: int) -> dict[str, Any]:
    """An assignment with its score sheet: the reviewer's own, or any for an admin."""
    row = await own_assignment(actor, assignment_id)
    row["scores"] = stored_sheet(row["scores"])
    row["criteria"] = await criteria_of(row["round"], rules_hash=row["round.rules_hash"])
    return row


def stored_sheet(value: Any) -> dict[str, float]:
    """A stored score sheet (JSON text on SQLite, decoded on PostgreSQL) as a dict."""
    if isinstance(value, (str, bytes)):
        value = msgspec.json.decode(value) if value else {}
    return dict(value or {})


# --- who may read an entry ----------------------------------------------------------------------

# The member's calibration sheet of the entry (a row with no round), then the rounds in which it
# is assigned to them and not recused.
_READER_SQL = (
    "SELECT NULL AS round FROM judging_calibration_sheet WHERE entry = {} AND reviewer = {} "
    "UNION ALL SELECT round FROM judging_assignment WHERE entry = {} AND reviewer = {} AND state IN ("
    + ", ".join(f"'{state}'" for state in LIVE) + ")")


async def is_assigned_reviewer(actor: Actor, entry_id: int) -> bool:
    """A member reads the entries assigned to them (never one they recused from), once their
    calibration in that round is done, and the calibration entries they are to score. Contest asks
    this through the hook ``judging.hooks.register`` plugs in."""
    if actor.role != Role.reviewer or actor.id is None:
        return False
    rounds = await fetch(_READER_SQL, entry_id, actor.id, entry_id, actor.id)
    if any(r["round"] is None for r in rounds):
        return True
    for r in rounds:
        if not await calibration_left(r["round"], actor.id):
            return True
    return False
