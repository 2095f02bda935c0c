"""Reviewing benchmark: reviewers open a score sheet and save it, C at once, against the real app
(``contest serve``, granian).

Run by hand (not a test)::

    .venv/bin/python -m bench.reviewing.run                      # SQLite and PostgreSQL, 10 clients
    .venv/bin/python -m bench.reviewing.run --db sqlite --workers 1,2 --pairs 3000
    # against servers already running (the database is the one DATABASE_URL names here too):
    .venv/bin/python -m bench.reviewing.run --seed-only                                  # seed it, stop
    .venv/bin/python -m bench.reviewing.run --no-seed --base-url http://a:8000 --base-url http://b:8000

The data: the ranking benchmark's round (7,000 entries, 3 reviewers each = 21,000 sheets,
20 reviewers, 6 criteria), with the sheets of the first reviewers (one per client) still being
scored. Each client signs in as a browser does (log-in form, two-factor code) as one reviewer
and, for its share of the pairs, opens one of that reviewer's sheets (``GET
/review/assignments/{id}``, the page) and saves new scores and a comment with the version the
page carried: ``--save autosave`` (default) is what the page's htmx posts, ``POST
/review/assignments/{id}/autosave``; ``--save api`` is ``PUT /api/v1/assignments/{id}/scores``
with the same session. Requests go round-robin over the ``--base-url``s. A request that did not
reach a server (connection refused) goes to the next one; a save whose answer was lost is checked
by opening the sheet again (its version and scores) before it is sent again. Afterwards the
database must hold every save: each sheet's version went up by the number of saves sent to it,
and it holds the last scores and comment sent; the other sheets are unchanged.
Only the given servers (default: 127.0.0.1) are contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.deadline.run import add_server_options, pct, server_log_errors, start_postgres, stop_postgres
from bench.rawhttp import RawClient
from bench.signin import sign_in
from bench.upload.run import ROOT, contest_env, free_port, process_tree, run_python, start_contest, stop_server

PASSWORD = "bench-password-123"
STEPS = ("open", "save", "pair")
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
VERSION = re.compile(r'id="f-version" value="(\d+)"')
FIELD = re.compile(r'name="score_([^"]+)" value="([^"]*)"\s+min="([^"]+)" max="([^"]+)"')
#: How long a client keeps trying servers that refuse connections (a process being restarted).
RETRY_SECONDS = 60.0


# --- the load -----------------------------------------------------------------------------------

class PairFailed(Exception):
    pass


@dataclass
class Load:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[tuple[str, int, str, str]] = field(default_factory=list)
    retries: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    saves: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # sheet -> saves that landed
    last: dict[int, tuple[dict[str, float], str]] = field(default_factory=dict)  # sheet -> (scores, comment)
    done: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0


@dataclass
class Client:
    number: int
    http: httpx.AsyncClient | RawClient
    bases: list[str]
    sheets: list[int]
    turn: int = 0
    opened: int = 0

    def url(self, path: str) -> str:
        self.turn += 1
        return self.bases[self.turn % len(self.bases)] + path


def _sent(exc: httpx.HTTPError) -> bool:
    """Whether the request may have reached the server (else it is safe to send it anywhere again)."""
    return not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


async def send(client: Client, load: Load, step: str, method: str, path: str, *, safe: bool,
               **kwargs: Any) -> httpx.Response | None:
    """The answer; None when a request that may have landed lost its answer (the caller checks).
    Connection refused: the next server, with a short pause, for up to RETRY_SECONDS."""
    give_up = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            return await client.http.request(method, client.url(path), **kwargs)
        except httpx.HTTPError as exc:
            if time.monotonic() > give_up:
                load.errors.append((step, client.number, type(exc).__name__, str(exc)[:300]))
                raise PairFailed from exc
            load.retries[step] += 1
            if _sent(exc) and not safe:
                return None
            await asyncio.sleep(0.2)


async def open_sheet(client: Client, load: Load, sheet: int) -> tuple[str, float]:
    started = time.perf_counter()
    resp = await send(client, load, "open", "GET", f"/review/assignments/{sheet}", safe=True)
    assert resp is not None
    elapsed = time.perf_counter() - started
    if resp.status_code != 200:
        load.errors.append(("open", client.number, str(resp.status_code), resp.text[:300]))
        raise PairFailed
    return resp.text, elapsed


def new_values(page: str, n: int) -> dict[str, float]:
    """A fresh in-range whole number for every criterion on the page."""
    out = {}
    for j, (code, _, low, high) in enumerate(FIELD.findall(page)):
        lo, hi = float(low), float(high)
        span = int(hi - lo) + 1
        out[code] = lo + (n + j) % span
    return out


def fmt(v: float) -> str:
    return str(int(v)) if v == int(v) else str(v)


async def save_sheet(client: Client, load: Load, sheet: int, page: str, n: int, how: str) -> float:
    """Save new scores; the seconds the save took (the landed attempt's)."""
    csrf = CSRF.search(page)
    version = VERSION.search(page)
    if not csrf or not version:
        load.errors.append(("save", client.number, "page", f"sheet {sheet}: no csrf token or version"))
        raise PairFailed
    token, sent_version = csrf.group(1), int(version.group(1))
    values = new_values(page, n)
    comment = f"bench {client.number}-{n}"
    while True:
        if how == "api":
            kwargs: dict[str, Any] = {"json": {"scores": values, "comment": comment, "version": sent_version},
                                      "headers": {"X-CSRF-Token": token}}
            method, path = "PUT", f"/api/v1/assignments/{sheet}/scores"
        else:
            form = {"_csrf": token, "version": str(sent_version), "comment": comment,
                    **{f"score_{code}": fmt(v) for code, v in values.items()}}
            kwargs = {"data": form, "headers": {"HX-Request": "true", "HX-Trigger-Name": "comment",
                                                "X-CSRF-Token": token}}
            method, path = "POST", f"/review/assignments/{sheet}/autosave"
        started = time.perf_counter()
        resp = await send(client, load, "save", method, path, safe=False, **kwargs)
        elapsed = time.perf_counter() - started
        if resp is None:  # the answer was lost: did it land? Open the sheet again and look.
            page, _ = await open_sheet(client, load, sheet)
            now = VERSION.search(page)
            stored = {code: float(v) for code, v, _, _ in FIELD.findall(page) if v}
            if now and int(now.group(1)) == sent_version + 1 and stored == values:
                load.retries["save landed"] += 1
                break
            load.retries["save resent"] += 1
            sent_version = int(now.group(1)) if now else sent_version
            continue
        if resp.status_code != 200:
            load.errors.append(("save", client.number, str(resp.status_code), resp.text[:300]))
            raise PairFailed
        answered = resp.json()["version"] if how == "api" else int(VERSION.search(resp.text).group(1))  # type: ignore[union-attr]
        if answered != sent_version + 1:
            load.errors.append(("save", client.number, "version", f"sheet {sheet}: {sent_version} -> {answered}"))
            raise PairFailed
        break
    load.saves[sheet] += 1
    load.last[sheet] = (values, comment)
    return elapsed


async def run_load(clients: list[Client], pairs: int, how: str) -> Load:
    load = Load()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(pairs):
        queue.put_nowait(n)

    async def client_task(client: Client) -> None:
        while True:  # bounded: the queue holds exactly `pairs` items and is never refilled
            try:
                n = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            sheet = client.sheets[client.opened % len(client.sheets)]  # its own sheets in turn
            client.opened += 1
            try:
                page, opened = await open_sheet(client, load, sheet)
                saved = await save_sheet(client, load, sheet, page, n, how)
            except PairFailed:
                continue
            load.latencies["open"].append(opened)
            load.latencies["save"].append(saved)
            load.latencies["pair"].append(opened + saved)
            load.done += 1

    # Warm-up: each client opens its first sheet once (not counted).
    await asyncio.gather(*(open_sheet(c, Load(), c.sheets[0]) for c in clients))
    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client_task(c) for c in clients))
    load.seconds = time.perf_counter() - started
    load.cpu_seconds = time.process_time() - cpu
    return load


def office(email: str) -> dict[str, str]:
    """Each reviewer works from their own address, carried in ``X-Forwarded-For`` as the load
    balancer does (the servers trust 127.0.0.1 as it, ``TRUSTED_PROXIES``)."""
    n = sum(email.encode()) % 250 + 1
    return {"X-Forwarded-For": f"10.250.{n}.{len(email) % 250 + 1}"}


def sign_in_reviewers(base: str, emails: list[str]) -> dict[str, httpx.Cookies]:
    """One browser session per reviewer (a two-factor code works once, so once each)."""
    jars = {}
    for email in emails:
        with httpx.Client(base_url=base, timeout=60, follow_redirects=False, headers=office(email)) as c:
            resp = sign_in(c, email, PASSWORD)
            if resp.status_code != 303:
                raise RuntimeError(f"log-in failed for {email}: {resp.status_code} {resp.text[:300]}")
            jars[email] = c.cookies
    return jars


def make_clients(bases: list[str], before: dict[str, Any], count: int,
                 kind: str = "raw") -> tuple[list[Client], list[str]]:
    """``count`` clients over the reviewers with open sheets: client k is reviewer k mod R, and
    clients sharing a reviewer take disjoint slices of the sheets (no two tabs on one sheet)."""
    by_reviewer: dict[str, list[int]] = defaultdict(list)
    for sheet, (email, *_) in before.items():
        by_reviewer[email].append(int(sheet))
    emails = sorted(by_reviewer)[:count]
    if not emails:
        raise SystemExit("no sheets are being scored: seed first")
    share = -(-count // len(emails))
    jars = sign_in_reviewers(bases[0], emails)
    clients = []
    limits = httpx.Limits(max_connections=len(bases), max_keepalive_connections=len(bases))
    for k in range(count):
        email = emails[k % len(emails)]
        sheets = sorted(by_reviewer[email])[k // len(emails)::share]
        http: httpx.AsyncClient | RawClient
        if kind == "raw":
            http = RawClient(cookies=dict(jars[email]), headers=office(email))
        else:
            http = httpx.AsyncClient(timeout=120, limits=limits, cookies=jars[email], follow_redirects=False,
                                     headers=office(email))
        clients.append(Client(k, http, bases, sheets, turn=k))
    return clients, emails


def verify(before: dict[str, Any], after: dict[str, Any], load: Load) -> list[str]:
    """Problems found; empty when every save landed and nothing else changed."""
    problems = []
    for sheet, (_email, version, scores, comment) in before.items():
        now = after.get(sheet)
        n = load.saves.get(int(sheet), 0)
        if now is None:
            problems.append(f"sheet {sheet}: no longer being scored")
            continue
        if now[1] != version + n:
            problems.append(f"sheet {sheet}: version {version} + {n} saves -> {now[1]}")
        if n:
            values, sent_comment = load.last[int(sheet)]
            stored = {k: float(v) for k, v in now[2].items()}
            if stored != values or now[3] != sent_comment:
                problems.append(f"sheet {sheet}: holds {stored} {now[3]!r}, last sent {values} {sent_comment!r}")
        elif now[2] != scores or now[3] != comment:
            problems.append(f"sheet {sheet}: changed without a save")
    return problems


# --- one run ------------------------------------------------------------------------------------

def tree_cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes (and their waited-for children), from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class RunResult:
    label: str
    clients: int
    pairs: int
    how: str
    load: Load
    reviewers: int
    problems: list[str]
    server_cpu: float | None = None
    server_errors: list[str] = field(default_factory=list)


def measure(env: dict[str, str], bases: list[str], clients: int, pairs: int, how: str, label: str,
            server_pids: list[int] | None = None, kind: str = "raw") -> RunResult:
    facts = json.loads(run_python(env, ["-m", "bench.reviewing.db_tasks", "facts"]).strip().splitlines()[-1])
    round_id = facts["round_id"]
    before = json.loads(run_python(env, ["-m", "bench.reviewing.db_tasks", "snapshot", str(round_id)])
                        .strip().splitlines()[-1])

    async def go() -> tuple[Load, float | None]:
        made, emails = make_clients(bases, before, clients, kind)
        try:
            cpu0 = tree_cpu_seconds(server_pids) if server_pids else None
            load = await run_load(made, pairs, how)
            cpu = tree_cpu_seconds(server_pids) - cpu0 if server_pids and cpu0 is not None else None
            return load, cpu
        finally:
            for c in made:
                await c.http.aclose()

    print(f"  [{label}] {len(before):,} sheets being scored; {clients} clients ({kind} HTTP client), {pairs} pairs, "
          f"save via {how} …", flush=True)
    load, server_cpu = asyncio.run(go())
    after = json.loads(run_python(env, ["-m", "bench.reviewing.db_tasks", "snapshot", str(round_id)])
                       .strip().splitlines()[-1])
    reviewers = len({before[str(s)][0] for s in load.saves})
    return RunResult(label, clients, pairs, how, load, reviewers, verify(before, after, load), server_cpu)


def seed(env: dict[str, str], entries: int, reviewers: int, active: int) -> dict[str, Any]:
    started = time.perf_counter()
    facts = json.loads(run_python(env, ["-m", "bench.reviewing.db_tasks", "seed", str(entries), str(reviewers),
                                        PASSWORD, str(active)], timeout=1800).strip().splitlines()[-1])
    print(f"  seeded {entries:,} entries, {facts['assignments']:,} sheets, {reviewers} reviewers "
          f"({len(facts['reviewers'])} still scoring) in {time.perf_counter() - started:.0f} s", flush=True)
    return facts


def run_local(db: str, args: argparse.Namespace, worker_counts: list[int]) -> list[RunResult]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-reviewing-{db}-"))
    pg_env = None
    results = []
    try:
        url = None
        if db == "postgres":
            url, pg_env = start_postgres(work / "services")
        env = {**contest_env(work / "var", url), "TRUSTED_PROXIES": "127.0.0.1"}  # see office
        run_python(env, ["-m", "contest.cli", "migrate"])
        seed(env, args.entries, args.reviewers, min(args.clients, args.reviewers))
        for workers in worker_counts:
            port = free_port()
            log = work / f"server-{workers}.log"
            with log.open("wb") as log_fh:
                proc = start_contest(env, port, workers, log=log_fh)
                try:
                    r = measure(env, [f"http://127.0.0.1:{port}"], args.clients, args.pairs, args.save,
                                f"{db}, {workers} worker(s)", process_tree(proc.pid), args.client)
                finally:
                    stop_server(proc)
            r.server_errors = server_log_errors(log)
            report(r)
            results.append(r)
        return results
    finally:
        if pg_env is not None:
            stop_postgres(work / "services", pg_env)
        import shutil

        shutil.rmtree(work, ignore_errors=True)


# --- report -------------------------------------------------------------------------------------

def report(r: RunResult) -> None:
    load = r.load
    rate = load.done / load.seconds if load.seconds else 0.0
    server = f", server CPU {r.server_cpu:.1f} s" if r.server_cpu is not None else ""
    print(f"\n{r.label}: {r.clients} clients ({r.reviewers} reviewers), save via {r.how}: {load.done} pairs in "
          f"{load.seconds:.1f} s = {rate:.1f} saves/s; client CPU {load.cpu_seconds:.1f} s{server}")
    print(f"  {'step':<6} {'n':>6} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for step in STEPS:
        v = load.latencies.get(step, [])
        if v:
            print(f"  {step:<6} {len(v):>6} {statistics.fmean(v) * 1e3:>8.1f} {pct(v, .5) * 1e3:>8.1f} "
                  f"{pct(v, .95) * 1e3:>8.1f} {pct(v, .99) * 1e3:>8.1f} {max(v) * 1e3:>8.1f}")
    print(f"  errors: {len(load.errors)}; retries: {dict(load.retries) or 0}")
    for step, k, what, text in load.errors[:10]:
        print(f"    {step} client {k}: {what} {text}")
    print(f"  verification: {'ok' if not r.problems else f'{len(r.problems)} PROBLEMS'} "
          f"({sum(load.saves.values())} saves on {len(load.saves)} sheets, each version and last scores "
          f"checked in the database)")
    for p in r.problems[:10]:
        print(f"    {p}")
    if r.server_errors:
        print(f"  server log: {len(r.server_errors)} error lines")
        for line in r.server_errors[:5]:
            print(f"    {line[:200]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=2000, help="open+save pairs in all")
    parser.add_argument("--workers", default="1,2", help="granian worker counts to try, e.g. 1,2")
    parser.add_argument("--save", choices=("autosave", "api"), default="autosave",
                        help="the page's htmx autosave (default) or PUT /api/v1/assignments/{id}/scores")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="the clients' HTTP: bench/rawhttp.py (default, about a tenth of httpx's CPU) or httpx")
    parser.add_argument("--entries", type=int, default=7000)
    parser.add_argument("--reviewers", type=int, default=20)
    add_server_options(parser, "the database is the one DATABASE_URL names in this environment")
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    if args.seed_only:
        seed(env, args.entries, args.reviewers, min(args.clients, args.reviewers))
        return 0
    if args.base_url:
        if not args.no_seed:
            seed(env, args.entries, args.reviewers, min(args.clients, args.reviewers))
        bases = [u.rstrip("/") for u in args.base_url]
        r = measure(env, bases, args.clients, args.pairs, args.save, f"{len(bases)} server(s)", kind=args.client)
        report(r)
        results = [r]
    else:
        worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
        results = []
        for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
            results += run_local(db, args, worker_counts)
    print(f"\n{'run':<24} {'pairs':>6} {'errors':>6} {'saves/s':>8} " + " ".join(
        f"{s + ' p50/p95/p99 ms':>22}" for s in STEPS) + "  verified")
    for r in results:
        rate = r.load.done / r.load.seconds if r.load.seconds else 0.0
        cells = " ".join(
            f"{'/'.join(f'{pct(r.load.latencies.get(s, []), q) * 1e3:.0f}' for q in (.5, .95, .99)):>22}"
            for s in STEPS)
        print(f"{r.label:<24} {r.load.done:>6} {len(r.load.errors):>6} {rate:>8.1f} {cells}  "
              f"{'ok' if not r.problems else 'NO'}")
    return 0 if all(not r.load.errors and not r.problems and r.load.done == r.pairs for r in results) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
