"""Ranking benchmark over a real database: 7,000 entries x 3 reviewers x 6 criteria.

Run by hand (not a test)::

    .venv/bin/python -m bench.ranking.db                 # SQLite and PostgreSQL
    .venv/bin/python -m bench.ranking.db --db sqlite --entries 7000 --reviewers 60

Per database: a fresh throw-away database (SQLite in a temp VAR_DIR, or a PostgreSQL cluster from
``scripts/services.sh``), ``contest migrate``, a seeded round (see ``bench/ranking/db_tasks.py``),
then (1) in-process timings of the domain functions (best of N), the alpha for a whole round among
them, and (2) request timings through the real server (``contest serve``, granian): the ranking
API, the progress API, the round's quality page (its progress page, the judging cockpit: target
median under 50 ms) and quality API, and a reviewer's queue API and page, each the median and
best of N after a warm-up, with the server's median CPU time per request (on a busy shared
machine the wall time is mostly waiting for a core). The domain timings are medians of wall time,
CPU time and the time spent ready to run but waiting for a core (``/proc/thread-self/schedstat``):
wall is about CPU plus that wait.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.deadline.run import start_postgres, stop_postgres
from bench.signin import sign_in
from bench.upload.run import contest_env, free_port, run_python, start_contest, stop_server

PASSWORD = "bench-password-123"


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the server and its workers)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(current := todo.pop())
        todo.extend(parents.get(current, []))
    return tree


def server_cpu_ns(pids: list[int]) -> int:
    """CPU time so far of these processes and all their threads, in nanoseconds (the scheduler's
    own account in /proc, far finer than clock ticks)."""
    total = 0
    for pid in pids:
        for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                total += int(stat.read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total


def request_times(client: httpx.Client, url: str, runs: int, server: int) -> tuple[float, float, float, int]:
    """Median and best wall time of ``runs`` requests, and the median CPU time the server spent on
    one (a busy shared machine inflates the wall time with waiting for a core)."""
    client.get(url)  # warm-up
    pids = process_tree(server)
    times, cpu = [], []
    status = 0
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), server_cpu_ns(pids)
        resp = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((server_cpu_ns(pids) - started_cpu) / 1e6)
        status = resp.status_code
    return statistics.median(times), min(times), statistics.median(cpu), status


def log_in(base: str, email: str) -> httpx.Client:
    """A browser-like client: session cookie from the log-in form."""
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    resp = sign_in(client, email, PASSWORD)
    if resp.status_code != 303:
        raise RuntimeError(f"log-in failed for {email}: {resp.status_code} {resp.text[:300]}")
    return client


def bench_one(db: str, entries: int, reviewers: int, runs: int) -> dict[str, object]:
    var_dir = Path(tempfile.mkdtemp(prefix=f"bench-ranking-{db}-"))
    pg_env = None
    url = None
    if db == "postgres":
        url, pg_env = start_postgres(var_dir / "pg-work")
    env = contest_env(var_dir, url)
    try:
        run_python(env, ["-m", "contest.cli", "migrate"])
        started = time.perf_counter()
        facts = json.loads(run_python(env, ["-m", "bench.ranking.db_tasks", "seed", str(entries), str(reviewers),
                                            PASSWORD], timeout=1800).strip().splitlines()[-1])
        facts["seed_seconds"] = round(time.perf_counter() - started, 1)
        domain = json.loads(run_python(env, ["-m", "bench.ranking.db_tasks", "time", str(facts["round_id"]),
                                             str(facts["reviewer_id"]), str(runs)]).strip().splitlines()[-1])
        port = free_port()
        server = start_contest(env, port)
        http: dict[str, object] = {}
        try:
            base = f"http://127.0.0.1:{port}"
            admin = log_in(base, facts["admin_email"])
            reviewer = log_in(base, facts["reviewer_email"])
            rid = facts["round_id"]
            for name, client, path in (
                ("ranking_api", admin, f"/api/v1/rounds/{rid}/ranking"),
                ("progress_api", admin, f"/api/v1/rounds/{rid}/progress"),
                ("progress_page", admin, f"/admin/judging/rounds/{rid}/progress"),  # the round's cockpit
                ("quality_api", admin, f"/api/v1/rounds/{rid}/quality"),
                ("queue_api", reviewer, f"/api/v1/rounds/{rid}/assignments"),
                ("queue_page", reviewer, f"/review/rounds/{rid}"),
            ):
                median, best, cpu, status = request_times(client, path, runs, server.pid)
                http[name] = {"median_ms": round(median, 1), "best_ms": round(best, 1), "cpu_ms": round(cpu, 1),
                              "status": status}
        finally:
            stop_server(server)
        return {"db": db, **facts, "domain": domain, "http": http}
    finally:
        if pg_env is not None:
            stop_postgres(var_dir / "pg-work", pg_env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--entries", type=int, default=7000)
    parser.add_argument("--reviewers", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    for db in (("sqlite", "postgres") if args.db == "both" else (args.db,)):
        result = bench_one(db, args.entries, args.reviewers, args.runs)
        d, h = result["domain"], result["http"]
        print(f"\n== {db}: {args.entries:,} entries, {result['assignments']:,} reviews "
              f"({d['reviews']:,} submitted), {result['scores']:,} scores, {args.reviewers} reviewers")
        print(f"  seed {result['seed_seconds']} s (assignment {result['assign_seconds']} s)")
        print(f"  domain, best of {args.runs}: fetch reviews {d['fetch_reviews_ms']} ms, compute_ranking "
              f"with borderline {d['compute_ranking_with_borderline_ms']} ms; fetch the sheets as columns "
              f"{d['fetch_sheets_ms']} ms, compute_ranking_arrays with borderline "
              f"{d.get('compute_ranking_arrays_with_borderline_ms')} ms (the same result: {d.get('arrays_same')}); "
              f"the full ranking from the "
              f"database {d['ranking_cold_ms']} ms (target <= 1000), reused while unchanged "
              f"{d['ranking_total_ms']} ms (view with titles {d['ranking_view_ms']} ms); "
              f"{d['borderline']} borderline")
        print(f"  domain, median of {args.runs} (wall / CPU / waiting for a core, ms):")
        for key, label in (("progress", "progress"), ("reviewer_queue", f"reviewer queue ({d['queue_items']} items)"),
                           ("quality_cold", "judging quality, sheets changed"),
                           ("quality", "judging quality, unchanged sheets"),
                           ("alpha_whole_round", "alpha for the whole round, in memory (target < 200)"),
                           ("cockpit_cold", "cockpit (burn-down, near the cut), sheets changed"),
                           ("cockpit", "cockpit, unchanged sheets")):
            print(f"    {label:55s} wall {d[key + '_median_ms']:7.1f}   CPU {d[key + '_cpu_ms']:7.1f}   "
                  f"waited {d[key + '_waited_ms']:7.1f}")
        for name, v in h.items():
            print(f"  http {name:14s} median {v['median_ms']:7.1f} ms, best {v['best_ms']:7.1f} ms, "
                  f"server CPU median {v['cpu_ms']:7.1f} ms (status {v['status']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
