"""The announcement: publishing an edition's signed results as an immutable snapshot, the
public results and showcase read from it, open data, notifications to every applicant, each
applicant's own result and the awardees' certificates.

Nothing of the results is visible before an admin publishes, and publishing is refused before
the edition's announcement time or before the final decision is signed. The snapshot is the
canonical JSON exactly as hashed, and the record: display data in it (names, provinces, titles)
stays as published even when the registry is re-imported later, and it holds no absolute URL
(links are made from ``BASE_URL`` when served). ``verify_snapshots`` checks that its bytes hash
to the stored SHA-256, that this SHA-256 is the one the audit chain's ``edition.publish`` event
recorded, and that its outcomes (entries, awards, ranks, scores) are still the entries' stored
outcomes, so a tampered snapshot, a swapped one or tampered outcomes fail ``contest audit verify``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from contest import clock
from contest.db import atomic, lock_row, stored_json
from contest.domain import outbox
from contest.domain.audit import Actor, append_event, canonical_json
from contest.domain.editions import edition_row
from contest.domain.outcomes import MIN_REVIEWERS_FOR_MEANS
from contest.enums import EditionState, EntryState, EntryStates, Role
from contest.errors import Conflict, NotFound, PermissionDenied
from contest.i18n import format_date, t, thai_sort_key
from contest.rules import can_manage_editions, refuse_pending_member
from contest.settings import get_settings
from contest.spreadsheets import neutralise_formula
from contest.tables import AuditEvent, Edition, Entry, ResultSnapshot, User

SCHEMA = 2
AWARDED_STATES = (EntryState.finalist, EntryState.winner)
APPLIED_STATES = EntryStates.APPLIED
AWARD_WINNER = "dg_awards"
AWARD_AWARDEE = "digital_local_government"
AWARD_NAMES = {
    AWARD_WINNER: ("รางวัล DG Awards ประเภทองค์กรปกครองส่วนท้องถิ่น", "DG Awards — Local Government"),
    AWARD_AWARDEE: ("รางวัลท้องถิ่นดิจิทัล", "Digital Local Government Award"),
}
LICENCE = {
    "name": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
    "url": "https://creativecommons.org/licenses/by/4.0/",
    "attribution": "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) (สพร.) / Digital Government Development Agency (DGA)",
}
# Fields an organisation's consent lets the showcase publish; without consent only the
# organisation, the title and the award are shown.
SHOWCASE_FIELDS = ("category", "summary", "problem", "solution", "citizens_served", "results", "in_service_since",
                   "technology", "links", "video_url")
# Columns of results.csv, in order; the data dictionary documents each. One row per awarded
# entry: every row holds the "ท้องถิ่นดิจิทัล" award, and ``dg_awards_winner`` marks the DG Awards
# winner(s) among them, so the rows count the same as the API's ``awarded`` and ``winners``.
CSV_COLUMNS = ("year", "entry_id", "award", "award_name_th", "award_name_en", "dg_awards_winner", "title",
               "organisation_code", "organisation_name_th", "organisation_name_en", "organisation_kind",
               "province_code", "province_name_th", "region", "category", "consent_publish", "showcase_url")
DATA_DICTIONARY = {
    "year": "ปีของการประกวด (พ.ศ.) / Edition year (Buddhist Era)",
    "entry_id": "รหัสผลงาน (คงที่ ไม่ซ้ำกันในแต่ละแถว) / Stable entry identifier (one row per awarded entry)",
    "award": f"รหัสรางวัล: {AWARD_AWARDEE} (ทุกแถว: ผลงานที่ได้รับรางวัลท้องถิ่นดิจิทัล) / "
             f"Award code: {AWARD_AWARDEE} on every row (every awarded entry receives it)",
    "award_name_th": "ชื่อรางวัล (ไทย) / Award name in Thai",
    "award_name_en": "ชื่อรางวัล (อังกฤษ) / Award name in English",
    "dg_awards_winner": f"true เมื่อผลงานได้รับรางวัล DG Awards ประเภทองค์กรปกครองส่วนท้องถิ่นด้วย ({AWARD_WINNER}) / "
                        f"true when the entry also received the DG Awards local-government award ({AWARD_WINNER})",
    "title": "ชื่อผลงาน / Innovation title",
    "organisation_code": "รหัสองค์กรปกครองส่วนท้องถิ่น (กรมส่งเสริมการปกครองท้องถิ่น) / LAO registry code",
    "organisation_name_th": "ชื่อองค์กร (ไทย) ณ วันประกาศผล / Organisation name in Thai, as at the announcement",
    "organisation_name_en": "ชื่อองค์กร (อังกฤษ) ณ วันประกาศผล / Organisation name in English, as at the announcement",
    "organisation_kind": "ประเภท อปท. (pao, city_municipality, town_municipality, subdistrict_municipality, sao, "
                         "bangkok, pattaya) / Kind of organisation",
    "province_code": "รหัสจังหวัด / Province code",
    "province_name_th": "จังหวัด / Province",
    "region": "ภาค / Region",
    "category": "ประเภทผลงาน (เมื่อองค์กรยินยอมเผยแพร่) / Category (when the organisation consented)",
    "consent_publish": "องค์กรยินยอมให้เผยแพร่รายละเอียดผลงาน / The organisation consented to publish details",
    "showcase_url": "หน้าผลงานในคลังนวัตกรรม (URL เต็มของเว็บไซต์ที่ให้บริการไฟล์นี้) / "
                    "Showcase page (absolute URL on the site serving this file)",
}
CERTIFICATE_CODES = {AWARD_AWARDEE: "C", AWARD_WINNER: "DG"}
CERTIFICATE_NUMBER = re.compile(r"^DLG(\d{4})-(C|DG)-(\d{6,})$", re.ASCII)
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")




def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def showcase_path(year: int, entry_id: int) -> str:
    return f"/showcase/{year}/{entry_id}"


def absolute_url(path: str) -> str:
    """A site path as an absolute URL on this deployment (``BASE_URL``), made when served: the
    snapshot keeps paths only, so moving the site never changes a published record."""
    return f"{get_settings().base_url}{path}"


# --- building the results -----------------------------------------------------------------------

async def build_results(edition: dict[str, Any], published_at: datetime) -> dict[str, Any]:
    """The results document of an edition, from its entries only: the winners (DG Awards), every
    awardee of the "ท้องถิ่นดิจิทัล" award (the shortlist, winners included) as shown at the
    announcement, the edition's categories, and ``outcomes``: each awarded entry's state, award,
    final rank and score exactly as stored, which ``verify_snapshots`` compares with the entries."""
    rows = await Entry.select(
        Entry.id, Entry.state, Entry.title, Entry.consent_publish, Entry.outcome_rank, Entry.outcome_score,
        *(getattr(Entry, f) for f in SHOWCASE_FIELDS),
        Entry.organisation.code, Entry.organisation.name_th, Entry.organisation.name_en, Entry.organisation.kind,
        Entry.organisation.province_code, Entry.organisation.province_name_th, Entry.organisation.region,
    ).where((Entry.edition == edition["id"]) & Entry.state.is_in(list(AWARDED_STATES))).order_by(Entry.id)
    items = []
    for r in rows:
        item: dict[str, Any] = {
            "entry_id": r["id"], "title": r["title"], "award": AWARD_AWARDEE,
            "organisation_code": r["organisation.code"], "organisation_name_th": r["organisation.name_th"],
            "organisation_name_en": r["organisation.name_en"], "organisation_kind": r["organisation.kind"],
            "province_code": r["organisation.province_code"], "province_name_th": r["organisation.province_name_th"],
            "region": r["organisation.region"], "consent_publish": bool(r["consent_publish"]),
            "winner": r["state"] == EntryState.winner,
            "final_rank": r["outcome_rank"] if r["state"] == EntryState.winner else None,
            "showcase_path": showcase_path(edition["year"], r["id"]),
        }
        if r["consent_publish"]:
            for f in SHOWCASE_FIELDS:
                value = r[f]
                item[f] = stored_json(value, []) if f == "links" else _iso(value)
        items.append(item)
    items.sort(key=awarded_order)
    winners = sorted((dict(i, award=AWARD_WINNER) for i in items if i["winner"]),
                     key=lambda i: (i["final_rank"] or 0, i["entry_id"]))
    outcomes = [{"entry_id": r["id"], "state": r["state"],
                 "award": AWARD_WINNER if r["state"] == EntryState.winner else AWARD_AWARDEE,
                 "rank": r["outcome_rank"], "score": r["outcome_score"] or ""} for r in rows]
    categories = [{"code": c.get("code", ""), "name_th": c.get("name_th", ""), "name_en": c.get("name_en", "")}
                  for c in stored_json(edition.get("categories"), []) if isinstance(c, dict)]
    return {"schema": SCHEMA, "year": edition["year"], "title": edition["title"],
            "published_at": clock.utc_iso(published_at), "licence": LICENCE, "categories": categories,
            "winners": winners, "awarded": items, "outcomes": outcomes}


def awarded_order(item: dict[str, Any]) -> tuple[bytes, bytes, int]:
    """How the awardees are listed: by province, then organisation, in Thai order."""
    return thai_sort_key(item["province_name_th"]), thai_sort_key(item["organisation_name_th"]), item["entry_id"]


def digest(payload_text: str) -> str:
    return hashlib.sha256(payload_text.encode("utf-8")).hexdigest()



# --- publishing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Blocker:
    """Why an edition cannot be published yet: a code, a message id and its parameters."""

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


async def decided_counts(edition_id: int) -> dict[str, int]:
    """How many entries of the edition are in each judged state that decides publication."""
    states = ("shortlisted", "finalist", "winner")
    rows = await Entry.select(Entry.state, Count()).where(
        (Entry.edition == edition_id) & Entry.state.is_in(list(states))).group_by(Entry.state)
    found = {r["state"]: r["count"] for r in rows}
    return {state: found.get(state, 0) for state in states}


async def publication_blockers(edition: dict[str, Any]) -> list[Blocker]:
    """Why the edition cannot be published now; empty when it can.

    The final decision counts as signed when judging has recorded a final outcome (``winner`` or
    ``finalist``, which ``outcomes.record_outcomes`` sets only with the second signature of the
    final round) and no entry is still ``shortlisted`` (the final round takes the whole
    shortlist, so one left means the final is not signed). A signed final may name no winner
    (the panel's override): that is publishable, and the results say no winner was named."""
    problems = []
    if clock.now() < edition["announcement_at"]:
        problems.append(Blocker("embargo", "The results may not be published before {at}.",
                                {"at": format_date(edition["announcement_at"])}))
    counts = await decided_counts(edition["id"])
    if counts["shortlisted"]:
        problems.append(Blocker(
            "final_not_signed",
            "The final decision has not been signed yet: {n} shortlisted entries have no final outcome.",
            {"n": counts["shortlisted"]}))
    elif not counts["winner"] and not counts["finalist"]:
        problems.append(Blocker("screening_not_signed",
                                "No entry has been shortlisted: the screening decision has not been signed yet."))
    return problems


async def publish_results(*, actor: Actor, year: int) -> dict[str, Any]:
    """Publish the signed results at or after the announcement time: an immutable snapshot (its
    SHA-256 in the audit chain), the edition marked announced, and one job that mails every
    applicant through the outbox (batched, each applicant exactly once)."""
    if not can_manage_editions(actor):
        raise PermissionDenied("This is for contest administrators only.", code="admin_only")
    edition = await edition_row(year)
    async with atomic():
        await lock_row("edition", edition["id"])
        if await ResultSnapshot.exists().where(ResultSnapshot.edition == edition["id"]):
            raise Conflict("The results of this edition are already published.", code="already_published")
        problems = await publication_blockers(edition)
        if problems:
            first = problems[0]
            raise Conflict(first.message, code=first.code, **first.params)
        now = clock.now()
        document = await build_results(edition, now)
        text = canonical_json(document)
        sha = digest(text)
        await ResultSnapshot.insert(ResultSnapshot(edition=edition["id"], published_at=now, published_by=actor.id,
                                                   payload=text, sha256=sha))
        await Edition.update({Edition.state: EditionState.announced, Edition.published_at: now,
                              Edition.updated_at: now}).where(Edition.id == edition["id"])
        await append_event(actor=actor, action="edition.publish", subject_type="edition", subject_id=year,
                           before={"state": edition["state"]},
                           after={"state": EditionState.announced, "snapshot_sha256": sha,
                                  "winners": [w["entry_id"] for w in document["winners"]],
                                  "awarded": [a["entry_id"] for a in document["awarded"]]})
        job = await outbox.add_job("announce_results", {"year": year}, dedupe_key=f"announce:{year}")
    await outbox.dispatch([job])
    return {"year": year, "published_at": now, "snapshot_sha256": sha,
            "winners": len(document["winners"]), "awarded": len(document["awarded"])}


async def withdraw_consent_from_snapshot(*, actor: Actor, edition_id: int, entry_id: int) -> str | None:
    """Inside the caller's transaction (the entry's consent just withdrawn): the next snapshot of
    the edition's published results no longer holds what the consent let the showcase and open
    data publish about the entry; it replaces the published one and its SHA-256 goes into the
    audit chain (``edition.republish``), which ``verify_snapshots`` then checks it against. The
    outcomes are unchanged. Returns the new SHA-256, or None when nothing published held it."""
    await lock_row("edition", edition_id)
    row = await ResultSnapshot.select(ResultSnapshot.payload, ResultSnapshot.sha256,
                                      ResultSnapshot.edition.year).where(ResultSnapshot.edition == edition_id).first()
    if row is None:
        return None
    document = json.loads(row["payload"])
    changed = False
    for item in [*document.get("awarded", []), *document.get("winners", [])]:
        if item.get("entry_id") == entry_id and item.get("consent_publish"):
            item["consent_publish"] = False
            for f in SHOWCASE_FIELDS:
                item.pop(f, None)
            changed = True
    if not changed:
        return None
    document["revised_at"] = clock.utc_iso(clock.now())
    text = canonical_json(document)
    sha = digest(text)
    await ResultSnapshot.update({ResultSnapshot.payload: text, ResultSnapshot.sha256: sha}).where(
        ResultSnapshot.edition == edition_id)
    await append_event(actor=actor, action="edition.republish", subject_type="edition", subject_id=row["edition.year"],
                       before={"snapshot_sha256": row["sha256"]},
                       after={"snapshot_sha256": sha, "consent_withdrawn": entry_id,
                              "winners": [w["entry_id"] for w in document["winners"]],
                              "awarded": [a["entry_id"] for a in document["awarded"]]})
    return sha


@dataclass(frozen=True)
class PublishedResults:
    year: int
    published_at: datetime
    sha256: str
    document: dict[str, Any]   # shared between requests (cached by its SHA-256): read it, never change it
    payload: str


# Parsed snapshots by the SHA-256 of their text. Hashing the text a request read is much cheaper
# than parsing it again (a fraction of a millisecond against several for 40 awardees with their
# showcase texts), and a key computed from the bytes themselves can never serve a stale parse;
# each request still reads the row (one query), so a new publication shows at once.
_PARSED: OrderedDict[str, dict[str, Any]] = OrderedDict()
_PARSED_MAX = 8


def _parse_snapshot(payload: str) -> dict[str, Any]:
    key = digest(payload)
    document = _PARSED.get(key)
    if document is None:
        document = _PARSED[key] = json.loads(payload)
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    else:
        _PARSED.move_to_end(key)
    return document


async def get_results(year: int) -> PublishedResults:
    """The published snapshot; 404 for everyone (admins included) before publication."""
    row = await ResultSnapshot.select(ResultSnapshot.published_at, ResultSnapshot.sha256, ResultSnapshot.payload,
                                      ResultSnapshot.edition.year).where(ResultSnapshot.edition.year == year).first()
    if row is None:
        raise NotFound("No results have been published for this edition.", code="not_published")
    return PublishedResults(year=year, published_at=row["published_at"], sha256=row["sha256"],
                            document=_parse_snapshot(row["payload"]), payload=row["payload"])


async def published_years() -> list[dict[str, Any]]:
    """Every published edition, newest first: the archive."""
    rows = await ResultSnapshot.select(ResultSnapshot.edition.year, ResultSnapshot.edition.title,
                                       ResultSnapshot.published_at, ResultSnapshot.sha256).order_by(
        ResultSnapshot.edition.year, ascending=False)
    return [{"year": r["edition.year"], "title": r["edition.title"], "published_at": r["published_at"],
             "sha256": r["sha256"]} for r in rows]


def item_showcase_path(results: PublishedResults, item: dict[str, Any]) -> str:
    # Snapshots of schema 1 stored an absolute ``showcase_url``; the path is the same either way.
    return item.get("showcase_path") or showcase_path(results.year, item["entry_id"])


def public_item(results: PublishedResults, item: dict[str, Any]) -> dict[str, Any]:
    """An item as the public API lists it (``showcase_url`` made absolute from ``BASE_URL`` now)."""
    return {"entry_id": item["entry_id"], "title": item["title"], "organisation_code": item["organisation_code"],
            "organisation_name_th": item["organisation_name_th"], "province_name_th": item["province_name_th"],
            "award": item["award"], "organisation_kind": item["organisation_kind"], "region": item["region"],
            "province_code": item["province_code"], "showcase_url": absolute_url(item_showcase_path(results, item))}


def showcase_item(results: PublishedResults, entry_id: int) -> dict[str, Any]:
    for item in results.document["awarded"]:
        if item["entry_id"] == entry_id:
            return item
    raise NotFound("No such awarded innovation.", code="not_found")


# --- open data ----------------------------------------------------------------------------------

def _award_rows(results: PublishedResults) -> list[dict[str, Any]]:
    """One row per awarded entry (the winners first): each holds the "ท้องถิ่นดิจิทัล" award, and
    ``dg_awards_winner`` says whether it also holds the DG Awards."""
    winners = {w["entry_id"] for w in results.document["winners"]}
    rows = []
    for item in results.document["awarded"]:
        rows.append({**item, "award": AWARD_AWARDEE, "award_name_th": AWARD_NAMES[AWARD_AWARDEE][0],
                     "award_name_en": AWARD_NAMES[AWARD_AWARDEE][1], "dg_awards_winner": item["entry_id"] in winners,
                     "year": results.year, "category": item.get("category", ""),
                     "showcase_url": absolute_url(item_showcase_path(results, item))})
    rows.sort(key=lambda r: (not r["dg_awards_winner"], r["entry_id"]))
    return rows


def csv_cell(value: Any) -> Any:
    """A value as results.csv writes it: booleans as true/false, and text that a spreadsheet
    would take for a formula behind an apostrophe."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return neutralise_formula(value)  # in results.csv only: results.json keeps the text as entered


def open_data_csv(results: PublishedResults) -> bytes:
    """results.csv: UTF-8 with BOM (Excel shows Thai correctly), one row per awarded entry."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in _award_rows(results):
        writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def open_data_json(results: PublishedResults) -> dict[str, Any]:
    """results.json: the same rows (text as entered), with the licence, the data dictionary, the
    snapshot hash and the corrections made since publication (each with the hash it replaced)."""
    return {"year": results.year, "title": results.document["title"],
            "published_at": results.document["published_at"], "snapshot_sha256": results.sha256,
            "licence": LICENCE, "data_dictionary": DATA_DICTIONARY,
            "records": [{c: r[c] for c in CSV_COLUMNS} for r in _award_rows(results)],
            "corrections": list(results.document.get("corrections", []))}


# --- integrity ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SnapshotProblem:
    """One thing ``verify_snapshots`` found wrong: a message id and its parameters."""

    year: int
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str | None = None) -> str:
        return t(self.message, language, year=self.year, **self.params)


def _snapshot_outcomes(document: dict[str, Any]) -> tuple[dict[int, dict[str, Any]], tuple[str, ...]]:
    """The outcomes a snapshot records, by entry, and which of their fields it records: every
    field in schema 2; the award alone in schema 1 (which kept no score)."""
    if "outcomes" in document:
        return {o["entry_id"]: o for o in document["outcomes"]}, ("state", "award", "rank", "score")
    winners = {w["entry_id"] for w in document.get("winners", [])}
    return ({i["entry_id"]: {"award": AWARD_WINNER if i["entry_id"] in winners else AWARD_AWARDEE}
             for i in document.get("awarded", [])}, ("award",))


async def _publish_events() -> dict[str, list[dict[str, Any]]]:
    # The publication, then each snapshot that replaced it (an organisation withdrew its consent,
    # or an upheld appeal corrected the results).
    rows = await AuditEvent.select(AuditEvent.seq, AuditEvent.subject_id, AuditEvent.after).where(
        AuditEvent.action.is_in(["edition.publish", "edition.republish", "edition.correct"])
        & (AuditEvent.subject_type == "edition")
    ).order_by(AuditEvent.seq)
    events: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        events.setdefault(r["subject_id"], []).append({"seq": r["seq"], "after": stored_json(r["after"], {}) or {}})
    return events


async def verify_snapshots() -> list[SnapshotProblem]:
    """Check every published snapshot; return the problems found (empty when all is well).

    1. its bytes hash to the SHA-256 stored beside it;
    2. that SHA-256 (and the winners and awardees) is what the audit chain's ``edition.publish``
       event recorded (or the latest ``edition.republish``, when consent was withdrawn since), so
       a snapshot replaced together with its hash is caught (``verify_chain`` vouches for the
       event);
    3. its outcomes are the entries' stored outcome columns: the same entries in an awarded state,
       each with the same state, award, rank and score.

    Display data (organisation names, provinces, regions, titles, ``BASE_URL``) is not compared:
    the snapshot keeps them as they were announced, and a registry re-import or a move of the site
    must not make a sound record look broken."""
    problems: list[SnapshotProblem] = []
    events = await _publish_events()
    rows = await ResultSnapshot.select(ResultSnapshot.payload, ResultSnapshot.sha256, ResultSnapshot.edition,
                                       ResultSnapshot.edition.year).order_by(ResultSnapshot.edition.year)
    for r in rows:
        year = r["edition.year"]
        if digest(r["payload"]) != r["sha256"]:
            problems.append(SnapshotProblem(year, "edition {year}: the results snapshot does not match its SHA-256."))
            continue
        document = json.loads(r["payload"])
        published = events.get(str(year), [])
        if not published:
            problems.append(SnapshotProblem(
                year, "edition {year}: the audit chain has no edition.publish event for this snapshot."))
        else:
            event = published[-1]
            recorded = event["after"].get("snapshot_sha256")
            if recorded != r["sha256"]:
                problems.append(SnapshotProblem(
                    year, "edition {year}: the snapshot's SHA-256 {sha} is not the {recorded} recorded by the "
                          "edition.publish event (audit event {seq}).",
                    {"sha": r["sha256"], "recorded": recorded, "seq": event["seq"]}))
            elif (event["after"].get("winners") != [w["entry_id"] for w in document.get("winners", [])]
                    or event["after"].get("awarded") != [a["entry_id"] for a in document.get("awarded", [])]):
                problems.append(SnapshotProblem(
                    year, "edition {year}: the winners or awardees in the snapshot are not those recorded by the "
                          "edition.publish event (audit event {seq}).", {"seq": event["seq"]}))
        problems.extend(await _verify_outcomes(r["edition"], year, document))
    return problems


async def _verify_outcomes(edition_id: int, year: int, document: dict[str, Any]) -> list[SnapshotProblem]:
    recorded, fields = _snapshot_outcomes(document)
    live = {e["id"]: {"state": e["state"], "award": AWARD_WINNER if e["state"] == EntryState.winner else AWARD_AWARDEE,
                      "rank": e["outcome_rank"], "score": e["outcome_score"] or ""}
            for e in await Entry.select(Entry.id, Entry.state, Entry.outcome_rank, Entry.outcome_score).where(
                (Entry.edition == edition_id) & Entry.state.is_in(list(AWARDED_STATES)))}
    problems = []
    for entry_id in sorted(set(recorded) | set(live)):
        if entry_id not in live:
            problems.append(SnapshotProblem(year, "edition {year}: entry {id} was awarded in the published snapshot "
                                                  "but its stored outcome is no longer an award.", {"id": entry_id}))
        elif entry_id not in recorded:
            problems.append(SnapshotProblem(year, "edition {year}: entry {id} has an award stored but is not among "
                                                  "the awardees of the published snapshot.", {"id": entry_id}))
        else:
            changed = [f for f in fields if recorded[entry_id].get(f) != live[entry_id][f]]
            if changed:
                problems.append(SnapshotProblem(
                    year, "edition {year}: the stored outcome of entry {id} ({fields}) differs from the published "
                          "snapshot.", {"id": entry_id, "fields": ", ".join(changed)}))
    return problems


# --- notifications ------------------------------------------------------------------------------

BATCH = 500


async def notify_applicants(year: int) -> int:
    """Queue one result mail per applicant account of the edition, in batches; re-running (a
    restarted worker) adds nothing twice. Returns how many new mails were queued."""
    edition = await edition_row(year)
    results = await get_results(year)
    entries = await Entry.select(Entry.id, Entry.state, Entry.title, Entry.organisation).where(
        (Entry.edition == edition["id"]) & Entry.state.is_in(list(APPLIED_STATES))).order_by(Entry.id)
    by_org: dict[int, list[dict[str, Any]]] = {}
    for e in entries:
        by_org.setdefault(e["organisation"], []).append(e)
    users = await User.select(User.id, User.email, User.name, User.locale, User.organisation).where(
        User.organisation.is_in(list(by_org) or [-1]) & (User.role == Role.applicant) & (User.is_active == True)  # noqa: E712
    ).order_by(User.id)
    winners = {w["entry_id"] for w in results.document["winners"]}
    queued = 0
    for start in range(0, len(users), BATCH):
        items = []
        for u in users[start:start + BATCH]:
            items.append((_result_mail(u, by_org[u["organisation"]], winners, year, edition["title"]),
                          f"result:{year}:{u['id']}"))
        async with atomic():
            ids = await outbox.add_jobs("send_mail", items)
        await outbox.dispatch(ids)
        queued += len(ids)
    return queued


def _outcome_text(state: str, winner: bool, lang: str) -> str:
    if winner:
        return t("Your innovation received the DG Awards local-government award, and the Digital Local "
                 "Government award.", lang)
    if state in AWARDED_STATES:
        return t("Your innovation received the Digital Local Government award.", lang)
    return t("Your innovation was not among the awarded entries this year. Thank you for taking part.", lang)


def _result_mail(user: dict[str, Any], entries: list[dict[str, Any]], winners: set[int], year: int,
                 title: str) -> dict[str, str]:
    lang = user["locale"] or "th"
    base = get_settings().base_url
    parts = [f"{e['title']}\n{_outcome_text(e['state'], e['id'] in winners, lang)}\n{base}/entries/{e['id']}/result"
             for e in entries]
    text = t("Dear {name},\n\nThe results of {edition} have been announced.\n\n{entries}\n\n"
             "All results: {url}\n", lang, name=user["name"] or user["email"], edition=title,
             entries="\n\n".join(parts), url=f"{base}/results/{year}")
    return {"to": user["email"], "subject": t("Results of {edition}", lang, edition=title), "text": text}


async def notification_progress(year: int) -> dict[str, int]:
    return await outbox.progress(f"result:{year}:")


# --- the applicant's own result ----------------------------------------------------------------

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _feedback_section(raw: Any) -> dict[str, Any] | None:
    """One committee's aggregated feedback as an applicant may read it: the criterion means only
    when at least two reviewers scored (one reviewer's "means" would be that reviewer's own
    scores), and the comments without names."""
    if not isinstance(raw, dict):
        return None
    reviewers = raw.get("reviewers")
    reviewers = int(reviewers) if isinstance(reviewers, (int, float)) and _is_number(reviewers) else None
    criteria = [{**c, "max": c.get("max") if _is_number(c.get("max")) else None}
                for c in raw.get("criteria") or [] if isinstance(c, dict) and _is_number(c.get("mean"))]
    comments = [str(c) for c in raw.get("comments") or [] if str(c).strip()]
    if reviewers is None or reviewers < MIN_REVIEWERS_FOR_MEANS:
        criteria = []
    if not criteria and not comments and not reviewers:
        return None
    return {"reviewers": reviewers, "criteria": criteria, "comments": comments}


def feedback_sections(raw: Any) -> dict[str, dict[str, Any]]:
    """The committees' feedback an entry's outcome record holds, by committee (screening first).

    Judging records the screening committee's feedback as the record itself (``reviewers``,
    ``criteria``, ``comments``) and may add the final panel's under ``final`` (or nest each under
    ``screening`` / ``final``); unknown extra keys are ignored."""
    if not isinstance(raw, dict):
        return {}
    sections = {}
    screening = _feedback_section(raw["screening"] if isinstance(raw.get("screening"), dict) else raw)
    if screening:
        sections["screening"] = screening
    final = _feedback_section(raw.get("final"))
    if final:
        sections["final"] = final
    return sections


def certificate_number(year: int, award: str, entry_id: int) -> str:
    """The number printed on a certificate: one per award an entry holds."""
    return f"DLG{year}-{CERTIFICATE_CODES[award]}-{entry_id:06d}"


def _awards_of(results: PublishedResults, entry_id: int) -> list[str]:
    """The awards the snapshot gives an entry, the highest first."""
    if not any(i["entry_id"] == entry_id for i in results.document["awarded"]):
        return []
    winner = any(w["entry_id"] == entry_id for w in results.document["winners"])
    return [AWARD_WINNER, AWARD_AWARDEE] if winner else [AWARD_AWARDEE]


async def applicant_result(actor: Actor | None, entry_id: int) -> dict[str, Any]:
    """An organisation's own outcome and the committees' aggregated feedback (never individual
    reviewers' scores or names); 404 before publication and for anyone but the organisation.
    The awards are the published snapshot's, each with its certificate number."""
    row = await Entry.select(Entry.id, Entry.state, Entry.title, Entry.organisation, Entry.eligibility_reason,
                             Entry.feedback, Entry.edition.year, Entry.edition.title, Entry.organisation.name_th,
                             Entry.organisation.province_name_th).where(Entry.id == entry_id).first()
    if row is None or actor is None or not (
            (actor.role == Role.applicant and actor.organisation_id == row["organisation"])
            or actor.role == Role.admin):
        refuse_pending_member(actor, row["organisation"] if row else None)
        raise NotFound("No such entry.", code="entry_not_found")
    year = row["edition.year"]
    results = await get_results(year)
    awards = _awards_of(results, entry_id)
    award = awards[0] if awards else None
    sections = feedback_sections(stored_json(row["feedback"], None) if row["feedback"] else None)
    return {"entry_id": entry_id, "title": row["title"], "year": year,
            "edition_title": row["edition.title"], "organisation_name_th": row["organisation.name_th"],
            "province_name_th": row["organisation.province_name_th"], "state": row["state"], "award": award,
            "awards": awards, "awarded": award is not None, "winner": award == AWARD_WINNER,
            "certificates": [{"award": a, "number": certificate_number(year, a, entry_id),
                              "verify_path": f"/certificates/{certificate_number(year, a, entry_id)}"}
                             for a in awards],
            "ineligible_reason": row["eligibility_reason"] if row["state"] == EntryState.ineligible else "",
            # The screening committee's at the top (as recorded), any other committee's by name.
            "feedback": ({**sections.get("screening", {}), **({"final": sections["final"]} if "final" in sections
                                                                else {})} or None),
            "feedback_sections": sections,
            "published_at": results.published_at, "snapshot_sha256": results.sha256}


async def certificate_data(actor: Actor | None, entry_id: int, award: str | None = None) -> dict[str, Any]:
    """What one of an awardee's certificates says (``award``: either award it holds, by default
    the highest), from the published snapshot, not the live entry or organisation; 404 unless
    published, awarded that award and the caller's own."""
    result = await applicant_result(actor, entry_id)
    award = award or result["award"]
    if not result["awarded"] or award not in result["awards"]:
        raise NotFound("Only awarded entries have a certificate.", code="no_certificate")
    results = await get_results(result["year"])
    item = showcase_item(results, entry_id)
    number = certificate_number(result["year"], award, entry_id)
    return {"award": award, "year": result["year"], "number": number, "entry_id": entry_id,
            "organisation_name_th": item["organisation_name_th"], "province_name_th": item["province_name_th"] or "",
            "title": item["title"], "published_at": results.published_at,
            "verify_url": absolute_url(f"/certificates/{number}")}


_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})


def typed_certificate_number(text: str) -> str | None:
    """A certificate number as a person types it (any case, Thai digits, spaces, a typographic
    dash) in its printed form, e.g. ``DLG2569-C-000042``; None when it cannot be one."""
    number = "".join(text.split()).translate(_DASHES).translate(_THAI_DIGITS).upper()
    return number if CERTIFICATE_NUMBER.match(number) else None


async def verify_certificate(number: str) -> dict[str, Any]:
    """A certificate as the public may check it, from the published snapshot: holder, award,
    innovation and edition. 404 for a number that no published snapshot gives."""
    match = CERTIFICATE_NUMBER.match(typed_certificate_number(number) or "")
    if not match:
        raise NotFound("No certificate has this number.", code="certificate_not_found")
    year, code, entry_id = int(match.group(1)), match.group(2), int(match.group(3))
    award = next(a for a, c in CERTIFICATE_CODES.items() if c == code)
    try:
        results = await get_results(year)
    except NotFound:
        raise NotFound("No certificate has this number.", code="certificate_not_found") from None
    if award not in _awards_of(results, entry_id):
        raise NotFound("No certificate has this number.", code="certificate_not_found")
    item = showcase_item(results, entry_id)
    return {"number": certificate_number(year, award, entry_id), "award": award, "item": item,
            "year": year, "title": results.document["title"], "results": results}
