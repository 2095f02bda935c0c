"""The administrators' page for who signs an edition's certificates: the version in force, the
proposals waiting for a second administrator, a form to propose a new one (name, position and
signature image), and the signature images, served to administrators only."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from contest.domain import signatories
from contest.domain.proposals import Proposed
from contest.errors import PermissionDenied, ValidationFailed
from contest.guards import admin_required, require_actor
from contest.i18n import t
from contest.web import MULTIPART, check_deferred_csrf

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
#: Larger than the image limit, so a file a little too large gets the page's own message.
BODY_LIMIT = 4 * signatories.MAX_SIGNATURE_BYTES


class SignatoryPages(Controller):
    path = "/admin/editions"
    guards = [admin_required]
    include_in_schema = False

    async def _page(self, request: Request, year: int, *, form: dict[str, Any] | None = None,
                    errors: dict[str, str] | None = None, flash: str | None = None, status: int = 200) -> Template:
        found = await signatories.overview(require_actor(request), year)
        current = found["current"]
        if form is None:
            form = {k: current[k] for k in ("signatory_name", "position_th", "position_en")} if current else {}
        return Template("contest/admin/certificate_signatory.html", status_code=status, context={
            "year": year, **found, "form": form, "errors": errors or {}, "flash": flash,
            "max_kb": signatories.MAX_SIGNATURE_BYTES // 1024})

    @get("/{year:int}/certificate")
    async def page(self, request: Request, year: int, proposed: bool = False) -> Template:
        """Who signs the edition's certificates, and the form to propose a change."""
        flash = t("Proposed. Another administrator must approve it before it takes effect.") if proposed else None
        return await self._page(request, year, flash=flash)

    @post("/{year:int}/certificate", opt=MULTIPART, request_max_body_size=BODY_LIMIT)
    async def propose(self, request: Request, year: int, data: Multipart) -> Template | Redirect:
        if not check_deferred_csrf(request.scope["state"], data.get("_csrf")):
            raise PermissionDenied("This form has expired or came from another site. Reload the page and try again.",
                                   code="csrf_failed")
        upload = data.get("signature")
        image = await upload.read() if isinstance(upload, UploadFile) else b""
        form = {k: str(data.get(k) or "") for k in ("signatory_name", "position_th", "position_en")}
        try:
            await signatories.propose(actor=require_actor(request), year=year, data=form, signature=image or None)
        except Proposed:
            return Redirect(f"/admin/editions/{year}/certificate?proposed=1", status_code=303)
        except ValidationFailed as exc:
            return await self._page(request, year, form=form, errors=exc.errors, status=422)
        return Redirect(f"/admin/editions/{year}/certificate", status_code=303)  # pragma: no cover - a person

    @get("/{year:int}/certificate/signatures/{version:int}")
    async def signature(self, request: Request, year: int, version: int) -> Response[bytes]:
        """A signature image, proposed or in force: administrators only, never cached."""
        content, media_type = await signatories.signature_image(require_actor(request), year, version)
        return Response(content, media_type=media_type, headers={
            "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="signature-{year}-{version}"'})
