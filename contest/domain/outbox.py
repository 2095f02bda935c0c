"""The outbox: jobs that must not be lost.

A domain function calls ``add_job`` inside its transaction, so the job exists exactly when the
change does, and calls ``dispatch`` after the commit. ``dispatch`` hands the job to arq (with
Redis) or to the in-process runner (without). A runner first *claims* a row with a
compare-and-set UPDATE, so two runners never execute the same job at once; a claim that is
never completed (a crash) expires and the sweeper hands the job out again.

A job that fails for a passing reason (SMTP down, a timeout) is retried with a growing delay,
capped at an hour, for ``RETRY_FOR`` (days, not minutes); only then, or at once for a fault
that retrying cannot fix, is it ``failed``. Failed jobs are listed for the admins, who (or
``contest outbox retry``) can send them again. Marking a job done is itself retried, well
inside the claim, so a short database fault does not make the job run (and mail) twice.

A job's claim, its "done" and a failure's record are bookkeeping: they are committed without
waiting for the disk (``lazy_commits``). Losing the last of them to a power cut only makes a
job run again, which every job is safe to do; the job itself was recorded by its change's own
commit, which waits for the disk. A handler whose last act is a write of its own (a file
check's outcome) marks the job done in that write's transaction (``mark_done``): one commit
for both.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count
from piccolo.utils.encoding import dump_json

from contest import clock
from contest.db import atomic, committing_lazily, fetch, lazy_commits
from contest.domain.audit import Actor, append_event
from contest.enums import OutboxState
from contest.rules import require_organiser
from contest.tables import Outbox

log = logging.getLogger("contest.outbox")

Handler = Callable[[dict[str, Any], int], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}
#: How long a job failing for a passing reason keeps being retried.
RETRY_FOR = timedelta(days=3)
#: The longest wait between two tries.
MAX_DELAY_SECONDS = 3600
CLAIM_SECONDS = 300
#: Waits between tries of writing "done" (they add up to well under ``CLAIM_SECONDS``).
DONE_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


class TransientError(Exception):
    """Raise from a handler for a fault worth retrying later (service down, timeout)."""


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn
    return register


async def add_job(job: str, args: dict[str, Any], *, dedupe_key: str | None = None) -> int | None:
    """Record a job in the current transaction. With a ``dedupe_key`` a second call is a no-op
    (None): the key is unique, and the insert leaves a row that already holds it as it is."""
    _refuse_lazy()
    now = datetime.now(UTC)
    rows = await fetch(_INSERT_JOB, job, dump_json(args), dedupe_key, OutboxState.pending.value, now, now)
    if not rows:
        return None
    found: int = rows[0]["id"]
    return found


def job_after(source: str, *, args: str = "{}::json", dedupe_key: str = "{}::varchar") -> str:
    """:func:`add_job`'s row written in a statement of PostgreSQL's from the row of ``source``,
    a data-modifying part of the same statement (the receipt or file the job is for): its
    ``args`` and ``dedupe_key`` are SQL over that row or parameters. The parameters in order:
    the job's name, those of ``args`` and ``dedupe_key``, then :func:`new_job_stamps`."""
    return (_JOB_INTO + f" SELECT {{}}::varchar, {args}, {dedupe_key}, {{}}::varchar, "
            f"0, '', {{}}::timestamptz, {{}}::timestamptz, NULL, NULL FROM {source}" + _JOB_RETURNING)


def new_job_stamps() -> tuple[str, datetime, datetime]:
    """The state and times :func:`add_job` gives a new job (never in a lazy commit)."""
    _refuse_lazy()
    now = datetime.now(UTC)
    return OutboxState.pending.value, now, now


def _refuse_lazy() -> None:
    """A job must outlive a power cut once its change has: it is never recorded in a lazy commit."""
    if committing_lazily():
        raise RuntimeError("a job is recorded only in a commit that waits for the disk, not in lazy_commits()")


# A job recorded by a change, as fixed SQL (the statement of every upload and submit): one
# statement whether or not its dedupe key is taken (NULL keys never conflict).
_JOB_INTO = ('INSERT INTO outbox ("job", "args", "dedupe_key", "state", "attempts", "last_error", "created_at", '
             '"available_at", "claimed_until", "done_at")')
_JOB_RETURNING = ' ON CONFLICT ("dedupe_key") DO NOTHING RETURNING id'
_INSERT_JOB = _JOB_INTO + " VALUES ({}, {}, {}, {}, 0, '', {}, {}, NULL, NULL)" + _JOB_RETURNING


async def add_jobs(job: str, items: list[tuple[dict[str, Any], str]]) -> list[int]:
    """Record many jobs at once (inside the caller's transaction), each with its dedupe key;
    keys already recorded are skipped. Returns the new outbox ids."""
    _refuse_lazy()
    keys = [key for _, key in items]
    existing = {r["dedupe_key"] for r in await Outbox.select(Outbox.dedupe_key).where(
        Outbox.dedupe_key.is_in(keys or [""]))}
    fresh = [Outbox(job=job, args=args, dedupe_key=key, state=OutboxState.pending)
             for args, key in items if key not in existing]
    if not fresh:
        return []
    rows = await Outbox.insert(*fresh).returning(Outbox.id)
    return [r["id"] for r in rows]


async def progress(dedupe_prefix: str) -> dict[str, int]:
    """How many jobs whose dedupe key starts with ``dedupe_prefix`` are pending, done, failed."""
    rows = await Outbox.select(Outbox.state, Count(Outbox.id).as_alias("n")).where(
        Outbox.dedupe_key.like(dedupe_prefix.replace("%", "") + "%")).group_by(Outbox.state)
    counts = {"pending": 0, "done": 0, "failed": 0}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + r["n"]
    counts["total"] = sum(counts.values())
    return counts


# --- dispatch -------------------------------------------------------------------------------

_arq_pool: Any = None
_kick: asyncio.Event | None = None
#: Hand-overs to Redis still under way (kept so they are not garbage-collected mid-flight).
_handing_over: set[asyncio.Task[None]] = set()
#: A hand-over to Redis gives up after this long; the sweeper sends the job later.
DISPATCH_TIMEOUT_SECONDS = 3.0


def use_arq(pool: Any) -> None:
    global _arq_pool
    _arq_pool = pool


def use_in_process(event: asyncio.Event | None) -> None:
    global _kick
    _kick = event


async def dispatch(ids: Sequence[int | None] | None = None) -> None:
    """After commit: hand new jobs to a runner. The caller never waits on Redis: the hand-over
    runs beside it, bounded in time, and failing loses nothing (the row is safe in the database
    and the sweeper sends it later)."""
    queued = [i for i in (ids or []) if i is not None]
    if _arq_pool is not None and queued:
        task = asyncio.get_running_loop().create_task(_hand_over(_arq_pool, queued))
        _handing_over.add(task)
        task.add_done_callback(_handing_over.discard)
    elif _kick is not None:
        _kick.set()


async def _hand_over(pool: Any, ids: list[int]) -> None:
    try:
        for outbox_id in ids:
            async with asyncio.timeout(DISPATCH_TIMEOUT_SECONDS):
                await enqueue_arq(outbox_id, pool=pool)
    except Exception as exc:  # noqa: BLE001 - the row is safe in the database; the sweeper re-sends
        log.warning("outbox: handing jobs %s to Redis failed (%s: %s); the sweeper will send them",
                    ids, type(exc).__name__, exc)


async def settle(timeout: float = DISPATCH_TIMEOUT_SECONDS * 2) -> None:
    """Wait (bounded) for hand-overs under way: at shutdown, and where a test looks at the queue."""
    if _handing_over:
        await asyncio.wait(set(_handing_over), timeout=timeout)


async def enqueue_arq(outbox_id: int, suffix: str = "0", *, pool: Any = None) -> None:
    # arq ignores a job id it has seen (queued or result kept), so a re-send needs a new suffix.
    await (pool or _arq_pool).enqueue_job("run_outbox_item", outbox_id, _job_id=f"outbox:{outbox_id}:{suffix}")


# --- running --------------------------------------------------------------------------------

async def claim(outbox_id: int) -> dict[str, Any] | None:
    now = clock.now()
    with lazy_commits():
        rows = await fetch(_CLAIM, now + timedelta(seconds=CLAIM_SECONDS), outbox_id, OutboxState.pending.value,
                           now, now)
    return rows[0] if rows else None


#: The jobs the running handler marked done itself (set by ``run_item`` around each handler).
_MARKED: ContextVar[set[int] | None] = ContextVar("outbox_marked_done", default=None)


async def mark_done(outbox_id: int) -> None:
    """Mark the running job done inside the caller's transaction: for a handler whose last act
    is a write of its own, so its outcome and the job's "done" are one commit. ``run_item``
    then writes no "done" of its own. Nothing may fail after it in the handler (a failure
    would put the job back to run again)."""
    await fetch(_DONE, OutboxState.done.value, clock.now(), outbox_id)
    marked = _MARKED.get()
    if marked is not None:
        marked.add(outbox_id)


# Every job's claim and its "done", as fixed SQL (the runner writes both for each job).
_CLAIM = ("UPDATE outbox SET claimed_until = {}, attempts = attempts + 1 "
          "WHERE id = {} AND state = {} AND available_at <= {} AND (claimed_until IS NULL OR claimed_until < {}) "
          "RETURNING id, job, args, attempts, created_at")
_DONE = "UPDATE outbox SET state = {}, done_at = {}, claimed_until = NULL WHERE id = {}"


async def with_retries(action: Callable[[], Awaitable[Any]], delays: Sequence[float] = DONE_RETRY_DELAYS) -> Any:
    """Run ``action``; if the database fails, wait and try again (each delay once), then raise."""
    for delay in (*delays, None):
        try:
            return await action()
        except Exception:  # noqa: BLE001 - any database fault: try again while the claim holds
            if delay is None:
                raise
            log.warning("outbox: writing a job's result failed; trying again in %s s", delay)
            await asyncio.sleep(delay)
    return None  # pragma: no cover - the loop returns or raises


async def run_item(outbox_id: int) -> str:
    """Run one outbox job if it is due and unclaimed. Returns what happened."""
    row = await claim(outbox_id)
    if row is None:
        return "skipped"
    fn = HANDLERS.get(row["job"])
    args = row["args"] if isinstance(row["args"], dict) else json.loads(row["args"])
    marked: set[int] = set()
    token = _MARKED.set(marked)
    try:
        if fn is None:
            raise RuntimeError(f"no handler for job {row['job']!r}")
        await fn(args, outbox_id)
    except Exception as exc:  # noqa: BLE001 - recorded on the row, retried with back-off
        attempts = row["attempts"]
        transient = isinstance(exc, (TransientError, OSError, asyncio.TimeoutError))
        final = not transient or clock.now() - row["created_at"] >= RETRY_FOR
        with lazy_commits():
            await Outbox.update({
                Outbox.state: OutboxState.failed if final else OutboxState.pending,
                Outbox.last_error: f"{type(exc).__name__}: {exc}"[:2000],
                Outbox.claimed_until: None,
                Outbox.available_at: clock.now() + timedelta(
                    seconds=min(MAX_DELAY_SECONDS, 5 * 2 ** min(attempts, 20))),
            }).where(Outbox.id == outbox_id)
        log.warning("outbox job %s (%s) failed, attempt %s: %s", outbox_id, row["job"], attempts, exc)
        return "failed" if final else "retry"
    finally:
        _MARKED.reset(token)
    if outbox_id in marked:
        return "done"

    async def write_done() -> None:
        with lazy_commits():
            await fetch(_DONE, OutboxState.done.value, clock.now(), outbox_id)

    await with_retries(write_done)
    return "done"


async def failed_jobs(*, limit: int = 200) -> list[dict[str, Any]]:
    """The jobs that gave up, newest first, with whom a mail was for (for the admins' list)."""
    rows = await Outbox.select(Outbox.id, Outbox.job, Outbox.args, Outbox.attempts, Outbox.last_error,
                               Outbox.created_at, Outbox.available_at).where(
        Outbox.state == OutboxState.failed).order_by(Outbox.id, ascending=False).limit(limit)
    out = []
    for r in rows:
        args = r["args"] if isinstance(r["args"], dict) else json.loads(r["args"] or "{}")
        out.append({**r, "to": args.get("to", ""), "subject": args.get("subject", "")})
    return out


async def failed_count() -> int:
    return await Outbox.count().where(Outbox.state == OutboxState.failed)


async def pending_count() -> int:
    return await Outbox.count().where(Outbox.state == OutboxState.pending)


async def resend(ids: Sequence[int] | None = None) -> list[int]:
    """Give failed jobs (these, or all of them) a fresh start: pending, due now, counted from
    now. Returns the ids; the caller dispatches them after its transaction."""
    where: Any = Outbox.state == OutboxState.failed
    if ids is not None:
        where = where & Outbox.id.is_in(list(ids) or [0])
    rows = await Outbox.update({Outbox.state: OutboxState.pending, Outbox.available_at: clock.now(),
                                Outbox.claimed_until: None, Outbox.attempts: 0,
                                Outbox.created_at: clock.now()}).where(where).returning(Outbox.id)
    return [r["id"] for r in rows]


async def resend_failed(*, actor: Actor, ids: Sequence[int] | None = None) -> int:
    """An admin (or the operator) sends failed jobs again; audited; dispatched after commit."""
    require_organiser(actor, "Only administrators can send failed jobs again.")
    async with atomic():
        again = await resend(ids)
        if again:
            await append_event(actor=actor, action="outbox.resend", subject_type="outbox",
                               subject_id=",".join(map(str, again[:50])), after={"jobs": len(again)})
    await dispatch(again)
    return len(again)


async def due_ids(limit: int = 500) -> list[int]:
    now = clock.now()
    rows = await fetch(_DUE, OutboxState.pending.value, now, now, limit)
    return [r["id"] for r in rows]


# The in-process runner asks this after every change that records a job: fixed SQL.
_DUE = ("SELECT id FROM outbox WHERE state = {} AND available_at <= {} "
        "AND (claimed_until IS NULL OR claimed_until < {}) ORDER BY id LIMIT {}")


async def run_due(limit: int = 500) -> int:
    """Run every due job now, in this process. Returns how many ran to completion."""
    done = 0
    for outbox_id in await due_ids(limit):
        if await run_item(outbox_id) == "done":
            done += 1
    return done


async def sweep_to_arq(older_than_seconds: int = 30) -> int:
    """Re-send jobs that were never picked up (dispatch failed, Redis flushed, worker crashed)."""
    cutoff = clock.now() - timedelta(seconds=older_than_seconds)
    rows = await Outbox.select(Outbox.id, Outbox.attempts).where(
        (Outbox.state == OutboxState.pending) & (Outbox.available_at <= clock.now())
        & (Outbox.created_at <= cutoff)
        & ((Outbox.claimed_until.is_null()) | (Outbox.claimed_until < clock.now()))
    ).order_by(Outbox.id).limit(1000)
    for row in rows:
        await enqueue_arq(row["id"], suffix=f"{row['attempts']}:{int(clock.now().timestamp()) // 60}")
    return len(rows)


async def in_process_loop(event: asyncio.Event, interval: float = 2.0) -> None:
    """The embedded runner: runs due jobs when kicked and every ``interval`` seconds."""
    while True:
        try:
            async with asyncio.timeout(interval):
                await event.wait()
        except TimeoutError:
            pass
        event.clear()
        try:
            await run_due()
        except Exception:  # noqa: BLE001 - keep the loop alive; rows stay pending
            log.exception("in-process job runner failed; retrying")
