"""The announcement's pages: the public results, the innovation showcase and open data (each
404 until an admin publishes, for admins too), an organisation's own result and certificate,
and the organisers' publish page with the notification progress.

The public pages are rendered from the published snapshot only (one query; the edition's
categories are in the snapshot too), and are cacheable:
``Cache-Control`` with a short max-age and a weak ``ETag`` over the snapshot hash, the language
and the query, answered with 304 when the browser or a cache already holds that page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from contest.confirmation import Confirmation, confirmation_page
from contest.controllers.results_api import certificate_pdf
from contest.domain import adoptions, announcement, appeals, editions, results_views, showcase_media, showcase_search
from contest.domain.registry import REGION_LABELS, REGIONS
from contest.enums import Role
from contest.errors import Conflict, NotFound
from contest.guards import admin_required, current_user, login_required, require_actor
from contest.i18n import current_language, format_date, localised, t
from contest.numbers import whole_number
from contest.storage import get_storage
from uploads.serving import file_response
from uploads.storage import ObjectNotFound
from uploads.thumbnails import CONTENT_TYPE as THUMBNAIL_TYPE

CACHE_MAX_AGE = 60
SHOWCASE_PAGE = 40  # innovations per page of the search across every edition
SAFE_URL_SCHEMES = ("https://", "http://")


# --- labels and small helpers for the templates ------------------------------------------------

def award_name(award: str) -> str:
    names = announcement.AWARD_NAMES.get(award)
    if not names:
        return award
    return names[0] if current_language.get() == "th" else names[1]


def region_label(region: str) -> str:
    labels = REGION_LABELS.get(region)
    if not labels:
        return region
    return labels[0] if current_language.get() == "th" else labels[1]


def org_name(item: dict[str, Any]) -> str:
    """The organisation's name in the reader's language (Thai when there is no English one)."""
    return localised(item, "organisation_name")


def safe_url(value: Any) -> str:
    """A link an entry gave, only if it is a plain web address (never ``javascript:`` and the like)."""
    text = str(value or "").strip()
    return text if text.lower().startswith(SAFE_URL_SCHEMES) else ""


def category_label(categories: list[dict[str, str]], code: str | None) -> str:
    for c in categories:
        if c.get("code") == code:
            name = (c.get("name_en") or c.get("name_th")) if current_language.get() == "en" else c.get("name_th")
            return name or code or ""
    return code or ""


def iso_day(value: Any) -> str:
    """A date from the snapshot (ISO text) as the reader reads dates (Buddhist Era in Thai)."""
    try:
        return format_date(date.fromisoformat(str(value)[:10]), with_time=False)
    except ValueError:
        return str(value or "")


HELPERS = {"award_name": award_name, "region_label": region_label, "org_name": org_name, "safe_url": safe_url,
           "iso_day": iso_day}


# --- caching ------------------------------------------------------------------------------------

def _etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison: ``W/"x"`` matches ``"x"``."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def _cacheable(request: Request, results: announcement.PublishedResults,
               render: Callable[[dict[str, str]], Template], *, also: str = "") -> Response[Any] | Template:
    """A page that depends only on the snapshot, the language and the query (and ``also``, what
    else it shows that can change, such as the adoption figures): 304 when the caller holds it
    already, else ``render()`` with the caching headers.

    Signed-in visitors see their own menu and a log-out form carrying their CSRF token, so their
    copy is ``private``. An anonymous copy may be kept by shared caches, so it must hold no
    per-visitor secret: its CSRF token is left out (a public page has no form that posts).
    """
    state = request.scope["state"]
    user = current_user(request)
    query = sorted((k, v) for k, v in request.query_params.multi_items() if k != "lang")
    variant = f"user:{user.actor.role}:{state.get('csrf_token', '')}" if user else "public"
    key = "\n".join([results.sha256, state["language"], urlencode(query), variant, also])
    etag = f'W/"{hashlib.sha256(key.encode()).hexdigest()[:40]}"'
    headers = {"ETag": etag, "Cache-Control": f"{'private' if user else 'public'}, max-age={CACHE_MAX_AGE}",
               "Vary": "Accept-Language, Cookie"}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=headers)
    if not user:
        state["csrf_token"] = ""
    return render(headers)


async def _categories(results: announcement.PublishedResults) -> list[dict[str, str]]:
    """The edition's categories as published; snapshots of schema 1 did not keep them."""
    if "categories" in results.document:
        return list(results.document["categories"])
    return (await editions.get_edition(results.year)).categories


# --- public pages -------------------------------------------------------------------------------

class ResultsPages(Controller):
    include_in_schema = False

    @get("/results", name="results_archive")
    async def archive(self) -> Template:
        """Every published edition, newest first."""
        return Template("contest/results/archive.html",
                        context={"years": await announcement.published_years()})

    @get("/results/{year:int}")
    async def results(self, request: Request, year: int, province: str | None = None,
                      region: str | None = None) -> Response[Any] | Template:
        """The DG Awards winner and the awardees, filterable by province and region."""
        results = await announcement.get_results(year)
        doc = results.document
        province = (province or "").strip()
        region = region if region in REGIONS else ""
        items = results_views.filter_awarded(doc, province=province, region=region)

        def render(headers: dict[str, str]) -> Template:
            return Template("contest/results/edition.html", headers=headers, context={
                "results": results, "doc": doc, "winners": doc["winners"], "items": items,
                "total": len(doc["awarded"]), "province": province, "region": region,
                "provinces": results_views.province_choices(doc), "regions": results_views.region_choices(doc),
                "filtered": bool(province or region), **HELPERS})

        return _cacheable(request, results, render)

    @get("/showcase")
    async def showcase_search(self, request: Request, q: str | None = None, year: str | None = None,
                              province: str | None = None, kind: str | None = None,
                              category: str | None = None, page: str | None = None) -> Template:
        """Every edition's awarded innovations, searched in Thai and ranked, filtered by year,
        province, kind of organisation and category."""
        index = await showcase_search.current_index()
        chosen_year = whole_number(year) if year else None
        params = {"q": (q or "").strip()[:200], "province": (province or "").strip(),
                  "kind": (kind or "").strip(), "category": (category or "").strip()}
        found = index.search(params["q"], year=chosen_year, **{k: v for k, v in params.items() if k != "q"})
        pages = max(1, -(-len(found) // SHOWCASE_PAGE))
        number = min(max(whole_number(page) or 1, 1), pages)
        shown = found[(number - 1) * SHOWCASE_PAGE:number * SHOWCASE_PAGE]
        ids = [d.entry_id for d in shown]
        query = {k: v for k, v in {**params, "year": chosen_year or ""}.items() if v}
        english = current_language.get() == "en"

        def category_name(code: str) -> str:
            c = index.categories.get(code) or {}
            return str((c.get("name_en") if english else None) or c.get("name_th") or code)

        return Template("contest/results/showcase_all.html", context={
            "found": shown, "matched": len(found), "total": len(index.documents), **params, "year": chosen_year,
            "page": number, "pages": pages,
            "page_url": lambda n: "/showcase?" + urlencode({**query, "page": n}),
            "searched": any(params.values()) or chosen_year is not None, "choices": showcase_search.choices(index),
            "category_name": category_name, "taken": (await adoptions.taken_up(ids))[0], **HELPERS})

    @get("/showcase/{year:int}")
    async def showcase(self, request: Request, year: int, q: str | None = None, province: str | None = None,
                       kind: str | None = None, category: str | None = None) -> Response[Any] | Template:
        """The awarded innovations, searchable by text, province, kind of organisation and category."""
        results = await announcement.get_results(year)
        doc = results.document
        params = {"q": (q or "").strip()[:200], "province": (province or "").strip(), "kind": (kind or "").strip(),
                  "category": (category or "").strip()}
        items = [d.item for d in await showcase_search.search(params["q"], year=year, province=params["province"],
                                                               kind=params["kind"], category=params["category"])]
        categories = await _categories(results)
        awarded_ids = [i["entry_id"] for i in doc["awarded"]]
        taken, stamp = await adoptions.taken_up(awarded_ids)

        def render(headers: dict[str, str]) -> Template:
            return Template("contest/results/showcase.html", headers=headers, context={
                "results": results, "doc": doc, "items": items, "total": len(doc["awarded"]), **params,
                "searched": any(params.values()),
                "provinces": results_views.province_choices(doc, consented_only=True),
                "kinds": results_views.kind_choices(doc, consented_only=True),
                "categories": [(c, category_label(categories, c)) for c in results_views.category_codes(doc)],
                "category_label": lambda code: category_label(categories, code),
                "winner_ids": {w["entry_id"] for w in doc["winners"]}, "taken": taken, **HELPERS})

        return _cacheable(request, results, render, also=stamp)

    @get("/showcase/{year:int}/{entry_id:int}")
    async def showcase_item(self, request: Request, year: int, entry_id: int) -> Response[Any] | Template:
        """One awarded innovation: what its organisation consented to publish, else only the
        organisation, the title and the award."""
        results = await announcement.get_results(year)
        item = announcement.showcase_item(results, entry_id)
        categories = await _categories(results)
        winner = any(w["entry_id"] == entry_id for w in results.document["winners"])
        figures, stamp = await adoptions.taken_up([entry_id])
        taken = figures.get(entry_id)
        pictures = await showcase_media.images(item)

        def render(headers: dict[str, str]) -> Template:
            return Template("contest/results/showcase_item.html", headers=headers, context={
                "results": results, "doc": results.document, "item": item, "winner": winner,
                "consented": bool(item.get("consent_publish")),
                "category_name": category_label(categories, item.get("category")),
                "links": [u for u in (safe_url(x) for x in item.get("links") or []) if u],
                "video": safe_url(item.get("video_url")), "taken": taken, "pictures": pictures, **HELPERS})

        return _cacheable(request, results, render, also=f"{stamp}|{showcase_media.stamp(pictures)}")

    @get("/showcase/{year:int}/{entry_id:int}/images/{attachment_id:int}")
    async def showcase_image(self, request: Request, year: int, entry_id: int, attachment_id: int) -> Response[Any]:
        """A preview of one of the innovation's images, while its organisation consents."""
        key = await showcase_media.image_key(year, entry_id, attachment_id)
        try:
            response = await file_response(get_storage(), key, filename=f"innovation-{entry_id}-{attachment_id}.jpg",
                                           content_type=THUMBNAIL_TYPE, range_header=None, inline=True)
        except ObjectNotFound as exc:
            raise NotFound("No such image.", code="not_found") from exc
        response.headers["Cache-Control"] = f"public, max-age={CACHE_MAX_AGE}"
        return response

    @get("/open-data")
    async def open_data(self) -> Template:
        """Downloads of every published edition, the licence and the data dictionary."""
        return Template("contest/results/open_data.html", context={
            "years": await announcement.published_years(), "one": None, **_open_data_context()})

    @get("/open-data/{year:int}")
    async def open_data_year(self, year: int) -> Template:
        results = await announcement.get_results(year)
        one = {"year": year, "title": results.document["title"], "published_at": results.published_at,
               "sha256": results.sha256}
        return Template("contest/results/open_data.html", context={"years": [one], "one": one,
                                                                     **_open_data_context()})

    @get("/certificates", name="certificate_lookup")
    async def certificate_lookup(self, number: str | None = None) -> Template | Redirect:
        """A form to type the number printed on a certificate; a number leads to its page, and a
        mistyped one is said so next to the field."""
        if number is None:
            return _lookup_page("", None)
        typed = announcement.typed_certificate_number(number)
        if typed is None:
            message = (t("Enter the number printed on the certificate.") if not number.strip()
                       else _malformed(number))
            return _lookup_page(number[:60], message, status=400)
        return Redirect(f"/certificates/{typed}", status_code=303)

    @get("/certificates/{number:str}")
    async def certificate(self, request: Request, number: str) -> Response[Any] | Template:
        """Check a certificate by the number printed on it: its holder, award, innovation and
        edition as the published snapshot records them. A number no edition gave answers 404
        with the look-up form and a sentence saying why."""
        typed = announcement.typed_certificate_number(number)
        if typed is None:
            return _lookup_page(number[:60], _malformed(number), status=404)
        if typed != number:
            return Redirect(f"/certificates/{typed}", status_code=301)
        try:
            found = await announcement.verify_certificate(number)
        except NotFound:
            return _lookup_page(typed, _unknown(typed), status=404)
        results = found["results"]

        def render(headers: dict[str, str]) -> Template:
            return Template("contest/results/certificate.html", headers=headers, context={
                "results": results, "doc": results.document, "c": found, "item": found["item"], **HELPERS})

        return _cacheable(request, results, render)


def _malformed(number: str) -> str:
    return t("“{number}” is not a certificate number. A certificate number has the form DLG2569-C-000042 and is "
             "printed at the bottom left of the certificate.", number=number.strip()[:60])


def _unknown(number: str) -> str:
    return t("No published results have a certificate numbered {number}. Check it against the number printed at "
             "the bottom left of the certificate; if they are the same, the certificate was not issued through "
             "this contest.", number=number)


def _lookup_page(number: str, error: str | None, *, status: int = 200) -> Template:
    return Template("contest/results/certificate_lookup.html", status_code=status, context={
        "number": number, "errors": {"number": error} if error else {}})


def _open_data_context() -> dict[str, Any]:
    columns = [(name, *_dictionary_text(announcement.DATA_DICTIONARY[name])) for name in announcement.CSV_COLUMNS]
    return {"licence": announcement.LICENCE, "columns": columns}


def _dictionary_text(text: str) -> tuple[str, str]:
    """The data dictionary says "Thai / English": the reader's language first."""
    th, sep, en = text.rpartition(" / ")
    if not sep:
        return text, ""
    return (th, en) if current_language.get() == "th" else (en, th)


# --- the organisation's own result --------------------------------------------------------------

class ApplicantResultPages(Controller):
    include_in_schema = False

    @get("/entries/{entry_id:int}/result", guards=[login_required])
    async def result(self, request: Request, entry_id: int) -> Template:
        """The outcome, the certificates and each committee's aggregated feedback, after
        publication; 404 for anyone but the organisation's staff (and organisers)."""
        actor = require_actor(request)
        result = await announcement.applicant_result(actor, entry_id)
        english = current_language.get() == "en"
        sections = [{**section, "committee": committee,
                     "criteria": [{**c, "name": c.get("name_en") if english and c.get("name_en")
                                   else c.get("name_th") or c.get("code")} for c in section["criteria"]]}
                    for committee, section in result["feedback_sections"].items()]
        return Template("contest/results/entry_result.html", context={
            "r": result, "sections": sections, "appeal_state": await appeals.appeal_status(actor, entry_id),
            "can_download": result["awarded"] and actor.role == Role.applicant, **HELPERS})

    @get("/entries/{entry_id:int}/certificate.pdf", guards=[login_required])
    async def certificate(self, request: Request, entry_id: int, award: str | None = None) -> Response[bytes]:
        """The certificate, as ``GET /api/v1/entries/{id}/certificate.pdf`` serves it."""
        return await certificate_pdf(require_actor(request), entry_id, award)


# --- the organisers' publish page ---------------------------------------------------------------

def _blocker_text(blocker: announcement.Blocker, status: results_views.PublishStatus) -> str:
    if blocker.code == "embargo":
        return t("The announcement time has not been reached: the results may be published from {at}.",
                 at=format_date(status.announcement_at))
    return t(blocker.message, **blocker.params)


class PublishPages(Controller):
    path = "/admin/editions"
    guards = [admin_required]
    include_in_schema = False

    async def _context(self, year: int) -> dict[str, Any]:
        status = await results_views.publish_status(year)
        return {"status": status, "blockers": [_blocker_text(c, status) for c in status.blockers],
                "notifications": await results_views.notifications(year) if status.published_at else None}

    @get("/{year:int}/publish")
    async def publish_page(self, year: int, published: bool = False) -> Template:
        """What blocks publication, the publish button, and afterwards the snapshot and the mails."""
        ctx = await self._context(year)
        if published and ctx["status"].published_at:
            ctx["flash"] = t("The results are published.")
        return Template("contest/results/publish.html", context=ctx)

    @get("/{year:int}/publish/confirm")
    async def confirm_publish(self, year: int) -> Template:
        """Before publishing: what goes public and who is mailed, and that it cannot be undone."""
        ctx = await self._context(year)
        status = ctx["status"]
        blocked = None
        if status.published_at:
            blocked = t("The results are published.")
        elif ctx["blockers"]:
            blocked = t("The results cannot be published yet:") + " " + " ".join(ctx["blockers"])
        happens = [t("The public results page, the innovation showcase and the open data open to everyone, from an "
                     "unchangeable snapshot of the signed results."),
                   t("Every applicant of the edition is mailed its result.")]
        if not status.winners:
            happens.append(t("The signed final decision names no DG Awards winner: the results will say that no "
                             "winner was named in this edition."))
        return confirmation_page(Confirmation(
            title=t("Publish the results of {year}?", year=year),
            facts=[(t("Edition"), f"{year} · {status.title}"), (t("Announcement time"),
                                                               format_date(status.announcement_at)),
                   (t("DG Awards winners"), str(status.winners)), (t("Awardees"), str(status.awarded))],
            happens=happens,
            cannot_undo=t("Published results cannot be withdrawn or changed, and the mails cannot be called back."),
            action=f"/admin/editions/{year}/publish", confirm=t("Yes, publish the results now"),
            cancel=f"/admin/editions/{year}/publish", blocked=blocked))

    @post("/{year:int}/publish")
    async def publish(self, request: Request, year: int) -> Template | Redirect:
        try:
            await announcement.publish_results(actor=require_actor(request), year=year)
        except Conflict as exc:
            ctx = await self._context(year)
            return Template("contest/results/publish.html", status_code=exc.status_code,
                            context={**ctx, "error": t(exc.message, **exc.params)})
        return Redirect(f"/admin/editions/{year}/publish?published=1", status_code=303)

    @get("/{year:int}/publish/progress")
    async def progress(self, year: int) -> Template:
        """htmx partial: the notification progress, polling itself while mails are pending."""
        await announcement.get_results(year)
        return Template("contest/results/_notifications.html", context={
            "year": year, "notifications": await results_views.notifications(year)})
