"""The audit trail as a readable timeline: labels for every action code, payloads as field
changes, filters (who, kind of action, what, B.E. date range), pages."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contest import audit_labels, clock
from contest.domain.audit import SYSTEM, Actor, append_event
from contest.i18n import catalogue, current_language
from contest.tables import AuditEvent
from judging.enums import RoundKind
from tests.conftest import run
from tests.factories import browser_login, make_user

ROOT = Path(__file__).resolve().parents[2]
#: What a placeholder in an f-string action code can be.
PLACEHOLDERS = {"kind": [k.value for k in RoundKind]}


def _codes(expr: ast.expr) -> list[str]:
    """Every action code an ``action=`` argument can produce."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.IfExp):
        return _codes(expr.body) + _codes(expr.orelse)
    if isinstance(expr, ast.JoinedStr):
        variants = [""]
        for part in expr.values:
            if isinstance(part, ast.Constant):
                options = [str(part.value)]
            else:
                assert isinstance(part, ast.FormattedValue)
                inner = part.value
                if isinstance(inner, ast.Name):
                    assert inner.id in PLACEHOLDERS, f"say what {{{inner.id}}} can be in PLACEHOLDERS"
                    options = PLACEHOLDERS[inner.id]
                else:
                    options = _codes(inner)
            variants = [v + o for v in variants for o in options]
        return variants
    raise AssertionError(f"an action code the test cannot read: {ast.unparse(expr)}")


def action_codes_in_code() -> dict[str, str]:
    """Action codes of every ``append_event(...)`` call in the code: code → where."""
    found: dict[str, str] = {}
    for folder in ("contest", "judging", "uploads"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == \
                        "append_event":
                    for kw in node.keywords:
                        if kw.arg == "action":
                            for code in _codes(kw.value):
                                found[code] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


@pytest.mark.unit
def test_every_action_code_in_the_code_has_a_thai_and_english_label() -> None:
    codes = action_codes_in_code()
    assert len(codes) > 60 and "edition.update" in codes and "entry.screening_outcome" in codes
    missing = [f"{where}: {code}" for code, where in sorted(codes.items()) if code not in audit_labels.ACTION_LABELS]
    assert missing == [], "add a label to contest/audit_labels.py ACTION_LABELS:\n" + "\n".join(missing)
    thai = catalogue("th")
    labels = [*audit_labels.ACTION_LABELS.values(), *audit_labels.ACTION_KINDS.values(),
              *audit_labels.SUBJECT_LABELS.values(), *audit_labels.FIELD_LABELS.values(),
              *audit_labels.VALUE_LABELS.values()]
    assert [label for label in labels if label not in thai] == []
    assert all(code.split(".")[0] in audit_labels.ACTION_KINDS for code in audit_labels.ACTION_LABELS)


@pytest.mark.unit
def test_action_labels_read_in_thai_and_english() -> None:
    assert audit_labels.action_label("edition.update") == "แก้ไขข้อมูลรุ่นการประกวด"
    token = current_language.set("en")
    try:
        assert audit_labels.action_label("edition.update") == "Changed the edition's details"
    finally:
        current_language.reset(token)
    assert audit_labels.action_label("something.new") == "something.new"


@pytest.mark.unit
def test_payloads_read_as_field_changes() -> None:
    changes = audit_labels.changes('{"state":"draft"}', '{"state":"submitted","receipt":"R-1"}')
    assert [(c.label, c.before, c.after) for c in changes] == [
        ("สถานะ", "ฉบับร่าง", "ส่งแล้ว"), ("ใบรับ", None, "R-1")]
    assert changes[0].changed and not changes[1].changed
    times = audit_labels.changes('{"announcement_at":"2027-08-01T03:00:00.000000Z"}',
                                 '{"announcement_at":"2027-08-08T03:00:00.000000Z","four_eyes":true}')
    assert times[0].label == "วันประกาศผล" and times[0].before == "1 สิงหาคม 2570 เวลา 10:00 น."
    assert times[0].after == "8 สิงหาคม 2570 เวลา 10:00 น." and times[1].after == "ใช่"
    assert audit_labels.changes("null", "null") == []
    erased = audit_labels.changes("null", '{"email":"erased:p-123","files":[{"name":"a"},{"name":"b"}]}')
    assert erased[0].after == "(ลบแล้ว)" and erased[1].after == "2 รายการ"
    assert audit_labels.changes("null", '{"scores":{"impact":8}}')[0].after.endswith(": 8")
    assert audit_labels.changes("null", '{"size":104857600}')[0].after == "100.0 MB"


@pytest.fixture()
def trail() -> None:
    """Events over three Bangkok days by two people, and many more to page through."""
    alice = Actor(id=1, email="alice@example.go.th", role="admin")
    bob = Actor(id=2, email="bob@example.go.th", role="admin")

    async def write() -> None:
        clock.freeze(datetime(2026, 11, 30, 16, 59, tzinfo=UTC))  # 30 Nov 23:59 in Bangkok
        await append_event(actor=alice, action="edition.update", subject_type="edition", subject_id=2569,
                           before={"announcement_at": "2027-08-01T03:00:00.000000Z"},
                           after={"announcement_at": "2027-08-08T03:00:00.000000Z"})
        clock.freeze(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))  # 1 Dec 00:00 in Bangkok
        await append_event(actor=bob, action="entry.submit", subject_type="entry", subject_id=12,
                           before={"state": "draft"}, after={"state": "submitted", "receipt": "DLG-2569-000012"})
        clock.freeze(datetime(2026, 12, 3, 9, 40, 48, tzinfo=UTC))
        for n in range(60):
            await append_event(actor=SYSTEM, action="outbox.resend", subject_type="outbox", subject_id=n,
                               after={"jobs": n})
        clock.freeze(None)

    run(write())


def _admin(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")


@pytest.mark.integration
def test_audit_page_is_a_readable_timeline(client, trail) -> None:  # type: ignore[no-untyped-def]
    _admin(client)
    page = client.get("/admin/audit")
    assert page.status_code == 200
    html = page.text
    shown = re.sub(r'datetime="[^"]*"', "", html)  # <time datetime> is for machines
    assert "2026-12-03T09:40:48Z" not in shown and not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", shown)
    assert "3 ธันวาคม 2569 เวลา 16:40 น." in html  # 09:40 UTC, in Bangkok and B.E.
    assert "ส่งอีเมลและงานตรวจสอบที่ล้มเหลวอีกครั้ง" in html and "outbox.resend" not in html
    assert "หน้า 1 จาก 2" in html and 'rel="next"' in html
    older = client.get("/admin/audit?page=2").text
    assert "แก้ไขข้อมูลรุ่นการประกวด" in older and "edition.update" not in older
    assert "1 สิงหาคม 2570 เวลา 10:00 น." in older and "8 สิงหาคม 2570 เวลา 10:00 น." in older
    timeline = older.split('<ol class="timeline"')[1]
    assert "alice@example.go.th" in timeline and '{"' not in timeline and '&quot;' not in timeline  # no raw JSON
    assert 'ผลงาน <a href="/admin/entries/12">#12</a>' in older and "ฉบับร่าง" in older and "DLG-2569-000012" in older


@pytest.mark.integration
def test_audit_filters_by_actor_kind_subject_and_be_dates(client, trail) -> None:  # type: ignore[no-untyped-def]
    _admin(client)
    by_actor = client.get("/admin/audit", params={"actor": "ALICE"}).text
    assert "พบ 1 รายการ" in by_actor and "แก้ไขข้อมูลรุ่นการประกวด" in by_actor
    by_kind = client.get("/admin/audit", params={"kind": "entry,attachment,appeal"}).text
    assert "พบ 1 รายการ" in by_kind and "ส่งผลงาน" in by_kind
    by_subject = client.get("/admin/audit", params={"type": "entry", "subject": "#12"}).text
    assert "พบ 1 รายการ" in by_subject and "DLG-2569-000012" in by_subject
    # Bangkok days, typed in B.E.: 1 ธันวาคม 2569 starts at 17:00 UTC on 30 November
    first_of_december = {"since-day": "1", "since-month": "12", "since-year": "2569",
                         "until-day": "1", "until-month": "12", "until-year": "2569"}
    day = client.get("/admin/audit", params=first_of_december).text
    assert "พบ 1 รายการ" in day and "ส่งผลงาน" in day
    november = client.get("/admin/audit", params={"until-day": "30", "until-month": "11", "until-year": "2026"})
    assert "พบ 1 รายการ" in november.text and "แก้ไขข้อมูลรุ่นการประกวด" in november.text
    assert "ระบบอ่านปี 2026 เป็นปี ค.ศ. คือ พ.ศ. 2569" in november.text
    # the filters are kept from page to page
    everything_new = client.get("/admin/audit", params={"since-day": "3", "since-month": "12", "since-year": "2569",
                                                        "until-day": "3", "until-month": "12", "until-year": "2569"})
    assert "พบ 60 รายการ" in everything_new.text
    assert "since-year=2569" in everything_new.text and "page=2" in everything_new.text
    bad = client.get("/admin/audit", params={"since-day": "31", "since-month": "2", "since-year": "2569"})
    assert bad.status_code == 422 and "เดือนกุมภาพันธ์ 2569 มีเพียง 28 วัน" in bad.text
    assert 'value="31"' in bad.text  # what was typed is kept
    assert f"{run(AuditEvent.count())} รายการ" in bad.text  # the unreadable bound is not applied


@pytest.mark.integration
def test_only_administrators_read_the_audit_trail(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("reviewer", email="judge@example.go.th"))
    browser_login(client, "judge@example.go.th")
    assert client.get("/admin/audit").status_code == 403
    assert run(AuditEvent.count()) > 0
