"""The gate before a member's own queue: in a round with calibration entries, a member reaches
their assignments only once their calibration sheets are all submitted
(``judging.domain.calibration``). Reads tables only, so ``assignments`` can ask it without an
import circle."""

from __future__ import annotations

from contest import memo
from contest.db import fetch
from contest.errors import Conflict


async def calibration_left(round_id: int, user_id: int) -> int:
    """How many of the round's calibration entries the member has not submitted yet (0 when the
    round has none). Once none is left it stays so (the calibration entries are fixed when the
    round opens, and a submitted sheet stays submitted), which the rest of the request is told."""
    if memo.recall(("calibrated", round_id, user_id)) is not memo.MISSING:
        return 0
    rows = await fetch(
        "SELECT (SELECT COUNT(*) FROM judging_calibration_entry ce WHERE ce.round = {}) AS needed, "
        "(SELECT COUNT(*) FROM judging_calibration_sheet cs JOIN judging_calibration_entry ce "
        "ON ce.round = cs.round AND ce.entry = cs.entry "
        "WHERE cs.round = {} AND cs.reviewer = {} AND cs.state = 'submitted') AS done",
        round_id, round_id, user_id)
    left = max(0, rows[0]["needed"] - rows[0]["done"])
    if not left:
        memo.remember(("calibrated", round_id, user_id), True)
    return left


async def require_calibrated(round_id: int, user_id: int) -> None:
    """``Conflict`` (409 ``calibration_pending``) while the member still has calibration sheets
    to submit in the round."""
    left = await calibration_left(round_id, user_id)
    if left:
        raise Conflict("Score the calibration entries first: {n} still to submit. Your own queue opens once "
                       "they are all submitted.", code="calibration_pending", n=left, round_id=round_id)
