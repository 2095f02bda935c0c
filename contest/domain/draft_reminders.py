"""Reminders to organisations whose entries are still drafts while submissions are open.

An organiser sends them from the edition cockpit, to every such organisation or to one. Each
reminder is a mail through the outbox to the organisation's verified members and to the contact
address written in its drafts. An organisation reminded less than a day ago is skipped (so a
second click, or two organisers at once, mail nobody twice); the outbox rows themselves record
when: their dedupe key is ``drafts-remind:<edition>:<organisation>:<UTC time>:<recipient>``.
Each sending is one audit event naming the organisations (by code, no personal data).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from contest import clock
from contest.db import atomic
from contest.domain import outbox
from contest.domain.audit import Actor, append_event
from contest.domain.editions import get_edition
from contest.enums import EntryState, MembershipState
from contest.errors import Conflict, ValidationFailed
from contest.i18n import format_date, mail_text, t
from contest.rules import require_organiser
from contest.settings import get_settings
from contest.tables import Entry, Membership, Organisation, Outbox

#: An organisation is not reminded again within this long.
QUIET_PERIOD = timedelta(days=1)
_STAMP = "%Y%m%dT%H%M%SZ"


def _prefix(edition_id: int) -> str:
    return f"drafts-remind:{edition_id}:"


@dataclass(frozen=True)
class ReminderReport:
    reminded: list[str] = field(default_factory=list)  # organisation codes mailed now
    recently: list[str] = field(default_factory=list)  # reminded less than a day ago: skipped
    unreachable: list[str] = field(default_factory=list)  # no verified member and no contact address


async def recent_reminders(edition_id: int) -> dict[int, datetime]:
    """Organisation id -> when it was last reminded, for reminders less than a day old."""
    since = clock.now() - QUIET_PERIOD
    rows = await Outbox.select(Outbox.dedupe_key).where(Outbox.dedupe_key.like(_prefix(edition_id) + "%"))
    out: dict[int, datetime] = {}
    for row in rows:
        parts = str(row["dedupe_key"]).split(":")
        try:
            organisation_id, at = int(parts[2]), datetime.strptime(parts[3], _STAMP).replace(tzinfo=UTC)
        except (IndexError, ValueError):
            continue
        if at > since and at > out.get(organisation_id, since):
            out[organisation_id] = at
    return out


async def _drafts_by_organisation(edition_id: int, organisation_ids: Sequence[int] | None
                                  ) -> dict[int, list[dict[str, str]]]:
    """The edition's drafts (title, contact address) per organisation, of every organisation or of
    those in ``organisation_ids`` (each must have one: a validation error otherwise)."""
    drafts = await Entry.select(Entry.organisation, Entry.title, Entry.contact_email).where(
        (Entry.edition == edition_id) & (Entry.state == EntryState.draft)).order_by(Entry.id)
    by_org: dict[int, list[dict[str, str]]] = {}
    for d in drafts:
        by_org.setdefault(d["organisation"], []).append(d)
    if organisation_ids is not None:
        unknown = [i for i in organisation_ids if i not in by_org]
        if unknown or not organisation_ids:
            raise ValidationFailed(errors={"organisation": t(
                "This organisation has no draft in this edition (it may have just submitted).")})
        by_org = {i: by_org[i] for i in organisation_ids}
    return by_org


def _reminder_text(organisation: str, entries: list[dict[str, str]], closes_at: datetime, url: str) -> str:
    """The reminder in Thai, then in English below a rule, each with the deadline in its language."""
    titles = "\n".join(f"- {e['title'] or '-'}" for e in entries)
    return "\n----\n\n".join(
        t("Dear {organisation},\n\nThese entries of yours are still drafts: they take part only once "
          "submitted.\n{titles}\n\nSubmissions close on {deadline}. Submit them here: {url}\n", lang,
          organisation=organisation, titles=titles, deadline=format_date(closes_at, language=lang), url=url)
        for lang in ("th", "en"))


async def remind_drafts(*, actor: Actor, year: int, organisation_ids: Sequence[int] | None = None) -> ReminderReport:
    """Mail the organisations with drafts in the edition (all of them, or those in
    ``organisation_ids``) that nobody reminded in the last day. Refused once submissions have
    closed; an organisation without drafts in the edition is a validation error."""
    require_organiser(actor)
    edition = await get_edition(year, include_draft=True)
    if clock.now() >= edition.submission_closes_at:
        raise Conflict("Submissions for edition {year} have closed: there is nothing to remind of.",
                       code="submissions_closed", year=year)
    by_org = await _drafts_by_organisation(edition.id, organisation_ids)
    recent = await recent_reminders(edition.id)
    wanted = [i for i in by_org if i not in recent]
    orgs = {o["id"]: o for o in await Organisation.select(Organisation.id, Organisation.code, Organisation.name_th)
            .where(Organisation.id.is_in(wanted or [0]))}
    members: dict[int, set[str]] = {}
    for m in await Membership.select(Membership.organisation, Membership.user.email).where(
            Membership.organisation.is_in(wanted or [0]) & (Membership.state == MembershipState.verified)):
        members.setdefault(m["organisation"], set()).add(m["user.email"])
    stamp = clock.now().astimezone(UTC).strftime(_STAMP)
    url = f"{get_settings().base_url}/entries"
    reminded, unreachable = [], []
    jobs: list[int] = []
    async with atomic():
        for organisation_id in wanted:
            org = orgs[organisation_id]
            entries = by_org[organisation_id]
            to = set(members.get(organisation_id, set())) | {e["contact_email"] for e in entries if e["contact_email"]}
            if not to:
                unreachable.append(org["code"])
                continue
            text = _reminder_text(org["name_th"], entries, edition.submission_closes_at, url)
            subject = mail_text("Reminder: submit your entry to {title} before the deadline", title=edition.title)
            items = []
            for address in sorted(to):
                recipient = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
                items.append(({"to": address, "subject": subject, "text": text},
                              f"{_prefix(edition.id)}{organisation_id}:{stamp}:{recipient}"))
            jobs.extend(await outbox.add_jobs("send_mail", items))
            reminded.append(org["code"])
        skipped = [i for i in by_org if i in recent]
        recently = await Organisation.select(Organisation.code).where(Organisation.id.is_in(skipped or [0]))
        report = ReminderReport(reminded=sorted(reminded), recently=sorted(str(o["code"]) for o in recently),
                                unreachable=sorted(unreachable))
        await append_event(actor=actor, action="edition.remind_drafts", subject_type="edition", subject_id=year,
                           after={"reminded": report.reminded, "recently_reminded": report.recently,
                                  "unreachable": report.unreachable})
    await outbox.dispatch(jobs)
    return report
