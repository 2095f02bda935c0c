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
best of N after a warm-up.
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


def request_times(client: httpx.Client, url: str, runs: int) -> tuple[float, float, int]:
    client.get(url)  # warm-up
    times = []
    status = 0
    for _ in range(runs):
        started = time.perf_counter()
        resp = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        status = resp.status_code
    return statistics.median(times), min(times), status


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
                median, best, status = request_times(client, path, runs)
                http[name] = {"median_ms": round(median, 1), "best_ms": round(best, 1), "status": status}
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
              f"with borderline {d['compute_ranking_with_borderline_ms']} ms; the full ranking from the "
              f"database {d['ranking_cold_ms']} ms (target <= 1000), reused while unchanged "
              f"{d['ranking_total_ms']} ms (view with titles {d['ranking_view_ms']} ms); "
              f"{d['borderline']} borderline")
        print(f"  domain: progress {d['progress_ms']} ms, reviewer queue {d['reviewer_queue_ms']} ms "
              f"({d['queue_items']} items)")
        print(f"  domain: judging quality {d['quality_cold_ms']} ms cold, {d['quality_ms']} ms unchanged sheets; "
              f"alpha for the whole round (overall and per criterion, in memory) {d['alpha_whole_round_ms']} ms, "
              f"CPU {d['alpha_whole_round_cpu_ms']} ms (target < 200)")
        print(f"  domain: cockpit (burn-down, near the cut) {d['cockpit_cold_ms']} ms cold, {d['cockpit_ms']} ms "
              f"unchanged sheets")
        for name, v in h.items():
            print(f"  http {name:14s} median {v['median_ms']:7.1f} ms, best {v['best_ms']:7.1f} ms "
                  f"(status {v['status']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
