"""The world the authorisation matrix requests every route in: built once, through the domain.

* Edition 2569, judged and published: organisation A's entry won (a DG Awards certificate),
  organisation B's entry was not shortlisted.
* Edition 2570, past its deadline, screening signed and the final open (unpublished): entry A
  (organisation A, a PDF attached, submitted with a receipt) and entry B (organisation B), with
  four more entries; a screening committee of two, one of them assigned entry A; an expert panel
  of one, who scores every finalist (entry A is one); entry A has a presentation slot whose
  invitation has not been sent.
* One person per role, each with a browser session and an API bearer token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from contest import clock
from contest.domain import (
    accounts,
    adoptions,
    announcement,
    erasure,
    memberships,
    notices,
    outcomes,
    proposals,
    signatories,
    submission,
    twofactor,
)
from contest.domain.audit import SYSTEM, Actor
from contest.enums import AuthTokenKind
from contest.tables import Attachment, AuthToken, Edition, Entry, Membership, Organisation, Receipt, User
from judging.domain import assignments, calibration, final, round_rows, rounds
from judging.tables import Assignment
from tests.conftest import run
from tests.factories import PASSWORD, make_edition, make_submitted_entries, make_user
from tests.judging.support import admin_actors, after_announcement, score_all, sign_round, signed_final
from uploads.testing import make_pdf


def signature_png() -> bytes:
    """A small transparent PNG, as a prepared signature is."""
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGBA", (120, 40), (0, 0, 0, 0)).save(out, format="PNG")
    return out.getvalue()

PAST_YEAR = 2569
YEAR = 2570

#: The people of the matrix, by role. ``pending`` asked to join organisation A and is not yet
#: approved: it must get nothing of A's entries.
ROLES = ("anonymous", "owner", "other_applicant", "reviewer", "assigned_reviewer", "panel", "admin", "pending")

COMPLETE = {
    "title": "ระบบแจ้งเหตุเดือดร้อนออนไลน์", "category": "service", "summary": "ประชาชนแจ้งเหตุผ่าน LINE",
    "problem": "แจ้งเหตุล่าช้า", "solution": "แชตบอตและแดชบอร์ด", "citizens_served": 12000,
    "results": "ตอบสนองเร็วขึ้น 3 เท่า", "technology": "LINE OA", "contact_name": "สมหญิง ใจดี",
    "contact_email": "it@example.go.th", "consent_publish": True,
}


@dataclass
class Credentials:
    session: str | None = None  # the ``tdsid`` cookie of a browser session
    bearer: str | None = None


@dataclass
class World:
    #: Values for the routes' path parameters, by name (a row may pick another, see ``values``).
    values: dict[str, Any] = field(default_factory=dict)
    people: dict[str, Credentials] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)


def _actor(email: str) -> Actor:
    row = run(User.select(User.id, User.email, User.role, User.organisation).where(User.email == email).first())
    return Actor(id=row["id"], email=row["email"], role=row["role"], organisation_id=row["organisation"])


def _org_code(entry_id: int) -> str:
    row = run(Entry.select(Entry.organisation.code).where(Entry.id == entry_id).first())
    return str(row["organisation.code"])


async def _appeal_with_document(actor: Actor, entry_id: int) -> int:
    from contest.domain import appeals
    from contest.storage import get_storage

    pending = await get_storage().begin_write()
    content = make_pdf()
    await pending.write(content)
    await pending.commit()
    document = appeals.SupportingDocument(name="evidence.pdf", key=pending.key, size=len(content),
                                          sha256=hashlib.sha256(content).hexdigest(), content_type="application/pdf")
    view = await appeals.lodge_appeal(actor=actor, entry_id=entry_id, reason="ขอให้ทบทวน", document=document)
    return int(view["id"])


def build_world(client: Any) -> World:
    """Everything the matrix needs, on empty tables; leaves the clock frozen after 2570's deadline."""
    world = World()
    v = world.values

    # 2569: judged and published. Organisation A holds the winner, B a not-shortlisted entry.
    past = signed_final(entries=4, shortlist_size=2)
    past_admins = past.admins
    winner = run(Entry.select(Entry.id).where(Entry.state == "winner").first())["id"]
    loser = run(Entry.select(Entry.id).where(Entry.state == "not_shortlisted").first())["id"]
    org_a, org_b = _org_code(winner), _org_code(loser)
    after_announcement(PAST_YEAR)
    run(announcement.publish_results(actor=SYSTEM, year=PAST_YEAR))
    v["past_entry"] = winner
    v["certificate"] = announcement.certificate_number(PAST_YEAR, announcement.AWARD_WINNER, winner)
    v["signatory_version"] = run(signatories.propose(actor=SYSTEM, year=PAST_YEAR, signature=signature_png(), data={
        "signatory_name": "นายสุพจน์ เธียรวุฒิ", "position_th": "ผู้อำนวยการ", "position_en": ""}))
    v["past_snapshot"] = run(announcement.get_results(PAST_YEAR)).sha256

    emails = {"owner": "owner@a.example.go.th", "other_applicant": "staff@b.example.go.th",
              "reviewer": "reviewer@dga.or.th", "assigned_reviewer": "assigned@dga.or.th",
              "panel": "panel@dga.or.th", "admin": past_admins[0], "pending": "newcomer@a.example.go.th"}
    run(make_user("applicant", email=emails["owner"], org=org_a))
    run(accounts.create_user(actor=SYSTEM, email=emails["pending"], password=PASSWORD, role="applicant"))
    run(memberships.request_membership(actor=_actor(emails["pending"]), organisation_code=org_a))
    run(make_user("applicant", email=emails["other_applicant"], org=org_b))
    for role in ("reviewer", "assigned_reviewer", "panel"):
        run(make_user("reviewer", email=emails[role]))
    world.emails = emails
    owner, other = _actor(emails["owner"]), _actor(emails["other_applicant"])
    # B appeals its not-shortlisted entry while the window is open, with a supporting document.
    v["appealed_entry"] = loser
    v["appeal_id"] = run(_appeal_with_document(other, loser))

    # 2570: entries A and B submitted through the domain (A with a real uploaded PDF).
    run(make_edition(YEAR, shortlist_size=2, winners=1))
    entry_a = run(submission.create_entry(actor=owner, year=YEAR, data=COMPLETE))
    entry_b = run(submission.create_entry(actor=other, year=YEAR, data=COMPLETE))
    for actor, entry_id in ((owner, entry_a), (other, entry_b)):
        bearer = run(accounts.issue_token(actor, AuthTokenKind.api)).token
        resp = client.post(f"/api/v1/entries/{entry_id}/attachments", headers={"Authorization": f"Bearer {bearer}"},
                           files={"file": ("slides.pdf", make_pdf(), "application/pdf")})
        assert resp.status_code == 201, resp.text
        run(submission.submit_entry(actor=actor, entry_id=entry_id))
    v["entry_id"], v["entry_b"] = entry_a, entry_b
    v["attachment_id"] = run(Attachment.select(Attachment.id).where(Attachment.entry == entry_a).first())["id"]
    v["receipt"] = run(Receipt.select(Receipt.number).where(Receipt.entry == entry_a).first())["number"]
    v["org_code"] = org_a

    # Past the deadline: eligibility, a screening committee of two (one assigned entry A).
    closes = run(Edition.select(Edition.submission_closes_at).where(Edition.year == YEAR).first())
    clock.freeze(closes["submission_closes_at"] + timedelta(hours=1))
    extra = run(make_submitted_entries(YEAR, 4))
    run(outcomes.set_eligibility(actor=SYSTEM, entry_ids=[entry_a, entry_b, *extra], eligible=True))
    screening = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "screening", "reviewers_per_entry": 1}))
    committee = [_actor(emails["reviewer"]).id, _actor(emails["assigned_reviewer"]).id]
    run(rounds.add_members(actor=SYSTEM, round_id=screening, user_ids=committee))
    # Calibration on three other entries, done by both members: their queues are open.
    run(calibration.set_entries(actor=SYSTEM, round_id=screening, entry_ids=extra[:3]))
    v["calibration_entry"] = extra[0]
    run(rounds.open_round(actor=SYSTEM, round_id=screening))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=screening))
    rubric = run(round_rows.criteria_of(screening))
    for member in committee:
        as_member = Actor(id=member, email="member", role="reviewer")
        for entry in extra[:3]:
            run(calibration.save_sheet(actor=as_member, round_id=screening, entry_id=entry,
                                       scores={c["code"]: 5 for c in rubric}))
            run(calibration.submit_sheet(actor=as_member, round_id=screening, entry_id=entry))
    on_a = run(Assignment.select(Assignment.id, Assignment.reviewer).where(
        (Assignment.round == screening) & (Assignment.entry == entry_a)).first())
    if on_a["reviewer"] != committee[1]:  # the seeded assignment gave A to the other member: swap names
        emails["reviewer"], emails["assigned_reviewer"] = emails["assigned_reviewer"], emails["reviewer"]
    v["assignment_id"] = on_a["id"]
    v["round_id"] = screening
    v["member_id"] = on_a["reviewer"]
    top = {entry_a: 9.0, entry_b: 8.0}
    score_all(screening, lambda e, r, c: top[e] if e in top else float(1 + extra.index(e)))
    sign_round(screening, past_admins)

    # The final: open, the panel assigned every finalist, entry A's slot set (not yet sent).
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final"}))
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=[_actor(emails["panel"]).id]))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=final_id))
    [admin] = admin_actors([emails["admin"]])
    run(final.set_presentation(actor=admin, round_id=final_id, entry_id=entry_a,
                               starts_at=clock.now() + timedelta(days=7)))
    v["final_round_id"] = final_id
    v["panel_assignment_id"] = run(Assignment.select(Assignment.id).where(
        (Assignment.round == final_id) & (Assignment.entry == entry_a)).first())["id"]
    assert run(Entry.select(Entry.state).where(Entry.id == entry_a).first())["state"] == "shortlisted"

    world.people["anonymous"] = Credentials()
    for role, email in emails.items():
        actor = _actor(email)
        # Signed in as each would be: with the second factor where the role needs it.
        mfa = twofactor.required_for(actor.role)
        world.people[role] = Credentials(
            session=run(accounts.issue_token(actor, AuthTokenKind.session, mfa=mfa)).token,
            bearer=run(accounts.issue_token(actor, AuthTokenKind.api, mfa=mfa)).token)
    assert set(world.people) == set(ROLES)
    run(make_user("applicant", email="bystander@example.go.th", org=org_b))
    bystander = _actor("bystander@example.go.th")
    bystander_session = run(accounts.issue_token(bystander, AuthTokenKind.session)).token
    v["other_session_id"] = run(AuthToken.select(AuthToken.id).where(
        AuthToken.token_hash == accounts.hash_secret(bystander_session)).first())["id"]
    # Organisation B asked to adopt A's awarded innovation (A answers it; B withdraws or reports it live).
    v["adoption_id"] = run(adoptions.request_adoption(actor=bystander, entry_id=winner, message="ขอนำไปใช้"))["id"]
    v["adoption_action"] = "withdraw"
    v["membership_id"] = run(Membership.select(Membership.id).where(
        Membership.user == _actor(emails["pending"]).id).first())["id"]
    v["approve_action"] = "approve"
    # A proposal of the other admin (the world's admin may approve it): resetting a reviewer's code.
    [second_admin] = admin_actors([past_admins[1]])
    v["pending_id"] = run(proposals.propose(second_admin, proposals.RESET_TWO_FACTOR, {
        "user_id": _actor(emails["reviewer"]).id, "email": emails["reviewer"]}))
    # Someone who asked for their data to be erased (never one of the roles: approving erases).
    run(make_user("applicant", email="leaving@example.go.th", org=org_b))
    v["request_id"] = run(erasure.request_erasure(actor=_actor("leaving@example.go.th")))["id"]
    v["year"] = YEAR
    v["past_year"] = PAST_YEAR
    v["org_b"] = org_b
    v["number"] = v["receipt"]
    v["code"] = org_a
    v["user_id"] = v["member_id"]
    v["token"] = "not-a-token-anyone-was-given"
    v["file_path"] = "site.css"
    v["path"] = "no-such-document"
    v["organisation_id"] = run(Organisation.select(Organisation.id).where(Organisation.code == org_a).first())["id"]
    # The privacy notice in force, accepted by everyone in the world.
    v["version"] = run(notices.propose_version(actor=SYSTEM, text_th="ประกาศ", text_en="Notice"))
    for person in run(User.select(User.id)):
        run(notices.record_acceptance(person["id"], v["version"], "operator"))
    return world
