"""Real processes to break: `contest serve` and `contest worker` as subprocesses, a Redis server
of the test's own (to stop, kill or freeze without touching the suite's), and a PostgreSQL
cluster of its own (to restart). Every wait is bounded; nothing here depends on timing to pass,
only to give up."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import contest_command, free_port, log_tail, unavailable


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting {timeout:.0f} s for {what}")
        time.sleep(0.1)


def get_json(url: str, timeout: float = 10) -> tuple[int, dict[str, Any], dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}"), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), dict(exc.headers)


class Managed:
    """A subprocess in its own session (so a kill reaches its children too)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive:
            os.killpg(self.proc.pid, sig)

    def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15) -> int | None:
        if self.alive:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def tail(self) -> str:
        return log_tail(self.log)


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a server or worker on the test session's database, files and mail
    under ``tmp_path`` (kept across restarts of the same test)."""
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(VAR_DIR=str(tmp_path / "var"), DATABASE_URL=os.environ["DATABASE_URL"],
               MAIL_DIR=str(tmp_path / "mail"), STORAGE_URL=str(tmp_path / "uploads"),
               SECRET_KEY="faults-secret-key-not-for-production", DB_POOL="1", WEB_WORKERS="1",
               LOG_FORMAT="text")
    env.update(extra)
    return env


class Server(Managed):
    """`contest serve` on a free port; ready once /healthz answers."""

    def __init__(self, tmp_path: Path, **extra: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = app_env(tmp_path, BASE_URL=self.base_url, **extra)
        super().__init__([*contest_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)], env,
                         tmp_path / f"server-{self.port}.log")
        deadline = time.monotonic() + 30
        while True:
            if not self.alive:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if get_json(self.base_url + "/healthz", timeout=2)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"server did not answer within 30 s:\n{self.tail()}")
            time.sleep(0.2)


class Worker(Managed):
    def __init__(self, tmp_path: Path, redis_url: str, *extra_args: str) -> None:
        super().__init__([*contest_command(), "worker", *extra_args], app_env(tmp_path, REDIS_URL=redis_url),
                         tmp_path / "worker.log")


class RedisServer:
    """A Redis of the test's own on a fixed port: stop it, start it again, freeze it."""

    def __init__(self, tmp_path: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("no redis-server (apt-get install redis-server)")
        self.binary = str(binary)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path / f"redis-{self.port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process: Managed | None = None

    def start(self) -> RedisServer:
        self.process = Managed([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(self.dir)], dict(os.environ),
                               self.dir / "redis.log")
        wait_until(self.answers, 10, "Redis to answer")
        return self

    def answers(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill9()
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.signal(signal.SIGCONT)


class PostgresCluster:
    """A throw-away PostgreSQL cluster to stop and start again (the suite's own stays up)."""

    def __init__(self, tmp_path: Path) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            unavailable("no PostgreSQL server binaries")
        self.bin = bins[-1].parent
        self.port = free_port()
        # Its own folder outside pytest's (which only root may enter): initdb runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="contest-faults-pg-"))
        os.chmod(self.root, 0o755)
        self.data = self.root / "data"
        self.url = f"postgres://contest@127.0.0.1:{self.port}/contest"
        if os.getuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "contest", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "contest", "contest")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop it if it runs, and delete its files."""
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data),
                        "-m", "immediate", "-w", "stop"] if os.getuid() == 0 else
                       [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
