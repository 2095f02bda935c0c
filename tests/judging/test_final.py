"""The final round's presentation slots (issue 5)."""

from __future__ import annotations

import pytest

from contest.domain.audit import SYSTEM
from contest.tables import Entry
from judging.domain import rounds
from tests.conftest import run
from tests.factories import decoded_body, login_token, make_user, wait_for_mails
from tests.judging.support import YEAR, make_reviewers, score_all, screening, sign_round

pytestmark = pytest.mark.integration


def test_presentation_slot_is_shown_and_mailed_to_the_finalist_only(client) -> None:  # type: ignore[no-untyped-def]
    s = screening(entries=4, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    finalist, other = (run(Entry.select(Entry.id, Entry.organisation.code).where(Entry.state == s_)
                           .first()) for s_ in ("shortlisted", "not_shortlisted"))
    run(make_user("applicant", email="finalist@example.go.th", org=finalist["organisation.code"]))
    run(make_user("applicant", email="other@example.go.th", org=other["organisation.code"]))
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final"}))
    panel, _ = make_reviewers(2, prefix="panel")
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    run(make_user("admin", email="boss@dga.or.th"))
    admin = login_token(client, "boss@dga.or.th")
    path = f"/api/v1/rounds/{final_id}/presentations/{finalist['id']}"

    bad = client.put(path, headers=admin, json={"starts_at": "soon", "link": "javascript:alert(1)", "minutes": 1})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"starts_at", "link", "minutes"}
    assert client.put(f"/api/v1/rounds/{s.round_id}/presentations/{finalist['id']}", headers=admin,
                      json={"starts_at": "2026-12-01T10:00:00+07:00"}).json()["code"] == "not_final"
    assert client.put(f"/api/v1/rounds/{final_id}/presentations/{other['id']}", headers=admin,
                      json={"starts_at": "2026-12-01T10:00:00+07:00"}).status_code == 404
    resp = client.put(path, headers=admin, json={"starts_at": "2026-12-01T10:00:00+07:00", "minutes": 20,
                                                 "link": "https://meet.example.go.th/final-1", "note": "ห้อง 2"})
    assert resp.status_code == 200, resp.text
    mail = decoded_body(wait_for_mails("finalist@example.go.th")[0])
    assert "https://meet.example.go.th/final-1" in mail and "2569" in mail  # Buddhist-Era date

    mine = client.get(f"/api/v1/entries/{finalist['id']}/presentation",
                      headers=login_token(client, "finalist@example.go.th"))
    assert mine.status_code == 200 and mine.json()["minutes"] == 20 and mine.json()["link"].endswith("final-1")
    assert client.get(f"/api/v1/entries/{finalist['id']}/presentation",
                      headers=login_token(client, "other@example.go.th")).status_code == 404
    assert f"/entries/{finalist['id']}/presentation" in mail
    from tests.factories import browser_login
    browser_login(client, "finalist@example.go.th")
    page = client.get(f"/entries/{finalist['id']}/presentation")
    assert page.status_code == 200 and "https://meet.example.go.th/final-1" in page.text and "2569" in page.text
    assert "ห้อง 2" in page.text
    # The panel still scores every finalist; the slot changes nothing there.
    score_all(final_id, lambda e, r, c: 7.0)
    assert len(client.get(f"/api/v1/rounds/{final_id}/presentations", headers=admin).json()) == 1
