"""Score sheets: saving (autosave), submitting, recusal, reopening, and the round's progress
and reminders.

Who reviews what, the reviewer's queue and reading one assignment are
``judging.domain.assignments``. A reviewer only ever reaches their own assignments: someone
else's id is 404, never 403. Members never see each other's scores while the round runs; only
admins see the ranking.
"""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Count
from piccolo.utils.encoding import dump_json

from contest import clock
from contest.db import atomic, existing, fetch, is_sqlite, lock_row
from contest.domain import outbox
from contest.domain.audit import Actor, append_event
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.i18n import localised, t
from contest.numbers import whole_number
from contest.rules import require_organiser
from contest.settings import get_settings
from contest.tables import Entry, User
from judging.domain.assignments import fill_gaps, own_assignment, stored_sheet
from judging.domain.conflicts import declare_conflict
from judging.domain.ranking import Criterion as RubricCriterion
from judging.domain.ranking import validate_scores
from judging.domain.round_rows import criteria_of, get_round_row
from judging.domain.shortlist import SubmittedSums
from judging.enums import AssignmentState, RoundKind, RoundState
from judging.tables import Assignment

MAX_COMMENT = 5000


def rubric_of(criteria: list[dict[str, Any]]) -> list[RubricCriterion]:
    return [RubricCriterion(c["code"], c["weight"], c["min"], c["max"]) for c in criteria]


def _require_scoring(row: dict[str, Any]) -> None:
    if row["round.state"] != RoundState.open:
        raise Conflict("Scoring has closed for this round.", code="round_closed")
    if row["state"] == AssignmentState.submitted:
        raise Conflict("These scores were submitted and are locked.", code="already_submitted")
    if row["state"] == AssignmentState.recused:
        raise Conflict("You recused yourself from this entry.", code="recused")


def _name(criterion: dict[str, Any] | None, code: str) -> str:
    """A criterion as people know it: its name in the caller's language (Thai by default)."""
    return (localised(criterion) if criterion is not None else "") or code


def score_error(p: Any, by_code: dict[str, dict[str, Any]]) -> str:
    """A score problem (judging.domain.ranking.ScoreProblem) named by the criterion's name, in the
    caller's language; the error's key keeps the code."""
    c = by_code.get(p.code)
    name = _name(c, p.code)
    if p.kind == "unknown" or c is None:
        return t("{code} is not a criterion of this round's rubric.", code=p.code)
    if p.kind == "missing":
        return t("No score given for \"{name}\".", name=name)
    if p.kind == "not_a_number":
        return t("The score for \"{name}\" must be a number.", name=name)
    return t("The score for \"{name}\" must be between {low} and {high}.", name=name, low=f"{c['min']:g}",
             high=f"{c['max']:g}")


def coerce_scores(scores: Any, by_code: dict[str, dict[str, Any]] | None = None
                  ) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(scores, dict):
        return {}, {"scores": t("Scores are given as criterion code: value.")}
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for code, value in scores.items():
        if value is None or value == "":
            continue  # not scored yet
        if isinstance(value, str):
            try:
                value = float(value.strip().replace(",", "."))
            except ValueError:
                errors[f"scores.{code}"] = t("The score for \"{name}\" must be a number.",
                                             name=_name((by_code or {}).get(str(code)), str(code)))
                continue
        out[str(code)] = value
    return out, errors


def version_of(value: Any) -> tuple[int | None, str | None]:
    """The sheet version a client sent (a whole number, or its digits as text): (value, error)."""
    if value is None:
        return None, None
    number = whole_number(value)
    if number is not None:
        return number, None
    return None, t("The version is the whole number you read with the sheet.")


def checked_sheet(criteria: list[dict[str, Any]], scores: Any, comment: Any, version: Any
                  ) -> tuple[dict[str, float], str | None, int | None]:
    """A sheet as saved (a score sheet's or a calibration sheet's): any subset of the criteria, each
    within its range, a comment of text (None keeps the stored one) and the version the client read;
    (scores, comment, version), or ValidationFailed ``invalid_scores`` naming every bad field."""
    by_code = {c["code"]: c for c in criteria}
    values, errors = coerce_scores(scores, by_code)
    for p in validate_scores(rubric_of(criteria), values):
        if p.kind != "missing":
            errors[f"scores.{p.code}"] = score_error(p, by_code)
    if comment is not None and not isinstance(comment, str):
        errors["comment"] = t("The comment is text.")
        comment = None
    comment = comment.strip() if comment is not None else None
    if comment is not None and len(comment) > MAX_COMMENT:
        errors["comment"] = t("At most {n} characters.", n=MAX_COMMENT)
    number, version_error = version_of(version)
    if version_error:
        errors["version"] = version_error
    if errors:
        raise ValidationFailed("Some scores are not valid.", errors=errors, code="invalid_scores")
    return values, comment, number


# A sheet's save, written out (every save runs it): the scores, the time, the next version, and
# the comment when one is sent.
_SAVE_SQL = ('UPDATE judging_assignment SET "scores" = {}, "updated_at" = {}, "version" = "version" + 1 '
             'WHERE "id" = {} RETURNING "version"')
_SAVE_WITH_COMMENT_SQL = ('UPDATE judging_assignment SET "scores" = {}, "updated_at" = {}, "version" = "version" + 1, '
                          '"comment" = {} WHERE "id" = {} RETURNING "version"')


async def save_scores(*, actor: Actor, assignment_id: int, scores: Any, comment: Any = None,
                      version: Any = None) -> dict[str, Any]:
    """Save (autosave) the reviewer's score sheet: any subset of the criteria, each within its
    range. Replaces the sheet; ``version`` (when sent) guards against an older tab overwriting.
    ``comment`` is text (None keeps the stored one)."""
    # One read, under the write lock: the sheet as it is now decides everything below.
    async with atomic():
        current = await own_assignment(actor, assignment_id, lock=True)
        if current["reviewer"] != actor.id:
            raise NotFound("No such assignment.", code="assignment_not_found")
        _require_scoring(current)
        criteria = await criteria_of(current["round"], rules_hash=current["round.rules_hash"])
        values, comment, version = checked_sheet(criteria, scores, comment, version)
        values = {code: float(value) for code, value in values.items()}
        if version is not None and version != current["version"]:
            raise Conflict("These scores changed in another window. Reload to see them.", code="stale_version",
                           current_version=current["version"])
        if comment is None:
            updated = await fetch(_SAVE_SQL, dump_json(values), clock.now(), assignment_id)
        else:
            updated = await fetch(_SAVE_WITH_COMMENT_SQL, dump_json(values), clock.now(), comment, assignment_id)
    return {"id": assignment_id, "state": AssignmentState.assigned, "scores": values, "version": updated[0]["version"],
            "comment": comment if comment is not None else current["comment"]}


async def submit_scores(*, actor: Actor, assignment_id: int) -> dict[str, Any]:
    """Lock a complete score sheet. Only an admin can reopen it."""
    row = await own_assignment(actor, assignment_id)
    if row["reviewer"] != actor.id:
        raise NotFound("No such assignment.", code="assignment_not_found")
    async with atomic():
        await lock_row("judging_assignment", assignment_id)
        current = await own_assignment(actor, assignment_id)
        _require_scoring(current)
        scores = stored_sheet(current["scores"])
        criteria = await criteria_of(row["round"], rules_hash=row["round.rules_hash"])
        problems = validate_scores(rubric_of(criteria), scores)
        if problems:
            by_code = {c["code"]: c for c in criteria}
            raise ValidationFailed("Score every criterion before submitting.", code="incomplete",
                                   errors={f"scores.{p.code}": score_error(p, by_code) for p in problems})
        now = clock.now()
        updated = await Assignment.update({Assignment.state: AssignmentState.submitted, Assignment.submitted_at: now,
                                           Assignment.updated_at: now, Assignment.version: Assignment.version + 1}
                                          ).where((Assignment.id == assignment_id)
                                                  & (Assignment.state == AssignmentState.assigned)
                                                  ).returning(Assignment.id)
        if not updated:
            raise Conflict("These scores were submitted and are locked.", code="already_submitted")
        await append_event(actor=actor, action="assignment.submit", subject_type="assignment",
                           subject_id=assignment_id, after={"scores": scores, "entry": row["entry"]})
    return {"id": assignment_id, "state": AssignmentState.submitted, "scores": scores, "submitted_at": now}


async def recuse(*, actor: Actor, assignment_id: int, reason: str) -> dict[str, Any]:
    """A member declares a conflict of interest with the entry's organisation: the assignment is
    recused, the conflict recorded (so they are never given that organisation again) and the
    entry re-assigned to someone else where possible. The conflict also recuses the member's other live
    assignments from that organisation, submitted ones included: ``recused`` lists every
    assignment it took them off (this one first among them by id), with the state it was in."""
    row = await own_assignment(actor, assignment_id)
    if row["reviewer"] != actor.id:
        raise NotFound("No such assignment.", code="assignment_not_found")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(errors={"reason": t("Say briefly what the conflict of interest is.")})
    if len(reason) > 2000:
        raise ValidationFailed(errors={"reason": t("At most {n} characters.", n=2000)})
    if row["round.state"] != RoundState.open:
        raise Conflict("Scoring has closed for this round.", code="round_closed")
    if row["state"] != AssignmentState.assigned:
        raise Conflict("Only an unsubmitted assignment can be recused (this one is {state}).",
                       code="not_recusable", state=row["state"])
    entry = await existing(Entry.select(Entry.organisation._.code).where(Entry.id == row["entry"]))
    async with atomic():
        await lock_row("judging_round", row["round"])
        current = await own_assignment(actor, assignment_id)
        if current["state"] != AssignmentState.assigned:
            raise Conflict("Only an unsubmitted assignment can be recused (this one is {state}).",
                           code="not_recusable", state=current["state"])
        recused = await declare_conflict(actor=actor, round_id=row["round"], user_id=current["reviewer"],
                                         organisation_code=entry["organisation.code"], reason=reason)
    replaced = await fill_gaps(actor=actor, round_id=row["round"])
    return {"id": assignment_id, "state": AssignmentState.recused, "reassigned": replaced > 0, "recused": recused}


async def reopen(*, actor: Actor, assignment_id: int, reason: str = "") -> None:
    """An admin unlocks submitted scores so the member can correct them, with the reason
    (required: it is recorded in the audit trail)."""
    require_organiser(actor)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationFailed(errors={"reason": t("Say why the sheet is reopened (it is recorded).")})
    if len(reason) > 2000:
        raise ValidationFailed(errors={"reason": t("At most {n} characters.", n=2000)})
    row = await own_assignment(actor, assignment_id)
    if row["round.state"] != RoundState.open:
        raise Conflict("Scoring has closed for this round.", code="round_closed")
    async with atomic():
        updated = await Assignment.update({Assignment.state: AssignmentState.assigned, Assignment.submitted_at: None,
                                           Assignment.updated_at: clock.now(),
                                           Assignment.version: Assignment.version + 1}).where(
            (Assignment.id == assignment_id) & (Assignment.state == AssignmentState.submitted)).returning(Assignment.id)
        if not updated:
            raise Conflict("Only submitted scores can be reopened.", code="not_submitted")
        await append_event(actor=actor, action="assignment.reopen", subject_type="assignment",
                           subject_id=assignment_id, before={"state": AssignmentState.submitted},
                           after={"state": AssignmentState.assigned, "reason": reason})


# --- progress -----------------------------------------------------------------------------------

# The entries not fully reviewed, per (round, how many listed): (stamp, rows), reused while the
# stamp of the round's assignments and entries is unchanged (derived data only: the stamp is read
# from the database on every call).
_INCOMPLETE: dict[tuple[int, int], tuple[tuple[Any, ...], list[dict[str, Any]], int]] = {}
_INCOMPLETE_MAX = 16


# The round's committee with their names (SQLite: the counts are read apart).
_MEMBERS_SQL = ("SELECT m.\"user\" AS \"user\", u.name AS \"user.name\", u.email AS \"user.email\" "
                "FROM judging_member m LEFT JOIN app_user u ON u.id = m.\"user\" WHERE m.round = {}")

# PostgreSQL: the round's members with their names and the round's assignments counted per
# reviewer and state, with the sum of versions and the newest change, in one statement: a row per
# member and state (one without a state for a member with no assignments; ``member`` is false for
# a reviewer who is not on the committee), the members in the order they joined.
_MEMBERS_COUNTED_SQL = (
    "SELECT COALESCE(m.\"user\", s.reviewer) AS \"user\", m.\"user\" IS NOT NULL AS member, "
    "u.name AS \"user.name\", u.email AS \"user.email\", s.state, s.n, s.v, s.at "
    "FROM (SELECT id, \"user\" FROM judging_member WHERE round = {}) m "
    "FULL JOIN (SELECT reviewer, state, COUNT(*) AS n, SUM(version) AS v, MAX(updated_at) AS at "
    "FROM judging_assignment WHERE round = {} GROUP BY reviewer, state) s ON s.reviewer = m.\"user\" "
    "LEFT JOIN app_user u ON u.id = m.\"user\" ORDER BY m.id, s.reviewer")


async def _per_member(round_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], tuple[str, ...],
                                              SubmittedSums]:
    """The round's members with their names, its assignments counted per member and state, the
    stamp of its per-entry counts, and the submitted sheets' sums a ranking's fingerprint is made
    of.

    Which assignment is on which entry in which state decides the per-entry counts. Assignments
    are only ever added (to the count), an assignment's entry never changes, and every change of
    one (a save, submit, reopen, recusal) bumps its version and its ``updated_at``, as the
    ranking's fingerprint already relies on: so the count, the sum of versions and the newest
    change per state stand for the ids and entries. PostgreSQL reads them in one pass over the
    round's assignments, with the members (``_MEMBERS_COUNTED_SQL``): its planner reads the rows
    rather than an index the round fills, and a second pass for the ranking's fingerprint cost a
    third of the page's database time. SQLite reads each from an index alone (its table rows are
    wide: they carry the score sheets): the per-member counts from its (round, reviewer, state)
    index and the per-state sums from the (round, state, version, updated_at) one. Their
    submitted group is the half of that fingerprint the quality and cockpit steps would
    otherwise read in another pass."""
    if is_sqlite():
        rows = await fetch("SELECT reviewer, state, COUNT(*) AS n FROM judging_assignment WHERE round = {} "
                           "GROUP BY reviewer, state", round_id)
        states = await fetch("SELECT state, COUNT(*) AS n, SUM(version) AS v, MAX(updated_at) AS at "
                             "FROM judging_assignment WHERE round = {} GROUP BY state", round_id)
        submitted: SubmittedSums = next(((s["n"], s["v"], s["at"]) for s in states
                                         if s["state"] == AssignmentState.submitted), (0, 0, None))
        members = await fetch(_MEMBERS_SQL, round_id)
        return members, rows, tuple(str(v) for s in states for v in s.values()), submitted
    counted = await fetch(_MEMBERS_COUNTED_SQL, round_id, round_id)
    members, seen, rows = [], set(), []
    for r in counted:
        if r["member"] and r["user"] not in seen:
            seen.add(r["user"])
            members.append({"user": r["user"], "user.name": r["user.name"], "user.email": r["user.email"]})
        if r["state"] is not None:
            rows.append({"reviewer": r["user"], "state": r["state"], "n": r["n"], "v": r["v"], "at": r["at"]})
    done = [r for r in rows if r["state"] == AssignmentState.submitted]
    submitted = (sum(r["n"] for r in done), sum(r["v"] for r in done), max(r["at"] for r in done)) if done \
        else (0, 0, None)
    return members, rows, tuple(sorted(f"{r['reviewer']}:{r['state']}:{r['n']}:{r['v']}:{r['at']}" for r in rows)), \
        submitted


def _member_view(counts: dict[int, dict[str, int]], members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per member, the least done first."""
    names = {m["user"]: (m["user.name"], m["user.email"]) for m in members}
    view = []
    for uid, c in counts.items():
        total = c["assigned"] + c["submitted"]
        view.append({"user_id": uid, "name": names.get(uid, ("", ""))[0], "email": names.get(uid, ("", ""))[1],
                     "assigned": total, "submitted": c["submitted"], "pending": c["assigned"],
                     "recused": c["recused"], "percent": round(100 * c["submitted"] / total) if total else 100})
    view.sort(key=lambda m: (m["percent"], m["name"]))
    return view


async def _incomplete(round_id: int, gap: int, entry_limit: int, stamp: tuple[Any, ...]
                      ) -> tuple[list[dict[str, Any]], int]:
    """The first ``entry_limit`` entries not fully reviewed, the furthest behind first (each with
    the whole count of them), and how many entries have fewer than ``gap`` live sheets; kept
    while ``stamp`` is unchanged."""
    kept = _INCOMPLETE.get((round_id, entry_limit))
    if kept is not None and kept[0] == stamp:
        return kept[1], kept[2]
    per_entry = (
        "SELECT re.entry AS entry, COUNT(a.id) AS live, "
        "COALESCE(SUM(CASE WHEN a.state = 'submitted' THEN 1 ELSE 0 END), 0) AS done "
        "FROM judging_round_entry re LEFT JOIN judging_assignment a ON a.round = re.round "
        "AND a.entry = re.entry AND a.state IN ('assigned', 'submitted') "
        "WHERE re.round = {} GROUP BY re.entry")
    # One pass over the per-entry counts: the window sums count every incomplete entry and every
    # gap before LIMIT keeps the first rows to show.
    shown = await Assignment.raw(
        "SELECT entry, live, done, COUNT(*) OVER () AS incomplete, "
        f"SUM(CASE WHEN live < {{}} THEN 1 ELSE 0 END) OVER () AS gaps FROM ({per_entry}) x "
        "WHERE live < {} OR done < live ORDER BY done - live, entry LIMIT {}", gap, round_id, gap, entry_limit)
    gaps = int(shown[0]["gaps"] or 0) if shown else 0
    if len(_INCOMPLETE) >= _INCOMPLETE_MAX and (round_id, entry_limit) not in _INCOMPLETE:
        _INCOMPLETE.pop(next(iter(_INCOMPLETE)))
    _INCOMPLETE[(round_id, entry_limit)] = (stamp, shown, gaps)
    return shown, gaps


# The shown entries' titles and organisations (at most ``entry_limit`` ids), written out.
_TITLES_SQL = ("SELECT e.id, e.title, o.name_th AS \"organisation.name_th\" FROM entry e "
               "LEFT JOIN organisation o ON o.id = e.organisation WHERE e.id IN (")


async def progress(round_id: int, *, entry_limit: int = 200, row: dict[str, Any] | None = None) -> dict[str, Any]:
    """Completion per member and per entry, grouped in SQL (fast at 7,000 x 3). The per-entry
    counts, the costly part, are kept while the round's entries and the states of its assignments
    are unchanged (a stamp of a few sums, read on every call). A page that has read the round's
    row in the same transaction passes it as ``row``."""
    return (await progress_and_sheets(round_id, entry_limit=entry_limit, row=row))[0]


async def progress_and_sheets(round_id: int, *, entry_limit: int = 200, row: dict[str, Any] | None = None
                              ) -> tuple[dict[str, Any], SubmittedSums]:
    """:func:`progress`, and the submitted sheets' sums read on the way, for the ranking's
    fingerprint in the same snapshot (``quality.round_quality_read(..., submitted=...)``)."""
    if row is None:
        row = await get_round_row(round_id)
    members, per_member_rows, sums, submitted = await _per_member(round_id)
    counts: dict[int, dict[str, int]] = {m["user"]: {"assigned": 0, "submitted": 0, "recused": 0} for m in members}
    for r in per_member_rows:
        counts.setdefault(r["reviewer"], {"assigned": 0, "submitted": 0, "recused": 0})[r["state"]] = int(r["n"])
    needed = len(members) if row["kind"] == RoundKind.final else row["reviewers_per_entry"]
    # An entry is short of reviewers below ``gap`` (final: nobody at all), incomplete while some
    # live review is unsubmitted. Counted and listed in SQL; only the shown rows reach Python.
    gap = 1 if row["kind"] == RoundKind.final else needed
    round_entries = (await fetch(
        "SELECT COUNT(*) AS n, COALESCE(SUM(entry), 0) AS entries FROM judging_round_entry WHERE round = {}",
        round_id))[0]
    entries_total = int(round_entries["n"])
    shown, gaps = await _incomplete(round_id, gap, entry_limit, (gap, entries_total, str(round_entries["entries"]),
                                                                 *sums))
    incomplete = shown[0]["incomplete"] if shown else 0
    titles: dict[int, dict[str, Any]] = {}
    if shown:
        ids = [r["entry"] for r in shown]
        for e in await fetch(_TITLES_SQL + ", ".join(["{}"] * len(ids)) + ")", *ids):
            titles[e["id"]] = e
    total_live = sum(c["assigned"] + c["submitted"] for c in counts.values())
    total_done = sum(c["submitted"] for c in counts.values())
    return {
        "round_id": round_id, "state": row["state"], "entries": entries_total,
        "entries_complete": entries_total - incomplete,
        "reviews": total_live, "reviews_submitted": total_done,
        "percent": round(100 * total_done / total_live) if total_live else 0,
        "gaps": gaps, "members": _member_view(counts, members),
        "incomplete_entries": [{"entry_id": r["entry"], "title": titles.get(r["entry"], {}).get("title", ""),
                                "organisation_name_th": titles.get(r["entry"], {}).get("organisation.name_th", ""),
                                "reviewers": r["live"], "submitted": r["done"], "needed": needed} for r in shown],
        "incomplete_total": incomplete,
    }, submitted


async def send_reminders(*, actor: Actor, round_id: int) -> int:
    """Mail every member with unsubmitted assignments (through the outbox, at most once a day
    each). Returns how many reminders were queued."""
    require_organiser(actor)
    row = await get_round_row(round_id)
    if row["state"] != RoundState.open:
        raise Conflict("Reminders are for an open round (this one is {state}).", code="round_state", state=row["state"])
    pending = await Assignment.select(Assignment.reviewer, Count(Assignment.id).as_alias("n")).where(
        (Assignment.round == round_id) & (Assignment.state == AssignmentState.assigned)).group_by(Assignment.reviewer)
    if not pending:
        return 0
    users = {u["id"]: u for u in await User.select(User.id, User.email, User.name, User.locale).where(
        User.id.is_in([p["reviewer"] for p in pending]))}
    today = clock.now().date().isoformat()
    url = f"{get_settings().base_url}/review/rounds/{round_id}"
    jobs: list[int | None] = []
    async with atomic():
        for p in pending:
            user = users[p["reviewer"]]
            lang = user["locale"] or "th"
            text = t("Dear {name},\n\nYou have {n} entries still to score in the {kind} round of edition {year}.\n"
                     "Your queue: {url}\n", lang, name=user["name"] or user["email"], n=p["n"],
                     kind=t(row["kind"], lang), year=row["edition.year"], url=url)
            jobs.append(await outbox.add_job("send_mail", {
                "to": user["email"], "subject": t("Reminder: {n} entries waiting for your scores", lang, n=p["n"]),
                "text": text}, dedupe_key=f"remind:{round_id}:{user['id']}:{today}"))
        await append_event(actor=actor, action="round.remind", subject_type="round", subject_id=round_id,
                           after={"members": len(pending)})
    await outbox.dispatch(jobs)
    return sum(1 for j in jobs if j is not None)
