"""Error summaries follow the page: ``in_page_order`` and the pages that use it (the entry form
and the score sheet have their own tests in test_check_answers.py and test_sheet_declaration.py)."""

from __future__ import annotations

import re

import pytest

from contest.summary import in_page_order
from tests.conftest import run
from tests.factories import make_edition
from tests.judging.support import YEAR


def summary_links(html: str) -> list[str]:
    box = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert box, "no error summary"
    return re.findall(r'<a href="#([^"]+)"', box.group(1))


@pytest.mark.unit
def test_errors_follow_the_fields_and_parts_follow_their_field() -> None:
    errors = {"seed": "s", "criteria-1-code": "c1", "other": "o", "criteria-0-weight": "w0", "kind": "k",
              "in_service_since_year": "y", "criteria": "all"}
    fields = ["kind", "criteria", "criteria-0-weight", "in_service_since", "seed"]
    assert list(in_page_order(errors, fields)) == ["kind", "criteria", "criteria-1-code", "criteria-0-weight",
                                                   "in_service_since_year", "seed", "other"]
    assert in_page_order({}, fields) == {}
    assert in_page_order({"b": "1", "a": "2"}, []) == {"b": "1", "a": "2"}  # unknown keys keep their order


@pytest.mark.integration
def test_the_rules_form_lists_its_errors_from_top_to_bottom(client) -> None:  # type: ignore[no-untyped-def]
    from tests.judging.test_judging_admin_pages import admin_client, post, rules_form

    run(make_edition(YEAR))
    token = admin_client(client)
    resp = post(client, f"/admin/judging/{YEAR}/rounds", rules_form(
        token, reviewers_per_entry="0", tie_break="results, nope", seed="x", **{
            "criteria-3-name_th": "", "criteria-0-weight": "0", "criteria-2-min": "10", "criteria-2-max": "1"}))
    assert resp.status_code == 422
    links = summary_links(resp.text)
    wanted = ["f-criteria-0-weight", "f-criteria-2-min", "f-criteria-3-name_th", "f-reviewers_per_entry",
              "f-tie_break", "f-seed"]
    assert [link for link in links if link in wanted] == wanted, links
