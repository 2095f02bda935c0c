"""Database side of the ranking benchmark, run in a subprocess whose environment names the
throw-away database (``VAR_DIR``, ``DATABASE_URL``)::

    python -m bench.ranking.db_tasks seed ENTRIES REVIEWERS PASSWORD   # prints JSON facts
    python -m bench.ranking.db_tasks time ROUND_ID REVIEWER_ID RUNS    # prints JSON timings

The seed builds a real round through the domain (create, members, open, assign) and then
bulk-inserts the score sheets (6 criteria, per-reviewer harshness so z-scores have work to do)
and marks every assignment submitted: the same rows scoring would leave, without 21,000 requests.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

YEAR = 2569
BATCH = 1000


async def seed(entries: int, reviewers: int, password: str, year: int = YEAR) -> dict[str, Any]:
    from bench.signin import BENCH_TOTP_SECRET, accept_privacy_notice
    from contest import clock
    from contest.db import atomic, fetch, is_sqlite
    from contest.domain import accounts, editions
    from contest.domain.audit import SYSTEM
    from contest.tables import Entry, Organisation, User
    from judging.domain import assignments, round_rows, rounds
    from judging.tables import Assignment

    rng = random.Random(2569)
    now = clock.now()
    await editions.create_edition(actor=SYSTEM, data={
        "year": year, "title": f"bench {year}", "submission_opens_at": now - timedelta(days=30),
        "submission_closes_at": now - timedelta(days=1), "announcement_at": now + timedelta(days=60)})
    edition_id = (await editions.get_edition(year)).id
    provinces = [f"{p:02d}" for p in range(10, 97)][:77]
    orgs = [Organisation(code=f"8{i:06d}", name_th=f"เทศบาลตำบลทดสอบ{i}", name_en=f"Bench town {i}",
                         kind="subdistrict_municipality", province_code=provinces[i % 77],
                         province_name_th=f"จังหวัด{provinces[i % 77]}", search_text=f"เทศบาลตำบลทดสอบ{i}")
            for i in range(entries)]
    for start in range(0, entries, BATCH):
        await Organisation.insert(*orgs[start:start + BATCH])
    org_ids = [o["id"] for o in await Organisation.select(Organisation.id).order_by(Organisation.id)]
    rows = [Entry(edition=edition_id, organisation=org_id, state="eligible", title=f"นวัตกรรมบริการดิจิทัล {i}",
                  category="service", summary="สรุป", problem="ปัญหา", solution="ทางแก้", results="ผลลัพธ์",
                  submitted_at=now - timedelta(days=2), submitted_revision=1)
            for i, org_id in enumerate(org_ids)]
    for start in range(0, entries, BATCH):
        await Entry.insert(*rows[start:start + BATCH])
    password_hash = accounts.hash_password(password)
    users = [User(email=f"reviewer{i:02d}@bench.dga.or.th", name=f"กรรมการ {i:02d}", password_hash=password_hash,
                  role="reviewer", email_confirmed_at=now, is_active=True, totp_secret=BENCH_TOTP_SECRET,
                  totp_enabled_at=now) for i in range(reviewers)]
    users.append(User(email="admin@bench.dga.or.th", name="ผู้ดูแล", password_hash=password_hash, role="admin",
                      email_confirmed_at=now, is_active=True, totp_secret=BENCH_TOTP_SECRET, totp_enabled_at=now))
    await User.insert(*users)
    await accept_privacy_notice()
    reviewer_ids = [u["id"] for u in await User.select(User.id).where(User.role == "reviewer").order_by(User.id)]

    round_id = await rounds.create_round(actor=SYSTEM, year=year, data={
        "kind": "screening", "reviewers_per_entry": 3, "normalisation": "zscore", "seed": 7})
    await rounds.add_members(actor=SYSTEM, round_id=round_id, user_ids=reviewer_ids)
    await rounds.open_round(actor=SYSTEM, round_id=round_id)
    started = time.perf_counter()
    await assignments.assign_reviewers(actor=SYSTEM, round_id=round_id)
    assign_seconds = time.perf_counter() - started

    criteria = await round_rows.criteria_of(round_id)
    harshness = {r: rng.uniform(-2, 1.5) for r in reviewer_ids}
    quality = {}
    assignments = await Assignment.select(Assignment.id, Assignment.entry, Assignment.reviewer).where(
        Assignment.round == round_id)
    scores = 0
    async with atomic():  # one transaction: 21,000 single-row updates, one commit
        for a in assignments:
            base = quality.setdefault(a["entry"], rng.uniform(3, 9))
            mark = base + harshness[a["reviewer"]]
            sheet = {c["code"]: min(c["max"], max(c["min"], round(mark + rng.gauss(0, 1), 1))) for c in criteria}
            scores += len(sheet)
            await Assignment.update({Assignment.scores: sheet}).where(Assignment.id == a["id"])
    # Leave one member's sheets unsubmitted, as in a real round still running.
    await Assignment.update({Assignment.state: "submitted", Assignment.submitted_at: now}).where(
        (Assignment.round == round_id) & (Assignment.reviewer != reviewer_ids[-1]))
    if not is_sqlite():
        # What autovacuum does within a minute of a bulk load: the figures are of a database whose
        # planner knows its tables, not of the minute after the load.
        await fetch("ANALYZE")
    return {"round_id": round_id, "assignments": len(assignments), "scores": scores,
            "reviewer_id": reviewer_ids[0], "reviewer_email": "reviewer00@bench.dga.or.th",
            "admin_email": "admin@bench.dga.or.th", "assign_seconds": round(assign_seconds, 3)}


def _waited_for_a_core() -> float:
    """Seconds this thread has so far spent ready to run but waiting for a core (the scheduler's
    own account; 0 where /proc does not tell): on a busy shared machine, most of the gap between
    wall and CPU time."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


async def timings(round_id: int, reviewer_id: int, runs: int) -> dict[str, Any]:
    from contest.domain.audit import Actor
    from judging.domain import assignments, quality, round_cockpit, scoring, shortlist
    from judging.domain.ranking import compute_ranking
    from judging.domain.ranking_arrays import compute_ranking_arrays
    from judging.domain.round_rows import criteria_of, get_round_row
    from judging.domain.shortlist import ranking_rules, tie_positions

    reviewer = Actor(id=reviewer_id, email="r", role="reviewer")
    out: dict[str, Any] = {}

    async def best(name: str, fn: Any) -> Any:
        """Best and median wall time of ``runs`` calls, and their median CPU time (this process and
        its threads: SQLite's), which a busy shared machine disturbs far less than the wall time."""
        value, walls, cpus, waits = None, [], [], []
        for _ in range(runs):
            started, started_cpu, started_wait = time.perf_counter(), time.process_time(), _waited_for_a_core()
            value = await fn()
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - started_cpu)
            waits.append(_waited_for_a_core() - started_wait)
        key = name.removesuffix("_ms")
        out[name] = round(min(walls) * 1000, 1)
        out[key + "_median_ms"] = round(statistics.median(walls) * 1000, 1)
        out[key + "_cpu_ms"] = round(statistics.median(cpus) * 1000, 1)
        out[key + "_waited_ms"] = round(statistics.median(waits) * 1000, 1)
        return value

    reviews = await best("fetch_reviews_ms", lambda: shortlist.submitted_reviews(round_id))
    row = await get_round_row(round_id)
    rules = ranking_rules(row, await criteria_of(round_id))

    async def pure() -> Any:
        return compute_ranking(reviews, rules, await tie_positions(round_id))

    ranked = await best("compute_ranking_with_borderline_ms", pure)
    sheets = await best("fetch_sheets_ms", lambda: shortlist.submitted_sheets(
        round_id, [c.code for c in rules.criteria]))

    async def arrays() -> Any:
        return compute_ranking_arrays(*sheets, rules, await tie_positions(round_id))

    if not isinstance(sheets, list):
        same = await best("compute_ranking_arrays_with_borderline_ms", arrays)
        out["arrays_same"] = same == ranked
    async def cold() -> Any:
        shortlist.forget_rankings()  # what the first call after a change pays: fetch, compute, borderline
        return await shortlist.compute_round_ranking(round_id)

    await best("ranking_cold_ms", cold)
    await best("ranking_total_ms", lambda: shortlist.compute_round_ranking(round_id))
    await best("ranking_view_ms", lambda: shortlist.ranking_view(round_id))
    await best("progress_ms", lambda: scoring.progress(round_id))

    async def quality_cold() -> Any:
        quality.forget_figures()  # the first read after a change: fetch the sheets, compute
        return await quality.round_quality(round_id)

    await best("quality_cold_ms", quality_cold)
    await best("quality_ms", lambda: quality.round_quality(round_id))

    async def alpha_whole_round() -> Any:
        # Krippendorff's alpha for the whole round: overall and per criterion, from the sheets in memory.
        from judging.domain.quality import judge_quality

        return judge_quality(reviews, rules.criteria)

    figures = await best("alpha_whole_round_ms", alpha_whole_round)
    progress = await scoring.progress(round_id)

    async def cockpit_cold() -> Any:
        round_cockpit.forget_figures()  # burn-down days and the ranking's disagreements near the cut
        return await round_cockpit.cockpit_figures(round_id, figures, total=progress["reviews"])

    await best("cockpit_cold_ms", cockpit_cold)
    await best("cockpit_ms", lambda: round_cockpit.cockpit_figures(round_id, figures, total=progress["reviews"]))
    queue = await best("reviewer_queue_ms", lambda: assignments.reviewer_queue(reviewer, round_id))
    out.update(reviews=len(reviews), ranked=len(ranked), borderline=sum(r.borderline for r in ranked),
               queue_items=len(queue))
    return out


def main(argv: list[str]) -> None:
    from contest.cli import with_db

    command = argv[0]
    if command == "seed":
        result = asyncio.run(with_db(seed(int(argv[1]), int(argv[2]), argv[3])))
    elif command == "time":
        result = asyncio.run(with_db(timings(int(argv[1]), int(argv[2]), int(argv[3]))))
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
