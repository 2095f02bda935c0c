"""An entry's evidence pack: everything that decided the entry, in one ZIP that can be checked
offline (``contest.evidence_verify``, ``contest evidence verify FILE.zip``).

Who. The organisation's own staff once the results are published (before, 404: there is no
decision to show them yet), administrators at any time; anyone else 404 (403
``membership_pending`` for a member not yet approved).

What it holds (``manifest.json`` lists every other file with its size and SHA-256):

* ``entry.json`` and ``receipt.json``: the entry and its last submission receipt, and under
  ``files/`` the files that receipt lists (a file whose retention ended or that a virus scan
  flagged is left out and the manifest says why);
* ``eligibility.json``: the eligibility decision and its reason;
* ``judging/<n>-<kind>/rules.json``: each round's rules exactly as frozen and hashed (their
  SHA-256 is the round's ``rules_hash``), and ``record.json`` beside it: the score sheets
  anonymised as reviewer 1, 2, 3 (never a name or an account id), their normalisation, the rank,
  the decision and its two signatures (``judging.domain.evidence``);
* ``appeal.json`` (and its supporting document) when the entry was appealed;
* ``audit/events.json``: the audit events about the entry as their hashes see them, personal
  values sealed (``contest.domain.audit.sealed_event``), so each event's hash can be recomputed;
* ``results/snapshot.json``: the published results snapshot exactly as hashed; the manifest
  names its SHA-256, the one the public results page and open data show.

The pack is streamed: small JSON documents are made in memory, the files are copied from storage
chunk by chunk into the ZIP as it is sent, and the manifest is written last with the hashes taken
on the way. Nothing the size of a file is held in memory or written to disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from contest import clock
from contest.db import existing, stored_json
from contest.domain import appeals
from contest.domain.audit import Actor, sealed_event
from contest.domain.corrections import superseded
from contest.domain.editions import edition_by_id
from contest.domain.entries import entry_row, is_owner
from contest.enums import AppealStates
from contest.errors import NotFound
from contest.rules import is_organiser, refuse_pending_member
from contest.tables import Appeal, Attachment, AuditEvent, Entry, Receipt, ResultSnapshot
from uploads.checks import CheckState

FORMAT = "dlg-evidence-pack"
VERSION = 1
MANIFEST = "manifest.json"
SNAPSHOT = "results/snapshot.json"
EVENTS = "audit/events.json"
#: Copied from storage in pieces of this size.
CHUNK = 1024 * 1024
ZIP64_FROM = 2**31 - 1

README = """ชุดหลักฐานของผลงาน (evidence pack) — รางวัลท้องถิ่นดิจิทัล
====================================================================
ไฟล์ manifest.json ระบุขนาดและค่า SHA-256 ของทุกไฟล์ในชุดนี้ และค่า SHA-256 ของผลการประกาศที่เผยแพร่
(snapshot_sha256) ซึ่งตรงกับค่าที่แสดงในหน้าผลการประกาศและข้อมูลเปิด ตรวจสอบได้โดยไม่ต้องเชื่อมต่อระบบ:

    contest evidence verify <ไฟล์นี้>.zip --snapshot <SHA-256 ที่ประกาศ>

ใบให้คะแนนแสดงเป็น "reviewer 1, 2, 3" โดยไม่มีชื่อหรือรหัสของกรรมการ ข้อมูลส่วนบุคคลในบันทึกการตรวจสอบ
ปรากฏเป็นค่าผูกมัด (sealed) ตามห่วงโซ่ค่าแฮช

Evidence pack of an entry — Digital Local Government award
manifest.json lists every file of this pack with its size and SHA-256, and the SHA-256 of the
published results (snapshot_sha256), the one shown on the public results page and in open data.
Check it offline:

    contest evidence verify <this file>.zip --snapshot <the published SHA-256>

Score sheets read "reviewer 1, 2, 3", with no reviewer's name or id. Personal values in the audit
events are sealed commitments, as in the hash chain.
"""


@dataclass
class Part:
    """One file of the pack: bytes made here, or a stored object copied chunk by chunk."""

    path: str
    data: bytes | None = None
    storage_key: str | None = None
    size: int = 0


@dataclass
class EvidencePack:
    entry_id: int
    year: int
    filename: str
    snapshot_sha256: str | None
    generated_at: str
    parts: list[Part] = field(default_factory=list)
    omitted: list[dict[str, str]] = field(default_factory=list)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=_plain).encode("utf-8")


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _safe_name(name: str) -> str:
    return "".join("_" if ch in "/\\:" else ch for ch in name).strip() or "file"


async def _allowed_entry(actor: Actor | None, entry_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    row = await entry_row(entry_id)
    edition = await edition_by_id(row["edition"]) if row else None
    if row is None or edition is None:
        raise NotFound("No such entry.", code="entry_not_found")
    if is_organiser(actor):
        return row, edition
    if is_owner(actor, row):
        if edition["published_at"] is None:
            raise NotFound("The evidence pack is available once the results are published.", code="not_published")
        return row, edition
    refuse_pending_member(actor, row["organisation"])
    raise NotFound("No such entry.", code="entry_not_found")


async def prepare_pack(actor: Actor | None, entry_id: int) -> EvidencePack:
    """What the pack of ``entry_id`` holds, checked for the caller; the files are read when sent."""
    row, edition = await _allowed_entry(actor, entry_id)
    entry = await existing(Entry.select(
        Entry.id, Entry.title, Entry.state, Entry.category, Entry.submitted_at, Entry.eligibility_reason,
        Entry.outcome_rank, Entry.outcome_score, Entry.organisation.code, Entry.organisation.name_th,
        Entry.organisation.province_name_th).where(Entry.id == entry_id))
    snapshot = await ResultSnapshot.select(ResultSnapshot.payload, ResultSnapshot.sha256,
                                           ResultSnapshot.published_at).where(
        ResultSnapshot.edition == edition["id"]).first()
    now = clock.now()
    pack = EvidencePack(entry_id=entry_id, year=edition["year"],
                        filename=f"evidence-{edition['year']}-{entry_id}.zip",
                        snapshot_sha256=snapshot["sha256"] if snapshot else None, generated_at=clock.utc_iso(now))
    pack.parts.append(Part("README.txt", README.encode("utf-8")))
    pack.parts.append(Part("entry.json", json_bytes({
        "entry_id": entry_id, "title": entry["title"], "year": edition["year"], "edition_title": edition["title"],
        "organisation_code": entry["organisation.code"], "organisation_name_th": entry["organisation.name_th"],
        "province_name_th": entry["organisation.province_name_th"], "category": entry["category"],
        "state": entry["state"], "rank": entry["outcome_rank"], "score": entry["outcome_score"] or None,
        "submitted_at": entry["submitted_at"], "results_published_at": edition["published_at"]})))
    await _receipt_parts(pack, entry_id)
    pack.parts.append(Part("eligibility.json", json_bytes(await appeals.eligibility_decision(entry_id) or {
        "state": None, "note": "No eligibility decision was recorded for this entry."})))
    for number, record in enumerate(await appeals.judging_record(entry_id), start=1):
        folder = f"judging/{number}-{record['kind']}"
        rules = record.pop("rules")
        pack.parts.append(Part(f"{folder}/rules.json", json.dumps(
            rules, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")))
        pack.parts.append(Part(f"{folder}/record.json", json_bytes(record)))
    await _appeal_parts(pack, entry_id)
    events = await AuditEvent.select().where(
        (AuditEvent.subject_type == "entry") & (AuditEvent.subject_id == str(entry_id))).order_by(AuditEvent.seq)
    pack.parts.append(Part(EVENTS, json_bytes([sealed_event(e) for e in events])))
    if snapshot is not None:
        pack.parts.append(Part(SNAPSHOT, snapshot["payload"].encode("utf-8")))
        replaced = await superseded(edition["year"])
        if replaced:
            pack.parts.append(Part("results/corrections.json", json_bytes(replaced)))
    return pack


async def _receipt_parts(pack: EvidencePack, entry_id: int) -> None:
    receipt = await Receipt.select().where(Receipt.entry == entry_id).order_by(
        Receipt.sequence, ascending=False).first()
    if receipt is None:
        pack.omitted.append({"path": "receipt.json", "reason": "The entry was never submitted."})
        return
    files = stored_json(receipt["files"], [])
    pack.parts.append(Part("receipt.json", json_bytes({
        "number": receipt["number"], "sequence": receipt["sequence"], "revision": receipt["revision"],
        "submitted_at": receipt["submitted_at"], "files": files,
        "snapshot": stored_json(receipt["snapshot"], {})})))
    ids = [f.get("attachment_id") for f in files if f.get("attachment_id")]
    rows = {a["id"]: a for a in await Attachment.select(
        Attachment.id, Attachment.storage_key, Attachment.size, Attachment.purged_at, Attachment.check_state).where(
        Attachment.id.is_in(ids or [-1]))}
    for f in files:
        att = rows.get(f.get("attachment_id"))
        path = f"files/{f.get('attachment_id')}-{_safe_name(str(f.get('name', '')))}"
        if att is None or att["purged_at"] is not None:
            pack.omitted.append({"path": path, "sha256": f.get("sha256", ""),
                                 "reason": "Deleted when its retention period ended; receipt.json keeps its SHA-256."})
        elif att["check_state"] == CheckState.infected:
            pack.omitted.append({"path": path, "sha256": f.get("sha256", ""),
                                 "reason": "A virus was found in this file; it is kept, not handed out."})
        else:
            pack.parts.append(Part(path, storage_key=att["storage_key"], size=att["size"]))


async def _appeal_parts(pack: EvidencePack, entry_id: int) -> None:
    row = await Appeal.select().where(Appeal.entry == entry_id).first()
    if row is None:
        return
    final = row["state"] in AppealStates.DECIDED
    signatures = [{"signatory": f"signatory {i}", "signed_at": at} for i, at in enumerate(
        [row["first_signed_at"], row["decided_at"]] if final else [row["first_signed_at"]], start=1) if at]
    pack.parts.append(Part("appeal.json", json_bytes({
        "id": row["id"], "state": row["state"], "reason": row["reason"], "lodged_at": row["lodged_at"],
        "due_at": row["due_at"], "outcome": row["state"] if final else None,
        "decision_reason": row["proposed_reason"] if final else "",
        "decision_hash": row["decision_hash"] if final else "", "decided_at": row["decided_at"],
        "signatures": signatures if final else [],
        "correction_sha256": row["correction_sha256"] or None,
        "attachment": ({"name": row["attachment_name"], "size": row["attachment_size"],
                        "sha256": row["attachment_sha256"]} if row["attachment_key"] else None)})))
    if row["attachment_key"] and row["attachment_check_state"] != CheckState.infected:
        pack.parts.append(Part(f"appeal/{_safe_name(row['attachment_name'])}", storage_key=row["attachment_key"],
                               size=row["attachment_size"]))


class _Sink(io.RawIOBase):
    """Where the ZIP writer puts its bytes until they are sent (it cannot seek: the writer then
    adds a data descriptor after each file instead of going back to its header)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def tell(self) -> int:
        raise OSError("not seekable")

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


async def stream_pack(pack: EvidencePack, storage: Any) -> AsyncIterator[bytes]:
    """The ZIP, piece by piece: each file as it is copied, then the manifest and the directory."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED)
    stamp = clock.to_bangkok(clock.parse_time(pack.generated_at) or clock.now()).timetuple()[:6]
    listed: list[dict[str, Any]] = []
    for part in pack.parts:
        info = zipfile.ZipInfo(part.path, date_time=stamp)
        # Stored files (PDF, images, video, office documents) are compressed already.
        info.compress_type = zipfile.ZIP_STORED if part.storage_key else zipfile.ZIP_DEFLATED
        digest = hashlib.sha256()
        size = 0
        with archive.open(info, mode="w", force_zip64=part.size >= ZIP64_FROM) as target:
            if part.data is not None:
                target.write(part.data)
                digest.update(part.data)
                size = len(part.data)
            else:
                async for chunk in storage.open_range(part.storage_key):
                    target.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if out := sink.take():
                        yield out
        listed.append({"path": part.path, "size": size, "sha256": digest.hexdigest()})
        if out := sink.take():
            yield out
    manifest = {"format": FORMAT, "version": VERSION, "entry_id": pack.entry_id, "year": pack.year,
                "generated_at": pack.generated_at, "snapshot_sha256": pack.snapshot_sha256,
                "snapshot_file": SNAPSHOT if pack.snapshot_sha256 else None, "files": listed,
                "omitted": pack.omitted,
                "verify": "contest evidence verify <this file>.zip --snapshot <the published SHA-256>"}
    archive.writestr(zipfile.ZipInfo(MANIFEST, date_time=stamp), json_bytes(manifest),
                     compress_type=zipfile.ZIP_DEFLATED)
    archive.close()
    yield sink.take()
