"""Pages benchmark: single requests, one client, against the real app (``contest serve``,
granian), over the reviewing round (7,000 entries, 21,000 sheets, 20 reviewers).

Run by hand (not a test)::

    .venv/bin/python -m bench.pages.run                    # SQLite and PostgreSQL
    .venv/bin/python -m bench.pages.run --db sqlite --runs 50 --workers 2

Per database: a fresh throw-away database, ``contest migrate``, the ranking benchmark's seed, then
as the organiser (a browser session): the entry list's first page (``/admin/entries`` leads to
the newest edition's list) and the same through the API (``/api/v1/entries``, 100 a page), the
round's progress page and its ranking page, each the median and p95 of ``--runs`` after a
warm-up; the entry list page and the progress page again, each request right after another
process wrote to an entry (what they read is kept only while the database is unchanged); the
entry list again with ``--clients`` at once (requests per second); and the full ranking from the database with its
cache cleared (in a separate process, median and p95).
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.deadline.run import pct, start_postgres, stop_postgres
from bench.ranking.db import PASSWORD, log_in
from bench.ranking.db_tasks import YEAR
from bench.rawhttp import RawClient
from bench.reviewing.run import tree_cpu_seconds
from bench.upload.run import ROOT, contest_env, free_port, process_tree, run_python, start_contest, stop_server


def single(client: httpx.Client, path: str, runs: int) -> tuple[list[float], int]:
    client.get(path)  # warm-up
    times, status = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        resp = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        status = resp.status_code
    return times, status


async def concurrent(base: str, cookies: httpx.Cookies, path: str, clients: int,
                     requests: int) -> tuple[float, list[float], int]:
    """Requests per second, each request's ms, and how many were not 200 (bench/rawhttp.py's
    client, which leaves more of the machine to the server than httpx)."""
    times: list[float] = []
    bad = 0
    left = iter(range(requests))

    async def one(http: RawClient) -> None:
        nonlocal bad
        for _ in left:  # shared: the clients take the requests in turn
            started = time.perf_counter()
            resp = await http.request("GET", base + path)
            times.append((time.perf_counter() - started) * 1000)
            bad += resp.status_code != 200

    https = [RawClient(cookies=dict(cookies)) for _ in range(clients)]
    try:
        await asyncio.gather(*(h.request("GET", base + path) for h in https))  # warm-up
        started = time.perf_counter()
        await asyncio.gather(*(one(h) for h in https))
        seconds = time.perf_counter() - started
    finally:
        for h in https:
            await h.aclose()
    return requests / seconds, times, bad


def after_a_write(env: dict[str, str], client: httpx.Client, path: str, runs: int,
                  pids: list[int]) -> tuple[list[float], float]:
    """``path`` requested ``runs`` times, each right after another process committed a write
    (what is kept while the database is unchanged is read again): each request's ms, and the
    server's CPU ms a request."""
    toucher = subprocess.Popen([sys.executable, "-m", "bench.pages.db_tasks", "touch"], cwd=ROOT, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert toucher.stdin is not None and toucher.stdout is not None
    times, cpu = [], 0.0
    try:
        for _ in range(runs):
            toucher.stdin.write("\n")
            toucher.stdin.flush()
            if toucher.stdout.readline().strip() != "ok":
                raise RuntimeError("the writer process stopped")
            cpu0 = tree_cpu_seconds(pids)
            started = time.perf_counter()
            resp = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpu += tree_cpu_seconds(pids) - cpu0
            resp.raise_for_status()
    finally:
        toucher.stdin.close()
        toucher.wait(timeout=60)
    return times, cpu / runs * 1000


def bench_one(db: str, args: argparse.Namespace) -> bool:
    work = Path(tempfile.mkdtemp(prefix=f"bench-pages-{db}-"))
    pg_env = None
    ok = True
    try:
        url = None
        if db == "postgres":
            url, pg_env = start_postgres(work / "services")
        env = contest_env(work / "var", url)
        run_python(env, ["-m", "contest.cli", "migrate"])
        started = time.perf_counter()
        facts = json.loads(run_python(env, ["-m", "bench.ranking.db_tasks", "seed", str(args.entries),
                                            str(args.reviewers), PASSWORD], timeout=1800).strip().splitlines()[-1])
        rid = facts["round_id"]
        print(f"\n== {db}: {args.entries:,} entries, {facts['assignments']:,} sheets, {args.reviewers} reviewers "
              f"(seed {time.perf_counter() - started:.0f} s); granian {args.workers} worker(s); "
              f"median / p95 of {args.runs}, one client", flush=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (work / "server.log").open("wb")
        server = start_contest(env, port, args.workers, log=log)
        try:
            admin = log_in(base, facts["admin_email"])
            landing = admin.get("/admin/entries")
            list_page = landing.headers.get("location", f"/admin/editions/{YEAR}/entries")
            pages = (("entry list page", list_page),
                     ("entry list API", f"/api/v1/entries?year={YEAR}&per_page=100&page=1"),
                     ("progress page", f"/admin/judging/rounds/{rid}/progress"),
                     ("ranking page", f"/admin/judging/rounds/{rid}/ranking"))
            pids = process_tree(server.pid)
            for name, path in pages:
                cpu0 = tree_cpu_seconds(pids)
                times, status = single(admin, path, args.runs)
                cpu = (tree_cpu_seconds(pids) - cpu0) / (args.runs + 1) * 1000
                ok &= status == 200
                print(f"  {name:<16} median {statistics.median(times):7.1f} ms, p95 {pct(times, .95):7.1f} ms, "
                      f"server CPU {cpu:5.1f} ms/request (status {status}) {path}")
            for name, path in (pages[0], pages[2]):
                times, cpu = after_a_write(env, admin, path, args.runs, pids)
                print(f"  {name:<16} median {statistics.median(times):7.1f} ms, "
                      f"p95 {pct(times, .95):7.1f} ms, server CPU {cpu:5.1f} ms/request: "
                      "each the first view after another process wrote")
            for name, path in pages[:2]:
                cpu0 = tree_cpu_seconds(pids)
                rate, times, bad = asyncio.run(concurrent(base, admin.cookies, path, args.clients, args.requests))
                cpu = tree_cpu_seconds(pids) - cpu0
                ok &= bad == 0
                print(f"  {name:<16} {args.clients} clients: {rate:6.1f} req/s, p50 {pct(times, .5):7.1f} ms, "
                      f"p95 {pct(times, .95):7.1f} ms, {bad} not 200 ({args.requests} requests, server CPU "
                      f"{cpu:.1f} s)")
            admin.close()
        finally:
            stop_server(server)
            log.close()
        ranking = json.loads(run_python(env, ["-m", "bench.pages.db_tasks", "ranking", str(rid),
                                              str(args.ranking_runs)]).strip().splitlines()[-1])
        wall, cpu_ms = ranking["wall_ms"], ranking["cpu_ms"]
        print(f"  full ranking from the database, cache cleared: median {statistics.median(wall):.0f} ms, "
              f"p95 {pct(wall, .95):.0f} ms (CPU median {statistics.median(cpu_ms):.0f} ms; "
              f"{args.ranking_runs} runs, in-process)")
        return ok
    finally:
        if pg_env is not None:
            stop_postgres(work / "services", pg_env)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--entries", type=int, default=7000)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=30, help="single requests per page")
    parser.add_argument("--workers", type=int, default=1, help="granian workers")
    parser.add_argument("--clients", type=int, default=10, help="clients at once on the entry list")
    parser.add_argument("--requests", type=int, default=300, help="entry list requests with --clients at once")
    parser.add_argument("--ranking-runs", type=int, default=7)
    args = parser.parse_args(argv)
    ok = True
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        ok &= bench_one(db, args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
