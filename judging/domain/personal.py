"""What judging holds about a person, for their own export, and when it must stay (erasure).

A committee or panel member's score sheets, comments, declared conflicts and round memberships
are theirs to see. While a round they sit on is still being judged (not yet signed), their
data must stay attributable, so an erasure request is refused until the results are announced.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contest.db import stored_json
from contest.domain.audit import Actor
from judging.enums import RoundState
from judging.tables import Assignment, CalibrationSheet, ConflictOfInterest, Member


async def my_judging(actor: Actor) -> dict[str, Any]:
    """The person's round memberships, score sheets (calibration sheets too) and declared conflicts."""
    memberships = await Member.select(Member.round, Member.round._.kind.as_alias("kind"),
                                      Member.round._.edition._.year.as_alias("year"), Member.province_code,
                                      Member.created_at).where(Member.user == actor.id).order_by(Member.id)
    sheets = await Assignment.select(
        Assignment.round, Assignment.round._.kind.as_alias("kind"), Assignment.round._.edition._.year.as_alias("year"),
        Assignment.entry, Assignment.state, Assignment.scores, Assignment.comment, Assignment.recuse_reason,
        Assignment.submitted_at).where(Assignment.reviewer == actor.id).order_by(Assignment.id)
    conflicts = await ConflictOfInterest.select(*ConflictOfInterest.all_columns(exclude=[
        ConflictOfInterest.id, ConflictOfInterest.key, ConflictOfInterest.user])).where(
        ConflictOfInterest.user == actor.id)
    calibration = await CalibrationSheet.select(
        CalibrationSheet.round, CalibrationSheet.entry, CalibrationSheet.state, CalibrationSheet.scores,
        CalibrationSheet.comment, CalibrationSheet.submitted_at).where(
        CalibrationSheet.reviewer == actor.id).order_by(CalibrationSheet.id)
    if not (memberships or sheets or conflicts or calibration):
        return {}
    return {
        "round_memberships": [dict(m) for m in memberships],
        "score_sheets": [{**s, "scores": stored_json(s["scores"], {})} for s in sheets],
        "calibration_sheets": [{**s, "scores": stored_json(s["scores"], {})} for s in calibration],
        "declared_conflicts": [dict(c) for c in conflicts],
    }


async def rounds_holding(user_id: int) -> tuple[str, datetime | None] | None:
    """A member of a round not yet signed keeps their data until the results are announced."""
    row = await Member.select(Member.round._.edition._.announcement_at.as_alias("announcement_at")).where(
        (Member.user == user_id) & (Member.round._.state != RoundState.signed)).order_by(
        Member.round._.edition._.announcement_at, ascending=False).first()
    if row is None:
        return None
    return ("You sit on a committee whose round is still being judged, so your scores must stay "
            "attributable. Ask again after the results are announced on {date}.", row["announcement_at"])
