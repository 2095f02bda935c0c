"""An entry's life at its organisation: drafting, editing with a version check, submitting
(with a receipt that lists every file's SHA-256), and withdrawing, before the deadline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from piccolo.utils.encoding import dump_json

from contest import clock
from contest.db import atomic, existing, fetch, is_sqlite, stored_json
from contest.domain import consent, outbox
from contest.domain.audit import Actor, append_event
from contest.domain.editions import edition_by_id
from contest.domain.entries import (
    EDITABLE_STATES,
    FIELDS,
    LIVE_ATTACHMENTS_SQL,
    LIVE_STATES,
    EntryDetail,
    clean_fields,
    entry_detail,
    entry_dict,
    entry_row,
    is_owner,
    missing_for_submission,
    not_editable,
    owned,
    owned_entry,
    parse_version,
    require_open,
    unknown_field_errors,
)
from contest.domain.extensions import edition_with_deadline, entry_with_deadline
from contest.domain.outcomes import visible_entry
from contest.enums import EditionState, EntryState, Role
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import format_date, format_size, t
from contest.rules import refuse_any_pending, refuse_pending_member
from contest.settings import get_settings
from contest.tables import Edition, Entry, Receipt


async def create_entry(*, actor: Actor, year: int, data: dict[str, Any] | None = None) -> int:
    """Start a draft for the caller's organisation, within the edition's per-organisation limit."""
    created: int = (await create_draft(actor=actor, year=year, data=data)).entry["id"]
    return created


async def create_draft(*, actor: Actor, year: int, data: dict[str, Any] | None = None) -> EntryDetail:
    """:func:`create_entry`, returning the new draft as ``entries.get_entry`` reads it, from the
    rows the creation wrote and read."""
    refuse_any_pending(actor)
    if actor.role != Role.applicant or actor.organisation_id is None:
        raise PermissionDenied("Only staff of a registered organisation can create entries.", code="applicant_only")
    edition, closes = await edition_with_deadline(actor.organisation_id, year=year)
    if edition["state"] == EditionState.draft:
        raise NotFound("No such edition.")
    # The deadline first: after it, every change is refused the same way, valid or not.
    await require_open(edition, actor.organisation_id, closes)
    data = data or {}
    values, errors = clean_fields(data, edition)
    errors = {**unknown_field_errors(data), **errors}
    if errors:
        raise ValidationFailed(errors=errors)
    async with atomic():
        # The organisation's row, locked on PostgreSQL: its drafts are counted one creation at a time.
        organisation = (await fetch(_ORGANISATION if is_sqlite() else _LOCKED_ORGANISATION,
                                    actor.organisation_id))[0]
        await require_open(edition, actor.organisation_id, closes)
        live = (await fetch(_LIVE_ENTRIES, edition["id"], actor.organisation_id))[0]["n"]
        if live >= edition["entries_per_organisation"]:
            raise Conflict("Your organisation already has {n} entries in this edition, the most allowed.",
                           code="entry_limit", n=edition["entries_per_organisation"])
        row = (await fetch(_INSERT_ENTRY, *new_entry_values(edition["id"], actor.organisation_id, actor.id,
                                                            values)))[0]
        entry_id = row["id"]
        await append_event(actor=actor, action="entry.create", subject_type="entry", subject_id=entry_id,
                           after={"edition": year, **audit_values(values)})
        if values.get("consent_publish"):
            await consent.record(actor=actor, entry_id=entry_id, granted=True, how="entry_form")
    return await entry_detail(actor, row, edition, closes, organisation=organisation, new=True)


def audit_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in values.items()}


async def update_entry(*, actor: Actor, entry_id: int, data: dict[str, Any], version: int | None) -> int:
    """Save fields of a draft or submitted entry. ``version`` must be the one the editor loaded:
    a stale one gets 409 so two staff never silently overwrite each other. Returns the new version."""
    saved: int = (await save_entry(actor=actor, entry_id=entry_id, data=data, version=version)).row["version"]
    return saved


@dataclass(frozen=True)
class Saved:
    """An entry's row after a save (as written, or as read when nothing changed), its edition and
    its organisation's deadline as the save read them: ``entries.entry_detail`` makes the entry's
    reading of them."""
    row: dict[str, Any]
    edition: dict[str, Any]
    closes: datetime


async def save_entry(*, actor: Actor, entry_id: int, data: dict[str, Any], version: int | None) -> Saved:
    """:func:`update_entry`, returning the row it left and what it read."""
    found = await entry_with_deadline(entry_id)
    row = owned(actor, found[0] if found else None)
    assert found is not None
    edition, closes = found[1], found[2]
    # Deadline and state first: after the deadline an invalid change is refused as late, not
    # as invalid (fixing it would not help).
    await require_open(edition, row["organisation"], closes)
    if row["state"] not in EDITABLE_STATES:
        raise not_editable(actor, row["state"], edition["published_at"])
    values, errors = clean_fields(data, edition)
    loaded, version_errors = parse_version(version)
    errors = {**unknown_field_errors(data), **errors, **version_errors}
    if errors:
        raise ValidationFailed(errors=errors)
    assert loaded is not None
    async with atomic():
        await require_open(edition, row["organisation"], closes)
        saved = await _save_fields(actor, row, values, loaded, edition)
    return Saved(saved, edition, closes)


async def _save_fields(actor: Actor, row: dict[str, Any], values: dict[str, Any], loaded: int,
                       edition: dict[str, Any]) -> dict[str, Any]:
    """The fields' save inside its transaction; the entry's row after it. ``row`` was read a moment
    ago: while its version is still the loaded one and it may still be edited (the save's own
    conditions, checked as it writes), its fields are the ones saved over. Otherwise, or with
    nothing to change, the row is read again to say why nothing is saved."""
    entry_id = row["id"]
    current = row
    changed = _changes(values, row)
    updated = []
    if changed and loaded == row["version"]:
        updated = await fetch(_update_sql(tuple(changed)), *(_stored(k, v) for k, v in changed.items()),
                              clock.now(), entry_id, loaded)
    if not updated:
        found = await entry_row(entry_id)
        if found is None:
            raise LookupError("a row that must exist is missing")
        current = found
        if current["state"] not in EDITABLE_STATES:
            raise not_editable(actor, current["state"], edition["published_at"])
        changed = _changes(values, current)
        if loaded != current["version"]:
            raise Conflict("Someone else saved this entry after you opened it. Review their changes and save again.",
                           code="stale_version", current_version=current["version"])
        if not changed:
            return current
        updated = await fetch(_update_sql(tuple(changed)), *(_stored(k, v) for k, v in changed.items()),
                              clock.now(), entry_id, loaded)
        if not updated:
            raise Conflict("Someone else saved this entry after you opened it. Review their changes and save again.",
                           code="stale_version")
    await append_event(actor=actor, action="entry.update", subject_type="entry", subject_id=entry_id,
                       before=audit_values({k: current.get(k) for k in changed}),
                       after=audit_values(changed))
    if "consent_publish" in changed:
        await consent.record(actor=actor, entry_id=entry_id, granted=bool(changed["consent_publish"]),
                             how="entry_form")
    return updated[0]


def _changes(values: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if comparable_value(row.get(k)) != comparable_value(v)}


# A new draft's row as the entry table's defaults make it, every column named (the statement is
# written out, not built per draft); the entry form's fields given on creation replace theirs.
_NEW_ENTRY: dict[str, Any] = {
    "state": EntryState.draft.value, "version": 1, "revision": 1, "submitted_revision": None, "submitted_at": None,
    "submission_count": 0, "title": "", "category": "", "summary": "", "problem": "", "solution": "",
    "citizens_served": None, "results": "", "in_service_since": None, "technology": "", "links": [],
    "video_url": "", "contact_name": "", "contact_email": "", "contact_phone": "", "consent_publish": False,
    "eligibility_reason": "", "outcome_rank": None, "outcome_score": "", "feedback": ""}
_INSERT_ENTRY = ('INSERT INTO entry ("edition", "organisation", "created_by", "created_at", "updated_at", '
                 + ", ".join(f'"{column}"' for column in _NEW_ENTRY) + ") VALUES ("
                 + ", ".join("{}" for _ in range(5 + len(_NEW_ENTRY))) + ") RETURNING *")
_ORGANISATION = "SELECT * FROM organisation WHERE id = {}"
_LOCKED_ORGANISATION = _ORGANISATION + " FOR UPDATE"


def _stored(column: str, value: Any) -> Any:
    """A field's value as its column takes it (the links are a JSON column)."""
    return dump_json(value) if column == "links" else value


def new_entry_values(edition_id: int, organisation_id: int, created_by: int | None,
                     values: dict[str, Any]) -> list[Any]:
    """The arguments of the new draft's insert, in its columns' order."""
    now = clock.now()
    row = {**_NEW_ENTRY, **values}
    return [edition_id, organisation_id, created_by, now, now, *(_stored(k, row[k]) for k in _NEW_ENTRY)]


_UPDATES: dict[tuple[str, ...], str] = {}


def _update_sql(columns: tuple[str, ...]) -> str:
    """A save of these entry form fields (names from ``FIELDS`` only, never from a request):
    the fields, the next version and revision, and the time, if the version is still the one
    loaded and the entry may still be edited; the row as saved."""
    found = _UPDATES.get(columns)
    if found is None:
        unknown = set(columns) - set(FIELDS)
        if unknown:
            raise ValueError(f"not entry form fields: {sorted(unknown)}")
        found = _UPDATES[columns] = (
            "UPDATE entry SET " + "".join(f'"{column}" = {{}}, ' for column in columns)
            + '"version" = "version" + 1, "revision" = "revision" + 1, "updated_at" = {} '
            'WHERE "id" = {} AND "version" = {} AND "state" IN ('
            + ", ".join(f"'{state}'" for state in sorted(EDITABLE_STATES)) + ") RETURNING *")
    return found


def comparable_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass(frozen=True)
class SubmitResult:
    receipt: dict[str, Any]
    created: bool


async def submit_entry(*, actor: Actor, entry_id: int) -> SubmitResult:
    """Submit (or re-submit) an entry before the deadline and issue a receipt listing every file's
    SHA-256. Submitting again with nothing changed returns the same receipt, so a double click or
    two simultaneous submits give exactly one receipt."""
    async with atomic():
        found = await entry_with_deadline(entry_id, locked=True)
        current = owned(actor, found[0] if found else None)
        assert found is not None
        edition, closes = found[1], found[2]
        await require_open(edition, current["organisation"], closes)
        if current["state"] not in EDITABLE_STATES:
            raise not_editable(actor, current["state"], edition["published_at"],
                                "This entry can no longer be submitted (it is {state}).")
        if current["submitted_revision"] == current["revision"]:
            latest = await existing(Receipt.select().where(Receipt.entry == entry_id).order_by(
                Receipt.sequence, ascending=False))
            return SubmitResult(receipt=receipt_view(latest), created=False)
        attachments = await fetch(LIVE_ATTACHMENTS_SQL, entry_id)
        problems = missing_for_submission(entry_dict(current), attachments)
        if problems:
            raise ValidationFailed("The entry is not complete yet.", errors=problems, code="incomplete")
        now = clock.now()
        # The entry's row is locked (on SQLite the whole database): this submission is the next
        # of its count, and the receipt's number is known before it is written.
        sequence = current["submission_count"] + 1
        number = f"DLG{edition['year']}-{entry_id:06d}-{sequence:02d}"
        files = [{"attachment_id": a["id"], "name": a["name"], "size": a["size"], "sha256": a["sha256"],
                  "content_type": a["content_type"]} for a in attachments]
        snapshot = audit_values({k: current.get(k) for k in FIELDS})
        snapshot["links"] = stored_json(current.get("links"), [])
        mail = _receipt_mail(actor.email, edition, current, {"number": number, "submitted_at": now}, files)
        written = await _write_submission(current, sequence, number, now, actor.id, snapshot, files, mail)
        if written is None:  # another submit of this revision won the race
            raced = await Receipt.select().where(Receipt.entry == entry_id).order_by(
                Receipt.sequence, ascending=False).first()
            if raced is None:
                raise Conflict("The entry changed while submitting. Please try again.", code="stale_version")
            return SubmitResult(receipt=receipt_view(raced), created=False)
        receipt, job = written
        # The chain's event last: on PostgreSQL it holds the chain's lock until the commit.
        await append_event(actor=actor, action="entry.submit", subject_type="entry", subject_id=entry_id,
                           before={"state": current["state"]},
                           after={"state": EntryState.submitted, "receipt": number, "files": [
                               {"name": f["name"], "size": f["size"], "sha256": f["sha256"]} for f in files]})
    await outbox.dispatch([job])
    return SubmitResult(receipt=receipt_view(receipt), created=True)


async def _write_submission(current: dict[str, Any], sequence: int, number: str, now: datetime,
                            submitted_by: int | None, snapshot: dict[str, Any], files: list[dict[str, Any]],
                            mail: dict[str, str]) -> tuple[dict[str, Any], int | None] | None:
    """The submission's writes: the entry claimed for this revision as its ``sequence``-th
    submission, the receipt, and the receipt's mail in the outbox. On PostgreSQL one statement
    (each write feeding the next), on SQLite three. None when the claim found the entry changed."""
    claim = (EntryState.submitted.value, current["revision"], now, current["id"], current["revision"],
             current["revision"], sequence - 1)
    receipt = (current["id"], number, current["revision"], now, submitted_by, dump_json(snapshot), dump_json(files))
    job = ("send_mail", dump_json(mail), f"receipt:{number}", *outbox.new_job_stamps())
    if not is_sqlite():
        rows = await fetch(_SUBMISSION_WRITES, *claim, *receipt, *job)
        if not rows:
            return None
        written = rows[0]
        job_id: int | None = written.pop("outbox_id")
        return written, job_id
    if not await fetch(_CLAIM_SUBMISSION, *claim):
        return None
    written = (await fetch(_INSERT_RECEIPT, receipt[0], number, sequence, *receipt[2:]))[0]
    return written, await outbox.add_job("send_mail", mail, dedupe_key=f"receipt:{number}")


_LIVE_ENTRIES = ("SELECT COUNT(*) AS n FROM entry WHERE edition = {} AND organisation = {} AND state IN ("
                 + ", ".join(f"'{state}'" for state in sorted(LIVE_STATES)) + ")")
# The submit's statements, as fixed SQL (no query object built per submission).
_CLAIM_SUBMISSION = (
    "UPDATE entry SET state = {}, submitted_revision = {}, submitted_at = {}, "
    "submission_count = submission_count + 1 "
    "WHERE id = {} AND revision = {} AND (submitted_revision IS NULL OR submitted_revision != {}) "
    "AND submission_count = {} RETURNING submission_count")
_RECEIPT_COLUMNS = '"entry", "number", "sequence", "revision", "submitted_at", "submitted_by", "snapshot", "files"'
_INSERT_RECEIPT = f"INSERT INTO receipt ({_RECEIPT_COLUMNS}) VALUES (" + ", ".join(["{}"] * 8) + ") RETURNING *"
# PostgreSQL's writes of a submission in one statement: the claim, then the receipt numbered by
# it, then the receipt's mail (``outbox.add_job``'s row), each from the row the one before wrote.
_SUBMISSION_WRITES = (
    "WITH claimed AS (" + _CLAIM_SUBMISSION + "), "
    f"receipt_row AS (INSERT INTO receipt ({_RECEIPT_COLUMNS}) "
    "SELECT {}::integer, {}::varchar, claimed.submission_count, {}::integer, {}::timestamptz, {}::integer, "
    "{}::json, {}::json FROM claimed RETURNING *), "
    "mail AS (" + outbox.job_after("receipt_row") + ") "
    'SELECT receipt_row.*, (SELECT id FROM mail) AS "outbox_id" FROM receipt_row')


def _receipt_mail(to: str, edition: dict[str, Any], entry: dict[str, Any], receipt: dict[str, Any],
                  files: list[dict[str, Any]]) -> dict[str, str]:
    lines = "\n".join(f"- {f['name']} ({format_size(f['size'])}) SHA-256 {f['sha256']}" for f in files)
    text = t("Your entry \"{title}\" was received.\n\nReceipt number: {number}\nReceived at: {at}\n"
             "Edition: {edition}\n\nFiles received:\n{files}\n\nYou can view and print the receipt at {url}\n",
             title=entry["title"], number=receipt["number"], at=format_date(receipt["submitted_at"]),
             edition=edition["title"], files=lines,
             url=f"{get_settings().base_url}/receipts/{receipt['number']}")
    text += "\n" + t("SHA-256 is a fingerprint of each file: if even one byte of a file changes, its fingerprint "
                     "changes.") + "\n"
    return {"to": to, "subject": t("Receipt {number}: your entry was received", number=receipt["number"]),
            "text": text}


def receipt_view(receipt: dict[str, Any]) -> dict[str, Any]:
    files = stored_json(receipt["files"], [])
    return {"number": receipt["number"], "sequence": receipt["sequence"], "submitted_at": receipt["submitted_at"],
            "entry_id": receipt["entry"],
            "files": [{"name": f["name"], "size": f["size"], "sha256": f["sha256"]} for f in files]}


async def get_receipt(actor: Actor | None, number: str) -> tuple[dict[str, Any], dict[str, Any]]:
    receipt = await Receipt.select().where(Receipt.number == number).first()
    if receipt is None:
        raise NotFound("No such receipt.")
    entry = await entry_row(receipt["entry"])
    if entry is None or not (is_owner(actor, entry) or (actor and actor.role == Role.admin)):
        refuse_pending_member(actor, entry["organisation"] if entry else None)
        raise NotFound("No such receipt.")
    view = receipt_view(receipt)
    view["snapshot"] = stored_json(receipt["snapshot"], {})
    edition = await Edition.select(Edition.published_at).where(Edition.id == entry["edition"]).first()
    return view, visible_entry(entry, viewer=actor, published_at=edition["published_at"] if edition else None)


async def withdraw_entry(*, actor: Actor, entry_id: int) -> None:
    """Withdraw before the deadline: the entry leaves the contest and frees the organisation's slot."""
    row = await owned_entry(actor, entry_id)
    edition = await edition_by_id(row["edition"])
    async with atomic():
        await require_open(edition, row["organisation"])
        updated = await Entry.update({Entry.state: EntryState.withdrawn, Entry.updated_at: clock.now(),
                                      Entry.version: Entry.version + 1}).where(
            (Entry.id == entry_id) & Entry.state.is_in(list(EDITABLE_STATES))).returning(Entry.id)
        if not updated:
            raise not_editable(actor, row["state"], edition["published_at"],
                                "This entry cannot be withdrawn (it is {state}).")
        await append_event(actor=actor, action="entry.withdraw", subject_type="entry", subject_id=entry_id,
                           before={"state": row["state"]}, after={"state": EntryState.withdrawn})
