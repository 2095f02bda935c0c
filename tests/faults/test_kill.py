"""`kill -9` of the web server in the middle of an upload and of a submit: after a restart
nothing is half-done (no row without its file, no receipt without its entry's state), what the
crash left on disk is cleaned up at start-up, the same upload sent again is stored once, and the
audit chain verifies. One web worker of several killed: the others keep serving and a new one
takes its place."""

from __future__ import annotations

import hashlib
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from contest.tables import Attachment, Entry, Receipt
from tests.conftest import run
from tests.e2e.browser import contest_command
from tests.factories import COMPLETE, PASSWORD, make_edition, make_org, make_user
from tests.faults.support import Server, app_env, wait_until
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration


def _token(base_url: str) -> dict[str, str]:
    resp = httpx.post(f"{base_url}/api/v1/auth/token", json={"email": "staff@example.go.th", "password": PASSWORD},
                      timeout=30)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def _setup() -> None:
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))


def _parts(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "uploads" / ".incoming").glob("*.part"))


def _objects(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "uploads").rglob("*") if p.is_file() and ".incoming" not in p.parts]


def _audit_verifies(tmp_path: Path) -> None:
    done = subprocess.run([*contest_command(), "audit", "verify"], env=app_env(tmp_path), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain intact" in done.stdout


def test_kill_during_an_upload_leaves_nothing_and_the_retry_stores_it_once(db: str, tmp_path: Path) -> None:
    _setup()
    server = Server(tmp_path)
    try:
        headers = _token(server.base_url)
        entry = httpx.post(f"{server.base_url}/api/v1/editions/2569/entries", headers=headers,
                           json={"title": "บริการ"}, timeout=30).json()
        boundary = "killkillkill"
        pdf = make_pdf(2)
        filler = b"%" + b"\x80" * (12 * 1024 * 1024)  # a large PDF arriving slowly
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ผลงาน.pdf\"\r\n"
                f"Content-Type: application/pdf\r\n\r\n").encode()
        body_length = len(head) + len(pdf) + len(filler) + len(f"\r\n--{boundary}--\r\n")
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        request = (f"POST /api/v1/entries/{entry['id']}/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: {headers['Authorization']}\r\nIdempotency-Key: killed-upload-0001\r\n"
                   f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                   f"Content-Length: {body_length}\r\n\r\n").encode()
        conn.sendall(request + head + pdf + filler[: 4 * 1024 * 1024])  # a third of the file, then silence
        wait_until(lambda: any(p.stat().st_size > 0 for p in _parts(tmp_path)), 30, "the part file to grow")
        server.kill9()
        conn.close()
    finally:
        server.stop()
    assert _parts(tmp_path), "the crash left its part file (what the start-up clean-up is for)"
    assert run(Attachment.count()) == 0

    # Restarted with a zero upload allowance: every part file left is stale and goes at start-up.
    server = Server(tmp_path, UPLOAD_MAX_SECONDS="0")
    try:
        wait_until(lambda: not _parts(tmp_path), 30, "the start-up clean-up")
        assert _objects(tmp_path) == []
        headers = _token(server.base_url)
        retry = {**headers, "Idempotency-Key": "killed-upload-0001"}
        answers = [httpx.post(f"{server.base_url}/api/v1/entries/{entry['id']}/attachments", headers=retry,
                              files={"file": ("ผลงาน.pdf", pdf, "application/pdf")}, timeout=60)
                   for _ in range(2)]
        assert [a.status_code for a in answers] == [201, 201]
        assert answers[0].json()["id"] == answers[1].json()["id"]
        assert answers[0].json()["sha256"] == hashlib.sha256(pdf).hexdigest()
    finally:
        server.stop()
    assert run(Attachment.count()) == 1 and len(_objects(tmp_path)) == 1
    _audit_verifies(tmp_path)


def test_kill_during_a_submit_leaves_it_whole_or_not_at_all(db: str, tmp_path: Path) -> None:
    _setup()
    server = Server(tmp_path)
    try:
        headers = _token(server.base_url)
        entry = httpx.post(f"{server.base_url}/api/v1/editions/2569/entries", headers=headers,
                           json={"title": "บริการ"}, timeout=30).json()
        assert httpx.patch(f"{server.base_url}/api/v1/entries/{entry['id']}", headers=headers,
                           json={**COMPLETE, "version": 1}, timeout=30).status_code == 200
        assert httpx.post(f"{server.base_url}/api/v1/entries/{entry['id']}/attachments", headers=headers,
                          files={"file": ("ผลงาน.pdf", make_pdf(2), "application/pdf")},
                          timeout=30).status_code == 201
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        conn.sendall((f"POST /api/v1/entries/{entry['id']}/submit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: {headers['Authorization']}\r\nContent-Length: 0\r\n\r\n").encode())
        server.kill9()
        conn.close()
    finally:
        server.stop()

    state = run(Entry.select(Entry.state).where(Entry.id == entry["id"]).first())["state"]
    receipts = run(Receipt.count().where(Receipt.entry == entry["id"]))
    assert (state, receipts) in {("draft", 0), ("submitted", 1)}
    _audit_verifies(tmp_path)

    server = Server(tmp_path)
    try:
        headers = _token(server.base_url)
        done = httpx.post(f"{server.base_url}/api/v1/entries/{entry['id']}/submit", headers=headers, timeout=30)
        assert done.status_code in (200, 201), done.text
        number = done.json()["receipt"]["number"]
        receipt = httpx.get(f"{server.base_url}/api/v1/receipts/{number}", headers=headers, timeout=30)
        assert receipt.status_code == 200
    finally:
        server.stop()
    assert run(Receipt.count().where(Receipt.entry == entry["id"])) == 1
    _audit_verifies(tmp_path)


def _worker_pids(server: Server) -> set[int]:
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def _exited(pid: int) -> bool:
    """The process is gone or a zombie: its sockets are closed, no new connection goes to it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_kill_of_one_web_worker_leaves_the_others_serving_and_it_is_replaced(db: str, tmp_path: Path) -> None:
    server = Server(tmp_path, WEB_WORKERS="2")
    try:
        wait_until(lambda: len(_worker_pids(server)) == 2, 30, "two web workers")
        first = _worker_pids(server)
        victim = min(first)
        subprocess.run(["kill", "-9", str(victim)], check=True)
        wait_until(lambda: _exited(victim), 10, "the killed worker to exit")
        # The sibling answers while the dead worker is replaced, and the server stays up.
        for _ in range(20):
            assert httpx.get(f"{server.base_url}/api/v1/editions/", timeout=10).status_code == 200
        wait_until(lambda: len(_worker_pids(server) - {victim}) == 2, 30, "a new web worker")
        assert server.alive
        assert (first - {victim}) <= _worker_pids(server)
        for _ in range(20):
            assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
