"""Database engine selection and the transaction helper every domain function uses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

from piccolo.columns.combination import WhereRaw
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from contest.settings import get_settings

# The SQLite engine has a module of its own; the domain takes what it uses of it from here.
from contest.sqlite_engine import (  # noqa: F401 (DatabaseBusy, committing_lazily, lazy_commits)
    KEPT_READS,
    WRITE_WAIT_SECONDS,
    ContestSQLiteEngine,
    DatabaseBusy,
    committing_lazily,
    lazy_commits,
)


def stored_json(value: Any, default: Any) -> Any:
    """A JSON column as read from the database: text on SQLite (``default`` when it is not
    JSON), already decoded on PostgreSQL, ``default`` for NULL."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return value if value is not None else default


async def existing(query: Any) -> dict[str, Any]:
    """The first row of a select for a row that must exist (one locked a moment ago, a foreign
    key's target): its absence is a broken invariant, never a user's mistake."""
    row = await query.first()
    if row is None:
        raise LookupError("a row that must exist is missing")
    found: dict[str, Any] = row
    return found


def contains(column: str, text: str) -> WhereRaw:
    """``column`` (a fixed ``"table"."column"`` name, never user input) contains ``text``, case
    folded, with LIKE's ``%`` and ``_`` in ``text`` taken as themselves: a search for ``%``
    finds names with a per cent sign, not every name. Same SQL on SQLite and PostgreSQL."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return WhereRaw(f"lower({column}) LIKE {{}} ESCAPE '\\'", f"%{escaped}%")


def make_engine(url: str) -> Engine:
    """SQLite for ``sqlite:///path`` (the default), PostgreSQL for ``postgres://`` URLs."""
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        return PostgresEngine(config={"dsn": url}, log_queries=False)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        # Another process's write lock is waited for this long (SQLite's busy timeout), then
        # the request answers 503 ("database is locked") instead of hanging.
        return ContestSQLiteEngine(path=path, timeout=WRITE_WAIT_SECONDS)
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")


_ENGINE: list[Engine] = []


def engine() -> Engine:
    """The engine ``piccolo_conf`` names, found once per process as Piccolo's tables keep theirs:
    finding it imports the configuration module by name, and every statement asks for it."""
    if not _ENGINE:
        found = engine_finder()
        if found is None:  # pragma: no cover - piccolo_conf always defines DB
            raise RuntimeError("piccolo_conf.DB not found")
        _ENGINE.append(found)
    return _ENGINE[0]


# SQL written with ``{}`` placeholders (as for Piccolo's ``raw``), as each engine takes it.
_COMPILED: dict[tuple[str, bool], str] = {}


def _compiled(sql: str, postgres: bool) -> str:
    found = _COMPILED.get((sql, postgres))
    if found is None:
        if postgres:
            parts = sql.split("{}")
            found = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
        else:
            found = sql.replace("{}", "?")
        _COMPILED[(sql, postgres)] = found
    return found


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """The rows of a read written in SQL with ``{}`` placeholders, in the task's transaction
    when it has one. For the statements every request runs (a session, a score sheet): the same
    as Piccolo's ``raw``, without building a query object each time. ``sql`` is fixed text;
    values only ever travel as ``args``."""
    db = engine()
    if isinstance(db, PostgresEngine):
        query = _compiled(sql, True)
        transaction = db.current_transaction.get()
        if transaction is not None:
            records = await transaction.connection.fetch(query, *args)
        else:
            async with _pg_connection(db) as connection:
                records = await connection.fetch(query, *args)
        return [dict(r) for r in records]
    assert isinstance(db, ContestSQLiteEngine), "fetch runs on the app's engines"
    return await db.fetch_compiled(_compiled(sql, False), list(args))


@asynccontextmanager
async def _pg_connection(db: PostgresEngine) -> AsyncIterator[Any]:
    """A connection from the pool, or a new one closed after use when there is no pool."""
    if db.pool is not None:
        async with db.pool.acquire() as connection:
            yield connection
        return
    connection = await db.get_new_connection()
    try:
        yield connection
    finally:
        await connection.close()


_KEPT: dict[tuple[Any, ...], tuple[str, list[dict[str, Any]]]] = {}


async def fetch_kept(sql: str, *args: Any) -> list[dict[str, Any]]:
    """:func:`fetch` for a read many requests repeat while nothing changes (the counts above a
    list of thousands of rows): its rows are kept with a mark of the database's state, read
    before the statement, and given again only while that mark is the same, so a change committed
    anywhere (another request, another process) is read at once. SQLite's mark is the
    connection's data version and own changes; PostgreSQL's is the transaction snapshot (the same
    snapshot sees the same committed data). Inside a transaction the read is never kept. The rows
    are shared: read them, do not change them."""
    db = engine()
    if isinstance(db, PostgresEngine):
        if db.current_transaction.get() is not None:
            return await fetch(sql, *args)
        query = _compiled(sql, True)
        key = (query, *args)
        async with _pg_connection(db) as connection:
            mark = str(await connection.fetchval("SELECT txid_current_snapshot()::text"))
            found = _KEPT.get(key)
            if found is not None and found[0] == mark:
                return found[1]
            rows = [dict(r) for r in await connection.fetch(query, *args)]
        if len(_KEPT) >= KEPT_READS:
            _KEPT.clear()
        _KEPT[key] = (mark, rows)
        return rows
    assert isinstance(db, ContestSQLiteEngine), "fetch_kept runs on the app's engines"
    return await db.fetch_kept(_compiled(sql, False), list(args))


async def snapshot_mark() -> str | None:
    """On PostgreSQL, outside a transaction: the mark of the committed data a statement begun now
    sees (its snapshot: any commit anywhere changes it), for a page that keeps what it read while
    the database is unchanged. Read it before the reads it marks, so that they are at least as new
    as the mark. ``None`` on SQLite (its marks belong to a connection: :func:`fetch_kept`) and
    inside a transaction: nothing is kept then."""
    db = engine()
    if not isinstance(db, PostgresEngine) or db.current_transaction.get() is not None:
        return None
    async with _pg_connection(db) as connection:
        return str(await connection.fetchval("SELECT txid_current_snapshot()::text"))


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """One write transaction. IMMEDIATE on SQLite so writers queue instead of deadlocking."""
    async with write_transaction(engine()):
        yield


@asynccontextmanager
async def one_read() -> AsyncIterator[None]:
    """A page's reads, taken together where that is cheaper: on SQLite one transaction (one
    pooled connection and one snapshot, where each statement on its own would take a connection
    of its own); on PostgreSQL none. Under PostgreSQL's READ COMMITTED every statement sees the
    data committed when it began, inside a transaction as outside, so a transaction would add its
    BEGIN and COMMIT, two round trips of a page's dozen, and read nothing more consistently.
    Reads only: a write inside would not get :func:`atomic`'s IMMEDIATE transaction on SQLite."""
    db = engine()
    if isinstance(db, PostgresEngine):
        yield
        return
    async with db.transaction():
        yield


@asynccontextmanager
async def one_commit() -> AsyncIterator[None]:
    """Writes that may as well commit apart, committed together where that is cheaper: on SQLite
    one transaction (:func:`atomic`: one turn of the writer and one commit, where each write on
    its own takes both again); on PostgreSQL none, each statement commits by itself (a
    transaction would add its BEGIN and COMMIT, two round trips, and commit no less)."""
    if isinstance(engine(), PostgresEngine):
        yield
        return
    async with atomic():
        yield


@asynccontextmanager
async def write_transaction(db: Engine) -> AsyncIterator[None]:
    """:func:`atomic` on a given engine. On SQLite the transaction is IMMEDIATE and, on our
    engine, taken under the loop's write lock (nested calls join the outer transaction)."""
    if isinstance(db, ContestSQLiteEngine) and db.current_transaction.get() is None:
        async with db.write_turn(), db.transaction(transaction_type=TransactionType.immediate):
            yield
    elif isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


async def prepare_database() -> None:
    """Per-database settings that persist: WAL lets readers run while one writer writes."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode=WAL")


async def _keep_session(connection: Any) -> None:
    """A pooled connection handed back: nothing to undo. asyncpg's own reset is a round trip per
    release (RESET ALL, pg_advisory_unlock_all, CLOSE ALL, UNLISTEN) that undoes session state
    the app never makes: settings are only ever transaction-local, the audit chain's lock is a
    transaction lock, and there are no cursors outside a transaction and no LISTEN. An open
    transaction is still rolled back by asyncpg before this is called. Each statement outside a
    transaction takes and gives back a connection, so that trip was a third of a request's."""


async def start_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and get_settings().db_pool:
        size = get_settings().db_pool_size
        await db.start_connection_pool(min_size=min(2, size), max_size=size, reset=_keep_session)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, ContestSQLiteEngine):
        await db.close_idle()
    if isinstance(db, PostgresEngine) and get_settings().db_pool:
        await db.close_connection_pool()


async def lock_row(table_name: str, row_id: int) -> None:
    """Serialise writers on one row for the rest of the transaction. SQLite's IMMEDIATE
    transaction already holds the database write lock, so this is PostgreSQL only."""
    if isinstance(engine(), PostgresEngine):
        await fetch(f'SELECT id FROM "{table_name}" WHERE id = {{}} FOR UPDATE', row_id)
