"""The audit trail: every state change appends an event whose hash chains to the previous one.

``append_event`` must be called inside the transaction of the change it records, so the event
and the change commit or roll back together. On PostgreSQL an advisory transaction lock
serialises appenders; on SQLite the IMMEDIATE write transaction already does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from contest import clock
from contest.db import engine
from contest.tables import AuditEvent

GENESIS = "0" * 64
_AUDIT_LOCK_KEY = 7_850_2569  # any constant: one lock for the whole chain


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, *, seq: int, at: str, actor_id: int | None, actor_email: str,
               action: str, subject_type: str, subject_id: str, before: str, after: str) -> str:
    body = canonical_json({
        "seq": seq, "at": at, "actor_id": actor_id, "actor_email": actor_email,
        "action": action, "subject_type": subject_type, "subject_id": subject_id,
        "before": before, "after": after,
    })
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who did it. ``id`` is None for the system (CLI, jobs, demo data).

    ``organisation_id`` is the organisation the account acts for: set only once its membership
    is verified. Until then the organisation it asked to join is ``pending_organisation_id``."""

    id: int | None
    email: str = ""
    role: str = "system"
    organisation_id: int | None = None
    pending_organisation_id: int | None = None
    #: Signed in with a second factor in this request (admins and committee members must be).
    two_factor: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role in {"admin", "system"}


SYSTEM = Actor(id=None, email="system", role="system")


async def append_event(*, actor: Actor, action: str, subject_type: str, subject_id: Any,
                       before: Any = None, after: Any = None) -> str:
    """Append one audit event to the chain (inside the caller's transaction); returns its hash."""
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.run_ddl(f"SELECT pg_advisory_xact_lock({_AUDIT_LOCK_KEY})")
    last = await AuditEvent.select(AuditEvent.seq, AuditEvent.hash).order_by(
        AuditEvent.seq, ascending=False).limit(1).first()
    seq = (last["seq"] + 1) if last else 1
    prev_hash = last["hash"] if last else GENESIS
    at = clock.utc_iso(clock.now())
    before_text, after_text = canonical_json(before), canonical_json(after)
    digest = event_hash(prev_hash, seq=seq, at=at, actor_id=actor.id, actor_email=actor.email,
                        action=action, subject_type=subject_type, subject_id=str(subject_id),
                        before=before_text, after=after_text)
    await AuditEvent.insert(AuditEvent(
        seq=seq, at=at, actor_id=actor.id, actor_email=actor.email, action=action,
        subject_type=subject_type, subject_id=str(subject_id), before=before_text,
        after=after_text, prev_hash=prev_hash, hash=digest,
    ))
    return digest


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    broken_at_seq: int | None = None
    reason: str = ""


async def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Recompute every hash in order; report the first event where the chain breaks."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    while True:
        rows = await AuditEvent.select().where(AuditEvent.seq >= expected_seq).order_by(
            AuditEvent.seq).limit(batch_size)
        if not rows:
            return ChainReport(ok=True, events=count)
        for row in rows:
            if row["seq"] != expected_seq:
                return ChainReport(False, count, expected_seq,
                                   f"event {expected_seq} is missing (next is {row['seq']})")
            if row["prev_hash"] != prev_hash:
                return ChainReport(False, count, row["seq"],
                                   "prev_hash does not match the previous event's hash")
            digest = event_hash(prev_hash, seq=row["seq"], at=row["at"], actor_id=row["actor_id"],
                                actor_email=row["actor_email"], action=row["action"],
                                subject_type=row["subject_type"], subject_id=row["subject_id"],
                                before=row["before"], after=row["after"])
            if digest != row["hash"]:
                return ChainReport(False, count, row["seq"],
                                   "content does not match its hash (the event was altered)")
            prev_hash, expected_seq, count = row["hash"], expected_seq + 1, count + 1
