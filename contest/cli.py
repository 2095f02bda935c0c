"""The ``contest`` command."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from contest.settings import keep_files_private


def _run(coro):
    return asyncio.run(coro)


async def with_db(coro):
    """Run ``coro`` with the database pool open and the database prepared (the commands and the
    benchmarks use the domain without the app)."""
    from contest import db

    await db.start_pool()
    await db.prepare_database()
    try:
        return await coro
    finally:
        await db.close_pool()


@click.group()
def main() -> None:
    """ท้องถิ่นดิจิทัล — run and manage the contest system."""
    keep_files_private()
    from contest.operations import configure_logging

    configure_logging()


async def migrate_all() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from contest import db
    from contest.settings import get_settings

    get_settings().var_dir.mkdir(parents=True, exist_ok=True)
    result = await run_forwards(app_name="all")
    if not result.success:
        raise click.ClickException(f"migration failed: {result.message}")
    await db.prepare_database()


@main.command()
def migrate() -> None:
    """Apply database migrations."""
    _run(migrate_all())


@main.command()
@click.option("--if-empty", is_flag=True, help="Only when the database holds no organisations and no users.")
def demo(if_empty: bool) -> None:
    """Load demo data: the LAO registry, demo accounts, an open edition, and last year's
    edition judged and published (results, showcase, open data)."""
    from contest.domain.demo import is_empty, load_demo
    from contest.settings import get_settings
    from judging.domain.demo import load_past_edition

    async def go() -> None:
        if if_empty and not await is_empty():
            click.echo("Database already has data: demo not loaded.")
            return
        settings = get_settings()
        report = await load_demo(settings.demo_password)
        past = await load_past_edition(report.edition_year - 1)
        click.echo(f"Demo loaded: {report.organisations} organisations, edition {report.edition_year} open"
                   + (f", edition {past} judged and published." if past else "."))
        click.echo(f"Demo accounts (password: {settings.demo_password!r}):")
        for email, role, org in report.users:
            click.echo(f"  {email:28} {role:10} {org}")
        click.echo(f"Admins and committee members sign in with two factors: add the key "
                   f"{settings.demo_totp_secret} to an authenticator app (or `oathtool --totp -b KEY`).")

    _run(with_db(go()))


@main.command("import-orgs")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_orgs(file: Path) -> None:
    """Import or update the LAO registry from a CSV file (see README for the columns)."""
    from contest.domain.audit import SYSTEM
    from contest.domain.organisations import import_organisations_csv

    async def go() -> int:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            report = await import_organisations_csv(fh, actor=SYSTEM)
        click.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
                   f"rejected {len(report.rejected)}")
        for rej in report.rejected:
            click.echo(f"  line {rej.line}{f' ({rej.code})' if rej.code else ''}: {rej.reason_th} / {rej.reason_en}")
        return 1 if report.rejected else 0

    sys.exit(_run(with_db(go())))


@main.command("create-user")
@click.option("--role", type=click.Choice(["admin", "reviewer", "applicant"]), required=True)
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="")
@click.option("--organisation", "organisation_code", default=None,
              help="Registry code (applicants): the account is a verified member of it, the operator "
                   "vouching for it. Without it the account may ask to join an organisation itself.")
def create_user(role: str, email: str, password: str, name: str, organisation_code: str | None) -> None:
    """Create a confirmed account."""
    from contest.domain.accounts import create_user as create
    from contest.domain.audit import SYSTEM
    from contest.errors import DomainError, ValidationFailed
    from contest.i18n import both

    async def go() -> None:
        try:
            user_id = await create(actor=SYSTEM, email=email, password=password, role=role, name=name,
                                   organisation_code=organisation_code)
        except ValidationFailed as exc:
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from exc
        except DomainError as exc:
            raise click.ClickException(both(exc.message)) from exc
        member = f", verified member of {organisation_code}" if organisation_code and role == "applicant" else ""
        click.echo(f"created user {user_id} <{email}> as {role}{member}")

    _run(with_db(go()))


@main.group()
def outbox() -> None:
    """Jobs that must not be lost: mail, file checks."""


@outbox.command("failed")
def outbox_failed() -> None:
    """List the jobs that gave up (newest first)."""
    from contest.domain import outbox as jobs

    for job in _run(with_db(jobs.failed_jobs())):
        click.echo(f"{job['id']:>8}  {job['job']:<22} {job['to'] or '-':<32} {job['last_error'][:80]}")


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every failed job.")
def outbox_retry(ids: tuple[int, ...], every: bool) -> None:
    """Send failed jobs again (these ids, or --all). Without a Redis the next `contest serve`
    (or a running one) sends them; with Redis the worker does."""
    from contest.domain import outbox as jobs
    from contest.domain.audit import SYSTEM

    if not ids and not every:
        raise click.UsageError("name the job ids, or give --all")

    async def go() -> int:
        pool = None
        if get_redis_url():
            from contest.worker import REDIS_FAULTS, connect

            try:
                pool = await connect(get_redis_url())
                jobs.use_arq(pool)
            except REDIS_FAULTS:
                click.echo("Redis is not answering: the worker's sweeper sends the jobs once it is back")
        try:
            return await jobs.resend_failed(actor=SYSTEM, ids=None if every else list(ids))
        finally:
            await jobs.settle()
            jobs.use_arq(None)
            if pool is not None:
                await pool.aclose()

    click.echo(f"{_run(with_db(go()))} jobs sent again")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--verify", is_flag=True, help="Check an existing backup against its manifest instead.")
def backup(directory: Path, verify: bool) -> None:
    """Back up the database and every stored file into DIRECTORY (new or empty), with a manifest
    of SHA-256 sums; or, with --verify, check a backup (exit 1 if anything differs)."""
    from contest.backup import BackupError, describe, make_backup, read_manifest, verify_backup

    try:
        if verify:
            report = verify_backup(directory)
            for problem in report.problems:
                click.echo(f"BROKEN {problem}")
            click.echo(f"{report.checked} files checked: " + ("backup intact" if report.ok else "backup BROKEN"))
            click.echo(describe(read_manifest(directory)))
            if not report.ok:
                sys.exit(1)
            return
        manifest = _run(with_db(make_backup(directory)))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up into {directory}: {describe(manifest)}")


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database without asking.")
def restore(directory: Path, yes: bool) -> None:
    """Restore a backup made by `contest backup`: the database (replacing the current one; stop
    the web app and the worker first) and every stored file, each read back and compared."""
    from contest.backup import BackupError, describe, read_manifest, restore_backup

    try:
        manifest = read_manifest(directory)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    if not yes:
        click.confirm(f"Replace the current database and files with {describe(manifest)}?", abort=True)
    try:
        report = _run(restore_backup(directory))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in report.problems:
        click.echo(f"BROKEN {problem}")
    click.echo(f"restored {describe(manifest)}; {report.checked} objects read back: "
               + ("all match" if report.ok else "SOME DIFFER"))
    if not report.ok:
        sys.exit(1)


def get_redis_url() -> str | None:
    from contest.settings import get_settings

    return get_settings().redis_url


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the audit hash chain and every published results snapshot (its SHA-256, the hash the
    chain's publish event recorded, and the outcomes stored on the entries); exit 1 and say where
    they break if not."""
    from contest.domain.announcement import verify_snapshots
    from contest.domain.audit import verify_chain

    async def both():
        return await verify_chain(), await verify_snapshots()

    report, snapshot_problems = _run(with_db(both()))
    failed = False
    if report.ok:
        click.echo(f"audit chain intact: {report.events} events")
    else:
        click.echo(f"audit chain BROKEN at event {report.broken_at_seq}: {report.reason} "
                   f"({report.events} events verified before it)")
        failed = True
    for problem in snapshot_problems:
        thai, english = problem.text("th"), problem.text("en")
        click.echo(f"results snapshot BROKEN: {thai}" + (f" / {english}" if english != thai else ""))
        failed = True
    if not snapshot_problems:
        click.echo("results snapshots intact")
    if failed:
        sys.exit(1)


@main.group()
def evidence() -> None:
    """Evidence packs of entries."""


@evidence.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--snapshot", "snapshot_sha256", default=None,
              help="The SHA-256 of the published results (the results page and open data show it).")
def evidence_verify(file: Path, snapshot_sha256: str | None) -> None:
    """Check an entry's evidence pack offline: every file against manifest.json, the results
    snapshot against the published SHA-256, each round's rules against its hash and each audit
    event against its hash. Exit 1 and say what is wrong if anything is."""
    from contest.evidence_verify import verify_pack
    from contest.i18n import both

    report = verify_pack(file, snapshot_sha256)
    for problem in report.problems:
        click.echo(problem.text())
    if not report.ok:
        click.echo(both("The evidence pack FAILED the check: {n} problems.", n=len(report.problems)))
        sys.exit(1)
    click.echo(both("The evidence pack is intact: {n} files match the manifest; the results snapshot is {sha}.",
                    n=report.files, sha=report.snapshot_sha256 or "-"))


@main.group()
def retention() -> None:
    """Personal data retention (PDPA)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
def retention_run(dry_run: bool) -> None:
    """Delete the personal data whose retention period has ended: files of entries that were not
    shortlisted, old sessions and tokens, rate-limit counters and mail files."""
    from contest.domain.retention import run_retention

    report = _run(with_db(run_retention(dry_run=dry_run)))
    verb = "would delete" if dry_run else "deleted"
    for f in report.files:
        click.echo(f"{verb} file {f.attachment_id} of entry {f.entry_id} (edition {f.edition_year}): "
                   f"{f.name}, {f.size} bytes, sha256 {f.sha256}")
    for name, count in report.counts().items():
        click.echo(f"{verb} {count} {name.replace('_', ' ')}")


@main.command()
def previews() -> None:
    """Make the missing previews of images that passed their check (the showcase shows
    previews only; the check job makes them for new uploads)."""
    from contest import jobs
    from contest.tables import Attachment
    from uploads.checks import CheckState

    async def make_all() -> int:
        rows = await Attachment.select(Attachment.id, Attachment.storage_key).where(
            (Attachment.check_state == CheckState.passed) & Attachment.thumbnail_key.is_null()
            & Attachment.deleted_at.is_null() & Attachment.purged_at.is_null()
            & Attachment.content_type.like("image/%")).order_by(Attachment.id)
        return sum([await jobs.make_preview(r["id"], r["storage_key"]) is not None for r in rows])

    click.echo(f"{_run(with_db(make_all()))} previews made")


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=None)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web app with granian."""
    from granian import Granian
    from granian.constants import Interfaces

    from contest.operations import logging_config, workers_start_together
    from contest.settings import get_settings

    settings = get_settings()
    count = workers or settings.workers
    with workers_start_together(count):
        # A worker that dies (killed, out of memory) is replaced; its siblings go on serving.
        Granian("contest.app:create_app", factory=True, interface=Interfaces.ASGI,
                address=host or settings.host, port=port or settings.port,
                workers=count, respawn_failed_workers=True, log_access=False,
                log_dictconfig=logging_config()).serve()


@main.command()
@click.option("--burst", is_flag=True, help="Run the jobs queued now, then stop.")
def worker(burst: bool) -> None:
    """Run the arq worker (needs REDIS_URL). It outlives Redis: when Redis stops or stalls, it
    connects again with a growing pause instead of exiting."""
    from contest.settings import get_settings
    from contest.worker import run_resilient

    if not get_settings().redis_url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run inside `contest serve`.")
    run_resilient(burst=burst)


if __name__ == "__main__":
    main()
