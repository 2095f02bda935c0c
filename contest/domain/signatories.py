"""Who signs an edition's certificates: name, position (Thai and English) and signature image.

Set per edition under four eyes: one administrator proposes a version (the image is checked
here: a real PNG or JPEG, not too large, its transparency kept), another approves it through the
pending actions (``contest.domain.powers``). Until then the certificates keep the version
approved before, or carry no signature block. The image is private: only administrators read it
back (``signature_image``); the public sees it only printed on the certificates.
"""

from __future__ import annotations

import hashlib
from io import BytesIO
from typing import Any

from PIL import Image, UnidentifiedImageError

from contest import clock
from contest.certificates import MAX_SIGNATORY, Signatory
from contest.db import atomic, lock_row
from contest.domain import proposals
from contest.domain.audit import Actor, append_event
from contest.domain.editions import edition_row
from contest.enums import PendingActionState, SignatoryState
from contest.errors import Conflict, NotFound, ValidationFailed
from contest.i18n import t
from contest.rules import require_organiser
from contest.tables import CertificateSignatory, Edition, PendingAction

MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIGNATURE_PIXELS = (2000, 1000)  # width, height: ample for 56 mm at print resolution
MIN_SIGNATURE_PIXELS = (40, 20)
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


def check_signature(raw: bytes) -> str:
    """The image's media type when ``raw`` is a real PNG or JPEG of a sensible size; otherwise
    ValidationFailed on the ``signature`` field, saying what is wrong."""
    if not raw:
        raise ValidationFailed(errors={"signature": t("Choose the signature image (PNG or JPEG).")})
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ValidationFailed(errors={"signature": t(
            "The signature image is too large: at most {kb} KB.", kb=MAX_SIGNATURE_BYTES // 1024)})
    damaged = ValidationFailed(errors={"signature": t(
        "The signature must be a PNG or JPEG image; this file is not one, or it is damaged.")})
    try:
        with Image.open(BytesIO(raw)) as image:
            kind, size = image.format or "", image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise damaged from None
    if kind not in FORMATS:
        raise damaged
    # The size from the header, before any pixel is decoded: a small file may claim a huge image.
    if not (MIN_SIGNATURE_PIXELS[0] <= size[0] <= MAX_SIGNATURE_PIXELS[0]
            and MIN_SIGNATURE_PIXELS[1] <= size[1] <= MAX_SIGNATURE_PIXELS[1]):
        raise ValidationFailed(errors={"signature": t(
            "The signature image must be between {min_w}×{min_h} and {max_w}×{max_h} pixels; this one is "
            "{w}×{h}.", min_w=MIN_SIGNATURE_PIXELS[0], min_h=MIN_SIGNATURE_PIXELS[1],
            max_w=MAX_SIGNATURE_PIXELS[0], max_h=MAX_SIGNATURE_PIXELS[1], w=size[0], h=size[1])})
    try:
        with Image.open(BytesIO(raw)) as image:
            image.verify()  # the file's structure and checksums
        with Image.open(BytesIO(raw)) as image:
            image.load()  # every pixel decodes
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise damaged from None
    return FORMATS[kind]


def _clean_text(data: dict[str, Any]) -> dict[str, str]:
    values = {field: " ".join(str(data.get(field) or "").split())
              for field in ("signatory_name", "position_th", "position_en")}
    errors: dict[str, str] = {}
    if not values["signatory_name"]:
        errors["signatory_name"] = t("Enter the signatory's name as it is printed, with the title (นาย, นาง, ดร.).")
    if not values["position_th"]:
        errors["position_th"] = t("Enter the signatory's position in Thai.")
    for field, value in values.items():
        if len(value) > MAX_SIGNATORY and field not in errors:
            errors[field] = t("At most {n} characters.", n=MAX_SIGNATORY)
    if errors:
        raise ValidationFailed(errors=errors)
    return values


async def _edition_id(year: int) -> int:
    return int((await edition_row(year))["id"])


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "state": row["state"], "signatory_name": row["signatory_name"],
            "position_th": row["position_th"], "position_en": row["position_en"],
            "signature_type": row["signature_type"], "signature_sha256": row["signature_sha256"],
            "proposed_at": row["proposed_at"], "approved_at": row["approved_at"],
            "pending_action": row["pending_action"]}


_LISTED = (CertificateSignatory.id, CertificateSignatory.state, CertificateSignatory.signatory_name,
           CertificateSignatory.position_th, CertificateSignatory.position_en, CertificateSignatory.signature_type,
           CertificateSignatory.signature_sha256, CertificateSignatory.proposed_at, CertificateSignatory.approved_at,
           CertificateSignatory.pending_action)


async def _current_row(edition_id: int, *, with_image: bool = False) -> dict[str, Any] | None:
    columns = (*_LISTED, CertificateSignatory.signature) if with_image else _LISTED
    row: dict[str, Any] | None = await CertificateSignatory.select(*columns).where(
        (CertificateSignatory.edition == edition_id) & (CertificateSignatory.state == SignatoryState.approved)
    ).order_by(CertificateSignatory.id, ascending=False).first()
    return row


async def overview(actor: Actor, year: int) -> dict[str, Any]:
    """For the administrators' page: the version in force and the proposals waiting."""
    require_organiser(actor, "Only administrators can do this.")
    edition_id = await _edition_id(year)
    current = await _current_row(edition_id)
    proposed = await CertificateSignatory.select(*_LISTED).where(
        (CertificateSignatory.edition == edition_id) & (CertificateSignatory.state == SignatoryState.proposed)
    ).order_by(CertificateSignatory.id, ascending=False)
    waiting_ids = [r["pending_action"] for r in proposed if r["pending_action"]]
    waiting = {r["id"] for r in await PendingAction.select(PendingAction.id).where(
        PendingAction.id.is_in(waiting_ids) & (PendingAction.state == PendingActionState.pending)
    )} if waiting_ids else set()
    return {"current": _view(current) if current else None,
            "waiting": [_view(r) for r in proposed if r["pending_action"] in waiting]}


async def signatory_for(year: int) -> Signatory | None:
    """What the edition's certificates print: the newest approved version, or None."""
    row = await Edition.select(Edition.id).where(Edition.year == year).first()
    current = await _current_row(row["id"], with_image=True) if row else None
    if current is None:
        return None
    return Signatory(name=current["signatory_name"], position_th=current["position_th"],
                     position_en=current["position_en"], signature=bytes(current["signature"]))


async def propose(*, actor: Actor, year: int, data: dict[str, Any], signature: bytes | None) -> int:
    """Propose a new signatory for the edition's certificates. Without a new image the one in
    force is kept. Raises ``Proposed`` (202) for a person; the operator's command line sets it
    at once. Returns the version's id."""
    require_organiser(actor, "Only administrators can do this.")
    edition_id = await _edition_id(year)
    values = _clean_text(data)
    if signature:
        media_type = check_signature(signature)
    else:
        current = await _current_row(edition_id, with_image=True)
        if current is None:
            raise ValidationFailed(errors={"signature": t("Choose the signature image (PNG or JPEG).")})
        signature, media_type = bytes(current["signature"]), current["signature_type"]
    digest = hashlib.sha256(signature).hexdigest()
    async with atomic():
        rows = await CertificateSignatory.insert(CertificateSignatory(
            edition=edition_id, state=SignatoryState.proposed, signatory_name=values["signatory_name"],
            position_th=values["position_th"], position_en=values["position_en"], signature=signature,
            signature_type=media_type, signature_sha256=digest, proposed_by=actor.id or 0,
        )).returning(CertificateSignatory.id)
        version = int(rows[0]["id"])
        if not proposals.needs_second_admin(actor):
            await _approve(actor, version)
            return version
        current = await _current_row(edition_id)
        pending_id = await proposals.propose(actor, proposals.CERTIFICATE_SIGNATORY, {
            "year": year, "version": version, **values, "signature_sha256": digest,
            "from": ({k: current[k] for k in ("signatory_name", "position_th", "position_en", "signature_sha256")}
                     if current else None)})
        await CertificateSignatory.update({CertificateSignatory.pending_action: pending_id}).where(
            CertificateSignatory.id == version)
    raise proposals.Proposed(pending_id)


async def approve_proposed(*, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
    """Inside the approver's transaction (``contest.domain.powers``): put the proposed version in force."""
    await _approve(actor, int(payload["version"]))
    return {"year": payload["year"], "version": payload["version"]}


async def _approve(actor: Actor, version: int) -> None:
    await lock_row("certificate_signatory", version)
    row = await CertificateSignatory.select(*_LISTED, CertificateSignatory.edition,
                                            CertificateSignatory.edition.year).where(
        CertificateSignatory.id == version).first()
    if row is None:  # pragma: no cover - proposals name versions they created
        raise NotFound("No such signatory.")
    if row["state"] != SignatoryState.proposed:
        raise Conflict("This action was already decided.", code="pending_action_decided")
    before = await _current_row(row["edition"])
    await CertificateSignatory.update({CertificateSignatory.state: SignatoryState.replaced}).where(
        (CertificateSignatory.edition == row["edition"]) & (CertificateSignatory.state == SignatoryState.approved))
    await CertificateSignatory.update({CertificateSignatory.state: SignatoryState.approved,
                                       CertificateSignatory.approved_by: actor.id,
                                       CertificateSignatory.approved_at: clock.now()}).where(
        CertificateSignatory.id == version)
    fields = ("signatory_name", "position_th", "position_en", "signature_sha256")
    await append_event(actor=actor, action="edition.certificate_signatory", subject_type="edition",
                       subject_id=row["edition.year"],
                       before={k: before[k] for k in fields} if before else {},
                       after={**{k: row[k] for k in fields}, "version": version,
                              "four_eyes": proposals.needs_second_admin(actor)})


async def signature_image(actor: Actor, year: int, version: int) -> tuple[bytes, str]:
    """A version's signature image, for administrators only (404 for an unknown version)."""
    require_organiser(actor, "Only administrators can do this.")
    edition_id = await _edition_id(year)
    row = await CertificateSignatory.select(CertificateSignatory.signature, CertificateSignatory.signature_type).where(
        (CertificateSignatory.id == version) & (CertificateSignatory.edition == edition_id)).first()
    if row is None:
        raise NotFound("No such signatory.")
    return bytes(row["signature"]), str(row["signature_type"])
