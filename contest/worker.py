"""arq worker: ``contest worker`` (or ``arq contest.worker.WorkerSettings``).

Jobs come from each package's jobs module; every outbox job runs through ``run_outbox_item``.

Redis may stop, restart or freeze at any time. Every connection made here has a connect and a
socket timeout, so a frozen Redis makes a call fail after a few seconds instead of hanging;
``run_resilient`` (what ``contest worker`` runs) then starts the worker again with a growing
pause instead of exiting. Nothing is lost meanwhile: the jobs are rows in the outbox, and the
sweeper hands out again whatever Redis forgot.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from arq import cron
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, get_kwargs
from redis.exceptions import RedisError

from contest import db
from contest.jobs import apply_retention, purge_stale_uploads, run_outbox_item, sweep_outbox
from contest.settings import get_settings

log = logging.getLogger("contest.worker")

#: Connecting to Redis, and any one command, gives up after this many seconds. The worker polls
#: with short commands (no blocking pops), so a healthy Redis always answers well within it.
REDIS_TIMEOUT_SECONDS = 3.0
#: Pauses between two starts of a worker whose Redis failed: 1, 2, 4 … capped here.
MAX_RESTART_PAUSE_SECONDS = 30.0
#: Faults of the connection to Redis (refused, reset, timed out, frozen).
REDIS_FAULTS: tuple[type[Exception], ...] = (RedisError, OSError, asyncio.TimeoutError)
#: The same, and a stop that cancelled the worker's own tasks mid-way.
_STOP_FAULTS: tuple[type[BaseException], ...] = (*REDIS_FAULTS, asyncio.CancelledError)


def redis_settings(url: str | None = None) -> RedisSettings:
    settings = RedisSettings.from_dsn(url or get_settings().redis_url or "redis://127.0.0.1:6379/0")
    settings.conn_timeout = int(REDIS_TIMEOUT_SECONDS)
    settings.conn_retries = 0
    return settings


async def connect(url: str | None = None) -> ArqRedis:
    """An arq pool whose connections time out (connect and every command), checked with one
    PING. Raises one of ``REDIS_FAULTS`` when Redis does not answer."""
    settings = redis_settings(url)
    pool = ArqRedis(host=settings.host, port=settings.port, unix_socket_path=settings.unix_socket_path,
                    db=settings.database, username=settings.username, password=settings.password,
                    ssl=settings.ssl, encoding="utf8",
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
            await pool.ping()
    except BaseException:
        await pool.aclose(close_connection_pool=True)
        raise
    return pool


async def startup(ctx: dict[str, Any]) -> None:
    await db.start_pool()
    from contest.domain import outbox

    outbox.use_arq(ctx["redis"])


async def shutdown(ctx: dict[str, Any]) -> None:
    from contest.domain import outbox

    outbox.use_arq(None)
    await db.close_pool()


class WorkerSettings:
    functions = [run_outbox_item]
    cron_jobs = [cron(sweep_outbox, second={0, 30}, run_at_startup=True),
                 # hourly, off the round minute: part files of crashed uploads, orphan objects
                 cron(purge_stale_uploads, minute=17, second=0, run_at_startup=True, unique=True),
                 # daily, at night: personal data whose retention period has ended
                 cron(apply_retention, hour=3, minute=41, second=0, unique=True)]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings()
    max_jobs = 20
    job_timeout = 600
    max_tries = 10
    keep_result = 60


class ResilientWorker(Worker):
    """arq's worker, whose shutdown survives a Redis that is already gone (arq's own first
    deletes its health-check key and would raise before closing the database pool)."""

    async def close(self) -> None:
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 4):
                await super().close()
        except _STOP_FAULTS as exc:
            log.warning("worker: Redis failed while stopping (%s); closing the rest", type(exc).__name__)
            if self.on_shutdown:
                await self.on_shutdown(self.ctx)
            pool, self._pool = self._pool, None
            if pool is not None:
                try:
                    await pool.aclose(close_connection_pool=True)
                except Exception:  # noqa: BLE001 - the connection is being dropped either way
                    pass


def run_resilient(*, burst: bool = False, max_starts: int | None = None) -> int:
    """Run the worker until SIGINT or SIGTERM (or, with ``burst``, until the queue is empty).
    When Redis refuses, drops or stalls the connection, start again after a pause that grows to
    ``MAX_RESTART_PAUSE_SECONDS``. ``max_starts`` bounds the starts. Returns the number of starts."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    running: list[Worker] = []

    def on_signal(signum: signal.Signals) -> None:
        stop.set()
        for worker in running:
            worker.handle_sig(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    pause, starts = 1.0, 0
    try:
        while not stop.is_set() and (max_starts is None or starts < max_starts):
            starts += 1
            try:
                pool = loop.run_until_complete(connect())
            except REDIS_FAULTS as exc:
                log.warning("worker: Redis is not answering (%s: %s); trying again in %.0f s",
                            type(exc).__name__, exc, pause)
            else:
                worker = ResilientWorker(**{**get_kwargs(WorkerSettings),  # type: ignore[arg-type]
                                            "burst": burst, "redis_pool": pool, "handle_signals": False})
                running.append(worker)
                try:
                    worker.run()
                    if burst:
                        break
                    pause = 1.0  # it ran until stopped: a later failure starts the pauses afresh
                except REDIS_FAULTS as exc:
                    log.warning("worker: lost Redis (%s: %s); starting again in %.0f s",
                                type(exc).__name__, exc, pause)
                finally:
                    running.clear()
            if not stop.is_set():
                loop.run_until_complete(_wait(stop, pause))
                pause = min(pause * 2, MAX_RESTART_PAUSE_SECONDS)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        loop.close()
        asyncio.set_event_loop(None)
    return starts


async def _wait(event: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass
