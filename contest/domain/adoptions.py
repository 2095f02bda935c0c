"""The adoption network (การขยายผลนวัตกรรม): awarded innovations spreading to other organisations.

A verified member of another organisation asks, from the showcase, to adopt an awarded
innovation, with a message. A verified member of the owning organisation accepts or declines it,
with a message. Acceptance shares each side's contact person with the other: the person who asked
agreed to share theirs by asking, the person who accepts by accepting. The adopter later reports
its own service ``in_service``, with the date it went live and a link.

Only organisations are public: the showcase counts the adopters of each innovation and names
them with their province, and the open data lists who adopted what, from whom and when, with no
person and no message in it. Every step is audited and every mail goes through the outbox.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

from contest import clock, dates
from contest.db import atomic, lock_row
from contest.domain import outbox
from contest.domain.announcement import LICENCE, PublishedResults, get_results
from contest.domain.audit import Actor, append_event
from contest.domain.memberships import verified_member_emails
from contest.enums import AdoptionState, Role
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import mail_text, t
from contest.links import web_address
from contest.rules import is_admin, raise_membership_pending
from contest.settings import get_settings
from contest.spreadsheets import neutralise_formula
from contest.tables import Adoption, Entry

MESSAGE_MAX = 2000
#: An organisation may have one of these per innovation at a time.
OPEN_STATES = (AdoptionState.requested, AdoptionState.accepted, AdoptionState.in_service)
#: The states in which the innovation counts as taken up, and contacts are shared.
TAKEN_UP = (AdoptionState.accepted, AdoptionState.in_service)

OPEN_DATA_COLUMNS = (
    "year", "entry_id", "innovation_title", "owner_organisation_code", "owner_organisation_name_th",
    "owner_province_name_th", "adopter_organisation_code", "adopter_organisation_name_th",
    "adopter_organisation_kind", "adopter_province_code", "adopter_province_name_th", "state",
    "requested_on", "accepted_on", "in_service_since", "service_url",
)
OPEN_DATA_DICTIONARY = {
    "year": "ปีการประกวด (พ.ศ.) ที่นวัตกรรมได้รับรางวัล / Contest year (Buddhist Era) of the award",
    "entry_id": "เลขที่ผลงานที่ได้รับรางวัล / Number of the awarded entry",
    "innovation_title": "ชื่อนวัตกรรม / Title of the innovation",
    "owner_organisation_code": "รหัสหน่วยงานเจ้าของนวัตกรรม / Registry code of the owning organisation",
    "owner_organisation_name_th": "ชื่อหน่วยงานเจ้าของนวัตกรรม / Name of the owning organisation",
    "owner_province_name_th": "จังหวัดของหน่วยงานเจ้าของ / Province of the owning organisation",
    "adopter_organisation_code": "รหัสหน่วยงานที่นำไปใช้ / Registry code of the adopting organisation",
    "adopter_organisation_name_th": "ชื่อหน่วยงานที่นำไปใช้ / Name of the adopting organisation",
    "adopter_organisation_kind": "ประเภทหน่วยงานที่นำไปใช้ / Kind of the adopting organisation",
    "adopter_province_code": "รหัสจังหวัดของหน่วยงานที่นำไปใช้ / Province code of the adopter",
    "adopter_province_name_th": "จังหวัดของหน่วยงานที่นำไปใช้ / Province of the adopter",
    "state": "สถานะ: accepted = ตกลงขยายผลแล้ว, in_service = เปิดให้บริการแล้ว / "
             "State: accepted = agreed, in_service = the adopter's service is live",
    "requested_on": "วันที่ขอนำไปใช้ (ค.ศ. ISO 8601) / Date of the request (ISO 8601)",
    "accepted_on": "วันที่เจ้าของตกลง (ค.ศ. ISO 8601) / Date the owner accepted (ISO 8601)",
    "in_service_since": "วันที่เริ่มให้บริการของหน่วยงานที่นำไปใช้ / Date the adopter's service went live",
    "service_url": "ลิงก์บริการของหน่วยงานที่นำไปใช้ / Link to the adopter's service",
}


# --- reading ---------------------------------------------------------------------------------------

def _select() -> Any:
    return Adoption.select(
        *Adoption.all_columns(),
        Adoption.entry.title.as_alias("innovation_title"),
        Adoption.entry._.edition._.year.as_alias("year"),
        Adoption.owner_organisation.code.as_alias("owner_code"),
        Adoption.owner_organisation.name_th.as_alias("owner_name_th"),
        Adoption.owner_organisation.province_name_th.as_alias("owner_province_name_th"),
        Adoption.adopter_organisation.code.as_alias("adopter_code"),
        Adoption.adopter_organisation.name_th.as_alias("adopter_name_th"),
        Adoption.adopter_organisation.kind.as_alias("adopter_kind"),
        Adoption.adopter_organisation.province_code.as_alias("adopter_province_code"),
        Adoption.adopter_organisation.province_name_th.as_alias("adopter_province_name_th"),
        Adoption.requested_by.name.as_alias("requester_name"),
        Adoption.requested_by.email.as_alias("requester_email"),
        Adoption.answered_by.name.as_alias("answerer_name"),
        Adoption.answered_by.email.as_alias("answerer_email"),
    )


def _side(actor: Actor, row: dict[str, Any]) -> str | None:
    """Which party the actor acts for: ``owner``, ``adopter``, or None."""
    if actor.organisation_id is None:
        return None
    if actor.organisation_id == row["owner_organisation"]:
        return "owner"
    if actor.organisation_id == row["adopter_organisation"]:
        return "adopter"
    return None


def _view(actor: Actor, row: dict[str, Any]) -> dict[str, Any]:
    side = _side(actor, row)
    shared = row["state"] in TAKEN_UP and (side is not None or is_admin(actor))
    contacts = None
    if shared:
        contacts = {"requester": {"name": row["requester_name"] or "", "email": row["requester_email"] or ""},
                    "answerer": {"name": row["answerer_name"] or "", "email": row["answerer_email"] or ""}}
    return {
        "id": row["id"], "state": row["state"], "entry_id": row["entry"], "year": row["year"],
        "innovation_title": row["innovation_title"], "side": side,
        "owner_organisation_code": row["owner_code"], "owner_organisation_name_th": row["owner_name_th"],
        "adopter_organisation_code": row["adopter_code"], "adopter_organisation_name_th": row["adopter_name_th"],
        "adopter_province_name_th": row["adopter_province_name_th"],
        "message": row["message"], "requested_at": row["requested_at"],
        "answer_message": row["answer_message"], "answered_at": row["answered_at"],
        "in_service_since": row["in_service_since"], "service_url": row["service_url"],
        "contacts": contacts,
    }


def require_member(actor: Actor) -> int:
    """The organisation the actor acts for, verified; else a clear refusal."""
    if actor.role == Role.applicant and actor.organisation_id is None and actor.pending_organisation_id:
        raise_membership_pending()
    if actor.role != Role.applicant or actor.organisation_id is None:
        raise PermissionDenied("Only verified staff of a local organisation can do this.",
                               code="organisation_member_only")
    return actor.organisation_id


async def _visible_row(actor: Actor, adoption_id: int) -> dict[str, Any]:
    row = await _select().where(Adoption.id == adoption_id).first()
    if row is None or not (is_admin(actor) or _side(actor, row)):
        # Other organisations may not learn that the request exists.
        raise NotFound("No such adoption request.", code="adoption_not_found")
    return row


async def get_adoption(actor: Actor, adoption_id: int) -> dict[str, Any]:
    return _view(actor, await _visible_row(actor, adoption_id))


async def list_adoptions(actor: Actor, *, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Admins: every request; a verified member: those its organisation sent or received."""
    if state and state not in AdoptionState.__members__:
        raise ValidationFailed(errors={"state": t("Unknown state.")}, code="invalid_state")
    query = _select()
    if not is_admin(actor):
        organisation = require_member(actor)
        query = query.where((Adoption.owner_organisation == organisation)
                            | (Adoption.adopter_organisation == organisation))
    if state:
        query = query.where(Adoption.state == state)
    rows = await query.order_by(Adoption.id, ascending=False).limit(limit)
    return [_view(actor, r) for r in rows]


# --- the awarded innovation ----------------------------------------------------------------------

async def awarded_innovation(entry_id: int) -> tuple[PublishedResults, dict[str, Any]]:
    """The published snapshot and its item for an awarded entry; 404 for anything else."""
    row = await Entry.select(Entry.edition.year.as_alias("year")).where(Entry.id == entry_id).first()
    if row is None:
        raise NotFound("No such awarded innovation.", code="not_found")
    results = await get_results(row["year"])
    for item in results.document["awarded"]:
        if item["entry_id"] == entry_id:
            return results, item
    raise NotFound("No such awarded innovation.", code="not_found")


def _text(value: Any, field: str, *, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(errors={field: t("Write a message as text.")})
    if required and not text:
        raise ValidationFailed(errors={field: t("Write a message to the other organisation.")},
                               code="message_required")
    if len(text) > MESSAGE_MAX:
        raise ValidationFailed(errors={field: t("At most {n} characters.", n=MESSAGE_MAX)})
    return text


def _require_consent(share_contact: bool) -> None:
    if share_contact is not True:
        raise ValidationFailed(errors={"share_contact": t(
            "Agree to share your name and e-mail with the other organisation: it is how the two "
            "organisations reach each other.")}, code="contact_consent_required")


# --- mails -----------------------------------------------------------------------------------------

async def _mail(to: list[str], subject: str, text: str, key: str) -> list[int | None]:
    return list(await outbox.add_jobs("send_mail", [({"to": address, "subject": subject, "text": text},
                                                     f"{key}:{address}") for address in to]))


def _link() -> str:
    return f"{get_settings().base_url}/organisation/adoptions"


# --- the steps -------------------------------------------------------------------------------------

async def request_adoption(*, actor: Actor, entry_id: int, message: Any, share_contact: bool = True
                           ) -> dict[str, Any]:
    """Ask to adopt an awarded innovation for the actor's own organisation."""
    adopter = require_member(actor)
    _results, item = await awarded_innovation(entry_id)
    text = _text(message, "message", required=True)
    _require_consent(share_contact)
    owner_row = await Entry.select(Entry.organisation).where(Entry.id == entry_id).first()
    owner = owner_row["organisation"] if owner_row else None
    if owner == adopter:
        raise Conflict("This is your own organisation's innovation.", code="own_innovation")
    async with atomic():
        await lock_row("organisation", adopter)
        if await Adoption.exists().where((Adoption.entry == entry_id) & (Adoption.adopter_organisation == adopter)
                                         & Adoption.state.is_in(list(OPEN_STATES))):
            raise Conflict("Your organisation has already asked to adopt this innovation.", code="adoption_exists")
        created = await Adoption.insert(Adoption(
            entry=entry_id, owner_organisation=owner, adopter_organisation=adopter,
            state=AdoptionState.requested, message=text, requested_by=actor.id, requested_at=clock.now(),
        )).returning(Adoption.id)
        adoption_id = created[0]["id"]
        await append_event(actor=actor, action="adoption.request", subject_type="adoption", subject_id=adoption_id,
                           after={"entry_id": entry_id, "adopter_organisation_id": adopter,
                                  "owner_organisation_id": owner, "state": AdoptionState.requested.value})
        row = await _select().where(Adoption.id == adoption_id).first()
        jobs = await _mail(await verified_member_emails(owner) if owner else [],
                           t("{organisation} asks to adopt your innovation", "th",
                             organisation=row["adopter_name_th"]),
                           mail_text("{organisation} ({province}) asks to adopt your innovation \"{title}\".\n\n"
                                      "Their message:\n{note}\n\nAccept or decline it here:\n{link}\n",
                                      organisation=row["adopter_name_th"],
                                      province=row["adopter_province_name_th"], title=item["title"],
                                      note=text, link=_link()),
                           f"adoption-requested:{adoption_id}")
    await outbox.dispatch(jobs)
    return _view(actor, row)


async def _party_row(actor: Actor, adoption_id: int, side: str, expected: tuple[str, ...]) -> dict[str, Any]:
    """Inside the caller's transaction: the locked request, if the actor acts for ``side``."""
    require_member(actor)
    await lock_row("adoption", adoption_id)
    row = await _select().where(Adoption.id == adoption_id).first()
    if row is None or _side(actor, row) is None:
        raise NotFound("No such adoption request.", code="adoption_not_found")
    if _side(actor, row) != side:
        message = ("Only the organisation that owns the innovation can answer." if side == "owner"
                   else "Only the organisation that asked can do this.")
        raise PermissionDenied(message, code="wrong_party")
    if row["state"] not in expected:
        raise Conflict("This adoption request is {state} already.", code="adoption_state", state=row["state"])
    return row


async def answer(*, actor: Actor, adoption_id: int, accept: Any, message: Any, share_contact: bool = True
                 ) -> dict[str, Any]:
    """The owning organisation accepts (sharing contacts) or declines (saying why)."""
    if not isinstance(accept, bool):
        raise ValidationFailed(errors={"accept": t("Say whether you accept: true or false.")})
    text = _text(message, "message", required=not accept)
    if accept:
        _require_consent(share_contact)
    state = AdoptionState.accepted if accept else AdoptionState.declined
    async with atomic():
        row = await _party_row(actor, adoption_id, "owner", (AdoptionState.requested,))
        await Adoption.update({Adoption.state: state, Adoption.answer_message: text, Adoption.answered_by: actor.id,
                               Adoption.answered_at: clock.now()}).where(Adoption.id == adoption_id)
        await append_event(actor=actor, action="adoption.answer", subject_type="adoption", subject_id=adoption_id,
                           before={"state": row["state"]}, after={"state": state.value})
        row = await _select().where(Adoption.id == adoption_id).first()
        to = sorted(set(await verified_member_emails(row["adopter_organisation"])) | (
            {row["requester_email"]} if row["requester_email"] else set()))
        if accept:
            subject = t("{organisation} agreed to share its innovation", "th", organisation=row["owner_name_th"])
            text_mail = mail_text(
                "{organisation} accepted your request to adopt \"{title}\".\n\nTheir message:\n{note}\n\n"
                "Their contact person: {name} <{email}>\n\nWhen your own service is live, say so here:\n{link}\n",
                organisation=row["owner_name_th"], title=row["innovation_title"], note=text or "-",
                name=row["answerer_name"] or "-", email=row["answerer_email"] or "-", link=_link())
        else:
            subject = t("{organisation} declined your adoption request", "th", organisation=row["owner_name_th"])
            text_mail = mail_text("{organisation} declined your request to adopt \"{title}\".\nReason: {note}\n",
                                   organisation=row["owner_name_th"], title=row["innovation_title"], note=text)
        jobs = await _mail(to, subject, text_mail, f"adoption-answered:{adoption_id}")
    await outbox.dispatch(jobs)
    return _view(actor, row)


async def withdraw(*, actor: Actor, adoption_id: int) -> dict[str, Any]:
    """The adopter takes back a request that has no answer yet."""
    async with atomic():
        row = await _party_row(actor, adoption_id, "adopter", (AdoptionState.requested,))
        await Adoption.update({Adoption.state: AdoptionState.withdrawn, Adoption.closed_at: clock.now()}).where(
            Adoption.id == adoption_id)
        await append_event(actor=actor, action="adoption.withdraw", subject_type="adoption", subject_id=adoption_id,
                           before={"state": row["state"]}, after={"state": AdoptionState.withdrawn.value})
    return await get_adoption(actor, adoption_id)


def _service_date(value: Any) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, date):
        raise ValidationFailed(errors={"in_service_since": t("Give the date the service went live.")},
                               code="invalid_date")
    future = dates.not_after(value, clock.to_bangkok(clock.now()).date(), "Live since")
    if future:
        raise ValidationFailed(errors={"in_service_since": future}, code="invalid_date")
    return value


async def report_in_service(*, actor: Actor, adoption_id: int, since: Any, url: Any) -> dict[str, Any]:
    """The adopter's own service is live: since when, and where."""
    day = _service_date(since)
    address = web_address(url) if isinstance(url, str) and url.strip() else None
    if address is None or len(address) > 500:
        raise ValidationFailed(errors={"url": t("Give the web address of your service, such as www.example.go.th.")},
                               code="invalid_url")
    async with atomic():
        row = await _party_row(actor, adoption_id, "adopter", (AdoptionState.accepted, AdoptionState.in_service))
        await Adoption.update({Adoption.state: AdoptionState.in_service, Adoption.in_service_since: day,
                               Adoption.service_url: address, Adoption.in_service_at: clock.now()}).where(
            Adoption.id == adoption_id)
        await append_event(actor=actor, action="adoption.in_service", subject_type="adoption",
                           subject_id=adoption_id, before={"state": row["state"]},
                           after={"state": AdoptionState.in_service.value, "in_service_since": day.isoformat(),
                                  "service_url": address})
        jobs = await _mail(await verified_member_emails(row["owner_organisation"]),
                           t("{organisation} now runs your innovation", "th", organisation=row["adopter_name_th"]),
                           mail_text("{organisation} reports that its service based on \"{title}\" is live since "
                                      "{day}: {url}\n", organisation=row["adopter_name_th"],
                                      title=row["innovation_title"], day=day.isoformat(), url=address),
                           f"adoption-in-service:{adoption_id}:{day.isoformat()}")
    await outbox.dispatch(jobs)
    return await get_adoption(actor, adoption_id)


# --- public figures ----------------------------------------------------------------------------------

async def taken_up(entry_ids: list[int]) -> tuple[dict[int, dict[str, Any]], str]:
    """For each innovation: how many organisations run it (``in_service``), how many agreed to
    (``accepted``), and the adopters by name and province, live ones first; and a stamp that
    changes whenever these figures do (for cache validators)."""
    if not entry_ids:
        return {}, ""
    rows = await Adoption.select(
        Adoption.id, Adoption.entry, Adoption.state, Adoption.in_service_since,
        Adoption.adopter_organisation.name_th.as_alias("name_th"),
        Adoption.adopter_organisation.name_en.as_alias("name_en"),
        Adoption.adopter_organisation.province_name_th.as_alias("province_name_th"),
        Adoption.adopter_organisation.province_name_en.as_alias("province_name_en"),
    ).where(Adoption.entry.is_in(entry_ids) & Adoption.state.is_in(list(TAKEN_UP))).order_by(Adoption.id)
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        one = out.setdefault(r["entry"], {"in_service": 0, "accepted": 0, "adopters": []})
        live = r["state"] == AdoptionState.in_service
        one["in_service" if live else "accepted"] += 1
        one["adopters"].append({"name_th": r["name_th"], "name_en": r["name_en"] or "", "live": live,
                                "province_name_th": r["province_name_th"],
                                "province_name_en": r["province_name_en"] or "",
                                "since": r["in_service_since"]})
    for one in out.values():
        one["adopters"].sort(key=lambda a: (not a["live"], a["province_name_th"], a["name_th"]))
    stamp = ",".join(f"{r['id']}:{r['state']}:{r['in_service_since']}" for r in rows)
    return out, stamp


async def _public_rows() -> list[dict[str, Any]]:
    rows = await _select().where(Adoption.state.is_in(list(TAKEN_UP))).order_by(Adoption.id)
    out = []
    for r in rows:
        out.append({
            "year": r["year"], "entry_id": r["entry"], "innovation_title": r["innovation_title"],
            "owner_organisation_code": r["owner_code"], "owner_organisation_name_th": r["owner_name_th"],
            "owner_province_name_th": r["owner_province_name_th"],
            "adopter_organisation_code": r["adopter_code"], "adopter_organisation_name_th": r["adopter_name_th"],
            "adopter_organisation_kind": r["adopter_kind"], "adopter_province_code": r["adopter_province_code"],
            "adopter_province_name_th": r["adopter_province_name_th"], "state": r["state"],
            "requested_on": clock.to_bangkok(r["requested_at"]).date().isoformat(),
            "accepted_on": clock.to_bangkok(r["answered_at"]).date().isoformat() if r["answered_at"] else "",
            "in_service_since": r["in_service_since"].isoformat() if r["in_service_since"] else "",
            "service_url": r["service_url"] or "",
        })
    return out


async def open_data_csv() -> bytes:
    """adoptions.csv: UTF-8 with BOM, one row per adoption agreed or live; organisations only."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(OPEN_DATA_COLUMNS)
    for row in await _public_rows():
        writer.writerow([neutralise_formula(row[c]) if isinstance(row[c], str) else row[c]
                         for c in OPEN_DATA_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def open_data_json() -> dict[str, Any]:
    return {"licence": LICENCE, "data_dictionary": OPEN_DATA_DICTIONARY, "records": await _public_rows()}


# --- the organisers' view ----------------------------------------------------------------------------

async def overview() -> dict[str, Any]:
    """DGA's view: adoption by the adopter's province, by innovation, and by month (Bangkok)."""
    rows = await _select().order_by(Adoption.id)
    by_province: dict[str, Counter[str]] = defaultdict(Counter)
    by_innovation: dict[int, dict[str, Any]] = {}
    by_month: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        state = r["state"]
        by_province[r["adopter_province_name_th"]][state] += 1
        one = by_innovation.setdefault(r["entry"], {"entry_id": r["entry"], "year": r["year"],
                                                    "title": r["innovation_title"],
                                                    "owner_name_th": r["owner_name_th"], "counts": Counter()})
        one["counts"][state] += 1
        by_month[clock.to_bangkok(r["requested_at"]).strftime("%Y-%m")]["requested"] += 1
        if r["answered_at"] and state in TAKEN_UP:
            by_month[clock.to_bangkok(r["answered_at"]).strftime("%Y-%m")]["accepted"] += 1
        if r["in_service_since"]:
            by_month[r["in_service_since"].strftime("%Y-%m")]["in_service"] += 1
    return {
        "total": len(rows),
        "by_state": Counter(r["state"] for r in rows),
        "by_province": sorted(({"province_name_th": p, "counts": c} for p, c in by_province.items()),
                              key=lambda x: (-sum(x["counts"][s] for s in TAKEN_UP), x["province_name_th"])),
        "by_innovation": sorted(by_innovation.values(),
                                key=lambda x: (-sum(x["counts"][s] for s in TAKEN_UP), -x["year"], x["entry_id"])),
        "by_month": [{"month": m, "counts": by_month[m]} for m in sorted(by_month)],
    }
