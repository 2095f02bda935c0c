"""The announcement: publishing, public results, open data, notifications, each applicant's
result, and the integrity check of the snapshot (issue 5)."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from click.testing import CliRunner

from contest.cli import main
from contest.domain import announcement, outbox
from contest.tables import Edition, Entry, Outbox, ResultSnapshot
from tests.conftest import run
from tests.factories import decoded_body, login_token, make_user, mails, wait_for_mails
from tests.judging.support import YEAR, after_announcement, signed_final

pytestmark = pytest.mark.integration


def _admin(client):  # type: ignore[no-untyped-def]
    run(make_user("admin", email="publisher@dga.or.th"))
    return login_token(client, "publisher@dga.or.th")


def _applicant_for(entry_id: int, email: str) -> None:
    code = run(Entry.select(Entry.organisation.code).where(Entry.id == entry_id).first())["organisation.code"]
    run(make_user("applicant", email=email, org=code))


def test_nothing_public_before_publication_and_publish_gates(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final()
    headers = _admin(client)
    for path in (f"/api/v1/editions/{YEAR}/results", f"/open-data/{YEAR}/results.csv",
                 f"/open-data/{YEAR}/results.json"):
        assert client.get(path).status_code == 404
        assert client.get(path, headers=headers).status_code == 404  # admins too
    # Before the announcement time: 409 and nothing changes.
    resp = client.post(f"/api/v1/editions/{YEAR}/publish", headers=headers)
    assert resp.status_code == 409 and resp.json()["code"] == "embargo"
    assert run(ResultSnapshot.count()) == 0
    # Applicants and reviewers may not publish.
    _applicant_for(s.entries[0], "staff@example.go.th")
    assert client.post(f"/api/v1/editions/{YEAR}/publish",
                       headers=login_token(client, "staff@example.go.th")).status_code == 403


def test_publish_refused_before_the_final_is_signed(client) -> None:  # type: ignore[no-untyped-def]
    from tests.judging.support import score_all, screening, sign_round

    s = screening(entries=4, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    after_announcement()
    resp = client.post(f"/api/v1/editions/{YEAR}/publish", headers=_admin(client))
    assert resp.status_code == 409 and resp.json()["code"] == "final_not_signed"
    assert run(ResultSnapshot.count()) == 0


def test_publish_results_open_data_and_cache(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final(entries=6, shortlist_size=3)
    no_consent = run(Entry.select(Entry.id).where(Entry.state == "finalist").first())["id"]
    run(Entry.update({Entry.consent_publish: False}).where(Entry.id == no_consent))
    after_announcement()
    headers = _admin(client)
    resp = client.post(f"/api/v1/editions/{YEAR}/publish", headers=headers)
    assert resp.status_code == 200, resp.text
    sha = resp.json()["snapshot_sha256"]
    snapshot = run(ResultSnapshot.select().first())
    assert hashlib.sha256(snapshot["payload"].encode()).hexdigest() == sha == snapshot["sha256"]
    assert run(Edition.select(Edition.state).first())["state"] == "announced"
    assert client.post(f"/api/v1/editions/{YEAR}/publish", headers=headers).json()["code"] == "already_published"

    resp = client.get(f"/api/v1/editions/{YEAR}/results")
    assert resp.status_code == 200
    body = resp.json()
    assert body["snapshot_sha256"] == sha and body["year"] == YEAR
    winner = run(Entry.select(Entry.id).where(Entry.state == "winner").first())["id"]
    assert [w["entry_id"] for w in body["winners"]] == [winner] and body["winners"][0]["award"] == "dg_awards"
    assert len(body["awarded"]) == 3 and {a["award"] for a in body["awarded"]} == {"digital_local_government"}
    assert set(body["awarded"][0]) >= {"entry_id", "title", "organisation_code", "organisation_name_th",
                                       "province_name_th", "award"}
    assert "summary" not in body["awarded"][0] and "contact_email" not in resp.text
    # Cacheable: the snapshot hash is the ETag.
    assert resp.headers["etag"] == f'"{sha}"' and "public" in resp.headers["cache-control"]
    assert client.get(f"/api/v1/editions/{YEAR}/results", headers={"If-None-Match": f'"{sha}"'}).status_code == 304

    # Open data: CSV with a BOM, stable ids; JSON with licence and data dictionary.
    raw = client.get(f"/open-data/{YEAR}/results.csv").content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 3 and rows[0]["award"] == "dg_awards" and rows[0]["entry_id"] == str(winner)
    assert rows[0]["organisation_name_th"].startswith("เทศบาลตำบลทดสอบ")
    data = client.get(f"/open-data/{YEAR}/results.json").json()
    assert data["licence"]["url"].startswith("https://creativecommons.org/")
    assert set(data["data_dictionary"]) == set(rows[0]) and len(data["records"]) == 3
    assert data["snapshot_sha256"] == sha

    # The organisation that did not consent: only organisation, title and award.
    stored = json.loads(snapshot["payload"])
    hidden = next(i for i in stored["awarded"] if i["entry_id"] == no_consent)
    assert "summary" not in hidden and "problem" not in hidden and hidden["title"]
    shown = next(i for i in stored["awarded"] if i["entry_id"] != no_consent)
    assert shown["summary"] == "สรุป"
    _ = s


def test_every_applicant_mailed_once_even_after_a_worker_restart(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final(entries=6, shortlist_size=3)
    emails = [f"lao{i}@example.go.th" for i in range(len(s.entries))]
    for entry_id, email in zip(s.entries, emails):
        _applicant_for(entry_id, email)
    after_announcement()
    headers = _admin(client)
    assert client.post(f"/api/v1/editions/{YEAR}/publish", headers=headers).status_code == 200
    for email in emails:
        assert len(wait_for_mails(email)) == 1
    winner = run(Entry.select(Entry.id).where(Entry.state == "winner").first())["id"]
    winner_mail = decoded_body(mails(emails[s.entries.index(winner)])[0])
    assert announcement._outcome_text("winner", True, "th") in winner_mail
    loser = next(e for e in s.entries if e != winner and run(Entry.select(Entry.state).where(
        Entry.id == e).first())["state"] == "not_shortlisted")
    assert announcement._outcome_text("not_shortlisted", False, "th") in decoded_body(
        mails(emails[s.entries.index(loser)])[0])
    # A restarted worker runs the announce job again: nobody gets a second mail.
    job = run(Outbox.select(Outbox.id).where(Outbox.job == "announce_results").first())["id"]
    run(Outbox.update({Outbox.state: "pending", Outbox.claimed_until: None}).where(Outbox.id == job))
    assert run(outbox.run_item(job)) == "done"
    assert run(announcement.notify_applicants(YEAR)) == 0
    run(outbox.run_due())
    for email in emails:
        assert len(mails(email)) == 1
    progress = client.get(f"/api/v1/editions/{YEAR}/notifications", headers=headers).json()
    assert progress["total"] == len(emails) and progress["done"] == len(emails)


def test_applicant_sees_own_result_and_feedback_only_after_publication(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final(entries=6, shortlist_size=3)
    loser = run(Entry.select(Entry.id).where(Entry.state == "not_shortlisted").first())["id"]
    winner = run(Entry.select(Entry.id).where(Entry.state == "winner").first())["id"]
    _applicant_for(loser, "loser@example.go.th")
    _applicant_for(winner, "winner@example.go.th")
    mine = login_token(client, "loser@example.go.th")
    assert client.get(f"/api/v1/entries/{loser}/result", headers=mine).status_code == 404
    # Before publication the organisation's own entry shows no verdict, in the detail or the list.
    assert client.get(f"/api/v1/entries/{loser}", headers=mine).json()["state"] == "submitted"
    assert [e["state"] for e in client.get("/api/v1/entries", headers=mine).json()] == ["submitted"]
    won = login_token(client, "winner@example.go.th")
    assert client.get(f"/api/v1/entries/{winner}", headers=won).json()["state"] == "submitted"
    after_announcement()
    client.post(f"/api/v1/editions/{YEAR}/publish", headers=_admin(client))
    assert client.get(f"/api/v1/entries/{loser}", headers=mine).json()["state"] == "not_shortlisted"
    resp = client.get(f"/api/v1/entries/{loser}/result", headers=mine)
    assert resp.status_code == 200
    result = resp.json()
    assert result["awarded"] is False and result["feedback"]["reviewers"] == 2
    assert {c["code"] for c in result["feedback"]["criteria"]} >= {"fit", "results"}
    assert not any(email in resp.text for email in s.reviewer_emails)
    # Someone else's entry: 404.
    assert client.get(f"/api/v1/entries/{winner}/result", headers=mine).status_code == 404
    won = client.get(f"/api/v1/entries/{winner}/result", headers=login_token(client, "winner@example.go.th")).json()
    assert won["winner"] is True and won["award"] == "dg_awards"


def test_tampered_snapshot_or_results_fail_audit_verify(client) -> None:  # type: ignore[no-untyped-def]
    signed_final(entries=4, shortlist_size=2)
    after_announcement()
    client.post(f"/api/v1/editions/{YEAR}/publish", headers=_admin(client))
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    # Someone edits a published title in the database: the results no longer match the snapshot.
    winner = run(Entry.select(Entry.id, Entry.title).where(Entry.state == "winner").first())
    run(Entry.update({Entry.title: "แก้ไขภายหลัง"}).where(Entry.id == winner["id"]))
    broken = runner.invoke(main, ["audit", "verify"])
    assert broken.exit_code == 1 and "differ from the published snapshot" in broken.output
    run(Entry.update({Entry.title: winner["title"]}).where(Entry.id == winner["id"]))
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    # Someone edits the snapshot itself.
    payload = run(ResultSnapshot.select(ResultSnapshot.payload).first())["payload"]
    run(ResultSnapshot.update({ResultSnapshot.payload: payload.replace('"schema":1', '"schema":2')}, force=True))
    broken = runner.invoke(main, ["audit", "verify"])
    assert broken.exit_code == 1 and "does not match its SHA-256" in broken.output


def test_result_mails_survive_a_worker_outage_and_restart(db: str, redis_url: str) -> None:
    """Publishing while the arq worker is down: once it is back every applicant is mailed, and a
    restarted worker mails nobody twice."""
    from arq import create_pool
    from arq.connections import RedisSettings

    from contest.domain.audit import Actor
    from tests.contest.test_jobs import _worker_burst

    s = signed_final(entries=5, shortlist_size=2)
    emails = [f"lao{i}@example.go.th" for i in range(len(s.entries))]
    for entry_id, email in zip(s.entries, emails):
        _applicant_for(entry_id, email)
    after_announcement()
    admin_id = run(make_user("admin", email="publisher@dga.or.th"))

    async def scenario() -> None:
        pool = await create_pool(RedisSettings.from_dsn(redis_url))
        await pool.flushdb()
        outbox.use_arq(pool)
        try:
            await announcement.publish_results(actor=Actor(id=admin_id, email="publisher@dga.or.th", role="admin"),
                                               year=YEAR)
            assert mails() == []  # the worker is down
            await _worker_burst(redis_url)  # back: queues the result mails, then sends them
            await _worker_burst(redis_url)
            await _worker_burst(redis_url)  # a restart finds nothing left to do
        finally:
            outbox.use_arq(None)
            await pool.aclose()

    run(scenario())
    for email in emails:
        assert len(mails(email)) == 1
    assert run(announcement.notification_progress(YEAR))["done"] == len(emails)
