"""Editions: one contest year (Buddhist Era), its timeline, limits and categories."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contest import clock
from contest.db import atomic, fetch, stored_json
from contest.domain import proposals
from contest.domain.audit import Actor, append_event
from contest.enums import EditionState, EntryStates
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import t
from contest.numbers import whole_number
from contest.rules import can_manage_editions
from contest.tables import Edition, Entry

DEFAULT_CATEGORIES = [
    {"code": "service", "name_th": "บริการประชาชน", "name_en": "Citizen services"},
    {"code": "management", "name_th": "การบริหารจัดการภายใน", "name_en": "Internal management"},
    {"code": "participation", "name_th": "การมีส่วนร่วมของประชาชน", "name_en": "Citizen participation"},
    {"code": "data", "name_th": "ข้อมูลและเมืองอัจฉริยะ", "name_en": "Data and smart city"},
]

TIME_FIELDS = ("submission_opens_at", "submission_closes_at", "screening_closes_at",
               "final_closes_at", "announcement_at")
REQUIRED_TIMES = ("submission_opens_at", "submission_closes_at", "announcement_at")
INT_FIELDS = ("entries_per_organisation", "shortlist_size", "winners", "max_file_bytes", "max_entry_bytes",
              "attachment_retention_years", "appeal_days")
#: Personal data retention, not a rule of the contest: it may change after publication too.
RETENTION_FIELDS = ("attachment_retention_years",)
TEXT_FIELDS = ("title", "title_en", "description")
# Frozen once screening opens: changing them would change who competes and for what.
FROZEN_AFTER_SCREENING = ("submission_opens_at", "submission_closes_at", "entries_per_organisation",
                          "shortlist_size", "winners", "max_file_bytes", "max_entry_bytes", "categories")
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
LIMITS = {
    "entries_per_organisation": (1, 20),
    "shortlist_size": (1, 500),
    "winners": (1, 20),
    "max_file_bytes": (1024, 2 * 1024**3),
    "max_entry_bytes": (1024, 10 * 1024**3),
    "attachment_retention_years": (1, 20),
    "appeal_days": (1, 90),
}


@dataclass(frozen=True)
class EditionView:
    """What the outside may read of an edition."""

    id: int
    year: int
    title: str
    title_en: str
    description: str
    state: str
    submission_opens_at: datetime
    submission_closes_at: datetime
    screening_closes_at: datetime | None
    final_closes_at: datetime | None
    announcement_at: datetime
    entries_per_organisation: int
    shortlist_size: int
    winners: int
    max_file_bytes: int
    max_entry_bytes: int
    categories: list[dict[str, str]]
    published_at: datetime | None
    #: Years after publication until the files of entries that were not shortlisted are deleted.
    attachment_retention_years: int = 2
    #: Days after publication during which an organisation may appeal its entry's outcome.
    appeal_days: int = 15

    @property
    def accepting_submissions(self) -> bool:
        now = clock.now()
        return (self.state == EditionState.open
                and self.submission_opens_at <= now < self.submission_closes_at)

    @property
    def phase(self) -> str:
        """Where the edition is on its timeline, for people: drives the home page."""
        now = clock.now()
        if self.published_at:
            return "announced"
        if self.state in (EditionState.screening, EditionState.final):
            return "judging"
        if now < self.submission_opens_at:
            return "upcoming"
        if now < self.submission_closes_at:
            return "submission"
        return "judging"


def _view(row: dict[str, Any]) -> EditionView:
    return EditionView(**{k: row[k] for k in EditionView.__dataclass_fields__ if k != "categories"},
                       categories=list(stored_json(row["categories"], []) or []))


def _parse_time(value: Any, field: str, errors: dict[str, str]) -> datetime | None:
    if value is None or value == "":
        return None
    parsed = clock.parse_time(value)
    if parsed is None:
        errors[field] = t("Enter a date and time such as 2026-12-31T16:30:00+07:00.")
    return parsed


def _clean(data: dict[str, Any], *, partial: bool) -> tuple[dict[str, Any], dict[str, str]]:  # noqa: C901 - one short branch per field of the edition form; together they are its rules
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field in TEXT_FIELDS:
        if field in data and data[field] is not None:
            value = str(data[field]).strip()
            if field == "title" and not value:
                errors["title"] = t("Enter a title.")
            out[field] = value[:255] if field != "description" else value[:5000]
    for field in TIME_FIELDS:
        if field in data:
            out[field] = _parse_time(data[field], field, errors)
            if out[field] is None and field in REQUIRED_TIMES:  # only the optional dates can be cleared
                errors.setdefault(field, t("This field is required."))
    for field in INT_FIELDS:
        if field in data and data[field] is not None:
            number = whole_number(data[field])
            if number is None:
                errors[field] = t("Enter a whole number, e.g. 40, 1,000 or ๔๐.")
                continue
            low, high = LIMITS[field]
            if not low <= number <= high:
                errors[field] = t("Must be between {low} and {high}.", low=low, high=high)
            out[field] = number
    if "categories" in data and data["categories"] is not None:
        cats = data["categories"]
        seen: set[str] = set()
        clean: list[dict[str, str]] = []
        if not isinstance(cats, list):
            errors["categories"] = t("Categories must be a list of {code, name_th, name_en}.")
        else:
            for cat in cats:
                code = str((cat or {}).get("code", "")).strip() if isinstance(cat, dict) else ""
                name_th = str(cat.get("name_th", "")).strip() if isinstance(cat, dict) else ""
                if not CODE_RE.match(code) or not name_th or code in seen:
                    errors["categories"] = t("Each category needs a unique code (a-z, 0-9) and a Thai name.")
                    break
                seen.add(code)
                clean.append({"code": code, "name_th": name_th[:120],
                              "name_en": str(cat.get("name_en", "")).strip()[:120]})
        out["categories"] = clean
    if not partial:
        for field in ("title", "submission_opens_at", "submission_closes_at", "announcement_at"):
            if out.get(field) in (None, ""):
                errors.setdefault(field, t("This field is required."))
    return out, errors


def _check_timeline(values: dict[str, Any], errors: dict[str, str]) -> None:
    opens, closes = values.get("submission_opens_at"), values.get("submission_closes_at")
    announce = values.get("announcement_at")
    if opens and closes and closes <= opens:
        errors["submission_closes_at"] = t("The deadline must be after submissions open.")
    if closes and announce and announce <= closes:
        errors["announcement_at"] = t("The announcement must be after the submission deadline.")
    for field in ("screening_closes_at", "final_closes_at"):
        if values.get(field) and closes and values[field] <= closes:
            errors[field] = t("This date must be after the submission deadline.")
    if values.get("max_file_bytes") and values.get("max_entry_bytes") and \
            values["max_file_bytes"] > values["max_entry_bytes"]:
        errors["max_file_bytes"] = t("The per-file limit cannot exceed the per-entry limit.")


async def create_edition(*, actor: Actor, data: dict[str, Any]) -> EditionView:
    """Create an edition (admin). It starts ``open`` unless ``state`` says ``draft``."""
    if not can_manage_editions(actor):
        raise PermissionDenied("Only administrators can manage editions.")
    errors: dict[str, str] = {}
    year = whole_number(data.get("year")) or 0  # "2569", "๒๕๖๙"
    if not 2500 <= year <= 2700:
        errors["year"] = t("Enter the year in the Buddhist Era, e.g. 2569.")
    values, more = _clean(data, partial=False)
    errors.update(more)
    values.setdefault("categories", DEFAULT_CATEGORIES)
    defaults = {k: Edition._meta.get_column_by_name(k).default for k in INT_FIELDS}
    _check_timeline({**defaults, **values}, errors)
    state = data.get("state") or EditionState.open
    if state not in (EditionState.draft, EditionState.open):
        errors["state"] = t("A new edition is either draft or open.")
    if errors:
        raise ValidationFailed(errors=errors)
    async with atomic():
        if await Edition.exists().where(Edition.year == year):
            raise Conflict("An edition for this year already exists.", code="edition_exists", field="year")
        rows = await Edition.insert(Edition(year=year, state=state, **values)).returning(*Edition.all_columns())
        row = rows[0]
        await append_event(actor=actor, action="edition.create", subject_type="edition", subject_id=year,
                           after=_audit_view(row))
    return _view(row)


def _audit_view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (clock.utc_iso(v) if isinstance(v, datetime) else v) for k, v in row.items()
            if k not in ("id", "created_at", "updated_at")}


async def update_edition(*, actor: Actor, year: int, data: dict[str, Any]) -> EditionView:
    """Change an edition. Submission rules freeze once screening opens; the announcement time may
    change until publication."""
    if not can_manage_editions(actor):
        raise PermissionDenied("Only administrators can manage editions.")
    values, errors = _clean(data, partial=True)
    await _four_eyes_on_announcement(actor, year, values, errors)
    if "state" in data and data["state"] is not None:
        if data["state"] not in (EditionState.draft, EditionState.open):
            errors["state"] = t("Only draft or open can be set here; later states follow the judging.")
        else:
            values["state"] = data["state"]
    async with atomic():
        row = await edition_row(year)
        if row["published_at"] is not None and set(values) - set(RETENTION_FIELDS):
            raise Conflict("Results are published: this edition can no longer change.", code="edition_published")
        if row["state"] not in (EditionState.draft, EditionState.open):
            frozen = [f for f in FROZEN_AFTER_SCREENING if f in values and values[f] != row[f]]
            if frozen or "state" in values:
                raise Conflict("Screening has opened: submission dates, limits and award counts are frozen.",
                               code="frozen", fields=", ".join(frozen))
        closes = values.get("submission_closes_at")
        if closes is not None and closes != row["submission_closes_at"] and closes > clock.now():
            decided = await Entry.count().where((Entry.edition == row["id"])
                                                & Entry.state.is_in(list(EntryStates.ELIGIBILITY_DECIDED)))
            if decided:
                # Reopening submissions would leave those organisations unable to edit (their
                # entries are judged) while others could: extend per organisation instead.
                raise Conflict("{n} entries already have their eligibility decided: the edition's deadline can no "
                               "longer move later. Extend the deadline of one organisation instead (its entries "
                               "go back to submitted).", code="eligibility_decided", n=decided)
        merged = {**row, **values}
        _check_timeline(merged, errors)
        if errors:
            raise ValidationFailed(errors=errors)
        changed = {k: v for k, v in values.items() if row.get(k) != v}
        if changed:
            update: dict[Any, Any] = {**changed, "updated_at": clock.now()}
            await Edition.update(update).where(Edition.id == row["id"])
            await append_event(actor=actor, action="edition.update", subject_type="edition", subject_id=year,
                               before=_audit_view({k: row[k] for k in changed}),
                               after=_audit_view(changed))
        row = await edition_by_id(row["id"])
    return _view(row)


async def _four_eyes_on_announcement(actor: Actor, year: int, values: dict[str, Any], errors: dict[str, str]) -> None:
    """After screening opened, a new announcement time is proposed by one administrator and set
    when another approves, so nobody can move it into the past and publish alone."""
    when = values.get("announcement_at")
    if when is None or errors or not proposals.needs_second_admin(actor):
        return
    row = await Edition.select().where(Edition.year == year).first()
    if row is None or row["state"] in (EditionState.draft, EditionState.open) or row["published_at"] is not None:
        return
    if when == row["announcement_at"]:
        return
    probe: dict[str, str] = {}
    _check_timeline({**row, **values}, probe)
    if probe:
        raise ValidationFailed(errors=probe)
    async with atomic():
        pending_id = await proposals.propose(actor, proposals.MOVE_ANNOUNCEMENT, {
            "year": year, "announcement_at": clock.utc_iso(when), "from": clock.utc_iso(row["announcement_at"])})
    raise proposals.Proposed(pending_id)


async def move_announcement_approved(*, actor: Actor, year: int, announcement_at: datetime) -> None:
    """Inside the approver's transaction: set the announcement time another admin proposed."""
    row = await edition_row(year)
    if row["published_at"] is not None:
        raise Conflict("Results are published: this edition can no longer change.", code="edition_published")
    errors: dict[str, str] = {}
    _check_timeline({**row, "announcement_at": announcement_at}, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    await Edition.update({Edition.announcement_at: announcement_at, Edition.updated_at: clock.now()}).where(
        Edition.id == row["id"])
    await append_event(actor=actor, action="edition.update", subject_type="edition", subject_id=year,
                       before={"announcement_at": clock.utc_iso(row["announcement_at"])},
                       after={"announcement_at": clock.utc_iso(announcement_at), "four_eyes": True})


async def edition_row(year: int) -> dict[str, Any]:
    """The edition of ``year`` as stored, drafts included. An unknown year is ``NotFound``."""
    rows = await fetch("SELECT * FROM edition WHERE year = {}", year)
    if not rows:
        raise NotFound("No such edition.")
    return rows[0]


async def edition_by_id(edition_id: int) -> dict[str, Any]:
    """The edition an entry or round belongs to, as stored (a row that must exist)."""
    rows = await fetch("SELECT * FROM edition WHERE id = {}", edition_id)
    if not rows:
        raise LookupError("a row that must exist is missing")
    return rows[0]


def edition_view(row: dict[str, Any]) -> EditionView:
    """The view of a stored edition row (``Edition.select()``)."""
    return _view(row)


async def get_edition(year: int, *, include_draft: bool = False) -> EditionView:
    row = await edition_row(year)
    if row["state"] == EditionState.draft and not include_draft:
        raise NotFound("No such edition.")
    return _view(row)


async def list_editions(*, include_draft: bool = False) -> list[EditionView]:
    query = Edition.select().order_by(Edition.year, ascending=False)
    if not include_draft:
        query = query.where(Edition.state != EditionState.draft)
    return [_view(r) for r in await query]


async def current_edition() -> EditionView | None:
    """The edition the home page shows: the newest one that is not a draft."""
    editions = await list_editions()
    return editions[0] if editions else None
