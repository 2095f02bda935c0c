"""End to end in a real headless browser: sign up, confirm by the mailed link, log in.

The real server (`contest serve`, granian) runs as a subprocess on the test session's database,
with jobs in-process, so the confirmation mail is written to MAIL_DIR by the server itself.
Chromium is Debian's (/usr/bin/chromium or CHROMIUM), driven by Playwright; browsers are never
downloaded. Without Playwright or Chromium the test is skipped, or fails under REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import email
import re
import time
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest

from contest.i18n import t
from contest.web import SESSION_COOKIE
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, log_tail, unavailable
from tests.factories import PASSWORD, decoded_body, link_in, make_org
from uploads.testing import make_pdf

pytestmark = pytest.mark.e2e

ORG_NAME = "เทศบาลตำบลทดสอบเบราว์เซอร์"
EMAIL = "browser.staff@example.go.th"


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`contest serve` on a free port, sharing the test session's database; stopped afterwards.

    The organisation to sign up for is created first, while no other process has the database open.
    """
    org_code = run(make_org(name_th=ORG_NAME, kind="subdistrict_municipality"))
    with contest_server(tmp_path) as (base_url, log):
        yield {"org_code": org_code, "url": base_url, "mail_dir": tmp_path / "mail", "log": log, "tmp": tmp_path}


def _wait_for_mail(mail_dir: Path, to: str, log: Path, timeout: float = 15.0) -> str:
    """The raw text of the first .eml addressed to ``to`` (the in-process runner ticks every 2 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            text = path.read_bytes().decode("utf-8", "replace")
            msg = email.message_from_string(text, policy=policy.default)
            if msg["To"] and to in str(msg["To"]).lower():
                return text
        time.sleep(0.25)
    found = sorted(p.name for p in mail_dir.glob("*")) if mail_dir.exists() else []
    pytest.fail(f"no mail to {to} in {mail_dir} after {timeout} s (found {found}):\n{log_tail(log)}")


def test_signup_confirm_and_login_in_a_real_browser(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    code, base, log = server["org_code"], server["url"], server["log"]
    th = lambda message: t(message, "th")  # noqa: E731 - the page text the server renders in Thai

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="th-TH", viewport={"width": 1280, "height": 900})
            context.set_default_timeout(10_000)
            page = context.new_page()
            server_errors: list[str] = []
            page.on("response", lambda r: server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)

            # 1. Find the organisation (the no-JS search form: press Search) and sign up.
            resp = page.goto(base + "/signup")
            assert resp is not None and resp.status == 200
            expect(page.locator("html")).to_have_attribute("lang", "th")
            page.fill("#org-q", "ทดสอบเบราว์")
            with page.expect_navigation(url=re.compile(r"/signup\?.*q=")):
                page.get_by_role("button", name=th("Search"), exact=True).click()
            radio = page.locator(f'#org-results input[type="radio"][name="organisation_code"][value="{code}"]')
            expect(radio).to_have_count(1)
            expect(page.locator("#org-results")).to_contain_text(ORG_NAME)
            radio.check()
            page.fill("#f-name", "สมหญิง ใจดี")
            page.fill("#f-email", EMAIL)
            page.fill("#f-password", PASSWORD)
            page.screenshot(path=str(server["tmp"] / "signup.png"), full_page=True)
            with page.expect_navigation() as nav:
                page.get_by_role("button", name=th("Create account"), exact=True).click()
            resp = nav.value
            assert resp is not None and resp.status == 200, f"{resp and resp.status}: {page.content()[:3000]}"
            expect(page.locator("h1")).to_have_text(th("Check your email"))
            expect(page.locator("main")).to_contain_text(EMAIL)

            # 2. The server's in-process job runner mails the confirmation link; open it.
            mail = _wait_for_mail(server["mail_dir"], EMAIL, log)
            link = link_in(mail, "/account/confirm/")
            assert f"{base}{link}" in decoded_body(mail)  # links are absolute, on BASE_URL
            resp = page.goto(base + link)
            assert resp is not None and resp.status == 200, page.content()[:3000]
            expect(page.locator("h1")).to_have_text(th("Your email is confirmed"))

            # 3. Log in through the form. Then the header offers "Log out" and /account shows who is in.
            page.locator('main a[href="/login"]').click()
            page.wait_for_url(re.compile(r"/login$"))
            page.fill("#f-email", EMAIL)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation() as nav:
                page.locator("main form[action='/login'] button[type=submit]").click()
            assert "/login" not in page.url, f"still on the login page: {page.locator('main').inner_text()}"
            assert any(c["name"] == SESSION_COOKIE and c["value"] for c in context.cookies()), "no session cookie"
            landed = (page.url, nav.value.status if nav.value else None,
                      page.locator("header form[action='/logout'] button").count(),
                      page.locator("h1").first.inner_text())
            page.screenshot(path=str(server["tmp"] / "landing-after-login.png"), full_page=True)

            resp = page.goto(base + "/account")
            assert resp is not None and resp.status == 200
            expect(page.locator("header form[action='/logout'] button")).to_have_text(th("Log out"))
            expect(page.locator("main")).to_contain_text(EMAIL)
            expect(page.locator("main")).to_contain_text(ORG_NAME)
            page.screenshot(path=str(server["tmp"] / "after-login.png"), full_page=True)
            assert not server_errors, server_errors

            # Where log-in sends an applicant (pages.py: /entries) must be a real page showing the
            # signed-in header, not an error page that looks logged out.
            url, status, logout_buttons, heading = landed
            assert status == 200 and logout_buttons == 1, (
                f"log-in landed on {url} with status {status}, {logout_buttons} log-out button(s), h1 {heading!r}")

            # 4. A new account waits for approval. Its organisation has no verified member yet, so
            # the page it landed on asks for the authorisation letter; it is sent from the browser.
            assert url.endswith("/account/membership"), url
            page.goto(base + "/account/membership")
            expect(page.locator("main")).to_contain_text(th("Waiting for approval"))
            page.set_input_files("#f-letter", files=[{"name": "หนังสือมอบหมาย.pdf", "mimeType": "application/pdf",
                                                      "buffer": make_pdf()}])
            with page.expect_navigation() as nav:
                page.get_by_role("button", name=th("Send the letter"), exact=True).click()
            assert nav.value is not None and nav.value.status == 200, page.content()[:3000]
            expect(page.locator("main")).to_contain_text(th("Your request is sent."))
            expect(page.locator("main a[href$='/letter']")).to_have_text("หนังสือมอบหมาย.pdf")
            assert page.locator("#f-letter").count() == 0
            assert not server_errors, server_errors
        finally:
            browser.close()
