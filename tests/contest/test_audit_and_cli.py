"""The audit hash chain and the `contest` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from contest.cli import main
from contest.db import atomic
from contest.domain.audit import (
    GENESIS,
    Actor,
    append_event,
    row_hash,
    sealed_body_around_seq,
    sealed_hash,
    verify_chain,
)
from contest.tables import AuditEvent, Organisation, User
from tests.conftest import run
from tests.factories import make_edition, make_org, make_user

pytestmark = pytest.mark.integration


def test_audit_chain_verifies_and_detects_tampering(db: str) -> None:
    run(make_org())
    run(make_user("reviewer"))  # the account and its two-factor enrolment
    run(make_edition())
    report = run(verify_chain())
    assert report.ok and report.events == 4
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 4 events" in ok.output
    run(AuditEvent.update({AuditEvent.after: '{"email":"someone-else@example.go.th"}'}).where(AuditEvent.seq == 2))
    broken = runner.invoke(main, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "BROKEN at event 2" in broken.output


def test_audit_chain_detects_a_deleted_event(db: str) -> None:
    for _ in range(3):
        run(make_org())
    run(AuditEvent.delete().where(AuditEvent.seq == 2))
    report = run(verify_chain())
    assert not report.ok and report.broken_at_seq == 2


def test_audit_events_appended_at_once_form_one_chain(db: str) -> None:
    """Many transactions appending at the same time (the deadline's submissions) still make one
    unbroken chain, each event's hash the one its row recomputes, personal values sealed."""
    import asyncio

    async def change(n: int) -> str:
        async with atomic():
            return await append_event(
                actor=Actor(id=n, email=f"staff{n}@example.go.th", role="applicant"), action="entry.update",
                subject_type="entry", subject_id=n,
                before={"title": "เดิม"}, after={"title": f"ระบบ \"ใหม่\" {n}", "contact_email": f"c{n}@a.go.th"})

    async def all_at_once() -> list[str]:
        return list(await asyncio.gather(*(change(n) for n in range(1, 13))))

    digests = run(all_at_once())
    rows = run(AuditEvent.select().order_by(AuditEvent.seq))
    assert [r["seq"] for r in rows] == list(range(1, 13))
    if db.startswith("sqlite"):  # on PostgreSQL the hash is made when the transaction commits
        assert sorted(digests) == sorted(r["hash"] for r in rows)
    prev = GENESIS
    for r in rows:
        assert r["prev_hash"] == prev and row_hash(prev, r) == r["hash"]
        assert "go.th" not in r["pii"]  # the commitments only
        prev = r["hash"]
    assert run(verify_chain()).ok


def test_the_databases_append_takes_the_chains_lock() -> None:
    import importlib

    from contest.domain import audit

    migration = importlib.import_module("contest.piccolo_migrations.contest_2026_12_04t20_00_00_000000")
    assert f"pg_advisory_xact_lock({audit._AUDIT_LOCK_KEY})" in migration.CREATE[0]


def test_an_event_body_split_around_its_seq_hashes_as_the_whole() -> None:
    import hashlib
    import json

    row = {"at": "2026-12-04T12:00:00.000000+00:00", "actor_id": 7, "actor_email": "a@b.go.th",
           "action": "entry.update", "subject_type": "entry", "subject_id": "3",
           "before": json.dumps({"seq": 5, "x": '"seq":"'}), "after": json.dumps({"title": "ไทย", "email": "x@y"})}
    head, tail, pii = sealed_body_around_seq(row, "salt")
    for seq in (1, 42, 10**12):
        whole = sealed_hash("ab" * 32, {**row, "seq": seq}, "salt", {})
        assert hashlib.sha256(("ab" * 32 + head + str(seq) + tail).encode()).hexdigest() == whole
        assert row_hash("ab" * 32, {**row, "seq": seq, "pii": pii}) == whole


def test_import_orgs_is_idempotent_and_reports_rejected_rows(db: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "orgs.csv"
    csv_file.write_text(
        "\ufeffcode,name_th,name_en,kind,province_code,district_code\n"
        "5500101,องค์การบริหารส่วนตำบลทดสอบ,Test SAO,sao,50,5001\n"
        "4500102,เทศบาลตำบลทดสอบ,Test Mun,เทศบาลตำบล,50,\n"
        "12,ไม่ถูกต้อง,,sao,50,\n"
        "5500103,องค์การบริหารส่วนตำบลจังหวัดผิด,,sao,99,\n",
        encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(main, ["import-orgs", str(csv_file)])
    assert first.exit_code == 1  # some rows were rejected
    assert "created 2, updated 0, unchanged 0, rejected 2" in first.output
    assert "line 4" in first.output and "line 5" in first.output
    again = runner.invoke(main, ["import-orgs", str(csv_file)])
    assert "created 0, updated 0, unchanged 2, rejected 2" in again.output
    csv_file.write_text("code,name_th,kind,province_code\n5500101,องค์การบริหารส่วนตำบลชื่อใหม่,sao,50\n",
                        encoding="utf-8")
    third = runner.invoke(main, ["import-orgs", str(csv_file)])
    assert third.exit_code == 0 and "created 0, updated 1" in third.output
    assert run(Organisation.count()) == 2
    row = run(Organisation.select(Organisation.name_th, Organisation.search_text).where(
        Organisation.code == "5500101").first())
    assert row["name_th"] == "องค์การบริหารส่วนตำบลชื่อใหม่"


def test_create_user_command(db: str) -> None:
    code = run(make_org())
    runner = CliRunner()
    out = runner.invoke(main, ["create-user", "--role", "applicant", "--email", "staff@example.go.th",
                               "--password", "long-enough-password", "--organisation", code])
    assert out.exit_code == 0, out.output
    bad = runner.invoke(main, ["create-user", "--role", "applicant", "--email", "x@example.go.th",
                               "--password", "long-enough-password", "--organisation", "0000000"])
    assert bad.exit_code != 0 and "organisation_code" in bad.output
    dup = runner.invoke(main, ["create-user", "--role", "admin", "--email", "STAFF@example.go.th",
                               "--password", "long-enough-password"])
    assert dup.exit_code != 0
    assert run(User.count()) == 1


def test_demo_loads_registry_accounts_and_open_edition(db: str) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["demo", "--if-empty"])
    assert out.exit_code == 0, out.output
    assert "admin1@demo.test" in out.output and "reviewer20@demo.test" in out.output
    assert "panel07@demo.test" in out.output
    counts = {k: run(Organisation.count().where(Organisation.kind == k)) for k in ("pao", "city_municipality",
                                                                                  "bangkok", "pattaya")}
    assert counts == {"pao": 76, "city_municipality": 30, "bangkok": 1, "pattaya": 1}
    assert run(Organisation.count()) > 7000
    from contest.domain.editions import current_edition
    edition = run(current_edition())
    assert edition is not None and edition.accepting_submissions
    again = runner.invoke(main, ["demo", "--if-empty"])
    assert "already has data" in again.output
    # Last year's edition was judged by the demo committee and published: an archive to look at.
    from contest.domain.announcement import get_results
    from contest.tables import Entry
    past = run(get_results(edition.year - 1))
    assert len(past.document["winners"]) == 1 and len(past.document["awarded"]) == 40
    assert run(Entry.count().where(Entry.state == "ineligible")) == 4
    # Entries arrive over the days in both editions, so the cockpit has two curves to compare.
    from contest.clock import to_bangkok
    from contest.tables import Edition, User
    past_id = run(Edition.select(Edition.id).where(Edition.year == edition.year - 1).first())["id"]
    for edition_id, days in ((edition.id, 8), (past_id, 20)):
        rows = run(Entry.select(Entry.created_at, Entry.submitted_at).where(Entry.edition == edition_id))
        assert len({to_bangkok(r["submitted_at"] or r["created_at"]).date() for r in rows}) >= days
        assert all(r["submitted_at"] is None or r["created_at"] < r["submitted_at"] for r in rows)
    # The first demo applicant's organisation has a judged entry in the published edition.
    own = run(User.select(User.organisation).where(User.email == "applicant01@demo.test").first())["organisation"]
    judged = run(Entry.select(Entry.state).where((Entry.edition == past_id) & (Entry.organisation == own)))
    assert [r["state"] for r in judged] in (["shortlisted"], ["not_shortlisted"], ["finalist"], ["winner"])
    assert not run(Entry.exists().where((Entry.edition == edition.id) & (Entry.organisation == own)))
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
