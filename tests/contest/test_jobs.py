"""Jobs: the outbox, the in-process runner, and the arq worker on a real Redis."""

from __future__ import annotations

from typing import Any

import pytest
from arq import create_pool
from arq.connections import RedisSettings

from contest import jobs  # noqa: F401 - registers handlers
from contest.domain import accounts, attachments, outbox, submission
from contest.errors import ValidationFailed
from contest.tables import Outbox
from contest.worker import WorkerSettings
from tests.conftest import run
from tests.factories import PASSWORD, mails, make_org, worker_burst

pytestmark = pytest.mark.integration


def test_mail_job_is_written_in_the_same_transaction_and_runs_once(db: str) -> None:
    code = run(make_org())
    run(accounts.sign_up(email="s@example.go.th", password=PASSWORD, name="S", organisation_code=code))
    [row] = run(Outbox.select())
    assert row["state"] == "pending" and row["job"] == "send_mail"
    assert run(outbox.run_due()) == 1
    assert run(outbox.run_item(row["id"])) == "skipped"  # a second run does nothing
    assert len(mails("s@example.go.th")) == 1
    assert run(Outbox.select(Outbox.state).first())["state"] == "done"


def test_failed_sign_up_leaves_no_job(db: str) -> None:
    code = run(make_org())
    run(accounts.sign_up(email="s@example.go.th", password=PASSWORD, name="S", organisation_code=code))
    with pytest.raises(ValidationFailed):
        run(accounts.sign_up(email="t@example.go.th", password=PASSWORD, name="T", organisation_code="0000000"))
    assert run(Outbox.count()) == 1
    # A sign-up with a known address queues only the notice to its owner.
    run(accounts.sign_up(email="s@example.go.th", password=PASSWORD, name="S", organisation_code=code))
    assert run(Outbox.count()) == 2


def test_transient_failure_is_retried_later(db: str) -> None:
    calls: list[int] = []

    @outbox.handler("flaky")
    async def flaky(args: dict, outbox_id: int) -> None:
        calls.append(outbox_id)
        if len(calls) == 1:
            raise outbox.TransientError("smtp down")

    async def scenario() -> None:
        from contest.db import atomic
        async with atomic():
            oid = await outbox.add_job("flaky", {})
        assert await outbox.run_item(oid) == "retry"
        row = await Outbox.select().where(Outbox.id == oid).first()
        assert row["state"] == "pending" and "smtp down" in row["last_error"]
        await Outbox.update({Outbox.available_at: row["created_at"]}).where(Outbox.id == oid)
        assert await outbox.run_item(oid) == "done"

    run(scenario())
    assert len(calls) == 2


def test_arq_worker_delivers_mail_after_being_down(db: str, redis_url: str) -> None:
    """The worker is down while people sign up; once it is back every mail goes out exactly once."""
    async def scenario() -> None:
        pool = await create_pool(RedisSettings.from_dsn(redis_url))
        await pool.flushdb()
        outbox.use_arq(pool)
        try:
            code = await make_org()
            for i in range(3):
                await accounts.sign_up(email=f"s{i}@example.go.th", password=PASSWORD, name="S",
                                       organisation_code=code)
            assert mails() == []  # nobody is consuming the queue yet
            await outbox.settle()  # the hand-overs to Redis run beside the request
            assert await pool.zcard("arq:queue") == 3
            await worker_burst(redis_url)
            await worker_burst(redis_url)  # a restart finds nothing left to do
        finally:
            outbox.use_arq(None)
            await pool.aclose()

    run(scenario())
    assert sorted(m.split("To: ")[1].split("\n")[0].strip() for m in mails()) == [
        "s0@example.go.th", "s1@example.go.th", "s2@example.go.th"]
    assert run(Outbox.count().where(Outbox.state == "done")) == 3


def test_lost_dispatch_is_recovered_by_the_sweeper(db: str, redis_url: str) -> None:
    """Redis was unreachable at commit time: the outbox row survives and the cron re-sends it."""
    async def scenario() -> None:
        outbox.use_arq(None)
        outbox.use_in_process(None)
        code = await make_org()
        await accounts.sign_up(email="s@example.go.th", password=PASSWORD, name="S", organisation_code=code)
        pool = await create_pool(RedisSettings.from_dsn(redis_url))
        await pool.flushdb()
        try:
            assert await jobs.sweep_outbox({"redis": pool}) == 0  # too fresh: maybe still in flight
            from datetime import timedelta

            from contest import clock
            clock.freeze(clock.now() + timedelta(minutes=2))
            assert await jobs.sweep_outbox({"redis": pool}) == 1
            clock.freeze(None)
            await worker_burst(redis_url)
        finally:
            clock.freeze(None)
            outbox.use_arq(None)
            await pool.aclose()

    run(scenario())
    assert len(mails("s@example.go.th")) == 1


def test_in_process_runner_sends_mail_from_the_app(client) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import csrf
    code = run(make_org())
    client.post("/signup", data={"organisation_code": code, "name": "A", "email": "a@example.go.th",
                                 "password": PASSWORD, "_csrf": csrf(client)})
    from tests.factories import wait_for_mails
    assert len(wait_for_mails("a@example.go.th")) == 1


def test_receipt_mail_is_sent_once_the_worker_is_back(db: str, redis_url: str) -> None:
    """The worker is down while an organisation submits; the receipt mail still goes out."""
    from tests.factories import make_edition
    from uploads.testing import make_pdf

    async def scenario() -> str:
        pool = await create_pool(RedisSettings.from_dsn(redis_url))
        await pool.flushdb()
        outbox.use_arq(pool)
        try:
            await make_edition(2569)
            code = await make_org()
            from tests.factories import make_user
            await make_user("applicant", email="staff@example.go.th", org=code)
            actor = await accounts.authenticate("staff@example.go.th", PASSWORD)
            entry_id = await submission.create_entry(actor=actor, year=2569, data={
                "title": "บริการ", "category": "service", "summary": "ส", "problem": "ป", "solution": "ท",
                "results": "ผ", "contact_name": "ค", "contact_email": "c@example.go.th"})
            from contest.storage import get_storage
            pending = await get_storage().begin_write()
            pdf = make_pdf()
            await pending.write(pdf)
            await pending.commit()
            import hashlib
            await attachments.add_attachment(actor=actor, entry_id=entry_id, name="a.pdf", size=len(pdf),
                                         content_type="application/pdf", sha256=hashlib.sha256(pdf).hexdigest(),
                                         storage_key=pending.key)
            result = await submission.submit_entry(actor=actor, entry_id=entry_id)
            assert mails() == []
            await outbox.settle()
            await worker_burst(redis_url)
            await worker_burst(redis_url)
            return result.receipt["number"]
        finally:
            outbox.use_arq(None)
            await pool.aclose()

    number = run(scenario())
    receipt_mails = [m for m in mails("staff@example.go.th") if number in m]
    assert len(receipt_mails) == 1


# --- file checks always finish; stale upload parts are purged ------------------------------------

async def _attachment_with_check(data: bytes, content_type: str = "application/pdf") -> tuple[int, int, object]:
    """An entry with one stored file (through the domain), and its pending check's outbox id."""
    import hashlib

    from contest.storage import get_storage
    from tests.factories import make_edition, make_user

    await make_edition(2569)
    code = await make_org()
    await make_user("applicant", email="staff@example.go.th", org=code)
    actor = await accounts.authenticate("staff@example.go.th", PASSWORD)
    entry_id = await submission.create_entry(actor=actor, year=2569, data={"title": "บริการ"})
    pending = await get_storage().begin_write()
    await pending.write(data)
    await pending.commit()
    outbox.use_in_process(None)  # nothing else runs the job: the test does
    att = await attachments.add_attachment(actor=actor, entry_id=entry_id, name="a.pdf", size=len(data),
                                       content_type=content_type, sha256=hashlib.sha256(data).hexdigest(),
                                       storage_key=pending.key)
    job = await Outbox.select(Outbox.id).where(Outbox.job == "check_attachment").first()
    return att["id"], job["id"], actor


def test_check_of_a_removed_attachment_ends_quietly_without_retries(db: str) -> None:
    from contest.storage import get_storage
    from contest.tables import Attachment
    from uploads.testing import make_pdf

    async def scenario() -> None:
        att_id, job_id, actor = await _attachment_with_check(make_pdf())
        key = await attachments.delete_attachment(actor=actor, attachment_id=att_id)
        await get_storage().delete(key)
        assert await outbox.run_item(job_id) == "done"
        row = await Outbox.select(Outbox.state, Outbox.attempts, Outbox.last_error).where(Outbox.id == job_id).first()
        assert row == {"state": "done", "attempts": 1, "last_error": ""}
        assert (await Attachment.select(Attachment.check_state).where(Attachment.id == att_id).first()) == {
            "check_state": "pending"}  # nothing to record on a file nobody can see

    run(scenario())


def test_check_of_a_file_missing_from_storage_fails_with_a_note(db: str) -> None:
    from contest.storage import get_storage
    from contest.tables import Attachment
    from uploads.testing import make_pdf

    async def scenario() -> None:
        att_id, job_id, _ = await _attachment_with_check(make_pdf())
        row = await Attachment.select(Attachment.storage_key).where(Attachment.id == att_id).first()
        await get_storage().delete(row["storage_key"])  # lost behind the application's back
        assert await outbox.run_item(job_id) == "done"
        att = await Attachment.select().where(Attachment.id == att_id).first()
        assert att["check_state"] == "failed"
        assert att["check_message"] == ("ไม่พบไฟล์ในที่จัดเก็บ กรุณาลบรายการนี้แล้วอัปโหลดไฟล์อีกครั้ง / "
                                        "The file is missing from storage. Please remove it and upload it again.")

    run(scenario())


def test_check_of_a_pdf_pypdf_cannot_read_fails_with_a_thai_and_english_note(db: str) -> None:
    from contest.tables import Attachment
    from uploads.testing import make_pdf

    async def scenario() -> None:
        # A trailer that is not a dictionary: pypdf raises AttributeError, not one of its own errors.
        att_id, job_id, _ = await _attachment_with_check(make_pdf(2).replace(b"trailer\n<<", b"trailer\n/Bad\n<<"))
        assert await outbox.run_item(job_id) == "done"
        att = await Attachment.select().where(Attachment.id == att_id).first()
        assert att["check_state"] == "failed"
        assert att["check_message"] == ("เปิดไฟล์ PDF ไม่ได้ ไฟล์อาจเสียหาย กรุณาบันทึกเป็น PDF ใหม่แล้วส่งอีกครั้ง / "
                                        "The PDF cannot be opened; it may be damaged. Please export it to PDF "
                                        "again and resend.")
        assert (await Outbox.select(Outbox.attempts).where(Outbox.id == job_id).first())["attempts"] == 1

    run(scenario())


def test_a_check_writes_its_outcome_and_the_jobs_done_in_one_commit(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from contest.db import is_sqlite
    from contest.tables import Attachment
    from uploads.testing import make_pdf

    async def scenario() -> None:
        att_id, job_id, _ = await _attachment_with_check(make_pdf())
        commits = _count_commits(monkeypatch)
        assert await outbox.run_item(job_id) == "done"
        att = await Attachment.select(Attachment.check_state).where(Attachment.id == att_id).first()
        row = await Outbox.select(Outbox.state, Outbox.attempts, Outbox.claimed_until).where(
            Outbox.id == job_id).first()
        assert att == {"check_state": "passed"}
        assert row == {"state": "done", "attempts": 1, "claimed_until": None}
        if is_sqlite():
            assert commits == [2]  # the claim; the outcome with "done"

    run(scenario())


def test_a_handler_that_marks_its_job_done_then_fails_leaves_it_to_run_again(db: str) -> None:
    from contest.db import atomic

    runs: list[int] = []

    @outbox.handler("marks_then_fails")
    async def marks_then_fails(args: dict, outbox_id: int) -> None:
        runs.append(outbox_id)
        async with atomic():
            await outbox.mark_done(outbox_id)
        if len(runs) == 1:
            raise outbox.TransientError("after the write")

    async def scenario() -> None:
        async with atomic():
            oid = await outbox.add_job("marks_then_fails", {})
        assert await outbox.run_item(oid) == "retry"
        row = await Outbox.select().where(Outbox.id == oid).first()
        assert row["state"] == "pending" and "after the write" in row["last_error"]
        await Outbox.update({Outbox.available_at: row["created_at"]}).where(Outbox.id == oid)
        assert await outbox.run_item(oid) == "done"
        assert (await Outbox.select(Outbox.state).where(Outbox.id == oid).first())["state"] == "done"

    run(scenario())
    assert len(runs) == 2


def test_a_job_is_never_recorded_in_a_lazy_commit(db: str) -> None:
    from contest.db import atomic, lazy_commits

    async def scenario() -> None:
        with lazy_commits():
            async with atomic():
                with pytest.raises(RuntimeError, match="waits for the disk"):
                    await outbox.add_job("send_mail", {"to": "a@example.go.th"})
                with pytest.raises(RuntimeError, match="waits for the disk"):
                    await outbox.add_jobs("send_mail", [({"to": "a@example.go.th"}, "k")])
        assert await Outbox.count() == 0

    run(scenario())


def _count_commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, count the commits of this process's SQLite connections (COMMIT statements
    and writes outside a transaction) in the returned list's one item."""
    from contest.sqlite_engine import InlineConnection

    count = [0]
    for name in ("execute", "execute_fetchall"):
        original = getattr(InlineConnection, name)

        def counting(self: InlineConnection, sql: str, parameters: Any = (), _original: Any = original) -> Any:
            if self._commits(sql):
                count[0] += 1
            return _original(self, sql, parameters)

        monkeypatch.setattr(InlineConnection, name, counting)
    return count


def _part_files(ages_hours: dict[str, float]) -> Any:
    import os
    import time

    from contest.storage import get_storage

    incoming = get_storage().incoming_dir  # type: ignore[attr-defined]
    incoming.mkdir(parents=True, exist_ok=True)
    for name, hours in ages_hours.items():
        part = incoming / f"{name}.part"
        part.write_bytes(b"half an upload")
        then = time.time() - hours * 3600
        os.utime(part, (then, then))
    return incoming


def test_stale_upload_parts_are_purged_by_the_worker_cron(db: str) -> None:
    """Part files older than the longest an upload may take (3 hours by default) belong to no
    upload; younger ones may still be arriving on a slow line."""
    incoming = _part_files({"crashed": 30, "this-morning": 3.5, "arriving": 0.2, "slow-line": 2.5})
    assert run(jobs.purge_stale_uploads({})) == {"incomplete": 2, "orphans": 0}
    assert sorted(p.name for p in incoming.iterdir()) == ["arriving.part", "slow-line.part"]
    assert run(jobs.purge_stale_uploads({})) == {"incomplete": 0, "orphans": 0}
    crons = {c.coroutine: c for c in WorkerSettings.cron_jobs}
    purge = crons[jobs.purge_stale_uploads]
    assert purge.run_at_startup and purge.minute == 17


def test_stale_upload_parts_are_purged_when_the_app_starts_in_process(app) -> None:  # type: ignore[no-untyped-def]
    import time

    from litestar.testing import TestClient

    incoming = _part_files({"crashed": 48, "arriving": 0.1})
    with TestClient(app=app, base_url="http://testserver.local"):
        deadline = time.monotonic() + 10
        while (incoming / "crashed.part").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sorted(p.name for p in incoming.iterdir()) == ["arriving.part"]


def test_a_written_mail_leaves_its_body_and_links_out_of_the_log(db: str, caplog: Any) -> None:
    import logging

    from contest.mail import Mail, deliver

    secret_link = "http://127.0.0.1:8000/account/reset/SECRET-TOKEN-123"
    with caplog.at_level(logging.DEBUG, logger="contest.mail"):
        run(deliver(Mail(to="staff@example.go.th", subject="Reset", text=f"Open {secret_link}\n"),
                    message_id="<redaction-test@localhost>"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "staff@example.go.th" in logged and "SECRET-TOKEN-123" not in logged and "Open" not in logged
    assert any("SECRET-TOKEN-123" in m for m in mails("staff@example.go.th"))


def test_orphan_objects_are_removed_after_hours_and_named_ones_kept(db: str) -> None:
    """An object no row names (an upload that crashed between storing and recording) goes once it
    is ORPHAN_AFTER_SECONDS old; a young one may be an upload about to be recorded; a file a
    row names is never touched, however old."""
    import os
    import time

    from contest.storage import get_storage
    from contest.tables import Attachment, Edition, Entry, Organisation
    from tests.factories import make_edition

    storage: Any = get_storage()

    def put(key: str, hours: float) -> Any:
        path = storage.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"bytes")
        then = time.time() - hours * 3600
        os.utime(path, (then, then))
        return path

    old_orphan = put("aa/bb/oldorphanoldorphan01", 7)
    young_orphan = put("aa/bb/youngorphanyoung01", 1)
    named = put("aa/cc/namedfilenamedfile01", 500)
    run(make_edition(2569))
    org_code = run(make_org())
    org_id = run(Organisation.select(Organisation.id).where(Organisation.code == org_code).first())["id"]
    edition_id = run(Edition.select(Edition.id).first())["id"]
    entry_id = run(Entry.insert(Entry(edition=edition_id, organisation=org_id, title="x")).returning(Entry.id))[0]["id"]
    run(Attachment.insert(Attachment(entry=entry_id, name="a.pdf", size=5, content_type="application/pdf",
                                     sha256="0" * 64, storage_key="aa/cc/namedfilenamedfile01")))

    assert run(jobs.purge_stale_uploads({})) == {"incomplete": 0, "orphans": 1}
    assert not old_orphan.exists() and young_orphan.exists() and named.exists()
