"""The adoption network: asking to adopt an awarded innovation, answering, reporting it live;
the organisation's page of requests sent and received, DGA's overview, and the open data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contest import dates
from contest.domain import adoptions
from contest.domain.announcement import get_results
from contest.errors import Conflict, DomainError, NotFound, ValidationFailed
from contest.guards import admin_required, login_required, require_actor
from contest.i18n import EN_MONTHS, THAI_MONTHS, current_language, t
from contest.openapi import BEARER, UNSAFE, api, binary


class Contact(msgspec.Struct, kw_only=True):
    name: str
    email: str


class Contacts(msgspec.Struct, kw_only=True):
    requester: Contact
    answerer: Contact


class AdoptionRead(msgspec.Struct, kw_only=True):
    id: int
    state: str
    entry_id: int
    year: int
    innovation_title: str
    owner_organisation_code: str
    owner_organisation_name_th: str
    adopter_organisation_code: str
    adopter_organisation_name_th: str
    adopter_province_name_th: str
    message: str
    requested_at: datetime
    answer_message: str
    answered_at: datetime | None
    in_service_since: date | None
    service_url: str
    #: Each side's contact person: only for the two organisations, once accepted.
    contacts: Contacts | None


class AdoptionIn(msgspec.Struct, kw_only=True):
    message: str
    #: Sending the request agrees to share the sender's name and e-mail with the owning
    #: organisation once it accepts; ``false`` is refused.
    share_contact: bool = True


class AnswerIn(msgspec.Struct, kw_only=True):
    accept: bool
    message: str = ""
    #: Accepting shares the answerer's name and e-mail with the adopter; ``false`` is refused.
    share_contact: bool = True


class InServiceIn(msgspec.Struct, kw_only=True):
    in_service_since: date
    url: str


class AdoptionRecord(msgspec.Struct, kw_only=True):
    year: int
    entry_id: int
    innovation_title: str
    owner_organisation_code: str
    owner_organisation_name_th: str
    owner_province_name_th: str
    adopter_organisation_code: str
    adopter_organisation_name_th: str
    adopter_organisation_kind: str
    adopter_province_code: str
    adopter_province_name_th: str
    state: str
    requested_on: str
    accepted_on: str
    in_service_since: str
    service_url: str


class AdoptionsOpenData(msgspec.Struct, kw_only=True):
    licence: dict[str, str]
    data_dictionary: dict[str, str]
    records: list[AdoptionRecord]


def adoption_read(a: dict[str, Any]) -> AdoptionRead:
    contacts = a["contacts"]
    return AdoptionRead(
        id=a["id"], state=a["state"], entry_id=a["entry_id"], year=a["year"],
        innovation_title=a["innovation_title"], owner_organisation_code=a["owner_organisation_code"],
        owner_organisation_name_th=a["owner_organisation_name_th"],
        adopter_organisation_code=a["adopter_organisation_code"],
        adopter_organisation_name_th=a["adopter_organisation_name_th"],
        adopter_province_name_th=a["adopter_province_name_th"], message=a["message"],
        requested_at=a["requested_at"], answer_message=a["answer_message"], answered_at=a["answered_at"],
        in_service_since=a["in_service_since"], service_url=a["service_url"],
        contacts=Contacts(requester=Contact(**contacts["requester"]), answerer=Contact(**contacts["answerer"]))
        if contacts else None)


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed(errors={"body": t("Send a JSON object.")})
    return data


def _consent(value: Any) -> bool:
    return value if isinstance(value, bool) else True if value is None else False


class AdoptionApi(Controller):
    tags = ["adoptions"]

    @post("/api/v1/showcase/{entry_id:int}/adoptions", operation_id="requestAdoption", guards=[login_required],
          status_code=HTTP_201_CREATED,
          **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=AdoptionIn, reply=AdoptionRead))
    async def request_adoption(self, request: Request, entry_id: int, data: Any) -> AdoptionRead:
        """A verified member of another organisation asks to adopt an awarded innovation:
        ``{message}`` → 201 ``{id, state:"requested"}``. 409 ``own_innovation`` for the owner's own,
        409 ``adoption_exists`` while its organisation has an open request for it."""
        body = _object(data)
        return adoption_read(await adoptions.request_adoption(
            actor=require_actor(request), entry_id=entry_id, message=body.get("message"),
            share_contact=_consent(body.get("share_contact"))))

    @get("/api/v1/adoptions", operation_id="listAdoptions", guards=[login_required],
         **api(401, 403, 422, auth=BEARER))
    async def index(self, request: Request,
                    adoption_state: str | None = Parameter(query="state", default=None, required=False),
                    ) -> list[AdoptionRead]:
        """Admins: every adoption request; a verified member: those its organisation sent or received."""
        return [adoption_read(a) for a in await adoptions.list_adoptions(require_actor(request),
                                                                          state=adoption_state)]

    @get("/api/v1/adoptions/{adoption_id:int}", operation_id="getAdoption", guards=[login_required],
         **api(401, 404, auth=BEARER))
    async def show(self, request: Request, adoption_id: int) -> AdoptionRead:
        return adoption_read(await adoptions.get_adoption(require_actor(request), adoption_id))

    @post("/api/v1/adoptions/{adoption_id:int}/answer", operation_id="answerAdoption", guards=[login_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=AnswerIn))
    async def answer(self, request: Request, adoption_id: int, data: Any) -> AdoptionRead:
        """A verified member of the owning organisation: ``{accept, message}``. Declining needs a
        message; accepting shares both contact persons."""
        body = _object(data)
        return adoption_read(await adoptions.answer(
            actor=require_actor(request), adoption_id=adoption_id, accept=body.get("accept"),
            message=body.get("message"), share_contact=_consent(body.get("share_contact"))))

    @post("/api/v1/adoptions/{adoption_id:int}/withdraw", operation_id="withdrawAdoption", guards=[login_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, 401, 403, 404, 409, auth=BEARER))
    async def withdraw(self, request: Request, adoption_id: int) -> AdoptionRead:
        """The adopter takes back a request that has no answer yet."""
        return adoption_read(await adoptions.withdraw(actor=require_actor(request), adoption_id=adoption_id))

    @post("/api/v1/adoptions/{adoption_id:int}/in-service", operation_id="reportAdoptionInService",
          guards=[login_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, 401, 403, 404, 409, 422, auth=BEARER, body=InServiceIn))
    async def in_service(self, request: Request, adoption_id: int, data: Any) -> AdoptionRead:
        """The adopter's own service is live: ``{in_service_since, url}`` (after acceptance)."""
        body = _object(data)
        return adoption_read(await adoptions.report_in_service(
            actor=require_actor(request), adoption_id=adoption_id, since=body.get("in_service_since"),
            url=body.get("url")))

    @get("/open-data/adoptions.csv", operation_id="openDataAdoptionsCsv",
         **api(media=binary("text/csv; charset=utf-8")))
    async def open_data_csv(self) -> Response[bytes]:
        """adoptions.csv: who adopted which awarded innovation, from whom and when (accepted or in
        service; organisations only, no person and no message). UTF-8 with a byte-order mark."""
        return Response(await adoptions.open_data_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="dlg-adoptions.csv"',
                                 "Cache-Control": "public, max-age=60"})

    @get("/open-data/adoptions.json", operation_id="openDataAdoptionsJson", **api(reply=AdoptionsOpenData))
    async def open_data_json(self) -> Response[Any]:
        """adoptions.json: the same records with the licence and the data dictionary."""
        return Response(await adoptions.open_data_json(), media_type="application/json",
                        headers={"Cache-Control": "public, max-age=60"})


# --- pages -----------------------------------------------------------------------------------------

#: Adoption states as people read them (message ids, translated when shown).
STATE_LABELS = {"requested": "Waiting for an answer", "accepted": "Accepted", "declined": "Declined",
                "withdrawn": "Withdrawn", "in_service": "Live"}


def adoption_state_label(state: str) -> str:
    return t(STATE_LABELS[state]) if state in STATE_LABELS else state


def month_label(month: str) -> str:
    """"2026-11" as the reader reads a month ("พฤศจิกายน 2569")."""
    year, number = (int(p) for p in month.split("-"))
    th = current_language.get() == "th"
    return f"{(THAI_MONTHS if th else EN_MONTHS)[number - 1]} {year + 543 if th else year}"


LABELS = {"adoption_state_label": adoption_state_label, "month_label": month_label}

FLASH = {
    "requested": "Your request is sent. The organisation is told by e-mail.",
    "accepted": "You accepted. The other organisation now sees your contact person.",
    "declined": "You declined the request.",
    "withdrawn": "Your request is withdrawn.",
    "in_service": "Thank you: your service is now shown as live on the showcase.",
}


def _errors(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, ValidationFailed) and exc.errors:
        return dict(exc.errors)
    return {"form": t(exc.message, **exc.params)}


class AdoptionPages(Controller):
    include_in_schema = False

    async def _ask_page(self, request: Request, year: int, entry_id: int, *, errors: dict[str, str] | None = None,
                        message: str = "", status: int = 200) -> Template:
        results, item = await adoptions.awarded_innovation(entry_id)
        if results.year != year:
            raise NotFound("No such awarded innovation.", code="not_found")
        return Template("contest/adoptions/ask.html", status_code=status, context={
            "results": results, "item": item, "errors": errors or {}, "message": message, **LABELS})

    @get("/showcase/{year:int}/{entry_id:int}/adopt", guards=[login_required])
    async def ask(self, request: Request, year: int, entry_id: int) -> Template:
        """The form to ask to adopt an innovation, for verified staff of another organisation."""
        adoptions.require_member(require_actor(request))
        return await self._ask_page(request, year, entry_id)

    @post("/showcase/{year:int}/{entry_id:int}/adopt", guards=[login_required])
    async def send(self, request: Request, year: int, entry_id: int) -> Template | Redirect:
        form = await request.form()
        message = str(form.get("message", ""))
        await get_results(year)
        try:
            await adoptions.request_adoption(actor=require_actor(request), entry_id=entry_id, message=message,
                                             share_contact=form.get("share_contact") == "yes")
        except (ValidationFailed, Conflict) as exc:
            return await self._ask_page(request, year, entry_id, errors=_errors(exc), message=message,
                                        status=exc.status_code)
        return Redirect("/organisation/adoptions?done=requested", status_code=303)

    async def _mine(self, request: Request, *, errors: dict[str, str] | None = None, error_id: int | None = None,
                    done: str | None = None, status: int = 200, typed: dict[str, Any] | None = None) -> Template:
        actor = require_actor(request)
        rows = await adoptions.list_adoptions(actor)
        return Template("contest/adoptions/mine.html", status_code=status, context={
            "received": [r for r in rows if r["side"] == "owner"], "sent": [r for r in rows if r["side"] == "adopter"],
            "errors": errors or {}, "error_id": error_id, "flash": t(FLASH[done]) if done in FLASH else None,
            "typed": typed or {},
            **LABELS})

    @get("/organisation/adoptions", guards=[login_required])
    async def mine(self, request: Request, done: str | None = None) -> Template:
        """The organisation's adoption requests: those it received (to answer) and those it sent."""
        adoptions.require_member(require_actor(request))
        return await self._mine(request, done=done)

    @post("/organisation/adoptions/{adoption_id:int}/{action:str}", guards=[login_required])
    async def act(self, request: Request, adoption_id: int, action: str) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            if action in ("accept", "decline"):
                await adoptions.answer(actor=actor, adoption_id=adoption_id, accept=action == "accept",
                                       message=str(form.get("message", "")),
                                       share_contact=form.get("share_contact") == "yes")
                done = "accepted" if action == "accept" else "declined"
            elif action == "withdraw":
                await adoptions.withdraw(actor=actor, adoption_id=adoption_id)
                done = "withdrawn"
            elif action == "in-service":
                typed = dates.form_dates(form, {"in_service_since": "Live since"})
                try:
                    await adoptions.report_in_service(actor=actor, adoption_id=adoption_id,
                                                      since=typed.values()["in_service_since"] or "",
                                                      url=str(form.get("url", "")))
                except ValidationFailed as exc:
                    exc.errors = typed.merged(exc.errors)
                    raise
                done = "in_service"
            else:
                raise NotFound("No such action.", code="not_found")
        except (ValidationFailed, Conflict) as exc:
            typed_entries = dates.form_dates(form, {"in_service_since": ""}).entries if action == "in-service" else {}
            return await self._mine(request, errors=_errors(exc), error_id=adoption_id, status=exc.status_code,
                                    typed=typed_entries)
        return Redirect(f"/organisation/adoptions?done={done}", status_code=303)

    @get("/admin/adoptions", guards=[admin_required])
    async def overview(self) -> Template:
        """DGA's view of the network: by province, by innovation and by month."""
        return Template("contest/adoptions/overview.html", context={"o": await adoptions.overview(), **LABELS})
