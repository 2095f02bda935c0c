"""The outbox through an outage: a mail is retried for days, not minutes; what gave up is shown
to the admins, who send it again (so can `contest outbox retry`); writing "done" survives a short
database fault, so nothing is sent twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from contest import clock, jobs
from contest.cli import main
from contest.db import atomic
from contest.domain import outbox
from contest.domain.audit import SYSTEM
from contest.tables import AuditEvent, Outbox
from tests.conftest import run
from tests.factories import browser_login, csrf, mails, make_user, wait_for_mails

pytestmark = pytest.mark.integration

DOWN = {"smtp": True}


@outbox.handler("mail_while_smtp_is_down")
async def _mail(args: dict[str, Any], outbox_id: int) -> None:
    if DOWN["smtp"]:
        raise outbox.TransientError("SMTP connection refused")
    await jobs.send_mail(args, outbox_id)  # the real mail job, once the server is back


def _queue(to: str = "staff@example.go.th") -> int:
    async def add() -> int:
        async with atomic():
            oid = await outbox.add_job("mail_while_smtp_is_down", {"to": to, "subject": "ใบรับ", "text": "ok"})
        assert oid is not None
        return oid

    return int(run(add()))


def _state_when_settled(oid: int, timeout: float = 15.0) -> str:
    import time

    deadline = time.monotonic() + timeout
    while True:
        state = str(run(Outbox.select(Outbox.state).where(Outbox.id == oid).first())["state"])
        if state != "pending" or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def _due_now(oid: int) -> None:
    run(Outbox.update({Outbox.available_at: clock.now()}).where(Outbox.id == oid))


def test_a_mail_is_retried_for_days_with_a_capped_delay_then_given_up(db: str) -> None:
    start = clock.now()
    clock.freeze(start)
    DOWN["smtp"] = True
    oid = _queue()
    delays = []
    for hour in range(0, 71, 5):  # SMTP down for almost three days
        clock.freeze(start + timedelta(hours=hour))
        _due_now(oid)
        assert run(outbox.run_item(oid)) == "retry"
        row = run(Outbox.select().where(Outbox.id == oid).first())
        delays.append((row["available_at"] - clock.now()).total_seconds())
    assert max(delays) == outbox.MAX_DELAY_SECONDS and row["state"] == "pending"
    clock.freeze(start + outbox.RETRY_FOR + timedelta(minutes=1))
    _due_now(oid)
    assert run(outbox.run_item(oid)) == "failed"
    assert run(outbox.failed_count()) == 1


def test_admins_see_what_gave_up_and_send_it_again(client) -> None:  # type: ignore[no-untyped-def]
    DOWN["smtp"] = True
    oid = _queue("late@example.go.th")
    run(Outbox.update({Outbox.state: "failed", Outbox.last_error: "TransientError: SMTP connection refused"}).where(
        Outbox.id == oid))
    run(make_user("admin", email="admin@dga.or.th"))
    browser_login(client, "admin@dga.or.th")
    assert ">1<" in client.get("/admin").text.replace(" ", "")  # the dashboard's count, linked
    page = client.get("/admin/outbox")
    assert "late@example.go.th" in page.text and "SMTP connection refused" in page.text
    DOWN["smtp"] = False  # the mail server is back
    resp = client.post("/admin/outbox/resend", data={"id": str(oid), "_csrf": csrf(client)})
    assert resp.status_code == 200 and resp.url.path == "/admin/outbox"
    # The app's own runner was kicked and may be sending it right now: wait for it.
    assert len(wait_for_mails("late@example.go.th", 1)) == 1
    assert _state_when_settled(oid) == "done"
    assert run(AuditEvent.exists().where(AuditEvent.action == "outbox.resend"))
    # Staff cannot.
    client.cookies.clear()
    run(make_user("applicant", email="s@example.go.th"))
    browser_login(client, "s@example.go.th")
    assert client.post("/admin/outbox/resend", data={"id": "all", "_csrf": csrf(client)}).status_code == 403


def test_contest_outbox_retry_sends_every_failed_job_again(db: str) -> None:
    DOWN["smtp"] = False
    first, second = _queue("a@example.go.th"), _queue("b@example.go.th")
    run(Outbox.update({Outbox.state: "failed"}).where(Outbox.id.is_in([first, second])))
    runner = CliRunner()
    listed = runner.invoke(main, ["outbox", "failed"])
    assert "a@example.go.th" in listed.output and "b@example.go.th" in listed.output
    assert runner.invoke(main, ["outbox", "retry"]).exit_code != 0  # names nothing
    result = runner.invoke(main, ["outbox", "retry", "--all"])
    assert result.exit_code == 0 and "2 jobs sent again" in result.output, result.output
    run(outbox.run_due())
    assert len(mails("a@example.go.th")) == 1 and len(mails("b@example.go.th")) == 1
    assert run(outbox.failed_count()) == 0


def test_writing_done_is_retried_so_a_short_database_fault_sends_nothing_twice(db: str) -> None:
    calls: list[int] = []

    async def flaky_write() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("database restarting")
        return "written"

    assert run(outbox.with_retries(flaky_write, delays=(0.01, 0.01, 0.01))) == "written"
    assert len(calls) == 3
    assert sum(outbox.DONE_RETRY_DELAYS) < outbox.CLAIM_SECONDS / 2  # done long before the claim ends

    async def always_down() -> None:
        raise ConnectionResetError("database down")

    with pytest.raises(ConnectionResetError):
        run(outbox.with_retries(always_down, delays=(0.01,)))


def test_only_admins_resend(db: str) -> None:
    from contest.domain.audit import Actor
    from contest.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(outbox.resend_failed(actor=Actor(id=5, email="s@example.go.th", role="applicant")))
    assert run(outbox.resend_failed(actor=SYSTEM)) == 0
