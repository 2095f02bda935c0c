"""Running the system as a service: metrics, request ids, logs, readiness.

* **Metrics** (Prometheus, ``/metrics``): requests and their latency per route, upload bytes,
  waits for the database's write queue, and, read when scraped, the outbox's depth and failures.
  With several web processes set ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's own
  multi-process mode) and every process's figures are summed.
* **Request ids**: every request gets one (a sane ``X-Request-ID`` from the proxy is kept), it
  is sent back in the response's ``X-Request-ID`` and written on every log line of the request.
* **Logs**: one JSON object per line (``LOG_FORMAT=text`` for a console), secrets redacted:
  the token of a reset or confirmation link, ``token=``/``code=``/``state=`` query values and
  bearer tokens never reach a log. Mail bodies are never logged at all.
* **Readiness** (``/readyz``): the database and the file storage must answer; Redis is reported
  but optional (jobs wait in the outbox while it is away).
* **Web workers start together**: granian gives each web worker process a listening socket of
  its own on the port (SO_REUSEPORT) once that worker's app has started, and the kernel spreads
  each new connection over the sockets listening at that moment. A worker still starting gets
  none, and keep-alive connections opened meanwhile stay on the others for their whole life (with
  three workers, 100 such connections all went to the one worker up first). So the workers of one
  ``contest serve`` wait for each other at the end of their start-up and begin to listen together.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from piccolo.querystring import QueryString
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter("contest_http_requests_total", "HTTP requests answered, by route and status class.",
                   ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("contest_http_request_duration_seconds", "Time to answer a request, by route.",
                    ["method", "route"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
UPLOAD_BYTES = Counter("contest_upload_bytes_total", "Bytes of files received and stored.", registry=REGISTRY)
QUEUE_WAIT = Histogram("contest_db_write_queue_wait_seconds",
                       "Time a write waited for its turn at the database (SQLite's one writer).",
                       registry=REGISTRY, buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10))
OUTBOX_DEPTH = Gauge("contest_outbox_pending", "Outbox jobs waiting to run.", registry=REGISTRY,
                     multiprocess_mode="max")
OUTBOX_FAILED = Gauge("contest_outbox_failed", "Outbox jobs that gave up and wait for an admin.",
                      registry=REGISTRY, multiprocess_mode="max")

# "<count>:<folder>", set by `contest serve` for its web workers (see workers_start_together).
WORKERS_START_ENV = "CONTEST_WORKERS_START"
WORKERS_START_WAIT_SECONDS = 60.0

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


async def render_metrics() -> bytes:
    """The metrics in Prometheus' text format, the outbox figures read now."""
    from contest.domain import outbox

    OUTBOX_DEPTH.set(await outbox.pending_count())
    OUTBOX_FAILED.set(await outbox.failed_count())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def request_middleware(app: ASGIApp) -> ASGIApp:
    """Give the request an id, count it and time it (by route template, never the raw path)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            route = scope.get("path_template") or "unmatched"
            method = scope.get("method", "GET")
            REQUESTS.labels(method, route, f"{status[0] // 100}xx").inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)
            request_id.reset(token)

    return middleware


# --- logs -----------------------------------------------------------------------------------

_SECRETS = (
    (re.compile(r"(/account/(?:reset|confirm)/)[^/\s?\"']+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b((?:token|code|state|secret|password|otp)=)[^&\s\"']+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class ContextFilter(logging.Filter):
    """Puts the request id on every record and redacts secrets from its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed log call is logged as it is
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def logging_config(log_format: str | None = None, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig``: one JSON object per line (``LOG_FORMAT=text``: plain
    lines), each with the request id, secrets redacted; granian's own loggers included."""
    log_format = (log_format or os.environ.get("LOG_FORMAT") or "json").lower()
    if log_format == "text":
        formatter: dict[str, Any] = {"()": "logging.Formatter",
                                     "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"}
    else:
        formatter = {"()": "pythonjsonlogger.json.JsonFormatter",
                     "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                     "rename_fields": {"levelname": "level", "name": "logger", "asctime": "time"}}
    handler = {"class": "logging.StreamHandler", "formatter": "contest", "filters": ["context"],
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "contest.operations.ContextFilter"}},
        "formatters": {"contest": formatter, "generic": formatter, "access": formatter},
        "handlers": {"contest": handler, "console": handler, "access": handler},
        "root": {"handlers": ["contest"], "level": level},
        "loggers": {"_granian": {"handlers": ["contest"], "level": level, "propagate": False},
                    "granian.access": {"handlers": ["contest"], "level": level, "propagate": False}},
    }


def configure_logging(log_format: str | None = None) -> None:
    import logging.config

    logging.config.dictConfig(logging_config(log_format))


# --- readiness ------------------------------------------------------------------------------

CHECK_TIMEOUT_SECONDS = 2.0


async def readiness(redis: Any) -> tuple[bool, dict[str, str]]:
    """(ready, {database, redis, storage}). Ready needs the database and the storage; Redis is
    ``ok``, ``down`` or ``absent`` (not configured) and never makes the process unready."""
    from contest.db import engine
    from contest.storage import get_storage

    async def database() -> None:
        await engine().run_querystring(QueryString("SELECT 1"))

    async def storage() -> None:
        await get_storage().ping()

    report: dict[str, str] = {}
    for name, check in (("database", database), ("storage", storage)):
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await check()
            report[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "down"; the log says why
            logging.getLogger("contest.readyz").warning("readiness: %s is down (%s: %s)", name,
                                                        type(exc).__name__, exc)
            report[name] = "down"
    if redis is None:
        report["redis"] = "absent"
    else:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await redis.ping()
            report["redis"] = "ok"
        except Exception:  # noqa: BLE001 - Redis is optional: reported, not fatal
            report["redis"] = "down"
    return report["database"] == "ok" and report["storage"] == "ok", report


@contextmanager
def workers_start_together(workers: int) -> Iterator[None]:
    """While ``contest serve`` runs ``workers`` web processes (two or more): a folder where each
    leaves a mark once its app has started, named with their count in the environment the
    workers inherit (see wait_for_sibling_workers)."""
    if workers < 2:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="contest-start-") as folder:
        os.environ[WORKERS_START_ENV] = f"{workers}:{folder}"
        try:
            yield
        finally:
            os.environ.pop(WORKERS_START_ENV, None)


async def wait_for_sibling_workers(limit: float = WORKERS_START_WAIT_SECONDS, poll: float = 0.005) -> None:
    """The end of a web worker's start-up: leave this process's mark and wait until every worker
    of the same ``contest serve`` has left one, so that they begin to listen within milliseconds
    of each other. A worker started later (granian replacing one) finds the marks there and goes
    on at once; after ``limit`` seconds a worker goes on alone. Outside ``contest serve``
    (tests, one worker) nothing to wait for."""
    spec = os.environ.get(WORKERS_START_ENV)
    if not spec:
        return
    count, folder = spec.split(":", 1)
    deadline = time.monotonic() + limit
    try:
        (Path(folder) / str(os.getpid())).touch()
        while len(os.listdir(folder)) < int(count):
            if time.monotonic() >= deadline:
                logging.getLogger("contest.serve").warning(
                    "web worker %d starts to listen before its siblings: %d of %s started after %.0f s",
                    os.getpid(), len(os.listdir(folder)), count, limit)
                return
            await asyncio.sleep(poll)
    except OSError:  # the folder is gone: contest serve is stopping
        return
