"""JSON API v1: auth tokens, registry, editions, users (shared/API.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from contest import ratelimit
from contest.domain import accounts, cockpit, editions, organisations, twofactor
from contest.enums import AuthTokenKind, Role
from contest.errors import NotAuthenticated
from contest.guards import BEFORE_TWO_FACTOR, admin_required, require_actor
from contest.numbers import query_number, query_value
from contest.openapi import BEARER, OPTIONAL, UNSAFE, api, link
from contest.schemas import (
    EditionCreate,
    EditionRead,
    EditionUpdate,
    OrganisationPageRead,
    OrganisationRead,
    TokenRead,
    TokenRequest,
    UserCreate,
    UserRead,
)
from contest.web import client_address


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/token", operation_id="createToken", status_code=HTTP_200_OK, **api(*UNSAFE, 401, 403, 429))
    async def create_token(self, request: Request, data: TokenRequest) -> TokenRead:
        """Exchange email and password (and, for an account with two-factor sign-in, the current
        code as ``otp``) for a bearer token (expiring, revocable). 401 ``otp_required`` when the
        code is missing, ``otp_invalid`` when it is wrong or was used already."""
        email = accounts.normalise_email(data.email)
        address = client_address(request.scope)
        await ratelimit.check_login_allowed(email, address)
        actor = await accounts.authenticate(email, data.password)
        mfa = actor.id is not None and await twofactor.is_enrolled(actor.id)
        if mfa:
            if not data.otp:
                raise NotAuthenticated("This account signs in with two factors: send the code as otp.",
                                       code="otp_required")
            if actor.id is None or not await twofactor.use_second_factor(actor.id, data.otp):
                raise NotAuthenticated("The code is not correct or was already used. Enter the code your app "
                                       "shows now.", code="otp_invalid")
        async with ratelimit.login_succeeded(email, address):
            issued = await accounts.issue_token(actor, AuthTokenKind.api, request.headers.get("user-agent", ""),
                                                address, mfa=mfa)
        return TokenRead(token=issued.token, expires_at=issued.expires_at)

    @delete("/token", operation_id="revokeToken", status_code=HTTP_204_NO_CONTENT, opt=BEFORE_TWO_FACTOR,
            **api(*UNSAFE, 401, auth=BEARER))
    async def revoke_token(self, request: Request) -> None:
        """Revoke the bearer token used for this request."""
        require_actor(request)
        auth = request.headers.get("authorization", "")
        await accounts.revoke_token(auth[7:].strip())


class OrganisationController(Controller):
    path = "/api/v1/organisations"
    tags = ["registry"]

    @get("/", operation_id="searchOrganisations", **api(422))
    async def search(self, q: str | None = None, province: str | None = None, kind: str | None = None,
                     page: str | None = query_number(minimum=1, maximum=1_000_000, default=1),
                     per_page: str | None = query_number(minimum=1, maximum=100, default=20),
                     ) -> OrganisationPageRead:
        """Search the LAO registry by Thai or English text, province and kind."""
        result = await organisations.search_organisations(
            q=q, province=province, kind=kind, page=query_value(page, "page", minimum=1, maximum=1_000_000, default=1),
            per_page=query_value(per_page, "per_page", minimum=1, maximum=100, default=20))
        return OrganisationPageRead(
            items=[OrganisationRead(code=r["code"], name_th=r["name_th"], name_en=r["name_en"], kind=r["kind"],
                                    province_code=r["province_code"], province_name_th=r["province_name_th"],
                                    district_name_th=r["district_name_th"], region=r["region"])
                   for r in result.items],
            total=result.total, page=result.page, per_page=result.per_page)

    @get("/{code:str}", operation_id="getOrganisation", **api(404))
    async def get_one(self, code: str) -> OrganisationRead:
        r = await organisations.get_organisation(code)
        return OrganisationRead(code=r["code"], name_th=r["name_th"], name_en=r["name_en"], kind=r["kind"],
                                province_code=r["province_code"], province_name_th=r["province_name_th"],
                                district_name_th=r["district_name_th"], region=r["region"])


#: What a new edition's year opens up.
EDITION_LINKS = {name: link(op, year="$response.body#/year") for name, op in (
    ("getEdition", "getEdition"), ("updateEdition", "updateEdition"), ("createEntry", "createEntry"),
    ("createRound", "createRound"), ("listRounds", "listRounds"))}


class EditionController(Controller):
    path = "/api/v1/editions"
    tags = ["editions"]

    @get("/", operation_id="listEditions", **api(auth=OPTIONAL))
    async def list_editions(self, request: Request) -> list[EditionRead]:
        """Editions, newest first (drafts only for admins)."""
        actor = request.scope["state"].get("user")
        is_admin = bool(actor and actor.actor.role == Role.admin)
        return [EditionRead.of(v) for v in await editions.list_editions(include_draft=is_admin)]

    @get("/{year:int}", operation_id="getEdition", **api(404, auth=OPTIONAL))
    async def get_edition(self, request: Request, year: int) -> EditionRead:
        actor = request.scope["state"].get("user")
        is_admin = bool(actor and actor.actor.role == Role.admin)
        return EditionRead.of(await editions.get_edition(year, include_draft=is_admin))

    @get("/{year:int}/stats", operation_id="getEditionStats", guards=[admin_required],
         **api(401, 403, 404, auth=BEARER))
    async def stats(self, request: Request, year: int) -> dict[str, Any]:
        """The organiser's figures while submissions arrive: entries by state; cumulative drafts
        and submitted per Bangkok day (``by_day``, and the previous edition's on the same days
        before its own deadline as ``previous_by_day``); by province, kind of organisation and
        category; days left."""
        return await cockpit.edition_stats(actor=require_actor(request), year=year)

    @post("/", operation_id="createEdition", guards=[admin_required],
          **api(*UNSAFE, 401, 403, 409, 422, auth=BEARER, links=EDITION_LINKS))
    async def create_edition(self, request: Request, data: EditionCreate) -> EditionRead:
        payload = asdict(data)
        if data.categories is None:
            payload.pop("categories")
        view = await editions.create_edition(actor=require_actor(request), data=payload)
        return EditionRead.of(view)

    @patch("/{year:int}", operation_id="updateEdition", guards=[admin_required],
           **api(*UNSAFE, 202, 401, 403, 404, 409, 422, auth=BEARER, body=EditionUpdate))
    async def update_edition(self, request: Request, year: int, data: dict[str, Any]) -> EditionRead:
        """Change dates and limits. Submission rules freeze when screening opens (409)."""
        view = await editions.update_edition(actor=require_actor(request), year=year, data=data)
        return EditionRead.of(view)


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    guards = [admin_required]

    @get("/", operation_id="listUsers", **api(401, 403, 422, auth=BEARER))
    async def list_users(self, request: Request, role: str | None = None, q: str | None = None,
                         page: str | None = query_number(minimum=1, maximum=1_000_000, default=1)
                         ) -> list[UserRead]:
        """200 accounts a page, by id."""
        number = query_value(page, "page", minimum=1, maximum=1_000_000, default=1)
        rows = await accounts.list_users(actor=require_actor(request), role=role, q=q,
                                         limit=200, offset=(number - 1) * 200)
        return [UserRead(id=r["id"], email=r["email"], name=r["name"], role=r["role"],
                         organisation_code=r["organisation.code"],
                         email_confirmed=r["email_confirmed_at"] is not None, is_active=r["is_active"])
                for r in rows]

    @post("/", operation_id="createUser", **api(*UNSAFE, 202, 401, 403, 409, 422, auth=BEARER))
    async def create_user(self, request: Request, data: UserCreate) -> UserRead:
        """Admins create reviewer, admin (or applicant) accounts; they are confirmed at once."""
        user_id = await accounts.create_user(actor=require_actor(request), email=data.email,
                                             password=data.password, role=data.role, name=data.name,
                                             organisation_code=data.organisation_code)
        rows = await accounts.list_users(actor=require_actor(request), q=accounts.normalise_email(data.email))
        r = next(r for r in rows if r["id"] == user_id)
        return UserRead(id=r["id"], email=r["email"], name=r["name"], role=r["role"],
                        organisation_code=r["organisation.code"], email_confirmed=True, is_active=True)
