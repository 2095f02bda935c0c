"""An entry's consent to publish its details if it wins (PDPA): who gave or withdrew it, when,
and how; withdrawing it.

``Entry.consent_publish`` is the consent now; ``EntryConsent`` rows are its record, each one
audited. The organisation's staff give it on the entry form and may withdraw it at any time
(an administrator may too, on the organisation's request): before the results are published
the snapshot is then built without the entry's details; after publication the next snapshot
replaces the published one without them, so the showcase and the open data stop showing them
at once.
"""

from __future__ import annotations

from typing import Any

from contest import clock
from contest.db import atomic, existing, fetch, lock_row
from contest.domain import announcement
from contest.domain.audit import Actor, append_event
from contest.domain.entries import entry_row, is_owner
from contest.errors import Conflict, NotFound
from contest.rules import is_organiser, refuse_any_pending, refuse_pending_member
from contest.tables import Entry, EntryConsent

#: How consent was given or withdrawn.
HOW = ("entry_form", "withdrawal")


async def record(*, actor: Actor, entry_id: int, granted: bool, how: str) -> None:
    """Inside the caller's transaction, which just set ``Entry.consent_publish`` to ``granted``."""
    assert how in HOW, how
    await EntryConsent.insert(EntryConsent(entry=entry_id, granted=granted, given_by=actor.id,
                                           given_at=clock.now(), how=how))
    await append_event(actor=actor, action="entry.consent_given" if granted else "entry.consent_withdrawn",
                       subject_type="entry", subject_id=entry_id, after={"consent_publish": granted, "how": how})


async def withdraw(*, actor: Actor, entry_id: int) -> dict[str, Any]:
    """Withdraw the entry's consent to publish: its staff, or an administrator. 409
    ``consent_not_given`` when there is none to withdraw (nothing changes). Returns the consent
    now and, when published results held the entry's details, the SHA-256 of the snapshot that
    replaced them."""
    refuse_any_pending(actor)
    row = await entry_row(entry_id)
    if row is None or not (is_owner(actor, row) or is_organiser(actor)):
        refuse_pending_member(actor, row["organisation"] if row else None)
        raise NotFound("No such entry.", code="entry_not_found")
    async with atomic():
        await lock_row("entry", entry_id)
        current = await existing(Entry.select(Entry.consent_publish, Entry.edition).where(Entry.id == entry_id))
        if not current["consent_publish"]:
            raise Conflict("This entry has no consent to publish to withdraw.", code="consent_not_given")
        # A new version: an editor opened before keeps its stale consent only by a refused save.
        await Entry.update({Entry.consent_publish: False, Entry.version: Entry.version + 1,
                            Entry.updated_at: clock.now()}).where(Entry.id == entry_id)
        await record(actor=actor, entry_id=entry_id, granted=False, how="withdrawal")
        sha = await announcement.withdraw_consent_from_snapshot(actor=actor, edition_id=current["edition"],
                                                                entry_id=entry_id)
    return {**await consent_record(entry_id), "snapshot_sha256": sha}


async def consent_record(entry_id: int) -> dict[str, Any]:
    """The consent now, and who gave it when (and when it was withdrawn, if it was)."""
    consent = (await fetch("SELECT consent_publish FROM entry WHERE id = {}", entry_id))[0]
    return {"consent_publish": bool(consent["consent_publish"]), **await consent_history(entry_id)}


#: The history of a consent never given: an entry created without it.
NO_HISTORY: dict[str, Any] = {"consent_given_by": None, "consent_given_at": None, "consent_withdrawn_at": None}


async def consent_history(entry_id: int) -> dict[str, Any]:
    """Who gave the consent to publish when, and when it was withdrawn, if it was (the consent
    now is the entry's ``consent_publish``)."""
    rows = await fetch("SELECT c.granted, c.given_at, u.email FROM entry_consent c "
                       "LEFT JOIN app_user u ON u.id = c.given_by WHERE c.entry = {} ORDER BY c.id DESC", entry_id)
    given = next((r for r in rows if r["granted"]), None)
    withdrawn = rows[0] if rows and not rows[0]["granted"] else None
    by = given["email"] if given else None
    return {"consent_given_by": by, "consent_given_at": given["given_at"] if given else None,
            "consent_withdrawn_at": withdrawn["given_at"] if withdrawn else None}
