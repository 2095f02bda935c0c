"""check_file: per-type checks and the clamd INSTREAM protocol against a fake clamd peer."""

from __future__ import annotations

import io
import random
import socket
import socketserver
import struct
import threading
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


async def test_check_file_pdf_with_bytes_after_its_end_still_opens(local_storage: LocalStorage) -> None:
    # Scanners and mail gateways sometimes pad a PDF; its trailer is then well before the end.
    key = await store(local_storage, make_pdf(pages=2) + b"\0" * 100_000)

    result = await check_file(local_storage, key, "application/pdf")

    assert (result.state, result.details) == ("passed", {"pages": 2})


def test_pdf_trailer_of_a_sound_file_is_found_in_its_last_kilobytes(tmp_path: Path) -> None:
    # The stored file is no longer in memory: its tail is read from the disk only when the
    # trailer is not where a sound PDF has it.
    from uploads.checks import PDF_TAIL_BYTES, PDF_TRAILER_FIRST, _has_trailer

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n: int | None = -1) -> bytes:
            data = super().read(n)
            self.read_bytes += len(data)
            return data

    sound = make_pdf(pages=1)
    sound = sound[:9] + b"%" + _binary_noise(2 * 1024 * 1024) + b"\n" + sound[9:]
    padded = make_pdf(pages=1) + b"\0" * 100_000
    for data, found, at_most in ((sound, True, PDF_TRAILER_FIRST),
                                 (padded, True, PDF_TRAILER_FIRST + PDF_TAIL_BYTES),
                                 (b"%PDF-1.7\n" + _binary_noise(2 * 1024 * 1024), False,
                                  PDF_TRAILER_FIRST + PDF_TAIL_BYTES)):
        fh = Counting(data)
        assert _has_trailer(fh, len(data), PDF_TAIL_BYTES) is found
        assert fh.read_bytes <= at_most


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


# Office documents: judged from the ZIP's central directory and [Content_Types].xml, never
# unpacked. Packages are built here part by part, with the names and content types Word, Excel
# and PowerPoint write.

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OFFICE = "application/vnd.openxmlformats-officedocument"
MB = 1024 * 1024


def content_types(defaults: dict[str, str], overrides: dict[str, str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + "".join(f'<Default Extension="{e}" ContentType="{t}"/>' for e, t in defaults.items())
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides.items())
        + "</Types>"
    ).encode()


COMMON_DEFAULTS = {
    "rels": "application/vnd.openxmlformats-package.relationships+xml",
    "xml": "application/xml",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "emf": "image/x-emf",
    "svg": "image/svg+xml",
    "bin": f"{OFFICE}.oleObject",
    "xlsx": f"{OFFICE}.spreadsheetml.sheet",
}
COMMON_OVERRIDES = {
    "/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml",
    "/docProps/app.xml": f"{OFFICE}.extended-properties+xml",
    "/customXml/itemProps1.xml": f"{OFFICE}.customXmlProperties+xml",
}
COMMON_PARTS = ["_rels/.rels", "docProps/core.xml", "docProps/app.xml", "docProps/thumbnail.jpeg",
                "customXml/item1.xml", "customXml/itemProps1.xml", "customXml/_rels/item1.xml.rels"]


def package(parts: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, method)
    return out.getvalue()


def office_package(kind: str, extra: dict[str, bytes] | None = None,
                   overrides: dict[str, str] | None = None, defaults: dict[str, str] | None = None) -> bytes:
    """A package shaped like one the Office program saved: pictures (PNG, JPEG, EMF, SVG icons),
    a chart with its embedded workbook, an OLE object, fonts, a thumbnail and custom XML."""
    xml = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<root/>'
    picture = make_png((8, 8))
    if kind == "docx":
        main = {"/word/document.xml": f"{OFFICE}.wordprocessingml.document.main+xml",
                "/word/styles.xml": f"{OFFICE}.wordprocessingml.styles+xml",
                "/word/settings.xml": f"{OFFICE}.wordprocessingml.settings+xml",
                "/word/webSettings.xml": f"{OFFICE}.wordprocessingml.webSettings+xml",
                "/word/fontTable.xml": f"{OFFICE}.wordprocessingml.fontTable+xml",
                "/word/theme/theme1.xml": f"{OFFICE}.theme+xml",
                "/word/charts/chart1.xml": f"{OFFICE}.drawingml.chart+xml"}
        files = {"word/_rels/document.xml.rels": xml, "word/media/image1.png": picture,
                 "word/media/image2.jpeg": make_jpeg((8, 8)), "word/media/image3.emf": b"\x01\0\0\0" * 20,
                 "word/media/image4.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
                 "word/charts/_rels/chart1.xml.rels": xml,
                 "word/embeddings/Microsoft_Excel_Worksheet.xlsx": make_xlsx(),
                 "word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0" + bytes(60),
                 "word/fonts/font1.odttf": bytes(200)}
        extra_defaults = {"odttf": f"{OFFICE}.obfuscatedFont"}
    elif kind == "xlsx":
        main = {"/xl/workbook.xml": f"{OFFICE}.spreadsheetml.sheet.main+xml",
                "/xl/worksheets/sheet1.xml": f"{OFFICE}.spreadsheetml.worksheet+xml",
                "/xl/worksheets/sheet2.xml": f"{OFFICE}.spreadsheetml.worksheet+xml",
                "/xl/sharedStrings.xml": f"{OFFICE}.spreadsheetml.sharedStrings+xml",
                "/xl/styles.xml": f"{OFFICE}.spreadsheetml.styles+xml",
                "/xl/calcChain.xml": f"{OFFICE}.spreadsheetml.calcChain+xml",
                "/xl/theme/theme1.xml": f"{OFFICE}.theme+xml",
                "/xl/drawings/drawing1.xml": f"{OFFICE}.drawing+xml",
                "/xl/charts/chart1.xml": f"{OFFICE}.drawingml.chart+xml"}
        files = {"xl/_rels/workbook.xml.rels": xml, "xl/worksheets/_rels/sheet1.xml.rels": xml,
                 "xl/drawings/_rels/drawing1.xml.rels": xml, "xl/media/image1.png": picture,
                 "xl/media/image2.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
                 "xl/printerSettings/printerSettings1.bin": bytes(500)}
        extra_defaults = {"bin": f"{OFFICE}.spreadsheetml.printerSettings"}
    else:
        main = {"/ppt/presentation.xml": f"{OFFICE}.presentationml.presentation.main+xml",
                "/ppt/slides/slide1.xml": f"{OFFICE}.presentationml.slide+xml",
                "/ppt/slides/slide2.xml": f"{OFFICE}.presentationml.slide+xml",
                "/ppt/notesSlides/notesSlide1.xml": f"{OFFICE}.presentationml.notesSlide+xml",
                "/ppt/slideLayouts/slideLayout1.xml": f"{OFFICE}.presentationml.slideLayout+xml",
                "/ppt/slideMasters/slideMaster1.xml": f"{OFFICE}.presentationml.slideMaster+xml",
                "/ppt/theme/theme1.xml": f"{OFFICE}.theme+xml",
                "/ppt/charts/chart1.xml": f"{OFFICE}.drawingml.chart+xml"}
        files = {"ppt/_rels/presentation.xml.rels": xml, "ppt/slides/_rels/slide1.xml.rels": xml,
                 "ppt/media/image1.png": picture, "ppt/media/image2.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
                 "ppt/media/media1.mp4": make_mp4(), "ppt/media/media2.m4a": bytes(300),
                 "ppt/embeddings/Microsoft_Excel_Worksheet.xlsx": make_xlsx(),
                 "ppt/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0" + bytes(60)}
        extra_defaults = {"mp4": "video/mp4", "m4a": "audio/mp4"}
    all_overrides = {**COMMON_OVERRIDES, **main, **(overrides or {})}
    parts = {"[Content_Types].xml": content_types({**COMMON_DEFAULTS, **extra_defaults, **(defaults or {})},
                                                  all_overrides)}
    parts.update({name: xml for name in COMMON_PARTS})
    parts.update({name.lstrip("/"): xml for name in main})
    parts.update(files)
    parts.update(extra or {})
    return package(parts)


def declare_sizes(data: bytes, sizes: dict[str, int]) -> bytes:
    """The package with the central directory claiming other unpacked sizes for some parts:
    how a ZIP bomb looks to a reader of the directory, without compressing gigabytes here."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        name = bytes(out[pos + 46 : pos + 46 + name_len]).decode()
        if name in sizes:
            struct.pack_into("<I", out, pos + 24, sizes[name])
        pos = out.find(b"PK\x01\x02", pos + 46)
    return bytes(out)


async def check_package(storage: Storage, data: bytes, content_type: str = DOCX_TYPE) -> Any:
    return await check_file(storage, await store(storage, data), content_type)


@pytest.mark.parametrize(("kind", "content_type"), [("docx", DOCX_TYPE), ("xlsx", XLSX_TYPE), ("pptx", PPTX_TYPE)])
async def test_ooxml_office_documents_with_pictures_and_embedded_objects_pass(
    local_storage: LocalStorage, kind: str, content_type: str
) -> None:
    data = office_package(kind)

    result = await check_package(local_storage, data, content_type)

    assert result.state == "passed", result
    assert result.details == {"entries": len(zipfile.ZipFile(io.BytesIO(data)).infolist()), "bytes": len(data)}


async def test_ooxml_part_claiming_a_gigabyte_fails(local_storage: LocalStorage) -> None:
    data = declare_sizes(office_package("docx"), {"word/document.xml": 1024 * MB})

    result = await check_package(local_storage, data)

    assert result.state == "failed"
    assert result.details["part"] == "word/document.xml"
    assert result.details["part_bytes"] == 1024 * MB
    assert result.message_th.startswith("ส่วนประกอบ word/document.xml ในเอกสารระบุว่าจะมีขนาด 1024 MB")
    assert result.message_en.startswith("The part word/document.xml of the document claims 1024 MB unpacked")


async def test_ooxml_parts_adding_up_to_more_than_200_mb_fail(local_storage: LocalStorage) -> None:
    data = declare_sizes(office_package("pptx"), {"ppt/slides/slide1.xml": 150 * MB, "ppt/slides/slide2.xml": 150 * MB})

    result = await check_package(local_storage, data, PPTX_TYPE)

    assert result.state == "failed"
    assert result.details["limit"] == 50 * MB  # a small file may unpack to 50 MB at most
    assert result.details["expanded_bytes"] > 300 * MB
    assert result.message_th.startswith("เอกสารนี้เมื่อคลายการบีบอัดจะมีขนาด 300 MB เกินกว่าที่รับได้ (50 MB")
    assert result.message_en.startswith("Unpacked, this document would take 300 MB, more than the 50 MB")


async def test_ooxml_small_file_may_unpack_to_50_mb(local_storage: LocalStorage) -> None:
    base = office_package("xlsx")
    expanded = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(base)).infolist())
    sheet = 50 * MB - expanded + zipfile.ZipFile(io.BytesIO(base)).getinfo("xl/worksheets/sheet1.xml").file_size

    at_limit = await check_package(local_storage, declare_sizes(base, {"xl/worksheets/sheet1.xml": sheet}), XLSX_TYPE)
    over = await check_package(local_storage, declare_sizes(base, {"xl/worksheets/sheet1.xml": sheet + 1}),
                               XLSX_TYPE)

    assert at_limit.state == "passed"
    assert (over.state, over.details["limit"]) == ("failed", 50 * MB)


async def test_ooxml_larger_file_may_unpack_to_ten_times_its_size(local_storage: LocalStorage) -> None:
    # 8 MB of video in a deck (it does not compress): the package may declare 80 MB in all.
    base = office_package("pptx", {"ppt/media/media3.mp4": random.Random(8).randbytes(8 * MB)})
    size = len(base)
    expanded = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(base)).infolist())
    slide = zipfile.ZipFile(io.BytesIO(base)).getinfo("ppt/slides/slide1.xml").file_size
    grow = 10 * size - expanded + slide

    at_limit = await check_package(local_storage, declare_sizes(base, {"ppt/slides/slide1.xml": grow}), PPTX_TYPE)
    over = await check_package(local_storage, declare_sizes(base, {"ppt/slides/slide1.xml": grow + 1}), PPTX_TYPE)

    assert at_limit.state == "passed"
    assert (over.state, over.details["limit"], over.details["bytes"]) == ("failed", 10 * size, size)


async def test_ooxml_too_many_parts_fail(local_storage: LocalStorage) -> None:
    slides = {f"ppt/slides/slide{n}.xml": b"<p/>" for n in range(3, 5000)}
    at_limit = office_package("pptx", slides)
    count = len(zipfile.ZipFile(io.BytesIO(at_limit)).infolist())
    slides = {f"ppt/slides/slide{n}.xml": b"<p/>" for n in range(3, 3 + len(slides) + 5000 - count)}
    exactly = office_package("pptx", slides)
    one_more = office_package("pptx", {**slides, "ppt/slides/slide9999.xml": b"<p/>"})

    passed = await check_package(local_storage, exactly, PPTX_TYPE)
    failed = await check_package(local_storage, one_more, PPTX_TYPE)

    assert (passed.state, passed.details["entries"]) == ("passed", 5000)
    assert (failed.state, failed.details) == ("failed", {"parts": 5001, "limit": 5000})
    assert failed.message_th.startswith("เอกสารนี้มีส่วนประกอบภายในมากเกินไป (5,001 ส่วน รับได้ไม่เกิน 5,000 ส่วน)")
    assert failed.message_en.startswith("The document has too many internal parts (5,001; at most 5,000")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("word/media/setup.exe", "executable"),
        ("word/embeddings/helper.DLL", "executable"),
        ("word/run.bat", "executable"),
        ("word/run.cmd", "executable"),
        ("word/media/tool.com", "executable"),
        ("word/start.ps1", "executable"),
        ("word/macro.vbs", "executable"),
        ("word/app.js", "executable"),
        ("word/app.jar", "executable"),
        ("word/install.msi", "executable"),
        ("word/media/saver.scr", "executable"),
        ("word/media/setup.exe.", "executable"),  # Windows drops the trailing dot
        ("word/afchunk.htm", "html"),
        ("word/page.html", "html"),
        ("word/page.xhtml", "html"),
        ("word/afchunk.mht", "html"),
        ("word/vbaProject.bin", "macros"),
        ("word/vbaData.xml", "macros"),
    ],
)
async def test_ooxml_program_script_web_page_and_macro_parts_fail(
    local_storage: LocalStorage, name: str, reason: str
) -> None:
    result = await check_package(local_storage, office_package("docx", {name: b"MZ\x90\x00"}))

    assert (result.state, result.details) == ("failed", {"part": name, "reason": reason})
    expected = {
        "executable": (f"เอกสารนี้มีโปรแกรมหรือสคริปต์แฝงอยู่ภายใน ({name})",
                       f"The document carries a program or script inside it ({name})"),
        "html": (f"เอกสารนี้มีหน้าเว็บ (HTML) แฝงอยู่ภายใน ({name})",
                 f"The document carries a web page (HTML) inside it ({name})"),
        "macros": ("เอกสารนี้มีมาโคร (VBA)", "The document contains macros (VBA)."),
    }[reason]
    assert result.message_th.startswith(expected[0])
    assert result.message_en.startswith(expected[1])
    assert " / " not in result.message_th + result.message_en  # the stored message splits there


@pytest.mark.parametrize(
    ("kind", "overrides", "defaults", "extra", "reason"),
    [
        # An HTML alternative chunk under an innocent name, declared by its content type.
        ("docx", {"/word/afchunk.dat": "text/html"}, {}, {"word/afchunk.dat": b"<html/>"}, "html"),
        ("docx", {"/word/page.dat": "message/rfc822"}, {}, {"word/page.dat": b"MIME"}, "html"),
        ("docx", {}, {"dat": "application/x-msdownload"}, {"word/media/x.dat": b"MZ"}, "executable"),
        ("docx", {}, {"dat": "application/javascript"}, {"word/media/x.dat": b"1"}, "executable"),
        # A macro-enabled document, workbook or deck renamed: its main part says so.
        ("docx", {"/word/document.xml": "application/vnd.ms-word.document.macroEnabled.main+xml"}, {}, {},
         "macros"),
        ("xlsx", {"/xl/workbook.xml": "application/vnd.ms-excel.sheet.macroEnabled.main+xml"}, {}, {}, "macros"),
        ("pptx", {"/ppt/presentation.xml": "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"},
         {}, {}, "macros"),
        ("xlsx", {"/xl/macrosheets/sheet1.xml": "application/vnd.ms-excel.macrosheet+xml"}, {},
         {"xl/macrosheets/sheet1.xml": b"<xm/>"}, "macros"),
        ("docx", {}, {"bin": "application/vnd.ms-office.vbaProject"}, {"word/project.bin": b"\xd0\xcf"}, "macros"),
    ],
)
async def test_ooxml_parts_refused_by_their_declared_content_type(
    local_storage: LocalStorage, kind: str, overrides: dict[str, str], defaults: dict[str, str],
    extra: dict[str, bytes], reason: str,
) -> None:
    data = office_package(kind, extra, overrides=overrides, defaults=defaults)
    content_type = {"docx": DOCX_TYPE, "xlsx": XLSX_TYPE, "pptx": PPTX_TYPE}[kind]

    result = await check_package(local_storage, data, content_type)

    assert (result.state, result.details["reason"]) == ("failed", reason)


async def test_ooxml_unused_content_type_declarations_are_harmless(local_storage: LocalStorage) -> None:
    # Declaring a type no part uses (templates do) refuses nothing: only the parts count.
    data = office_package("docx", defaults={"htm": "text/html", "exe": "application/x-msdownload"},
                          overrides={"/word/vbaProject.bin": "application/vnd.ms-office.vbaProject"})

    assert (await check_package(local_storage, data)).state == "passed"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (package({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>", "Word/Document.xml": b"<x/>"}),
         "DuplicatePart"),
        (package({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>" * 100},
                 method=zipfile.ZIP_BZIP2), "UnsupportedCompression"),
        (declare_sizes(package({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
                       {"[Content_Types].xml": 3 * MB}), "ValueError"),
        (b"PK\x03\x04" + bytes(100), "BadZipFile"),
    ],
)
async def test_ooxml_damaged_packages_fail(local_storage: LocalStorage, data: bytes, error: str) -> None:
    result = await check_package(local_storage, data)

    assert (result.state, result.details) == ("failed", {"error": error})
    assert result.message_th == "เปิดไฟล์เอกสารไม่ได้ ไฟล์อาจเสียหาย"
    assert result.message_en == "The document cannot be opened; it may be damaged."
