"""Read helpers for the announcement's pages: what the publish page shows an admin, and small
pure functions over a published snapshot (filters and their choices) for the public pages.

Everything public is read from the snapshot (``announcement.get_results``) and never from the
entries, so the pages show exactly what was published and cost one query (the parsed snapshot
is kept by its SHA-256, so a request does not parse it again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contest.domain import announcement
from contest.domain.editions import edition_row
from contest.domain.registry import KINDS, REGIONS
from contest.enums import OutboxState
from contest.i18n import thai_sort_key
from contest.tables import Outbox, ResultSnapshot

ANNOUNCE_JOB_KEY = "announce:{year}"


async def any_published() -> bool:
    """Has any edition been published (the home page then links the archive)?"""
    return bool(await ResultSnapshot.exists())


@dataclass(frozen=True)
class Notifications:
    total: int
    pending: int
    done: int
    failed: int
    preparing: bool  # the job that queues the mails has not finished yet

    @property
    def running(self) -> bool:
        return self.preparing or self.pending > 0

    @property
    def percent(self) -> int:
        return round(100 * (self.done + self.failed) / self.total) if self.total else (0 if self.preparing else 100)


async def notifications(year: int) -> Notifications:
    """Progress of the result mails: the outbox counts, and whether the job that queues them (in
    batches, after the publish request has returned) is still to finish."""
    counts = await announcement.notification_progress(year)
    job = await Outbox.select(Outbox.state).where(Outbox.dedupe_key == ANNOUNCE_JOB_KEY.format(year=year)).first()
    preparing = job is not None and job["state"] == OutboxState.pending
    return Notifications(total=counts["total"], pending=counts["pending"], done=counts["done"],
                         failed=counts["failed"], preparing=preparing)


@dataclass(frozen=True)
class PublishStatus:
    year: int
    title: str
    state: str
    announcement_at: datetime
    blockers: list[announcement.Blocker]
    published_at: datetime | None
    sha256: str | None
    winners: int                   # before publication: what publishing now would announce
    awarded: int

    @property
    def blocker_codes(self) -> list[str]:
        return [b.code for b in self.blockers]


async def publish_status(year: int) -> PublishStatus:
    """What the admin's publish page shows: the blockers before, the snapshot after."""
    edition = await edition_row(year)
    snapshot = await ResultSnapshot.select(ResultSnapshot.published_at, ResultSnapshot.sha256).where(
        ResultSnapshot.edition == edition["id"]).first()
    if snapshot is None:
        counts = await announcement.decided_counts(edition["id"])
        return PublishStatus(year=year, title=edition["title"], state=edition["state"],
                             announcement_at=edition["announcement_at"],
                             blockers=await announcement.publication_blockers(edition), published_at=None,
                             sha256=None, winners=counts["winner"], awarded=counts["winner"] + counts["finalist"])
    results = await announcement.get_results(year)
    return PublishStatus(year=year, title=edition["title"], state=edition["state"],
                         announcement_at=edition["announcement_at"], blockers=[],
                         published_at=results.published_at, sha256=results.sha256,
                         winners=len(results.document["winners"]), awarded=len(results.document["awarded"]))


# --- pure helpers over a snapshot ---------------------------------------------------------------

def filter_awarded(document: dict[str, Any], *, province: str = "", region: str = "") -> list[dict[str, Any]]:
    """The awardees of a results document in one province and/or region (both optional)."""
    return [i for i in document["awarded"]
            if (not province or i["province_code"] == province) and (not region or i["region"] == region)]


def _items(document: dict[str, Any], consented_only: bool) -> list[dict[str, Any]]:
    return [i for i in document["awarded"] if i.get("consent_publish") or not consented_only]


def province_choices(document: dict[str, Any], *, consented_only: bool = False) -> list[tuple[str, str]]:
    """(code, Thai name) of every province with an awardee, by name. The showcase offers only
    the provinces it shows (``consented_only``): not those of organisations that did not consent."""
    seen = {i["province_code"]: i["province_name_th"] for i in _items(document, consented_only)}
    return sorted(seen.items(), key=lambda p: (thai_sort_key(p[1]), p[0]))


def region_choices(document: dict[str, Any]) -> list[str]:
    """The regions with an awardee, in the usual north-to-south order."""
    present = {i["region"] for i in document["awarded"]}
    return [r for r in REGIONS if r in present]


def kind_choices(document: dict[str, Any], *, consented_only: bool = False) -> list[str]:
    present = {i["organisation_kind"] for i in _items(document, consented_only)}
    return [k for k in KINDS if k in present]


def category_codes(document: dict[str, Any]) -> list[str]:
    """Categories of the consented awardees (others do not publish theirs), in first-seen order."""
    out: list[str] = []
    for i in document["awarded"]:
        code = i.get("category")
        if code and code not in out:
            out.append(code)
    return out
