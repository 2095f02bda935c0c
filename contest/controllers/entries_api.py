"""JSON API v1: entries, attachments (streamed), submission, withdrawal (shared/API.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contest.domain import entries
from contest.errors import DomainError, NotFound, PermissionDenied
from contest.guards import applicant_required, login_required, require_actor
from contest.i18n import current_language
from contest.storage import get_storage
from contest.web import check_deferred_csrf
from uploads.errors import UploadError
from uploads.serving import file_response
from uploads.storage import ObjectNotFound
from uploads.streaming import receive_upload


@dataclass
class AttachmentRead:
    id: int
    name: str
    size: int
    content_type: str
    sha256: str
    kind: str
    check_state: str
    check_details: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


@dataclass
class ReceiptFile:
    name: str
    size: int
    sha256: str


@dataclass
class ReceiptRead:
    number: str
    submitted_at: datetime
    files: list[ReceiptFile]
    sequence: int = 1


@dataclass
class EntryRead:
    id: int
    year: int
    organisation_code: str
    state: str
    version: int
    title: str
    category: str
    summary: str
    problem: str
    solution: str
    citizens_served: int | None
    results: str
    in_service_since: date | None
    technology: str
    links: list[str]
    video_url: str
    contact_name: str
    contact_email: str
    contact_phone: str
    consent_publish: bool
    submitted_at: datetime | None
    deadline: datetime
    editable: bool
    unsubmitted_changes: bool
    attachments: list[AttachmentRead]
    receipts: list[ReceiptRead]


@dataclass
class EntrySummary:
    id: int
    year: int
    organisation_code: str
    organisation_name_th: str
    state: str
    version: int
    title: str
    category: str
    submitted_at: datetime | None


@dataclass
class SubmitRead:
    state: str
    receipt: ReceiptRead


def attachment_read(a: dict[str, Any]) -> AttachmentRead:
    return AttachmentRead(id=a["id"], name=a["name"], size=a["size"], content_type=a["content_type"],
                          sha256=a["sha256"], kind=a["kind"], check_state=a["check_state"],
                          check_details=a.get("check_details") or {}, created_at=a.get("created_at"))


def receipt_read(r: dict[str, Any]) -> ReceiptRead:
    return ReceiptRead(number=r["number"], submitted_at=r["submitted_at"], sequence=r["sequence"],
                       files=[ReceiptFile(name=f["name"], size=f["size"], sha256=f["sha256"]) for f in r["files"]])


def entry_read(d: entries.EntryDetail) -> EntryRead:
    e = d.entry
    return EntryRead(
        id=e["id"], year=d.edition["year"], organisation_code=d.organisation["code"], state=e["state"],
        version=e["version"], title=e["title"], category=e["category"], summary=e["summary"], problem=e["problem"],
        solution=e["solution"], citizens_served=e["citizens_served"], results=e["results"],
        in_service_since=e["in_service_since"], technology=e["technology"], links=e["links"],
        video_url=e["video_url"], contact_name=e["contact_name"], contact_email=e["contact_email"],
        contact_phone=e["contact_phone"], consent_publish=e["consent_publish"], submitted_at=e["submitted_at"],
        deadline=d.closes_at, editable=d.editable, unsubmitted_changes=d.unsubmitted_changes,
        attachments=[attachment_read(a) for a in d.attachments],
        receipts=[receipt_read(entries._receipt_view(r)) for r in d.receipts])


def upload_error_response(exc: UploadError) -> Response:
    lang = current_language.get()
    return Response({"status_code": exc.status_code, "code": exc.code,
                     "detail": exc.message_en if lang == "en" else exc.message_th,
                     "detail_en": exc.message_en}, status_code=exc.status_code)


async def stream_attachment(request: Request, entry_id: int) -> dict[str, Any]:
    """Shared by the API and the entry page: check first, then stream the body to storage."""
    actor = require_actor(request)
    allowance = await entries.prepare_upload(actor=actor, entry_id=entry_id)
    length = request.headers.get("content-length")
    storage = get_storage()
    received = await receive_upload(
        request.stream(), content_type=request.headers.get("content-type", ""),
        content_length=int(length) if length and length.isdigit() else None,
        storage=storage, max_bytes=allowance.max_bytes)
    try:
        if not check_deferred_csrf(request.scope["state"], received.fields.get("_csrf")):
            raise PermissionDenied("This form has expired or came from another site. Reload the page and try again.",
                                   code="csrf_failed")
        return await entries.add_attachment(actor=actor, entry_id=entry_id, name=received.filename,
                                            size=received.size, content_type=received.content_type,
                                            sha256=received.sha256, storage_key=received.key,
                                            kind=received.fields.get("kind"))
    except BaseException:
        await storage.delete(received.key)  # the row was not written: leave nothing behind
        raise


class EntryApi(Controller):
    tags = ["entries"]

    @post("/api/v1/editions/{year:int}/entries", operation_id="createEntry", guards=[applicant_required],
          status_code=HTTP_201_CREATED)
    async def create(self, request: Request, year: int, data: dict[str, Any] | None = None) -> EntryRead:
        """Create a draft for the caller's organisation."""
        actor = require_actor(request)
        entry_id = await entries.create_entry(actor=actor, year=year, data=data or {})
        return entry_read(await entries.get_entry(actor, entry_id))

    @get("/api/v1/entries", operation_id="listEntries", guards=[login_required])
    async def list_entries(self, request: Request, year: int | None = None,
                           entry_state: str | None = Parameter(query="state", default=None, required=False),
                           province: str | None = None, kind: str | None = None,
                           category: str | None = None) -> list[EntrySummary]:
        rows = await entries.list_entries(require_actor(request), year=year, state=entry_state, province=province,
                                          kind=kind, category=category, limit=10_000)
        return [EntrySummary(id=r["id"], year=r["edition.year"], organisation_code=r["organisation.code"],
                             organisation_name_th=r["organisation.name_th"], state=r["state"], version=r["version"],
                             title=r["title"], category=r["category"], submitted_at=r["submitted_at"]) for r in rows]

    @get("/api/v1/entries/{entry_id:int}", operation_id="getEntry", guards=[login_required])
    async def get_one(self, request: Request, entry_id: int) -> EntryRead:
        return entry_read(await entries.get_entry(require_actor(request), entry_id))

    @patch("/api/v1/entries/{entry_id:int}", operation_id="updateEntry", guards=[applicant_required])
    async def update(self, request: Request, entry_id: int, data: dict[str, Any]) -> EntryRead:
        """Update fields; the body carries the ``version`` you loaded (409 if it is stale)."""
        actor = require_actor(request)
        version = data.pop("version", None)
        unknown = set(data) - set(entries.FIELDS)
        if unknown:
            from contest.errors import ValidationFailed
            raise ValidationFailed(errors={k: "unknown field" for k in sorted(unknown)})
        await entries.update_entry(actor=actor, entry_id=entry_id, data=data, version=version)
        return entry_read(await entries.get_entry(actor, entry_id))

    @post("/api/v1/entries/{entry_id:int}/attachments", operation_id="uploadAttachment",
          guards=[applicant_required], status_code=HTTP_201_CREATED, request_max_body_size=None)
    async def upload(self, request: Request, entry_id: int) -> AttachmentRead | Response:
        """multipart/form-data with field ``file`` (and optional ``kind``), streamed to storage."""
        try:
            return attachment_read(await stream_attachment(request, entry_id))
        except UploadError as exc:
            return upload_error_response(exc)

    @delete("/api/v1/attachments/{attachment_id:int}", operation_id="deleteAttachment",
            guards=[applicant_required], status_code=200)
    async def remove(self, request: Request, attachment_id: int) -> dict[str, Any]:
        key = await entries.delete_attachment(actor=require_actor(request), attachment_id=attachment_id)
        if key:
            await get_storage().delete(key)
        return {"id": attachment_id, "deleted": True}

    @get("/api/v1/attachments/{attachment_id:int}/content", operation_id="downloadAttachment",
         guards=[login_required])
    async def content(self, request: Request, attachment_id: int, inline: bool = False) -> Response:
        """The file's bytes (Range supported). Owner, admin, or an assigned reviewer."""
        actor = require_actor(request)
        att = await entries.get_attachment_for_download(actor, attachment_id)
        try:
            return await file_response(get_storage(), att["storage_key"], filename=att["name"],
                                       content_type=att["content_type"], range_header=request.headers.get("range"),
                                       inline=inline and actor.role in ("reviewer", "admin"))
        except ObjectNotFound as exc:
            raise NotFound("No such file.", code="attachment_not_found") from exc

    @post("/api/v1/entries/{entry_id:int}/submit", operation_id="submitEntry", guards=[applicant_required],
          status_code=HTTP_200_OK)
    async def submit(self, request: Request, entry_id: int) -> SubmitRead:
        result = await entries.submit_entry(actor=require_actor(request), entry_id=entry_id)
        r = result.receipt
        return SubmitRead(state="submitted", receipt=receipt_read(r))

    @post("/api/v1/entries/{entry_id:int}/withdraw", operation_id="withdrawEntry", guards=[applicant_required],
          status_code=HTTP_200_OK)
    async def withdraw(self, request: Request, entry_id: int) -> dict[str, str]:
        await entries.withdraw_entry(actor=require_actor(request), entry_id=entry_id)
        return {"state": "withdrawn"}


__all__ = ["EntryApi", "stream_attachment", "DomainError"]
