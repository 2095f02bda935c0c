"""Database side of the reviewing benchmark, run in a subprocess whose environment names the
database (``DATABASE_URL``; ``VAR_DIR`` for SQLite)::

    python -m bench.reviewing.db_tasks seed ENTRIES REVIEWERS PASSWORD ACTIVE   # prints JSON facts
    python -m bench.reviewing.db_tasks facts                                    # the seeded round
    python -m bench.reviewing.db_tasks snapshot ROUND_ID                        # the open sheets

The seed is the ranking benchmark's round, in the edition before the deadline benchmark's (so
both can share one database) (ENTRIES entries, three reviewers each, every sheet
scored and submitted but one member's), then the sheets of the first ACTIVE reviewers are
handed back to them (assigned, scores kept), as in a round whose members are still scoring.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

ADMIN_EMAIL = "admin@bench.dga.or.th"


async def seed(entries: int, reviewers: int, password: str, active: int) -> dict[str, Any]:
    from bench.ranking.db_tasks import YEAR
    from bench.ranking.db_tasks import seed as seed_round
    from judging.tables import Assignment

    facts = await seed_round(entries, reviewers, password, year=YEAR - 1)
    from contest.tables import User

    ids = [u["id"] for u in await User.select(User.id).where(User.role == "reviewer").order_by(User.id)][:active]
    await Assignment.update({Assignment.state: "assigned", Assignment.submitted_at: None}).where(
        (Assignment.round == facts["round_id"]) & Assignment.reviewer.is_in(ids))
    return {**facts, **await round_facts()}


async def round_facts() -> dict[str, Any]:
    """The newest round, its open sheets' reviewers (e-mail, sheets) in reviewer order."""
    from contest.tables import User
    from judging.tables import Assignment, Round

    newest = await Round.select(Round.id).order_by(Round.id, ascending=False).first()
    if newest is None:
        raise SystemExit("no round: seed first")
    rows = await Assignment.select(Assignment.reviewer, Assignment.reviewer._.email).where(
        (Assignment.round == newest["id"]) & (Assignment.state == "assigned"))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["reviewer.email"]] = counts.get(r["reviewer.email"], 0) + 1
    emails = sorted(counts)
    admin = await User.select(User.email).where(User.role == "admin").order_by(User.id).first()
    return {"round_id": newest["id"], "reviewers": [{"email": e, "sheets": counts[e]} for e in emails],
            "admin_email": admin["email"] if admin else ADMIN_EMAIL}


async def snapshot(round_id: int) -> dict[str, Any]:
    """Every sheet still being scored: id -> [reviewer e-mail, version, scores, comment]."""
    from judging.tables import Assignment

    rows = await Assignment.select(Assignment.id, Assignment.reviewer._.email, Assignment.version,
                                   Assignment.scores, Assignment.comment).where(
        (Assignment.round == round_id) & (Assignment.state == "assigned"))
    out = {}
    for r in rows:
        scores = r["scores"]
        if isinstance(scores, str):
            scores = json.loads(scores)
        out[str(r["id"])] = [r["reviewer.email"], r["version"], scores, r["comment"]]
    return out


def main(argv: list[str]) -> None:
    from contest.cli import with_db

    command = argv[0]
    if command == "seed":
        result = asyncio.run(with_db(seed(int(argv[1]), int(argv[2]), argv[3], int(argv[4]))))
    elif command == "facts":
        result = asyncio.run(with_db(round_facts()))
    elif command == "snapshot":
        result = asyncio.run(with_db(snapshot(int(argv[1]))))
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
