"""Award certificates: a valid one-page PDF whose Thai text is embedded, shaped and extractable."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from contest.certificates import (
    AWARD_NAMES,
    BOTTOM,
    MAX_TEXT,
    TEXT_W,
    TOP,
    CertificateAward,
    CertificateData,
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
    return PdfReader(BytesIO(pdf)).pages[0].extract_text()


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


def test_certificate_thai_text_extracts_exactly() -> None:
    text = extract(render_certificate(certificate()))
    lines = text.splitlines()

    assert ORGANISATION in lines
    assert "จังหวัดเชียงใหม่" in lines
    assert TITLE in lines
    assert "ให้ไว้ ณ วันที่ 22 พฤศจิกายน 2569" in lines
    assert "Given on 22 November 2026" in lines
    assert "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) (สพร.) มอบเกียรติบัตรฉบับนี้ให้แก่" in lines
    assert "The Digital Government Development Agency (DGA) presents this certificate to" in lines
    assert lines[:2] == ["เกียรติบัตร", "Certificate"]
    assert "DLG2569-C-000042" in text
    assert "https://localgov.example.test/certificates/DLG2569-C-000042" in text


def test_certificate_text_has_no_unmapped_glyphs() -> None:
    # น้ำ, ทำ, กำนัน: SARA AM (with a tone mark before it) is drawn as NIKHAHIT + SARA AA.
    # Without an empty ToUnicode entry for the second glyph, it extracts as a control character.
    title = "น้ำประปาสะอาดทำได้ทุกหมู่บ้าน กำนันและผู้ใหญ่บ้านร่วมกันดูแล"
    text = extract(render_certificate(certificate(innovation_title=title)))

    assert title in text.splitlines()
    assert [ch for ch in text if unicodedata.category(ch) == "Cc" and ch != "\n"] == []


def test_certificate_embeds_the_thai_font() -> None:
    pdf = render_certificate(certificate())
    page = PdfReader(BytesIO(pdf)).pages[0]

    fonts = [ref.get_object() for ref in page["/Resources"]["/Font"].values()]
    assert sorted(str(font["/BaseFont"]) for font in fonts) == ["/MPDFAA+Kinnari", "/MPDFAA+KinnariBold"]
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor
        assert "/ToUnicode" in font
    assert b"/FontFile2" in pdf


def test_certificate_document_shapes_thai() -> None:
    # With HarfBuzz, ฐ above a vowel below loses its tail and a tone mark over ป moves left
    # of the stem: the font's own variant glyphs. Without shaping neither glyph is used.
    pdf = new_document()
    pdf.add_page()
    pdf.set_font("Kinnari", "B", 20)
    pdf.cell(text="ฐุ ปู่")

    font = next(font for font in pdf.fonts.values() if font.name == "KinnariBold")
    used = {glyph.glyph_name for glyph, _ in font.subset.items() if glyph is not None}
    assert {"uni0E10.descless", "uni0E48.low"} <= used


@pytest.mark.parametrize("award", list(CertificateAward))
def test_certificate_names_its_award(award: CertificateAward) -> None:
    text = extract(render_certificate(certificate(award=award)))
    lines = text.splitlines()

    thai, english = AWARD_NAMES[award]
    assert f"{thai} ประจำปี 2569" in lines
    assert f"{english.replace('—', '–')} 2026" in lines
    other_thai, other_english = AWARD_NAMES[next(a for a in CertificateAward if a != award)]
    assert other_thai not in text
    assert other_english.replace("—", "–") not in text


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
    text = reader.pages[0].extract_text()
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
        pdf.set_font("Kinnari", row.style, row.size)
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
