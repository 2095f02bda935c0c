"""The judging API's request bodies, described for the OpenAPI document (``/schema``).

The handlers still take the JSON object as it comes (``dict[str, Any]``) and the domain checks
it, so a wrong value gets the domain's 422 with the field and a Thai-first message rather than
a generic 400 from the framework. These msgspec Structs only *describe* what is accepted:
:func:`documented` gives a handler an OpenAPI operation whose request body is the Struct's JSON
schema (inlined, so the document needs no extra components).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.openapi.spec import Operation

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
    seed: Annotated[Annotated[int, msgspec.Meta(ge=0)] | None, _d("Assignment seed (random when left out).")] = None


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
    seed: Annotated[int | None, _d("Assignment seed.")] = None


class EligibilityIn(msgspec.Struct, kw_only=True):
    eligible: bool
    reason: Annotated[Text, _d("Shown to the organisation; required when not eligible.")] = ""


class EligibilityBulkIn(EligibilityIn, kw_only=True):
    entry_ids: Annotated[list[int], _d("Every entry changes, or none does.")]


class ConflictIn(msgspec.Struct, kw_only=True):
    email: str
    organisation_code: str
    reason: str = ""


class MembersIn(msgspec.Struct, kw_only=True):
    user_ids: Annotated[list[int], _d("Committee accounts by id.")] = []
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
    entry_ids: Annotated[list[int], _d("The tied entries, each once, best first.")]
    reason: Annotated[Text, _d("How the committee decided.")]


class OverrideIn(msgspec.Struct, kw_only=True):
    entry_id: Annotated[int, _d("An entry of the round, at most once per proposal.")]
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


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """msgspec's schema with its ``$defs`` references replaced by the definitions themselves."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(copy.deepcopy(defs[ref.rsplit("/", 1)[1]]))
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def documented(body: type[msgspec.Struct], *, required: bool = True) -> type[Operation]:
    """An OpenAPI operation whose request body is ``body``'s schema (application/json)."""
    schema = _inline(msgspec.json.schema(body))

    class BodyOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            out = super().to_schema()
            out["requestBody"] = {"required": required,
                                  "content": {"application/json": {"schema": copy.deepcopy(schema)}}}
            return out

    BodyOperation.__name__ = BodyOperation.__qualname__ = f"{body.__name__}Operation"
    return BodyOperation
