"""The two servers the upload benchmark compares, importable by granian as ``module:attr``.

* :data:`baseline_app` — a bare ASGI app that writes the raw request body to a file: the
  ceiling (no parsing, hashing or checks).
* :data:`litestar_app` — a Litestar route that reads ``request.stream()`` and calls
  :func:`uploads.streaming.receive_upload` into :class:`~uploads.storage.LocalStorage`, as the
  contest app does.

Both write under ``BENCH_UPLOAD_DIR`` (set by the runner; this module is benchmark glue, not
part of ``uploads``, so reading the environment here is fine). ``BENCH_FSYNC=1`` makes both
fsync the file before answering.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, post
from litestar.exceptions import HTTPException

from uploads.errors import UploadError
from uploads.storage import LocalStorage
from uploads.streaming import receive_upload

UPLOAD_DIR = Path(os.environ.get("BENCH_UPLOAD_DIR", "/tmp/bench-upload"))
FSYNC = os.environ.get("BENCH_FSYNC") == "1"
MAX_BYTES = int(os.environ.get("BENCH_MAX_BYTES", str(1024 * 1024 * 1024)))


async def baseline_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Stream the body to a file with plain blocking writes; answer with the byte count."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    path = UPLOAD_DIR / f"baseline-{secrets.token_hex(8)}"
    size = 0
    with open(path, "wb") as fh:
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body = message.get("body", b"")
            size += len(body)
            fh.write(body)
            more = message.get("more_body", False)
        if FSYNC:
            fh.flush()
            os.fsync(fh.fileno())
    path.unlink()
    payload = str(size).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


_storage = LocalStorage(
    UPLOAD_DIR / "store", fsync=FSYNC, write_behind=os.environ.get("BENCH_WRITE_BEHIND", "1") == "1"
)


@post("/upload", request_max_body_size=MAX_BYTES + 1024 * 1024, operation_id="benchUpload")
async def upload(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The streaming route under test; removes the stored file so runs do not fill the disk."""
    length = request.headers.get("content-length")
    try:
        received = await receive_upload(
            request.stream(),
            content_type=request.headers.get("content-type", ""),
            content_length=int(length) if length else None,
            storage=_storage,
            max_bytes=MAX_BYTES,
        )
    except UploadError as exc:
        raise HTTPException(status_code=exc.status_code, detail=exc.message_en) from exc
    await _storage.delete(received.key)
    return {"size": received.size, "sha256": received.sha256, "content_type": received.content_type}


def _upload_error(_: Request[Any, Any, Any], exc: UploadError) -> Response[dict[str, Any]]:
    return Response(exc.as_dict(), status_code=exc.status_code)


litestar_app = Litestar([upload], exception_handlers={UploadError: _upload_error})


@post("/upload", request_max_body_size=None, operation_id="benchDrain")
async def drain(request: Request[Any, Any, Any]) -> dict[str, int]:
    """Reads the body and discards it: the ceiling of any Litestar route (for diagnosis)."""
    size = chunks = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks += 1
    return {"size": size, "chunks": chunks}


drain_app = Litestar([drain])
