"""Upload benchmark: one large multipart upload to a bare ASGI baseline and to the real route.

Run by hand (not a test)::

    .venv/bin/python -m bench.upload.run                 # 200 MB, bench.upload.apps:litestar_app
    .venv/bin/python -m bench.upload.run --size-mb 500 --fsync
    .venv/bin/python -m bench.upload.run --app contest.app:app --path /api/v1/entries/1/attachments \\
        --header "Cookie: session=…" --header "X-CSRFToken: …"

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


def measure(name: str, target: str, path: str, size: int, headers: dict[str, str], fsync: bool) -> Result:
    port = free_port()
    upload_dir = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    proc = start_server(target, port, upload_dir, fsync)
    url = f"http://127.0.0.1:{port}{path}"
    try:
        upload(url, 2 * MB, headers, 60)  # warm-up: imports, first-request allocations
        time.sleep(0.3)
        pids = process_tree(proc.pid)
        before = tree_rss_mb(pids)
        sampler = RssSampler(pids)
        sampler.start()
        seconds, status = upload(url, size, headers, 600)
        peak = sampler.stop()
        return Result(name, seconds, size / MB / seconds, before, peak, status)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(upload_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--app", default="bench.upload.apps:litestar_app", help="module:attr under test")
    parser.add_argument("--path", default="/upload", help="route path of the app under test")
    parser.add_argument("--header", action="append", default=[], help="extra 'Name: value' header")
    parser.add_argument("--baseline", default="bench.upload.apps:baseline_app")
    parser.add_argument("--fsync", action="store_true", help="fsync the file in both apps")
    parser.add_argument("--runs", type=int, default=1, help="repeat and keep the best throughput")
    args = parser.parse_args(argv)
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
    print(f"{'target':<10} {'status':>6} {'seconds':>8} {'MB/s':>8} {'RSS before':>11} {'RSS peak':>9} {'growth MB':>10}")
    for r in (base, app):
        print(f"{r.name:<10} {r.status:>6} {r.seconds:>8.2f} {r.mb_per_s:>8.1f} "
              f"{r.rss_before_mb:>11.1f} {r.rss_peak_mb:>9.1f} {r.growth_mb:>10.1f}")  # fmt: skip
    ok_ratio, ok_rss = ratio >= 0.80, app.growth_mb <= 64
    print(f"ratio app/baseline: {ratio:.2f} (target >= 0.80: {'ok' if ok_ratio else 'MISSED'})")
    print(f"app RSS growth: {app.growth_mb:.1f} MB (target <= 64: {'ok' if ok_rss else 'MISSED'})")
    return 0 if ok_ratio and ok_rss and app.status < 300 and base.status < 300 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
