"""The organisers' judging actions that cannot be undone ask first: opening a round (its rules
freeze), closing it, and signing the decision each have a page that says what will happen and
what cannot be undone, with a Confirm button that posts (CSRF) and a Cancel link back. The page
itself changes nothing; the API still acts at once."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contest.i18n import t
from judging.tables import Round, Signature
from tests.conftest import run
from tests.factories import browser_login, csrf, make_user
from tests.judging.support import score_all, screening

pytestmark = pytest.mark.integration


def th(message: str, **params: Any) -> str:
    return t(message, "th", **params)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _state(round_id: int) -> str:
    return run(Round.select(Round.state).where(Round.id == round_id).first())["state"]


def _confirm_form(html: str, action: str) -> str:
    """The confirmation form: it posts to the action itself, with the CSRF token."""
    match = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert match, html
    assert 'name="_csrf"' in match.group(1)
    return match.group(1)


def test_opening_a_round_asks_first_and_says_the_rules_freeze(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, open_round=False)
    browser_login(client, s.admins[0])
    token = csrf(client)
    base = f"/admin/judging/rounds/{s.round_id}"

    # The round's page links to the question; there is no form that opens the round at once.
    page = client.get(base).text
    assert f'href="{base}/open"' in page and f'action="{base}/open"' not in page
    confirm = client.get(f"{base}/open")
    assert confirm.status_code == 200 and _state(s.round_id) == "draft"  # asking changes nothing
    text = text_of(confirm.text)
    assert th("Open the round?") in text
    assert th("An open round cannot go back to draft, and its frozen rules cannot be changed.") in text
    assert th("It takes every entry marked eligible; from then on eligibility can no longer change.") in text
    form = _confirm_form(confirm.text, f"{base}/open")
    assert th("Yes, open the round and freeze its rules") in form
    assert f'<a href="{base}">{th("Cancel")}</a>' in form  # Cancel goes back to the round
    assert 'aria-describedby="cannot-undo"' in form

    # In English too.
    english = client.get(f"{base}/open?lang=en").text
    assert "Open the round?" in english and "Yes, open the round and freeze its rules" in english
    client.get("/?lang=th")

    # Confirming opens it; the question is then answered plainly, with no button.
    resp = client.post(f"{base}/open", data={"_csrf": token}, follow_redirects=False)
    assert resp.status_code == 303 and _state(s.round_id) == "open"
    again = client.get(f"{base}/open").text
    assert th("This round is already open: there is nothing to confirm.") in again
    assert f'action="{base}/open"' not in again


def test_closing_a_round_says_which_sheets_will_not_count(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=3)  # 9 sheets, none submitted
    browser_login(client, s.admins[0])
    token = csrf(client)
    base = f"/admin/judging/rounds/{s.round_id}"
    page = client.get(base).text
    assert f'href="{base}/close"' in page and f'action="{base}/close"' not in page
    confirm = client.get(f"{base}/close")
    assert confirm.status_code == 200 and _state(s.round_id) == "open"
    text = text_of(confirm.text)
    assert th("Close the round?") in text and th("A closed round cannot be opened again.") in text
    assert th("{n} score sheets are not submitted yet: they will not count.", n=9) in text
    form = _confirm_form(confirm.text, f"{base}/close")
    assert 'class="button danger"' in form and th("Yes, close the round") in form
    resp = client.post(f"{base}/close", data={"_csrf": token}, follow_redirects=False)
    assert resp.status_code == 303 and _state(s.round_id) == "closed"
    assert th("This round is not open: there is nothing to close.") in client.get(f"{base}/close").text


def test_signing_asks_first_and_says_when_the_signature_makes_it_final(client, app) -> None:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    from judging.domain import rounds, shortlist
    from tests.judging.support import SYSTEM

    s = screening(entries=4, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    run(rounds.close_round(actor=SYSTEM, round_id=s.round_id))
    run(shortlist.decide(actor=SYSTEM, round_id=s.round_id, overrides=None))
    decision_hash = run(Round.select(Round.decision_hash).where(Round.id == s.round_id).first())["decision_hash"]
    base = f"/admin/judging/rounds/{s.round_id}"
    browser_login(client, s.admins[0])
    token = csrf(client)

    page = client.get(f"{base}/decision").text
    assert f'href="{base}/sign?decision_hash={decision_hash}"' in page and f'action="{base}/sign"' not in page
    confirm = client.get(f"{base}/sign?decision_hash={decision_hash}")
    assert confirm.status_code == 200 and run(Signature.count()) == 0
    text = text_of(confirm.text)
    assert th("Sign the decision?") in text and decision_hash in text
    assert th("Your signature is recorded on this proposal. A second, different administrator must sign it "
              "too before it is final.") in text
    form = _confirm_form(confirm.text, f"{base}/sign")
    assert f'name="decision_hash" value="{decision_hash}"' in form
    assert f'<a href="{base}/decision">' in form
    # A hash other than the proposal's: the person read something else, so no button.
    stale = client.get(f"{base}/sign?decision_hash={'0' * 64}").text
    assert th("The proposal changed after you opened it. Read the new proposal, then sign it.") in stale
    assert f'action="{base}/sign"' not in stale

    resp = client.post(f"{base}/sign", data={"_csrf": token, "decision_hash": decision_hash},
                       follow_redirects=False)
    assert resp.status_code == 303 and run(Signature.count()) == 1
    mine = client.get(f"{base}/sign").text
    assert th("You have signed this proposal. A different administrator must sign it to make it final.") in mine
    assert f'action="{base}/sign"' not in mine

    with TestClient(app=app, base_url="http://testserver.local") as other:
        browser_login(other, s.admins[1])
        second = text_of(other.get(f"{base}/sign?decision_hash={decision_hash}").text)
        assert th("Yours is the second signature: the decision becomes final. Every entry's outcome is recorded "
                  "and the round is locked.") in second
        assert th("A final decision cannot be changed: the outcomes stand as signed.") in second
    assert _state(s.round_id) == "closed"


def test_confirmation_pages_are_for_administrators_only(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=2, reviewers=2, per_entry=2, open_round=False)
    run(make_user("applicant", email="someone@example.go.th"))
    for path in ("open", "close", "sign"):
        resp = client.get(f"/admin/judging/rounds/{s.round_id}/{path}", follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    browser_login(client, "someone@example.go.th")
    for path in ("open", "close", "sign"):
        assert client.get(f"/admin/judging/rounds/{s.round_id}/{path}").status_code == 403
