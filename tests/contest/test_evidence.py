"""Evidence packs: who may download one and when, what it holds (and what it never holds: a
reviewer's name or id), and the offline check that passes a clean pack and fails a tampered one."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from contest.cli import main
from contest.evidence_verify import verify_pack
from contest.tables import Attachment, ResultSnapshot
from tests.conftest import run
from tests.contest.appeal_world import OTHER, OWNER, REVIEWER_NAMES, build
from tests.factories import browser_login, login_token
from tests.judging.support import YEAR
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration


def _download(client, entry_id: int, email: str | None):  # type: ignore[no-untyped-def]
    headers = login_token(client, email) if email else {}
    return client.get(f"/api/v1/entries/{entry_id}/evidence.zip", headers=headers)


def _save(tmp_path: Path, content: bytes, name: str = "pack.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_who_may_download_a_pack_and_when(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client, publish=False)
    assert _download(client, w.entry_id, None).status_code == 401
    before = _download(client, w.entry_id, OWNER)
    assert before.status_code == 404 and before.json()["code"] == "not_published", before.text
    assert _download(client, w.entry_id, w.admins[0]).status_code == 200  # admins at any time
    from contest.domain import announcement
    from contest.domain.audit import SYSTEM

    run(announcement.publish_results(actor=SYSTEM, year=YEAR))
    assert _download(client, w.entry_id, OWNER).status_code == 200
    assert _download(client, w.entry_id, OTHER).status_code == 404
    assert _download(client, w.entry_id, w.reviewer_emails[0]).status_code == 404
    admin = login_token(client, w.admins[0])
    assert client.get("/api/v1/entries/999999/evidence.zip", headers=admin).status_code == 404


def test_the_pack_holds_what_decided_the_entry_and_no_reviewer(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    resp = _download(client, w.entry_id, OWNER)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/zip"
    assert f"evidence-{YEAR}-{w.entry_id}.zip" in resp.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(resp.content))
    names = set(archive.namelist())
    attachment = run(Attachment.select(Attachment.id, Attachment.sha256).first())
    assert {"manifest.json", "README.txt", "entry.json", "receipt.json", "eligibility.json",
            f"files/{attachment['id']}-slides.pdf", "judging/1-screening/rules.json",
            "judging/1-screening/record.json", "audit/events.json", "results/snapshot.json"} <= names, names
    manifest = json.loads(archive.read("manifest.json"))
    published = run(ResultSnapshot.select(ResultSnapshot.sha256, ResultSnapshot.payload).first())
    assert manifest["snapshot_sha256"] == published["sha256"]
    assert archive.read("results/snapshot.json") == published["payload"].encode()
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == names - {"manifest.json"}
    for path, entry in listed.items():
        assert hashlib.sha256(archive.read(path)).hexdigest() == entry["sha256"], path
    assert listed[f"files/{attachment['id']}-slides.pdf"]["sha256"] == attachment["sha256"]
    assert archive.read(f"files/{attachment['id']}-slides.pdf") == make_pdf()
    receipt = json.loads(archive.read("receipt.json"))
    assert receipt["files"][0]["sha256"] == attachment["sha256"]
    eligibility = json.loads(archive.read("eligibility.json"))
    assert eligibility["eligible"] is True and eligibility["state"] == "eligible"
    record = json.loads(archive.read("judging/1-screening/record.json"))
    rules_bytes = archive.read("judging/1-screening/rules.json")
    assert hashlib.sha256(rules_bytes).hexdigest() == record["rules_hash"]
    assert [s["reviewer"] for s in record["sheets"]] == ["reviewer 1", "reviewer 2"]
    assert all(set(s) <= {"reviewer", "scores", "weighted_total", "comment", "submitted_at", "z",
                          "reviewer_sheets"} for s in record["sheets"])
    assert record["normalisation"]["method"] == "none" and record["normalisation"]["raw_score"] is not None
    assert record["rank"] is not None and record["decision"]["outcome"] == "not_shortlisted"
    assert [s["signatory"] for s in record["signatures"]] == ["signatory 1", "signatory 2"]
    events = json.loads(archive.read("audit/events.json"))
    actions = [e["action"] for e in events]
    assert "entry.submit" in actions and "entry.eligibility" in actions and "entry.screening_outcome" in actions
    assert all(e["actor"].startswith("sealed:") for e in events)
    # Nothing names a reviewer: no name, no e-mail, no account id next to a sheet.
    everything = b"".join(archive.read(n) for n in names | {"manifest.json"}).decode("utf-8", "replace")
    for name in REVIEWER_NAMES:
        assert name not in everything
    for email in w.reviewer_emails:
        assert email not in everything
    assert OWNER not in json.dumps(events)  # personal values are sealed
    for sheet in record["sheets"]:
        assert not any(str(i) == str(sheet.get("reviewer")) for i in w.reviewer_ids)
    report = verify_pack(_save(tmp_path, resp.content), published["sha256"])
    assert report.ok, [p.text() for p in report.problems]


def test_the_pages_link_the_pack(client) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    browser_login(client, w.admins[0])
    page = client.get(f"/admin/entries/{w.entry_id}")
    assert f"/api/v1/entries/{w.entry_id}/evidence.zip" in page.text
    # A browser session downloads it too.
    assert client.get(f"/api/v1/entries/{w.entry_id}/evidence.zip").status_code == 200


def _rewrite(source: bytes, target: Path, change: str, new_bytes: bytes) -> None:
    """A copy of the pack with one file's bytes replaced (a consistent ZIP: only the manifest
    can tell)."""
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            copy.writestr(info.filename, new_bytes if info.filename == change else original.read(info.filename))


def test_verify_passes_a_clean_pack_and_fails_a_tampered_one(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    content = _download(client, w.entry_id, OWNER).content
    sha = run(ResultSnapshot.select(ResultSnapshot.sha256).first())["sha256"]
    clean = _save(tmp_path, content)
    runner = CliRunner()
    ok = runner.invoke(main, ["evidence", "verify", str(clean), "--snapshot", sha])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output and sha in ok.output
    # One changed file: the eligibility decision rewritten to say the opposite.
    forged = tmp_path / "forged.zip"
    original = json.loads(zipfile.ZipFile(clean).read("eligibility.json"))
    _rewrite(content, forged, "eligibility.json",
             json.dumps({**original, "eligible": False, "state": "ineligible"}).encode())
    report = verify_pack(forged, sha)
    assert not report.ok and len(report.problems) == 1
    assert "eligibility.json" in report.problems[0].text() and "changed" in report.problems[0].text()
    bad = runner.invoke(main, ["evidence", "verify", str(forged), "--snapshot", sha])
    assert bad.exit_code == 1 and "eligibility.json" in bad.output and "FAILED" in bad.output, bad.output
    # Another published hash than the pack's: the pack is not of these results.
    other = runner.invoke(main, ["evidence", "verify", str(clean), "--snapshot", "0" * 64])
    assert other.exit_code == 1 and "0" * 64 in other.output
    # The snapshot itself changed, with a manifest rewritten to match: the published hash catches it.
    archive = zipfile.ZipFile(clean)
    manifest = json.loads(archive.read("manifest.json"))
    fake_snapshot = archive.read("results/snapshot.json").replace(b'"winners"', b'"winners" ', 1)
    for f in manifest["files"]:
        if f["path"] == "results/snapshot.json":
            f["sha256"], f["size"] = hashlib.sha256(fake_snapshot).hexdigest(), len(fake_snapshot)
    manifest["snapshot_sha256"] = hashlib.sha256(fake_snapshot).hexdigest()
    swapped = tmp_path / "swapped.zip"
    with zipfile.ZipFile(swapped, "w") as copy:
        for info in archive.infolist():
            data = {"manifest.json": json.dumps(manifest).encode(),
                    "results/snapshot.json": fake_snapshot}.get(info.filename) or archive.read(info.filename)
            copy.writestr(info.filename, data)
    assert verify_pack(swapped).ok  # consistent in itself...
    assert not verify_pack(swapped, sha).ok  # ...but not the published results
    # An altered audit event is caught by its own hash.
    events = json.loads(archive.read("audit/events.json"))
    events[0]["action"] = "entry.forged"
    altered = tmp_path / "altered.zip"
    _rewrite(content, altered, "audit/events.json", json.dumps(events).encode())
    texts = [p.text() for p in verify_pack(altered, sha).problems]
    assert any("audit/events.json" in t for t in texts) and any("Audit event" in t for t in texts), texts
    # Not a ZIP at all.
    junk = _save(tmp_path, b"not a zip", "junk.zip")
    assert not verify_pack(junk).ok


def test_the_pack_of_an_upheld_appeal_holds_the_appeal_and_the_corrected_results(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = build(client)
    first_sha = run(ResultSnapshot.select(ResultSnapshot.sha256).first())["sha256"]
    owner = login_token(client, OWNER)
    appeal_id = client.post(f"/api/v1/entries/{w.entry_id}/appeals", json={"reason": "ขอให้ทบทวน"},
                            headers=owner).json()["id"]
    for email in w.admins:
        resp = client.post(f"/api/v1/appeals/{appeal_id}/decide", headers=login_token(client, email),
                           json={"outcome": "upheld", "reason": "กรรมการให้คะแนนผิดเกณฑ์"})
        assert resp.status_code == 200, resp.text
    corrected_sha = run(ResultSnapshot.select(ResultSnapshot.sha256).first())["sha256"]
    assert corrected_sha != first_sha
    content = client.get(f"/api/v1/entries/{w.entry_id}/evidence.zip", headers=owner).content
    archive = zipfile.ZipFile(io.BytesIO(content))
    appeal = json.loads(archive.read("appeal.json"))
    assert appeal["state"] == "upheld" and appeal["decision_reason"] == "กรรมการให้คะแนนผิดเกณฑ์"
    assert [s["signatory"] for s in appeal["signatures"]] == ["signatory 1", "signatory 2"]
    assert appeal["correction_sha256"] == corrected_sha
    [replaced] = json.loads(archive.read("results/corrections.json"))
    assert replaced["sha256"] == first_sha and replaced["replaced_by"] == corrected_sha
    actions = [e["action"] for e in json.loads(archive.read("audit/events.json"))]
    assert actions[-5:] == ["appeal.lodge", "appeal.sign", "appeal.sign", "entry.appeal_outcome", "appeal.decide"]
    path = _save(tmp_path, content)
    assert verify_pack(path, corrected_sha).ok
    assert not verify_pack(path, first_sha).ok  # the pack is of the corrected results
