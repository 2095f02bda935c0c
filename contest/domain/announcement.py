"""The announcement: publishing an edition's signed results as an immutable snapshot, the
public results and showcase read from it, open data, notifications to every applicant, each
applicant's own result and the awardees' certificates.

Nothing of the results is visible before an admin publishes, and publishing is refused before
the edition's announcement time or before the final decision is signed. The snapshot is the
canonical JSON exactly as hashed; ``verify_snapshots`` re-derives it from the entries so a
tampered snapshot (or tampered results) fails ``contest audit verify``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contest import clock
from contest.db import atomic, lock_row
from contest.domain import outbox
from contest.domain.audit import Actor, append_event, canonical_json
from contest.enums import EditionState
from contest.errors import Conflict, NotFound, PermissionDenied
from contest.i18n import format_date, t
from contest.rules import can_manage_editions
from contest.settings import get_settings
from contest.tables import Edition, Entry, ResultSnapshot, User

AWARDED_STATES = ("finalist", "winner")
APPLIED_STATES = ("submitted", "eligible", "ineligible", "shortlisted", "not_shortlisted", "finalist", "winner")
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
# Columns of results.csv, in order; the data dictionary documents each.
CSV_COLUMNS = ("year", "entry_id", "award", "award_name_th", "award_name_en", "title", "organisation_code",
               "organisation_name_th", "organisation_name_en", "organisation_kind", "province_code",
               "province_name_th", "region", "category", "consent_publish", "showcase_url")
DATA_DICTIONARY = {
    "year": "ปีของการประกวด (พ.ศ.) / Edition year (Buddhist Era)",
    "entry_id": "รหัสผลงาน (คงที่) / Stable entry identifier",
    "award": f"รหัสรางวัล: {AWARD_WINNER} หรือ {AWARD_AWARDEE} / Award code",
    "award_name_th": "ชื่อรางวัล (ไทย) / Award name in Thai",
    "award_name_en": "ชื่อรางวัล (อังกฤษ) / Award name in English",
    "title": "ชื่อผลงาน / Innovation title",
    "organisation_code": "รหัสองค์กรปกครองส่วนท้องถิ่น (กรมส่งเสริมการปกครองท้องถิ่น) / LAO registry code",
    "organisation_name_th": "ชื่อองค์กร (ไทย) / Organisation name in Thai",
    "organisation_name_en": "ชื่อองค์กร (อังกฤษ) / Organisation name in English",
    "organisation_kind": "ประเภท อปท. (pao, city_municipality, town_municipality, subdistrict_municipality, sao, "
                         "bangkok, pattaya) / Kind of organisation",
    "province_code": "รหัสจังหวัด / Province code",
    "province_name_th": "จังหวัด / Province",
    "region": "ภาค / Region",
    "category": "ประเภทผลงาน (เมื่อองค์กรยินยอมเผยแพร่) / Category (when the organisation consented)",
    "consent_publish": "องค์กรยินยอมให้เผยแพร่รายละเอียดผลงาน / The organisation consented to publish details",
    "showcase_url": "หน้าผลงานในคลังนวัตกรรม / Showcase page",
}


def _loads(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return value if value is not None else default


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# --- building the results -----------------------------------------------------------------------

async def build_results(edition: dict[str, Any], published_at: datetime) -> dict[str, Any]:
    """The results document of an edition, from its entries only: the winners (DG Awards) and
    every awardee of the "ท้องถิ่นดิจิทัล" award (the shortlist, winners included)."""
    rows = await Entry.select(
        Entry.id, Entry.state, Entry.title, Entry.consent_publish, Entry.outcome_rank,
        *(getattr(Entry, f) for f in SHOWCASE_FIELDS),
        Entry.organisation.code, Entry.organisation.name_th, Entry.organisation.name_en, Entry.organisation.kind,
        Entry.organisation.province_code, Entry.organisation.province_name_th, Entry.organisation.region,
    ).where((Entry.edition == edition["id"]) & Entry.state.is_in(list(AWARDED_STATES))).order_by(Entry.id)
    base_url = get_settings().base_url
    items = []
    for r in rows:
        item: dict[str, Any] = {
            "entry_id": r["id"], "title": r["title"], "award": AWARD_AWARDEE,
            "organisation_code": r["organisation.code"], "organisation_name_th": r["organisation.name_th"],
            "organisation_name_en": r["organisation.name_en"], "organisation_kind": r["organisation.kind"],
            "province_code": r["organisation.province_code"], "province_name_th": r["organisation.province_name_th"],
            "region": r["organisation.region"], "consent_publish": bool(r["consent_publish"]),
            "winner": r["state"] == "winner", "final_rank": r["outcome_rank"] if r["state"] == "winner" else None,
            "showcase_url": f"{base_url}/showcase/{edition['year']}/{r['id']}",
        }
        if r["consent_publish"]:
            for f in SHOWCASE_FIELDS:
                value = r[f]
                item[f] = _loads(value, []) if f == "links" else _iso(value)
        items.append(item)
    items.sort(key=lambda i: (i["province_name_th"], i["organisation_name_th"], i["entry_id"]))
    winners = sorted((dict(i, award=AWARD_WINNER) for i in items if i["winner"]),
                     key=lambda i: (i["final_rank"] or 0, i["entry_id"]))
    return {"schema": 1, "year": edition["year"], "title": edition["title"],
            "published_at": clock.utc_iso(published_at), "licence": LICENCE,
            "winners": winners, "awarded": items}


def digest(payload_text: str) -> str:
    return hashlib.sha256(payload_text.encode("utf-8")).hexdigest()


async def _edition(year: int) -> dict[str, Any]:
    row = await Edition.select().where(Edition.year == year).first()
    if row is None:
        raise NotFound("No such edition.")
    return row


# --- publishing ---------------------------------------------------------------------------------

async def publication_blockers(edition: dict[str, Any]) -> list[str]:
    """Why the edition cannot be published now (message ids); empty when it can."""
    problems = []
    if clock.now() < edition["announcement_at"]:
        problems.append("embargo")
    winners = await Entry.count().where((Entry.edition == edition["id"]) & (Entry.state == "winner"))
    undecided = await Entry.count().where((Entry.edition == edition["id"]) & (Entry.state == "shortlisted"))
    if not winners or undecided:
        problems.append("final_not_signed")
    return problems


async def publish_results(*, actor: Actor, year: int) -> dict[str, Any]:
    """Publish the signed results at or after the announcement time: an immutable snapshot (its
    SHA-256 in the audit chain), the edition marked announced, and one job that mails every
    applicant through the outbox (batched, each applicant exactly once)."""
    if not can_manage_editions(actor):
        raise PermissionDenied("This is for contest administrators only.", code="admin_only")
    edition = await _edition(year)
    async with atomic():
        await lock_row("edition", edition["id"])
        if await ResultSnapshot.exists().where(ResultSnapshot.edition == edition["id"]):
            raise Conflict("The results of this edition are already published.", code="already_published")
        problems = await publication_blockers(edition)
        if "embargo" in problems:
            raise Conflict("The results may not be published before {at}.", code="embargo",
                           at=format_date(edition["announcement_at"]))
        if problems:
            raise Conflict("The final decision has not been signed yet.", code="final_not_signed")
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


@dataclass(frozen=True)
class PublishedResults:
    year: int
    published_at: datetime
    sha256: str
    document: dict[str, Any]
    payload: str


async def get_results(year: int) -> PublishedResults:
    """The published snapshot; 404 for everyone (admins included) before publication."""
    row = await ResultSnapshot.select(ResultSnapshot.published_at, ResultSnapshot.sha256, ResultSnapshot.payload,
                                      ResultSnapshot.edition.year).where(ResultSnapshot.edition.year == year).first()
    if row is None:
        raise NotFound("No results have been published for this edition.", code="not_published")
    return PublishedResults(year=year, published_at=row["published_at"], sha256=row["sha256"],
                            document=json.loads(row["payload"]), payload=row["payload"])


async def published_years() -> list[dict[str, Any]]:
    """Every published edition, newest first: the archive."""
    rows = await ResultSnapshot.select(ResultSnapshot.edition.year, ResultSnapshot.edition.title,
                                       ResultSnapshot.published_at, ResultSnapshot.sha256).order_by(
        ResultSnapshot.edition.year, ascending=False)
    return [{"year": r["edition.year"], "title": r["edition.title"], "published_at": r["published_at"],
             "sha256": r["sha256"]} for r in rows]


def public_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item as the public API lists it."""
    return {"entry_id": item["entry_id"], "title": item["title"], "organisation_code": item["organisation_code"],
            "organisation_name_th": item["organisation_name_th"], "province_name_th": item["province_name_th"],
            "award": item["award"], "organisation_kind": item["organisation_kind"], "region": item["region"],
            "province_code": item["province_code"], "showcase_url": item["showcase_url"]}


def showcase_item(results: PublishedResults, entry_id: int) -> dict[str, Any]:
    for item in results.document["awarded"]:
        if item["entry_id"] == entry_id:
            return item
    raise NotFound("No such awarded innovation.", code="not_found")


def search_showcase(results: PublishedResults, *, q: str = "", province: str = "", region: str = "",
                    kind: str = "", category: str = "") -> list[dict[str, Any]]:
    """Filter the awarded innovations; ``q`` matches title, organisation and the consented text."""
    needle = q.strip().lower()
    out = []
    for item in results.document["awarded"]:
        if province and item["province_code"] != province:
            continue
        if region and item["region"] != region:
            continue
        if kind and item["organisation_kind"] != kind:
            continue
        if category and item.get("category") != category:
            continue
        if needle:
            text = " ".join(str(item.get(f) or "") for f in (
                "title", "organisation_name_th", "organisation_name_en", "province_name_th", "summary", "problem",
                "solution", "results", "technology")).lower()
            if needle not in text:
                continue
        out.append(item)
    return out


# --- open data ----------------------------------------------------------------------------------

def _award_rows(results: PublishedResults) -> list[dict[str, Any]]:
    winners = {w["entry_id"] for w in results.document["winners"]}
    rows = []
    for item in results.document["awarded"]:
        award = AWARD_WINNER if item["entry_id"] in winners else AWARD_AWARDEE
        rows.append({**item, "award": award, "award_name_th": AWARD_NAMES[award][0],
                     "award_name_en": AWARD_NAMES[award][1], "year": results.year,
                     "category": item.get("category", "")})
    rows.sort(key=lambda r: (r["award"] != AWARD_WINNER, r["entry_id"]))
    return rows


def open_data_csv(results: PublishedResults) -> bytes:
    """results.csv: UTF-8 with BOM (Excel shows Thai correctly), one row per award."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in _award_rows(results):
        writer.writerow(["true" if row[c] is True else "false" if row[c] is False else row[c] for c in CSV_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def open_data_json(results: PublishedResults) -> dict[str, Any]:
    """results.json: the same rows, with the licence, the data dictionary and the snapshot hash."""
    return {"year": results.year, "title": results.document["title"],
            "published_at": results.document["published_at"], "snapshot_sha256": results.sha256,
            "licence": LICENCE, "data_dictionary": DATA_DICTIONARY,
            "records": [{c: r[c] for c in CSV_COLUMNS} for r in _award_rows(results)]}


# --- integrity ----------------------------------------------------------------------------------

async def verify_snapshots() -> list[str]:
    """Each published snapshot must hash to its recorded SHA-256 and equal the results derived
    again from the entries. Returns the problems found (empty when all is well)."""
    problems = []
    rows = await ResultSnapshot.select(ResultSnapshot.payload, ResultSnapshot.sha256, ResultSnapshot.published_at,
                                       ResultSnapshot.edition)
    for r in rows:
        edition = await Edition.select().where(Edition.id == r["edition"]).first()
        if digest(r["payload"]) != r["sha256"]:
            problems.append(f"edition {edition['year']}: the results snapshot does not match its SHA-256")
            continue
        stored = json.loads(r["payload"])
        again = json.loads(canonical_json(await build_results(edition, r["published_at"])))
        if stored != again:
            problems.append(f"edition {edition['year']}: the stored results differ from the published snapshot")
    return problems


# --- notifications ------------------------------------------------------------------------------

BATCH = 500


async def notify_applicants(year: int) -> int:
    """Queue one result mail per applicant account of the edition, in batches; re-running (a
    restarted worker) adds nothing twice. Returns how many new mails were queued."""
    edition = await _edition(year)
    results = await get_results(year)
    entries = await Entry.select(Entry.id, Entry.state, Entry.title, Entry.organisation).where(
        (Entry.edition == edition["id"]) & Entry.state.is_in(list(APPLIED_STATES))).order_by(Entry.id)
    by_org: dict[int, list[dict[str, Any]]] = {}
    for e in entries:
        by_org.setdefault(e["organisation"], []).append(e)
    users = await User.select(User.id, User.email, User.name, User.locale, User.organisation).where(
        User.organisation.is_in(list(by_org) or [-1]) & (User.role == "applicant") & (User.is_active == True)  # noqa: E712
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

async def applicant_result(actor: Actor | None, entry_id: int) -> dict[str, Any]:
    """An organisation's own outcome and the committee's aggregated feedback (never individual
    reviewers' scores or names); 404 before publication and for anyone but the organisation."""
    row = await Entry.select(Entry.id, Entry.state, Entry.title, Entry.organisation, Entry.eligibility_reason,
                             Entry.feedback, Entry.edition.year, Entry.edition.title, Entry.organisation.name_th,
                             Entry.organisation.province_name_th).where(Entry.id == entry_id).first()
    if row is None or actor is None or not (
            (actor.role == "applicant" and actor.organisation_id == row["organisation"]) or actor.role == "admin"):
        raise NotFound("No such entry.", code="entry_not_found")
    results = await get_results(row["edition.year"])
    winners = {w["entry_id"] for w in results.document["winners"]}
    award = AWARD_WINNER if entry_id in winners else AWARD_AWARDEE if row["state"] in AWARDED_STATES else None
    return {"entry_id": entry_id, "title": row["title"], "year": row["edition.year"],
            "edition_title": row["edition.title"], "organisation_name_th": row["organisation.name_th"],
            "province_name_th": row["organisation.province_name_th"], "state": row["state"], "award": award,
            "awarded": award is not None, "winner": award == AWARD_WINNER,
            "ineligible_reason": row["eligibility_reason"] if row["state"] == "ineligible" else "",
            "feedback": _loads(row["feedback"], None) if row["feedback"] else None,
            "published_at": results.published_at, "snapshot_sha256": results.sha256}


async def certificate_data(actor: Actor | None, entry_id: int) -> dict[str, Any]:
    """What an awardee's certificate says; 404 unless published, awarded and the caller's own."""
    result = await applicant_result(actor, entry_id)
    if not result["awarded"]:
        raise NotFound("Only awarded entries have a certificate.", code="no_certificate")
    return {**result, "number": f"DLG{result['year']}-C-{entry_id:06d}",
            "verify_url": f"{get_settings().base_url}/showcase/{result['year']}/{entry_id}"}

