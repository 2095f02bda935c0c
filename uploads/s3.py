"""S3-compatible object storage (AWS, MinIO, Ceph, Cloudflare R2, …) for :mod:`uploads.storage`,
through obstore: a pending object is a multipart upload, committed by completing it."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import anyio
import anyio.to_thread

from uploads.storage import (
    KEY_PATTERN,
    READ_CHUNK,
    Buffer,
    ObjectNotFound,
    PendingObject,
    StorageError,
    new_key,
    validate_key,
)

# --------------------------------------------------------------------------------------------
# S3-compatible object storage (AWS, MinIO, Ceph, Cloudflare R2, …) through obstore


class _Fail:
    """Queue sentinel: make the upload's chunk iterator raise, so obstore aborts the upload."""


_END: Final = object()
_FAIL: Final = _Fail()


class _S3Pending:
    """A multipart upload fed through a bounded queue, completed only at :meth:`commit`.

    obstore's ``put_async`` consumes an async iterator. It completes the multipart upload when
    the iterator ends and *aborts it when the iterator raises*; cancelling its future would
    instead leave the parts behind. So commit ends the iterator and abort makes it raise.
    """

    _QUEUE_ITEMS: Final = 4
    _ITEM_BYTES: Final = 1024 * 1024

    def __init__(self, storage: S3Storage, key: str) -> None:
        self._storage = storage
        self._key = key
        self._queue: asyncio.Queue[object] = asyncio.Queue(self._QUEUE_ITEMS)
        self._buffer = bytearray()
        self._future: asyncio.Future[Any] | None = None
        self._done = False

    @property
    def key(self) -> str:
        return self._key

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            if item is _FAIL:
                raise RuntimeError("upload aborted")
            assert isinstance(item, bytes)
            yield item

    def _start(self) -> asyncio.Future[Any]:
        if self._future is None:
            import obstore

            self._future = asyncio.ensure_future(
                obstore.put_async(
                    self._storage.store,
                    self._key,
                    self._chunks(),
                    use_multipart=True,
                    chunk_size=self._storage.part_size,
                    max_concurrency=self._storage.max_concurrency,
                )
            )
        return self._future

    async def _put(self, item: object) -> None:
        """Queue an item unless the upload already failed (then nobody would ever take it)."""
        future = self._start()
        if future.done():
            self._raise_from(future)
        put = asyncio.ensure_future(self._queue.put(item))
        try:
            await asyncio.wait({put, future}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not put.done():
                put.cancel()
        if not put.done() or put.cancelled():
            self._raise_from(future)

    @staticmethod
    def _raise_from(future: asyncio.Future[Any]) -> None:
        exc = future.exception() if not future.cancelled() else None
        raise StorageError(f"S3 upload failed: {exc}") from exc

    async def write(self, data: Buffer) -> None:
        if self._done:
            raise StorageError("write after commit/abort")
        self._buffer += data
        if len(self._buffer) >= self._ITEM_BYTES:
            item, self._buffer = bytes(self._buffer), bytearray()
            await self._put(item)

    async def commit(self) -> None:
        if self._done:
            raise StorageError("commit after commit/abort")
        try:
            if self._buffer:
                item, self._buffer = bytes(self._buffer), bytearray()
                await self._put(item)
            await self._put(_END)
            await self._start()
        except BaseException as exc:
            await self.abort()
            if isinstance(exc, StorageError) or not isinstance(exc, Exception):
                raise
            raise StorageError(f"S3 upload failed: {exc}") from exc
        self._done = True

    async def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        if self._future is None:
            return
        with anyio.CancelScope(shield=True):
            future = self._future
            if not future.done():
                # Drain what the iterator has not taken yet, then make it raise.
                while not self._queue.empty():
                    self._queue.get_nowait()
                self._queue.put_nowait(_FAIL)
                await asyncio.wait({future})
            if not future.cancelled() and future.exception() is None:
                # The upload raced to completion before the failure sentinel: delete it.
                await self._storage.delete(self._key)


class S3Storage:
    """Objects in an S3-compatible bucket, under an optional prefix.

    ``allow_http`` is for local endpoints (MinIO, test servers); production uses HTTPS.
    Path-style addressing is used so MinIO-like endpoints work without DNS tricks. Incomplete
    multipart uploads left by a crashed process are removed by a bucket lifecycle rule
    ("AbortIncompleteMultipartUpload"), which the operator should configure.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        allow_http: bool = False,
        part_size: int = 8 * 1024 * 1024,
        max_concurrency: int = 2,
    ) -> None:
        from obstore.store import S3Store

        config: dict[str, Any] = {"region": region}
        if endpoint_url:
            config["endpoint"] = endpoint_url
        if access_key_id is not None:
            config["access_key_id"] = access_key_id
        if secret_access_key is not None:
            config["secret_access_key"] = secret_access_key
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._endpoint_url, self._region = endpoint_url, region
        self._access_key_id, self._secret_access_key = access_key_id, secret_access_key
        # part_size * max_concurrency bounds the memory one upload can hold in flight.
        self.part_size = max(part_size, 5 * 1024 * 1024)
        self.max_concurrency = max_concurrency
        self.store = S3Store(
            bucket,
            prefix=self.prefix or None,
            config=config,  # type: ignore[arg-type]
            # A stalled endpoint fails the call (5 s to connect, 30 s without a byte) instead of
            # hanging it; the overall bound is long enough to stream a large file to a slow client.
            client_options={"allow_http": allow_http, "connect_timeout": "5s", "read_timeout": "30s",
                            "timeout": "2h"},
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    async def begin_write(self) -> PendingObject:
        return _S3Pending(self, new_key())

    async def write_as(self, key: str) -> PendingObject:
        """Write an object under a given key (restoring a backup), replacing any there."""
        return _S3Pending(self, validate_key(key))

    async def open_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        import obstore
        from obstore.exceptions import NotFoundError

        validate_key(key)
        if end is not None and end <= start:
            return
        options: dict[str, Any] = {"range": (start, end) if end is not None else {"offset": start}}
        try:
            result = await obstore.get_async(self.store, key, options=options)  # type: ignore[arg-type]
        except (NotFoundError, FileNotFoundError) as exc:
            raise ObjectNotFound(key) from exc
        async for chunk in result.stream(min_chunk_size=READ_CHUNK):
            yield bytes(chunk)

    async def size(self, key: str) -> int:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            meta = await obstore.head_async(self.store, validate_key(key))
        except (NotFoundError, FileNotFoundError) as exc:
            raise ObjectNotFound(key) from exc
        return int(meta["size"])

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
        except ObjectNotFound:
            return False
        return True

    async def delete(self, key: str) -> None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            await obstore.delete_async(self.store, validate_key(key))
        except (NotFoundError, FileNotFoundError):
            pass

    def has_room(self, size: int) -> bool:
        return True  # a bucket has no volume to fill

    async def ping(self) -> None:
        """Raise unless the bucket answers (a missing probe object is an answer)."""
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            await obstore.head_async(self.store, "readyz-probe")
        except (NotFoundError, FileNotFoundError):
            pass

    async def list_older_than(self, seconds: float) -> list[str]:
        """Keys of committed objects written more than ``seconds`` ago."""
        import obstore

        cutoff = time.time() - seconds
        keys = []
        async for batch in obstore.list(self.store, chunk_size=1000):
            for meta in batch:
                key = str(meta["path"])
                if KEY_PATTERN.match(key) and meta["last_modified"].timestamp() < cutoff:
                    keys.append(key)
        return keys

    async def purge_incomplete(self, older_than_seconds: float = 24 * 3600) -> int:
        """Abort multipart uploads started more than ``older_than_seconds`` ago (a crashed
        process's; abort handles every other case). The bucket's lifecycle rule
        (AbortIncompleteMultipartUpload, see docs/operations.md) is the second line."""
        return await anyio.to_thread.run_sync(self._abort_stale_multipart, older_than_seconds)

    def _abort_stale_multipart(self, older_than_seconds: float) -> int:
        import boto3
        from botocore.config import Config

        client = boto3.client("s3", endpoint_url=self._endpoint_url, region_name=self._region,
                              aws_access_key_id=self._access_key_id, aws_secret_access_key=self._secret_access_key,
                              config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2},
                                            s3={"addressing_style": "path"}))
        cutoff = time.time() - older_than_seconds
        prefix = f"{self.prefix}/" if self.prefix else ""
        aborted = 0
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"].timestamp() < cutoff:
                    client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                    aborted += 1
        return aborted

    @asynccontextmanager
    async def local_path(self, key: str) -> AsyncIterator[Path]:
        fd, name = tempfile.mkstemp(prefix="upload-check-")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                async for chunk in self.open_range(key):
                    await anyio.to_thread.run_sync(fh.write, chunk)
            yield path
        finally:
            path.unlink(missing_ok=True)


