"""Database side of the deadline benchmark, run in a subprocess whose environment already names
the throw-away database (``VAR_DIR``, ``DATABASE_URL``)::

    python -m bench.deadline.db_tasks seed N PASSWORD    # N organisations, N applicants, edition 2569
    python -m bench.deadline.db_tasks dump               # JSON facts for the verification
    python -m bench.deadline.db_tasks hashes             # every live file read back from the storage

Seeding goes through the domain functions except for the users: argon2-hashing N passwords
would dominate the set-up, so ONE password is hashed and the rows are bulk-inserted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from datetime import timedelta
from typing import Any

YEAR = 2569
BATCH = 500  # well under asyncpg's 32,767 parameters and SQLite's variable limit


def org_code(i: int) -> str:
    return f"59{i:05d}"


def applicant_email(i: int) -> str:
    return f"org{i:05d}@bench.go.th"


async def seed(n: int, password: str) -> None:
    from bench.signin import accept_privacy_notice
    from contest import clock
    from contest.domain import accounts, editions, organisations
    from contest.domain.audit import SYSTEM
    from contest.domain.registry import OrgRecord
    from contest.tables import Membership, Organisation, User

    records = [OrgRecord(code=org_code(i), name_th=f"องค์การบริหารส่วนตำบลทดสอบ{i}", name_en=f"Bench SAO {i}",
                         kind="sao", province_code="50", province_name_th="เชียงใหม่",
                         province_name_en="Chiang Mai", district_code="5001", district_name_th="เมืองเชียงใหม่",
                         district_name_en="Mueang Chiang Mai") for i in range(1, n + 1)]
    report = await organisations.import_organisations(records, actor=SYSTEM)
    assert report.created == n, report
    ids = {r["code"]: r["id"] for r in await Organisation.select(Organisation.id, Organisation.code)}
    password_hash = accounts.hash_password(password)
    now = clock.now()
    users = [User(email=applicant_email(i), name=f"Bench applicant {i}", password_hash=password_hash,
                  role="applicant", organisation=ids[org_code(i)], email_confirmed_at=now, is_active=True)
             for i in range(1, n + 1)]
    for start in range(0, len(users), BATCH):
        await User.insert(*users[start:start + BATCH])
    await accept_privacy_notice()
    # Each organisation's account is its verified member (as an operator's vouching makes it).
    members = await User.select(User.id, User.organisation).where(User.role == "applicant")
    rows = [Membership(user=m["id"], organisation=m["organisation"], state="verified", decided_at=now)
            for m in members]
    for start in range(0, len(rows), BATCH):
        await Membership.insert(*rows[start:start + BATCH])
    await editions.create_edition(actor=SYSTEM, data={
        "year": YEAR, "title": f"bench {YEAR}", "submission_opens_at": now - timedelta(days=1),
        "submission_closes_at": now + timedelta(days=20), "announcement_at": now + timedelta(days=90)})
    print(json.dumps({"organisations": n, "users": n}))


async def dump() -> None:
    """The deadline edition's entries, their files and receipts (a database may hold other editions),
    and whether the audit chain verifies."""
    from contest.domain.audit import verify_chain
    from contest.tables import Attachment, Entry, Receipt

    entries = await Entry.select(Entry.state, Entry.id).where(Entry.edition._.year == YEAR)
    attachments = await Attachment.select(Attachment.id, Attachment.entry, Attachment.name, Attachment.size,
                                          Attachment.sha256, Attachment.storage_key, Attachment.check_state,
                                          Attachment.deleted_at).where(Attachment.entry._.edition._.year == YEAR)
    receipts = await Receipt.select(Receipt.entry, Receipt.number, Receipt.files).where(
        Receipt.entry._.edition._.year == YEAR)

    def files(value: Any) -> list[dict[str, Any]]:
        return json.loads(value) if isinstance(value, str) else list(value or [])

    print(json.dumps({
        "entries": [{"id": e["id"], "state": e["state"]} for e in entries],
        "attachments": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in a.items()}
                        for a in attachments],
        "receipts": [{"entry": r["entry"], "number": r["number"], "files": files(r["files"])} for r in receipts],
        "audit": dataclasses.asdict(await verify_chain()),
    }))


async def hashes() -> None:
    """SHA-256 and size of every live attachment's object, read back from the storage the
    settings name (local folder or S3): {key: [sha256, size]}."""
    import hashlib

    from contest.storage import get_storage
    from contest.tables import Attachment

    storage = get_storage()
    keys = [a["storage_key"] for a in await Attachment.select(Attachment.storage_key).where(
        Attachment.deleted_at.is_null())]
    out: dict[str, list[Any]] = {}
    gate = asyncio.Semaphore(4)

    async def one(key: str) -> None:
        h, size = hashlib.sha256(), 0
        async with gate:
            async for chunk in storage.open_range(key):
                h.update(chunk)
                size += len(chunk)
        out[key] = [h.hexdigest(), size]

    await asyncio.gather(*(one(k) for k in keys))
    print(json.dumps(out))


def main(argv: list[str]) -> None:
    from contest.cli import with_db

    if argv[0] == "seed":
        asyncio.run(with_db(seed(int(argv[1]), argv[2])))
    elif argv[0] == "dump":
        asyncio.run(with_db(dump()))
    elif argv[0] == "hashes":
        asyncio.run(with_db(hashes()))
    else:
        raise SystemExit(f"unknown task {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
