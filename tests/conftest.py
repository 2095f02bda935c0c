"""Test set-up: the environment is fixed *before* the app is imported.

One database per test run (a SQLite file in a temp dir, or the PostgreSQL database named by
DATABASE_URL), migrated once; each test that uses the database starts from empty tables
(truncation), because Litestar's test client runs the app on another event loop, so an open
transaction cannot isolate tests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="contest-tests-"))
os.environ["VAR_DIR"] = str(_TMP)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP / 'test.sqlite3'}")
os.environ["MAIL_DIR"] = str(_TMP / "mail")
os.environ["STORAGE_URL"] = str(_TMP / "uploads")
os.environ["SECRET_KEY"] = "test-secret-key-not-for-production"
os.environ["BASE_URL"] = "http://testserver.local"
os.environ["API_TOKEN_HOURS"] = "2000"  # tests move the clock past deadlines weeks ahead
os.environ["DB_POOL"] = "0"  # the test client runs the app on its own loop: no shared pool
os.environ.pop("REDIS_URL", None)  # app tests run jobs in-process; Redis tests opt in
REDIS_URL_TEST = os.environ.get("REDIS_URL_TEST")
OIDC_ISSUER_TEST = os.environ.get("OIDC_ISSUER_TEST")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"

from contest.settings import get_settings  # noqa: E402

get_settings.cache_clear()


def run(coro: Any) -> Any:
    """Run a coroutine or Piccolo query from a synchronous test (domain calls, factories)."""
    async def wrapper() -> Any:
        return await coro
    return asyncio.run(wrapper())


def _all_tables() -> list[Any]:
    from piccolo.conf.apps import Finder

    return Finder().get_table_classes()


async def truncate_tables() -> None:
    from contest.db import engine, is_sqlite

    tables = [t._meta.tablename for t in _all_tables()]
    db = engine()
    if is_sqlite():
        async with db.transaction():
            await db.run_ddl("PRAGMA defer_foreign_keys = ON")
            for name in tables:
                await db.run_ddl(f'DELETE FROM "{name}"')
    else:
        await db.run_ddl("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE")


@pytest.fixture(scope="session")
def migrated_db() -> Iterator[str]:
    from contest.cli import migrate_all
    from contest.db import engine, is_sqlite

    if not is_sqlite():
        async def reset() -> None:
            await engine().run_ddl("DROP SCHEMA public CASCADE")
            await engine().run_ddl("CREATE SCHEMA public")
        run(reset())
    run(migrate_all())
    yield get_settings().database_url
    shutil.rmtree(_TMP, ignore_errors=True)


def empty_database() -> None:
    """Empty tables, no mail, no uploads, fresh rate limits, the real clock (needs ``migrated_db``)."""
    from contest import clock, ratelimit

    run(truncate_tables())
    for directory in (get_settings().mail_dir, get_settings().var_dir / "uploads"):
        if directory.exists():
            shutil.rmtree(directory)
    ratelimit.use_database()
    clock.freeze(None)


@pytest.fixture()
def db(migrated_db: str) -> Iterator[str]:
    """Empty tables for this test."""
    from contest import clock

    empty_database()
    yield migrated_db
    clock.freeze(None)


@pytest.fixture()
def app(db: str) -> Any:
    from contest.app import create_app

    return create_app()


@pytest.fixture()
def client(app: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    with TestClient(app=app, base_url="http://testserver.local") as c:
        loop = c.blocking_portal.call(asyncio.get_running_loop)
        yield c
        watchdog = threading.Timer(SHUTDOWN_REPORT_SECONDS, _report_stuck_shutdown, (loop,))
        watchdog.daemon = True
        watchdog.start()
    watchdog.cancel()


#: A test client's shutdown (the app's lifespan end, then its loop cancelling what is left)
#: takes well under a second; past this, what it waits on is printed.
SHUTDOWN_REPORT_SECONDS = 120.0


def _report_stuck_shutdown(loop: asyncio.AbstractEventLoop) -> None:
    """Write every thread's stack and every task left on the test client's loop to a file in
    the temporary directory (pytest holds the test's output until the test ends, which it would
    not). Read from another thread: a best effort, for a shutdown that is not going to end."""
    import faulthandler

    path = Path(tempfile.gettempdir()) / f"contest-stuck-shutdown-{os.getpid()}.txt"
    with path.open("w") as out:
        print(f"test client shutdown still waiting after {SHUTDOWN_REPORT_SECONDS:.0f} s", file=out)
        for task in list(asyncio.all_tasks(loop)):
            print(f"--- task {task!r}", file=out)
            task.print_stack(file=out)
        out.flush()
        faulthandler.dump_traceback(file=out, all_threads=True)


@pytest.fixture()
def oidc_issuer() -> str:
    """The test OpenID provider (scripts/oidc-provider, started by scripts/services.sh)."""
    if not OIDC_ISSUER_TEST:
        if REQUIRE_SERVICES:
            pytest.fail("OIDC_ISSUER_TEST is not set but services are required (run via make test)")
        pytest.skip("no OpenID provider: run the suite with `make test`")
    return OIDC_ISSUER_TEST


@pytest.fixture()
def redis_url() -> str:
    if not REDIS_URL_TEST:
        if REQUIRE_SERVICES:
            pytest.fail("REDIS_URL_TEST is not set but services are required (run via make test)")
        pytest.skip("no Redis: run the suite with `make test`")
    return REDIS_URL_TEST
