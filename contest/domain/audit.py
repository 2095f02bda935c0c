"""The audit trail: every state change appends an event whose hash chains to the previous one.

``append_event`` must be called inside the transaction of the change it records, so the event
and the change commit or roll back together. On PostgreSQL an advisory transaction lock
serialises appenders; on SQLite the IMMEDIATE write transaction already does.

Personal data is sealed, not hashed. The actor's email and every value under a personal key
(``email``, ``name``, ``contact_phone``, …) anywhere in ``before``/``after`` enter the hash only
as a commitment, SHA-256(event salt + value), kept in the event's ``pii`` column. Verifying
recomputes each commitment from the stored value, so changing an email breaks the chain as
changing anything else does. Erasing a person replaces their values with ``erased:<pseudonym>``;
for those the stored commitment is used, so the chain still verifies and no longer holds who
they were.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from contest import clock
from contest.db import engine, fetch
from contest.tables import AuditEvent

GENESIS = "0" * 64
#: The chain's one lock on PostgreSQL, taken by the database's trigger ``audit_chain_on_commit``
#: (its migration writes this number).
_AUDIT_LOCK_KEY = 7_850_2569


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


#: Keys whose string values are personal data wherever they appear in an event's payload.
PERSONAL_KEYS = frozenset({"email", "name", "user_email", "user_name", "contact_name", "contact_email",
                           "contact_phone", "to", "proposed_by", "decided_by", "phone"})
#: How an erased value reads: ``erased:<pseudonym>``.
ERASED = "erased:"


def commitment(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()


def _seal(value: Any, path: str, seal: Callable[[str, str], str]) -> Any:
    """``value`` with every personal string replaced by ``seal(path, value)``."""
    if isinstance(value, dict):
        return {k: (seal(f"{path}.{k}", v) if k in PERSONAL_KEYS and isinstance(v, str)
                    else _seal(v, f"{path}.{k}", seal)) for k, v in value.items()}
    if isinstance(value, list):
        return [_seal(v, f"{path}[{i}]", seal) for i, v in enumerate(value)]
    return value


def sealed_hash(prev_hash: str, row: dict[str, Any], salt: str, kept: dict[str, str],
                made: dict[str, str] | None = None) -> str:
    """The hash of an event whose personal values enter only as commitments. ``kept`` holds the
    commitments recorded when it was appended (used for erased values); commitments computed
    now are written to ``made`` when given."""
    body = _sealed_body(row, salt, kept, made)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _sealed_body(row: dict[str, Any], salt: str, kept: dict[str, str], made: dict[str, str] | None) -> str:
    """The canonical text an event's hash covers after its predecessor's hash."""
    def seal(path: str, value: str) -> str:
        if value.startswith(ERASED) and path in kept:
            digest = kept[path]
        else:
            digest = commitment(salt, value)
        if made is not None:
            made[path] = digest
        return "sealed:" + digest

    return canonical_json({
        "seq": row["seq"], "at": row["at"], "actor_id": row["actor_id"],
        "actor": seal("actor_email", row["actor_email"]),
        "action": row["action"], "subject_type": row["subject_type"], "subject_id": row["subject_id"],
        "before": canonical_json(_seal(json.loads(row["before"]), "before", seal)),
        "after": canonical_json(_seal(json.loads(row["after"]), "after", seal)),
    })


#: Stands for the event's ``seq`` in its canonical body while the number is not known yet. A
#: payload is a JSON string inside the body, its quotes escaped, so only the top-level key's
#: value can read ``"seq":"<this>"``.
_SEQ_MARK = "\x00seq\x00"


def sealed_body_around_seq(row: dict[str, Any], salt: str) -> tuple[str, str, str]:
    """An event's canonical body split around its ``seq`` number (which the database fills in
    when it appends the event after the chain's last) as ``(head, tail, pii)``, ``pii`` being its
    column: the event's hash is SHA-256(prev_hash + head + str(seq) + tail), as
    :func:`sealed_hash` computes it."""
    made: dict[str, str] = {}
    body = _sealed_body({**row, "seq": _SEQ_MARK}, salt, {}, made)
    head, sep, tail = body.partition(f'"seq":{canonical_json(_SEQ_MARK)}')
    if not sep or sep in tail:  # pragma: no cover - the key is written once, at the top level
        raise ValueError("an event's body must name its seq once")
    return head + '"seq":', tail, canonical_json({"salt": salt, "commitments": made})


def sealed_event(row: dict[str, Any]) -> dict[str, Any]:
    """An event as its hash sees it: every personal value replaced by its sealed commitment, with
    ``prev_hash`` and ``hash``. Anyone can recompute the hash from this alone
    (``sealed_event_hash``) and learns no personal value from it."""
    pii = json.loads(row["pii"] or "{}")
    salt, kept = pii.get("salt", ""), pii.get("commitments", {})

    def seal(path: str, value: str) -> str:
        digest = kept[path] if value.startswith(ERASED) and path in kept else commitment(salt, value)
        return "sealed:" + digest

    return {"seq": row["seq"], "at": row["at"], "actor_id": row["actor_id"],
            "actor": seal("actor_email", row["actor_email"]),
            "action": row["action"], "subject_type": row["subject_type"], "subject_id": row["subject_id"],
            "before": _seal(json.loads(row["before"]), "before", seal),
            "after": _seal(json.loads(row["after"]), "after", seal),
            "prev_hash": row["prev_hash"], "hash": row["hash"]}


def sealed_event_hash(event: dict[str, Any]) -> str:
    """The hash a sealed event (``sealed_event``) must carry: the chain's own rule."""
    body = canonical_json({
        "seq": event["seq"], "at": event["at"], "actor_id": event["actor_id"], "actor": event["actor"],
        "action": event["action"], "subject_type": event["subject_type"], "subject_id": event["subject_id"],
        "before": canonical_json(event["before"]), "after": canonical_json(event["after"]),
    })
    return hashlib.sha256((event["prev_hash"] + body).encode("utf-8")).hexdigest()


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The hash an event row must carry after ``prev_hash`` (its ``pii`` column as stored)."""
    pii = json.loads(row["pii"] or "{}")
    return sealed_hash(prev_hash, row, pii.get("salt", ""), pii.get("commitments", {}))


def seal_event(prev_hash: str, row: dict[str, Any]) -> tuple[str, str]:
    """A fresh salt and commitments for an event: (its hash, its ``pii`` column)."""
    salt = secrets.token_hex(16)
    made: dict[str, str] = {}
    digest = sealed_hash(prev_hash, row, salt, {}, made)
    return digest, canonical_json({"salt": salt, "commitments": made})


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


SYSTEM = Actor(id=None, email="system", role="system")


async def append_event(*, actor: Actor, action: str, subject_type: str, subject_id: Any,
                       before: Any = None, after: Any = None) -> str:
    """Append one audit event to the chain (inside the caller's transaction); returns its hash,
    on PostgreSQL only once the transaction commits (an empty string here)."""
    if isinstance(engine(), PostgresEngine):
        await _append_on_postgres(actor=actor, action=action, subject_type=subject_type,
                                  subject_id=subject_id, before=before, after=after)
        return ""
    rows = await fetch(_LAST_EVENT)
    last = rows[0] if rows else None
    seq = (last["seq"] + 1) if last else 1
    prev_hash = last["hash"] if last else GENESIS
    row = {"seq": seq, "at": clock.utc_iso(clock.now()), "actor_id": actor.id, "actor_email": actor.email,
           "action": action, "subject_type": subject_type, "subject_id": str(subject_id),
           "before": canonical_json(before), "after": canonical_json(after)}
    digest, pii = seal_event(prev_hash, row)
    await fetch(_INSERT_EVENT, row["seq"], row["at"], row["actor_id"], row["actor_email"], row["action"],
                row["subject_type"], row["subject_id"], row["before"], row["after"], prev_hash, digest, pii)
    return digest


async def _append_on_postgres(*, actor: Actor, action: str, subject_type: str, subject_id: Any,
                              before: Any, after: Any) -> None:
    """:func:`append_event` on PostgreSQL: the event is sealed here and written unchained; the
    database chains it when the transaction commits (the trigger ``audit_chain_on_commit``, see
    its migration), under the chain's lock, which is then held only while the commit runs.
    Until the commit the row reads ``seq`` below zero and no hash."""
    row = {"at": clock.utc_iso(clock.now()), "actor_id": actor.id, "actor_email": actor.email,
           "action": action, "subject_type": subject_type, "subject_id": str(subject_id),
           "before": canonical_json(before), "after": canonical_json(after)}
    head, tail, pii = sealed_body_around_seq(row, secrets.token_hex(16))
    await fetch(_APPEND_UNCHAINED, row["at"], row["actor_id"], row["actor_email"], row["action"],
                row["subject_type"], row["subject_id"], row["before"], row["after"],
                json.dumps({"pii": pii, "head": head, "tail": tail}, ensure_ascii=False))


# The statements every change runs, as fixed SQL (no query object built per event).
_APPEND_UNCHAINED = (
    'INSERT INTO audit_event ("id", "seq", "at", "actor_id", "actor_email", "action", "subject_type", '
    '"subject_id", "before", "after", "prev_hash", "hash", "pii") '
    "SELECT n.id, -n.id, {}::varchar, {}::integer, {}::varchar, {}::varchar, {}::varchar, {}::varchar, {}::text, "
    "{}::text, '', '', {}::text FROM (SELECT nextval(pg_get_serial_sequence('audit_event', 'id')) AS id) AS n")
_LAST_EVENT = 'SELECT "seq", "hash" FROM audit_event ORDER BY "seq" DESC LIMIT 1'
_INSERT_EVENT = ('INSERT INTO audit_event ("seq", "at", "actor_id", "actor_email", "action", "subject_type", '
                 '"subject_id", "before", "after", "prev_hash", "hash", "pii") '
                 "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})")


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
            try:
                intact = row_hash(prev_hash, row) == row["hash"]
            except (ValueError, TypeError, AttributeError):  # a payload that is no longer JSON
                intact = False
            if not intact:
                return ChainReport(False, count, row["seq"],
                                   "content does not match its hash (the event was altered)")
            prev_hash, expected_seq, count = row["hash"], expected_seq + 1, count + 1


def _erase_values(value: Any, wanted: Callable[[str], bool], pseudonym: str) -> Any:
    if isinstance(value, dict):
        return {k: (f"{ERASED}{pseudonym}" if k in PERSONAL_KEYS and isinstance(v, str) and wanted(v)
                    else _erase_values(v, wanted, pseudonym)) for k, v in value.items()}
    if isinstance(value, list):
        return [_erase_values(v, wanted, pseudonym) for v in value]
    return value


async def erase_person(*, user_id: int | None, values: list[str], pseudonym: str) -> int:
    """Replace a person's email, name and the like in every audit event by ``erased:<pseudonym>``
    (inside the caller's transaction). The sealed commitments stay, so the chain still verifies.
    Returns how many events changed."""
    targets = {v.strip().lower() for v in values if v and v.strip()}

    def wanted(text: str) -> bool:
        return text.strip().lower() in targets

    changed = 0
    last_seq = 0
    while True:
        rows = await AuditEvent.select(AuditEvent.id, AuditEvent.seq, AuditEvent.actor_id, AuditEvent.actor_email,
                                       AuditEvent.before, AuditEvent.after).where(
            AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(2000)
        if not rows:
            return changed
        for row in rows:
            last_seq = row["seq"]
            update: dict[Any, Any] = {}
            if (user_id is not None and row["actor_id"] == user_id) or wanted(row["actor_email"]):
                if not row["actor_email"].startswith(ERASED):
                    update[AuditEvent.actor_email] = f"{ERASED}{pseudonym}"
            for column in (AuditEvent.before, AuditEvent.after):
                text = row[column._meta.name]
                if not any(t in text.lower() for t in targets):
                    continue
                erased = canonical_json(_erase_values(json.loads(text), wanted, pseudonym))
                if erased != text:
                    update[column] = erased
            if update:
                await AuditEvent.update(update).where(AuditEvent.id == row["id"])
                changed += 1


async def seal_existing_chain() -> dict[str, Any]:
    """Re-chain events written before personal data was sealed: give each a salt and
    commitments and recompute every hash in order. Returns the old chain's head and whether it
    verified under the old rule (hashing the values themselves), for the record."""
    def old_hash(prev: str, row: dict[str, Any]) -> str:
        body = canonical_json({
            "seq": row["seq"], "at": row["at"], "actor_id": row["actor_id"], "actor_email": row["actor_email"],
            "action": row["action"], "subject_type": row["subject_type"], "subject_id": row["subject_id"],
            "before": row["before"], "after": row["after"]})
        return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()

    old_prev, new_prev, verified, events, old_head = GENESIS, GENESIS, True, 0, GENESIS
    last_seq = 0
    while True:
        rows = await AuditEvent.select().where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(2000)
        if not rows:
            break
        for row in rows:
            last_seq = row["seq"]
            if row["pii"] not in ("", "{}", None):  # already sealed
                new_prev = row["hash"]
                continue
            verified = verified and row["prev_hash"] == old_prev and old_hash(old_prev, row) == row["hash"]
            old_prev = old_head = row["hash"]
            digest, pii = seal_event(new_prev, row)
            await AuditEvent.update({AuditEvent.prev_hash: new_prev, AuditEvent.hash: digest,
                                     AuditEvent.pii: pii}).where(AuditEvent.id == row["id"])
            new_prev, events = digest, events + 1
    return {"events": events, "previous_head": old_head, "previous_chain_verified": verified}
