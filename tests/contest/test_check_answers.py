"""Before an entry is submitted the organisation checks its answers: "Continue" on the entry form
saves what is typed and shows every field and file as saved, each with a link to change it, then
the button that submits. Nothing is submitted until that button; the rules of submitting are
unchanged (what is missing is listed on the form, in the order of its fields)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contest.i18n import t
from contest.tables import Entry, Receipt
from tests.conftest import run
from tests.contest.entry_form import FORM, create_entry, sign_in_applicant, upload_file
from tests.factories import csrf
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration


def th(message: str, **params: Any) -> str:
    return t(message, "th", **params)


def summary_links(html: str) -> list[str]:
    box = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert box, "no error summary"
    return re.findall(r'<a href="#([^"]+)"', box.group(1))


def test_continue_saves_then_shows_every_answer_to_check_before_submitting(client) -> None:  # type: ignore[no-untyped-def]
    sign_in_applicant(client)
    entry_id = create_entry(client)
    assert upload_file(client, entry_id, "แผนงาน.pdf", make_pdf(2)).status_code == 303
    page = client.get(f"/entries/{entry_id}").text
    assert f'formaction="/entries/{entry_id}/check"' in page and th("Continue to check your answers") in page
    assert f'formaction="/entries/{entry_id}/submit"' not in page

    # Continue: what is typed is saved, nothing is submitted, the check page follows.
    resp = client.post(f"/entries/{entry_id}/check", data={"_csrf": csrf(client), "version": "1", **FORM},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/entries/{entry_id}/check"
    row = run(Entry.select(Entry.title, Entry.state).where(Entry.id == entry_id).first())
    assert row == {"title": FORM["title"], "state": "draft"} and run(Receipt.count()) == 0
    html = client.get(resp.headers["location"]).text
    assert th("Check your answers before submitting") in html
    # Every field, in the order of the form, each with a link to change it.
    order = re.findall(r'<div class="summary-row" id="answer-([a-z_]+)"', html)
    assert order == ["title", "category", "summary", "problem", "solution", "citizens_served", "results",
                     "in_service_since", "technology", "links", "video_url", "contact_name", "contact_email",
                     "contact_phone", "consent_publish"]
    for field in order:
        assert f'href="/entries/{entry_id}#f-{field}"' in html, field
    for shown in (FORM["title"], "12,000", "LINE OA", "https://example.go.th/dashboard", "it@example.go.th",
                  "1 มิถุนายน 2567", "แผนงาน.pdf", th("Not given"),
                  th("Yes, the information may be published if the entry receives an award.")):
        assert shown in html, shown
    assert f'href="/entries/{entry_id}#attachments"' in html
    # The submit button is on this page, posting to the submit action with the CSRF token.
    form = re.search(rf'<form method="post" action="/entries/{entry_id}/submit">(.*?)</form>', html, re.S)
    assert form and 'name="_csrf"' in form.group(1) and th("Submit entry") in form.group(1)

    resp = client.post(f"/entries/{entry_id}/submit", data={"_csrf": csrf(client)}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/receipts/")
    assert run(Receipt.count()) == 1
    # Submitted and unchanged: the form still leads here, to submit again after a change.
    assert th("Submit again") in client.get(f"/entries/{entry_id}/check").text
    english = client.get(f"/entries/{entry_id}/check?lang=en").text
    assert "Check your answers before submitting" in english and ">Change<" in english


def test_an_incomplete_entry_lists_what_is_missing_in_the_order_of_the_form(client) -> None:  # type: ignore[no-untyped-def]
    sign_in_applicant(client)
    entry_id = create_entry(client)
    data = {"_csrf": csrf(client), "version": "1", **FORM, "title": "", "results": "", "contact_email": "",
            "category": ""}
    resp = client.post(f"/entries/{entry_id}/check", data=data, follow_redirects=False)
    assert resp.status_code == 422 and run(Receipt.count()) == 0
    assert th("Before you can submit, complete the following") in resp.text
    assert summary_links(resp.text) == ["f-title", "f-category", "f-results", "f-contact_email", "f-file"]
    # Opened directly, the check page says the same instead of showing a submit button.
    page = client.get(f"/entries/{entry_id}/check")
    assert page.status_code == 200 and summary_links(page.text)[0] == "f-title"
    assert f'action="/entries/{entry_id}/submit"' not in page.text
    # A field's own error (a bad email) is shown on the form, and nothing is saved.
    bad = client.post(f"/entries/{entry_id}/check", data={**data, "contact_email": "not-an-email"},
                      follow_redirects=False)
    assert bad.status_code == 422 and 'id="e-contact_email"' in bad.text


def test_entry_form_errors_are_listed_in_the_order_of_the_fields(client) -> None:  # type: ignore[no-untyped-def]
    sign_in_applicant(client)
    entry_id = create_entry(client)
    # The domain checks the fields in its own order; the summary follows the page.
    data = {"_csrf": csrf(client), "version": "1", **FORM, "contact_phone": "abc", "video_url": "ftp://x",
            "category": "nope", "citizens_served": "many", "contact_email": "x@"}
    resp = client.post(f"/entries/{entry_id}", data=data, follow_redirects=False)
    assert resp.status_code == 422
    assert summary_links(resp.text) == ["f-category", "f-citizens_served", "f-video_url", "f-contact_email",
                                        "f-contact_phone"]
