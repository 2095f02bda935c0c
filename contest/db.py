"""Database engine selection and the transaction helper every domain function uses."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from contest.settings import get_settings


def make_engine(url: str) -> Engine:
    """SQLite for ``sqlite:///path`` (the default), PostgreSQL for ``postgres://`` URLs."""
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        return PostgresEngine(config={"dsn": url}, log_queries=False)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        # A generous busy timeout: writers queue rather than fail with "database is locked".
        return SQLiteEngine(path=path, timeout=30)
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")


def engine() -> Engine:
    found = engine_finder()
    if found is None:  # pragma: no cover - piccolo_conf always defines DB
        raise RuntimeError("piccolo_conf.DB not found")
    return found


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """One write transaction. IMMEDIATE on SQLite so writers queue instead of deadlocking."""
    db = engine()
    if isinstance(db, SQLiteEngine):
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


async def start_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and get_settings().db_pool:
        await db.start_connection_pool(min_size=2, max_size=20)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and get_settings().db_pool:
        await db.close_connection_pool()


async def lock_row(table_name: str, row_id: int) -> None:
    """Serialise writers on one row for the rest of the transaction. SQLite's IMMEDIATE
    transaction already holds the database write lock, so this is PostgreSQL only."""
    db = engine()
    if isinstance(db, PostgresEngine):
        from piccolo.querystring import QueryString

        await db.run_querystring(QueryString(f'SELECT id FROM "{table_name}" WHERE id = {{}} FOR UPDATE', row_id))
