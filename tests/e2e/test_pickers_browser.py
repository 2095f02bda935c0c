"""The pickers with their script, in a real browser: the tie-break chain is reordered, shortened
and lengthened in the page (no round trip, the focus stays on the moved step), the committee
search lists its matches as one types, and category rows are added and removed in the page.
What is saved is what the page showed. The same forms without the script are tested in
tests/judging/test_pickers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contest.i18n import t
from contest.tables import User
from judging.domain import rounds
from judging.domain.rounds import DEFAULT_RUBRIC
from judging.tables import Member
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, read, unavailable
from tests.factories import PASSWORD, fresh_otp
from tests.judging.support import YEAR, make_reviewers, screening

pytestmark = pytest.mark.e2e


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    s = screening(entries=2, reviewers=1, per_entry=1, open_round=False)
    ids, emails = make_reviewers(2, prefix="panel")
    run(User.update({User.name: "สมศรี มีสุข"}).where(User.id == ids[0]))
    with contest_server(tmp_path) as (base_url, log):
        yield {"s": s, "url": base_url, "log": log, "panel": emails, "panel_ids": ids}


def log_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.fill("#f-otp", fresh_otp(email, real_time=True) or "")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_pickers_work_in_the_page(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    s, base = server["s"], server["url"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="th-TH", viewport={"width": 1280, "height": 900})
            context.set_default_timeout(10_000)
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"js error: {exc}"))
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
            log_in(page, base, s.admins[0])

            # The tie-break chain: moved, removed and added in the page, then saved.
            page.goto(f"{base}/admin/judging/rounds/{s.round_id}/rules")
            page.evaluate("window.stayed = true")
            steps = page.locator("[data-order-list] li")
            expect(steps).to_have_count(3)
            codes = lambda: [c.strip() for c in page.locator("[data-order-list] li code").all_inner_texts()]  # noqa: E731
            assert codes() == ["results", "fit", "technology"]
            steps.nth(0).locator('button[data-move="down"]').click()
            assert codes() == ["fit", "results", "technology"]
            assert page.evaluate("document.activeElement.value") == "tie-down-1"
            page.keyboard.press("Enter")  # moving again is one key away
            assert codes() == ["fit", "technology", "results"]
            assert page.evaluate("document.activeElement.value") == "tie-up-2"  # at the end: "up" takes the focus
            results = next(c["name_th"] for c in DEFAULT_RUBRIC if c["code"] == "results")
            expect(page.locator("[data-live]")).to_have_text(t("{name}: now number {n}.", "th", name=results, n=3))
            steps.nth(0).locator('button[data-move="remove"]').click()
            assert codes() == ["technology", "results"]
            page.select_option("#f-tie_add", "fit")
            page.locator("[data-order-add] button").click()
            assert codes() == ["technology", "results", "fit"]
            assert page.evaluate("window.stayed") is True  # no round trip so far
            page.locator("#f-tie_break").screenshot(path=str(server["log"].parent / "tie-break.png"))
            with page.expect_navigation():
                page.locator("form button.button").click()
            assert read(rounds.get_round(s.round_id)).tie_break == ["technology", "results", "fit"]

            # The committee search lists its matches as one types; the ticked ones are added.
            page.goto(f"{base}/admin/judging/rounds/{s.round_id}/committee")
            page.evaluate("window.stayed = true")
            page.locator("#f-people_q").press_sequentially("panel")
            expect(page.locator("#people-results input[type=checkbox]")).to_have_count(2)
            # What was found is said once, from the list's legend.
            expect(page.locator('form[data-picker-search="people-results"] [data-live]')).to_have_text(
                t("Accounts matching “{q}”: {n} of {total}", "th", q="panel", n=2, total=2))
            assert page.evaluate("window.stayed") is True
            expect(page.locator("#people-results label").first).to_have_text("สมศรี มีสุข")
            page.locator("#people-results input[type=checkbox]").first.check()
            page.locator("#f-orgs_q").fill("ทดสอบ")
            expect(page.locator("#org-results input[type=checkbox]").first).to_be_visible()
            page.screenshot(path=str(server["log"].parent / "committee.png"), full_page=True)
            with page.expect_navigation():
                page.locator('#people-results button[value="add_people"]').click()
            assert read(Member.exists().where((Member.round == s.round_id) & (Member.user == server["panel_ids"][0])))
            assert not problems, problems

            # Category rows: added and removed in the page; the new row takes the focus.
            page.goto(f"{base}/admin/editions/{YEAR}/edit")
            page.evaluate("window.stayed = true")
            rows = page.locator("[data-rows] [data-row]")
            before = rows.count()
            page.locator("[data-add-row]").click()
            expect(rows).to_have_count(before + 1)
            assert page.evaluate("document.activeElement.name") == f"categories-{before}-code"
            page.keyboard.type("safety")
            rows.nth(0).locator("[data-remove-row]").click()
            expect(rows).to_have_count(before)
            assert page.evaluate("window.stayed") is True
            page.locator("#f-categories").screenshot(path=str(server["log"].parent / "categories.png"))
            names = page.evaluate("Array.from(document.querySelectorAll('[data-rows] input')).map(e => e.name)")
            assert names[:3] == ["categories-0-code", "categories-0-name_th", "categories-0-name_en"]
            assert not problems, problems
        finally:
            browser.close()
