"""Upload benchmark: one large multipart upload to a bare ASGI baseline and to the real route.

Run by hand (not a test)::

    .venv/bin/python -m bench.upload.run                 # 200 MB, bench.upload.apps:litestar_app
    .venv/bin/python -m bench.upload.run --size-mb 500 --fsync
    .venv/bin/python -m bench.upload.run --app contest.app:app --path /api/v1/entries/1/attachments \\
        --header "Cookie: session=…" --header "X-CSRFToken: …"
    .venv/bin/python -m bench.upload.run --real-app      # contest serve on a fresh SQLite + temp VAR_DIR

With ``--real-app`` the real app (which always fsyncs) is compared with the baseline fsyncing
too; the fsync-off pair (streaming route vs plain baseline) is printed beside it.

Each app runs under granian (one worker) on a free 127.0.0.1 port. The client streams the body
from a generator (it never holds the file), so both sides are measured in bounded memory.
Memory is the server's process tree (granian's supervisor plus its worker), sampled from
/proc every few milliseconds during the upload; growth = peak during the upload minus the value
after a warm-up request. Targets: app/baseline throughput >= 0.80 and growth <= 64 MB.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
BOUNDARY = "----benchboundary" + secrets.token_hex(8)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc (granian forks its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pids: list[int]) -> float:
    return sum(status_kb(p, "VmRSS") for p in pids) / 1024


class RssSampler(threading.Thread):
    """Polls the tree's summed VmRSS; VmHWM alone would also count start-up spikes."""

    def __init__(self, pids: list[int], interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.pids, self.interval = pids, interval
        self.peak = tree_rss_mb(pids)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pids))
            time.sleep(self.interval)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def multipart_stream(size: int, filename: str = "bench.pdf") -> tuple[Iterator[bytes], int, str]:
    """A body of ``size`` file bytes (a PDF header, then random blocks), yielded in 1 MB pieces."""
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="kind"\r\n\r\nvideo\r\n'
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    block = os.urandom(MB)
    first = b"%PDF-1.7\n" + block[9:]

    def body() -> Iterator[bytes]:
        yield head
        sent = 0
        while sent < size:
            piece = (first if sent == 0 else block)[: size - sent]
            sent += len(piece)
            yield piece
        yield tail

    return body(), len(head) + size + len(tail), f"multipart/form-data; boundary={BOUNDARY}"


@dataclass
class Result:
    name: str
    seconds: float
    mb_per_s: float
    rss_before_mb: float
    rss_peak_mb: float
    status: int

    @property
    def growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb


def start_server(target: str, port: int, upload_dir: Path, fsync: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BENCH_UPLOAD_DIR": str(upload_dir), "BENCH_FSYNC": "1" if fsync else "0",
           "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}  # fmt: skip
    cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1", "--no-ws", "--log-level", "warning", target]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{target} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"{target} did not start")


def upload(url: str, size: int, headers: dict[str, str], timeout: float) -> tuple[float, int]:
    body, length, content_type = multipart_stream(size)
    request_headers = {"Content-Type": content_type, "Content-Length": str(length), **headers}
    with httpx.Client(timeout=timeout) as client:
        started = time.perf_counter()
        response = client.post(url, content=body, headers=request_headers)
        elapsed = time.perf_counter() - started
    if response.status_code >= 300:
        print(f"  {url}: HTTP {response.status_code} {response.text[:300]}", file=sys.stderr)
    return elapsed, response.status_code


def sample_upload(name: str, proc: subprocess.Popen[bytes], url: str, size: int,
                  headers: dict[str, str]) -> Result:
    """Warm up, then time one ``size``-byte upload while sampling the server tree's RSS."""
    upload(url, 2 * MB, headers, 60)  # warm-up: imports, first-request allocations
    time.sleep(0.3)
    pids = process_tree(proc.pid)
    before = tree_rss_mb(pids)
    sampler = RssSampler(pids)
    sampler.start()
    seconds, status = upload(url, size, headers, 600)
    peak = sampler.stop()
    return Result(name, seconds, size / MB / seconds, before, peak, status)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop granian and every worker it forked (a killed supervisor would orphan them)."""
    tree = process_tree(proc.pid)
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    for pid in tree[1:]:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass


def measure(name: str, target: str, path: str, size: int, headers: dict[str, str], fsync: bool) -> Result:
    port = free_port()
    upload_dir = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    proc = start_server(target, port, upload_dir, fsync)
    try:
        return sample_upload(name, proc, f"http://127.0.0.1:{port}{path}", size, headers)
    finally:
        stop_server(proc)
        shutil.rmtree(upload_dir, ignore_errors=True)


# --- the real contest app ----------------------------------------------------------------------
# A throw-away VAR_DIR (SQLite file, uploads, mail), `contest migrate`, a seed run in a
# subprocess through the domain functions, then `contest serve` (granian) on a free port.

APPLICANT_EMAIL = "bench-applicant@example.go.th"
APPLICANT_PASSWORD = "bench-password-123"
GB = 1024 * MB

SEED_ONE_APPLICANT = f"""
import asyncio
from datetime import timedelta
from contest import clock
from contest.cli import with_db
from contest.domain import accounts, editions, organisations
from contest.domain.audit import SYSTEM
from contest.domain.registry import OrgRecord

async def go():
    rec = OrgRecord(code="5900001", name_th="องค์การบริหารส่วนตำบลทดสอบ", name_en="Bench SAO", kind="sao",
                    province_code="50", province_name_th="เชียงใหม่", province_name_en="Chiang Mai",
                    district_code="5001", district_name_th="เมืองเชียงใหม่", district_name_en="Mueang Chiang Mai")
    await organisations.import_organisations([rec], actor=SYSTEM)
    await accounts.create_user(actor=SYSTEM, email={APPLICANT_EMAIL!r}, password={APPLICANT_PASSWORD!r},
                               role="applicant", name="Bench", organisation_code="5900001")
    now = clock.now()
    await editions.create_edition(actor=SYSTEM, data={{
        "year": 2569, "title": "bench", "submission_opens_at": now - timedelta(days=1),
        "submission_closes_at": now + timedelta(days=20), "announcement_at": now + timedelta(days=90),
        "max_file_bytes": {GB}, "max_entry_bytes": {GB}}})

asyncio.run(with_db(go()))
"""


def contest_env(var_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {**os.environ, "VAR_DIR": str(var_dir), "SECRET_KEY": "bench-" + secrets.token_hex(16),
           "DATABASE_URL": database_url or f"sqlite:///{var_dir / 'contest.sqlite3'}",
           "MAIL_DIR": str(var_dir / "mail"),
           "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}  # fmt: skip
    for name in ("REDIS_URL", "STORAGE_URL", "CLAMD_URL", "SMTP_URL", "BASE_URL"):
        env.pop(name, None)  # defaults only: local disk, in-process jobs, mail to files
    return env


def run_python(env: dict[str, str], args: list[str], timeout: float = 600) -> str:
    """``python ARGS`` in ROOT with ``env``; fail loudly with its output."""
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{args[:2]} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def start_contest(env: dict[str, str], port: int, workers: int = 1, log: Any = None) -> subprocess.Popen[bytes]:
    """``contest serve`` on 127.0.0.1:port (output to ``log``, a file, if given); returns once the API answers."""
    cmd = [sys.executable, "-m", "contest.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT if log else None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"contest serve exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/editions/", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("contest serve did not start")


def wait_checked(base: str, entry_id: int, headers: dict[str, str], limit: float = 60) -> str:
    """Poll the entry until its newest attachment's check job has run (bounded)."""
    deadline = time.monotonic() + limit
    state = "?"
    while time.monotonic() < deadline:
        atts = httpx.get(f"{base}/api/v1/entries/{entry_id}", headers=headers, timeout=10).json()["attachments"]
        state = max(atts, key=lambda a: a["id"])["check_state"] if atts else "none"
        if state != "pending":
            return state
        time.sleep(0.1)
    return state + " (timed out)"


def measure_real_app(size: int, runs: int) -> tuple[Result, float, str]:
    """The real upload route; returns the best run, the peak RSS until the last check job ran,
    and that job's verdict."""
    var_dir = Path(tempfile.mkdtemp(prefix="bench-realapp-"))
    env = contest_env(var_dir)
    try:
        run_python(env, ["-m", "contest.cli", "migrate"])
        run_python(env, ["-c", SEED_ONE_APPLICANT])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_contest(env, port, workers=1)
        try:
            token = httpx.post(f"{base}/api/v1/auth/token", timeout=30,
                               json={"email": APPLICANT_EMAIL, "password": APPLICANT_PASSWORD}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            made = httpx.post(f"{base}/api/v1/editions/2569/entries", json={}, headers=headers, timeout=30)
            made.raise_for_status()
            entry_id = made.json()["id"]
            url = f"{base}/api/v1/entries/{entry_id}/attachments"
            results = []
            for _ in range(runs):
                results.append(sample_upload("real app", proc, url, size, headers))
            # The check job (pypdf opens the file) runs in this process after the response.
            pids = process_tree(proc.pid)
            sampler = RssSampler(pids)
            sampler.start()
            verdict = wait_checked(base, entry_id, headers)
            after_peak = sampler.stop()
            best = max(results, key=lambda r: r.mb_per_s)
            return best, max(after_peak, best.rss_peak_mb), verdict
        finally:
            stop_server(proc)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--app", default="bench.upload.apps:litestar_app", help="module:attr under test")
    parser.add_argument("--path", default="/upload", help="route path of the app under test")
    parser.add_argument("--header", action="append", default=[], help="extra 'Name: value' header")
    parser.add_argument("--baseline", default="bench.upload.apps:baseline_app")
    parser.add_argument("--fsync", action="store_true", help="fsync the file in both apps (not with --real-app, "
                        "which always shows both policies)")
    parser.add_argument("--runs", type=int, default=3,
                        help="repeat and keep the best throughput (single runs are noisy on a shared machine)")
    parser.add_argument("--real-app", action="store_true",
                        help="upload to the real contest app (contest serve, fresh SQLite in a temp VAR_DIR, "
                             "POST /api/v1/entries/{id}/attachments with a bearer token) instead of --app")
    args = parser.parse_args(argv)
    if args.real_app:
        return main_real_app(args)
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    size = args.size_mb * MB

    def best(name: str, target: str, path: str, extra: dict[str, str]) -> Result:
        results = [measure(name, target, path, size, extra, args.fsync) for _ in range(args.runs)]
        return max(results, key=lambda r: r.mb_per_s)

    base = best("baseline", args.baseline, "/", {})
    app = best("app", args.app, args.path, headers)
    ratio = app.mb_per_s / base.mb_per_s
    print(f"\nupload of {args.size_mb} MB, granian 1 worker, fsync={'on' if args.fsync else 'off'}")
    print(f"{'target':<10} {'status':>6} {'seconds':>8} {'MB/s':>8} {'RSS before':>11} {'RSS peak':>9} "
          f"{'growth MB':>10}")
    for r in (base, app):
        print(f"{r.name:<10} {r.status:>6} {r.seconds:>8.2f} {r.mb_per_s:>8.1f} "
              f"{r.rss_before_mb:>11.1f} {r.rss_peak_mb:>9.1f} {r.growth_mb:>10.1f}")  # fmt: skip
    ok_ratio, ok_rss = ratio >= 0.80, app.growth_mb <= 64
    print(f"ratio app/baseline: {ratio:.2f} (target >= 0.80: {'ok' if ok_ratio else 'MISSED'})")
    print(f"app RSS growth: {app.growth_mb:.1f} MB (target <= 64: {'ok' if ok_rss else 'MISSED'})")
    return 0 if ok_ratio and ok_rss and app.status < 300 and base.status < 300 else 1


def main_real_app(args: argparse.Namespace) -> int:
    """The real app against the baseline under the same fsync policy, and both policies shown.

    The real app's LocalStorage always fsyncs at commit (a receipt promises the file is on
    disk), so the target ratio is taken against the baseline that fsyncs too. Without fsync,
    the same intake (the ``--app`` streaming route, fsync off) is set against the plain
    baseline, so each comparison keeps one policy on both sides.
    """
    size = args.size_mb * MB

    def best(name: str, target: str, path: str, fsync: bool) -> Result:
        results = [measure(name, target, path, size, {}, fsync) for _ in range(args.runs)]
        return max(results, key=lambda r: r.mb_per_s)

    base = best("baseline", args.baseline, "/", False)
    route = best("route", args.app, args.path, False)
    base_fsync = best("base+fsync", args.baseline, "/", True)
    app, after_peak, verdict = measure_real_app(size, args.runs)
    print(f"\nupload of {args.size_mb} MB, granian 1 worker, best of {args.runs}; route = the streaming intake "
          f"({args.app}); real app = contest serve, SQLite, LocalStorage (fsync on)")
    print(f"{'target':<10} {'fsync':>5} {'status':>6} {'seconds':>8} {'MB/s':>8} {'RSS before':>11} {'RSS peak':>9} "
          f"{'growth MB':>10}")
    for r, fsync in ((base, "off"), (route, "off"), (base_fsync, "on"), (app, "on")):
        print(f"{r.name:<10} {fsync:>5} {r.status:>6} {r.seconds:>8.2f} {r.mb_per_s:>8.1f} "
              f"{r.rss_before_mb:>11.1f} {r.rss_peak_mb:>9.1f} {r.growth_mb:>10.1f}")  # fmt: skip
    ratio = app.mb_per_s / base_fsync.mb_per_s
    ok_ratio, ok_rss = ratio >= 0.80, app.growth_mb <= 64
    print(f"ratio real app/baseline, both fsync on: {ratio:.2f} (target >= 0.80: {'ok' if ok_ratio else 'MISSED'})")
    print(f"ratio route/baseline, both fsync off: {route.mb_per_s / base.mb_per_s:.2f}")
    print(f"ratio real app (fsync on)/baseline (fsync off): {app.mb_per_s / base.mb_per_s:.2f}")
    print(f"real app RSS growth: {app.growth_mb:.1f} MB (target <= 64: {'ok' if ok_rss else 'MISSED'})")
    print(f"real app RSS growth until the check job finished: {after_peak - app.rss_before_mb:.1f} MB "
          f"(check: {verdict}; the body is a PDF header and random bytes, so pypdf rightly fails it)")
    statuses_ok = all(r.status < 300 for r in (base, route, base_fsync, app))
    return 0 if ok_ratio and ok_rss and statuses_ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
