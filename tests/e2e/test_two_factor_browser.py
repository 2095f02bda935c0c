"""End to end in a real headless browser: an administrator without two-factor sign-in logs in, is
led to set it up, scans (reads) the key, types the code, keeps the recovery codes and reaches the
administration; the next log-in asks for a code.

The real server (`contest serve`, granian) runs as a subprocess on the test session's database.
Chromium is Debian's, driven by Playwright; without them the test is skipped, or fails under
REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contest.domain import accounts, twofactor
from contest.domain.audit import SYSTEM
from contest.i18n import t
from contest.tables import User
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, unavailable
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

EMAIL = "new.admin@dga.or.th"


@pytest.fixture()
def server(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    run(accounts.create_user(actor=SYSTEM, email=EMAIL, password=PASSWORD, role="admin"))
    with contest_server(tmp_path) as (base_url, log):
        yield {"url": base_url, "log": log, "tmp": tmp_path}


def _code(secret: str, later_steps: int = 0) -> str:
    """The code an authenticator app shows now (the server runs on the real clock)."""
    step = int(datetime.now(UTC).timestamp()) // twofactor.STEP_SECONDS + later_steps
    return twofactor.code_at(secret, step)


def test_an_admin_sets_up_two_factor_in_the_browser_and_then_logs_in_with_a_code(server: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    base = server["url"]
    th = lambda message: t(message, "th")  # noqa: E731 - the page text the server renders in Thai

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="th-TH", viewport={"width": 390, "height": 844})  # a phone
            context.set_default_timeout(10_000)
            page = context.new_page()
            problems: list[str] = []
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            # Script errors (a resource's 404 is already a response above; the browser's own
            # favicon probe is neither).
            page.on("pageerror", lambda exc: problems.append(f"js error: {exc}"))

            page.goto(base + "/login")
            page.fill("#f-email", EMAIL)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            # Straight to the set-up: the administration is closed until two-factor is on.
            assert "/account/two-factor" in page.url, page.url
            expect(page.locator("h1")).to_have_text(th("Two-factor sign-in"))
            expect(page.locator("figure.qr svg")).to_be_visible()
            secret = page.locator("#totp-secret").inner_text().strip()
            assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
            page.goto(base + "/admin")
            assert "/account/two-factor" in page.url, page.url

            page.fill("#f-code", _code(secret))
            with page.expect_navigation():
                page.get_by_role("button", name=th("Turn on two-factor sign-in")).click()
            expect(page.locator("h2#codes-h")).to_have_text(th("Your recovery codes"))
            codes = page.locator("ul.codes code").all_inner_texts()
            assert len(codes) == 10
            with page.expect_navigation():
                page.get_by_role("link", name=th("I have kept them")).click()
            assert page.url.endswith("/admin"), page.url
            expect(page.locator("h1")).to_have_text(th("Administration"))

            # Log out and in again: now the code is asked for after the password.
            with page.expect_navigation():
                page.locator("header form[action='/logout'] button").click()
            page.goto(base + "/login")
            page.fill("#f-email", EMAIL)
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            expect(page.locator("#f-otp")).to_be_focused()
            page.fill("#f-otp", _code(secret, later_steps=1))  # the next step's: this step's code is used
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url.endswith("/admin"), page.url
            assert not problems, problems
        finally:
            browser.close()
    enrolled = run(User.select(User.totp_enabled_at).where(User.email == EMAIL).first())
    assert enrolled["totp_enabled_at"] is not None
