"""``judging.domain.shortlist`` called directly: the proposed decision of a closed round, the
admins' overrides with their reasons, and a new proposal voiding the signatures it replaces."""

from __future__ import annotations

import pytest

from contest.domain.audit import SYSTEM
from contest.errors import Conflict, ValidationFailed
from contest.tables import AuditEvent
from judging.domain import rounds, shortlist
from judging.tables import Decision, Signature
from tests.conftest import run
from tests.judging.support import admin_actors, score_all, screening

pytestmark = pytest.mark.integration


def _closed(shortlist_size: int = 2) -> tuple[int, list[int], list[str]]:
    s = screening(entries=5, reviewers=3, per_entry=2, shortlist_size=shortlist_size)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    run(rounds.close_round(actor=SYSTEM, round_id=s.round_id))
    return s.round_id, s.entries, s.admins


def _outcomes(round_id: int) -> dict[int, tuple[str, str]]:
    rows = run(Decision.select(Decision.entry, Decision.outcome, Decision.override_reason).where(
        Decision.round == round_id))
    return {r["entry"]: (r["outcome"], r["override_reason"]) for r in rows}


def test_the_top_n_are_inside_and_an_override_needs_its_reason(db: str) -> None:
    round_id, entries, _ = _closed()
    view = run(shortlist.decide(actor=SYSTEM, round_id=round_id))
    inside = {e for e, (o, _) in _outcomes(round_id).items() if o == "shortlisted"}
    assert len(inside) == 2 and view["decision_hash"]
    outside = next(e for e in entries if e not in inside)
    run(shortlist.decide(actor=SYSTEM, round_id=round_id, overrides=[
        {"entry_id": outside, "outcome": "shortlisted", "reason": "นวัตกรรมเด่นด้านการมีส่วนร่วม"}]))
    assert _outcomes(round_id)[outside] == ("shortlisted", "นวัตกรรมเด่นด้านการมีส่วนร่วม")


def test_bad_overrides_are_each_named_and_change_nothing(db: str) -> None:
    round_id, entries, _ = _closed()
    run(shortlist.decide(actor=SYSTEM, round_id=round_id))
    before = _outcomes(round_id)
    with pytest.raises(ValidationFailed) as exc:
        run(shortlist.decide(actor=SYSTEM, round_id=round_id, overrides=[
            {"entry_id": entries[0], "outcome": "shortlisted", "reason": "x"},
            {"entry_id": entries[0], "outcome": "shortlisted", "reason": "again"},
            {"entry_id": 999999, "outcome": "winner", "reason": ""},
            {"entry_id": "abc", "outcome": "shortlisted", "reason": "x"},
            "not an object"]))
    assert set(exc.value.errors) == {"overrides[1].entry_id", "overrides[2].entry_id", "overrides[2].outcome",
                                     "overrides[2].reason", "overrides[3].entry_id", "overrides[4]"}
    assert _outcomes(round_id) == before


def test_a_new_proposal_voids_the_signatures_the_same_one_keeps_them(db: str) -> None:
    round_id, entries, admins = _closed(shortlist_size=3)
    run(shortlist.decide(actor=SYSTEM, round_id=round_id))
    first, _second = admin_actors(admins)
    run(shortlist.sign_decision(actor=first, round_id=round_id))
    decided = run(AuditEvent.count().where(AuditEvent.action == "round.decide"))
    run(shortlist.decide(actor=SYSTEM, round_id=round_id))  # the same proposal
    assert run(Signature.count().where(Signature.round == round_id)) == 1
    assert run(AuditEvent.count().where(AuditEvent.action == "round.decide")) == decided
    inside = [e for e, (o, _) in _outcomes(round_id).items() if o == "shortlisted"]
    run(shortlist.decide(actor=SYSTEM, round_id=round_id, overrides=[
        {"entry_id": inside[0], "outcome": "not_shortlisted", "reason": "ขาดคุณสมบัติ"}]))
    assert run(Signature.count().where(Signature.round == round_id)) == 0
    last = run(AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "round.decide").order_by(
        AuditEvent.seq, ascending=False).first())
    assert '"voided_signatures"' in str(last["after"])


def test_an_open_round_is_not_decided(db: str) -> None:
    s = screening(entries=3, reviewers=3, per_entry=2, shortlist_size=1)
    with pytest.raises(Conflict) as exc:
        run(shortlist.decide(actor=SYSTEM, round_id=s.round_id))
    assert exc.value.code == "round_open"
