"""What judging decided about one entry, for its appeal and its evidence pack: every round that
judged it, with the rules exactly as frozen and hashed, the score sheets anonymised, their
normalisation, the entry's rank and score, and the signed decision.

Anonymised means the sheets name no reviewer: they are "reviewer 1", "reviewer 2", ... in the
order the sheets were assigned, and carry neither a name, an e-mail nor an account id. The
signatures of the decision are likewise "signatory 1" and "signatory 2" with their times and the
decision hash they signed; who signed is in the audit trail, sealed.
"""

from __future__ import annotations

import math
from typing import Any

from contest.db import stored_json
from judging.domain.ranking import Criterion, weighted_total
from judging.domain.round_rows import criteria_of, get_round_row
from judging.domain.shortlist import compute_round_ranking
from judging.enums import AssignmentState, RoundState
from judging.tables import Assignment, Decision, RoundEntry, Signature


def _scores(value: Any) -> dict[str, Any]:
    return dict(stored_json(value, {}) or {})


def _reviewer_z(totals: list[float], own: float) -> float:
    """``own`` as a z-score among one reviewer's totals (population sd); 0 with a single sheet or
    when they never vary, as the ranking counts them."""
    if len(totals) < 2:
        return 0.0
    mean = math.fsum(totals) / len(totals)
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in totals) / len(totals))
    return 0.0 if sd == 0 else round((own - mean) / sd, 9)


async def entry_rounds(entry_id: int) -> list[dict[str, Any]]:
    """Every round that took the entry, screening first, as the appeal and the pack show them."""
    round_ids = sorted(r["round"] for r in await RoundEntry.select(RoundEntry.round).where(
        RoundEntry.entry == entry_id))
    return [await _round_record(round_id, entry_id) for round_id in round_ids]


async def _sheets(round_id: int, entry_id: int, rubric: list[Criterion], normalisation: str) -> list[dict[str, Any]]:
    """The entry's submitted sheets, reviewers numbered in order, each with its weighted total (and,
    under z-scores, its z among all that reviewer's sheets in the round)."""
    submitted = await Assignment.select(Assignment.id, Assignment.entry, Assignment.reviewer, Assignment.scores,
                                        Assignment.comment, Assignment.submitted_at).where(
        (Assignment.round == round_id) & (Assignment.state == AssignmentState.submitted)).order_by(Assignment.id)
    by_reviewer: dict[int, list[float]] = {}
    totals: dict[int, float] = {}
    for a in submitted:
        scores = _scores(a["scores"])
        try:
            total = weighted_total(rubric, {k: float(v) for k, v in scores.items()})
        except (KeyError, TypeError, ValueError):
            continue
        totals[a["id"]] = total
        by_reviewer.setdefault(a["reviewer"], []).append(total)
    sheets = []
    for number, a in enumerate((a for a in submitted if a["entry"] == entry_id), start=1):
        own = totals.get(a["id"])
        sheet: dict[str, Any] = {"reviewer": f"reviewer {number}", "scores": _scores(a["scores"]),
                                 "weighted_total": own, "comment": a["comment"],
                                 "submitted_at": a["submitted_at"].isoformat() if a["submitted_at"] else None}
        if normalisation == "zscore" and own is not None:
            sheet["z"] = _reviewer_z(by_reviewer[a["reviewer"]], own)
            sheet["reviewer_sheets"] = len(by_reviewer[a["reviewer"]])
        sheets.append(sheet)
    return sheets


async def _round_record(round_id: int, entry_id: int) -> dict[str, Any]:
    row = await get_round_row(round_id)
    rules = row["rules"] or {}
    criteria = rules.get("criteria") or await criteria_of(round_id)
    rubric = [Criterion(c["code"], float(c["weight"]), float(c["min"]), float(c["max"])) for c in criteria]
    normalisation = rules.get("normalisation", row["normalisation"])
    sheets = await _sheets(round_id, entry_id, rubric, normalisation)
    ranked = None
    if row["state"] != RoundState.draft:
        _, ranking = await compute_round_ranking(round_id, with_borderline=False)
        ranked = next((r for r in ranking if r.entry_id == entry_id), None)
    decision = await Decision.select(Decision.rank, Decision.score, Decision.proposed, Decision.outcome,
                                     Decision.override_reason).where(
        (Decision.round == round_id) & (Decision.entry == entry_id)).first()
    signatures = await Signature.select(Signature.signed_at, Signature.decision_hash).where(
        Signature.round == round_id).order_by(Signature.id)
    return {
        "round_id": round_id, "kind": row["kind"], "state": row["state"],
        "rules": rules, "rules_hash": row["rules_hash"],
        "normalisation": {
            "method": normalisation,
            "description_en": (
                "Each reviewer's weighted totals are turned into z-scores over all that reviewer's sheets in the "
                "round (population standard deviation; 0 when they never vary); the entry's score is the rubric's "
                "midpoint plus its range / 6 times the mean z." if normalisation == "zscore" else
                "No normalisation: the entry's score is the mean of its reviewers' weighted totals."),
            "raw_score": ranked.raw_score if ranked else None, "score": ranked.score if ranked else None,
        },
        "sheets": sheets,
        "rank": ranked.rank if ranked else None,
        "reviewers": ranked.reviewers if ranked else len(sheets),
        "spread": ranked.spread if ranked else None,
        "decision": ({"rank": decision["rank"], "score": decision["score"], "proposed": decision["proposed"],
                      "outcome": decision["outcome"], "override_reason": decision["override_reason"]}
                     if decision else None),
        "decision_hash": row["decision_hash"],
        "signatures": [{"signatory": f"signatory {i}", "signed_at": s["signed_at"].isoformat(),
                        "decision_hash": s["decision_hash"]} for i, s in enumerate(signatures, start=1)],
        "signed_at": row["signed_at"].isoformat() if row["signed_at"] else None,
        "feedback_criteria": [{"code": c["code"], "name_th": c.get("name_th", ""), "name_en": c.get("name_en", ""),
                               "weight": c["weight"], "min": c["min"], "max": c["max"]} for c in criteria],
    }
