"""Organisation search on the whole demo registry (7,554 organisations): how long one search
takes, from the query to the ranked page, as the sign-up page and the API call it.

Run by hand (not a test)::

    .venv/bin/python -m bench.search.run                                  # a throw-away SQLite file
    DATABASE_URL=postgres://… .venv/bin/python -m bench.search.run        # an empty PostgreSQL database

The database is migrated and the registry imported (on PostgreSQL, into whatever database
DATABASE_URL names: use a throw-away one). Each search runs ``--runs`` times after one warm-up;
the median and the slowest are printed in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

QUERIES = ("อบต.สันทราย", "ทต.สันทรายหลวง", "หนองจ้อม", "อบต.หนองจ๊อม อ.สันทราย จ.เชียงใหม่", "San Sai Luang",
           "บ้าน", "อบต.", "ก", "")


async def main(runs: int) -> None:
    from contest import db
    from contest.cli import migrate_all
    from contest.domain import organisations
    from contest.domain.audit import SYSTEM
    from contest.domain.demo_registry import generate_demo_registry
    from contest.tables import Organisation

    await migrate_all()
    if not await Organisation.count():
        await organisations.import_organisations(generate_demo_registry(), actor=SYSTEM)
    await db.start_pool()  # as the app does: PostgreSQL connections are kept (SQLite's always are)
    print(f"{await Organisation.count():,} organisations; {runs} runs each (ms)")
    print(f"{'search':<40} {'found':>6} {'median':>8} {'slowest':>8}")
    for q in QUERIES:
        await organisations.search_organisations(q=q, per_page=30)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            page = await organisations.search_organisations(q=q, per_page=30)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{q or '(none: the whole registry)':<40} {page.total:>6} {statistics.median(times):>8.1f} "
              f"{max(times):>8.1f}")
    await db.close_pool()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        folder = tempfile.mkdtemp(prefix="contest-search-")
        os.environ["VAR_DIR"] = folder
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    asyncio.run(main(args.runs))
