"""Corrections of published results: an upheld appeal changes them openly, never silently.

The published snapshot is never edited in place for an outcome. A correction builds a new
snapshot: the published document with the entry added to the awardees (and to the outcomes), and
a note in its ``corrections`` list naming the appeal, the entry, the award and the SHA-256 of the
snapshot it replaces. The new snapshot has its own SHA-256, which goes into the audit chain
(``edition.correct``), and the replaced snapshot is kept exactly as it was hashed
(``ResultCorrection``), linked to the one that corrects it. ``verify_snapshots`` follows the chain's
latest event, so ``contest audit verify`` checks the corrected results as it checks the first.

Display data of the other awardees stays as published; the corrected entry's item is built from
today's registry and its organisation's consent, as the first publication built every item.
"""

from __future__ import annotations

import json
from typing import Any

from contest import clock
from contest.db import existing, lock_row
from contest.domain.announcement import AWARD_AWARDEE, AWARD_NAMES, awarded_order, build_results, digest
from contest.domain.audit import Actor, append_event, canonical_json
from contest.domain.editions import edition_by_id
from contest.errors import Conflict
from contest.tables import Entry, ResultCorrection, ResultSnapshot

#: The state of an entry that holds the Digital Local Government award and not the DG Awards.
AWARDED_STATE = "finalist"


async def correct_for_appeal(*, actor: Actor, appeal_id: int, entry_id: int) -> str:
    """Inside the caller's transaction (the appeal's second signature): grant the entry the
    Digital Local Government award and correct its edition's published results. Returns the
    new snapshot's SHA-256."""
    entry = await existing(Entry.select(Entry.state, Entry.edition, Entry.organisation.name_th).where(
        Entry.id == entry_id))
    await lock_row("edition", entry["edition"])
    snapshot = await ResultSnapshot.select(ResultSnapshot.payload, ResultSnapshot.sha256,
                                           ResultSnapshot.published_at).where(
        ResultSnapshot.edition == entry["edition"]).first()
    if snapshot is None:
        raise Conflict("The results have not been published yet: an entry can be appealed once they are.",
                       code="not_published")
    await Entry.update({Entry.state: AWARDED_STATE}).where(Entry.id == entry_id)
    await append_event(actor=actor, action="entry.appeal_outcome", subject_type="entry", subject_id=entry_id,
                       before={"state": entry["state"]},
                       after={"state": AWARDED_STATE, "award": AWARD_AWARDEE, "appeal_id": appeal_id})
    edition = await edition_by_id(entry["edition"])
    fresh = await build_results(edition, snapshot["published_at"])
    item = next(i for i in fresh["awarded"] if i["entry_id"] == entry_id)
    outcome = next(o for o in fresh["outcomes"] if o["entry_id"] == entry_id)
    document: dict[str, Any] = json.loads(snapshot["payload"])
    document["awarded"] = sorted([*document["awarded"], item], key=awarded_order)
    document["outcomes"] = sorted([*document.get("outcomes", []), outcome], key=lambda o: o["entry_id"])
    now = clock.now()
    name_th, name_en = AWARD_NAMES[AWARD_AWARDEE]
    document.setdefault("corrections", []).append({
        "at": clock.utc_iso(now), "appeal_id": appeal_id, "entry_id": entry_id, "award": AWARD_AWARDEE,
        "previous_sha256": snapshot["sha256"],
        "note_th": f"แก้ไขผลตามคำวินิจฉัยอุทธรณ์ที่ {appeal_id}: {item['organisation_name_th']} ได้รับ{name_th} "
                   f"จากผลงาน \"{item['title']}\"",
        "note_en": f"Corrected by the decision on appeal {appeal_id}: {item['organisation_name_th']} receives the "
                   f"{name_en} for \"{item['title']}\"",
    })
    text = canonical_json(document)
    sha = digest(text)
    await ResultCorrection.insert(ResultCorrection(
        edition=entry["edition"], appeal=appeal_id, previous_sha256=snapshot["sha256"],
        previous_payload=snapshot["payload"], sha256=sha, corrected_at=now, corrected_by=actor.id))
    await ResultSnapshot.update({ResultSnapshot.payload: text, ResultSnapshot.sha256: sha}).where(
        ResultSnapshot.edition == entry["edition"])
    await append_event(actor=actor, action="edition.correct", subject_type="edition", subject_id=edition["year"],
                       before={"snapshot_sha256": snapshot["sha256"]},
                       after={"snapshot_sha256": sha, "previous_sha256": snapshot["sha256"], "appeal_id": appeal_id,
                              "entry_id": entry_id, "winners": [w["entry_id"] for w in document["winners"]],
                              "awarded": [a["entry_id"] for a in document["awarded"]]})
    return sha


async def superseded(year: int) -> list[dict[str, Any]]:
    """The snapshots of an edition that corrections replaced, oldest first: each SHA-256 and the
    one that replaced it."""
    rows = await ResultCorrection.select(ResultCorrection.previous_sha256, ResultCorrection.sha256,
                                         ResultCorrection.corrected_at, ResultCorrection.appeal).where(
        ResultCorrection.edition.year == year).order_by(ResultCorrection.id)
    return [{"sha256": r["previous_sha256"], "replaced_by": r["sha256"], "replaced_at": r["corrected_at"],
             "appeal_id": r["appeal"]} for r in rows]


async def snapshot_by_hash(year: int, sha256: str) -> dict[str, Any]:
    """A published snapshot of the edition by its SHA-256, exactly as hashed: the one in force or
    one a correction replaced, with the SHA-256 of the snapshot before it and of the one that
    replaced it (None at either end). 404 for a hash the edition never published."""
    from contest.errors import NotFound

    sha = sha256.strip().lower()
    current = await ResultSnapshot.select(ResultSnapshot.payload, ResultSnapshot.sha256).where(
        ResultSnapshot.edition.year == year).first()
    if current is None:
        raise NotFound("No results have been published for this edition.", code="not_published")
    chain = await superseded(year)
    older = {c["sha256"]: c for c in chain}
    newer = {c["replaced_by"]: c for c in chain}
    if sha == current["sha256"]:
        payload = current["payload"]
    elif sha in older:
        row = await ResultCorrection.select(ResultCorrection.previous_payload).where(
            (ResultCorrection.edition.year == year) & (ResultCorrection.previous_sha256 == sha)).first()
        payload = row["previous_payload"] if row else None
    else:
        payload = None
    if payload is None:
        raise NotFound("No published results of this edition have this SHA-256.", code="snapshot_not_found")
    return {"payload": payload, "sha256": sha,
            "predecessor": newer[sha]["sha256"] if sha in newer else None,
            "successor": older[sha]["replaced_by"] if sha in older else None}
