"""Fixtures for the uploads tests: the anyio backend and both storage back-ends.

S3 runs against moto's server mode on a free loopback port: a real HTTP S3 peer, so the same
contract tests exercise obstore's requests, multipart uploads and aborts.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from uploads.s3 import S3Storage
from uploads.storage import LocalStorage, Storage


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files", fsync=False)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, Any]]:
    pytest.importorskip("moto.server")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield {
            "endpoint_url": f"http://{host}:{port}",
            "region": "us-east-1",
            "access_key_id": "testing",
            "secret_access_key": "testing",
            "allow_http": True,
        }
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_server: dict[str, Any]) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_server["endpoint_url"],
        region_name=s3_server["region"],
        aws_access_key_id=s3_server["access_key_id"],
        aws_secret_access_key=s3_server["secret_access_key"],
    )


@pytest.fixture
def s3_bucket(s3_client: Any) -> str:
    name = f"uploads-{secrets.token_hex(6)}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_storage(s3_server: dict[str, Any], s3_bucket: str) -> S3Storage:
    return S3Storage(s3_bucket, "attachments", **s3_server)


def s3_leftovers(client: Any, bucket: str) -> tuple[list[str], list[str]]:
    """Visible object keys and pending multipart upload keys in ``bucket``."""
    objects = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    pending = [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    return objects, pending


def local_leftovers(storage: LocalStorage) -> list[str]:
    """Every file under the root, part files included."""
    if not storage.root.exists():
        return []
    return sorted(str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file())


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    """Each contract test runs once per back-end."""
    if request.param == "local":
        return request.getfixturevalue("local_storage")
    return request.getfixturevalue("s3_storage")


@pytest.fixture
def leftovers(request: pytest.FixtureRequest, storage: Storage) -> Any:
    """A callable listing whatever ``storage`` holds, visible or half-written."""
    if isinstance(storage, LocalStorage):
        return lambda: local_leftovers(storage)
    client = request.getfixturevalue("s3_client")
    bucket = request.getfixturevalue("s3_bucket")

    def both() -> list[str]:
        objects, pending = s3_leftovers(client, bucket)
        return sorted(objects + [f"(multipart) {k}" for k in pending])

    return both
