"""In a real headless browser on a 390 px phone: an administrator types an edition's timeline as
day / Thai month / Buddhist-Era year / time, corrects a day February does not have, and reads the
audit trail as a timeline (filtered by a B.E. date range) without scrolling sideways."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from contest import clock
from contest.domain.audit import Actor, append_event
from contest.i18n import t
from contest.tables import Edition
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, read, unavailable
from tests.factories import PASSWORD, fresh_otp, make_user

pytestmark = pytest.mark.e2e

EMAIL = "audit.admin@dga.or.th"


def th(message: str, **params: Any) -> str:
    return t(message, "th", **params)


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    run(make_user("admin", email=EMAIL))
    someone = Actor(id=None, email="a.very.long.address.of.a.staff.member@subdistrict-municipality.go.th",
                    role="applicant")

    async def events() -> None:
        for n in range(60):  # more than a page, with long unbroken values
            await append_event(actor=someone, action="attachment.add", subject_type="entry", subject_id=n + 1,
                               after={"attachment_id": n, "name": "รายงานผลการดำเนินงาน_" * 4 + ".pdf",
                                      "size": 104_857_600, "sha256": "ab" * 32})

    run(events())
    with contest_server(tmp_path) as (base_url, log):
        yield {"url": base_url, "log": log}


def _fits(page: Any) -> dict[str, int]:
    return page.evaluate("() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})")


def test_be_date_entry_and_the_audit_timeline_on_a_phone(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    base = server["url"]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="th-TH", viewport={"width": 390, "height": 844})
            context.set_default_timeout(10_000)
            page = context.new_page()
            problems: list[str] = []
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
            page.on("pageerror", lambda exc: problems.append(f"js error: {exc}"))

            page.goto(base + "/login")
            page.fill("#f-email", EMAIL)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.fill("#f-otp", fresh_otp(EMAIL, real_time=True) or "")
            with page.expect_navigation():
                page.keyboard.press("Enter")

            # The edition's timeline: labelled day, month (Thai names) and year fields in a fieldset.
            page.goto(base + "/admin/editions/new")
            fits = _fits(page)
            assert fits["scroll"] <= fits["view"], fits
            opens = page.get_by_role("group", name=th("Submissions open"))
            expect(opens.get_by_label(th("Month"))).to_be_visible()
            page.fill("#f-year", "2570")
            page.fill("#f-title", "รางวัลท้องถิ่นดิจิทัล 2570")
            for name, (day, month, year, at) in {
                    "submission_opens_at": ("5", "มกราคม", "2570", "09:00"),
                    "submission_closes_at": ("31", "กุมภาพันธ์", "2570", "16:30"),  # February has 28 days
                    "announcement_at": ("1", "สิงหาคม", "2027", "10.00")}.items():  # a C.E. year
                group = page.get_by_role("group", name=th({"submission_opens_at": "Submissions open",
                                                           "submission_closes_at": "Submission deadline",
                                                           "announcement_at": "Results announced"}[name]))
                group.get_by_label(th("Day")).fill(day)
                group.get_by_label(th("Month")).select_option(label=month)
                group.get_by_label(th("Year (B.E.)")).fill(year)
                group.get_by_label(th("Time (HH:MM)")).fill(at)
            with page.expect_navigation():
                page.get_by_role("button", name=th("Save")).click()
            summary = page.locator(".error-summary")
            expect(summary).to_contain_text("วันปิดรับผลงาน: เดือนกุมภาพันธ์ 2570 มีเพียง 28 วัน")
            expect(page.locator("#e-submission_closes_at")).to_be_visible()
            # what was typed is kept, and the C.E. year is said to have been read as such
            assert page.input_value("#f-submission_closes_at") == "31"
            assert page.input_value("#f-submission_closes_at-month") == "2"
            assert page.input_value("#f-announcement_at-year") == "2027"
            expect(page.locator("#n-announcement_at")).to_contain_text("ระบบอ่านปี 2027 เป็นปี ค.ศ. คือ พ.ศ. 2570")
            expect(summary.get_by_role("link")).to_have_count(1)
            summary.get_by_role("link").first.click()
            assert page.evaluate("document.activeElement.id") == "f-submission_closes_at"
            page.fill("#f-submission_closes_at", "28")
            with page.expect_navigation():
                page.get_by_role("button", name=th("Save")).click()
            assert page.url.endswith("/admin/editions/2570/edit"), page.url
            row = read(Edition.select().where(Edition.year == 2570).first())
            assert clock.to_bangkok(row["submission_closes_at"]) == datetime(2027, 2, 28, 16, 30,
                                                                            tzinfo=clock.BANGKOK)
            assert clock.to_bangkok(row["announcement_at"]) == datetime(2027, 8, 1, 10, 0, tzinfo=clock.BANGKOK)

            # The audit trail on the phone: a timeline, no sideways scrolling, Thai words.
            page.goto(base + "/admin/audit")
            fits = _fits(page)
            assert fits["scroll"] <= fits["view"], fits
            expect(page.locator(".timeline .event").first).to_contain_text(th("Created an edition of the contest"))
            expect(page.locator(".timeline")).to_contain_text(th("Added a file to an entry"))
            assert "attachment.add" not in page.content()
            # Filter by today's Bangkok date, typed in B.E.
            today = clock.to_bangkok(datetime.now(clock.BANGKOK))
            since = page.get_by_role("group", name=th("Events from"))
            since.get_by_label(th("Day")).fill(str(today.day))
            since.get_by_label(th("Month")).select_option(str(today.month))
            since.get_by_label(th("Year (B.E.)")).fill(str(today.year + 543))
            page.get_by_label(th("Kind of action")).select_option(label=th("Editions and results"))
            with page.expect_navigation():
                page.get_by_role("button", name=th("Show events")).click()
            expect(page.locator("#events-h")).to_contain_text(th("{n} events match", n="1"))
            fits = _fits(page)
            assert fits["scroll"] <= fits["view"], fits
            page.goto(base + "/admin/audit?page=2")
            fits = _fits(page)
            assert fits["scroll"] <= fits["view"], fits
            assert problems == [], problems
        finally:
            browser.close()
