"""The production topology in one run, on one machine (``make test-topology``)::

    .venv/bin/python -m bench.topology.run
    .venv/bin/python -m bench.topology.run --orgs 300 --clients 30 --entries 2000 --pairs 600

PostgreSQL and Redis (``scripts/services.sh``), S3 (moto's server) and an SMTP server that
counts what it receives; then exactly the processes of ``deploy/Procfile`` with the settings
``deploy/contest.env.example`` lists (every one filled in, or the run stops): the release step
once, two web processes on two ports (each its own ``VAR_DIR``, as on two machines, one
shared ``SECRET_KEY``), one worker. Then the deadline benchmark spreads its clients over both
web processes, and in the middle of it one web process is killed (SIGKILL, all its processes)
and started again; then the reviewing benchmark runs against both. It passes when: both
benchmarks had 0 errors, every entry was submitted with its receipt, every receipt's files
read back from S3 have the SHA-256 the receipt names, every score sheet save is in the
database, the outbox holds no job waiting or given up, and the SMTP server received one mail per
mail job. Before any of it, the systemd units in ``deploy/`` and the README's production
section are checked against ``deploy/Procfile``. Exit status 1 on any loss. Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx

from bench.deadline.run import server_log_errors
from bench.upload.run import ROOT, free_port, run_python

DEPLOY = ROOT / "deploy"
UNITS = {"release": "contest-migrate.service", "web": "contest-web.service", "worker": "contest-worker.service"}
#: Where the units expect the install (the Procfile's ``contest`` is this venv's).
INSTALLED_BIN = "/opt/contest/.venv/bin/"
#: Settings that belong to one machine's disk, never shared: given per process here.
LOCAL = ("VAR_DIR", "MAIL_DIR")


def procfile() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            out[name.strip()] = command.strip()
    return out


def env_names() -> list[str]:
    return [line.split("=", 1)[0].strip() for line in (DEPLOY / "contest.env.example").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def check_guide(commands: dict[str, str]) -> list[str]:
    """The units run the Procfile's commands; the README shows them."""
    problems = []
    if set(commands) != set(UNITS):
        problems.append(f"deploy/Procfile names {sorted(commands)}, expected {sorted(UNITS)}")
    for name, unit in UNITS.items():
        text = (DEPLOY / unit).read_text()
        starts = re.findall(r"^ExecStart=(.*)$", text, re.M)
        if starts != [INSTALLED_BIN + commands.get(name, "?")]:
            problems.append(f"deploy/{unit}: ExecStart {starts} is not `{INSTALLED_BIN}{commands.get(name)}`")
        if "EnvironmentFile=/etc/contest/contest.env" not in text:
            problems.append(f"deploy/{unit}: no EnvironmentFile=/etc/contest/contest.env")
    readme = (ROOT / "README.md").read_text()
    production = readme.split("## Production", 1)[-1].split("\n## ", 1)[0]
    for name, command in commands.items():
        if f"{name}: {command}" not in production:
            problems.append(f"README's production section does not show `{name}: {command}`")
    for name in env_names():
        if f"`{name}`" not in readme:
            problems.append(f"README does not describe `{name}`")
    return problems


def argv_of(command: str) -> list[str]:
    """The Procfile's command with ``contest`` as this venv's console script."""
    words = shlex.split(command)
    if words[0] == "contest":
        words[0] = str(Path(sys.executable).parent / "contest")
    return words


class Topology:
    """The processes started here (only these are ever stopped or killed)."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, IO[bytes]] = {}
        self.services_env: dict[str, str] | None = None

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.logs.get(name) or (self.work / f"{name}.log").open("ab")
        self.logs[name] = log
        # A process group of its own: the web app's workers die with it, and nothing else does.
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)
        for log in self.logs.values():
            log.close()
        if self.services_env is not None:
            subprocess.run(["bash", str(ROOT / "scripts/services.sh"), "stop", str(self.work / "services")],
                           cwd=ROOT, env=self.services_env, capture_output=True, timeout=120, check=False)


def wait_http(url: str, proc: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def start_services(top: Topology) -> tuple[str, str]:
    services = top.work / "services"
    services.mkdir(parents=True)
    for d in (top.work, services):
        d.chmod(0o755)  # the cluster runs as the postgres user when we are root
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PG_PORT=str(free_port()), REDIS_PORT=str(free_port()), WITHOUT_OIDC="1", PG_DURABLE="1")
    top.services_env = env
    out = subprocess.run(["bash", str(ROOT / "scripts/services.sh"), "start", str(services)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    pg = re.search(r"DATABASE_URL_PG=(\S+)", out)
    redis = re.search(r"REDIS_URL_TEST=(\S+)", out)
    if not pg or not redis:
        raise RuntimeError(f"services.sh printed:\n{out}")
    return pg.group(1), redis.group(1)


def start_s3(top: Topology, bucket: str) -> str:
    port = free_port()
    proc = top.start("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                     {**os.environ})
    url = f"http://127.0.0.1:{port}"
    wait_http(url, proc)
    import boto3

    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="topology",
                 aws_secret_access_key="topology").create_bucket(Bucket=bucket)
    return url


def start_smtp(top: Topology) -> tuple[str, Path]:
    port, received = free_port(), top.work / "smtp-received.txt"
    received.touch()
    top.start("smtp", [sys.executable, "-m", "bench.topology.smtp_sink", str(port), str(received)],
              {**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        import socket

        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return f"smtp://127.0.0.1:{port}", received
        time.sleep(0.1)
    raise RuntimeError("the SMTP server did not start")


def deployment_env(values: dict[str, str]) -> dict[str, str]:
    """This process's environment without any contest setting, plus ``values``: every name
    deploy/contest.env.example lists must be among them."""
    missing = [n for n in env_names() if n not in values]
    if missing:
        raise SystemExit(f"deploy/contest.env.example names settings the topology does not fill in: {missing}")
    names = set(env_names()) | set(LOCAL) | {"CLAMD_URL", "OIDC_ISSUER", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    base = {k: v for k, v in os.environ.items() if k not in names}
    return {**base, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", **values}


def machine(env: dict[str, str], top: Topology, name: str, **more: str) -> dict[str, str]:
    """One machine's environment: its own disk (VAR_DIR, MAIL_DIR)."""
    var = top.work / name
    var.mkdir(exist_ok=True)
    return {**env, "VAR_DIR": str(var), "MAIL_DIR": str(var / "mail"), **more}


def run_bench(argv: list[str], env: dict[str, str], on_line: Any = None) -> int:
    """A benchmark as a subprocess, its output echoed (and each line handed to ``on_line``)."""
    proc = subprocess.Popen([sys.executable, "-m", *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None
    for line in proc.stdout:
        if not re.search(r'^\{"time"|^(INFO|WARNING) - ', line):  # the seed's own log lines
            print("    " + line, end="", flush=True)
        if on_line is not None:
            on_line(line)
    return proc.wait()


def wait_outbox(env: dict[str, str], limit: float) -> dict[str, int]:
    """Outbox rows by job:state once none is pending (bounded: the sweeper runs every 30 s)."""
    deadline = time.monotonic() + limit
    while True:
        counts = json.loads(run_python(env, ["-m", "bench.topology.db_tasks", "outbox"]).strip().splitlines()[-1])
        pending = sum(n for k, n in counts.items() if k.endswith(":pending"))
        if pending == 0 or time.monotonic() > deadline:
            return counts
        time.sleep(2)


def main(argv: list[str] | None = None) -> int:  # noqa: C901, PLR0915 - one run, step by step, in the order it happens
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orgs", type=int, default=300, help="deadline benchmark: organisations")
    parser.add_argument("--clients", type=int, default=30, help="deadline benchmark: clients at once")
    parser.add_argument("--entries", type=int, default=2000, help="reviewing benchmark: entries (3 sheets each)")
    parser.add_argument("--pairs", type=int, default=600, help="reviewing benchmark: open+save pairs")
    parser.add_argument("--kill-after", type=float, default=8.0,
                        help="seconds into the deadline load when one web process is killed")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) afterwards")
    args = parser.parse_args(argv)

    started = time.monotonic()
    failures: list[str] = []
    commands = procfile()
    problems = check_guide(commands)
    if problems:
        for p in problems:
            print(f"guide: {p}")
        return 1
    print(f"guide: deploy/Procfile, the units and the README agree: {commands}")

    work = Path(tempfile.mkdtemp(prefix="topology-"))
    top = Topology(work)
    try:
        database_url, redis_url = start_services(top)
        bucket = "contest-topology"
        s3_url = start_s3(top, bucket)
        smtp_url, received = start_smtp(top)
        ports = {"web-a": free_port(), "web-b": free_port()}
        bases = [f"http://127.0.0.1:{p}" for p in ports.values()]
        env = deployment_env({
            "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "STORAGE_URL": f"s3://{bucket}/uploads", "S3_ENDPOINT_URL": s3_url, "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "topology", "S3_SECRET_ACCESS_KEY": "topology",
            "SECRET_KEY": secrets.token_urlsafe(48), "BASE_URL": bases[0], "SMTP_URL": smtp_url,
            "MAIL_FROM": "ท้องถิ่นดิจิทัล <no-reply@topology.test>",
            # Plain HTTP on loopback, no TLS in front: the clients must get their cookies back.
            "SECURE_COOKIES": "false",
            "TRUSTED_PROXIES": "127.0.0.1", "HOST": "127.0.0.1", "PORT": "8000", "WEB_WORKERS": "1",
            "DB_POOL_SIZE": "10"})
        print(f"services up in {time.monotonic() - started:.1f} s: PostgreSQL, Redis, S3 {s3_url}, SMTP {smtp_url}",
              flush=True)

        release = subprocess.run(argv_of(commands["release"]), cwd=ROOT, env=machine(env, top, "release"),
                                 capture_output=True, text=True, timeout=300, check=False)
        if release.returncode != 0:
            raise RuntimeError(f"release step failed:\n{release.stdout[-2000:]}\n{release.stderr[-2000:]}")
        bench_env = machine(env, top, "bench")
        t = time.monotonic()
        if run_bench(["bench.reviewing.run", "--seed-only", "--entries", str(args.entries)], bench_env):
            raise RuntimeError("reviewing seed failed")
        if run_bench(["bench.deadline.run", "--seed-only", "--orgs", str(args.orgs)], bench_env):
            raise RuntimeError("deadline seed failed")
        print(f"released and seeded in {time.monotonic() - t:.1f} s", flush=True)

        top.start("worker", argv_of(commands["worker"]), machine(env, top, "worker"))
        web_env = {name: machine(env, top, name, PORT=str(port)) for name, port in ports.items()}
        for name in ports:
            top.start(name, argv_of(commands["web"]), web_env[name])
        for name, base in zip(ports, bases, strict=True):
            wait_http(base + "/readyz", top.procs[name])
        print(f"two web processes ({', '.join(bases)}) and one worker up; "
              f"{time.monotonic() - started:.1f} s so far", flush=True)

        # The deadline load, and one web process killed and started again in the middle of it.
        events: dict[str, float] = {}

        def kill_and_restart() -> None:
            time.sleep(args.kill_after)
            events["killed"] = time.monotonic()
            top.kill("web-a", signal.SIGKILL)
            print(f"  >> web-a killed (SIGKILL, its whole process group) {args.kill_after:.0f} s into the load",
                  flush=True)
            time.sleep(1)
            proc = top.start("web-a", argv_of(commands["web"]), web_env["web-a"])
            try:
                wait_http(bases[0] + "/readyz", proc)
                events["restarted"] = time.monotonic()
                print(f"  >> web-a started again and ready {events['restarted'] - events['killed']:.1f} s after "
                      "the kill", flush=True)
            except RuntimeError as exc:
                print(f"  >> web-a did not come back: {exc}", flush=True)

        killer = threading.Thread(target=kill_and_restart, daemon=True)

        def on_line(line: str) -> None:
            if "load:" in line and not killer.is_alive() and "killed" not in events:
                events["load"] = time.monotonic()
                killer.start()
            elif "load done in" in line:
                events["load done"] = time.monotonic()

        t = time.monotonic()
        deadline_argv = ["bench.deadline.run", "--no-seed", "--orgs", str(args.orgs), "--clients", str(args.clients)]
        for base in bases:
            deadline_argv += ["--base-url", base]
        if run_bench(deadline_argv, bench_env, on_line):
            failures.append("deadline benchmark: errors or lost entries (see above)")
        killer.join(timeout=120)
        print(f"deadline benchmark took {time.monotonic() - t:.1f} s", flush=True)
        if "restarted" not in events:
            failures.append("web-a was not killed and started again")
        elif events.get("load done", 0) < events["restarted"]:
            failures.append("the deadline load ended before web-a was back: the kill was not in the middle")

        t = time.monotonic()
        reviewing_argv = ["bench.reviewing.run", "--no-seed", "--pairs", str(args.pairs)]
        for base in bases:
            reviewing_argv += ["--base-url", base]
        if run_bench(reviewing_argv, bench_env):
            failures.append("reviewing benchmark: errors or lost saves (see above)")
        print(f"reviewing benchmark took {time.monotonic() - t:.1f} s", flush=True)

        t = time.monotonic()
        outbox = wait_outbox(bench_env, limit=120)
        mails = sum(n for k, n in outbox.items() if k.startswith("send_mail:"))
        delivered = len(set(received.read_text().split()))
        print(f"outbox after {time.monotonic() - t:.1f} s: {outbox}; the SMTP server received {delivered} "
              f"distinct mails for {mails} mail jobs", flush=True)
        stuck = {k: n for k, n in outbox.items() if not k.endswith(":done")}
        if stuck:
            failures.append(f"outbox jobs not done: {stuck}")
        if delivered != mails or mails == 0:
            failures.append(f"mail: {delivered} delivered for {mails} mail jobs")
        for name in ("web-a", "web-b", "worker"):
            errors = server_log_errors(work / f"{name}.log")
            print(f"{name} log: {len(errors)} error lines" + "".join(f"\n    {e[:200]}" for e in errors[:5]))
    finally:
        top.stop_all()
        if args.keep:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started
    for f in failures:
        print(f"FAILED: {f}")
    print(f"topology run: {'ok' if not failures else 'FAILED'} in {seconds:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
