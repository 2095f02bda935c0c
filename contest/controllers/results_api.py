"""JSON API v1 and open data: publishing and the published results (shared/API.md).

Everything here is 404 until an admin has published the edition, for admins too; once published
it is served from the immutable snapshot, so responses carry a strong ETag and may be cached. The
ETag is the snapshot's SHA-256 with a short tag of ``BASE_URL``: the absolute ``showcase_url``
links are made from it when served, so a move of the site changes the representation too."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_200_OK

from contest.certificates import CertificateData, render_certificate
from contest.domain import announcement, signatories
from contest.domain.audit import Actor
from contest.enums import Role
from contest.errors import NotFound
from contest.guards import admin_required, login_required, require_actor
from contest.openapi import BEARER, UNSAFE, api, binary, header
from contest.schemas import CertificateRead, EntryResultRead, OpenDataRead, ProgressRead, PublishRead, ResultsRead
from contest.settings import get_settings

CACHE = "public, max-age=60"


def _cached(request: Request, results: announcement.PublishedResults, content: Any, media_type: str,
            extra: dict[str, str] | None = None) -> Response[Any]:
    site = hashlib.sha256(get_settings().base_url.encode()).hexdigest()[:8]
    etag = f'"{results.sha256}-{site}"'
    headers = {"ETag": etag, "Cache-Control": CACHE, **(extra or {})}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


#: A published snapshot's answers may be cached and revalidated.
CACHED_HEADERS = {"ETag": header("The snapshot's SHA-256 with a tag of the site's address (strong)."),
                  "Cache-Control": header("`public, max-age=60`.")}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                 "description": "An ETag from an earlier answer: 304 when it still holds.",
                 "schema": {"type": "string"}}
NOT_MODIFIED = {304: {"description": "The copy the caller holds (its ETag) is still the published one.",
                      "headers": CACHED_HEADERS}}


def _cached_doc(*errors: int, **kwargs: Any) -> dict[str, Any]:
    return api(*errors, headers=CACHED_HEADERS, also=NOT_MODIFIED, request_headers=[IF_NONE_MATCH], **kwargs)


async def certificate_pdf(actor: Actor, entry_id: int, award: str | None) -> Response[bytes]:
    """One of the awardee's certificates (PDF; ``award`` picks which, by default the highest):
    for the organisation's own staff only. Its text comes from the published snapshot."""
    if actor.role != Role.applicant:
        raise NotFound("No such entry.", code="entry_not_found")
    data = await announcement.certificate_data(actor, entry_id, award or None)
    certificate = CertificateData(
        award=data["award"], edition_year=data["year"], organisation_name=data["organisation_name_th"],
        province_name=data["province_name_th"], innovation_title=data["title"],
        issued_at=data["published_at"], number=data["number"], verification_url=data["verify_url"],
        signatory=await signatories.signatory_for(data["year"]))
    # Shaping and subsetting Thai fonts is CPU work: keep it off the event loop.
    pdf = await asyncio.to_thread(render_certificate, certificate)
    name = f"certificate-{data['year']}-{entry_id}-{data['award']}.pdf"
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, no-store"})


class ResultsApi(Controller):
    tags = ["announcement"]

    @post("/api/v1/editions/{year:int}/publish", operation_id="publishResults", guards=[admin_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, 401, 403, 404, 409, auth=BEARER, reply=PublishRead))
    async def publish(self, request: Request, year: int) -> dict[str, Any]:
        """Publish the signed results (at or after `announcement_at`): snapshot, public pages,
        open data and notifications to every applicant."""
        return await announcement.publish_results(actor=require_actor(request), year=year)

    @get("/api/v1/editions/{year:int}/results", operation_id="getResults", **_cached_doc(404, reply=ResultsRead))
    async def results(self, request: Request, year: int) -> Response[Any]:
        """`{year, published_at, snapshot_sha256, winners, awarded}`; 404 before publication."""
        results = await announcement.get_results(year)
        body = {"year": year, "published_at": results.published_at, "snapshot_sha256": results.sha256,
                "title": results.document["title"], "licence": results.document["licence"],
                "winners": [announcement.public_item(results, i) for i in results.document["winners"]],
                "awarded": [announcement.public_item(results, i) for i in results.document["awarded"]],
                "corrections": list(results.document.get("corrections", []))}
        return _cached(request, results, body, "application/json")

    @get("/api/v1/editions/{year:int}/notifications", operation_id="notificationProgress", guards=[admin_required],
         **api(401, 403, 404, auth=BEARER, reply=ProgressRead))
    async def notifications(self, year: int) -> dict[str, int]:
        """Result mails to applicants: total, pending, done, failed."""
        await announcement.get_results(year)
        return await announcement.notification_progress(year)

    @get("/api/v1/entries/{entry_id:int}/result", operation_id="getEntryResult",
         **api(401, 404, auth=BEARER, reply=EntryResultRead))
    async def entry_result(self, request: Request, entry_id: int) -> dict[str, Any]:
        """The organisation's own outcome, its awards with their certificate numbers, and the
        committees' aggregated feedback, after publication; 404 before, for admins too."""
        result = await announcement.applicant_result(require_actor(request), entry_id)
        result.pop("feedback_sections")
        return result

    @get("/api/v1/entries/{entry_id:int}/certificate.pdf", operation_id="downloadCertificate",
         guards=[login_required], **api(401, 404, auth=BEARER, media=binary("application/pdf"), headers={
             "Content-Disposition": header("`attachment` with the certificate's file name.")}))
    async def certificate(self, request: Request, entry_id: int, award: str | None = None) -> Response[bytes]:
        """An award certificate (PDF) for the organisation's own staff, after publication;
        ``award`` picks one when the entry has two (by default the highest). 404 otherwise."""
        return await certificate_pdf(require_actor(request), entry_id, award)

    @get("/api/v1/certificates/{number:str}", operation_id="verifyCertificate", **api(404))
    async def verify_certificate(self, number: str) -> CertificateRead:
        """Check a certificate by the number printed on it: its holder, award, innovation and
        edition as the published snapshot records them; 404 for a number no edition gave."""
        found = await announcement.verify_certificate(number)
        item, results = found["item"], found["results"]
        return CertificateRead(number=found["number"], award=found["award"], year=found["year"],
                               edition_title=found["title"], entry_id=item["entry_id"], title=item["title"],
                               organisation_name_th=item["organisation_name_th"],
                               province_name_th=item.get("province_name_th"), published_at=results.published_at,
                               snapshot_sha256=results.sha256)

    @get("/open-data/{year:int}/results.csv", operation_id="openDataCsv",
         **_cached_doc(404, media=binary("text/csv; charset=utf-8")))
    async def open_data_csv(self, request: Request, year: int) -> Response[Any]:
        """results.csv: one row per awarded entry, UTF-8 with a byte-order mark; 404 before publication."""
        results = await announcement.get_results(year)
        return _cached(request, results, announcement.open_data_csv(results), "text/csv",
                       {"Content-Disposition": f'inline; filename="dlg-results-{year}.csv"'})

    @get("/open-data/{year:int}/results.json", operation_id="openDataJson", **_cached_doc(404, reply=OpenDataRead))
    async def open_data_json(self, request: Request, year: int) -> Response[Any]:
        """results.json: the same records with the licence and the data dictionary; 404 (a JSON
        error body) before publication."""
        results = await announcement.get_results(year)
        return _cached(request, results, announcement.open_data_json(results), "application/json")
