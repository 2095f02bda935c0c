"""The entry pages as an organisation's staff use them in a browser: signed in, an entry
created, its form saved and files uploaded, each through the real routes."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import run
from tests.factories import browser_login, csrf, make_edition, make_org, make_user

#: The entry form, filled in as a person types it (every field a submission needs).
FORM = {
    "title": "ระบบแจ้งเหตุเดือดร้อนออนไลน์", "category": "service", "summary": "ประชาชนแจ้งเหตุผ่าน LINE",
    "problem": "แจ้งเหตุล่าช้า", "solution": "แชตบอตและแดชบอร์ด", "citizens_served": "12000",
    "results": "ตอบสนองเร็วขึ้น 3 เท่า", "in_service_since": "2024-06-01", "technology": "LINE OA",
    "links": "https://example.go.th/service\nhttps://example.go.th/dashboard", "video_url": "",
    "contact_name": "สมหญิง ใจดี", "contact_email": "it@example.go.th", "contact_phone": "053 123 456",
    "consent_publish": "1",
}


def sign_in_applicant(client: Any, email: str = "staff@example.go.th", org: str | None = None,
                      **edition: Any) -> str:
    """An organisation's staff member signed in on ``client`` (the edition of 2569 made first,
    with ``edition``'s settings, when there is none); returns the organisation's code."""
    if not run(_edition_exists()):
        run(make_edition(2569, **edition))
    org = org or run(make_org())
    run(make_user("applicant", email=email, org=org))
    browser_login(client, email)
    return org


async def _edition_exists() -> bool:
    from contest.tables import Edition
    return await Edition.count() > 0


def create_entry(client: Any) -> int:
    """A new draft through the "create an entry" button; returns its id."""
    resp = client.post("/entries", data={"_csrf": csrf(client)}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    match = re.fullmatch(r"/entries/(\d+)", resp.headers["location"])
    assert match
    return int(match.group(1))


def save_entry(client: Any, entry_id: int, version: int, **fields: Any) -> Any:
    """The entry form sent with ``fields``, as loaded at ``version``."""
    return client.post(f"/entries/{entry_id}", data={"_csrf": csrf(client), "version": str(version), **fields},
                       follow_redirects=False)


def upload_file(client: Any, entry_id: int, name: str, data: bytes, *, token: bool = True,
                ctype: str = "application/pdf", headers: dict[str, str] | None = None) -> Any:
    """A file attached through the entry page's upload form (``token``: with its CSRF token)."""
    fields = {"_csrf": csrf(client), "kind": "presentation"} if token else {"kind": "presentation"}
    return client.post(f"/entries/{entry_id}/attachments", data=fields, files={"file": (name, data, ctype)},
                       headers=headers or {}, follow_redirects=False)
