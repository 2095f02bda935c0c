"""Deadline-day benchmark: N organisations each log in, create an entry, fill it, upload two 2 MB
PDFs and submit, with C concurrent clients, against the real app (``contest serve``, granian).

Run by hand (not a test)::

    .venv/bin/python -m bench.deadline.run                          # SQLite and PostgreSQL, 2,000 orgs
    .venv/bin/python -m bench.deadline.run --db sqlite --orgs 500 --workers 2
    # against servers already running (the database and storage are the ones this environment names):
    .venv/bin/python -m bench.deadline.run --seed-only --orgs 300
    .venv/bin/python -m bench.deadline.run --no-seed --orgs 300 --base-url http://a:8000 --base-url http://b:8000

Per database and per worker count: a fresh throw-away database (SQLite in a temp VAR_DIR, or a
PostgreSQL cluster from ``scripts/services.sh``), ``contest migrate``, a seed (N organisations,
N confirmed applicants sharing one argon2 hash, an open edition 2569), then the load. Afterwards
every receipt is checked against the stored files (SHA-256 recomputed from disk, and from the
bytes the client sent) and the database must hold exactly N submitted entries and 2N attachments.
Each organisation's requests carry its own office's address in ``X-Forwarded-For`` (the servers
trust 127.0.0.1 as their load balancer, ``TRUSTED_PROXIES``): the log-in limit per address
then counts per organisation, as on the day, not for all of them at once.
With ``--base-url`` (repeatable) no server is started (start them with
``TRUSTED_PROXIES=127.0.0.1``): the requests go round-robin over the
given servers, a request that reached none (connection refused) goes to the next one, and one
whose answer was lost is checked before it is sent again (see ``one_organisation``); the files
are read back from the storage the environment names (a folder or S3) to recompute their SHA-256.
Only 127.0.0.1 (or the given servers) is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.deadline.db_tasks import YEAR, applicant_email, org_code
from bench.rawhttp import RawClient
from bench.upload.run import (
    ROOT,
    RssSampler,
    contest_env,
    free_port,
    process_tree,
    run_python,
    start_contest,
    stop_server,
)

MB = 1024 * 1024
PASSWORD = "bench-password-123"
STEPS = ("login", "create", "patch", "upload1", "upload2", "submit")
FIELDS = {
    "title": "ระบบรับเรื่องร้องเรียนออนไลน์",
    "category": "service",
    "summary": "ประชาชนแจ้งเรื่องผ่าน LINE และติดตามสถานะได้เอง " * 5,
    "problem": "เดิมต้องเดินทางมาที่สำนักงาน ใช้เวลาหลายวันกว่าจะได้รับการแก้ไข " * 10,
    "solution": "แพลตฟอร์มรับเรื่อง แจ้งเจ้าหน้าที่อัตโนมัติ และแผนที่จุดปัญหา " * 10,
    "results": "เวลาเฉลี่ยในการแก้ไขลดลงจาก 7 วันเหลือ 2 วัน " * 10,
    "contact_name": "นายทดสอบ ระบบดี",
    "contact_email": "contact@bench.go.th",
}


# --- the files ----------------------------------------------------------------------------------
# One valid one-page PDF of exactly 2 MB: catalog, pages, page, an empty content stream and an
# unreferenced stream of random padding whose first 64 bytes are a per-file nonce. The nonce has
# a fixed length, so every file shares the xref offsets and is PREFIX + nonce + SUFFIX.

def _pdf_template(total: int) -> tuple[bytes, bytes]:
    nonce_len = 64
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length 3 >>\nstream\nq Q\nendstream",
    ]
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    body = bytearray(head)
    offsets = []
    for number, obj in enumerate(objs, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"

    def tail(pad_len: int, pad_offset: int) -> bytes:
        xref_at = pad_offset + len(b"5 0 obj\n<< /Length %d >>\nstream\n" % pad_len) + pad_len + len(
            b"\nendstream\nendobj\n")
        rows = b"".join(b"%010d 00000 n \n" % o for o in (*offsets, pad_offset))
        return (b"\nendstream\nendobj\nxref\n0 6\n0000000000 65535 f \n" + rows
                + b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref_at)

    pad_offset = len(body)
    overhead = len(body) + len(b"5 0 obj\n<< /Length 0000000 >>\nstream\n") + len(tail(total - 1000, pad_offset))
    pad_len = total - overhead
    assert 1_000_000 <= pad_len < 10_000_000, pad_len  # seven digits, as in the overhead estimate
    stream_head = b"5 0 obj\n<< /Length %d >>\nstream\n" % pad_len
    prefix = bytes(body) + stream_head
    suffix = os.urandom(pad_len - nonce_len) + tail(pad_len, pad_offset)
    return prefix, suffix


PREFIX, SUFFIX = _pdf_template(2 * MB)


def file_name(i: int, n: int) -> str:
    return f"{org_code(i)}-{n}.pdf"


def nonce(name: str) -> bytes:
    return hashlib.sha256(name.encode()).hexdigest().encode()


def pdf_bytes(name: str) -> bytes:
    return PREFIX + nonce(name) + SUFFIX


def expected_sha256(name: str) -> str:
    return hashlib.sha256(pdf_bytes(name)).hexdigest()


def check_template() -> None:
    import io

    from pypdf import PdfReader

    data = pdf_bytes(file_name(1, 1))
    assert len(data) == 2 * MB, len(data)
    assert len(PdfReader(io.BytesIO(data), strict=True).pages) == 1


BOUNDARY = "bench-deadline-boundary-7f3a9c"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart_body(name: str) -> bytes:
    """The upload form as a browser sends it: the kind, then the file."""
    return b"".join((
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\npresentation\r\n'.encode(),
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode(),
        pdf_bytes(name), f"\r\n--{BOUNDARY}--\r\n".encode()))


# --- the load -----------------------------------------------------------------------------------

Client = httpx.AsyncClient | RawClient


class StepFailed(Exception):
    pass


class AnswerLost(Exception):
    """The request may have reached a server but its answer never came (the process died)."""


@dataclass
class Load:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[tuple[str, int, str, str]] = field(default_factory=list)
    receipts: dict[int, dict[str, Any]] = field(default_factory=dict)
    retries: Counter[str] = field(default_factory=Counter)
    done: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    #: The server processes' CPU during the load (user + system), and the machine's load average after it.
    server_cpu_seconds: float = 0.0
    #: The part of it spent in the kernel (system time: files, sockets, memory).
    server_kernel_seconds: float = 0.0
    #: PostgreSQL's processes' CPU during the load (its backends serving the app among them); None on SQLite.
    database_cpu_seconds: float | None = None
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)


#: How long a client keeps trying servers that refuse connections (a process being restarted).
RETRY_SECONDS = 60.0


@dataclass
class Servers:
    """The servers' base URLs; each request goes to the next one (round-robin)."""
    bases: list[str]
    turn: int = 0

    def url(self, path: str) -> str:
        self.turn += 1
        return self.bases[self.turn % len(self.bases)] + path


def org_address(i: int) -> str:
    """Organisation i's own address. Every organisation logs in from its own office, not from one
    address: the requests carry it in ``X-Forwarded-For`` as the load balancer does, and the
    servers trust 127.0.0.1 as that load balancer (``TRUSTED_PROXIES``), so the log-in limits per
    address count per organisation as they would on the day."""
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


async def call(client: Client, servers: Servers, load: Load, i: int, step: str, method: str,
               path: str, expect: int, *, safe: bool = False, **kwargs: Any) -> dict[str, Any]:
    """The answer's JSON. A request that reached no server (connection refused) goes to the next
    one; one whose answer was lost is sent again when ``safe``, else ``AnswerLost`` (the caller
    looks whether it landed)."""
    give_up = time.monotonic() + RETRY_SECONDS
    while True:
        started = time.perf_counter()
        try:
            resp = await client.request(method, servers.url(path), **kwargs)
            break
        except httpx.HTTPError as exc:
            if time.monotonic() > give_up:
                load.errors.append((step, i, type(exc).__name__, str(exc)[:300]))
                raise StepFailed from exc
            load.retries[step] += 1
            sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
            if sent and not safe:
                raise AnswerLost from exc
            await asyncio.sleep(0.2)
    load.latencies[step].append(time.perf_counter() - started)
    if resp.status_code != expect:
        load.errors.append((step, i, str(resp.status_code), resp.text[:300]))
        raise StepFailed
    return resp.json()


async def one_organisation(client: Client, servers: Servers, load: Load, i: int) -> None:
    """Log in, create, fill, upload two files, submit. Each step that may have landed without
    its answer is checked by reading the entry again before it is sent again; uploads carry an
    ``Idempotency-Key``, so sending one again stores it once."""
    office = {"X-Forwarded-For": org_address(i)}
    token = (await call(client, servers, load, i, "login", "POST", "/api/v1/auth/token", 200, safe=True,
                        json={"email": applicant_email(i), "password": PASSWORD}, headers=office))["token"]
    auth = {"Authorization": f"Bearer {token}", **office}

    async def read(entry_id: int) -> dict[str, Any]:
        return await call(client, servers, load, i, "reread", "GET", f"/api/v1/entries/{entry_id}", 200,
                          safe=True, headers=auth)

    while True:
        try:
            entry = await call(client, servers, load, i, "create", "POST", f"/api/v1/editions/{YEAR}/entries",
                               201, json={}, headers=auth)
            break
        except AnswerLost:
            mine = await call(client, servers, load, i, "reread", "GET", f"/api/v1/entries?year={YEAR}", 200,
                              safe=True, headers=auth)
            if mine:
                entry = await read(mine[0]["id"])
                load.retries["create landed"] += 1
                break
    entry_id = entry["id"]
    title = f"{FIELDS['title']} {org_code(i)}"
    version = entry["version"]
    while True:
        try:
            await call(client, servers, load, i, "patch", "PATCH", f"/api/v1/entries/{entry_id}", 200,
                       json={**FIELDS, "title": title, "version": version}, headers=auth)
            break
        except AnswerLost:
            now = await read(entry_id)
            if now["version"] == version + 1 and now["title"] == title:
                load.retries["patch landed"] += 1
                break
            version = now["version"]
    for n in (1, 2):
        name = file_name(i, n)
        await call(client, servers, load, i, f"upload{n}", "POST", f"/api/v1/entries/{entry_id}/attachments", 201,
                   safe=True, content=multipart_body(name),
                   headers={**auth, "Idempotency-Key": f"bench-{name}", "Content-Type": MULTIPART})
    while True:
        try:
            result = await call(client, servers, load, i, "submit", "POST", f"/api/v1/entries/{entry_id}/submit",
                                200, headers=auth)
            load.receipts[i] = result["receipt"]
            break
        except AnswerLost:
            now = await read(entry_id)
            if now["state"] == "submitted" and now["receipts"]:
                load.receipts[i] = now["receipts"][-1]
                load.retries["submit landed"] += 1
                break
    load.done += 1


async def run_load(bases: str | list[str], orgs: int, clients: int, client_kind: str = "raw") -> Load:
    """``client_kind``: ``raw`` (``bench.rawhttp``: one keep-alive connection per client and
    server, a tenth of httpx's CPU per request) or ``httpx`` (one shared pooled client)."""
    load = Load()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(1, orgs + 1):
        queue.put_nowait(i)
    bases = [bases] if isinstance(bases, str) else bases

    async def client_task(client: Client, servers: Servers) -> None:
        while True:  # bounded: the queue holds exactly `orgs` items and is never refilled
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await one_organisation(client, servers, load, i)
            except StepFailed:
                pass

    started, cpu = time.perf_counter(), time.process_time()
    if client_kind == "raw":
        # Accept-Encoding as httpx and browsers send it: the server compresses what it would on the day.
        raw_clients = [RawClient(timeout=300, headers={"Accept-Encoding": "gzip"}) for _ in range(clients)]
        try:
            await asyncio.gather(*(client_task(c, Servers(bases, turn=k)) for k, c in enumerate(raw_clients)))
        finally:
            for c in raw_clients:
                await c.aclose()
    else:
        limits = httpx.Limits(max_connections=clients * len(bases), max_keepalive_connections=clients * len(bases))
        async with httpx.AsyncClient(timeout=300, limits=limits) as client:
            await asyncio.gather(*(client_task(client, Servers(bases, turn=k)) for k in range(clients)))
    load.seconds = time.perf_counter() - started
    load.cpu_seconds = time.process_time() - cpu
    return load


# --- verification -------------------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(MB):
            h.update(chunk)
    return h.hexdigest()


def verify(facts: dict[str, Any], stored: Path | dict[str, tuple[str, int]], orgs: int, load: Load) -> list[str]:  # noqa: C901 - one check per fact of the run, each two lines; the list is the specification
    """Problems found; empty when every check holds. ``stored``: the local uploads folder, or each
    stored object's SHA-256 and size by key as read back from the storage (see ``stored_hashes``)."""
    problems: list[str] = []
    states = Counter(e["state"] for e in facts["entries"])
    live = [a for a in facts["attachments"] if a["deleted_at"] is None]
    if states.get("submitted", 0) != orgs or len(facts["entries"]) != orgs:
        problems.append(f"entries: {dict(states)} (expected {orgs} submitted)")
    if len(live) != 2 * orgs:
        problems.append(f"attachments: {len(live)} live (expected {2 * orgs})")
    if len(facts["receipts"]) != orgs:
        problems.append(f"receipts: {len(facts['receipts'])} (expected {orgs})")
    audit = facts.get("audit")
    if audit is not None and not audit["ok"]:
        problems.append(f"audit chain broken at event {audit['broken_at_seq']}: {audit['reason']}")
    by_id = {a["id"]: a for a in live}
    pairs = []  # (receipt number, receipt file, attachment row)
    for r in facts["receipts"]:
        if len(r["files"]) != 2:
            problems.append(f"receipt {r['number']}: {len(r['files'])} files")
        for f in r["files"]:
            att = by_id.get(f["attachment_id"])
            if att is None:
                problems.append(f"receipt {r['number']}: attachment {f['attachment_id']} missing")
                continue
            pairs.append((r["number"], f, att))

    def check(item: tuple[str, dict[str, Any], dict[str, Any]]) -> str | None:
        number, f, att = item
        if isinstance(stored, dict):
            if att["storage_key"] not in stored:
                return f"{number}: {f['name']} not in the storage at {att['storage_key']}"
            on_disk, size = stored[att["storage_key"]]
        else:
            path = stored / att["storage_key"]
            if not path.is_file():
                return f"{number}: {f['name']} not on disk at {att['storage_key']}"
            on_disk, size = file_sha256(path), path.stat().st_size
        sent = expected_sha256(f["name"])
        if not (f["sha256"] == att["sha256"] == on_disk == sent) or f["size"] != size:
            return (f"{number}: {f['name']} receipt {f['sha256'][:12]} row {att['sha256'][:12]} "
                    f"disk {on_disk[:12]} sent {sent[:12]}")
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib releases the GIL on large buffers
        problems.extend(p for p in pool.map(check, pairs) if p)
    # What the clients were told must be what the database keeps.
    by_number = {r["number"]: r for r in facts["receipts"]}
    for i, told in load.receipts.items():
        kept = by_number.get(told["number"])
        if kept is None or sorted(f["sha256"] for f in told["files"]) != sorted(f["sha256"] for f in kept["files"]):
            problems.append(f"org {i}: receipt {told['number']} differs from the database")
    return problems


# --- one run ------------------------------------------------------------------------------------

@dataclass
class RunResult:
    db: str
    workers: int
    orgs: int
    clients: int
    load: Load
    setup_seconds: float
    rss_peak_mb: float
    checks: Counter[str]
    problems: list[str]
    server_errors: list[str]
    #: Events in the audit chain, recomputed and verified after the load.
    audit_events: int = 0


def start_postgres(work: Path) -> tuple[str, dict[str, str]]:
    work.mkdir(parents=True, exist_ok=True)
    for d in (work.parent, work):
        d.chmod(0o755)  # the cluster runs as the postgres user when we are root
    # PostgreSQL as production runs it: every commit waits for its log to reach the disk, as each
    # durable SQLite commit does (the test suite's clusters skip that).
    env = {**os.environ, "PG_PORT": str(free_port()), "REDIS_PORT": str(free_port()), "PG_DURABLE": "1"}
    env.pop("DATABASE_URL", None)
    env["REDIS_URL"] = "unused"  # services.sh then skips Redis: the app runs jobs in-process
    out = subprocess.run(["bash", str(ROOT / "scripts/services.sh"), "start", str(work)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    match = re.search(r"DATABASE_URL_PG=(\S+)", out)
    if not match:
        raise RuntimeError(f"services.sh printed no DATABASE_URL_PG:\n{out}")
    # The app reaches this cluster on the same machine as a single-machine deployment should:
    # through its socket, which costs the app and PostgreSQL less CPU than TCP over 127.0.0.1
    # (4-6% more entries a second on deadline day here). A socket path must fit in 107 bytes.
    socket = work / "pg" / f".s.PGSQL.{env['PG_PORT']}"
    if len(str(socket)) < 100 and socket.exists():
        return f"postgres://contest@/contest_test?host={socket.parent}&port={env['PG_PORT']}", env
    return match.group(1), env


def stop_postgres(work: Path, env: dict[str, str]) -> None:
    subprocess.run(["bash", str(ROOT / "scripts/services.sh"), "stop", str(work)], cwd=ROOT, env=env,
                   capture_output=True, text=True, timeout=120, check=False)


def cpu_seconds(pids: list[int], *, kernel_only: bool = False) -> float:
    """User + system CPU seconds of these processes so far (from /proc; a gone process counts 0);
    with ``kernel_only``, the system part alone."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[12]) + (0 if kernel_only else int(fields[11]))  # stime, utime
    return total / os.sysconf("SC_CLK_TCK")


def database_cpu(services: Path) -> dict[int, float]:
    """The CPU seconds of each process of the PostgreSQL cluster ``services.sh`` started in
    ``services`` (the postmaster and its children: a backend per pooled connection)."""
    postmaster = int((services / "pg" / "data" / "postmaster.pid").read_text().split()[0])
    return {pid: cpu_seconds([pid]) for pid in process_tree(postmaster)}


def server_log_errors(log: Path) -> list[str]:
    text = log.read_text(errors="replace") if log.exists() else ""
    lines = text.splitlines()
    found = [ln for ln in lines if re.search(r"\b(ERROR|CRITICAL|Traceback)\b", ln)]
    # the last line of each traceback names the exception
    for k, ln in enumerate(lines):
        if ln.startswith("Traceback"):
            for nxt in lines[k + 1:k + 80]:
                if nxt and not nxt.startswith((" ", "Traceback", "The above", "During handling")):
                    found.append("  -> " + nxt[:300])
                    break
    return found


def run_once(db: str, orgs: int, clients: int, workers: int, keep_logs: Path | None = None,
             client_kind: str = "raw") -> RunResult:
    work = Path(tempfile.mkdtemp(prefix=f"bench-deadline-{db}-"))
    var_dir = work / "var"
    pg_env: dict[str, str] | None = None
    proc = None
    try:
        setup_started = time.perf_counter()
        database_url = None
        if db == "postgres":
            database_url, pg_env = start_postgres(work / "services")
        env = {**contest_env(var_dir, database_url), "TRUSTED_PROXIES": "127.0.0.1"}  # see org_address
        run_python(env, ["-m", "contest.cli", "migrate"])
        run_python(env, ["-m", "bench.deadline.db_tasks", "seed", str(orgs), PASSWORD])
        setup_seconds = time.perf_counter() - setup_started
        port = free_port()
        log = work / "server.log"
        with log.open("wb") as log_fh:
            proc = start_contest(env, port, workers, log=log_fh)
            pids = process_tree(proc.pid)
            sampler = RssSampler(pids, interval=0.05)
            sampler.start()
            print(f"  [{db}, {workers} worker(s)] set-up {setup_seconds:.1f} s; load: {orgs} orgs, "
                  f"{clients} clients …", flush=True)
            server_pids = process_tree(proc.pid)
            server_cpu = cpu_seconds(server_pids)
            server_kernel = cpu_seconds(server_pids, kernel_only=True)
            database_before = database_cpu(work / "services") if db == "postgres" else None
            load = asyncio.run(run_load(f"http://127.0.0.1:{port}", orgs, clients, client_kind))
            load.server_cpu_seconds = cpu_seconds(server_pids) - server_cpu
            load.server_kernel_seconds = cpu_seconds(server_pids, kernel_only=True) - server_kernel
            if database_before is not None:
                load.database_cpu_seconds = sum(seconds - database_before.get(pid, 0.0)
                                                for pid, seconds in database_cpu(work / "services").items())
            load.load_average = os.getloadavg()
            rss_peak = sampler.stop()
            facts = wait_for_checks(env, limit=120)
            stop_server(proc)
            proc = None
        checks = Counter(a["check_state"] for a in facts["attachments"])
        problems = verify(facts, var_dir / "uploads", orgs, load)
        return RunResult(db, workers, orgs, clients, load, setup_seconds, rss_peak, checks, problems,
                         server_log_errors(log), facts.get("audit", {}).get("events", 0))
    finally:
        if proc is not None:
            stop_server(proc)
        if pg_env is not None:
            stop_postgres(work / "services", pg_env)
        if keep_logs is not None and (work / "server.log").exists():
            keep_logs.mkdir(parents=True, exist_ok=True)
            kept = keep_logs / f"server-{db}-{workers}w-{orgs}.log"
            shutil.copyfile(work / "server.log", kept)
            print(f"  server log kept in {kept}")
        shutil.rmtree(work, ignore_errors=True)


def wait_for_checks(env: dict[str, str], limit: float) -> dict[str, Any]:
    """The in-process job runner checks each PDF after the response; wait (bounded) until done."""
    deadline = time.monotonic() + limit
    while True:
        facts = json.loads(run_python(env, ["-m", "bench.deadline.db_tasks", "dump"]).strip().splitlines()[-1])
        pending = sum(a["check_state"] == "pending" for a in facts["attachments"])
        if pending == 0 or time.monotonic() > deadline:
            return facts
        time.sleep(2)


# --- report -------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def report(r: RunResult) -> None:
    load = r.load
    where = f"{r.db}, granian {r.workers} worker(s)" if r.workers else r.db
    print(f"\n{where}, {r.orgs} orgs, {r.clients} clients: "
          f"{load.done} submitted in {load.seconds:.1f} s = {load.done / load.seconds:.1f} entries/s "
          f"({2 * load.done * 2 / load.seconds:.0f} MB/s of PDFs); set-up {r.setup_seconds:.1f} s"
          + (f"; server RSS peak {r.rss_peak_mb:.0f} MB" if r.rss_peak_mb else ""))  # 0: servers given by URL
    print(f"  {'step':<8} {'n':>5} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for step in STEPS:
        v = load.latencies.get(step, [])
        if not v:
            continue
        print(f"  {step:<8} {len(v):>5} {statistics.fmean(v) * 1e3:>8.0f} {pct(v, .5) * 1e3:>8.0f} "
              f"{pct(v, .95) * 1e3:>8.0f} {pct(v, .99) * 1e3:>8.0f} {max(v) * 1e3:>8.0f}")
    print(f"  errors: {len(load.errors)}; retries: {dict(load.retries) or 0}; CPU during the load: client "
          f"{load.cpu_seconds:.1f} s, server {load.server_cpu_seconds:.1f} s "
          f"({load.server_cpu_seconds / max(load.done, 1) * 1e3:.0f} ms an entry, "
          f"{load.server_kernel_seconds / max(load.done, 1) * 1e3:.0f} of it in the kernel)"
          + (f", PostgreSQL {load.database_cpu_seconds:.1f} s "
             f"({load.database_cpu_seconds / max(load.done, 1) * 1e3:.0f} ms an entry)"
             if load.database_cpu_seconds is not None else "")
          + f" (wall {load.seconds:.1f} s); "
          f"load average after it {' '.join(f'{x:.2f}' for x in load.load_average)}")
    for step, i, what, text in load.errors[:10]:
        print(f"    {step} org {i}: {what} {text}")
    by_kind = Counter((step, what) for step, _, what, _ in load.errors)
    if len(load.errors) > 10:
        print(f"    … by step and status: {dict(by_kind)}")
    print(f"  attachment checks: {dict(r.checks)}")
    print(f"  verification: {'ok' if not r.problems else f'{len(r.problems)} PROBLEMS'} "
          f"(receipts vs stored files vs bytes sent; {r.orgs} submitted, {2 * r.orgs} attachments; "
          f"the audit chain of {r.audit_events} events)")
    for p in r.problems[:10]:
        print(f"    {p}")
    causes = Counter(line[5:].split(":", 1)[0] + ": " + line.split(":", 1)[-1].strip()[:80]
                     for line in r.server_errors if line.startswith("  -> "))
    routes = Counter(re.sub(r"/\d+", "/{id}", line.split("unhandled error on ", 1)[1])
                     for line in r.server_errors if "unhandled error on " in line)
    print(f"  server log: {len(r.server_errors)} error lines; 500s by route: {dict(routes)}")
    for cause, count in causes.most_common(5):
        print(f"    {count} x {cause}")


def run_against(bases: list[str], orgs: int, clients: int, seed: bool, client_kind: str = "raw") -> RunResult:
    """The load against running servers; the database and storage are the ones this
    environment names (``DATABASE_URL``, ``STORAGE_URL``, the S3 settings)."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    started = time.perf_counter()
    if seed:
        run_python(env, ["-m", "bench.deadline.db_tasks", "seed", str(orgs), PASSWORD])
    setup_seconds = time.perf_counter() - started
    label = f"{len(bases)} server(s)"
    print(f"  [{label}] set-up {setup_seconds:.1f} s; load: {orgs} orgs, {clients} clients …", flush=True)
    load = asyncio.run(run_load(bases, orgs, clients, client_kind))
    print(f"  [{label}] load done in {load.seconds:.1f} s", flush=True)
    facts = wait_for_checks(env, limit=120)
    checks = Counter(a["check_state"] for a in facts["attachments"])
    stored = {k: (v[0], v[1]) for k, v in json.loads(
        run_python(env, ["-m", "bench.deadline.db_tasks", "hashes"]).strip().splitlines()[-1]).items()}
    return RunResult(label, 0, orgs, clients, load, setup_seconds, 0.0, checks,
                     verify(facts, stored, orgs, load), [], facts.get("audit", {}).get("events", 0))


def add_server_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--base-url`` (repeatable) and ``--seed-only`` / ``--no-seed``: the options of a load
    benchmark that can run against servers already running (``what`` says whose database)."""
    parser.add_argument("--base-url", action="append", default=[], metavar="URL",
                        help=f"run against this running server (repeatable: round-robin); {what}")
    seeding = parser.add_mutually_exclusive_group()
    seeding.add_argument("--seed-only", action="store_true",
                         help="seed the database DATABASE_URL names (migrated already) and stop")
    seeding.add_argument("--no-seed", action="store_true", help="with --base-url: the database is seeded already")


def main(argv: list[str] | None = None) -> int:  # noqa: C901 - the options, then one loop per mode
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--orgs", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--workers", default="1,2", help="granian worker counts to try, e.g. 1,2")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="the load's HTTP client: raw (bench.rawhttp, little CPU) or httpx")
    parser.add_argument("--keep-logs", type=Path, default=None, metavar="DIR",
                        help="copy each run's server log into DIR (the run's temp dir is removed)")
    add_server_options(parser, "the database and storage are the ones this environment names")
    args = parser.parse_args(argv)
    check_template()
    results: list[RunResult] = []
    if args.seed_only:
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        run_python(env, ["-m", "bench.deadline.db_tasks", "seed", str(args.orgs), PASSWORD])
        return 0
    if args.base_url:
        r = run_against([u.rstrip("/") for u in args.base_url], args.orgs, args.clients, not args.no_seed, args.client)
        report(r)
        results.append(r)
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    for db in dbs if not args.base_url else ():
        for workers in worker_counts:
            r = run_once(db, args.orgs, args.clients, workers, args.keep_logs, args.client)
            report(r)
            results.append(r)
    print(f"\n{'db':<9} {'workers':>7} {'orgs':>5} {'ok':>5} {'errors':>6} {'seconds':>8} {'entries/s':>9} "
          + " ".join(f"{s + ' p95':>12}" for s in STEPS) + "  verified")
    for r in results:
        print(f"{r.db:<9} {r.workers or '-':>7} {r.orgs:>5} {r.load.done:>5} {len(r.load.errors):>6} "
              f"{r.load.seconds:>8.1f} {r.load.done / r.load.seconds:>9.1f} "
              + " ".join(f"{pct(r.load.latencies.get(s, []), .95) * 1e3:>9.0f} ms" for s in STEPS)
              + f"  {'ok' if not r.problems else 'NO'}")
    best: dict[str, RunResult] = {}
    for r in results:
        if r.db not in best or r.load.done / r.load.seconds > best[r.db].load.done / best[r.db].load.seconds:
            best[r.db] = r
    for db, r in best.items():
        if r.workers:
            print(f"best on {db}: {r.workers} worker(s), {r.load.done / r.load.seconds:.1f} entries/s")
    return 0 if all(not r.load.errors and not r.problems for r in results) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
