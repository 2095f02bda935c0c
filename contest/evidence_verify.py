"""Checking an evidence pack offline (``contest evidence verify FILE.zip``): no database, no
network, only the ZIP and, when given, the SHA-256 of the published results that the public
results page and open data show.

What is checked, in order:

1. ``manifest.json`` is there and is a pack's manifest;
2. every file it lists is in the ZIP, with that size and that SHA-256, and the ZIP holds no
   other file;
3. the results snapshot in the pack hashes to the manifest's ``snapshot_sha256``, and that is the
   published hash given on the command line;
4. each round's ``rules.json`` hashes to the ``rules_hash`` its ``record.json`` states;
5. each audit event's hash is recomputed from its sealed form (the chain's own rule).

A problem is a message id with parameters (Thai in the catalogue), so the command prints each in
Thai and English.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contest.domain.audit import sealed_event_hash
from contest.i18n import both

MANIFEST = "manifest.json"
FORMAT = "dlg-evidence-pack"
EVENTS = "audit/events.json"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Problem:
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return both(self.message, **self.params)


@dataclass(frozen=True)
class Report:
    problems: list[Problem]
    files: int = 0
    snapshot_sha256: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256_of(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with archive.open(name) as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify_pack(path: Path | str, snapshot_sha256: str | None = None) -> Report:  # noqa: C901 - one short branch per check, in the order the docstring gives
    """Check the pack at ``path``; ``snapshot_sha256`` is the published results' SHA-256."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return Report([Problem("{file} is not a readable ZIP file.", {"file": str(path)})])
    with archive:
        names = set(archive.namelist())
        if MANIFEST not in names:
            return Report([Problem("The pack has no manifest.json.")])
        try:
            manifest = json.loads(archive.read(MANIFEST))
            listed = {f["path"]: f for f in manifest["files"]}
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile):
            return Report([Problem("manifest.json is not an evidence pack's manifest.")])
        if manifest.get("format") != FORMAT:
            return Report([Problem("manifest.json is not an evidence pack's manifest.")])
        problems: list[Problem] = []
        hashes: dict[str, str] = {}
        for name, entry in listed.items():
            if name not in names:
                problems.append(Problem("{path} is listed in the manifest but missing from the pack.", {"path": name}))
                continue
            try:
                found, size = _sha256_of(archive, name)
            except (zipfile.BadZipFile, OSError):
                problems.append(Problem("{path} is damaged: it cannot be read from the ZIP.", {"path": name}))
                continue
            hashes[name] = found
            if found != entry.get("sha256") or size != entry.get("size"):
                problems.append(Problem("{path} was changed: its SHA-256 is {found}, the manifest says {expected}.",
                                        {"path": name, "found": found, "expected": entry.get("sha256")}))
        for name in sorted(names - set(listed) - {MANIFEST}):
            problems.append(Problem("{path} is in the pack but not in the manifest.", {"path": name}))
        recorded = manifest.get("snapshot_sha256")
        snapshot_file = manifest.get("snapshot_file")
        if recorded and snapshot_file:
            if snapshot_file not in hashes and snapshot_file in names:
                hashes[snapshot_file] = _sha256_of(archive, snapshot_file)[0]
            if hashes.get(snapshot_file) != recorded:
                problems.append(Problem("The results snapshot in the pack does not hash to {sha}, the SHA-256 the "
                                        "manifest gives.", {"sha": recorded}))
        if snapshot_sha256:
            wanted = snapshot_sha256.strip().lower()
            if not recorded:
                problems.append(Problem("The pack holds no published results snapshot to compare with {sha}.",
                                        {"sha": wanted}))
            elif recorded != wanted:
                problems.append(Problem("The pack's results snapshot is {found}, not the published {sha}.",
                                        {"found": recorded, "sha": wanted}))
        problems.extend(_check_rules(archive, names))
        problems.extend(_check_events(archive, names))
        return Report(problems, files=len(listed), snapshot_sha256=recorded)


def _check_rules(archive: zipfile.ZipFile, names: set[str]) -> list[Problem]:
    problems = []
    for name in sorted(n for n in names if n.startswith("judging/") and n.endswith("/record.json")):
        rules_name = name.removesuffix("record.json") + "rules.json"
        try:
            record = json.loads(archive.read(name))
            rules_sha = hashlib.sha256(archive.read(rules_name)).hexdigest()
        except (KeyError, ValueError, zipfile.BadZipFile):
            problems.append(Problem("{path} or the rules beside it cannot be read.", {"path": name}))
            continue
        if record.get("rules_hash") and rules_sha != record["rules_hash"]:
            problems.append(Problem("{path} does not hash to the round's rules hash {sha}.",
                                    {"path": rules_name, "sha": record["rules_hash"]}))
    return problems


def _check_events(archive: zipfile.ZipFile, names: set[str]) -> list[Problem]:
    if EVENTS not in names:
        return []
    try:
        events = json.loads(archive.read(EVENTS))
    except (ValueError, zipfile.BadZipFile):
        return [Problem("{path} cannot be read.", {"path": EVENTS})]
    problems = []
    for event in events if isinstance(events, list) else []:
        try:
            intact = sealed_event_hash(event) == event["hash"]
        except (KeyError, TypeError):
            intact = False
        if not intact:
            problems.append(Problem("Audit event {seq} does not match its hash: it was altered.",
                                    {"seq": event.get("seq") if isinstance(event, dict) else "?"}))
    return problems
