"""The score sheet asks about a conflict of interest before the entry is read: the declaration
comes first, naming the organisation; its errors (an empty reason) are in the error summary at
the top of the page, which is the page's only summary and lists every error in the order of the
fields (the declaration, then each criterion in the rubric's order, then the comment)."""

from __future__ import annotations

import re

import pytest

from judging.domain import round_rows
from tests.conftest import run
from tests.factories import csrf
from tests.judging.support import screening
from tests.judging.test_review_pages import as_member, mine, th

pytestmark = pytest.mark.integration


def summary_links(html: str) -> list[str]:
    """The fields the error summary links to, in its order."""
    box = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert box, "no error summary"
    return re.findall(r'<a href="#([^"]+)"', box.group(1))


def test_the_declaration_comes_before_the_entry(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3)
    aid = as_member(client, s)[0]["id"]
    html = client.get(f"/review/assignments/{aid}").text
    declaration, entry, rubric = html.index('id="coi-h"'), html.index('id="entry-h"'), html.index('id="rubric-h"')
    assert declaration < entry < rubric
    assert th("Before you read the entry: do you have a conflict of interest?") in html
    assert html.index(f'action="/review/assignments/{aid}/recuse"') < entry
    assert 'class="error-summary"' not in html and not re.search(r"\sautofocus\b", html)


def test_an_empty_reason_is_in_the_summary_at_the_top(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3)
    aid = as_member(client, s)[0]["id"]
    resp = client.post(f"/review/assignments/{aid}/recuse", data={"_csrf": csrf(client), "reason": " "})
    assert resp.status_code == 422 and mine(s)[0]["state"] == "assigned"
    html = resp.text
    # One summary, at the top (before the heading), focusable; its link goes to the reason.
    assert html.count('class="error-summary"') == 1
    assert html.index('class="error-summary"') < html.index("<h1")
    assert re.search(r'<div class="error-summary" role="alert" tabindex="-1"', html)
    assert summary_links(html) == ["f-reason"]
    reason = th("Say briefly what the conflict of interest is.")
    assert f'{th("Conflict of interest")}: {reason}' in html
    assert '<details class="recuse" open>' in html and 'aria-invalid="true"' in html
    # Nothing else asks for the focus: not the reason itself, nor the first score.
    assert not re.search(r"\sautofocus\b", html)


def test_score_errors_are_listed_in_the_order_of_the_rubric(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3)
    aid = as_member(client, s)[0]["id"]
    codes = [c["code"] for c in run(round_rows.criteria_of(s.round_id))]
    # Errors on the last criterion, the first, one in the middle and the comment (too long).
    data = {"_csrf": csrf(client), **{f"score_{c}": "5" for c in codes}, "comment": "ก" * 5001}
    data[f"score_{codes[-1]}"] = "99"
    data[f"score_{codes[0]}"] = "-3"
    data[f"score_{codes[2]}"] = "abc"
    resp = client.post(f"/review/assignments/{aid}", data=data)
    assert resp.status_code == 422
    assert summary_links(resp.text) == [f"f-score_{codes[0]}", f"f-score_{codes[2]}", f"f-score_{codes[-1]}",
                                        "f-comment"]
    # Submitting an incomplete sheet: the missing ones, in the rubric's order.
    data = {"_csrf": csrf(client), f"score_{codes[4]}": "", f"score_{codes[1]}": "", "comment": ""}
    for c in codes:
        data.setdefault(f"score_{c}", "6")
    resp = client.post(f"/review/assignments/{aid}/submit", data=data)
    assert resp.status_code == 422 and th("Before you can submit, score every criterion") in resp.text
    assert summary_links(resp.text) == [f"f-score_{codes[1]}", f"f-score_{codes[4]}"]
