"""Text that ends up in a spreadsheet (CSV exports, open data): a cell starting with a character
a spreadsheet reads as the start of a formula gets a leading apostrophe (OWASP "CSV injection"),
so a title an applicant typed as ``=HYPERLINK(...)`` stays text. Full-width forms count too:
some spreadsheet locales read ＝ as =. Numbers and other values are left alone.

Every export is written here, the same way: CSV for programs (codes), XLSX for people (Thai and
English labels, widths, number formats, a data dictionary)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from contest.clock import to_bangkok
from contest.i18n import t

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise_formula(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- writing CSV and XLSX -------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One column of an export: its stable code (the CSV header, for programs), its label and
    meaning (message ids, shown in Thai and English), how its cells are formatted and how wide
    it is (in characters). ``words``: the values are codes that the XLSX shows as words (Thai /
    English, ``contest.labels.both_labels``) and the CSV keeps as codes."""

    code: str
    label: str
    about: str = ""
    kind: str = "text"  # text | id | whole (1,234) | score (2 decimals) | datetime (Bangkok, B.E.) | bool
    width: float = 14
    words: Callable[[str], str] | None = None
    #: Thai words given as they are (a label made from data, such as a criterion's name)
    label_th: str = ""
    about_th: str = ""

    def label_in(self, language: str) -> str:
        if language == "th" and self.label_th:
            return self.label_th
        return t(self.label, language)

    def about_in(self, language: str) -> str:
        if language == "th" and self.about_th:
            return self.about_th
        return t(self.about, language) if self.about else ""


NUMBER_FORMATS: Final = {"id": "0", "whole": "#,##0", "score": "0.00",
                         # Thai calendar (B.E. years) in Thai Excel and LibreOffice alike.
                         "datetime": "[$-th-TH,107]d mmm yyyy hh:mm"}


def header_label(column: Column) -> str:
    th, en = column.label_in("th"), column.label_in("en")
    return th if th == en else f"{th} / {en}"


def write_csv(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Thai), one header row of the columns' codes, every
    text cell neutralised against formula injection, times as ISO 8601 in Bangkok time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.code for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else to_bangkok(v).isoformat() if isinstance(v, datetime)
                         else neutralise_formula(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@dataclass
class Sheet:
    """A worksheet: its name, its columns and rows (values in column order)."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]] = field(default_factory=list)


def write_xlsx(sheets: Sequence[Sheet], *, dictionary: bool = True) -> bytes:
    """A workbook, one sheet per ``Sheet``: the column codes in the first row, the Thai / English
    labels in the second (both frozen, with a filter), the cells typed and formatted (whole
    numbers grouped, scores to 2 decimals, times in Bangkok with B.E. years, codes as Thai /
    English words), each column as wide as its ``width``. Text is written as text: no formulas,
    no links, so a title typed as ``=...`` stays a title. With ``dictionary`` a last sheet,
    ``data_dictionary``, gives each column's code, labels and meaning."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    head = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#EEF2F7",
                            "bottom": 1})
    styles = {kind: book.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    described: dict[str, Column] = {}
    for spec in sheets:
        sheet = book.add_worksheet(spec.name)
        for col, column in enumerate(spec.columns):
            described.setdefault(column.code, column)
            sheet.set_column(col, col, column.width, styles.get(column.kind))
            sheet.write_string(0, col, column.code, head)
            sheet.write_string(1, col, header_label(column), head)
        last = 1
        for last, row in enumerate(spec.rows, start=2):
            for col, (column, value) in enumerate(zip(spec.columns, row, strict=True)):
                if column.words and isinstance(value, str) and value:
                    value = column.words(value)
                _write_cell(sheet, last, col, value, styles.get(column.kind))
        sheet.freeze_panes(2, 0)
        if spec.columns:
            sheet.autofilter(1, 0, last, len(spec.columns) - 1)
    if dictionary:
        about = book.add_worksheet("data_dictionary")
        fields = ("code", "label_th", "label_en", "description_th", "description_en")
        for col, (name, width) in enumerate(zip(fields, (22, 28, 28, 60, 60), strict=True)):
            about.set_column(col, col, width, wrap if width > 30 else None)
            about.write_string(0, col, name, head)
        for i, column in enumerate(described.values(), start=1):
            values = (column.code, column.label_in("th"), column.label_in("en"), column.about_in("th"),
                      column.about_in("en"))
            for col, value in enumerate(values):
                _write_cell(about, i, col, value)
        about.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def _write_cell(sheet: Any, row: int, col: int, value: Any, style: Any = None) -> None:
    """One cell by its type: text is always written as text, never as a formula or a link."""
    if value is None or value == "":
        sheet.write_blank(row, col, None, style)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, style)
    elif isinstance(value, (int, float, Decimal, Fraction)):
        sheet.write_number(row, col, float(value), style)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, to_bangkok(value).replace(tzinfo=None), style)
    else:
        sheet.write_string(row, col, str(value), style)
