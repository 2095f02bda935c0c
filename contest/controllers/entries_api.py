"""JSON API v1: entries, attachments (streamed), submission, withdrawal (shared/API.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import anyio
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contest import clock
from contest.domain import attachments, consent, entries, extensions, submission
from contest.domain.audit import Actor
from contest.enums import EntryState, Role
from contest.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    StorageFull,
    ValidationFailed,
)
from contest.guards import admin_required, applicant_required, login_required, require_actor
from contest.i18n import current_language, t
from contest.numbers import query_number, query_value, whole_number
from contest.openapi import BEARER, UNSAFE, api, binary, header, link
from contest.operations import UPLOAD_BYTES
from contest.schemas import DeletedRead, EntryFields, EntryUpdate, ExtensionIn, StateRead
from contest.storage import get_storage
from contest.web import MULTIPART, check_deferred_csrf
from uploads.errors import UploadError, UploadTooLarge
from uploads.serving import file_response
from uploads.sniff import FILE_TYPES
from uploads.storage import ObjectNotFound, Storage, StorageError
from uploads.storage import StorageFull as StorageVolumeFull
from uploads.streaming import MULTIPART_OVERHEAD, ReceivedUpload, receive_upload

log = logging.getLogger("contest.uploads")


#: The most entries one list call returns (the whole of a large edition).
MAX_PER_PAGE = 10_000


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
    #: The check's note in the caller's language (why a file failed, or a caveat on a pass).
    check_message: str = ""


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
class ReceiptDetail(ReceiptRead):
    entry_id: int = 0


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
    #: Who gave the consent to publish and when (the giver for the organisation's staff and the
    #: administrators only), and when it was withdrawn.
    consent_given_by: str | None = None
    consent_given_at: datetime | None = None
    consent_withdrawn_at: datetime | None = None


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


@dataclass
class ExtensionRead:
    year: int
    organisation_code: str
    until: datetime
    reason: str
    deadline: datetime | None = None
    created_at: datetime | None = None
    #: Entries whose eligibility had been decided: back to submitted, to be decided again.
    eligibility_cleared: list[int] = field(default_factory=list)


def _details(value: Any) -> dict[str, Any]:
    """A check's details as an object (a row just inserted holds the JSON text)."""
    if isinstance(value, str):
        value = json.loads(value or "{}")
    return value if isinstance(value, dict) else {}


def attachment_read(a: dict[str, Any]) -> AttachmentRead:
    return AttachmentRead(id=a["id"], name=a["name"], size=a["size"], content_type=a["content_type"],
                          sha256=a["sha256"], kind=a["kind"], check_state=a["check_state"],
                          check_details=_details(a.get("check_details")),
                          created_at=a.get("created_at"),
                          check_message=attachments.check_note(a.get("check_message")))


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
        receipts=[receipt_read(submission.receipt_view(r)) for r in d.receipts])


async def entry_read_for(actor: Actor, d: entries.EntryDetail, history: dict[str, Any] | None = None) -> EntryRead:
    """``entry_read`` with the record of the consent to publish (its ``history`` when known)."""
    read = entry_read(d)
    record = history if history is not None else await consent.consent_history(read.id)
    read.consent_given_at, read.consent_withdrawn_at = record["consent_given_at"], record["consent_withdrawn_at"]
    if actor.role == Role.admin or (actor.role == Role.applicant and actor.organisation_id == d.organisation["id"]):
        read.consent_given_by = record["consent_given_by"]
    return read


def upload_error_response(exc: UploadError) -> Response:
    lang = current_language.get()
    return Response({"status_code": exc.status_code, "code": exc.code,
                     "detail": exc.message_en if lang == "en" else exc.message_th,
                     "detail_en": exc.message_en}, status_code=exc.status_code)


def storage_full() -> StorageFull:
    return StorageFull("The file was not stored: the file storage is full. Please try again later, "
                       "or tell the organisers if it goes on.", code="storage_full")


def storage_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("The file was not stored: file storage is not available right now. "
                              "Please try again in a few minutes.", code="storage_unavailable")


def require_form_token(request: Request, fields: dict[str, str]) -> None:
    """A streamed multipart form checks its own ``_csrf`` field (read with the body)."""
    if not check_deferred_csrf(request.scope["state"], fields.get("_csrf")):
        raise PermissionDenied("This form has expired or came from another site. Reload the page and try again.",
                               code="csrf_failed")


async def discard_unrecorded(storage: Any, key: str, is_recorded: Callable[[str], Awaitable[bool]]) -> None:
    """After a failed upload: delete the stored bytes unless a row holds them (a cancellation can
    arrive just after the row committed), even while the request is being cancelled (client
    gone). If the storage fails now too, the object is only an orphan, logged."""
    with anyio.CancelScope(shield=True):
        try:
            if not await is_recorded(key):
                await storage.delete(key)
        except Exception:  # noqa: BLE001 - the original error is what the caller must see
            log.exception("could not delete the unrecorded upload %s", key)


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def receive_into_storage(request: Request, what: str, *, max_bytes: int,
                               **fields: Any) -> tuple[Storage, ReceivedUpload]:
    """Stream a form's file into storage (refused first when the volume is below its free-space
    reserve); a storage failure is logged as storing ``what`` and answered 507 or 503. ``fields``:
    :func:`uploads.streaming.receive_upload`'s options for the form's other fields."""
    length = request.headers.get("content-length")
    storage = get_storage()
    if not storage.has_room((whole_number(length) or 0) if length else 0):
        raise storage_full()
    try:
        received = await receive_upload(
            request.stream(), content_type=request.headers.get("content-type", ""),
            content_length=whole_number(length) if length else None, storage=storage, max_bytes=max_bytes, **fields)
    except StorageVolumeFull as exc:
        log.error("storing %s failed: %s", what, exc)
        raise storage_full() from exc
    except StorageError as exc:
        log.error("storing %s failed: %s", what, exc)
        raise storage_unavailable() from exc
    return storage, received


async def stream_attachment(request: Request, entry_id: int) -> dict[str, Any]:
    """Shared by the API and the entry page: check first, then stream the body to storage.

    With an ``Idempotency-Key`` header (or an ``idempotency_key`` form field before the file),
    a retry of an upload whose answer was lost returns the file already stored instead of
    storing a second copy."""
    actor = require_actor(request)
    header_key = request.headers.get("idempotency-key")
    earlier, entry = await attachments.earlier_upload(actor=actor, entry_id=entry_id, idempotency_key=header_key)
    if earlier is not None:
        return earlier
    allowance = await attachments.prepare_upload(actor=actor, entry_id=entry_id, entry=entry)
    length = request.headers.get("content-length")
    content_length = whole_number(length) if length else None
    storage = get_storage()
    if not storage.has_room(content_length or 0):
        log.error("refused an upload for entry %s: the storage volume is below its free-space reserve", entry_id)
        raise storage_full()
    try:
        received = await receive_upload(
            request.stream(), content_type=request.headers.get("content-type", ""),
            content_length=content_length, storage=storage, max_bytes=allowance.max_bytes)
    except UploadTooLarge as exc:
        # Below the per-file limit the entry's room was the limit: say how much room is left
        # (the per-file message would claim a maximum of what happens to be left, even 0 MB).
        over_file_limit = (content_length is not None
                           and content_length > allowance.max_file_bytes + MULTIPART_OVERHEAD)
        if allowance.entry_remaining < allowance.max_file_bytes and not over_file_limit:
            raise attachments.entry_too_large(allowance.max_entry_bytes, allowance.entry_remaining) from exc
        raise
    except StorageVolumeFull as exc:
        log.error("storing an upload for entry %s failed: %s", entry_id, exc)
        raise storage_full() from exc
    except StorageError as exc:  # S3 down, disk failing: nothing was stored (the intake aborted)
        log.error("storing an upload for entry %s failed: %s", entry_id, exc)
        raise storage_unavailable() from exc
    try:
        require_form_token(request, received.fields)
        attachment = await attachments.add_attachment(
            actor=actor, entry_id=entry_id, name=received.filename, size=received.size,
            content_type=received.content_type, sha256=received.sha256, storage_key=received.key,
            kind=received.fields.get("kind"),
            idempotency_key=header_key or received.fields.get("idempotency_key"), allowance=allowance)
    except BaseException:
        await discard_unrecorded(storage, received.key, attachments.is_recorded)
        raise
    if attachment["storage_key"] != received.key:  # an earlier try had stored this file
        await discard_unrecorded(storage, received.key, attachments.is_recorded)
    else:
        UPLOAD_BYTES.inc(received.size)
    return attachment


async def delete_stored(key: str | None) -> None:
    """Delete the bytes of a file removed from an entry (``None``: a receipt lists it, keep it).
    The removal is already committed; if storage fails now the bytes stay as an orphan, which
    is logged rather than reported as a failed removal."""
    if not key:
        return
    try:
        await get_storage().delete(key)
    except StorageError:
        log.exception("could not delete the stored bytes %s of a removed file", key)


def _entry_links(expression: str) -> dict[str, dict[str, Any]]:
    return {op: link(op, entry_id=expression) for op in (
        "getEntry", "updateEntry", "uploadAttachment", "submitEntry", "withdrawEntry", "getEntryResult")}


#: What a new entry's id opens up.
ENTRY_LINKS = _entry_links("$response.body#/id")
ATTACHMENT_LINKS = {op: link(op, attachment_id="$response.body#/id")
                    for op in ("downloadAttachment", "deleteAttachment")}
RECEIPT_LINKS = {"getReceipt": link("getReceipt", number="$response.body#/receipt/number")}

#: The upload: multipart/form-data, streamed to storage as it arrives.
UPLOAD_BODY = {
    "schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "The file (PDF, JPEG, PNG, WebP, MP4, DOCX, PPTX or XLSX; its type is "
                                "read from its bytes, not from its name)."},
        "kind": {"type": "string", "enum": list(entries.ATTACHMENT_KINDS),
                 "description": "What the file is; left out: from its type."},
        "idempotency_key": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,100}$",
                            "description": "As the `Idempotency-Key` header, for forms (before the file)."},
    }},
    "encoding": {"file": {"contentType": ", ".join(sorted({t.content_type for t in FILE_TYPES}
                                                          | {"application/octet-stream"}))}},
}
FILE_MEDIA_TYPES = tuple(sorted({t.content_type for t in FILE_TYPES}))
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "A key the client chooses per file (8-100 of `A-Z a-z 0-9 . _ : -`). Sending the same "
                   "upload again with the same key (after a lost answer) returns the file stored the first "
                   "time instead of storing a second copy.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,100}$"}}
RANGE_HEADER = {"name": "Range", "in": "header", "required": False,
                "description": "One byte range, `bytes=first-last`, `bytes=first-` or `bytes=-suffix` "
                               "(others are ignored: the whole file is sent).",
                "schema": {"type": "string"}}
FILE_HEADERS = {"Content-Disposition": header("`attachment` (or `inline` for a reviewer's PDF or image), "
                                              "with the file's name."),
                "Accept-Ranges": header("`bytes`."), "Content-Length": header("The bytes sent.")}
PARTIAL = {206: {"description": "The byte range asked for.", "content": binary(*FILE_MEDIA_TYPES),
                 "headers": {**FILE_HEADERS, "Content-Range": header("`bytes first-last/size`.")}},
           416: {"description": "The range asked for lies outside the file (no body).",
                 "headers": {"Content-Range": header("`bytes */size`.")}}}
PAGE_HEADERS = {
    "X-Total-Count": header("How many entries match the filters (on every page).", {"type": "integer"}),
    "Link": header('RFC 8288 links to the neighbouring pages with the same filters: `<...>; rel="next"`, '
                   '`<...>; rel="prev"`; left out when there is none.'),
}


class EntryApi(Controller):
    tags = ["entries"]

    @post("/api/v1/editions/{year:int}/entries", operation_id="createEntry", guards=[applicant_required],
          status_code=HTTP_201_CREATED,
          **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=EntryFields, body_required=False,
                links=ENTRY_LINKS))
    async def create(self, request: Request, year: int, data: dict[str, Any] | None = None) -> EntryRead:
        """Create a draft for the caller's organisation."""
        actor = require_actor(request)
        draft = await submission.create_draft(actor=actor, year=year, data=data or {})
        # A draft created without the consent to publish has no history of it yet.
        return await entry_read_for(actor, draft, None if draft.entry["consent_publish"] else consent.NO_HISTORY)

    @get("/api/v1/entries", operation_id="listEntries", guards=[login_required],
         **api(401, 403, 422, auth=BEARER, headers=PAGE_HEADERS))
    async def list_entries(self, request: Request, year: str | None = query_number(),
                           entry_state: str | None = Parameter(query="state", default=None, required=False),
                           province: str | None = None, kind: str | None = None,
                           category: str | None = None,
                           page: str | None = query_number(minimum=1, maximum=1_000_000, default=1),
                           per_page: str | None = query_number(minimum=1, maximum=MAX_PER_PAGE,
                                                               default=MAX_PER_PAGE),
                           ) -> Response[list[EntrySummary]]:
        """Entries by id: without ``per_page`` every match (up to 10,000: an edition holds at most
        one entry per organisation by default), else one page. ``X-Total-Count`` says how many
        match; ``Link`` gives the next and previous pages (with the same filters)."""
        actor = require_actor(request)
        edition_year = query_value(year, "year")
        page_number = query_value(page, "page", minimum=1, maximum=1_000_000, default=1)
        size = query_value(per_page, "per_page", minimum=1, maximum=MAX_PER_PAGE, default=MAX_PER_PAGE)
        filters = entries.EntryFilters(year=edition_year, state=entry_state or None, province=province or None,
                                       kind=kind or None, category=category or None)
        rows = await entries.list_entries(actor, filters, limit=size, offset=(page_number - 1) * size)
        total = await entries.count_matching(actor, filters)
        items = [EntrySummary(id=r["id"], year=r["edition.year"], organisation_code=r["organisation.code"],
                              organisation_name_th=r["organisation.name_th"], state=r["state"],
                              version=r["version"], title=r["title"], category=r["category"],
                              submitted_at=r["submitted_at"]) for r in rows]
        return Response(items, headers={"X-Total-Count": str(total),
                                        **page_links(request, page=page_number, per_page=size, total=total)})

    @get("/api/v1/entries/{entry_id:int}", operation_id="getEntry", guards=[login_required],
         **api(401, 404, auth=BEARER))
    async def get_one(self, request: Request, entry_id: int) -> EntryRead:
        actor = require_actor(request)
        return await entry_read_for(actor, await entries.get_entry(actor, entry_id))

    @patch("/api/v1/entries/{entry_id:int}", operation_id="updateEntry", guards=[applicant_required],
           **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=EntryUpdate))
    async def update(self, request: Request, entry_id: int, data: dict[str, Any]) -> EntryRead:
        """Update fields; the body carries the ``version`` you loaded (409 if it is stale)."""
        actor = require_actor(request)
        version = data.pop("version", None)
        saved = await submission.save_entry(actor=actor, entry_id=entry_id, data=data, version=version)
        return await entry_read_for(actor, await entries.entry_detail(actor, saved.row, saved.edition, saved.closes))

    @post("/api/v1/entries/{entry_id:int}/attachments", operation_id="uploadAttachment",
          guards=[applicant_required], status_code=HTTP_201_CREATED, request_max_body_size=None, opt=MULTIPART,
          **api(*UNSAFE, 401, 403, 404, 409, 413, 415, 422, 503, 507, auth=BEARER, multipart=UPLOAD_BODY,
                reply=AttachmentRead, links=ATTACHMENT_LINKS, request_headers=[IDEMPOTENCY_HEADER]))
    async def upload(self, request: Request, entry_id: int) -> AttachmentRead | Response:
        """multipart/form-data with field ``file`` (and optional ``kind``), streamed to storage."""
        try:
            return attachment_read(await stream_attachment(request, entry_id))
        except UploadError as exc:
            return upload_error_response(exc)

    @delete("/api/v1/attachments/{attachment_id:int}", operation_id="deleteAttachment",
            guards=[applicant_required], status_code=200, **api(*UNSAFE, 401, 403, 404, 409, auth=BEARER))
    async def remove(self, request: Request, attachment_id: int) -> DeletedRead:
        key = await attachments.delete_attachment(actor=require_actor(request), attachment_id=attachment_id)
        await delete_stored(key)
        return DeletedRead(id=attachment_id, deleted=True)

    @get("/api/v1/attachments/{attachment_id:int}/content", operation_id="downloadAttachment",
         guards=[login_required],
         **api(400, 401, 403, 404, 503, auth=BEARER, media=binary(*FILE_MEDIA_TYPES), headers=FILE_HEADERS,
               also=PARTIAL, request_headers=[RANGE_HEADER]))
    async def content(self, request: Request, attachment_id: int, inline: bool = False) -> Response:
        """The file's bytes (Range supported). Owner, admin, or an assigned reviewer."""
        actor = require_actor(request)
        att = await attachments.get_attachment_for_download(actor, attachment_id)
        try:
            return await file_response(get_storage(), att["storage_key"], filename=att["name"],
                                       content_type=att["content_type"], range_header=request.headers.get("range"),
                                       inline=inline and actor.role in (Role.reviewer, Role.admin))
        except ObjectNotFound as exc:
            raise NotFound("No such file.", code="attachment_not_found") from exc

    @post("/api/v1/entries/{entry_id:int}/submit", operation_id="submitEntry", guards=[applicant_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, links=RECEIPT_LINKS))
    async def submit(self, request: Request, entry_id: int) -> SubmitRead:
        result = await submission.submit_entry(actor=require_actor(request), entry_id=entry_id)
        r = result.receipt
        return SubmitRead(state=EntryState.submitted, receipt=receipt_read(r))

    @post("/api/v1/entries/{entry_id:int}/withdraw", operation_id="withdrawEntry", guards=[applicant_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, 401, 403, 404, 409, auth=BEARER))
    async def withdraw(self, request: Request, entry_id: int) -> StateRead:
        await submission.withdraw_entry(actor=require_actor(request), entry_id=entry_id)
        return StateRead(state=EntryState.withdrawn)

    @get("/api/v1/receipts/{number:str}", operation_id="getReceipt", guards=[login_required],
         **api(401, 404, auth=BEARER))
    async def receipt(self, request: Request, number: str) -> ReceiptDetail:
        """A submission receipt by its number (the organisation's staff, or an admin): when, and
        the files with their SHA-256, as they were submitted."""
        view, _ = await submission.get_receipt(require_actor(request), number)
        r = receipt_read(view)
        return ReceiptDetail(number=r.number, submitted_at=r.submitted_at, files=r.files, sequence=r.sequence,
                             entry_id=view["entry_id"])

    @post("/api/v1/editions/{year:int}/extensions", operation_id="extendDeadline", guards=[admin_required],
          status_code=HTTP_201_CREATED, **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=ExtensionIn))
    async def extend(self, request: Request, year: int, data: dict[str, Any]) -> ExtensionRead:
        """Give one organisation a later deadline: ``{organisation_code, until, reason}``, ``until``
        in ISO 8601 (Bangkok time when it has no offset). Audited; 422 for a bad date, an unknown
        organisation or a missing reason."""
        unknown = sorted(set(data) - {"organisation_code", "until", "reason"}, key=str)
        errors = {k: t("Unknown field. The fields are: {fields}.", fields="organisation_code, until, reason")
                  for k in unknown}
        until = parse_datetime(data.get("until"))
        reason, code = data.get("reason"), data.get("organisation_code")
        try:
            if errors:
                raise ValidationFailed(errors=errors)
            granted = await extensions.extend_deadline(
                actor=require_actor(request), year=year, organisation_code=code if isinstance(code, str) else "",
                closes_at=until, reason=reason if isinstance(reason, str) else "")
        except ValidationFailed as exc:
            exc.errors = {("until" if k == "closes_at" else k): v for k, v in exc.errors.items()}
            raise
        return ExtensionRead(**granted)

    @get("/api/v1/editions/{year:int}/extensions", operation_id="listExtensions", guards=[admin_required],
         **api(401, 403, 404, auth=BEARER))
    async def extensions(self, request: Request, year: int) -> list[ExtensionRead]:
        """The deadline extensions granted in an edition, newest first."""
        return [ExtensionRead(**e) for e in await extensions.list_extensions(require_actor(request), year)]


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date and time; without an offset it is Bangkok time (as the pages read it)."""
    return clock.parse_time(value)


def page_links(request: Request, *, page: int, per_page: int, total: int) -> dict[str, str]:
    """An RFC 8288 ``Link`` header to the neighbouring pages, keeping every other parameter."""
    params = {k: v for k, v in request.query_params.items() if k not in ("page", "per_page")}
    def link(to: int, rel: str) -> str:
        return f'<{request.url.path}?{urlencode({**params, "page": to, "per_page": per_page})}>; rel="{rel}"'

    links = ([link(page + 1, "next")] if page * per_page < total else []) + (
        [link(page - 1, "prev")] if page > 1 else [])
    return {"Link": ", ".join(links)} if links else {}


__all__ = ["EntryApi", "stream_attachment", "DomainError"]
