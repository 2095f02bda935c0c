"""Background jobs of the contest app. Each takes ids and plain values, re-reads what it needs,
and is safe to run twice."""

from __future__ import annotations

from typing import Any

from contest.domain import outbox
from contest.mail import Mail, deliver


@outbox.handler("send_mail")
async def send_mail(args: dict[str, Any], outbox_id: int) -> None:
    # The message id is the outbox id: a re-run delivers the same message, not a second one.
    await deliver(Mail(to=args["to"], subject=args["subject"], text=args["text"]),
                  message_id=f"outbox-{outbox_id}")


@outbox.handler("announce_results")
async def announce_results(args: dict[str, Any], outbox_id: int) -> None:
    """After publication: queue one result mail per applicant (batched; safe to re-run)."""
    from contest.domain.announcement import notify_applicants

    await notify_applicants(int(args["year"]))


async def run_outbox_item(ctx: dict[str, Any], outbox_id: int) -> str:
    """arq entry point for every outbox job."""
    from arq import Retry

    result = await outbox.run_item(outbox_id)
    if result == "retry":
        raise Retry(defer=10)
    return result


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Cron: re-send outbox jobs whose dispatch was lost (Redis down, worker crashed)."""
    pool = ctx.get("redis")
    if pool is not None:
        outbox.use_arq(pool)
    return await outbox.sweep_to_arq()


@outbox.handler("check_attachment")
async def check_attachment(args: dict[str, Any], outbox_id: int) -> None:
    """Open the file (PDF pages, image size, video bytes) and, with CLAMD_URL, scan it."""
    from contest.domain.entries import record_check
    from contest.settings import get_settings
    from contest.storage import get_storage
    from contest.tables import Attachment
    from uploads.checks import ScanUnavailable, check_file

    att = await Attachment.select(Attachment.storage_key, Attachment.content_type).where(
        Attachment.id == args["attachment_id"]).first()
    if att is None:
        return
    try:
        result = await check_file(get_storage(), att["storage_key"], att["content_type"],
                                  clamd_url=get_settings().clamd_url)
    except ScanUnavailable as exc:
        raise outbox.TransientError(str(exc)) from exc
    message = f"{result.message_th} / {result.message_en}" if result.message_th else ""
    await record_check(attachment_id=args["attachment_id"], state=result.state, details=result.details,
                       message=message)
