"""Times on the pages are Bangkok time in Thai with a Buddhist-Era year, never the UTC text the
database or the audit trail keeps ("2026-12-03T09:40:48Z")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from contest import clock
from contest.domain import proposals
from contest.domain.audit import Actor
from tests.conftest import run
from tests.factories import browser_login, make_edition, make_user

pytestmark = pytest.mark.integration

ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _shown(html: str) -> str:
    """The page's text as people read it (attributes such as <time datetime> are for machines)."""
    return re.sub(r"<[^>]*>", " ", html)


def test_admin_pages_show_no_utc_text(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(2569))
    admin_id = run(make_user("admin", email="admin@example.go.th"))
    run(make_user("admin", email="second@example.go.th"))
    moved = clock.now().replace(microsecond=0) + timedelta(days=300)
    proposer = Actor(id=admin_id, email="admin@example.go.th", role="admin")
    run(proposals.propose(proposer, proposals.MOVE_ANNOUNCEMENT, {
        "year": 2569, "announcement_at": clock.utc_iso(moved), "from": clock.utc_iso(clock.now())}))
    browser_login(client, "admin@example.go.th")
    for path in ("/admin", "/admin/audit", "/admin/pending-actions", "/admin/users", "/admin/privacy",
                 "/admin/editions/2569", "/admin/outbox", "/account/data", "/"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert not ISO_TIME.search(_shown(page.text)), (path, ISO_TIME.search(_shown(page.text)))
    audit = client.get("/admin/audit").text
    today = clock.to_bangkok(datetime.now(UTC))
    assert f"{today.day} " in audit and str(today.year + 543) in audit and "น." in audit
