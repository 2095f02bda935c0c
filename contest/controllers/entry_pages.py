"""Entry pages: my organisation's entries, the entry form (autosave, attachments, submit,
withdraw), the printable receipt, and the organisers' entry list and entry history.

Everything works without JavaScript; htmx adds autosave and site.js adds upload progress.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from contest import clock, dates
from contest.certificates import AGENCY_EN, AGENCY_TH
from contest.confirmation import Confirmation, confirmation_page
from contest.controllers.entries_api import delete_stored, stream_attachment
from contest.controllers.entry_counts import counts_html, entry_rows_html
from contest.db import stored_json
from contest.domain import attachments, editions, entries, extensions, organisations, submission
from contest.enums import EditionState, EntryState, EntryStates, Role
from contest.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed, error_text
from contest.guards import admin_required, applicant_required, login_required, require_actor
from contest.i18n import current_language, format_date, t
from contest.labels import code_label
from contest.numbers import whole_number
from contest.spreadsheets import Sheet, write_csv, write_xlsx
from contest.summary import in_page_order
from contest.tables import Edition, Organisation, Receipt
from contest.templating import file_size
from contest.web import MULTIPART
from uploads.checks import CheckState
from uploads.errors import UploadError

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

#: Rows per page of the organisers' entry list (7,850 organisations may enter).
ADMIN_PAGE_SIZE = 100
ACCEPT = ".pdf,.jpg,.jpeg,.png,.webp,.mp4,.docx,.pptx,.xlsx"
TEXT_FIELDS = tuple(f for f in entries.FIELDS if f != "consent_publish")


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _admin_filters(year: int, state: str | None, province: str | None, kind: str | None, category: str | None,
                   q: str | None) -> entries.EntryFilters:
    return entries.EntryFilters(year=year, state=state or None, province=province or None, kind=kind or None,
                                category=category or None, q=(q or "").strip() or None)


# --- labels (msgids are English; translated at render time) --------------------------------------

def state_label(state: str) -> str:
    return code_label("entry_state", state)


def check_label(state: str) -> str:
    labels: dict[str, str] = {CheckState.pending: t("Being checked"), CheckState.passed: t("Passed the checks"),
                              CheckState.failed: t("Did not pass"), CheckState.infected: t("Virus found")}
    return labels.get(state, state)


def attachment_kind_label(kind: str) -> str:
    return {"presentation": t("Presentation"), "document": t("Document"), "image": t("Image"),
            "video": t("Video"), "other": t("Other")}.get(kind, kind)


def field_labels() -> dict[str, str]:
    return {
        "title": t("Name of the service"), "category": t("Category"), "summary": t("Summary"),
        "problem": t("The problem it solves"), "solution": t("How the service solves it"),
        "citizens_served": t("Citizens served"), "results": t("Results so far"),
        "in_service_since": t("In service since"), "technology": t("Technology used"),
        "links": t("Links"), "video_url": t("Video link"), "contact_name": t("Contact person"),
        "contact_email": t("Contact email"), "contact_phone": t("Contact phone"),
        "consent_publish": t("Consent to publish"), "attachments": t("Attachments"), "file": t("File"),
        "version": t("Version"), "closes_at": t("New deadline"), "reason": t("Reason"),
        "organisation_code": t("Organisation code"),
    }


def check_message(message: str | None) -> str:
    """Check messages are stored "Thai / English"; show the reader's language."""
    return attachments.check_note(message)


def time_left(closes: datetime) -> str:
    left = closes - clock.now()
    if left <= timedelta(0):
        return t("Closed")
    days, rest = divmod(int(left.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return t("{days} days {hours} hours left", days=days, hours=hours)
    return t("{hours} hours {minutes} minutes left", hours=hours, minutes=minutes)


HELPERS = {"state_label": state_label, "check_label": check_label, "attachment_kind_label": attachment_kind_label,
           "check_message": check_message, "time_left": time_left}


# --- form values --------------------------------------------------------------------------------

def _show(value: Any) -> str:
    """A stored or cleaned value as the text of a form control."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return t("Yes") if value else t("No")
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value)
    if isinstance(value, dates.DateEntry):
        reading = dates.read_date(value, "")
        return format_date(reading.value, with_time=False) if reading.value else " ".join(
            p for p in (value.day, value.month, value.year, value.raw) if p)
    if isinstance(value, (date, datetime)):
        return format_date(value, with_time=False) if not isinstance(value, datetime) else format_date(value)
    return str(value)


def form_from_entry(entry: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {f: _show(entry.get(f)) for f in TEXT_FIELDS}
    form["in_service_since"] = entry.get("in_service_since")
    form["consent_publish"] = bool(entry.get("consent_publish"))
    form["version"] = entry["version"]
    return form


def form_from_post(data: dict[str, Any]) -> dict[str, Any]:
    """What the person typed. An unchecked checkbox sends nothing, so absence means "no"."""
    form: dict[str, Any] = {f: str(data.get(f) or "") for f in TEXT_FIELDS}
    form["in_service_since"] = dates.entry_from_form(data, "in_service_since")
    form["consent_publish"] = str(data.get("consent_publish", "")).lower() in ("1", "on", "true", "yes")
    form["version"] = data.get("version")
    return form


def _service_start(form: dict[str, Any]) -> dates.DateReading:
    """The "in service since" day as typed: day, month and Buddhist-Era year."""
    entry = form.get("in_service_since")
    if not isinstance(entry, dates.DateEntry):
        entry = dates.entry_from_form(form, "in_service_since")
    return dates.read_date(entry, "In service since", earliest=entries.EARLIEST_SERVICE_YEAR)


def _payload(form: dict[str, Any]) -> dict[str, Any]:
    payload = {f: form[f] for f in entries.FIELDS}
    reading = _service_start(form)
    # a day that cannot be read goes to the domain as text it refuses, so nothing is saved and
    # the other fields' errors come back too; the message is then the reading's own
    payload["in_service_since"] = dates.iso(reading) if reading.ok else "?"
    return payload


def _with_date_errors(form: dict[str, Any], exc: ValidationFailed) -> ValidationFailed:
    reading = _service_start(form)
    if not reading.ok and reading.error:
        exc.errors = {**exc.errors, "in_service_since": reading.error}
    return exc


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        value = submission.comparable_value(value)
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    return value


def differences(current: dict[str, Any], form: dict[str, Any], edition: dict[str, Any]) -> list[dict[str, str]]:
    """Fields where the saved entry differs from what this person typed."""
    cleaned, _ = entries.clean_fields(_payload(form), edition)
    labels = field_labels()
    out = []
    for f in entries.FIELDS:
        mine = cleaned.get(f, form.get(f))
        if f == "in_service_since":
            mine = _service_start(form).value
        if _normal(current.get(f)) != _normal(mine):
            out.append({"field": f, "label": labels[f], "theirs": _show(current.get(f)),
                        "mine": _show(form.get(f)) if f != "consent_publish" else _show(bool(form.get(f)))})
    return out


#: The entry form's sections and their fields, in the order of the form.
ANSWER_SECTIONS = (
    ("About the service", ("title", "category", "summary", "problem", "solution", "citizens_served", "results",
                           "in_service_since", "technology", "links", "video_url")),
    ("Contact (never published)", ("contact_name", "contact_email", "contact_phone")),
    ("Publication", ("consent_publish",)),
)


#: The fields of the entry page from top to bottom: the form, then the attachments.
PAGE_ORDER = (*(f for _, fields in ANSWER_SECTIONS for f in fields), "attachments", "file")


def answer_text(field: str, entry: dict[str, Any], categories: list[dict[str, Any]]) -> str:
    """One saved answer as the person reads it on the "check your answers" page."""
    value = entry.get(field)
    if field == "consent_publish":
        return t("Yes, the information may be published if the entry receives an award.") if value else \
            t("No, do not publish the information.")
    if value is None or value == "" or value == []:
        return t("Not given")
    if field == "category":
        for c in categories:
            if c.get("code") == value:
                english = current_language.get() == "en" and c.get("name_en")
                return str(c["name_en"] if english else c.get("name_th") or value)
        return str(value)
    if field == "citizens_served" and isinstance(value, int):
        return f"{value:,}"
    if field == "in_service_since":
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
        return format_date(day, with_time=False)
    return _show(value)


def answer_sections(entry: dict[str, Any], categories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every field of the entry, by section, with its label, the saved answer and where to change it."""
    labels = field_labels()
    required = set(entries.REQUIRED_TO_SUBMIT)
    return [{"heading": t(heading), "rows": [
        {"field": f, "label": labels[f], "value": answer_text(f, entry, categories), "required": f in required,
         "empty": f != "consent_publish" and entry.get(f) in (None, "", [])} for f in fields]}
        for heading, fields in ANSWER_SECTIONS]


def _wants_partial(request: Request) -> bool:
    return (request.headers.get("x-requested-with", "").lower() == "xmlhttprequest"
            or request.headers.get("hx-request") == "true")


def _event_time(at: str) -> datetime | None:
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None


# --- controller ---------------------------------------------------------------------------------

class EntryPages(Controller):
    include_in_schema = False

    # my organisation's entries

    async def _list_context(self, request: Request) -> dict[str, Any]:
        actor = require_actor(request)
        edition = await editions.current_edition()
        ctx: dict[str, Any] = {"edition": edition, "rows": [], "earlier": [], "receipts": {}, "links": {},
                               "can_create": False, "closes_at": None, **HELPERS}
        if edition is None:
            return ctx
        # One query for every edition's entries, one for receipts, one per link provider: the
        # page costs the same for one entry or many.
        everything = await entries.list_entries(actor, limit=1000)
        rows = [r for r in everything if r["edition.year"] == edition.year]
        earlier = sorted((r for r in everything if r["edition.year"] != edition.year),
                         key=lambda r: (-r["edition.year"], r["id"]))
        latest: dict[int, str] = {}
        if everything:
            ids = [r["id"] for r in everything]
            for r in await Receipt.select(Receipt.entry, Receipt.number).where(
                    Receipt.entry.is_in(ids)).order_by(Receipt.sequence):
                latest[r["entry"]] = r["number"]
            ctx["links"] = await entries.entry_links(ids)
        for r in everything:
            r["result_published"] = bool(r.get("edition.published_at")) and r["state"] in EntryStates.APPLIED
        closes = await extensions.deadline_for({"id": edition.id, "submission_closes_at": edition.submission_closes_at},
                                            actor.organisation_id)  # type: ignore[arg-type]
        now = clock.now()
        live = [r for r in rows if r["state"] in entries.LIVE_STATES]
        ctx.update(rows=rows, earlier=earlier, receipts=latest, closes_at=closes,
                   is_open=edition.state == EditionState.open and edition.submission_opens_at <= now < closes,
                   can_create=(edition.state == EditionState.open and edition.submission_opens_at <= now < closes
                               and len(live) < edition.entries_per_organisation))
        return ctx

    @get("/entries", guards=[login_required])
    async def my_entries(self, request: Request, withdrawn: bool = False) -> Template | Redirect:
        actor = require_actor(request)
        if actor.role == Role.applicant and actor.organisation_id is None:
            # Not (yet) acting for an organisation: where to ask to join, or to wait.
            return Redirect("/account/membership", status_code=303)
        await applicant_required(request, request.route_handler)
        ctx = await self._list_context(request)
        if withdrawn:
            ctx["flash"] = t("The entry was withdrawn.")
        return Template("contest/entries/index.html", context=ctx)

    @post("/entries", guards=[applicant_required])
    async def create(self, request: Request) -> Template | Redirect:
        actor = require_actor(request)
        edition = await editions.current_edition()
        try:
            if edition is None:
                raise NotFound("No such edition.")
            entry_id = await submission.create_entry(actor=actor, year=edition.year)
        except (Conflict, ValidationFailed, NotFound) as exc:
            ctx = await self._list_context(request)
            ctx["error"] = error_text(exc)
            return Template("contest/entries/index.html", context=ctx, status_code=exc.status_code)
        return Redirect(f"/entries/{entry_id}", status_code=303)

    # the entry page

    async def _entry_context(self, request: Request, entry_id: int, *, form: dict[str, Any] | None = None,
                             errors: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
        detail = await entries.get_entry(require_actor(request), entry_id)
        edition = detail.edition
        categories = stored_json(edition["categories"], [])
        upload_errors: dict[str, str] = {}
        errors = in_page_order(errors or {}, PAGE_ORDER)
        if extra.get("missing"):
            extra["missing"] = in_page_order(extra["missing"], PAGE_ORDER)
        if "attachments" in errors:
            upload_errors["file"] = errors["attachments"]
        if extra.get("upload_error"):
            upload_errors["file"] = extra["upload_error"]
            if not detail.editable:  # no upload form to show it next to
                extra.setdefault("notice", extra["upload_error"])
        if extra.get("notice_code") == "deadline_passed":
            extra["notice"] = None  # the read-only page already says when submissions closed
        return {
            "detail": detail, "entry": detail.entry, "edition": edition, "categories": categories,
            "form": form or form_from_entry(detail.entry), "errors": errors, "upload_errors": upload_errors,
            "labels": field_labels(), "kinds": entries.ATTACHMENT_KINDS, "accept": ACCEPT,
            "max_file_mb": edition["max_file_bytes"] // (1024 * 1024),
            "max_entry_mb": edition["max_entry_bytes"] // (1024 * 1024),
            "used_bytes": sum(a["size"] for a in detail.attachments),
            "deadline_passed": clock.now() >= detail.closes_at,
            **HELPERS, **extra,
        }

    async def _entry_page(self, request: Request, entry_id: int, status: int = 200, **kw: Any) -> Template:
        return Template("contest/entries/edit.html", context=await self._entry_context(request, entry_id, **kw),
                        status_code=status)

    @get("/entries/{entry_id:int}", guards=[applicant_required])
    async def show(self, request: Request, entry_id: int, saved: bool = False,
                   ce: Annotated[str | None, Parameter(max_length=4)] = None) -> Template:
        flash = t("Saved.") if saved else None
        if flash and ce:  # the service's start was typed with a Christian-Era year
            flash += " " + dates.ce_note(dates.DateEntry(year=ce), "In service since")
        return await self._entry_page(request, entry_id, flash=flash)

    async def _save(self, request: Request, entry_id: int, form: dict[str, Any]) -> int:
        try:
            return await submission.update_entry(actor=require_actor(request), entry_id=entry_id,
                                                 data=_payload(form), version=whole_number(form.get("version")))
        except ValidationFailed as exc:
            raise _with_date_errors(form, exc) from None

    async def _save_failed(self, request: Request, entry_id: int, form: dict[str, Any],
                           exc: DomainError) -> Template:
        """Re-render after a failed save, keeping what the person typed."""
        if isinstance(exc, ValidationFailed):
            return await self._entry_page(request, entry_id, 422, form=form, errors=exc.errors)
        if isinstance(exc, Conflict) and exc.code == "stale_version":
            detail = await entries.get_entry(require_actor(request), entry_id)
            changes = differences(detail.entry, form, detail.edition)
            # the hidden version becomes the current one: saving again overwrites, deliberately
            return await self._entry_page(request, entry_id, 409, form={**form, "version": detail.entry["version"]},
                                          changes=changes, stale=True)
        return await self._entry_page(request, entry_id, exc.status_code, form=form, notice=error_text(exc),
                                      notice_code=exc.code)

    @post("/entries/{entry_id:int}", guards=[applicant_required])
    async def save(self, request: Request, entry_id: int, data: Form) -> Template | Redirect:
        form = form_from_post(data)
        try:
            await self._save(request, entry_id, form)
        except (ValidationFailed, Conflict) as exc:
            return await self._save_failed(request, entry_id, form, exc)
        # post/redirect/get: reloading the page must not post the old version again
        typed = form["in_service_since"]
        read_as_ce = isinstance(typed, dates.DateEntry) and _service_start(form).read_as_ce
        return Redirect(f"/entries/{entry_id}?saved=1" + (f"&ce={dates.digits(typed.year)}" if read_as_ce else ""),
                        status_code=303)

    @post("/entries/{entry_id:int}/autosave", guards=[applicant_required])
    async def autosave(self, request: Request, entry_id: int, data: Form) -> Template:
        """htmx partial: the save status, plus the new version swapped out of band."""
        form = form_from_post(data)
        ctx: dict[str, Any] = {"entry_id": entry_id, "labels": field_labels(),
                               "time": clock.to_bangkok(clock.now()).strftime("%H:%M")}
        try:
            version = await self._save(request, entry_id, form)
        except ValidationFailed as exc:
            return Template("contest/entries/_save_status.html", status_code=422,
                            context={**ctx, "result": "invalid", "errors": exc.errors})
        except Conflict as exc:
            result = "stale" if exc.code == "stale_version" else "conflict"
            return Template("contest/entries/_save_status.html", status_code=409,
                            context={**ctx, "result": result, "message": error_text(exc)})
        return Template("contest/entries/_save_status.html", context={**ctx, "result": "saved", "version": version})

    # attachments

    @post("/entries/{entry_id:int}/attachments", guards=[applicant_required], request_max_body_size=None,
          opt=MULTIPART)
    async def upload(self, request: Request, entry_id: int) -> Template | Redirect:
        """The browser's multipart form (``_csrf`` before the file), streamed to storage."""
        status, message = 200, None
        try:
            await stream_attachment(request, entry_id)
        except UploadError as exc:
            status = exc.status_code
            message = exc.message_en if current_language.get() == "en" else exc.message_th
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            status, message = exc.status_code, error_text(exc)
        if _wants_partial(request):
            ctx = await self._entry_context(request, entry_id, upload_error=message)
            if message is None:
                ctx["upload_flash"] = t("The file was uploaded. It is being checked.")
            return Template("contest/entries/_attachments.html", context=ctx, status_code=status)
        if message is not None:
            return await self._entry_page(request, entry_id, status, upload_error=message)
        return Redirect(f"/entries/{entry_id}#attachments", status_code=303)

    @get("/entries/{entry_id:int}/attachments", guards=[applicant_required])
    async def attachment_list(self, request: Request, entry_id: int) -> Template | Redirect:
        """htmx partial: the files and their check state, polled while a check is pending."""
        if not _wants_partial(request):
            return Redirect(f"/entries/{entry_id}#attachments", status_code=303)
        return Template("contest/entries/_attachment_list.html",
                        context=await self._entry_context(request, entry_id))

    @get("/entries/{entry_id:int}/attachments/{attachment_id:int}/delete", guards=[applicant_required])
    async def confirm_remove_attachment(self, request: Request, entry_id: int, attachment_id: int) -> Template:
        """Before a file is removed: its name and size, and that it must be uploaded again."""
        detail = await entries.get_entry(require_actor(request), entry_id)
        found = [a for a in detail.attachments if a["id"] == attachment_id]
        if not found:
            raise NotFound("No such file.", code="attachment_not_found")
        a, size = found[0], file_size(found[0]["size"])
        return confirmation_page(Confirmation(
            title=t("Remove this file?"),
            facts=[(t("File"), a["name"]), (t("Kind"), attachment_kind_label(a["kind"])), (t("Size"), size),
                   (t("Entry"), detail.entry["title"] or t("(untitled entry)"))],
            happens=[t("The file {name} ({size}) is removed from the entry: the committees will not see it.",
                       name=a["name"], size=size)],
            cannot_undo=t("A removed file cannot be brought back: to use it again, it must be uploaded again "
                          "({size}).", size=size),
            action=f"/entries/{entry_id}/attachments/{attachment_id}/delete", confirm=t("Yes, remove the file"),
            cancel=f"/entries/{entry_id}#attachments", danger=True,
            blocked=None if detail.editable else t("This entry can no longer be changed.")))

    @post("/entries/{entry_id:int}/attachments/{attachment_id:int}/delete", guards=[applicant_required])
    async def remove_attachment(self, request: Request, entry_id: int, attachment_id: int) -> Template | Redirect:
        actor = require_actor(request)
        detail = await entries.get_entry(actor, entry_id)
        if attachment_id not in {a["id"] for a in detail.attachments}:
            raise NotFound("No such file.", code="attachment_not_found")
        try:
            key = await attachments.delete_attachment(actor=actor, attachment_id=attachment_id)
        except Conflict as exc:
            return await self._entry_page(request, entry_id, exc.status_code, upload_error=error_text(exc),
                                          notice_code=exc.code)
        await delete_stored(key)
        return Redirect(f"/entries/{entry_id}#attachments", status_code=303)

    # submit and withdraw

    async def _missing_page(self, request: Request, entry_id: int, status: int) -> Template | None:
        """The entry form with what is still missing to submit, or None when nothing is."""
        detail = await entries.get_entry(require_actor(request), entry_id)
        missing = entries.missing_for_submission(detail.entry, detail.attachments)
        if not missing:
            return None
        return await self._entry_page(request, entry_id, status, errors=missing, missing=missing)

    @post("/entries/{entry_id:int}/check", guards=[applicant_required])
    async def check_answers_continue(self, request: Request, entry_id: int, data: Form) -> Template | Redirect:
        """"Continue" on the entry form: what is typed is saved, then, if the entry is complete,
        the answers are shown to check before submitting (else the form says what is missing)."""
        form = form_from_post(data) if "version" in data else None
        try:
            if form is not None:
                await self._save(request, entry_id, form)
        except (ValidationFailed, Conflict) as exc:
            return await self._save_failed(request, entry_id, form, exc)  # type: ignore[arg-type]
        missing = await self._missing_page(request, entry_id, 422)
        if missing is not None:
            return missing
        return Redirect(f"/entries/{entry_id}/check", status_code=303)

    @get("/entries/{entry_id:int}/check", guards=[applicant_required])
    async def check_answers(self, request: Request, entry_id: int) -> Template | Redirect:
        """Check your answers: every field and file as saved, each with a link to change it, then
        the button that submits. Submitting is ``POST /entries/{id}/submit``, with its own rules."""
        detail = await entries.get_entry(require_actor(request), entry_id)
        if not detail.editable:
            return Redirect(f"/entries/{entry_id}", status_code=303)
        missing = await self._missing_page(request, entry_id, 200)
        if missing is not None:
            return missing
        categories = stored_json(detail.edition["categories"], [])
        return Template("contest/entries/check.html", context={
            "detail": detail, "entry": detail.entry, "sections": answer_sections(detail.entry, categories),
            "deadline_passed": clock.now() >= detail.closes_at, **HELPERS})

    @post("/entries/{entry_id:int}/submit", guards=[applicant_required])
    async def submit(self, request: Request, entry_id: int, data: Form) -> Template | Redirect:
        """Submitted from the entry form itself, so what is typed is saved first and never lost."""
        form = form_from_post(data) if "version" in data else None
        try:
            if form is not None:
                await self._save(request, entry_id, form)
        except (ValidationFailed, Conflict) as exc:
            return await self._save_failed(request, entry_id, form, exc)  # type: ignore[arg-type]
        try:
            result = await submission.submit_entry(actor=require_actor(request), entry_id=entry_id)
        except ValidationFailed as exc:
            return await self._entry_page(request, entry_id, 422, errors=exc.errors, missing=exc.errors)
        except Conflict as exc:
            return await self._entry_page(request, entry_id, exc.status_code, notice=error_text(exc),
                                          notice_code=exc.code)
        return Redirect(f"/receipts/{result.receipt['number']}", status_code=303)

    @get("/entries/{entry_id:int}/withdraw", guards=[applicant_required])
    async def withdraw_confirm(self, request: Request, entry_id: int) -> Template:
        detail = await entries.get_entry(require_actor(request), entry_id)
        return Template("contest/entries/withdraw.html", context={"detail": detail, "entry": detail.entry,
                                                                  **HELPERS})

    @post("/entries/{entry_id:int}/withdraw", guards=[applicant_required])
    async def withdraw(self, request: Request, entry_id: int) -> Template | Redirect:
        actor = require_actor(request)
        try:
            await submission.withdraw_entry(actor=actor, entry_id=entry_id)
        except Conflict as exc:
            detail = await entries.get_entry(actor, entry_id)
            return Template("contest/entries/withdraw.html", status_code=exc.status_code,
                            context={"detail": detail, "entry": detail.entry, "error": error_text(exc), **HELPERS})
        return Redirect("/entries?withdrawn=1", status_code=303)

    # receipt

    @get("/receipts/{number:str}", guards=[login_required])
    async def receipt(self, request: Request, number: str) -> Template:
        receipt, entry = await submission.get_receipt(require_actor(request), number)
        org = await Organisation.select().where(Organisation.id == entry["organisation"]).first()
        edition = await Edition.select(Edition.year, Edition.title).where(Edition.id == entry["edition"]).first()
        title = (receipt.get("snapshot") or {}).get("title") or entry["title"]
        return Template("contest/entries/receipt.html", context={
            "receipt": receipt, "entry": entry, "org": org, "edition": edition, "title": title,
            "agency_th": AGENCY_TH, "agency_en": AGENCY_EN, **HELPERS})

    # organisers

    @get("/admin/entries", guards=[admin_required])
    async def admin_entries_latest(self) -> Redirect:
        """The nav link: the newest edition's entries."""
        latest = await editions.list_editions(include_draft=True)
        if not latest:
            return Redirect("/admin", status_code=303)
        return Redirect(f"/admin/editions/{latest[0].year}/entries", status_code=303)

    @get("/admin/editions/{year:int}/entries", guards=[admin_required])
    async def admin_list(self, request: Request, year: int,
                         entry_state: str | None = Parameter(query="state", default=None, required=False),
                         province: str | None = None, kind: str | None = None, category: str | None = None,
                         q: str | None = Parameter(default=None, required=False, max_length=200),
                         page: int = Parameter(default=1, ge=1, le=1_000_000)) -> Template:
        actor = require_actor(request)
        edition = await editions.get_edition(year, include_draft=True)
        filters = _admin_filters(year, entry_state, province, kind, category, q)
        overview = await entries.overview_counts(actor, filters)
        total, counts = overview.total, overview.counts
        pages = max(1, math.ceil(total / ADMIN_PAGE_SIZE))
        page = min(page, pages)
        rows = await entries.list_entries(actor, filters, limit=ADMIN_PAGE_SIZE, offset=(page - 1) * ADMIN_PAGE_SIZE)
        from contest.domain.registry import KIND_LABELS

        active = {"q": filters.q or "", "state": filters.state or "", "province": filters.province or "",
                  "kind": filters.kind or "", "category": filters.category or ""}
        provinces = await organisations.list_provinces()
        names = {p["province_code"]: p["province_name_th"] for p in provinces}

        def filter_query(**change: Any) -> str:
            """The query string of this list with some filters changed (page 1 again)."""
            return urlencode({k: v for k, v in {**active, **change}.items() if v})

        first = (page - 1) * ADMIN_PAGE_SIZE + 1 if rows else 0
        categories = {c["code"]: c for c in edition.categories}
        return Template("contest/admin/entries.html", context={
            "edition": edition, "rows": rows, "filters": active,
            "filtered": any(active.values()), "filter_query": filter_query,
            "paging": {"page": page, "pages": pages, "total": total, "first": first,
                       "last": first + len(rows) - 1 if rows else 0, "query": filter_query()},
            "states": (EntryState.draft, EntryState.submitted, EntryState.withdrawn,
                       *[s for s in entries.LIVE_STATES if s not in EntryStates.EDITABLE]),
            "kinds": list(KIND_LABELS), "provinces": provinces,
            "counts_html": counts_html(request, counts, active, categories, names, filter_query, HELPERS),
            "rows_html": entry_rows_html(rows, categories, state_label),
            "categories": categories, **HELPERS})

    @get(["/admin/editions/{year:int}/entries.csv", "/admin/editions/{year:int}/entries.xlsx"],
         guards=[admin_required])
    async def admin_export(self, request: Request, year: int,
                           entry_state: str | None = Parameter(query="state", default=None, required=False),
                           province: str | None = None, kind: str | None = None, category: str | None = None,
                           q: str | None = Parameter(default=None, required=False, max_length=200)) -> Response[bytes]:
        """Exactly the entries the list shows with these filters (every page): CSV with codes for
        programs, XLSX with Thai and English labels for people."""
        await editions.get_edition(year, include_draft=True)
        columns, rows = await entries.export_entries(require_actor(request),
                                                     _admin_filters(year, entry_state, province, kind, category, q))
        if request.url.path.endswith(".csv"):
            return Response(write_csv(columns, rows), media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="entries-{year}.csv"'})
        return Response(write_xlsx([Sheet("entries", columns, rows)]), media_type=XLSX_TYPE, headers={
            "Content-Disposition": f'attachment; filename="entries-{year}.xlsx"'})

    async def _admin_entry_context(self, request: Request, entry_id: int, form: dict[str, Any] | None = None,
                                   errors: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
        history = await entries.entry_history(require_actor(request), entry_id)
        detail = history["detail"]
        events = [{**e, "time": _event_time(e["at"])} for e in history["events"]]
        categories = {c["code"]: c for c in stored_json(detail.edition["categories"], [])}
        return {"detail": detail, "entry": detail.entry, "events": events, "labels": field_labels(),
                "categories": categories, "form": form or {"closes_at": detail.closes_at},
                "errors": errors or {}, **HELPERS, **extra}

    @get("/admin/entries/{entry_id:int}", guards=[admin_required])
    async def admin_entry(self, request: Request, entry_id: int) -> Template:
        return Template("contest/admin/entries_detail.html",
                        context=await self._admin_entry_context(request, entry_id))

    @post("/admin/entries/{entry_id:int}/extend", guards=[admin_required])
    async def admin_extend(self, request: Request, entry_id: int, data: Form) -> Template:
        actor = require_actor(request)
        detail = await entries.get_entry(actor, entry_id)
        typed, reading = dates.field_date(data, "closes_at", "New deadline (Bangkok time)", required=True,
                                          with_time=True)
        reason = str(data.get("reason") or "")
        form: dict[str, Any] = {"closes_at": typed, "reason": reason}
        closes_at = reading.value if isinstance(reading.value, datetime) else None
        try:
            if closes_at is None:
                raise ValidationFailed(errors={"closes_at": reading.error or t(
                    "Enter the new deadline as a date and time.")})
            granted = await extensions.extend_deadline(actor=actor, year=detail.edition["year"],
                                                    organisation_code=detail.organisation["code"],
                                                    closes_at=closes_at, reason=reason)
        except ValidationFailed as exc:
            ctx = await self._admin_entry_context(request, entry_id, form=form, errors=exc.errors)
            return Template("contest/admin/entries_detail.html", context=ctx, status_code=422)
        flash = t("The deadline for {org} is now {closes}.", org=detail.organisation["name_th"],
                  closes=format_date(closes_at))
        if granted["eligibility_cleared"]:
            flash += " " + t("Its eligibility decision was set aside: decide it again after the new deadline.")
        ctx = await self._admin_entry_context(request, entry_id, flash=flash)
        return Template("contest/admin/entries_detail.html", context=ctx)


__all__ = ["EntryPages"]
