"""A round as stored, read: its row (with its edition's year and cut sizes, the JSON columns
decoded) and its rubric; and the edition a year names.

Every other judging domain module reads rounds through here. It imports no other judging domain
module, so ``rounds`` (which changes rounds and their committee) can use ``assignments`` and
``conflicts`` at the top of the module while they read rounds here: no import circle.
"""

from __future__ import annotations

from typing import Any

from contest.db import fetch, stored_json
from contest.domain import editions
from contest.errors import NotFound
from judging.enums import RoundKind
from judging.tables import Criterion

__all__ = ["stored_json"]  # re-exported: judging reads its JSON columns through it


# Read by several steps of every round page (its head, progress, quality, cockpit): one
# statement, written out. The same keys and values as Piccolo's select of ``Round.all_columns()``
# with the edition's columns (see tests/judging/test_rounds.py).
_ROUND_SQL = (
    "SELECT r.id, r.edition, r.kind, r.state, r.reviewers_per_entry, r.normalisation, r.tie_break, "
    "r.exclude_same_province, r.seed, r.rules, r.rules_hash, r.decision_hash, r.opened_at, r.closed_at, "
    "r.signed_at, r.invitations_sent_at, r.created_by, r.created_at, r.updated_at, "
    "e.year AS \"edition.year\", e.shortlist_size AS \"edition.shortlist_size\", "
    "e.winners AS \"edition.winners\", e.screening_closes_at AS \"edition.screening_closes_at\", "
    "e.final_closes_at AS \"edition.final_closes_at\" "
    "FROM judging_round r LEFT JOIN edition e ON e.id = r.edition WHERE r.id = {}")


async def get_round_row(round_id: int) -> dict[str, Any]:
    """The round's row with ``edition.year``, ``edition.shortlist_size``, ``edition.winners`` and
    the edition's judging deadlines (``edition.screening_closes_at``, ``edition.final_closes_at``);
    ``tie_break`` and the frozen ``rules`` decoded. An unknown round is ``NotFound``."""
    rows = await fetch(_ROUND_SQL, round_id)
    if not rows:
        raise NotFound("No such round.", code="round_not_found")
    row = rows[0]
    row["exclude_same_province"] = bool(row["exclude_same_province"])
    row["tie_break"] = stored_json(row["tie_break"], [])
    row["rules"] = stored_json(row["rules"], {})
    return row


#: Rubrics of opened rounds by (round, rules hash). The hash covers the rubric as frozen when the
#: round opened, so an entry can never be stale; a few rounds a year keep this small.
_FROZEN_RUBRICS: dict[tuple[int, str], list[dict[str, Any]]] = {}
_FROZEN_KEEP = 64


async def criteria_of(round_id: int, *, rules_hash: str = "") -> list[dict[str, Any]]:
    """The round's rubric as stored, in order. Given the hash of an opened round's rules, the
    rubric they froze is read once per process."""
    if rules_hash:
        kept = _FROZEN_RUBRICS.get((round_id, rules_hash))
        if kept is not None:
            return [dict(c) for c in kept]
    criteria = await _stored_criteria(round_id)
    if rules_hash:
        if len(_FROZEN_RUBRICS) >= _FROZEN_KEEP:
            _FROZEN_RUBRICS.clear()
        _FROZEN_RUBRICS[(round_id, rules_hash)] = [dict(c) for c in criteria]
    return criteria


async def _stored_criteria(round_id: int) -> list[dict[str, Any]]:
    rows = await Criterion.select().where(Criterion.round == round_id).order_by(Criterion.position)
    return [{"code": r["code"], "name_th": r["name_th"], "name_en": r["name_en"],
             "description_th": r["description_th"], "description_en": r["description_en"],
             "weight": r["weight"], "min": r["min_score"], "max": r["max_score"]} for r in rows]


def deadline_of(row: dict[str, Any]) -> Any:
    """When scoring in the round should be done: the edition's screening or final deadline (None
    when the edition sets none)."""
    return row["edition.screening_closes_at"] if row["kind"] == RoundKind.screening else row["edition.final_closes_at"]


def cut_of(row: dict[str, Any]) -> int:
    """How many places the round decides: the shortlist for screening, the winners for the final."""
    return row["edition.shortlist_size"] if row["kind"] == RoundKind.screening else row["edition.winners"]


async def edition_row(year: int) -> dict[str, Any]:
    """The edition of ``year`` as stored, drafts included. An unknown year is ``NotFound``."""
    return await editions.edition_row(year)
