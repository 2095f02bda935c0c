"""Who sees what before the announcement: only administrators see a verdict (eligibility, the
shortlist, the award) before the edition's results are published; the organisation, the
screening committee and the expert panel read "submitted" through every route that shows an
entry's state. The rule is one function, ``contest.domain.outcomes.visible_state``."""

from __future__ import annotations

from typing import Any

import pytest

from contest.domain import announcement
from contest.domain.audit import SYSTEM, Actor
from contest.domain.outcomes import NEUTRAL_STATE, VERDICT_STATES, visible_entry, visible_state
from contest.tables import Entry, Organisation
from judging.tables import Assignment
from tests.conftest import run
from tests.factories import browser_login, login_token, make_user
from tests.judging.support import after_announcement, signed_final

ADMIN = Actor(id=1, email="admin@dga.or.th", role="admin")
APPLICANT = Actor(id=2, email="staff@example.go.th", role="applicant", organisation_id=5)
REVIEWER = Actor(id=3, email="reviewer@dga.or.th", role="reviewer")


@pytest.mark.unit
@pytest.mark.parametrize("state", VERDICT_STATES)
def test_a_verdict_is_only_for_admins_before_publication(state: str) -> None:
    assert visible_state(state, viewer=ADMIN, published_at=None) == state
    assert visible_state(state, viewer=SYSTEM, published_at=None) == state
    for viewer in (APPLICANT, REVIEWER, None):
        assert visible_state(state, viewer=viewer, published_at=None) == NEUTRAL_STATE == "submitted"
        assert visible_state(state, viewer=viewer, published_at="2027-01-01") == state


@pytest.mark.unit
@pytest.mark.parametrize("state", ("draft", "submitted", "withdrawn"))
def test_the_organisations_own_states_read_as_they_are(state: str) -> None:
    for viewer in (ADMIN, APPLICANT, REVIEWER, None):
        assert visible_state(state, viewer=viewer, published_at=None) == state


@pytest.mark.unit
def test_a_hidden_verdict_takes_its_reason_feedback_rank_and_score_with_it() -> None:
    row = {"id": 7, "state": "ineligible", "eligibility_reason": "ไม่ครบ", "feedback": "{}", "outcome_rank": 3,
           "outcome_score": "7.5000", "title": "x"}
    assert visible_entry(row, viewer=REVIEWER, published_at=None) == {
        "id": 7, "state": "submitted", "eligibility_reason": "", "feedback": "", "outcome_rank": None,
        "outcome_score": "", "title": "x"}
    assert visible_entry(row, viewer=ADMIN, published_at=None) is row
    assert visible_entry(row, viewer=APPLICANT, published_at="2027-01-01") is row


def _people(s: Any) -> dict[str, Any]:
    """The winner's entry, its organisation's staff, a screening member who reviewed it and a
    panel member, each with a bearer token."""
    winner = run(Entry.select(Entry.id, Entry.organisation).where(Entry.state == "winner").first())
    code = run(Organisation.select(Organisation.code).where(Organisation.id == winner["organisation"]).first())
    run(make_user("applicant", email="winner-staff@example.go.th", org=code["code"]))
    final_id = s.extra["final_round_id"]
    screening_reviewer = run(Assignment.select(Assignment.reviewer.email).where(
        (Assignment.entry == winner["id"]) & (Assignment.round == s.round_id)).first())["reviewer.email"]
    panel = run(Assignment.select(Assignment.reviewer.email).where(
        (Assignment.entry == winner["id"]) & (Assignment.round == final_id)).first())["reviewer.email"]
    return {"entry": winner["id"], "owner": "winner-staff@example.go.th", "reviewer": screening_reviewer,
            "panel": panel, "admin": s.admins[0]}


@pytest.mark.integration
def test_nobody_but_admins_reads_the_outcome_before_publication(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final(entries=4, shortlist_size=2)
    p = _people(s)
    entry = p["entry"]
    tokens = {who: login_token(client, p[who]) for who in ("owner", "reviewer", "panel", "admin")}
    for who in ("owner", "reviewer", "panel"):
        body = client.get(f"/api/v1/entries/{entry}", headers=tokens[who]).json()
        assert body["state"] == "submitted", who
        assert "winner" not in client.get(f"/api/v1/entries/{entry}", headers=tokens[who]).text, who
    assert client.get(f"/api/v1/entries/{entry}", headers=tokens["admin"]).json()["state"] == "winner"

    # The organisation's list, its filter, its result and its presentation: nothing tells.
    mine = client.get("/api/v1/entries", headers=tokens["owner"]).json()
    assert [e["state"] for e in mine] == ["submitted"]
    for state in ("winner", "finalist", "shortlisted", "eligible"):
        assert client.get("/api/v1/entries", headers=tokens["owner"], params={"state": state}).json() == []
    assert [e["id"] for e in client.get("/api/v1/entries", headers=tokens["owner"],
                                        params={"state": "submitted"}).json()] == [entry]
    assert client.get(f"/api/v1/entries/{entry}/result", headers=tokens["owner"]).status_code == 404
    assert client.get(f"/api/v1/entries/{entry}/presentation", headers=tokens["owner"]).status_code == 404
    for path in ("/api/v1/editions/2569/results", "/open-data/2569/results.csv", "/open-data/2569/results.json",
                 "/results/2569", "/showcase/2569", f"/showcase/2569/{entry}"):
        assert client.get(path).status_code == 404, path
    browser_login(client, p["owner"])
    page = client.get("/entries").text
    assert 'class="state state-submitted"' in page and "state-winner" not in page
    detail = client.get(f"/entries/{entry}").text
    assert "state-submitted" in detail and "state-winner" not in detail
    for path in (f"/entries/{entry}/result", f"/entries/{entry}/certificate.pdf", f"/entries/{entry}/presentation"):
        assert client.get(path).status_code == 404, path

    # Published: the organisation reads its outcome; so does anyone else who may read the entry.
    after_announcement()
    run(announcement.publish_results(actor=SYSTEM, year=2569))
    for who in ("owner", "reviewer", "panel", "admin"):
        assert client.get(f"/api/v1/entries/{entry}", headers=tokens[who]).json()["state"] == "winner", who
    assert client.get(f"/api/v1/entries/{entry}/result", headers=tokens["owner"]).json()["award"] == "dg_awards"
