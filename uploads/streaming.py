"""Receive one file from a ``multipart/form-data`` body as it arrives, in bounded memory.

Why not Litestar's ``UploadFile``: it spools the whole body before the handler runs, keeps it
after a dropped connection only until the response, and cannot reject a disguised or oversized
file until everything has arrived. Here the body is fed chunk by chunk to python-multipart's
streaming parser; the file part goes straight to :class:`~uploads.storage.Storage` under a
temporary name while its SHA-256 is computed, the first bytes decide its type (so a 200 MB EXE
is refused after its first chunk), and the object is committed only when the closing boundary
arrived and every check passed. Any failure, including the client vanishing (the chunk iterator
raising or being cancelled) aborts the pending object, so nothing is left behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import unicodedata
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote_to_bytes

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from uploads import sniff
from uploads.errors import (
    EmptyFile,
    IncompleteUpload,
    MalformedUpload,
    UnsupportedFileType,
    UploadError,
    UploadTooLarge,
)
from uploads.storage import PendingObject, Storage

__all__ = [
    "MAX_FIELDS",
    "MAX_FIELD_BYTES",
    "MULTIPART_OVERHEAD",
    "ReceivedUpload",
    "clean_filename",
    "parse_content_disposition",
    "receive_upload",
]

#: Body bytes allowed on top of ``max_bytes``: part headers, boundaries and the small text
#: fields. A Content-Length above ``max_bytes + MULTIPART_OVERHEAD`` is refused unread.
MULTIPART_OVERHEAD: Final = 64 * 1024
#: Text fields are short labels (``kind``, a title); anything longer is not ours.
MAX_FIELD_BYTES: Final = 4 * 1024
MAX_FIELDS: Final = 16
MAX_PART_HEADER_BYTES: Final = 8 * 1024
MAX_FILENAME_CHARS: Final = 200
#: Shown when the browser sent no usable name; it has no extension, so the content decides.
DEFAULT_FILENAME: Final = "attachment"
#: File bytes are hashed and handed to storage in batches of this size: fewer thread
#: hand-offs (2 MB measured faster than 1 MB on the target); memory holds one batch filling,
#: one being hashed and the storage's write-behind (a batch gathered, one being written).
_BATCH_BYTES: Final = 2 * 1024 * 1024
#: Batches smaller than this (the last piece of a small file) are hashed on the event loop.
_THREAD_HASH_MIN: Final = 64 * 1024
#: SHA-256 runs here, not on the event loop (hashlib releases the GIL on large buffers). It is
#: CPU work, so more threads than cores would only queue; a private pool keeps hashing from
#: waiting behind (or holding up) other work on the loop's default executor.
_HASH_THREADS: Final = ThreadPoolExecutor(
    max_workers=max(2, os.cpu_count() or 1), thread_name_prefix="upload-sha256"
)


@dataclass(frozen=True, slots=True)
class ReceivedUpload:
    """A file that arrived whole, passed the type checks and is committed under ``key``."""

    key: str
    filename: str
    size: int
    sha256: str
    content_type: str
    fields: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Header and filename handling


def _decode_header(raw: bytes) -> str:
    """Browsers send raw UTF-8 in part headers (RFC 7578); older clients send Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _split_params(value: str) -> tuple[str, list[tuple[str, str]]]:
    """Split ``type; a=b; c="d;e"`` into the type and ``(name, value)`` pairs.

    Inside quotes only ``\\"`` and ``\\\\`` are escapes; other backslashes are kept, because
    old browsers send Windows paths (``C:\\x\\y.pdf``) unescaped.
    """
    i, n = 0, len(value)
    while i < n and value[i] not in ";":
        i += 1
    disposition = value[:i].strip().lower()
    params: list[tuple[str, str]] = []
    while i < n:
        while i < n and value[i] in "; \t":
            i += 1
        start = i
        while i < n and value[i] not in "=;":
            i += 1
        name = value[start:i].strip().lower()
        if i >= n or value[i] == ";":
            if name:
                params.append((name, ""))
            continue
        i += 1  # "="
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] == '"':
            i += 1
            out: list[str] = []
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n and value[i + 1] in '"\\':
                    i += 1
                out.append(value[i])
                i += 1
            i += 1  # closing quote (or end of string)
            params.append((name, "".join(out)))
        else:
            start = i
            while i < n and value[i] != ";":
                i += 1
            params.append((name, value[start:i].strip()))
    return disposition, params


def _decode_ext_value(value: str) -> str | None:
    """RFC 5987 ``charset'lang'percent-encoded`` -> text; ``None`` if not in that form."""
    parts = value.split("'", 2)
    if len(parts) != 3:
        return None
    charset = parts[0].strip().lower() or "utf-8"
    if charset not in ("utf-8", "iso-8859-1"):
        return None
    return unquote_to_bytes(parts[2]).decode(charset, errors="replace")


def parse_content_disposition(raw: bytes) -> tuple[str, str | None, str | None]:
    """``(disposition, name, filename)`` of a part; ``filename*`` wins over ``filename``."""
    disposition, params = _split_params(_decode_header(raw))
    values: dict[str, str] = {}
    for key, val in params:
        values.setdefault(key, val)
    filename = None
    if "filename*" in values:
        filename = _decode_ext_value(values["filename*"])
    if filename is None and "filename" in values:
        filename = values["filename"]
    return disposition, values.get("name"), filename


_SEPARATORS: Final = re.compile(r"[\\/]")


def clean_filename(raw: str | None) -> str:
    """A display name safe to show and to echo in headers; never used as a storage path.

    Keeps Thai and other scripts (NFC-normalised), drops any directory part (``../``, ``C:\\``),
    control and format characters (including bidi overrides that make ``exe.pdf`` look like
    ``fdp.exe``), leading dots and surrounding spaces, and caps the length keeping the extension.
    """
    if not raw:
        return DEFAULT_FILENAME
    name = unicodedata.normalize("NFC", raw)
    name = _SEPARATORS.split(name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    name = name.strip().lstrip(".").rstrip(". ").strip()
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name or DEFAULT_FILENAME


def _boundary_of(content_type: str) -> bytes:
    mime, options = parse_options_header(content_type)
    if mime != b"multipart/form-data":
        raise MalformedUpload("ต้องส่งแบบ multipart/form-data", "expected multipart/form-data")
    boundary = options.get(b"boundary", b"")
    if not 1 <= len(boundary) <= 70:
        raise MalformedUpload("ไม่พบ boundary ของ multipart", "missing or invalid multipart boundary")
    return boundary


# --------------------------------------------------------------------------------------------
# The intake


class _Digest:
    """SHA-256 of the file, computed in a worker thread while the loop parses the next batch.

    One batch is hashed at a time (SHA-256 is sequential): handing over the next batch waits
    for the previous one, which bounds memory. A deeper queue (the worker going from batch to
    batch without a round trip through the loop) measured no faster on the 2-core target: the
    worker then waits for the GIL that the busy loop holds instead.
    """

    def __init__(self) -> None:
        self._hasher = hashlib.sha256()
        self._in_flight: asyncio.Future[None] | None = None

    def _update_blocking(self, pieces: list[memoryview]) -> None:
        for piece in pieces:
            self._hasher.update(piece)

    async def _wait(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            await in_flight

    async def update(self, pieces: list[memoryview], size: int) -> None:
        """Start hashing ``pieces`` (``size`` bytes) after the previous batch; they must not change."""
        await self._wait()
        if size < _THREAD_HASH_MIN:
            self._update_blocking(pieces)  # a thread hand-off would cost more than the hashing
            return
        loop = asyncio.get_running_loop()
        self._in_flight = loop.run_in_executor(_HASH_THREADS, self._update_blocking, pieces)

    async def hexdigest(self) -> str:
        """The digest of every batch handed over."""
        await self._wait()
        return self._hasher.hexdigest()


class _Intake:
    """Parser callbacks (synchronous) plus the async work they queue: hashing and writing.

    The callbacks only validate and collect views of the current chunk (no copies); after each
    chunk, :meth:`drain` gathers them into ~2 MB batches, each hashed in a worker thread and
    written by the storage's own write-behind thread while the loop parses the next chunks.
    So memory holds a few batches and a network chunk, whatever the file's size.
    """

    def __init__(self, storage: Storage, max_bytes: int, file_field: str, *, file_optional: bool = False,
                 field_bytes: int = MAX_FIELD_BYTES) -> None:
        self.storage = storage
        self.max_bytes = max_bytes
        self.file_field = file_field
        self.file_optional = file_optional
        self.field_bytes = field_bytes
        self.fields: dict[str, str] = {}
        self.ended = False
        # Per-part state
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._header_bytes = 0
        self._part_kind: str | None = None  # "file" | "field" | "skip"
        self._field_name = ""
        self._field_value = bytearray()
        # File state
        self.file_seen = False
        self.file_done = False
        self.filename = DEFAULT_FILENAME
        self.size = 0
        self.digest = _Digest()
        self.head = bytearray()
        self.file_type: sniff.FileType | None = None
        self.tail = bytearray()
        self.pending: PendingObject | None = None
        self._queued: list[memoryview] = []
        self._batch: list[memoryview] = []
        self._batch_bytes = 0

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    # -- callbacks ----------------------------------------------------------------------------

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._header_bytes = 0
        self._part_kind = None

    def _count_header(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise MalformedUpload("ส่วนหัวของฟอร์มยาวเกินไป", "part headers too long")

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_name).strip().lower()] = bytes(self._header_value).strip()
        self._header_name = bytearray()
        self._header_value = bytearray()

    def _on_headers_finished(self) -> None:
        raw = self._headers.get(b"content-disposition")
        if raw is None:
            raise MalformedUpload("ไม่มี Content-Disposition", "part without Content-Disposition")
        disposition, name, filename = parse_content_disposition(raw)
        if disposition != "form-data" or not name:
            raise MalformedUpload("ส่วนของฟอร์มไม่มีชื่อ", "part without a form-data name")
        if name == self.file_field:
            if self.file_seen:
                raise MalformedUpload("ส่งไฟล์ได้ครั้งละหนึ่งไฟล์", "more than one file part")
            self.file_seen = True
            self.filename = clean_filename(filename)
            self._part_kind = "file"
        elif filename is not None:
            raise MalformedUpload(
                f"ช่องไฟล์ต้องชื่อ '{self.file_field}'", f"unexpected file field {name!r}"
            )
        else:
            if len(self.fields) >= MAX_FIELDS:
                raise MalformedUpload("ฟอร์มมีช่องข้อมูลมากเกินไป", "too many form fields")
            self._part_kind = "field"
            self._field_name = name
            self._field_value = bytearray()

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part_kind == "file":
            self.size += end - start
            if self.size > self.max_bytes:
                raise UploadTooLarge(self.max_bytes)
            # A view, not a copy: the chunk is immutable and kept only until drain().
            self._queued.append(memoryview(data)[start:end])
        elif self._part_kind == "field":
            self._field_value += data[start:end]
            if len(self._field_value) > self.field_bytes:
                raise MalformedUpload(
                    f"ช่อง '{self._field_name}' ยาวเกินไป", f"field {self._field_name!r} too long"
                )

    def _on_part_end(self) -> None:
        if self._part_kind == "file":
            self.file_done = True
        elif self._part_kind == "field":
            try:
                value = self._field_value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedUpload(
                    f"ช่อง '{self._field_name}' ไม่ใช่ UTF-8", f"field {self._field_name!r} is not UTF-8"
                ) from exc
            self.fields.setdefault(self._field_name, value)
        self._part_kind = None

    def _on_end(self) -> None:
        self.ended = True

    # -- async side ---------------------------------------------------------------------------

    def _sniff(self) -> None:
        file_type = sniff.sniff_head(bytes(self.head))
        if file_type is None:
            raise UnsupportedFileType.not_allowed()
        sniff.check_extension(self.filename, file_type)
        self.file_type = file_type

    async def _ship(self) -> None:
        """Hash the collected pieces and hand them to storage, both behind the event loop.

        The digest runs in :data:`_HASH_THREADS`, the local write in the storage's write-behind
        thread (``writev`` of the same views), while the loop goes on receiving and parsing. The
        pieces are views of the received chunks: this process never copies the file's bytes.
        """
        pieces, size = self._batch, self._batch_bytes
        self._batch, self._batch_bytes = [], 0
        if not pieces:
            return
        if self.pending is None:
            self.pending = await self.storage.begin_write()
        await self.digest.update(pieces, size)
        for piece in pieces:
            await self.pending.write(piece)

    async def drain(self) -> None:
        """Sniff, batch, hash and write what the last chunk produced for the file part."""
        queued, self._queued = self._queued, []
        for piece in queued:
            if self.file_type is None:
                self.head += piece[: sniff.SNIFF_BYTES - len(self.head)]
                if len(self.head) >= sniff.SNIFF_BYTES:
                    self._sniff()
            if self.file_type is sniff.ZIP_CANDIDATE:
                self.tail += piece[-sniff.ZIP_TAIL_BYTES :]
                if len(self.tail) > 2 * sniff.ZIP_TAIL_BYTES:
                    del self.tail[: -sniff.ZIP_TAIL_BYTES]
            self._batch.append(piece)
            self._batch_bytes += len(piece)
            if self._batch_bytes >= _BATCH_BYTES:
                await self._ship()

    async def finish(self) -> ReceivedUpload:
        """Final checks once the body ended; commit and describe the stored object."""
        if self.file_optional and self.size == 0 and self.filename in ("", DEFAULT_FILENAME):
            # A form whose file input was left empty: its fields, and no file (``key`` empty).
            return ReceivedUpload(key="", filename="", size=0, sha256="", content_type="", fields=dict(self.fields))
        if not self.file_seen:
            raise MalformedUpload(
                f"ไม่พบช่องไฟล์ '{self.file_field}'", f"no file field {self.file_field!r}"
            )
        if self.size == 0:
            raise EmptyFile()
        if self.file_type is None:  # shorter than SNIFF_BYTES
            self._sniff()
        await self._ship()
        file_type = self.file_type
        assert file_type is not None and self.pending is not None
        if file_type is sniff.ZIP_CANDIDATE:
            file_type = sniff.identify_ooxml(bytes(self.tail[-sniff.ZIP_TAIL_BYTES :]), self.size)
            sniff.check_extension(self.filename, file_type)
        sha256 = await self.digest.hexdigest()  # the last batch hashes while it is being written
        await self.pending.commit()
        return ReceivedUpload(
            key=self.pending.key,
            filename=self.filename,
            size=self.size,
            sha256=sha256,
            content_type=file_type.content_type,
            fields=dict(self.fields),
        )


async def receive_upload(  # noqa: C901 - the streaming loop handles each way a body can end (complete, cut, too big, bad type) in one place
    chunks: AsyncIterator[bytes],
    *,
    content_type: str,
    content_length: int | None,
    storage: Storage,
    max_bytes: int,
    file_field: str = "file",
    file_optional: bool = False,
    field_bytes: int = MAX_FIELD_BYTES,
) -> ReceivedUpload:
    """Stream one uploaded file from a multipart body into ``storage`` and return what arrived.

    ``chunks`` is the raw request body (e.g. Litestar's ``request.stream()``), ``content_type``
    the request's Content-Type header with its boundary. The body must hold exactly one part
    named ``file_field`` plus optional short text fields (returned in ``fields``).

    Raises an :class:`~uploads.errors.UploadError` subclass: ``UploadTooLarge`` before reading
    when ``content_length`` is already too big, otherwise as soon as the file crosses
    ``max_bytes``; ``UnsupportedFileType`` as soon as the first bytes show a type that is not
    allowed or contradicts the name; ``EmptyFile``; ``MalformedUpload``; ``IncompleteUpload``
    when the body stops early or the iterator fails. Storage faults raise ``StorageError``.
    Whatever is raised, nothing stays in storage.

    ``file_optional``: a form whose file input was left empty (no file part, or an empty one
    without a name) is not an error; the answer then has an empty ``key`` and only ``fields``.
    ``field_bytes``: the longest text field accepted (a reason typed in a form).
    """
    boundary = _boundary_of(content_type)
    body_limit = max_bytes + MULTIPART_OVERHEAD
    if content_length is not None and content_length > body_limit:
        raise UploadTooLarge(max_bytes)

    intake = _Intake(storage, max_bytes, file_field, file_optional=file_optional, field_bytes=field_bytes)
    parser = MultipartParser(boundary, intake.callbacks())  # type: ignore[arg-type]
    received = 0
    iterator = aiter(chunks)
    try:
        while True:
            try:
                chunk = await anext(iterator)
            except StopAsyncIteration:
                break
            except (anyio.get_cancelled_exc_class(), UploadError):
                raise
            except Exception as exc:  # the transport's "client disconnected", reset, timeout…
                raise IncompleteUpload() from exc
            if not chunk:
                continue
            if type(chunk) is not bytes:
                chunk = bytes(chunk)  # views of it outlive this step: it must not change
            received += len(chunk)
            if received > body_limit:
                raise UploadTooLarge(max_bytes)
            if intake.ended:
                continue  # epilogue after the closing boundary: ignored, but counted above
            try:
                parser.write(chunk)
            except MultipartParseError as exc:
                raise MalformedUpload() from exc
            await intake.drain()
        parser.finalize()
        if not intake.ended:
            raise IncompleteUpload()
        return await intake.finish()
    except BaseException:
        if intake.pending is not None:
            await intake.pending.abort()
        raise
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with anyio.CancelScope(shield=True):
                try:
                    await aclose()
                except Exception:  # noqa: BLE001 - the body is abandoned either way
                    pass
