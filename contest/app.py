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

from contest import db, ratelimit
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


def handle_server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, loggable_path(request.url.path), exc_info=exc)
    return _error_response(request, 500, "server_error",
                           N_("Something went wrong on our side. Nothing you sent was lost; please try again."))


async def purge_uploads_periodically(every_seconds: float = 6 * 3600) -> None:
    """In-process mode (no worker): what the worker's cron does, from start-up on."""
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


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    settings = get_settings()
    await db.start_pool()
    await db.prepare_database()
    runner: asyncio.Task[None] | None = None
    purger: asyncio.Task[None] | None = None
    arq_pool = None
    if settings.redis_url:
        from arq import create_pool

        from contest.worker import redis_settings

        arq_pool = await create_pool(redis_settings(settings.redis_url))
        outbox.use_arq(arq_pool)
        ratelimit.use_redis(settings.redis_url)
    else:
        from contest import jobs  # noqa: F401 - registers the job handlers

        ratelimit.use_database()
        event = asyncio.Event()
        outbox.use_in_process(event)
        runner = asyncio.create_task(outbox.in_process_loop(event))
        event.set()  # pick up what an earlier run left pending
        purger = asyncio.create_task(purge_uploads_periodically())
    try:
        yield
    finally:
        if purger is not None:
            purger.cancel()
        if runner is not None:
            runner.cancel()
            outbox.use_in_process(None)
        if arq_pool is not None:
            outbox.use_arq(None)
            await arq_pool.aclose()
        await db.close_pool()


def create_app() -> Litestar:
    keep_files_private()
    from contest import jobs  # noqa: F401 - job handlers registered for in-process mode
    from contest.controllers import ROUTE_HANDLERS

    # The app shell composes the packages: judging builds on contest (never the other way).
    from judging import hooks as judging_hooks
    from judging.controllers import ROUTE_HANDLERS as JUDGING_HANDLERS

    judging_hooks.register()

    settings = get_settings()
    return Litestar(
        route_handlers=[*ROUTE_HANDLERS, *JUDGING_HANDLERS,
                        create_static_files_router(path="/static", directories=[STATIC_DIR],
                                                   name="static", cache_control=None)],
        middleware=REQUEST_MIDDLEWARE,
        before_send=[security_headers],
        request_max_body_size=MAX_FORM_BYTES,
        lifespan=[lifespan],
        template_config=template_config([Path(__file__).parent.parent / "judging" / "templates"]),
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
                                             exclude=r"^/api/v1/attachments/"),
        debug=settings.debug,
    )

