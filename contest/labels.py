"""The words people read for the codes the system stores: entry and edition states, roles,
outcomes. The codes stay in the database, the API and the CSV files programs read; pages and
spreadsheets show these labels (message ids are English, translated when shown).

A leaf module: pages, exports and mails all take their words from here.
"""

from __future__ import annotations

from typing import Final

from contest.i18n import t

ENTRY_STATES: Final = {
    "draft": "Draft", "submitted": "Submitted", "withdrawn": "Withdrawn", "eligible": "Eligible",
    "ineligible": "Not eligible", "shortlisted": "Shortlisted", "not_shortlisted": "Not shortlisted",
    "finalist": "Finalist", "winner": "Winner",
}
EDITION_STATES: Final = {
    "draft": "Draft", "open": "Open for submissions", "screening": "Screening", "final": "Final judging",
    "announced": "Announced",
}
ROLES: Final = {"admin": "Administrator", "reviewer": "Committee member", "applicant": "Organisation staff"}
ROUND_STATES: Final = {"draft": "Draft", "open": "Open for scoring", "closed": "Scoring closed",
                       "signed": "Signed (final)"}

PENDING_ACTION_STATES: Final = {"pending": "Waiting for approval", "approved": "Approved by a second administrator",
                                "rejected": "Not approved"}

VOCABULARIES: Final = {"entry_state": ENTRY_STATES, "edition_state": EDITION_STATES, "role": ROLES,
                       "round_state": ROUND_STATES, "outcome": ENTRY_STATES,
                       "pending_action_state": PENDING_ACTION_STATES}


def code_label(vocabulary: str, code: str | None, language: str | None = None) -> str:
    """A code of ``vocabulary`` as people read it, in ``language`` (the caller's by default);
    an unknown code as it is, an empty one as empty."""
    if not code:
        return ""
    message = VOCABULARIES[vocabulary].get(code)
    return t(message, language) if message else code


def both_labels(vocabulary: str, code: str | None) -> str:
    """Thai, then English ("ผ่านเข้ารอบ / Shortlisted"): for spreadsheets read in either language."""
    th, en = code_label(vocabulary, code, "th"), code_label(vocabulary, code, "en")
    return th if th == en else f"{th} / {en}"


__all__ = ["ENTRY_STATES", "EDITION_STATES", "ROLES", "ROUND_STATES", "PENDING_ACTION_STATES", "VOCABULARIES",
           "code_label", "both_labels"]
