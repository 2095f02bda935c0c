"""The LAO registry: search, and idempotent import (re-import updates, never duplicates)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contest import clock, db
from contest.db import atomic
from contest.domain.audit import Actor, append_event
from contest.domain.registry import (
    KIND_BONUS,
    RANK_CONTAINS,
    RANK_EXACT,
    RANK_PREFIX,
    OrgRecord,
    Rejected,
    SearchReading,
    match_key,
    name_guesses,
    name_key,
    parse_organisations_csv,
    read_search,
    region_of,
)
from contest.errors import NotFound, PermissionDenied
from contest.i18n import thai_sort_key, thai_sorted
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


def search_columns(*, code: str, name_th: str, name_en: str, district_name_th: str,
                   province_name_th: str) -> dict[str, str]:
    """The columns a search reads: the text it looks in, the name it ranks on and the Thai
    dictionary-order key it lists by (hexadecimal, so both databases order it byte by byte)."""
    return {"search_text": match_key(" ".join([name_th, name_en, district_name_th, province_name_th, code])),
            "name_key": name_key(name_th)[:255], "sort_key": thai_sort_key(name_th).hex()}


def _row_values(rec: OrgRecord) -> dict:
    values = {k: getattr(rec, k) for k in ORG_COLUMNS}
    values["region"] = region_of(rec.province_code) or ""
    values.update(search_columns(code=rec.code, name_th=rec.name_th, name_en=rec.name_en,
                                 district_name_th=rec.district_name_th, province_name_th=rec.province_name_th))
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
            Organisation.search_text, Organisation.name_key, Organisation.sort_key)}
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


_COLUMNS_SQL = ", ".join(f'"{f._meta.db_column_name}"' for f in PUBLIC_FIELDS)


def like_pattern(text: str, *, prefix: bool = False) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}%"


class _Sql:
    """SQL text with ``{}`` for each value, and the values in order (Piccolo's raw queries)."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def values(self, values: Any) -> str:
        values = list(values)
        self.args.extend(values)
        return ", ".join("{}" for _ in values)

    def value(self, value: Any) -> str:
        self.args.append(value)
        return "{}"

    def like(self, column: str, pattern: str) -> str:
        return f"{column} LIKE {self.value(pattern)} ESCAPE '\\'"


def _matching(sql: _Sql, readings: list[SearchReading], province: str | None, kind: str | None) -> str:
    """The WHERE clause: every word of a reading somewhere in the search text (a reading with no
    words: the organisations of its kinds); the province and kind filters."""
    conditions = []
    if readings:
        alternatives = [
            " AND ".join(sql.like('"search_text"', like_pattern(word)) for word in r.words) if r.words
            else f'"kind" IN ({sql.values(sorted(r.kinds or ()))})'
            for r in readings]
        conditions.append("(" + " OR ".join(f"({a})" for a in alternatives) + ")")
    if province:
        conditions.append(f'("province_code" = {sql.value(province)} OR "province_name_th" = {sql.value(province)})')
    if kind:
        conditions.append(f'"kind" = {sql.value(kind)}')
    return " AND ".join(conditions) or "1 = 1"


def _score(sql: _Sql, reading: SearchReading) -> str:
    """How well a row matches one reading (``registry.RANK_*``): by its name, and more for a
    name of the kind the search names (a row found only by its district gets no more)."""
    def kind_bonus() -> str:
        if not reading.kinds:
            return ""
        return f' + CASE WHEN "kind" IN ({sql.values(sorted(reading.kinds))}) THEN {KIND_BONUS} ELSE 0 END'

    guesses = name_guesses(reading)
    if not guesses:
        return f"0{kind_bonus()}"
    exact = f'"name_key" IN ({sql.values(guesses)}) OR "code" IN ({sql.values(guesses)})'
    exact_score = f"{RANK_EXACT}{kind_bonus()}"
    prefix = " OR ".join(sql.like('"name_key"', like_pattern(g, prefix=True)) for g in guesses)
    prefix_score = f"{RANK_PREFIX}{kind_bonus()}"
    contains = " OR ".join(sql.like('"name_key"', like_pattern(g)) for g in guesses)
    contains_score = f"{RANK_CONTAINS}{kind_bonus()}"
    return (f"CASE WHEN {exact} THEN {exact_score} WHEN {prefix} THEN {prefix_score} "
            f"WHEN {contains} THEN {contains_score} ELSE 0 END")


async def search_organisations(*, q: str | None = None, province: str | None = None,
                               kind: str | None = None, page: int = 1, per_page: int = 20) -> OrganisationPage:
    """Search as officials type (``registry.read_search``): by Thai or English name, a kind
    written out or abbreviated (อบต., ทต., …), district, province or code, whatever the tone marks,
    spaces and dots; filter by province (code or Thai name) and kind. The best match first: the
    name exact, then its start, then a part of it, an organisation of the kind typed higher (see
    ``registry.RANK_EXACT``); then Thai dictionary order. Without a search, Thai dictionary order.
    Ranked, ordered and paged by the database: one query for the page, one for the count."""
    page = max(1, page)
    per_page = max(1, min(per_page, 100))
    readings = read_search(q) if q else []
    if q and q.strip() and not readings:  # only punctuation: nothing to look for
        return OrganisationPage(items=[], total=0, page=page, per_page=per_page)
    province = (province or "").strip() or None
    kind = (kind or "").strip() or None

    counting = _Sql()
    where = _matching(counting, readings, province, kind)
    total = (await Organisation.raw(f'SELECT count(*) AS "n" FROM "organisation" WHERE {where}',
                                    *counting.args))[0]["n"]
    # The values go in the order their {} stand in the text: WHERE, ORDER BY, LIMIT, OFFSET.
    listing = _Sql()
    where = _matching(listing, readings, province, kind)
    if len(readings) == 2:  # the better of the two readings
        a, b, a_again, b_again = (_score(listing, r) for r in (*readings, *readings))
        best = f"(CASE WHEN ({a}) >= ({b}) THEN ({a_again}) ELSE ({b_again}) END) DESC, "
    else:
        best = f"({_score(listing, readings[0])}) DESC, " if readings else ""
    in_bytes = "" if db.is_sqlite() else ' COLLATE "C"'
    text = (f'SELECT {_COLUMNS_SQL} FROM "organisation" WHERE {where} '
            f'ORDER BY {best}"sort_key"{in_bytes}, "code"{in_bytes} '
            f"LIMIT {listing.value(per_page)} OFFSET {listing.value((page - 1) * per_page)}")
    items = await Organisation.raw(text, *listing.args)
    return OrganisationPage(items=items, total=total, page=page, per_page=per_page)


async def get_organisation(code: str) -> dict:
    row = await Organisation.select(*PUBLIC_FIELDS).where(Organisation.code == code).first()
    if row is None:
        raise NotFound("No organisation with this code.", code="unknown_organisation")
    return row


async def list_provinces() -> list[dict]:
    """The provinces that have organisations in the registry, in Thai dictionary order."""
    rows = await db.fetch_kept(_PROVINCES)  # the same until the registry changes
    return thai_sorted(rows, key=lambda r: r["province_name_th"])


#: Read from the index on these three columns alone (every list's province filter reads it).
_PROVINCES = ('SELECT DISTINCT "province_code", "province_name_th", "province_name_en" FROM "organisation" '
              'ORDER BY "province_code"')


__all__ = ["ImportReport", "import_organisations", "import_organisations_csv", "search_organisations",
           "get_organisation", "list_provinces"]
