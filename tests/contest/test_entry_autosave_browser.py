"""In a real browser: what is typed is saved when the page is left or hidden before the
autosave delay (fetch keepalive, same endpoint, CSRF header, version check), and the next
autosave carries the new version. Real server (`contest serve`) and Debian's Chromium, as in
tests/e2e; skipped without Playwright or Chromium (fails under REQUIRE_SERVICES=1)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest

from contest.i18n import t
from contest.tables import Entry
from tests.conftest import run
from tests.e2e.test_signup_browser import (CHROMIUM_ARGS, _chromium, _contest_command, _free_port, _log_tail,
                                           _unavailable)
from tests.factories import PASSWORD, make_edition, make_org, make_user

pytestmark = pytest.mark.e2e

EMAIL = "autosave.staff@example.go.th"


def read(query: Any) -> Any:
    """A database read while Playwright's own event loop runs in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run, query).result()


def _wait_for(query: Any, expected: Any, timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = read(query)
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    from contest.domain import accounts, entries

    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email=EMAIL, org=org))
    actor = run(accounts.authenticate(EMAIL, PASSWORD))
    entry_id = run(entries.create_entry(actor=actor, year=2569, data={"title": "ชื่อเดิม"}))
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(VAR_DIR=str(tmp_path / "var"), DATABASE_URL=os.environ["DATABASE_URL"],
               MAIL_DIR=str(tmp_path / "mail"), STORAGE_URL=str(tmp_path / "uploads"), BASE_URL=base_url,
               SECRET_KEY="e2e-secret-key-not-for-production", DB_POOL="1", WEB_WORKERS="1")
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*_contest_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{_log_tail(log)}")
            try:
                with urllib.request.urlopen(base_url + "/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer on {base_url} within 20 s:\n{_log_tail(log)}")
            time.sleep(0.2)
        yield {"url": base_url, "log": log, "entry_id": entry_id}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def test_typing_is_saved_when_the_page_is_hidden_or_left_before_the_autosave(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium = _chromium()
    base, entry_id = server["url"], server["entry_id"]
    row = Entry.select(Entry.title, Entry.summary, Entry.version).where(Entry.id == entry_id).first()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
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
                             "version": 4}, _log_tail(server["log"])
            page.reload()  # the list may have been drawn before the keepalive save arrived
            expect(page.locator("main")).to_contain_text("ชื่อที่พิมพ์แล้วออกทันที")
            assert 409 not in statuses and 422 not in statuses, statuses
            assert read(Entry.select(Entry.technology).where(Entry.id == entry_id).first())["technology"] == "LINE OA"
        finally:
            browser.close()
