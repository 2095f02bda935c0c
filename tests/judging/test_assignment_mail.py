"""Members are told when entries are assigned to them: one mail per member per batch, through the
outbox, Thai then English, with how many and a link to their queue; never about a pair with a
conflict of interest."""

from __future__ import annotations

import pytest

from contest.domain.audit import SYSTEM
from contest.tables import Entry, Outbox
from judging.domain import assignments, conflicts, scoring
from judging.tables import Assignment
from tests.conftest import run
from tests.factories import decoded_body, mails, wait_for_mails
from tests.judging.support import actor_for, screening

pytestmark = pytest.mark.integration


def _assigned(round_id: int) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for a in run(Assignment.select(Assignment.entry, Assignment.reviewer).where(
            (Assignment.round == round_id) & (Assignment.state == "assigned"))):
        out.setdefault(a["reviewer"], set()).add(a["entry"])
    return out


def test_each_member_gets_one_mail_per_batch_thai_then_english(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=3, per_entry=2, assign=False)
    org = run(Entry.select(Entry.organisation.code).where(Entry.id == s.entries[0]).first())["organisation.code"]
    run(conflicts.declare_conflict(actor=SYSTEM, round_id=s.round_id, user_id=s.reviewers[0],
                                   organisation_code=org, reason="ญาติทำงานที่หน่วยงานนี้"))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=s.round_id))
    given = _assigned(s.round_id)
    assert s.entries[0] not in given[s.reviewers[0]]  # the planner keeps the conflict apart
    for reviewer, email in zip(s.reviewers, s.reviewer_emails, strict=True):
        [mail] = wait_for_mails(email)
        body = decoded_body(mail)
        n = len(given[reviewer])
        thai = f"ท่านได้รับมอบหมายให้พิจารณาและให้คะแนนผลงาน {n} ผลงาน ในรอบกลั่นกรอง การประกวดปี 2569"
        english = f"{n} entries were assigned to you to score in the screening round of edition 2569."
        assert thai in body and english in body and body.index(thai) < body.index(english)
        assert f"/review/rounds/{s.round_id}" in body
    # Assigning again adds nothing and mails nobody.
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=s.round_id))
    assert run(Outbox.count().where(Outbox.dedupe_key.like("assigned:%"))) == 3


def test_a_recusal_mails_only_the_member_given_the_entry(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=3, reviewers=3, per_entry=2)
    for email in s.reviewer_emails:
        wait_for_mails(email)
    before = _assigned(s.round_id)
    recusing = s.reviewers[0]
    entry = sorted(before[recusing])[0]
    [free] = [r for r in s.reviewers if entry not in before.get(r, set())]  # three members, two per entry
    assignment = run(Assignment.select(Assignment.id).where(
        (Assignment.round == s.round_id) & (Assignment.entry == entry) & (Assignment.reviewer == recusing)).first())
    result = run(scoring.recuse(actor=actor_for(recusing), assignment_id=assignment["id"], reason="รู้จักผู้ส่ง"))
    assert result["reassigned"]
    email = dict(zip(s.reviewers, s.reviewer_emails, strict=True))
    second = wait_for_mails(email[free], count=2)
    assert len(second) == 2 and "1 entries were assigned to you" in decoded_body(second[-1])
    # The member who recused is not told about the entry they declared a conflict with.
    assert len(mails(email[recusing])) == 1
