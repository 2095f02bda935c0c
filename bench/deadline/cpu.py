"""Where deadline day's server CPU goes: the app in this process, driven one request at a time
through ASGI (no HTTP server, no client), with the CPU each step costs and a profile.

Run by hand (not a test)::

    .venv/bin/python -m bench.deadline.cpu --db sqlite --orgs 200
    .venv/bin/python -m bench.deadline.cpu --db postgres --orgs 200 --profile /tmp/deadline.prof

Each organisation does what it does on the day (``bench.deadline.run``): log in, create an entry,
fill it, upload two 2 MB PDFs, submit. The request bodies reach the app in 64 KB pieces, as an
HTTP server hands them on. The jobs the requests leave (each PDF's check, each receipt's mail)
run after them, so each is measured on its own. Printed: the CPU seconds (user + system, all
threads: ``time.process_time``) of each step and each kind of job; on PostgreSQL, the CPU of the
database's processes an entry; with ``--floor``, what no change removes (a password checked,
a file stored durably and checked); with ``--statements``, the SQL each step runs; with
``--profile``, cProfile's top functions (timed in CPU seconds), by their own time and by
cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.deadline.db_tasks import YEAR, applicant_email
from bench.deadline.run import (
    FIELDS,
    MULTIPART,
    PASSWORD,
    STEPS,
    database_cpu,
    file_name,
    multipart_body,
    org_address,
    start_postgres,
    stop_postgres,
)
from bench.upload.run import contest_env, run_python

CHUNK = 64 * 1024


def kernel_seconds() -> float:
    """This process's CPU seconds in the kernel so far, all threads."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


class Driver:
    """Calls the ASGI app as an HTTP server would, and keeps the CPU each step spent in it."""

    def __init__(self, app: Any, profile: cProfile.Profile | None) -> None:
        self.app = app
        self.profile = profile
        self.cpu: dict[str, list[float]] = defaultdict(list)
        #: The kernel's part of each step's CPU seconds, summed.
        self.kernel: dict[str, float] = defaultdict(float)
        #: The step under way, for the statement census (``--statements``).
        self.step = ""
        #: CPU seconds of the measured requests and jobs in user space and in the kernel.
        self.user = self.system = 0.0

    async def request(self, step: str, method: str, path: str, *, client: str, body: bytes = b"",
                      headers: dict[str, str] | None = None, expect: int = 200) -> Any:
        raw_path, _, query = path.partition("?")
        head = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        head += [(b"host", b"127.0.0.1:8000"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
                 "query_string": query.encode(), "root_path": "", "headers": head,
                 "client": (client, 40000), "server": ("127.0.0.1", 8000), "extensions": {}, "state": {}}
        pieces = [body[k:k + CHUNK] for k in range(0, len(body), CHUNK)] or [b""]
        sent = 0
        status = 0
        out: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent < len(pieces):
                sent += 1
                return {"type": "http.request", "body": pieces[sent - 1], "more_body": sent < len(pieces)}
            await asyncio.sleep(3600)  # nothing more comes; a disconnect would end the wait
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                out.append(message.get("body", b""))

        self.step = step
        started, kernel = time.process_time(), kernel_seconds()
        if self.profile is not None:
            self.profile.enable()
        try:
            await self.app(scope, receive, send)
        finally:
            if self.profile is not None:
                self.profile.disable()
        self.cpu[step].append(time.process_time() - started)
        self.kernel[step] += kernel_seconds() - kernel
        text = b"".join(out)
        if status != expect:
            raise RuntimeError(f"{step}: {status} {text[:300]!r}")
        return json.loads(text) if text else None


async def one_organisation(d: Driver, i: int) -> None:
    office = org_address(i)
    token = (await d.request("login", "POST", "/api/v1/auth/token", client=office,
                             body=json.dumps({"email": applicant_email(i), "password": PASSWORD}).encode(),
                             headers={"Content-Type": "application/json"}))["token"]
    auth = {"Authorization": f"Bearer {token}"}
    as_json = {**auth, "Content-Type": "application/json"}
    entry = await d.request("create", "POST", f"/api/v1/editions/{YEAR}/entries", client=office, body=b"{}",
                            headers=as_json, expect=201)
    await d.request("patch", "PATCH", f"/api/v1/entries/{entry['id']}", client=office, headers=as_json,
                    body=json.dumps({**FIELDS, "version": entry["version"]}).encode())
    for n in (1, 2):
        name = file_name(i, n)
        await d.request(f"upload{n}", "POST", f"/api/v1/entries/{entry['id']}/attachments", client=office,
                        body=multipart_body(name), expect=201,
                        headers={**auth, "Idempotency-Key": f"bench-{name}", "Content-Type": MULTIPART})
    await d.request("submit", "POST", f"/api/v1/entries/{entry['id']}/submit", client=office, headers=auth)


async def drive(orgs: int, warm: int, profile: cProfile.Profile | None, database: Path | None,
                statements: bool) -> tuple[Driver, dict[str, list[float]], float | None, dict[str, list[str]] | None]:
    """The requests, then the jobs they left (the PDF checks, the receipts' mail), each measured
    on its own: the embedded job runner is held back while the requests run."""
    from contest.app import create_app
    from contest.db import fetch
    from contest.domain import outbox

    run_due = outbox.run_due

    async def held_back(limit: int = 500) -> int:
        return 0

    async def jobs(cpu: dict[str, list[float]], kernel: dict[str, float]) -> None:
        while rows := await fetch("SELECT id, job FROM outbox WHERE state = {} ORDER BY id", "pending"):
            for row in rows:
                started, in_kernel = time.process_time(), kernel_seconds()
                await outbox.run_item(row["id"])
                cpu[row["job"]].append(time.process_time() - started)
                kernel[row["job"]] += kernel_seconds() - in_kernel

    app = create_app()
    async with app.lifespan():
        d = Driver(app, None)
        for i in range(1, warm + 1):  # imports, caches and the connection pool before the count
            await one_organisation(d, i)
        await jobs(defaultdict(list), defaultdict(float))
        outbox.run_due = held_back
        try:
            d = Driver(app, profile)
            seen = count_statements(d) if statements else None
            db_before = database_cpu(database) if database is not None else None
            times_before = os.times()
            for i in range(warm + 1, warm + orgs + 1):
                await one_organisation(d, i)
            d.step = "jobs"
            job_cpu: dict[str, list[float]] = defaultdict(list)
            if profile is not None:
                profile.enable()
            await jobs(job_cpu, d.kernel)
            if profile is not None:
                profile.disable()
            times = os.times()
            d.user = times.user - times_before.user
            d.system = times.system - times_before.system
        finally:
            outbox.run_due = run_due
        db_seconds = None
        if db_before is not None and database is not None:
            db_seconds = sum(s - db_before.get(pid, 0.0) for pid, s in database_cpu(database).items())
    return d, job_cpu, db_seconds, seen


def count_statements(d: Driver) -> dict[str, list[str]]:
    """Every SQL statement SQLite runs from now on, under the step that ran it (the in-process
    jobs' statements fall under the step they ran beside)."""
    from contest.sqlite_engine import InlineConnection

    seen: dict[str, list[str]] = defaultdict(list)
    run = InlineConnection._run  # noqa: SLF001 - the one place every statement passes

    def counting(self: InlineConnection, sql: str, call: Any) -> Any:
        seen[d.step].append(" ".join(sql.split())[:160])
        return run(self, sql, call)

    InlineConnection._run = counting  # type: ignore[method-assign]  # noqa: SLF001
    return seen


def print_statements(seen: dict[str, list[str]], orgs: int) -> None:
    print("\nSQL statements an entry, by step (SQLite):")
    for step in (*STEPS, "jobs"):
        print(f"  {step:10} {len(seen[step]) / orgs:6.1f}")
        for sql, n in sorted(Counter(seen[step]).items(), key=lambda item: -item[1])[:25]:
            print(f"      {n / orgs:5.2f}  {sql}")


def report(d: Driver, job_cpu: dict[str, list[float]], orgs: int, db_seconds: float | None) -> None:
    print(f"{'step':22} {'count':>6} {'CPU ms each':>12} {'median':>8} {'ms an entry':>12} {'in the kernel':>14}")
    total = 0.0
    for step, name, values in [*((s, s, d.cpu[s]) for s in STEPS),
                               *((f"job {j}", j, v) for j, v in sorted(job_cpu.items()))]:
        ordered = sorted(values)
        total += sum(ordered)
        print(f"{step:22} {len(ordered):6} {1000 * sum(ordered) / len(ordered):12.2f} "
              f"{1000 * ordered[len(ordered) // 2]:8.2f} {1000 * sum(ordered) / orgs:12.2f} "
              f"{1000 * d.kernel[name] / orgs:14.2f}")
    print(f"the app in all:         {1000 * total / orgs:6.1f} ms CPU an entry "
          f"({1000 * d.user / orgs:.1f} in user space, {1000 * d.system / orgs:.1f} in the kernel)")
    if db_seconds is not None:
        print(f"PostgreSQL's backends:  {1000 * db_seconds / orgs:6.1f} ms CPU an entry")


async def floor(rounds: int = 20) -> dict[str, float]:
    """CPU ms of the work no code change removes, each done ``rounds`` times with the app's own
    pieces: a password checked (argon2id at the app's cost), a 2 MB PDF stored as an upload
    stores it (SHA-256, written, flushed to the disk with its folder), and its check (the PDF
    opened). Its durable upload is what a receipt promises; its check is what reviewers rely on."""
    import hashlib

    from contest.domain import accounts
    from contest.storage import get_storage
    from uploads.checks import check_file

    out: dict[str, float] = {}
    stored = accounts.hash_password(PASSWORD)
    started = time.process_time()
    for _ in range(rounds):
        assert accounts.verify_password(stored, PASSWORD)
    out["a password checked (argon2id)"] = (time.process_time() - started) / rounds
    storage = get_storage()
    data = multipart_body(file_name(0, 1))
    pdf = data[data.index(b"%PDF"):data.rindex(b"\r\n--")]
    keys = []
    started = time.process_time()
    for _ in range(rounds):
        pending = await storage.begin_write()
        digest = hashlib.sha256()
        for k in range(0, len(pdf), CHUNK):
            digest.update(pdf[k:k + CHUNK])
            await pending.write(pdf[k:k + CHUNK])
        await pending.commit()
        keys.append(pending.key)
    out["a 2 MB file hashed, written and flushed"] = (time.process_time() - started) / rounds
    started = time.process_time()
    for key in keys:
        result = await check_file(storage, key, "application/pdf")
        assert result.state == "passed", result
    out["its check (the PDF opened)"] = (time.process_time() - started) / rounds
    for key in keys:
        await storage.delete(key)
    return out


def print_floor(figures: dict[str, float]) -> None:
    print("\nthe floor (CPU no change removes):")
    for what, seconds in figures.items():
        print(f"  {what:42} {1000 * seconds:6.2f} ms")
    entry = (figures["a password checked (argon2id)"] + 2 * figures["a 2 MB file hashed, written and flushed"]
             + 2 * figures["its check (the PDF opened)"])
    print(f"  an entry (one log-in, two files):          {1000 * entry:6.2f} ms")


def print_profile(profile: cProfile.Profile, path: str | None, top: int) -> None:
    stats = pstats.Stats(profile)
    if path:
        stats.dump_stats(path)
        print(f"profile written to {path}")
    for order in ("tottime", "cumulative"):
        print(f"\n--- by {order} ---")
        stats.sort_stats(order).print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--orgs", type=int, default=200, help="organisations measured (default 200)")
    parser.add_argument("--warm", type=int, default=20, help="organisations run first, not counted")
    parser.add_argument("--profile", nargs="?", const="", default=None, metavar="FILE",
                        help="profile the measured requests (and write the profile to FILE)")
    parser.add_argument("--statements", action="store_true",
                        help="count the SQL statements each step runs (SQLite)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure the work no change removes (argon2, a file's storing and check)")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix=f"bench-deadline-cpu-{args.db}-"))
    pg_env = None
    try:
        database_url = None
        if args.db == "postgres":
            database_url, pg_env = start_postgres(work / "services")
        env = contest_env(work / "var", database_url)
        run_python(env, ["-m", "contest.cli", "migrate"])
        run_python(env, ["-m", "bench.deadline.db_tasks", "seed", str(args.orgs + args.warm), PASSWORD])
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, env["PYTHONPATH"].split(os.pathsep)[0])
        profile = cProfile.Profile(time.process_time) if args.profile is not None else None
        d, job_cpu, db_seconds, seen = asyncio.run(drive(args.orgs, args.warm, profile,
                                                         work / "services" if pg_env is not None else None,
                                                         args.statements and args.db == "sqlite"))
        print(f"deadline day, one request at a time, {args.db}, {args.orgs} entries measured")
        report(d, job_cpu, args.orgs, db_seconds)
        if seen is not None:
            print_statements(seen, args.orgs)
        if args.floor:
            print_floor(asyncio.run(floor()))
        if profile is not None:
            print_profile(profile, args.profile or None, args.top)
    finally:
        if pg_env is not None:
            stop_postgres(work / "services", pg_env)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
