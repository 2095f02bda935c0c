"""The announcement: publishing, public results, open data, notifications, each applicant's
result, and the integrity check of the snapshot."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest
from click.testing import CliRunner

from contest.cli import main
from contest.domain import announcement, outbox
from contest.tables import Edition, Entry, Outbox, ResultSnapshot
from tests.conftest import run
from tests.factories import decoded_body, login_token, mails, make_user, wait_for_mails
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
    # Cacheable: the ETag is the snapshot hash (tagged with the site whose links it holds).
    etag = resp.headers["etag"]
    assert etag.startswith(f'"{sha}-') and "public" in resp.headers["cache-control"]
    assert client.get(f"/api/v1/editions/{YEAR}/results", headers={"If-None-Match": etag}).status_code == 304
    assert body["awarded"][0]["showcase_url"] == (
        f"http://testserver.local/showcase/{YEAR}/{body['awarded'][0]['entry_id']}")

    # Open data: CSV with a BOM, stable ids; JSON with licence and data dictionary.
    raw = client.get(f"/open-data/{YEAR}/results.csv").content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 3 and rows[0]["dg_awards_winner"] == "true" and rows[0]["entry_id"] == str(winner)
    assert [r["award"] for r in rows] == ["digital_local_government"] * 3
    assert [r["dg_awards_winner"] for r in rows] == ["true", "false", "false"]
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
    for entry_id, email in zip(s.entries, emails, strict=False):
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


def test_result_mails_survive_a_worker_outage_and_restart(db: str, redis_url: str) -> None:
    """Publishing while the arq worker is down: once it is back every applicant is mailed, and a
    restarted worker mails nobody twice."""
    from arq import create_pool
    from arq.connections import RedisSettings

    from contest.domain.audit import Actor
    from tests.factories import worker_burst

    s = signed_final(entries=5, shortlist_size=2)
    emails = [f"lao{i}@example.go.th" for i in range(len(s.entries))]
    for entry_id, email in zip(s.entries, emails, strict=False):
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
            await outbox.settle()
            await worker_burst(redis_url)  # back: queues the result mails, then sends them
            await worker_burst(redis_url)
            await worker_burst(redis_url)  # a restart finds nothing left to do
        finally:
            outbox.use_arq(None)
            await pool.aclose()

    run(scenario())
    for email in emails:
        assert len(mails(email)) == 1
    assert run(announcement.notification_progress(YEAR))["done"] == len(emails)


# --- helpers for the tests below ------------------------------------------------------------------

def _judged_directly(year: int = YEAR, *, awarded: int = 40, others: int = 3) -> list[int]:
    """An edition whose judging is done (outcomes set on the entries directly, as judging records
    them: the first awardee the winner), its announcement time passed. Returns the awardees."""
    from tests.factories import make_edition, make_submitted_entries

    run(make_edition(year, title=f"รางวัลท้องถิ่นดิจิทัล ประจำปี {year}"))
    ids = run(make_submitted_entries(year, awarded, state="finalist"))
    if others:
        run(make_submitted_entries(year, others, state="not_shortlisted"))
    for rank, entry_id in enumerate(ids, start=1):
        run(Entry.update({Entry.state: "winner" if rank == 1 else "finalist", Entry.outcome_rank: rank,
                          Entry.outcome_score: f"{100 - rank:.4f}"}).where(Entry.id == entry_id))
    after_announcement(year)
    return ids


def _publish(year: int = YEAR) -> dict:  # type: ignore[type-arg]
    from contest.domain.audit import Actor

    admin_id = run(make_user("admin", email=f"publisher{year}@dga.or.th"))
    return run(announcement.publish_results(actor=Actor(id=admin_id, email=f"publisher{year}@dga.or.th",
                                                        role="admin"), year=year))


def _verify() -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", "verify"])
    return result.exit_code, result.output


class _BaseUrl:
    """BASE_URL set to another site for the block (settings are read once, so re-read them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
        self.monkeypatch, self.url = monkeypatch, url

    def __enter__(self) -> None:
        from contest.settings import get_settings

        self.monkeypatch.setenv("BASE_URL", self.url)
        get_settings.cache_clear()

    def __exit__(self, *exc: object) -> None:
        from contest.settings import get_settings

        self.monkeypatch.setenv("BASE_URL", "http://testserver.local")
        get_settings.cache_clear()


# --- open data: counts, links and spreadsheet safety ---------------------------------------------

def test_open_data_counts_40_awardees_and_1_winner_like_the_api(client) -> None:  # type: ignore[no-untyped-def]
    ids = _judged_directly()
    _publish()
    api = client.get(f"/api/v1/editions/{YEAR}/results").json()
    assert len(api["awarded"]) == 40 and [w["entry_id"] for w in api["winners"]] == [ids[0]]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/open-data/{YEAR}/results.csv").content.decode("utf-8-sig"))))
    assert len(rows) == 40 and len({r["entry_id"] for r in rows}) == 40  # one row per awarded entry
    assert sum(r["award"] == "digital_local_government" for r in rows) == 40
    assert [r["entry_id"] for r in rows if r["dg_awards_winner"] == "true"] == [str(ids[0])]
    assert rows[0]["award_name_th"] == "รางวัลท้องถิ่นดิจิทัล"
    records = client.get(f"/open-data/{YEAR}/results.json").json()["records"]
    assert len(records) == 40 and sum(r["award"] == "digital_local_government" for r in records) == 40
    assert [r["entry_id"] for r in records if r["dg_awards_winner"] is True] == [ids[0]]
    assert sum(r["dg_awards_winner"] is False for r in records) == 39
    data = client.get(f"/open-data/{YEAR}/results.json").json()
    assert "dg_awards_winner" in data["data_dictionary"] and "one row per awarded entry" in (
        data["data_dictionary"]["entry_id"])


def test_results_csv_neutralises_spreadsheet_formulas_json_keeps_the_text(client) -> None:  # type: ignore[no-untyped-def]
    ids = _judged_directly(awarded=6, others=0)
    titles = ['=HYPERLINK("https://evil.example","คลิก")', "+66 ระบบแจ้งเหตุ", "-1 ขั้นตอน", "@SUM(A1)",
              "\tแท็บนำหน้า", "ระบบ = ปกติ"]
    for entry_id, title in zip(ids, titles, strict=False):
        run(Entry.update({Entry.title: title}).where(Entry.id == entry_id))
    _publish()
    rows = list(csv.DictReader(io.StringIO(client.get(f"/open-data/{YEAR}/results.csv").content.decode("utf-8-sig"))))
    by_id = {int(r["entry_id"]): r["title"] for r in rows}
    assert [by_id[i] for i in ids] == ["'" + t for t in titles[:5]] + ["ระบบ = ปกติ"]
    records = client.get(f"/open-data/{YEAR}/results.json").json()["records"]
    assert [next(r["title"] for r in records if r["entry_id"] == i) for i in ids] == titles
    assert announcement.csv_cell("－1") == "'－1" and announcement.csv_cell("ก-1") == "ก-1"
    assert announcement.csv_cell(True) == "true" and announcement.csv_cell(None) == ""


def test_open_data_json_before_publication_is_a_json_404(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="early@dga.or.th"))
    for headers in ({}, {"Accept": "text/html,application/xhtml+xml,*/*"}):
        resp = client.get(f"/open-data/{YEAR}/results.json", headers=headers)
        assert resp.status_code == 404 and resp.headers["content-type"].startswith("application/json")
        body = resp.json()
        assert (body["status_code"], body["code"]) == (404, "not_published")
        assert body["detail"] == announcement.t("No results have been published for this edition.", "th")
    english = client.get(f"/open-data/{YEAR}/results.json", headers={"Accept-Language": "en"}).json()
    assert english["detail"] == "No results have been published for this edition."


def test_snapshot_keeps_paths_and_links_follow_base_url(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = _judged_directly(awarded=3, others=0)
    _publish()
    payload = run(ResultSnapshot.select(ResultSnapshot.payload).first())["payload"]
    assert "http://" not in payload and "https://creativecommons.org" in payload  # only the licence's URL
    document = json.loads(payload)
    assert {i["showcase_path"] for i in document["awarded"]} == {f"/showcase/{YEAR}/{i}" for i in ids}
    with _BaseUrl(monkeypatch, "https://localgov.dga.or.th"):
        api = client.get(f"/api/v1/editions/{YEAR}/results").json()
        assert {i["showcase_url"] for i in api["awarded"]} == {
            f"https://localgov.dga.or.th/showcase/{YEAR}/{i}" for i in ids}
        records = client.get(f"/open-data/{YEAR}/results.json").json()["records"]
        assert records[0]["showcase_url"] == f"https://localgov.dga.or.th/showcase/{YEAR}/{ids[0]}"
        rows = list(csv.DictReader(io.StringIO(
            client.get(f"/open-data/{YEAR}/results.csv").content.decode("utf-8-sig"))))
        assert rows[0]["showcase_url"] == f"https://localgov.dga.or.th/showcase/{YEAR}/{ids[0]}"
        moved_etag = client.get(f"/open-data/{YEAR}/results.json").headers["etag"]
        code, output = _verify()
        assert code == 0 and "results snapshots intact" in output, output
    assert client.get(f"/open-data/{YEAR}/results.json").headers["etag"] != moved_etag


# --- contest audit verify -------------------------------------------------------------------------

def test_audit_verify_passes_after_a_registry_reimport_renaming_an_awardee(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from contest.tables import Organisation

    ids = _judged_directly(awarded=3, others=1)
    _publish()
    assert _verify()[0] == 0
    org = run(Entry.select(Entry.organisation.code, Entry.organisation.name_th).where(Entry.id == ids[0]).first())
    registry = tmp_path / "registry.csv"
    registry.write_text("code,name_th,name_en,kind,province_code\n"
                        f"{org['organisation.code']},เทศบาลเมืองชื่อใหม่,New Town,town_municipality,90\n",
                        encoding="utf-8")
    imported = CliRunner().invoke(main, ["import-orgs", str(registry)])
    assert imported.exit_code == 0 and "updated 1" in imported.output, imported.output
    renamed = run(Organisation.select().where(Organisation.code == org["organisation.code"]).first())
    assert (renamed["name_th"], renamed["province_name_th"], renamed["region"]) == (
        "เทศบาลเมืองชื่อใหม่", "สงขลา", "south")
    code, output = _verify()
    assert code == 0 and "results snapshots intact" in output, output
    # The published record keeps the name it was announced with.
    winner = client.get(f"/api/v1/editions/{YEAR}/results").json()["winners"][0]
    assert winner["organisation_name_th"] == org["organisation.name_th"]


def test_audit_verify_fails_on_a_changed_snapshot(client) -> None:  # type: ignore[no-untyped-def]
    _judged_directly(awarded=3, others=1)
    _publish()
    row = run(ResultSnapshot.select().first())
    tampered = row["payload"].replace('"schema":2', '"schema":3')
    run(ResultSnapshot.update({ResultSnapshot.payload: tampered}, force=True))
    code, output = _verify()
    assert code == 1
    assert f"results snapshot BROKEN: ปี {YEAR}: ข้อมูลผลการประกาศที่บันทึกไว้ไม่ตรงกับค่า SHA-256 ของตนเอง / " \
           f"edition {YEAR}: the results snapshot does not match its SHA-256." in output
    # Replaced together with a matching hash: the audit chain's publish event still says otherwise.
    new_sha = hashlib.sha256(tampered.encode()).hexdigest()
    run(ResultSnapshot.update({ResultSnapshot.sha256: new_sha}, force=True))
    code, output = _verify()
    assert code == 1 and "audit chain intact" in output
    assert (f"edition {YEAR}: the snapshot's SHA-256 {new_sha} is not the {row['sha256']} recorded by the "
            "edition.publish event") in output


def test_audit_verify_fails_on_a_changed_publish_event_hash(client) -> None:  # type: ignore[no-untyped-def]
    from contest.domain.audit import row_hash
    from contest.tables import AuditEvent

    _judged_directly(awarded=3, others=1)
    sha = _publish()["snapshot_sha256"]
    # Rewrite the publish event with another hash and re-chain everything after it, so the chain
    # itself verifies: only the comparison with the snapshot can tell.
    event = run(AuditEvent.select().where(AuditEvent.action == "edition.publish").first())
    after = json.loads(event["after"])
    after["snapshot_sha256"] = "0" * 64
    run(AuditEvent.update({AuditEvent.after: announcement.canonical_json(after)}).where(
        AuditEvent.seq == event["seq"]))
    prev = event["prev_hash"]
    for e in run(AuditEvent.select().where(AuditEvent.seq >= event["seq"]).order_by(AuditEvent.seq)):
        digest = row_hash(prev, e)
        run(AuditEvent.update({AuditEvent.prev_hash: prev, AuditEvent.hash: digest}).where(AuditEvent.seq == e["seq"]))
        prev = digest
    code, output = _verify()
    assert code == 1 and "audit chain intact" in output, output
    assert (f"edition {YEAR}: the snapshot's SHA-256 {sha} is not the {'0' * 64} recorded by the edition.publish "
            f"event (audit event {event['seq']}).") in output


def test_audit_verify_fails_on_a_changed_stored_outcome(client) -> None:  # type: ignore[no-untyped-def]
    ids = _judged_directly(awarded=3, others=1)
    _publish()
    assert _verify()[0] == 0
    run(Entry.update({Entry.outcome_score: "99.9999"}).where(Entry.id == ids[1]))
    code, output = _verify()
    assert code == 1
    assert (f"results snapshot BROKEN: ปี {YEAR}: ผลการตัดสินที่บันทึกไว้ของผลงาน {ids[1]} (score) ไม่ตรงกับผลที่ประกาศ"
            f" / edition {YEAR}: the stored outcome of entry {ids[1]} (score) differs from the published snapshot.") \
        in output
    run(Entry.update({Entry.outcome_score: "98.0000"}).where(Entry.id == ids[1]))
    assert _verify()[0] == 0
    # An award moved after publication: the winner demoted, another entry promoted.
    run(Entry.update({Entry.state: "finalist"}).where(Entry.id == ids[0]))
    loser = run(Entry.select(Entry.id).where(Entry.state == "not_shortlisted").first())["id"]
    run(Entry.update({Entry.state: "finalist"}).where(Entry.id == loser))
    code, output = _verify()
    assert code == 1
    assert f"the stored outcome of entry {ids[0]} (state, award) differs from the published snapshot." in output
    assert (f"entry {loser} has an award stored but is not among the awardees of the published snapshot.") in output


# --- publication rule, 404s, OpenAPI, archive -------------------------------------------------------

def test_publish_blockers_say_which_decision_is_missing(client) -> None:  # type: ignore[no-untyped-def]
    from contest.domain import outcomes
    from contest.domain.audit import SYSTEM
    from tests.factories import make_submitted_entries
    from tests.judging.support import past_deadline

    past_deadline()
    entries = run(make_submitted_entries(YEAR, 3))
    run(outcomes.set_eligibility(actor=SYSTEM, entry_ids=entries, eligible=True))
    after_announcement()
    headers = _admin(client)
    resp = client.post(f"/api/v1/editions/{YEAR}/publish", headers=headers)
    assert resp.status_code == 409 and resp.json()["code"] == "screening_not_signed"
    assert resp.json()["detail"] == "ยังไม่มีผลงานที่ผ่านการคัดเลือก: ยังไม่ได้ลงนามรับรองผลการกลั่นกรอง"
    run(Entry.update({Entry.state: "shortlisted"}).where(Entry.id.is_in(entries[:2])))
    resp = client.post(f"/api/v1/editions/{YEAR}/publish", headers={**headers, "Accept-Language": "en"})
    assert resp.status_code == 409 and resp.json()["code"] == "final_not_signed"
    assert resp.json()["detail"] == ("The final decision has not been signed yet: 2 shortlisted entries have no "
                                     "final outcome.")
    assert run(ResultSnapshot.count()) == 0


def test_a_signed_final_naming_no_winner_can_be_published(client) -> None:  # type: ignore[no-untyped-def]
    from contest.domain.audit import SYSTEM
    from judging.domain import assignments, rounds, shortlist
    from tests.judging.support import admin_actors, make_reviewers, score_all, screening, sign_round

    s = screening(entries=4, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    final_id = run(rounds.create_round(actor=SYSTEM, year=YEAR, data={"kind": "final"}))
    panel, _ = make_reviewers(3, prefix="panel")
    run(rounds.add_members(actor=SYSTEM, round_id=final_id, user_ids=panel))
    run(rounds.open_round(actor=SYSTEM, round_id=final_id))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=final_id))
    score_all(final_id, lambda e, r, c: float((e * 3) % 10))
    run(rounds.close_round(actor=SYSTEM, round_id=final_id))
    proposed = run(shortlist.decide(actor=SYSTEM, round_id=final_id))
    top = next(o["entry_id"] for o in proposed["outcomes"] if o["outcome"] == "winner")
    run(shortlist.decide(actor=SYSTEM, round_id=final_id, overrides=[
        {"entry_id": top, "outcome": "finalist", "reason": "คณะกรรมการเห็นว่ายังไม่มีผลงานที่สมควรได้รับรางวัล"}]))
    for actor in admin_actors(s.admins):
        run(shortlist.sign_decision(actor=actor, round_id=final_id))
    assert run(Entry.count().where(Entry.state == "winner")) == 0
    after_announcement()
    resp = client.post(f"/api/v1/editions/{YEAR}/publish", headers=_admin(client))
    assert resp.status_code == 200, resp.text
    assert (resp.json()["winners"], resp.json()["awarded"]) == (0, 2)
    body = client.get(f"/api/v1/editions/{YEAR}/results").json()
    assert body["winners"] == [] and len(body["awarded"]) == 2
    assert announcement.t("No DG Awards winner was named in this edition.", "th") in client.get(
        f"/results/{YEAR}").text


def test_admins_get_404_from_results_routes_before_publication(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final(entries=4, shortlist_size=2)
    after_announcement()
    headers = _admin(client)
    for path in (f"/api/v1/entries/{s.entries[0]}/result", f"/api/v1/editions/{YEAR}/results"):
        resp = client.get(path, headers=headers)
        assert (resp.status_code, resp.json()["code"]) == (404, "not_published"), path
    client.post(f"/api/v1/editions/{YEAR}/publish", headers=headers)
    assert client.get(f"/api/v1/entries/{s.entries[0]}/result", headers=headers).status_code == 200


def test_openapi_lists_the_announcement_routes(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/schema/openapi.json").json()["paths"]
    expected = {
        "/api/v1/editions/{year}/publish": ("post", "publishResults"),
        "/api/v1/editions/{year}/results": ("get", "getResults"),
        "/api/v1/entries/{entry_id}/result": ("get", "getEntryResult"),
        "/open-data/{year}/results.csv": ("get", "openDataCsv"),
        "/open-data/{year}/results.json": ("get", "openDataJson"),
        "/api/v1/editions/{year}/notifications": ("get", "notificationProgress"),
    }
    for path, (method, operation_id) in expected.items():
        assert paths[path][method]["operationId"] == operation_id, path
        assert "announcement" in paths[path][method]["tags"]


def test_archive_lists_two_published_editions_each_with_its_own_pages(client) -> None:  # type: ignore[no-untyped-def]
    older = _judged_directly(2568, awarded=2, others=1)
    _publish(2568)
    newer = _judged_directly(2569, awarded=3, others=1)
    _publish(2569)
    archive = client.get("/results").text
    assert archive.index("รางวัลท้องถิ่นดิจิทัล ประจำปี 2569") < archive.index("รางวัลท้องถิ่นดิจิทัล ประจำปี 2568")
    for year in (2568, 2569):
        for link in (f'href="/results/{year}"', f'href="/showcase/{year}"', f'href="/open-data/{year}"',
                     f'href="/open-data/{year}/results.csv"', f'href="/open-data/{year}/results.json"'):
            assert link in archive, link
    for year, ids in ((2568, older), (2569, newer)):
        other = newer if year == 2568 else older
        page = client.get(f"/results/{year}").text
        assert f"รางวัลท้องถิ่นดิจิทัล ประจำปี {year}" in page
        shown = {int(i) for i in re.findall(rf'href="/showcase/{year}/(\d+)"', page)}
        assert shown == set(ids)
        assert not any(f"/showcase/{year}/{i}\"" in page for i in other)
        assert client.get(f"/showcase/{year}").status_code == 200
        assert client.get(f"/showcase/{year}/{ids[0]}").status_code == 200
        assert client.get(f"/showcase/{year}/{other[0]}").status_code == 404
        records = client.get(f"/open-data/{year}/results.json").json()
        assert records["year"] == year and sorted(r["entry_id"] for r in records["records"]) == sorted(ids)
    assert _verify()[0] == 0


# --- mail: the same Message-ID on every run of a job ---------------------------------------------

class _SmtpSink:
    """A minimal SMTP server on loopback that keeps every message it is sent."""

    def __init__(self) -> None:
        import socketserver
        import threading

        received = self.received = []

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 sink ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line.strip().split(b" ", 1)[0].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.wfile.write(b"250 sink\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        received.append(b"".join(data))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_smtp_resend_of_the_same_job_has_the_same_message_id(db: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import email
    from email import policy

    from contest import jobs  # noqa: F401 - registers the send_mail handler
    from contest.mail import stable_message_id
    from contest.settings import get_settings

    sink = _SmtpSink()
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{sink.port}")
    monkeypatch.setenv("MAIL_FROM", "ท้องถิ่นดิจิทัล <no-reply@localgov.dga.or.th>")
    get_settings.cache_clear()
    try:
        async def queue() -> list[int]:
            from contest.db import atomic

            async with atomic():
                return await outbox.add_jobs("send_mail", [
                    ({"to": "lao@example.go.th", "subject": "ผลการประกวด", "text": "ผลงานของท่าน"}, "result:2569:1"),
                    ({"to": "other@example.go.th", "subject": "ผลการประกวด", "text": "ผลงานของท่าน"}, "result:2569:2")])

        first, second = run(queue())
        assert run(outbox.run_item(first)) == "done"
        # The worker died after the SMTP server took the message but before the job was marked
        # done: the job runs again and sends again.
        run(Outbox.update({Outbox.state: "pending", Outbox.claimed_until: None}).where(Outbox.id == first))
        assert run(outbox.run_item(first)) == "done"
        assert run(outbox.run_item(second)) == "done"
        expected = stable_message_id(f"outbox-{first}")
    finally:
        sink.close()
        monkeypatch.delenv("SMTP_URL")
        monkeypatch.delenv("MAIL_FROM")
        get_settings.cache_clear()
    ids = [email.message_from_bytes(m, policy=policy.default)["Message-ID"] for m in sink.received]
    assert len(ids) == 3
    assert ids[0] == ids[1] == expected != ids[2]
    assert ids[0].startswith(f"<outbox-{first}.") and ids[0].endswith("@localgov.dga.or.th>")
    assert ids[2].startswith(f"<outbox-{second}.")
