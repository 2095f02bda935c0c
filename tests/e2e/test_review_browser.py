"""End to end in a real headless browser: a committee member logs in, opens the queue, scores an
entry with the keyboard alone (autosave confirms each field, a wrong score is flagged next to its
field and fixed), submits, and lands on the next entry with the cursor already in its first score.

The real server (`contest serve`, granian) runs as a subprocess on the test session's database;
Debian's Chromium is driven by Playwright, exactly as in test_signup_browser.py (whose helpers this
module shares). Without Playwright or Chromium the test is skipped, or fails under REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contest.i18n import t
from judging.domain import assignments
from judging.tables import Assignment
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, read, unavailable
from tests.factories import PASSWORD, fresh_otp
from tests.judging.support import screening

pytestmark = pytest.mark.e2e

CODES = ["fit", "technology", "vision", "implementation", "results", "adoption"]
TYPED = {"fit": "8", "technology": "7.5", "vision": "6", "implementation": "9", "results": "12", "adoption": "5"}



def th(message: str, **params: Any) -> str:
    return t(message, "th", **params)


def th_start(message: str) -> str:
    """The Thai text of a message up to its first placeholder."""
    return t(message, "th").split("{")[0].strip()


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An open screening round, assigned, then `contest serve` on a free port on the same database."""
    s = screening(entries=6, reviewers=3)  # every member has all six entries
    with contest_server(tmp_path) as (base_url, log):
        yield {"s": s, "url": base_url, "log": log, "tmp": tmp_path}


def _active(page: Any) -> dict[str, str]:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName, id: e.id || '', href: e.getAttribute('href') || '',
                text: (e.innerText || '').trim()}; }""")


def _tab_to(page: Any, wanted: Any, limit: int = 40) -> dict[str, str]:
    """Press Tab until the focused element matches ``wanted`` (the way a keyboard user gets there)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _active(page)
        if wanted(now):
            return now
    raise AssertionError(f"never reached the element with Tab; last focus {now}")


def test_member_scores_with_the_keyboard_submits_and_lands_on_the_next_entry(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    s, base = server["s"], server["url"]
    email, member = s.reviewer_emails[0], s.reviewers[0]
    mine = run(Assignment.select(Assignment.id).where(
        (Assignment.round == s.round_id) & (Assignment.reviewer == member)).order_by(Assignment.id))
    first, second = mine[0]["id"], mine[1]["id"]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="th-TH", viewport={"width": 1366, "height": 900})
            context.set_default_timeout(10_000)
            page = context.new_page()
            problems: list[str] = []
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
            page.on("pageerror", lambda exc: problems.append(f"js error: {exc}"))

            # Log in; a committee member lands on their rounds.
            page.goto(base + "/login")
            page.fill("#f-email", email)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            # Committee members sign in with two factors: the code from their app.
            expect(page.locator("h1")).to_have_text(th("Two-factor sign-in"))
            page.fill("#f-otp", fresh_otp(email, real_time=True) or "")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url == base + "/review", page.url
            expect(page.locator("h1")).to_have_text(th("My reviews"))
            expect(page.locator("main")).to_contain_text(th("{done} of {total} submitted", done=0, total=6))

            # Keyboard only from here: Tab to the queue, open it, Tab to "Score the next one".
            _tab_to(page, lambda a: a["href"] == f"/review/rounds/{s.round_id}")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            expect(page.locator("#queue-progress")).to_have_attribute("value", "0")
            expect(page.locator("table.queue tbody tr")).to_have_count(6)
            page.screenshot(path=str(server["tmp"] / "queue.png"), full_page=True)
            _tab_to(page, lambda a: a["href"] == f"/review/rounds/{s.round_id}/next")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert re.search(rf"/review/assignments/{first}\?go=1$", page.url), page.url
            page.screenshot(path=str(server["tmp"] / "scoring-page.png"), full_page=True)

            # The cursor is already in the first criterion.
            assert _active(page)["id"] == "f-score_fit"
            scoring_url = page.url
            for code in CODES:
                assert _active(page)["id"] == f"f-score_{code}", _active(page)
                page.keyboard.type(TYPED[code])
                if code == "fit":
                    # Enter moves on to the next field and saves; it never submits the sheet.
                    page.keyboard.press("Enter")
                    expect(page.locator("#fs-score_fit")).to_contain_text(th_start("Saved at {time}"))
                    expect(page.locator("#save-status")).to_contain_text(th_start("Saved automatically at {time}."))
                    assert page.url == scoring_url and _active(page)["id"] == "f-score_technology"
                    assert read(Assignment.select(Assignment.state).where(Assignment.id == first).first())[
                        "state"] == "assigned"
                else:
                    page.keyboard.press("Tab")  # leaving the field saves the sheet
            # 12 is out of range: the note sits next to the field, nothing was saved, and the field says so.
            error = th("Enter a score from {low} to {high}.", low="0", high="10")
            expect(page.locator("#fs-score_results .error")).to_have_text(error)
            expect(page.locator("#f-score_results")).to_have_attribute("aria-invalid", "true")
            expect(page.locator("#save-status")).to_contain_text(th("Not saved yet: please check these fields."))
            page.screenshot(path=str(server["tmp"] / "scoring-error.png"), full_page=True)
            # Back to it with Shift+Tab (past "adoption"), replace the value, Tab on.
            page.keyboard.press("Shift+Tab")
            page.keyboard.press("Shift+Tab")
            assert _active(page)["id"] == "f-score_results"
            page.keyboard.press("Control+A")
            page.keyboard.type("9.5")
            page.keyboard.press("Tab")
            expect(page.locator("#fs-score_results .error")).to_have_count(0)
            expect(page.locator("#f-score_results")).not_to_have_attribute("aria-invalid", "true")
            expect(page.locator("#save-status")).to_contain_text(th("{n} of {total} criteria scored.", n=6, total=6))
            assert _active(page)["id"] == "f-score_adoption"
            page.keyboard.press("Tab")
            assert _active(page)["id"] == "f-comment"
            page.keyboard.type("บริการตอบโจทย์ประชาชนชัดเจน")
            expect(page.locator("#fs-comment .saved")).to_have_count(1, timeout=10_000)  # saved while typing
            stored = read(Assignment.select(Assignment.scores, Assignment.comment, Assignment.state).where(
                Assignment.id == first).first())
            assert assignments.stored_sheet(stored["scores"]) == {"fit": 8, "technology": 7.5, "vision": 6,
                                                        "implementation": 9, "results": 9.5, "adoption": 5}
            assert stored["comment"] == "บริการตอบโจทย์ประชาชนชัดเจน" and stored["state"] == "assigned"
            assert "stale" not in page.locator("#save-status").inner_text()

            # Tab past "Save, do not submit yet" to "Submit", press Enter: locked, and straight on
            # to the next entry. Each button says what it does.
            page.keyboard.press("Tab")
            assert _active(page)["text"] == th("Save, do not submit yet")
            expect(page.locator("#h-save")).to_have_text(th("Keeps your scores; you can still change them."))
            page.keyboard.press("Tab")
            assert _active(page)["text"] == th("Submit scores and go to the next entry")
            expect(page.locator("#h-submit")).to_have_text(
                th("Locks your scores (only an organiser can reopen them) and opens the next entry to score."))
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert re.search(rf"/review/assignments/{second}\?done=submitted$", page.url), page.url
            expect(page.locator("main .notice").first).to_have_text(
                th("Your scores were submitted. This is the next entry to score."))
            expect(page.locator("main")).to_contain_text(
                th("Entry {position} of {total} in your queue; {done} submitted.", position=2, total=6, done=1))
            assert _active(page)["id"] == "f-score_fit"  # ready for the next one, no mouse needed
            page.screenshot(path=str(server["tmp"] / "next-entry.png"), full_page=True)
            locked = read(Assignment.select(Assignment.state).where(Assignment.id == first).first())
            assert locked["state"] == "submitted"

            # The session ends (logged out in another tab): an autosave says it did not save, in
            # place, and the page stays as it is with the typed score.
            context.clear_cookies()
            page.keyboard.type("4")
            page.keyboard.press("Tab")
            expect(page.locator("#save-status")).to_contain_text("ยังไม่ได้บันทึก")
            expect(page.locator("#f-score_fit")).to_have_value("4")
            expect(page.locator("h1")).to_have_count(1)
            assert read(Assignment.select(Assignment.scores).where(Assignment.id == second).first())["scores"] in (
                {}, "{}")

            # The submitted one is read-only now (logged in again).
            page.goto(base + "/login")
            page.fill("#f-email", email)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.fill("#f-otp", fresh_otp(email, real_time=True) or "")
            with page.expect_navigation():
                page.keyboard.press("Enter")

            page.goto(base + f"/review/assignments/{first}")
            expect(page.locator("#score-form")).to_have_count(0)
            expect(page.locator(".scores-read")).to_contain_text("9.5")

            # Any scoring page opened directly puts the cursor in the first score, on a wide screen...
            third = mine[2]["id"]
            page.goto(base + f"/review/assignments/{third}")
            assert _active(page)["id"] == "f-score_fit"
            # ...and on a phone, where the entry comes first and stays in view (not scrolled past).
            phone = browser.new_context(locale="th-TH", viewport={"width": 390, "height": 844}, is_mobile=True,
                                        has_touch=True, storage_state=context.storage_state())
            phone_page = phone.new_page()
            phone_page.goto(base + f"/review/assignments/{third}")
            assert _active(phone_page)["id"] == "f-score_fit"
            assert phone_page.evaluate("() => window.scrollY") == 0
            phone_page.screenshot(path=str(server["tmp"] / "phone.png"))
            phone.close()
            assert not problems, problems
        finally:
            browser.close()
