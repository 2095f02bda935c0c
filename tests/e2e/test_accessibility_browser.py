"""axe-core on one page of every page type, each seen by the person it is for, in Thai (and a
few in English): the public pages, the applicant's, the committee's, the organisers' and the
error pages. Any violation of any impact fails, ``landmark-unique`` included.

The pages are filled from the authorisation matrix's world (tests/authorization_world.py): a
published edition and one in its final, with entries, receipts, rounds, sheets and a proposal.
That world is built with the clock set back, so that the server, which runs on the real clock,
finds 2569 announced and 2570 in its final; and with an edition open now, for an entry form."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from contest import clock
from contest.domain import accounts, submission, twofactor
from contest.domain.audit import Actor
from contest.enums import AuthTokenKind
from contest.tables import Attachment, User
from tests.authorization_world import COMPLETE, PAST_YEAR, YEAR, World, build_world
from tests.conftest import run
from tests.e2e.axe import describe, violations
from tests.e2e.browser import CHROMIUM_ARGS, chromium, contest_server, unavailable
from tests.factories import make_edition

pytestmark = pytest.mark.e2e

OPEN_YEAR = YEAR + 1


def _session(email: str) -> str:
    row = run(User.select(User.id, User.email, User.role, User.organisation).where(User.email == email).first())
    actor = Actor(id=row["id"], email=row["email"], role=row["role"], organisation_id=row["organisation"])
    return run(accounts.issue_token(actor, AuthTokenKind.session, mfa=twofactor.required_for(actor.role))).token


@pytest.fixture()
def world(db: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    from litestar.testing import TestClient

    from contest.app import create_app

    real_now = clock.now()
    # 2569 announced about 50 days ago; 2570's deadline passed about 30 days ago, its announcement
    # is 40 days ahead: see build_world for what each step does with the clock.
    clock.freeze(real_now - timedelta(days=140))
    try:
        with TestClient(app=create_app(), base_url="http://testserver.local") as client:
            built: World = build_world(client)
    finally:
        clock.freeze(None)
    # An edition open now, and a draft in it: the entry form as applicants fill it in.
    run(make_edition(OPEN_YEAR))
    owner = run(User.select(User.id, User.email, User.role, User.organisation).where(
        User.email == built.emails["owner"]).first())
    draft = run(submission.create_entry(actor=Actor(id=owner["id"], email=owner["email"], role=owner["role"],
                                                    organisation_id=owner["organisation"]),
                                        year=OPEN_YEAR, data={**COMPLETE, "title": "แอปจองคิวรับบริการ"}))
    # A checked file, so the draft is complete and "check your answers" shows it.
    run(Attachment.insert(Attachment(entry=draft, name="แผนงาน.pdf", size=48_213, content_type="application/pdf",
                                     sha256="0" * 64, storage_key=f"axe-{draft}", check_state="passed")))
    sessions = {role: _session(email) for role, email in built.emails.items() if role != "pending"}
    with contest_server(tmp_path) as (base_url, log):
        yield {"url": base_url, "log": log, "values": {**built.values, "draft": draft}, "sessions": sessions}


def pages(v: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, path) for one page of every type; ``anonymous`` has no session."""
    judging = [f"/admin/judging/rounds/{v['round_id']}{tab}" for tab in
               ("", "/rules", "/committee", "/progress", "/ranking", "/decision")]
    final = [f"/admin/judging/rounds/{v['final_round_id']}{tab}" for tab in ("", "/presentations")]
    return [
        # The public.
        ("anonymous", "/"), ("anonymous", "/results"), ("anonymous", f"/results/{PAST_YEAR}"),
        ("anonymous", f"/showcase/{PAST_YEAR}"), ("anonymous", f"/showcase/{PAST_YEAR}/{v['past_entry']}"),
        ("anonymous", f"/certificates/{v['certificate']}"), ("anonymous", "/certificates"), ("anonymous", "/open-data"),
        ("anonymous", "/login"), ("anonymous", "/signup"), ("anonymous", "/account/forgot"),
        ("anonymous", "/privacy"), ("anonymous", "/accessibility"),
        ("anonymous", "/showcase"), ("anonymous", "/showcase?q=ระบบ"),
        # Applicants.
        ("owner", "/entries"), ("owner", f"/entries/{v['draft']}"), ("owner", f"/entries/{v['entry_id']}"),
        ("owner", f"/receipts/{v['receipt']}"), ("owner", f"/entries/{v['past_entry']}/result"),
        ("owner", "/account"), ("owner", "/account/data"), ("owner", "/organisation/members"),
        ("owner", f"/entries/{v['draft']}/check"), ("owner", f"/entries/{v['entry_id']}/withdraw"),
        ("owner", f"/entries/{v['entry_id']}/consent-withdrawal"), ("owner", "/account/privacy-notice"),
        ("owner", "/organisation/adoptions"), ("other_applicant", f"/showcase/{PAST_YEAR}/{v['past_entry']}/adopt"),
        # The committee.
        ("assigned_reviewer", "/review"), ("assigned_reviewer", f"/review/rounds/{v['round_id']}"),
        ("assigned_reviewer", f"/review/assignments/{v['assignment_id']}"),
        ("panel", f"/review/assignments/{v['panel_assignment_id']}"),
        # The organisers.
        ("admin", "/admin"), ("admin", f"/admin/editions/{YEAR}/entries"), ("admin", f"/admin/entries/{v['entry_id']}"),
        ("admin", f"/admin/editions/{YEAR}"), ("admin", f"/admin/editions/{YEAR}/edit"), ("admin", "/admin/users"),
        ("admin", "/admin/registry"),
        ("admin", "/admin/judging"), ("admin", f"/admin/judging/{YEAR}/eligibility"), *[("admin", p) for p in judging],
        *[("admin", p) for p in final], ("admin", f"/admin/judging/rounds/{v['round_id']}/members/{v['member_id']}"),
        ("admin", "/admin/audit"), ("admin", "/admin/privacy"), ("admin", "/admin/privacy-notice"),
        ("admin", "/admin/erasure-requests"), ("admin", "/admin/pending-actions"), ("admin", "/admin/memberships"),
        ("admin", "/admin/outbox"), ("admin", "/admin/editions/new"), ("admin", "/admin/adoptions"),
        ("admin", f"/admin/editions/{PAST_YEAR}/certificate"),
        ("admin", "/admin/appeals"), ("admin", f"/admin/editions/{YEAR}/publish"),
        ("admin", f"/admin/judging/rounds/{v['final_round_id']}/close"),
        ("reviewer", "/account/two-factor"),
        ("admin", f"/admin/judging/{OPEN_YEAR}/rounds/new"),
        ("admin", f"/admin/judging/rounds/{v['final_round_id']}/sign"),  # a confirmation page
        ("admin", f"/admin/judging/rounds/{v['final_round_id']}/committee?people=dga&orgs=ทดสอบ"),
        # Error pages: not found, and a page not for this person.
        ("anonymous", "/no-such-page"), ("owner", "/admin/audit"),
    ]


#: A few pages in English too.
ENGLISH = ("/", "/login", f"/results/{PAST_YEAR}", "/entries", "/review", "/admin")


def test_every_page_type_has_no_axe_violations(world: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium_path = chromium()
    base, values = world["url"], world["values"]
    visits = [(role, path, "th") for role, path in pages(values)]
    visits += [(role, path, "en") for role, path, _ in visits if path in ENGLISH]
    failures: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            contexts: dict[tuple[str, str], Any] = {}
            for role, path, lang in visits:
                if (role, lang) not in contexts:
                    context = browser.new_context(locale="th-TH" if lang == "th" else "en-GB",
                                                  viewport={"width": 1280, "height": 900})
                    context.set_default_timeout(15_000)
                    cookies = [{"name": "lang", "value": lang, "url": base}]
                    if role in world["sessions"]:
                        cookies.append({"name": "tdsid", "value": world["sessions"][role], "url": base})
                    context.add_cookies(cookies)
                    contexts[(role, lang)] = context
                page = contexts[(role, lang)].new_page()
                try:
                    resp = page.goto(base + path)
                    status = resp.status if resp else 0
                    expected_error = path in ("/no-such-page", "/admin/audit") and role in ("anonymous", "owner")
                    if status >= 500 or (status >= 400 and not expected_error):
                        failures.append(f"{role} {lang} {path}: HTTP {status}")
                        continue
                    if urlsplit(page.url).path != urlsplit(path).path:  # sent elsewhere (a login, a notice)
                        failures.append(f"{role} {lang} {path}: landed on {page.url}")
                        continue
                    found = violations(page)
                    if found:
                        failures.append(f"{role} {lang} {path} ({page.url}):\n{describe(found)}")
                finally:
                    page.close()
        finally:
            browser.close()
    assert not failures, f"{len(failures)} of {len(visits)} pages fail:\n" + "\n".join(failures)
