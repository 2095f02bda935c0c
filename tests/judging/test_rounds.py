"""``judging.domain.rounds`` called directly: a round's rules checked field by field, and its
committee (members, their provinces, their declared conflicts) changed in one step."""

from __future__ import annotations

from typing import Any

import pytest

from contest.domain.audit import SYSTEM
from contest.errors import Conflict, ValidationFailed
from judging.domain import rounds
from judging.domain.rounds import DEFAULT_RUBRIC, DEFAULT_TIE_BREAK, clean_rules
from judging.tables import Assignment, ConflictOfInterest, Member
from tests.conftest import run
from tests.factories import make_org, make_user
from tests.judging.support import make_reviewers, screening


def _criterion(code: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name_th": f"เกณฑ์ {code}", "weight": 1, "min": 0, "max": 10, **extra}


class TestCleanRules:
    pytestmark = pytest.mark.unit

    def test_no_criteria_means_the_default_rubric_and_its_tie_break(self) -> None:
        values, errors = clean_rules({}, kind="screening")
        assert errors == {}
        assert [c["code"] for c in values["criteria"]] == [c["code"] for c in DEFAULT_RUBRIC]
        assert values["tie_break"] == list(DEFAULT_TIE_BREAK)
        assert (values["reviewers_per_entry"], values["normalisation"], values["exclude_same_province"]) == (
            3, "none", False)

    def test_each_criterion_problem_is_named_by_its_field(self) -> None:
        _, errors = clean_rules({"criteria": [
            _criterion("a"), _criterion("a"), _criterion("1bad"), _criterion("w", weight=0),
            _criterion("r", min=5, max=5), {"code": "n", "name_th": ""}, "not an object"]}, kind=None)
        assert set(errors) == {"criteria[1].code", "criteria[2].code", "criteria[3].weight", "criteria[4].range",
                               "criteria[5].name_th", "criteria[6]"}

    def test_whole_rubric_problems(self) -> None:
        assert set(clean_rules({"criteria": []}, kind=None)[1]) == {"criteria"}
        assert set(clean_rules({"criteria": [_criterion(f"c{i}") for i in range(100)]}, kind=None)[1]) == {
            "criteria"}
        assert set(clean_rules({"criteria": "abc"}, kind=None)[1]) == {"criteria"}

    def test_tie_break_chain(self) -> None:
        rubric = [_criterion("a"), _criterion("b")]
        assert clean_rules({"criteria": rubric, "tie_break": ["b", "a"]}, kind=None)[1] == {}
        for chain in (["c"], ["a", "a"], "a,b", [1]):
            assert set(clean_rules({"criteria": rubric, "tie_break": chain}, kind=None)[1]) == {"tie_break"}

    def test_settings(self) -> None:
        bad = {"reviewers_per_entry": 0, "normalisation": "rank", "exclude_same_province": "yes", "seed": -1}
        assert set(clean_rules(bad, kind="semi")[1]) == {"kind", *bad}
        assert clean_rules({"reviewers_per_entry": True}, kind=None)[1].keys() == {"reviewers_per_entry"}
        good = clean_rules({"reviewers_per_entry": 15, "normalisation": "zscore", "exclude_same_province": True,
                            "seed": 7}, kind="final")
        assert good[1] == {} and good[0]["seed"] == 7


@pytest.mark.integration
class TestAddMembers:
    def _round(self) -> int:
        s = screening(entries=4, reviewers=2, open_round=False)
        return s.round_id

    def test_members_provinces_and_conflicts_in_one_step(self, db: str) -> None:
        round_id = self._round()
        org = run(make_org("5500001", province_code="55", province_name_th="น่าน"))
        ids, emails = make_reviewers(2, prefix="newmember")
        result = run(rounds.add_members(actor=SYSTEM, round_id=round_id, emails=emails, provinces={emails[0]: "55"},
                                        conflicts=[{"email": emails[1], "organisation_code": org,
                                                    "reason": "เคยเป็นที่ปรึกษา"}]))
        assert sorted(result["added"]) == sorted(ids) and result["members"] == 4 and result["recused"] == []
        member = run(Member.select(Member.province_code).where(Member.key == f"{round_id}:{ids[0]}").first())
        assert member["province_code"] == "55"
        declared = run(ConflictOfInterest.select().where(ConflictOfInterest.round == round_id))
        assert [(d["user"], d["organisation_code"]) for d in declared] == [(ids[1], org)]
        # Adding the same people again adds nobody and changes nothing.
        again = run(rounds.add_members(actor=SYSTEM, round_id=round_id, emails=emails))
        assert again["added"] == [] and again["members"] == 4

    def test_a_member_of_an_organisation_has_a_conflict_with_it(self, db: str) -> None:
        round_id = self._round()
        org = run(make_org("5500002"))
        staff = run(make_user("reviewer", email="staff-reviewer@example.go.th"))
        from contest.tables import Organisation, User
        org_id = run(Organisation.select(Organisation.id).where(Organisation.code == org).first())["id"]
        run(User.update({User.organisation: org_id}).where(User.id == staff))
        run(rounds.add_members(actor=SYSTEM, round_id=round_id, user_ids=[staff]))
        declared = run(ConflictOfInterest.select().where(ConflictOfInterest.user == staff))
        assert [d["organisation_code"] for d in declared] == [org]

    def test_bad_requests_change_nothing(self, db: str) -> None:
        round_id = self._round()
        admin = run(make_user("admin", email="not-a-reviewer@example.go.th"))
        before = run(Member.count().where(Member.round == round_id))
        with pytest.raises(ValidationFailed) as exc:
            run(rounds.add_members(actor=SYSTEM, round_id=round_id, user_ids=[admin], emails=["nobody@example.go.th"],
                                   conflicts=[{"email": "nobody@example.go.th", "organisation_code": "0000000"},
                                              "a line"]))
        assert set(exc.value.errors) == {"members", "conflicts[0].email", "conflicts[0].organisation_code",
                                         "conflicts[1]"}
        ids, emails = make_reviewers(1, prefix="outsider")
        member_ids, member_emails = make_reviewers(1, prefix="insider")
        org = run(make_org("5500003"))
        with pytest.raises(ValidationFailed) as exc:
            run(rounds.add_members(actor=SYSTEM, round_id=round_id, emails=member_emails,
                                   conflicts=[{"email": emails[0], "organisation_code": org}]))
        assert set(exc.value.errors) == {"conflicts"}
        assert run(Member.count().where(Member.round == round_id)) == before

    def test_a_signed_round_keeps_its_committee(self, db: str) -> None:
        s = screening(entries=4, reviewers=3, per_entry=2, shortlist_size=2)
        from tests.judging.support import score_all, sign_round
        score_all(s.round_id, lambda e, r, c: float(e % 10))
        sign_round(s.round_id, s.admins)
        ids, _ = make_reviewers(1, prefix="late")
        with pytest.raises(Conflict) as exc:
            run(rounds.add_members(actor=SYSTEM, round_id=s.round_id, user_ids=ids))
        assert exc.value.code == "round_state"

    def test_a_province_given_after_assignment_recuses_with_the_same_province_rule(self, db: str) -> None:
        s = screening(entries=6, reviewers=4, per_entry=2, provinces=("50", "90"), exclude_same_province=True)
        member = s.reviewers[0]
        on_songkhla = run(Assignment.select(Assignment.id).where(
            (Assignment.round == s.round_id) & (Assignment.reviewer == member) & (Assignment.state == "assigned")
            & (Assignment.entry._.organisation._.province_code == "90")))
        result = run(rounds.add_members(actor=SYSTEM, round_id=s.round_id, user_ids=[member],
                                        provinces={s.reviewer_emails[0].lower(): "90"}))
        assert {r["assignment_id"] for r in result["recused"]} == {a["id"] for a in on_songkhla}
        live = run(Assignment.select(Assignment.id).where(
            (Assignment.reviewer == member) & (Assignment.state == "assigned")
            & (Assignment.entry._.organisation._.province_code == "90")))
        assert live == []


class TestRoundRow:
    def test_the_written_out_read_matches_the_query_builder(self, db: str) -> None:
        """Every key and value (types included: timestamps, flags, the decoded JSON) of the
        round's row as the query builder reads it."""
        from judging.domain.round_rows import get_round_row, stored_json
        from judging.tables import Round

        s = screening(entries=4, reviewers=2, per_entry=1, assign=False, exclude_same_province=True)
        built = run(Round.select(*Round.all_columns(), Round.edition._.year, Round.edition._.shortlist_size,
                                 Round.edition._.winners, Round.edition._.screening_closes_at,
                                 Round.edition._.final_closes_at).where(Round.id == s.round_id).first())
        built["tie_break"] = stored_json(built["tie_break"], [])
        built["rules"] = stored_json(built["rules"], {})
        row = run(get_round_row(s.round_id))
        assert row == built
        assert {k: type(v) for k, v in row.items()} == {k: type(v) for k, v in built.items()}
        assert row["exclude_same_province"] is True and row["opened_at"] is not None
