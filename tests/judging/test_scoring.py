"""``judging.domain.scoring`` called directly: a score sheet checked field by field, saved with its
version guard, submitted when complete, reopened by an administrator."""

from __future__ import annotations

import pytest

from contest.db import stored_json
from contest.errors import Conflict, NotFound, ValidationFailed
from judging.domain import scoring
from judging.domain.assignments import stored_sheet
from judging.domain.round_rows import criteria_of
from judging.enums import AssignmentState
from judging.tables import Assignment
from tests.conftest import run
from tests.judging.support import actor_for, admin_actors, screening

CRITERIA = [{"code": "a", "name_th": "เกณฑ์ a", "weight": 1, "min": 0, "max": 10},
            {"code": "b", "name_th": "เกณฑ์ b", "weight": 1, "min": 1, "max": 5}]


class TestCheckedSheet:
    pytestmark = pytest.mark.unit

    def test_any_subset_within_range_with_its_version(self) -> None:
        assert scoring.checked_sheet(CRITERIA, {"a": "7,5", "b": ""}, " ดี ", "3") == ({"a": 7.5}, "ดี", 3)
        assert scoring.checked_sheet(CRITERIA, {}, None, None) == ({}, None, None)

    def test_each_problem_is_named_by_its_field(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            scoring.checked_sheet(CRITERIA, {"a": "many", "b": 9, "z": 1}, 5, "v3")
        assert caught.value.code == "invalid_scores"
        assert set(caught.value.errors) == {"scores.a", "scores.b", "scores.z", "comment", "version"}

    def test_scores_must_be_an_object(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            scoring.checked_sheet(CRITERIA, [1, 2], None, None)
        assert set(caught.value.errors) == {"scores"}

    def test_a_version_is_a_whole_number(self) -> None:
        assert scoring.version_of(None) == (None, None)
        assert scoring.version_of("๑๒") == (12, None)
        assert scoring.version_of(2.5)[0] is None and scoring.version_of(2.5)[1]


def _first_assignment(round_id: int) -> dict:  # type: ignore[type-arg]
    return run(Assignment.select(Assignment.id, Assignment.reviewer, Assignment.version).where(
        Assignment.round == round_id).order_by(Assignment.id).first())


class TestScoreSheet:
    pytestmark = pytest.mark.integration

    def test_save_submit_and_reopen(self, db: str) -> None:
        s = screening(entries=4, reviewers=3, per_entry=2)
        a = _first_assignment(s.round_id)
        me = actor_for(a["reviewer"])
        codes = [c["code"] for c in run(criteria_of(s.round_id))]
        saved = run(scoring.save_scores(actor=me, assignment_id=a["id"], scores={codes[0]: 3}, comment="ดี",
                                        version=a["version"]))
        assert (saved["state"], saved["scores"], saved["version"]) == (AssignmentState.assigned, {codes[0]: 3.0},
                                                                       a["version"] + 1)
        with pytest.raises(ValidationFailed) as incomplete:
            run(scoring.submit_scores(actor=me, assignment_id=a["id"]))
        assert incomplete.value.code == "incomplete"
        assert set(incomplete.value.errors) == {f"scores.{c}" for c in codes[1:]}
        run(scoring.save_scores(actor=me, assignment_id=a["id"], scores={c: 3 for c in codes}))
        assert run(scoring.submit_scores(actor=me, assignment_id=a["id"]))["state"] == AssignmentState.submitted
        with pytest.raises(Conflict):
            run(scoring.save_scores(actor=me, assignment_id=a["id"], scores={codes[0]: 4}))
        admin = admin_actors(s.admins)[0]
        with pytest.raises(ValidationFailed):
            run(scoring.reopen(actor=admin, assignment_id=a["id"], reason=" "))
        run(scoring.reopen(actor=admin, assignment_id=a["id"], reason="คะแนนผิดช่อง"))
        state = run(Assignment.select(Assignment.state).where(Assignment.id == a["id"]).first())["state"]
        assert state == AssignmentState.assigned
        with pytest.raises(Conflict) as again:
            run(scoring.reopen(actor=admin, assignment_id=a["id"], reason="อีกครั้ง"))
        assert again.value.code == "not_submitted"

    def test_a_save_stores_the_scores_the_comment_and_the_next_version(self, db: str) -> None:
        s = screening(entries=2, reviewers=2, per_entry=1)
        a = _first_assignment(s.round_id)
        me = actor_for(a["reviewer"])
        codes = [c["code"] for c in run(criteria_of(s.round_id))]

        def stored() -> dict:  # type: ignore[type-arg]
            return run(Assignment.select(Assignment.scores, Assignment.comment, Assignment.version,
                                         Assignment.updated_at).where(Assignment.id == a["id"]).first())

        run(scoring.save_scores(actor=me, assignment_id=a["id"], scores={codes[0]: 3, codes[1]: 4.5},
                                comment="ดีมาก", version=a["version"]))
        first = stored()
        assert (stored_sheet(first["scores"]), first["comment"], first["version"]) == (
            {codes[0]: 3.0, codes[1]: 4.5}, "ดีมาก", a["version"] + 1)
        assert first["updated_at"] is not None
        saved = run(scoring.save_scores(actor=me, assignment_id=a["id"], scores={codes[0]: 2}))
        second = stored()
        assert (stored_sheet(second["scores"]), second["comment"], second["version"]) == (
            {codes[0]: 2.0}, "ดีมาก", a["version"] + 2)  # no comment sent: the stored one stays
        assert saved["version"] == second["version"] and saved["comment"] == "ดีมาก"

    def test_an_older_version_does_not_overwrite(self, db: str) -> None:
        s = screening(entries=4, reviewers=3, per_entry=2)
        a = _first_assignment(s.round_id)
        me = actor_for(a["reviewer"])
        code = run(criteria_of(s.round_id))[0]["code"]
        run(scoring.save_scores(actor=me, assignment_id=a["id"], scores={code: 2}, version=a["version"]))
        with pytest.raises(Conflict) as stale:
            run(scoring.save_scores(actor=me, assignment_id=a["id"], scores={code: 9}, version=a["version"]))
        assert stale.value.code == "stale_version"
        stored = run(Assignment.select(Assignment.scores).where(Assignment.id == a["id"]).first())["scores"]
        assert stored_json(stored, {}) == {code: 2.0}

    def test_another_members_sheet_is_not_found(self, db: str) -> None:
        s = screening(entries=4, reviewers=3, per_entry=2)
        a = _first_assignment(s.round_id)
        other = next(r for r in s.reviewers if r != a["reviewer"])
        with pytest.raises(NotFound):
            run(scoring.save_scores(actor=actor_for(other), assignment_id=a["id"], scores={}))
        with pytest.raises(NotFound):
            run(scoring.submit_scores(actor=actor_for(other), assignment_id=a["id"]))
