"""The final round's presentation slots: an optional date, time and link per finalist, set by
an admin, and the invitations that tell the finalists about them.

Choices, and why:

* A slot is only ever given to an entry of the final round, that is to a shortlisted entry, so
  showing an organisation its slot tells it that it made the shortlist (and with it the
  "ท้องถิ่นดิจิทัล" award) before the announcement. The contest needs the finalists to present,
  so telling them is meant; it is done on purpose and once, for every finalist together:
  an admin sets the slots (nothing is shown or mailed yet), then sends the invitations
  (``send_invitations``: refused until every finalist has a slot). Until then an organisation
  sees no slot, no link to one and no mail, exactly as if its entry were not in the final.
* The invitation says no more than that: the entry's state still reads "submitted" to the
  organisation (``contest.domain.outcomes.visible_state``), no result, feedback or certificate
  is shown, and the expert panel's decision (winner or finalist, the DG Awards award) stays
  with the admins until the results are published.
* A slot moved after the invitations were sent is mailed again to that organisation only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contest import clock
from contest.db import atomic, existing
from contest.domain import outbox
from contest.domain.audit import Actor, append_event
from contest.enums import Role
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.i18n import format_date, t
from contest.links import web_address
from contest.rules import refuse_pending_member, require_organiser
from contest.settings import get_settings
from contest.tables import Entry, User
from judging.domain.round_rows import get_round_row
from judging.enums import RoundKind, RoundState
from judging.tables import Presentation, Round, RoundEntry


def _parse(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=clock.BANGKOK)
    return None


def _plausible(when: datetime) -> bool:
    """A year a contest can have (0001-01-01 00:00 +07:00 even has no UTC time)."""
    return 2000 <= when.year <= 2199


async def _unsigned_final_round(round_id: int) -> dict[str, Any]:
    """The round's row, once its presentation slots may change: a final round not yet signed."""
    row = await get_round_row(round_id)
    if row["kind"] != RoundKind.final:
        raise Conflict("Presentation slots belong to the final round.", code="not_final")
    if row["state"] == RoundState.signed:
        raise Conflict("This decision is final; it was signed by two administrators.", code="already_final")
    return row


async def set_presentation(*, actor: Actor, round_id: int, entry_id: int, starts_at: Any, minutes: Any = 15,
                           link: str = "", note: str = "") -> dict[str, Any]:
    """Set (or move) a finalist's presentation slot. Once the invitations are sent, the
    organisation's staff are mailed the new slot; before that nobody outside the admins sees it."""
    require_organiser(actor)
    row = await _unsigned_final_round(round_id)
    if not await RoundEntry.exists().where(RoundEntry.key == f"{round_id}:{entry_id}"):
        raise NotFound("Entry {id} is not in this round.", code="entry_not_found", id=entry_id)
    errors: dict[str, str] = {}
    when = _parse(starts_at)
    if when is None:
        errors["starts_at"] = t("Give the date and time, e.g. 2026-12-01T10:00+07:00.")
    elif not _plausible(when):
        errors["starts_at"] = t("Give a date between the years 2000 and 2199 (2543 and 2742 in the Buddhist Era).")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= 240:
        errors["minutes"] = t("Between 5 and 240 minutes.")
    link = (link or "").strip()
    full_link = web_address(link) if link else ""
    if full_link is None:
        errors["link"] = t("Enter a web address, e.g. meet.example.go.th/final or https://meet.example.go.th/final.")
    link = full_link or link
    note = (note or "").strip()
    if len(note) > 2000:
        errors["note"] = t("At most {n} characters.", n=2000)
    if errors:
        raise ValidationFailed(errors=errors)
    entry = await existing(Entry.select(Entry.title, Entry.organisation).where(Entry.id == entry_id))
    assert when is not None  # checked above: a missing time is a field error
    async with atomic():
        key = f"{round_id}:{entry_id}"
        values: dict[Any, Any] = {Presentation.starts_at: when, Presentation.minutes: minutes, Presentation.link: link,
                  Presentation.note: note, Presentation.updated_by: actor.id, Presentation.updated_at: clock.now()}
        if await Presentation.exists().where(Presentation.key == key):
            await Presentation.update(values).where(Presentation.key == key)
        else:
            await Presentation.insert(Presentation(key=key, round=round_id, entry=entry_id, starts_at=when,
                                                   minutes=minutes, link=link, note=note, updated_by=actor.id))
        await append_event(actor=actor, action="final.presentation", subject_type="entry", subject_id=entry_id,
                           after={"starts_at": when.isoformat(), "minutes": minutes, "link": link})
        jobs = []
        if row["invitations_sent_at"] is not None:
            jobs = await _mail_invitation(round_id, entry_id, entry["title"], entry["organisation"],
                                          {"starts_at": when, "minutes": minutes, "link": link, "note": note})
    await outbox.dispatch(jobs)
    return await _view(entry_id)


async def _mail_invitation(round_id: int, entry_id: int, title: str, organisation_id: int,
                           slot: dict[str, Any]) -> list[int | None]:
    """Queue the invitation to one finalist's staff (inside the caller's transaction). It invites
    them to present and says when; it names no outcome."""
    users = await User.select(User.id, User.email, User.locale).where(
        (User.organisation == organisation_id) & (User.role == Role.applicant) & (User.is_active == True))  # noqa: E712
    when = slot["starts_at"]
    stamp = clock.utc_iso(when)
    jobs: list[int | None] = []
    for u in users:
        lang = u["locale"] or "th"
        jobs.append(await outbox.add_job("send_mail", {
            "to": u["email"],
            "subject": t("Your presentation to the expert panel: {at}", lang, at=format_date(when)),
            "text": t("The expert panel invites you to present your innovation \"{title}\" on {at} ({minutes} "
                      "minutes).\n{link}\n{note}\n\nThe results are announced later, for every entry at once.\n"
                      "Details: {url}\n", lang, title=title, at=format_date(when), minutes=slot["minutes"],
                      link=slot["link"], note=slot["note"],
                      url=f"{get_settings().base_url}/entries/{entry_id}/presentation")},
            dedupe_key=f"presentation:{round_id}:{entry_id}:{u['id']}:{stamp}"))
    return jobs


async def send_invitations(*, actor: Actor, round_id: int) -> int:
    """Invite every finalist of a final round to present: from now on each organisation sees its
    own slot and is mailed it. Telling the finalists is deliberate and happens once, for all of
    them together, so it is refused until every finalist has a slot (409 ``slots_missing``), once
    the invitations have gone (409 ``invitations_sent``) and after the decision is signed.
    Returns how many finalists were invited."""
    require_organiser(actor)
    row = await _unsigned_final_round(round_id)
    if row["state"] == RoundState.draft:
        raise Conflict("The finalists are taken when the round opens; their slots can be set then.",
                       code="round_state", state=row["state"])
    async with atomic():
        if await Round.exists().where((Round.id == round_id) & Round.invitations_sent_at.is_not_null()):
            raise Conflict("The finalists were already invited to present.", code="invitations_sent")
        finalists = [r["entry"] for r in await RoundEntry.select(RoundEntry.entry).where(RoundEntry.round == round_id)]
        slots = {r["entry"]: r for r in await Presentation.select().where(Presentation.round == round_id)}
        missing = [e for e in finalists if e not in slots]
        if missing:
            raise Conflict("{n} finalists have no presentation slot yet: give every finalist a slot first.",
                           code="slots_missing", n=len(missing), entry_ids=missing)
        now = clock.now()
        claimed = await Round.update({Round.invitations_sent_at: now, Round.updated_at: now}).where(
            (Round.id == round_id) & Round.invitations_sent_at.is_null()).returning(Round.id)
        if not claimed:
            raise Conflict("The finalists were already invited to present.", code="invitations_sent")
        entries = {e["id"]: e for e in await Entry.select(Entry.id, Entry.title, Entry.organisation).where(
            Entry.id.is_in(finalists or [-1]))}
        jobs: list[int | None] = []
        for entry_id in finalists:
            e = entries[entry_id]
            jobs.extend(await _mail_invitation(round_id, entry_id, e["title"], e["organisation"], slots[entry_id]))
        await append_event(actor=actor, action="final.invitations", subject_type="round", subject_id=round_id,
                           after={"finalists": len(finalists)})
    await outbox.dispatch(jobs)
    return len(finalists)


async def _view(entry_id: int) -> dict[str, Any]:
    row = await Presentation.select().where(Presentation.entry == entry_id).order_by(
        Presentation.id, ascending=False).first()
    if row is None:
        raise NotFound("No presentation is scheduled for this entry.", code="no_presentation")
    return {"entry_id": entry_id, "round_id": row["round"], "starts_at": row["starts_at"], "minutes": row["minutes"],
            "link": row["link"], "note": row["note"]}


async def get_presentation(actor: Actor | None, entry_id: int) -> dict[str, Any]:
    """The finalist's own slot: for an admin, and for its organisation's staff once the
    invitations are sent (before that the same 404 as for an entry with no slot); 404 otherwise."""
    entry = await Entry.select(Entry.organisation).where(Entry.id == entry_id).first()
    admin = actor is not None and actor.role == Role.admin
    allowed = actor is not None and entry is not None and (
        admin or (actor.role == Role.applicant and actor.organisation_id == entry["organisation"]))
    if not allowed:
        refuse_pending_member(actor, entry["organisation"] if entry else None)
        raise NotFound("No such entry.", code="entry_not_found")
    if not admin and not await Presentation.exists().where(
            (Presentation.entry == entry_id) & Presentation.round.invitations_sent_at.is_not_null()):
        raise NotFound("No presentation is scheduled for this entry.", code="no_presentation")
    return await _view(entry_id)


async def invitations_sent_at(round_id: int) -> Any:
    """When the round's finalists were invited to present (None: not yet)."""
    row = await Round.select(Round.invitations_sent_at).where(Round.id == round_id).first()
    return row["invitations_sent_at"] if row else None


async def list_presentations(round_id: int) -> list[dict[str, Any]]:
    rows = await Presentation.select().where(Presentation.round == round_id).order_by(Presentation.starts_at)
    return [{"entry_id": r["entry"], "starts_at": r["starts_at"], "minutes": r["minutes"], "link": r["link"],
             "note": r["note"]} for r in rows]


async def presentation_links(entry_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """"My entries" links a finalist to its presentation page once the invitations are sent
    (one query)."""
    rows = await Presentation.select(Presentation.entry).where(
        Presentation.entry.is_in(entry_ids) & Presentation.round.invitations_sent_at.is_not_null())
    return {r["entry"]: [{"href": f"/entries/{r['entry']}/presentation",
                          "label": "Your presentation to the expert panel"}] for r in rows}
