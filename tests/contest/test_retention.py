"""Personal data retention: nothing is deleted before its time, everything after it; the files
of shortlisted and awarded entries stay; receipts still show what was submitted; the audit
trail and the published results still verify."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from contest import clock
from contest.cli import main
from contest.domain import accounts, announcement, attachments
from contest.domain.audit import SYSTEM, Actor, verify_chain
from contest.domain.retention import GlobalRules, add_years, run_retention
from contest.domain.submission import receipt_view
from contest.enums import AuthTokenKind
from contest.errors import NotFound
from contest.settings import get_settings
from contest.storage import get_storage
from contest.tables import (
    Attachment,
    AuditEvent,
    AuthToken,
    DigitalIdLogin,
    Edition,
    EmailToken,
    Entry,
    RateCounter,
    Receipt,
    User,
)
from tests.conftest import run
from tests.factories import make_edition, make_user

pytestmark = pytest.mark.integration

KEPT = ("shortlisted", "finalist", "winner")


def test_add_years_keeps_the_day_and_moves_29_february() -> None:
    assert add_years(datetime(2026, 3, 1, 9, 30, tzinfo=UTC), 2) == datetime(2028, 3, 1, 9, 30, tzinfo=UTC)
    assert add_years(datetime(2028, 2, 29, tzinfo=UTC), 1) == datetime(2029, 2, 28, tzinfo=UTC)


async def _stored_file(entry_id: int, name: str, *, removed: bool = False, on_receipt: bool = True) -> dict[str, Any]:
    """A file of an entry as a submission leaves it: its bytes stored, its row, and (unless told
    otherwise) a receipt listing it; ``removed``: taken off the draft after that."""
    data = f"{name} of entry {entry_id}".encode()
    pending = await get_storage().begin_write()
    await pending.write(data)
    await pending.commit()
    sha = hashlib.sha256(data).hexdigest()
    row = (await Attachment.insert(Attachment(
        entry=entry_id, name=name, size=len(data), content_type="application/pdf", sha256=sha,
        storage_key=pending.key, check_state="clean",
        deleted_at=clock.now() if removed else None)).returning(*Attachment.all_columns()))[0]
    if removed and not on_receipt:
        await get_storage().delete(pending.key)  # as removing a file that no receipt lists does
    if on_receipt:
        sequence = await Receipt.count().where(Receipt.entry == entry_id) + 1
        await Receipt.insert(Receipt(
            entry=entry_id, number=f"R-{entry_id}-{sequence}-{row['id']}", sequence=sequence, revision=sequence,
            submitted_at=clock.now(), files=[{"attachment_id": row["id"], "name": name, "size": len(data),
                                              "sha256": sha}]))
    return row


def _published_edition_with_files() -> tuple[datetime, dict[int, str], list[int]]:
    """An edition judged and published, every entry with a file on its receipt; a not-shortlisted
    entry also has a file removed after a receipt listed it, and one no receipt listed."""
    from tests.judging.support import YEAR, after_announcement, signed_final

    signed_final(entries=6, shortlist_size=3)
    after_announcement(YEAR)
    run(announcement.publish_results(actor=SYSTEM, year=YEAR))
    states = {r["id"]: r["state"] for r in run(Entry.select(Entry.id, Entry.state))}
    assert set(states.values()) & set(KEPT) and set(states.values()) - set(KEPT)
    removed_unlisted = []
    for entry_id in sorted(states):
        run(_stored_file(entry_id, "proposal.pdf"))
    loser = min(e for e, s in states.items() if s not in KEPT)
    run(_stored_file(loser, "old-slides.pdf", removed=True))
    removed_unlisted.append(run(_stored_file(loser, "typo.pdf", removed=True, on_receipt=False))["id"])
    published = run(Edition.select(Edition.published_at).where(Edition.year == YEAR).first())["published_at"]
    return published, states, removed_unlisted


def _bytes_exist(att: dict[str, Any]) -> bool:
    return bool(run(get_storage().exists(att["storage_key"])))


def test_files_of_entries_not_shortlisted_are_deleted_when_their_retention_ends(db: str) -> None:
    published, states, removed_unlisted = _published_edition_with_files()
    rows = run(Attachment.select().where(Attachment.id.not_in(removed_unlisted)))
    due = [r for r in rows if states[r["entry"]] not in KEPT]
    kept = [r for r in rows if states[r["entry"]] in KEPT]
    assert due and kept
    events_before = run(AuditEvent.count())

    clock.freeze(add_years(published, 2) - timedelta(minutes=1))  # a minute before: nothing goes
    report = run(run_retention())
    assert report.files == [] and all(_bytes_exist(r) for r in rows)

    clock.freeze(add_years(published, 2) + timedelta(minutes=1))
    dry = run(run_retention(dry_run=True))
    assert sorted(f.attachment_id for f in dry.files) == sorted(r["id"] for r in due)
    assert all(_bytes_exist(r) for r in rows) and run(AuditEvent.count()) == events_before

    cli = CliRunner().invoke(main, ["retention", "run", "--dry-run"])
    assert cli.exit_code == 0, cli.output
    assert f"would delete {len(due)} attachment files" in cli.output and "old-slides.pdf" in cli.output

    report = run(run_retention())
    assert sorted(f.attachment_id for f in report.files) == sorted(r["id"] for r in due)
    after = {r["id"]: r for r in run(Attachment.select())}
    for r in due:
        assert after[r["id"]]["purged_at"] is not None and not _bytes_exist(r)
    for r in kept:
        assert after[r["id"]]["purged_at"] is None and _bytes_exist(r)
    for att_id in removed_unlisted:  # its bytes went when it was removed; nothing more to record
        assert after[att_id]["purged_at"] is None

    events = run(AuditEvent.select().where(AuditEvent.action == "attachment.purge"))
    assert len(events) == len(due) == run(AuditEvent.count()) - events_before
    assert {e["subject_id"] for e in events} == {str(r["entry"]) for r in due}
    assert all(r["sha256"] in "".join(e["before"] for e in events) for r in due)

    # Receipts still show every file's hash, the one the row keeps; downloads say why not.
    for receipt in run(Receipt.select()):
        for listed in receipt_view(receipt)["files"]:
            row = next(a for a in after.values() if a["name"] == listed["name"] and a["entry"] == receipt["entry"])
            assert listed["sha256"] == row["sha256"]
    admin = Actor(id=None, email="system", role="admin")
    with pytest.raises(NotFound) as refused:
        run(attachments.get_attachment_for_download(admin, due[0]["id"]))
    assert refused.value.code == "attachment_purged"
    assert run(attachments.get_attachment_for_download(admin, kept[0]["id"]))["id"] == kept[0]["id"]

    assert run(run_retention()).files == []  # done once
    assert run(verify_chain()).ok and run(announcement.verify_snapshots()) == []
    verify = CliRunner().invoke(main, ["audit", "verify"])
    assert verify.exit_code == 0 and "audit chain intact" in verify.output and "snapshots intact" in verify.output
    done = CliRunner().invoke(main, ["retention", "run"])
    assert done.exit_code == 0 and "deleted 0 attachment files" in done.output


def test_an_edition_keeps_files_as_long_as_its_setting_says(db: str, client: Any) -> None:
    from tests.judging.support import YEAR

    published, states, _ = _published_edition_with_files()
    admin = run(User.select(User.email).where(User.role == "admin").first())["email"]
    from tests.factories import login_token

    headers = login_token(client, admin)
    bad = client.patch(f"/api/v1/editions/{YEAR}", json={"attachment_retention_years": 0}, headers=headers)
    assert bad.status_code == 422 and "attachment_retention_years" in bad.json()["errors"], bad.text
    assert run(Edition.select(Edition.attachment_retention_years).where(Edition.year == YEAR).first()) == {
        "attachment_retention_years": 2}
    # Published results freeze the contest, not how long its personal data is kept.
    ok = client.patch(f"/api/v1/editions/{YEAR}", json={"attachment_retention_years": 5}, headers=headers)
    assert ok.status_code == 200 and ok.json()["attachment_retention_years"] == 5, ok.text
    refused = client.patch(f"/api/v1/editions/{YEAR}", json={"winners": 2}, headers=headers)
    assert refused.status_code == 409

    clock.freeze(add_years(published, 5) - timedelta(days=1))
    assert run(run_retention()).files == []
    clock.freeze(add_years(published, 5) + timedelta(days=1))
    purged = run(run_retention()).files
    assert {f.entry_id for f in purged} == {e for e, s in states.items() if s not in KEPT}

    from tests.factories import browser_login

    browser_login(client, admin)
    page = client.get(f"/admin/entries/{purged[0].entry_id}")
    assert page.status_code == 200 and "ลบแล้วเมื่อครบระยะเวลาการเก็บรักษา" in page.text
    assert f"/api/v1/attachments/{purged[0].attachment_id}/content" not in page.text


def _form_fields(html: str) -> dict[str, str]:
    """What a browser posts for the page's form: each input's value and each list's chosen option."""
    import re

    fields: dict[str, str] = {}
    for tag in re.findall(r"<input\b[^>]*>", html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name and not (kind and kind.group(1) in ("checkbox", "radio", "submit") and "checked" not in tag):
            fields[name.group(1)] = value.group(1) if value else ""
    for name, text in re.findall(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = text
    for name, body in re.findall(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


def test_the_edition_form_edits_the_retention_years(db: str, client: Any) -> None:
    from tests.factories import browser_login, csrf

    run(make_edition(2569))
    email = "chief@dga.or.th"
    run(make_user("admin", email=email))
    browser_login(client, email)
    page = client.get("/admin/editions/2569/edit")
    assert page.status_code == 200 and 'name="attachment_retention_years"' in page.text and 'value="2"' in page.text
    bad = client.post("/admin/editions/2569/edit", data={"_csrf": csrf(client), "attachment_retention_years": "abc",
                                                    "title": "รางวัล"})
    assert bad.status_code == 422 and 'id="f-attachment_retention_years"' in bad.text
    assert run(Edition.select(Edition.attachment_retention_years).first())["attachment_retention_years"] == 2
    # Sent as a browser sends the form: every field as shown, the retention years changed.
    saved = client.post("/admin/editions/2569/edit", data={**_form_fields(page.text), "_csrf": csrf(client),
                                                           "attachment_retention_years": "3"})
    assert saved.status_code == 200
    assert run(Edition.select(Edition.attachment_retention_years).first())["attachment_retention_years"] == 3


def test_tokens_counters_and_mail_files_go_after_their_days(db: str) -> None:
    rules = GlobalRules(token_days=30, rate_limit_days=1, mail_weeks=4)
    user_id = run(make_user("applicant", email="staff@example.go.th"))
    actor = Actor(id=user_id, email="staff@example.go.th", role="applicant")
    session = run(accounts.issue_token(actor, AuthTokenKind.session))
    run(accounts.request_password_reset("staff@example.go.th"))
    now = clock.now()
    run(DigitalIdLogin.insert(DigitalIdLogin(state_hash="s" * 64, nonce="n", verifier="v", created_at=now,
                                             email="staff@example.go.th", name="เจ้าหน้าที่")))
    run(RateCounter.insert(RateCounter(key="login:staff@example.go.th", hits=3, expires=int(now.timestamp()) + 60)))
    mail_dir = get_settings().mail_dir
    mail_dir.mkdir(parents=True, exist_ok=True)
    old_mail = mail_dir / "retention-test.eml"
    old_mail.write_text("To: staff@example.go.th\n\nhello\n", encoding="utf-8")
    written = now.timestamp()
    os.utime(old_mail, (written, written))

    expires = run(AuthToken.select(AuthToken.expires_at).first())["expires_at"]
    link_expires = run(EmailToken.select(EmailToken.expires_at).first())["expires_at"]
    assert now + timedelta(minutes=2) < link_expires < expires  # a reset link lasts hours, a session days

    def remaining() -> dict[str, int]:
        return {"auth_tokens": run(AuthToken.count()), "email_tokens": run(EmailToken.count()),
                "digital_id_logins": run(DigitalIdLogin.count()), "rate_counters": run(RateCounter.count()),
                "mail_files": int(old_mail.exists())}

    clock.freeze(now + timedelta(days=1, seconds=59))  # the counter's window ended less than a day ago
    assert run(run_retention(rules=rules)).counts() == {
        "attachment_files": 0, "auth_tokens": 0, "email_tokens": 0, "digital_id_logins": 0,
        "rate_counters": 0, "mail_files": 0}
    clock.freeze(now + timedelta(days=1, seconds=61))
    assert run(run_retention(rules=rules)).rate_counters == 1

    for name, due in (("mail_files", now + timedelta(weeks=4)), ("digital_id_logins", now + timedelta(days=30)),
                      ("email_tokens", link_expires + timedelta(days=30))):
        clock.freeze(due - timedelta(minutes=1))
        assert getattr(run(run_retention(rules=rules)), name) == 0, name
        assert remaining()[name] == 1
        clock.freeze(due + timedelta(minutes=1))
        assert getattr(run(run_retention(rules=rules)), name) == 1, name
        assert remaining()[name] == 0
    assert remaining()["auth_tokens"] == 1

    clock.freeze(expires + timedelta(days=30) - timedelta(minutes=1))
    assert run(run_retention(rules=rules)).auth_tokens == 0
    assert run(accounts.resolve_token(session.token, AuthTokenKind.session)) is None  # expired, still listed
    clock.freeze(expires + timedelta(days=30, minutes=1))
    assert run(run_retention(rules=rules)).auth_tokens == 1
    assert remaining()["auth_tokens"] == 0


def test_a_revoked_session_goes_days_after_it_was_revoked(db: str) -> None:
    user_id = run(make_user("applicant", email="staff@example.go.th"))
    actor = Actor(id=user_id, email="staff@example.go.th", role="applicant")
    issued = run(accounts.issue_token(actor, AuthTokenKind.api))
    run(accounts.revoke_token(issued.token))
    revoked = run(AuthToken.select(AuthToken.revoked_at).first())["revoked_at"]
    rules = GlobalRules(token_days=7)
    clock.freeze(revoked + timedelta(days=7) - timedelta(seconds=1))
    assert run(run_retention(rules=rules)).auth_tokens == 0
    clock.freeze(revoked + timedelta(days=7, seconds=1))
    assert run(run_retention(rules=rules)).auth_tokens == 1


def test_global_rules_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_TOKEN_DAYS", "14")
    monkeypatch.setenv("RETENTION_MAIL_WEEKS", "2")
    assert GlobalRules.from_environment() == GlobalRules(token_days=14, rate_limit_days=1, mail_weeks=2)
    monkeypatch.setenv("RETENTION_RATE_LIMIT_DAYS", "0")
    with pytest.raises(ValueError, match="RETENTION_RATE_LIMIT_DAYS"):
        GlobalRules.from_environment()
