"""Records of processing: one definition covers every table with personal data; the admin page
and the exports read it."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from piccolo.columns import ForeignKey
from piccolo.table import Table

from contest.domain.privacy import BASES, NOT_PERSONAL, RECORDS, export_csv, export_json, record_rows
from contest.domain.retention import GlobalRules
from contest.tables import ALL_TABLES as CONTEST_TABLES
from contest.tables import User
from judging.tables import ALL_TABLES as JUDGING_TABLES

ALL_TABLES: list[type[Table]] = [*CONTEST_TABLES, *JUDGING_TABLES]
THAI = re.compile("[\u0e00-\u0e7f]")
#: Column names that hold personal data wherever they appear (a person, or what identifies one).
PERSONAL_NAME = re.compile(r"(^|_)(email|phone|name|ip_address|user_agent|password_hash|totp_secret|subject|"
                           r"comment|reason|note)$|_by$|^actor_|^contact_|^letter_key$|^user$|^reviewer$")


def personal_columns(table: type[Table]) -> set[str]:
    """What looks personal by its name, or refers to an account."""
    found = set()
    for column in table._meta.columns:
        name = column._meta.name
        refers_to_user = isinstance(column, ForeignKey) and column._foreign_key_meta.resolved_references is User
        if refers_to_user or PERSONAL_NAME.search(name):
            found.add(name)
    return found


def covered() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for record in RECORDS:
        for table, columns in record.columns.items():
            out.setdefault(table, set()).update(columns)
    return out


pytestmark = pytest.mark.unit


def test_every_table_is_in_the_records_or_said_to_hold_no_personal_data() -> None:
    names = {t._meta.tablename for t in ALL_TABLES}
    listed = covered()
    missing = names - set(listed) - set(NOT_PERSONAL)
    assert missing == set(), f"tables in no record of processing (add them to contest.domain.privacy): {missing}"
    assert set(listed) & set(NOT_PERSONAL) == set()
    assert set(listed) | set(NOT_PERSONAL) <= names, "a record names a table that does not exist"


@pytest.mark.parametrize("table", ALL_TABLES, ids=lambda t: t._meta.tablename)
def test_every_personal_column_is_in_a_record(table: type[Table]) -> None:
    name = table._meta.tablename
    declared = {c._meta.name for c in table._meta.columns}
    listed = covered().get(name, set())
    assert listed <= declared, f"{name}: records name columns it does not have: {listed - declared}"
    personal = personal_columns(table)
    if name in NOT_PERSONAL:
        assert personal == set(), f"{name} is said to hold no personal data but has {personal}"
    else:
        assert personal <= listed, f"{name}: personal columns in no record of processing: {personal - listed}"


def test_records_are_complete_in_thai_and_english() -> None:
    keys = [r.key for r in RECORDS]
    assert len(keys) == len(set(keys))
    for record in RECORDS:
        assert record.bases and all(b in BASES for b in record.bases)
        for text in (record.activity, record.subjects, record.data, record.purpose, record.recipients,
                     record.retention):
            assert THAI.search(text.th) and text.en and not THAI.search(text.en), (record.key, text)


def test_retention_texts_name_the_periods_in_force() -> None:
    rows = {r["key"]: r for r in record_rows("en", GlobalRules(token_days=14, rate_limit_days=3, mail_weeks=6))}
    assert "14 days after expiry" in rows["sessions"]["retention"]
    assert "6 weeks" in rows["mail"]["retention"] and "3 days" in rows["rate_limits"]["retention"]
    assert "2 years after the results are published" in rows["attachments"]["retention"]
    thai = {r["key"]: r for r in record_rows("th", GlobalRules(token_days=14))}
    assert "14 วัน" in thai["sessions"]["retention"]


def test_exports_carry_both_languages_from_the_same_definition() -> None:
    data = export_json()
    assert [r["key"] for r in data["records"]] == [r.key for r in RECORDS]
    sessions = next(r for r in data["records"] if r["key"] == "sessions")
    assert sessions["legal_bases"] == [{"basis": "legitimate_interest", "pdpa_section": "24(5)"}]
    assert sessions["tables"] == {"auth_token": ["user", "ip_address", "user_agent", "token_hash", "last_seen_at"]}
    text = export_csv()
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["key"] for r in rows] == [r.key for r in RECORDS]
    assert rows[0]["activity_th"] == RECORDS[0].activity.th and rows[0]["activity_en"] == RECORDS[0].activity.en


@pytest.mark.integration
def test_admin_page_and_downloads(db: str, client: Any) -> None:
    from tests.conftest import run
    from tests.factories import browser_login, make_edition, make_user

    run(make_edition(2569))
    run(make_user("admin", email="chief@dga.or.th"))
    browser_login(client, "chief@dga.or.th")
    page = client.get("/admin/privacy")
    assert page.status_code == 200
    assert "บันทึกรายการกิจกรรมการประมวลผล" in page.text and RECORDS[0].activity.th in page.text
    assert '<th scope="row">' in page.text and "<caption" in page.text and "2569" in page.text
    english = client.get("/admin/privacy?lang=en")
    assert "Records of processing" in english.text and RECORDS[0].activity.en in english.text
    as_json = client.get("/admin/privacy/records.json")
    assert as_json.status_code == 200 and as_json.json() == export_json()
    as_csv = client.get("/admin/privacy/records.csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.decode("utf-8") == export_csv()
