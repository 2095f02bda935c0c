"""Database side of the pages benchmark, run in a subprocess whose environment names the
database::

    python -m bench.pages.db_tasks ranking ROUND_ID RUNS    # prints JSON: every run's milliseconds

The full ranking from the database with the cache cleared before each run: fetch the submitted
sheets, normalise, rank, mark the borderline (what the first request after a change pays).
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


def main(argv: list[str]) -> None:
    from contest.cli import with_db

    if argv[0] != "ranking":
        raise SystemExit(f"unknown command {argv[0]}")
    print(json.dumps(asyncio.run(with_db(ranking_cold(int(argv[1]), int(argv[2]))))))


if __name__ == "__main__":
    main(sys.argv[1:])
