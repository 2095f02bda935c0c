"""The SQLite engine under concurrency: writers queue in the process, connections are reused,
and a failed statement or transaction never leaves a connection in a bad state for the next user."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from piccolo.querystring import QueryString

from contest.db import lazy_commits, write_transaction
from contest.sqlite_engine import _OWED, ContestSQLiteEngine, LogFlush
from tests.conftest import run

pytestmark = pytest.mark.integration


def _engine(tmp_path: Path, timeout: float = 30) -> ContestSQLiteEngine:
    db = ContestSQLiteEngine(path=str(tmp_path / "t.sqlite3"), timeout=timeout)

    async def setup() -> None:
        await db.run_ddl("PRAGMA journal_mode=WAL")
        await db.run_ddl("CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER UNIQUE)")

    run(setup())
    return db


def _q(sql: str, *args: object) -> QueryString:
    return QueryString(sql, *args)


def test_db_concurrent_writers_in_one_loop_queue_instead_of_failing(tmp_path: Path) -> None:
    # A busy timeout of 1 ms: without the in-process queue, 60 transactions that each yield
    # to the loop while holding SQLite's write lock fail with "database is locked".
    db = _engine(tmp_path, timeout=0.001)

    async def writer(n: int) -> None:
        async with write_transaction(db):
            rows = await db.run_querystring(_q("SELECT COUNT(*) AS c FROM item"))
            await asyncio.sleep(0.001)  # other writers get the loop meanwhile
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", n + 1000 * (rows[0]["c"] > 999)))

    async def go() -> list[dict[str, int]]:
        await asyncio.gather(*(writer(n) for n in range(60)))
        return await db.run_querystring(_q("SELECT COUNT(*) AS c FROM item"))

    assert run(go()) == [{"c": 60}]


def test_db_autocommit_writes_outside_transactions_also_queue(tmp_path: Path) -> None:
    db = _engine(tmp_path, timeout=0.001)

    async def hold_then_write() -> None:
        async with write_transaction(db):
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", -1))
            await asyncio.sleep(0.05)

    async def go() -> list[dict[str, int]]:
        await asyncio.gather(hold_then_write(), *(
            db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", n)) for n in range(30)))
        return await db.run_querystring(_q("SELECT COUNT(*) AS c FROM item"))

    assert run(go()) == [{"c": 31}]


def _log_flushes(monkeypatch: pytest.MonkeyPatch, path: Path, seen: Any = None) -> list[str]:
    """From now on, record each flush of ``path``'s log (``fdatasync`` of its -wal file) as it
    begins and ends; ``seen(…)`` is called on the flushing thread as it begins."""
    events: list[str] = []
    original = os.fdatasync
    log = f"{path}-wal"

    def flush(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}") != log:
            original(fd)
            return
        events.append("flush")
        if seen is not None:
            seen()
        original(fd)
        events.append("flushed")

    monkeypatch.setattr(os, "fdatasync", flush)
    return events


def test_db_a_commit_is_acknowledged_only_once_its_log_is_on_disk_and_the_turn_is_free_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit that waits for the disk: SQLite writes it to the log without flushing it, the
    write turn (the loop's and the processes') is given back, then the log file is flushed, and
    only then does the writer go on. While it flushes, the row is in the log (another connection
    reads it) and another writer may take the turn."""
    db = _engine(tmp_path)
    path = tmp_path / "t.sqlite3"
    during: list[tuple[Any, bool, bool]] = []

    def seen() -> None:
        rows = sqlite3.connect(path).execute("SELECT n FROM item ORDER BY n").fetchall()
        writer = os.open(f"{path}.writer", os.O_RDWR)
        try:
            fcntl.flock(writer, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while a process holds the turn
            fcntl.flock(writer, fcntl.LOCK_UN)
            turn_free = True
        except BlockingIOError:
            turn_free = False
        finally:
            os.close(writer)
        during.append((rows, turn_free, not lock[0].locked()))

    events = _log_flushes(monkeypatch, path, seen)
    lock: list[asyncio.Lock] = []

    async def go() -> None:
        lock.append(db.write_lock())
        async with write_transaction(db):
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 1))
        events.append("acknowledged 1")
        await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 2))  # a write on its own
        events.append("acknowledged 2")

    run(go())
    assert events == ["flush", "flushed", "acknowledged 1", "flush", "flushed", "acknowledged 2"]
    assert during == [([(1,)], True, True), ([(1,), (2,)], True, True)]


def test_db_committers_share_one_flush_of_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thirty writers commit while a flush is under way: they share flushes (the first one, and
    at most one more for those who committed after it began), and each writer goes on only
    once a flush that began with its row in the log has ended."""
    import time

    db = _engine(tmp_path)
    path = tmp_path / "t.sqlite3"
    in_log: list[set[int]] = []  # per flush begun: the rows its log held
    acknowledged: dict[int, int] = {}  # row -> flushes ended before its writer went on
    state: list[Any] = []

    def seen() -> None:
        deadline = time.monotonic() + 30
        while not in_log and state[0].written < 30 and time.monotonic() < deadline:
            time.sleep(0.001)  # the first flush lasts until every writer has committed
        in_log.append({n for (n,) in sqlite3.connect(path).execute("SELECT n FROM item")})

    events = _log_flushes(monkeypatch, path, seen)

    async def writer(n: int) -> None:
        async with write_transaction(db):
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", n))
        acknowledged[n] = events.count("flushed")

    async def go() -> None:
        assert db.log is not None
        state.append(db.log.flushes())
        await asyncio.gather(*(writer(n) for n in range(30)))

    run(go())
    assert events.count("flush") == events.count("flushed") == len(in_log) <= 2
    assert in_log[-1] == set(range(30))
    for n, flushes_before in acknowledged.items():
        assert any(n in rows for rows in in_log[:flushes_before]), n


def test_db_a_log_checkpointed_and_removed_meanwhile_holds_nothing_to_flush(tmp_path: Path) -> None:
    """The last connection to close checkpoints the log into the database (flushing both) and
    removes it: a commit whose flush comes after that owes nothing, and the flush finds no file."""
    db = _engine(tmp_path)
    log = tmp_path / "t.sqlite3-wal"

    async def go() -> int:
        await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 1))
        await db.close_idle()  # every connection closed: the log checkpointed and removed
        assert not log.exists() and db.log is not None
        state = db.log.flushes()
        state.written += 1  # a commit written before the log went
        _OWED.set(state.written)
        await db.log.settle()
        return state.flushed - state.written

    assert run(go()) == 0
    assert not log.exists()
    assert sqlite3.connect(tmp_path / "t.sqlite3").execute("SELECT n FROM item").fetchall() == [(1,)]


def test_db_lazy_commits_skip_the_flush_and_every_other_commit_waits_for_the_disk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every commit is written inline with synchronous NORMAL and without SQLite's own
    checkpoints; inside ``lazy_commits`` (a transaction, or a write outside one) nothing more,
    every other commit that wrote flushes the log before its writer goes on (also on a pooled
    connection a lazy write used before), and a reading transaction flushes nothing. After a
    number of changes the log is checkpointed, on a worker thread."""

    db = _engine(tmp_path)
    events = _log_flushes(monkeypatch, tmp_path / "t.sqlite3")
    monkeypatch.setattr(LogFlush, "CHECKPOINT_AFTER", 5)
    checkpoints: list[bool] = []
    original = LogFlush._checkpoint

    def checkpoint(self: LogFlush) -> None:
        checkpoints.append(threading.get_ident() == loop_thread[0])
        original(self)

    monkeypatch.setattr(LogFlush, "_checkpoint", checkpoint)
    loop_thread: list[int] = []

    async def in_transaction(n: int) -> tuple[int, int]:
        async with write_transaction(db):
            rows = await db.run_querystring(_q("PRAGMA synchronous"))
            checkpointing = await db.run_querystring(_q("PRAGMA wal_autocheckpoint"))
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", n))
            return int(rows[0]["synchronous"]), int(checkpointing[0]["wal_autocheckpoint"])

    async def go() -> list[tuple[int, int]]:
        loop_thread.append(threading.get_ident())
        levels = [await in_transaction(1)]
        events.append("-")
        with lazy_commits():
            levels.append(await in_transaction(2))
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 3))
        events.append("-")
        async with db.transaction():
            await db.run_querystring(_q("SELECT n FROM item"))
        events.append("-")
        levels.append(await in_transaction(4))
        return levels

    assert run(go()) == [(1, 0)] * 3  # NORMAL, no checkpoints of SQLite's own
    assert events == ["flush", "flushed", "-", "-", "-", "flush", "flushed"]
    # The table's creation, then two commits of a row each: five changes, a checkpoint off the
    # loop's thread; two commits of a row since.
    assert checkpoints == [False]
    assert db.log is not None and db.log.unchecked == 4


def test_db_connections_are_reused_not_one_thread_per_query(tmp_path: Path) -> None:
    db = _engine(tmp_path)
    started: list[int] = []
    original = threading.Thread.start

    def counting_start(self: threading.Thread) -> None:
        started.append(1)
        original(self)

    async def go() -> None:
        for n in range(50):
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", n))
            await db.run_querystring(_q("SELECT n FROM item WHERE n = {}", n))
            async with write_transaction(db):
                await db.run_querystring(_q("UPDATE item SET n = n WHERE n = {}", n))

    threading.Thread.start = counting_start  # type: ignore[method-assign]
    try:
        run(go())
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]
    # 150 queries and transactions: statements and commits run on the loop's thread, and a flush
    # of the log borrows a thread of the loop's default pool (at most its size), never one per query.
    assert len(started) <= min(32, (os.cpu_count() or 1) + 4)
    run(db.close_idle())
    assert db._idle == []


def test_db_failed_statement_and_rolled_back_transaction_leave_nothing_behind(tmp_path: Path) -> None:
    db = _engine(tmp_path)

    async def go() -> list[dict[str, int]]:
        await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 1))
        with pytest.raises(sqlite3.IntegrityError):
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 1))
        with pytest.raises(RuntimeError):
            async with write_transaction(db):
                await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 2))
                raise RuntimeError("changed my mind")
        assert db.current_transaction.get() is None
        assert all(not c.in_transaction for c in db._idle)
        # The next users see exactly the committed row and can write again.
        await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 3))
        return await db.run_querystring(_q("SELECT n FROM item ORDER BY n"))

    assert run(go()) == [{"n": 1}, {"n": 3}]


def test_db_nested_write_transactions_join_the_outer_one(tmp_path: Path) -> None:
    db = _engine(tmp_path)

    async def go() -> list[dict[str, int]]:
        with pytest.raises(RuntimeError):
            async with write_transaction(db):
                await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 1))
                async with write_transaction(db):  # must not wait for the lock it holds
                    await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 2))
                raise RuntimeError("roll back both")
        return await db.run_querystring(_q("SELECT COUNT(*) AS c FROM item"))

    assert run(asyncio.wait_for(go(), 10)) == [{"c": 0}]


def test_db_a_reading_transaction_that_writes_waits_for_the_writer_instead_of_failing(tmp_path: Path) -> None:
    # Statements run on the loop's thread: a write inside a page's read transaction must wait for
    # the turn (asynchronously) while another task holds it, never for SQLite's lock in the loop.
    db = _engine(tmp_path, timeout=0.001)

    async def writer() -> None:
        async with write_transaction(db):
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 1))
            await asyncio.sleep(0.01)  # the reader runs meanwhile
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 2))

    async def reader_that_writes() -> None:
        await asyncio.sleep(0.001)
        async with db.transaction():
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", 3))

    async def go() -> list[dict[str, int]]:
        await asyncio.gather(writer(), reader_that_writes())
        return await db.run_querystring(_q("SELECT n FROM item ORDER BY n"))

    assert run(go()) == [{"n": 1}, {"n": 2}, {"n": 3}]


def _write_many(path: str, worker: int, count: int) -> None:
    """In a process of its own: ``count`` write transactions, each holding the write lock while
    it yields to the loop, with a busy timeout of 1 ms, five writers at a time. Exits with 3
    unless each of its commits was flushed to disk."""
    db = ContestSQLiteEngine(path=path, timeout=0.001)

    async def one(n: int) -> None:
        async with write_transaction(db):
            await db.run_querystring(_q("INSERT INTO item (n) VALUES ({})", worker * 10_000 + n))
            await asyncio.sleep(0)

    async def go() -> bool:
        for start in range(0, count, 5):
            await asyncio.gather(*(one(n) for n in range(start, start + 5)))
        assert db.log is not None
        state = db.log.flushes()
        return state.flushed == state.written == count and state.done <= count

    if not asyncio.run(go()):
        raise SystemExit(3)


def test_db_writers_in_several_processes_take_turns_instead_of_failing(tmp_path: Path) -> None:
    # Several web workers (and the job worker) share one SQLite file: their writers pass the turn
    # through the lock files, so none meets "database is locked" even with a 1 ms busy timeout.
    import multiprocessing

    _engine(tmp_path)
    path = str(tmp_path / "t.sqlite3")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(path, w, 150)) for w in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    rows = sqlite3.connect(path).execute("SELECT COUNT(*) FROM item").fetchone()
    assert rows == (450,)


def test_db_a_cancelled_request_waits_for_its_commit_before_the_connection_is_touched(tmp_path: Path) -> None:
    # A commit runs on a worker thread. If the request is cancelled meanwhile (the client went
    # away), the connection must not be rolled back, closed or reused until the thread is done
    # with it: the task waits, then is cancelled.
    import time

    from contest.sqlite_engine import _on_thread

    finished: list[str] = []

    def slow_commit() -> None:
        time.sleep(0.2)
        finished.append("commit")

    async def go() -> list[str]:
        task = asyncio.ensure_future(_on_thread(slow_commit))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        finished.append("cancelled")
        return finished

    assert run(go()) == ["commit", "cancelled"]


def test_db_a_writer_cancelled_as_the_write_turn_reaches_it_still_ends(tmp_path: Path) -> None:
    # A request (or a background task at shutdown) cancelled at the moment the write lock is
    # handed to it must still end, and give the lock back: a lost cancellation left the app's
    # shutdown waiting for ever.
    db = _engine(tmp_path)

    async def go(yields: int) -> list[str]:
        reached: list[str] = []

        async def second() -> None:
            async with db.write_turn():
                reached.append("inside")
                await asyncio.sleep(5)
                reached.append("finished")

        async with db.write_turn():
            task = asyncio.create_task(second())
            await asyncio.sleep(0.01)
        for _ in range(yields):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not db.write_lock().locked()
        return reached

    for yields in range(6):  # wherever the cancellation falls in the hand-over
        assert "finished" not in run(go(yields))


def test_db_a_pooled_postgres_connection_is_handed_back_without_a_reset_trip_but_its_transaction_ends() -> None:
    """On PostgreSQL a connection given back to the pool costs no statement (the app keeps no
    session state), yet one given back inside a transaction still has it rolled back: the next
    user gets it outside any transaction, without what that transaction made."""
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        pytest.skip("PostgreSQL's connection pool")
    import asyncpg

    from contest.db import _keep_session

    async def go() -> None:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1, reset=_keep_session)
        try:
            async with pool.acquire() as connection:
                backend = await connection.fetchval("SELECT pg_backend_pid()")
                await connection.execute("BEGIN")
                await connection.execute("CREATE TEMP TABLE left_behind (n int)")
            async with pool.acquire() as connection:
                assert await connection.fetchval("SELECT pg_backend_pid()") == backend  # the same connection
                assert not connection.is_in_transaction()
                assert await connection.fetchval("SELECT to_regclass('pg_temp.left_behind')") is None
        finally:
            await pool.close()

    run(go())


def test_db_one_commit_is_one_transaction_on_sqlite_and_none_on_postgres(db: str) -> None:
    """Writes in ``one_commit`` commit together on SQLite (a failure undoes them all) and each by
    itself on PostgreSQL (no BEGIN and COMMIT round trips: what was written before stays)."""
    from contest.db import fetch, is_sqlite, one_commit

    async def go() -> None:
        async with one_commit():
            await fetch("INSERT INTO rate_counter (key, hits, not_before, expires) VALUES ({}, 1, 0, 0)", "a")
            raise RuntimeError("after the first write")

    with pytest.raises(RuntimeError):
        run(go())
    kept = run(fetch("SELECT key FROM rate_counter WHERE key = {}", "a"))
    assert kept == ([] if is_sqlite() else [{"key": "a"}])


def test_db_one_read_is_one_transaction_on_sqlite_and_none_on_postgres(db: str) -> None:
    """A page's reads share a transaction (one pooled connection, one snapshot) on SQLite; on
    PostgreSQL they run as statements of their own, without BEGIN and COMMIT round trips."""
    from contest.db import engine, fetch, is_sqlite, one_read

    async def go() -> tuple[bool, list[dict[str, Any]]]:
        async with one_read():
            inside = engine().current_transaction.get() is not None
            return inside, await fetch("SELECT count(*) AS n FROM rate_counter")

    inside, rows = run(go())
    assert inside == is_sqlite()
    assert rows == [{"n": 0}]


def test_db_pool_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``DB_POOL_SIZE`` bounds each process's connections to PostgreSQL; a value that is not a
    whole number of at least 1 stops the process at start-up with the setting's name."""
    from contest.db import close_pool, engine, is_sqlite, start_pool
    from contest.settings import get_settings

    def settings_with(value: str | None) -> Any:
        if value is None:
            monkeypatch.delenv("DB_POOL_SIZE", raising=False)
        else:
            monkeypatch.setenv("DB_POOL_SIZE", value)
        get_settings.cache_clear()
        return get_settings()

    on_sqlite = is_sqlite()  # finds the engine while the settings are still the test run's
    try:
        assert settings_with(None).db_pool_size == 10
        assert settings_with(" 3 ").db_pool_size == 3
        for bad in ("0", "-2", "ten", "๓", "2.5"):
            with pytest.raises(ValueError, match="DB_POOL_SIZE"):
                settings_with(bad)
        if not on_sqlite:
            monkeypatch.setenv("DB_POOL", "1")
            settings_with("3")

            async def sizes() -> tuple[int, int]:
                await start_pool()
                try:
                    pool = engine().pool
                    return pool.get_min_size(), pool.get_max_size()
                finally:
                    await close_pool()

            assert run(sizes()) == (2, 3)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_db_postgres_on_the_same_machine_is_reached_through_its_socket() -> None:
    """A ``DATABASE_URL`` naming the server's socket directory (``?host=/path``) connects the app's
    pool and the backup's ``pg_dump`` without TCP: what a single-machine deployment uses."""
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        pytest.skip("PostgreSQL's socket")
    import subprocess
    from urllib.parse import urlparse

    import asyncpg

    from contest.backup import pg_tool
    from contest.db import make_engine

    async def socket_url() -> str | None:
        connection = await asyncpg.connect(url)
        try:
            folders = (await connection.fetchval("SHOW unix_socket_directories")).split(",")
            port = await connection.fetchval("SHOW port")
        finally:
            await connection.close()
        here = [f.strip() for f in folders if f.strip() and Path(f.strip(), f".s.PGSQL.{port}").exists()]
        if not here:
            return None
        parts = urlparse(url)
        return f"postgres://{parts.username}@/{parts.path.lstrip('/')}?host={here[0]}&port={port}"

    through_socket = run(socket_url())
    if through_socket is None:
        pytest.skip("the PostgreSQL server under test is on another machine")

    async def over(dsn: str) -> Any:
        engine = make_engine(dsn)
        await engine.start_connection_pool(min_size=1, max_size=1)
        try:
            return await engine.pool.fetchval("SELECT inet_server_addr() IS NULL")  # NULL: a socket
        finally:
            await engine.close_connection_pool()

    assert run(over(through_socket)) is True
    dumped = subprocess.run([pg_tool("pg_dump"), "--schema-only", through_socket],
                            capture_output=True, text=True, timeout=120)
    assert dumped.returncode == 0, dumped.stderr
    assert "PostgreSQL database dump complete" in dumped.stdout
