"""The edition's figures for the organiser (GET /api/v1/editions/{year}/stats, without HTTP) at
7,000 entries from the whole demo registry, spread over a month of submission.

Run by hand (not a test)::

    .venv/bin/python -m bench.cockpit.run                                  # a throw-away SQLite file
    DATABASE_URL=postgres://… .venv/bin/python -m bench.cockpit.run        # an empty PostgreSQL database

Prints the median and the slowest of ``--runs`` computations in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

ENTRIES = 7000


async def main(runs: int) -> None:
    from contest import clock, db
    from contest.cli import migrate_all
    from contest.domain import cockpit, editions, organisations
    from contest.domain.audit import SYSTEM
    from contest.domain.demo_registry import generate_demo_registry
    from contest.tables import Edition, Entry, Organisation

    await migrate_all()
    opens = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    if not await Organisation.count():
        await organisations.import_organisations(generate_demo_registry(), actor=SYSTEM)
    if not await Edition.exists().where(Edition.year == 2569):
        await editions.create_edition(actor=SYSTEM, data={
            "year": 2569, "title": "รางวัลท้องถิ่นดิจิทัล 2569", "submission_opens_at": opens,
            "submission_closes_at": opens + timedelta(days=30), "announcement_at": opens + timedelta(days=120)})
    edition_id = (await Edition.select(Edition.id).where(Edition.year == 2569).first())["id"]
    if not await Entry.count():
        orgs = [r["id"] for r in await Organisation.select(Organisation.id)]
        rng = random.Random(2569)
        rows = []
        for i in range(ENTRIES):
            created = opens + timedelta(minutes=rng.randrange(30 * 24 * 60))
            submitted = created + timedelta(hours=rng.randrange(1, 200)) if rng.random() < 0.8 else None
            rows.append(Entry(edition=edition_id, organisation=orgs[i % len(orgs)], title=f"ผลงาน {i}",
                              state="submitted" if submitted else "draft", category=rng.choice(["service", "data"]),
                              created_at=created, submitted_at=submitted))
        for start in range(0, len(rows), 500):
            await Entry.insert(*rows[start:start + 500])
    await db.start_pool()
    clock.freeze(opens + timedelta(days=29))
    await cockpit.edition_stats(actor=SYSTEM, year=2569)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        stats = await cockpit.edition_stats(actor=SYSTEM, year=2569)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{await Entry.count():,} entries, {len(stats['by_province'])} provinces, {len(stats['by_day'])} days; "
          f"{runs} runs: median {statistics.median(times):.1f} ms, slowest {max(times):.1f} ms")
    await db.close_pool()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        folder = tempfile.mkdtemp(prefix="contest-cockpit-")
        os.environ["VAR_DIR"] = folder
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    asyncio.run(main(args.runs))
