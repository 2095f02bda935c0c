"""The embedded set-up on one small volume (a tmpfs, mounted when the suite runs as root): the
database, its journal and the files share it. Uploads fill it up to the free-space reserve and
are then refused with 507 and a Thai message; logging in, reading and removing a file still
work, removing one makes room again, nothing is left half-written, and the audit verifies.

Without root (no mount) the same refusal is tested in-process against a reserve larger than
the free space (tests/contest/test_operations.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import contest_command
from tests.factories import PASSWORD
from tests.faults.support import Server, app_env
from uploads.testing import make_pdf

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                 reason="the embedded set-up (SQLite on the volume) runs in the SQLite pass")]

VOLUME_MB = 48
RESERVE_MB = 12
SETUP = """
import asyncio
from contest.cli import with_db
from tests.factories import make_edition, make_org, make_user

async def main():
    await make_edition(2569)
    org = await make_org()
    await make_user("applicant", email="staff@example.go.th", org=org)

asyncio.run(with_db(main()))
"""


@pytest.fixture()
def small_volume() -> Iterator[Path]:
    if os.getuid() != 0:
        pytest.skip("mounting a small volume needs root")
    mount = Path(tempfile.mkdtemp(prefix="contest-full-volume-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={VOLUME_MB}m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
        mount.rmdir()


def _pdf_of(megabytes: int, n: int) -> bytes:
    return make_pdf(1) + b"%" + bytes([0x80 + n % 64]) * (megabytes * 1024 * 1024)


def test_a_full_volume_refuses_uploads_and_keeps_everything_else_working(small_volume: Path,
                                                                       tmp_path: Path) -> None:
    env = app_env(tmp_path, VAR_DIR=str(small_volume / "var"),
                  DATABASE_URL=f"sqlite:///{small_volume / 'var' / 'contest.sqlite3'}",
                  STORAGE_URL=str(small_volume / "uploads"), STORAGE_RESERVE_MB=str(RESERVE_MB))
    for step in ([*contest_command(), "migrate"], [sys.executable, "-c", SETUP]):
        done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    server = Server(tmp_path, **{k: env[k] for k in ("VAR_DIR", "DATABASE_URL", "STORAGE_URL",
                                                     "STORAGE_RESERVE_MB")})
    try:
        def token() -> dict[str, str]:
            resp = httpx.post(f"{server.base_url}/api/v1/auth/token",
                              json={"email": "staff@example.go.th", "password": PASSWORD}, timeout=30)
            assert resp.status_code == 200, resp.text
            return {"Authorization": f"Bearer {resp.json()['token']}"}

        headers = token()
        entry = httpx.post(f"{server.base_url}/api/v1/editions/2569/entries", headers=headers,
                           json={"title": "บริการ"}, timeout=30).json()
        url = f"{server.base_url}/api/v1/entries/{entry['id']}/attachments"
        stored, refused = [], None
        for n in range(VOLUME_MB // 4 + 2):
            resp = httpx.post(url, headers=headers, files={"file": (f"{n}.pdf", _pdf_of(4, n), "application/pdf")},
                              timeout=60)
            if resp.status_code == 201:
                stored.append(resp.json()["id"])
                continue
            refused = resp
            break
        assert refused is not None, "the volume never filled up"
        assert refused.status_code == 507, refused.text
        assert refused.json()["code"] == "storage_full"
        assert refused.json()["detail"].startswith("ไม่ได้จัดเก็บไฟล์")
        assert stored, "some files fit before the reserve"

        headers = token()  # logging in writes a token row: the reserve keeps room for it
        detail = httpx.get(f"{server.base_url}/api/v1/entries/{entry['id']}", headers=headers, timeout=30)
        assert detail.status_code == 200 and len(detail.json()["attachments"]) == len(stored)
        content = httpx.get(f"{server.base_url}/api/v1/attachments/{stored[0]}/content", headers=headers,
                            timeout=30)
        assert content.status_code == 200
        for attachment_id in stored[:2]:
            gone = httpx.delete(f"{server.base_url}/api/v1/attachments/{attachment_id}", headers=headers,
                                timeout=30)
            assert gone.status_code == 200, gone.text
        again = httpx.post(url, headers=headers, files={"file": ("again.pdf", _pdf_of(4, 99), "application/pdf")},
                           timeout=60)
        assert again.status_code == 201, again.text
    finally:
        server.stop()
    assert list((small_volume / "uploads" / ".incoming").glob("*.part")) == []
    verified = subprocess.run([*contest_command(), "audit", "verify"], env=env, capture_output=True, text=True,
                              timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
