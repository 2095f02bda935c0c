"""Factories for tests that upload files (this package's and the application's).

Real, minimal files of every allowed type, and multipart bodies built the way browsers send
them (raw UTF-8 in the part headers), so tests exercise the same bytes production sees.
"""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import AsyncIterator, Iterable

__all__ = [
    "EICAR",
    "async_chunks",
    "make_docx",
    "make_jpeg",
    "make_mp4",
    "make_pdf",
    "make_png",
    "make_pptx",
    "make_webp",
    "make_xlsx",
    "multipart_body",
    "sample_files",
]

#: The standard anti-virus test string (harmless; every scanner flags it).
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def make_pdf(pages: int = 1) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _image(fmt: str, size: tuple[int, int] = (32, 24)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(out, format=fmt)
    return out.getvalue()


def make_png(size: tuple[int, int] = (32, 24)) -> bytes:
    return _image("PNG", size)


def make_jpeg(size: tuple[int, int] = (32, 24)) -> bytes:
    return _image("JPEG", size)


def make_webp(size: tuple[int, int] = (32, 24)) -> bytes:
    return _image("WEBP", size)


def make_mp4(brand: bytes = b"isom", payload: int = 256) -> bytes:
    """An ``ftyp`` box then an ``mdat`` box of random bytes: enough for content sniffing."""
    ftyp = b"ftyp" + brand + b"\0\0\x02\0" + b"isomiso2avc1mp41"
    mdat = secrets.token_bytes(payload)
    return (
        (8 + len(ftyp) - 4).to_bytes(4, "big") + ftyp
        + (8 + len(mdat)).to_bytes(4, "big") + b"mdat" + mdat
    )  # fmt: skip


def _ooxml(part_dir: str, main_part: str, extra: Iterable[str] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(f"{part_dir}{main_part}", '<?xml version="1.0"?><root/>')
        for name in extra:
            archive.writestr(name, "x")
    return out.getvalue()


def make_docx() -> bytes:
    return _ooxml("word/", "document.xml")


def make_pptx() -> bytes:
    return _ooxml("ppt/", "presentation.xml", ["ppt/slides/slide1.xml"])


def make_xlsx() -> bytes:
    return _ooxml("xl/", "workbook.xml", ["xl/worksheets/sheet1.xml"])


def sample_files() -> dict[str, tuple[str, bytes, str]]:
    """``{kind: (filename, content, expected content type)}`` for every allowed type."""
    return {
        "pdf": ("report.pdf", make_pdf(), "application/pdf"),
        "jpeg": ("photo.jpg", make_jpeg(), "image/jpeg"),
        "png": ("chart.png", make_png(), "image/png"),
        "webp": ("screen.webp", make_webp(), "image/webp"),
        "mp4": ("demo.mp4", make_mp4(), "video/mp4"),
        "docx": (
            "proposal.docx",
            make_docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        "pptx": (
            "slides.pptx",
            make_pptx(),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        "xlsx": (
            "budget.xlsx",
            make_xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    }


def multipart_body(
    content: bytes | None,
    filename: str | None = "file.pdf",
    *,
    fields: dict[str, str] | None = None,
    file_field: str = "file",
    boundary: str = "----uploadtestboundary7MA4YWxk",
    disposition: bytes | None = None,
) -> tuple[bytes, str]:
    """``(body, content_type)`` like a browser's form post; the file part comes last.

    ``filename`` is written as raw UTF-8, as browsers do. ``disposition`` overrides the file
    part's whole Content-Disposition value (for ``filename*`` and odd clients).
    """
    b = boundary.encode()
    out = bytearray()
    for name, value in (fields or {}).items():
        out += b"--" + b + b"\r\n"
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    if content is not None:
        if disposition is None:
            disposition = f'form-data; name="{file_field}"'.encode()
            if filename is not None:
                disposition += f'; filename="{filename}"'.encode()
        out += b"--" + b + b"\r\n"
        out += b"Content-Disposition: " + disposition + b"\r\n"
        out += b"Content-Type: application/octet-stream\r\n\r\n"
        out += content + b"\r\n"
    out += b"--" + b + b"--\r\n"
    return bytes(out), f"multipart/form-data; boundary={boundary}"


async def async_chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """The body as a request would deliver it: in chunks of ``size`` bytes."""
    for i in range(0, len(data), size):
        yield data[i : i + size]
