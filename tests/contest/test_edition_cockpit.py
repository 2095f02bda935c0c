"""The edition cockpit page (/admin/editions/{year}): figures with server-drawn charts and their
tables, the previous edition aligned on days before the deadline, the refreshing fragment, the
reminder to organisations with unsubmitted drafts, the XLSX export, and the settings form's new
address with the old one still answering."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest

from contest import clock
from contest.db import stored_json
from contest.domain import cockpit
from contest.tables import AuditEvent, Edition, Entry, Organisation, Outbox
from tests.conftest import run
from tests.factories import browser_login, csrf, make_edition, make_org, make_user

pytestmark = pytest.mark.integration

OPENS = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # 08:00 in Bangkok
DAY = timedelta(days=1)


def _entry(year: int, org_code: str, *, created: datetime, submitted: datetime | None = None,
           state: str = "draft", category: str = "service", title: str = "ผลงาน", contact: str = "") -> None:
    edition = run(Edition.select(Edition.id).where(Edition.year == year).first())["id"]
    org = run(Organisation.select(Organisation.id).where(Organisation.code == org_code).first())["id"]
    run(Entry.insert(Entry(edition=edition, organisation=org, title=title, state=state, category=category,
                           created_at=created, updated_at=submitted or created, submitted_at=submitted,
                           contact_email=contact)))


def _world() -> dict[str, str]:
    """Edition 2568 (closed, deadline after 10 days) and 2569 (open 3 days, closes after 10)."""
    cockpit.forget_figures()
    run(make_edition(2568, submission_opens_at=OPENS - 365 * DAY, submission_closes_at=OPENS - 355 * DAY,
                     announcement_at=OPENS - 300 * DAY))
    run(make_edition(2569, submission_opens_at=OPENS, submission_closes_at=OPENS + 10 * DAY,
                     announcement_at=OPENS + 90 * DAY))
    north = run(make_org(province_code="50", province_name_th="เชียงใหม่"))
    south = run(make_org(province_code="90", province_name_th="สงขลา", kind="subdistrict_municipality"))
    drafter = run(make_org(province_code="90", province_name_th="สงขลา", name_th="เทศบาลตำบลร่างไว้"))
    # Last year: two submitted 3 days before the deadline, one more on the deadline's day.
    last_close = OPENS - 355 * DAY
    for org, when in ((north, last_close - 3 * DAY), (south, last_close - 3 * DAY), (drafter, last_close)):
        _entry(2568, org, created=when - DAY, submitted=when, state="submitted")
    _entry(2569, north, created=OPENS, submitted=OPENS + DAY, state="submitted")
    _entry(2569, south, created=OPENS + DAY, submitted=OPENS + 2 * DAY, state="submitted", category="data")
    _entry(2569, drafter, created=OPENS + 2 * DAY, title="ระบบจองคิว", contact="contact@drafter.go.th")
    run(make_user("applicant", email="member@drafter.go.th", org=drafter))
    run(make_user("admin", email="organiser@dga.or.th"))
    return {"north": north, "south": south, "drafter": drafter}


def _login(client: Any) -> str:
    browser_login(client, "organiser@dga.or.th")
    return csrf(client)


def test_the_cockpit_shows_each_figure_as_a_chart_with_its_table_and_last_year_aligned_by_deadline(
        client: Any) -> None:
    _world()
    clock.freeze(OPENS + 3 * DAY + timedelta(hours=2))  # 4 Nov 2026, 7 days before the deadline
    _login(client)
    page = client.get("/admin/editions/2569")
    assert page.status_code == 200, page.text
    html = page.text
    assert "<h1>ภาพรวมรุ่นปี 2569</h1>" in html
    assert 'href="/admin/editions/2569/edit"' in html and 'href="/admin/editions/2569/cockpit.xlsx"' in html
    # Four charts, each an image with a title and a description, and no script anywhere near them.
    charts = re.findall(r'<svg class="chart \w+" role="img"[^>]*aria-labelledby="([\w-]+)-title \1-desc"', html)
    assert charts == ["chart-trend", "chart-regions", "chart-provinces", "chart-kinds", "chart-categories"]
    # The 77 provinces as tiles, each shaded by its entries and named in its tooltip.
    assert '<title id="chart-provinces-title">แผนที่ผลงานรายจังหวัด</title>' in html
    assert html.count('<g class="tile tile-') == 77 + 1 + 2  # the tiles, and the legend's none, 1 and 2
    assert '<g class="tile tile-4"><title>สงขลา: 2</title>' in html
    assert '<g class="tile tile-0"><title>กรุงเทพมหานคร: 0</title>' in html
    assert "มีผลงานจาก 2 จาก 77 จังหวัด มากที่สุดจากสงขลา (2 ผลงาน)" in html
    assert '<title id="chart-trend-title">จำนวนผลงานรายวันจนถึงวันปิดรับ</title>' in html
    assert ("<desc id=\"chart-trend-desc\">ถึงวันที่ 4 พฤศจิกายน 2569 (7 วันก่อนปิดรับ) ส่งแล้ว 2 ผลงาน "
            "ฉบับร่าง 1 ผลงาน ในวันก่อนปิดรับเดียวกัน รุ่นปี 2568 ส่งแล้ว 0 ผลงาน</desc>") in html
    assert 'class="line series-previous"' in html
    # The day table: B.E. dates, days before the deadline, last year's figure on the same day before.
    def day_row(day: str) -> list[str]:
        row = re.search(rf'<tr><th scope="row">{day}</th>(.*?)</tr>', html, re.S)
        assert row is not None, day
        return [c.strip() for c in re.findall(r'<td class="num">([^<]*)</td>', row.group(1))]

    assert day_row("4 พ.ย. 2569") == ["7", "1", "2", "0"]  # days before, drafts, submitted, 2568's
    assert day_row("1 พ.ย. 2569") == ["10", "1", "0", "0"]
    assert day_row("11 พ.ย. 2569") == ["0", "", "", "3"]  # the deadline: only 2568's figure so far
    assert "12 พ.ย. 2569" not in html
    # Regions, provinces, kinds and categories, as numbers beside the bars.
    assert '<tr><th scope="row">ภาคใต้</th><td class="num">2</td><td class="num">2</td></tr>' in html
    assert '<tr><th scope="row">สงขลา</th><td>ภาคใต้</td><td class="num">2</td><td class="num">2</td></tr>' in html
    assert '<tr><th scope="row">เทศบาลตำบล</th><td class="num">1</td></tr>' in html
    assert "มากที่สุด: องค์การบริหารส่วนตำบล 2 จาก 3 ผลงาน" in html
    # Days left, and the drafts waiting.
    assert re.search(r"<dt>จำนวนวันที่เหลือ</dt><dd>7</dd>", html)
    assert "เทศบาลตำบลร่างไว้" in html and 'name="organisation"' in html
    # The figures refresh themselves while submissions are open.
    assert 'hx-get="/admin/editions/2569/figures" hx-trigger="every 30s"' in html
    fragment = client.get("/admin/editions/2569/figures", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert '<div id="cockpit-figures"' in fragment.text and "<html" not in fragment.text
    # A closed edition does not poll.
    assert "hx-get" not in client.get("/admin/editions/2568/figures").text
    english = client.get("/admin/editions/2569?lang=en").text
    assert "Edition 2569 at a glance" in english
    assert '<title id="chart-regions-title">Entries by region</title>' in english


def test_the_figures_follow_a_new_submission_without_waiting(client: Any) -> None:
    orgs = _world()
    clock.freeze(OPENS + 3 * DAY)
    _login(client)
    before = client.get("/admin/editions/2569/figures").text
    assert re.search(r"<dt>ส่งแล้ว</dt><dd>2</dd>", before)
    run(Entry.update({Entry.state: "submitted", Entry.submitted_at: OPENS + 3 * DAY,
                      Entry.updated_at: OPENS + 3 * DAY}).where(Entry.title == "ระบบจองคิว"))
    after = client.get("/admin/editions/2569/figures").text
    assert re.search(r"<dt>ส่งแล้ว</dt><dd>3</dd>", after) and re.search(r"<dt>ฉบับร่าง</dt><dd>0</dd>", after)
    _entry(2569, orgs["north"], created=OPENS + 3 * DAY)
    assert re.search(r"<dt>ฉบับร่าง</dt><dd>1</dd>", client.get("/admin/editions/2569/figures").text)


def test_one_click_reminds_organisations_with_drafts_once_a_day_through_the_outbox(client: Any) -> None:
    orgs = _world()
    clock.freeze(OPENS + 3 * DAY)
    token = _login(client)
    assert client.post("/admin/editions/2569/reminders", data={}).status_code == 403  # no CSRF token
    assert run(Outbox.count().where(Outbox.dedupe_key.like("drafts-remind:%"))) == 0
    resp = client.post("/admin/editions/2569/reminders", data={"_csrf": token}, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/admin/editions/2569?reminded=1&recently=0&unreachable=0#drafts"
    jobs = [stored_json(j["args"], {}) for j in run(Outbox.select(Outbox.args).where(
        Outbox.dedupe_key.like("drafts-remind:%")))]
    assert sorted(j["to"] for j in jobs) == ["contact@drafter.go.th", "member@drafter.go.th"]
    assert "ระบบจองคิว" in jobs[0]["text"] and "11 พฤศจิกายน 2569" in jobs[0]["text"]
    page = client.get(resp.headers["location"]).text
    assert "ส่งอีเมลเตือนแล้ว 1 องค์กร" in page and "เตือนแล้วเมื่อ" in page
    event = run(AuditEvent.select().where(AuditEvent.action == "edition.remind_drafts").first())
    assert event["subject_id"] == "2569" and orgs["drafter"] in event["after"]

    # Again within the day: nobody is mailed twice, and the page says so.
    drafter_id = run(Organisation.select(Organisation.id).where(Organisation.code == orgs["drafter"]).first())["id"]
    clock.freeze(OPENS + 3 * DAY + timedelta(hours=23))
    again = client.post("/admin/editions/2569/reminders", data={"_csrf": token, "organisation": str(drafter_id)})
    assert again.status_code == 200 and "ไม่ได้ส่งซ้ำ" in again.text
    assert run(Outbox.count().where(Outbox.dedupe_key.like("drafts-remind:%"))) == 2
    # A day later it may be sent again.
    clock.freeze(OPENS + 4 * DAY + timedelta(minutes=1))
    client.post("/admin/editions/2569/reminders", data={"_csrf": token})
    assert run(Outbox.count().where(Outbox.dedupe_key.like("drafts-remind:%"))) == 4

    # An organisation without drafts, or a number that is not one: a clear message, nothing sent.
    north_id = run(Organisation.select(Organisation.id).where(Organisation.code == orgs["north"]).first())["id"]
    for bad in (str(north_id), "abc"):
        refused = client.post("/admin/editions/2569/reminders", data={"_csrf": token, "organisation": bad})
        assert refused.status_code == 422 and "ไม่มีฉบับร่าง" in refused.text
    # After the deadline there is nothing to remind of.
    clock.freeze(OPENS + 11 * DAY)
    late = client.post("/admin/editions/2569/reminders", data={"_csrf": token})
    assert late.status_code == 409 and "ปิดรับผลงานแล้ว" in late.text
    assert run(Outbox.count().where(Outbox.dedupe_key.like("drafts-remind:%"))) == 4


def test_the_figures_download_as_xlsx_with_a_data_dictionary(client: Any) -> None:
    _world()
    clock.freeze(OPENS + 3 * DAY)
    _login(client)
    resp = client.get("/admin/editions/2569/cockpit.xlsx")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    with zipfile.ZipFile(io.BytesIO(resp.content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any("<f>" in archive.read(n).decode("utf-8") for n in sheets)
    book = openpyxl.load_workbook(io.BytesIO(resp.content))
    assert book.sheetnames == ["summary", "by_day", "by_region", "by_province", "by_kind", "by_category", "drafts",
                               "data_dictionary"]
    by_day = book["by_day"]
    assert [c.value for c in by_day[1]] == ["date", "date_th", "days_before_deadline", "drafts", "submitted",
                                            "previous_drafts", "previous_submitted"]
    assert by_day.cell(row=2, column=4).value == "ฉบับร่าง / Drafts"
    nov1 = next(r for r in by_day.iter_rows(min_row=3, values_only=True) if r[1] == "1 พฤศจิกายน 2569")
    assert nov1[0] == datetime(2026, 11, 1) and nov1[2:] == (10, 1, 0, 0, 0)
    assert by_day.cell(row=3, column=1).number_format == "[$-th-TH,107]d mmm yyyy"
    assert by_day.cell(row=3, column=4).number_format == "#,##0"
    assert by_day.column_dimensions["B"].width > 20
    provinces = list(book["by_province"].iter_rows(min_row=3, values_only=True))
    assert provinces[0] == ("90", "สงขลา", "ภาคใต้", 2, 2)
    drafts = list(book["drafts"].iter_rows(min_row=3, values_only=True))
    assert drafts[0][1] == "เทศบาลตำบลร่างไว้" and drafts[0][3] == 1
    dictionary = {(r[0], r[3]): r for r in book["data_dictionary"].iter_rows(min_row=2, values_only=True)}
    assert dictionary[("by_day", "days_before_deadline")][4:6] == ("จำนวนวันก่อนปิดรับ", "Days before the deadline")
    for sheet in book.sheetnames[:-1]:
        for code in (c.value for c in book[sheet][1]):
            assert (sheet, code) in dictionary


def test_the_settings_form_moved_and_old_addresses_still_work(client: Any) -> None:
    run(make_edition(2569))
    run(make_user("admin", email="organiser@dga.or.th"))
    token = _login(client)
    form = client.get("/admin/editions/2569/edit")
    assert form.status_code == 200 and 'action="/admin/editions/2569/edit"' in form.text
    # An old bookmark of the form opens the cockpit, which leads to the form.
    old = client.get("/admin/editions/2569")
    assert old.status_code == 200 and 'href="/admin/editions/2569/edit"' in old.text
    # A form opened before the move still saves.
    saved = client.post("/admin/editions/2569", data={"_csrf": token, "title": "ชื่อใหม่", "state": "open",
                                                      "submission_opens_at": "2026-11-01T08:00",
                                                      "submission_closes_at": "2026-12-01T16:30",
                                                      "announcement_at": "2027-03-01T10:00"})
    assert saved.status_code == 200, saved.text
    assert run(Edition.select(Edition.title).where(Edition.year == 2569).first())["title"] == "ชื่อใหม่"
    assert 'href="/admin/editions/2569/edit"' in client.get("/admin/privacy").text
    assert client.get("/admin/editions/2400").status_code == 404
