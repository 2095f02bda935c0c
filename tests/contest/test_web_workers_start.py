"""The web workers of one `contest serve` begin to listen together: each waits at the end of its
start-up until all have started (granian gives each worker a listening socket of its own, and a
worker still starting would get no connection)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import granian
import pytest
from click.testing import CliRunner

from contest import operations
from contest.cli import main

pytestmark = pytest.mark.unit


def test_a_worker_waits_until_every_worker_has_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(operations.WORKERS_START_ENV, f"2:{tmp_path}")

    async def go() -> None:
        waiting = asyncio.create_task(operations.wait_for_sibling_workers(limit=10))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        assert [p.name for p in tmp_path.iterdir()] == [str(os.getpid())]
        (tmp_path / "999999").touch()  # the other worker has started
        await asyncio.wait_for(waiting, 1)

    asyncio.run(go())


def test_a_worker_started_later_goes_on_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """granian replacing a worker: the others' marks are there already."""
    for pid in ("999997", "999998"):
        (tmp_path / pid).touch()
    monkeypatch.setenv(operations.WORKERS_START_ENV, f"2:{tmp_path}")
    asyncio.run(asyncio.wait_for(operations.wait_for_sibling_workers(limit=10), 0.5))


def test_a_worker_goes_on_alone_after_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(operations.WORKERS_START_ENV, f"3:{tmp_path}")
    with caplog.at_level(logging.WARNING, logger="contest.serve"):
        asyncio.run(asyncio.wait_for(operations.wait_for_sibling_workers(limit=0.1), 2))
    assert "1 of 3 started" in caplog.text


def test_without_contest_serve_nothing_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(operations.WORKERS_START_ENV, raising=False)
    asyncio.run(asyncio.wait_for(operations.wait_for_sibling_workers(limit=10), 0.5))


@pytest.mark.parametrize(("workers", "together"), [(3, True), (1, False)])
def test_serve_names_the_start_folder_and_count_to_its_workers(workers: int, together: bool,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, target: str, **options: Any) -> None:
            seen["workers"] = options["workers"]

        def serve(self) -> None:  # the workers inherit the environment as it is now
            seen["spec"] = os.environ.get(operations.WORKERS_START_ENV)
            if seen["spec"]:
                seen["folder_there"] = Path(seen["spec"].split(":", 1)[1]).is_dir()

    monkeypatch.setattr(granian, "Granian", Recorder)
    monkeypatch.delenv(operations.WORKERS_START_ENV, raising=False)
    result = CliRunner().invoke(main, ["serve", "--workers", str(workers)])
    assert result.exit_code == 0, result.output
    assert seen["workers"] == workers
    if together:
        count, folder = seen["spec"].split(":", 1)
        assert count == str(workers) and seen["folder_there"]
        assert not Path(folder).exists()  # removed when serve ends
    else:
        assert seen["spec"] is None
    assert operations.WORKERS_START_ENV not in os.environ
