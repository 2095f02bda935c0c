"""The LAO registry: search, and idempotent import (re-import updates, never duplicates)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contest import clock, db
from contest.db import atomic
from contest.domain.audit import Actor, append_event
from contest.domain.registry import OrgRecord, Rejected, parse_organisations_csv, region_of, search_key
from contest.errors import NotFound, PermissionDenied
from contest.i18n import thai_sorted
from contest.rules import can_manage_editions
from contest.tables import Organisation

BATCH = 500  # 13 columns x 500 rows stays far below asyncpg's 32,767 parameters
ORG_COLUMNS = ("code", "name_th", "name_en", "kind", "province_code", "province_name_th",
               "province_name_en", "district_code", "district_name_th", "district_name_en")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def _row_values(rec: OrgRecord) -> dict:
    values = {k: getattr(rec, k) for k in ORG_COLUMNS}
    values["region"] = region_of(rec.province_code) or ""
    values["search_text"] = search_key(" ".join([rec.name_th, rec.name_en, rec.district_name_th,
                                                 rec.province_name_th, rec.code]))
    return values


async def import_organisations(records: Iterable[OrgRecord], *, actor: Actor,
                               rejected: list[Rejected] | None = None) -> ImportReport:
    """Insert new organisations and update changed ones, keyed by registry code."""
    if not can_manage_editions(actor):
        raise PermissionDenied("Only administrators can import the registry.")
    report = ImportReport(rejected=list(rejected or []))
    records = list(records)
    async with atomic():
        existing = {r["code"]: r for r in await Organisation.select(
            Organisation.id, *[getattr(Organisation, c) for c in ORG_COLUMNS], Organisation.region,
            Organisation.search_text)}
        to_insert: list[Organisation] = []
        for rec in records:
            values = _row_values(rec)
            old = existing.get(rec.code)
            if old is None:
                to_insert.append(Organisation(**values))
                report.created += 1
            elif any(old[k] != v for k, v in values.items()):
                await Organisation.update({**values, Organisation.updated_at: clock.now()}).where(
                    Organisation.id == old["id"])
                report.updated += 1
            else:
                report.unchanged += 1
        for start in range(0, len(to_insert), BATCH):
            await Organisation.insert(*to_insert[start:start + BATCH])
        await append_event(actor=actor, action="registry.import", subject_type="registry", subject_id="lao",
                           after={"created": report.created, "updated": report.updated,
                                  "unchanged": report.unchanged, "rejected": len(report.rejected)})
    return report


async def import_organisations_csv(lines: Iterable[str], *, actor: Actor) -> ImportReport:
    parsed = parse_organisations_csv(lines)
    return await import_organisations(parsed.records, actor=actor, rejected=parsed.rejected)


@dataclass(frozen=True)
class OrganisationPage:
    items: list[dict]
    total: int
    page: int
    per_page: int


PUBLIC_FIELDS = (Organisation.id, Organisation.code, Organisation.name_th, Organisation.name_en,
                 Organisation.kind, Organisation.province_code, Organisation.province_name_th,
                 Organisation.province_name_en, Organisation.district_name_th, Organisation.region)


async def search_organisations(*, q: str | None = None, province: str | None = None,
                               kind: str | None = None, page: int = 1, per_page: int = 20) -> OrganisationPage:
    """Search by Thai or English name (any part), district, province or code; filter by province
    (code or Thai name) and kind."""
    page = max(1, page)
    per_page = max(1, min(per_page, 100))
    clauses: list[Any] = []
    if q and q.strip():
        for word in search_key(q).split():
            clauses.append(db.contains('"organisation"."search_text"', word))
    if province:
        province = province.strip()
        clauses.append((Organisation.province_code == province) | (Organisation.province_name_th == province))
    if kind:
        clauses.append(Organisation.kind == kind.strip())
    count_query = Organisation.count()
    query = Organisation.select(*PUBLIC_FIELDS)
    for clause in clauses:
        count_query = count_query.where(clause)
        query = query.where(clause)
    total = await count_query
    items = await query.order_by(Organisation.name_th).order_by(Organisation.code).limit(
        per_page).offset((page - 1) * per_page)
    return OrganisationPage(items=items, total=total, page=page, per_page=per_page)


async def get_organisation(code: str) -> dict:
    row = await Organisation.select(*PUBLIC_FIELDS).where(Organisation.code == code).first()
    if row is None:
        raise NotFound("No organisation with this code.", code="unknown_organisation")
    return row


async def list_provinces() -> list[dict]:
    """The provinces that have organisations in the registry, in Thai dictionary order."""
    rows = await Organisation.select(Organisation.province_code, Organisation.province_name_th,
                                     Organisation.province_name_en).distinct().order_by(Organisation.province_code)
    return thai_sorted(rows, key=lambda r: r["province_name_th"])


__all__ = ["ImportReport", "import_organisations", "import_organisations_csv", "search_organisations",
           "get_organisation", "list_provinces"]
