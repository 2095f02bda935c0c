"""Request and response shapes of the JSON API (see shared/API.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from contest.domain.editions import EditionView


@dataclass
class TokenRequest:
    email: str
    password: str
    otp: str | None = None  # the 6-digit code (or a recovery code) when the account has two-factor


@dataclass
class TokenRead:
    token: str
    expires_at: datetime
    token_type: str = "bearer"


@dataclass
class Category:
    code: str
    name_th: str
    name_en: str = ""


@dataclass
class EditionRead:
    year: int
    title: str
    title_en: str
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
    categories: list[Category]
    accepting_submissions: bool
    published_at: datetime | None
    attachment_retention_years: int = 2
    appeal_days: int = 15

    @classmethod
    def of(cls, view: EditionView) -> EditionRead:
        return cls(
            year=view.year, title=view.title, title_en=view.title_en, state=view.state,
            submission_opens_at=view.submission_opens_at, submission_closes_at=view.submission_closes_at,
            screening_closes_at=view.screening_closes_at, final_closes_at=view.final_closes_at,
            announcement_at=view.announcement_at, entries_per_organisation=view.entries_per_organisation,
            shortlist_size=view.shortlist_size, winners=view.winners, max_file_bytes=view.max_file_bytes,
            max_entry_bytes=view.max_entry_bytes,
            categories=[Category(**c) for c in view.categories],
            accepting_submissions=view.accepting_submissions, published_at=view.published_at,
            attachment_retention_years=view.attachment_retention_years, appeal_days=view.appeal_days,
        )


@dataclass
class EditionCreate:
    year: int
    title: str
    submission_opens_at: datetime
    submission_closes_at: datetime
    announcement_at: datetime
    title_en: str = ""
    description: str = ""
    screening_closes_at: datetime | None = None
    final_closes_at: datetime | None = None
    entries_per_organisation: int = 1
    shortlist_size: int = 40
    winners: int = 1
    max_file_bytes: int = 100 * 1024 * 1024
    max_entry_bytes: int = 300 * 1024 * 1024
    categories: list[Category] | None = None
    state: str = "open"
    attachment_retention_years: int = 2
    appeal_days: int = 15


@dataclass
class OrganisationRead:
    code: str
    name_th: str
    name_en: str
    kind: str
    province_code: str
    province_name_th: str
    district_name_th: str
    region: str = ""


@dataclass
class OrganisationPageRead:
    items: list[OrganisationRead]
    total: int
    page: int
    per_page: int


@dataclass
class UserRead:
    id: int
    email: str
    name: str
    role: str
    organisation_code: str | None
    email_confirmed: bool
    is_active: bool


@dataclass
class UserCreate:
    email: str
    password: str
    role: str
    name: str = ""
    organisation_code: str | None = None


# --- bodies the domain reads itself, and answers built as plain objects --------------------------
#
# The handlers take these bodies as JSON objects and the domain checks each field (a wrong value
# is its 422 with the field's name), so these Structs only *describe* them in the OpenAPI
# document (contest/openapi.py); likewise the answers some handlers build as plain objects.

Url = Annotated[str, msgspec.Meta(max_length=500, description="An http:// or https:// address.")]


def _d(description: str, **meta: Any) -> msgspec.Meta:
    return msgspec.Meta(description=description, **meta)


class EditionUpdate(msgspec.Struct, kw_only=True):
    """Any of an edition's fields; a field left out (or null) keeps its value. Submission dates,
    limits, `shortlist_size`, `winners` and `categories` freeze when screening opens (409
    `frozen`); the announcement time may change until publication."""

    title: Annotated[str | None, _d("At most 255 characters.")] = None
    title_en: str | None = None
    description: Annotated[str | None, _d("At most 5000 characters.")] = None
    submission_opens_at: Annotated[datetime | None, _d("ISO 8601; without an offset it is Bangkok time.")] = None
    submission_closes_at: datetime | None = None
    screening_closes_at: datetime | None = None
    final_closes_at: datetime | None = None
    announcement_at: datetime | None = None
    entries_per_organisation: Annotated[int | None, _d("1 to 20.")] = None
    shortlist_size: Annotated[int | None, _d("1 to 500.")] = None
    winners: Annotated[int | None, _d("1 to 20.")] = None
    max_file_bytes: Annotated[int | None, _d("1024 to 2 GiB, at most max_entry_bytes.")] = None
    max_entry_bytes: Annotated[int | None, _d("1024 to 10 GiB.")] = None
    categories: Annotated[list[CategoryIn] | None, _d("The whole list, replacing the current one.")] = None
    state: Annotated[Literal["draft", "open"] | None, _d("Later states follow the judging.")] = None
    attachment_retention_years: Annotated[int | None, _d(
        "1 to 20: the files of entries that were not shortlisted are deleted this many years after "
        "publication. May change after publication.")] = None
    appeal_days: Annotated[int | None, _d(
        "1 to 90 (default 15): the days after publication during which an organisation may appeal an "
        "ineligible or not-shortlisted entry. Fixed once the results are published.")] = None


class CategoryIn(msgspec.Struct, kw_only=True):
    code: Annotated[str, _d("a-z, 0-9, _ or -; unique in the edition.", pattern="^[a-z0-9][a-z0-9_-]{0,31}$")]
    name_th: str
    name_en: str = ""


class EntryFields(msgspec.Struct, kw_only=True):
    """An entry's fields, each optional while it is a draft (submitting checks completeness);
    a field this API does not have is a 422 naming it."""

    title: Annotated[str | None, _d("At most 200 characters.", )] = None
    category: Annotated[str | None, _d("One of the edition's category codes.")] = None
    summary: Annotated[str | None, _d("At most 1500 characters.")] = None
    problem: Annotated[str | None, _d("At most 5000 characters.")] = None
    solution: Annotated[str | None, _d("At most 5000 characters.")] = None
    citizens_served: Annotated[int | str | None, _d("People served, 0 to 100,000,000 (digits, commas allowed).")] = None
    results: Annotated[str | None, _d("At most 5000 characters.")] = None
    in_service_since: Annotated[date | None, _d("The date the service started (not in the future).")] = None
    technology: Annotated[str | None, _d("At most 3000 characters.")] = None
    links: Annotated[list[Url] | str | None, _d("At most 10 web addresses (or one a line).")] = None
    video_url: Url | None = None
    contact_name: Annotated[str | None, _d("At most 200 characters.")] = None
    contact_email: Annotated[str | None, _d("An e-mail address.")] = None
    contact_phone: Annotated[str | None, _d("Digits, spaces, + - ( ), 6 to 32 characters.")] = None
    consent_publish: Annotated[bool | None, _d("May the showcase publish the entry if it wins?")] = None


class EntryUpdate(EntryFields, kw_only=True):
    version: Annotated[int | str, _d("The version you loaded; 409 `stale_version` when it changed.")]


class ExtensionIn(msgspec.Struct, kw_only=True):
    organisation_code: Annotated[str, _d("The organisation given more time.")]
    until: Annotated[datetime, _d("The new deadline, ISO 8601; without an offset it is Bangkok time.")]
    reason: Annotated[str, _d("Recorded in the audit trail.")]


class DeletedRead(msgspec.Struct, kw_only=True):
    id: int
    deleted: bool


class StateRead(msgspec.Struct, kw_only=True):
    state: str


class PublishRead(msgspec.Struct, kw_only=True):
    year: int
    published_at: datetime
    snapshot_sha256: str
    winners: Annotated[int, _d("How many winners the snapshot holds.")]
    awarded: Annotated[int, _d("How many awarded entries it holds.")]


class ProgressRead(msgspec.Struct, kw_only=True):
    total: int
    pending: int
    done: int
    failed: int


class ResultItem(msgspec.Struct, kw_only=True):
    entry_id: int
    title: str
    organisation_code: str
    organisation_name_th: str
    province_name_th: str | None
    award: str
    organisation_kind: str | None
    region: str | None
    province_code: str | None
    showcase_url: str


class Correction(msgspec.Struct, kw_only=True):
    """A correction of published results, recorded in the snapshot that made it."""

    at: str
    appeal_id: int
    entry_id: int
    award: str
    previous_sha256: Annotated[str, _d("The SHA-256 of the snapshot this one replaced.")]
    note_th: str
    note_en: str


class ResultsRead(msgspec.Struct, kw_only=True):
    year: int
    published_at: datetime
    snapshot_sha256: str
    title: str
    licence: dict[str, Any]
    winners: list[ResultItem]
    awarded: list[ResultItem]
    corrections: Annotated[list[Correction], _d(
        "Corrections since publication (an upheld appeal), oldest first; each names the snapshot it "
        "replaced.")] = []


class OpenDataRead(msgspec.Struct, kw_only=True):
    year: int
    title: str
    published_at: str
    snapshot_sha256: str
    licence: dict[str, Any]
    data_dictionary: dict[str, str]
    records: list[dict[str, Any]]
    corrections: list[Correction] = []


class CertificateLink(msgspec.Struct, kw_only=True):
    award: str
    number: str
    verify_path: str


class EntryResultRead(msgspec.Struct, kw_only=True):
    """An organisation's own result after publication."""

    entry_id: int
    title: str
    year: int
    edition_title: str
    organisation_name_th: str
    province_name_th: str | None
    state: str
    award: str | None
    awards: list[str]
    awarded: bool
    winner: bool
    certificates: list[CertificateLink]
    ineligible_reason: str
    feedback: dict[str, Any]
    published_at: datetime
    snapshot_sha256: str


class CertificateRead(msgspec.Struct, kw_only=True):
    """A certificate checked by its number, as the published snapshot records it."""

    number: str
    award: str
    year: int
    edition_title: str
    entry_id: int
    title: str
    organisation_name_th: str
    province_name_th: str | None
    published_at: datetime
    snapshot_sha256: str
