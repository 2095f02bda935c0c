"""Shared set-up for judging tests: an edition past its deadline, submitted entries, admins and a
committee, driven through the domain (the API tests then drive the rest over HTTP)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from contest import clock
from contest.domain import outcomes
from contest.domain.audit import SYSTEM
from judging.domain import assignments, round_rows, rounds, scoring
from tests.conftest import run
from tests.factories import make_edition, make_submitted_entries, make_user

YEAR = 2569


@dataclass
class Screening:
    round_id: int
    entries: list[int]
    reviewers: list[int]
    reviewer_emails: list[str]
    admins: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


def past_deadline(year: int = YEAR, *, shortlist_size: int = 40, winners: int = 1) -> None:
    """An edition whose submission deadline has just passed (the clock is frozen after it)."""
    edition = run(make_edition(year, shortlist_size=shortlist_size, winners=winners))
    clock.freeze(edition.submission_closes_at + timedelta(hours=1))


def make_reviewers(n: int, prefix: str = "reviewer") -> tuple[list[int], list[str]]:
    emails = [f"{prefix}{i:02d}-{id(object())}@dga.or.th" for i in range(n)]
    ids = [run(make_user("reviewer", email=e)) for e in emails]
    return ids, emails


def screening(*, entries: int = 12, reviewers: int = 6, per_entry: int = 3, shortlist_size: int = 4,
              normalisation: str = "none", open_round: bool = True, assign: bool = True,
              provinces: tuple[str, ...] = ("50",), **rules: Any) -> Screening:
    """An open screening round (default rubric) over eligible entries, committee assigned."""
    past_deadline(shortlist_size=shortlist_size)
    entry_ids = run(make_submitted_entries(YEAR, entries, provinces=provinces))
    run(outcomes.set_eligibility(actor=SYSTEM, entry_ids=entry_ids, eligible=True))
    admins = []
    for i in range(2):
        email = f"admin{i}-{id(object())}@dga.or.th"
        run(make_user("admin", email=email))
        admins.append(email)
    reviewer_ids, emails = make_reviewers(reviewers)
    round_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={
        "kind": "screening", "reviewers_per_entry": per_entry, "normalisation": normalisation, **rules}))
    run(rounds.add_members(actor=SYSTEM, round_id=round_id, user_ids=reviewer_ids))
    if open_round:
        run(rounds.open_round(actor=SYSTEM, round_id=round_id))
        if assign:
            run(assignments.assign_reviewers(actor=SYSTEM, round_id=round_id))
    return Screening(round_id, entry_ids, reviewer_ids, emails, admins)


def actor_for(user_id: int):  # type: ignore[no-untyped-def]
    from contest.domain.audit import Actor

    return Actor(id=user_id, email=f"user{user_id}", role="reviewer")


def score_all(round_id: int, value_for) -> None:  # type: ignore[no-untyped-def]
    """Every live assignment scored and submitted: ``value_for(entry_id, reviewer_id, code)``."""
    from judging.tables import Assignment

    rows = run(Assignment.select(Assignment.id, Assignment.entry, Assignment.reviewer).where(
        (Assignment.round == round_id) & (Assignment.state == "assigned")))
    criteria = run(round_rows.criteria_of(round_id))
    for a in rows:
        actor = actor_for(a["reviewer"])
        scores = {c["code"]: value_for(a["entry"], a["reviewer"], c["code"]) for c in criteria}
        run(scoring.save_scores(actor=actor, assignment_id=a["id"], scores=scores, comment="ดี"))
        run(scoring.submit_scores(actor=actor, assignment_id=a["id"]))


def admin_actors(emails: list[str]):  # type: ignore[no-untyped-def]
    from contest.domain.audit import Actor
    from contest.tables import User

    rows = run(User.select(User.id, User.email).where(User.email.is_in(emails)))
    # As the admins are when they sign: signed in with their second factor.
    return [Actor(id=r["id"], email=r["email"], role="admin", two_factor=True) for r in rows]


def sign_round(round_id: int, admins: list[str], overrides: list[dict[str, Any]] | None = None) -> None:
    """Close, decide (top N) and have two different admins sign."""
    from judging.domain import shortlist

    run(rounds.close_round(actor=SYSTEM, round_id=round_id))
    run(shortlist.decide(actor=SYSTEM, round_id=round_id, overrides=overrides))
    for actor in admin_actors(admins):
        run(shortlist.sign_decision(actor=actor, round_id=round_id))


def signed_final(*, entries: int = 6, shortlist_size: int = 3, winners: int = 1, panel: int = 3) -> Screening:
    """An edition taken through screening and the final, both signed; the clock frozen just
    after the announcement time. ``extra['final_round_id']`` and the entry ids are returned."""
    from contest.tables import Edition

    s = screening(entries=entries, reviewers=3, per_entry=2, shortlist_size=shortlist_size)
    run(Edition.update({Edition.winners: winners}).where(Edition.year == YEAR))
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final"}))
    panel_ids, _ = make_reviewers(panel, prefix="panel")
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel_ids))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=final_id))
    score_all(final_id, lambda e, r, c: float((e * 3) % 10))
    sign_round(final_id, s.admins)
    s.extra["final_round_id"] = final_id
    return s


def after_announcement(year: int = YEAR) -> None:
    from contest.tables import Edition

    at = run(Edition.select(Edition.announcement_at).where(Edition.year == year).first())["announcement_at"]
    clock.freeze(at + timedelta(minutes=1))
