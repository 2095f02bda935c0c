"""Content sniffing: magic numbers, MP4 brands, OOXML central directories, extensions."""

from __future__ import annotations

import io
import zipfile

import pytest

from uploads import sniff
from uploads.errors import UnsupportedFileType
from uploads.testing import make_docx, make_mp4, make_pptx, make_xlsx


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.4\n", sniff.PDF),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", sniff.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", sniff.PNG),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", sniff.WEBP),
        (make_mp4(b"mp42")[:64], sniff.MP4),
        (b"PK\x03\x04\x14\x00", sniff.ZIP_CANDIDATE),
    ],
)
def test_sniff_head_recognises_allowed_type(head: bytes, expected: sniff.FileType) -> None:
    assert sniff.sniff_head(head) is expected


@pytest.mark.parametrize(
    "head",
    [
        b"MZ\x90\x00",
        b"\x7fELF\x02\x01",
        b"<html><script>",
        b"GIF89a",
        b"RIFF\x10\x00\x00\x00WAVEfmt ",
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
        b" %PDF-1.4",
        b"",
    ],
)
def test_sniff_head_rejects_other_content(head: bytes) -> None:
    assert sniff.sniff_head(head) is None


def test_sniff_head_accepts_mp4_by_compatible_brand() -> None:
    head = b"\x00\x00\x00\x18ftypXYZ1\x00\x00\x00\x00mp42isom"

    assert sniff.sniff_head(head) is sniff.MP4


@pytest.mark.parametrize(
    ("factory", "expected"),
    [(make_docx, sniff.DOCX), (make_pptx, sniff.PPTX), (make_xlsx, sniff.XLSX)],
)
def test_identify_ooxml_by_parts_folder(factory: object, expected: sniff.FileType) -> None:
    data = factory()  # type: ignore[operator]

    assert sniff.identify_ooxml(data, len(data)) is expected


def test_identify_ooxml_reads_directory_from_tail_only() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/media/big.bin", b"\x00" * 3_000_000)
        archive.writestr("word/document.xml", "<w/>")
    data = out.getvalue()

    assert sniff.identify_ooxml(data[-4096:], len(data)) is sniff.DOCX


def test_identify_ooxml_rejects_directory_outside_tail() -> None:
    data = make_docx()

    with pytest.raises(UnsupportedFileType):
        sniff.identify_ooxml(data[-30:], len(data))


def test_identify_ooxml_rejects_zip_without_content_types() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")

    with pytest.raises(UnsupportedFileType):
        sniff.identify_ooxml(out.getvalue(), len(out.getvalue()))


def test_zip_entry_names_reads_zip64() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        with archive.open("[Content_Types].xml", "w", force_zip64=True) as fh:
            fh.write(b"<Types/>")
        archive.writestr("xl/workbook.xml", "<x/>")
    data = out.getvalue()

    assert sniff.zip_entry_names(data, len(data)) == ["[Content_Types].xml", "xl/workbook.xml"]


@pytest.mark.parametrize(("name", "ok"), [("a.pdf", True), ("A.PDF", True), ("a", True), ("a.png", False),
                                          ("a.pdf.exe", False)])
def test_check_extension_against_pdf(name: str, ok: bool) -> None:
    if ok:
        sniff.check_extension(name, sniff.PDF)
    else:
        with pytest.raises(UnsupportedFileType):
            sniff.check_extension(name, sniff.PDF)
