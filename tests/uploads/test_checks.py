"""check_file: per-type checks and the clamd INSTREAM protocol against a fake clamd peer."""

from __future__ import annotations

import io
import socket
import socketserver
import struct
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from uploads.checks import ScanUnavailable, check_file
from uploads.storage import LocalStorage, Storage
from uploads.testing import EICAR, make_jpeg, make_mp4, make_pdf, make_png, make_webp, make_xlsx

pytestmark = pytest.mark.anyio



def _binary_noise(size: int) -> bytes:
    """Bytes of a compressed stream's kind (all >= 0x80), the same on every run, that can never
    spell a PDF keyword such as ``xref`` or ``endobj``."""
    return bytes(range(0x80, 0x100)) * (size // 128) + bytes(range(0x80, 0x80 + size % 128))

async def store(storage: Storage, data: bytes) -> str:
    pending = await storage.begin_write()
    await pending.write(data)
    await pending.commit()
    return pending.key


class FakeClamd(socketserver.ThreadingTCPServer):
    """Speaks clamd's zINSTREAM: length-prefixed chunks, zero length ends; flags EICAR."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ClamdHandler)
        self.commands: list[bytes] = []
        self.scanned: list[int] = []


class _ClamdHandler(socketserver.StreamRequestHandler):
    server: FakeClamd

    def handle(self) -> None:
        command = b""
        while not command.endswith(b"\0"):
            command += self.rfile.read(1)
        self.server.commands.append(command)
        data = bytearray()
        while True:
            (length,) = struct.unpack(">I", self.rfile.read(4))
            if length == 0:
                break
            data += self.rfile.read(length)
        self.server.scanned.append(len(data))
        reply = b"stream: Eicar-Test-Signature FOUND\0" if EICAR in data else b"stream: OK\0"
        self.wfile.write(reply)


@pytest.fixture
def clamd() -> Iterator[FakeClamd]:
    server = FakeClamd()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def clamd_url(server: FakeClamd) -> str:
    host, port = server.server_address[:2]
    return f"tcp://{host}:{port}"


async def test_check_file_pdf_counts_pages(local_storage: LocalStorage) -> None:
    key = await store(local_storage, make_pdf(pages=3))

    result = await check_file(local_storage, key, "application/pdf")

    assert (result.state, result.details) == ("passed", {"pages": 3})


async def test_check_file_broken_pdf_fails(local_storage: LocalStorage) -> None:
    key = await store(local_storage, b"%PDF-1.7\n" + b"\x00garbage" * 100)

    result = await check_file(local_storage, key, "application/pdf")

    assert result.state == "failed"
    assert result.message_th.startswith("เปิดไฟล์ PDF ไม่ได้")
    assert result.message_en.startswith("The PDF cannot be opened")


async def store_blocks(storage: Storage, head: bytes, block: bytes, count: int, tail: bytes) -> str:
    """Store ``head + block * count + tail`` without holding it all in memory."""
    pending = await storage.begin_write()
    await pending.write(head)
    for _ in range(count):
        await pending.write(block)
    await pending.write(tail)
    await pending.commit()
    return pending.key


async def test_check_file_large_pdf_without_trailer_fails_quickly(local_storage: LocalStorage) -> None:
    # pypdf alone reads such a file backwards line by line looking for %%EOF (~6 s per 40 MB)
    # after loading it whole into memory; the check answers from the last megabyte.
    key = await store_blocks(local_storage, b"%PDF-1.7\n", _binary_noise(1024 * 1024), 40, b"")

    tracemalloc.start()
    try:
        result = await check_file(local_storage, key, "application/pdf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (result.state, result.details) == ("failed", {"error": "NoTrailer"})
    assert result.message_en.startswith("The PDF cannot be opened")
    assert peak < 8 * 1024 * 1024


async def test_check_file_large_pdf_needing_repair_passes_without_page_count(
    local_storage: LocalStorage,
) -> None:
    # A trailer pointing nowhere: pypdf would rebuild the xref from the whole file in memory.
    key = await store_blocks(
        local_storage, b"%PDF-1.7\n", _binary_noise(1024 * 1024), 40, b"\nstartxref\n123\n%%EOF\n"
    )
    size = await local_storage.size(key)

    tracemalloc.start()
    try:
        result = await check_file(local_storage, key, "application/pdf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (result.state, result.details) == (
        "passed", {"pages": None, "bytes": size, "note": "pages_not_counted"}
    )
    assert result.message_en.startswith("The pages were not counted")
    assert result.message_th.startswith("ไม่ได้นับจำนวนหน้า")
    assert peak < 8 * 1024 * 1024


async def test_check_file_large_sound_pdf_counts_pages_without_loading_it(
    local_storage: LocalStorage,
) -> None:
    # 3 pages and a 40 MB stream object: the page count reads only the xref and the page tree.
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject

    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    blob = DecodedStreamObject()
    blob.set_data(_binary_noise(40 * 1024 * 1024))
    writer._add_object(blob)
    out = io.BytesIO()
    writer.write(out)
    key = await store(local_storage, out.getvalue())
    del writer, blob, out

    tracemalloc.start()
    try:
        result = await check_file(local_storage, key, "application/pdf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (result.state, result.details) == ("passed", {"pages": 3})
    assert peak < 8 * 1024 * 1024


async def test_check_file_encrypted_pdf_fails(local_storage: LocalStorage) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    key = await store(local_storage, out.getvalue())

    result = await check_file(local_storage, key, "application/pdf")

    assert (result.state, result.details) == ("failed", {"encrypted": True})


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(make_png((40, 30)), "image/png"), (make_jpeg((40, 30)), "image/jpeg"), (make_webp((40, 30)), "image/webp")],
)
async def test_check_file_image_reports_size(
    local_storage: LocalStorage, data: bytes, content_type: str
) -> None:
    key = await store(local_storage, data)

    result = await check_file(local_storage, key, content_type)

    assert (result.state, result.details) == ("passed", {"width": 40, "height": 30})


async def test_check_file_truncated_image_fails(local_storage: LocalStorage) -> None:
    key = await store(local_storage, make_png((64, 64))[:40])

    result = await check_file(local_storage, key, "image/png")

    assert result.state == "failed"


async def test_check_file_video_reports_bytes(storage: Storage) -> None:
    data = make_mp4(payload=5000)
    key = await store(storage, data)

    result = await check_file(storage, key, "video/mp4")

    assert (result.state, result.details) == ("passed", {"bytes": len(data)})


async def test_check_file_xlsx_counts_entries(storage: Storage) -> None:
    data = make_xlsx()
    key = await store(storage, data)

    result = await check_file(
        storage, key, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )

    assert (result.state, result.details) == ("passed", {"entries": 4, "bytes": len(data)})


async def test_check_file_pdf_from_s3(storage: Storage) -> None:
    key = await store(storage, make_pdf(pages=2))

    result = await check_file(storage, key, "application/pdf")

    assert result.details == {"pages": 2}


async def test_check_file_clean_file_passes_clamd(local_storage: LocalStorage, clamd: FakeClamd) -> None:
    data = make_pdf()
    key = await store(local_storage, data)

    result = await check_file(local_storage, key, "application/pdf", clamd_url=clamd_url(clamd))

    assert result.state == "passed"
    assert clamd.commands == [b"zINSTREAM\0"]
    assert clamd.scanned == [len(data)]


async def test_check_file_eicar_is_infected(local_storage: LocalStorage, clamd: FakeClamd) -> None:
    key = await store(local_storage, make_pdf() + EICAR)

    result = await check_file(local_storage, key, "application/pdf", clamd_url=clamd_url(clamd))

    assert (result.state, result.details) == ("infected", {"signature": "Eicar-Test-Signature"})
    assert "Eicar-Test-Signature" in result.message_th


async def test_check_file_large_file_streams_in_chunks(local_storage: LocalStorage, clamd: FakeClamd) -> None:
    data = b"%PDF-" + bytes(range(256)) * 4096 + EICAR  # ~1 MB, many INSTREAM chunks
    key = await store(local_storage, data)

    result = await check_file(local_storage, key, "application/pdf", clamd_url=clamd_url(clamd))

    assert result.state == "infected"
    assert clamd.scanned == [len(data)]


async def test_check_file_clamd_unreachable_raises(local_storage: LocalStorage) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    key = await store(local_storage, make_pdf())

    with pytest.raises(ScanUnavailable):
        await check_file(local_storage, key, "application/pdf", clamd_url=f"tcp://127.0.0.1:{port}")


async def test_check_file_clamd_unix_socket(local_storage: LocalStorage, tmp_path: Path) -> None:
    path = tmp_path / "clamd.sock"

    class UnixClamd(socketserver.ThreadingUnixStreamServer):
        daemon_threads = True
        commands: list[bytes] = []
        scanned: list[int] = []

    server = UnixClamd(str(path), _ClamdHandler)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        key = await store(local_storage, EICAR)
        result = await check_file(local_storage, key, "video/mp4", clamd_url=f"unix://{path}")
    finally:
        server.shutdown()
        server.server_close()

    assert result.state == "infected"


# Every check ends in a final state: whatever a parsing library raises on a strange file is a
# failed check with a message, never an exception that leaves the check "pending".

async def test_check_file_pdf_pypdf_trips_over_fails_with_a_message(local_storage: LocalStorage) -> None:
    # A trailer that is a name, not a dictionary: pypdf 7 raises AttributeError deep inside.
    bad = make_pdf(2).replace(b"trailer\n<<", b"trailer\n/Bad\n<<")
    result = await check_file(local_storage, await store(local_storage, bad), "application/pdf")
    assert result.state == "failed"
    assert result.details == {"error": "AttributeError"}
    assert result.message_th == "เปิดไฟล์ PDF ไม่ได้ ไฟล์อาจเสียหาย กรุณาบันทึกเป็น PDF ใหม่แล้วส่งอีกครั้ง"
    assert result.message_en == "The PDF cannot be opened; it may be damaged. Please export it to PDF again and resend."


@pytest.mark.parametrize("error", [IndexError, AttributeError, ZeroDivisionError, AssertionError, NotImplementedError,
                                   struct.error])
async def test_check_file_pdf_any_pypdf_exception_is_a_failed_check(
    local_storage: LocalStorage, monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    import pypdf

    def reader(*args: object, **kwargs: object) -> None:
        raise error("pypdf bug")

    monkeypatch.setattr(pypdf, "PdfReader", reader)
    result = await check_file(local_storage, await store(local_storage, make_pdf()), "application/pdf")
    assert (result.state, result.details) == ("failed", {"error": error.__name__})
    assert result.message_en.startswith("The PDF cannot be opened")


async def test_check_file_image_library_bug_is_a_failed_check(
    local_storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    def broken_open(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(Image, "open", broken_open)
    result = await check_file(local_storage, await store(local_storage, make_png()), "image/png")
    assert (result.state, result.details) == ("failed", {"error": "ZeroDivisionError"})
    assert result.message_th == "ตรวจสอบไฟล์นี้ไม่ได้ ไฟล์อาจเสียหาย กรุณาบันทึกไฟล์ใหม่แล้วส่งอีกครั้ง"
    assert result.message_en == "This file could not be checked; it may be damaged. Please save it again and resend."
