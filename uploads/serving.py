"""Send a stored file to a browser: streamed, resumable (single byte ranges), never sniffed.

The caller (the contest's controller) has already checked that the user may see the file.
Downloads are attachments by default; only PDF and images may open inline (reviewers read them
in the browser), and ``X-Content-Type-Options: nosniff`` stops a browser from guessing a type
other than the one we sniffed at upload.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from typing import Final
from urllib.parse import quote

from litestar import Response
from litestar.response import Stream

from uploads.storage import Storage

__all__ = ["content_disposition", "file_response", "parse_range"]

_INLINE_TYPES: Final = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp"})
_RANGE_RE: Final = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
# RFC 5987 attr-char: what may stay unescaped in filename*.
_ATTR_CHARS: Final = "!#$&+-.^_`|~"


class RangeNotSatisfiable(Exception):
    """The Range header is well-formed but lies outside the file."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range ``(first, last)`` asked for, or ``None`` to send everything.

    Malformed and multi-range headers are ignored (RFC 9110 allows that: a full 200 response).
    Raises :class:`RangeNotSatisfiable` for a valid range that selects no byte of the file.
    """
    if not header:
        return None
    match = _RANGE_RE.match(header)
    if match is None:
        return None
    first_s, last_s = match.groups()
    if not first_s and not last_s:
        return None
    if not first_s:  # bytes=-n: the last n bytes
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None  # invalid syntax per RFC 9110: ignore the header
    if first >= size:
        raise RangeNotSatisfiable
    return first, min(last, size - 1)


def _ascii_fallback(filename: str) -> str:
    """A plain-ASCII name for old clients: accents folded, other scripts dropped, quotes removed.

    Keeps the extension so "นวัตกรรม.pdf" still downloads as "file.pdf" where filename* is unknown.
    """
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    folded = "".join(ch for ch in folded if 32 <= ord(ch) < 127 and ch not in '"\\;')
    stem, dot, ext = folded.rpartition(".")
    if not dot:
        stem, ext = folded, ""
    if not stem.strip(" ._-"):
        stem = "file"
    return f"{stem.strip()}.{ext}" if ext else stem.strip()


def content_disposition(filename: str, *, inline: bool) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded`` (RFC 6266)."""
    kind = "inline" if inline else "attachment"
    encoded = quote(filename, safe=_ATTR_CHARS)
    return f"{kind}; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"


async def file_response(
    storage: Storage,
    key: str,
    *,
    filename: str,
    content_type: str,
    range_header: str | None,
    inline: bool = False,
) -> Response[object]:
    """A streaming response for the object at ``key``: 200, 206 for one range, or 416.

    Raises :class:`~uploads.storage.ObjectNotFound` when the object is missing, so the caller
    can answer 404 its own way.
    """
    size = await storage.size(key)
    headers = {
        # Explicit, because Litestar lets the route handler's default media type (JSON) win
        # over a Stream's own media_type.
        "Content-Type": content_type,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private",
        "Content-Disposition": content_disposition(
            filename, inline=inline and content_type in _INLINE_TYPES
        ),
    }
    try:
        byte_range = parse_range(range_header, size)
    except RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{size}"
        return Response(b"", status_code=416, headers=headers, media_type=content_type)

    if byte_range is None:
        start, end, status = 0, size, 200
    else:
        start, end, status = byte_range[0], byte_range[1] + 1, 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in storage.open_range(key, start, end):
            yield chunk

    return Stream(body(), status_code=status, headers=headers, media_type=content_type)  # type: ignore[return-value]
