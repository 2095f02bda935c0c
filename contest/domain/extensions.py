"""Deadlines per organisation: the edition's, or a later one an admin granted with a reason
(audited); granting one sets an eligibility already decided aside."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contest import clock
from contest.db import atomic, fetch, is_sqlite
from contest.domain.audit import Actor, append_event
from contest.domain.editions import edition_row
from contest.enums import EditionState, EntryState, EntryStates
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import t
from contest.rules import is_organiser
from contest.tables import DeadlineExtension, Edition, Entry, Organisation


async def deadline_for(edition: dict[str, Any], organisation_id: int) -> datetime:
    """The organisation's deadline: the edition's, or a later one an admin granted."""
    rows = await fetch("SELECT closes_at FROM deadline_extension WHERE edition = {} AND organisation = {} "
                       "ORDER BY closes_at DESC LIMIT 1", edition["id"], organisation_id)
    closes: datetime = edition["submission_closes_at"]
    if rows and rows[0]["closes_at"] > closes:
        extended: datetime = rows[0]["closes_at"]
        return extended
    return closes


def _later(edition: dict[str, Any]) -> datetime:
    """The edition's deadline, or the organisation's extension read with it when that is later."""
    closes: datetime = edition["submission_closes_at"]
    extended = edition.pop("extended_until")
    if extended is not None and extended > closes:
        return extended
    return closes


# The edition and the organisation's latest extension in one statement (the deadline each change
# of an entry checks first): its extensions joined to the edition's row, the latest first.
_EDITION_WITH_EXTENSION = ('SELECT edition.*, x.closes_at AS "extended_until" FROM edition '
                           "LEFT JOIN deadline_extension x ON x.edition = edition.id AND x.organisation = {} "
                           "WHERE edition.{} = {} ORDER BY x.closes_at DESC LIMIT 1")
_EDITION_BY_ID = _EDITION_WITH_EXTENSION.replace("edition.{}", "edition.id", 1)
_EDITION_BY_YEAR = _EDITION_WITH_EXTENSION.replace("edition.{}", "edition.year", 1)


async def edition_with_deadline(organisation_id: int, *, edition_id: int | None = None,
                                year: int | None = None) -> tuple[dict[str, Any], datetime]:
    """The edition as stored (``editions.edition_by_id``, or ``edition_row`` by ``year``) and the
    organisation's deadline in it (:func:`deadline_for`), read together."""
    if edition_id is not None:
        rows = await fetch(_EDITION_BY_ID, organisation_id, edition_id)
        if not rows:
            raise LookupError("a row that must exist is missing")
    else:
        rows = await fetch(_EDITION_BY_YEAR, organisation_id, year)
        if not rows:
            raise NotFound("No such edition.")
    edition = rows[0]
    return edition, _later(edition)


def _entry_with_edition_sql() -> str:
    """An entry's row, every column of its edition's (named ``edition:<column>``) and its
    organisation's latest extension, in one statement."""
    columns = ", ".join(f'edition."{name}" AS "edition:{name}"'
                        for name in (column._meta.db_column_name for column in Edition._meta.columns))
    return (f'SELECT entry.*, {columns}, x.closes_at AS "extended_until" FROM entry '
            "JOIN edition ON edition.id = entry.edition "
            "LEFT JOIN deadline_extension x ON x.edition = entry.edition AND x.organisation = entry.organisation "
            "WHERE entry.id = {} ORDER BY x.closes_at DESC LIMIT 1")


_ENTRY_WITH_EDITION = _entry_with_edition_sql()
_LOCKED_ENTRY_WITH_EDITION = _ENTRY_WITH_EDITION + " FOR UPDATE OF entry"


async def entry_with_deadline(entry_id: int, *, locked: bool = False) -> tuple[
        dict[str, Any], dict[str, Any], datetime] | None:
    """The entry's row as stored (``entries.entry_row``), its edition's (``editions.edition_by_id``)
    and its organisation's deadline (:func:`deadline_for`), read together; None without the entry.
    ``locked``: inside a write transaction, the entry's row is locked until it ends (on
    PostgreSQL ``FOR UPDATE``, the row as another writer committed it; SQLite's write
    transaction holds the whole database already)."""
    rows = await fetch(_LOCKED_ENTRY_WITH_EDITION if locked and not is_sqlite() else _ENTRY_WITH_EDITION, entry_id)
    if not rows:
        return None
    row, edition = {}, {}
    for name, value in rows[0].items():
        if name.startswith("edition:"):
            edition[name[8:]] = value
        else:
            row[name] = value
    edition["extended_until"] = row.pop("extended_until")
    return row, edition, _later(edition)


async def extend_deadline(*, actor: Actor, year: int, organisation_code: str, closes_at: datetime | None,
                          reason: str) -> dict[str, Any]:
    """Give one organisation a later deadline, with a reason (audited). Returns the extension."""
    if not is_organiser(actor):
        raise PermissionDenied("Only administrators can extend a deadline.")
    edition = await edition_row(year)
    errors: dict[str, str] = {}
    if not (reason or "").strip():
        errors["reason"] = t("Give the reason for the extension.")
    elif len(reason.strip()) > 2000:
        errors["reason"] = t("At most {n} characters (now {m}).", n=2000, m=len(reason.strip()))
    if edition["state"] != EditionState.open:
        raise Conflict("Submissions are over for this edition: screening has begun, so no deadline can be "
                       "extended.", code="screening_opened")
    organisation_code = str(organisation_code or "").strip()
    org = await Organisation.select(Organisation.id).where(Organisation.code == organisation_code).first()
    if org is None:
        errors["organisation_code"] = t("Unknown organisation code.")
    if closes_at is None or closes_at.tzinfo is None:
        errors["closes_at"] = t("Enter the new deadline as a date and time.")
    elif closes_at <= edition["submission_closes_at"]:
        errors["closes_at"] = t("The extension must end after the edition's deadline.")
    if errors:
        raise ValidationFailed(errors=errors)
    assert org is not None and closes_at is not None
    reason = reason.strip()
    async with atomic():
        await DeadlineExtension.insert(DeadlineExtension(edition=edition["id"], organisation=org["id"],
                                                         closes_at=closes_at, reason=reason,
                                                         granted_by=actor.id))
        # More time is only worth something if the organisation can edit again: an eligibility
        # already decided for its entries is set aside (audited), to be decided after the new
        # deadline like everyone else's.
        decided = await Entry.update({Entry.state: EntryState.submitted, Entry.eligibility_reason: ""}).where(
            (Entry.edition == edition["id"]) & (Entry.organisation == org["id"])
            & Entry.state.is_in(list(EntryStates.ELIGIBILITY_DECIDED))).returning(Entry.id)
        cleared = [r["id"] for r in decided]
        for entry_id in cleared:
            await append_event(actor=actor, action="entry.eligibility_cleared", subject_type="entry",
                               subject_id=entry_id, after={"state": EntryState.submitted, "reason": "deadline.extend"})
        await append_event(actor=actor, action="deadline.extend", subject_type="organisation",
                           subject_id=organisation_code,
                           after={"edition": year, "closes_at": clock.utc_iso(closes_at), "reason": reason,
                                  "eligibility_cleared": cleared})
    return {"year": year, "organisation_code": organisation_code, "until": closes_at, "reason": reason,
            "deadline": await deadline_for(edition, org["id"]), "eligibility_cleared": cleared}


async def list_extensions(actor: Actor, year: int) -> list[dict[str, Any]]:
    """Every extension granted in an edition, newest first (admins)."""
    if not is_organiser(actor):
        raise PermissionDenied("Only administrators can see deadline extensions.")
    edition = await edition_row(year)
    rows = await DeadlineExtension.select(
        DeadlineExtension.organisation.code, DeadlineExtension.closes_at, DeadlineExtension.reason,
        DeadlineExtension.created_at).where(DeadlineExtension.edition == edition["id"]).order_by(
        DeadlineExtension.id, ascending=False)
    return [{"year": year, "organisation_code": r["organisation.code"], "until": r["closes_at"],
             "reason": r["reason"], "created_at": r.get("created_at")} for r in rows]
