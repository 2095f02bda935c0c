"""The SQLite engine: statements and commits on the event loop's thread, writers taking turns in
the process and between processes, commits that wait for the disk after the writer's turn and
share one flush of the log (:class:`LogFlush`), and commits that may skip waiting for the disk
(:func:`lazy_commits`)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory


def _integer_out(value: bytes) -> int:
    """An INTEGER column's value as SQLite hands it over (its digits). Piccolo's own converter
    reads every one through ``Decimal`` (for a stored ``1.0``), some microseconds each: a tenth
    of the ranking's read of 21,000 sheets went there."""
    try:
        return int(value)
    except ValueError:
        return int(Decimal(value.decode()))


sqlite3.register_converter("INTEGER", _integer_out)

#: Reads ``contest.db.fetch_kept`` keeps (per SQLite connection; per process on PostgreSQL).
KEPT_READS = 64

#: How long a write waits for its turn: first behind this process's other writers, then (SQLite's
#: busy timeout) behind another process holding the database's write lock. Past either the
#: request answers 503 with Retry-After instead of hanging.
WRITE_WAIT_SECONDS = 10.0


#: Whether the writes begun here may be committed without waiting for the disk (:func:`lazy_commits`).
_LAZY: ContextVar[bool] = ContextVar("lazy_commits", default=False)


@contextmanager
def lazy_commits() -> Iterator[None]:
    """Writes begun inside (a transaction, or a statement outside one) are committed on SQLite
    without waiting for the disk to flush its log (``synchronous=NORMAL`` in WAL mode): for the
    bookkeeping whose loss costs a repeat and nothing else, never for what a person is told
    was saved. A crashed or killed process loses none of them (the log is written before the
    commit returns); only a power cut or an operating-system crash can lose the last ones, and
    then only a tail: the log is written in order and every other commit flushes all of it, so a
    change a person was told about never goes while a lazy commit made before it stays.
    A transaction is lazy or not from where it begins (a nested one joins it). On PostgreSQL
    nothing changes."""
    token = _LAZY.set(True)
    try:
        yield
    finally:
        _LAZY.reset(token)


def committing_lazily() -> bool:
    """Whether writes begun here would be committed lazily (inside :func:`lazy_commits`)."""
    return _LAZY.get()


#: The last commit of this task that waits for the disk and was not yet flushed (its number in
#: its loop's :class:`_Flushes`), 0 when none: settled once the task's write turn is given back.
_OWED: ContextVar[int] = ContextVar("owed_flush", default=0)
#: Whether this task holds the write turn (:meth:`ContestSQLiteEngine.write_turn`).
_IN_TURN: ContextVar[bool] = ContextVar("in_write_turn", default=False)


class _Flushes:
    """One event loop's commits waiting for the disk and the one flush of the log under way."""

    def __init__(self) -> None:
        #: Commits that wait for the disk written to the log so far (each one's number).
        self.written = 0
        #: Every commit numbered up to this one is on disk.
        self.flushed = 0
        #: Flushes of the log done (one per group of commits).
        self.done = 0
        self.flight: asyncio.Task[None] | None = None


class LogFlush:
    """Group commit: a commit that waits for the disk is written to SQLite's log (WAL) without
    flushing it (``synchronous=NORMAL``), the writer's turn is given back, and then the log file
    is flushed (``fdatasync``) before the committer goes on, so the next writer works while the
    disk flushes. Committers of one process share flushes: a commit written before a flush began
    is on disk when it ends; the ones written during it wait for the next, begun by the first of
    them, for all of them. A flush of the file flushes what every process wrote to it.

    That is the flush ``synchronous=FULL`` makes at each commit (SQLite's WAL docs: FULL adds a
    sync of the log after each commit; NORMAL still syncs the log's header when it is begun
    again and the log before each checkpoint, and the database after it), made later and
    shared. A log already checkpointed was flushed by the checkpoint first, so a log begun
    again or gone (the last connection removes it, after checkpointing) holds nothing owed.

    Between the commit and its flush the change is visible to readers: see docs/conventions.md,
    and the failure table in docs/operations.md for what a power cut can then cost."""

    #: Changes (a commit, and each row it changed) after which this process checkpoints the log
    #: into the database, on a worker thread after the writer's turn: SQLite's own checkpoints
    #: (every 1,000 pages) are off, they would flush the disk on the loop's thread.
    CHECKPOINT_AFTER = 1000

    def __init__(self, database: str) -> None:
        self.log_path = f"{database}-wal"
        self.database = database
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Flushes] = weakref.WeakKeyDictionary()
        #: Changes since this process last checkpointed.
        self.unchecked = 0
        self._checkpointer: sqlite3.Connection | None = None
        self._pid = 0
        self._checkpointing = threading.Lock()  # one checkpoint at a time (an app on two loops)

    def close(self) -> None:
        """Close the checkpoints' connection (at shutdown)."""
        with self._checkpointing:
            checkpointer, self._checkpointer = self._checkpointer, None
            if checkpointer is not None and self._pid == os.getpid():
                checkpointer.close()

    def flushes(self) -> _Flushes:
        """The running loop's commits and flushes."""
        loop = asyncio.get_running_loop()
        found = self._loops.get(loop)
        if found is None:
            found = self._loops[loop] = _Flushes()
        return found

    def committed(self, changes: int, durable: bool) -> None:
        """A commit (of ``changes`` rows) was written to the log; if ``durable``, the task owes
        its flush."""
        self.unchecked += 1 + changes
        if durable:
            state = self.flushes()
            state.written += 1
            _OWED.set(state.written)

    async def settle(self) -> None:
        """Wait until the task's commits are on disk, sharing a flush of the log with the other
        committers; then, now and then, checkpoint. Called once the write turn is given back."""
        owed = _OWED.get()
        if owed:
            state = self.flushes()
            while state.flushed < owed:
                if state.flight is None:
                    state.flight = asyncio.get_running_loop().create_task(self._flush(state))
                    state.flight.add_done_callback(_retrieved)  # its waiters may all be gone
                await asyncio.shield(state.flight)
            _OWED.set(0)
        if self.unchecked >= self.CHECKPOINT_AFTER:
            self.unchecked = 0
            await _on_thread(self._checkpoint)

    async def _flush(self, state: _Flushes) -> None:
        upto = state.written  # every commit numbered so far is in the file's pages already
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._sync_log)
        finally:
            state.flight = None
        state.flushed = max(state.flushed, upto)
        state.done += 1

    def _sync_log(self) -> None:
        try:
            fd = os.open(self.log_path, os.O_RDONLY)
        except FileNotFoundError:
            return  # checkpointed into the database, flushed, and removed by its last connection
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)

    def _checkpoint(self) -> None:
        """A passive checkpoint (no writer waits for it) on a connection of its own."""
        with self._checkpointing:
            self._checkpoint_now()

    def _checkpoint_now(self) -> None:
        if self._checkpointer is None or self._pid != os.getpid():  # a forked worker opens its own
            self._checkpointer = sqlite3.connect(self.database, check_same_thread=False, timeout=0)
            self._pid = os.getpid()
        try:
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError:  # another process checkpoints: later, then
            pass


def _retrieved(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


class DatabaseBusy(Exception):
    """A write waited ``WRITE_WAIT_SECONDS`` for its turn and gave up; nothing was changed."""


async def _on_thread(call: Any) -> Any:
    """``call()`` on a worker thread. A task cancelled meanwhile still waits for it to finish
    before the cancellation goes on: the connection must not be rolled back, closed or handed to
    another task while the thread is using it."""
    future = asyncio.get_running_loop().run_in_executor(None, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            try:
                await asyncio.wait([future])
            except asyncio.CancelledError:
                continue
        if not future.cancelled():
            future.exception()  # retrieved: the request is going away either way
        raise


class InlineConnection:
    """An ``sqlite3`` connection used from the event loop: each statement runs at once on the
    loop's thread. The app's statements are indexed reads and small writes of microseconds to a
    few milliseconds, and one process's Python work holds one core anyway, so a trip to a worker
    thread per statement (aiosqlite's way) only added its hand-over: a quarter of the CPU a
    score sheet's request took. Nothing waits inside a statement: writers take their turn
    (:meth:`ContestSQLiteEngine.write_turn`) before they begin, and readers never wait in WAL
    mode. A commit only hands its pages to the operating system (``synchronous=NORMAL``, no
    checkpoint) and runs inline too; the flush of the log that a commit waits for comes after the
    writer's turn (:class:`LogFlush`), and none for a lazy one (:func:`lazy_commits`). It offers
    the part of aiosqlite's interface Piccolo's transactions use."""

    def __init__(self, raw: sqlite3.Connection, log: LogFlush | None = None) -> None:
        self.raw: sqlite3.Connection | None = raw
        self.log = log
        #: Whether this connection's commits wait for the disk (see :meth:`flushing`).
        self.flushes = True
        #: Whether the transaction under way wrote (its commit has something to flush).
        self.wrote = False
        self._changes = raw.total_changes
        #: Reads kept by :func:`fetch_kept`: statement and values -> (the data's mark, rows).
        self.kept: dict[tuple[Any, ...], tuple[Any, list[dict[str, Any]]]] = {}

    def _open(self) -> sqlite3.Connection:
        if self.raw is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return self.raw

    def flushing(self, flushes: bool) -> None:
        """Before a transaction or a statement outside one: whether its commit waits for the
        log to reach the disk (the default) or not (:func:`lazy_commits`)."""
        self.flushes = flushes

    def _commits(self, sql: str) -> bool:
        """Whether ``sql`` commits: a COMMIT, or a write outside a transaction (autocommit)."""
        head = sql.lstrip()[:6].upper()
        return head == "COMMIT" or (head != "SELECT" and not self._open().in_transaction
                                    and not head.startswith(("BEGIN", "PRAGMA")))

    def _run(self, sql: str, call: Callable[[sqlite3.Connection], Any]) -> Any:
        """``call(connection)`` running ``sql``, minding what it writes and commits: a commit of
        writes is told to the log (:meth:`LogFlush.committed`)."""
        raw = self._open()
        commits = self._commits(sql)
        result = call(raw)
        head = sql.lstrip()[:8].upper()
        if head.startswith("BEGIN") or (head.startswith("ROLLBACK") and not raw.in_transaction):
            self.wrote = False
        elif not head.startswith(("SELECT", "PRAGMA", "COMMIT")):
            self.wrote = True
        if commits and self.wrote:
            self.wrote = False
            changes, self._changes = raw.total_changes - self._changes, raw.total_changes
            if self.log is not None:
                self.log.committed(changes, self.flushes)
        return result

    async def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = self._run(sql, lambda raw: raw.execute(sql, parameters))
        return cursor

    async def execute_fetchall(self, sql: str, parameters: Any = ()) -> list[Any]:
        rows: list[Any] = self._run(sql, lambda raw: raw.execute(sql, parameters).fetchall())
        return rows

    def unchanged_since(self) -> tuple[int, ...]:
        """What tells this connection's view of the database apart from any later one: SQLite's
        data version (moves with every commit by another connection or process), the rows this
        connection changed itself, and the schema's version. Equal marks mean the same data."""
        raw = self._open()
        version = next(iter(raw.execute("PRAGMA data_version").fetchone().values()))
        schema = next(iter(raw.execute("PRAGMA schema_version").fetchone().values()))
        return (version, raw.total_changes, schema)

    async def commit(self) -> None:
        if self._open().in_transaction:
            await self.execute("COMMIT")

    @property
    def in_transaction(self) -> bool:
        return self.raw is not None and self.raw.in_transaction

    def close(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            raw.close()


class ProcessTurn:
    """The database's write turn shared by the processes using it: two lock files beside the
    database used as a turnstile. A process waiting for the writer's lock holds the gate, so the
    holder's next writer queues behind it instead of taking the lock again at once; with each
    process sending one writer at a time (its own queue is :meth:`ContestSQLiteEngine.write_turn`)
    the turn alternates between processes. Locks are ``flock`` on descriptors opened in each
    process (a forked worker opens its own), released by the kernel if the process dies."""

    #: How often a waiting process looks again, at most (it starts at a tenth of a millisecond).
    poll_seconds = 0.002

    def __init__(self, database: str) -> None:
        self._paths = (f"{database}.gate", f"{database}.writer")
        self._pid = 0
        self._fds: tuple[int, int] = (-1, -1)

    def _descriptors(self) -> tuple[int, int]:
        if self._pid != os.getpid():
            self._fds = tuple(os.open(path, os.O_RDWR | os.O_CREAT, 0o660) for path in self._paths)  # type: ignore[assignment]
            self._pid = os.getpid()
        return self._fds

    async def acquire(self, deadline: float) -> None:
        gate, writer = self._descriptors()
        await self._lock(gate, deadline)
        try:
            await self._lock(writer, deadline)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)

    def release(self) -> None:
        fcntl.flock(self._descriptors()[1], fcntl.LOCK_UN)

    async def _lock(self, fd: int, deadline: float) -> None:
        delay = 0.0001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            if time.monotonic() > deadline:
                raise DatabaseBusy(f"waited {WRITE_WAIT_SECONDS:.0f} s for another process's write")
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.poll_seconds)


class ContestSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with pooled connections and writers queued in the process.

    Measured under ``bench/deadline`` (100 clients on one process), the stock engine had two
    costs:

    * **"database is locked".** SQLite has one writer at a time. Every waiting writer sat in
      SQLite's busy handler, which polls with growing sleeps and is not first come, first
      served, so some waited past any timeout. Here a write transaction (:func:`atomic`) or a
      write outside one first takes an asyncio lock of the running loop: in-process writers
      wait their turn in order. Between processes (several granian workers, the arq worker, the
      CLI) the turn passes through :class:`ProcessTurn`, so each process's next writer waits
      behind the other processes' waiting writers instead of racing them; SQLite's busy
      timeout is left for a process that takes no turn (the ``sqlite3`` shell, say).
    * **A thread per query.** Piccolo opens an aiosqlite connection (a new OS thread plus
      ``sqlite3.connect``) for every query outside a transaction and every transaction, and the
      event loop blocked in ``Thread.start`` for about a third of its time. Here connections are
      :class:`InlineConnection` (no thread at all), kept and reused, one caller at a time. A
      connection goes back to the pool only when it is outside any transaction and its last use
      raised nothing; otherwise it is closed.

    It also drops the ``PRAGMA foreign_keys = 1`` that Piccolo sends before every statement in a
    transaction: the connection has it from when it was opened, and the pragma is a no-op inside
    a transaction, so it only doubled each statement's trips through the loop while the write
    lock was held.
    """

    #: Idle connections kept for reuse; more than this are closed when released.
    max_idle = 16

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())
        self._idle: list[InlineConnection] = []
        database = str(self.connection_kwargs.get("database", ""))
        on_disk = bool(database) and database != ":memory:"
        self._turn = ProcessTurn(database) if on_disk else None
        #: The flushes of the database's log that commits wait for (none in memory).
        self.log = LogFlush(database) if on_disk else None

    def write_lock(self) -> asyncio.Lock:
        """The running loop's write lock (an asyncio lock belongs to one loop)."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """Hold the write lock, after waiting at most ``WRITE_WAIT_SECONDS`` for it (the wait
        is measured for ``/metrics``); raise :class:`DatabaseBusy` past that. Once it is given
        back, wait for the disk to hold the commits made meanwhile (:class:`LogFlush`)."""
        from contest.operations import QUEUE_WAIT

        lock = self.write_lock()
        started = time.perf_counter()
        deadline = time.monotonic() + WRITE_WAIT_SECONDS
        try:
            async with asyncio.timeout(WRITE_WAIT_SECONDS):
                await lock.acquire()
        except TimeoutError as exc:
            QUEUE_WAIT.observe(time.perf_counter() - started)
            raise DatabaseBusy(f"waited {WRITE_WAIT_SECONDS:.0f} s for the database's write lock") from exc
        try:
            if self._turn is not None:
                await self._turn.acquire(deadline)
        except BaseException:
            lock.release()
            QUEUE_WAIT.observe(time.perf_counter() - started)
            raise
        QUEUE_WAIT.observe(time.perf_counter() - started)
        holding = _IN_TURN.set(True)
        try:
            yield
        finally:
            _IN_TURN.reset(holding)
            if self._turn is not None:
                self._turn.release()
            lock.release()
            if self.log is not None:
                await self.log.settle()

    async def get_connection(self) -> InlineConnection:  # type: ignore[override]  # not an aiosqlite one
        while self._idle:
            connection = self._idle.pop()
            if connection.raw is not None:  # still open
                return connection
        # Used by one caller at a time, from whichever thread runs the loop (a test client runs
        # the app on a thread of its own).
        raw = sqlite3.connect(**{**self.connection_kwargs, "check_same_thread": False})
        raw.row_factory = dict_factory
        raw.execute("PRAGMA foreign_keys = 1")
        # A commit hands its pages to the operating system and never checkpoints: the flush of
        # the log it waits for (:class:`LogFlush`) and the checkpoints come after the writer's turn.
        raw.execute("PRAGMA synchronous = NORMAL")
        raw.execute("PRAGMA wal_autocheckpoint = 0")
        return InlineConnection(raw, self.log)

    async def release_connection(self, connection: InlineConnection, *, clean: bool) -> None:
        """Keep ``connection`` for reuse if it is idle and sound, else close it."""
        if clean and connection.raw is not None and not connection.in_transaction and len(self._idle) < self.max_idle:
            self._idle.append(connection)
            return
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - it is being discarded either way
            pass

    async def close_idle(self) -> None:
        """Close every kept connection (at shutdown)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await self.release_connection(connection, clean=False)
        if self.log is not None:
            self.log.close()

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> SQLiteTransaction:
        return _PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None,
                                     query_type: str = "generic", table: Any = None) -> Any:
        if _is_read(query):
            return await self._run_pooled(query, args, query_type, table)
        async with self.write_turn():
            return await self._run_pooled(query, args, query_type, table)

    async def _run_pooled(self, query: str, args: list[Any] | None, query_type: str, table: Any) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:  # pragma: no cover - no RETURNING
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self.get_connection()
        clean = False
        try:
            connection.flushing(not _LAZY.get())
            # Outside a transaction the connection commits each statement itself (autocommit).
            rows = await connection.execute_fetchall(query, args or [])
            clean = True
            return rows
        finally:
            await self.release_connection(connection, clean=clean)

    async def fetch_compiled(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        """The rows of ``query`` (``?`` placeholders), in the task's transaction when it has one."""
        transaction = self.current_transaction.get()
        if transaction is not None:
            rows: list[dict[str, Any]] = await self._run_in_existing_connection(transaction.connection, query, args)
        else:
            rows = await self._run_in_new_connection(query, args)
        return rows

    async def fetch_kept(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        """:func:`fetch_kept` on SQLite: each pooled connection keeps its reads with the mark of
        the data they were read from (:meth:`InlineConnection.unchanged_since`)."""
        if self.current_transaction.get() is not None:
            return await self.fetch_compiled(query, args)
        connection = await self.get_connection()
        clean = False
        try:
            mark = connection.unchanged_since()  # before the read: a later change moves it
            key = (query, *args)
            found = connection.kept.get(key)
            if found is not None and found[0] == mark:
                rows = found[1]
            else:
                rows = await connection.execute_fetchall(query, args)
                if len(connection.kept) >= KEPT_READS:
                    connection.kept.clear()
                connection.kept[key] = (mark, rows)
            clean = True
            return rows
        finally:
            await self.release_connection(connection, clean=clean)

    async def _run_in_existing_connection(self, connection: Any, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: Any = None) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:  # pragma: no cover - no RETURNING
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        transaction = self.current_transaction.get()
        if isinstance(transaction, _PooledTransaction) and not _is_read(query):
            await transaction.take_write_turn()
        return await connection.execute_fetchall(query, args or [])


class _PooledTransaction(SQLiteTransaction):
    """Piccolo's transaction, handing its connection back to the pool instead of closing it.

    Unlike the stock one it also resets the current-transaction context when COMMIT or
    ROLLBACK itself fails, so a failed commit cannot leave later queries of the task pointed
    at a dead connection.
    """

    engine: ContestSQLiteEngine
    #: The write turn taken by :meth:`take_write_turn`, given back when the transaction ends.
    _turn: Any = None

    async def take_write_turn(self) -> None:
        """Before the first write of a transaction that did not begin as a writer (a page's
        reads, say): wait for the write turn, held until the transaction ends, as
        :func:`atomic` does from the start. On the loop's thread a statement cannot wait for
        another connection's write without stopping that writer too."""
        if self.transaction_type != TransactionType.immediate and self._turn is None:
            turn = self.engine.write_turn()
            await turn.__aenter__()
            self._turn = turn

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.engine.get_connection()
        try:
            self.connection.flushing(not _LAZY.get())
            await self.begin()
        except BaseException:
            await self.engine.release_connection(self.connection, clean=False)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        clean = False
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
            clean = True
        finally:
            self.engine.current_transaction.reset(self.context)
            connection, self.connection = self.connection, None  # a stray later use fails loudly
            await self.engine.release_connection(connection, clean=clean)
            if self._turn is not None:
                turn, self._turn = self._turn, None
                await turn.__aexit__(None, None, None)
            elif self.engine.log is not None and not _IN_TURN.get():
                await self.engine.log.settle()  # a transaction begun without the write turn
        return exception is None


def _is_read(sql: str) -> bool:
    """A plain SELECT needs no write lock (WAL lets it read beside the writer)."""
    return sql.lstrip()[:6].upper() == "SELECT"
