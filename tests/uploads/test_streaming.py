"""receive_upload: types, limits, cut-off bodies, malformed forms, filenames, hashing."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest

from uploads.errors import (
    EmptyFile,
    IncompleteUpload,
    MalformedUpload,
    UnsupportedFileType,
    UploadTooLarge,
)
from uploads.storage import LocalStorage, Storage
from uploads.streaming import _BATCH_BYTES, MULTIPART_OVERHEAD, clean_filename, receive_upload
from uploads.testing import (
    async_chunks,
    make_docx,
    make_mp4,
    make_pdf,
    make_png,
    multipart_body,
    sample_files,
)

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
SAMPLES = sample_files()


async def receive(
    storage: Storage,
    content: bytes | None,
    filename: str | None = "file.pdf",
    *,
    chunk: int = 64 * 1024,
    max_bytes: int = 10 * MB,
    send_length: bool = True,
    **kwargs: Any,
) -> Any:
    body, content_type = multipart_body(content, filename, **kwargs)
    return await receive_upload(
        async_chunks(body, chunk),
        content_type=content_type,
        content_length=len(body) if send_length else None,
        storage=storage,
        max_bytes=max_bytes,
    )


async def read_all(storage: Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.open_range(key)])


# -- accepted types ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SAMPLES))
async def test_receive_upload_accepts_allowed_type(local_storage: LocalStorage, kind: str) -> None:
    filename, content, content_type = SAMPLES[kind]

    received = await receive(local_storage, content, filename, fields={"kind": "evidence"})

    assert received.content_type == content_type
    assert received.filename == filename
    assert received.size == len(content)
    assert received.sha256 == hashlib.sha256(content).hexdigest()
    assert received.fields == {"kind": "evidence"}
    assert await read_all(local_storage, received.key) == content


@pytest.mark.parametrize("brand", [b"isom", b"mp41", b"mp42", b"avc1", b"M4V "])
async def test_receive_upload_accepts_mp4_brand(local_storage: LocalStorage, brand: bytes) -> None:
    received = await receive(local_storage, make_mp4(brand), "clip.mp4")

    assert received.content_type == "video/mp4"


async def test_receive_upload_accepts_name_without_extension(local_storage: LocalStorage) -> None:
    received = await receive(local_storage, make_png(), "scan")

    assert (received.filename, received.content_type) == ("scan", "image/png")


async def test_receive_upload_accepts_uppercase_extension(local_storage: LocalStorage) -> None:
    received = await receive(local_storage, make_pdf(), "REPORT.PDF")

    assert received.content_type == "application/pdf"


async def test_receive_upload_accepts_one_byte_chunks(local_storage: LocalStorage) -> None:
    content = make_docx()

    received = await receive(local_storage, content, "a.docx", chunk=1)

    assert received.sha256 == hashlib.sha256(content).hexdigest()
    assert await read_all(local_storage, received.key) == content


async def test_receive_upload_sha256_matches_large_file(local_storage: LocalStorage) -> None:
    content = b"%PDF-1.7\n" + bytes(range(256)) * 12_000  # ~3 MB, crosses write buffers

    received = await receive(local_storage, content, "big.pdf", chunk=50_000)

    assert received.size == len(content)
    assert received.sha256 == hashlib.sha256(content).hexdigest()
    assert await local_storage.size(received.key) == len(content)


# -- rejected content: nothing stored --------------------------------------------------------


async def test_receive_upload_rejects_executable_named_pdf(storage: Storage, leftovers: Any) -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 2000

    with pytest.raises(UnsupportedFileType) as caught:
        await receive(storage, exe, "proposal.pdf")

    assert (caught.value.status_code, caught.value.code) == (415, "unsupported_type")
    assert leftovers() == []


async def test_receive_upload_rejects_png_named_pdf(storage: Storage, leftovers: Any) -> None:
    with pytest.raises(UnsupportedFileType) as caught:
        await receive(storage, make_png(), "proposal.pdf")

    assert caught.value.status_code == 415
    assert "(.pdf)" in caught.value.message_th
    assert leftovers() == []


async def test_receive_upload_rejects_docx_named_xlsx(local_storage: LocalStorage) -> None:
    with pytest.raises(UnsupportedFileType):
        await receive(local_storage, make_docx(), "budget.xlsx")

    assert list(local_storage.root.rglob("*.*")) == []


async def test_receive_upload_rejects_plain_zip(local_storage: LocalStorage) -> None:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("setup.exe", "MZ")

    with pytest.raises(UnsupportedFileType):
        await receive(local_storage, out.getvalue(), "forms.docx")


async def test_receive_upload_rejects_unknown_extension(local_storage: LocalStorage) -> None:
    with pytest.raises(UnsupportedFileType):
        await receive(local_storage, make_pdf(), "report.exe")


async def test_receive_upload_rejects_quicktime(local_storage: LocalStorage) -> None:
    with pytest.raises(UnsupportedFileType):
        await receive(local_storage, make_mp4(b"qt  ")[:8] + b"qt  " + b"\0" * 100, "clip")


async def test_receive_upload_rejects_disallowed_type_before_reading_the_rest(
    local_storage: LocalStorage,
) -> None:
    body, content_type = multipart_body(b"MZ" + b"\0" * (5 * MB), "x.pdf")
    consumed = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal consumed
        for i in range(0, len(body), 64 * 1024):
            consumed += 1
            yield body[i : i + 64 * 1024]

    with pytest.raises(UnsupportedFileType):
        await receive_upload(
            chunks(), content_type=content_type, content_length=None,
            storage=local_storage, max_bytes=10 * MB,
        )  # fmt: skip

    assert consumed == 1


async def test_receive_upload_rejects_empty_file(storage: Storage, leftovers: Any) -> None:
    with pytest.raises(EmptyFile) as caught:
        await receive(storage, b"", "empty.pdf")

    assert (caught.value.status_code, caught.value.code) == (422, "empty_file")
    assert leftovers() == []


# -- size limits ---------------------------------------------------------------------------


async def test_receive_upload_rejects_content_length_over_limit_without_reading(
    local_storage: LocalStorage,
) -> None:
    async def must_not_be_read() -> AsyncIterator[bytes]:
        raise AssertionError("body was read")
        yield b""  # pragma: no cover

    with pytest.raises(UploadTooLarge) as caught:
        await receive_upload(
            must_not_be_read(),
            content_type="multipart/form-data; boundary=x",
            content_length=MB + MULTIPART_OVERHEAD + 1,
            storage=local_storage,
            max_bytes=MB,
        )

    assert (caught.value.status_code, caught.value.code) == (413, "file_too_large")
    assert "1 MB" in caught.value.message_th
    assert "1 MB" in caught.value.message_en


async def test_receive_upload_rejects_file_over_limit_without_content_length(
    storage: Storage, leftovers: Any
) -> None:
    with pytest.raises(UploadTooLarge):
        await receive(storage, b"%PDF-" + b"x" * (2 * MB), "big.pdf", max_bytes=MB, send_length=False)

    assert leftovers() == []


async def test_receive_upload_accepts_file_exactly_at_limit(local_storage: LocalStorage) -> None:
    content = b"%PDF-" + b"x" * (MB - 5)

    received = await receive(local_storage, content, "limit.pdf", max_bytes=MB)

    assert received.size == MB


async def test_receive_upload_rejects_one_byte_over_limit(local_storage: LocalStorage) -> None:
    with pytest.raises(UploadTooLarge):
        await receive(local_storage, b"%PDF-" + b"x" * (MB - 4), "over.pdf", max_bytes=MB)


# -- cut-off bodies and disconnects: nothing left behind ---------------------------------------


async def test_receive_upload_iterator_raising_midway_leaves_nothing(
    storage: Storage, leftovers: Any
) -> None:
    body, content_type = multipart_body(b"%PDF-1.7\n" + b"y" * (12 * MB), "cut.pdf")

    async def disconnecting() -> AsyncIterator[bytes]:
        for i in range(0, len(body) // 2, 256 * 1024):
            yield body[i : i + 256 * 1024]
        raise ConnectionResetError("client disconnected")

    with pytest.raises(IncompleteUpload) as caught:
        await receive_upload(
            disconnecting(), content_type=content_type, content_length=len(body),
            storage=storage, max_bytes=20 * MB,
        )  # fmt: skip

    assert (caught.value.status_code, caught.value.code) == (400, "incomplete_upload")
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    assert leftovers() == []


async def test_receive_upload_body_ending_early_leaves_nothing(
    storage: Storage, leftovers: Any
) -> None:
    body, content_type = multipart_body(b"%PDF-1.7\n" + b"z" * (3 * MB), "cut.pdf")
    truncated = body[: len(body) - 10]  # the closing boundary never arrives

    with pytest.raises(IncompleteUpload):
        await receive_upload(
            async_chunks(truncated), content_type=content_type, content_length=len(body),
            storage=storage, max_bytes=20 * MB,
        )  # fmt: skip

    assert leftovers() == []


async def test_receive_upload_cancelled_midway_leaves_nothing(
    storage: Storage, leftovers: Any
) -> None:
    body, content_type = multipart_body(b"%PDF-1.7\n" + b"c" * (12 * MB), "slow.pdf")
    half_sent = asyncio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        for i in range(0, len(body) // 2, 256 * 1024):
            yield body[i : i + 256 * 1024]
        half_sent.set()
        await asyncio.sleep(3600)  # a client that stopped sending
        yield b""  # pragma: no cover

    task = asyncio.ensure_future(
        receive_upload(
            stalling(), content_type=content_type, content_length=len(body),
            storage=storage, max_bytes=20 * MB,
        )  # fmt: skip
    )
    await half_sent.wait()
    await asyncio.sleep(0.05)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers() == []


# -- malformed requests ------------------------------------------------------------------------


async def test_receive_upload_rejects_garbage_body(local_storage: LocalStorage) -> None:
    garbage = b"--x\r\nthis is not a header line at all\r\n\r\n"

    with pytest.raises(MalformedUpload) as caught:
        await receive_upload(
            async_chunks(garbage), content_type="multipart/form-data; boundary=x",
            content_length=len(garbage), storage=local_storage, max_bytes=MB,
        )  # fmt: skip

    assert (caught.value.status_code, caught.value.code) == (400, "malformed_multipart")


async def test_receive_upload_rejects_non_multipart_content_type(local_storage: LocalStorage) -> None:
    with pytest.raises(MalformedUpload):
        await receive_upload(
            async_chunks(b"{}"), content_type="application/json",
            content_length=2, storage=local_storage, max_bytes=MB,
        )  # fmt: skip


async def test_receive_upload_rejects_missing_boundary(local_storage: LocalStorage) -> None:
    with pytest.raises(MalformedUpload):
        await receive_upload(
            async_chunks(b"--x--\r\n"), content_type="multipart/form-data",
            content_length=7, storage=local_storage, max_bytes=MB,
        )  # fmt: skip


async def test_receive_upload_rejects_missing_file_field(local_storage: LocalStorage) -> None:
    with pytest.raises(MalformedUpload) as caught:
        await receive(local_storage, None, fields={"kind": "video"})

    assert "'file'" in caught.value.message_en


async def test_receive_upload_rejects_file_under_other_field_name(local_storage: LocalStorage) -> None:
    with pytest.raises(MalformedUpload):
        await receive(local_storage, make_pdf(), "a.pdf", file_field="attachment")


async def test_receive_upload_rejects_second_file(local_storage: LocalStorage) -> None:
    pdf = make_pdf()
    once, content_type = multipart_body(pdf, "a.pdf")
    # Two file parts: drop the first body's closing boundary and append a second part.
    body = once[: -len(b"--\r\n")] + b"\r\n" + once.split(b"\r\n", 1)[1]

    with pytest.raises(MalformedUpload):
        await receive_upload(
            async_chunks(body), content_type=content_type, content_length=len(body),
            storage=local_storage, max_bytes=MB,
        )  # fmt: skip
    assert list(local_storage.root.rglob("*.*")) == []


async def test_receive_upload_rejects_overlong_text_field(local_storage: LocalStorage) -> None:
    with pytest.raises(MalformedUpload):
        await receive(local_storage, make_pdf(), "a.pdf", fields={"kind": "x" * 5000})


# -- filenames ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("/abs/path/z.pdf", "z.pdf"),
        ("..", "attachment"),
        ("", "attachment"),
        ("a\x00b\x1f.pdf", "ab.pdf"),
        ("cod\u202eeman.pdf", "codeman.pdf"),
        ("  .hidden.pdf ", "hidden.pdf"),
    ],
)
async def test_receive_upload_strips_path_and_control_characters(
    local_storage: LocalStorage, sent: str, kept: str
) -> None:
    received = await receive(local_storage, make_pdf(), sent)

    assert received.filename == kept
    assert "/" not in received.key.split("/")[-1]
    assert kept not in received.key


async def test_receive_upload_keeps_raw_utf8_thai_filename(local_storage: LocalStorage) -> None:
    received = await receive(local_storage, make_pdf(), "นวัตกรรม.pdf")

    assert received.filename == "นวัตกรรม.pdf"


async def test_receive_upload_decodes_rfc5987_filename(local_storage: LocalStorage) -> None:
    disposition = (
        b'form-data; name="file"; filename="fallback.pdf"; '
        b"filename*=UTF-8''%E0%B8%99%E0%B8%A7%E0%B8%B1%E0%B8%95%E0%B8%81%E0%B8%A3%E0%B8%A3%E0%B8%A1.pdf"
    )

    received = await receive(local_storage, make_pdf(), None, disposition=disposition)

    assert received.filename == "นวัตกรรม.pdf"


def test_clean_filename_caps_length_keeping_extension() -> None:
    name = clean_filename("ก" * 500 + ".pdf")

    assert len(name) == 200
    assert name.endswith(".pdf")


# -- memory ------------------------------------------------------------------------------------


async def test_receive_upload_memory_stays_bounded(local_storage: LocalStorage) -> None:
    size = 40 * MB
    boundary = "----bounded"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    block = b"%PDF-1.7\n" + b"\xab" * (256 * 1024 - 9)

    async def body() -> AsyncIterator[bytes]:
        yield head
        for i in range(size // len(block)):
            yield block if i == 0 else block[:9].replace(b"%PDF-1.7\n", b"\xab" * 9) + block[9:]
        yield tail

    tracemalloc.start()
    try:
        received = await receive_upload(
            body(), content_type=f"multipart/form-data; boundary={boundary}",
            content_length=None, storage=local_storage, max_bytes=64 * MB,
        )  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert received.size == size
    # By design at most four batches are alive (one filling, one being hashed, one gathered
    # for the disk, one being written) plus the chunk being parsed: ~8.3 MB at 2 MB batches
    # with 256 KB chunks, whatever the file's size. A margin for allocator noise; a 40 MB file
    # held whole would be far above it.
    assert peak < 4 * _BATCH_BYTES + 4 * MB
