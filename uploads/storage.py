"""Where attachment bytes live: a small protocol with a local-disk back-end here and an S3 one
in :mod:`uploads.s3`.

Writes are two-phase so a failed or cut-off upload leaves nothing behind:

* :meth:`Storage.begin_write` returns a :class:`PendingObject` with a fresh random key.
  Bytes go to a hidden place: a ``.incoming/<token>.part`` file on disk, or an S3 multipart
  upload that has not been completed (S3 shows no object until completion).
* :meth:`PendingObject.commit` makes the object visible under its key in one step
  (``os.replace``; completing the multipart upload).
* :meth:`PendingObject.abort` removes every trace (unlinks the part file; aborts the multipart
  upload). It is idempotent and shielded from cancellation, so it also runs when the client
  disconnects and the request task is being cancelled.

Keys are random (``secrets.token_urlsafe``) and sharded (``ab/cd/abcd…``) so no user-supplied
name ever becomes a path, and no directory grows to millions of entries.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import secrets
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

import anyio
import anyio.to_thread

__all__ = [
    "LocalStorage",
    "ObjectNotFound",
    "PendingObject",
    "Storage",
    "StorageError",
    "StorageFull",
    "make_storage",
    "new_key",
    "validate_key",
]

#: What :meth:`PendingObject.write` accepts (``collections.abc.Buffer`` from Python 3.12).
Buffer = bytes | bytearray | memoryview

#: Chunk size for reads served to clients and scanners: large enough to keep syscalls few,
#: small enough that many concurrent downloads stay cheap.
READ_CHUNK: Final = 256 * 1024
#: Local writes are gathered to this size and written in a worker thread, so the event loop
#: never blocks on disk and thread hand-offs stay rare.
LOCAL_WRITE_BUFFER: Final = 2 * 1024 * 1024
#: Buffers per ``writev`` call (Linux's IOV_MAX is 1024).
_IOV_MAX: Final = 512
#: Local writes run here: a private pool, so uploads never queue behind (or hold up) other
#: work on the event loop's default executor (password hashing, mail).
_WRITE_THREADS: Final = ThreadPoolExecutor(max_workers=8, thread_name_prefix="upload-write")
#: ``posix_fadvise`` advice that starts writeback of dirty pages and drops clean ones from the
#: cache (Linux); None elsewhere.
_START_WRITEBACK: Final = (
    os.POSIX_FADV_DONTNEED if hasattr(os, "posix_fadvise") and sys.platform == "linux" else None
)
_DROP_CACHED: Final = _START_WRITEBACK

KEY_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{2}/[A-Za-z0-9_-]{2}/[A-Za-z0-9_-]{16,64}$")


class StorageError(Exception):
    """A back-end failed (disk full, S3 unreachable); the upload was not stored."""


class StorageFull(StorageError):
    """The storage volume has no room left above its reserve; nothing was stored."""


class ObjectNotFound(StorageError, FileNotFoundError):
    """No object under this key."""


def new_key() -> str:
    """A fresh random key like ``Ab/c_/Abc_…`` (32 random URL-safe characters, sharded)."""
    token = secrets.token_urlsafe(24)
    return f"{token[:2]}/{token[2:4]}/{token}"


def validate_key(key: str) -> str:
    """Refuse anything that is not a key we generated, so a key can never escape the root."""
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class PendingObject(Protocol):
    """An object being written; invisible until :meth:`commit`."""

    @property
    def key(self) -> str:
        """The key the object will have once committed."""
        ...

    async def write(self, data: Buffer) -> None:
        """Append bytes (any bytes-like object); raises :class:`StorageError` if the back-end failed.

        May keep a reference to ``data`` until commit or abort: do not mutate it afterwards.
        """
        ...

    async def commit(self) -> None:
        """Make the object visible under :attr:`key`. After this, :meth:`abort` does nothing."""
        ...

    async def abort(self) -> None:
        """Remove all trace of the write. Idempotent and safe at any point, even when cancelled."""
        ...


@runtime_checkable
class Storage(Protocol):
    """The operations the intake, the checks and the file responses need."""

    async def begin_write(self) -> PendingObject:
        """Start writing a new object under a fresh random key."""
        ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Yield the bytes ``[start, end)`` (``end`` exclusive, ``None`` = to the end) in chunks."""
        ...

    async def size(self, key: str) -> int:
        """Size in bytes; raises :class:`ObjectNotFound`."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether a committed object exists under ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Delete the object; deleting a missing key is not an error."""
        ...

    def local_path(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A local file with the object's bytes for libraries that need a path (pypdf, Pillow).

        Local storage yields the file itself (treat it as read-only); S3 downloads to a temporary
        file that is removed on exit.
        """
        ...

    async def write_as(self, key: str) -> PendingObject:
        """Write an object under a given key (restoring a backup), replacing any there."""
        ...

    def has_room(self, size: int) -> bool:
        """Whether ``size`` more bytes can be stored without eating into the free-space reserve."""
        ...

    async def ping(self) -> None:
        """Raise unless the storage answers and can be written to."""
        ...

    async def list_older_than(self, seconds: float) -> list[str]:
        """Keys of committed objects written more than ``seconds`` ago."""
        ...

    async def purge_incomplete(self, older_than_seconds: float = 24 * 3600) -> int:
        """Remove what crashed uploads left (part files, multipart uploads) older than this."""
        ...


# --------------------------------------------------------------------------------------------
# Local disk


class _LocalPending:
    """A ``.part`` file in ``<root>/.incoming``, renamed into place on commit.

    Writes are gathered as references (no copy) and written with ``writev`` in a worker
    thread, one batch in flight while the caller produces the next. With ``fsync`` on, each
    written batch is also handed to the kernel's writeback at once, so the fsync at commit
    waits only for the last few megabytes instead of the whole file.
    """

    def __init__(self, storage: LocalStorage, key: str) -> None:
        self._storage = storage
        self._key = key
        self._part = storage.incoming_dir / f"{key.rsplit('/', 1)[1]}.part"
        self._fh: Any = None
        self._offset = 0
        self._views: list[Buffer] = []
        self._view_bytes = 0
        self._in_flight: asyncio.Future[None] | None = None
        self.write_behind = storage.write_behind
        self._done = False

    @property
    def key(self) -> str:
        return self._key

    def _open(self) -> None:
        self._part.parent.mkdir(parents=True, exist_ok=True)
        # "x": never overwrite; an existing part file would mean a key collision.
        self._fh = open(self._part, "xb", buffering=0)  # noqa: SIM115 - closed in commit/abort

    def _write_blocking(self, views: list[Buffer]) -> None:
        if self._fh is None:
            self._open()
        fd = self._fh.fileno()
        start = self._offset
        pending = [memoryview(v).cast("B") for v in views]
        if self._storage.reserve_bytes:
            # One fstatvfs per batch (2 MB): the upload stops before it eats into the reserve
            # that keeps the database, its journal and the logs writable.
            st = os.fstatvfs(fd)
            if st.f_bavail * st.f_frsize - sum(len(v) for v in pending) < self._storage.reserve_bytes:
                raise StorageFull("the storage volume is full (below its reserve)")
        while pending:
            written = os.writev(fd, pending[:_IOV_MAX])
            self._offset += written
            while written:
                if written >= len(pending[0]):
                    written -= len(pending.pop(0))
                else:
                    pending[0] = pending[0][written:]
                    written = 0
        if self._storage.fsync and _START_WRITEBACK is not None:
            # Start writing these pages to disk now (asynchronously); they stay cached
            # only until written. A hint: harmless where the kernel ignores it.
            os.posix_fadvise(fd, start, self._offset - start, _START_WRITEBACK)

    async def _wait_in_flight(self) -> None:
        """Wait for the previous write; its error, if any, surfaces here."""
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            try:
                await in_flight
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise StorageFull(f"writing upload failed: {exc}") from exc
                raise StorageError(f"writing upload failed: {exc}") from exc

    async def _flush(self) -> None:
        """Hand the gathered buffers to a worker thread and return (one write in flight).

        The request keeps being parsed and hashed while the disk write runs.
        """
        await self._wait_in_flight()
        if not self._views:
            return
        views, self._views, self._view_bytes = self._views, [], 0
        loop = asyncio.get_running_loop()
        self._in_flight = loop.run_in_executor(_WRITE_THREADS, self._write_blocking, views)
        if not self.write_behind:
            await self._wait_in_flight()

    async def write(self, data: Buffer) -> None:
        if self._done:
            raise StorageError("write after commit/abort")
        size = data.nbytes if isinstance(data, memoryview) else len(data)
        if not size:
            return
        self._views.append(data)
        self._view_bytes += size
        if self._view_bytes >= LOCAL_WRITE_BUFFER or len(self._views) >= _IOV_MAX:
            await self._flush()

    def _commit_blocking(self) -> None:
        if self._fh is None:
            self._open()
        if self._storage.fsync:
            os.fsync(self._fh.fileno())
            if _DROP_CACHED is not None:
                # On the disk now: its pages leave the cache. Only its check reads it again
                # soon (once, from the disk); cached, a deadline day's uploads would push the
                # database's pages out of memory, and writing each file into fresh pages cost
                # the kernel 4 ms of CPU a 2 MB file more than reusing the ones given back.
                os.posix_fadvise(self._fh.fileno(), 0, 0, _DROP_CACHED)
        self._fh.close()
        self._fh = None
        final = self._storage.path_for(self._key)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._part, final)
        if self._storage.fsync:
            _fsync_dir(final.parent)

    async def commit(self) -> None:
        if self._done:
            raise StorageError("commit after commit/abort")
        try:
            await self._flush()
            await self._wait_in_flight()
            await anyio.to_thread.run_sync(self._commit_blocking)
        except (OSError, StorageError) as exc:
            await self.abort()
            if isinstance(exc, StorageFull) or (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)):
                raise StorageFull(f"committing upload failed: {exc}") from exc
            raise StorageError(f"committing upload failed: {exc}") from exc
        self._done = True

    def _abort_blocking(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._part.unlink(missing_ok=True)

    async def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._views, self._view_bytes = [], 0
        with anyio.CancelScope(shield=True):
            if self._in_flight is not None:
                await asyncio.wait({self._in_flight})  # never close the file under a write
                self._in_flight = None
            await anyio.to_thread.run_sync(self._abort_blocking)


def _fsync_dir(path: Path) -> None:
    """Persist a rename: the directory entry must reach the disk too."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStorage:
    """Objects as files under ``root``; part files in ``root/.incoming`` on the same filesystem.

    ``fsync`` (default on) flushes the file and its directory at commit, because a receipt
    promises the file arrived; turn it off only for throw-away test data.
    """

    def __init__(self, root: Path | str, *, fsync: bool = True, write_behind: bool = True,
                 reserve_bytes: int = 0) -> None:
        self.root = Path(root).resolve()
        self.write_behind = write_behind
        self.incoming_dir = self.root / ".incoming"
        self.fsync = fsync
        #: Free space an upload must leave on the volume (0: none kept).
        self.reserve_bytes = reserve_bytes

    def free_bytes(self) -> int:
        """Free space on the volume for this process (the root, or the nearest existing parent)."""
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        st = os.statvfs(path)
        return st.f_bavail * st.f_frsize

    def has_room(self, size: int) -> bool:
        """Whether ``size`` more bytes fit above the reserve."""
        return not self.reserve_bytes or self.free_bytes() - size >= self.reserve_bytes

    async def ping(self) -> None:
        """Raise unless the storage folder exists (or can be made) and is writable."""
        def check() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise StorageError(f"{self.root} is not writable")

        await anyio.to_thread.run_sync(check)

    def _object_files(self, older_than: float) -> list[tuple[str, float]]:
        """(key, mtime) of committed objects last changed before ``older_than`` (epoch)."""
        found = []
        for path in self.root.glob("*/*/*"):
            key = path.relative_to(self.root).as_posix()
            if not KEY_PATTERN.match(key):
                continue
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue
            if mtime < older_than:
                found.append((key, mtime))
        return found

    async def list_older_than(self, seconds: float) -> list[str]:
        """Keys of committed objects written more than ``seconds`` ago."""
        cutoff = time.time() - seconds
        return [key for key, _ in await anyio.to_thread.run_sync(self._object_files, cutoff)]

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        """The file of a committed object (the key is validated, so it stays under root)."""
        return self.root / validate_key(key)

    async def begin_write(self) -> PendingObject:
        return _LocalPending(self, new_key())

    async def write_as(self, key: str) -> PendingObject:
        """Write an object under a given key (restoring a backup), replacing any there."""
        return _LocalPending(self, validate_key(key))

    async def open_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        try:
            fh = await anyio.open_file(path, "rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        async with fh:
            await fh.seek(start)
            remaining = None if end is None else max(0, end - start)
            while remaining is None or remaining > 0:
                size = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = await fh.read(size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    async def size(self, key: str) -> int:
        try:
            return (await anyio.Path(self.path_for(key)).stat()).st_size
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    async def exists(self, key: str) -> bool:
        return await anyio.Path(self.path_for(key)).is_file()

    async def delete(self, key: str) -> None:
        await anyio.Path(self.path_for(key)).unlink(missing_ok=True)

    @asynccontextmanager
    async def local_path(self, key: str) -> AsyncIterator[Path]:
        path = self.path_for(key)
        if not await anyio.Path(path).is_file():
            raise ObjectNotFound(key)
        yield path

    async def purge_incomplete(self, older_than_seconds: float = 24 * 3600) -> int:
        """Remove part files left by a crashed process (abort handles every other case).

        Returns how many were removed; meant for a periodic job.
        """

        def purge() -> int:
            if not self.incoming_dir.is_dir():
                return 0
            cutoff = time.time() - older_than_seconds
            removed = 0
            for part in self.incoming_dir.glob("*.part"):
                try:
                    if part.stat().st_mtime < cutoff:
                        part.unlink()
                        removed += 1
                except FileNotFoundError:
                    pass
            return removed

        return await anyio.to_thread.run_sync(purge)


# --------------------------------------------------------------------------------------------


def make_storage(url: str, *, reserve_bytes: int = 0, **s3_options: Any) -> Storage:
    """Build a back-end from a URL: ``file:///abs/path``, a plain path, or ``s3://bucket/prefix``.

    ``s3_options`` go to :class:`S3Storage` (``endpoint_url``, ``region``, ``access_key_id``,
    ``secret_access_key``, ``allow_http``, …) and are ignored for local storage, so the caller
    can pass its settings unconditionally; ``reserve_bytes`` is the free space local storage
    keeps (a bucket has no such limit).
    """
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"S3 storage URL needs a bucket: {url!r}")
        from uploads.s3 import S3Storage

        return S3Storage(parts.netloc, unquote(parts.path).strip("/"), **s3_options)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file URL must be local: {url!r}")
        return LocalStorage(Path(unquote(parts.path)), reserve_bytes=reserve_bytes)
    if parts.scheme and len(parts.scheme) > 1:  # "C:" on Windows is a drive, not a scheme
        raise ValueError(f"unsupported storage URL scheme: {parts.scheme!r}")
    return LocalStorage(Path(url), reserve_bytes=reserve_bytes)

