"""States and kinds: the vocabulary the rest of the code shares."""

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    reviewer = "reviewer"
    applicant = "applicant"


class OrganisationKind(StrEnum):
    pao = "pao"
    city_municipality = "city_municipality"
    town_municipality = "town_municipality"
    subdistrict_municipality = "subdistrict_municipality"
    sao = "sao"
    bangkok = "bangkok"
    pattaya = "pattaya"


class EditionState(StrEnum):
    draft = "draft"          # being prepared, not public
    open = "open"            # public: the call; submissions follow the timeline
    screening = "screening"  # screening opened: submission rules frozen
    final = "final"
    announced = "announced"


class TokenPurpose(StrEnum):
    confirm_email = "confirm_email"
    reset_password = "reset_password"


class AuthTokenKind(StrEnum):
    session = "session"
    api = "api"


class OutboxState(StrEnum):
    pending = "pending"
    done = "done"
    failed = "failed"
