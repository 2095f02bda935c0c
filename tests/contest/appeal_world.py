"""A published edition to appeal and to take evidence packs from: built through the domain.

Edition 2569: one entry submitted by its organisation's staff through the API (a PDF attached, a
receipt), five more entries; all eligible but one that was found not eligible; a screening round
of three reviewers (two per entry, named, so a test can look for their names), signed by two
admins; the final signed; the results published. The submitted entry is not shortlisted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from contest import clock
from contest.domain import accounts, announcement, outcomes, submission
from contest.domain.audit import SYSTEM, Actor
from contest.enums import AuthTokenKind
from contest.tables import Edition, Entry, User
from judging.domain import assignments, rounds
from tests.conftest import run
from tests.factories import make_edition, make_submitted_entries, make_user
from tests.judging.support import YEAR, admin_actors, after_announcement, make_reviewers, score_all, sign_round
from uploads.testing import make_pdf

OWNER = "owner@appeal.example.go.th"
WINNER_OWNER = "winner@appeal.example.go.th"
INELIGIBLE_OWNER = "ineligible@appeal.example.go.th"
OTHER = "other@appeal.example.go.th"
REVIEWER_NAMES = ("กรรมการ สมชาย รักดี", "กรรมการ สุดา ใจงาม", "กรรมการ วิชัย มั่นคง")
COMPLETE = {
    "title": "ระบบแจ้งซ่อมไฟฟ้าส่องสว่าง", "category": "service", "summary": "ประชาชนแจ้งผ่าน LINE",
    "problem": "แจ้งเหตุล่าช้า", "solution": "แชตบอต", "citizens_served": 5000, "results": "เร็วขึ้น",
    "technology": "LINE OA", "contact_name": "สมหญิง ใจดี", "contact_email": "it@appeal.example.go.th",
    "consent_publish": True,
}


@dataclass
class AppealWorld:
    entry_id: int  # the owner's entry: not shortlisted
    winner_id: int
    ineligible_id: int
    admins: list[str]
    reviewer_emails: list[str]
    reviewer_ids: list[int]
    extra: dict[str, Any] = field(default_factory=dict)


def _actor(email: str) -> Actor:
    row = run(User.select(User.id, User.email, User.role, User.organisation).where(User.email == email).first())
    return Actor(id=row["id"], email=row["email"], role=row["role"], organisation_id=row["organisation"])


def _org_code(entry_id: int) -> str:
    return str(run(Entry.select(Entry.organisation.code).where(Entry.id == entry_id).first())["organisation.code"])


def build(client: Any, *, publish: bool = True, appeal_days: int | None = None) -> AppealWorld:
    """The world above; the clock is left one minute after the announcement (published or not)."""
    data: dict[str, Any] = {"shortlist_size": 2, "winners": 1}
    if appeal_days is not None:
        data["appeal_days"] = appeal_days
    run(make_edition(YEAR, **data))
    run(make_user("applicant", email=OWNER))
    owner = _actor(OWNER)
    entry_id = run(submission.create_entry(actor=owner, year=YEAR, data=COMPLETE))
    token = run(accounts.issue_token(owner, AuthTokenKind.api)).token
    upload = client.post(f"/api/v1/entries/{entry_id}/attachments", headers={"Authorization": f"Bearer {token}"},
                         files={"file": ("slides.pdf", make_pdf(), "application/pdf")})
    assert upload.status_code == 201, upload.text
    run(submission.submit_entry(actor=owner, entry_id=entry_id))
    closes = run(Edition.select(Edition.submission_closes_at).where(Edition.year == YEAR).first())
    clock.freeze(closes["submission_closes_at"] + timedelta(hours=1))
    others = run(make_submitted_entries(YEAR, 5))
    ineligible_id = others[-1]
    run(outcomes.set_eligibility(actor=SYSTEM, entry_ids=[entry_id, *others[:-1]], eligible=True))
    run(outcomes.set_eligibility(actor=SYSTEM, entry_ids=[ineligible_id], eligible=False,
                                 reason="ยังไม่เปิดให้บริการจริง"))
    admins = []
    for i in range(2):
        email = f"appeal-admin{i}@dga.or.th"
        run(make_user("admin", email=email))
        admins.append(email)
    reviewer_ids, reviewer_emails = make_reviewers(3)
    for user_id, name in zip(reviewer_ids, REVIEWER_NAMES, strict=True):
        run(User.update({User.name: name}).where(User.id == user_id))
    screening = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={
        "kind": "screening", "reviewers_per_entry": 2}))
    run(rounds.add_members(actor=SYSTEM, round_id=screening, user_ids=reviewer_ids))
    run(rounds.open_round(actor=SYSTEM, round_id=screening))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=screening))
    top = {others[0]: 9.0, others[1]: 8.0}
    score_all(screening, lambda e, r, c: top.get(e, 3.0 + (e % 3)))
    sign_round(screening, admins)
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final"}))
    panel_ids, _ = make_reviewers(2, prefix="panel")
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel_ids))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=final_id))
    score_all(final_id, lambda e, r, c: 9.0 if e == others[0] else 5.0)
    sign_round(final_id, admins)
    assert run(Entry.select(Entry.state).where(Entry.id == entry_id).first())["state"] == "not_shortlisted"
    winner_id = others[0]
    run(make_user("applicant", email=WINNER_OWNER, org=_org_code(winner_id)))
    run(make_user("applicant", email=INELIGIBLE_OWNER, org=_org_code(ineligible_id)))
    run(make_user("applicant", email=OTHER, org=_org_code(others[2])))
    after_announcement(YEAR)
    if publish:
        run(announcement.publish_results(actor=SYSTEM, year=YEAR))
    return AppealWorld(entry_id=entry_id, winner_id=winner_id, ineligible_id=ineligible_id, admins=admins,
                       reviewer_emails=reviewer_emails, reviewer_ids=reviewer_ids,
                       extra={"screening": screening, "final": final_id})


def admin_signers(world: AppealWorld) -> list[Actor]:
    return admin_actors(world.admins)
