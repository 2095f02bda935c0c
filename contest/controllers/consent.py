"""Withdrawing an entry's consent to publish its details (its staff, or an administrator)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK

from contest.confirmation import Confirmation, confirmation_page
from contest.controllers.pages import message_page
from contest.domain import consent, entries
from contest.enums import Role
from contest.errors import Conflict, NotFound
from contest.guards import login_required, require_actor
from contest.i18n import t
from contest.openapi import BEARER, UNSAFE, api
from contest.rules import is_organiser


class ConsentRead(msgspec.Struct, kw_only=True):
    consent_publish: bool
    consent_given_by: str | None
    consent_given_at: datetime | None
    consent_withdrawn_at: datetime | None
    snapshot_sha256: str | None = msgspec.field(default=None)


class ConsentApi(Controller):
    tags = ["entries"]

    @post("/api/v1/entries/{entry_id:int}/consent-withdrawal", operation_id="withdrawConsent",
          status_code=HTTP_200_OK, guards=[login_required], **api(*UNSAFE, 401, 404, 409, auth=BEARER))
    async def withdraw(self, request: Request, entry_id: int) -> ConsentRead:
        """Withdraw the entry's consent to publish its details (409 ``consent_not_given`` when it
        has none). After the results are published, the next snapshot replaces them without the
        entry's details (its SHA-256 in ``snapshot_sha256``): the showcase and the open data stop
        showing them at once."""
        return ConsentRead(**await consent.withdraw(actor=require_actor(request), entry_id=entry_id))


class ConsentPages(Controller):
    include_in_schema = False

    @get("/entries/{entry_id:int}/consent-withdrawal", guards=[login_required])
    async def confirm_withdraw(self, request: Request, entry_id: int) -> Template:
        """Before the consent goes: what stops being shown, and that it cannot be given again."""
        actor = require_actor(request)
        detail = await entries.get_entry(actor, entry_id)
        if not (entries.is_owner(actor, detail.entry) or is_organiser(actor)):  # as consent.withdraw decides
            raise NotFound("No such entry.", code="entry_not_found")
        back = f"/admin/entries/{entry_id}" if actor.role == Role.admin else f"/entries/{entry_id}"
        return confirmation_page(Confirmation(
            title=t("Withdraw the consent to publish?"),
            facts=[(t("Entry"), detail.entry["title"] or t("(untitled entry)")),
                   (t("Organisation"), detail.organisation["name_th"])],
            happens=[t("The details of this entry are no longer published: if the results are already published, "
                       "the showcase and the open data stop showing them at once. Its organisation, title and "
                       "award stay.")],
            cannot_undo=t("Once the submissions have closed, a withdrawn consent cannot be given again."),
            action=f"/entries/{entry_id}/consent-withdrawal", confirm=t("Yes, withdraw the consent"), cancel=back,
            danger=True,
            blocked=None if detail.entry.get("consent_publish") else
            t("This entry has no consent to publish to withdraw.")))

    @post("/entries/{entry_id:int}/consent-withdrawal", guards=[login_required])
    async def withdraw(self, request: Request, entry_id: int) -> Template | Redirect:
        actor = require_actor(request)
        try:
            await consent.withdraw(actor=actor, entry_id=entry_id)
        except Conflict as exc:
            return message_page(t("Consent to publish"), t(exc.message, **exc.params),
                                link=(f"/entries/{entry_id}", t("Back to the entry")), status=exc.status_code)
        target = f"/admin/entries/{entry_id}" if actor.role == Role.admin else f"/entries/{entry_id}"
        return Redirect(target, status_code=303)
