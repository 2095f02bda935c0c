"""The organisers' entry overview: compact counts, a search that reads Thai as officials type it
(combined with the filters), exports of exactly the listed entries, and the dashboard's figures."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest

from contest import clock
from contest.domain import entries
from contest.domain.audit import SYSTEM
from contest.i18n import t
from contest.tables import Entry, Organisation
from tests.conftest import run
from tests.factories import browser_login, make_edition, make_submitted_entries, make_user

pytestmark = pytest.mark.integration

LISTED = re.compile(r'<td><a href="/admin/entries/(\d+)">')


def _world() -> dict[str, int]:
    """Four entries: two from สันทราย (an อบต. and a ทต.), one with a Thai title, one in another
    province; the Thai title spelled with its tone marks as the registry has them."""
    run(make_edition(2569))
    ids = run(make_submitted_entries(2569, 4, provinces=("50", "50", "50", "90")))
    sao, town, titled, south = ids
    names = {sao: ("องค์การบริหารส่วนตำบลสันทราย", "sao"), town: ("เทศบาลตำบลสันทรายหลวง", "subdistrict_municipality"),
             titled: ("เทศบาลตำบลหนองจ๊อม", "subdistrict_municipality")}
    for entry_id, (name, kind) in names.items():
        org = run(Entry.select(Entry.organisation).where(Entry.id == entry_id).first())["organisation"]
        from contest.domain.organisations import search_columns

        row = run(Organisation.select().where(Organisation.id == org).first())
        run(Organisation.update({Organisation.name_th: name, Organisation.kind: kind, **{
            getattr(Organisation, k): v for k, v in search_columns(
                code=row["code"], name_th=name, name_en=row["name_en"], district_name_th=row["district_name_th"],
                province_name_th=row["province_name_th"]).items()}}).where(Organisation.id == org))
    run(Entry.update({Entry.title: "ระบบแจ้งซ่อมไฟฟ้าส่องสว่าง Smart-Light"}).where(Entry.id == titled))
    run(Entry.update({Entry.state: "draft"}).where(Entry.id == south))
    return {"sao": sao, "town": town, "titled": titled, "south": south}


def _admin(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="overview@dga.or.th"))
    browser_login(client, "overview@dga.or.th")


def _listed(client, **params: str) -> list[int]:  # type: ignore[no-untyped-def]
    page = client.get("/admin/editions/2569/entries", params=params)
    assert page.status_code == 200
    return [int(i) for i in LISTED.findall(page.text)]


def test_search_reads_abbreviations_tone_slips_titles_and_entry_numbers(client) -> None:  # type: ignore[no-untyped-def]
    w = _world()
    _admin(client)
    assert _listed(client, q="สันทราย") == [w["sao"], w["town"]]
    assert _listed(client, q="อบต.สันทราย") == [w["sao"]]  # the kind typed first
    assert _listed(client, q="ทต. สันทรายหลวง") == [w["town"]]
    assert _listed(client, q="หนองจ้อม") == [w["titled"]]  # the registry has หนองจ๊อม
    assert _listed(client, q="แจงซอม") == [w["titled"]]  # tone marks left out
    assert _listed(client, q="smart light") == [w["titled"]]  # case, space and hyphen
    assert _listed(client, q=str(w["south"])) == [w["south"]]  # not every code holding that digit
    code = run(Entry.select(Entry.organisation.code).where(Entry.id == w["town"]).first())["organisation.code"]
    assert _listed(client, q=code) == [w["town"]]
    assert _listed(client, q=f"DLG2569-{w['south']:06d}-01") == [w["south"]]
    assert _listed(client, q="ไม่มีผลงานนี้") == []
    assert _listed(client, q="...") == []  # nothing to look for: nothing found, no error
    # Combined with the filters, and the counts follow the search.
    assert _listed(client, q="สันทราย", kind="sao") == [w["sao"]]
    assert _listed(client, q="เทศบาล", state="draft") == [w["south"]]
    page = client.get("/admin/editions/2569/entries", params={"q": "สันทราย"}).text
    counts = page[page.index('id="counts-h"'):page.index("</section>", page.index('id="counts-h"'))]
    assert re.search(r'href="\?q=%E0%B8%AA[^"]*&amp;state=submitted"><span class="n">2</span> ส่งแล้ว</a>', counts)
    assert "ฉบับร่าง" not in counts  # the draft does not match the search
    assert 'value="สันทราย"' in page


def test_search_text_is_a_database_condition_on_both_engines(db) -> None:  # type: ignore[no-untyped-def]
    w = _world()
    filters = entries.EntryFilters(year=2569, q="สันทราย")
    assert run(entries.count_matching(SYSTEM, filters)) == 2
    assert run(entries.count_entries(year=2569, group_by="kind", filters=filters)) == {
        "sao": 1, "subdistrict_municipality": 1}
    assert [r["id"] for r in run(entries.list_entries(SYSTEM, filters))] == [w["sao"], w["town"]]
    assert entries.text_search("   ") is None


@pytest.mark.parametrize("chosen", [
    {}, {"state": "submitted"}, {"state": "draft", "province": "90"}, {"province": "50", "kind": "sao"},
    {"kind": "subdistrict_municipality", "category": "service", "q": "เทศบาล"}, {"q": "สันทราย", "state": "draft"},
])
def test_the_overview_from_one_read_equals_one_count_per_dimension(db, chosen) -> None:  # type: ignore[no-untyped-def]
    _world()
    filters = entries.EntryFilters(year=2569, **chosen)
    overview = run(entries.overview_counts(SYSTEM, filters))
    assert overview.total == run(entries.count_matching(SYSTEM, filters))
    assert overview.counts == {group: run(entries.count_entries(year=2569, group_by=group, filters=filters,
                                                                 actor=SYSTEM))
                               for group in entries.COUNT_GROUPS}


def _overview_is_fresh(filters: entries.EntryFilters) -> None:
    overview = run(entries.overview_counts(SYSTEM, filters))
    assert overview.total == run(entries.count_matching(SYSTEM, filters))
    assert overview.counts == {group: run(entries.count_entries(year=2569, group_by=group, filters=filters,
                                                                 actor=SYSTEM))
                               for group in entries.COUNT_GROUPS}
    listed = run(entries.list_entries(SYSTEM, filters))
    exported = run(entries.export_entries(SYSTEM, filters))[1]  # never kept
    assert [(r["id"], r["title"], r["organisation.code"], r["category"], r["state"]) for r in listed] == [
        (e[0], e[1], e[2], e[6], e[7]) for e in exported]


def _elsewhere(sql: str, *args: object) -> None:
    """A change committed by another connection than the app's (another process, on SQLite)."""
    from contest.db import engine, is_sqlite

    if is_sqlite():
        import sqlite3

        raw = sqlite3.connect(engine().connection_kwargs["database"])
        try:
            raw.execute(sql.replace("{}", "?"), args)
            raw.commit()
        finally:
            raw.close()
        return

    async def change() -> None:
        connection = await engine().get_new_connection()
        try:
            parts = sql.split("{}")
            await connection.execute(parts[0] + "".join(f"${n}{p}" for n, p in enumerate(parts[1:], 1)), *args)
        finally:
            await connection.close()
    run(change())


def test_the_kept_overview_list_and_provinces_follow_every_change_at_once(db) -> None:  # type: ignore[no-untyped-def]
    from contest.domain.organisations import list_provinces

    w = _world()
    plain, chosen = entries.EntryFilters(year=2569), entries.EntryFilters(year=2569, province="50", state="draft")
    for filters in (plain, chosen, plain):  # the second read of each is the kept one
        _overview_is_fresh(filters)
    provinces = {p["province_code"] for p in run(list_provinces())}
    assert provinces == {"50", "90"} and provinces == {p["province_code"] for p in run(list_provinces())}
    changes = [
        lambda: run(Entry.update({Entry.state: "draft"}).where(Entry.id == w["sao"])),
        lambda: run(Entry.update({Entry.category: "other"}).where(Entry.id == w["town"])),
        lambda: run(Entry.update({Entry.title: "ชื่อใหม่"}).where(Entry.id == w["sao"])),
        lambda: _elsewhere('UPDATE "entry" SET "state" = {} WHERE "id" = {}', "withdrawn", w["titled"]),
        lambda: _elsewhere('UPDATE "organisation" SET "province_code" = {}, "kind" = {} WHERE "id" = '
                           '(SELECT "organisation" FROM "entry" WHERE "id" = {})', "90", "pao", w["town"]),
        lambda: run(make_submitted_entries(2569, 1, provinces=("10",))),
        lambda: run(Entry.delete().where(Entry.id == w["south"])),
    ]
    for change in changes:
        change()
        for filters in (plain, chosen):
            _overview_is_fresh(filters)
    assert {p["province_code"] for p in run(list_provinces())} == {"10", "50", "90"}
    _elsewhere('UPDATE "organisation" SET "province_code" = {} WHERE "province_code" = {}', "90", "10")
    assert {p["province_code"] for p in run(list_provinces())} == {"50", "90"}


def test_the_overview_is_for_organisers_only(db) -> None:  # type: ignore[no-untyped-def]
    from contest.domain.audit import Actor
    from contest.errors import PermissionDenied

    _world()
    with pytest.raises(PermissionDenied):
        run(entries.overview_counts(Actor(id=1, email="r@x.th", role="reviewer"), entries.EntryFilters(year=2569)))


def test_exports_hold_exactly_the_filtered_list_on_every_page(client) -> None:  # type: ignore[no-untyped-def]
    w = _world()
    _admin(client)
    from contest.controllers import entry_pages

    size, entry_pages.ADMIN_PAGE_SIZE = entry_pages.ADMIN_PAGE_SIZE, 1
    try:
        page = client.get("/admin/editions/2569/entries", params={"q": "สันทราย"}).text
    finally:
        entry_pages.ADMIN_PAGE_SIZE = size
    link = re.search(r'href="(/admin/editions/2569/entries\.csv\?[^"]+)"', page)
    assert link and "q=" in link.group(1)
    resp = client.get(link.group(1).replace("&amp;", "&"))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0] == [c.code for c in entries.EXPORT_COLUMNS]
    assert [int(r[0]) for r in rows[1:]] == [w["sao"], w["town"]]  # both pages, nothing else
    assert {r[rows[0].index("state")] for r in rows[1:]} == {"submitted"}  # codes for programs

    resp = client.get("/admin/editions/2569/entries.xlsx", params={"province": "50", "q": "หนองจ้อม"})
    assert resp.status_code == 200
    assert "attachment" in resp.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(resp.content))
    assert book.sheetnames == ["entries", "data_dictionary"]
    sheet = book["entries"]
    header = [c.value for c in sheet[1]]
    labels = [c.value for c in sheet[2]]
    assert labels[header.index("entry_id")] == "เลขที่ผลงาน / Entry number"
    assert labels[header.index("organisation_kind")] == "ประเภทองค์กรปกครองส่วนท้องถิ่น / Kind of organisation"
    assert sheet.max_row == 3 and sheet.cell(row=3, column=1).value == w["titled"]
    assert sheet.cell(row=3, column=header.index("state") + 1).value == "ส่งแล้ว / Submitted"
    assert sheet.cell(row=3, column=header.index("organisation_kind") + 1).value == \
        "เทศบาลตำบล / Subdistrict Municipality"
    assert sheet.column_dimensions["B"].width >= 40 and sheet.freeze_panes == "A3"
    dictionary = {r[0]: r for r in book["data_dictionary"].iter_rows(min_row=2, values_only=True)}
    assert set(header) == set(dictionary)
    for code, label_th, label_en, about_th, about_en in dictionary.values():
        assert label_th != label_en and about_th != about_en, code  # every column explained in Thai

    # Not for anyone but administrators.
    client.cookies.clear()
    assert client.get("/admin/editions/2569/entries.csv", follow_redirects=False).status_code in (303, 401)


def test_export_columns_have_thai_labels_and_meanings() -> None:
    for column in entries.EXPORT_COLUMNS:
        assert t(column.label, "th") != column.label and t(column.about, "th") != column.about, column.code


def test_counts_are_compact_and_the_list_comes_first(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(2569))
    run(make_submitted_entries(2569, 12, provinces=tuple(str(p) for p in range(30, 42))))
    _admin(client)
    page = client.get("/admin/editions/2569/entries").text
    main = page[page.index("<main"):]
    # No count tables: the only table on the page is the list itself.
    assert main.count("<table") == 1
    # The provinces fold away (12 of them here) and say how many there are.
    assert re.search(r'<details class="by-province">\s*<summary><h3>ตามจังหวัด <span class="hint">\(12 จังหวัด\)', main)
    assert main.index('id="counts-h"') < main.index("<table")


def test_dashboard_shows_the_current_editions_submissions_and_days_left(client) -> None:  # type: ignore[no-untyped-def]
    edition = run(make_edition(2569))
    run(make_submitted_entries(2569, 3))
    run(make_submitted_entries(2569, 2, state="draft"))
    run(make_submitted_entries(2569, 1, state="withdrawn"))
    clock.freeze(edition.submission_closes_at - timedelta(days=5, hours=1))
    try:
        _admin(client)
        page = client.get("/admin").text
        figures = page[page.index('id="current-h"'):page.index("</section>", page.index('id="current-h"'))]
        assert "การประกวดปี 2569: เปิดรับผลงาน" in figures
        assert '<span class="n">3</span> ส่งแล้ว' in figures
        assert '<span class="n">2</span> ฉบับร่างที่ยังไม่ได้ส่ง' in figures
        assert re.search(r'<span class="n">[56]</span> วันก่อนปิดรับผลงาน', figures)
        clock.freeze(edition.submission_closes_at + timedelta(minutes=1))
        assert "ปิดรับผลงานแล้ว" in client.get("/admin").text
        english = client.get("/admin", params={"lang": "en"}).text
        assert "Edition 2569: Open for submissions" in english and "Submissions closed" in english
    finally:
        clock.freeze(None)
