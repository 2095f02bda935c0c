"""The storage contract, run against LocalStorage and S3Storage (moto's S3 server)."""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from uploads.s3 import S3Storage
from uploads.storage import (
    LocalStorage,
    ObjectNotFound,
    Storage,
    make_storage,
    new_key,
    validate_key,
)

pytestmark = pytest.mark.anyio

MB = 1024 * 1024


async def write_object(storage: Storage, data: bytes, piece: int = 100_000) -> str:
    pending = await storage.begin_write()
    for i in range(0, len(data), piece):
        await pending.write(data[i : i + piece])
    await pending.commit()
    return pending.key


async def read_range(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.open_range(key, start, end)])


async def test_storage_commit_makes_object_readable(storage: Storage, leftovers: Any) -> None:
    data = random.Random(7).randbytes(300_000)

    key = await write_object(storage, data)

    assert await storage.exists(key) is True
    assert await storage.size(key) == len(data)
    assert await read_range(storage, key) == data
    assert len(leftovers()) == 1


async def test_storage_object_invisible_before_commit(storage: Storage, leftovers: Any) -> None:
    pending = await storage.begin_write()
    await pending.write(random.Random(7).randbytes(2 * MB))

    assert await storage.exists(pending.key) is False

    await pending.abort()


async def test_storage_abort_leaves_nothing(storage: Storage, leftovers: Any) -> None:
    pending = await storage.begin_write()
    for _ in range(12):  # 12 MB: several S3 parts already uploaded
        await pending.write(random.Random(7).randbytes(MB))

    await pending.abort()
    await pending.abort()  # idempotent

    assert await storage.exists(pending.key) is False
    assert leftovers() == []


async def test_storage_abort_before_any_write_leaves_nothing(storage: Storage, leftovers: Any) -> None:
    pending = await storage.begin_write()

    await pending.abort()

    assert leftovers() == []


async def test_storage_large_object_round_trips(storage: Storage) -> None:
    data = random.Random(7).randbytes(11 * MB)  # more than one S3 part

    key = await write_object(storage, data, piece=300_000)

    assert await storage.size(key) == len(data)
    assert await read_range(storage, key, 5 * MB - 3, 5 * MB + 7) == data[5 * MB - 3 : 5 * MB + 7]


async def test_storage_accepts_memoryviews_of_many_sizes(storage: Storage) -> None:
    # The intake hands over views of the received chunks: tiny ones (more than one writev's
    # worth of buffers) and big ones, in order.
    data = random.Random(7).randbytes(3 * MB + 12_345)
    view = memoryview(data)
    cuts = [*range(0, 3000, 3), *range(3000, len(data), 700_001), len(data)]

    pending = await storage.begin_write()
    for start, end in zip(cuts, cuts[1:], strict=False):
        await pending.write(view[start:end])
    await pending.commit()

    assert await read_range(storage, pending.key) == data


async def test_local_storage_with_fsync_round_trips(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files", fsync=True)  # the production setting
    data = random.Random(7).randbytes(5 * MB + 1)

    key = await write_object(storage, data, piece=1_000_000)

    assert (storage.root / key).read_bytes() == data
    assert list((storage.root / ".incoming").iterdir()) == []


def cached_bytes(path: Path) -> int:
    """How much of the file is in the page cache (Linux ``mincore`` on a mapping of it)."""
    import ctypes
    import mmap

    size = path.stat().st_size
    page = mmap.PAGESIZE
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        assert address not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
        try:
            pages = ctypes.create_string_buffer((size + page - 1) // page)
            assert libc.mincore(address, size, pages) == 0, os.strerror(ctypes.get_errno())
            return sum(b & 1 for b in pages.raw) * page
        finally:
            libc.munmap(address, size)
    finally:
        os.close(fd)


@pytest.mark.skipif(sys.platform != "linux", reason="Linux's page cache")
async def test_local_storage_leaves_a_durable_object_out_of_the_cache(tmp_path: Path) -> None:
    """Once on the disk, an upload's pages leave the page cache (the database's pages stay)."""
    storage = LocalStorage(tmp_path / "files", fsync=True)  # the production setting
    data = random.Random(8).randbytes(2 * MB)
    plain = tmp_path / "written-the-ordinary-way"
    plain.write_bytes(data)

    key = await write_object(storage, data, piece=256 * 1024)

    assert cached_bytes(plain) > 0  # what the measure sees of a file nobody dropped
    assert cached_bytes(storage.root / key) == 0
    assert (storage.root / key).read_bytes() == data


@pytest.mark.parametrize(("start", "end"), [(0, 1), (10, 20), (990, None), (0, None), (999, 1000)])
async def test_storage_open_range_returns_slice(storage: Storage, start: int, end: int | None) -> None:
    data = bytes(range(250)) * 4
    key = await write_object(storage, data)

    assert await read_range(storage, key, start, end) == data[start:end]


async def test_storage_empty_object_commits(storage: Storage) -> None:
    key = await write_object(storage, b"")

    assert await storage.size(key) == 0


async def test_storage_delete_removes_object(storage: Storage, leftovers: Any) -> None:
    key = await write_object(storage, b"data")

    await storage.delete(key)
    await storage.delete(key)  # deleting a missing key is fine

    assert await storage.exists(key) is False
    assert leftovers() == []


async def test_storage_size_of_missing_key_raises(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.size(new_key())


async def test_storage_open_range_of_missing_key_raises(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        await read_range(storage, new_key())


async def test_storage_local_path_holds_the_bytes(storage: Storage) -> None:
    data = random.Random(7).randbytes(70_000)
    key = await write_object(storage, data)

    async with storage.local_path(key) as path:
        assert Path(path).read_bytes() == data
        kept = Path(path)

    assert kept.exists() is isinstance(storage, LocalStorage)  # S3 temp copy removed


async def test_storage_keys_are_random_and_sharded(storage: Storage) -> None:
    first = await storage.begin_write()
    second = await storage.begin_write()

    assert first.key != second.key
    assert validate_key(first.key) == first.key
    assert first.key.split("/")[2].startswith(first.key[:2] + first.key[3:5])
    await first.abort()
    await second.abort()


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab/cd/../../../x", "/ab/cd/abcdefghijklmnopqr", "x"])
async def test_storage_rejects_foreign_key(storage: Storage, bad: str) -> None:
    with pytest.raises(ValueError):
        await storage.exists(bad)


async def test_s3_storage_uses_prefix(s3_storage: S3Storage, s3_client: Any, s3_bucket: str) -> None:
    key = await write_object(s3_storage, b"hello")

    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == [f"attachments/{key}"]


async def test_local_storage_purges_stale_part_files(local_storage: LocalStorage) -> None:
    # What a crashed process leaves behind: an old part file nobody will commit or abort.
    local_storage.incoming_dir.mkdir(parents=True, exist_ok=True)
    part = local_storage.incoming_dir / "crashed.part"
    part.write_bytes(b"x" * MB)
    old = time.time() - 3 * 24 * 3600
    os.utime(part, (old, old))
    live = await local_storage.begin_write()  # an upload in progress right now stays
    await live.write(b"y" * MB)

    removed = await local_storage.purge_incomplete(older_than_seconds=24 * 3600)

    assert removed == 1
    assert not part.exists()
    await live.abort()


def test_make_storage_file_url(tmp_path: Path) -> None:
    storage = make_storage(f"file://{tmp_path}/files")

    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "files"


def test_make_storage_plain_path(tmp_path: Path) -> None:
    storage = make_storage(str(tmp_path), endpoint_url="ignored")

    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path


def test_make_storage_s3_url() -> None:
    storage = make_storage(
        "s3://contest-files/uploads/2569", endpoint_url="http://127.0.0.1:9", allow_http=True,
        access_key_id="a", secret_access_key="b",
    )  # fmt: skip

    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("contest-files", "uploads/2569")


def test_make_storage_rejects_unknown_scheme() -> None:
    with pytest.raises(ValueError):
        make_storage("ftp://host/files")
