"""Entries and submission: drafts, attachments, the deadline, receipts, withdrawal.

The deadline is decided here on server time (Asia/Bangkok is only how it is shown). Every
state change runs in one transaction, writes an audit event, and anything mailed goes through
the outbox. Callers who may not know an entry exists get ``NotFound``, never ``PermissionDenied``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlparse

from piccolo.query.functions.aggregate import Count

from contest import clock
from contest.db import atomic, existing, lock_row, stored_json
from contest.domain import outbox
from contest.domain.audit import Actor, append_event
from contest.domain.outcomes import visible_entry, visible_state, visible_state_condition
from contest.enums import EntryStates
from contest.errors import Conflict, NotFound, PayloadTooLarge, PermissionDenied, ValidationFailed
from contest.i18n import current_language, format_date, t
from contest.numbers import whole_number
from contest.rules import is_organiser, refuse_any_pending, refuse_pending_member
from contest.settings import get_settings
from contest.tables import Attachment, DeadlineExtension, Edition, Entry, Organisation, Receipt

EDITABLE_STATES = EntryStates.EDITABLE
LIVE_STATES = EntryStates.LIVE
ATTACHMENT_KINDS = ("presentation", "document", "image", "video", "other")
MAX_FILES_PER_ENTRY = 20
TEXT_LIMITS = {"title": 200, "summary": 1500, "problem": 5000, "solution": 5000, "results": 5000,
               "technology": 3000, "contact_name": 200, "contact_phone": 32, "video_url": 500,
               "contact_email": 254}
FIELDS = ("title", "category", "summary", "problem", "solution", "citizens_served", "results",
          "in_service_since", "technology", "links", "video_url", "contact_name", "contact_email",
          "contact_phone", "consent_publish")
REQUIRED_TO_SUBMIT = ("title", "category", "summary", "problem", "solution", "results", "contact_name",
                      "contact_email")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9+\-() ]{6,32}$")

# Others who may read an entry (judging registers "an assigned reviewer" here; contest never
# imports judging).
EntryViewer = Callable[[Actor, int], Awaitable[bool]]
EXTRA_VIEWERS: list[EntryViewer] = []
# Pages of an entry that other packages add (judging: the finalist's presentation slot). Each
# provider answers for many entries in one query: entry id -> [{"href", "label"}], where
# ``label`` is an English message id.
EntryLinks = Callable[[list[int]], Awaitable[dict[int, list[dict[str, str]]]]]
LINK_PROVIDERS: list[EntryLinks] = []


def register_viewer(predicate: EntryViewer) -> None:
    if predicate not in EXTRA_VIEWERS:
        EXTRA_VIEWERS.append(predicate)


def register_entry_links(provider: EntryLinks) -> None:
    if provider not in LINK_PROVIDERS:
        LINK_PROVIDERS.append(provider)


async def entry_links(entry_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Extra pages for these entries, one query per provider whatever the number of entries."""
    out: dict[int, list[dict[str, str]]] = {}
    if not entry_ids:
        return out
    for provider in LINK_PROVIDERS:
        for entry_id, links in (await provider(entry_ids)).items():
            out.setdefault(entry_id, []).extend(links)
    return out


# --- reading ------------------------------------------------------------------------------------



def _entry_dict(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["links"] = stored_json(row.get("links"), [])
    return out


async def _entry_row(entry_id: int) -> dict[str, Any] | None:
    return await Entry.select().where(Entry.id == entry_id).first()


async def can_view_entry(actor: Actor | None, entry: dict[str, Any]) -> bool:
    if actor is None:
        return False
    if is_organiser(actor):
        return True
    if actor.role == "applicant" and actor.organisation_id == entry["organisation"]:
        return True
    for predicate in EXTRA_VIEWERS:
        if await predicate(actor, entry["id"]):
            return True
    return False


def is_owner(actor: Actor | None, entry: dict[str, Any]) -> bool:
    return actor is not None and actor.role == "applicant" and actor.organisation_id == entry["organisation"]


async def _owned_entry(actor: Actor, entry_id: int) -> dict[str, Any]:
    row = await _entry_row(entry_id)
    if row is None or not is_owner(actor, row):
        refuse_pending_member(actor, row["organisation"] if row else None)
        raise NotFound("No such entry.", code="entry_not_found")
    return row


@dataclass(frozen=True)
class EntryDetail:
    entry: dict[str, Any]
    attachments: list[dict[str, Any]]
    receipts: list[dict[str, Any]]
    edition: dict[str, Any]
    organisation: dict[str, Any]
    closes_at: datetime
    editable: bool

    @property
    def unsubmitted_changes(self) -> bool:
        sub = self.entry.get("submitted_revision")
        return sub is not None and sub != self.entry["revision"] and self.entry["state"] == "submitted"


async def deadline_for(edition: dict[str, Any], organisation_id: int) -> datetime:
    """The organisation's deadline: the edition's, or a later one an admin granted."""
    ext = await DeadlineExtension.select(DeadlineExtension.closes_at).where(
        (DeadlineExtension.edition == edition["id"]) & (DeadlineExtension.organisation == organisation_id)
    ).order_by(DeadlineExtension.closes_at, ascending=False).first()
    closes = edition["submission_closes_at"]
    if ext and ext["closes_at"] > closes:
        return ext["closes_at"]
    return closes


async def get_entry(actor: Actor | None, entry_id: int) -> EntryDetail:
    row = await _entry_row(entry_id)
    if row is None or not await can_view_entry(actor, row):
        refuse_pending_member(actor, row["organisation"] if row else None)
        raise NotFound("No such entry.", code="entry_not_found")
    attachments = await Attachment.select().where(
        (Attachment.entry == entry_id) & Attachment.deleted_at.is_null()).order_by(Attachment.id)
    receipts = await Receipt.select().where(Receipt.entry == entry_id).order_by(Receipt.sequence, ascending=False)
    edition = await existing(Edition.select().where(Edition.id == row["edition"]))
    org = await existing(Organisation.select().where(Organisation.id == row["organisation"]))
    closes = await deadline_for(edition, row["organisation"])
    editable = row["state"] in EDITABLE_STATES and clock.now() < closes and is_owner(actor, row)
    for r in receipts:
        r["files"] = stored_json(r["files"], [])
        r["snapshot"] = stored_json(r["snapshot"], {})
    for a in attachments:
        a["check_details"] = stored_json(a["check_details"], {})
    # The state as this caller may see it: a verdict stays with the admins until publication.
    entry = visible_entry(_entry_dict(row), viewer=actor, published_at=edition["published_at"])
    if not is_owner(actor, row) and not is_organiser(actor):
        # Reviewers read the innovation, not the organisation's contact person (PDPA: the minimum).
        entry.update(contact_name="", contact_email="", contact_phone="")
        for r in receipts:
            for key in ("contact_name", "contact_email", "contact_phone"):
                r["snapshot"].pop(key, None)
    return EntryDetail(entry=entry, attachments=attachments, receipts=receipts, edition=edition,
                       organisation=org, closes_at=closes, editable=editable)


@dataclass(frozen=True)
class EntryFilters:
    """What the entry lists filter on; empty values mean "any"."""

    year: int | None = None
    state: str | None = None
    province: str | None = None
    kind: str | None = None
    category: str | None = None


def _filtered(query: Any, actor: Actor, filters: EntryFilters, *, skip: str | None = None) -> Any:
    """Apply the caller's scope and the filters (all but ``skip``, for that dimension's counts)."""
    if actor.role == "applicant":
        query = query.where(Entry.organisation == actor.organisation_id)
    elif not is_organiser(actor):
        raise PermissionDenied("Only organisation staff and administrators can list entries.")
    if filters.year is not None:
        query = query.where(Entry.edition.year == filters.year)
    if filters.state and skip != "state":
        query = query.where(visible_state_condition(actor, filters.state))
    if filters.province and skip != "province":
        query = query.where(Entry.organisation.province_code == filters.province)
    if filters.kind and skip != "kind":
        query = query.where(Entry.organisation.kind == filters.kind)
    if filters.category and skip != "category":
        query = query.where(Entry.category == filters.category)
    return query


async def list_entries(actor: Actor, filters: EntryFilters = EntryFilters(), *, limit: int = 200,
                       offset: int = 0) -> list[dict[str, Any]]:
    """Applicants see their organisation's entries (with the state they may know); admins see
    all, with filters. Ordered by id; ``limit``/``offset`` page through them."""
    refuse_any_pending(actor)
    if actor.role == "applicant" and actor.organisation_id is None:
        return []
    query = Entry.select(Entry.id, Entry.state, Entry.version, Entry.revision, Entry.title, Entry.category,
                         Entry.submitted_at, Entry.updated_at, Entry.edition.year, Entry.organisation.code,
                         Entry.organisation.name_th, Entry.organisation.province_name_th, Entry.organisation.kind,
                         Entry.submitted_revision, Entry.edition.published_at)
    rows = await _filtered(query, actor, filters).order_by(Entry.id).limit(limit).offset(offset)
    for r in rows:
        r["state"] = visible_state(r["state"], viewer=actor, published_at=r["edition.published_at"])
    return rows


async def count_matching(actor: Actor, filters: EntryFilters) -> int:
    """How many entries ``list_entries`` would list with these filters, unpaged."""
    if actor.role == "applicant" and actor.organisation_id is None:
        return 0
    return await _filtered(Entry.count(), actor, filters)


COUNT_GROUPS = ("state", "province", "kind", "category")


async def count_entries(*, year: int, group_by: str, filters: EntryFilters | None = None,
                        actor: Actor | None = None) -> dict[str, int]:
    """Counts per state / province / kind / category for the admin list. With ``filters`` the
    counts of one dimension apply the filters on the *other* dimensions (so each table shows
    what choosing one of its values would list). Provinces are keyed by their code."""
    from contest.domain.audit import SYSTEM

    column = {"state": Entry.state, "category": Entry.category,
              "province": Entry.organisation.province_code, "kind": Entry.organisation.kind}[group_by]
    filters = replace(filters or EntryFilters(), year=year)
    query = Entry.select(column.as_alias("k"), Count())
    rows = await _filtered(query, actor or SYSTEM, filters, skip=group_by).group_by(column)
    return {r["k"] or "": r["count"] for r in rows}


# --- validation ---------------------------------------------------------------------------------

def _is_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and " " not in value


def clean_fields(data: dict[str, Any], edition: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:  # noqa: C901 - one short branch per field of the entry form; together they are its rules
    """Check and normalise the fields present in ``data`` (drafts may be incomplete)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, limit in TEXT_LIMITS.items():
        if field in data and data[field] is not None:
            value = str(data[field]).replace("\r\n", "\n").strip()
            if len(value) > limit:
                errors[field] = t("At most {n} characters (now {m}).", n=limit, m=len(value))
            out[field] = value
    if out.get("contact_email") and not EMAIL_RE.match(out["contact_email"]):
        errors["contact_email"] = t("Enter a valid email address, e.g. name@example.go.th.")
    if out.get("contact_phone") and not PHONE_RE.match(out["contact_phone"]):
        errors["contact_phone"] = t("Enter a phone number using digits, e.g. 053 123 456.")
    if out.get("video_url") and not _is_url(out["video_url"]):
        errors["video_url"] = t("Enter a web address starting with https://")
    if "category" in data and data["category"] is not None:
        value = str(data["category"]).strip()
        codes = {c["code"] for c in stored_json(edition["categories"], [])}
        if value and value not in codes:
            errors["category"] = t("Choose one of the edition's categories.")
        out["category"] = value
    if "citizens_served" in data:
        raw = data["citizens_served"]
        if raw in (None, ""):
            out["citizens_served"] = None
        else:
            try:
                number = int(str(raw).replace(",", "").strip())
                if number < 0 or number > 100_000_000:
                    raise ValueError
                out["citizens_served"] = number
            except (TypeError, ValueError):
                errors["citizens_served"] = t("Enter a whole number of people, e.g. 12000.")
    if "in_service_since" in data:
        raw = data["in_service_since"]
        if raw in (None, ""):
            out["in_service_since"] = None
        else:
            try:
                started: date = raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
                if started > clock.to_bangkok(clock.now()).date():
                    errors["in_service_since"] = t(
                        "The service must already be running: the date cannot be in the future.")
                elif started.year < 1990:
                    errors["in_service_since"] = t("Enter the date the service started, e.g. 2024-06-01.")
                out["in_service_since"] = started
            except (TypeError, ValueError):
                errors["in_service_since"] = t("Enter the date the service started, e.g. 2024-06-01.")
    if "links" in data:
        raw = data["links"]
        if raw in (None, ""):
            links: list[str] = []
        elif isinstance(raw, str):
            links = [x.strip() for x in raw.splitlines() if x.strip()]
        elif isinstance(raw, list):
            links = [str(x).strip() for x in raw if str(x).strip()]
        else:
            links = []
            errors["links"] = t("Links must be a list of web addresses.")
        if len(links) > 10:
            errors["links"] = t("At most 10 links.")
        elif any(not _is_url(x) or len(x) > 500 for x in links):
            errors["links"] = t("Each link must be a web address starting with https://")
        out["links"] = links
    if "consent_publish" in data:
        raw = data["consent_publish"]
        out["consent_publish"] = raw is True or str(raw).lower() in ("1", "true", "on", "yes")
    return out, errors


def unknown_field_errors(data: dict[str, Any]) -> dict[str, str]:
    """A field this API does not have is an error, on create as on update: silently dropping
    it would let a client believe it was saved."""
    return {k: t("Unknown field. The fields of an entry are: {fields}.", fields=", ".join(FIELDS))
            for k in sorted(set(data) - set(FIELDS), key=str)}


def parse_version(value: Any) -> tuple[int | None, dict[str, str]]:
    """The ``version`` the editor loaded: a whole number (JSON number or digits)."""
    if value is None or value == "":
        return None, {"version": t("The entry's version is required to save.")}
    number = whole_number(value)
    if number is not None and number >= 0:
        return number, {}
    return None, {"version": t("The version must be the whole number you loaded with the entry, e.g. 3.")}


def missing_for_submission(entry: dict[str, Any], attachments: list[dict[str, Any]]) -> dict[str, str]:
    problems = {f: t("Required before submitting.") for f in REQUIRED_TO_SUBMIT if not entry.get(f)}
    if not attachments:
        problems["attachments"] = t("Attach at least one file (for example a presentation in PDF).")
    bad = [a["name"] for a in attachments if a["check_state"] in ("failed", "infected")]
    if bad:
        problems["attachments"] = t("These files failed the checks; remove or replace them: {names}",
                                    names=", ".join(bad))
    return problems


# --- state changes ------------------------------------------------------------------------------

def _deadline_error(closes: datetime) -> Conflict:
    return Conflict("The deadline passed on {closed}. The entry can no longer change.", code="deadline_passed",
                    closed=format_date(closes), closed_at=closes.isoformat())


async def _require_open(edition: dict[str, Any], organisation_id: int) -> datetime:
    """The organisation's deadline, if the edition takes changes from it right now."""
    if edition["state"] == "draft":
        raise NotFound("No such edition.")
    closes = await deadline_for(edition, organisation_id)
    if edition["state"] != "open" or clock.now() >= closes:
        raise _deadline_error(closes)
    if clock.now() < edition["submission_opens_at"]:
        raise Conflict("Submissions open on {opens}.", code="not_open_yet",
                       opens=format_date(edition["submission_opens_at"]))
    return closes


def _not_editable(actor: Actor, state: str, published_at: datetime | None = None,
                  message: str = "This entry can no longer be edited (it is {state}).") -> Conflict:
    """``state`` as the caller may see it (``visible_state``): an error names no verdict either."""
    return Conflict(message, code="not_editable", state=visible_state(state, viewer=actor, published_at=published_at))


async def create_entry(*, actor: Actor, year: int, data: dict[str, Any] | None = None) -> int:
    """Start a draft for the caller's organisation, within the edition's per-organisation limit."""
    refuse_any_pending(actor)
    if actor.role != "applicant" or actor.organisation_id is None:
        raise PermissionDenied("Only staff of a registered organisation can create entries.", code="applicant_only")
    edition = await Edition.select().where(Edition.year == year).first()
    if edition is None or edition["state"] == "draft":
        raise NotFound("No such edition.")
    # The deadline first: after it, every change is refused the same way, valid or not.
    await _require_open(edition, actor.organisation_id)
    data = data or {}
    values, errors = clean_fields(data, edition)
    errors = {**unknown_field_errors(data), **errors}
    if errors:
        raise ValidationFailed(errors=errors)
    async with atomic():
        await lock_row("organisation", actor.organisation_id)
        await _require_open(edition, actor.organisation_id)
        live = await Entry.count().where(
            (Entry.edition == edition["id"]) & (Entry.organisation == actor.organisation_id)
            & Entry.state.is_in(list(LIVE_STATES)))
        if live >= edition["entries_per_organisation"]:
            raise Conflict("Your organisation already has {n} entries in this edition, the most allowed.",
                           code="entry_limit", n=edition["entries_per_organisation"])
        rows = await Entry.insert(Entry(edition=edition["id"], organisation=actor.organisation_id,
                                        created_by=actor.id, **values)).returning(Entry.id)
        entry_id = rows[0]["id"]
        await append_event(actor=actor, action="entry.create", subject_type="entry", subject_id=entry_id,
                           after={"edition": year, **_audit_values(values)})
    return entry_id


def _audit_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in values.items()}


async def update_entry(*, actor: Actor, entry_id: int, data: dict[str, Any], version: int | None) -> int:
    """Save fields of a draft or submitted entry. ``version`` must be the one the editor loaded:
    a stale one gets 409 so two staff never silently overwrite each other. Returns the new version."""
    row = await _owned_entry(actor, entry_id)
    edition = await existing(Edition.select().where(Edition.id == row["edition"]))
    # Deadline and state first: after the deadline an invalid change is refused as late, not
    # as invalid (fixing it would not help).
    await _require_open(edition, row["organisation"])
    if row["state"] not in EDITABLE_STATES:
        raise _not_editable(actor, row["state"], edition["published_at"])
    values, errors = clean_fields(data, edition)
    loaded, version_errors = parse_version(version)
    errors = {**unknown_field_errors(data), **errors, **version_errors}
    if errors:
        raise ValidationFailed(errors=errors)
    assert loaded is not None
    async with atomic():
        await _require_open(edition, row["organisation"])
        current = await existing(Entry.select().where(Entry.id == entry_id))
        if current["state"] not in EDITABLE_STATES:
            raise _not_editable(actor, current["state"], edition["published_at"])
        changed = {k: v for k, v in values.items() if comparable_value(current.get(k)) != comparable_value(v)}
        if loaded != current["version"]:
            raise Conflict("Someone else saved this entry after you opened it. Review their changes and save again.",
                           code="stale_version", current_version=current["version"])
        if not changed:
            return current["version"]
        update: dict[Any, Any] = {**changed, Entry.version: Entry.version + 1, Entry.revision: Entry.revision + 1,
                                  Entry.updated_at: clock.now()}
        updated = await Entry.update(update).where(
            (Entry.id == entry_id) & (Entry.version == loaded)).returning(Entry.version)
        if not updated:
            raise Conflict("Someone else saved this entry after you opened it. Review their changes and save again.",
                           code="stale_version")
        await append_event(actor=actor, action="entry.update", subject_type="entry", subject_id=entry_id,
                           before=_audit_values({k: current.get(k) for k in changed}),
                           after=_audit_values(changed))
    return updated[0]["version"]


def comparable_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass(frozen=True)
class SubmitResult:
    receipt: dict[str, Any]
    created: bool


async def submit_entry(*, actor: Actor, entry_id: int) -> SubmitResult:
    """Submit (or re-submit) an entry before the deadline and issue a receipt listing every file's
    SHA-256. Submitting again with nothing changed returns the same receipt, so a double click or
    two simultaneous submits give exactly one receipt."""
    row = await _owned_entry(actor, entry_id)
    edition = await existing(Edition.select().where(Edition.id == row["edition"]))
    async with atomic():
        await lock_row("entry", entry_id)
        await _require_open(edition, row["organisation"])
        current = await existing(Entry.select().where(Entry.id == entry_id))
        if current["state"] not in EDITABLE_STATES:
            raise _not_editable(actor, current["state"], edition["published_at"],
                                "This entry can no longer be submitted (it is {state}).")
        if current["submitted_revision"] == current["revision"]:
            latest = await existing(Receipt.select().where(Receipt.entry == entry_id).order_by(
                Receipt.sequence, ascending=False))
            return SubmitResult(receipt=receipt_view(latest), created=False)
        attachments = await Attachment.select().where(
            (Attachment.entry == entry_id) & Attachment.deleted_at.is_null()).order_by(Attachment.id)
        problems = missing_for_submission(_entry_dict(current), attachments)
        if problems:
            raise ValidationFailed("The entry is not complete yet.", errors=problems, code="incomplete")
        now = clock.now()
        claimed = await Entry.update({
            Entry.state: "submitted", Entry.submitted_revision: current["revision"], Entry.submitted_at: now,
            Entry.submission_count: Entry.submission_count + 1,
        }).where((Entry.id == entry_id) & (Entry.revision == current["revision"])
                 & ((Entry.submitted_revision.is_null()) | (Entry.submitted_revision != current["revision"]))
                 ).returning(Entry.submission_count)
        if not claimed:  # another submit of this revision won the race
            raced = await Receipt.select().where(Receipt.entry == entry_id).order_by(
                Receipt.sequence, ascending=False).first()
            if raced is None:
                raise Conflict("The entry changed while submitting. Please try again.", code="stale_version")
            return SubmitResult(receipt=receipt_view(raced), created=False)
        sequence = claimed[0]["submission_count"]
        number = f"DLG{edition['year']}-{entry_id:06d}-{sequence:02d}"
        files = [{"attachment_id": a["id"], "name": a["name"], "size": a["size"], "sha256": a["sha256"],
                  "content_type": a["content_type"]} for a in attachments]
        snapshot = _audit_values({k: current.get(k) for k in FIELDS})
        snapshot["links"] = stored_json(current.get("links"), [])
        rows = await Receipt.insert(Receipt(entry=entry_id, number=number, sequence=sequence,
                                            revision=current["revision"], submitted_at=now,
                                            submitted_by=actor.id, snapshot=snapshot, files=files)
                                    ).returning(*Receipt.all_columns())
        receipt = rows[0]
        await append_event(actor=actor, action="entry.submit", subject_type="entry", subject_id=entry_id,
                           before={"state": current["state"]},
                           after={"state": "submitted", "receipt": number, "files": [
                               {"name": f["name"], "size": f["size"], "sha256": f["sha256"]} for f in files]})
        job = await outbox.add_job("send_mail", _receipt_mail(actor.email, edition, current, receipt, files),
                                   dedupe_key=f"receipt:{number}")
    await outbox.dispatch([job])
    return SubmitResult(receipt=receipt_view(receipt), created=True)


def _receipt_mail(to: str, edition: dict[str, Any], entry: dict[str, Any], receipt: dict[str, Any],
                  files: list[dict[str, Any]]) -> dict[str, str]:
    lines = "\n".join(f"- {f['name']} ({f['size']:,} bytes) SHA-256 {f['sha256']}" for f in files)
    text = t("Your entry \"{title}\" was received.\n\nReceipt number: {number}\nReceived at: {at}\n"
             "Edition: {edition}\n\nFiles received:\n{files}\n\nYou can view and print the receipt at {url}\n",
             title=entry["title"], number=receipt["number"], at=format_date(receipt["submitted_at"]),
             edition=edition["title"], files=lines,
             url=f"{get_settings().base_url}/receipts/{receipt['number']}")
    return {"to": to, "subject": t("Receipt {number}: your entry was received", number=receipt["number"]),
            "text": text}


def receipt_view(receipt: dict[str, Any]) -> dict[str, Any]:
    files = stored_json(receipt["files"], [])
    return {"number": receipt["number"], "sequence": receipt["sequence"], "submitted_at": receipt["submitted_at"],
            "entry_id": receipt["entry"],
            "files": [{"name": f["name"], "size": f["size"], "sha256": f["sha256"]} for f in files]}


async def get_receipt(actor: Actor | None, number: str) -> tuple[dict[str, Any], dict[str, Any]]:
    receipt = await Receipt.select().where(Receipt.number == number).first()
    if receipt is None:
        raise NotFound("No such receipt.")
    entry = await _entry_row(receipt["entry"])
    if entry is None or not (is_owner(actor, entry) or (actor and actor.role == "admin")):
        refuse_pending_member(actor, entry["organisation"] if entry else None)
        raise NotFound("No such receipt.")
    view = receipt_view(receipt)
    view["snapshot"] = stored_json(receipt["snapshot"], {})
    edition = await Edition.select(Edition.published_at).where(Edition.id == entry["edition"]).first()
    return view, visible_entry(entry, viewer=actor, published_at=edition["published_at"] if edition else None)


async def withdraw_entry(*, actor: Actor, entry_id: int) -> None:
    """Withdraw before the deadline: the entry leaves the contest and frees the organisation's slot."""
    row = await _owned_entry(actor, entry_id)
    edition = await existing(Edition.select().where(Edition.id == row["edition"]))
    async with atomic():
        await _require_open(edition, row["organisation"])
        updated = await Entry.update({Entry.state: "withdrawn", Entry.updated_at: clock.now(),
                                      Entry.version: Entry.version + 1}).where(
            (Entry.id == entry_id) & Entry.state.is_in(list(EDITABLE_STATES))).returning(Entry.id)
        if not updated:
            raise _not_editable(actor, row["state"], edition["published_at"],
                                "This entry cannot be withdrawn (it is {state}).")
        await append_event(actor=actor, action="entry.withdraw", subject_type="entry", subject_id=entry_id,
                           before={"state": row["state"]}, after={"state": "withdrawn"})


# --- attachments --------------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadAllowance:
    entry_id: int
    max_bytes: int
    entry_remaining: int
    max_file_bytes: int
    max_entry_bytes: int = 0


async def prepare_upload(*, actor: Actor, entry_id: int) -> UploadAllowance:
    """Before reading an upload's body: may this caller add a file, and how big may it be?"""
    row = await _owned_entry(actor, entry_id)
    edition = await existing(Edition.select().where(Edition.id == row["edition"]))
    await _require_open(edition, row["organisation"])
    if row["state"] not in EDITABLE_STATES:
        raise _not_editable(actor, row["state"], edition["published_at"])
    live = await Attachment.select(Attachment.size).where(
        (Attachment.entry == entry_id) & Attachment.deleted_at.is_null())
    if len(live) >= MAX_FILES_PER_ENTRY:
        raise Conflict("An entry may have at most {n} files. Remove one first.", code="too_many_files",
                       n=MAX_FILES_PER_ENTRY)
    used = sum(a["size"] for a in live)
    remaining = max(0, edition["max_entry_bytes"] - used)
    if remaining == 0:
        raise entry_too_large(edition["max_entry_bytes"], 0)
    return UploadAllowance(entry_id=entry_id, max_bytes=min(edition["max_file_bytes"], remaining),
                           entry_remaining=remaining, max_file_bytes=edition["max_file_bytes"],
                           max_entry_bytes=edition["max_entry_bytes"])


def size_text(n: int) -> str:
    """A size as the form shows it (binary units, one decimal): "146.5 KB", "20.0 MB"."""
    size = float(max(0, n))
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def entry_too_large(max_entry_bytes: int, remaining: int) -> PayloadTooLarge:
    """The file does not fit in what is left of the entry's total (not the per-file limit)."""
    return PayloadTooLarge(
        "The file does not fit: all files of an entry may total at most {total}, and {left} is left. "
        "Remove a file you no longer need, or make this one smaller.",
        code="entry_too_large", total=size_text(max_entry_bytes), left=size_text(remaining),
        max_entry_bytes=max_entry_bytes, remaining_bytes=remaining)


def kind_errors(kind: str | None) -> dict[str, str]:
    """An unknown ``kind`` is refused (with the allowed ones), not silently replaced."""
    if kind in (None, "") or kind in ATTACHMENT_KINDS:
        return {}
    return {"kind": t("Unknown kind of file. Choose one of: {kinds}.", kinds=", ".join(ATTACHMENT_KINDS))}


async def add_attachment(*, actor: Actor, entry_id: int, name: str, size: int, content_type: str, sha256: str,
                         storage_key: str, kind: str | None = None) -> dict[str, Any]:
    """Record a file that has been stored completely. Re-checks the deadline and the entry's
    total size inside the transaction (two uploads may race); the caller deletes the stored
    object if this raises."""
    row = await _owned_entry(actor, entry_id)
    edition = await existing(Edition.select().where(Edition.id == row["edition"]))
    if errors := kind_errors(kind):
        raise ValidationFailed(errors=errors, code="invalid_kind", allowed_kinds=list(ATTACHMENT_KINDS))
    kind = kind or _kind_for(content_type)
    async with atomic():
        await lock_row("entry", entry_id)
        await _require_open(edition, row["organisation"])
        current = await existing(Entry.select().where(Entry.id == entry_id))
        if current["state"] not in EDITABLE_STATES:
            raise _not_editable(actor, current["state"], edition["published_at"])
        live = await Attachment.select(Attachment.size).where(
            (Attachment.entry == entry_id) & Attachment.deleted_at.is_null())
        if len(live) >= MAX_FILES_PER_ENTRY:
            raise Conflict("An entry may have at most {n} files. Remove one first.", code="too_many_files",
                           n=MAX_FILES_PER_ENTRY)
        used = sum(a["size"] for a in live)
        if used + size > edition["max_entry_bytes"]:  # another upload took the room meanwhile
            raise entry_too_large(edition["max_entry_bytes"], max(0, edition["max_entry_bytes"] - used))
        rows = await Attachment.insert(Attachment(
            entry=entry_id, kind=kind, name=name[:255], size=size, content_type=content_type, sha256=sha256,
            storage_key=storage_key, uploaded_by=actor.id, check_state="pending")).returning(*Attachment.all_columns())
        attachment = rows[0]
        await Entry.update({Entry.revision: Entry.revision + 1, Entry.updated_at: clock.now()}).where(
            Entry.id == entry_id)
        await append_event(actor=actor, action="attachment.add", subject_type="entry", subject_id=entry_id,
                           after={"attachment_id": attachment["id"], "name": name, "size": size,
                                  "sha256": sha256, "content_type": content_type})
        job = await outbox.add_job("check_attachment", {"attachment_id": attachment["id"]},
                                   dedupe_key=f"check:{attachment['id']}")
    await outbox.dispatch([job])
    return attachment


async def is_recorded(storage_key: str) -> bool:
    """Whether an attachment row holds this storage key (then its bytes must stay)."""
    return await Attachment.exists().where(Attachment.storage_key == storage_key)


def _kind_for(content_type: str) -> str:
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith("video/"):
        return "video"
    if "presentation" in content_type:
        return "presentation"
    return "document"


async def delete_attachment(*, actor: Actor, attachment_id: int) -> str | None:
    """Remove a file before the deadline. A file listed on a receipt stays in storage (what was
    submitted is never lost); returns the storage key the caller may delete, or None.

    Takes the entry's row lock, as ``submit_entry`` does: a submit either commits first (its
    receipt lists the file, so the bytes are kept) or runs after this commits (and no longer
    sees the file), never in between."""
    att = await Attachment.select().where((Attachment.id == attachment_id) & Attachment.deleted_at.is_null()).first()
    row = await _entry_row(att["entry"]) if att is not None else None
    if att is None or row is None or not is_owner(actor, row):
        refuse_pending_member(actor, row["organisation"] if row else None)
        raise NotFound("No such file.", code="attachment_not_found")
    edition = await existing(Edition.select().where(Edition.id == row["edition"]))
    async with atomic():
        await lock_row("entry", att["entry"])
        await _require_open(edition, row["organisation"])
        current = await existing(Entry.select().where(Entry.id == att["entry"]))
        if current["state"] not in EDITABLE_STATES:
            raise _not_editable(actor, current["state"], edition["published_at"])
        done = await Attachment.update({Attachment.deleted_at: clock.now()}).where(
            (Attachment.id == attachment_id) & Attachment.deleted_at.is_null()).returning(Attachment.id)
        if not done:
            raise NotFound("No such file.", code="attachment_not_found")
        await Entry.update({Entry.revision: Entry.revision + 1, Entry.updated_at: clock.now()}).where(
            Entry.id == att["entry"])
        await append_event(actor=actor, action="attachment.delete", subject_type="entry", subject_id=att["entry"],
                           before={"attachment_id": attachment_id, "name": att["name"], "sha256": att["sha256"]})
        receipts = await Receipt.select(Receipt.files).where(Receipt.entry == att["entry"])
    return None if _on_any_receipt(att, receipts) else att["storage_key"]


def _on_any_receipt(att: dict[str, Any], receipts: list[dict[str, Any]]) -> bool:
    """Whether a receipt of the entry lists this file (receipts name files by attachment id)."""
    return any(f.get("attachment_id") == att["id"] for r in receipts for f in stored_json(r["files"], []))


async def get_attachment_for_download(actor: Actor | None, attachment_id: int) -> dict[str, Any]:
    """The file row if the caller may read it (owner, admin, assigned reviewer), else NotFound.
    Files on a receipt stay readable after being removed from the draft. A file the virus scan
    flagged is refused to everyone (PermissionDenied ``attachment_infected``)."""
    att = await Attachment.select().where(Attachment.id == attachment_id).first()
    if att is None:
        raise NotFound("No such file.", code="attachment_not_found")
    entry = await _entry_row(att["entry"])
    if entry is None or not await can_view_entry(actor, entry):
        refuse_pending_member(actor, entry["organisation"] if entry else None)
        raise NotFound("No such file.", code="attachment_not_found")
    if att["deleted_at"] is not None and actor is not None and actor.role == "applicant":
        raise NotFound("No such file.", code="attachment_not_found")
    if att["check_state"] == "infected":
        # Nobody downloads malware from us, whatever their role: it stays stored for the record.
        raise PermissionDenied("A virus was found in this file, so it cannot be downloaded. The organisation "
                               "should remove it and upload a clean copy.", code="attachment_infected")
    return att


def check_note(message: str | None, language: str | None = None) -> str:
    """A check's note in the reader's language: notes are stored "Thai / English"."""
    if not message:
        return ""
    th, sep, en = message.partition(" / ")
    return en if sep and (language or current_language.get()) == "en" else th


async def record_check(*, attachment_id: int, state: str, details: dict[str, Any], message: str) -> None:
    """Store a file check's outcome (called by the check job)."""
    await Attachment.update({Attachment.check_state: state, Attachment.check_details: details,
                             Attachment.check_message: message}).where(Attachment.id == attachment_id)


# --- admin ---------------------------------------------------------------------------------------

async def extend_deadline(*, actor: Actor, year: int, organisation_code: str, closes_at: datetime | None,
                          reason: str) -> dict[str, Any]:
    """Give one organisation a later deadline, with a reason (audited). Returns the extension."""
    if not is_organiser(actor):
        raise PermissionDenied("Only administrators can extend a deadline.")
    edition = await Edition.select().where(Edition.year == year).first()
    if edition is None:
        raise NotFound("No such edition.")
    errors: dict[str, str] = {}
    if not (reason or "").strip():
        errors["reason"] = t("Give the reason for the extension.")
    elif len(reason.strip()) > 2000:
        errors["reason"] = t("At most {n} characters (now {m}).", n=2000, m=len(reason.strip()))
    if edition["state"] != "open":
        raise Conflict("Submissions are over for this edition: screening has begun, so no deadline can be "
                       "extended.", code="screening_opened")
    organisation_code = str(organisation_code or "").strip()
    org = await Organisation.select(Organisation.id).where(Organisation.code == organisation_code).first()
    if org is None:
        errors["organisation_code"] = t("Unknown organisation code.")
    if closes_at is None or closes_at.tzinfo is None:
        errors["closes_at"] = t("Enter the new deadline as a date and time.")
    elif closes_at <= edition["submission_closes_at"]:
        errors["closes_at"] = t("The extension must end after the edition's deadline.")
    if errors:
        raise ValidationFailed(errors=errors)
    assert org is not None and closes_at is not None
    reason = reason.strip()
    async with atomic():
        await DeadlineExtension.insert(DeadlineExtension(edition=edition["id"], organisation=org["id"],
                                                         closes_at=closes_at, reason=reason,
                                                         granted_by=actor.id))
        # More time is only worth something if the organisation can edit again: an eligibility
        # already decided for its entries is set aside (audited), to be decided after the new
        # deadline like everyone else's.
        decided = await Entry.update({Entry.state: "submitted", Entry.eligibility_reason: ""}).where(
            (Entry.edition == edition["id"]) & (Entry.organisation == org["id"])
            & Entry.state.is_in(["eligible", "ineligible"])).returning(Entry.id)
        cleared = [r["id"] for r in decided]
        for entry_id in cleared:
            await append_event(actor=actor, action="entry.eligibility_cleared", subject_type="entry",
                               subject_id=entry_id, after={"state": "submitted", "reason": "deadline.extend"})
        await append_event(actor=actor, action="deadline.extend", subject_type="organisation",
                           subject_id=organisation_code,
                           after={"edition": year, "closes_at": clock.utc_iso(closes_at), "reason": reason,
                                  "eligibility_cleared": cleared})
    return {"year": year, "organisation_code": organisation_code, "until": closes_at, "reason": reason,
            "deadline": await deadline_for(edition, org["id"]), "eligibility_cleared": cleared}


async def list_extensions(actor: Actor, year: int) -> list[dict[str, Any]]:
    """Every extension granted in an edition, newest first (admins)."""
    if not is_organiser(actor):
        raise PermissionDenied("Only administrators can see deadline extensions.")
    edition = await Edition.select(Edition.id).where(Edition.year == year).first()
    if edition is None:
        raise NotFound("No such edition.")
    rows = await DeadlineExtension.select(
        DeadlineExtension.organisation.code, DeadlineExtension.closes_at, DeadlineExtension.reason,
        DeadlineExtension.created_at).where(DeadlineExtension.edition == edition["id"]).order_by(
        DeadlineExtension.id, ascending=False)
    return [{"year": year, "organisation_code": r["organisation.code"], "until": r["closes_at"],
             "reason": r["reason"], "created_at": r.get("created_at")} for r in rows]


async def entry_history(actor: Actor, entry_id: int) -> dict[str, Any]:
    """The entry with its audit events, and the deadline extensions granted to its organisation
    in its edition (recorded against the organisation, but part of this entry's story)."""
    if not is_organiser(actor):
        raise NotFound("No such entry.")
    from contest.tables import AuditEvent

    detail = await get_entry(actor, entry_id)
    year = detail.edition["year"]
    entry_events = (AuditEvent.subject_type == "entry") & (AuditEvent.subject_id == str(entry_id))
    extensions = ((AuditEvent.subject_type == "organisation")
                  & (AuditEvent.subject_id == str(detail.organisation["code"]))
                  & (AuditEvent.action == "deadline.extend"))
    events = []
    for e in await AuditEvent.select().where(entry_events | extensions).order_by(AuditEvent.seq):
        if e["subject_type"] == "organisation" and stored_json(e["after"], {}).get("edition") != year:
            continue  # another edition's extension
        events.append(e)
    return {"detail": detail, "events": events}
