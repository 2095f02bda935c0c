"""A real SMTP server (aiosmtpd) down, then back: the receipt mail waits in the outbox with a
growing delay, and once the server answers it is delivered exactly once, under the same
Message-ID whatever the number of tries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest

from contest import clock, jobs  # noqa: F401 - jobs registers the send_mail handler
from contest.db import atomic
from contest.domain import outbox
from contest.settings import get_settings
from contest.tables import Outbox
from tests.conftest import run
from tests.e2e.browser import free_port

pytestmark = pytest.mark.integration


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture()
def smtp_port(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    port = free_port()
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    get_settings.cache_clear()
    try:
        yield port
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def _receipt_mail() -> int:
    async def add() -> int:
        async with atomic():
            oid = await outbox.add_job("send_mail", {"to": "staff@example.go.th", "subject": "ใบรับผลงาน",
                                                     "text": "ได้รับผลงานของท่านแล้ว"})
        assert oid is not None
        return oid

    return int(run(add()))


def _row(oid: int) -> dict[str, Any]:
    return dict(run(Outbox.select().where(Outbox.id == oid).first()))


def test_smtp_down_then_back_delivers_once(smtp_port: int) -> None:
    from aiosmtpd.controller import Controller

    oid = _receipt_mail()
    start = clock.now()
    clock.freeze(start)
    try:
        for attempt in (1, 2, 3):  # nothing listens: refused, retried later with a growing delay
            assert run(outbox.run_due()) == 0
            row = _row(oid)
            assert (row["state"], row["attempts"]) == ("pending", attempt)
            assert "Connection" in row["last_error"] or "refused" in row["last_error"].lower()
            clock.freeze(row["available_at"] + timedelta(seconds=1))

        inbox = Inbox()
        server = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        server.start()
        try:
            assert run(outbox.run_due()) == 1
            clock.freeze(clock.now() + timedelta(hours=2))
            assert run(outbox.run_due()) == 0  # done: nothing is sent again
        finally:
            server.stop()
    finally:
        clock.freeze(None)
    assert _row(oid)["state"] == "done"
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "staff@example.go.th"
    assert f"outbox-{oid}" in message["Message-ID"]
