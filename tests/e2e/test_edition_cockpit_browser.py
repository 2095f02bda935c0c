"""End to end in a real headless browser on a 390 px phone: an administrator opens the edition
cockpit, which fits the screen without scrolling sideways, shows its four charts as images with
a title and a description beside their tables, refreshes its figures in place after a new
submission, and sends the reminder to the organisations with drafts in one click.

The real server (`contest serve`, granian) runs as a subprocess on the test session's database.
Chromium is Debian's, driven by Playwright; without them the test is skipped, or fails under
REQUIRE_SERVICES=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contest import clock
from contest.i18n import t
from contest.tables import Edition, Entry, Organisation, Outbox
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, read, unavailable
from tests.factories import PASSWORD, fresh_otp, make_edition, make_org, make_user

pytestmark = pytest.mark.e2e

EMAIL = "organiser@dga.or.th"


def _entries() -> None:
    """Ten entries over the last days (six submitted, four drafts) in four provinces."""
    edition = run(Edition.select(Edition.id).where(Edition.year == 2569).first())["id"]
    now = clock.now()
    provinces = (("50", "เชียงใหม่"), ("90", "สงขลา"), ("40", "ขอนแก่น"), ("10", "กรุงเทพมหานคร"))
    for i in range(10):
        code, name = provinces[i % 4]
        org = run(make_org(province_code=code, province_name_th=name))
        org_id = run(Organisation.select(Organisation.id).where(Organisation.code == org).first())["id"]
        created = now - timedelta(days=9 - i)
        submitted = created + timedelta(hours=5) if i < 6 else None
        run(Entry.insert(Entry(edition=edition, organisation=org_id, title=f"ผลงานที่ {i + 1}",
                               state="submitted" if submitted else "draft", category="service",
                               created_at=created, updated_at=submitted or created, submitted_at=submitted,
                               contact_email=f"contact{i}@example.go.th")))


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    run(make_edition(2568, submission_opens_at=clock.now() - timedelta(days=375),
                     submission_closes_at=clock.now() - timedelta(days=345),
                     announcement_at=clock.now() - timedelta(days=300)))
    run(make_edition(2569))
    _entries()
    run(make_user("admin", email=EMAIL))
    with contest_server(tmp_path) as (base_url, log):
        yield {"url": base_url, "log": log, "tmp": tmp_path}


def test_the_cockpit_fits_a_phone_refreshes_itself_and_sends_reminders(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    base = server["url"]
    th = lambda message, **kw: t(message, "th", **kw)  # noqa: E731 - the page text the server renders in Thai

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="th-TH", viewport={"width": 390, "height": 844})  # a phone
            context.set_default_timeout(10_000)
            page = context.new_page()
            problems: list[str] = []
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.on("pageerror", lambda exc: problems.append(f"js error: {exc}"))

            page.goto(base + "/login")
            page.fill("#f-email", EMAIL)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.fill("#f-otp", fresh_otp(EMAIL, real_time=True) or "")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.goto(base + "/admin/editions/2569")
            expect(page.locator("h1")).to_have_text(th("Edition {year} at a glance", year=2569))

            # Nothing wider than the phone: the page does not scroll sideways.
            widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert widths[0] <= widths[1] == 390, widths
            # Five charts (the tile map of the provinces among them), each an image named by its title and
            # described by its summary, drawn inside the screen.
            charts = page.locator("svg.chart[role=img]")
            expect(charts).to_have_count(5)
            for i in range(5):
                chart = charts.nth(i)
                # The chart's own title and description (a tile map's tiles carry tooltips of their own).
                assert chart.locator(":scope > title").text_content() and chart.locator(":scope > desc").text_content()
                box = chart.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
            expect(page.get_by_role("img", name=th("Entries by region"))).to_be_visible()
            submitted = page.locator("#cockpit-figures dl.tiles > div", has_text=th("Submitted")).locator("dd")
            expect(submitted).to_have_text("6")
            page.screenshot(path=str(server["tmp"] / "cockpit-phone.png"), full_page=True)

            # A submission arrives; the figures are fetched again in place (htmx, as the poll does).
            read(Entry.update({Entry.state: "submitted", Entry.submitted_at: clock.now(),
                               Entry.updated_at: clock.now()}).where(Entry.title == "ผลงานที่ 7"))
            url = page.url
            page.evaluate("htmx.ajax('GET', '/admin/editions/2569/figures', "
                          "{target: '#cockpit-figures', swap: 'outerHTML'})")
            expect(submitted).to_have_text("7")
            assert page.url == url  # no reload

            # One click reminds the organisations still drafting: the page was loaded with four, one
            # has submitted since (the list is not part of the refreshed figures), three are mailed.
            with page.expect_navigation():
                page.get_by_role("button", name=th("Remind all {n} organisations by email", n=4)).click()
            expect(page.locator(".notice")).to_contain_text(th("Reminders were sent to {n} organisations.", n=3))
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert not problems, problems
        finally:
            browser.close()
    assert read(Outbox.count().where(Outbox.dedupe_key.like("drafts-remind:%"))) == 3
