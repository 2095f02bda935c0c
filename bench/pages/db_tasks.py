"""Database side of the pages benchmark, run in a subprocess whose environment names the
database::

    python -m bench.pages.db_tasks ranking ROUND_ID RUNS    # prints JSON: every run's milliseconds
    python -m bench.pages.db_tasks touch                    # one write per line read, "ok" after each

``ranking``: the full ranking from the database with the cache cleared before each run: fetch the
submitted sheets, normalise, rank, mark the borderline (what the first request after a change
pays). ``touch``: for each line on its input, one committed write to an entry from this process
(another process than the server's, as a draft saved elsewhere), so that reads kept while the
database is unchanged are read again.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def ranking_cold(round_id: int, runs: int) -> dict[str, list[float]]:
    from judging.domain import shortlist

    wall, cpu = [], []
    for _ in range(runs + 1):  # the first is a warm-up
        shortlist.forget_rankings()
        started, cpu_started = time.perf_counter(), time.process_time()
        await shortlist.compute_round_ranking(round_id)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return {"wall_ms": wall[1:], "cpu_ms": cpu[1:]}


async def touch() -> None:
    from contest import clock
    from contest.db import atomic
    from contest.tables import Entry

    for _line in sys.stdin:  # a real change: SQLite leaves its data version alone when a write changes nothing
        async with atomic():
            await Entry.raw('UPDATE "entry" SET "updated_at" = {} WHERE "id" = (SELECT min("id") FROM "entry")',
                            clock.now())
        print("ok", flush=True)


def main(argv: list[str]) -> None:
    from contest.cli import with_db

    if argv[0] == "touch":
        asyncio.run(with_db(touch()))
    elif argv[0] == "ranking":
        print(json.dumps(asyncio.run(with_db(ranking_cold(int(argv[1]), int(argv[2]))))))
    else:
        raise SystemExit(f"unknown command {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
