"""Backups: a consistent copy of the database and of every stored file, with a manifest.

``contest backup DIR`` writes::

    DIR/manifest.json           what is in the backup, each file with its size and SHA-256
    DIR/database.sqlite3        SQLite's online backup (readers and writers carry on meanwhile)
    DIR/database.pgdump         or pg_dump's custom format, for PostgreSQL
    DIR/objects/ab/cd/<key>     every stored object under its own key

``contest backup --verify DIR`` reads every file back against the manifest;
``contest restore DIR`` verifies, then puts the database and the objects back and reads each
object back from the storage to compare it byte for byte (by SHA-256).

What lives in the database is in its copy, the signature images of the certificates among it.

The database is copied first, then the objects: every object the copied database names existed
when it was copied. Files a receipt lists are never deleted, so only a file removed from a
draft in between can be missing; it is listed in the manifest as ``missing``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import anyio

from contest import clock
from contest.settings import get_settings
from contest.storage import get_storage
from uploads.storage import ObjectNotFound, validate_key

MANIFEST = "manifest.json"
FORMAT = 1
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup cannot be made, or a backup is not sound; the message says why."""


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _database_kind(url: str) -> str:
    scheme = urlparse(url).scheme
    if scheme in {"postgres", "postgresql"}:
        return "postgres"
    if scheme == "sqlite":
        return "sqlite"
    raise BackupError(f"unsupported database: {scheme!r}")


def _sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///"):] if url.startswith("sqlite:///") else urlparse(url).path)


def pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore`` from PATH, else the newest of Debian's installed versions."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not candidates:
        raise BackupError(f"{name} is not installed (PostgreSQL client tools are needed)")
    return str(candidates[-1])


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while the database stays in use."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=4096)
        finally:
            dst.close()
    finally:
        src.close()


async def make_backup(directory: Path) -> dict[str, Any]:
    """Write a backup into ``directory`` (new or empty). Returns the manifest."""
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: back up into a new folder")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings = get_settings()
    kind = _database_kind(settings.database_url)
    if kind == "sqlite":
        db_file = directory / "database.sqlite3"
        await anyio.to_thread.run_sync(_copy_sqlite, _sqlite_path(settings.database_url), db_file)
    else:
        db_file = directory / "database.pgdump"
        await anyio.to_thread.run_sync(lambda: subprocess.run(
            [pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={db_file}", settings.database_url],
            check=True, capture_output=True, timeout=3600))
    db_size, db_sha = await anyio.to_thread.run_sync(_sha256_file, db_file)

    storage = get_storage()
    objects: list[dict[str, Any]] = []
    missing: list[str] = []
    for key in sorted(await storage.list_older_than(-3600)):  # every object, however new
        target = directory / "objects" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        try:
            async with await anyio.open_file(target, "wb") as out:
                async for chunk in storage.open_range(key):
                    digest.update(chunk)
                    size += len(chunk)
                    await out.write(chunk)
        except ObjectNotFound:
            target.unlink(missing_ok=True)
            missing.append(key)
            continue
        objects.append({"key": key, "size": size, "sha256": digest.hexdigest()})
    manifest = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "database": {"engine": kind, "file": db_file.name, "size": db_size, "sha256": db_sha},
        "objects": objects,
        "missing": missing,
        "object_count": len(objects),
        "object_bytes": sum(o["size"] for o in objects),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{directory} has no {MANIFEST}: not a backup") from exc
    except ValueError as exc:
        raise BackupError(f"{directory / MANIFEST} is not valid JSON") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def verify_backup(directory: Path) -> VerifyReport:
    """Read every file of the backup back and compare it with the manifest."""
    manifest = read_manifest(directory)
    report = VerifyReport()
    expected = [(manifest["database"]["file"], manifest["database"]["size"], manifest["database"]["sha256"])]
    for obj in manifest["objects"]:
        validate_key(obj["key"])
        expected.append((f"objects/{obj['key']}", obj["size"], obj["sha256"]))
    for name, size, sha in expected:
        path = directory / name
        report.checked += 1
        if not path.is_file():
            report.problems.append(f"{name}: missing")
            continue
        got_size, got_sha = _sha256_file(path)
        if (got_size, got_sha) != (size, sha):
            report.problems.append(f"{name}: changed (SHA-256 {got_sha[:16]}…, manifest {sha[:16]}…)")
    return report


async def restore_backup(directory: Path) -> VerifyReport:
    """Put a verified backup back: the database (replacing the current one) and every object;
    then read each object back from the storage and compare its SHA-256."""
    checked = await anyio.to_thread.run_sync(verify_backup, directory)
    if not checked.ok:
        raise BackupError("the backup does not match its manifest: " + "; ".join(checked.problems[:5]))
    manifest = read_manifest(directory)
    settings = get_settings()
    kind = _database_kind(settings.database_url)
    if kind != manifest["database"]["engine"]:
        raise BackupError(f"the backup holds a {manifest['database']['engine']} database, "
                          f"DATABASE_URL names {kind}")
    db_file = directory / manifest["database"]["file"]
    if kind == "sqlite":
        target = _sqlite_path(settings.database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Through SQLite's backup API into the target (its journal and WAL stay consistent).
        await anyio.to_thread.run_sync(_copy_sqlite, db_file, target)
    else:
        await anyio.to_thread.run_sync(lambda: subprocess.run(
            [pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
             f"--dbname={settings.database_url}", str(db_file)], check=True, capture_output=True, timeout=3600))

    storage = get_storage()
    report = VerifyReport()
    for obj in manifest["objects"]:
        key = validate_key(obj["key"])
        pending = await storage.write_as(key)
        try:
            async with await anyio.open_file(directory / "objects" / key, "rb") as fh:
                while chunk := await fh.read(_CHUNK):
                    await pending.write(chunk)
            await pending.commit()
        except BaseException:
            await pending.abort()
            raise
        digest = hashlib.sha256()
        async for chunk in storage.open_range(key):
            digest.update(chunk)
        report.checked += 1
        if digest.hexdigest() != obj["sha256"]:
            report.problems.append(f"{key}: restored bytes differ from the backup")
    return report


def describe(manifest: dict[str, Any]) -> str:
    db = manifest["database"]
    return (f"{db['engine']} database ({db['size']:,} bytes), {manifest['object_count']} objects "
            f"({manifest['object_bytes']:,} bytes)"
            + (f", {len(manifest['missing'])} removed while copying" if manifest.get("missing") else ""))


__all__ = ["BackupError", "describe", "make_backup", "read_manifest", "restore_backup", "verify_backup"]
