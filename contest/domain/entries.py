"""Entries: who may read one, reading and listing them, the rules of their fields, and what the
state changes share (the deadline check, the "not editable" answer).

The state changes live beside it: drafting, editing, submitting and withdrawing in
``submission``, files in ``attachments``, per-organisation deadlines in ``extensions``. The
deadline is decided on server time (Asia/Bangkok is only how it is shown). Every state change
runs in one transaction, writes an audit event, and anything mailed goes through the outbox.
Callers who may not know an entry exists get ``NotFound``, never ``PermissionDenied``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from typing import Any

from contest import clock, dates
from contest.db import fetch, fetch_kept, stored_json
from contest.domain.audit import Actor
from contest.domain.editions import edition_row
from contest.domain.extensions import deadline_for, entry_with_deadline
from contest.domain.organisations import like_pattern
from contest.domain.outcomes import visible_entry, visible_state, visible_state_condition
from contest.domain.registry import KIND_LABELS, read_search
from contest.enums import EditionState, EntryState, EntryStates, Role
from contest.errors import Conflict, NotFound, PermissionDenied
from contest.i18n import format_date, t
from contest.labels import both_labels
from contest.links import web_address
from contest.numbers import whole_number
from contest.rules import is_organiser, refuse_any_pending, refuse_pending_member
from contest.spreadsheets import Column
from uploads.checks import CheckStates

EDITABLE_STATES = EntryStates.EDITABLE
LIVE_STATES = EntryStates.LIVE
ATTACHMENT_KINDS = ("presentation", "document", "image", "video", "other")
MAX_FILES_PER_ENTRY = 20
TEXT_LIMITS = {"title": 200, "summary": 1500, "problem": 5000, "solution": 5000, "results": 5000,
               "technology": 3000, "contact_name": 200, "contact_phone": 32, "video_url": 500,
               "contact_email": 254}
#: A service started before this year is a typing mistake.
EARLIEST_SERVICE_YEAR = 1990

FIELDS = ("title", "category", "summary", "problem", "solution", "citizens_served", "results",
          "in_service_since", "technology", "links", "video_url", "contact_name", "contact_email",
          "contact_phone", "consent_publish")
REQUIRED_TO_SUBMIT = ("title", "category", "summary", "problem", "solution", "results", "contact_name",
                      "contact_email")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9+\-() ]{6,32}$")

# Others who may read an entry (judging registers "an assigned reviewer" here; contest never
# imports judging).
EntryViewer = Callable[[Actor, int], Awaitable[bool]]
EXTRA_VIEWERS: list[EntryViewer] = []
# Pages of an entry that other packages add (judging: the finalist's presentation slot). Each
# provider answers for many entries in one query: entry id -> [{"href", "label"}], where
# ``label`` is an English message id.
EntryLinks = Callable[[list[int]], Awaitable[dict[int, list[dict[str, str]]]]]
LINK_PROVIDERS: list[EntryLinks] = []


def register_viewer(predicate: EntryViewer) -> None:
    if predicate not in EXTRA_VIEWERS:
        EXTRA_VIEWERS.append(predicate)


def register_entry_links(provider: EntryLinks) -> None:
    if provider not in LINK_PROVIDERS:
        LINK_PROVIDERS.append(provider)


async def entry_links(entry_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Extra pages for these entries, one query per provider whatever the number of entries."""
    out: dict[int, list[dict[str, str]]] = {}
    if not entry_ids:
        return out
    for provider in LINK_PROVIDERS:
        for entry_id, links in (await provider(entry_ids)).items():
            out.setdefault(entry_id, []).extend(links)
    return out


# --- reading ------------------------------------------------------------------------------------


def entry_dict(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["links"] = stored_json(row.get("links"), [])
    return out


async def entry_row(entry_id: int) -> dict[str, Any] | None:
    """The entry's row as stored (every column), or None. Read by nearly every entry route."""
    rows = await fetch(_ENTRY_ROW, entry_id)
    return rows[0] if rows else None


_ENTRY_ROW = "SELECT * FROM entry WHERE id = {}"


async def can_view_entry(actor: Actor | None, entry: dict[str, Any]) -> bool:
    if actor is None:
        return False
    if is_organiser(actor):
        return True
    if actor.role == Role.applicant and actor.organisation_id == entry["organisation"]:
        return True
    for predicate in EXTRA_VIEWERS:
        if await predicate(actor, entry["id"]):
            return True
    return False


def is_owner(actor: Actor | None, entry: dict[str, Any]) -> bool:
    return actor is not None and actor.role == Role.applicant and actor.organisation_id == entry["organisation"]


async def owned_entry(actor: Actor, entry_id: int) -> dict[str, Any]:
    return owned(actor, await entry_row(entry_id))


def owned(actor: Actor, row: dict[str, Any] | None) -> dict[str, Any]:
    """``row``, an entry of the caller's organisation; anyone else's (or none) is not found."""
    if row is None or not is_owner(actor, row):
        refuse_pending_member(actor, row["organisation"] if row else None)
        raise NotFound("No such entry.", code="entry_not_found")
    return row


@dataclass(frozen=True)
class EntryDetail:
    entry: dict[str, Any]
    attachments: list[dict[str, Any]]
    receipts: list[dict[str, Any]]
    edition: dict[str, Any]
    organisation: dict[str, Any]
    closes_at: datetime
    editable: bool

    @property
    def unsubmitted_changes(self) -> bool:
        sub = self.entry.get("submitted_revision")
        return sub is not None and sub != self.entry["revision"] and self.entry["state"] == EntryState.submitted


async def get_entry(actor: Actor | None, entry_id: int) -> EntryDetail:
    found = await entry_with_deadline(entry_id)
    row = found[0] if found else None
    if found is None or row is None or not await can_view_entry(actor, row):
        refuse_pending_member(actor, row["organisation"] if row else None)
        raise NotFound("No such entry.", code="entry_not_found")
    return await entry_detail(actor, row, found[1], found[2])


async def entry_detail(actor: Actor | None, row: dict[str, Any], edition: dict[str, Any], closes: datetime, *,
                       organisation: dict[str, Any] | None = None, new: bool = False) -> EntryDetail:
    """:func:`get_entry` from the entry's row, its edition and its organisation's deadline as
    read a moment ago (by ``get_entry``, or by the change that wrote the row and returns it),
    for a caller who may read it. ``organisation``: its row if read already; ``new``: the entry
    was created by this request, so it has no files and no receipts yet."""
    entry_id = row["id"]
    attachments = [] if new else await fetch(LIVE_ATTACHMENTS_SQL, entry_id)
    receipts = [] if new else await fetch(_RECEIPTS, entry_id)
    org = organisation or (await fetch("SELECT * FROM organisation WHERE id = {}", row["organisation"]))[0]
    editable = row["state"] in EDITABLE_STATES and clock.now() < closes and is_owner(actor, row)
    for r in receipts:
        r["files"] = stored_json(r["files"], [])
        r["snapshot"] = stored_json(r["snapshot"], {})
    for a in attachments:
        a["check_details"] = stored_json(a["check_details"], {})
    # The state as this caller may see it: a verdict stays with the admins until publication.
    entry = visible_entry(entry_dict(row), viewer=actor, published_at=edition["published_at"])
    if not is_owner(actor, row) and not is_organiser(actor):
        # Reviewers read the innovation, not the organisation's contact person (PDPA: the minimum).
        entry.update(contact_name="", contact_email="", contact_phone="")
        for r in receipts:
            for key in ("contact_name", "contact_email", "contact_phone"):
                r["snapshot"].pop(key, None)
    return EntryDetail(entry=entry, attachments=attachments, receipts=receipts, edition=edition,
                       organisation=org, closes_at=closes, editable=editable)


#: An entry's live files, oldest first (its page, an upload's room, a submission's receipt).
LIVE_ATTACHMENTS_SQL = "SELECT * FROM attachment WHERE entry = {} AND deleted_at IS NULL ORDER BY id"
_RECEIPTS = "SELECT * FROM receipt WHERE entry = {} ORDER BY sequence DESC"


@dataclass(frozen=True)
class EntryFilters:
    """What the entry lists filter on; empty values mean "any"."""

    year: int | None = None
    state: str | None = None
    province: str | None = None
    kind: str | None = None
    category: str | None = None
    #: words typed into the list's search: an entry number, a title or an organisation's name
    q: str | None = None


# An entry number as people copy it: "123", "#123", the receipt's "DLG2569-000123" or
# "DLG2569-000123-02".
_ENTRY_NUMBER = re.compile(r"^(?:#|DLG[0-9]{4}-)?0*([0-9]{1,9})(?:-[0-9]{1,3})?$", re.IGNORECASE)
# The title in the form ``registry.match_key`` gives the words searched for: Latin in lower case,
# without Thai tone marks, spaces, zero-width characters and the punctuation people leave out,
# sara am in one form. Written in SQL so the database filters (and counts) the whole edition.
_TITLE_KEY = 'LOWER("entry"."title")'
for _dropped in ("\u0e48", "\u0e49", "\u0e4a", "\u0e4b", " ", "\u00a0", "\u200b", ".", "-", "/", ",", ":"):
    _TITLE_KEY = f"REPLACE({_TITLE_KEY}, '{_dropped}', '')"
_TITLE_KEY = f"REPLACE({_TITLE_KEY}, '\u0e4d\u0e32', '\u0e33')"
_ORGANISATION_IN = '"entry"."organisation" IN (SELECT "id" FROM "organisation" WHERE {})'


def text_search(q: str) -> tuple[str, list[Any]] | None:
    """The condition for an entry list's search box, read as the organisation search reads it
    (``registry.read_search``: abbreviated kinds, tone marks, spaces and dots ignored): every word
    found in the entry's title or its organisation's names, district, province or code; with a
    kind typed first ("อบต.สันทราย"), an organisation of that kind whose names hold the words. A
    number finds the entry of that number (or the organisation of that code). As SQL with ``{}``
    placeholders and its values; None when there is nothing to look for."""
    number = _ENTRY_NUMBER.match(q.strip())
    if number:  # a number is the entry's, or an organisation's whole registry code, never a part of one
        return ('("entry"."id" = {} OR ' + _ORGANISATION_IN.format('"code" = {}') + ")",
                [int(number.group(1)), q.strip().lstrip("#")])
    sql: list[str] = []
    args: list[Any] = []
    for reading in read_search(q):
        terms = []
        if reading.kinds:
            terms.append(_ORGANISATION_IN.format('"kind" IN (' + ", ".join("{}" for _ in reading.kinds) + ")"))
            args.extend(sorted(reading.kinds))
            for word in reading.words:
                terms.append(_ORGANISATION_IN.format('"search_text" LIKE {} ESCAPE \'\\\''))
                args.append(like_pattern(word))
        else:
            for word in reading.words:
                terms.append(f"({_TITLE_KEY} LIKE {{}} ESCAPE '\\' OR "
                             + _ORGANISATION_IN.format('"search_text" LIKE {} ESCAPE \'\\\'') + ")")
                args.extend([like_pattern(word)] * 2)
        if terms:
            sql.append("(" + " AND ".join(terms) + ")")
    if not sql:
        return None
    return "(" + " OR ".join(sql) + ")", args


#: Every read of an entry list: the entry with its edition (``ed``) and organisation (``o``).
_ENTRIES_FROM = (' FROM "entry" LEFT JOIN "edition" ed ON ed."id" = "entry"."edition"'
                 ' LEFT JOIN "organisation" o ON o."id" = "entry"."organisation"')


def _where(actor: Actor, filters: EntryFilters, *, skip: str | None = None) -> tuple[str, list[Any]]:
    """The caller's scope and the filters (all but ``skip``, for that dimension's counts), as a
    ``WHERE`` clause over ``_ENTRIES_FROM`` with ``{}`` placeholders, and its values. The text is
    made of fixed pieces only; what people typed travels as values."""
    terms: list[str] = []
    args: list[Any] = []
    if actor.role == Role.applicant:
        terms.append('"entry"."organisation" = {}')
        args.append(actor.organisation_id)
    elif not is_organiser(actor):
        raise PermissionDenied("Only organisation staff and administrators can list entries.")
    if filters.year is not None:
        terms.append('ed."year" = {}')
        args.append(filters.year)
    if filters.state and skip != "state":
        sql, values = visible_state_condition(actor, filters.state)
        terms.append(sql)
        args.extend(values)
    for name, column in (("province", 'o."province_code"'), ("kind", 'o."kind"'), ("category", '"entry"."category"')):
        value = getattr(filters, name)
        if value and skip != name:
            terms.append(f"{column} = {{}}")
            args.append(value)
    if filters.q and filters.q.strip():
        condition = text_search(filters.q)
        if condition is None:  # only punctuation typed: nothing can match
            terms.append("1 = 0")
        else:
            terms.append(condition[0])
            args.extend(condition[1])
    return (" WHERE " + " AND ".join(terms) if terms else ""), args


_LIST_SQL = ('SELECT "entry"."id", "entry"."state", "entry"."version", "entry"."revision", "entry"."title", '
             '"entry"."category", "entry"."submitted_at", "entry"."updated_at", ed."year" AS "edition.year", '
             'o."code" AS "organisation.code", o."name_th" AS "organisation.name_th", '
             'o."province_name_th" AS "organisation.province_name_th", o."kind" AS "organisation.kind", '
             '"entry"."submitted_revision", ed."published_at" AS "edition.published_at"' + _ENTRIES_FROM)


async def list_entries(actor: Actor, filters: EntryFilters = EntryFilters(), *, limit: int = 200,
                       offset: int = 0) -> list[dict[str, Any]]:
    """Applicants see their organisation's entries (with the state they may know); admins see
    all, with filters. Ordered by id; ``limit``/``offset`` page through them."""
    refuse_any_pending(actor)
    if actor.role == Role.applicant and actor.organisation_id is None:
        return []
    where, args = _where(actor, filters)
    # Kept while nothing changes (a page of the list is read again and again); each caller gets
    # rows of its own, with the state it may know.
    rows = await fetch_kept(_LIST_SQL + where + ' ORDER BY "entry"."id" LIMIT {} OFFSET {}', *args, limit, offset)
    return [{**r, "state": visible_state(r["state"], viewer=actor, published_at=r["edition.published_at"])}
            for r in rows]


async def count_matching(actor: Actor, filters: EntryFilters) -> int:
    """How many entries ``list_entries`` would list with these filters, unpaged."""
    if actor.role == Role.applicant and actor.organisation_id is None:
        return 0
    where, args = _where(actor, filters)
    rows = await fetch('SELECT count(*) AS "count"' + _ENTRIES_FROM + where, *args)
    return int(rows[0]["count"])


#: The columns of the organisers' export of an entry list (CSV codes; XLSX labels and words).
EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("entry_id", "Entry number", "The entry's stable id in this system.", "id", 10),
    Column("title", "Innovation title", "The title as the organisation typed it.", width=48),
    Column("organisation_code", "Organisation code", "The local administrative organisation's registry code.",
           width=12),
    Column("organisation_name_th", "Organisation", "The organisation's name in Thai.", width=36),
    Column("organisation_kind", "Kind of organisation", "The kind of local administrative organisation.", width=24,
           words=lambda kind: " / ".join(KIND_LABELS.get(kind, (kind, kind)))),
    Column("province_name_th", "Province", "The organisation's province, in Thai.", width=16),
    Column("category", "Category", "The category code the organisation chose (see the edition's categories).",
           width=14),
    Column("state", "State", "Where the entry stands: draft, submitted, withdrawn or a decision.", width=26,
           words=partial(both_labels, "entry_state")),
    Column("submitted_at", "Submitted at", "When the entry was last submitted (Bangkok time).", "datetime", 20),
    Column("citizens_served", "Citizens served", "How many people the service serves, as the organisation says.",
           "whole", 12),
)
EXPORT_LIMIT = 20_000  # every organisation of the registry, with room to spare


async def export_entries(actor: Actor, filters: EntryFilters) -> tuple[tuple[Column, ...], list[list[Any]]]:
    """Every entry ``list_entries`` lists with these filters (all pages), as export rows."""
    if not is_organiser(actor):
        raise PermissionDenied("Only administrators can export the entry list.")
    where, args = _where(actor, filters)
    rows = await fetch('SELECT "entry"."id", "entry"."title", o."code", o."name_th", o."kind", o."province_name_th", '
                       '"entry"."category", "entry"."state", "entry"."submitted_at", "entry"."citizens_served"'
                       + _ENTRIES_FROM + where + ' ORDER BY "entry"."id" LIMIT {}', *args, EXPORT_LIMIT)
    return EXPORT_COLUMNS, [list(r.values()) for r in rows]


@dataclass(frozen=True)
class SubmissionFigures:
    """An edition's submissions at a glance: entries submitted (whatever was decided since),
    drafts not yet submitted, and whole days until submissions close (0 on the last day, None
    once closed), counted in Bangkok."""

    submitted: int
    drafts: int
    withdrawn: int
    closes_at: datetime
    days_left: int | None


async def submission_figures(actor: Actor, year: int) -> SubmissionFigures:
    by_state = await count_entries(year=year, group_by="state", actor=actor)
    edition = await edition_row(year)
    closes = edition["submission_closes_at"]
    now = clock.now()
    days = (clock.to_bangkok(closes).date() - clock.to_bangkok(now).date()).days if now < closes else None
    return SubmissionFigures(
        submitted=sum(n for state, n in by_state.items() if state in EntryStates.APPLIED),
        drafts=by_state.get(EntryState.draft, 0), withdrawn=by_state.get(EntryState.withdrawn, 0), closes_at=closes,
        days_left=days)


COUNT_GROUPS = ("state", "province", "kind", "category")
#: The column each count groups by, in ``_ENTRIES_FROM``.
_COUNT_COLUMNS = {"state": '"entry"."state"', "province": 'o."province_code"', "kind": 'o."kind"',
                  "category": '"entry"."category"'}


async def count_entries(*, year: int, group_by: str, filters: EntryFilters | None = None,
                        actor: Actor | None = None) -> dict[str, int]:
    """Counts per state / province / kind / category for the admin list. With ``filters`` the
    counts of one dimension apply the filters on the *other* dimensions (so each table shows
    what choosing one of its values would list). Provinces are keyed by their code."""
    from contest.domain.audit import SYSTEM

    column = _COUNT_COLUMNS[group_by]
    where, args = _where(actor or SYSTEM, replace(filters or EntryFilters(), year=year), skip=group_by)
    rows = await fetch(f'SELECT {column} AS "k", count(*) AS "count"' + _ENTRIES_FROM + where + f" GROUP BY {column}",
                       *args)
    return {r["k"] or "": r["count"] for r in rows}


@dataclass(frozen=True)
class Overview:
    """The admin list's figures: how many entries the filters match, and the counts per value of
    each dimension in ``COUNT_GROUPS`` (as ``count_entries`` gives them)."""

    total: int
    counts: dict[str, dict[str, int]]


_OVERVIEW_SQL = ("SELECT " + ", ".join(f'{column} AS "{name}"' for name, column in _COUNT_COLUMNS.items())
                 + ', count(*) AS "count"' + _ENTRIES_FROM)
_OVERVIEW_GROUPS = " GROUP BY " + ", ".join(_COUNT_COLUMNS.values())


#: The same groups as ``_OVERVIEW_SQL`` from ``entry_tally``, which the database's triggers keep
#: (a missing province, kind, state or category is kept as ""; a group may have come to zero).
_TALLY_SQL = ('SELECT t."state" AS "state", t."province_code" AS "province", t."kind" AS "kind", '
              't."category" AS "category", sum(t."entries") AS "count" FROM "entry_tally" t')
_TALLY_GROUPS = ' GROUP BY t."state", t."province_code", t."kind", t."category" HAVING sum(t."entries") > 0'


def _tally_read(year: int | None) -> tuple[Any, ...]:
    """The tally's read for an edition's year (or every entry), with its values."""
    if year is None:
        return (_TALLY_SQL + _TALLY_GROUPS,)
    return (_TALLY_SQL + ' JOIN "edition" ed ON ed."id" = t."edition" WHERE ed."year" = {}' + _TALLY_GROUPS, year)


async def overview_counts(actor: Actor, filters: EntryFilters, *, tally: bool = True) -> Overview:
    """``count_matching`` and ``count_entries`` for every dimension, from one grouped read: the
    entries matching the filters that every count shares (the year, the words searched for),
    grouped by state, province, kind and category, then summed here for each dimension with the
    filters on the other dimensions. An organiser filters on the stored state, as they see it.
    Without words searched for, the groups are read from ``entry_tally`` (the same figures).
    ``tally=False`` reads them from the entries whatever the filters."""
    if not is_organiser(actor):
        raise PermissionDenied("Only administrators can see the entry overview.")
    active = {"state": filters.state, "province": filters.province, "kind": filters.kind,
              "category": filters.category}
    shared = replace(filters, state=None, province=None, kind=None, category=None)
    if not tally or (shared.q and shared.q.strip()):
        where, args = _where(actor, shared)
        rows = await fetch_kept(_OVERVIEW_SQL + where + _OVERVIEW_GROUPS, *args)  # the same until an entry changes
    else:  # only the year: the database's own tally holds these groups
        rows = await fetch_kept(*_tally_read(shared.year))
    counts: dict[str, dict[str, int]] = {name: {} for name in COUNT_GROUPS}
    total = 0
    for row in rows:
        misses = [name for name, value in active.items() if value and row[name] != value]
        if not misses:
            total += row["count"]
        for name in COUNT_GROUPS:
            if not misses or misses == [name]:
                key = row[name] or ""
                counts[name][key] = counts[name].get(key, 0) + row["count"]
    return Overview(total=total, counts=counts)


# --- validation ---------------------------------------------------------------------------------

def clean_fields(data: dict[str, Any], edition: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check and normalise the fields present in ``data`` (drafts may be incomplete)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, limit in TEXT_LIMITS.items():
        if field in data and data[field] is not None:
            value = str(data[field]).replace("\r\n", "\n").strip()
            if len(value) > limit:
                errors[field] = t("At most {n} characters (now {m}).", n=limit, m=len(value))
            out[field] = value
    _check_addresses(out, errors)
    if "category" in data and data["category"] is not None:
        value = str(data["category"]).strip()
        codes = {c["code"] for c in stored_json(edition["categories"], [])}
        if value and value not in codes:
            errors["category"] = t("Choose one of the edition's categories.")
        out["category"] = value
    for field, clean in _PARSED_FIELDS:
        if field in data:
            parsed, error = clean(data[field])
            if error is not None:
                errors[field] = error
            if parsed is not _UNSET:
                out[field] = parsed
    if "consent_publish" in data:
        raw = data["consent_publish"]
        out["consent_publish"] = raw is True or str(raw).lower() in ("1", "true", "on", "yes")
    return out, errors


def _check_addresses(out: dict[str, Any], errors: dict[str, str]) -> None:
    """The contact's email and phone, and the video's web address (completed to a full URL)."""
    if out.get("contact_email") and not EMAIL_RE.match(out["contact_email"]):
        errors["contact_email"] = t("Enter a valid email address, e.g. name@example.go.th.")
    if out.get("contact_phone") and not PHONE_RE.match(out["contact_phone"]):
        errors["contact_phone"] = t("Enter a phone number using digits, e.g. 053 123 456.")
    if out.get("video_url"):
        video = web_address(out["video_url"])
        if video is None:
            errors["video_url"] = t("Enter a web address, e.g. www.example.go.th or https://www.example.go.th/video.")
        else:
            out["video_url"] = video


#: A cleaner's "nothing to store" (the field keeps its stored value).
_UNSET: Any = object()


def _clean_citizens_served(raw: Any) -> tuple[Any, str | None]:
    if raw in (None, ""):
        return None, None
    number = whole_number(raw) if isinstance(raw, (int, str)) else None
    if number is None or not 0 <= number <= 100_000_000:
        return _UNSET, t("Enter a whole number of people from 0 to 100,000,000, e.g. 12,000 or ๑๒,๐๐๐.")
    return number, None


def _clean_in_service_since(raw: Any) -> tuple[Any, str | None]:
    if raw in (None, ""):
        return None, None
    try:
        started: date = raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
        future = dates.not_after(started, clock.to_bangkok(clock.now()).date(), "In service since")
    except (TypeError, ValueError):
        return _UNSET, t("Enter the date the service started, e.g. 2024-06-01.")
    if future:
        return started, future
    if started.year < EARLIEST_SERVICE_YEAR:
        return started, t("Enter the date the service started, e.g. 2024-06-01.")
    return started, None


def _clean_links(raw: Any) -> tuple[list[str], str | None]:
    """One web address a line (or a list), at most ten, each completed to a full URL."""
    error = None
    if raw in (None, ""):
        links: list[str] = []
    elif isinstance(raw, str):
        links = [x.strip() for x in raw.splitlines() if x.strip()]
    elif isinstance(raw, list):
        links = [str(x).strip() for x in raw if str(x).strip()]
    else:
        links = []
        error = t("Links must be a list of web addresses.")
    full = [web_address(x) for x in links]
    if len(links) > 10:
        return links, t("At most 10 links.")
    if bad := [x for x, f in zip(links, full, strict=True) if f is None]:
        return links, t("Each link must be a web address, e.g. www.example.go.th or "
                        "https://www.example.go.th/service. Not one: {links}", links=", ".join(bad))
    return [f for f in full if f is not None], error


_PARSED_FIELDS: tuple[tuple[str, Callable[[Any], tuple[Any, str | None]]], ...] = (
    ("citizens_served", _clean_citizens_served),
    ("in_service_since", _clean_in_service_since),
    ("links", _clean_links),
)


def unknown_field_errors(data: dict[str, Any]) -> dict[str, str]:
    """A field this API does not have is an error, on create as on update: silently dropping
    it would let a client believe it was saved."""
    return {k: t("Unknown field. The fields of an entry are: {fields}.", fields=", ".join(FIELDS))
            for k in sorted(set(data) - set(FIELDS), key=str)}


def parse_version(value: Any) -> tuple[int | None, dict[str, str]]:
    """The ``version`` the editor loaded: a whole number (JSON number or digits)."""
    if value is None or value == "":
        return None, {"version": t("The entry's version is required to save.")}
    number = whole_number(value)
    if number is not None and number >= 0:
        return number, {}
    return None, {"version": t("The version must be the whole number you loaded with the entry, e.g. 3.")}


def missing_for_submission(entry: dict[str, Any], attachments: list[dict[str, Any]]) -> dict[str, str]:
    problems = {f: t("Required before submitting.") for f in REQUIRED_TO_SUBMIT if not entry.get(f)}
    if not attachments:
        problems["attachments"] = t("Attach at least one file (for example a presentation in PDF).")
    bad = [a["name"] for a in attachments if a["check_state"] in CheckStates.REFUSED]
    if bad:
        problems["attachments"] = t("These files failed the checks; remove or replace them: {names}",
                                    names=", ".join(bad))
    return problems


# --- state changes ------------------------------------------------------------------------------

def deadline_error(closes: datetime) -> Conflict:
    return Conflict("The deadline passed on {closed}. The entry can no longer change.", code="deadline_passed",
                    closed=format_date(closes), closed_at=closes.isoformat())


async def require_open(edition: dict[str, Any], organisation_id: int, known: datetime | None = None) -> datetime:
    """The organisation's deadline, if the edition takes changes from it right now. ``known``:
    its deadline as read earlier in the request (``extensions.edition_with_deadline``). A deadline
    only ever moves later (an extension is granted, never taken back), so one still ahead holds
    without reading it again; one that has passed is read again (an extension may have come since)."""
    if edition["state"] == EditionState.draft:
        raise NotFound("No such edition.")
    closes = known if known is not None and clock.now() < known else await deadline_for(edition, organisation_id)
    if edition["state"] != EditionState.open or clock.now() >= closes:
        raise deadline_error(closes)
    if clock.now() < edition["submission_opens_at"]:
        raise Conflict("Submissions open on {opens}.", code="not_open_yet",
                       opens=format_date(edition["submission_opens_at"]))
    return closes


def not_editable(actor: Actor, state: str, published_at: datetime | None = None,
                  message: str = "This entry can no longer be edited (it is {state}).") -> Conflict:
    """``state`` as the caller may see it (``visible_state``): an error names no verdict either."""
    return Conflict(message, code="not_editable", state=visible_state(state, viewer=actor, published_at=published_at))


# --- attachments --------------------------------------------------------------------------------


# --- admin ---------------------------------------------------------------------------------------


async def entry_history(actor: Actor, entry_id: int) -> dict[str, Any]:
    """The entry with its audit events, and the deadline extensions granted to its organisation
    in its edition (recorded against the organisation, but part of this entry's story)."""
    if not is_organiser(actor):
        raise NotFound("No such entry.")
    from contest.tables import AuditEvent

    detail = await get_entry(actor, entry_id)
    year = detail.edition["year"]
    entry_events = (AuditEvent.subject_type == "entry") & (AuditEvent.subject_id == str(entry_id))
    extensions = ((AuditEvent.subject_type == "organisation")
                  & (AuditEvent.subject_id == str(detail.organisation["code"]))
                  & (AuditEvent.action == "deadline.extend"))
    events = []
    for e in await AuditEvent.select().where(entry_events | extensions).order_by(AuditEvent.seq):
        if e["subject_type"] == "organisation" and stored_json(e["after"], {}).get("edition") != year:
            continue  # another edition's extension
        events.append(e)
    return {"detail": detail, "events": events}
