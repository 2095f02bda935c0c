"""Erasure of a person's data (PDPA section 33), asked for by the person, decided by an admin.

A request is refused at once, with the reason and a date, while the law lets the contest keep
the data: a committee or panel member of a round still being judged (the round's scores must
stay attributable until the results are announced). Otherwise an administrator decides:
approve, or reject with one of the reasons the law allows (a running contest, the legal
retention of awarded results) and a note the person sees.

Approving replaces the person's identifying data everywhere with a pseudonym: the account
(email, name, password, two-factor secret), the entries they are the contact person of, the
audit trail (sealed, so ``contest audit verify`` still passes), mail waiting in the outbox. The
account can no longer log in; its sessions, tokens, recovery codes and Digital ID link are
deleted. Nothing else changes: score sheets still count under the same (now anonymous) reviewer,
receipts still verify, organisations keep their entries.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from contest import clock
from contest.db import atomic, contains, existing, lock_row, stored_json
from contest.domain import audit
from contest.domain.audit import Actor, append_event
from contest.enums import ErasureState, ErasureStates, OutboxState
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.i18n import format_date, t
from contest.rules import require_organiser
from contest.tables import (
    AuthToken,
    EmailToken,
    Entry,
    ErasureRequest,
    Identity,
    Outbox,
    RateCounter,
    RecoveryCode,
    User,
)

#: The reasons an administrator may give for keeping the data (refusal codes).
REFUSAL_REASONS = {
    "running_contest": "The contest the data belongs to is still running.",
    "legal_retention": "The data belongs to awarded results, which the law requires to be kept.",
}

#: (user id) -> None, or (message, until) when the person's data must stay for now. Packages
#: that hold such data (judging: members of a round being judged) register one.
Blocker = Callable[[int], Awaitable[tuple[str, datetime | None] | None]]
_blockers: list[Blocker] = []


def register_blocker(blocker: Blocker) -> None:
    if blocker not in _blockers:
        _blockers.append(blocker)


def request_view(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "state": row["state"], "reason": row["reason"], "created_at": row["created_at"],
            "decided_at": row["decided_at"], "refusal_code": row["refusal_code"],
            "decision_reason": row["decision_reason"]}


async def request_erasure(*, actor: Actor, reason: str = "") -> dict[str, Any]:
    """The person asks for their data to be erased. 409 while one of their requests is open,
    or (with the reason and a date) while the law lets the contest keep it."""
    if actor.id is None:
        raise NotFound("No such account.")
    for blocker in _blockers:
        refusal = await blocker(actor.id)
        if refusal is not None:
            message, until = refusal
            raise Conflict(message, code="erasure_refused", until=until.isoformat() if until else None,
                           date=format_date(until, with_time=False) if until else "")
    async with atomic():
        await lock_row("app_user", actor.id)
        if await ErasureRequest.exists().where((ErasureRequest.user == actor.id)
                                               & (ErasureRequest.state == ErasureState.pending)):
            raise Conflict("You already asked for your data to be erased; an administrator is deciding.",
                           code="erasure_pending")
        rows = await ErasureRequest.insert(ErasureRequest(user=actor.id, state=ErasureState.pending,
                                                          reason=(reason or "").strip()[:2000])
                                           ).returning(*ErasureRequest.all_columns())
        await append_event(actor=actor, action="erasure.request", subject_type="user", subject_id=actor.id,
                           after={"request_id": rows[0]["id"]})
    return request_view(rows[0])


async def my_requests(actor: Actor) -> list[dict[str, Any]]:
    rows = await ErasureRequest.select().where(ErasureRequest.user == actor.id).order_by(
        ErasureRequest.id, ascending=False)
    return [request_view(r) for r in rows]


async def list_requests(*, actor: Actor, state: str | None = ErasureState.pending) -> list[dict[str, Any]]:
    require_organiser(actor, "Only administrators decide erasure requests.")
    query = ErasureRequest.select(*ErasureRequest.all_columns(), ErasureRequest.user.email.as_alias("email"),
                                  ErasureRequest.user.name.as_alias("name"), ErasureRequest.user.role.as_alias("role"))
    if state:
        query = query.where(ErasureRequest.state == state)
    return [{**request_view(r), "user_id": r["user"], "email": r["email"], "name": r["name"], "role": r["role"]}
            for r in await query.order_by(ErasureRequest.id)]


async def _open_request(request_id: int) -> dict[str, Any]:
    await lock_row("erasure_request", request_id)
    row = await ErasureRequest.select().where(ErasureRequest.id == request_id).first()
    if row is None:
        raise NotFound("No such erasure request.")
    if row["state"] in ErasureStates.DECIDED:
        raise Conflict("This request has already been decided.", code="already_decided")
    return dict(row)


async def reject(*, actor: Actor, request_id: int, code: str, reason: str) -> dict[str, Any]:
    """Keep the data, for one of the reasons the law allows, with a note the person sees."""
    require_organiser(actor, "Only administrators decide erasure requests.")
    errors = {}
    if code not in REFUSAL_REASONS:
        errors["refusal_code"] = t("Choose one of the reasons the law allows: {codes}.",
                                   codes=", ".join(REFUSAL_REASONS))
    if not (reason or "").strip():
        errors["reason"] = t("Say why, in words the person will read.")
    if errors:
        raise ValidationFailed(errors=errors)
    async with atomic():
        row = await _open_request(request_id)
        await ErasureRequest.update({ErasureRequest.state: ErasureState.rejected, ErasureRequest.refusal_code: code,
                                     ErasureRequest.decision_reason: reason.strip()[:2000],
                                     ErasureRequest.decided_by: actor.id, ErasureRequest.decided_at: clock.now()}
                                    ).where(ErasureRequest.id == request_id)
        await append_event(actor=actor, action="erasure.reject", subject_type="user", subject_id=row["user"],
                           after={"request_id": request_id, "refusal_code": code})
    return request_view(await existing(ErasureRequest.select().where(ErasureRequest.id == request_id)))


async def approve(*, actor: Actor, request_id: int, reason: str = "") -> dict[str, Any]:
    """Erase: the person's identifying data becomes a pseudonym everywhere (see the module)."""
    require_organiser(actor, "Only administrators decide erasure requests.")
    async with atomic():
        row = await _open_request(request_id)
        if row["user"] == actor.id:
            raise Conflict("Another administrator must decide your own erasure request.", code="own_request")
        pseudonym = await erase_user(row["user"])
        await ErasureRequest.update({ErasureRequest.state: ErasureState.approved, ErasureRequest.pseudonym: pseudonym,
                                     ErasureRequest.decision_reason: (reason or "").strip()[:2000],
                                     ErasureRequest.decided_by: actor.id, ErasureRequest.decided_at: clock.now()}
                                    ).where(ErasureRequest.id == request_id)
        await append_event(actor=actor, action="erasure.approve", subject_type="user", subject_id=row["user"],
                           after={"request_id": request_id, "pseudonym": pseudonym})
    return request_view(await existing(ErasureRequest.select().where(ErasureRequest.id == request_id)))


async def erase_user(user_id: int) -> str:
    """Pseudonymise one account and everything naming it (inside the caller's transaction)."""
    user = await existing(User.select().where(User.id == user_id))
    pseudonym = f"person-{secrets.token_hex(6)}"
    erased_email = f"{pseudonym}@erased.invalid"
    values = [user["email"], user["name"]]
    contacts = await Entry.select(Entry.id, Entry.contact_name, Entry.contact_phone).where(
        Entry.contact_email == user["email"])
    for entry in contacts:
        values += [entry["contact_name"], entry["contact_phone"]]
    await User.update({User.email: erased_email, User.name: t("Erased person"), User.password_hash: "!erased",
                       User.is_active: False, User.totp_secret: None, User.totp_enabled_at: None,
                       User.locale: "th"}).where(User.id == user_id)
    await Entry.update({Entry.contact_name: f"{audit.ERASED}{pseudonym}", Entry.contact_email: erased_email,
                        Entry.contact_phone: ""}).where(Entry.contact_email == user["email"])
    for table in (AuthToken, RecoveryCode, EmailToken, Identity):
        await table.delete().where(table.user == user_id)
    # LIKE through db.contains: "_" in an address must not match other people's counters.
    await RateCounter.delete().where(contains('"rate_counter"."key"', user["email"]))
    await _forget_mail(user["email"], erased_email)
    await audit.erase_person(user_id=user_id, values=[v for v in values if v], pseudonym=pseudonym)
    return pseudonym


async def _forget_mail(email: str, erased_email: str) -> None:
    """Mail to the person: what waits is not sent (it would go nowhere), and no job keeps the
    address or the text (reset and confirmation links, names)."""
    rows = await Outbox.select(Outbox.id, Outbox.args, Outbox.state).where(Outbox.job == "send_mail")
    for row in rows:
        args = stored_json(row["args"], {})
        if str(args.get("to", "")).strip().lower() != email.strip().lower():
            continue
        await Outbox.update({Outbox.args: {"to": erased_email, "subject": "", "text": ""},
                             Outbox.state: OutboxState.done if row["state"] == OutboxState.pending else row["state"],
                             Outbox.last_error: ""}).where(Outbox.id == row["id"])
