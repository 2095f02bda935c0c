"""An entry's consent to publish its details: who gave it and when, withdrawing it before the
results are published, and after: the next snapshot, the showcase and the open data drop them."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from click.testing import CliRunner

from contest.cli import main
from contest.domain import announcement
from contest.tables import AuditEvent, Entry, EntryConsent, ResultSnapshot
from tests.conftest import run
from tests.contest.test_entries_api import COMPLETE
from tests.factories import browser_login, csrf, login_token, make_edition, make_org, make_user
from tests.judging.support import YEAR, after_announcement, signed_final

pytestmark = pytest.mark.integration

CONSENT_NOTE = "หน่วยงานไม่ได้ยินยอมให้เผยแพร่รายละเอียดของผลงานนี้"


def _staff_of(entry_id: int, email: str) -> None:
    code = run(Entry.select(Entry.organisation.code).where(Entry.id == entry_id).first())["organisation.code"]
    run(make_user("applicant", email=email, org=code))


def _published(client: Any) -> tuple[int, int, dict[str, str]]:
    """A published edition: its winner (consent given) and a finalist, and an admin's token."""
    signed_final(entries=6, shortlist_size=3)
    winner = run(Entry.select(Entry.id).where(Entry.state == "winner").first())["id"]
    finalist = run(Entry.select(Entry.id).where(Entry.state == "finalist").first())["id"]
    after_announcement()
    run(make_user("admin", email="publisher@dga.or.th"))
    admin = login_token(client, "publisher@dga.or.th")
    assert client.post(f"/api/v1/editions/{YEAR}/publish", headers=admin).status_code == 200
    return winner, finalist, admin


def test_consent_given_on_the_form_is_recorded_with_who_and_when(client: Any) -> None:
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    headers = login_token(client, "staff@example.go.th")
    created = client.post("/api/v1/editions/2569/entries", headers=headers, json=COMPLETE).json()
    assert created["consent_publish"] is True and created["consent_given_by"] == "staff@example.go.th"
    assert created["consent_given_at"] is not None and created["consent_withdrawn_at"] is None
    # Unticking it on the form withdraws it, on the record too.
    resp = client.patch(f"/api/v1/entries/{created['id']}", headers=headers,
                        json={"consent_publish": False, "version": created["version"]})
    assert resp.status_code == 200 and resp.json()["consent_withdrawn_at"] is not None
    rows = run(EntryConsent.select().where(EntryConsent.entry == created["id"]).order_by(EntryConsent.id))
    assert [(r["granted"], r["how"]) for r in rows] == [(True, "entry_form"), (False, "entry_form")]
    actions = [r["action"] for r in run(AuditEvent.select(AuditEvent.action).order_by(AuditEvent.seq))]
    assert "entry.consent_given" in actions and "entry.consent_withdrawn" in actions


def test_withdrawn_before_publication_the_snapshot_never_holds_the_details(client: Any) -> None:
    signed_final(entries=6, shortlist_size=3)
    winner = run(Entry.select(Entry.id).where(Entry.state == "winner").first())["id"]
    _staff_of(winner, "staff@example.go.th")
    headers = login_token(client, "staff@example.go.th")
    # Others may not withdraw it; nothing changes.
    run(make_user("applicant", email="other@example.go.th"))
    run(make_user("reviewer", email="r@dga.or.th"))
    for email in ("other@example.go.th", "r@dga.or.th"):
        denied = client.post(f"/api/v1/entries/{winner}/consent-withdrawal", headers=login_token(client, email))
        assert denied.status_code == 404
    assert run(Entry.select(Entry.consent_publish).where(Entry.id == winner).first())["consent_publish"] is True
    resp = client.post(f"/api/v1/entries/{winner}/consent-withdrawal", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["consent_publish"] is False and resp.json()["snapshot_sha256"] is None
    again = client.post(f"/api/v1/entries/{winner}/consent-withdrawal", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "consent_not_given"
    assert run(EntryConsent.count().where(EntryConsent.entry == winner)) == 1
    after_announcement()
    run(make_user("admin", email="publisher@dga.or.th"))
    assert client.post(f"/api/v1/editions/{YEAR}/publish",
                       headers=login_token(client, "publisher@dga.or.th")).status_code == 200
    document = json.loads(run(ResultSnapshot.select(ResultSnapshot.payload).first())["payload"])
    item = next(i for i in document["awarded"] if i["entry_id"] == winner)
    assert item["consent_publish"] is False and "summary" not in item
    assert "summary" not in document["winners"][0]


def test_withdrawn_after_publication_the_next_snapshot_the_showcase_and_open_data_drop_the_details(
        client: Any) -> None:
    winner, finalist, admin = _published(client)
    before = run(ResultSnapshot.select().first())
    assert json.loads(before["payload"])["winners"][0]["summary"]
    page = client.get(f"/showcase/{YEAR}/{winner}")
    assert page.status_code == 200 and "สรุป" in page.text
    etag = client.get(f"/api/v1/editions/{YEAR}/results").headers["etag"]
    _staff_of(winner, "staff@example.go.th")
    resp = client.post(f"/api/v1/entries/{winner}/consent-withdrawal",
                       headers=login_token(client, "staff@example.go.th"))
    assert resp.status_code == 200, resp.text
    sha = resp.json()["snapshot_sha256"]
    after = run(ResultSnapshot.select().first())
    assert sha and sha == after["sha256"] != before["sha256"]
    document = json.loads(after["payload"])
    for listed in (document["awarded"], document["winners"]):
        item = next(i for i in listed if i["entry_id"] == winner)
        assert item["consent_publish"] is False
        assert not set(announcement.SHOWCASE_FIELDS) & set(item)
    # The other awardees, the outcomes and the publication time are as published.
    old = json.loads(before["payload"])
    assert document["outcomes"] == old["outcomes"] and document["published_at"] == old["published_at"]
    assert next(i for i in document["awarded"] if i["entry_id"] == finalist) == next(
        i for i in old["awarded"] if i["entry_id"] == finalist)
    # The showcase: the title, organisation and award only.
    page = client.get(f"/showcase/{YEAR}/{winner}")
    assert page.status_code == 200 and CONSENT_NOTE in page.text
    assert "สรุป" not in page.text
    listing = client.get(f"/showcase/{YEAR}?q=สรุป").text
    assert f"/showcase/{YEAR}/{winner}\"" not in listing
    # The open data and the API: the new snapshot, a new ETag.
    results = client.get(f"/api/v1/editions/{YEAR}/results")
    assert results.headers["etag"] != etag and results.json()["snapshot_sha256"] == sha
    data = client.get(f"/open-data/{YEAR}/results.json").json()
    row = next(r for r in data["records"] if r["entry_id"] == winner)
    assert row["consent_publish"] is False and row["category"] == "" and data["snapshot_sha256"] == sha
    rows = list(csv.DictReader(io.StringIO(client.get(f"/open-data/{YEAR}/results.csv").content.decode("utf-8-sig"))))
    assert next(r for r in rows if r["entry_id"] == str(winner))["consent_publish"] == "false"
    # The audit chain vouches for the new snapshot.
    assert run(announcement.verify_snapshots()) == []
    verified = CliRunner().invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    event = run(AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "edition.republish").first())
    after_event = json.loads(event["after"]) if isinstance(event["after"], str) else event["after"]
    assert after_event["snapshot_sha256"] == sha and after_event["consent_withdrawn"] == winner


def test_a_tampered_republished_snapshot_is_still_caught(client: Any) -> None:
    winner, _, _ = _published(client)
    _staff_of(winner, "staff@example.go.th")
    assert client.post(f"/api/v1/entries/{winner}/consent-withdrawal",
                       headers=login_token(client, "staff@example.go.th")).status_code == 200
    row = run(ResultSnapshot.select().first())
    forged = row["payload"].replace('"consent_publish":false', '"consent_publish":true', 1)
    run(ResultSnapshot.update({ResultSnapshot.payload: forged, ResultSnapshot.sha256: announcement.digest(forged)})
        .where(ResultSnapshot.id == row["id"]))
    assert run(announcement.verify_snapshots())


def test_the_entry_page_and_an_admin_withdraw_it(client: Any) -> None:
    winner, _, _ = _published(client)
    _staff_of(winner, "staff@example.go.th")
    browser_login(client, "staff@example.go.th")
    page = client.get(f"/entries/{winner}")
    assert page.status_code == 200 and f'href="/entries/{winner}/consent-withdrawal"' in page.text
    ask = client.get(f"/entries/{winner}/consent-withdrawal").text  # a page asks first
    assert f'action="/entries/{winner}/consent-withdrawal"' in ask
    assert "ความยินยอมที่ถอนไปแล้วจะให้ใหม่อีกไม่ได้" in ask
    done = client.post(f"/entries/{winner}/consent-withdrawal", data={"_csrf": csrf(client)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/entries/{winner}"
    assert 'consent-withdrawal"' not in client.get(f"/entries/{winner}").text
    again = client.post(f"/entries/{winner}/consent-withdrawal", data={"_csrf": csrf(client)})
    assert again.status_code == 409 and "ไม่มีความยินยอม" in again.text
    # An administrator, on another organisation's request.
    other = run(Entry.select(Entry.id).where(Entry.state == "finalist").first())["id"]
    client.cookies.clear()
    browser_login(client, "publisher@dga.or.th")
    detail = client.get(f"/admin/entries/{other}")
    assert f'href="/entries/{other}/consent-withdrawal"' in detail.text  # a page asks first, as for staff
    ask = client.get(f"/entries/{other}/consent-withdrawal").text
    assert f'action="/entries/{other}/consent-withdrawal"' in ask and f'href="/admin/entries/{other}"' in ask
    by_admin = client.post(f"/entries/{other}/consent-withdrawal", data={"_csrf": csrf(client)},
                           follow_redirects=False)
    assert by_admin.status_code == 303 and by_admin.headers["location"] == f"/admin/entries/{other}"
    assert run(EntryConsent.select(EntryConsent.how).where(EntryConsent.entry == other).first())["how"] == "withdrawal"
    assert run(announcement.verify_snapshots()) == []
