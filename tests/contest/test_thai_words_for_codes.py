"""Thai pages speak Thai: the main administration pages, rendered in Thai, show no stored code
(an entry's, an edition's or a round's state, a role, an outcome) as visible text; every one is
shown by its Thai word (contest/labels.py and the pages' own labels)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from contest.enums import EditionState, EntryState, Role
from contest.tables import User
from tests.conftest import run
from tests.factories import browser_login, csrf
from tests.judging.support import YEAR, score_all, screening

pytestmark = pytest.mark.integration

CODES = sorted({*EntryState, *EditionState, *Role, "closed", "signed", "assigned", "recused", "system", "pending",
                "approved", "rejected"})


class _Visible(HTMLParser):
    """The text a person sees: no tags, attributes, scripts or styles; the page title included."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def raw_codes(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    text = " ".join(parser.parts)
    # A code standing alone as a word (an address such as admin0@dga.or.th is not one).
    return [c for c in CODES if re.search(rf"(?<![\w@.\-/]){re.escape(c)}(?![\w@.\-/])", text)]


def test_main_admin_pages_in_thai_show_no_raw_codes(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=5, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float((e * 3 + r) % 10))
    # The factories name people after their role ("reviewer 3"): names are not codes.
    for u in run(User.select(User.id)):
        run(User.update({User.name: f"สมชาย ใจดี {u['id']}"}).where(User.id == u["id"]))
    browser_login(client, s.admins[0])
    headers = {"Accept-Language": "th"}
    # A proposal waiting for a second administrator.
    proposed = client.post("/admin/users", data={"_csrf": csrf(client), "email": "new-admin@dga.or.th",
                                                 "role": "admin", "password": "a-long-password-1"})
    assert proposed.status_code == 202
    pages = ["/admin", "/admin/users", f"/admin/editions/{YEAR}/edit", f"/admin/editions/{YEAR}/entries",
             f"/admin/editions/{YEAR}/entries?state=eligible", "/admin/judging", f"/admin/judging/{YEAR}/eligibility",
             f"/admin/judging/rounds/{s.round_id}", f"/admin/judging/rounds/{s.round_id}/rules",
             f"/admin/judging/rounds/{s.round_id}/committee", f"/admin/judging/rounds/{s.round_id}/progress",
             f"/admin/judging/rounds/{s.round_id}/ranking", f"/admin/judging/rounds/{s.round_id}/decision",
             "/admin/registry", "/admin/privacy", "/admin/outbox", "/admin/pending-actions"]
    found = {}
    for path in pages:
        page = client.get(path, headers=headers)
        assert page.status_code == 200, (path, page.status_code)
        assert '<html lang="th"' in page.text, path
        codes = raw_codes(page.text)
        if codes:
            found[path] = codes
    assert found == {}


def test_raw_codes_finds_a_code_only_as_visible_text() -> None:
    assert raw_codes("<p>สถานะ: open</p>") == ["open"]
    assert raw_codes('<p class="state-open" data-x="admin">admin0@dga.or.th เปิดรับผลงาน</p>') == []
    assert raw_codes("<script>var draft = 1;</script><p>ฉบับร่าง</p>") == []
