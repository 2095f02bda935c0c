"""Announcement benchmark: publish an edition with 7,000 applicants through the real server, then
time the public results page.

Run by hand (not a test)::

    .venv/bin/python -m bench.announcement.run                      # SQLite and PostgreSQL
    .venv/bin/python -m bench.announcement.run --db sqlite --orgs 7000

Per database: a fresh throw-away database (SQLite in a temp VAR_DIR, or a PostgreSQL cluster from
``scripts/services.sh``), ``contest migrate``, a seed (``bench/announcement/db_tasks.py``: N
organisations, N applicants, N entries of which 1 winner, 39 more finalists, the rest not
shortlisted, the final signed and the announcement time just past), then ``contest serve``
(granian, jobs in-process as on one machine) and:

1. the publish request as an organiser's browser sends it (POST /admin/editions/2569/publish with
   the form's CSRF token; target under 10 s) — the result mails go on in the background;
2. the public results page /results/2569 for an anonymous visitor: median and best of 20 after a
   warm-up (target under 50 ms), while the mails are being sent and again once they are done,
   plus the 304 answer to If-None-Match and the showcase;
3. how long the N result mails took to be queued and written (mail goes to files in VAR_DIR).

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.announcement.db_tasks import YEAR
from bench.deadline.run import start_postgres, stop_postgres
from bench.signin import sign_in
from bench.upload.run import contest_env, free_port, run_python, start_contest, stop_server

PASSWORD = "bench-password-123"


def timed_gets(client: httpx.Client, url: str, runs: int, headers: dict[str, str] | None = None,
               warm_up: int = 3) -> dict[str, Any]:
    for _ in range(warm_up):
        client.get(url, headers=headers)
    times, statuses = [], set()
    for _ in range(runs):
        started = time.perf_counter()
        resp = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(resp.status_code)
    return {"median_ms": round(statistics.median(times), 1), "best_ms": round(min(times), 1),
            "worst_ms": round(max(times), 1), "status": sorted(statuses)}


def browser(base: str, email: str) -> httpx.Client:
    """A browser-like client signed in through the log-in form (session cookie + CSRF cookie)."""
    client = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
    resp = sign_in(client, email, PASSWORD)
    if resp.status_code != 303:
        raise RuntimeError(f"log-in failed for {email}: {resp.status_code} {resp.text[:300]}")
    return client


def wait_for_mails(admin: httpx.Client, expected: int, limit: float) -> tuple[float | None, dict[str, int]]:
    started = time.perf_counter()
    progress: dict[str, int] = {}
    while time.perf_counter() - started < limit:
        progress = admin.get(f"/api/v1/editions/{YEAR}/notifications", headers={"Accept": "application/json"}).json()
        if progress.get("total") == expected and progress.get("pending") == 0:
            return time.perf_counter() - started, progress
        time.sleep(0.5)
    return None, progress


def bench_one(db: str, orgs: int, runs: int, mail_limit: float) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix=f"bench-announcement-{db}-"))
    pg_env = None
    url = None
    if db == "postgres":
        url, pg_env = start_postgres(var_dir / "pg-work")
    env = contest_env(var_dir, url)
    try:
        run_python(env, ["-m", "contest.cli", "migrate"])
        started = time.perf_counter()
        facts = json.loads(run_python(env, ["-m", "bench.announcement.db_tasks", "seed", str(orgs), PASSWORD],
                                      timeout=1800).strip().splitlines()[-1])
        facts["seed_seconds"] = round(time.perf_counter() - started, 1)
        port = free_port()
        log = (var_dir / "server.log").open("wb")
        server = start_contest(env, port, log=log)
        base = f"http://127.0.0.1:{port}"
        out: dict[str, Any] = {"db": db, **facts}
        try:
            admin = browser(base, facts["admin_email"])
            page = admin.get(f"/admin/editions/{YEAR}/publish")
            token = re.search(r'name="_csrf" value="([^"]+)"', page.text)
            if page.status_code != 200 or not token:
                raise RuntimeError(f"publish page not ready: {page.status_code} {page.text[:500]}")
            started = time.perf_counter()
            resp = admin.post(f"/admin/editions/{YEAR}/publish", data={"_csrf": token.group(1)})
            out["publish_seconds"] = round(time.perf_counter() - started, 2)
            if resp.status_code != 303:
                raise RuntimeError(f"publish failed: {resp.status_code} {resp.text[:500]}")
            published = time.perf_counter()

            public = httpx.Client(base_url=base, timeout=60)
            page_url = f"/results/{YEAR}"
            out["results_page_while_mailing"] = timed_gets(public, page_url, runs)
            mails_seconds, progress = wait_for_mails(admin, orgs, mail_limit)
            out["mails"] = {"seconds_after_publish": round(time.perf_counter() - published, 1)
                            if mails_seconds is not None else None, **progress}
            out["results_page"] = timed_gets(public, page_url, runs)
            first = public.get(page_url)
            body = first.text
            out["results_page_bytes"] = len(first.content)
            out["results_page_checks"] = {
                "awardees_listed": len(re.findall(r'<td data-label="[^"]*"><a href="/showcase/', body)),
                "cache_control": first.headers.get("cache-control"), "etag": first.headers.get("etag")}
            out["results_page_304"] = timed_gets(public, page_url, runs,
                                                 headers={"If-None-Match": first.headers["etag"]})
            out["results_page_filtered"] = timed_gets(public, f"{page_url}?region=north", runs)
            out["showcase_page"] = timed_gets(public, f"/showcase/{YEAR}", runs)
        finally:
            stop_server(server)
            log.close()
        return out
    finally:
        if pg_env is not None:
            stop_postgres(var_dir / "pg-work", pg_env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--orgs", type=int, default=7000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--mail-limit", type=float, default=900, help="seconds to wait for the result mails")
    args = parser.parse_args(argv)
    for db in (("sqlite", "postgres") if args.db == "both" else (args.db,)):
        r = bench_one(db, args.orgs, args.runs, args.mail_limit)
        print(f"\n== {db}: {r['entries']:,} entries, {r['applicants']:,} applicants, 1 winner + "
              f"{r['finalists']} finalists (seed {r['seed_seconds']} s)")
        print(f"  publish request (POST /admin/editions/{YEAR}/publish): {r['publish_seconds']} s  [target < 10 s]")
        m = r["mails"]
        print(f"  result mails: {m.get('done', 0):,} sent, {m.get('failed', 0)} failed, {m.get('pending', 0)} pending "
              f"of {m.get('total', 0):,}; all handled {m['seconds_after_publish']} s after the publish answer")
        for name in ("results_page_while_mailing", "results_page", "results_page_304", "results_page_filtered",
                     "showcase_page"):
            v = r[name]
            print(f"  {name:27s} median {v['median_ms']:6.1f} ms, best {v['best_ms']:6.1f} ms, "
                  f"worst {v['worst_ms']:6.1f} ms (status {v['status']}, {args.runs} runs)")
        c = r["results_page_checks"]
        print(f"  results page: {c['awardees_listed']} awardees listed, {r['results_page_bytes']:,} bytes, "
              f"Cache-Control {c['cache_control']!r}, ETag {c['etag']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
