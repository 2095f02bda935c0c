"""The gate before a member's own queue: in a round with calibration entries, a member reaches
their assignments only once their calibration sheets are all submitted
(``judging.domain.calibration``). Reads tables only, so ``assignments`` can ask it without an
import circle."""

from __future__ import annotations

from contest import memo
from contest.db import fetch
from contest.errors import Conflict


def counts_sql(round_column: str, reviewer_column: str) -> str:
    """The two counts the gate needs (``calibration_needed``, ``calibration_done``) as columns of
    a statement that reads the round and the member in ``round_column`` and ``reviewer_column``
    (fixed names, never input): a statement that reads an assignment asks the gate with it."""
    return (f"(SELECT COUNT(*) FROM judging_calibration_entry ce WHERE ce.round = {round_column}) "
            "AS calibration_needed, "
            "(SELECT COUNT(*) FROM judging_calibration_sheet cs JOIN judging_calibration_entry ce "
            "ON ce.round = cs.round AND ce.entry = cs.entry "
            f"WHERE cs.round = {round_column} AND cs.reviewer = {reviewer_column} AND cs.state = 'submitted') "
            "AS calibration_done")


def left_of(round_id: int, user_id: int, needed: int, done: int) -> int:
    """How many are left from the two counts; once none is left the rest of the request is told."""
    left = max(0, int(needed) - int(done))
    if not left:
        memo.remember(("calibrated", round_id, user_id), True)
    return left


async def calibration_left(round_id: int, user_id: int) -> int:
    """How many of the round's calibration entries the member has not submitted yet (0 when the
    round has none). Once none is left it stays so (the calibration entries are fixed when the
    round opens, and a submitted sheet stays submitted), which the rest of the request is told."""
    if memo.recall(("calibrated", round_id, user_id)) is not memo.MISSING:
        return 0
    rows = await fetch("SELECT " + counts_sql("{}", "{}"), round_id, round_id, user_id)
    return left_of(round_id, user_id, rows[0]["calibration_needed"], rows[0]["calibration_done"])


async def require_calibrated(round_id: int, user_id: int, *, counts: tuple[int, int] | None = None) -> None:
    """``Conflict`` (409 ``calibration_pending``) while the member still has calibration sheets
    to submit in the round. ``counts`` are the two counts of :func:`counts_sql` when the caller
    read them already."""
    if counts is not None:
        left = left_of(round_id, user_id, *counts)
    else:
        left = await calibration_left(round_id, user_id)
    if left:
        raise Conflict("Score the calibration entries first: {n} still to submit. Your own queue opens once "
                       "they are all submitted.", code="calibration_pending", n=left, round_id=round_id)
