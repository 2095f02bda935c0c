"""The final round's decision: a tie at the winner cut broken by the frozen tie-break
chain, then by a recorded panel decision (never by id); more than one winner; and publishing
refused while the final is open or has only one signature."""

from __future__ import annotations

from typing import Any

import pytest

from contest.domain.audit import SYSTEM
from contest.i18n import t
from contest.tables import Edition, Entry
from judging.domain import assignments, rounds, shortlist
from tests.conftest import run
from tests.factories import login_token, make_user
from tests.judging.support import (
    YEAR,
    admin_actors,
    after_announcement,
    make_reviewers,
    score_all,
    screening,
    sign_round,
)

pytestmark = pytest.mark.integration


def _open_final(*, finalists: int = 3, winners: int = 1) -> tuple[Any, int, list[int]]:
    """A signed screening with ``finalists`` shortlisted, and an open, assigned final round with
    a panel of two. Returns (screening, final round id, finalist ids in id order)."""
    s = screening(entries=finalists + 2, reviewers=3, per_entry=2, shortlist_size=finalists)
    run(Edition.update({Edition.winners: winners}).where(Edition.year == YEAR))
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    ids = sorted(e["id"] for e in run(Entry.select(Entry.id).where(Entry.state == "shortlisted")))
    assert len(ids) == finalists
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final"}))
    panel, _ = make_reviewers(2, prefix="panel")
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=final_id))
    return s, final_id, ids


def sign_round_signatures(s: Any, round_id: int) -> None:
    for actor in admin_actors(s.admins):
        run(shortlist.sign_decision(actor=actor, round_id=round_id))


def _admin(client):  # type: ignore[no-untyped-def]
    run(make_user("admin", email="final-admin@dga.or.th"))
    return login_token(client, "final-admin@dga.or.th")


def _states(ids: list[int]) -> dict[int, str]:
    return {e["id"]: e["state"] for e in run(Entry.select(Entry.id, Entry.state).where(Entry.id.is_in(ids)))}


def test_a_tie_at_the_winner_cut_is_broken_by_the_tie_break_chain(client) -> None:  # type: ignore[no-untyped-def]
    s, final_id, (a, b, c) = _open_final()
    # a and b have the same weighted total (results and fit weigh 20 each, swapped); the chain
    # starts with "results", where b is ahead.
    sheets = {a: {"results": 7.0, "fit": 9.0}, b: {"results": 9.0, "fit": 7.0}}
    score_all(final_id, lambda e, r, code: sheets.get(e, {}).get(code, 8.0) if e in sheets else 5.0)
    headers = _admin(client)
    assert client.post(f"/api/v1/rounds/{final_id}/close", headers=headers).status_code == 200
    ranking = client.get(f"/api/v1/rounds/{final_id}/ranking", headers=headers).json()
    top = {r["entry_id"]: r for r in ranking}
    assert top[a]["raw_score"] == top[b]["raw_score"] == 8.0
    assert (top[b]["rank"], top[a]["rank"], top[c]["rank"]) == (1, 2, 3)
    assert not top[a]["tied"] and not top[b]["tied"]
    proposal = client.post(f"/api/v1/rounds/{final_id}/decide", headers=headers, json={}).json()
    assert [o["entry_id"] for o in proposal["outcomes"] if o["outcome"] == "winner"] == [b]
    sign_round_signatures(s, final_id)
    assert _states([a, b, c]) == {a: "finalist", b: "winner", c: "finalist"}


def test_a_tie_the_chain_cannot_break_needs_the_panels_recorded_decision(client) -> None:  # type: ignore[no-untyped-def]
    s, final_id, (a, b, c) = _open_final()
    score_all(final_id, lambda e, r, code: 9.0 if e in (a, b) else 4.0)  # identical on every criterion
    headers = _admin(client)
    client.post(f"/api/v1/rounds/{final_id}/close", headers=headers)
    ranking = client.get(f"/api/v1/rounds/{final_id}/ranking", headers=headers).json()
    assert [(r["rank"], r["tied"]) for r in ranking[:2]] == [(1, True), (1, True)]
    resp = client.post(f"/api/v1/rounds/{final_id}/decide", headers=headers, json={})
    assert resp.status_code == 409 and resp.json()["code"] == "unresolved_tie"
    assert sorted(resp.json()["entry_ids"]) == [a, b] and resp.json()["cut"] == 1
    # The panel puts the higher id first: the order is theirs, not the ids'.
    resp = client.post(f"/api/v1/rounds/{final_id}/ties", headers=headers,
                       json={"entry_ids": [b, a], "reason": "มติคณะกรรมการผู้ทรงคุณวุฒิ ครั้งที่ 2/2569"})
    assert resp.status_code == 200
    ranking = client.get(f"/api/v1/rounds/{final_id}/ranking", headers=headers).json()
    assert [(r["entry_id"], r["rank"]) for r in ranking] == [(b, 1), (a, 2), (c, 3)]
    proposal = client.post(f"/api/v1/rounds/{final_id}/decide", headers=headers, json={}).json()
    assert [o["entry_id"] for o in proposal["outcomes"] if o["outcome"] == "winner"] == [b]
    assert proposal["warnings"] == []
    sign_round_signatures(s, final_id)
    assert _states([a, b, c]) == {a: "finalist", b: "winner", c: "finalist"}


def test_an_edition_with_two_winners(client) -> None:  # type: ignore[no-untyped-def]
    s, final_id, ids = _open_final(finalists=4, winners=2)
    quality = {e: 9.0 - i for i, e in enumerate(reversed(ids))}  # the highest id scores best
    score_all(final_id, lambda e, r, code: quality[e])
    headers = _admin(client)
    client.post(f"/api/v1/rounds/{final_id}/close", headers=headers)
    proposal = client.post(f"/api/v1/rounds/{final_id}/decide", headers=headers, json={}).json()
    assert proposal["cut"] == 2 and proposal["inside"] == 2 and proposal["warnings"] == []
    assert [o["entry_id"] for o in proposal["outcomes"] if o["outcome"] == "winner"] == [ids[3], ids[2]]
    sign_round_signatures(s, final_id)
    assert _states(ids) == {ids[0]: "finalist", ids[1]: "finalist", ids[2]: "winner", ids[3]: "winner"}
    after_announcement()
    assert client.post(f"/api/v1/editions/{YEAR}/publish", headers=headers).status_code == 200
    results = client.get(f"/api/v1/editions/{YEAR}/results").json()
    assert [w["entry_id"] for w in results["winners"]] == [ids[3], ids[2]]


def test_publishing_is_refused_while_the_final_is_open_or_signed_once(client) -> None:  # type: ignore[no-untyped-def]
    s, final_id, ids = _open_final()
    score_all(final_id, lambda e, r, code: float(e % 10))
    headers = _admin(client)
    after_announcement()  # the embargo is over: only the final stands in the way
    url = f"/api/v1/editions/{YEAR}/publish"
    resp = client.post(url, headers=headers)
    assert resp.status_code == 409 and resp.json()["code"] == "final_not_signed"
    assert resp.json()["detail"] == t("The final decision has not been signed yet: {n} shortlisted entries have no "
                                      "final outcome.", "th", n=3)

    client.post(f"/api/v1/rounds/{final_id}/close", headers=headers)
    client.post(f"/api/v1/rounds/{final_id}/decide", headers=headers, json={})
    first = login_token(client, s.admins[0])
    assert client.post(f"/api/v1/rounds/{final_id}/sign", headers=first, json={}).json()["final"] is False
    resp = client.post(url, headers=headers)
    assert resp.status_code == 409 and resp.json()["code"] == "final_not_signed"
    assert run(Edition.select(Edition.state).first())["state"] == "final"

    second = login_token(client, s.admins[1])
    assert client.post(f"/api/v1/rounds/{final_id}/sign", headers=second, json={}).json()["final"] is True
    assert client.post(url, headers=headers).status_code == 200
