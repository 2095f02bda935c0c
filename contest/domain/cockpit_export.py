"""The edition cockpit's figures as an XLSX workbook for the committee's minutes: one sheet per
figure (days toward the deadline, regions, provinces, kinds, categories, unsubmitted drafts),
a summary, and a data dictionary naming every column in Thai and English.

Each sheet has the column codes in its first row and Thai / English labels in its second;
counts are numbers with a thousands separator, days are real dates shown in the Buddhist Era
(Excel's Thai calendar format) beside the same date written out in Thai. Text is written as text,
never as a formula or a link.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from contest import clock
from contest.i18n import format_date

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: code -> (Thai label, English label, Thai description, English description)
DICTIONARY: dict[str, tuple[str, str, str, str]] = {
    "date": ("วันที่", "Date", "วันตามปฏิทิน เวลากรุงเทพฯ (แสดงเป็นพุทธศักราช)",
             "Calendar day in Bangkok time (shown in the Buddhist Era)"),
    "date_th": ("วันที่ (ข้อความ)", "Date (text)", "วันเดียวกันเขียนเป็นภาษาไทย พุทธศักราช",
                "The same day written in Thai, Buddhist Era"),
    "days_before_deadline": ("จำนวนวันก่อนปิดรับ", "Days before the deadline",
                             "0 คือวันปิดรับผลงาน ใช้เทียบกับรุ่นก่อนในวันก่อนปิดรับเดียวกัน",
                             "0 is the day submissions close; the previous edition is compared on the same day "
                             "before its own deadline"),
    "drafts": ("ฉบับร่าง", "Drafts", "ผลงานที่สร้างแล้วแต่ยังไม่ได้ส่ง ณ สิ้นวัน (สะสม)",
               "Entries created but not yet submitted at the end of the day (cumulative)"),
    "submitted": ("ส่งแล้ว", "Submitted", "ผลงานที่ส่งแล้ว ณ สิ้นวัน (สะสม)",
                  "Entries submitted by the end of the day (cumulative)"),
    "previous_drafts": ("ฉบับร่าง (รุ่นก่อน)", "Drafts (previous edition)",
                        "ฉบับร่างของรุ่นก่อนในวันก่อนปิดรับเดียวกัน", "The previous edition's drafts on the same day "
                        "before its deadline"),
    "previous_submitted": ("ส่งแล้ว (รุ่นก่อน)", "Submitted (previous edition)",
                           "ผลงานที่ส่งแล้วของรุ่นก่อนในวันก่อนปิดรับเดียวกัน",
                           "The previous edition's submitted entries on the same day before its deadline"),
    "region": ("ภาค", "Region", "ภาคตามการแบ่งของคณะกรรมการภูมิศาสตร์แห่งชาติ (6 ภาค)",
               "Region in the six-region scheme of the National Geographical Committee"),
    "province_code": ("รหัสจังหวัด", "Province code", "รหัสจังหวัดของกรมการปกครอง", "The province's DOPA code"),
    "province": ("จังหวัด", "Province", "จังหวัดที่ตั้งขององค์กร", "The organisation's province"),
    "entries": ("ผลงาน", "Entries", "ผลงานทั้งหมดที่ยังไม่ถอน (ฉบับร่างและส่งแล้ว)",
                "Every entry not withdrawn (drafts and submitted)"),
    "organisations": ("องค์กร", "Organisations", "จำนวนองค์กรที่มีผลงาน", "Organisations with entries"),
    "kind": ("ประเภทองค์กร", "Kind of organisation", "ประเภทองค์กรปกครองส่วนท้องถิ่น",
             "Kind of local administrative organisation"),
    "category": ("ประเภทผลงาน", "Category", "ประเภทผลงานที่ผู้สมัครเลือก", "The category the applicant chose"),
    "organisation_code": ("รหัสองค์กร", "Organisation code", "รหัสองค์กรปกครองส่วนท้องถิ่น",
                          "The organisation's code"),
    "organisation": ("องค์กร", "Organisation", "ชื่อองค์กร", "The organisation's name"),
    "last_change": ("แก้ไขล่าสุด", "Last change", "เวลาที่แก้ไขฉบับร่างล่าสุด (เวลากรุงเทพฯ)",
                    "When a draft was last changed (Bangkok time)"),
    "figure": ("ตัวเลข", "Figure", "ชื่อตัวเลขสรุป", "The summary figure"),
    "value": ("ค่า", "Value", "ค่าของตัวเลขสรุป", "The figure's value"),
}

#: sheet -> its columns, in order
SHEETS: dict[str, tuple[str, ...]] = {
    "summary": ("figure", "value"),
    "by_day": ("date", "date_th", "days_before_deadline", "drafts", "submitted", "previous_drafts",
               "previous_submitted"),
    "by_region": ("region", "entries", "organisations"),
    "by_province": ("province_code", "province", "region", "entries", "organisations"),
    "by_kind": ("kind", "entries"),
    "by_category": ("category", "entries"),
    "drafts": ("organisation_code", "organisation", "province", "drafts", "last_change"),
}
SHEET_NAMES = {"summary": ("สรุป", "Summary"), "by_day": ("รายวัน", "By day"), "by_region": ("รายภาค", "By region"),
               "by_province": ("รายจังหวัด", "By province"), "by_kind": ("ประเภทองค์กร", "By kind"),
               "by_category": ("ประเภทผลงาน", "By category"), "drafts": ("ยังไม่ส่ง", "Unsubmitted drafts")}
WIDTHS = {"date": 14, "date_th": 22, "province": 22, "region": 24, "kind": 34, "category": 36,
          "organisation": 44, "organisation_code": 14, "last_change": 22, "figure": 40}


def _rows(view: dict[str, Any]) -> dict[str, list[list[Any]]]:
    totals, edition = view["totals"], view["edition"]
    summary = [
        ["ปี (พ.ศ.) / Edition (B.E.)", edition.year],
        ["ผลงานทั้งหมด / Entries", totals["entries"]],
        ["ส่งแล้ว / Submitted", totals["submitted"]],
        ["ฉบับร่าง / Drafts", totals["drafts"]],
        ["ถอนแล้ว / Withdrawn", totals["withdrawn"]],
        ["องค์กรที่มีผลงาน / Organisations with entries", totals["organisations"]],
        ["จังหวัดที่มีผลงาน / Provinces with entries", totals["provinces"]],
        ["องค์กรที่ยังมีฉบับร่าง / Organisations with drafts", view["draft_organisations"]],
        ["วันที่เหลือ / Days left", view["days_left"]],
        ["ปิดรับผลงาน / Submissions close", format_date(edition.submission_closes_at, language="th")],
        ["ข้อมูล ณ / Figures as at", format_date(clock.now(), language="th")],
    ]
    return {
        "summary": summary,
        "by_day": [[r["date"], format_date(r["date"], with_time=False, language="th"), r["before"], r["drafts"],
                    r["submitted"], r["previous_drafts"], r["previous_submitted"]] for r in view["trend"]],
        "by_region": [[r["label"], r["entries"], r["organisations"]] for r in view["regions"]],
        "by_province": [[p["province_code"], p["name"], p["region_label"], p["entries"], p["organisations"]]
                        for p in view["provinces"]],
        "by_kind": [[k["label"], k["entries"]] for k in view["kinds"]],
        "by_category": [[c["label"], c["entries"]] for c in view["categories"]],
        "drafts": [[d["code"], d["name"], d["province"], d["drafts"],
                    clock.to_bangkok(d["last_change"]).replace(tzinfo=None) if d["last_change"] else None]
                   for d in view["drafts"]],
    }


def _write(sheet: Any, row: int, col: int, value: Any, formats: dict[str, Any]) -> None:
    """One cell by its type: counts as numbers, days and times as dates, text always as text."""
    if value is None or value == "":
        sheet.write_blank(row, col, None)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, formats["moment"])
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), formats["day"])
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        sheet.write_number(row, col, value, formats["count"])
    else:
        sheet.write_string(row, col, str(value))


def cockpit_xlsx(view: dict[str, Any]) -> bytes:
    """The workbook for one cockpit view (``contest.domain.cockpit.cockpit_view``)."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF4", "text_wrap": True, "valign": "top"})
    formats = {"count": book.add_format({"num_format": "#,##0"}),
               "day": book.add_format({"num_format": "[$-th-TH,107]d mmm yyyy"}),
               "moment": book.add_format({"num_format": "[$-th-TH,107]d mmm yyyy hh:mm"})}
    for name, rows in _rows(view).items():
        sheet = book.add_worksheet(name)
        columns = SHEETS[name]
        for col, code in enumerate(columns):
            th, en, _, _ = DICTIONARY[code]
            sheet.write_string(0, col, code, bold)
            sheet.write_string(1, col, f"{th} / {en}", bold)
            sheet.set_column(col, col, WIDTHS.get(code, 16))
        for i, row in enumerate(rows, start=2):
            for col, value in enumerate(row):
                _write(sheet, i, col, value, formats)
        sheet.set_row(1, 30)
        sheet.freeze_panes(2, 0)
    about = book.add_worksheet("data_dictionary")
    header = ("sheet", "sheet_th", "sheet_en", "code", "label_th", "label_en", "description_th", "description_en")
    for col, code in enumerate(header):
        about.write_string(0, col, code, bold)
    about.set_column(0, 0, 14)
    about.set_column(1, 2, 22)
    about.set_column(3, 3, 22)
    about.set_column(4, 5, 28)
    about.set_column(6, 7, 60)
    line = 1
    for name, columns in SHEETS.items():
        for code in columns:
            th, en, about_th, about_en = DICTIONARY[code]
            for col, value in enumerate((name, *SHEET_NAMES[name], code, th, en, about_th, about_en)):
                about.write_string(line, col, value)
            line += 1
    about.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()
