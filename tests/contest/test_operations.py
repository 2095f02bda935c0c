"""Running it as a service: probes, metrics, request ids, logs without secrets, clean answers
when the database is busy, and retried uploads stored once."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from typing import Any

import pytest

from contest import operations
from contest.db import is_sqlite
from contest.settings import get_settings
from contest.tables import Attachment, Entry
from tests.conftest import run
from tests.factories import login_token, make_edition, make_org, make_user
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration


def test_healthz_answers_without_looking_at_anything(client: Any) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
    assert resp.headers["cache-control"] == "no-store"


def test_readyz_reports_each_dependency_and_redis_is_absent_without_it(client: Any) -> None:
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok", "storage": "ok", "redis": "absent"}


def test_readyz_with_redis_down_stays_ready(db: str) -> None:
    """Redis is optional: a process whose Redis is away still takes traffic."""
    class Away:
        async def ping(self) -> None:
            raise ConnectionRefusedError("connect call failed")

    ready, report = run(operations.readiness(Away()))
    assert ready and report == {"database": "ok", "storage": "ok", "redis": "down"}


def test_readyz_is_503_when_the_storage_cannot_be_written(db: str, tmp_path: Any) -> None:
    from contest.storage import get_storage

    storage: Any = get_storage()
    root = storage.root
    try:
        storage.root = tmp_path / "file-not-folder"
        storage.root.write_text("not a folder")
        ready, report = run(operations.readiness(None))
    finally:
        storage.root = root
    assert not ready and report["storage"] == "down" and report["database"] == "ok"


def test_every_answer_carries_a_request_id_and_keeps_a_sane_one(client: Any) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "edge-42.a_b"}).headers["x-request-id"] == "edge-42.a_b"
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id\r\nSet-Cookie: x"}).headers["x-request-id"]
    assert forged != "bad id" and len(forged) == 32


def test_metrics_need_an_admin_or_an_allowed_address(client: Any) -> None:
    assert client.get("/metrics").status_code == 403
    run(make_user("reviewer", email="judge@example.go.th"))
    assert client.get("/metrics", headers=login_token(client, "judge@example.go.th")).status_code == 403
    run(make_user("admin", email="ops@dga.or.th"))
    resp = client.get("/metrics", headers=login_token(client, "ops@dga.or.th"))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    text = resp.text
    for name in ("contest_http_requests_total", "contest_http_request_duration_seconds_bucket",
                 "contest_outbox_pending", "contest_outbox_failed", "contest_upload_bytes_total",
                 "contest_db_write_queue_wait_seconds"):
        assert name in text, name
    # Routes are counted by their template, never by the raw path (ids would explode the series).
    assert 'route="/healthz"' in text
    assert 'route="/api/v1/auth/token"' in text


def test_logs_are_json_with_the_request_id_and_without_secrets() -> None:
    import io
    import logging.config

    stream = io.StringIO()
    config = operations.logging_config("json")
    config["handlers"]["contest"]["stream"] = stream
    logger = logging.getLogger("contest.test-redaction")
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        logging.config.dictConfig(config)
        token = operations.request_id.set("req-123")
        try:
            logger.warning("opened %s with Authorization: Bearer %s",
                           "/account/reset/SECRET-RESET-TOKEN?next=/x", "TOKEN-abc.def")
            logger.info("callback /auth/digital-id/callback?code=SECRET-CODE&state=SECRET-STATE")
        finally:
            operations.request_id.reset(token)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["req-123", "req-123"]
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "contest.test-redaction"
    text = stream.getvalue()
    for secret in ("SECRET-RESET-TOKEN", "TOKEN-abc.def", "SECRET-CODE", "SECRET-STATE"):
        assert secret not in text
    assert "/account/reset/[redacted]" in text


def _applicant(client: Any) -> tuple[dict[str, str], int]:
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    headers = login_token(client, "staff@example.go.th")
    resp = client.post("/api/v1/editions/2569/entries", headers=headers, json={"title": "บริการ"})
    assert resp.status_code == 201, resp.text
    return headers, resp.json()["id"]


def _stored_files() -> list[Any]:
    return [p for p in get_settings().var_dir.joinpath("uploads").rglob("*") if p.is_file()]


def test_a_retried_upload_with_the_same_key_is_stored_once(client: Any) -> None:
    headers, entry_id = _applicant(client)
    pdf = make_pdf(2)
    keyed = {**headers, "Idempotency-Key": "upload-0001-abcdef"}
    first = client.post(f"/api/v1/entries/{entry_id}/attachments", headers=keyed,
                        files={"file": ("ผลงาน.pdf", pdf, "application/pdf")})
    again = client.post(f"/api/v1/entries/{entry_id}/attachments", headers=keyed,
                        files={"file": ("ผลงาน.pdf", pdf, "application/pdf")})
    assert first.status_code == 201 and again.status_code == 201
    same = ("id", "name", "size", "sha256", "content_type")
    assert [again.json()[k] for k in same] == [first.json()[k] for k in same]  # its check may have run since
    # the same key sent as a form field (the entry page's hidden field) finds it too
    field = client.post(f"/api/v1/entries/{entry_id}/attachments", headers=headers,
                        data={"idempotency_key": "upload-0001-abcdef"},
                        files={"file": ("ผลงาน.pdf", pdf, "application/pdf")})
    assert field.status_code == 201 and field.json()["id"] == first.json()["id"]
    assert run(Attachment.count()) == 1 and len(_stored_files()) == 1
    other = client.post(f"/api/v1/entries/{entry_id}/attachments",
                        headers={**headers, "Idempotency-Key": "upload-0002-abcdef"},
                        files={"file": ("ผลงาน.pdf", pdf, "application/pdf")})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert run(Attachment.count()) == 2 and len(_stored_files()) == 2


def test_an_idempotency_key_of_the_wrong_shape_is_refused_and_stores_nothing(client: Any) -> None:
    headers, entry_id = _applicant(client)
    resp = client.post(f"/api/v1/entries/{entry_id}/attachments", headers={**headers, "Idempotency-Key": "a b"},
                       files={"file": ("a.pdf", make_pdf(), "application/pdf")})
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_idempotency_key"
    assert "idempotency_key" in resp.json()["errors"]
    assert run(Attachment.count()) == 0 and _stored_files() == []


def test_another_organisations_key_finds_nothing(client: Any) -> None:
    headers, entry_id = _applicant(client)
    keyed = {**headers, "Idempotency-Key": "upload-0003-abcdef"}
    assert client.post(f"/api/v1/entries/{entry_id}/attachments", headers=keyed,
                       files={"file": ("a.pdf", make_pdf(), "application/pdf")}).status_code == 201
    other_org = run(make_org())
    run(make_user("applicant", email="other@example.go.th", org=other_org))
    intruder = {**login_token(client, "other@example.go.th"), "Idempotency-Key": "upload-0003-abcdef"}
    resp = client.post(f"/api/v1/entries/{entry_id}/attachments", headers=intruder,
                       files={"file": ("a.pdf", make_pdf(), "application/pdf")})
    assert resp.status_code == 404
    assert run(Attachment.count()) == 1


def test_below_the_storage_reserve_uploads_are_507_and_the_rest_works(client: Any) -> None:
    """A full volume refuses new files with a clear answer; logging in, reading and removing a
    file (which frees space) keep working."""
    from contest.storage import get_storage

    headers, entry_id = _applicant(client)
    kept = client.post(f"/api/v1/entries/{entry_id}/attachments", headers=headers,
                       files={"file": ("a.pdf", make_pdf(), "application/pdf")})
    assert kept.status_code == 201
    storage: Any = get_storage()
    saved = storage.reserve_bytes
    storage.reserve_bytes = storage.free_bytes() + 10**12  # the volume is "full"
    try:
        resp = client.post(f"/api/v1/entries/{entry_id}/attachments", headers=headers,
                           files={"file": ("b.pdf", make_pdf(), "application/pdf")})
        assert resp.status_code == 507
        body = resp.json()
        assert body["code"] == "storage_full" and "storage" in body["detail_en"] and body["detail"] != body["detail_en"]
        assert run(Attachment.count()) == 1 and len(_stored_files()) == 1
        assert login_token(client, "staff@example.go.th")
        assert client.get(f"/api/v1/entries/{entry_id}", headers=headers).status_code == 200
        assert client.get(f"/api/v1/attachments/{kept.json()['id']}/content", headers=headers).status_code == 200
        assert client.delete(f"/api/v1/attachments/{kept.json()['id']}", headers=headers).status_code == 200
    finally:
        storage.reserve_bytes = saved


def test_a_write_stops_at_the_reserve_while_it_streams(db: str, tmp_path: Any) -> None:
    """The pre-check cannot know a body without Content-Length: the write itself stops at the
    reserve, and nothing is left behind."""
    from uploads.storage import LocalStorage, StorageFull

    storage = LocalStorage(tmp_path / "files", fsync=False)
    storage.reserve_bytes = storage.free_bytes() - 3 * 1024 * 1024  # room for about 3 MB

    async def write() -> None:
        pending = await storage.begin_write()
        try:
            for _ in range(8):
                await pending.write(b"\x80" * 1024 * 1024)
            await pending.commit()
        except BaseException:
            await pending.abort()
            raise

    with pytest.raises(StorageFull):
        run(write())
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []


@pytest.mark.skipif(not is_sqlite(), reason="the foreign write lock is SQLite's")
def test_a_write_behind_another_process_lock_gives_503_with_retry_after(client: Any) -> None:
    headers, entry_id = _applicant(client)
    path = get_settings().database_url[len("sqlite:///"):]
    holder = sqlite3.connect(path, timeout=1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.monotonic()
        resp = client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json={"title": "ใหม่", "version": 1})
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert resp.status_code == 503, resp.text
    assert resp.json()["code"] == "database_busy" and resp.headers["retry-after"] == "5"
    assert waited < 60  # bounded (SQLite's busy timeout is 10 s), not a hang
    assert run(Entry.select(Entry.title).where(Entry.id == entry_id).first())["title"] == "บริการ"
    # the lock gone, the same write goes through
    ok = client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json={"title": "ใหม่", "version": 1})
    assert ok.status_code == 200


def test_database_faults_are_told_apart_from_other_errors() -> None:
    from contest.app import database_trouble
    from contest.db import DatabaseBusy

    assert database_trouble(sqlite3.OperationalError("database is locked")) == "busy"
    assert database_trouble(DatabaseBusy("waited")) == "busy"
    assert database_trouble(sqlite3.OperationalError("database or disk is full")) == "down"
    assert database_trouble(ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")) == "down"
    wrapped = RuntimeError("query failed")
    wrapped.__cause__ = ConnectionResetError("reset by peer")
    assert database_trouble(wrapped) == "down"
    assert database_trouble(ValueError("a bug")) is None
    assert database_trouble(sqlite3.OperationalError("no such column: x")) is None


def test_logging_filter_leaves_ordinary_messages_alone() -> None:
    record = logging.LogRecord("contest", logging.INFO, __file__, 1, "entry %s saved by %s", (7, "a@b.go.th"), None)
    operations.ContextFilter().filter(record)
    assert record.getMessage() == "entry 7 saved by a@b.go.th" and record.request_id == "-"
