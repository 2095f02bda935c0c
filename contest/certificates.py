"""Award certificates (เกียรติบัตร): one A4 landscape PDF page per award, Thai first, English beneath.

A pure function of ``CertificateData``: no database, no web, no clock. The same data gives the
same bytes (the PDF's dates come from the issue date), so a certificate can be rendered on demand
instead of stored.

It is set in Sarabun, the Thai government's face (SIL Open Font License), vendored in
``static/fonts/sarabun`` so nothing depends on the fonts of the machine, and shaped by HarfBuzz
(through fpdf2) so that tone marks and the vowels above and below a consonant are placed by the
font's own rules (ปู่, ปั้น, น้ำ; ญ and ฐ drop their tails above ุ ู).

Shaped glyphs are in visual order and one character may be drawn with two glyphs (ำ), so the
glyphs alone do not give the text back. Every line is therefore a marked-content sequence whose
``/ActualText`` is the line exactly as written, and the glyphs a cluster draws beyond its first
map to no text in the fonts' ToUnicode maps. The page is tagged: a structure tree with a
heading, paragraphs (English ones in ``Lang en``, the document in ``th-TH``) and the signature
and the QR code as figures with alternative text; the frame and rules are artifacts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from html import escape
from io import BytesIO
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF
from fpdf.enums import Align
from fpdf.fonts import TTFFont
from fpdf.prefs import ViewerPreferences
from fpdf.structure_tree import StructElem, StructureTreeBuilder
from fpdf.syntax import PDFObject, PDFString

from contest.clock import to_bangkok
from contest.i18n import EN_MONTHS, format_date

FONT_DIR = Path(__file__).parent / "static" / "fonts" / "sarabun"
# Sarabun in two weights only: fpdf2 subsets and embeds every face added to a document, and
# subsetting is most of the rendering time.
FACE = "Sarabun"
LANG_TH, LANG_EN = "th-TH", "en"

AGENCY_TH = "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) (สพร.)"
AGENCY_EN = "Digital Government Development Agency (DGA)"

# A4 landscape, millimetres.
PAGE_W, PAGE_H = 297.0, 210.0
TEXT_W = 225.0          # the measure of the centred text block
PT = 25.4 / 72          # millimetres per point
NAME_LEADING = 1.4      # wrapped names and titles sit a little closer than single lines
MAX_TEXT = 255          # the database's limit for organisation names and entry titles
MAX_SIGNATORY = 120     # a signatory's name or position, in characters
NAVY = (23, 45, 94)
GOLD = (176, 141, 62)
INK = (33, 37, 41)
GREY = (96, 102, 112)
PAPER = (253, 251, 245)

# The middle block sits between the heading's rule and the date.
TOP, BOTTOM = 49.0, 131.0
# The signature, centred under the date; the QR code in the bottom right corner.
SIGNATURE_Y, SIGNATURE_W, SIGNATURE_H = 149.0, 56.0, 15.0
SIGNATORY_W = 150.0
QR_SIZE = 25.0
QR_X, QR_Y = PAGE_W - 22.0 - QR_SIZE, 156.0


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
class Signatory:
    """Who signs an edition's certificates: the name (Thai, as printed in brackets under the
    signature), the position in Thai and in English, and the signature as a PNG or JPEG image
    (checked when it was uploaded; a PNG's transparency is kept)."""

    name: str
    position_th: str
    position_en: str = ""
    signature: bytes | None = None

    def __post_init__(self) -> None:
        for field in ("name", "position_th", "position_en"):
            value = getattr(self, field).strip()
            if len(value) > MAX_SIGNATORY or (field != "position_en" and not value):
                raise ValueError(f"{field} must have 1 to {MAX_SIGNATORY} characters, got {len(value)}")


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
    verification_url: str        # the public page that checks the number; also the QR code
    signatory: Signatory | None = None   # none approved for the edition yet: no signature block

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


def document_title(c: CertificateData) -> str:
    award_th, _ = AWARD_NAMES[c.award]
    return f"เกียรติบัตร {award_th} ประจำปี {c.edition_year} — {c.organisation_name.strip()}"


def render_certificate(c: CertificateData) -> bytes:
    """The certificate as a one-page, tagged A4 landscape PDF with Sarabun embedded (subset)."""
    pdf = new_document()
    award_th, award_en = AWARD_NAMES[c.award]
    issued = to_bangkok(c.issued_at)
    title = document_title(c)
    pdf.set_title(title)
    pdf.set_subject(f"{award_en} {c.edition_year - 543}")
    pdf.set_author(AGENCY_EN)
    pdf.set_creator("ท้องถิ่นดิจิทัล")
    pdf.set_lang(LANG_TH)
    pdf.set_creation_date(issued)
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.set_xmp_metadata(_xmp(title, issued))
    tags = Tags(pdf)

    pdf.add_page()
    with tags.artifact():
        _draw_frame(pdf)
        _rule(pdf, 46)
    paragraph = None
    for row in layout_rows(pdf, c):
        paragraph = _write(pdf, tags, row, x=0, width=PAGE_W, align=Align.C,
                           element=paragraph if row.joins else None)
    if c.signatory is not None:
        _signature_block(pdf, tags, c.signatory)

    footer = tags.element("P")
    pdf.set_text_color(*GREY)
    number = f"เลขที่เกียรติบัตร / Certificate No.  {c.number}"
    verify = f"ตรวจสอบได้ที่ / Verify at  {c.verification_url}"
    for y, text, sizes in ((184.0, number, (9.5,)), (189.0, verify, (8.5, 8, 7.5, 7, 6.5, 6))):
        size, _ = _fit(pdf, text, "", sizes=sizes, width=QR_X - 30)
        _write(pdf, tags, Row(text, size, GREY, y=y, leading=1.3), x=24, width=QR_X - 28, align=Align.L,
               element=footer)
    _qr_code(pdf, tags, c.verification_url)
    return _output(pdf)


def new_document() -> FPDF:
    """An empty A4 landscape document with the Thai faces loaded and HarfBuzz shaping on."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0
    pdf.add_font(FACE, "", FONT_DIR / "Sarabun-Regular.ttf")
    pdf.add_font(FACE, "B", FONT_DIR / "Sarabun-Bold.ttf")
    pdf.set_text_shaping(True)
    return pdf


# --- the structure tree ------------------------------------------------------------------------

class Element(StructElem):
    """A structure element with its own language when it differs from the document's."""

    __slots__ = ("lang",)

    def __init__(self, struct_type: str, parent: PDFObject, page_number: int, *, lang: str | None = None,
                 alt: str | None = None) -> None:
        super().__init__(struct_type=struct_type, parent=parent, kids=[], page_number=page_number, alt=alt)
        self.lang = PDFString(lang) if lang else None


class Tags:
    """The page's structure: elements in reading order under one ``Document``, each holding one or
    more marked-content sequences (MCIDs) of the page. Replaces fpdf2's own builder, which gives
    every element a single sequence and no language."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.builder = StructureTreeBuilder()
        pdf.struct_builder = self.builder
        self.next_mcid = 0

    def element(self, kind: str, *, lang: str | None = None, alt: str | None = None) -> Element:
        element = Element(f"/{kind}", self.builder.doc_struct_elem, self.pdf.page, lang=lang, alt=alt)
        self.builder.doc_struct_elem.k.append(element)
        return element

    @contextmanager
    def content(self, element: Element, *, actual_text: str | None = None) -> Iterator[None]:
        """What is drawn inside belongs to ``element``; ``actual_text`` is its text as written."""
        mcid, self.next_mcid = self.next_mcid, self.next_mcid + 1
        element.k.append(mcid)
        # One page: its parent tree entry 0 lists each MCID's element, in MCID order.
        self.builder.spid_per_page_number[self.pdf.page] = 0
        self.builder.struct_tree_root.parent_tree.nums[0].append(element)
        self.pdf.pages[self.pdf.page].struct_parents = 0
        _operator(self.pdf, f"{element.s} <</MCID {mcid}>> BDC")
        if actual_text is None:
            yield
        else:
            # A Span's ActualText is what text extraction (poppler's pdftotext among others) and
            # assistive technology read instead of the glyphs.
            _operator(self.pdf, f"/Span <</ActualText {PDFString(actual_text).serialize()}>> BDC")
            yield
            _operator(self.pdf, "EMC")
        _operator(self.pdf, "EMC")

    @contextmanager
    def artifact(self) -> Iterator[None]:
        """Decoration (the frame, the rules): not content, skipped by screen readers."""
        _operator(self.pdf, "/Artifact BMC")
        yield
        _operator(self.pdf, "EMC")


def _operator(pdf: FPDF, text: str) -> None:
    """A content-stream operator on the current page. fpdf2 (2.8) has no public call for marked
    content: its own (``_marked_sequence``) is private too, and tags figures only, with no
    ``/Span`` and no ``/ActualText`` in the content stream."""
    pdf._out(text)  # noqa: SLF001


def _write(pdf: FPDF, tags: Tags, row: Row, *, x: float, width: float, align: Align,
           element: Element | None = None) -> Element:
    """One line of text, as its own marked sequence in ``element`` (by default a new element of
    the row's kind and language), which is returned."""
    if element is None:
        element = tags.element(row.tag, lang=None if row.lang == LANG_TH else row.lang)
    pdf.set_font(FACE, row.style, row.size)
    pdf.set_char_spacing(row.spacing)
    pdf.set_text_color(*row.colour)
    pdf.set_xy(x, row.y)
    with tags.content(element, actual_text=row.text):
        pdf.cell(width, row.line_height, row.text, align=align)
    pdf.set_char_spacing(0)
    return element


def _xmp(title: str, issued: datetime) -> str:
    """XMP metadata with the title (PDF/UA asks for it there) and the document's language."""
    when = issued.isoformat(timespec="seconds")
    return "\n".join([
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        '  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">',
        f'   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>',
        f"   <dc:creator><rdf:Seq><rdf:li>{escape(AGENCY_EN)}</rdf:li></rdf:Seq></dc:creator>",
        f"   <dc:language><rdf:Bag><rdf:li>{LANG_TH}</rdf:li></rdf:Bag></dc:language>",
        f"   <xmp:CreateDate>{when}</xmp:CreateDate>",
        f"   <xmp:ModifyDate>{when}</xmp:ModifyDate>",
        "  </rdf:Description>",
        " </rdf:RDF>",
        "</x:xmpmeta>",
    ])


class _NoText(tuple[int, ...]):
    """The text of a glyph whose cluster's text its first glyph carries: none. Seen as one entry
    by fpdf2, which then writes ``<code> <>`` (the empty string) into the ToUnicode map."""

    def __len__(self) -> int:
        return 1


def _output(pdf: FPDF) -> bytes:
    """The PDF, with no glyph left out of the fonts' ToUnicode maps.

    HarfBuzz draws some Thai characters with more than one glyph: SARA AM (ำ) becomes NIKHAHIT
    plus SARA AA, and a tone mark before it joins that cluster (น้ำ). fpdf2 gives the cluster's
    text to its first glyph and leaves the others out of the map, which readers that ignore
    ``/ActualText`` then extract as control characters ("ตำ\\x03บล"). Mapping them to the empty
    string is what the ToUnicode format provides for it.
    """
    for font in pdf.fonts.values():
        subset = getattr(font, "subset", None)
        for glyph, _code in subset.items() if subset is not None else ():
            if glyph is not None and glyph.unicode == ():
                glyph.unicode = _NoText()
    return bytes(pdf.output())


# --- the layout --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One line of the certificate; ``y`` is its top, in millimetres."""

    text: str
    size: float
    colour: tuple[int, int, int]
    style: str = ""
    after: float = 0.0      # extra space below
    spacing: float = 0.0    # character spacing, points
    leading: float = 1.5    # Thai stacks marks above and below: more leading than Latin needs
    y: float = 0.0
    tag: str = "P"          # its structure element: H1 or P
    lang: str = LANG_TH
    joins: bool = False     # a wrapped line: the same paragraph as the row before

    @property
    def line_height(self) -> float:
        return self.size * PT * self.leading

    @property
    def height(self) -> float:
        return self.line_height + self.after


# Middle-block type is scaled down step by step until the block fits between TOP and BOTTOM.
SCALES = (1.0, 0.94, 0.88, 0.82, 0.76, 0.7, 0.64, 0.58)


def layout_rows(pdf: FPDF, c: CertificateData) -> list[Row]:
    """Every centred line, placed. The middle block is measured first and centred between TOP
    and BOTTOM, so a short title leaves no hole. The organisation name wraps to two lines and the
    title to four, in smaller type as needed, so that even 255 characters of each stay above the
    date."""
    issued = to_bangkok(c.issued_at)
    heading = [
        Row("เกียรติบัตร", 34, NAVY, "B", y=17.5, tag="H1"),
        Row("Certificate", 13, GOLD, spacing=1.2, y=35, lang=LANG_EN),
    ]
    footer = [
        Row(f"ให้ไว้ ณ วันที่ {format_date(issued, with_time=False, language='th')}", 15, INK, y=134.5),
        Row(f"Given on {issued.day} {EN_MONTHS[issued.month - 1]} {issued.year}", 10.5, GREY, y=142,
            lang=LANG_EN),
    ]
    for scale in SCALES:
        middle = _middle_rows(pdf, c, scale)
        if middle is not None:
            break
    else:  # pragma: no cover - texts are limited to MAX_TEXT, which fits (see the tests)
        raise ValueError("the texts do not fit on the certificate")
    y = TOP + max(0.0, (BOTTOM - TOP - sum(row.height for row in middle)) / 2)
    placed = []
    for row in middle:
        placed.append(replace(row, y=y))
        y += row.height
    return heading + placed + footer


def _middle_rows(pdf: FPDF, c: CertificateData, scale: float) -> list[Row] | None:
    """The middle block's rows at ``scale``, or None when they do not fit."""
    award_th, award_en = AWARD_NAMES[c.award]

    def sizes(*points: float) -> tuple[float, ...]:
        return tuple(round(p * scale, 2) for p in points)

    def row(text: str, size: float, colour: tuple[int, int, int], style: str = "", **kw: Any) -> Row:
        return Row(text, round(size * scale, 2), colour, style, **kw)

    award_size, _ = _fit(pdf, f"{award_th} ประจำปี {c.edition_year}", "B", sizes=sizes(22, 21, 20, 19, 18))
    # Names of up to about 70 characters stay on one line; two lines, then smaller type, beyond.
    name_size, names = _fit(pdf, c.organisation_name.strip(), "B", sizes=sizes(28, 26, 24, 22, 20, 18, 16, 14),
                            max_lines=2)
    if len(names) > 2:
        return None
    name_rows = [Row(name, name_size, NAVY, "B", leading=NAME_LEADING, joins=i > 0) for i, name in enumerate(names)]
    # An organisation without a province in the registry: no province line (never "จังหวัด"
    # alone); the name keeps the space the line would have left below it.
    province = _province_label(c.province_name)
    if not province:
        name_rows[-1] = replace(name_rows[-1], after=3.5 * scale)
    before_title = [
        row(f"{AGENCY_TH} มอบเกียรติบัตรฉบับนี้ให้แก่", 16, INK),
        row(f"The {AGENCY_EN} presents this certificate to", 10.5, GREY, after=2.5 * scale, lang=LANG_EN),
        *name_rows,
        *([row(province, 16, INK, after=3.5 * scale)] if province else []),
        row("ได้รับ", 14, GREY, after=-1 * scale),
        Row(f"{award_th} ประจำปี {c.edition_year}", award_size, GOLD, "B"),
        row(f"{award_en} {c.edition_year - 543}", 11, GREY, after=3.5 * scale, lang=LANG_EN),
        row("จากผลงานนวัตกรรม", 12, GREY, after=-1 * scale),
        row("for the innovation", 9.5, GREY, lang=LANG_EN),
    ]
    room = BOTTOM - TOP - sum(r.height for r in before_title)
    title_size, titles = _fit(pdf, c.innovation_title.strip(), "B", sizes=sizes(18, 17, 16, 15, 14, 13, 12),
                              max_lines=4, room=room, leading=NAME_LEADING)
    if not titles:
        return None
    return before_title + [Row(title, title_size, INK, "B", leading=NAME_LEADING, joins=i > 0)
                           for i, title in enumerate(titles)]


def _signature_block(pdf: FPDF, tags: Tags, signatory: Signatory) -> None:
    """The signature image, then the signatory's name in brackets and position, centred."""
    if signatory.signature:
        figure = tags.element("Figure", alt=f"ลายมือชื่อของ{signatory.name.strip()}")
        with tags.content(figure):
            pdf.image(BytesIO(signatory.signature), x=(PAGE_W - SIGNATURE_W) / 2, y=SIGNATURE_Y,
                      w=SIGNATURE_W, h=SIGNATURE_H, keep_aspect_ratio=True)
    y = SIGNATURE_Y + SIGNATURE_H + 0.5
    lines = [(f"({signatory.name.strip()})", 14.0, "B", INK, LANG_TH),
             (signatory.position_th.strip(), 12.0, "", INK, LANG_TH),
             (signatory.position_en.strip(), 9.5, "", GREY, LANG_EN)]
    for text, size, style, colour, lang in lines:
        if not text:
            continue
        fitted, _ = _fit(pdf, text, style, sizes=(size, size - 1, size - 2, size - 3), width=SIGNATORY_W)
        row = Row(text, fitted, colour, style, y=y, leading=1.35, lang=lang)
        _write(pdf, tags, row, x=0, width=PAGE_W, align=Align.C)
        y += row.line_height


def _qr_code(pdf: FPDF, tags: Tags, url: str) -> None:
    """The verification page's address as a QR code (vector squares on a white quiet zone)."""
    qr = segno.make(url, error="m", micro=False)
    matrix = qr.matrix
    border = 2
    count = len(matrix) + 2 * border
    module = QR_SIZE / count
    figure = tags.element("Figure", alt=f"คิวอาร์โค้ดสำหรับตรวจสอบเกียรติบัตรนี้: {url}")
    with tags.content(figure):
        pdf.set_fill_color(255, 255, 255)
        pdf.rect(QR_X, QR_Y, QR_SIZE, QR_SIZE, style="F")
        pdf.set_fill_color(0, 0, 0)
        for r, line in enumerate(matrix):
            c = 0
            while c < len(line):
                if not line[c] & 1:
                    c += 1
                    continue
                start = c
                while c < len(line) and line[c] & 1:
                    c += 1
                # A hair taller and wider than the module, so no seam shows between squares.
                pdf.rect(QR_X + (start + border) * module, QR_Y + (r + border) * module,
                         (c - start) * module + 0.02, module + 0.02, style="F")
    caption = Row("สแกนเพื่อตรวจสอบ · Scan to verify", 7, GREY, y=QR_Y + QR_SIZE + 0.8, leading=1.3)
    _write(pdf, tags, caption, x=QR_X - 10, width=QR_SIZE + 20, align=Align.C)


def _draw_frame(pdf: FPDF) -> None:
    pdf.set_fill_color(*PAPER)
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
         room: float | None = None, leading: float = 1.5, width: float = TEXT_W) -> tuple[float, list[str]]:
    """The largest of ``sizes`` at which ``text`` wraps to at most ``max_lines`` lines of ``width``
    (together no taller than ``room``, if given). When none does: the smallest size, with all
    the lines it takes, or with no lines when a room was given (the caller tries smaller type)."""
    for size in sizes:
        pdf.set_font(FACE, style, size)
        lines = wrap_text(text, width, _measure(pdf))
        if len(lines) <= max_lines and (room is None or len(lines) * size * PT * leading <= room):
            return size, lines
    return size, ([] if room is not None else lines)


def _measure(pdf: FPDF) -> Callable[[str], float]:
    """The width of a text in the current font and size, in millimetres, as fpdf2 will draw it
    (HarfBuzz's advances), without the bidirectional analysis ``get_string_width`` runs first:
    line breaking measures many candidate lines, and that analysis was most of the time."""
    font, size, shaping, points_per_mm = pdf.current_font, pdf.font_size_pt, pdf.text_shaping, pdf.k
    assert isinstance(font, TTFFont)

    def measure(text: str) -> float:
        return float(font.shaped_text_width(text, size, shaping)[1]) / points_per_mm

    return measure


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
