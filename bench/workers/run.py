"""How requests spread over ``contest serve``'s web worker processes.

Run by hand (not a test)::

    .venv/bin/python -m bench.workers.run                       # --workers 2 and 3, C = 10 and 100
    .venv/bin/python -m bench.workers.run --workers 3 --clients 100 --seconds 8

A fresh SQLite database in a temp VAR_DIR (``contest migrate``, ``contest demo``), then per
worker count one ``contest serve --workers N`` and these runs, each C clients sending
GET /api/v1/editions/ (a cheap public route) for some seconds:

- ``keep-alive (at start)``, on each of ``--starts`` fresh servers: the largest C keep-alive
  connections opened the moment the API first answers (as a benchmark that waits for the first
  answer does, or a load balancer whose health check passes), each kept to the end;
- ``keep-alive``: each C once every worker listens;
- ``new connection``: each request on a connection of its own (``Connection: close``).

Per worker process: its listening socket (``/proc/net/tcp``: granian gives each worker a
listener of its own on the port, SO_REUSEPORT), the connections it holds at the end of a
keep-alive run and the requests sent on them (each client's connection is matched by its port
to the worker whose descriptor holds the other end), and the CPU seconds it spent in the run
(``/proc/<pid>/stat``), for every mode. Printed: each worker's share, req/s, p50/p95.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.deadline.run import cpu_seconds
from bench.rawhttp import RawClient
from bench.upload.run import contest_env, free_port, process_tree, run_python, start_contest, stop_server

PATH = "/api/v1/editions/"


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets ``pid`` holds a descriptor of."""
    found = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                found.add(int(target[8:-1]))
    except OSError:
        pass
    return found


def tcp_sockets(port: int) -> list[tuple[str, int, int]]:
    """(state, remote port, inode) of each IPv4 TCP socket whose local port is ``port``
    (state "0A" listening, "01" established)."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        local, remote, state, inode = cols[1], cols[2], cols[3], int(cols[9])
        if int(local.split(":")[1], 16) == port:
            rows.append((state, int(remote.split(":")[1], 16), inode))
    return rows


def worker_pids(server_pid: int) -> list[int]:
    """granian's worker processes: the server's descendants, in start order."""
    return sorted(process_tree(server_pid)[1:])


def listeners(port: int, workers: list[int]) -> dict[int, int]:
    """worker pid → how many listening sockets on ``port`` it holds."""
    listening = {inode for state, _, inode in tcp_sockets(port) if state == "0A"}
    return {pid: len(socket_inodes(pid) & listening) for pid in workers}


@dataclass
class Run:
    name: str
    clients: int
    seconds: float = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    cpu: dict[int, float] = field(default_factory=dict)  # worker pid → CPU seconds in the run
    conns: Counter[int] = field(default_factory=Counter)  # worker pid → connections it held
    requests: Counter[int] = field(default_factory=Counter)  # worker pid → requests on them

    def line(self, workers: list[int]) -> str:
        lat = sorted(self.latencies)
        p50 = lat[len(lat) // 2] * 1000 if lat else 0
        p95 = lat[int(len(lat) * 0.95)] * 1000 if lat else 0
        cpu_total = sum(self.cpu.values()) or 1
        cpu = "/".join(f"{100 * self.cpu.get(p, 0) / cpu_total:.0f}" for p in workers)
        text = (f"{self.name:<24} C={self.clients:<4} {len(lat) / self.seconds:7.1f} req/s  p50/p95 "
                f"{p50:5.1f}/{p95:6.1f} ms  errors {self.errors}  CPU share % {cpu}")
        if self.conns:
            req_total = sum(self.requests.values()) or 1
            conns = "/".join(str(self.conns.get(p, 0)) for p in workers)
            reqs = "/".join(f"{100 * self.requests.get(p, 0) / req_total:.0f}" for p in workers)
            text += f"  connections {conns}  requests % {reqs}"
        return text


async def load(port: int, workers: list[int], run: Run, seconds: float, keep_alive: bool) -> None:
    url = f"http://127.0.0.1:{port}{PATH}"
    headers = None if keep_alive else {"Connection": "close"}
    clients = [RawClient(timeout=30) for _ in range(run.clients)]
    sent = [0] * run.clients
    stop = time.monotonic() + seconds

    async def client(k: int) -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                response = await clients[k].request("GET", url, headers=headers)
            except httpx.HTTPError:
                run.errors += 1
                continue
            if response.status_code != 200:
                run.errors += 1
                continue
            run.latencies.append(time.perf_counter() - started)
            sent[k] += 1

    before = {pid: cpu_seconds([pid]) for pid in workers}
    started = time.monotonic()
    await asyncio.gather(*(client(k) for k in range(run.clients)))
    run.seconds = time.monotonic() - started
    run.cpu = {pid: cpu_seconds([pid]) - before[pid] for pid in workers}
    if keep_alive:  # which worker holds each client's connection: match the client's port
        by_remote_port = {rport: inode for state, rport, inode in tcp_sockets(port) if state == "01"}
        owner = {inode: pid for pid in workers for inode in socket_inodes(pid)}
        for k, rc in enumerate(clients):
            for local_port in rc.local_ports():
                pid = owner.get(by_remote_port.get(local_port, -1), 0)
                run.conns[pid] += 1
                run.requests[pid] += sent[k]
    for rc in clients:
        await rc.aclose()


def wait_all_listening(port: int, server_pid: int, workers: int, limit: float = 60) -> list[int]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        pids = worker_pids(server_pid)
        if len(pids) >= workers and sum(listeners(port, pids).values()) >= workers:
            return pids
        time.sleep(0.1)
    raise RuntimeError(f"not all {workers} workers listen on {port}")


def at_start(env: dict[str, str], workers: int, clients: int, seconds: float) -> str:
    """One fresh ``contest serve``: C keep-alive clients start the moment the API first answers."""
    port = free_port()
    server = start_contest(env, port, workers)
    try:
        pids = worker_pids(server.pid)
        listening = listeners(port, pids)
        run = Run("keep-alive (at start)", clients)
        asyncio.run(load(port, pids, run, seconds, keep_alive=True))
        return (f"{run.line(pids)}  listening when the API first answered "
                f"{'/'.join(str(listening[p]) for p in pids)}")
    finally:
        stop_server(server)


def bench_workers(env: dict[str, str], workers: int, clients: list[int], seconds: float, starts: int) -> list[str]:
    out = [f"--workers {workers}"]
    for _ in range(starts):
        out.append("  " + at_start(env, workers, max(clients), seconds))
        print(out[-1], flush=True)
    port = free_port()
    server = start_contest(env, port, workers)
    try:
        pids = wait_all_listening(port, server.pid, workers)
        for c in clients:
            for name, keep in (("keep-alive", True), ("new connection", False)):
                run = Run(name, c)
                asyncio.run(load(port, pids, run, seconds, keep_alive=keep))
                out.append("  " + run.line(pids))
                print(out[-1], flush=True)
    finally:
        stop_server(server)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, action="append", help="worker counts (2 and 3)")
    parser.add_argument("--clients", type=int, action="append", help="concurrent clients (10 and 100)")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--starts", type=int, default=4, help="fresh starts measured at start, per worker count")
    args = parser.parse_args(argv)
    var_dir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    env = contest_env(var_dir)
    try:
        run_python(env, ["-m", "contest.cli", "migrate"])
        run_python(env, ["-m", "contest.cli", "demo", "--if-empty"])
        report = []
        for workers in args.workers or [2, 3]:
            report += bench_workers(env, workers, args.clients or [10, 100], args.seconds, args.starts)
        print("\n" + "\n".join(report))
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
