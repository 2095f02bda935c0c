"""`contest backup` / `contest restore`: a consistent copy of the database and of every stored
file with a SHA-256 manifest; a changed byte is found; a restore brings back the database and
every file byte for byte, and the audit chain still verifies."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from contest.backup import BackupError, make_backup, restore_backup, verify_backup
from contest.cli import main
from contest.domain import outbox
from contest.domain.audit import verify_chain
from contest.settings import get_settings
from contest.tables import Attachment, Entry
from tests.conftest import run
from tests.factories import COMPLETE, login_token, make_edition, make_org, make_user
from uploads.testing import make_pdf, make_png

pytestmark = pytest.mark.integration


def _stored_files() -> dict[str, str]:
    root = get_settings().var_dir / "uploads"
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and ".incoming" not in p.parts}


def _entry_with_files(client: Any) -> tuple[dict[str, str], int]:
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    headers = login_token(client, "staff@example.go.th")
    entry = client.post("/api/v1/editions/2569/entries", headers=headers, json={"title": "บริการ"}).json()
    assert client.patch(f"/api/v1/entries/{entry['id']}", headers=headers,
                        json={**COMPLETE, "version": 1}).status_code == 200
    for name, data, kind in (("ผลงาน.pdf", make_pdf(3), "application/pdf"), ("ภาพ.png", make_png(), "image/png")):
        assert client.post(f"/api/v1/entries/{entry['id']}/attachments", headers=headers,
                           files={"file": (name, data, kind)}).status_code == 201
    assert client.post(f"/api/v1/entries/{entry['id']}/submit", headers=headers).status_code in (200, 201)
    _checked(entry["id"])
    return headers, entry["id"]


def _checked(entry_id: int, timeout: float = 30.0) -> None:
    """Every file checked and the image's preview stored (the app's own job runner may be doing
    it right now), so that what is stored no longer changes under the test."""
    deadline = time.monotonic() + timeout
    while True:
        run(outbox.run_due())
        rows = run(Attachment.select(Attachment.check_state, Attachment.thumbnail_key, Attachment.content_type)
                   .where(Attachment.entry == entry_id))
        done = all(r["check_state"] != "pending" for r in rows) and all(
            r["thumbnail_key"] for r in rows if r["content_type"].startswith("image/"))
        if done or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def test_backup_verify_and_restore_byte_for_byte(client: Any, tmp_path: Path) -> None:
    headers, entry_id = _entry_with_files(client)
    before_files = _stored_files()
    before_titles = run(Entry.select(Entry.id, Entry.title))
    target = tmp_path / "backup"

    manifest = run(make_backup(target))
    assert manifest["object_count"] == 3 == len(before_files)  # the PDF, the image and its preview
    assert {o["key"]: o["sha256"] for o in manifest["objects"]} == before_files
    assert json.loads((target / "manifest.json").read_text())["database"]["engine"] in ("sqlite", "postgres")
    assert verify_backup(target).ok

    # Life goes on after the backup: a title changes, a file is lost from the storage.
    run(Entry.update({Entry.title: "แก้หลังสำรอง"}).where(Entry.id == entry_id))
    shutil.rmtree(get_settings().var_dir / "uploads")

    report = run(restore_backup(target))
    assert report.ok and report.checked == 3
    assert _stored_files() == before_files
    assert run(Entry.select(Entry.id, Entry.title)) == before_titles
    assert run(Attachment.count()) == 2
    assert run(verify_chain()).ok
    files = client.get(f"/api/v1/entries/{entry_id}", headers=login_token(client, "staff@example.go.th"))
    assert files.status_code == 200 and len(files.json()["attachments"]) == 2


def test_a_changed_byte_in_the_backup_is_found_and_it_is_not_restored(client: Any, tmp_path: Path) -> None:
    _entry_with_files(client)
    target = tmp_path / "backup"
    manifest = run(make_backup(target))
    victim = target / "objects" / manifest["objects"][0]["key"]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))

    report = verify_backup(target)
    assert not report.ok and len(report.problems) == 1 and manifest["objects"][0]["key"] in report.problems[0]
    result = CliRunner().invoke(main, ["backup", "--verify", str(target)])
    assert result.exit_code == 1 and "backup BROKEN" in result.output
    with pytest.raises(BackupError):
        run(restore_backup(target))


def test_the_command_refuses_a_folder_that_is_not_empty(db: str, tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    result = CliRunner().invoke(main, ["backup", str(tmp_path)])
    assert result.exit_code != 0 and "not empty" in result.output
