"""The organisers' area: editions, accounts, the LAO registry, the audit trail."""

from __future__ import annotations

import io
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from contest import category_rows, dates
from contest.controllers.audit_page import audit_context
from contest.domain import accounts, audit, editions, entries, organisations, outbox, privacy
from contest.domain.editions import DEFAULT_CATEGORIES
from contest.domain.proposals import Proposed
from contest.errors import Conflict, PermissionDenied, ValidationFailed
from contest.guards import admin_required, require_actor
from contest.i18n import current_language, t
from contest.numbers import typed_decimal, whole_number
from contest.summary import in_page_order
from contest.tables import AuditEvent, Organisation, User
from contest.web import MULTIPART, check_deferred_csrf

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

EDITION_FORM_FIELDS = ("year", "title", "title_en", "description", "submission_opens_at", "submission_closes_at",
                       "screening_closes_at", "final_closes_at", "announcement_at", "entries_per_organisation",
                       "shortlist_size", "winners", "max_file_mb", "max_entry_mb", "state",
                       "attachment_retention_years", "appeal_days")


#: The edition's timeline as its form labels it (message ids), typed as day / month / B.E. year / time.
EDITION_TIME_LABELS = {"submission_opens_at": "Submissions open", "submission_closes_at": "Submission deadline",
                       "screening_closes_at": "Screening ends", "final_closes_at": "Final judging ends",
                       "announcement_at": "Results announced"}
EDITION_REQUIRED_TIMES = ("submission_opens_at", "submission_closes_at", "announcement_at")


def _edition_dates(form: dict[str, Any]) -> dates.FormDates:
    return dates.form_dates(form, EDITION_TIME_LABELS,
                            required=EDITION_REQUIRED_TIMES, with_time=True)


def _edition_form(view: editions.EditionView | None) -> dict[str, Any]:
    if view is None:
        return {"entries_per_organisation": 1, "shortlist_size": 40, "winners": 1, "max_file_mb": 100,
                "max_entry_mb": 300, "state": "open", "attachment_retention_years": 2,
                "appeal_days": 15,
                "category_rows": category_rows.rows_of(DEFAULT_CATEGORIES), "categories": ""}
    form = {k: getattr(view, k) for k in ("year", "title", "title_en", "description", "entries_per_organisation",
                                          "shortlist_size", "winners", "state", "attachment_retention_years",
                                          "appeal_days")}
    for k in editions.TIME_FIELDS:
        form[k] = getattr(view, k)
    form["max_file_mb"] = view.max_file_bytes // (1024 * 1024)
    form["max_entry_mb"] = view.max_entry_bytes // (1024 * 1024)
    form["category_rows"], form["categories"] = category_rows.rows_of(view.categories) or [category_rows.blank()], ""
    return form


def _edition_data(form: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {k: form.get(k) for k in EDITION_FORM_FIELDS if k in form}
    data.update(_edition_dates(form).values())
    for mb_field, byte_field in (("max_file_mb", "max_file_bytes"), ("max_entry_mb", "max_entry_bytes")):
        value = data.pop(mb_field, None)
        if value not in (None, ""):
            megabytes = typed_decimal(str(value))
            data[byte_field] = int(megabytes * 1024 * 1024) if megabytes is not None else value
    data["categories"] = category_rows.categories(form)
    return data


def _posted_form(data: dict[str, Any], rows: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A posted edition form to show again: the category rows with the pasted lines merged in
    (or ``rows`` after adding or removing one), and each date as typed."""
    rows = category_rows.categories(data) if rows is None else rows
    return {**data, **_edition_dates(data).entries, "category_rows": rows or [category_rows.blank()],
            "categories": ""}


REGISTRY_CSV_MAX_BYTES = 20 * 1024 * 1024


class AdminPages(Controller):
    path = "/admin"
    guards = [admin_required]
    include_in_schema = False

    @get("/")
    async def dashboard(self, request: Request) -> Template:
        all_editions = await editions.list_editions(include_draft=True)
        current = await editions.current_edition() or (all_editions[0] if all_editions else None)
        return Template("contest/admin/dashboard.html", context={
            "editions": all_editions, "current": current,
            "submissions": await entries.submission_figures(require_actor(request), current.year) if current else None,
            "org_count": await Organisation.count(),
            "user_counts": {r: await User.count().where(User.role == r) for r in ("admin", "reviewer", "applicant")},
            "audit_count": await AuditEvent.count(),
            "failed_jobs": await outbox.failed_count(),
        })

    @get("/outbox")
    async def failed_jobs(self, sent: int | None = None) -> Template:
        """Mail and checks that gave up after retrying for days, to send again."""
        flash = t("{n} jobs were sent again.", n=sent) if sent is not None else None
        return Template("contest/admin/outbox.html", context={"jobs": await outbox.failed_jobs(), "flash": flash})

    @post("/outbox/resend")
    async def resend_jobs(self, request: Request, data: Form) -> Redirect:
        raw = data.get("id", "")
        number = whole_number(raw) if raw.isascii() and raw.isdigit() else None
        ids = None if raw == "all" else [number] if number is not None else []
        sent = await outbox.resend_failed(actor=require_actor(request), ids=ids)
        return Redirect(f"/admin/outbox?sent={sent}", status_code=303)

    @get("/editions/new")
    async def new_edition(self) -> Template:
        return Template("contest/admin/edition_form.html", context={"form": _edition_form(None), "errors": {},
                                                                      "creating": True})

    @post("/editions/new")
    async def create_edition(self, request: Request, data: Form) -> Template | Redirect:
        rows = category_rows.action(data)
        if rows is not None:
            return Template("contest/admin/edition_form.html", context={
                "form": _posted_form(data, rows), "errors": {}, "creating": True})
        try:
            view = await editions.create_edition(actor=require_actor(request), data=_edition_data(data))
        except (ValidationFailed, Conflict) as exc:
            typed = _edition_dates(data)
            errors = typed.merged(getattr(exc, "errors", None) or {exc.field or "year": t(exc.message)})
            return Template("contest/admin/edition_form.html", status_code=422,
                            context={"form": _posted_form(data), "errors": errors, "creating": True})
        return Redirect(f"/admin/editions/{view.year}/edit", status_code=303)

    # The edition's cockpit is at /admin/editions/{year} (``edition_cockpit``).
    @get("/editions/{year:int}/edit")
    async def edit_edition(self, year: int) -> Template:
        view = await editions.get_edition(year, include_draft=True)
        return Template("contest/admin/edition_form.html", context={"form": _edition_form(view), "errors": {},
                                                                      "creating": False, "edition": view})

    @post("/editions/{year:int}/edit")
    async def update_edition(self, request: Request, year: int, data: Form) -> Template:
        rows = category_rows.action(data)
        if rows is not None:
            return Template("contest/admin/edition_form.html", context={
                "form": {**_posted_form(data, rows), "year": year}, "errors": {}, "creating": False,
                "edition": await editions.get_edition(year, include_draft=True)})
        payload = _edition_data(data)
        payload.pop("year", None)
        try:
            view = await editions.update_edition(actor=require_actor(request), year=year, data=payload)
        except Proposed:
            current = await editions.get_edition(year, include_draft=True)
            return Template("contest/admin/edition_form.html", status_code=202, context={
                "form": _edition_form(current), "errors": {}, "creating": False, "edition": current,
                "flash": t("Proposed: another administrator must approve the new announcement time under "
                           "Pending actions.")})
        except (ValidationFailed, Conflict) as exc:
            typed = _edition_dates(data)
            errors = typed.merged(getattr(exc, "errors", None) or {"form": t(exc.message, **exc.params)})
            current = await editions.get_edition(year, include_draft=True)
            return Template("contest/admin/edition_form.html", status_code=exc.status_code,
                            context={"form": {**_posted_form(data), "year": year}, "errors": errors, "creating": False,
                                     "edition": current})
        return Template("contest/admin/edition_form.html", context={
            "form": _edition_form(view), "errors": {}, "creating": False, "edition": view,
            "flash": " ".join([t("Saved."), *_edition_dates(data).ce_notes()])})

    @get("/users")
    async def users(self, request: Request, role: str | None = None, q: str | None = None) -> Template:
        rows = await accounts.list_users(actor=require_actor(request), role=role, q=q)
        return Template("contest/admin/users.html", context={"users": rows, "role": role, "q": q,
                                                               "form": {}, "errors": {}})

    @post("/users")
    async def create_user(self, request: Request, data: Form) -> Template:
        actor = require_actor(request)
        try:
            await accounts.create_user(actor=actor, email=data.get("email", ""), password=data.get("password", ""),
                                       role=data.get("role", ""), name=data.get("name", ""),
                                       organisation_code=data.get("organisation_code") or None)
        except Proposed:
            rows = await accounts.list_users(actor=actor)
            return Template("contest/admin/users.html", status_code=202, context={
                "users": rows, "form": {}, "errors": {},
                "flash": t("Proposed: another administrator must approve the new administrator under "
                           "Pending actions.")})
        except (ValidationFailed, Conflict) as exc:
            errors = getattr(exc, "errors", None) or {exc.field or "email": t(exc.message)}
            errors = in_page_order(errors, ("email", "name", "role", "organisation_code", "password"))
            rows = await accounts.list_users(actor=actor)
            return Template("contest/admin/users.html", status_code=exc.status_code, context={
                "users": rows, "form": {k: v for k, v in data.items() if k != "password"}, "errors": errors})
        rows = await accounts.list_users(actor=actor)
        return Template("contest/admin/users.html", context={
            "users": rows, "form": {}, "errors": {},
            "flash": t("Account {email} created.", email=accounts.normalise_email(data.get("email", "")))})

    @get("/registry")
    async def registry(self, q: str | None = None, province: str | None = None, kind: str | None = None,
                       page: int = 1) -> Template:
        result = await organisations.search_organisations(q=q, province=province, kind=kind, page=page, per_page=50)
        return Template("contest/admin/registry.html", context={
            "result": result, "q": q, "province": province, "kind": kind,
            "provinces": await organisations.list_provinces(), "report": None})

    # The whole registry (~7,850 organisations) as CSV is about 2 MB.
    @post("/registry/import", opt=MULTIPART, request_max_body_size=REGISTRY_CSV_MAX_BYTES)
    async def import_registry(self, request: Request, data: Multipart) -> Template:
        if not check_deferred_csrf(request.scope["state"], data.get("_csrf")):
            raise PermissionDenied("This form has expired or came from another site. Reload the page and try again.",
                                   code="csrf_failed")
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed(errors={"file": t("Choose a CSV file to import.")})
        raw = await upload.read()
        text = raw.decode("utf-8-sig", errors="replace")
        report = await organisations.import_organisations_csv(io.StringIO(text), actor=require_actor(request))
        result = await organisations.search_organisations(per_page=50)
        return Template("contest/admin/registry.html", context={
            "result": result, "provinces": await organisations.list_provinces(), "report": report})

    @get("/audit")
    async def audit_log(self, request: Request) -> Template:
        """The audit trail as a timeline, filtered by who, the kind of action, what and when."""
        context, status = await audit_context(require_actor(request), request.query_params)
        return Template("contest/admin/audit.html", context=context, status_code=status)

    @post("/audit/verify")
    async def verify(self, request: Request) -> Template:
        report = await audit.verify_chain()
        context, _ = await audit_context(require_actor(request), {}, report)
        return Template("contest/admin/audit.html", context=context)

    @get("/privacy")
    async def records_of_processing(self) -> Template:
        """Records of processing (PDPA section 39), and each edition's retention of files."""
        from contest.domain.retention import files_due_at

        rows = []
        for view in await editions.list_editions(include_draft=True):
            due = files_due_at(view.published_at, view.attachment_retention_years) if view.published_at else None
            rows.append({"edition": view, "files_due_at": due})
        language = current_language.get()
        return Template("contest/admin/privacy.html", context={
            "records": privacy.record_rows(language), "editions": rows,
            "controller": privacy.CONTROLLER_EN if language == "en" else privacy.CONTROLLER_TH})

    @get("/privacy/records.json")
    async def records_json(self) -> Response[dict[str, Any]]:
        return Response(privacy.export_json(), headers={
            "Content-Disposition": 'attachment; filename="records-of-processing.json"'})

    @get("/privacy/records.csv")
    async def records_csv(self) -> Response[str]:
        return Response(privacy.export_csv(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="records-of-processing.csv"'})
