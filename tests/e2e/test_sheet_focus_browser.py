"""On the score sheet, Enter moves to the next score, and the field it moves to is never hidden
(WCAG 2.4.11): in a real browser, on a desktop screen and on a 390 × 844 phone, every step of
Enter-to-next-score is walked, and after each (once the autosave has answered and the page has
settled) the focused field's rectangle must lie fully inside the visible area of the page and
of every scrolling box around it, and must not meet the Save/Submit bar.

The real server (`contest serve`) on the test session's database and Debian's Chromium via
Playwright, as in test_review_browser.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contest.i18n import t
from judging.tables import Assignment
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, unavailable
from tests.factories import PASSWORD, fresh_otp
from tests.judging.support import screening

pytestmark = pytest.mark.e2e

#: Where the focused field is, and where the bar is, as the person sees them.
PLACE = """() => {
  const el = document.activeElement;
  const r = el.getBoundingClientRect();
  let top = 0, bottom = window.innerHeight, left = 0, right = window.innerWidth;
  for (let p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
    const cs = getComputedStyle(p);
    if (/(auto|scroll|hidden|clip)/.test(cs.overflowY + cs.overflowX)) {
      const pr = p.getBoundingClientRect();
      top = Math.max(top, pr.top); bottom = Math.min(bottom, pr.bottom);
      left = Math.max(left, pr.left); right = Math.min(right, pr.right);
    }
  }
  const bar = el.form ? el.form.querySelector('.form-actions') : null;
  const b = bar ? bar.getBoundingClientRect() : null;
  // What is drawn on top at the field's corners and centre: the field itself, or what covers it.
  const points = [[r.left + 2, r.top + 2], [r.right - 2, r.top + 2], [r.left + 2, r.bottom - 2],
                  [r.right - 2, r.bottom - 2], [(r.left + r.right) / 2, (r.top + r.bottom) / 2]];
  const covered = points.filter(([x, y]) => {
    const hit = document.elementFromPoint(x, y);
    return !(hit && (hit === el || el.contains(hit)));
  }).length;
  return {id: el.id, top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          visible: {top, bottom, left, right}, covered,
          bar: b ? {top: b.top, bottom: b.bottom, position: getComputedStyle(bar).position} : null};
}"""


#: htmx has finished the autosave (request, swap and settle), and a frame has been drawn since.
SETTLED = """() => new Promise(done => requestAnimationFrame(() => done(
  !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added'))))"""


def th(message: str, **params: Any) -> str:
    return t(message, "th", **params)


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    s = screening(entries=3, reviewers=3)  # the default rubric: six criteria
    with contest_server(tmp_path) as (base_url, log):
        yield {"s": s, "url": base_url, "tmp": tmp_path}


def assert_fully_shown(place: dict[str, Any], step: str) -> None:
    v = place["visible"]
    assert place["top"] >= v["top"] - 0.5 and place["bottom"] <= v["bottom"] + 0.5, (step, place)
    assert place["left"] >= v["left"] - 0.5 and place["right"] <= v["right"] + 0.5, (step, place)
    bar = place["bar"]
    assert bar is not None, step
    assert place["bottom"] <= bar["top"] + 0.5 or place["top"] >= bar["bottom"] - 0.5, (step, place)
    assert place["covered"] == 0, (step, place)


def walk(page: Any, url: str, shots: Path, name: str) -> list[str]:
    """Open the sheet, type a score in each field and press Enter; check every field reached."""
    from playwright.sync_api import expect

    page.goto(url)
    fields = page.eval_on_selector_all("#score-form input[type=number], #score-form textarea[name=comment]",
                                       "els => els.map(e => e.id)")
    assert len(fields) == 7 and page.evaluate("() => document.activeElement.id") == fields[0]
    page.keyboard.type("7")  # typing brings the first field into view
    assert_fully_shown(page.evaluate(PLACE), f"{name}: typing in {fields[0]}")
    reached = []
    for i, field in enumerate(fields[:-1]):
        if i:
            page.keyboard.type(str(5 + i % 4))
        page.keyboard.press("Enter")
        # The field left is saved; its note appears above the new one and the page settles.
        expect(page.locator(f"#fs-{field.removeprefix('f-')} .saved")).to_have_count(1)
        page.wait_for_function(SETTLED)
        place = page.evaluate(PLACE)
        assert place["id"] == fields[i + 1], place
        page.screenshot(path=str(shots / f"{name}-{i + 1}.png"))
        assert_fully_shown(place, f"{name}: Enter in {field}")
        reached.append(place["id"])
    return reached


def login(page: Any, base: str, email: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(th("Two-factor sign-in"))
    page.fill("#f-otp", fresh_otp(email, real_time=True) or "")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_enter_never_moves_the_focus_behind_the_bar(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    s, base = server["s"], server["url"]
    email, member = s.reviewer_emails[0], s.reviewers[0]
    mine = [a["id"] for a in run(Assignment.select(Assignment.id).where(
        (Assignment.round == s.round_id) & (Assignment.reviewer == member)).order_by(Assignment.id))]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            desktop = browser.new_context(locale="th-TH", viewport={"width": 1280, "height": 720})
            desktop.set_default_timeout(10_000)
            page = desktop.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"js error: {exc}"))
            login(page, base, email)
            reached = walk(page, f"{base}/review/assignments/{mine[0]}", server["tmp"], "desktop")
            assert reached[-1] == "f-comment" and len(reached) == 6

            phone = browser.new_context(locale="th-TH", viewport={"width": 390, "height": 844}, is_mobile=True,
                                        has_touch=True, storage_state=desktop.storage_state())
            phone.set_default_timeout(10_000)
            phone_page = phone.new_page()
            phone_page.on("pageerror", lambda exc: problems.append(f"js error: {exc}"))
            reached = walk(phone_page, f"{base}/review/assignments/{mine[1]}", server["tmp"], "phone")
            assert reached[-1] == "f-comment" and len(reached) == 6
            phone.close()
            assert not problems, problems
        finally:
            browser.close()
