"""Redis is optional at run time: stopped, killed or frozen, the web app starts, serves, lets
people log in and stores uploads once; the worker waits for Redis to come back instead of
exiting; the jobs meanwhile wait in the outbox and are all sent once Redis returns."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from contest.db import atomic
from contest.domain import outbox
from contest.tables import Attachment, Outbox
from tests.conftest import run
from tests.factories import PASSWORD, make_edition, make_org, make_user
from tests.faults.support import RedisServer, Server, Worker, get_json, wait_until
from uploads.testing import make_pdf

pytestmark = [pytest.mark.integration, pytest.mark.redis]


def _mail_job(to: str) -> int:
    async def add() -> int:
        async with atomic():
            oid = await outbox.add_job("send_mail", {"to": to, "subject": "ทดสอบ", "text": "ok"})
        assert oid is not None
        return oid

    return int(run(add()))


def _hand_to_redis(url: str, ids: list[int]) -> None:
    from contest.worker import connect

    async def go() -> None:
        pool = await connect(url)
        outbox.use_arq(pool)
        try:
            await outbox.dispatch(ids)
            await outbox.settle()
        finally:
            outbox.use_arq(None)
            await pool.aclose()

    run(go())


def _mails(tmp_path: Path) -> list[str]:
    folder = tmp_path / "mail"
    return sorted(p.read_text() for p in folder.glob("*.eml")) if folder.exists() else []


def _token(base_url: str, email: str) -> dict[str, str]:
    resp = httpx.post(f"{base_url}/api/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=30)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def test_serve_starts_and_people_log_in_while_redis_is_down_then_it_connects(db: str, tmp_path: Path) -> None:
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    redis = RedisServer(tmp_path)  # not started: nothing listens on its port
    server = Server(tmp_path, REDIS_URL=redis.url)
    try:
        status, report, _ = get_json(server.base_url + "/readyz")
        assert status == 200 and report["redis"] == "down" and report["database"] == "ok"
        headers = _token(server.base_url, "staff@example.go.th")  # the rate limiter counts in the database
        entry = httpx.post(f"{server.base_url}/api/v1/editions/2569/entries", headers=headers,
                           json={"title": "บริการ"}, timeout=30)
        assert entry.status_code == 201
        redis.start()
        wait_until(lambda: get_json(server.base_url + "/readyz")[1].get("redis") == "ok", 45,
                   "the app to connect to Redis once it started")
        # connected: a new upload's check job is handed to Redis at once
        upload = httpx.post(f"{server.base_url}/api/v1/entries/{entry.json()['id']}/attachments", headers=headers,
                            files={"file": ("a.pdf", make_pdf(), "application/pdf")}, timeout=30)
        assert upload.status_code == 201

        async def queued() -> int:
            from contest.worker import connect

            pool = await connect(redis.url)
            try:
                return int(await pool.zcard("arq:queue"))
            finally:
                await pool.aclose()

        wait_until(lambda: run(queued()) >= 1, 10, "the check job in Redis's queue")
    finally:
        server.stop()
        redis.kill()


def test_the_worker_outlives_redis_and_sends_what_waited(db: str, tmp_path: Path) -> None:
    redis = RedisServer(tmp_path).start()
    worker = Worker(tmp_path, redis.url)
    try:
        wait_until(lambda: "Starting worker" in worker.tail(), 30, "the worker to start")
        first = _mail_job("before@example.go.th")
        _hand_to_redis(redis.url, [first])
        wait_until(lambda: len(_mails(tmp_path)) == 1, 120, "the first mail")

        redis.kill()
        waiting = _mail_job("during@example.go.th")  # queued while Redis is away: stays in the outbox
        wait_until(lambda: "lost Redis" in worker.tail() or "not answering" in worker.tail(), 30,
                   "the worker to notice Redis is gone")
        time.sleep(2)
        assert worker.alive, worker.tail()

        redis.start()
        wait_until(lambda: worker.tail().count("Starting worker") >= 2, 60, "the worker to start again")
        _hand_to_redis(redis.url, [waiting])
        wait_until(lambda: len(_mails(tmp_path)) == 2, 120, "the mail that waited")
        assert run(Outbox.count().where(Outbox.state == "done")) == 2
        assert worker.stop() == 0  # SIGTERM still ends it cleanly
    finally:
        worker.stop()
        redis.kill()
    sent_to = sorted(m.split("To: ")[1].split("\n")[0].strip() for m in _mails(tmp_path))
    assert sent_to == ["before@example.go.th", "during@example.go.th"]  # each exactly once


def test_a_frozen_redis_never_holds_up_log_in_or_an_upload(db: str, tmp_path: Path) -> None:
    """SIGSTOP: Redis accepts connections and never answers. Log-in and the upload answer anyway
    (their Redis calls are bounded, and the hand-over of the check job runs beside the request);
    the upload sent again with the same key is the same file, not a second one."""
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    redis = RedisServer(tmp_path).start()
    server = Server(tmp_path, REDIS_URL=redis.url)
    try:
        wait_until(lambda: get_json(server.base_url + "/readyz")[1].get("redis") == "ok", 30, "Redis connected")
        headers = _token(server.base_url, "staff@example.go.th")
        entry = httpx.post(f"{server.base_url}/api/v1/editions/2569/entries", headers=headers,
                           json={"title": "บริการ"}, timeout=30).json()
        redis.freeze()
        headers = _token(server.base_url, "staff@example.go.th")  # bounded: 0.5 s, then the database
        keyed = {**headers, "Idempotency-Key": "frozen-redis-upload-1"}
        pdf = make_pdf(3)
        answers = [httpx.post(f"{server.base_url}/api/v1/entries/{entry['id']}/attachments", headers=keyed,
                              files={"file": ("ผลงาน.pdf", pdf, "application/pdf")}, timeout=30)
                   for _ in range(2)]
        assert [a.status_code for a in answers] == [201, 201]
        assert answers[0].json()["id"] == answers[1].json()["id"]
        status, report, _ = get_json(server.base_url + "/readyz", timeout=30)
        assert status == 200 and report["redis"] == "down"
    finally:
        redis.thaw()
        server.stop()
        redis.kill()
    assert run(Attachment.count()) == 1
    files = [p for p in (tmp_path / "uploads").rglob("*") if p.is_file() and ".incoming" not in p.parts]
    assert len(files) == 1
    # the check job is safe in the outbox for the sweeper
    jobs = run(Outbox.select(Outbox.job, Outbox.args))
    assert [(j["job"], json.loads(j["args"]) if isinstance(j["args"], str) else j["args"]) for j in jobs] == [
        ("check_attachment", {"attachment_id": answers[0].json()["id"]})]
