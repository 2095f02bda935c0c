"""The Litestar application: routes, lifespan (database pool, one arq pool or the in-process job
runner), error mapping, templates and static files."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router

from contest import db, operations, ratelimit
from contest.domain import outbox
from contest.domain.notices import NoticeAcceptanceRequired
from contest.errors import DomainError, NotAuthenticated, RateLimited, TwoFactorRequired, ValidationFailed
from contest.i18n import t
from contest.openapi import components as openapi_components
from contest.settings import get_settings, keep_files_private
from contest.templating import template_config
from contest.web import MAX_FORM_BYTES, REQUEST_MIDDLEWARE, loggable_path, same_site_path, security_headers
from uploads.storage import ObjectNotFound, StorageError

log = logging.getLogger("contest")

STATIC_DIR = Path(__file__).parent / "static"


def wants_json(request: Request) -> bool:
    # Data downloads (``.json``, ``.csv``: open data) are read by programs: their errors are JSON
    # whatever the Accept header says.
    path = request.url.path
    return path.startswith("/api/") or path.endswith((".json", ".csv")) or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", ""))


def _label_params(params: dict[str, Any], language: str | None = None) -> dict[str, Any]:
    """Codes passed as message parameters (states, kinds, outcomes: ``open``, ``shortlisted``) are
    catalogue ids too: shown translated in the sentence, kept raw in the body's own fields."""
    return {k: (t(v, language) if isinstance(v, str) and v.isidentifier() else v) for k, v in params.items()}


def error_body(status: int, code: str, message: str, params: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None) -> dict[str, Any]:
    params = params or {}
    body: dict[str, Any] = {"status_code": status, "detail": t(message, **_label_params(params)),
                            "detail_en": t(message, "en", **params), "code": code}
    if errors:
        body["errors"] = errors
    for key, value in params.items():
        if isinstance(value, (str, int, float, bool, list, dict)) and key not in body:
            body[key] = value
    return body


def _error_response(request: Request, status: int, code: str, message: str,
                    params: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                    headers: dict[str, str] | None = None) -> Response:
    if wants_json(request):
        return Response(error_body(status, code, message, params, errors), status_code=status, headers=headers)
    if status == 401:
        return Redirect(f"/login?next={quote(same_site_path(request.url.path))}", status_code=303)
    return Template("contest/error.html", status_code=status, headers=headers, context={
        "status": status, "code": code, "message": t(message, **_label_params(params or {})),
        "message_en": t(message, "en", **(params or {})), "errors": errors or {},
    })


def handle_domain_error(request: Request, exc: DomainError) -> Response:
    errors = getattr(exc, "errors", None) if isinstance(exc, ValidationFailed) else None
    if isinstance(exc, NotAuthenticated) and not wants_json(request):
        return Redirect(f"/login?next={quote(same_site_path(request.url.path))}", status_code=303)
    if isinstance(exc, TwoFactorRequired) and not wants_json(request):
        return Redirect(f"/account/two-factor?next={quote(same_site_path(request.url.path))}", status_code=303)
    if isinstance(exc, NoticeAcceptanceRequired) and not wants_json(request):
        return Redirect(f"/account/privacy-notice?next={quote(same_site_path(request.url.path))}", status_code=303)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return _error_response(request, exc.status_code, exc.code, exc.message, exc.params, errors, headers)


def N_(message: str) -> str:
    """Mark a message for the catalogue; it is translated when shown."""
    return message


HTTP_MESSAGES = {
    400: ("invalid_input", N_("The data sent is not valid.")),
    401: ("not_authenticated", N_("Please log in first.")),
    403: ("forbidden", N_("You do not have permission to do this.")),
    404: ("not_found", N_("The page or item you asked for does not exist.")),
    405: ("method_not_allowed", N_("This action is not allowed here.")),
    413: ("too_large", N_("The request is too large.")),
    415: ("unsupported_media_type", N_("This kind of request body is not accepted here.")),
    429: ("rate_limited", N_("Too many requests. Please wait a moment and try again.")),
}


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    code, message = HTTP_MESSAGES.get(status, ("error", N_("Something went wrong. Please try again.")))
    errors = None
    if isinstance(exc, ValidationException):
        code, message = "invalid_input", N_("The data sent is not valid.")
        errors = {}
        for item in (exc.extra or []) if isinstance(exc.extra, list) else []:
            if isinstance(item, dict):
                errors[str(item.get("key") or item.get("source") or "body")] = str(item.get("message", ""))
        status = 400
    # The router's 405 names the methods the path does take (``Allow``); keep such headers.
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in ("allow", "retry-after")}
    return _error_response(request, status, code, message, None, errors or None, headers or None)


def handle_storage_error(request: Request, exc: StorageError) -> Response:
    """File storage failed (disk full, S3 unreachable). Upload routes say so themselves; this
    catches the rest (a download, a delete) with the same honest message instead of a 500."""
    if isinstance(exc, ObjectNotFound):
        return _error_response(request, 404, "not_found", N_("The page or item you asked for does not exist."))
    log.error("file storage failed on %s %s: %s", request.method, loggable_path(request.url.path), exc)
    return _error_response(request, 503, "storage_unavailable",
                           N_("File storage is not available right now. Please try again in a few minutes."))


def database_trouble(exc: BaseException) -> str | None:
    """``"busy"`` (SQLite's write lock held too long by another process), ``"down"`` (the
    database cannot be reached, or its disk is full), or None for any other fault; the
    exception's causes are looked at too."""
    import sqlite3

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, db.DatabaseBusy):
            return "busy"
        if isinstance(current, sqlite3.OperationalError):
            text = str(current).lower()
            if "locked" in text or "busy" in text:
                return "busy"
            if "disk" in text or "unable to open" in text or "full" in text:
                return "down"
        if type(current).__module__.startswith("asyncpg") and (
                "Connection" in type(current).__name__ or "CannotConnectNow" in type(current).__name__
                or "InterfaceError" in type(current).__name__ or "TooManyConnections" in type(current).__name__):
            return "down"
        if isinstance(current, (ConnectionRefusedError, ConnectionResetError)) or (
                isinstance(current, OSError) and "connect call failed" in str(current).lower()):
            return "down"
        current = current.__cause__ or current.__context__
    return None


#: What a client is told to wait before trying again when the database is busy or away.
RETRY_AFTER_BUSY_SECONDS = 5
RETRY_AFTER_DOWN_SECONDS = 30


def handle_server_error(request: Request, exc: Exception) -> Response:
    trouble = database_trouble(exc)
    if trouble is not None:
        log.error("database %s on %s %s: %s: %s", trouble, request.method, loggable_path(request.url.path),
                  type(exc).__name__, exc)
        if trouble == "busy":
            return _error_response(request, 503, "database_busy",
                                   N_("The system is very busy right now. Nothing was changed; please try again "
                                      "in a few seconds."),
                                   headers={"Retry-After": str(RETRY_AFTER_BUSY_SECONDS)})
        return _error_response(request, 503, "database_unavailable",
                               N_("The system is not available right now. Nothing was changed; please try "
                                  "again in a few minutes."),
                               headers={"Retry-After": str(RETRY_AFTER_DOWN_SECONDS)})
    log.exception("unhandled error on %s %s", request.method, loggable_path(request.url.path), exc_info=exc)
    return _error_response(request, 500, "server_error",
                           N_("Something went wrong on our side. Nothing you sent was lost; please try again."))


async def purge_uploads_periodically(every_seconds: float = 3600) -> None:
    """In-process mode (no worker): what the worker's hourly and daily crons do, from start-up on."""
    from contest.jobs import apply_retention, purge_stale_uploads

    while True:
        try:
            await purge_stale_uploads()
        except Exception:  # noqa: BLE001 - housekeeping; try again next time
            log.exception("purging stale upload parts failed")
        try:
            await apply_retention()
        except Exception:  # noqa: BLE001 - housekeeping; try again next time
            log.exception("applying the retention rules failed")
        await asyncio.sleep(every_seconds)


class RedisLink:
    """The web process's connection to Redis, which may be away at start-up or later.

    Start-up never waits for Redis: without it jobs stay in the outbox, and once a connection
    is made (tried again with a growing pause) new jobs are handed over and the worker's sweeper
    sends the ones that waited."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._connect(), name="Redis connection")

    async def _connect(self) -> None:
        from contest.worker import MAX_RESTART_PAUSE_SECONDS, REDIS_FAULTS, connect

        pause = 1.0
        while True:
            try:
                self.pool = await connect(self.url)
            except REDIS_FAULTS as exc:
                log.warning("Redis is not answering (%s: %s); jobs wait in the outbox; trying again in %.0f s",
                            type(exc).__name__, exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_RESTART_PAUSE_SECONDS)
                continue
            outbox.use_arq(self.pool)
            log.info("connected to Redis; jobs go to the worker")
            return

    async def close(self) -> None:
        await _stopped(self._task)
        outbox.use_arq(None)
        if self.pool is not None:
            pool, self.pool = self.pool, None
            try:
                async with asyncio.timeout(3):
                    await pool.aclose(close_connection_pool=True)
            except Exception:  # noqa: BLE001 - shutting down either way
                pass


#: How long shutdown waits for a background task to end once it is cancelled.
STOP_WAIT_SECONDS = 10.0


async def _stopped(*tasks: asyncio.Task[None] | None) -> None:
    """Cancel the app's background tasks and wait (bounded) until they have ended, so nothing
    of theirs still runs (a statement, a file) while the database pool is closed."""
    running = {task for task in tasks if task is not None and not task.done()}
    for task in running:
        task.cancel()
    if running:
        done, left = await asyncio.wait(running, timeout=STOP_WAIT_SECONDS)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("background task %s failed", task.get_name(), exc_info=task.exception())
        for task in left:
            log.error("background task %s did not stop within %.0f s of being cancelled",
                      task.get_name(), STOP_WAIT_SECONDS)


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    settings = get_settings()
    await db.start_pool()
    await db.prepare_database()
    runner: asyncio.Task[None] | None = None
    purger: asyncio.Task[None] | None = None
    redis_link: RedisLink | None = None
    if settings.redis_url:
        redis_link = RedisLink(settings.redis_url)
        redis_link.start()
        ratelimit.use_redis(settings.redis_url)
    else:
        ratelimit.use_database()
        event = asyncio.Event()
        outbox.use_in_process(event)
        runner = asyncio.create_task(outbox.in_process_loop(event), name="in-process job runner")
        event.set()  # pick up what an earlier run left pending
        purger = asyncio.create_task(purge_uploads_periodically(), name="housekeeping")
    app.state.redis_link = redis_link
    await operations.wait_for_sibling_workers()  # last: each worker listens once this returns
    try:
        yield
    finally:
        await _stopped(purger, runner)
        if runner is not None:
            outbox.use_in_process(None)
        await outbox.settle()
        if redis_link is not None:
            await redis_link.close()
        await db.close_pool()


def create_app() -> Litestar:
    keep_files_private()
    from contest import jobs  # noqa: F401 - job handlers registered for in-process mode
    from contest.controllers import ROUTE_HANDLERS

    # The app shell composes the packages: judging builds on contest (never the other way).
    from judging import hooks as judging_hooks
    from judging.controllers import ROUTE_HANDLERS as JUDGING_HANDLERS
    from judging.enums import TEMPLATE_GLOBALS as JUDGING_TEMPLATE_GLOBALS

    judging_hooks.register()

    settings = get_settings()
    return Litestar(
        route_handlers=[*ROUTE_HANDLERS, *JUDGING_HANDLERS,
                        create_static_files_router(path="/static", directories=[STATIC_DIR],
                                                   name="static", cache_control=None)],
        middleware=[operations.request_middleware, *REQUEST_MIDDLEWARE],
        before_send=[security_headers],
        request_max_body_size=MAX_FORM_BYTES,
        lifespan=[lifespan],
        template_config=template_config([Path(__file__).parent.parent / "judging" / "templates"],
                                        JUDGING_TEMPLATE_GLOBALS),
        exception_handlers={
            DomainError: handle_domain_error,
            HTTPException: handle_http_exception,
            StorageError: handle_storage_error,
            Exception: handle_server_error,
        },
        # Each operation documents its statuses, errors and token (contest/openapi.py).
        openapi_config=OpenAPIConfig(title="ท้องถิ่นดิจิทัล API", version="1.1.0", path="/schema",
                                     components=openapi_components()),
        # Level 5: level 9 spent ~0.6 s compressing a 7,000-row ranking for a few per cent smaller output.
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024, gzip_compress_level=5,
                                             exclude=r"^/api/v1/attachments/|/evidence\.zip$"),
        debug=settings.debug,
    )

