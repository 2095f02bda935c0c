"""The files of an entry: room for an upload, recording a stored file, removing it before the
deadline, reading it (owner, admin, assigned reviewer) and the result of its check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.utils.encoding import dump_json

from contest import clock
from contest.db import atomic, existing, fetch, is_sqlite, lock_row, stored_json
from contest.domain import outbox
from contest.domain.audit import Actor, append_event
from contest.domain.editions import edition_by_id
from contest.domain.entries import (
    ATTACHMENT_KINDS,
    EDITABLE_STATES,
    LIVE_ATTACHMENTS_SQL,
    MAX_FILES_PER_ENTRY,
    can_view_entry,
    entry_row,
    is_owner,
    not_editable,
    owned,
    require_open,
)
from contest.domain.extensions import entry_with_deadline
from contest.enums import Role
from contest.errors import Conflict, NotFound, PayloadTooLarge, PermissionDenied, ValidationFailed
from contest.i18n import current_language, t
from contest.rules import refuse_pending_member
from contest.tables import Attachment, Entry, Receipt
from uploads.checks import CheckState


@dataclass(frozen=True)
class UploadAllowance:
    entry_id: int
    max_bytes: int
    entry_remaining: int
    max_file_bytes: int
    max_entry_bytes: int = 0
    #: The entry's and its edition's rows as read for this check: recording the file after its
    #: body arrived reuses them instead of reading them again (the entry's state, the deadline
    #: and the room are checked again inside the recording's transaction).
    entry: dict[str, Any] | None = None
    edition: dict[str, Any] | None = None
    #: The organisation's deadline as read with the edition.
    closes: datetime | None = None


@dataclass(frozen=True)
class UploadTarget:
    """The caller's entry as an upload reads it before the body: its row, its edition's, its
    organisation's deadline and its live files (the idempotency key is looked for among them)."""
    entry: dict[str, Any]
    edition: dict[str, Any]
    closes: datetime
    files: list[dict[str, Any]]


async def _room_used(actor: Actor, entry_id: int, state: str, edition: dict[str, Any],
                     live: list[dict[str, Any]] | None = None) -> int:
    """The bytes the entry's files take, once it may take one more file: still editable, and
    fewer files than the limit (else the refusal). ``live``: its live files, read a moment ago."""
    if state not in EDITABLE_STATES:
        raise not_editable(actor, state, edition["published_at"])
    if live is None:
        live = await fetch(_LIVE_SIZES, entry_id)
    if len(live) >= MAX_FILES_PER_ENTRY:
        raise Conflict("An entry may have at most {n} files. Remove one first.", code="too_many_files",
                       n=MAX_FILES_PER_ENTRY)
    return sum(a["size"] for a in live)


async def prepare_upload(*, actor: Actor, entry_id: int, entry: UploadTarget | None = None) -> UploadAllowance:
    """Before reading an upload's body: may this caller add a file, and how big may it be?
    ``entry``: the caller's entry as :func:`earlier_upload` read it a moment ago."""
    target = entry if entry is not None else await _upload_target(actor, entry_id)
    row, edition, closes = target.entry, target.edition, target.closes
    await require_open(edition, row["organisation"], closes)
    used = await _room_used(actor, entry_id, row["state"], edition, target.files)
    remaining = max(0, edition["max_entry_bytes"] - used)
    if remaining == 0:
        raise entry_too_large(edition["max_entry_bytes"], 0)
    return UploadAllowance(entry_id=entry_id, max_bytes=min(edition["max_file_bytes"], remaining),
                           entry_remaining=remaining, max_file_bytes=edition["max_file_bytes"],
                           max_entry_bytes=edition["max_entry_bytes"], entry=row, edition=edition, closes=closes)


def size_text(n: int) -> str:
    """A size as the form shows it (binary units, one decimal): "146.5 KB", "20.0 MB"."""
    size = float(max(0, n))
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def entry_too_large(max_entry_bytes: int, remaining: int) -> PayloadTooLarge:
    """The file does not fit in what is left of the entry's total (not the per-file limit)."""
    return PayloadTooLarge(
        "The file does not fit: all files of an entry may total at most {total}, and {left} is left. "
        "Remove a file you no longer need, or make this one smaller.",
        code="entry_too_large", total=size_text(max_entry_bytes), left=size_text(remaining),
        max_entry_bytes=max_entry_bytes, remaining_bytes=remaining)


def kind_errors(kind: str | None) -> dict[str, str]:
    """An unknown ``kind`` is refused (with the allowed ones), not silently replaced."""
    if kind in (None, "") or kind in ATTACHMENT_KINDS:
        return {}
    return {"kind": t("Unknown kind of file. Choose one of: {kinds}.", kinds=", ".join(ATTACHMENT_KINDS))}


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


def upload_key(entry_id: int, idempotency_key: str | None) -> str | None:
    """The stored form of a client's idempotency key for an upload to ``entry_id`` (None without
    one). A key of the wrong shape is refused: it could never find its file again."""
    if idempotency_key is None or idempotency_key == "":
        return None
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ValidationFailed(errors={"idempotency_key": t(
            "Use 8 to 100 letters, digits or . _ : - for the idempotency key.")},
            code="invalid_idempotency_key")
    return f"{entry_id}:{idempotency_key}"


async def uploaded_before(*, actor: Actor, entry_id: int, idempotency_key: str | None) -> dict[str, Any] | None:
    """The file an earlier try of this upload stored (same entry, same key), if any: a client
    that lost the answer and sends the upload again gets that file, not a second copy."""
    return (await earlier_upload(actor=actor, entry_id=entry_id, idempotency_key=idempotency_key))[0]


async def earlier_upload(*, actor: Actor, entry_id: int,
                         idempotency_key: str | None) -> tuple[dict[str, Any] | None, UploadTarget]:
    """:func:`uploaded_before`, and the caller's entry it was checked against (for
    :func:`prepare_upload`). An entry that is not the caller's is ``NotFound`` either way.
    A key names one file of one entry (it holds the entry's id, and is unique): it is looked
    for among the entry's live files."""
    key = upload_key(entry_id, idempotency_key)
    target = await _upload_target(actor, entry_id)
    if key is None:
        return None, target
    return next((f for f in target.files if f["upload_key"] == key), None), target


async def _upload_target(actor: Actor, entry_id: int) -> UploadTarget:
    found = await entry_with_deadline(entry_id)
    row = owned(actor, found[0] if found else None)
    assert found is not None
    return UploadTarget(row, found[1], found[2], await fetch(LIVE_ATTACHMENTS_SQL, entry_id))


class _Recorded(Exception):
    """An earlier try of the upload recorded its file: the transaction ends without a change."""

    def __init__(self, attachment: dict[str, Any]) -> None:
        super().__init__("recorded by an earlier try")
        self.attachment = attachment


async def add_attachment(*, actor: Actor, entry_id: int, name: str, size: int, content_type: str, sha256: str,
                         storage_key: str, kind: str | None = None,
                         idempotency_key: str | None = None,
                         allowance: UploadAllowance | None = None) -> dict[str, Any]:
    """Record a file that has been stored completely. Re-checks the deadline and the entry's
    total size inside the transaction (two uploads may race); the caller deletes the stored
    object if this raises. With an ``idempotency_key`` that an earlier try already recorded,
    that file is returned and nothing is added (the caller then deletes the new bytes).
    ``allowance``: what :func:`prepare_upload` found before the body was read (its entry and
    edition rows are not read again)."""
    if allowance is not None and allowance.entry is not None and allowance.edition is not None:
        row, edition, closes = allowance.entry, allowance.edition, allowance.closes
    else:
        target = await _upload_target(actor, entry_id)
        row, edition, closes = target.entry, target.edition, target.closes
    key = upload_key(entry_id, idempotency_key)
    if errors := kind_errors(kind):
        raise ValidationFailed(errors=errors, code="invalid_kind", allowed_kinds=list(ATTACHMENT_KINDS))
    kind = kind or _kind_for(content_type)
    try:
        async with atomic():
            attachment, job = await _record(actor, row, edition, closes, key, name=name, size=size, kind=kind,
                                            content_type=content_type, sha256=sha256, storage_key=storage_key)
    except _Recorded as earlier:
        return earlier.attachment
    await outbox.dispatch([job])
    return attachment


async def _record(actor: Actor, row: dict[str, Any], edition: dict[str, Any], closes: datetime | None,
                  key: str | None, *, name: str, size: int, kind: str, content_type: str, sha256: str,
                  storage_key: str) -> tuple[dict[str, Any], int | None]:
    """:func:`add_attachment`'s transaction. The entry's new revision is written first: the write
    locks its row until the commit (two uploads to one entry take turns) and returns it. Every
    refusal below, and the file an earlier try recorded (:class:`_Recorded`), undo it with the
    rest of the transaction."""
    entry_id = row["id"]
    changed = await fetch(_ENTRY_CHANGED, clock.now(), entry_id)
    if not changed:
        raise LookupError("a row that must exist is missing")
    current = changed[0]
    # Its live files, and the one the key names (live or removed), in one read.
    files = await fetch(_LIVE_FILES_OR_KEY, entry_id, key)
    if key is not None:
        earlier = next((f for f in files if f["upload_key"] == key), None)
        if earlier is not None and earlier["deleted_at"] is None:
            raise _Recorded(earlier)
        if earlier is not None:  # removed since: the key names a new file now
            await fetch(_FORGET_UPLOAD_KEY, earlier["id"])
    await require_open(edition, row["organisation"], closes)
    used = await _room_used(actor, entry_id, current["state"], edition, [f for f in files if f["deleted_at"] is None])
    if used + size > edition["max_entry_bytes"]:  # another upload took the room meanwhile
        raise entry_too_large(edition["max_entry_bytes"], max(0, edition["max_entry_bytes"] - used))
    values = (entry_id, kind, name[:255], size, content_type, sha256, storage_key, key, CheckState.pending.value,
              "{}", actor.id, datetime.now(UTC))
    job: int | None
    if is_sqlite():
        attachment = (await fetch(_INSERT_ATTACHMENT, *values))[0]
        job = await outbox.add_job("check_attachment", {"attachment_id": attachment["id"]},
                                   dedupe_key=f"check:{attachment['id']}")
    else:  # the file and its check's job in one statement
        attachment = (await fetch(_INSERT_ATTACHMENT_AND_CHECK, *values, "check_attachment",
                                  *outbox.new_job_stamps()))[0]
        job = attachment.pop("outbox_id")
    # The chain's event last: on PostgreSQL it holds the chain's lock until the commit.
    await append_event(actor=actor, action="attachment.add", subject_type="entry", subject_id=entry_id,
                       after={"attachment_id": attachment["id"], "name": name, "size": size,
                              "sha256": sha256, "content_type": content_type})
    return attachment, job


# The upload's statements, as fixed SQL (no query object built per upload).
_LIVE_SIZES = "SELECT size FROM attachment WHERE entry = {} AND deleted_at IS NULL"
_LIVE_FILES_OR_KEY = "SELECT * FROM attachment WHERE entry = {} AND (deleted_at IS NULL OR upload_key = {}) ORDER BY id"
_FORGET_UPLOAD_KEY = "UPDATE attachment SET upload_key = NULL WHERE id = {}"
_INSERT_ATTACHMENT = (
    'INSERT INTO attachment ("entry", "kind", "name", "size", "content_type", "sha256", "storage_key", "upload_key", '
    '"check_state", "check_details", "check_message", "thumbnail_key", "uploaded_by", "created_at", "deleted_at", '
    "\"purged_at\") VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, '', NULL, {}, {}, NULL, NULL) RETURNING *")
# PostgreSQL's record of a file and of its check's job (``outbox.add_job``'s row) in one statement.
_INSERT_ATTACHMENT_AND_CHECK = (
    f"WITH file AS ({_INSERT_ATTACHMENT}), check_job AS ("
    + outbox.job_after("file", args="('{\"attachment_id\": ' || file.id || '}')::json",
                       dedupe_key="'check:' || file.id")
    + ') SELECT file.*, (SELECT id FROM check_job) AS "outbox_id" FROM file')
_ENTRY_CHANGED = "UPDATE entry SET revision = revision + 1, updated_at = {} WHERE id = {} RETURNING *"


async def named_keys(keys: list[str]) -> set[str]:
    """Which of these storage keys a row names (an attachment's file, live or removed, the
    preview of a live one, a membership's letter, or an appeal's supporting document): their
    bytes are kept. The rest are orphans, such as the preview of a file removed from its entry
    or past its retention."""
    from contest.tables import Appeal, Membership

    named: set[str] = set()
    for start in range(0, len(keys), 500):
        batch = keys[start:start + 500]
        named |= {r["storage_key"] for r in await Attachment.select(Attachment.storage_key).where(
            Attachment.storage_key.is_in(batch))}
        named |= {r["thumbnail_key"] for r in await Attachment.select(Attachment.thumbnail_key).where(
            Attachment.thumbnail_key.is_in(batch) & Attachment.deleted_at.is_null()
            & Attachment.purged_at.is_null())}
        named |= {r["letter_key"] for r in await Membership.select(Membership.letter_key).where(
            Membership.letter_key.is_in(batch))}
        named |= {r["attachment_key"] for r in await Appeal.select(Appeal.attachment_key).where(
            Appeal.attachment_key.is_in(batch))}
    return named


async def is_recorded(storage_key: str) -> bool:
    """Whether an attachment row holds this storage key (then its bytes must stay)."""
    return await Attachment.exists().where(Attachment.storage_key == storage_key)


def _kind_for(content_type: str) -> str:
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith("video/"):
        return "video"
    if "presentation" in content_type:
        return "presentation"
    return "document"


async def delete_attachment(*, actor: Actor, attachment_id: int) -> str | None:
    """Remove a file before the deadline. A file listed on a receipt stays in storage (what was
    submitted is never lost); returns the storage key the caller may delete, or None.

    Takes the entry's row lock, as ``submit_entry`` does: a submit either commits first (its
    receipt lists the file, so the bytes are kept) or runs after this commits (and no longer
    sees the file), never in between."""
    att = await Attachment.select().where((Attachment.id == attachment_id) & Attachment.deleted_at.is_null()).first()
    row = await entry_row(att["entry"]) if att is not None else None
    if att is None or row is None or not is_owner(actor, row):
        refuse_pending_member(actor, row["organisation"] if row else None)
        raise NotFound("No such file.", code="attachment_not_found")
    edition = await edition_by_id(row["edition"])
    async with atomic():
        await lock_row("entry", att["entry"])
        await require_open(edition, row["organisation"])
        current = await existing(Entry.select().where(Entry.id == att["entry"]))
        if current["state"] not in EDITABLE_STATES:
            raise not_editable(actor, current["state"], edition["published_at"])
        done = await Attachment.update({Attachment.deleted_at: clock.now()}).where(
            (Attachment.id == attachment_id) & Attachment.deleted_at.is_null()).returning(Attachment.id)
        if not done:
            raise NotFound("No such file.", code="attachment_not_found")
        await Entry.update({Entry.revision: Entry.revision + 1, Entry.updated_at: clock.now()}).where(
            Entry.id == att["entry"])
        await append_event(actor=actor, action="attachment.delete", subject_type="entry", subject_id=att["entry"],
                           before={"attachment_id": attachment_id, "name": att["name"], "sha256": att["sha256"]})
        receipts = await Receipt.select(Receipt.files).where(Receipt.entry == att["entry"])
    return None if _on_any_receipt(att, receipts) else att["storage_key"]


def _on_any_receipt(att: dict[str, Any], receipts: list[dict[str, Any]]) -> bool:
    """Whether a receipt of the entry lists this file (receipts name files by attachment id)."""
    return any(f.get("attachment_id") == att["id"] for r in receipts for f in stored_json(r["files"], []))


async def get_attachment_for_download(actor: Actor | None, attachment_id: int) -> dict[str, Any]:
    """The file row if the caller may read it (owner, admin, assigned reviewer), else NotFound.
    Files on a receipt stay readable after being removed from the draft. A file the virus scan
    flagged is refused to everyone (PermissionDenied ``attachment_infected``)."""
    att = await Attachment.select().where(Attachment.id == attachment_id).first()
    if att is None:
        raise NotFound("No such file.", code="attachment_not_found")
    entry = await entry_row(att["entry"])
    if entry is None or not await can_view_entry(actor, entry):
        refuse_pending_member(actor, entry["organisation"] if entry else None)
        raise NotFound("No such file.", code="attachment_not_found")
    if att["deleted_at"] is not None and actor is not None and actor.role == Role.applicant:
        raise NotFound("No such file.", code="attachment_not_found")
    if att["purged_at"] is not None:
        # Its retention period ended: the bytes are gone; its receipt still shows its SHA-256.
        raise NotFound("This file was deleted when its retention period ended. Its receipt still shows its "
                       "name, size and SHA-256.", code="attachment_purged")
    if att["check_state"] == CheckState.infected:
        # Nobody downloads malware from us, whatever their role: it stays stored for the record.
        raise PermissionDenied("A virus was found in this file, so it cannot be downloaded. The organisation "
                               "should remove it and upload a clean copy.", code="attachment_infected")
    return att


def check_note(message: str | None, language: str | None = None) -> str:
    """A check's note in the reader's language: notes are stored "Thai / English"."""
    if not message:
        return ""
    th, sep, en = message.partition(" / ")
    return en if sep and (language or current_language.get()) == "en" else th


async def record_check(*, attachment_id: int, state: str, details: dict[str, Any], message: str) -> None:
    """Store a file check's outcome (called by the check job, for every file: fixed SQL)."""
    await fetch(_RECORD_CHECK, CheckState(state).value, dump_json(details), message, attachment_id)


_RECORD_CHECK = "UPDATE attachment SET check_state = {}, check_details = {}, check_message = {} WHERE id = {}"
