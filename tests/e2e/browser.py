"""What every real-browser test shares: Debian's Chromium (never a downloaded browser), the real
server (`contest serve`, granian) started on a free port on the test session's database with jobs
in-process, and database reads from inside Playwright's synchronous API. Without Playwright or
Chromium a test is skipped, or fails under REQUIRE_SERVICES=1 (`make test`)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REQUIRE_SERVICES, run

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} but services are required (run via make test)")
    pytest.skip(reason)


def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        unavailable("no chromium (apt-get install chromium)")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text("utf-8", "replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def contest_command() -> list[str]:
    script = Path(sys.executable).parent / "contest"
    return [str(script)] if script.exists() else [sys.executable, "-m", "contest.cli"]


def read(query: Any) -> Any:
    """A database read (query or coroutine) while Playwright's own event loop runs in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run, query).result()


@contextmanager
def contest_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`contest serve` on a free port, sharing the test session's database; yields its base URL and
    log file, and stops it (granian's whole process group) afterwards. Create what the test needs
    in the database first, while no other process has it open."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.pop("REDIS_URL", None)  # jobs (mail, checks) run inside the server process
    env.update(VAR_DIR=str(tmp_path / "var"), DATABASE_URL=os.environ["DATABASE_URL"],
               MAIL_DIR=str(tmp_path / "mail"), STORAGE_URL=str(tmp_path / "uploads"), BASE_URL=base_url,
               SECRET_KEY="e2e-secret-key-not-for-production", DB_POOL="1", WEB_WORKERS="1")
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*contest_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log_tail(log)}")
            try:
                with urllib.request.urlopen(base_url + "/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer on {base_url} within 20 s:\n{log_tail(log)}")
            time.sleep(0.2)
        yield base_url, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # granian's own group: its worker processes too
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
