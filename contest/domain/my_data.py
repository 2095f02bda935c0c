"""Everything the system holds about the signed-in person (PDPA section 30, the right of access):
their account, memberships, sessions and devices, sign-in identities, the entries they wrote or
are the contact person of, the privacy notices they accepted and the consents they gave, their
erasure requests, the audit events about them and, from the
packages that hold more (judging: score sheets), what those register.

Only ever the caller's own data: there is no parameter naming a person.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from contest.db import stored_json
from contest.domain import erasure
from contest.domain.audit import Actor
from contest.errors import NotFound
from contest.tables import (
    Adoption,
    AuditEvent,
    AuthToken,
    Entry,
    EntryConsent,
    Identity,
    Membership,
    NoticeAcceptance,
    User,
)

#: (actor) -> {section name: data}. Packages that hold more personal data register one.
Source = Callable[[Actor], Awaitable[dict[str, Any]]]
_sources: list[Source] = []


def register_source(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


async def my_data(actor: Actor) -> dict[str, Any]:
    if actor.id is None:
        raise NotFound("No such account.")
    user = await User.select(User.id, User.email, User.name, User.role, User.locale, User.created_at,
                             User.email_confirmed_at, User.totp_enabled_at, User.organisation.code.as_alias(
                                 "organisation_code")).where(User.id == actor.id).first()
    if user is None:
        raise NotFound("No such account.")
    memberships = await Membership.select(
        Membership.id, Membership.organisation.code.as_alias("organisation_code"),
        Membership.organisation.name_th.as_alias("organisation_name_th"), Membership.state,
        Membership.requested_at, Membership.decided_at, Membership.reason, Membership.letter_name,
        Membership.letter_sha256).where(Membership.user == actor.id).order_by(Membership.id)
    sessions = await AuthToken.select(AuthToken.id, AuthToken.kind, AuthToken.user_agent, AuthToken.ip_address,
                                      AuthToken.created_at, AuthToken.last_seen_at, AuthToken.expires_at,
                                      AuthToken.revoked_at).where(AuthToken.user == actor.id).order_by(AuthToken.id)
    identities = await Identity.select(Identity.issuer, Identity.subject, Identity.created_at).where(
        Identity.user == actor.id)
    contact_entries = await Entry.select(
        Entry.id, Entry.title, Entry.state, Entry.edition.year.as_alias("year"), Entry.contact_name,
        Entry.contact_email, Entry.contact_phone).where(Entry.contact_email == user["email"]).order_by(Entry.id)
    written = [r["subject_id"] for r in await AuditEvent.select(AuditEvent.subject_id).where(
        (AuditEvent.actor_id == actor.id) & (AuditEvent.action == "entry.create"))]
    written_entries = await Entry.select(Entry.id, Entry.title, Entry.state, Entry.edition.year.as_alias("year")
                                         ).where(Entry.id.is_in([int(i) for i in written] or [0])).order_by(Entry.id)
    events = await AuditEvent.select(AuditEvent.seq, AuditEvent.at, AuditEvent.action, AuditEvent.subject_type,
                                     AuditEvent.subject_id, AuditEvent.after).where(
        (AuditEvent.actor_id == actor.id)
        | ((AuditEvent.subject_type == "user") & (AuditEvent.subject_id == str(actor.id)))
    ).order_by(AuditEvent.seq)
    notices = await NoticeAcceptance.select(NoticeAcceptance.version, NoticeAcceptance.accepted_at,
                                            NoticeAcceptance.how).where(NoticeAcceptance.user == actor.id
                                                                        ).order_by(NoticeAcceptance.id)
    consents = await EntryConsent.select(EntryConsent.entry, EntryConsent.granted, EntryConsent.given_at,
                                         EntryConsent.how).where(EntryConsent.given_by == actor.id
                                                                 ).order_by(EntryConsent.id)
    adoptions = await Adoption.select(
        Adoption.id, Adoption.entry, Adoption.state, Adoption.message, Adoption.requested_at,
        Adoption.answer_message, Adoption.answered_at,
        Adoption.requested_by.as_alias("requested_by_me"), Adoption.answered_by.as_alias("answered_by_me"),
    ).where((Adoption.requested_by == actor.id) | (Adoption.answered_by == actor.id)).order_by(Adoption.id)
    data: dict[str, Any] = {
        "account": {**dict(user), "two_factor": user["totp_enabled_at"] is not None},
        "memberships": [dict(m) for m in memberships],
        "sessions": [dict(s) for s in sessions],
        "identities": [dict(i) for i in identities],
        "entries_written": [dict(e) for e in written_entries],
        "entries_as_contact": [dict(e) for e in contact_entries],
        "privacy_notices_accepted": [dict(n) for n in notices],
        "consents_given": [dict(c) for c in consents],
        "erasure_requests": await erasure.my_requests(actor),
        "adoption_requests": [{**{k: v for k, v in a.items() if not k.endswith("_me")},
                               "asked_by_me": a["requested_by_me"] == actor.id,
                               "answered_by_me": a["answered_by_me"] == actor.id} for a in adoptions],
        "audit_events": [{**{k: v for k, v in e.items() if k != "after"}, "details": stored_json(e["after"], None)}
                         for e in events],
    }
    for source in _sources:
        data.update(await source(actor))
    return data
