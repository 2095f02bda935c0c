"""Checks run after an upload is stored: virus scan (clamd) and "does it open" per type.

Run from a background job, not the request: a 200 MB video scan takes seconds, and the
applicant already has their receipt. The job records the :class:`CheckResult`; when clamd is
configured but unreachable :class:`ScanUnavailable` is raised so the job retries instead of
marking a good file as bad.
"""

from __future__ import annotations

import asyncio
import html
import io
import re
import struct
import time
import zipfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Final
from urllib.parse import unquote, urlsplit

import anyio
import anyio.to_thread

from uploads.errors import format_mb
from uploads.storage import Storage

__all__ = ["CheckResult", "CheckState", "CheckStates", "ScanUnavailable", "check_file", "clamd_scan"]


class CheckState(StrEnum):
    """Where a stored file's checks stand: ``pending`` until the check job has run, then
    ``passed``, ``failed`` (it does not open as its type says) or ``infected`` (clamd found a
    virus; the file is kept for the record and never handed out)."""

    pending = "pending"
    passed = "passed"
    failed = "failed"
    infected = "infected"


class CheckStates:
    #: Refused by the checks: the file does not count, and its owner should replace it.
    REFUSED = (CheckState.failed, CheckState.infected)

#: INSTREAM chunk size; clamd's default StreamMaxLength (25 MB) must be raised above the upload
#: limit in clamd.conf, or clamd answers "size limit exceeded" (reported as ScanUnavailable).
_SCAN_CHUNK: Final = 64 * 1024
_CONNECT_TIMEOUT: Final = 10.0
#: A scan of a few hundred MB stays well inside this; beyond it clamd is stuck, so retry later.
_SCAN_TIMEOUT: Final = 600.0


class ScanUnavailable(Exception):
    """clamd could not scan the file (unreachable, timed out, errored): retry later."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of checking one stored file; ``details`` are shown to organisers."""

    state: CheckState  # never pending: a result is the check done
    details: dict[str, Any] = field(default_factory=dict)
    message_th: str = ""
    message_en: str = ""


def _failed(message_th: str, message_en: str, **details: Any) -> CheckResult:
    return CheckResult(CheckState.failed, details, message_th, message_en)


# --------------------------------------------------------------------------------------------
# clamd


async def _open_clamd(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    try:
        if parts.scheme == "unix":
            path = unquote(parts.path) or unquote(parts.netloc)
            async with asyncio.timeout(_CONNECT_TIMEOUT):
                return await asyncio.open_unix_connection(path)
        if parts.scheme == "tcp":
            host, port = parts.hostname or "127.0.0.1", parts.port or 3310
            async with asyncio.timeout(_CONNECT_TIMEOUT):
                return await asyncio.open_connection(host, port)
    except (TimeoutError, OSError) as exc:
        raise ScanUnavailable(f"clamd unreachable at {url}: {exc}") from exc
    raise ValueError(f"clamd URL must be tcp://host:port or unix:///path, not {url!r}")


async def clamd_scan(url: str, chunks: Any) -> str | None:
    """Stream bytes to clamd (``zINSTREAM``); return the signature name if found, else ``None``.

    ``chunks`` is an async iterable of bytes. Raises :class:`ScanUnavailable` on any transport
    or clamd error.
    """
    reader, writer = await _open_clamd(url)
    try:
        with anyio.fail_after(_SCAN_TIMEOUT):
            try:
                writer.write(b"zINSTREAM\0")
                async for chunk in chunks:
                    for i in range(0, len(chunk), _SCAN_CHUNK):
                        piece = chunk[i : i + _SCAN_CHUNK]
                        writer.write(struct.pack(">I", len(piece)) + piece)
                        await writer.drain()
                writer.write(struct.pack(">I", 0))
                await writer.drain()
            except OSError:
                pass  # clamd may hang up early (size limit); its reply says why
            reply = await reader.readuntil(b"\0")
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
        raise ScanUnavailable(f"clamd scan failed: {exc!r}") from exc
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    text = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    # "stream: OK" | "stream: Eicar-Test-Signature FOUND" | "INSTREAM size limit exceeded. ERROR"
    if text.endswith(" FOUND"):
        return text.removeprefix("stream:").removesuffix(" FOUND").strip()
    if text.endswith("OK"):
        return None
    raise ScanUnavailable(f"clamd error: {text}")


# --------------------------------------------------------------------------------------------
# Per-type checks (blocking library code, run in a worker thread)


#: ``startxref`` must appear in this many bytes at the end of a PDF. pypdf cannot open a file
#: without it either, but finds that out by reading the whole file backwards line by line
#: (~30 s for 200 MB), so this answers at once what pypdf would answer late.
PDF_TAIL_BYTES: Final = 1024 * 1024
#: Where ``startxref`` is looked for first: PDF viewers expect it in the last kilobyte or so.
PDF_TRAILER_FIRST: Final = 4096
#: What pypdf may read to count the pages. A sound PDF needs its cross-reference table and page
#: tree, a few MB at most; a damaged one makes pypdf rebuild the table by reading the whole file
#: into memory and scanning it, which is allowed only for files up to this size.
PDF_READ_BUDGET: Final = 32 * 1024 * 1024
#: Wall-clock limit for counting pages (page trees with millions of nodes, endless repairs).
PDF_SECONDS: Final = 15.0


class _TooCostly(BaseException):
    """Stops pypdf mid-parse. A BaseException, because pypdf catches Exception while repairing."""


class _BudgetedReader:
    """A read-only file for pypdf that gives up once the parse has read too much or run too long.

    Only ``read``, ``seek`` and ``tell`` are used by pypdf. A ``read(-1)`` (xref rebuild) is
    refused before it reads anything when the rest of the file is over budget, so memory never
    holds more than the budget.
    """

    mode = "rb"

    def __init__(self, fh: BinaryIO, size: int, max_bytes: int, seconds: float) -> None:
        self._fh = fh
        self._size = size
        self._left = max_bytes
        self._deadline = time.monotonic() + seconds

    def read(self, n: int | None = -1) -> bytes:
        want = self._size - self._fh.tell() if n is None or n < 0 else n
        if want > self._left or time.monotonic() > self._deadline:
            raise _TooCostly()
        data = self._fh.read(want)
        self._left -= len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()


def _has_trailer(fh: BinaryIO, size: int, tail_bytes: int) -> bool:
    """Whether ``startxref`` is in the last ``tail_bytes`` of the file. A sound PDF has it in its
    last few hundred bytes, so those are read first: the stored file has left the page cache, and
    reading the whole tail back from the disk would cost more than the rest of the check."""
    for want in (min(PDF_TRAILER_FIRST, tail_bytes), tail_bytes):
        fh.seek(max(0, size - want))
        if b"startxref" in fh.read(want):
            return True
        if want >= size:
            break
    return False


def _pdf_unreadable(error: str) -> CheckResult:
    return _failed(
        "เปิดไฟล์ PDF ไม่ได้ ไฟล์อาจเสียหาย กรุณาบันทึกเป็น PDF ใหม่แล้วส่งอีกครั้ง",
        "The PDF cannot be opened; it may be damaged. Please export it to PDF again and resend.",
        error=error,
    )


def _check_pdf(
    path: Path,
    *,
    tail_bytes: int = PDF_TAIL_BYTES,
    read_budget: int = PDF_READ_BUDGET,
    seconds: float = PDF_SECONDS,
) -> CheckResult:
    """Open the PDF with pypdf and count its pages, in bounded time and memory.

    The file is handed to pypdf as an open file (given a path, pypdf reads it all into memory
    first). A file without ``startxref`` near its end fails at once. A file whose page count
    would cost more than the budgets (a large PDF with a damaged cross-reference table) passes
    with ``pages: None`` and a note: it is a PDF, and viewers usually repair such tables, but
    its pages were not counted.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    size = path.stat().st_size
    with open(path, "rb") as fh:
        if not _has_trailer(fh, size, tail_bytes):
            return _pdf_unreadable("NoTrailer")
        try:
            reader = PdfReader(_BudgetedReader(fh, size, read_budget, seconds))  # type: ignore[arg-type]
            if reader.is_encrypted and not reader.decrypt(""):
                return _failed(
                    "PDF ถูกตั้งรหัสผ่าน กรรมการจะเปิดอ่านไม่ได้ กรุณาส่งไฟล์ที่ไม่มีรหัสผ่าน",
                    "The PDF is password-protected; reviewers cannot open it. Please send it without a password.",
                    encrypted=True,
                )
            pages = len(reader.pages)
        except _TooCostly:
            return CheckResult(
                CheckState.passed,
                {"pages": None, "bytes": size, "note": "pages_not_counted"},
                "ไม่ได้นับจำนวนหน้า เพราะไฟล์ใหญ่และโครงสร้างภายในต้องซ่อมก่อนอ่าน โปรแกรมอ่าน PDF ส่วนใหญ่ซ่อมได้เอง"
                " ถ้าเปิดไม่ได้ กรุณาบันทึกเป็น PDF ใหม่แล้วส่งอีกครั้ง",
                "The pages were not counted: the file is large and its internal index needs repair before it"
                " can be read. Most PDF viewers repair it themselves; if yours cannot open it, export it to"
                " PDF again and resend.",
            )
        except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
            return _pdf_unreadable(type(exc).__name__)
        except MemoryError:
            raise  # this machine's trouble, not the file's: the caller retries later
        except Exception as exc:  # noqa: BLE001 - pypdf's own bugs on odd files (IndexError, AttributeError…)
            # Whatever pypdf trips over, the answer is the same: this PDF cannot be read here,
            # and a check that raised would stay "pending" for ever.
            return _pdf_unreadable(type(exc).__name__)
    if pages == 0:
        return _failed("ไฟล์ PDF ไม่มีหน้าใดเลย", "The PDF has no pages.", pages=0)
    return CheckResult(CheckState.passed, {"pages": pages})


def _check_image(path: Path) -> CheckResult:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
        # verify() leaves the image unusable; reopen for the size (header only, cheap).
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        return _failed(
            "เปิดไฟล์รูปภาพไม่ได้ ไฟล์อาจเสียหายหรือมีขนาดภาพใหญ่เกินไป",
            "The image cannot be opened; it may be damaged or too large in pixels.",
            error=type(exc).__name__,
        )
    return CheckResult(CheckState.passed, {"width": width, "height": height})


# --------------------------------------------------------------------------------------------
# Office Open XML (DOCX, PPTX, XLSX)
#
# Only the ZIP's central directory is read (names and declared sizes), plus the small
# ``[Content_Types].xml`` part; nothing is extracted. The intake accepted the file only when its
# whole central directory lay in the last ZIP_TAIL_BYTES of the upload, so listing it is cheap.

#: The package may declare at most this many times its own size once unpacked...
OOXML_MAX_RATIO: Final = 10
#: ...but never more than this in all,
OOXML_MAX_EXPANDED: Final = 200 * 1024 * 1024
#: and a small file may always unpack to this much. XML compresses well: a spreadsheet of short
#: numbers deflates about 13 to 1, so a 10x bound alone would refuse small genuine workbooks,
#: while tens of megabytes unpacked cost a reviewer's Office nothing.
OOXML_EXPANDED_FLOOR: Final = 50 * 1024 * 1024
#: Parts (ZIP entries) a package may hold. A 1,000-slide deck with speaker notes and a picture
#: per slide has about 5,000 (slide, notes, their two relationship parts, the picture); real
#: documents have far fewer. Each part costs every program that opens the file.
OOXML_MAX_PARTS: Final = 5000
#: ``[Content_Types].xml`` lists one line per part, a few hundred bytes each.
OOXML_MAX_CONTENT_TYPES_BYTES: Final = 2 * 1024 * 1024

#: Extensions of parts that are programs or scripts: no Office document needs one inside.
_EXECUTABLE_EXTENSIONS: Final = frozenset({
    ".exe", ".dll", ".com", ".scr", ".pif", ".cpl", ".msi", ".msp", ".sys", ".ocx",
    ".bat", ".cmd", ".ps1", ".psm1", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".hta",
    ".jar", ".class", ".lnk", ".reg", ".sh",
})  # fmt: skip
#: Web pages. Office keeps none in a saved document; an HTML "alternative chunk" part is a
#: way to show a reviewer markup, links and scripts. SVG is not among them: Word, Excel and
#: PowerPoint store inserted icons and SVG pictures as ``media/*.svg`` parts.
_HTML_EXTENSIONS: Final = frozenset({".html", ".htm", ".xhtml", ".xht", ".mht", ".mhtml", ".shtml"})
_EXECUTABLE_TYPES: Final = frozenset({
    "application/x-msdownload", "application/x-msdos-program", "application/x-dosexec",
    "application/x-ms-installer", "application/x-msi", "application/java-archive",
    "application/javascript", "application/x-javascript", "text/javascript", "text/vbscript",
    "application/x-sh", "application/hta",
})  # fmt: skip
_HTML_TYPES: Final = frozenset({"text/html", "application/xhtml+xml", "message/rfc822", "multipart/related"})
#: VBA projects and Excel 4 macro sheets. The accepted types (.docx, .xlsx, .pptx) are the
#: macro-free ones; a macro-enabled file (.docm, .xlsm, .pptm) renamed to .docx still has these.
_MACRO_NAMES: Final = ("vbaproject.bin", "vbaprojectsignature.bin", "vbaprojectsignatureagile.bin",
                       "vbaprojectsignaturev3.bin", "vbadata.xml")
_MACRO_TYPE_MARKS: Final = ("macroenabled", "vbaproject", "vbadata", "macrosheet")

_XML_ELEMENT: Final = re.compile(rb"<(?:\w+:)?(Default|Override)\b([^>]*)>")
_XML_ATTRIBUTE: Final = re.compile(rb"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _damaged(error: str) -> CheckResult:
    return _failed(
        "เปิดไฟล์เอกสารไม่ได้ ไฟล์อาจเสียหาย",
        "The document cannot be opened; it may be damaged.",
        error=error,
    )


def _part_label(name: str) -> str:
    """A part name fit to show in a message: printable, and not too long."""
    shown = "".join(c if c.isprintable() else "?" for c in name)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _part_key(name: str) -> str:
    """A ZIP entry name as an OPC part name compares (case-insensitive, no leading slash)."""
    return name.replace("\\", "/").lstrip("/").lower()


def _extension(key: str) -> str:
    # Windows drops trailing dots and spaces: "run.exe." opens as "run.exe".
    return PurePosixPath(key.rstrip(". ")).suffix


def _content_types(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None) -> tuple[dict[str, str], dict[str, str]]:
    """``(defaults by extension, overrides by part key)`` from ``[Content_Types].xml``.

    Read with a regular expression, not an XML parser: only two attributes of two elements
    matter, and no entity or DTD is ever expanded. Raises :class:`ValueError` when the part is
    too large to be a real one.
    """
    if info is None:
        return {}, {}
    if info.file_size > OOXML_MAX_CONTENT_TYPES_BYTES:
        raise ValueError("content types part too large")
    with archive.open(info) as fh:
        data = fh.read(OOXML_MAX_CONTENT_TYPES_BYTES + 1)
    if len(data) > OOXML_MAX_CONTENT_TYPES_BYTES:
        raise ValueError("content types part too large")
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for element in _XML_ELEMENT.finditer(data):
        attributes = {
            m.group(1).decode("ascii", "replace"):
                html.unescape((m.group(2) or m.group(3) or b"").decode("utf-8", "replace"))
            for m in _XML_ATTRIBUTE.finditer(element.group(2))
        }
        content_type = attributes.get("ContentType", "").strip().lower()
        if element.group(1) == b"Default" and "Extension" in attributes:
            defaults["." + attributes["Extension"].strip().lstrip(".").lower()] = content_type
        elif element.group(1) == b"Override" and "PartName" in attributes:
            overrides[_part_key(unquote(attributes["PartName"]))] = content_type
    return defaults, overrides


def _refused_part(key: str, name: str, content_type: str) -> CheckResult | None:
    """The refusal for one part of a package, by its name and declared content type, if any."""
    extension = _extension(key)
    if key.rsplit("/", 1)[-1] in _MACRO_NAMES or any(m in content_type for m in _MACRO_TYPE_MARKS):
        return _failed(
            "เอกสารนี้มีมาโคร (VBA) ระบบรับเฉพาะไฟล์ .docx .xlsx และ .pptx ที่ไม่มีมาโคร"
            " กรุณาบันทึกเป็นชนิดที่ไม่มีมาโครแล้วส่งอีกครั้ง",
            "The document contains macros (VBA). Only macro-free .docx, .xlsx and .pptx files are"
            " accepted; please save it as a macro-free type and send it again.",
            part=name, reason="macros",
        )
    if extension in _EXECUTABLE_EXTENSIONS or content_type in _EXECUTABLE_TYPES:
        return _failed(
            f"เอกสารนี้มีโปรแกรมหรือสคริปต์แฝงอยู่ภายใน ({_part_label(name)}) ระบบไม่รับไฟล์ลักษณะนี้"
            " กรุณานำออกแล้วบันทึกเอกสารใหม่ก่อนส่ง",
            f"The document carries a program or script inside it ({_part_label(name)}); such files are"
            " not accepted. Please remove it, save the document again and resend.",
            part=name, reason="executable",
        )
    if extension in _HTML_EXTENSIONS or content_type in _HTML_TYPES:
        return _failed(
            f"เอกสารนี้มีหน้าเว็บ (HTML) แฝงอยู่ภายใน ({_part_label(name)}) ระบบไม่รับไฟล์ลักษณะนี้"
            " กรุณาเปิดและบันทึกเอกสารใหม่ด้วยโปรแกรม Office หรือส่งเป็น PDF",
            f"The document carries a web page (HTML) inside it ({_part_label(name)}); such files are"
            " not accepted. Please open and save it again in your Office program, or send it as a PDF.",
            part=name, reason="html",
        )
    return None


def _part_problem(info: zipfile.ZipInfo) -> CheckResult | None:
    """What is wrong with one part's central directory record, if anything."""
    if info.flag_bits & 0x1:
        return _damaged("EncryptedPart")  # Office encrypts a whole file, never a part
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return _damaged("UnsupportedCompression")  # Office only stores or deflates
    if info.file_size > OOXML_MAX_EXPANDED:
        return _failed(
            f"ส่วนประกอบ {_part_label(info.filename)} ในเอกสารระบุว่าจะมีขนาด"
            f" {format_mb(info.file_size)} MB เมื่อคลายการบีบอัด ซึ่งผิดปกติ"
            " ไฟล์อาจถูกสร้างมาเพื่อทำให้ระบบทำงานหนัก กรุณาบันทึกเอกสารใหม่หรือส่งเป็น PDF",
            f"The part {_part_label(info.filename)} of the document claims"
            f" {format_mb(info.file_size)} MB unpacked, far more than any real document part;"
            " the file may be built to overload programs that open it. Please save it again or"
            " send it as a PDF.",
            part=info.filename, part_bytes=info.file_size, compressed_bytes=info.compress_size,
            limit=OOXML_MAX_EXPANDED,
        )
    return None


def _check_ooxml(path: Path) -> CheckResult:
    """Refuse Office packages that are damaged, would unpack to too much, hold too many parts,
    or carry programs, scripts, web pages or macros; from the central directory alone."""
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            infos = [i for i in entries if not i.is_dir()]
            if len(entries) > OOXML_MAX_PARTS:
                return _failed(
                    f"เอกสารนี้มีส่วนประกอบภายในมากเกินไป ({len(entries):,} ส่วน รับได้ไม่เกิน"
                    f" {OOXML_MAX_PARTS:,} ส่วน) กรุณาบันทึกเอกสารใหม่ แบ่งเป็นหลายไฟล์ หรือส่งเป็น PDF",
                    f"The document has too many internal parts ({len(entries):,}; at most"
                    f" {OOXML_MAX_PARTS:,} are accepted). Please save it again, split it, or send it as a PDF.",
                    parts=len(entries), limit=OOXML_MAX_PARTS,
                )
            seen: set[str] = set()
            for info in infos:
                key = _part_key(info.filename)
                if key in seen:
                    return _damaged("DuplicatePart")  # which copy a program opens is anyone's guess
                seen.add(key)
                problem = _part_problem(info)
                if problem is not None:
                    return problem
            expanded = sum(i.file_size for i in infos)
            allowed = min(OOXML_MAX_EXPANDED, max(OOXML_MAX_RATIO * size, OOXML_EXPANDED_FLOOR))
            if expanded > allowed:
                return _failed(
                    f"เอกสารนี้เมื่อคลายการบีบอัดจะมีขนาด {format_mb(expanded)} MB เกินกว่าที่รับได้"
                    f" ({format_mb(allowed)} MB สำหรับไฟล์ขนาดนี้) ไฟล์อาจถูกสร้างมาผิดปกติ"
                    " กรุณาบันทึกเอกสารใหม่ แบ่งเป็นหลายไฟล์ หรือส่งเป็น PDF",
                    f"Unpacked, this document would take {format_mb(expanded)} MB, more than the"
                    f" {format_mb(allowed)} MB accepted for a file of its size; it may have been built"
                    " abnormally. Please save it again, split it, or send it as a PDF.",
                    expanded_bytes=expanded, limit=allowed, bytes=size,
                )
            by_key = {_part_key(i.filename): i for i in infos}
            defaults, overrides = _content_types(archive, by_key.get("[content_types].xml"))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
        return _damaged(type(exc).__name__)
    for info in infos:
        key = _part_key(info.filename)
        content_type = overrides.get(key) or defaults.get(_extension(key), "")
        refused = _refused_part(key, info.filename, content_type)
        if refused is not None:
            return refused
    return CheckResult(CheckState.passed, {"entries": len(entries), "bytes": size})


def _check_blocking(path: Path, content_type: str) -> CheckResult:
    """The type's check; an exception a library raised on a strange file is a failed check
    (final), never an error that leaves the check unfinished."""
    try:
        if content_type == "application/pdf":
            return _check_pdf(path)
        if content_type.startswith("image/"):
            return _check_image(path)
        if content_type.startswith("application/vnd.openxmlformats-officedocument."):
            return _check_ooxml(path)
        return CheckResult(CheckState.passed, {"bytes": path.stat().st_size})
    except MemoryError:
        raise  # this machine's trouble, not the file's: the caller retries later
    except Exception as exc:  # noqa: BLE001 - see the docstring
        return _failed(
            "ตรวจสอบไฟล์นี้ไม่ได้ ไฟล์อาจเสียหาย กรุณาบันทึกไฟล์ใหม่แล้วส่งอีกครั้ง",
            "This file could not be checked; it may be damaged. Please save it again and resend.",
            error=type(exc).__name__,
        )


async def check_file(
    storage: Storage, key: str, content_type: str, *, clamd_url: str | None = None
) -> CheckResult:
    """Scan (when ``clamd_url`` is set) and open the stored file; say whether reviewers can use it.

    Returns ``infected`` with the signature name, ``failed`` with a bilingual message when the
    file does not open, or ``passed`` with details (``pages`` for PDF, ``width``/``height`` for
    images, ``bytes`` for video). Raises :class:`ScanUnavailable` if clamd cannot scan now.
    """
    if clamd_url:
        signature = await clamd_scan(clamd_url, storage.open_range(key))
        if signature is not None:
            return CheckResult(
                CheckState.infected,
                {"signature": signature},
                f"ตรวจพบมัลแวร์ในไฟล์ ({signature}) ระบบจะไม่เผยแพร่ไฟล์นี้",
                f"Malware was found in the file ({signature}); it will not be shown to anyone.",
            )
    if content_type.startswith("video/"):
        # Nothing cheap opens an MP4 in pure Python; the container was sniffed at upload.
        return CheckResult(CheckState.passed, {"bytes": await storage.size(key)})
    async with storage.local_path(key) as path:
        return await anyio.to_thread.run_sync(_check_blocking, path, content_type)
