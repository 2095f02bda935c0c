"""The audit trail as a timeline for administrators: newest first, filtered by who acted, the kind
of action, what it was done to and the days it happened (Bangkok days), a page at a time.

Only administrators read it. Events are shown as the trail holds them: nothing here changes an
event, and an erased person's values stay erased.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from contest import audit_labels, clock
from contest.db import contains
from contest.domain.audit import Actor
from contest.errors import PermissionDenied
from contest.rules import is_organiser
from contest.tables import AuditEvent

PAGE_SIZE = 50


@dataclass(frozen=True)
class TimelineFilter:
    actor: str = ""
    #: Action code prefixes ("entry", "attachment"): an entry of ``audit_labels.kind_choices``.
    kinds: tuple[str, ...] = ()
    subject_type: str = ""
    subject_id: str = ""
    #: Bangkok days, inclusive.
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class TimelineEvent:
    seq: int
    at: datetime
    actor: str
    action: str
    action_label: str
    subject_type: str
    subject_label: str
    subject_id: str
    changes: list[audit_labels.Change] = field(default_factory=list)


@dataclass(frozen=True)
class Timeline:
    events: list[TimelineEvent]
    total: int
    page: int
    pages: int


def _day_start(day: date) -> str:
    """The first instant of a Bangkok day, as the trail writes times (UTC text, compared as text)."""
    return clock.utc_iso(datetime.combine(day, time(0), tzinfo=clock.BANGKOK))


def _where(f: TimelineFilter) -> list[Any]:
    clauses: list[Any] = []
    if f.actor.strip():
        clauses.append(contains('"audit_event"."actor_email"', f.actor.strip()))
    if f.kinds:
        kind: Any = None
        for prefix in f.kinds:
            # codes "<prefix>.<verb>": from "<prefix>." up to "<prefix>/" ("/" follows "." in ASCII)
            clause = (AuditEvent.action >= f"{prefix}.") & (AuditEvent.action < f"{prefix}/")
            kind = clause if kind is None else kind | clause
        clauses.append(kind)
    if f.subject_type:
        clauses.append(AuditEvent.subject_type == f.subject_type)
    if f.subject_id.strip():
        clauses.append(AuditEvent.subject_id == f.subject_id.strip().lstrip("#"))
    if f.since is not None:
        clauses.append(AuditEvent.at >= _day_start(f.since))
    if f.until is not None:
        clauses.append(AuditEvent.at < _day_start(f.until + timedelta(days=1)))
    return clauses


def _event(row: dict[str, Any]) -> TimelineEvent:
    at = datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
    actor = row["actor_email"]
    if actor.startswith(audit_labels.ERASED_PREFIX):
        actor = audit_labels.value_text(actor)
    return TimelineEvent(
        seq=row["seq"], at=at, actor=actor, action=row["action"],
        action_label=audit_labels.action_label(row["action"]), subject_type=row["subject_type"],
        subject_label=audit_labels.subject_label(row["subject_type"]), subject_id=row["subject_id"],
        changes=audit_labels.changes(row["before"], row["after"]))


async def timeline(*, actor: Actor, filters: TimelineFilter, page: int = 1, per_page: int = PAGE_SIZE) -> Timeline:
    """One page of the filtered trail, newest first."""
    if not is_organiser(actor):
        raise PermissionDenied("Only administrators can read the audit trail.")
    clauses = _where(filters)
    count = AuditEvent.count()
    query = AuditEvent.select(AuditEvent.seq, AuditEvent.at, AuditEvent.actor_email, AuditEvent.action,
                              AuditEvent.subject_type, AuditEvent.subject_id, AuditEvent.before,
                              AuditEvent.after)
    for clause in clauses:
        count = count.where(clause)
        query = query.where(clause)
    total = await count
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = await query.order_by(AuditEvent.seq, ascending=False).limit(per_page).offset((page - 1) * per_page)
    return Timeline(events=[_event(r) for r in rows], total=total, page=page, pages=pages)
