"""A round's judging cockpit: the burn-down to the deadline, the disagreements near the cut, an
extra reader for chosen entries through the balanced assignment (never a conflict, never a second
read, the least loaded), and the page with its chart, summary and tables."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from contest import clock
from contest.domain import outbox
from contest.domain.audit import SYSTEM
from contest.errors import Conflict, ValidationFailed
from contest.tables import AuditEvent, Edition, Entry
from judging.domain import extra_readers, round_rows, rounds, scoring
from judging.domain.ranking import RankedEntry
from judging.domain.round_cockpit import burn_down, near_cut
from judging.tables import Assignment
from tests.conftest import run
from tests.factories import browser_login, csrf, decoded_body, login_token, mails, make_user
from tests.judging.support import YEAR, actor_for, admin_actors, score_all, screening
from tests.judging.test_judging_admin_pages import text_of

D = date(2026, 12, 1)


def _ranked(entry_id: int, rank: int) -> RankedEntry:
    return RankedEntry(entry_id=entry_id, rank=rank, score=0.0, raw_score=0.0, reviewers=3, spread=0.0,
                       borderline=False, criterion_means={}, tied=False)


# --- pure ---------------------------------------------------------------------------------------

@pytest.mark.unit
def test_near_the_cut_lists_the_widest_disagreements_within_the_window() -> None:
    ranking = [_ranked(100 + r, r) for r in range(1, 61)]
    spreads = {100 + r: float(r % 7) for r in range(1, 61)}
    near = near_cut(ranking, spreads, cut=40)  # window: max(5, 10) = 10 places either side
    assert all(30 < n.rank <= 50 for n in near) and len(near) == 10
    assert [n.spread for n in near] == sorted((n.spread for n in near), reverse=True)
    assert all(n.inside == (n.rank <= 40) for n in near)
    assert near[0].spread == 6 and near[0].rank == 34  # equal spreads: the better rank first
    assert near_cut(ranking, {e: 0.0 for e in spreads}, cut=40) == []  # no difference, nothing to read again
    small = near_cut(ranking, spreads, cut=2)  # window: at least 5 places
    assert {n.rank for n in small} <= set(range(1, 8))


@pytest.mark.unit
def test_burn_down_counts_down_to_the_deadline_against_an_even_pace() -> None:
    submitted = Counter({D: 10, D + timedelta(days=2): 20})
    burn = burn_down(total=60, submitted_on=submitted, start=D, deadline=D + timedelta(days=6),
                     today=D + timedelta(days=3))
    assert [d.day for d in burn.days] == [D + timedelta(days=i) for i in range(7)]
    assert [d.remaining for d in burn.days] == [50, 50, 30, 30, None, None, None]
    assert [d.ideal for d in burn.days] == [60, 50, 40, 30, 20, 10, 0]
    assert burn.submitted == 30 and burn.behind == 0
    late = burn_down(total=60, submitted_on=Counter({D: 5}), start=D, deadline=D + timedelta(days=6),
                     today=D + timedelta(days=3))
    assert late.behind == 25
    open_ended = burn_down(total=9, submitted_on=Counter(), start=D, deadline=None, today=D + timedelta(days=1))
    assert [d.ideal for d in open_ended.days] == [None, None] and open_ended.behind is None
    assert burn_down(total=0, submitted_on=Counter(), start=None, deadline=None, today=D).days == []


# --- an extra reader ------------------------------------------------------------------------------

def _live(round_id: int) -> list[dict[str, Any]]:
    return run(Assignment.select(Assignment.entry, Assignment.reviewer, Assignment.state).where(
        (Assignment.round == round_id) & Assignment.state.is_in(["assigned", "submitted"])))


def _loads(round_id: int) -> Counter[int]:
    return Counter(a["reviewer"] for a in _live(round_id))


def _readers(round_id: int, entry_id: int) -> set[int]:
    return {a["reviewer"] for a in _live(round_id) if a["entry"] == entry_id}


@pytest.mark.integration
def test_an_extra_reader_is_eligible_and_the_least_loaded_and_is_told(app: Any) -> None:
    s = screening(entries=12, reviewers=6, per_entry=3)
    admin = admin_actors(s.admins)[0]
    first, second = s.entries[0], s.entries[1]
    before = _readers(s.round_id, first)
    loads = _loads(s.round_id)
    picked = run(extra_readers.assign_extra_readers(actor=admin, round_id=s.round_id, entry_ids=[str(first)]))
    assert len(picked) == 1 and picked[0]["entry_id"] == first
    reader = picked[0]["reviewer_id"]
    assert reader not in before and _readers(s.round_id, first) == before | {reader}
    assert loads[reader] == min(loads[m] for m in s.reviewers if m not in before)

    # The reader now carries one more: the next extra reader is someone less loaded when one is eligible.
    loads = _loads(s.round_id)
    again = run(extra_readers.assign_extra_readers(actor=admin, round_id=s.round_id, entry_ids=[second]))
    eligible = [m for m in s.reviewers if m not in _readers(s.round_id, second) - {again[0]["reviewer_id"]}]
    assert loads[again[0]["reviewer_id"]] == min(loads[m] for m in eligible)

    events = run(AuditEvent.select(AuditEvent.subject_id).where(AuditEvent.action == "assignment.extra_reader"))
    assert {e["subject_id"] for e in events} >= {str(picked[0]["assignment_id"]), str(again[0]["assignment_id"])}
    run(outbox.run_due())
    body = decoded_body(mails(picked[0]["email"])[-1])
    assert f"#{first}" in body and f"/review/rounds/{s.round_id}" in body


@pytest.mark.integration
def test_an_extra_reader_is_never_conflicted_nor_a_second_read_and_none_left_is_said(db: str) -> None:
    s = screening(entries=12, reviewers=5, per_entry=3)
    admin = admin_actors(s.admins)[0]
    entry = s.entries[0]
    readers = _readers(s.round_id, entry)
    others = [m for m in s.reviewers if m not in readers]
    assert len(others) == 2
    code = run(Entry.select(Entry.organisation.code).where(Entry.id == entry).first())["organisation.code"]
    emails = dict(zip(s.reviewers, s.reviewer_emails, strict=True))
    run(rounds.add_members(actor=SYSTEM, round_id=s.round_id, user_ids=[], conflicts=[
        {"email": emails[others[0]], "organisation_code": code, "reason": "เคยเป็นที่ปรึกษา"}]))
    picked = run(extra_readers.assign_extra_readers(actor=admin, round_id=s.round_id, entry_ids=[entry]))
    assert [p["reviewer_id"] for p in picked] == [others[1]]  # the only member with no conflict who is not reading

    # Now every member either reads it or has a conflict: nobody eligible, nothing assigned.
    count = len(_live(s.round_id))
    with pytest.raises(Conflict) as refused:
        run(extra_readers.assign_extra_readers(actor=admin, round_id=s.round_id,
                                               entry_ids=[s.entries[1], entry]))
    assert refused.value.code == "no_eligible_reader" and refused.value.params["entry_ids"] == [entry]
    assert len(_live(s.round_id)) == count  # all or nothing: the other entry got no reader either

    for bad in ([], ["x"], None, [str(10**9)]):
        with pytest.raises(ValidationFailed):
            run(extra_readers.assign_extra_readers(actor=admin, round_id=s.round_id, entry_ids=bad))
    assert len(_live(s.round_id)) == count


@pytest.mark.integration
def test_an_extra_reader_only_while_the_round_is_open(db: str) -> None:
    s = screening(entries=6, reviewers=4, per_entry=2)
    run(rounds.close_round(actor=SYSTEM, round_id=s.round_id))
    with pytest.raises(Conflict) as refused:
        run(extra_readers.assign_extra_readers(actor=admin_actors(s.admins)[0], round_id=s.round_id,
                                               entry_ids=[s.entries[0]]))
    assert refused.value.code == "round_state"


# --- the page -------------------------------------------------------------------------------------

@pytest.mark.integration
def test_the_cockpit_page_draws_the_burn_down_and_adds_a_reader_through_its_form(client: Any) -> None:
    s = screening(entries=16, reviewers=6, per_entry=3, shortlist_size=6)
    deadline = clock.now() + timedelta(days=10)
    run(Edition.update({Edition.screening_closes_at: deadline}).where(Edition.year == YEAR))

    def value_for(entry_id: int, reviewer_id: int, code: str) -> float:
        return float(random.Random(f"{entry_id}:{reviewer_id}:{code}").randint(2, 9))

    score_all(s.round_id, value_for)
    email = f"cockpit{id(object())}@dga.or.th"
    run(make_user("admin", email=email))
    headers = login_token(client, email)
    near = client.get(f"/api/v1/rounds/{s.round_id}/quality", headers=headers).json()["near_cut"]
    browser_login(client, email)
    page = client.get(f"/admin/judging/rounds/{s.round_id}/progress")
    assert page.status_code == 200
    html = page.text
    # The API lists the same disagreements near the cut as the page, by the same rule: ranked
    # within max(5, 6/4) places of the cut of 6, totals that differ, the widest first.
    ranks = {r["entry_id"]: r["rank"] for r in client.get(f"/api/v1/rounds/{s.round_id}/ranking",
                                                          headers=headers).json()}
    listed = [int(v) for v in re.findall(r'name="entry_ids" value="(\d+)"', html)]
    assert near and [n["entry_id"] for n in near] == listed
    assert all(n["rank"] == ranks[n["entry_id"]] and 1 <= n["rank"] <= 11 and n["spread"] > 0
               and n["inside"] == (n["rank"] <= 6) for n in near)
    assert [n["spread"] for n in near] == sorted((n["spread"] for n in near), reverse=True) and len(near) <= 10
    assert 'role="img"' in html and "<svg" in html and "<desc" in html
    words = text_of(html)
    assert "ใบให้คะแนนที่ยังไม่ส่ง" in words and "กำหนดส่ง" in words
    assert str(deadline.year + 543) in words  # Buddhist Era dates
    assert "48 จาก 48" in words or "ส่งแล้ว 48" in words
    assert "ความเห็นต่างใกล้เส้นตัด" in words

    entry = int(html.split('name="entry_ids" value="', 1)[1].split('"', 1)[0])
    before = _readers(s.round_id, entry)
    resp = client.post(f"/admin/judging/rounds/{s.round_id}/extra-readers",
                       data={"_csrf": csrf(client), "entry_ids": str(entry)}, follow_redirects=False)
    assert resp.status_code == 303, resp.text[:2000]
    added = _readers(s.round_id, entry) - before
    assert len(added) == 1
    confirmed = text_of(client.get(resp.headers["location"]).text)
    assert f"ผลงาน #{entry}" in confirmed
    member = s.reviewer_emails[s.reviewers.index(added.pop())]
    assert member in confirmed

    refused = client.post(f"/admin/judging/rounds/{s.round_id}/extra-readers",
                          data={"_csrf": csrf(client)}, follow_redirects=False)
    assert refused.status_code == 422 and "เลือกผลงาน" in text_of(refused.text)
    no_token = client.post(f"/admin/judging/rounds/{s.round_id}/extra-readers", data={"entry_ids": str(entry)},
                           follow_redirects=False)
    assert no_token.status_code == 403


@pytest.mark.integration
def test_a_round_with_too_few_sheets_says_so_instead_of_a_number(client: Any) -> None:
    s = screening(entries=6, reviewers=3, per_entry=2)
    first = run(Assignment.select(Assignment.entry).where(Assignment.round == s.round_id).first())["entry"]
    criteria = run(round_rows.criteria_of(s.round_id))
    for a in run(Assignment.select(Assignment.id, Assignment.reviewer).where(
            (Assignment.round == s.round_id) & (Assignment.entry == first))):
        reviewer = actor_for(a["reviewer"])
        run(scoring.save_scores(actor=reviewer, assignment_id=a["id"],
                                scores={c["code"]: float(a["reviewer"] % 10) for c in criteria}))
        run(scoring.submit_scores(actor=reviewer, assignment_id=a["id"]))
    email = f"cockpit{id(object())}@dga.or.th"
    run(make_user("admin", email=email))
    browser_login(client, email)
    words = text_of(client.get(f"/admin/judging/rounds/{s.round_id}/progress").text)
    assert "ใบให้คะแนนยังน้อยเกินไปสำหรับการวัดความสอดคล้อง" in words


@pytest.mark.integration
def test_the_progress_page_shows_a_sheet_submitted_after_it_was_viewed(client: Any) -> None:
    """What the page read is kept only while the database is unchanged: a sheet submitted
    between two views is counted on the second, and a view with nothing changed shows the same."""
    s = screening(entries=4, reviewers=3, per_entry=2)
    email = f"cockpit{id(object())}@dga.or.th"
    run(make_user("admin", email=email))
    browser_login(client, email)
    path = f"/admin/judging/rounds/{s.round_id}/progress"
    first = text_of(client.get(path).text)
    assert "0 จาก 8 (0%)" in first
    assert text_of(client.get(path).text) == first
    a = run(Assignment.select(Assignment.id, Assignment.reviewer).where(Assignment.round == s.round_id).first())
    reviewer = actor_for(a["reviewer"])
    criteria = run(round_rows.criteria_of(s.round_id))
    run(scoring.save_scores(actor=reviewer, assignment_id=a["id"], scores={c["code"]: 5.0 for c in criteria}))
    run(scoring.submit_scores(actor=reviewer, assignment_id=a["id"]))
    after = text_of(client.get(path).text)
    assert "1 จาก 8 (12%)" in after
