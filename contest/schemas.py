"""Request and response shapes of the JSON API (see shared/API.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contest.domain.editions import EditionView


@dataclass
class TokenRequest:
    email: str
    password: str


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

    @classmethod
    def of(cls, view: EditionView) -> "EditionRead":
        return cls(
            year=view.year, title=view.title, title_en=view.title_en, state=view.state,
            submission_opens_at=view.submission_opens_at, submission_closes_at=view.submission_closes_at,
            screening_closes_at=view.screening_closes_at, final_closes_at=view.final_closes_at,
            announcement_at=view.announcement_at, entries_per_organisation=view.entries_per_organisation,
            shortlist_size=view.shortlist_size, winners=view.winners, max_file_bytes=view.max_file_bytes,
            max_entry_bytes=view.max_entry_bytes,
            categories=[Category(**c) for c in view.categories],
            accepting_submissions=view.accepting_submissions, published_at=view.published_at,
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


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    rejected: list[dict[str, Any]] = field(default_factory=list)
