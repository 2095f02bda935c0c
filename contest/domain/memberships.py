"""Who may act for an organisation.

An account asks to join an organisation and stays ``pending`` until someone who can vouch for it
approves: for the organisation's first member, a DGA admin reading the authorisation letter
(หนังสือมอบหมาย) signed by the head of the organisation and uploaded with the request; for later
members, a verified member of the same organisation or an admin. Until then the account sees
none of the organisation's entries. Verified members are told when someone asks to join and
when someone is approved, and can remove members. Every step is audited and every mail goes
through the outbox.

``User.organisation`` names the organisation the account acts for or has asked to join; the
membership row says whether it may act. An account belongs to at most one organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contest import clock, db
from contest.db import atomic, lock_row
from contest.domain import outbox
from contest.domain.audit import SYSTEM, Actor, append_event
from contest.enums import MembershipState, Role
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import mail_text, t
from contest.rules import is_admin
from contest.settings import get_settings
from contest.tables import Membership, Organisation, User
from uploads.checks import CheckState, CheckStates

#: The letter: one PDF, at most this size.
LETTER_MAX_BYTES = 10 * 1024 * 1024
LETTER_CONTENT_TYPE = "application/pdf"
OPEN_STATES = (MembershipState.pending, MembershipState.verified)


@dataclass(frozen=True)
class Standing:
    """What an account may do for its organisation right now."""

    organisation_id: int | None
    state: str | None  # pending / verified, or None without an open membership


async def standing(user_id: int, organisation_id: int | None) -> Standing:
    """The account's open membership of the organisation it names (one indexed lookup)."""
    if organisation_id is None:
        return Standing(None, None)
    row = await Membership.select(Membership.state).where(
        (Membership.user == user_id) & (Membership.organisation == organisation_id)
        & Membership.state.is_in(list(OPEN_STATES))).first()
    return Standing(organisation_id, row["state"] if row else None)


def acting_actor(*, user_id: int, email: str, role: str, organisation_id: int | None,
                 state: str | None) -> Actor:
    """The actor of a request: an applicant acts for its organisation only when verified."""
    if role == Role.applicant and organisation_id is not None and state != MembershipState.verified:
        return Actor(id=user_id, email=email, role=role, organisation_id=None,
                     pending_organisation_id=organisation_id)
    return Actor(id=user_id, email=email, role=role, organisation_id=organisation_id)


async def verified_member_emails(organisation_id: int) -> list[str]:
    rows = await Membership.select(Membership.user.email).where(
        (Membership.organisation == organisation_id) & (Membership.state == MembershipState.verified))
    return [r["user.email"] for r in rows]


async def _mail(to: list[str], subject: str, text: str, key: str) -> list[int | None]:
    """One mail job per address, recorded in one statement (each address deduplicated)."""
    return list(await outbox.add_jobs("send_mail", [({"to": address, "subject": subject, "text": text},
                                                     f"{key}:{address}") for address in to]))


async def has_verified_member(organisation_id: int) -> bool:
    return await Membership.exists().where(
        (Membership.organisation == organisation_id) & (Membership.state == MembershipState.verified))


@dataclass(frozen=True)
class Letter:
    """An authorisation letter already streamed to storage (see ``uploads.streaming``)."""

    name: str
    key: str
    size: int
    sha256: str
    content_type: str


def _check_letter(letter: Letter | None) -> None:
    if letter is None:
        return
    if letter.content_type != LETTER_CONTENT_TYPE:
        raise ValidationFailed(errors={"letter": t("The authorisation letter must be a PDF file.")},
                               code="letter_not_pdf")
    if letter.size > LETTER_MAX_BYTES:
        raise ValidationFailed(errors={"letter": t("The authorisation letter may be at most 10 MB.")},
                               code="letter_too_large")


async def _organisation(code: str) -> dict[str, Any]:
    org = await Organisation.select(Organisation.id, Organisation.code, Organisation.name_th).where(
        Organisation.code == (code or "").strip()).first()
    if org is None:
        raise NotFound("No such organisation in the registry.", code="organisation_not_found")
    return org


async def open_request(user_id: int, organisation_id: int, *,
                       actor: Actor | None = None) -> tuple[int, list[int | None]]:
    """Inside the caller's transaction: a pending membership for a new account (sign-up), and
    mails to the organisation's verified members. Returns the membership id and the jobs."""
    rows = await Membership.insert(Membership(user=user_id, organisation=organisation_id,
                                              state=MembershipState.pending)).returning(Membership.id)
    membership_id = rows[0]["id"]
    jobs = await _tell_members_of_request(membership_id, user_id, organisation_id)
    await append_event(actor=actor or SYSTEM, action="membership.request", subject_type="membership",
                       subject_id=membership_id, after={"organisation_id": organisation_id, "user_id": user_id})
    return membership_id, jobs


async def _tell_members_of_request(membership_id: int, user_id: int, organisation_id: int) -> list[int | None]:
    user = await db.existing(User.select(User.name, User.email).where(User.id == user_id))
    org = await db.existing(Organisation.select(Organisation.name_th).where(Organisation.id == organisation_id))
    members = await verified_member_emails(organisation_id)
    if not members:
        return []
    link = f"{get_settings().base_url}/organisation/members"
    subject = t("Someone asks to act for {organisation}", "th", organisation=org["name_th"])
    text = mail_text("{name} ({email}) asks to act for {organisation} in the Digital Local Government "
                      "contest. If they work there, approve them; if not, reject the request:\n{link}\n",
                      name=user["name"], email=user["email"], organisation=org["name_th"], link=link)
    return await _mail(members, subject, text, f"membership-request:{membership_id}")


async def request_membership(*, actor: Actor, organisation_code: str, letter: Letter | None = None) -> dict[str, Any]:
    """An account without an organisation asks to act for one, or adds the authorisation letter
    to its pending request. The organisation's first member is approved only with the letter
    (which may follow the request, as a sign-up form carries no file); later members need none."""
    if actor.id is None or actor.role != Role.applicant:
        raise PermissionDenied("Only organisation staff accounts can ask to join an organisation.",
                               code="applicant_only")
    _check_letter(letter)
    org = await _organisation(organisation_code)
    async with atomic():
        await lock_row("app_user", actor.id)
        user = await db.existing(User.select(User.organisation).where(User.id == actor.id))
        current = await standing(actor.id, user["organisation"])
        if current.state == MembershipState.verified:
            raise Conflict("You already act for an organisation.", code="already_member")
        if current.state == MembershipState.pending and user["organisation"] != org["id"]:
            raise Conflict("You already asked to join another organisation. Wait for its answer or ask "
                           "an administrator.", code="membership_pending")
        if current.state == MembershipState.pending:
            row = await db.existing(Membership.select().where(
                (Membership.user == actor.id) & (Membership.organisation == org["id"])
                & (Membership.state == MembershipState.pending)))
            if letter is None:
                raise Conflict("You already asked to join this organisation.", code="membership_pending")
            if row["letter_key"]:
                raise Conflict("The authorisation letter was already sent with this request.",
                               code="letter_already_sent")
            membership_id = row["id"]
            jobs: list[int | None] = []
        else:
            await User.update({User.organisation: org["id"]}).where(User.id == actor.id)
            membership_id, jobs = await open_request(actor.id, org["id"], actor=actor)
        if letter is not None:
            await Membership.update({
                Membership.letter_name: letter.name[:255], Membership.letter_key: letter.key,
                Membership.letter_size: letter.size, Membership.letter_sha256: letter.sha256,
                Membership.letter_check_state: CheckState.pending,
            }).where(Membership.id == membership_id)
            await append_event(actor=actor, action="membership.letter", subject_type="membership",
                               subject_id=membership_id,
                               after={"name": letter.name, "size": letter.size, "sha256": letter.sha256})
            jobs.append(await outbox.add_job("check_membership_letter", {"membership_id": membership_id},
                                             dedupe_key=f"check-letter:{membership_id}"))
    await outbox.dispatch(jobs)
    return await get_membership(actor, membership_id)


async def is_recorded_letter(storage_key: str) -> bool:
    return await Membership.exists().where(Membership.letter_key == storage_key)


async def record_letter_check(*, membership_id: int, state: str, message: str) -> None:
    await Membership.update({Membership.letter_check_state: state, Membership.letter_check_message: message}).where(
        Membership.id == membership_id)


def _view(row: dict[str, Any], deciders: dict[int, str]) -> dict[str, Any]:
    return {
        "id": row["id"], "state": row["state"], "user_id": row["user"], "user_email": row["user.email"],
        "user_name": row["user.name"], "organisation_id": row["organisation"],
        "organisation_code": row["organisation.code"], "organisation_name_th": row["organisation.name_th"],
        "requested_at": row["requested_at"], "decided_at": row["decided_at"],
        "decided_by": deciders.get(row["decided_by"]) if row["decided_by"] else None,
        "reason": row["reason"], "has_letter": bool(row["letter_key"]), "letter_name": row["letter_name"],
        "letter_size": row["letter_size"], "letter_sha256": row["letter_sha256"],
        "letter_check_state": row["letter_check_state"], "letter_check_message": row["letter_check_message"],
    }


async def _views(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as the API shows them, with the email of whoever decided each."""
    ids = sorted({r["decided_by"] for r in rows if r["decided_by"]})
    deciders = {u["id"]: u["email"] for u in await User.select(User.id, User.email).where(User.id.is_in(ids))} \
        if ids else {}
    return [_view(r, deciders) for r in rows]


def _select() -> Any:
    return Membership.select(
        Membership.id, Membership.state, Membership.user, Membership.user.email, Membership.user.name,
        Membership.organisation, Membership.organisation.code, Membership.organisation.name_th,
        Membership.requested_at, Membership.decided_at, Membership.decided_by, Membership.reason,
        Membership.letter_key, Membership.letter_name, Membership.letter_size, Membership.letter_sha256,
        Membership.letter_check_state, Membership.letter_check_message)


def _may_decide(actor: Actor, organisation_id: int) -> bool:
    """Admins decide every membership; a verified member decides those of its own organisation."""
    return is_admin(actor) or (actor.role == Role.applicant and actor.organisation_id == organisation_id)


async def get_membership(actor: Actor, membership_id: int) -> dict[str, Any]:
    row = await _select().where(Membership.id == membership_id).first()
    if row is None or not (row["user"] == actor.id or _may_decide(actor, row["organisation"])):
        raise NotFound("No such membership.", code="membership_not_found")
    return (await _views([row]))[0]


async def list_memberships(actor: Actor, *, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Admins see every membership; a verified member sees its organisation's."""
    query = _select()
    if is_admin(actor):
        pass
    elif actor.role == Role.applicant and actor.organisation_id is not None:
        query = query.where(Membership.organisation == actor.organisation_id)
    elif actor.role == Role.applicant and actor.pending_organisation_id is not None:
        raise PermissionDenied("Your membership of this organisation is waiting for approval.",
                               code="membership_pending")
    else:
        raise PermissionDenied("Only administrators and verified members of an organisation can see its members.")
    if state:
        if state not in {s.value for s in MembershipState}:
            raise ValidationFailed(errors={"state": t("Unknown state.")}, code="invalid_state")
        query = query.where(Membership.state == state)
    rows = await query.order_by(Membership.requested_at).limit(limit)
    return await _views(rows)


async def my_membership(actor: Actor) -> dict[str, Any] | None:
    """The account's open membership, if any, with whether its organisation needs the letter."""
    if actor.id is None:
        return None
    row = await _select().where((Membership.user == actor.id) & Membership.state.is_in(list(OPEN_STATES))).first()
    if row is None:
        return None
    view = (await _views([row]))[0]
    view["needs_letter"] = (row["state"] == MembershipState.pending and not row["letter_key"]
                            and not await has_verified_member(row["organisation"]))
    return view


async def _decidable(actor: Actor, membership_id: int, *, expected: tuple[str, ...]) -> dict[str, Any]:
    """Inside the caller's transaction: the locked membership, if the actor may decide it."""
    await lock_row("membership", membership_id)
    row = await _select().where(Membership.id == membership_id).first()
    if row is None:
        raise NotFound("No such membership.", code="membership_not_found")
    if not _may_decide(actor, row["organisation"]):
        if actor.role == Role.applicant and actor.pending_organisation_id == row["organisation"]:
            raise PermissionDenied("Your membership of this organisation is waiting for approval.",
                                   code="membership_pending")
        # A member of another organisation may not learn that this request exists.
        raise NotFound("No such membership.", code="membership_not_found")
    if row["user"] == actor.id:
        raise PermissionDenied("You cannot decide your own membership.", code="own_membership")
    if row["state"] not in expected:
        raise Conflict("This membership is {state} already.", code="membership_decided", state=row["state"])
    return row


async def approve(*, actor: Actor, membership_id: int, reason: str = "") -> dict[str, Any]:
    """Verify a pending member. The organisation's first member only by an admin, with the
    letter checked and found clean."""
    async with atomic():
        row = await _decidable(actor, membership_id, expected=(MembershipState.pending,))
        await lock_row("organisation", row["organisation"])
        if not await has_verified_member(row["organisation"]):
            if not is_admin(actor):
                raise PermissionDenied("The first member of an organisation is approved by a DGA administrator.",
                                       code="admin_only")
            if not row["letter_key"]:
                raise Conflict("The first member needs the authorisation letter before approval.",
                               code="letter_required")
            if row["letter_check_state"] in CheckStates.REFUSED:
                raise Conflict("The authorisation letter failed its check: ask for a new one.",
                               code="letter_failed")
        await Membership.update({Membership.state: MembershipState.verified, Membership.decided_at: clock.now(),
                                 Membership.decided_by: actor.id, Membership.reason: (reason or "")[:2000]}
                                ).where(Membership.id == membership_id)
        await append_event(actor=actor, action="membership.approve", subject_type="membership",
                           subject_id=membership_id, before={"state": row["state"]},
                           after={"state": "verified", "user_id": row["user"], "organisation_id": row["organisation"]})
        org = row["organisation.name_th"]
        link = f"{get_settings().base_url}/entries"
        jobs = await _mail([row["user.email"]], t("You can now act for {organisation}", "th", organisation=org),
                           mail_text("Your request to act for {organisation} in the Digital Local Government "
                                      "contest was approved. You can now see and prepare its entries:\n{link}\n",
                                      organisation=org, link=link), f"membership-approved:{membership_id}")
        members = await verified_member_emails(row["organisation"])
        jobs += await _mail([m for m in members if m != row["user.email"]],
                            t("{name} now acts for {organisation}", "th", name=row["user.name"], organisation=org),
                            mail_text("{name} ({email}) was approved to act for {organisation}.\n",
                                       name=row["user.name"], email=row["user.email"], organisation=org),
                            f"membership-approved-members:{membership_id}")
    await outbox.dispatch(jobs)
    return await get_membership(actor, membership_id)


async def _close(actor: Actor, membership_id: int, *, to: MembershipState, reason: str,
                 expected: tuple[str, ...]) -> dict[str, Any]:
    async with atomic():
        row = await _decidable(actor, membership_id, expected=expected)
        if to == MembershipState.rejected and not (reason or "").strip():
            raise ValidationFailed(errors={"reason": t("Say why, so the person knows what to do.")},
                                   code="reason_required")
        await Membership.update({Membership.state: to, Membership.decided_at: clock.now(),
                                 Membership.decided_by: actor.id, Membership.reason: (reason or "")[:2000]}
                                ).where(Membership.id == membership_id)
        # The account no longer names the organisation, so it may ask to join another.
        await User.update({User.organisation: None}).where(
            (User.id == row["user"]) & (User.organisation == row["organisation"]))
        await append_event(actor=actor, action=f"membership.{'reject' if to == 'rejected' else 'remove'}",
                           subject_type="membership", subject_id=membership_id, before={"state": row["state"]},
                           after={"state": to.value, "user_id": row["user"], "organisation_id": row["organisation"],
                                  "reason": reason})
        org = row["organisation.name_th"]
        if to == MembershipState.rejected:
            subject = t("Your request to act for {organisation} was not approved", "th", organisation=org)
            text = mail_text("Your request to act for {organisation} was not approved.\nReason: {reason}\n",
                              organisation=org, reason=reason)
        else:
            subject = t("You no longer act for {organisation}", "th", organisation=org)
            text = mail_text("You were removed from {organisation} in the Digital Local Government contest "
                              "and can no longer see its entries.\n", organisation=org)
        jobs = await _mail([row["user.email"]], subject, text, f"membership-{to.value}:{membership_id}")
    await outbox.dispatch(jobs)
    return await get_membership(actor, membership_id)


async def reject(*, actor: Actor, membership_id: int, reason: str = "") -> dict[str, Any]:
    """Turn a pending request down, with a reason the person sees."""
    return await _close(actor, membership_id, to=MembershipState.rejected, reason=reason,
                        expected=(MembershipState.pending,))


async def remove(*, actor: Actor, membership_id: int, reason: str = "") -> dict[str, Any]:
    """Take a member (or a pending request) off the organisation; their access ends at once."""
    return await _close(actor, membership_id, to=MembershipState.removed, reason=reason,
                        expected=(MembershipState.pending, MembershipState.verified))


async def vouch(*, actor: Actor, user_id: int, organisation_id: int) -> int:
    """An operator or an admin creating an account for an organisation vouches for it: the
    membership is verified at once (inside the caller's transaction)."""
    rows = await Membership.insert(Membership(
        user=user_id, organisation=organisation_id, state=MembershipState.verified, decided_at=clock.now(),
        decided_by=actor.id, reason="vouched for when the account was created")).returning(Membership.id)
    await append_event(actor=actor, action="membership.vouch", subject_type="membership", subject_id=rows[0]["id"],
                       after={"state": "verified", "user_id": user_id, "organisation_id": organisation_id})
    return int(rows[0]["id"])


@dataclass(frozen=True)
class LetterFile:
    key: str
    name: str
    size: int
    sha256: str
    decided_at: datetime | None


async def letter_for(actor: Actor, membership_id: int) -> LetterFile:
    """The stored letter, for admins and for the person who sent it."""
    row = await Membership.select(Membership.user, Membership.letter_key, Membership.letter_name,
                                  Membership.letter_size, Membership.letter_sha256, Membership.letter_check_state,
                                  Membership.decided_at).where(Membership.id == membership_id).first()
    if row is None or not (is_admin(actor) or row["user"] == actor.id) or not row["letter_key"]:
        raise NotFound("No such letter.", code="letter_not_found")
    if row["letter_check_state"] == CheckState.infected:
        raise PermissionDenied("This file contains malware and cannot be opened.", code="attachment_infected")
    return LetterFile(key=row["letter_key"], name=row["letter_name"], size=row["letter_size"],
                      sha256=row["letter_sha256"], decided_at=row["decided_at"])
