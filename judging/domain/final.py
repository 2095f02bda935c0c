"""The final round's presentation slots: an optional date, time and link per finalist, set by
an admin and shown to the finalist's organisation (mailed through the outbox when set)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from contest import clock
from contest.db import atomic
from contest.domain import entries as contest_entries
from contest.domain import outbox
from contest.domain.audit import Actor, append_event
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.i18n import format_date, t
from contest.settings import get_settings
from contest.tables import Entry, User
from judging.domain.rounds import _require_admin, get_round_row
from judging.tables import Presentation, RoundEntry


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


async def set_presentation(*, actor: Actor, round_id: int, entry_id: int, starts_at: Any, minutes: Any = 15,
                           link: str = "", note: str = "") -> dict[str, Any]:
    """Set (or move) a finalist's presentation slot; the organisation's staff are mailed."""
    _require_admin(actor)
    row = await get_round_row(round_id)
    if row["kind"] != "final":
        raise Conflict("Presentation slots belong to the final round.", code="not_final")
    if row["state"] == "signed":
        raise Conflict("This decision is final; it was signed by two administrators.", code="already_final")
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
    if link and (urlparse(link).scheme not in ("https", "http") or not urlparse(link).netloc or len(link) > 500):
        errors["link"] = t("A web address starting with https://")
    note = (note or "").strip()
    if len(note) > 2000:
        errors["note"] = t("At most {n} characters.", n=2000)
    if errors:
        raise ValidationFailed(errors=errors)
    entry = await Entry.select(Entry.title, Entry.organisation).where(Entry.id == entry_id).first()
    async with atomic():
        key = f"{round_id}:{entry_id}"
        values = {Presentation.starts_at: when, Presentation.minutes: minutes, Presentation.link: link,
                  Presentation.note: note, Presentation.updated_by: actor.id, Presentation.updated_at: clock.now()}
        if await Presentation.exists().where(Presentation.key == key):
            await Presentation.update(values).where(Presentation.key == key)
        else:
            await Presentation.insert(Presentation(key=key, round=round_id, entry=entry_id, starts_at=when,
                                                   minutes=minutes, link=link, note=note, updated_by=actor.id))
        await append_event(actor=actor, action="final.presentation", subject_type="entry", subject_id=entry_id,
                           after={"starts_at": when.isoformat(), "minutes": minutes, "link": link})
        users = await User.select(User.id, User.email, User.locale).where(
            (User.organisation == entry["organisation"]) & (User.role == "applicant") & (User.is_active == True))  # noqa: E712
        stamp = clock.utc_iso(when)
        jobs = []
        for u in users:
            lang = u["locale"] or "th"
            jobs.append(await outbox.add_job("send_mail", {
                "to": u["email"],
                "subject": t("Your presentation to the expert panel: {at}", lang, at=format_date(when)),
                "text": t("Your innovation \"{title}\" is a finalist. Please present it to the expert panel on "
                          "{at} ({minutes} minutes).\n{link}\n{note}\n\nDetails: {url}\n", lang, title=entry["title"],
                          at=format_date(when), minutes=minutes, link=link, note=note,
                          url=f"{get_settings().base_url}/entries/{entry_id}/presentation")},
                dedupe_key=f"presentation:{round_id}:{entry_id}:{u['id']}:{stamp}"))
    await outbox.dispatch(jobs)
    return await _view(entry_id)


async def _view(entry_id: int) -> dict[str, Any]:
    row = await Presentation.select().where(Presentation.entry == entry_id).order_by(
        Presentation.id, ascending=False).first()
    if row is None:
        raise NotFound("No presentation is scheduled for this entry.", code="no_presentation")
    return {"entry_id": entry_id, "round_id": row["round"], "starts_at": row["starts_at"], "minutes": row["minutes"],
            "link": row["link"], "note": row["note"]}


async def get_presentation(actor: Actor | None, entry_id: int) -> dict[str, Any]:
    """The finalist's own slot (its organisation's staff, or an admin); 404 otherwise."""
    entry = await Entry.select(Entry.organisation).where(Entry.id == entry_id).first()
    allowed = actor is not None and entry is not None and (
        actor.role == "admin" or (actor.role == "applicant" and actor.organisation_id == entry["organisation"]))
    if not allowed:
        raise NotFound("No such entry.", code="entry_not_found")
    return await _view(entry_id)


async def list_presentations(round_id: int) -> list[dict[str, Any]]:
    rows = await Presentation.select().where(Presentation.round == round_id).order_by(Presentation.starts_at)
    return [{"entry_id": r["entry"], "starts_at": r["starts_at"], "minutes": r["minutes"], "link": r["link"],
             "note": r["note"]} for r in rows]


async def presentation_links(entry_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """"My entries" links a finalist to its presentation page once a slot is set (one query)."""
    rows = await Presentation.select(Presentation.entry).where(Presentation.entry.is_in(entry_ids))
    return {r["entry"]: [{"href": f"/entries/{r['entry']}/presentation",
                          "label": "Your presentation to the expert panel"}] for r in rows}


contest_entries.register_entry_links(presentation_links)
