"""Award certificates: a valid, tagged one-page PDF whose Thai text is embedded, shaped and
extracts exactly as written (poppler's pdftotext, which reads /ActualText, and pypdf)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from contest.certificates import (
    AWARD_NAMES,
    BOTTOM,
    MAX_TEXT,
    QR_SIZE,
    QR_X,
    QR_Y,
    TEXT_W,
    TOP,
    CertificateAward,
    CertificateData,
    Signatory,
    _measure,
    layout_rows,
    new_document,
    render_certificate,
    wrap_text,
)

pytestmark = pytest.mark.unit

ORGANISATION = "องค์การบริหารส่วนตำบลบ้านใหม่"   # ตำบล: SARA AM, drawn with two glyphs
TITLE = "ระบบแจ้งเหตุผ่านไลน์ “บ้านใหม่ใส่ใจ” สำหรับผู้สูงอายุ ปู่ย่าตายาย"   # one line at 18 pt
LONG_TITLE = (
    "ระบบแจ้งเหตุและติดตามเรื่องร้องเรียนของประชาชนผ่านไลน์ “บ้านใหม่ใส่ใจ” พร้อมแดชบอร์ดข้อมูลเปิด"
    "สำหรับผู้บริหารท้องถิ่น เชื่อมโยงกับระบบแผนที่ภาษีและทะเบียนทรัพย์สิน เพื่อการให้บริการที่รวดเร็ว "
    "โปร่งใส และตรวจสอบได้ของเทศบาลตำบลบ้านใหม่ ผู้ใหญ่บ้าน กำนัน"
)


def certificate(**changes: object) -> CertificateData:
    data = CertificateData(
        award=CertificateAward.digital_local_government,
        edition_year=2569,
        organisation_name=ORGANISATION,
        province_name="เชียงใหม่",
        innovation_title=TITLE,
        issued_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
        number="DLG2569-C-000042",
        verification_url="https://localgov.example.test/certificates/DLG2569-C-000042",
    )
    return replace(data, **changes)


def extract(pdf: bytes) -> str:
    """The page's text as poppler's pdftotext gives it (Debian's poppler-utils)."""
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: apt-get install poppler-utils"
    return subprocess.run([tool, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True,
                          timeout=60).stdout.decode()


def extract_pypdf(pdf: bytes) -> str:
    return PdfReader(BytesIO(pdf)).pages[0].extract_text()


def signature_png(size: tuple[int, int] = (600, 160)) -> bytes:
    """A stroke on a transparent background, as a scanned signature is prepared."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    for x in range(20, size[0] - 20):
        y = size[1] // 2 + (x % 40) - 20
        for dy in range(-3, 4):
            image.putpixel((x, y + dy), (20, 30, 120, 255))
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


SIGNATORY = Signatory(name="นายสุพจน์ เธียรวุฒิ", position_th="ผู้อำนวยการสำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
                      position_en="President, Digital Government Development Agency", signature=signature_png())


def squeeze(text: str) -> str:
    """Without whitespace: a wrapped line's break is a newline where the source had a space,
    or nothing where a run without spaces was cut."""
    return "".join(text.split())


def test_certificate_is_one_a4_landscape_page() -> None:
    reader = PdfReader(BytesIO(render_certificate(certificate())))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == (841.89, 595.28)
    assert reader.metadata is not None
    assert reader.metadata.title == f"เกียรติบัตร รางวัลท้องถิ่นดิจิทัล ประจำปี 2569 — {ORGANISATION}"


def test_certificate_text_extracts_exactly_as_written() -> None:
    lines = [line for line in extract(render_certificate(certificate(signatory=SIGNATORY))).splitlines() if line]

    assert lines == [
        "เกียรติบัตร",
        "Certificate",
        "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) (สพร.) มอบเกียรติบัตรฉบับนี้ให้แก่",
        "The Digital Government Development Agency (DGA) presents this certificate to",
        ORGANISATION,
        "จังหวัดเชียงใหม่",
        "ได้รับ",
        "รางวัลท้องถิ่นดิจิทัล ประจำปี 2569",
        "Digital Local Government Award 2026",
        "จากผลงานนวัตกรรม",
        "for the innovation",
        TITLE,
        "ให้ไว้ ณ วันที่ 22 พฤศจิกายน 2569",
        "Given on 22 November 2026",
        "(นายสุพจน์ เธียรวุฒิ)",
        "ผู้อำนวยการสำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
        "President, Digital Government Development Agency",
        "เลขที่เกียรติบัตร / Certificate No.  DLG2569-C-000042",
        "ตรวจสอบได้ที่ / Verify at  https://localgov.example.test/certificates/DLG2569-C-000042",
        "สแกนเพื่อตรวจสอบ · Scan to verify",
    ]


# SARA AM drawn as two glyphs (สำ, น้ำ, กำนัน), a tone mark over an upper vowel (นี้, ที่), one
# moved left of a tall consonant (ปู่), ญ and ฐ losing their tails above a lower vowel.
AGENCY_TEXT = "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) (สพร.) มอบเกียรติบัตรฉบับนี้ให้แก่"
HARD_WORDS = "สำนักงาน ฉบับนี้ น้ำประปา ปู่ย่า กตัญญู ญุ ฐุ ฐู กำนัน ผู้ใหญ่บ้าน ปั้นดิน ที่ทำการ"


@pytest.mark.parametrize("field", ["innovation_title", "organisation_name"])
def test_certificate_hard_thai_words_extract_exactly(field: str) -> None:
    pdf = render_certificate(certificate(**{field: HARD_WORDS}))

    # A name this long wraps (at a space): its lines joined with a space are the text again.
    assert HARD_WORDS in " ".join(line for line in extract(pdf).splitlines() if line)
    # Readers that ignore /ActualText get the text from the ToUnicode maps: no glyph is left
    # out (it would come back as a control character) and every character is there, in order.
    text = extract_pypdf(pdf)
    assert [ch for ch in text if unicodedata.category(ch) == "Cc" and ch != "\n"] == []
    assert squeeze(HARD_WORDS) in squeeze(text)


def test_certificate_embeds_sarabun() -> None:
    pdf = render_certificate(certificate(signatory=SIGNATORY))
    page = PdfReader(BytesIO(pdf)).pages[0]

    fonts = [ref.get_object() for ref in page["/Resources"]["/Font"].values()]
    assert sorted(str(font["/BaseFont"]) for font in fonts) == ["/MPDFAA+Sarabun", "/MPDFAA+SarabunBold"]
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor
        assert "/ToUnicode" in font


def test_sarabun_is_vendored_with_its_licence() -> None:
    folder = Path(__file__).parents[2] / "contest" / "static" / "fonts" / "sarabun"
    assert sorted(p.name for p in folder.iterdir()) == ["OFL.txt", "Sarabun-Bold.ttf", "Sarabun-Regular.ttf"]
    assert "SIL Open Font License" in (folder / "OFL.txt").read_text()


def test_certificate_document_shapes_thai() -> None:
    # With HarfBuzz, ญ and ฐ above a vowel below lose their tails and a tone mark over ป moves
    # left of the stem: the font's own variant glyphs. Without shaping none of them is used.
    pdf = new_document()
    pdf.add_page()
    pdf.set_font("Sarabun", "B", 20)
    pdf.cell(text="ฐุ ญู ปู่")

    font = next(font for font in pdf.fonts.values() if font.name == "SarabunBold")
    used = {glyph.glyph_name for glyph, _ in font.subset.items() if glyph is not None}
    assert {"thoThanthai.less", "yoYingthai.less", "uni0E48.narrow"} <= used


@pytest.mark.parametrize("style", ["", "B"])
def test_line_breaking_measures_as_fpdf2_draws(style: str) -> None:
    pdf = new_document()
    pdf.set_font("Sarabun", style, 17)
    for text in (HARD_WORDS, LONG_TITLE, AGENCY_TEXT, "Digital Local Government Award 2026"):
        assert _measure(pdf)(text) == pytest.approx(pdf.get_string_width(text), abs=1e-9)


def structure(pdf: bytes) -> tuple[Any, list[Any]]:
    """The catalog and the elements under the structure tree's Document element."""
    catalog = PdfReader(BytesIO(pdf)).trailer["/Root"]
    document = catalog["/StructTreeRoot"]["/K"]
    document = (document[0] if isinstance(document, list) else document).get_object()
    assert document["/S"] == "/Document"
    return catalog, [kid.get_object() for kid in document["/K"]]


def test_certificate_is_tagged_thai_with_english_lines_in_english() -> None:
    pdf = render_certificate(certificate(signatory=SIGNATORY))
    catalog, elements = structure(pdf)

    assert catalog["/Lang"] == "th-TH"
    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 - a PDF boolean object
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert f"<rdf:li xml:lang=\"x-default\">เกียรติบัตร รางวัลท้องถิ่นดิจิทัล ประจำปี 2569 — {ORGANISATION}</rdf:li>" in xmp
    page = PdfReader(BytesIO(pdf)).pages[0]
    assert page["/StructParents"] == 0

    kinds = [str(e["/S"]) for e in elements]
    assert kinds[0] == "/H1"
    assert set(kinds) == {"/H1", "/P", "/Figure"}
    english = {str(e["/K"][0]) for e in elements if e.get("/Lang") == "en"}
    assert len(english) == 6  # Certificate, presents…, the award, for the innovation, Given on, the position
    assert {e.get("/Lang") for e in elements} == {None, "en"}  # the rest inherit th-TH
    figures = [e for e in elements if e["/S"] == "/Figure"]
    assert [str(f["/Alt"]) for f in figures] == [
        "ลายมือชื่อของนายสุพจน์ เธียรวุฒิ",
        "คิวอาร์โค้ดสำหรับตรวจสอบเกียรติบัตรนี้: https://localgov.example.test/certificates/DLG2569-C-000042"]
    # Every marked-content id is used once, and the parent tree maps each back to its element.
    mcids = [int(k) for e in elements for k in e["/K"]]
    assert sorted(mcids) == list(range(len(mcids)))
    parents = catalog["/StructTreeRoot"]["/ParentTree"].get_object()["/Nums"]
    assert parents[0] == 0
    by_mcid = [ref.get_object() for ref in parents[1]]
    for element in elements:
        for k in element["/K"]:
            assert by_mcid[int(k)] == element


def test_certificate_wrapped_lines_are_one_paragraph() -> None:
    c = certificate(innovation_title=LONG_TITLE)
    _, elements = structure(render_certificate(c))

    title_rows = [row for row in layout_rows(new_document(), c) if row.text in LONG_TITLE]
    assert len(title_rows) >= 2
    assert [len(e["/K"]) for e in elements if e["/S"] == "/P"].count(len(title_rows)) == 1


def test_certificate_without_a_signatory_has_no_signature_block() -> None:
    pdf = render_certificate(certificate())
    _, elements = structure(pdf)

    assert [str(e["/Alt"]) for e in elements if e["/S"] == "/Figure"] == [
        "คิวอาร์โค้ดสำหรับตรวจสอบเกียรติบัตรนี้: https://localgov.example.test/certificates/DLG2569-C-000042"]
    assert "(นาย" not in extract(pdf)


def test_certificate_signature_keeps_its_transparency() -> None:
    pdf = render_certificate(certificate(signatory=SIGNATORY))
    page = PdfReader(BytesIO(pdf)).pages[0]

    images = [ref.get_object() for ref in page["/Resources"]["/XObject"].values()]
    assert len(images) == 1
    assert "/SMask" in images[0]  # the alpha channel: the paper shows through


def test_certificate_signature_may_be_a_jpeg_and_the_english_position_may_be_left_out() -> None:
    out = BytesIO()
    Image.open(BytesIO(signature_png())).convert("RGB").save(out, format="JPEG", quality=90)
    signatory = replace(SIGNATORY, signature=out.getvalue(), position_en="")
    lines = extract(render_certificate(certificate(signatory=signatory))).splitlines()

    assert "ผู้อำนวยการสำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)" in lines
    assert "President, Digital Government Development Agency" not in lines


def test_signatory_rejects_empty_or_long_values() -> None:
    with pytest.raises(ValueError):
        Signatory(name=" ", position_th="ผู้อำนวยการ")
    with pytest.raises(ValueError):
        Signatory(name="นายสุพจน์", position_th="")
    with pytest.raises(ValueError):
        Signatory(name="ก" * 121, position_th="ผู้อำนวยการ")


def test_certificate_qr_code_reads_as_the_verification_url() -> None:
    """The QR code as printed: rasterised by poppler, each module's centre read back and
    compared with the code segno makes for the URL."""
    url = "https://localgov.example.test/certificates/DLG2569-C-000042"
    pdf = render_certificate(certificate(verification_url=url))
    dpi = 600
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([shutil.which("pdftoppm") or "pdftoppm", "-r", str(dpi), "-gray", "-png",
                        "-x", str(round(QR_X / 25.4 * dpi)), "-y", str(round(QR_Y / 25.4 * dpi)),
                        "-W", str(round(QR_SIZE / 25.4 * dpi)), "-H", str(round(QR_SIZE / 25.4 * dpi)),
                        "-", f"{folder}/qr"], input=pdf, check=True, capture_output=True, timeout=60)
        image = Image.open(next(Path(folder).glob("qr*.png"))).convert("L")
    matrix = segno.make(url, error="m", micro=False).matrix
    modules = len(matrix) + 4
    step = image.width / modules
    read = [[image.getpixel((int((c + 2.5) * step), int((r + 2.5) * step))) < 128 for c in range(len(matrix))]
            for r in range(len(matrix))]
    assert read == [[bool(v & 1) for v in row] for row in matrix]
    # The quiet zone around it is white.
    assert image.getpixel((int(step), int(step))) > 200


@pytest.mark.parametrize("award", list(CertificateAward))
def test_certificate_names_its_award(award: CertificateAward) -> None:
    text = extract(render_certificate(certificate(award=award)))
    lines = text.splitlines()

    thai, english = AWARD_NAMES[award]
    assert f"{thai} ประจำปี 2569" in lines
    assert f"{english} 2026" in lines
    other_thai, other_english = AWARD_NAMES[next(a for a in CertificateAward if a != award)]
    assert other_thai not in text
    assert other_english not in text


def test_certificate_accepts_the_award_as_stored() -> None:
    assert certificate(award="dg_awards").award is CertificateAward.dg_awards
    with pytest.raises(ValueError):
        certificate(award="best_in_show")


def test_certificate_date_is_buddhist_era_in_bangkok() -> None:
    # 20:00 UTC on 2 January 2026 is already 3 January in Bangkok; 2026 CE is 2569 BE.
    text = extract(render_certificate(certificate(issued_at=datetime(2026, 1, 2, 20, 0, tzinfo=UTC))))

    assert "ให้ไว้ ณ วันที่ 3 มกราคม 2569" in text.splitlines()
    assert "Given on 3 January 2026" in text.splitlines()


@pytest.mark.parametrize(("province", "label"), [
    ("เชียงใหม่", "จังหวัดเชียงใหม่"),
    ("จังหวัดเชียงใหม่", "จังหวัดเชียงใหม่"),
    ("กรุงเทพมหานคร", "กรุงเทพมหานคร"),
])
def test_certificate_province_label(province: str, label: str) -> None:
    assert label in extract(render_certificate(certificate(province_name=province))).splitlines()


@pytest.mark.parametrize("province", ["", "   ", "จังหวัด"])
def test_certificate_without_a_province_prints_no_province_line(province: str) -> None:
    c = certificate(province_name=province)
    lines = extract(render_certificate(c)).splitlines()

    assert "จังหวัด" not in "".join(lines)
    assert lines[lines.index(ORGANISATION) + 1] == "ได้รับ"
    middle = [row for row in layout_rows(new_document(), c) if TOP <= row.y < BOTTOM]
    assert [row.text for row in middle].count("") == 0
    assert middle[-1].y + middle[-1].line_height <= BOTTOM


def test_certificate_long_title_wraps_and_stays_on_one_page() -> None:
    c = certificate(innovation_title=LONG_TITLE)
    pdf = render_certificate(c)

    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 1
    text = extract(pdf)
    assert squeeze(LONG_TITLE) in squeeze(text)
    assert LONG_TITLE not in text  # it did wrap
    title_rows = [row for row in layout_rows(new_document(), c) if row.text in LONG_TITLE]
    assert 2 <= len(title_rows) <= 4
    assert squeeze("".join(row.text for row in title_rows)) == squeeze(LONG_TITLE)


@pytest.mark.parametrize("spaces", [True, False])
def test_certificate_longest_texts_stay_between_heading_and_date(spaces: bool) -> None:
    words = ["ระบบบริหารจัดการขยะอัจฉริยะ", "ด้วยเทคโนโลยีไอโอที", "เพื่อชุมชนน่าอยู่และยั่งยืน"]
    text = (" " if spaces else "").join(words * 10)[:MAX_TEXT].strip()
    c = certificate(organisation_name=text, innovation_title=text)
    pdf = new_document()

    rows = layout_rows(pdf, c)
    middle = [row for row in rows if TOP <= row.y < BOTTOM]
    assert middle[0].y >= TOP
    assert middle[-1].y + middle[-1].line_height <= BOTTOM
    assert squeeze("".join(row.text for row in middle if row.text in text)) == squeeze(text) * 2
    for row in rows:
        pdf.set_font("Sarabun", row.style, row.size)
        assert pdf.get_string_width(row.text) <= TEXT_W
    assert len(PdfReader(BytesIO(render_certificate(c))).pages) == 1


def test_certificate_data_rejects_what_would_not_fit_or_is_not_buddhist_era() -> None:
    with pytest.raises(ValueError):
        certificate(innovation_title="ก" * (MAX_TEXT + 1))
    with pytest.raises(ValueError):
        certificate(organisation_name="  ")
    with pytest.raises(ValueError):
        certificate(edition_year=2026)


def test_certificate_is_deterministic() -> None:
    assert render_certificate(certificate()) == render_certificate(certificate())
    signed = certificate(signatory=SIGNATORY)
    assert render_certificate(signed) == render_certificate(signed)


SYLLABLE = st.builds(
    lambda lead, consonant, vowel, tone, tail: lead + consonant + vowel + tone + tail,
    st.sampled_from(["", "", "เ", "แ", "โ", "ใ", "ไ"]),
    st.sampled_from(list("กขคงจญฐณดตถทนบปผพฟมยรลวสหอฮ")),
    st.sampled_from(["", "", "ั", "ิ", "ี", "ึ", "ื", "ุ", "ู", "็"]),
    st.sampled_from(["", "", "่", "้", "๊", "๋", "์"]),
    st.sampled_from(["", "", "ะ", "า", "ำ", "ๆ", "น", "ง"]),
)
WORD = st.lists(SYLLABLE, min_size=1, max_size=10).map("".join)


@settings(max_examples=300, deadline=None)
@given(words=st.lists(WORD, min_size=1, max_size=8), width=st.integers(min_value=4, max_value=30))
def test_wrap_text_breaks_only_between_clusters(words: list[str], width: int) -> None:
    text = " ".join(words)
    lines = wrap_text(text, width, len)

    assert squeeze("".join(lines)) == squeeze(text)
    for line in lines:
        assert line == line.strip()
        assert unicodedata.category(line[0]) != "Mn", line
        assert line[0] not in "ะาำๆ", line
        assert line[-1] not in "เแโใไ", line
        # Longer than the width only when one cluster (consonant, marks, vowel) is.
        assert len(line) <= max(width, 6), line
