"""Appeals and evidence packs: the JSON API (shared/API.md v1.1), the organisation's appeal page
and the administrators' appeal pages."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Stream, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contest.controllers.entries_api import (
    discard_unrecorded,
    is_multipart,
    receive_into_storage,
    require_form_token,
)
from contest.domain import appeals, corrections, evidence
from contest.enums import Role
from contest.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from contest.guards import admin_required, applicant_required, login_required, require_actor
from contest.i18n import current_language, t
from contest.openapi import BEARER, UNSAFE, api, binary, header
from contest.storage import get_storage
from contest.tables import Entry
from contest.web import MULTIPART
from uploads.errors import UploadError
from uploads.serving import file_response
from uploads.storage import ObjectNotFound
from uploads.streaming import MULTIPART_OVERHEAD

log = logging.getLogger("contest.uploads")

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
#: The page's form: the reason (a few pages of Thai at most) and the supporting document.
REASON_BYTES = appeals.MAX_REASON * 4
FORM_BYTES = appeals.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD + REASON_BYTES


class AppealIn(msgspec.Struct, kw_only=True):
    reason: Annotated[str, msgspec.Meta(description="Why the organisation appeals, at most 5000 characters.")]


class AppealDecisionIn(msgspec.Struct, kw_only=True):
    outcome: Literal["upheld", "dismissed"]
    reason: Annotated[str, msgspec.Meta(
        description="What the organisation will read, at most 2000 characters. The second administrator may "
                    "leave it out to countersign the proposed decision; a different reason is a new proposal.")] = ""


class AppealRead(msgspec.Struct, kw_only=True):
    id: int
    entry_id: int
    state: Annotated[str, msgspec.Meta(description="`open`, then `upheld` or `dismissed` once two administrators "
                                                   "signed.")]
    due_at: Annotated[datetime, msgspec.Meta(description="When the organisation can expect the decision.")]
    lodged_at: datetime
    reason: str
    outcome: str | None
    decision_reason: str
    decided_at: datetime | None
    signatures: Annotated[int, msgspec.Meta(description="Signatures on the decision: 0, 1 (proposed) or 2 (final).")]
    correction_sha256: Annotated[str, msgspec.Meta(
        description="Upheld: the SHA-256 of the corrected results snapshot.")] = ""


def appeal_read(view: dict[str, Any]) -> AppealRead:
    return AppealRead(id=view["id"], entry_id=view["entry_id"], state=view["state"], due_at=view["due_at"],
                      lodged_at=view["lodged_at"], reason=view["reason"], outcome=view["outcome"],
                      decision_reason=view["decision_reason"], decided_at=view["decided_at"],
                      signatures=view["signatures"], correction_sha256=view["correction_sha256"] or "")


async def evidence_response(request: Request, entry_id: int) -> Stream:
    pack = await evidence.prepare_pack(require_actor(request), entry_id)
    return Stream(evidence.stream_pack(pack, get_storage()), media_type="application/zip", headers={
        "Content-Disposition": f"attachment; filename=\"{pack.filename}\"; filename*=UTF-8''{quote(pack.filename)}",
        "Cache-Control": "private, no-store"})


class AppealApi(Controller):
    tags = ["appeals"]

    @post("/api/v1/entries/{entry_id:int}/appeals", operation_id="lodgeAppeal", guards=[applicant_required],
          status_code=HTTP_201_CREATED, **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=AppealIn,
                                              reply=AppealRead))
    async def lodge(self, request: Request, entry_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """Appeal the outcome of an entry that was found not eligible or was not shortlisted: the
        entry's own staff, once, within the edition's appeal window after publication (409
        `appeal_window_closed` after it, `appeal_exists` the second time, `not_appealable` for
        another outcome, `not_published` before publication)."""
        view = await appeals.lodge_appeal(actor=require_actor(request), entry_id=entry_id, reason=data.get("reason"))
        return msgspec.to_builtins(appeal_read(view))

    @post("/api/v1/appeals/{appeal_id:int}/decide", operation_id="decideAppeal", guards=[admin_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=AppealDecisionIn,
                                         reply=AppealRead))
    async def decide(self, request: Request, appeal_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """Sign a decision on an appeal, as the results are signed: the first administrator
        proposes `{outcome, reason}` (`signatures: 1`), a different one sends the same outcome and
        it is final (`state` upheld or dismissed). An upheld appeal corrects the published results
        with a new snapshot; the organisation is mailed the decision and its reason."""
        view = await appeals.decide_appeal(actor=require_actor(request), appeal_id=appeal_id,
                                           outcome=data.get("outcome"), reason=data.get("reason", ""))
        return msgspec.to_builtins(appeal_read(view))

    @get("/api/v1/entries/{entry_id:int}/evidence.zip", operation_id="downloadEvidencePack",
         guards=[login_required], **api(401, 403, 404, auth=BEARER, media=binary("application/zip"), headers={
             "Content-Disposition": header("`attachment` with the pack's file name.")}))
    async def evidence_pack(self, request: Request, entry_id: int) -> Stream:
        """Everything that decided the entry, as a ZIP with `manifest.json` (the SHA-256 of every
        file and of the published results snapshot), to be checked offline with `contest evidence
        verify`: the entry's staff after publication (404 before), administrators at any time."""
        return await evidence_response(request, entry_id)


def snapshot_path(year: int, sha256: str) -> str:
    return f"/open-data/{year}/snapshots/{sha256}"


class SnapshotApi(Controller):
    tags = ["announcement"]

    @get("/open-data/{year:int}/snapshots/{sha256:str}", operation_id="getResultSnapshot",
         **api(404, media=binary("application/json"), headers={
             "Link": header("The snapshot that replaced this one (`rel=\"successor-version\"`) and the one it "
                            "replaced (`rel=\"predecessor-version\"`), when there are.")}))
    async def snapshot(self, year: int, sha256: str) -> Response[Any]:
        """A published results snapshot by its SHA-256, byte for byte as hashed: the one in force,
        or one that a correction (an upheld appeal) replaced, linked to its successor. Anyone can
        hash the bytes and compare."""
        from contest.app import error_body

        try:
            found = await corrections.snapshot_by_hash(year, sha256)
        except NotFound as exc:  # open data is read by programs: its errors are JSON
            return Response(error_body(404, exc.code, exc.message, exc.params), status_code=404,
                            media_type="application/json")
        links = []
        if found["successor"]:
            links.append(f'<{snapshot_path(year, found["successor"])}>; rel="successor-version"')
        if found["predecessor"]:
            links.append(f'<{snapshot_path(year, found["predecessor"])}>; rel="predecessor-version"')
        headers = {"Cache-Control": "public, max-age=60"}
        if links:
            headers["Link"] = ", ".join(links)
        return Response(found["payload"].encode("utf-8"), media_type="application/json", headers=headers)


# --- pages ----------------------------------------------------------------------------------------

async def _receive_form(request: Request) -> tuple[dict[str, str], appeals.SupportingDocument | None]:
    """The appeal form's fields and its document, streamed to storage (nothing kept on failure
    unless the appeal records it: the caller discards it otherwise)."""
    if not is_multipart(request):
        form = await request.form()
        return {k: str(v) for k, v in form.items()}, None
    storage, received = await receive_into_storage(
        request, "an appeal's document", max_bytes=appeals.ATTACHMENT_MAX_BYTES, file_field="attachment",
        file_optional=True, field_bytes=REASON_BYTES)
    document = None
    if received.key:
        document = appeals.SupportingDocument(name=received.filename, key=received.key, size=received.size,
                                              sha256=received.sha256, content_type=received.content_type)
    try:
        require_form_token(request, received.fields)
    except BaseException:
        if document is not None:
            await discard_unrecorded(storage, document.key, appeals.is_recorded_document)
        raise
    return received.fields, document


async def _entry_title(entry_id: int) -> str:
    row = await Entry.select(Entry.title).where(Entry.id == entry_id).first()
    return str(row["title"]) if row else ""


async def _document_response(request: Request, appeal_id: int) -> Response[Any]:
    document = await appeals.document_for(require_actor(request), appeal_id)
    try:
        return await file_response(get_storage(), document["key"], filename=document["name"] or "appeal",
                                   content_type=document["content_type"] or "application/octet-stream",
                                   range_header=request.headers.get("range"))
    except ObjectNotFound as exc:
        raise NotFound("No such file.", code="attachment_not_found") from exc


class AppealPages(Controller):
    include_in_schema = False

    async def _page(self, request: Request, entry_id: int, *, errors: dict[str, str] | None = None,
                    form: dict[str, str] | None = None, status: int = 200, flash: str | None = None) -> Template:
        actor = require_actor(request)
        state = await appeals.appeal_status(actor, entry_id)
        return Template("contest/appeals/entry.html", status_code=status, context={
            "entry_id": entry_id, "title": await _entry_title(entry_id), "status": state,
            "appeal": state["appeal"], "errors": errors or {}, "form": form or {}, "flash": flash,
            "max_reason": appeals.MAX_REASON})

    @get("/entries/{entry_id:int}/appeal", guards=[login_required])
    async def appeal_page(self, request: Request, entry_id: int, sent: bool = False) -> Template:
        """The appeal form while the entry may be appealed, then the appeal and its decision."""
        return await self._page(request, entry_id, flash=t("Your appeal was received.") if sent else None)

    @post("/entries/{entry_id:int}/appeal", guards=[login_required], opt=MULTIPART,
          request_max_body_size=FORM_BYTES)
    async def lodge(self, request: Request, entry_id: int) -> Template | Redirect:
        actor = require_actor(request)
        if actor.role != Role.applicant:
            raise PermissionDenied("Only the staff of the entry's organisation can appeal its outcome.",
                                   code="applicant_only")
        try:
            fields, document = await _receive_form(request)
        except UploadError as exc:
            message = exc.message_en if current_language.get() == "en" else exc.message_th
            return await self._page(request, entry_id, errors={"attachment": message}, status=exc.status_code)
        form = {"reason": fields.get("reason", "")}
        try:
            await appeals.lodge_appeal(actor=actor, entry_id=entry_id, reason=form["reason"], document=document)
        except BaseException as exc:
            if document is not None:
                await discard_unrecorded(get_storage(), document.key, appeals.is_recorded_document)
            if isinstance(exc, ValidationFailed):
                return await self._page(request, entry_id, errors=exc.errors, form=form, status=422)
            if isinstance(exc, DomainError) and exc.status_code == 409:
                return await self._page(request, entry_id, errors={"form": t(exc.message, **exc.params)},
                                        form=form, status=409)
            raise
        return Redirect(f"/entries/{entry_id}/appeal?sent=1", status_code=303)

    @get("/entries/{entry_id:int}/appeal/document", guards=[login_required])
    async def document(self, request: Request, entry_id: int) -> Response[Any]:
        appeal = await appeals.appeal_of_entry(require_actor(request), entry_id)
        if appeal is None:
            raise NotFound("No such file.", code="attachment_not_found")
        return await _document_response(request, appeal["id"])

    # administrators

    @get("/admin/appeals", guards=[admin_required])
    async def admin_list(self, request: Request) -> Template:
        return Template("contest/appeals/admin_list.html", context={
            "appeals": await appeals.list_appeals(require_actor(request))})

    async def _admin_page(self, request: Request, appeal_id: int, *, errors: dict[str, str] | None = None,
                          form: dict[str, str] | None = None, status: int = 200,
                          flash: str | None = None) -> Template:
        actor = require_actor(request)
        record = await appeals.decision_record(actor, appeal_id)
        return Template("contest/appeals/admin_detail.html", status_code=status, context={
            **record, "errors": errors or {}, "form": form or {}, "flash": flash, "me": actor.id})

    @get("/admin/appeals/{appeal_id:int}", guards=[admin_required])
    async def admin_detail(self, request: Request, appeal_id: int) -> Template:
        """The appeal beside everything that decided the entry, and the decision's signatures."""
        return await self._admin_page(request, appeal_id)

    @post("/admin/appeals/{appeal_id:int}/decide", guards=[admin_required])
    async def admin_decide(self, request: Request, appeal_id: int, data: Form) -> Template:
        form = {"outcome": str(data.get("outcome", "")), "reason": str(data.get("reason", ""))}
        try:
            view = await appeals.decide_appeal(actor=require_actor(request), appeal_id=appeal_id,
                                               outcome=form["outcome"], reason=form["reason"])
        except ValidationFailed as exc:
            return await self._admin_page(request, appeal_id, errors=exc.errors, form=form, status=422)
        except DomainError as exc:
            if exc.status_code != 409:
                raise
            return await self._admin_page(request, appeal_id, errors={"form": t(exc.message, **exc.params)},
                                          form=form, status=409)
        flash = (t("The decision is final: the appeal was {outcome}.", outcome=t(view["state"]))
                 if view["signatures"] == 2 else
                 t("Signed. Another administrator must countersign the decision before it takes effect."))
        return await self._admin_page(request, appeal_id, flash=flash)

    @get("/admin/appeals/{appeal_id:int}/document", guards=[admin_required])
    async def admin_document(self, request: Request, appeal_id: int) -> Response[Any]:
        return await _document_response(request, appeal_id)
