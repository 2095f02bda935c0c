"""The judging API's request bodies and the answers it builds as plain objects, described for
the OpenAPI document (``/schema``).

The handlers still take the JSON object as it comes (``dict[str, Any]``) and the domain checks
it, so a wrong value gets the domain's 422 with the field and a Thai-first message rather than
a generic 400 from the framework. These msgspec Structs only *describe* what is accepted and
answered: ``contest.openapi.api(body=..., reply=...)`` puts their JSON schemas (inlined) into
the handler's operation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from contest.numbers import MAX_DB_INTEGER

Text = Annotated[str, msgspec.Meta(max_length=2000)]


def _d(description: str, **meta: Any) -> msgspec.Meta:
    return msgspec.Meta(description=description, **meta)


class CriterionIn(msgspec.Struct, kw_only=True):
    code: Annotated[str, _d("Lower-case letters, digits or _, starting with a letter; unique in the rubric.",
                            pattern="^[a-z][a-z0-9_]{0,31}$")]
    name_th: Annotated[str, _d("The criterion's Thai name (at most 255 characters).", max_length=255)]
    name_en: Annotated[str, _d("The English name.", max_length=255)] = ""
    description_th: str = ""
    description_en: str = ""
    weight: Annotated[float, _d("Relative weight, above 0 and at most 1000.", gt=0, le=1000)] = 1
    min: Annotated[float, _d("The lowest score.")] = 0
    max: Annotated[float, _d("The highest score (above min).")] = 10


class RoundRules(msgspec.Struct, kw_only=True):
    criteria: Annotated[list[CriterionIn] | None,
                        _d("The rubric (at most 20 criteria); left out: DGA's default six themes.")] = None
    reviewers_per_entry: Annotated[int, _d("Screening: distinct reviewers per entry. Ignored in a final round, "
                                           "where every member scores every finalist.", ge=1, le=15)] = 3
    normalisation: Annotated[Literal["none", "zscore"], _d("Per-reviewer normalisation.")] = "none"
    tie_break: Annotated[list[str] | None, _d("Criterion codes, in order, that separate equal scores; left out "
                                              "with the default rubric: its own chain.")] = None
    exclude_same_province: Annotated[bool, _d("Screening only: never give a member entries from their own "
                                              "province.")] = False
    seed: Annotated[Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None,
                    _d("Assignment seed (random when left out).")] = None


class RoundCreate(RoundRules, kw_only=True):
    kind: Annotated[Literal["screening", "final"], _d("One round of each kind per edition.")]


class RoundUpdate(msgspec.Struct, kw_only=True):
    """Any of the rules; a field left out (or null) keeps its value (a draft round only). No
    defaults here: a client that filled them in would reset rules it never meant to touch."""

    criteria: Annotated[list[CriterionIn] | None, _d("The whole rubric, replacing the current one.")] = None
    reviewers_per_entry: Annotated[int | None, _d("Screening: distinct reviewers per entry.")] = None
    normalisation: Annotated[Literal["none", "zscore"] | None, _d("Per-reviewer normalisation.")] = None
    tie_break: Annotated[list[str] | None, _d("Criterion codes, in order, that separate equal scores.")] = None
    exclude_same_province: Annotated[bool | None, _d("Screening only: the same-province rule.")] = None
    seed: Annotated[Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None, _d("Assignment seed.")] = None


class EligibilityIn(msgspec.Struct, kw_only=True):
    eligible: bool
    reason: Annotated[Text, _d("Shown to the organisation; required when not eligible.")] = ""


Id = Annotated[int, msgspec.Meta(ge=0, le=MAX_DB_INTEGER)]


class EligibilityBulkIn(EligibilityIn, kw_only=True):
    entry_ids: Annotated[list[Id], _d("Every entry changes, or none does.")]


class ConflictIn(msgspec.Struct, kw_only=True):
    email: str
    organisation_code: str
    reason: str = ""


class MembersIn(msgspec.Struct, kw_only=True):
    user_ids: Annotated[list[Id], _d("Committee accounts by id.")] = []
    emails: Annotated[list[str], _d("Committee accounts by e-mail address.")] = []
    provinces: Annotated[dict[str, str], _d("e-mail address -> official two-digit province code (the "
                                            "same-province rule); a member named in this request.")] = {}
    conflicts: Annotated[list[ConflictIn], _d("Declared ties to organisations: never assigned their entries; "
                                              "declared after assignment, the member is recused.")] = []


class ScoresIn(msgspec.Struct, kw_only=True):
    scores: Annotated[dict[str, float | str | None],
                      _d("criterion code -> score within its range; any subset (autosave).")] = {}
    comment: Annotated[Annotated[str, msgspec.Meta(max_length=5000)] | None,
                       _d("Feedback the organisation may read without your name; left out: unchanged.")] = None
    version: Annotated[int | None, _d("The sheet version you read; 409 stale_version when it changed.")] = None


class ReasonIn(msgspec.Struct, kw_only=True):
    reason: Annotated[Text, _d("Required; recorded in the audit trail.")]


class TiesIn(msgspec.Struct, kw_only=True):
    entry_ids: Annotated[list[Id], _d("The tied entries, each once, best first.")]
    reason: Annotated[Text, _d("How the committee decided.")]


class OverrideIn(msgspec.Struct, kw_only=True):
    entry_id: Annotated[Id, _d("An entry of the round, at most once per proposal.")]
    outcome: Annotated[str, _d("shortlisted | not_shortlisted (screening), winner | finalist (final).")]
    reason: Text


class DecideIn(msgspec.Struct, kw_only=True):
    overrides: list[OverrideIn] = []


class SignIn(msgspec.Struct, kw_only=True):
    decision_hash: Annotated[str | None, _d("The proposal you reviewed; 409 stale_decision when it changed.")] = None


class PresentationIn(msgspec.Struct, kw_only=True):
    starts_at: Annotated[datetime, _d("ISO 8601; without an offset it is Bangkok time.")]
    minutes: Annotated[int, _d("Length of the slot.", ge=5, le=240)] = 15
    link: Annotated[str, _d("https:// or http:// address of the meeting or venue.", max_length=500)] = ""
    note: Text = ""


# --- answers built as plain objects -----------------------------------------------------------

class RubricCriterion(msgspec.Struct, kw_only=True):
    code: str
    name_th: str
    name_en: str
    weight: float
    min: float
    max: float
    description_th: str = ""
    description_en: str = ""


class RubricRead(msgspec.Struct, kw_only=True):
    criteria: list[RubricCriterion]
    tie_break: list[str]


class EligibilityRead(msgspec.Struct, kw_only=True):
    id: int
    state: Literal["eligible", "ineligible"]
    reason: str


class EligibilityBulkRead(msgspec.Struct, kw_only=True):
    entry_ids: list[int]
    changed: Annotated[int, _d("How many entries changed.")]
    state: Literal["eligible", "ineligible"]


class MemberConflict(msgspec.Struct, kw_only=True):
    organisation_code: str
    reason: str


class MemberRead(msgspec.Struct, kw_only=True):
    user_id: int
    email: str
    name: str
    province_code: str
    conflicts: list[MemberConflict]


class Warning(msgspec.Struct, kw_only=True):
    code: str
    message: str


class MembersRead(msgspec.Struct, kw_only=True):
    added: Annotated[list[int], _d("The accounts added by this call.")]
    members: int
    recused: Annotated[list[dict[str, Any]], _d("Assignments recused by ties declared now.")]
    warnings: list[Warning]
    items: list[MemberRead]


class MemberProgress(msgspec.Struct, kw_only=True):
    user_id: int
    name: str
    email: str
    assigned: int
    submitted: int
    pending: int
    recused: int
    percent: int


class IncompleteEntry(msgspec.Struct, kw_only=True):
    entry_id: int
    title: str
    organisation_name_th: str
    reviewers: int
    submitted: int
    needed: int


class RoundProgressRead(msgspec.Struct, kw_only=True):
    round_id: int
    state: str
    entries: int
    entries_complete: int
    reviews: int
    reviews_submitted: int
    percent: int
    gaps: int
    members: list[MemberProgress]
    incomplete_entries: list[IncompleteEntry]
    incomplete_total: int


class Agreement(msgspec.Struct, kw_only=True):
    overall: Annotated[float | None, _d("Krippendorff's alpha on the weighted totals; null when undefined.")]
    by_criterion: Annotated[dict[str, float | None], _d("Alpha on each criterion's raw scores, by criterion code.")]
    entries: Annotated[int, _d("Entries with two or more submitted sheets (the units of agreement).")]
    sufficient: Annotated[bool, _d("False when too few entries have two or more submitted sheets for agreement "
                                   "(every alpha is then null).")]


class ReviewerQuality(msgspec.Struct, kw_only=True):
    user_id: int
    sheets: Annotated[int, _d("Submitted score sheets.")]
    mean_offset: Annotated[float | None, _d(
        "Mean of (own total - mean of the other reviewers' totals on the same entry); null with no shared entry.")]
    sd: Annotated[float | None, _d("Population standard deviation of those offsets.")]
    flagged: Annotated[bool, _d("The mean offset lies far outside the committee's (see docs/api.md).")]


class Disagreement(msgspec.Struct, kw_only=True):
    entry_id: int
    spread: Annotated[float, _d("Highest minus lowest weighted total of the entry's submitted sheets.")]


class NearCut(msgspec.Struct, kw_only=True):
    entry_id: int
    rank: Annotated[int, _d("The entry's place in the round's ranking.")]
    spread: Annotated[float, _d("Highest minus lowest weighted total of the entry's submitted sheets.")]
    inside: Annotated[bool, _d("Ranked within the cut (the shortlist, or the winners in a final).")]


class QualityRead(msgspec.Struct, kw_only=True):
    agreement: Agreement
    method: Literal["krippendorff_interval"]
    reviewers: list[ReviewerQuality]
    disagreements: Annotated[list[Disagreement], _d("The widest disagreements first, at most 10.")]
    near_cut: Annotated[list[NearCut], _d(
        "Entries ranked within max(5, cut/4) places of the cut whose totals differ, the widest first, at most 10 "
        "(none before the round opens).")]


class QueuedRead(msgspec.Struct, kw_only=True):
    queued: Annotated[int, _d("Reminder mails queued.")]


class TiesRead(msgspec.Struct, kw_only=True):
    round_id: int
    order: list[int]


class Signature(msgspec.Struct, kw_only=True):
    user_id: int
    email: str
    name: str
    signed_at: datetime


class Outcome(msgspec.Struct, kw_only=True):
    entry_id: int
    rank: int | None
    score: float | None
    proposed: str
    outcome: str
    reason: str


class DecisionRead(msgspec.Struct, kw_only=True):
    """The proposal of a closed round and its signatures (the second makes it final)."""

    round_id: int
    kind: Literal["screening", "final"]
    state: str
    cut: int
    decision_hash: str
    rules_hash: str
    inside: Annotated[int, _d("Entries proposed inside the cut (shortlisted, or winners).")]
    warnings: list[Warning]
    outcomes: Annotated[list[Outcome], _d("Each entry with its title and organisation.")]
    signatures: list[Signature]
    final: bool


class PresentationRead(msgspec.Struct, kw_only=True):
    entry_id: int
    round_id: int
    starts_at: datetime
    minutes: int
    link: str
    note: str


class PresentationItem(msgspec.Struct, kw_only=True):
    entry_id: int
    starts_at: datetime
    minutes: int
    link: str
    note: str


class RecuseRead(msgspec.Struct, kw_only=True):
    id: int
    state: Literal["recused"]
    reassigned: Annotated[bool, _d("Whether another member took the entry.")]
    recused: list[dict[str, Any]]


class InvitedRead(msgspec.Struct, kw_only=True):
    invited: Annotated[int, _d("Finalists invited (and mailed) now.")]


class ReopenRead(msgspec.Struct, kw_only=True):
    id: int
    state: Literal["assigned"]


# --- calibration and extra readers ------------------------------------------------------------------

class CalibrationIn(msgspec.Struct, kw_only=True):
    entry_ids: Annotated[list[Id] | None, _d(
        "3 to 5 calibration entries (eligible entries of the edition), or [] for none; only before the round "
        "opens (409 round_state). Left out: unchanged.")] = None
    rubric_notes: Annotated[Annotated[str, msgspec.Meta(max_length=10000)] | None, _d(
        "The rubric notes the committee agreed on, shown to members on their sheets. Left out: unchanged.")] = None


class CalibrationEntryRead(msgspec.Struct, kw_only=True):
    entry_id: int
    title: str
    organisation_name_th: str
    median: Annotated[float | None, _d("Median weighted total of the submitted calibration sheets.")] = None
    sheets: Annotated[int, _d("Submitted calibration sheets on this entry.")] = 0


class CalibrationMemberRead(msgspec.Struct, kw_only=True):
    user_id: int
    name: str
    email: str
    submitted: Annotated[int, _d("Calibration sheets the member submitted.")]
    done: Annotated[bool, _d("Every calibration sheet submitted: the member's own queue is open.")]
    offset: Annotated[float | None, _d(
        "Mean of (own total - the committee's median total) over the calibration entries the member submitted.")]


class CalibrationRead(msgspec.Struct, kw_only=True):
    round_id: int
    entries: list[CalibrationEntryRead]
    rubric_notes: str
    members: list[CalibrationMemberRead]


class CalibrationSheetRead(msgspec.Struct, kw_only=True):
    entry_id: int
    state: Literal["assigned", "submitted"]
    scores: dict[str, float]
    comment: str = ""
    version: int = 1
    submitted_at: datetime | None = None
    left: Annotated[int | None, _d("Calibration sheets the member still has to submit.")] = None
    queue_open: Annotated[bool | None, _d("The member's own queue is open.")] = None


class ExtraReadersIn(msgspec.Struct, kw_only=True):
    entry_ids: Annotated[list[Id], _d("The entries that each get one more reader (at most 20).")]


class ExtraReader(msgspec.Struct, kw_only=True):
    entry_id: int
    assignment_id: int
    reviewer_id: int
    name: str
    email: str


class ExtraReadersRead(msgspec.Struct, kw_only=True):
    items: Annotated[list[ExtraReader], _d("Who was picked for each entry, by entry id.")]
