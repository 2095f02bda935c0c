"""JSON API v1 and open data: publishing and the published results (shared/API.md).

Everything here is 404 until an admin has published the edition, for admins too; once published
it is served from the immutable snapshot, so responses carry a strong ETag and may be cached. The
ETag is the snapshot's SHA-256 with a short tag of ``BASE_URL``: the absolute ``showcase_url``
links are made from it when served, so a move of the site changes the representation too."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_200_OK

from contest.domain import announcement
from contest.guards import admin_required, require_actor
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


class ResultsApi(Controller):
    tags = ["announcement"]

    @post("/api/v1/editions/{year:int}/publish", operation_id="publishResults", guards=[admin_required],
          status_code=HTTP_200_OK)
    async def publish(self, request: Request, year: int) -> dict[str, Any]:
        """Publish the signed results (at or after `announcement_at`): snapshot, public pages,
        open data and notifications to every applicant."""
        return await announcement.publish_results(actor=require_actor(request), year=year)

    @get("/api/v1/editions/{year:int}/results", operation_id="getResults")
    async def results(self, request: Request, year: int) -> Response[Any]:
        """`{year, published_at, snapshot_sha256, winners, awarded}`; 404 before publication."""
        results = await announcement.get_results(year)
        body = {"year": year, "published_at": results.published_at, "snapshot_sha256": results.sha256,
                "title": results.document["title"], "licence": results.document["licence"],
                "winners": [announcement.public_item(results, i) for i in results.document["winners"]],
                "awarded": [announcement.public_item(results, i) for i in results.document["awarded"]]}
        return _cached(request, results, body, "application/json")

    @get("/api/v1/editions/{year:int}/notifications", operation_id="notificationProgress", guards=[admin_required])
    async def notifications(self, year: int) -> dict[str, int]:
        """Result mails to applicants: total, pending, done, failed."""
        await announcement.get_results(year)
        return await announcement.notification_progress(year)

    @get("/api/v1/entries/{entry_id:int}/result", operation_id="getEntryResult")
    async def entry_result(self, request: Request, entry_id: int) -> dict[str, Any]:
        """The organisation's own outcome, its awards with their certificate numbers, and the
        committees' aggregated feedback, after publication; 404 before, for admins too."""
        result = await announcement.applicant_result(require_actor(request), entry_id)
        result.pop("feedback_sections")
        return result

    @get("/open-data/{year:int}/results.csv", operation_id="openDataCsv")
    async def open_data_csv(self, request: Request, year: int) -> Response[Any]:
        """results.csv: one row per awarded entry, UTF-8 with a byte-order mark; 404 before publication."""
        results = await announcement.get_results(year)
        return _cached(request, results, announcement.open_data_csv(results), "text/csv; charset=utf-8",
                       {"Content-Disposition": f'inline; filename="dlg-results-{year}.csv"'})

    @get("/open-data/{year:int}/results.json", operation_id="openDataJson")
    async def open_data_json(self, request: Request, year: int) -> Response[Any]:
        """results.json: the same records with the licence and the data dictionary; 404 (a JSON
        error body) before publication."""
        results = await announcement.get_results(year)
        return _cached(request, results, announcement.open_data_json(results), "application/json")
