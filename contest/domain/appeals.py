"""Appeals (อุทธรณ์): an organisation contests the outcome of its entry after the announcement.

Who and when. Only the entry's own staff (a verified member of its organisation) may appeal, only
an entry that was found not eligible or was not shortlisted, only once, and only within the
edition's appeal window: ``Edition.appeal_days`` days from the publication of the results.
Before publication nobody outside the organisers knows an outcome, so there is nothing to appeal
yet. An appeal carries the organisation's reason and, from the page, an optional supporting
document that is stored and checked as an attachment is.

How it is decided. As the judging decisions are: two administrators sign. The first states the
outcome (``upheld`` or ``dismissed``) with the reason the organisation will read; that is a
proposal with one signature. A different administrator countersigns the same outcome and the
decision is final. An administrator who disagrees proposes another decision instead, which voids
the first signature. Each signer is an administrator since before the appeal was lodged and
signed in with two factors.

What a decision changes. A dismissed appeal changes no result. An upheld appeal grants the entry
the award it was refused, the Digital Local Government award, and never silently: the published
results are corrected by a new snapshot with its own SHA-256 that records the correction and
links to the snapshot it replaces (``contest.domain.corrections``). Either way the organisation is
mailed the decision and its reason through the outbox. Every step is in the audit trail, as an
event about the entry.

What decided the entry (the eligibility decision, each round's anonymised score sheets, the rank
and the signed decision) comes from judging through ``register_judging_record``: contest never
imports judging.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contest import clock
from contest.db import atomic, existing, lock_row, stored_json
from contest.domain import outbox
from contest.domain.audit import Actor, append_event, canonical_json
from contest.domain.entries import owned_entry
from contest.enums import AppealState, AppealStates, EntryState, Role
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import format_date, t
from contest.rules import is_admin_person, is_organiser
from contest.settings import get_settings
from contest.tables import Appeal, AuditEvent, Edition, Entry, User
from uploads.checks import CheckState

#: The outcomes that may be appealed: what the organisation was refused.
APPEALABLE_STATES = (EntryState.ineligible, EntryState.not_shortlisted)
MAX_REASON = 5000
MAX_DECISION_REASON = 2000
#: The organisation can expect the decision this many days after it appealed (``due_at``).
DECISION_DAYS = 30
#: The supporting document: a PDF or an image, at most this size.
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")

#: What judging decided about an entry, round by round (see ``judging.domain.evidence``).
JudgingRecord = Callable[[int], Awaitable[list[dict[str, Any]]]]
_JUDGING_RECORDS: list[JudgingRecord] = []


def register_judging_record(provider: JudgingRecord) -> None:
    if provider not in _JUDGING_RECORDS:
        _JUDGING_RECORDS.append(provider)


async def judging_record(entry_id: int) -> list[dict[str, Any]]:
    """Every round that judged the entry, with its anonymised sheets, rank and decision."""
    rounds: list[dict[str, Any]] = []
    for provider in _JUDGING_RECORDS:
        rounds.extend(await provider(entry_id))
    return rounds


@dataclass(frozen=True)
class SupportingDocument:
    """A supporting document already streamed to storage (see ``uploads.streaming``)."""

    name: str
    key: str
    size: int
    sha256: str
    content_type: str


def window_closes_at(published_at: datetime, appeal_days: int) -> datetime:
    """The moment the appeal window closes: ``appeal_days`` whole days after publication."""
    return published_at + timedelta(days=appeal_days)


def _clean_reason(raw: Any, limit: int, message: str) -> str:
    reason = str(raw or "").replace("\r\n", "\n").strip() if isinstance(raw, (str, type(None))) else None
    if reason is None:
        raise ValidationFailed(errors={"reason": t("The reason must be text.")})
    if not reason:
        raise ValidationFailed(errors={"reason": t(message)})
    if len(reason) > limit:
        raise ValidationFailed(errors={"reason": t("At most {n} characters (now {m}).", n=limit, m=len(reason))})
    return reason


def _check_document(document: SupportingDocument | None) -> None:
    if document is None:
        return
    if document.content_type not in ATTACHMENT_TYPES:
        raise ValidationFailed(errors={"attachment": t("The supporting document must be a PDF file or an image "
                                                       "(JPEG, PNG or WebP).")}, code="attachment_type")
    if document.size > ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(errors={"attachment": t("The supporting document may be at most 20 MB.")},
                               code="attachment_too_large")


async def _staff_mail_jobs(organisation_id: int, key: str, subject: str, text: str,
                           **params: Any) -> list[int]:
    """One mail to each active staff account of the organisation, in its own language (inside the
    caller's transaction). A parameter given as a function of the language (a date) is written
    in each reader's language."""
    users = await User.select(User.id, User.email, User.name, User.locale).where(
        (User.organisation == organisation_id) & (User.role == Role.applicant) & (User.is_active == True)  # noqa: E712
    ).order_by(User.id)
    items = []
    for u in users:
        lang = u["locale"] or "th"
        values = {k: (v(lang) if callable(v) else v) for k, v in params.items()}
        items.append(({"to": u["email"], "subject": t(subject, lang, **values),
                       "text": t(text, lang, name=u["name"] or u["email"], **values)}, f"{key}:{u['id']}"))
    return await outbox.add_jobs("send_mail", items)


async def _appeal_window(entry_id: int, state: str, edition: dict[str, Any], now: datetime) -> datetime:
    """When the entry's appeal window closes, once it may be appealed ``now``; otherwise the
    Conflict saying why not (results unpublished, an outcome that cannot be appealed, an appeal
    already lodged, the window over)."""
    if edition["published_at"] is None:
        raise Conflict("The results have not been published yet: an entry can be appealed once they are.",
                       code="not_published")
    if state not in APPEALABLE_STATES:
        raise Conflict("Only an entry that was found not eligible or was not shortlisted can be appealed; this "
                       "entry is {state}.", code="not_appealable", state=state)
    if await Appeal.exists().where(Appeal.entry == entry_id):
        raise Conflict("This entry has already been appealed: an entry can be appealed only once.",
                       code="appeal_exists")
    closes = window_closes_at(edition["published_at"], edition["appeal_days"])
    if now >= closes:
        raise Conflict("The time to appeal ended on {closed}.", code="appeal_window_closed",
                       closed=format_date(closes), closed_at=closes.isoformat())
    return closes


async def lodge_appeal(*, actor: Actor, entry_id: int, reason: Any,
                       document: SupportingDocument | None = None) -> dict[str, Any]:
    """The organisation appeals its entry's outcome, with its reason (and a supporting document).

    Refused (nothing recorded) unless the caller is the entry's own verified staff (403 for an
    administrator or a reviewer, 403 ``membership_pending`` for a member not yet approved, 404
    for anyone else), the results are published (409 ``not_published``), the entry was found
    not eligible or not shortlisted (409 ``not_appealable``), it was not appealed before (409
    ``appeal_exists``) and the window is still open (409 ``appeal_window_closed``). The
    organisation's staff are mailed an acknowledgement; a document is checked in the background."""
    if actor.role != Role.applicant:
        raise PermissionDenied("Only the staff of the entry's organisation can appeal its outcome.",
                               code="applicant_only")
    row = await owned_entry(actor, entry_id)
    text = _clean_reason(reason, MAX_REASON, "Give the reasons for your appeal.")
    _check_document(document)
    jobs: list[int | None] = []
    async with atomic():
        await lock_row("entry", entry_id)
        entry = await existing(Entry.select(Entry.state, Entry.title, Entry.organisation).where(Entry.id == entry_id))
        edition = await existing(Edition.select(Edition.year, Edition.title, Edition.published_at,
                                                Edition.appeal_days).where(Edition.id == row["edition"]))
        now = clock.now()
        closes = await _appeal_window(entry_id, entry["state"], edition, now)
        due = now + timedelta(days=DECISION_DAYS)
        values: dict[str, Any] = {"entry": entry_id, "reason": text, "lodged_by": actor.id, "lodged_at": now,
                                  "due_at": due}
        if document is not None:
            values.update(attachment_name=document.name[:255], attachment_key=document.key,
                          attachment_size=document.size, attachment_sha256=document.sha256,
                          attachment_content_type=document.content_type, attachment_check_state=CheckState.pending)
        rows = await Appeal.insert(Appeal(**values)).returning(Appeal.id)
        appeal_id = int(rows[0]["id"])
        after: dict[str, Any] = {"appeal_id": appeal_id, "state": AppealState.open, "reason": text,
                                 "window_closes_at": clock.utc_iso(closes), "due_at": clock.utc_iso(due)}
        if document is not None:
            after["attachment"] = {"name": document.name, "size": document.size, "sha256": document.sha256}
            jobs.append(await outbox.add_job("check_appeal_attachment", {"appeal_id": appeal_id},
                                             dedupe_key=f"check-appeal:{appeal_id}"))
        await append_event(actor=actor, action="appeal.lodge", subject_type="entry", subject_id=entry_id,
                           before={"state": entry["state"]}, after=after)
        jobs.extend(await _staff_mail_jobs(
            entry["organisation"], f"appeal-lodged:{appeal_id}", "Your appeal about {title} was received",
            "Dear {name},\n\nYour appeal about \"{title}\" ({edition}) was received on {at}. Two DGA "
            "administrators will decide it; you can expect the decision by {due}.\n\nThe appeal: {url}\n",
            title=entry["title"], edition=edition["title"],
            at=lambda lang: format_date(now, language=lang),
            due=lambda lang: format_date(due, with_time=False, language=lang),
            url=f"{get_settings().base_url}/entries/{entry_id}/appeal"))
    await outbox.dispatch(jobs)
    return await appeal_view(actor, appeal_id)


# --- reading ------------------------------------------------------------------------------------

def _view(row: dict[str, Any], *, for_organiser: bool) -> dict[str, Any]:
    signatures = 2 if row["state"] in AppealStates.DECIDED else (1 if row["first_signed_by"] else 0)
    view: dict[str, Any] = {
        "id": row["id"], "entry_id": row["entry"], "state": row["state"], "reason": row["reason"],
        "lodged_at": row["lodged_at"], "due_at": row["due_at"],
        "attachment": ({"name": row["attachment_name"], "size": row["attachment_size"],
                        "sha256": row["attachment_sha256"], "content_type": row["attachment_content_type"],
                        "check_state": row["attachment_check_state"],
                        "check_message": row["attachment_check_message"]} if row["attachment_key"] else None),
        "decided_at": row["decided_at"],
        # The organisation reads the decision only once it is final.
        "outcome": row["state"] if row["state"] in AppealStates.DECIDED else None,
        "decision_reason": row["proposed_reason"] if row["state"] in AppealStates.DECIDED else "",
        "correction_sha256": row["correction_sha256"],
        "signatures": signatures,
    }
    if for_organiser:
        view.update(proposed_outcome=row["proposed_outcome"], proposed_reason=row["proposed_reason"],
                    decision_hash=row["decision_hash"], first_signed_by=row["first_signed_by"],
                    first_signed_at=row["first_signed_at"], second_signed_by=row["second_signed_by"])
    return view


async def _row(appeal_id: int) -> dict[str, Any] | None:
    row: dict[str, Any] | None = await Appeal.select(*Appeal.all_columns(), Appeal.entry.organisation).where(
        Appeal.id == appeal_id).first()
    return row


async def appeal_view(actor: Actor, appeal_id: int) -> dict[str, Any]:
    """An appeal as the caller may read it: its organisation's staff and administrators."""
    row = await _row(appeal_id)
    if row is None:
        raise NotFound("No such appeal.", code="appeal_not_found")
    if not is_organiser(actor):
        await owned_entry(actor, row["entry"])  # 404 (403 for a pending member) for anyone else
    return _view(row, for_organiser=is_organiser(actor))


async def appeal_of_entry(actor: Actor, entry_id: int) -> dict[str, Any] | None:
    """The entry's appeal, if any, for its organisation's staff or an administrator."""
    if not is_organiser(actor):
        await owned_entry(actor, entry_id)
    row = await Appeal.select(Appeal.id).where(Appeal.entry == entry_id).first()
    return await appeal_view(actor, row["id"]) if row else None


async def appeal_status(actor: Actor, entry_id: int) -> dict[str, Any]:
    """What the organisation's result page says about appealing: whether it may appeal now and
    until when, or why not, and its appeal if it made one."""
    row = await owned_entry(actor, entry_id) if not is_organiser(actor) else await existing(
        Entry.select().where(Entry.id == entry_id))
    entry = await existing(Entry.select(Entry.state).where(Entry.id == entry_id))
    edition = await existing(Edition.select(Edition.published_at, Edition.appeal_days).where(
        Edition.id == row["edition"]))
    appeal = await appeal_of_entry(actor, entry_id)
    closes = window_closes_at(edition["published_at"], edition["appeal_days"]) if edition["published_at"] else None
    open_now = (closes is not None and clock.now() < closes and entry["state"] in APPEALABLE_STATES
                and appeal is None and actor.role == Role.applicant)
    return {"appeal": appeal, "can_appeal": open_now, "closes_at": closes,
            "appealable": entry["state"] in APPEALABLE_STATES}


async def list_appeals(actor: Actor, *, state: str | None = None) -> list[dict[str, Any]]:
    """Every appeal, open ones first, for administrators."""
    if not is_organiser(actor):
        raise PermissionDenied("This is for contest administrators only.", code="admin_only")
    query = Appeal.select(*Appeal.all_columns(), Appeal.entry.organisation, Appeal.entry.title, Appeal.entry.state,
                          Appeal.entry._.edition._.year, Appeal.entry._.organisation._.name_th,
                          Appeal.entry._.organisation._.code).order_by(Appeal.id)
    if state:
        query = query.where(Appeal.state == state)
    rows = await query
    out = []
    for r in rows:
        view = _view(r, for_organiser=True)
        view.update(title=r["entry.title"], entry_state=r["entry.state"], year=r["entry.edition.year"],
                    organisation_name_th=r["entry.organisation.name_th"],
                    organisation_code=r["entry.organisation.code"])
        out.append(view)
    out.sort(key=lambda v: (v["state"] != AppealState.open, v["id"]))
    return out


async def decision_record(actor: Actor, appeal_id: int) -> dict[str, Any]:
    """Everything that decided the appealed entry, for the administrators who decide the appeal:
    the appeal, the eligibility decision, each round's anonymised sheets, rank and signed
    decision, and the entry's history."""
    if not is_organiser(actor):
        raise PermissionDenied("This is for contest administrators only.", code="admin_only")
    row = await _row(appeal_id)
    if row is None:
        raise NotFound("No such appeal.", code="appeal_not_found")
    entry = await existing(Entry.select(
        Entry.id, Entry.title, Entry.state, Entry.eligibility_reason, Entry.outcome_rank, Entry.outcome_score,
        Entry.edition.year, Entry.edition.title, Entry.organisation.name_th, Entry.organisation.code,
        Entry.organisation.province_name_th).where(Entry.id == row["entry"]))
    signers = [i for i in (row["first_signed_by"], row["second_signed_by"]) if i]
    emails = {u["id"]: u["email"] for u in await User.select(User.id, User.email).where(
        User.id.is_in(signers))} if signers else {}
    return {"appeal": _view(row, for_organiser=True), "entry": entry,
            "eligibility": await eligibility_decision(row["entry"]),
            "rounds": await judging_record(row["entry"]),
            "signers": {"first": emails.get(row["first_signed_by"]), "second": emails.get(row["second_signed_by"])}}


async def eligibility_decision(entry_id: int) -> dict[str, Any] | None:
    """The last eligibility decision recorded in the audit trail: eligible or not, its reason and
    when (None when none was taken)."""
    event = await AuditEvent.select(AuditEvent.at, AuditEvent.after).where(
        (AuditEvent.subject_type == "entry") & (AuditEvent.subject_id == str(entry_id))
        & (AuditEvent.action == "entry.eligibility")).order_by(AuditEvent.seq, ascending=False).first()
    if event is None:
        return None
    after = stored_json(event["after"], {}) or {}
    return {"eligible": after.get("state") == EntryState.eligible, "state": after.get("state"),
            "reason": after.get("reason", ""), "decided_at": event["at"]}


# --- deciding -----------------------------------------------------------------------------------

def decision_digest(appeal_id: int, outcome: str, reason: str) -> str:
    body = canonical_json({"appeal_id": appeal_id, "outcome": outcome, "reason": reason})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


async def _require_signer(actor: Actor, lodged_at: datetime) -> None:
    """Two real people sign, as for the judging decisions: administrators signed in with two
    factors, each an administrator since before the appeal was lodged."""
    if not is_admin_person(actor):
        raise PermissionDenied("Only administrators decide appeals.", code="admin_only")
    if not actor.two_factor:
        raise PermissionDenied("Sign in with two-factor before signing a decision.", code="two_factor_required")
    user = await existing(User.select(User.role, User.admin_since).where(User.id == actor.id))
    if user["role"] != Role.admin or user["admin_since"] is None or user["admin_since"] > lodged_at:
        raise PermissionDenied("Only administrators who were administrators before the appeal was lodged can sign "
                               "its decision.", code="signer_too_new")


async def decide_appeal(*, actor: Actor, appeal_id: int, outcome: Any, reason: Any = "") -> dict[str, Any]:
    """Sign a decision on an appeal. The first signature proposes ``outcome`` with ``reason`` (the
    organisation reads it); a different administrator sending the same outcome (with the same
    reason, or none) countersigns and the decision is final. Another outcome or reason replaces
    the proposal and voids its signature. The proposer signing again is 409 ``already_signed``; a
    decided appeal is 409 ``appeal_decided``. Final: the appeal is upheld or dismissed, an upheld
    one corrects the published results, and the organisation is mailed."""
    if not is_admin_person(actor):
        raise PermissionDenied("Only administrators decide appeals.", code="admin_only")
    if outcome not in AppealStates.DECIDED:
        raise ValidationFailed(errors={"outcome": t("The outcome is upheld or dismissed.")})
    text = str(reason or "").replace("\r\n", "\n").strip() if isinstance(reason, (str, type(None))) else None
    if text is None:
        raise ValidationFailed(errors={"reason": t("The reason must be text.")})
    if len(text) > MAX_DECISION_REASON:
        raise ValidationFailed(errors={"reason": t("At most {n} characters (now {m}).", n=MAX_DECISION_REASON,
                                                   m=len(text))})
    jobs: list[int | None] = []
    async with atomic():
        await lock_row("appeal", appeal_id)
        row = await _row(appeal_id)
        if row is None:
            raise NotFound("No such appeal.", code="appeal_not_found")
        if row["state"] != AppealState.open:
            raise Conflict("This appeal was already decided ({state}).", code="appeal_decided", state=row["state"])
        await _require_signer(actor, row["lodged_at"])
        now = clock.now()
        countersign = bool(row["proposed_outcome"]) and outcome == row["proposed_outcome"] and (
            not text or text == row["proposed_reason"])
        if not countersign:
            if not text:
                raise ValidationFailed(errors={"reason": t("Give the reason the organisation will read.")})
            digest = decision_digest(appeal_id, outcome, text)
            await Appeal.update({Appeal.proposed_outcome: outcome, Appeal.proposed_reason: text,
                                 Appeal.decision_hash: digest, Appeal.first_signed_by: actor.id,
                                 Appeal.first_signed_at: now}).where(Appeal.id == appeal_id)
            await append_event(actor=actor, action="appeal.sign", subject_type="entry", subject_id=row["entry"],
                               before={"decision_hash": row["decision_hash"] or None,
                                       "voided_signature": row["first_signed_by"]},
                               after={"appeal_id": appeal_id, "signature": 1, "outcome": outcome, "reason": text,
                                      "decision_hash": digest})
        else:
            if row["first_signed_by"] == actor.id:
                raise Conflict("You have already signed this decision; a different administrator must sign.",
                               code="already_signed")
            jobs = await _finalise(actor, row, now)
    await outbox.dispatch(jobs)
    return await appeal_view(actor, appeal_id)


async def _finalise(actor: Actor, row: dict[str, Any], now: datetime) -> list[int | None]:
    """The second signature (inside the caller's transaction): the decision is final."""
    from contest.domain import corrections

    outcome = row["proposed_outcome"]
    await append_event(actor=actor, action="appeal.sign", subject_type="entry", subject_id=row["entry"],
                       after={"appeal_id": row["id"], "signature": 2, "outcome": outcome,
                              "decision_hash": row["decision_hash"]})
    sha = ""
    if outcome == AppealState.upheld:
        sha = await corrections.correct_for_appeal(actor=actor, appeal_id=row["id"], entry_id=row["entry"])
    await Appeal.update({Appeal.state: outcome, Appeal.second_signed_by: actor.id, Appeal.decided_at: now,
                         Appeal.correction_sha256: sha}).where(Appeal.id == row["id"])
    await append_event(actor=actor, action="appeal.decide", subject_type="entry", subject_id=row["entry"],
                       before={"state": AppealState.open},
                       after={"appeal_id": row["id"], "state": outcome, "reason": row["proposed_reason"],
                              "decision_hash": row["decision_hash"], "signers": 2,
                              "correction_sha256": sha or None})
    entry = await existing(Entry.select(Entry.title, Entry.organisation, Entry.edition.title, Entry.edition.year)
                           .where(Entry.id == row["entry"]))
    if outcome == AppealState.upheld:
        subject = "Your appeal about {title} was upheld"
        text = ("Dear {name},\n\nYour appeal about \"{title}\" ({edition}) was upheld. The reason:\n\n{reason}\n\n"
                "Your innovation receives the Digital Local Government award. The published results were "
                "corrected and say so.\n\nYour result: {url}\nThe results: {results}\n")
    else:
        subject = "Your appeal about {title} was dismissed"
        text = ("Dear {name},\n\nYour appeal about \"{title}\" ({edition}) was dismissed. The reason:\n\n"
                "{reason}\n\nYour result: {url}\n")
    base = get_settings().base_url
    return list(await _staff_mail_jobs(entry["organisation"], f"appeal-decided:{row['id']}", subject, text,
                                       title=entry["title"], edition=entry["edition.title"],
                                       reason=row["proposed_reason"], url=f"{base}/entries/{row['entry']}/result",
                                       results=f"{base}/results/{entry['edition.year']}"))


# --- the supporting document --------------------------------------------------------------------

async def is_recorded_document(storage_key: str) -> bool:
    return await Appeal.exists().where(Appeal.attachment_key == storage_key)


async def record_document_check(*, appeal_id: int, state: str, message: str) -> None:
    await Appeal.update({Appeal.attachment_check_state: state, Appeal.attachment_check_message: message}).where(
        Appeal.id == appeal_id)


async def document_for(actor: Actor, appeal_id: int) -> dict[str, Any]:
    """The supporting document's row, for the organisation's staff and administrators; refused
    to everyone when the virus scan flagged it."""
    row = await _row(appeal_id)
    if row is None or not row["attachment_key"]:
        raise NotFound("No such file.", code="attachment_not_found")
    if not is_organiser(actor):
        await owned_entry(actor, row["entry"])
    if row["attachment_check_state"] == CheckState.infected:
        raise PermissionDenied("A virus was found in this file, so it cannot be downloaded.",
                               code="attachment_infected")
    return {"key": row["attachment_key"], "name": row["attachment_name"],
            "content_type": row["attachment_content_type"]}
