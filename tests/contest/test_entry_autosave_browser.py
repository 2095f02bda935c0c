"""In a real browser: what is typed is saved when the page is left or hidden before the
autosave delay (fetch keepalive, same endpoint, CSRF header, version check), and the next
autosave carries the new version. Real server (`contest serve`) and Debian's Chromium, as in
tests/e2e; skipped without Playwright or Chromium (fails under REQUIRE_SERVICES=1)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contest.i18n import t
from contest.tables import Entry
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, log_tail, read, unavailable
from tests.factories import PASSWORD, make_edition, make_org, make_user

pytestmark = pytest.mark.e2e

EMAIL = "autosave.staff@example.go.th"



def _wait_for(query: Any, expected: Any, timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = read(query)
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    from contest.domain import accounts, submission

    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email=EMAIL, org=org))
    actor = run(accounts.authenticate(EMAIL, PASSWORD))
    entry_id = run(submission.create_entry(actor=actor, year=2569, data={"title": "ชื่อเดิม"}))
    with contest_server(tmp_path) as (base_url, log):
        yield {"url": base_url, "log": log, "entry_id": entry_id}


def test_typing_is_saved_when_the_page_is_hidden_or_left_before_the_autosave(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    base, entry_id = server["url"], server["entry_id"]
    row = Entry.select(Entry.title, Entry.summary, Entry.version).where(Entry.id == entry_id).first()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="th-TH")
            context.set_default_timeout(10_000)
            page = context.new_page()
            statuses: list[int] = []
            page.on("response", lambda r: statuses.append(r.status) if "/autosave" in r.url else None)
            page.goto(base + "/login")
            page.fill("#f-email", EMAIL)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.locator("main form[action='/login'] button[type=submit]").click()
            page.goto(f"{base}/entries/{entry_id}")

            # 1. The tab is hidden (another app, the phone locked) right after typing.
            # The save must come at once, well before htmx's own 1.5 s delay would send it.
            page.fill("#f-summary", "สรุปที่พิมพ์ก่อนสลับแท็บ")
            with page.expect_response(lambda r: r.url.endswith("/autosave"), timeout=1000) as hidden_save:
                page.evaluate("""() => {
                    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
                    document.dispatchEvent(new Event('visibilitychange'));
                    delete document.visibilityState;
                }""")
            assert hidden_save.value.status == 200
            expect(page.locator("#save-status")).to_contain_text(t("Saved automatically at {time}.", "th")
                                                                 .split("{")[0].strip())
            assert _wait_for(row, {"title": "ชื่อเดิม", "summary": "สรุปที่พิมพ์ก่อนสลับแท็บ", "version": 2}) == {
                "title": "ชื่อเดิม", "summary": "สรุปที่พิมพ์ก่อนสลับแท็บ", "version": 2}
            expect(page.locator("#f-version")).to_have_value("2")

            # 2. The next ordinary autosave carries the new version: saved, no conflict.
            page.fill("#f-technology", "LINE OA")
            assert _wait_for(row, {"title": "ชื่อเดิม", "summary": "สรุปที่พิมพ์ก่อนสลับแท็บ", "version": 3})[
                "version"] == 3
            expect(page.locator("#f-version")).to_have_value("3")

            # 3. A link followed at once after typing: the page goes, the keepalive save arrives.
            page.fill("#f-title", "ชื่อที่พิมพ์แล้วออกทันที")
            page.locator(".breadcrumb a[href='/entries']").click()
            page.wait_for_url(f"{base}/entries")
            saved = _wait_for(row, {"title": "ชื่อที่พิมพ์แล้วออกทันที", "summary": "สรุปที่พิมพ์ก่อนสลับแท็บ",
                                    "version": 4})
            assert saved == {"title": "ชื่อที่พิมพ์แล้วออกทันที", "summary": "สรุปที่พิมพ์ก่อนสลับแท็บ",
                             "version": 4}, log_tail(server["log"])
            page.reload()  # the list may have been drawn before the keepalive save arrived
            expect(page.locator("main")).to_contain_text("ชื่อที่พิมพ์แล้วออกทันที")
            assert 409 not in statuses and 422 not in statuses, statuses
            assert read(Entry.select(Entry.technology).where(Entry.id == entry_id).first())["technology"] == "LINE OA"
        finally:
            browser.close()
