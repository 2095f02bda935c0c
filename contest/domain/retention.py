"""Personal data retention (PDPA section 37(3)): what is deleted, and when.

Per edition, ``Edition.attachment_retention_years`` after the results are published the files of
the entries that were not shortlisted are deleted. Their ``Attachment`` rows stay, marked
``purged_at``: the receipts that listed them still show each file's name, size and SHA-256, and
every deleted file has its own audit event. Files of shortlisted, finalist and winning entries
are kept (the award is public record).

Globally (environment, see ``GlobalRules``): sessions, API tokens, e-mail links and Digital ID
sign-ins are deleted some days after they expired or were used; rate-limit counters some days
after their window ended; mail files written to ``MAIL_DIR`` some weeks after they were written.

``run_retention`` applies all of them (the worker's daily cron, the in-process housekeeping
task and ``contest retention run``); with ``dry_run`` it only reports what it would delete.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contest import clock
from contest.db import atomic, stored_json
from contest.domain.audit import SYSTEM, append_event
from contest.enums import EntryState
from contest.settings import get_settings, positive_int
from contest.tables import Attachment, AuthToken, DigitalIdLogin, Edition, EmailToken, RateCounter, Receipt
from uploads.storage import ObjectNotFound

log = logging.getLogger("contest.retention")

#: Entries whose files outlive the retention period: the shortlist and the awards are public record.
KEPT_STATES = (EntryState.shortlisted, EntryState.finalist, EntryState.winner)
DEFAULT_ATTACHMENT_YEARS = 2


@dataclass(frozen=True)
class GlobalRules:
    """The retention periods that are the same for every edition."""

    #: Expired or revoked sessions and API tokens, expired e-mail links, Digital ID sign-ins.
    token_days: int = 30
    #: Rate-limit counters after their window ended (IP addresses and e-mail addresses in keys).
    rate_limit_days: int = 1
    #: Mail files written by the embedded mailer (they hold confirmation and reset links).
    mail_weeks: int = 4

    @classmethod
    def from_environment(cls) -> GlobalRules:
        """``RETENTION_TOKEN_DAYS``, ``RETENTION_RATE_LIMIT_DAYS``, ``RETENTION_MAIL_WEEKS``."""
        return cls(token_days=positive_int("RETENTION_TOKEN_DAYS", cls.token_days),
                   rate_limit_days=positive_int("RETENTION_RATE_LIMIT_DAYS", cls.rate_limit_days),
                   mail_weeks=positive_int("RETENTION_MAIL_WEEKS", cls.mail_weeks))


@dataclass(frozen=True)
class PurgedFile:
    attachment_id: int
    entry_id: int
    edition_year: int
    name: str
    size: int
    sha256: str


@dataclass
class RetentionReport:
    dry_run: bool
    files: list[PurgedFile] = field(default_factory=list)
    auth_tokens: int = 0
    email_tokens: int = 0
    digital_id_logins: int = 0
    rate_counters: int = 0
    mail_files: int = 0

    def counts(self) -> dict[str, int]:
        return {"attachment_files": len(self.files), "auth_tokens": self.auth_tokens,
                "email_tokens": self.email_tokens, "digital_id_logins": self.digital_id_logins,
                "rate_counters": self.rate_counters, "mail_files": self.mail_files}


def add_years(moment: datetime, years: int) -> datetime:
    """The same day and time ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def files_due_at(published_at: datetime, years: int) -> datetime:
    """When an edition's files of entries that were not shortlisted are deleted."""
    return add_years(published_at, years)


async def _due_files(now: datetime) -> list[tuple[PurgedFile, str, int]]:
    """The files whose retention has ended: (file, storage key, the edition's years)."""
    due: list[tuple[PurgedFile, str, int]] = []
    published = await Edition.select(Edition.id, Edition.year, Edition.published_at,
                                     Edition.attachment_retention_years).where(
        Edition.published_at.is_not_null()).order_by(Edition.year)
    for edition in published:
        years = edition["attachment_retention_years"]
        if files_due_at(edition["published_at"], years) > now:
            continue
        rows = await Attachment.select(
            Attachment.id, Attachment.entry, Attachment.name, Attachment.size, Attachment.sha256,
            Attachment.storage_key, Attachment.deleted_at).where(
            (Attachment.entry.edition == edition["id"]) & Attachment.purged_at.is_null()
            & Attachment.entry.state.not_in(list(KEPT_STATES))).order_by(Attachment.id)
        if not rows:
            continue
        listed = await _files_on_receipts({r["entry"] for r in rows})
        for row in rows:
            # A file removed from its draft and on no receipt had its bytes deleted then.
            if row["deleted_at"] is not None and row["id"] not in listed:
                continue
            due.append((PurgedFile(attachment_id=row["id"], entry_id=row["entry"], edition_year=edition["year"],
                                   name=row["name"], size=row["size"], sha256=row["sha256"]),
                        row["storage_key"], years))
    return due


async def _files_on_receipts(entry_ids: set[int]) -> set[int]:
    receipts = await Receipt.select(Receipt.files).where(Receipt.entry.is_in(sorted(entry_ids)))
    return {f.get("attachment_id") for r in receipts for f in stored_json(r["files"], [])}


async def _purge_file(file: PurgedFile, storage_key: str, years: int, now: datetime) -> bool:
    """Delete the bytes, then mark the row and audit it in one transaction. Bytes first: if the
    database write fails, the next run finds the row again and finishes it."""
    from contest.storage import get_storage

    try:
        await get_storage().delete(storage_key)
    except ObjectNotFound:
        pass
    async with atomic():
        done = await Attachment.update({Attachment.purged_at: now}).where(
            (Attachment.id == file.attachment_id) & Attachment.purged_at.is_null()).returning(Attachment.id)
        if not done:
            return False  # another run did it
        await append_event(actor=SYSTEM, action="attachment.purge", subject_type="entry", subject_id=file.entry_id,
                           before={"attachment_id": file.attachment_id, "name": file.name, "size": file.size,
                                   "sha256": file.sha256},
                           after={"reason": "retention", "edition": file.edition_year, "retention_years": years})
    return True


def _old_mail_files(now: datetime, weeks: int) -> list[Any]:
    directory = get_settings().mail_dir
    if not directory.is_dir():
        return []
    cutoff = (now - timedelta(weeks=weeks)).timestamp()
    return sorted(p for p in directory.glob("*.eml") if p.is_file() and p.stat().st_mtime < cutoff)


async def run_retention(*, dry_run: bool = False, rules: GlobalRules | None = None) -> RetentionReport:
    """Apply every retention rule now (``clock.now()``); report what was (or would be) deleted."""
    rules = rules or GlobalRules.from_environment()
    now = clock.now()
    report = RetentionReport(dry_run=dry_run)
    for file, key, years in await _due_files(now):
        if dry_run or await _purge_file(file, key, years, now):
            report.files.append(file)

    token_cutoff = now - timedelta(days=rules.token_days)
    rate_cutoff = int((now - timedelta(days=rules.rate_limit_days)).timestamp())
    targets: list[tuple[str, Any, Any]] = [
        ("auth_tokens", AuthToken, (AuthToken.expires_at < token_cutoff) | (AuthToken.revoked_at < token_cutoff)),
        ("email_tokens", EmailToken, EmailToken.expires_at < token_cutoff),
        ("digital_id_logins", DigitalIdLogin, DigitalIdLogin.created_at < token_cutoff),
        ("rate_counters", RateCounter, RateCounter.expires <= rate_cutoff),
    ]
    for name, table, condition in targets:
        if dry_run:
            setattr(report, name, await table.count().where(condition))
        else:
            setattr(report, name, len(await table.delete().where(condition).returning(table.id)))

    mail_files = _old_mail_files(now, rules.mail_weeks)
    if not dry_run:
        for path in mail_files:
            path.unlink(missing_ok=True)
    report.mail_files = len(mail_files)

    counts = ", ".join(f"{k} {v}" for k, v in report.counts().items())
    log.info("retention%s: %s %s", " (dry run)" if dry_run else "", "would delete" if dry_run else "deleted",
             counts)
    return report
