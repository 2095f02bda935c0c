"""Picking from lists instead of typing codes, without JavaScript: committee members found by a
search and ticked, conflicts of interest with organisations found by a search, the tie-break
chain as an ordered list with buttons, and an edition's categories as rows; the typed lines stay
for adding many at once. What was picked goes through the same domain rules as the API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contest import category_rows
from contest.tables import User
from judging import forms
from judging.domain import rounds
from judging.tables import ConflictOfInterest, Member, Round
from tests.conftest import run
from tests.factories import make_edition, make_org, make_user
from tests.judging.support import YEAR, make_reviewers, screening
from tests.judging.test_judging_admin_pages import admin_client, post, rules_form, text_of

pytestmark = pytest.mark.integration


def picked(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{re.escape(name)}" value="([^"]*)"', html)


# --- pure parts -------------------------------------------------------------------------------------

def test_tie_break_moves():
    chain = ["results", "fit", "technology"]
    assert forms.tie_break_action(chain, "tie-up-1", "") == (["fit", "results", "technology"], "tie-down-0")
    assert forms.tie_break_action(chain, "tie-down-0", "") == (["fit", "results", "technology"], "tie-down-1")
    assert forms.tie_break_action(chain, "tie-down-1", "") == (["results", "technology", "fit"], "tie-up-2")
    assert forms.tie_break_action(chain, "tie-remove-1", "") == (["results", "technology"], "tie-add")
    assert forms.tie_break_action(chain, "tie-add", "impact") == (chain + ["impact"], "tie-add")
    assert forms.tie_break_action(chain, "tie-add", "fit") == (chain, "tie-add")  # no step twice
    assert forms.tie_break_action(chain, "tie-up-0", "") == (chain, "tie-up-0")  # already first
    assert forms.tie_break_action(chain, "tie-up-7", "") is None
    assert forms.tie_break_action(chain, "save", "") is None
    assert forms.tie_break_codes({"tie_break": ["fit", "results", "fit"]}) == ["fit", "results"]
    assert forms.tie_break_codes({"tie_break": "fit, results"}) == ["fit", "results"]


def test_picked_members_and_conflicts_are_read_from_the_ticked_rows():
    data = {"people-0-email": "A@x.th", "people-0-add": "1", "people-0-province": "50",
            "people-1-email": "b@x.th", "people-1-province": "10",  # not ticked
            "people-2-email": "c@x.th", "people-2-add": "1", "people-2-province": ""}
    members = forms.picked_members(data)
    assert members.emails == ["a@x.th", "c@x.th"] and members.provinces == {"a@x.th": "50"}
    with pytest.raises(forms.ValidationFailed) as nothing:
        forms.picked_members({"people-0-email": "a@x.th"})
    assert set(nothing.value.errors) == {"people"}
    with pytest.raises(forms.ValidationFailed):
        forms.picked_members({"people-0-email": "a@x.th", "people-0-add": "1", "people-0-province": "Chiang Mai"})
    conflicts = forms.picked_conflicts({"conflict_member": "A@x.th", "organisation": ["5500101", "5500102"],
                                        "reason": "เคยเป็นที่ปรึกษา"})
    assert [c["organisation_code"] for c in conflicts.conflicts] == ["5500101", "5500102"]
    assert {c["email"] for c in conflicts.conflicts} == {"a@x.th"}
    with pytest.raises(forms.ValidationFailed) as missing:
        forms.picked_conflicts({"reason": "x"})
    assert set(missing.value.errors) == {"conflict_member", "organisation"}


def test_category_rows_and_pasted_lines():
    data = {"categories-0-code": "service", "categories-0-name_th": "บริการ", "categories-0-name_en": "Services",
            "categories-1-code": "", "categories-1-name_th": "", "categories-1-name_en": "",
            "categories-2-code": "health", "categories-2-name_th": "สาธารณสุข", "categories-2-name_en": "",
            "categories": "health | สุขภาพ | Health\neducation\tการศึกษา\tEducation\n\nsafety, ความปลอดภัย, Safety"}
    assert category_rows.categories(data) == [
        {"code": "service", "name_th": "บริการ", "name_en": "Services"},
        {"code": "health", "name_th": "สุขภาพ", "name_en": "Health"},
        {"code": "education", "name_th": "การศึกษา", "name_en": "Education"},
        {"code": "safety", "name_th": "ความปลอดภัย", "name_en": "Safety"}]
    assert len(category_rows.action({**data, "action": "category-add"}) or []) == 4
    assert [r["code"] for r in category_rows.action({**data, "action": "category-remove-0"}) or []] == ["", "health"]
    assert category_rows.action({"action": "category-remove-0"}) == [category_rows.blank()]
    assert category_rows.action({"action": "save"}) is None


# --- the committee ----------------------------------------------------------------------------------

def test_members_are_found_by_a_search_ticked_and_added(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=2, reviewers=1, per_entry=1, open_round=False, exclude_same_province=True)
    ids, emails = make_reviewers(3, prefix="panel")
    for user_id, name in zip(ids, ["สมหญิง ใจดี", "เกษม สุขใจ", "กมล รักษ์ไทย"], strict=True):
        run(User.update({User.name: name}).where(User.id == user_id))
    retired = run(make_user("reviewer", email="panel-retired@dga.or.th"))
    run(User.update({User.is_active: False}).where(User.id == retired))
    run(make_user("admin", email="panel-admin@dga.or.th"))
    token = admin_client(client)
    url = f"/admin/judging/rounds/{s.round_id}/committee"

    page = client.get(url, params={"people": "PANEL"})
    assert page.status_code == 200
    # Active committee accounts only, in Thai dictionary order (เกษม under ก, after กมล).
    assert picked(page.text, "people-0-email") == [emails[2]]
    assert [e for i in range(5) for e in picked(page.text, f"people-{i}-email")] == [emails[2], emails[1], emails[0]]
    assert "panel-retired" not in page.text and "panel-admin" not in page.text
    assert 'id="f-people-0-province"' in page.text and "เชียงใหม่" in page.text

    # Nothing ticked: said so, nothing changes, the search is still listed.
    refused = post(client, url, {"_csrf": token, "action": "add_people", "people_q": "panel",
                                 "people-0-email": emails[2]})
    assert refused.status_code == 422 and 'id="e-people"' in refused.text and 'href="#f-people"' in refused.text
    assert picked(refused.text, "people-0-email") == [emails[2]]
    assert run(Member.count().where(Member.round == s.round_id)) == 1

    resp = post(client, url, {"_csrf": token, "action": "add_people", "people_q": "panel",
                              "people-0-email": emails[2], "people-0-add": "1", "people-0-province": "57",
                              "people-1-email": emails[1], "people-1-province": "10",
                              "people-2-email": emails[0], "people-2-add": "1"})
    assert resp.status_code == 303 and "done=members" in resp.headers["location"] and "n=2" in resp.headers["location"]
    rows = {r["user"]: r["province_code"] for r in run(Member.select(Member.user, Member.province_code).where(
        Member.round == s.round_id))}
    assert rows[ids[2]] == "57" and ids[0] in rows and ids[1] not in rows
    page = client.get(url, params={"people": "panel"})
    assert text_of(page.text).count("อยู่ในคณะกรรมการแล้ว") == 2


def test_a_conflict_is_declared_by_picking_the_member_and_the_organisations(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=2, reviewers=2, per_entry=1, open_round=False)
    first = run(make_org(name_th="องค์การบริหารส่วนตำบลหนองจ๊อม"))
    second = run(make_org(name_th="เทศบาลตำบลหนองจ๊อมใต้"))
    token = admin_client(client)
    url = f"/admin/judging/rounds/{s.round_id}/committee"

    page = client.get(url, params={"orgs": "หนองจ๊อม", "member": s.reviewer_emails[1]})
    assert page.status_code == 200
    assert set(picked(page.text, "organisation")) >= {first, second}
    assert f'<option value="{s.reviewer_emails[1]}" selected>' in page.text

    refused = post(client, url, {"_csrf": token, "action": "add_conflicts", "orgs_q": "หนองจ๊อม",
                                 "organisation": first, "reason": "ญาติทำงานอยู่"})
    assert refused.status_code == 422 and 'id="e-conflict_member"' in refused.text
    assert 'value="ญาติทำงานอยู่"' in refused.text and re.search(rf'value="{first}"\s+checked', refused.text)
    assert run(ConflictOfInterest.count()) == 0

    resp = client.post(url, data={"_csrf": token, "action": "add_conflicts", "orgs_q": "หนองจ๊อม",
                                  "conflict_member": s.reviewer_emails[1], "organisation": [first, second],
                                  "reason": "ญาติทำงานอยู่"}, follow_redirects=False)
    assert resp.status_code == 303 and "done=conflicts" in resp.headers["location"]
    declared = run(ConflictOfInterest.select(ConflictOfInterest.organisation_code, ConflictOfInterest.reason).where(
        (ConflictOfInterest.round == s.round_id) & (ConflictOfInterest.user == s.reviewers[1])))
    assert sorted(d["organisation_code"] for d in declared) == sorted([first, second])
    assert {d["reason"] for d in declared} == {"ญาติทำงานอยู่"}
    page = client.get(resp.headers["location"])
    assert "บันทึกการมีส่วนได้เสีย 2 รายการแล้ว" in text_of(page.text)

    # The lines stay for many at once, under their own heading.
    assert '<details class="bulk"' in page.text and 'name="conflicts"' in page.text


# --- the tie-break chain ----------------------------------------------------------------------------

def test_the_tie_break_chain_is_ordered_with_buttons_and_saved(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    token = admin_client(client)
    url = f"/admin/judging/{YEAR}/rounds"
    form = rules_form(token)
    form["tie_break"] = ["results", "fit", "technology"]

    moved = client.post(url, data={**form, "action": "tie-up-2"})
    assert moved.status_code == 200 and run(Round.count()) == 0
    assert picked(moved.text, "tie_break") == ["results", "technology", "fit"]
    assert re.search(r'value="tie-up-1"[^>]*autofocus', moved.text)  # the moved step keeps the focus
    removed = client.post(url, data={**form, "tie_break": ["results", "technology", "fit"], "action": "tie-remove-0"})
    assert picked(removed.text, "tie_break") == ["technology", "fit"]
    # The criterion taken out is offered again; those in the chain are not.
    assert re.search(r'<option value="results" data-name="[^"]+">', removed.text)
    assert re.search(r'<option value="fit" data-name="[^"]+" hidden disabled>', removed.text)
    added = client.post(url, data={**form, "tie_break": ["technology", "fit"], "tie_add": "results",
                                   "action": "tie-add"})
    assert picked(added.text, "tie_break") == ["technology", "fit", "results"]

    saved = client.post(url, data={**form, "tie_break": ["technology", "fit", "results"]}, follow_redirects=False)
    assert saved.status_code == 303
    round_id = run(Round.select(Round.id).first())["id"]
    assert run(rounds.get_round(round_id)).tie_break == ["technology", "fit", "results"]


# --- categories -------------------------------------------------------------------------------------

def category_form(token: str, **extra: Any) -> dict[str, Any]:
    return {"_csrf": token, "title": "ท้องถิ่นดิจิทัล", "submission_opens_at": "2026-11-01T09:00",
            "submission_closes_at": "2026-12-20T16:30", "announcement_at": "2027-03-01T10:00", "state": "open",
            "entries_per_organisation": "1", "shortlist_size": "40", "winners": "1", "max_file_mb": "100",
            "max_entry_mb": "300", "attachment_retention_years": "2",
            "categories-0-code": "service", "categories-0-name_th": "บริการประชาชน",
            "categories-0-name_en": "Citizen services", **extra}


def test_categories_are_rows_added_and_removed_without_saving(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    token = admin_client(client)
    url = f"/admin/editions/{YEAR}/edit"
    page = client.get(url)
    assert 'name="categories-0-code"' in page.text and 'value="category-add"' in page.text

    more = client.post(url, data=category_form(token, action="category-add"))
    assert more.status_code == 200 and 'name="categories-1-code" type="text" value=""' in more.text
    fewer = client.post(url, data=category_form(token, action="category-remove-0"))
    assert 'value="service"' not in fewer.text and 'name="categories-0-code"' in fewer.text

    refused = client.post(url, data=category_form(token, **{"categories-1-code": "Bad Code",
                                                             "categories-1-name_th": "ผิด"}))
    assert refused.status_code == 422 and 'value="Bad Code"' in refused.text and 'href="#f-categories"' in refused.text

    saved = client.post(url, data=category_form(token, categories="health | สาธารณสุข | Health"))
    assert saved.status_code == 200
    from contest.domain import editions
    view = run(editions.get_edition(YEAR, include_draft=True))
    assert [c["code"] for c in view.categories] == ["service", "health"]
