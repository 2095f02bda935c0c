"""Attachments through the whole app on S3 (STORAGE_URL=s3://…): upload, check job, download
with Range, delete. The S3 peer is moto's server mode, started by the uploads tests' fixtures."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from contest.settings import get_settings
from contest.storage import get_storage
from contest.tables import Attachment
from tests.conftest import run
from tests.factories import login_token, make_edition, make_org, make_user
from tests.uploads.conftest import s3_bucket, s3_client, s3_leftovers, s3_server  # noqa: F401 - fixtures
from uploads.s3 import S3Storage
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration

PREFIX = "attachments"


@pytest.fixture()
def s3_app(db: str, s3_server: dict[str, Any], s3_bucket: str,  # noqa: F811
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from contest.app import create_app

    monkeypatch.setenv("STORAGE_URL", f"s3://{s3_bucket}/{PREFIX}")
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_server["endpoint_url"])
    monkeypatch.setenv("S3_REGION", s3_server["region"])
    monkeypatch.setenv("S3_ACCESS_KEY_ID", s3_server["access_key_id"])
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", s3_server["secret_access_key"])
    get_settings.cache_clear()
    get_storage.cache_clear()
    try:
        assert isinstance(get_storage(), S3Storage)
        yield create_app()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        get_storage.cache_clear()


@pytest.fixture()
def s3_api(s3_app: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    with TestClient(app=s3_app, base_url="http://testserver.local") as c:
        yield c


def _check_done(attachment_id: int, timeout: float = 20.0) -> dict[str, Any]:
    from contest import jobs  # noqa: F401 - registers the handlers
    from contest.domain import outbox

    deadline = time.monotonic() + timeout
    while True:
        run(outbox.run_due())
        row = run(Attachment.select().where(Attachment.id == attachment_id).first())
        if row["check_state"] != "pending" or time.monotonic() > deadline:
            return row
        time.sleep(0.05)


def test_upload_check_download_and_delete_through_the_api_on_s3(
        s3_api: Any, s3_client: Any, s3_bucket: str) -> None:  # noqa: F811
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    headers = login_token(s3_api, "staff@example.go.th")
    entry = s3_api.post("/api/v1/editions/2569/entries", headers=headers, json={"title": "บริการบน S3"}).json()
    pdf = make_pdf(3)

    resp = s3_api.post(f"/api/v1/entries/{entry['id']}/attachments", headers=headers,
                       files={"file": ("นำเสนอ.pdf", pdf, "application/pdf")})
    assert resp.status_code == 201, resp.text
    att = resp.json()
    assert att["sha256"] == hashlib.sha256(pdf).hexdigest() and att["size"] == len(pdf)
    key = run(Attachment.select(Attachment.storage_key).where(Attachment.id == att["id"]).first())["storage_key"]
    objects, pending = s3_leftovers(s3_client, s3_bucket)
    assert objects == [f"{PREFIX}/{key}"] and pending == []
    stored = s3_client.get_object(Bucket=s3_bucket, Key=f"{PREFIX}/{key}")["Body"].read()
    assert stored == pdf

    # The check job reads the object back from S3 (into a temporary file for pypdf).
    checked = _check_done(att["id"])
    assert checked["check_state"] == "passed" and checked["check_details"] in ({"pages": 3}, '{"pages": 3}')
    [listed] = s3_api.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()["attachments"]
    assert listed["check_state"] == "passed" and listed["check_details"] == {"pages": 3}

    url = f"/api/v1/attachments/{att['id']}/content"
    full = s3_api.get(url, headers=headers)
    assert full.status_code == 200 and full.content == pdf
    assert full.headers["content-length"] == str(len(pdf)) and full.headers["accept-ranges"] == "bytes"
    assert full.headers["x-content-type-options"] == "nosniff"
    assert full.headers["content-disposition"].startswith("attachment;")
    part = s3_api.get(url, headers={**headers, "Range": "bytes=5-14"})
    assert part.status_code == 206 and part.content == pdf[5:15]
    assert part.headers["content-range"] == f"bytes 5-14/{len(pdf)}"
    tail = s3_api.get(url, headers={**headers, "Range": "bytes=-7"})
    assert tail.status_code == 206 and tail.content == pdf[-7:]
    outside = s3_api.get(url, headers={**headers, "Range": f"bytes={len(pdf)}-"})
    assert outside.status_code == 416 and outside.headers["content-range"] == f"bytes */{len(pdf)}"

    # A cut-off upload leaves no object and no pending multipart upload behind.
    boundary = "cutcutcut"
    cut = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.pdf\"\r\n"
           f"Content-Type: application/pdf\r\n\r\n").encode() + make_pdf() + b"x" * 50_000
    resp = s3_api.post(f"/api/v1/entries/{entry['id']}/attachments", content=cut,
                       headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert resp.status_code == 400 and resp.json()["code"] == "incomplete_upload"
    assert s3_leftovers(s3_client, s3_bucket) == ([f"{PREFIX}/{key}"], [])

    # Delete through the API: the row goes, and so does the object (no receipt lists it).
    removed = s3_api.delete(f"/api/v1/attachments/{att['id']}", headers=headers)
    assert removed.status_code == 200 and removed.json() == {"id": att["id"], "deleted": True}
    assert s3_leftovers(s3_client, s3_bucket) == ([], [])
    assert s3_api.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()["attachments"] == []
    assert s3_api.get(url, headers=headers).status_code == 404


def test_housekeeping_on_s3_aborts_crashed_uploads_and_removes_orphans(
        s3_app: Any, s3_client: Any, s3_bucket: str) -> None:  # noqa: F811
    """What a crashed process leaves in a bucket: a multipart upload never completed, and an
    object stored but never recorded. The hourly job removes both (the bucket's lifecycle rule
    is the second line for the first), and keeps every object a row names."""
    from contest import jobs

    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    from litestar.testing import TestClient

    with TestClient(app=s3_app, base_url="http://testserver.local") as api:
        headers = login_token(api, "staff@example.go.th")
        entry = api.post("/api/v1/editions/2569/entries", headers=headers, json={"title": "บริการ"}).json()
        kept = api.post(f"/api/v1/entries/{entry['id']}/attachments", headers=headers,
                        files={"file": ("a.pdf", make_pdf(), "application/pdf")})
        assert kept.status_code == 201
    kept_key = run(Attachment.select(Attachment.storage_key).first())["storage_key"]
    s3_client.create_multipart_upload(Bucket=s3_bucket, Key=f"{PREFIX}/ab/cd/crashedcrashedcrashed")
    s3_client.put_object(Bucket=s3_bucket, Key=f"{PREFIX}/zz/yy/orphanorphanorphan1", Body=b"never recorded")

    with pytest.MonkeyPatch.context() as patch:  # everything counts as old enough
        patch.setattr(jobs, "ORPHAN_AFTER_SECONDS", -3600)
        patch.setenv("UPLOAD_MAX_SECONDS", "-3600")
        get_settings.cache_clear()
        try:
            assert run(jobs.purge_stale_uploads({})) == {"incomplete": 1, "orphans": 1}
        finally:
            get_settings.cache_clear()
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])]
    assert keys == [f"{PREFIX}/{kept_key}"]
