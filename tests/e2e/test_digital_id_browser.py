"""End to end in a real headless browser: log in with DGA Digital ID. A real certified OpenID
provider (panva's oidc-provider, scripts/oidc-provider) runs beside `contest serve`; the browser
leaves for the provider, comes back, and creates its account.

Needs Node.js (for the provider), Playwright and Debian's Chromium; without them the test is
skipped, or fails under REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contest.i18n import t
from contest.settings import PROJECT_ROOT
from contest.tables import Identity, User
from tests.conftest import run
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, free_port, unavailable

pytestmark = pytest.mark.e2e

PROVIDER = PROJECT_ROOT / "scripts" / "oidc-provider"


@pytest.fixture()
def server(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The provider's port first (the server must know its issuer), then the server, then the
    provider, which must know the server's callback."""
    if not shutil.which("node") or not (PROVIDER / "node_modules" / "oidc-provider").exists():
        unavailable("Node.js and scripts/oidc-provider/node_modules are needed (scripts/services.sh installs them)")
    provider_port = free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    monkeypatch.setenv("OIDC_ISSUER", issuer)
    monkeypatch.setenv("OIDC_CLIENT_ID", "contest-e2e")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "contest-e2e-secret")
    with contest_server(tmp_path) as (base_url, log):
        env = {**os.environ, "PORT": str(provider_port), "CLIENT_ID": "contest-e2e",
               "CLIENT_SECRET": "contest-e2e-secret", "REDIRECT_URI": f"{base_url}/login/digital-id/callback"}
        provider_log = (tmp_path / "provider.log").open("wb")
        provider = subprocess.Popen(["node", str(PROVIDER / "server.mjs")], env=env, stdout=provider_log,
                                    stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail("the OpenID provider did not start")
                    time.sleep(0.1)
            yield {"url": base_url, "log": log}
        finally:
            provider.terminate()
            provider.wait(timeout=10)
            provider_log.close()


def test_a_person_logs_in_with_digital_id_in_the_browser_and_gets_an_account(server: dict[str, Any]) -> None:
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
            page = browser.new_context(locale="th-TH").new_page()
            page.set_default_timeout(15_000)
            problems: list[str] = []
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
            page.goto(base + "/login")
            with page.expect_navigation(url=f"{base}/login/digital-id/callback**"):
                page.get_by_role("link", name=th("Log in with DGA Digital ID")).click()
            expect(page.locator("h1")).to_contain_text("สมชาย ใจดี")
            with page.expect_navigation():
                page.get_by_role("button", name=th("Create my account")).click()
            assert page.url.endswith("/account/membership"), page.url
            expect(page.locator("h1")).to_have_text(th("My organisation"))
            expect(page.locator("header form[action='/logout'] button")).to_be_visible()
            assert not problems, problems
        finally:
            browser.close()
    user = run(User.select(User.id).where(User.email == "citizen-1@digital-id.test").first())
    assert user is not None and run(Identity.exists().where(Identity.user == user["id"]))
