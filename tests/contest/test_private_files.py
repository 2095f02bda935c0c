"""Files the system creates hold personal data and secrets: only their owner may read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from contest.mail import Mail, deliver
from contest.settings import get_settings
from tests.conftest import run

pytestmark = pytest.mark.integration


def test_created_files_and_folders_are_private(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The app was created (it sets the process's umask) whatever umask the shell had.
    run(deliver(Mail(to="staff@example.go.th", subject="s", text="t"), message_id="<private-test@localhost>"))
    mail_dir = get_settings().mail_dir
    written = sorted(mail_dir.glob("*.eml"))
    assert written
    assert stat.S_IMODE(written[-1].stat().st_mode) == 0o600
    folder = tmp_path / "made-here"
    folder.mkdir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert os.umask(0o077) == 0o077  # reading the umask sets it: put the same one back
