"""file_response through a real Litestar app: ranges, headers, inline rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from litestar import Litestar, Request, get
from litestar.testing import TestClient

from uploads.serving import content_disposition, file_response
from uploads.storage import LocalStorage, Storage

DATA = bytes(range(256)) * 40  # 10,240 bytes


def make_app(storage: Storage, key: str, filename: str, content_type: str) -> Litestar:
    @get("/files/{inline:int}")
    async def download(request: Request[Any, Any, Any], inline: int) -> Any:
        return await file_response(
            storage, key, filename=filename, content_type=content_type,
            range_header=request.headers.get("range"), inline=bool(inline),
        )  # fmt: skip

    return Litestar([download])


async def store(storage: Storage, data: bytes) -> str:
    pending = await storage.begin_write()
    await pending.write(data)
    await pending.commit()
    return pending.key


@pytest.fixture
def client(local_storage: LocalStorage) -> Iterator[TestClient[Litestar]]:
    key = anyio.run(store, local_storage, DATA)
    with TestClient(make_app(local_storage, key, "นวัตกรรม.pdf", "application/pdf")) as client:
        yield client


def test_file_response_full_body(client: TestClient[Litestar]) -> None:
    response = client.get("/files/0")

    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == "10240"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"file.pdf\"; "
        "filename*=UTF-8''%E0%B8%99%E0%B8%A7%E0%B8%B1%E0%B8%95%E0%B8%81%E0%B8%A3%E0%B8%A3%E0%B8%A1.pdf"
    )


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-9", 0, 9), ("bytes=100-", 100, 10239), ("bytes=-16", 10224, 10239),
     ("bytes=10000-99999", 10000, 10239), ("bytes=-99999", 0, 10239), ("bytes=10239-10239", 10239, 10239)],
)  # fmt: skip
def test_file_response_single_range(
    client: TestClient[Litestar], header: str, start: int, end: int
) -> None:
    response = client.get("/files/0", headers={"Range": header})

    assert response.status_code == 206
    assert response.content == DATA[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/10240"
    assert response.headers["content-length"] == str(end - start + 1)


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=20000-20010", "bytes=-0"])
def test_file_response_unsatisfiable_range(client: TestClient[Litestar], header: str) -> None:
    response = client.get("/files/0", headers={"Range": header})

    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */10240"
    assert response.content == b""


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=-", "nonsense"])
def test_file_response_ignores_unsupported_range(client: TestClient[Litestar], header: str) -> None:
    response = client.get("/files/0", headers={"Range": header})

    assert response.status_code == 200
    assert response.content == DATA


def test_file_response_inline_pdf_when_asked(client: TestClient[Litestar]) -> None:
    response = client.get("/files/1")

    assert response.headers["content-disposition"].startswith('inline; filename="file.pdf"')


def test_file_response_never_inline_for_office_documents(local_storage: LocalStorage) -> None:
    key = anyio.run(store, local_storage, b"PK\x03\x04")
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    with TestClient(make_app(local_storage, key, "แผน.docx", docx)) as client:
        response = client.get("/files/1")

    assert response.headers["content-disposition"].startswith('attachment; filename="file.docx"')


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report final.pdf", "attachment; filename=\"report final.pdf\"; filename*=UTF-8''report%20final.pdf"),
        ('a"b\\c.pdf', "attachment; filename=\"abc.pdf\"; filename*=UTF-8''a%22b%5Cc.pdf"),
        ("café.png", "attachment; filename=\"cafe.png\"; filename*=UTF-8''caf%C3%A9.png"),
        ("รูป", "attachment; filename=\"file\"; filename*=UTF-8''%E0%B8%A3%E0%B8%B9%E0%B8%9B"),
    ],
)
def test_content_disposition_encodes_filename(filename: str, expected: str) -> None:
    assert content_disposition(filename, inline=False) == expected
