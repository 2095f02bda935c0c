"""Background jobs of the contest app. Each takes ids and plain values, re-reads what it needs,
and is safe to run twice."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from contest.db import fetch, lazy_commits, one_commit
from contest.domain import outbox
from contest.mail import Mail, deliver
from uploads.checks import CheckState

if TYPE_CHECKING:
    from uploads.checks import CheckResult

log = logging.getLogger("contest.jobs")


@outbox.handler("send_mail")
async def send_mail(args: dict[str, Any], outbox_id: int) -> None:
    # The message id is the outbox id: a re-run delivers the same message, not a second one.
    await deliver(Mail(to=args["to"], subject=args["subject"], text=args["text"]),
                  message_id=f"outbox-{outbox_id}")


@outbox.handler("announce_results")
async def announce_results(args: dict[str, Any], outbox_id: int) -> None:
    """After publication: queue one result mail per applicant (batched; safe to re-run)."""
    from contest.domain.announcement import notify_applicants

    await notify_applicants(int(args["year"]))


async def run_outbox_item(ctx: dict[str, Any], outbox_id: int) -> str:
    """arq entry point for every outbox job."""
    from arq import Retry

    result = await outbox.run_item(outbox_id)
    if result == "retry":
        raise Retry(defer=10)
    return result


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Cron: re-send outbox jobs whose dispatch was lost (Redis down, worker crashed)."""
    pool = ctx.get("redis")
    if pool is not None:
        outbox.use_arq(pool)
    return await outbox.sweep_to_arq()


_MISSING = "ไม่พบไฟล์ในที่จัดเก็บ / The file is missing from storage."


async def _check_stored(key: str, content_type: str) -> CheckResult | None:
    """A stored file's check (opened as its type and, with CLAMD_URL, scanned); None when the
    stored object is missing. Only clamd being unreachable, or memory running out (the file may be
    fine), is retried later."""
    from contest.settings import get_settings
    from contest.storage import get_storage
    from uploads.checks import ScanUnavailable, check_file
    from uploads.storage import ObjectNotFound

    try:
        return await check_file(get_storage(), key, content_type, clamd_url=get_settings().clamd_url)
    except ScanUnavailable as exc:
        raise outbox.TransientError(str(exc)) from exc
    except MemoryError as exc:
        raise outbox.TransientError("out of memory while checking") from exc
    except ObjectNotFound:
        return None


def _result_message(result: CheckResult) -> str:
    return f"{result.message_th} / {result.message_en}" if result.message_th else ""


@outbox.handler("check_attachment")
async def check_attachment(args: dict[str, Any], outbox_id: int) -> None:
    """Open the file (PDF pages, image size, video bytes) and, with CLAMD_URL, scan it.

    Every run ends in a recorded state or a deliberate skip; only clamd being unreachable is
    retried. A file removed from its entry whose bytes are gone (no receipt kept them) has
    nothing left to check: the job ends quietly instead of being retried as an I/O fault.
    """
    from contest.domain.attachments import record_check
    from contest.tables import Attachment

    attachment_id = args["attachment_id"]
    found = await fetch("SELECT storage_key, content_type FROM attachment WHERE id = {}", attachment_id)
    if not found:
        return
    att = found[0]
    result = await _check_stored(att["storage_key"], att["content_type"])
    if result is None:
        now = await Attachment.select(Attachment.deleted_at).where(Attachment.id == attachment_id).first()
        if now is None or now["deleted_at"] is not None:
            log.info("attachment %s was removed before its check; nothing to check", attachment_id)
            return
        await record_check(attachment_id=attachment_id, state=CheckState.failed, details={"error": "ObjectNotFound"},
                           message="ไม่พบไฟล์ในที่จัดเก็บ กรุณาลบรายการนี้แล้วอัปโหลดไฟล์อีกครั้ง / "
                                   "The file is missing from storage. Please remove it and upload it again.")
        log.error("attachment %s: stored object %s is missing", attachment_id, att["storage_key"])
        return
    preview = result.state == CheckState.passed and att["content_type"].startswith("image/")
    # The outcome can be checked again, so it is committed as the job's bookkeeping is; with no
    # preview to make, the job is done with it, in the same commit on SQLite (``one_commit``).
    with lazy_commits():
        async with one_commit():
            await record_check(attachment_id=attachment_id, state=result.state, details=result.details,
                               message=_result_message(result))
            if not preview:
                await outbox.mark_done(outbox_id)
    if preview:
        await make_preview(attachment_id, att["storage_key"])


async def make_preview(attachment_id: int, storage_key: str) -> str | None:
    """Store an image's preview for public pages and name it on the attachment; returns its key.
    A preview that cannot be made is logged and left out: the file itself passed its check."""
    import anyio

    from contest.storage import get_storage
    from contest.tables import Attachment
    from uploads.storage import StorageError
    from uploads.thumbnails import make_thumbnail

    storage = get_storage()
    try:
        async with storage.local_path(storage_key) as path:
            data = await anyio.to_thread.run_sync(make_thumbnail, path)
        pending = await storage.begin_write()
        try:
            await pending.write(data)
            await pending.commit()
        except BaseException:
            await pending.abort()
            raise
    except (OSError, ValueError, StorageError) as exc:
        log.warning("attachment %s: no preview made (%s)", attachment_id, type(exc).__name__)
        return None
    await Attachment.update({Attachment.thumbnail_key: pending.key}).where(Attachment.id == attachment_id)
    return pending.key


@outbox.handler("check_membership_letter")
async def check_membership_letter(args: dict[str, Any], outbox_id: int) -> None:
    """The authorisation letter is checked as an attachment is: opened as a PDF and, with
    CLAMD_URL, scanned. Only clamd being unreachable is retried."""
    from contest.domain.memberships import record_letter_check
    from contest.tables import Membership

    membership_id = args["membership_id"]
    row = await Membership.select(Membership.letter_key).where(Membership.id == membership_id).first()
    if row is None or not row["letter_key"]:
        return
    result = await _check_stored(row["letter_key"], "application/pdf")
    if result is None:
        await record_letter_check(membership_id=membership_id, state=CheckState.failed, message=_MISSING)
        return
    await record_letter_check(membership_id=membership_id, state=result.state, message=_result_message(result))


@outbox.handler("check_appeal_attachment")
async def check_appeal_attachment(args: dict[str, Any], outbox_id: int) -> None:
    """An appeal's supporting document is checked as an attachment is (opened and, with
    CLAMD_URL, scanned). Only clamd being unreachable is retried."""
    from contest.domain.appeals import record_document_check
    from contest.tables import Appeal

    appeal_id = args["appeal_id"]
    row = await Appeal.select(Appeal.attachment_key, Appeal.attachment_content_type).where(
        Appeal.id == appeal_id).first()
    if row is None or not row["attachment_key"]:
        return
    result = await _check_stored(row["attachment_key"], row["attachment_content_type"])
    if result is None:
        await record_document_check(appeal_id=appeal_id, state=CheckState.failed, message=_MISSING)
        return
    await record_document_check(appeal_id=appeal_id, state=result.state, message=_result_message(result))


#: A stored object that no row names after this long is an orphan: its upload crashed between
#: storing the bytes and recording them, or the record was rolled back. (A live upload records
#: its file seconds after the last byte; the margin is for clocks and slow disks.)
ORPHAN_AFTER_SECONDS = 6 * 3600


async def purge_stale_uploads(ctx: dict[str, Any] | None = None) -> dict[str, int]:
    """Cron (the worker's, hourly and at start) and the in-process runner: forget expired
    rate-limit counters, and remove what crashed uploads left behind:

    * part files (local disk) and unfinished multipart uploads (S3) older than the longest
      an upload may take (``UPLOAD_MAX_SECONDS``);
    * stored objects that no row has named for ``ORPHAN_AFTER_SECONDS``.
    """
    from contest import ratelimit
    from contest.domain.attachments import named_keys
    from contest.settings import get_settings
    from contest.storage import get_storage

    await ratelimit.purge_expired()  # rate-limit counters kept in the database
    storage = get_storage()
    parts = await storage.purge_incomplete(older_than_seconds=get_settings().upload_max_seconds)
    candidates = await storage.list_older_than(ORPHAN_AFTER_SECONDS)
    orphans = sorted(set(candidates) - await named_keys(candidates))
    for key in orphans:
        await storage.delete(key)
    if parts or orphans:
        log.info("removed %s unfinished uploads and %s orphan objects", parts, len(orphans))
    return {"incomplete": parts, "orphans": len(orphans)}


async def apply_retention(ctx: dict[str, Any] | None = None) -> dict[str, int]:
    """Cron (worker, daily) and the in-process housekeeping task: delete the personal data whose
    retention period has ended (contest.domain.retention); returns what was deleted."""
    from contest.domain.retention import run_retention

    return (await run_retention()).counts()
