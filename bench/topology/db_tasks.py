"""Database side of the topology run::

    python -m bench.topology.db_tasks outbox     # JSON: outbox rows by job and state
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter


async def outbox() -> dict[str, int]:
    from contest.tables import Outbox

    rows = await Outbox.select(Outbox.job, Outbox.state)
    return dict(Counter(f"{r['job']}:{r['state']}" for r in rows))


def main(argv: list[str]) -> None:
    from contest.cli import with_db

    if argv[0] != "outbox":
        raise SystemExit(f"unknown command {argv[0]}")
    print(json.dumps(asyncio.run(with_db(outbox()))))


if __name__ == "__main__":
    main(sys.argv[1:])
