"""The organisers' ranking page on a 390 x 844 phone (an iPhone 12-14 held upright), in a real
headless browser: no page-wide horizontal scroll; the wide tables scroll inside their own
container, which is labelled and reachable with the keyboard.

Shares the real server and Chromium helpers of tests/e2e/browser.py; without Playwright or
Chromium the test is skipped, or fails under REQUIRE_SERVICES=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contest.i18n import t
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, unavailable
from tests.factories import PASSWORD, fresh_otp
from tests.judging.support import score_all, screening

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A screening round with every sheet scored (a ranking to show), long Thai names included."""
    s = screening(entries=8, reviewers=3, per_entry=2, shortlist_size=3)
    score_all(s.round_id, lambda e, r, c: float((e * 7 + r) % 10))
    with contest_server(tmp_path) as (base_url, log):
        yield {"s": s, "url": base_url, "log": log, "tmp": tmp_path}


def test_ranking_page_fits_a_phone_and_its_tables_scroll_inside(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    s, base = server["s"], server["url"]
    email = s.admins[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # Not is_mobile: a phone browser widens its layout to fit what overflows, which would hide
            # the overflow this test looks for; the viewport stays 390 px wide as the page is laid out.
            context = browser.new_context(locale="th-TH", viewport=PHONE, device_scale_factor=2, has_touch=True)
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("#f-email", email)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            expect(page.locator("h1")).to_have_text(t("Two-factor sign-in", "th"))
            page.fill("#f-otp", fresh_otp(email, real_time=True) or "")
            with page.expect_navigation():
                page.keyboard.press("Enter")

            for path in (f"/admin/judging/rounds/{s.round_id}/ranking", "/admin/editions/2569/entries"):
                page.goto(base + path)
                expect(page.locator("h1")).to_have_count(1)
                page.screenshot(path=str(server["tmp"] / (path.strip("/").replace("/", "-") + ".png")),
                                full_page=True)
                widths = page.evaluate("""() => ({doc: document.documentElement.scrollWidth,
                    body: document.body.scrollWidth, view: window.innerWidth,
                    wide: [...document.querySelectorAll('body *')].filter(e => {
                        const r = e.getBoundingClientRect();
                        return r.right > window.innerWidth + 0.5 && !e.closest('.table-scroll');
                    }).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)})""")
                assert widths["view"] == PHONE["width"], widths
                assert widths["doc"] <= widths["view"] and widths["body"] <= widths["view"], (path, widths)

            # The ranking's wide table scrolls inside its own region: named, and focusable so a
            # keyboard user can scroll it.
            page.goto(base + f"/admin/judging/rounds/{s.round_id}/ranking")
            region = page.locator("#ranking-table")
            expect(region).to_have_attribute("role", "region")
            expect(region).to_have_attribute("tabindex", "0")
            assert region.get_attribute("aria-labelledby") or region.get_attribute("aria-label")
            scroll = region.evaluate("e => ({inner: e.scrollWidth, outer: e.clientWidth})")
            assert scroll["outer"] <= PHONE["width"]
            region.focus()
            if scroll["inner"] > scroll["outer"]:
                page.keyboard.press("ArrowRight")
                page.keyboard.press("ArrowRight")
                page.wait_for_function("() => document.querySelector('#ranking-table').scrollLeft > 0")
        finally:
            browser.close()
