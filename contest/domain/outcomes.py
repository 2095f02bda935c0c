"""What judging decides about entries, recorded on the entries themselves, and who may see it.

Judging calls these functions (contest never imports judging), so the announcement and the
applicant's own pages read entries only: eligibility with its reason, the outcome of each round
(state, rank, score) and the committee's aggregated feedback.

Who sees what before the announcement (``visible_state``): until an edition's results are
published, only administrators see a verdict. Everyone else who may read an entry (its
organisation, a reviewer, a panel member) sees ``submitted`` in place of ``eligible``,
``ineligible``, ``shortlisted``, ``not_shortlisted``, ``finalist`` and ``winner``, and none of
the fields that come with a verdict (eligibility reason, feedback, rank, score). Every route
that shows an entry's state (JSON, pages, lists and their filters, errors that name the state)
goes through ``visible_state``; the announcement's own routes read the published snapshot only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from contest import clock
from contest.db import atomic
from contest.domain.audit import Actor, append_event
from contest.enums import EditionState, EntryState, EntryStates, RoundKind
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import format_date, t
from contest.rules import can_manage_editions, is_organiser
from contest.tables import DeadlineExtension, Edition, Entry

#: What judging decides, in the order it decides it: eligibility, the shortlist, the award.
VERDICT_STATES = EntryStates.VERDICTS
#: What a verdict reads as before publication, to everyone but administrators: the state every
#: entry under judging had when its organisation last acted on it ("under review" on the pages).
NEUTRAL_STATE = EntryStates.NEUTRAL
#: The entry's fields that only exist because of a verdict, blanked wherever the state is.
VERDICT_FIELDS = {"eligibility_reason": "", "feedback": "", "outcome_rank": None, "outcome_score": ""}

#: Below this many submitted reviews an entry's criterion means would be one person's scores:
#: the feedback recorded for it (and shown to the organisation) leaves them out; the comments,
#: which name nobody, are kept.
MIN_REVIEWERS_FOR_MEANS = 2

# Entries an admin may mark eligible or ineligible: submitted ones (and re-marking either way).
JUDGEABLE_STATES = EntryStates.JUDGEABLE
MAX_REASON = 2000
# Outcomes a signed decision may give, per the round kind (looked up by the round's stored kind).
OUTCOMES: dict[str, tuple[EntryState, EntryState]] = {
    RoundKind.screening: (EntryState.shortlisted, EntryState.not_shortlisted),
    RoundKind.final: (EntryState.winner, EntryState.finalist)}


def sees_verdicts_early(viewer: Actor | None) -> bool:
    """Administrators (and the system itself) run the judging: they see verdicts as decided."""
    return is_organiser(viewer)


def visible_state(state: str, *, viewer: Actor | None, published_at: datetime | None) -> str:
    """The state of an entry as ``viewer`` may see it: the stored state for administrators and,
    once the edition's results are published (``published_at``), for everyone who may read the
    entry; before that, ``NEUTRAL_STATE`` in place of any verdict. Drafts, submitted and
    withdrawn entries read as they are: those states are the organisation's own doing.

    This is the only place the rule is decided. Eligibility is a verdict too: the organisation
    reads its eligibility decision and reason with its result, at the announcement."""
    if published_at is None and state in VERDICT_STATES and not sees_verdicts_early(viewer):
        return NEUTRAL_STATE
    return state


def visible_entry(entry: dict[str, Any], *, viewer: Actor | None, published_at: datetime | None) -> dict[str, Any]:
    """An entry row as ``viewer`` may see it: ``visible_state``, and the verdict's own fields
    (``VERDICT_FIELDS``) blanked whenever the state is hidden."""
    state = visible_state(entry["state"], viewer=viewer, published_at=published_at)
    if state == entry["state"]:
        return entry
    return {**entry, "state": state, **{k: v for k, v in VERDICT_FIELDS.items() if k in entry}}


def visible_state_condition(viewer: Actor, state: str) -> tuple[str, list[Any]]:
    """A filter on the state as ``viewer`` sees it (``visible_state``), as SQL with ``{}``
    placeholders and its values, for reads of ``"entry"`` joined to its edition as ``ed``: before
    publication a verdict matches nothing and ``submitted`` matches every entry under judging, so
    a filter cannot reveal what a list does not show."""
    if sees_verdicts_early(viewer):
        return '"entry"."state" = {}', [state]
    if state in VERDICT_STATES:
        return '(ed."published_at" IS NOT NULL AND "entry"."state" = {})', [state]
    if state == NEUTRAL_STATE:
        verdicts = sorted(VERDICT_STATES)
        return ('("entry"."state" = {} OR (ed."published_at" IS NULL AND "entry"."state" IN ('
                + ", ".join("{}" for _ in verdicts) + ")))", [NEUTRAL_STATE, *verdicts])
    return '"entry"."state" = {}', [state]


async def set_eligibility(*, actor: Actor, entry_ids: Iterable[int], eligible: bool, reason: str = "",  # noqa: C901 - each guard is one rule of eligibility, in the order they are checked
                          year: int | None = None) -> list[int]:
    """Mark submitted entries eligible or ineligible (with the reason the applicant will see), in
    one transaction: either every entry changes or none does. Only once the submission deadline
    has passed for the entry's organisation (its extension included: until then the applicant may
    still edit, which an eligible entry no longer can) and before screening opens; drafts and
    withdrawn entries never enter. Returns the ids changed."""
    if not can_manage_editions(actor):
        raise PermissionDenied("This is for contest administrators only.", code="admin_only")
    ids = sorted({int(i) for i in entry_ids})
    reason = (reason or "").strip()
    if not ids:
        raise ValidationFailed(errors={"entry_ids": t("Choose at least one entry.")})
    if not eligible and not reason:
        raise ValidationFailed(errors={"reason": t("Give the reason the organisation will see.")})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(errors={"reason": t("At most {n} characters.", n=MAX_REASON)})
    state = EntryState.eligible if eligible else EntryState.ineligible
    async with atomic():
        rows = await Entry.select(Entry.id, Entry.state, Entry.eligibility_reason, Entry.edition, Entry.organisation,
                                  Entry.edition.year, Entry.edition.state, Entry.edition.submission_closes_at).where(
            Entry.id.is_in(ids)).order_by(Entry.id)
        found = {r["id"]: r for r in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound("No such entry: {ids}.", code="entry_not_found", ids=", ".join(map(str, missing)))
        if year is not None and any(r["edition.year"] != year for r in rows):
            raise ValidationFailed(errors={"entry_ids": t("Every entry must belong to edition {year}.", year=year)})
        for r in rows:
            if r["edition.state"] != EditionState.open:
                raise Conflict("Eligibility can only change before screening opens.", code="screening_opened")
            if r["state"] not in JUDGEABLE_STATES:
                raise Conflict("Entry {id} is {state}: only submitted entries can be judged eligible.",
                               code="not_submitted", id=r["id"], state=r["state"])
        still_open = await _still_open(rows)
        if still_open:
            first_id, closes = still_open[0]
            raise Conflict("Entry {id} can still be changed by its organisation until {closes}: eligibility is "
                           "decided after the submission deadline.", code="submissions_open", id=first_id,
                           closes=format_date(closes), closes_at=closes.isoformat(),
                           entry_ids=[i for i, _ in still_open])
        changed = [r for r in rows if r["state"] != state or r["eligibility_reason"] != reason]
        if changed:
            # updated_at is the organisation's last edit (My entries shows it): a judging write
            # leaves it alone, or its date would tell of a verdict before publication.
            await Entry.update({Entry.state: state, Entry.eligibility_reason: reason}).where(
                Entry.id.is_in([r["id"] for r in changed]))
        for r in changed:
            await append_event(actor=actor, action="entry.eligibility", subject_type="entry", subject_id=r["id"],
                               before={"state": r["state"], "reason": r["eligibility_reason"]},
                               after={"state": state, "reason": reason})
    return [r["id"] for r in changed]


async def _still_open(rows: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """The entries whose organisation may still change them now, with the time its deadline
    closes (the edition's, or a later extension): one query for every extension involved."""
    now = clock.now()
    latest: dict[tuple[int, int], Any] = {}
    editions = sorted({r["edition"] for r in rows})
    organisations = sorted({r["organisation"] for r in rows})
    if rows and await DeadlineExtension.exists().where(DeadlineExtension.edition.is_in(editions)):
        for ext in await DeadlineExtension.select(DeadlineExtension.edition, DeadlineExtension.organisation,
                                                  DeadlineExtension.closes_at).where(
                DeadlineExtension.edition.is_in(editions) & DeadlineExtension.organisation.is_in(organisations)):
            key = (ext["edition"], ext["organisation"])
            if key not in latest or ext["closes_at"] > latest[key]:
                latest[key] = ext["closes_at"]
    out = []
    for r in rows:
        closes = r["edition.submission_closes_at"]
        extended = latest.get((r["edition"], r["organisation"]))
        if extended is not None and extended > closes:
            closes = extended
        if now < closes:
            out.append((r["id"], closes))
    return out


async def count_in_state(edition_id: int, state: str) -> int:
    """How many entries of an edition are in one state."""
    return await Entry.count().where((Entry.edition == edition_id) & (Entry.state == state))


async def advance_edition(*, actor: Actor, edition_id: int, to: str) -> None:
    """Move an edition on as judging opens its rounds: open -> screening -> final. Called inside
    the caller's transaction (opening a round)."""
    allowed = {EditionState.screening: (EditionState.open,),
               EditionState.final: (EditionState.screening,)}
    if to not in allowed:
        raise ValueError(to)
    row = await Edition.select(Edition.state, Edition.year).where(Edition.id == edition_id).first()
    if row is None:
        raise NotFound("No such edition.")
    if row["state"] == to:
        return
    if row["state"] not in allowed[EditionState(to)]:
        raise Conflict("The edition is {state}; it cannot move to {to}.", code="edition_state",
                       state=row["state"], to=to)
    await Edition.update({Edition.state: to, Edition.updated_at: clock.now()}).where(Edition.id == edition_id)
    await append_event(actor=actor, action="edition.advance", subject_type="edition", subject_id=row["year"],
                       before={"state": row["state"]}, after={"state": to})


async def entries_in_state(edition_id: int, state: str) -> list[dict[str, Any]]:
    """Entries of an edition in one state, with what judging needs to assign them."""
    return await Entry.select(Entry.id, Entry.organisation.code, Entry.organisation.province_code).where(
        (Entry.edition == edition_id) & (Entry.state == state)).order_by(Entry.id)


async def record_outcomes(*, actor: Actor, kind: RoundKind, outcomes: dict[int, dict[str, Any]]) -> None:
    """Record a signed round's outcome on each entry: state (``OUTCOMES[kind]``), rank, score and
    the aggregated feedback. The screening committee's feedback is the entry's feedback; the
    expert panel's is kept beside it under ``"final"`` (a finalist reads both). Called inside the
    signing transaction; one audit event per entry."""
    allowed = OUTCOMES[kind]
    expected = EntryState.eligible if kind == RoundKind.screening else EntryState.shortlisted
    current = {r["id"]: r for r in await Entry.select(Entry.id, Entry.state, Entry.feedback).where(
        Entry.id.is_in(list(outcomes) or [-1]))}
    for entry_id, outcome in outcomes.items():
        state = outcome["outcome"]
        if state not in allowed:
            raise ValueError(f"outcome {state!r} is not one of {allowed}")
        before = current.get(entry_id)
        if before is None or before["state"] != expected:
            raise Conflict("Entry {id} is no longer {state}.", code="entry_state", id=entry_id, state=expected)
        feedback = outcome.get("feedback")
        values: dict[Any, Any] = {Entry.state: state, Entry.outcome_rank: outcome.get("rank"),
                                  Entry.outcome_score: "" if outcome.get("score") is None
                                  else f"{outcome['score']:.4f}"}
        if feedback is not None:
            if kind == RoundKind.final:
                try:
                    screening = json.loads(before["feedback"]) if before["feedback"] else {}
                except ValueError:
                    screening = {}
                feedback = {**(screening if isinstance(screening, dict) else {}), "final": feedback}
            values[Entry.feedback] = json.dumps(feedback, ensure_ascii=False, sort_keys=True)
        await Entry.update(values).where(Entry.id == entry_id)
        await append_event(actor=actor, action=f"entry.{kind}_outcome", subject_type="entry", subject_id=entry_id,
                           before={"state": before["state"]},
                           after={"state": state, "rank": outcome.get("rank"), "score": outcome.get("score")})
