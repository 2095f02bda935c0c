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
