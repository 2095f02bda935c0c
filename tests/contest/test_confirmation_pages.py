"""Removing a file from an entry and publishing the results ask first: a page that names what is
acted on, says what cannot be undone, and offers a Confirm button (a form posting with the CSRF
token) and a Cancel link back. Asking changes nothing; the API still acts at once."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contest.i18n import t
from contest.tables import Attachment, ResultSnapshot
from contest.templating import file_size
from tests.conftest import run
from tests.contest.entry_form import create_entry, sign_in_applicant, upload_file
from tests.factories import browser_login, csrf
from tests.judging.support import YEAR, after_announcement, signed_final
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration


def th(message: str, **params: Any) -> str:
    return t(message, "th", **params)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_removing_a_file_names_it_and_its_size_first(client) -> None:  # type: ignore[no-untyped-def]
    sign_in_applicant(client)
    entry_id = create_entry(client)
    pdf = make_pdf(3)
    assert upload_file(client, entry_id, "แผนงาน.pdf", pdf).status_code == 303
    [att] = run(Attachment.select(Attachment.id, Attachment.size))
    remove = f"/entries/{entry_id}/attachments/{att['id']}/delete"

    # The entry page links to the question; no form removes a file at once.
    page = client.get(f"/entries/{entry_id}").text
    assert f'href="{remove}"' in page and f'action="{remove}"' not in page
    confirm = client.get(remove)
    assert confirm.status_code == 200
    assert run(Attachment.select(Attachment.deleted_at).first())["deleted_at"] is None  # asking changes nothing
    text = text_of(confirm.text)
    size = file_size(att["size"])
    assert th("Remove this file?") in text and "แผนงาน.pdf" in text and size in text
    assert th("A removed file cannot be brought back: to use it again, it must be uploaded again ({size}).",
              size=size) in text
    form = re.search(rf'<form method="post" action="{re.escape(remove)}"[^>]*>(.*?)</form>', confirm.text, re.S)
    assert form and 'name="_csrf"' in form.group(1) and th("Yes, remove the file") in form.group(1)
    assert f'<a href="/entries/{entry_id}#attachments">{th("Cancel")}</a>' in form.group(1)
    english = client.get(remove + "?lang=en").text
    assert "Remove this file?" in english and "it must be uploaded again" in english
    client.get("/?lang=th")

    # Another file number: not found. Confirming removes it.
    assert client.get(f"/entries/{entry_id}/attachments/{att['id'] + 999}/delete").status_code == 404
    resp = client.post(remove, data={"_csrf": csrf(client)}, follow_redirects=False)
    assert resp.status_code == 303
    assert run(Attachment.select(Attachment.deleted_at).first())["deleted_at"] is not None
    assert client.get(remove).status_code == 404


def test_publishing_asks_first_and_says_it_cannot_be_undone(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final(entries=6, shortlist_size=3)
    browser_login(client, s.admins[0])
    confirm_url = f"/admin/editions/{YEAR}/publish/confirm"
    # Before the announcement time the question says why not, with no button.
    early = client.get(confirm_url).text
    assert th("The results cannot be published yet:") in early
    assert f'action="/admin/editions/{YEAR}/publish"' not in early

    after_announcement()
    browser_login(client, s.admins[0])
    page = client.get(f"/admin/editions/{YEAR}/publish").text
    assert f'href="{confirm_url}"' in page and f'action="/admin/editions/{YEAR}/publish"' not in page
    confirm = client.get(confirm_url)
    assert confirm.status_code == 200 and run(ResultSnapshot.count()) == 0
    text = text_of(confirm.text)
    assert th("Publish the results of {year}?", year=YEAR) in text
    assert th("Published results cannot be withdrawn or changed, and the mails cannot be called back.") in text
    assert th("Every applicant of the edition is mailed its result.") in text
    form = re.search(rf'<form method="post" action="/admin/editions/{YEAR}/publish"[^>]*>(.*?)</form>',
                     confirm.text, re.S)
    assert form and 'name="_csrf"' in form.group(1) and th("Yes, publish the results now") in form.group(1)
    assert f'<a href="/admin/editions/{YEAR}/publish">{th("Cancel")}</a>' in form.group(1)
    resp = client.post(f"/admin/editions/{YEAR}/publish", data={"_csrf": csrf(client)}, follow_redirects=False)
    assert resp.status_code == 303 and run(ResultSnapshot.count()) == 1
    done = client.get(confirm_url).text
    assert th("The results are published.") in done and f'action="/admin/editions/{YEAR}/publish"' not in done
