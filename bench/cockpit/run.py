"""The edition cockpit at 7,000 entries from the whole demo registry, spread over a month of
submission, with a previous edition of 5,000 entries to compare with:

1. the figures (``contest.domain.cockpit.edition_stats``, without HTTP);
2. GET /api/v1/editions/{year}/stats with an admin's token;
3. the cockpit page GET /admin/editions/{year} with an admin's browser session;
4. the refreshing fragment GET /admin/editions/{year}/figures;
5. the page when the figures must be counted again (as after a submission).

The app runs in this process (Litestar's AsyncTestClient: middleware, guards, templates, no
network), as one web worker serves a request.

Run by hand (not a test)::

    .venv/bin/python -m bench.cockpit.run                                  # a throw-away SQLite file
    DATABASE_URL=postgres://… .venv/bin/python -m bench.cockpit.run        # an empty PostgreSQL database

Prints the median and the slowest of ``--runs`` requests in milliseconds, and the median CPU
time (on a busy shared machine the wall time is mostly waiting for a core).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

ENTRIES = 7000
PREVIOUS_ENTRIES = 5000
ADMIN = "bench.cockpit@dga.or.th"
PASSWORD = "bench-cockpit-password"


async def _edition(year: int, opens: datetime, entries: int) -> None:
    from contest.domain import editions
    from contest.domain.audit import SYSTEM
    from contest.tables import Edition, Entry, Organisation

    if not await Edition.exists().where(Edition.year == year):
        await editions.create_edition(actor=SYSTEM, data={
            "year": year, "title": f"รางวัลท้องถิ่นดิจิทัล {year}", "submission_opens_at": opens,
            "submission_closes_at": opens + timedelta(days=30), "announcement_at": opens + timedelta(days=120)})
    edition_id = (await Edition.select(Edition.id).where(Edition.year == year).first())["id"]
    if await Entry.count().where(Entry.edition == edition_id):
        return
    orgs = [r["id"] for r in await Organisation.select(Organisation.id)]
    rng = random.Random(year)
    rows = []
    for i in range(entries):
        created = opens + timedelta(minutes=rng.randrange(30 * 24 * 60))
        submitted = created + timedelta(hours=rng.randrange(1, 200)) if rng.random() < 0.8 else None
        rows.append(Entry(edition=edition_id, organisation=orgs[i % len(orgs)], title=f"ผลงาน {i}",
                          state="submitted" if submitted else "draft", category=rng.choice(["service", "data"]),
                          created_at=created, updated_at=submitted or created, submitted_at=submitted,
                          contact_email=f"it{i}@example.go.th"))
    for start in range(0, len(rows), 500):
        await Entry.insert(*rows[start:start + 500])


async def _timed(runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float, float]:
    """Median and slowest wall time, and the median CPU time of this process (its threads too:
    SQLite's), which a busy shared machine disturbs far less than the wall time."""
    await call()  # warm: templates compiled, figures counted once
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        await call()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(times), max(times), statistics.median(cpu)


async def main(runs: int) -> None:
    import logging

    from litestar.testing import AsyncTestClient

    from bench.signin import BENCH_TOTP_SECRET, accept_privacy_notice
    from contest import clock, db
    from contest.app import create_app
    from contest.cli import migrate_all
    from contest.domain import accounts, cockpit, organisations, twofactor
    from contest.domain.audit import SYSTEM
    from contest.domain.demo_registry import generate_demo_registry
    from contest.tables import Entry, Organisation, User

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    await migrate_all()
    opens = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    if not await Organisation.count():
        await organisations.import_organisations(generate_demo_registry(), actor=SYSTEM)
    await _edition(2568, opens - timedelta(days=365), PREVIOUS_ENTRIES)
    await _edition(2569, opens, ENTRIES)
    if not await User.exists().where(User.email == ADMIN):
        user_id = await accounts.create_user(actor=SYSTEM, email=ADMIN, password=PASSWORD, role="admin")
        await twofactor.enrol_known_secret(actor=SYSTEM, user_id=user_id, secret=BENCH_TOTP_SECRET)
    await accept_privacy_notice()
    # The clock is frozen at the same moment on every run: forget the code step a previous run used.
    await User.update({User.totp_last_step: None}).where(User.email == ADMIN)
    clock.freeze(opens + timedelta(days=29))  # the figures' day: the last before the deadline

    # The figures alone first, outside the app (whose database pool belongs to the app's own loop).
    await db.start_pool()
    stats = await cockpit.edition_stats(actor=SYSTEM, year=2569)
    print(f"{await Entry.count():,} entries ({ENTRIES:,} in 2569, {PREVIOUS_ENTRIES:,} in 2568), "
          f"{len(stats['by_province'])} provinces, {len(stats['by_day'])} days; {runs} runs each (ms):")
    _print("figures (domain, no HTTP)", await _timed(runs, lambda: cockpit.edition_stats(actor=SYSTEM, year=2569)))
    await db.close_pool()

    async with AsyncTestClient(app=create_app(), base_url="http://bench.local") as client:
        # Sign in as a browser does (session cookie), and take an API token with the next code.
        page = await client.get("/login")
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        resp = await client.post("/login", data={"email": ADMIN, "password": PASSWORD, "_csrf": csrf})
        challenge = re.search(r'name="challenge" value="([^"]+)"', resp.text).group(1)  # type: ignore[union-attr]
        step = int(clock.now().timestamp()) // twofactor.STEP_SECONDS
        resp = await client.post("/login/otp", data={"challenge": challenge, "_csrf": csrf,
                                                      "otp": twofactor.code_at(BENCH_TOTP_SECRET, step)})
        assert resp.status_code in (200, 303), resp.text
        page = await client.get("/login")  # this client carries the session cookie, so the token call needs CSRF
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        token = (await client.post("/api/v1/auth/token", headers={"X-CSRF-Token": csrf}, json={
            "email": ADMIN, "password": PASSWORD, "otp": twofactor.code_at(BENCH_TOTP_SECRET, step + 1)})).json()
        assert "token" in token, token
        api = {"Authorization": f"Bearer {token['token']}"}

        async def get(path: str, headers: dict[str, str] | None = None) -> None:
            answer = await client.get(path, headers=headers)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])

        async def counted_again() -> None:
            # As after a submission: the kept figures no longer match, so the page counts them again.
            cockpit.forget_figures()
            await get("/admin/editions/2569")

        for label, call in (
                ("GET /api/v1/editions/2569/stats", lambda: get("/api/v1/editions/2569/stats", api)),
                ("GET /admin/editions/2569 (page)", lambda: get("/admin/editions/2569")),
                ("GET /admin/editions/2569/figures (htmx)", lambda: get("/admin/editions/2569/figures")),
                ("GET /admin/editions/2569, figures counted again", counted_again)):
            _print(label, await _timed(runs, call))


def _print(label: str, figures: tuple[float, float, float]) -> None:
    median, slowest, cpu = figures
    print(f"  {label:48} median {median:6.1f}   slowest {slowest:6.1f}   CPU median {cpu:6.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        folder = tempfile.mkdtemp(prefix="contest-cockpit-")
        os.environ["VAR_DIR"] = folder
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    asyncio.run(main(args.runs))
