"""Decide what a file is from its bytes, never from its name.

Two stages keep memory bounded while streaming:

1. :func:`sniff_head` looks at the first :data:`SNIFF_BYTES` bytes (magic numbers). For PDF,
   images and MP4 that decides the type.
2. A ZIP head only says "maybe an Office document". DOCX, PPTX and XLSX differ by the folders
   inside the archive, which are listed in the central directory at the *end* of the file. The
   intake keeps a bounded tail of the stream (:data:`ZIP_TAIL_BYTES`) only for ZIP candidates and
   :func:`identify_ooxml` reads the entry names from it before the object is committed.

Then :func:`check_extension` rejects a name whose extension contradicts the content (an EXE or a
PNG renamed to ``.pdf``); a name without an extension is accepted when the content is allowed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import PurePosixPath

from uploads.errors import UnsupportedFileType

__all__ = [
    "DOCX",
    "FILE_TYPES",
    "JPEG",
    "MP4",
    "PDF",
    "PNG",
    "PPTX",
    "SNIFF_BYTES",
    "WEBP",
    "XLSX",
    "ZIP_CANDIDATE",
    "ZIP_TAIL_BYTES",
    "FileType",
    "check_extension",
    "extension_of",
    "identify_ooxml",
    "sniff_head",
    "zip_entry_names",
]

#: Bytes needed to recognise every allowed head (MP4's ftyp box with its compatible brands).
SNIFF_BYTES = 64
#: The tail kept for ZIP candidates: end-of-central-directory plus a central directory of
#: roughly 10,000 entries. A real Office file's directory is far smaller.
ZIP_TAIL_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileType:
    """An allowed kind of content: canonical MIME type and the extensions a name may carry."""

    content_type: str
    extensions: tuple[str, ...]
    label: str


PDF = FileType("application/pdf", (".pdf",), "PDF")
JPEG = FileType("image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), "JPEG")
PNG = FileType("image/png", (".png",), "PNG")
WEBP = FileType("image/webp", (".webp",), "WebP")
MP4 = FileType("video/mp4", (".mp4", ".m4v"), "MP4")
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",), "DOCX"
)
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    (".pptx",),
    "PPTX",
)
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",), "XLSX")
#: A provisional verdict: a ZIP that may be one of the Office types; never stored as such.
ZIP_CANDIDATE = FileType("application/zip", (".docx", ".pptx", ".xlsx"), "ZIP")

FILE_TYPES: tuple[FileType, ...] = (PDF, JPEG, PNG, WEBP, MP4, DOCX, PPTX, XLSX)

# ISO base media brands that are MP4 (not QuickTime "qt  ", not 3GPP, not HEIF images).
_MP4_BRANDS = frozenset(
    {
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"iso9",
        b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"mmp4", b"MSNV",
        b"dash", b"f4v ", b"XAVC",
    }
)  # fmt: skip
_OOXML_DIRS: tuple[tuple[str, FileType], ...] = (("word/", DOCX), ("ppt/", PPTX), ("xl/", XLSX))


def sniff_head(head: bytes) -> FileType | None:
    """Classify the first bytes of a file; ``None`` means "not allowed".

    ``head`` should hold :data:`SNIFF_BYTES` bytes, or the whole file if shorter. Checks are
    anchored at offset 0 so a file cannot smuggle a signature further in.
    """
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if _is_mp4(head):
        return MP4
    if head.startswith(b"PK\x03\x04"):
        return ZIP_CANDIDATE
    return None


def _is_mp4(head: bytes) -> bool:
    """An ``ftyp`` box first, with an MP4 major brand or an MP4 compatible brand."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return False
    (box_size,) = struct.unpack(">I", head[:4])
    if box_size < 16 and box_size not in (0, 1):
        return False
    major = head[8:12]
    if major in _MP4_BRANDS:
        return True
    if major == b"qt  ":
        return False
    end = min(len(head), box_size if box_size >= 16 else len(head))
    compatible = (head[i : i + 4] for i in range(16, end - 3, 4))
    return any(brand in _MP4_BRANDS for brand in compatible)


def extension_of(filename: str) -> str:
    """Lower-case extension with its dot, or ``""`` when the name has none."""
    return PurePosixPath(filename).suffix.lower()


def check_extension(filename: str, file_type: FileType) -> None:
    """Reject a name whose extension is not one of the sniffed type's extensions.

    Raises :class:`UnsupportedFileType`. A name with no extension passes: the content decides.
    """
    extension = extension_of(filename)
    if extension and extension not in file_type.extensions:
        raise UnsupportedFileType.extension_mismatch(extension, file_type.label)


def zip_entry_names(tail: bytes, total_size: int) -> list[str] | None:
    """Entry names from a ZIP's central directory, found in the last bytes of the file.

    ``tail`` is the end of the file and ``total_size`` the file's full length. Returns ``None``
    when the directory is not wholly inside ``tail`` or the structure is broken. Handles ZIP64.
    """
    tail_offset = total_size - len(tail)
    eocd = tail.rfind(b"PK\x05\x06")
    if eocd < 0 or eocd + 22 > len(tail):
        return None
    (_, _, _, _, entries, cd_size, cd_offset, _) = struct.unpack("<4sHHHHIIH", tail[eocd : eocd + 22])
    if 0xFFFF in (entries,) or 0xFFFFFFFF in (cd_size, cd_offset):
        locator = eocd - 20
        if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
            return None
        (zip64_eocd_abs,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        z = zip64_eocd_abs - tail_offset
        if z < 0 or tail[z : z + 4] != b"PK\x06\x06":
            return None
        entries, _, cd_size, cd_offset = struct.unpack("<QQQQ", tail[z + 24 : z + 56])
    start = cd_offset - tail_offset
    if start < 0 or start + cd_size > len(tail):
        return None
    names: list[str] = []
    pos, end = start, start + cd_size
    while pos + 46 <= end and len(names) < entries:
        if tail[pos : pos + 4] != b"PK\x01\x02":
            return None
        flags = struct.unpack("<H", tail[pos + 8 : pos + 10])[0]
        name_len, extra_len, comment_len = struct.unpack("<HHH", tail[pos + 28 : pos + 34])
        raw = tail[pos + 46 : pos + 46 + name_len]
        names.append(raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace"))
        pos += 46 + name_len + extra_len + comment_len
    return names


def identify_ooxml(tail: bytes, total_size: int) -> FileType:
    """Which Office type a ZIP candidate is, from its entry names; raise if none.

    An Office Open XML package has ``[Content_Types].xml`` and exactly one of the ``word/``,
    ``ppt/`` or ``xl/`` parts folders. Any other ZIP (or a broken one) is not accepted.
    """
    names = zip_entry_names(tail, total_size)
    if not names or "[Content_Types].xml" not in names:
        raise UnsupportedFileType.not_allowed()
    found = {t for prefix, t in _OOXML_DIRS if any(n.startswith(prefix) for n in names)}
    if len(found) != 1:
        raise UnsupportedFileType.not_allowed()
    return found.pop()
