"""A round's judging cockpit in a real headless browser: on a 390 px phone the page never scrolls
sideways, the burn-down chart is drawn (an SVG image with its text alternative) and fits the
screen; printed, the chart stays and the action buttons go.

The real server (`contest serve`, granian) runs on the test session's database; Debian's Chromium
is driven by Playwright (tests/e2e/browser.py). Without them the test is skipped, or fails under
REQUIRE_SERVICES=1."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contest import clock
from contest.tables import Edition
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, unavailable
from tests.factories import PASSWORD, fresh_otp, make_user
from tests.judging.support import YEAR, score_all, screening

pytestmark = pytest.mark.e2e


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    s = screening(entries=20, reviewers=6, per_entry=3, shortlist_size=6)
    run(Edition.update({Edition.screening_closes_at: clock.now() + timedelta(days=14)}).where(Edition.year == YEAR))
    score_all(s.round_id, lambda e, r, c: float(random.Random(f"{e}:{r}:{c}").randint(2, 9)))
    email = f"cockpit{id(object())}@dga.or.th"
    run(make_user("admin", email=email))
    with contest_server(tmp_path) as (base_url, log):
        yield {"s": s, "url": base_url, "log": log, "tmp": tmp_path, "email": email}


def test_the_cockpit_fits_a_phone_and_prints(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    s, base, email = server["s"], server["url"], server["email"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="th-TH", viewport={"width": 390, "height": 844}, is_mobile=True,
                                          has_touch=True)
            context.set_default_timeout(10_000)
            page = context.new_page()
            problems: list[str] = []
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
            page.goto(base + "/login")
            page.fill("#f-email", email)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.fill("#f-otp", fresh_otp(email, real_time=True) or "")
            with page.expect_navigation():
                page.keyboard.press("Enter")

            page.goto(base + f"/admin/judging/rounds/{s.round_id}/progress")
            chart = page.locator("svg[role=img]")
            expect(chart).to_be_visible()
            assert (page.locator("svg[role=img] desc").text_content() or "").strip()
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"the page scrolls sideways: {width} px wide"
            box = chart.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
            page.screenshot(path=str(server["tmp"] / "cockpit-phone.png"), full_page=True)

            page.emulate_media(media="print")
            expect(chart).to_be_visible()
            expect(page.locator("form[action$='/extra-readers'] button")).to_be_hidden()
            assert not problems, problems
        finally:
            browser.close()
