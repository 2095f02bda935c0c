"""The privacy notice under the Personal Data Protection Act (PDPA): its versions, and who
accepted which.

A version is never changed once published; a new text is a new version. An administrator
proposes it and a different administrator approves it (``contest.domain.proposals``), the
operator's command line publishes directly. Everyone accepts the current version: at sign-up,
and after a newer version is published, before going on (pages lead to the notice, the API
answers 403 ``notice_acceptance_required`` with the ``version`` to accept).
"""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Max

from contest import clock
from contest.db import atomic
from contest.domain import proposals
from contest.domain.audit import Actor, append_event
from contest.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from contest.i18n import t
from contest.rules import is_admin
from contest.tables import NoticeAcceptance, PrivacyNotice

#: How a person accepted a version.
HOW = ("signup", "digital_id_signup", "page", "api", "demo", "operator")
MAX_TEXT = 50_000


class NoticeAcceptanceRequired(PermissionDenied):
    """A newer privacy notice is published and this person has not accepted it yet (pages lead
    to the notice; the API answers 403 with the ``version`` to accept)."""

    code = "notice_acceptance_required"


async def current() -> dict[str, Any] | None:
    """The version in force (the highest), or None before any is published."""
    return await PrivacyNotice.select().order_by(PrivacyNotice.version, ascending=False).first()


async def current_version() -> int | None:
    row = await PrivacyNotice.select(Max(PrivacyNotice.version, alias="v")).first()
    return int(row["v"]) if row and row["v"] is not None else None


async def get_version(version: int) -> dict[str, Any]:
    row = await PrivacyNotice.select().where(PrivacyNotice.version == version).first()
    if row is None:
        raise NotFound("No such version of the privacy notice.", code="notice_not_found")
    return row


async def list_versions() -> list[dict[str, Any]]:
    """Every version, newest first (without the texts)."""
    return await PrivacyNotice.select(PrivacyNotice.version, PrivacyNotice.published_at).order_by(
        PrivacyNotice.version, ascending=False)


def paragraphs(text: str) -> list[str]:
    """A notice's text as paragraphs (separated by blank lines)."""
    return [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]


async def due_version(user_id: int | None) -> int | None:
    """The version this person must accept before going on, or None when nothing is due."""
    if user_id is None:
        return None
    version = await current_version()
    if version is None:
        return None
    accepted = await NoticeAcceptance.exists().where(
        (NoticeAcceptance.user == user_id) & (NoticeAcceptance.version == version))
    return None if accepted else version


async def record_acceptance(user_id: int, version: int, how: str) -> bool:
    """Inside the caller's transaction: record that ``user_id`` accepted ``version`` (once per
    person and version). Returns whether it was new."""
    assert how in HOW, how
    if await NoticeAcceptance.exists().where(
            (NoticeAcceptance.user == user_id) & (NoticeAcceptance.version == version)):
        return False
    await NoticeAcceptance.insert(NoticeAcceptance(user=user_id, version=version, accepted_at=clock.now(), how=how))
    return True


async def accept_current(user_id: int, how: str) -> int | None:
    """Inside the caller's transaction: a new account (sign-up, demo, test) accepts the version in
    force. Returns it (None while no notice is published)."""
    version = await current_version()
    if version is not None:
        await record_acceptance(user_id, version, how)
    return version


def check_version_seen(sent: Any, current_version_now: int | None) -> None:
    """A sign-up form says which version it showed: refuse it when a newer one came out since."""
    if sent in (None, "") or current_version_now is None:
        return
    if str(sent).strip() != str(current_version_now):
        raise ValidationFailed(errors={"notice_version": t(
            "A new version of the privacy notice was published while you were filling in the form. Read it and "
            "send the form again.")}, code="notice_changed", version=current_version_now)


def _version_number(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).strip().isdigit() \
            or len(str(raw).strip()) > 9:
        raise ValidationFailed(errors={"version": t("Give the version number of the privacy notice you accept.")})
    return int(str(raw).strip())


async def accept(*, actor: Actor, version: Any, how: str) -> dict[str, Any]:
    """The person accepts ``version``, which must be the version in force (409 ``notice_changed``
    when a newer one is, 404 when none is published). Accepting twice is harmless."""
    if actor.id is None:
        raise PermissionDenied("Please log in first.")
    number = _version_number(version)
    async with atomic():
        now_version = await current_version()
        if now_version is None:
            raise NotFound("No privacy notice is published.", code="notice_not_found")
        if number != now_version:
            raise Conflict("This is not the current version of the privacy notice ({version}). Read the current "
                           "version and accept it.", code="notice_changed", version=now_version)
        if await record_acceptance(actor.id, number, how):
            await append_event(actor=actor, action="privacy_notice.accept", subject_type="user",
                               subject_id=actor.id, after={"version": number, "how": how})
    row = await NoticeAcceptance.select(NoticeAcceptance.version, NoticeAcceptance.accepted_at).where(
        (NoticeAcceptance.user == actor.id) & (NoticeAcceptance.version == number)).first()
    assert row is not None
    return {"version": row["version"], "accepted_at": row["accepted_at"]}


# --- publishing a new version (four eyes) -------------------------------------------------------

def clean_texts(text_th: Any, text_en: Any) -> tuple[str, str]:
    errors: dict[str, str] = {}
    texts = []
    for name, raw in (("text_th", text_th), ("text_en", text_en)):
        text = raw.replace("\r\n", "\n").strip() if isinstance(raw, str) else ""
        if not text:
            errors[name] = t("Write the text of the notice.")
        elif len(text) > MAX_TEXT:
            errors[name] = t("At most {n} characters.", n=MAX_TEXT)
        elif "\x00" in text:
            errors[name] = t("The text holds a character that cannot be stored.")
        texts.append(text)
    if errors:
        raise ValidationFailed(errors=errors)
    return texts[0], texts[1]


async def propose_version(*, actor: Actor, text_th: Any, text_en: Any) -> int:
    """A new version of the notice. An administrator only proposes it (``Proposed``, 202): another
    administrator approves it. The operator's command line publishes at once. Returns the version."""
    if actor.id is not None and not is_admin(actor):
        raise PermissionDenied("Only administrators can change the privacy notice.", code="admin_only")
    th, en = clean_texts(text_th, text_en)
    replaces = await current_version()
    if proposals.needs_second_admin(actor):
        async with atomic():
            pending_id = await proposals.propose(actor, proposals.PUBLISH_NOTICE,
                                                 {"text_th": th, "text_en": en, "replaces": replaces})
        raise proposals.Proposed(pending_id)
    async with atomic():
        return await publish_approved(actor=actor, text_th=th, text_en=en, replaces=replaces, proposed_by=actor.id)


async def publish_approved(*, actor: Actor, text_th: str, text_en: str, replaces: int | None,
                           proposed_by: int | None) -> int:
    """Inside the caller's transaction: publish the next version (approved, or by the operator).
    Refused when another version came out after this text was proposed: its proposer wrote it
    against the version it replaces."""
    now_version = await current_version()
    if now_version != replaces:
        raise Conflict("Another version of the privacy notice was published after this one was proposed. "
                       "Propose the text again against the current version.", code="notice_changed")
    version = (now_version or 0) + 1
    await PrivacyNotice.insert(PrivacyNotice(version=version, text_th=text_th, text_en=text_en,
                                             published_at=clock.now(), published_by=actor.id,
                                             proposed_by=proposed_by))
    await append_event(actor=actor, action="privacy_notice.publish", subject_type="privacy_notice",
                       subject_id=version, after={"version": version, "proposed_by": proposed_by,
                                                  "text_th": text_th, "text_en": text_en})
    return version
