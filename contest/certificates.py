"""Award certificates: one A4 landscape PDF page per awardee, Thai first, English beneath.

A pure function of ``CertificateData``: no database, no web, no clock. The same data gives the
same bytes (the PDF's dates come from the issue date), so a certificate can be rendered on demand
instead of stored.

Thai needs two things a plain PDF library does not give: a Thai TrueType font, vendored in
``static/fonts/tlwg`` so nothing depends on the fonts of the machine, and text shaping (HarfBuzz,
through fpdf2) so that tone marks and the vowels above and below a consonant are placed by the
font's own rules instead of colliding (ปู่, ปั้น, น้ำ; ญ and ฐ drop their tails above ุ ู).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from io import BytesIO
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align
from pypdf import PdfReader, PdfWriter

from contest.clock import to_bangkok
from contest.i18n import EN_MONTHS, format_date

FONT_DIR = Path(__file__).parent / "static" / "fonts" / "tlwg"
# Kinnari: a formal, looped serif Thai face with Latin to match. One family only: fpdf2 subsets
# and embeds every face added to a document, and subsetting is most of the rendering time.
SERIF = "Kinnari"

AGENCY_TH = "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) (สพร.)"
AGENCY_EN = "Digital Government Development Agency (DGA)"

# A4 landscape, millimetres.
PAGE_W, PAGE_H = 297.0, 210.0
TEXT_W = 225.0          # the measure of the centred text block
PT = 25.4 / 72          # millimetres per point
NAME_LEADING = 1.4      # wrapped names and titles sit a little closer than single lines
MAX_TEXT = 255          # the database's limit for organisation names and entry titles
NAVY = (23, 45, 94)
GOLD = (176, 141, 62)
INK = (33, 37, 41)
GREY = (96, 102, 112)


class CertificateAward(StrEnum):
    dg_awards = "dg_awards"                                  # the DG Awards local-government winner
    digital_local_government = "digital_local_government"    # one of the 40 awardees


AWARD_NAMES: dict[CertificateAward, tuple[str, str]] = {
    CertificateAward.dg_awards: (
        "รางวัล DG Awards ประเภทองค์กรปกครองส่วนท้องถิ่น",
        "DG Awards — Local Government",
    ),
    CertificateAward.digital_local_government: (
        "รางวัลท้องถิ่นดิจิทัล",
        "Digital Local Government Award",
    ),
}


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on one certificate, as plain values."""

    award: CertificateAward
    edition_year: int            # Buddhist Era, e.g. 2569
    organisation_name: str       # Thai, e.g. "องค์การบริหารส่วนตำบลบ้านใหม่"
    province_name: str           # Thai, with or without "จังหวัด"; may be empty
    innovation_title: str        # Thai, up to 255 characters: wrapped
    issued_at: datetime          # shown as a Buddhist-Era date in Bangkok
    number: str                  # e.g. "DLG2569-C-000042"
    verification_url: str

    def __post_init__(self) -> None:
        # Accept the plain string ("dg_awards") as stored in the database; reject anything else.
        object.__setattr__(self, "award", CertificateAward(self.award))
        if self.edition_year < 2500:
            raise ValueError(f"edition_year is a Buddhist-Era year, got {self.edition_year}")
        # The layout is proven to fit for texts up to the database's limit (see the tests).
        for field in ("organisation_name", "innovation_title"):
            value = getattr(self, field).strip()
            if not value or len(value) > MAX_TEXT:
                raise ValueError(f"{field} must have 1 to {MAX_TEXT} characters, got {len(value)}")


def render_certificate(c: CertificateData) -> bytes:
    """The certificate as a one-page A4 landscape PDF with the Thai fonts embedded (subset)."""
    pdf = new_document()
    award_th, award_en = AWARD_NAMES[c.award]
    issued = to_bangkok(c.issued_at)
    pdf.set_title(f"เกียรติบัตร {award_th} ประจำปี {c.edition_year} — {c.organisation_name}")
    pdf.set_subject(f"{award_en} {c.edition_year - 543}")
    pdf.set_author(AGENCY_EN)
    pdf.set_creator("ท้องถิ่นดิจิทัล")
    pdf.set_lang("th")
    pdf.set_creation_date(issued)

    pdf.add_page()
    _draw_frame(pdf)
    for row in layout_rows(pdf, c):
        pdf.set_font(SERIF, row.style, row.size)
        pdf.set_char_spacing(row.spacing)
        pdf.set_text_color(*row.colour)
        pdf.set_xy(0, row.y)
        pdf.cell(PAGE_W, row.line_height, row.text, align=Align.C)
    pdf.set_char_spacing(0)
    _rule(pdf, 54)
    _rule(pdf, BOTTOM + 3, width=60)

    pdf.set_font(SERIF, "", 9.5)
    pdf.set_text_color(*GREY)
    pdf.set_xy(24, 184)
    pdf.cell(120, 5, f"เลขที่เกียรติบัตร / No.  {c.number}", align=Align.L)
    pdf.set_xy(PAGE_W - 24 - 120, 184)
    pdf.cell(120, 5, f"ผู้ออก / Issued by  {AGENCY_EN}", align=Align.R)
    verify = f"ตรวจสอบความถูกต้อง / Verify:  {c.verification_url}"
    size, _ = _fit(pdf, verify, "", sizes=(8.5, 8, 7.5, 7, 6.5, 6))
    pdf.set_font(SERIF, "", size)
    pdf.set_xy(0, 189)
    pdf.cell(PAGE_W, 4.5, verify, align=Align.C)

    return _give_cluster_glyphs_empty_text(bytes(pdf.output()), pdf)


def _give_cluster_glyphs_empty_text(data: bytes, pdf: FPDF) -> bytes:
    """Fill the gaps fpdf2 leaves in the fonts' ToUnicode maps, so the text copies and searches.

    HarfBuzz draws some Thai characters with more than one glyph: SARA AM (ำ) becomes NIKHAHIT
    plus SARA AA, and a tone mark before it joins that cluster (น้ำ). fpdf2 gives the cluster's
    text to its first glyph and no entry at all to the others, which readers then extract as
    control characters ("ตำ\x15บล"). Mapping those glyphs to the empty string is what the
    ToUnicode format provides for it; text without such clusters is returned untouched.
    """
    missing: dict[str, list[int]] = {}
    for font in pdf.fonts.values():
        subset = getattr(font, "subset", None)
        if subset is None:
            continue
        codes = [code for glyph, code in subset.items() if glyph is not None and glyph.unicode == ()]
        if codes:
            missing[f"/MPDFAA+{font.name}"] = codes
    if not missing:
        return data

    writer = PdfWriter(clone_from=PdfReader(BytesIO(data)))
    for page in writer.pages:
        resources: Any = page["/Resources"]
        for ref in resources["/Font"].values():
            font_dict = ref.get_object()
            font_codes = missing.get(str(font_dict["/BaseFont"]))
            if not font_codes or "/ToUnicode" not in font_dict:
                continue
            cmap = font_dict["/ToUnicode"].get_object()
            entries = "".join(f"<{code:04X}> <>\n" for code in font_codes)
            text = cmap.get_data().decode("latin-1").replace(
                "endcmap", f"{len(font_codes)} beginbfchar\n{entries}endbfchar\nendcmap", 1)
            cmap.set_data(text.encode("latin-1"))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def new_document() -> FPDF:
    """An empty A4 landscape document with the Thai faces loaded and HarfBuzz shaping on."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0
    pdf.add_font(SERIF, "", FONT_DIR / "Kinnari.ttf")
    pdf.add_font(SERIF, "B", FONT_DIR / "Kinnari-Bold.ttf")
    pdf.set_text_shaping(True)
    return pdf


@dataclass(frozen=True)
class Row:
    """One centred line of the certificate; ``y`` is its top, in millimetres."""

    text: str
    size: float
    colour: tuple[int, int, int]
    style: str = ""
    after: float = 0.0      # extra space below
    spacing: float = 0.0    # character spacing, points
    leading: float = 1.5    # Thai stacks marks above and below: more leading than Latin needs
    y: float = 0.0

    @property
    def line_height(self) -> float:
        return self.size * PT * self.leading

    @property
    def height(self) -> float:
        return self.line_height + self.after


# The middle block sits between the heading's rule and the date's.
TOP, BOTTOM = 57.0, 163.0


def layout_rows(pdf: FPDF, c: CertificateData) -> list[Row]:
    """Every centred line, placed. The middle block is measured first and centred between TOP
    and BOTTOM, so a short title leaves no hole. The organisation name wraps to two lines and the
    title to four, in smaller type as needed, so that even 255 characters of each stay above the
    date."""
    award_th, award_en = AWARD_NAMES[c.award]
    issued = to_bangkok(c.issued_at)
    heading = [
        Row("เกียรติบัตร", 40, NAVY, "B", y=23),
        Row("Certificate", 13, GOLD, spacing=1.2, y=43),
    ]
    footer = [
        Row(f"ให้ไว้ ณ วันที่ {format_date(issued, with_time=False, language='th')}", 15, INK, y=169),
        Row(f"Given on {issued.day} {EN_MONTHS[issued.month - 1]} {issued.year}", 10.5, GREY, y=176),
    ]

    award_size, _ = _fit(pdf, f"{award_th} ประจำปี {c.edition_year}", "B", sizes=(22, 21, 20, 19, 18))
    # Names of up to about 70 characters stay on one line; two lines, then smaller type, beyond.
    name_size, names = _fit(pdf, c.organisation_name.strip(), "B", sizes=(28, 26, 24, 22, 20, 18, 16, 14),
                            max_lines=2)
    name_rows = [Row(name, name_size, NAVY, "B", leading=NAME_LEADING) for name in names]
    # An organisation without a province in the registry: no province line (never "จังหวัด"
    # alone); the name keeps the space the line would have left below it.
    province = _province_label(c.province_name)
    if not province:
        name_rows[-1] = replace(name_rows[-1], after=3.5)
    before_title = [
        Row(f"{AGENCY_TH} มอบเกียรติบัตรฉบับนี้ให้แก่", 16, INK),
        Row(f"The {AGENCY_EN} presents this certificate to", 10.5, GREY, after=2.5),
        *name_rows,
        *([Row(province, 16, INK, after=3.5)] if province else []),
        Row("ได้รับ", 14, GREY, after=-1),
        Row(f"{award_th} ประจำปี {c.edition_year}", award_size, GOLD, "B"),
        # Kinnari draws the em dash as a long double-width rule: an en dash reads better.
        Row(f"{award_en.replace('—', '–')} {c.edition_year - 543}", 11, GREY, after=3.5),
        Row("จากผลงานนวัตกรรม · for the innovation", 12, GREY),
    ]
    room = BOTTOM - TOP - sum(row.height for row in before_title)
    title_size, titles = _fit(pdf, c.innovation_title.strip(), "B", sizes=(18, 17, 16, 15, 14, 13, 12),
                              max_lines=4, room=room, leading=NAME_LEADING)
    if not titles:  # more than four lines even at 12 pt: smaller type, as many lines as fit
        title_size, titles = _fit(pdf, c.innovation_title.strip(), "B", sizes=(11, 10, 9),
                                  max_lines=99, room=room, leading=NAME_LEADING)
    title_rows = [Row(title, title_size, INK, "B", leading=NAME_LEADING) for title in titles]

    middle = before_title + title_rows
    y = TOP + max(0.0, (BOTTOM - TOP - sum(row.height for row in middle)) / 2)
    placed = []
    for row in middle:
        placed.append(replace(row, y=y))
        y += row.height
    return heading + placed + footer


def _draw_frame(pdf: FPDF) -> None:
    pdf.set_fill_color(253, 251, 245)
    pdf.rect(0, 0, PAGE_W, PAGE_H, style="F")
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(1.6)
    pdf.rect(10, 10, PAGE_W - 20, PAGE_H - 20)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.4)
    pdf.rect(13.5, 13.5, PAGE_W - 27, PAGE_H - 27)
    pdf.set_fill_color(*GOLD)
    for x, y in ((13.5, 13.5), (PAGE_W - 13.5, 13.5), (13.5, PAGE_H - 13.5), (PAGE_W - 13.5, PAGE_H - 13.5)):
        pdf.rect(x - 1.6, y - 1.6, 3.2, 3.2, style="F")


def _rule(pdf: FPDF, y: float, width: float = 90) -> None:
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.35)
    x0 = (PAGE_W - width) / 2
    pdf.line(x0, y, x0 + width, y)
    pdf.set_fill_color(*GOLD)
    pdf.rect(PAGE_W / 2 - 1.1, y - 1.1, 2.2, 2.2, style="F")


def _province_label(name: str) -> str:
    """The province line: "จังหวัด" + the name (Bangkok is not a จังหวัด); empty without a name."""
    name = name.strip().removeprefix("จังหวัด").strip()
    if not name:
        return ""
    return name if name.startswith("กรุงเทพ") else f"จังหวัด{name}"


def _fit(pdf: FPDF, text: str, style: str, *, sizes: tuple[float, ...], max_lines: int = 1,
         room: float | None = None, leading: float = 1.5) -> tuple[float, list[str]]:
    """The largest of ``sizes`` at which ``text`` wraps to at most ``max_lines`` lines of TEXT_W
    (together no taller than ``room``, if given). When none does: the smallest size, with all
    the lines it takes, or with no lines when a room was given (the caller tries smaller type)."""
    for size in sizes:
        pdf.set_font(SERIF, style, size)
        lines = wrap_text(text, TEXT_W, pdf.get_string_width)
        if len(lines) <= max_lines and (room is None or len(lines) * size * PT * leading <= room):
            return size, lines
    return size, ([] if room is not None else lines)


# Thai is written without spaces between words. Lines break at spaces when they can; a run too
# long for one line breaks between grapheme clusters, but never after a leading vowel (เ แ โ ใ ไ)
# nor before a following vowel or mark that belongs to the syllable before it (ะ า ำ ๆ ฯ).
_LEADING_VOWELS = frozenset("เแโใไ")
_NO_BREAK_BEFORE = frozenset("ะาำๅๆฯ")


def wrap_text(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Greedy line breaking of ``text`` into lines no wider than ``width`` (by ``measure``)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        if measure(word) <= width:
            current = word
            continue
        for piece in _clusters(word):
            if current and measure(current + piece) > width:
                lines.append(current)
                current = piece
            else:
                current += piece
    if current:
        lines.append(current)
    return lines


def _clusters(word: str) -> list[str]:
    """``word`` cut only where a line may break inside it."""
    pieces: list[str] = []
    for ch in word:
        joins_previous = unicodedata.category(ch) == "Mn" or ch in _NO_BREAK_BEFORE
        if pieces and (joins_previous or pieces[-1][-1] in _LEADING_VOWELS):
            pieces[-1] += ch
        else:
            pieces.append(ch)
    return pieces
