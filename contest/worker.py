"""arq worker: ``contest worker`` (or ``arq contest.worker.WorkerSettings``).

Jobs come from each package's jobs module; every outbox job runs through ``run_outbox_item``.
"""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings

from contest import db
from contest.jobs import apply_retention, purge_stale_uploads, run_outbox_item, sweep_outbox
from contest.settings import get_settings


def redis_settings(url: str | None = None) -> RedisSettings:
    return RedisSettings.from_dsn(url or get_settings().redis_url or "redis://127.0.0.1:6379/0")


async def startup(ctx: dict[str, Any]) -> None:
    await db.start_pool()
    from contest.domain import outbox

    outbox.use_arq(ctx["redis"])


async def shutdown(ctx: dict[str, Any]) -> None:
    await db.close_pool()


class WorkerSettings:
    functions = [run_outbox_item]
    cron_jobs = [cron(sweep_outbox, second={0, 30}, run_at_startup=True),
                 # hourly, off the round minute; the job only removes part files a day old
                 cron(purge_stale_uploads, minute=17, second=0, run_at_startup=True, unique=True),
                 # daily, at night: personal data whose retention period has ended
                 cron(apply_retention, hour=3, minute=41, second=0, unique=True)]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings()
    max_jobs = 20
    job_timeout = 600
    max_tries = 10
    keep_result = 60
