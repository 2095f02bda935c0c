"""An SMTP server that keeps nothing but each message's Message-ID, one a line, in a file::

    python -m bench.topology.smtp_sink PORT FILE

The topology run counts the mail the worker delivered with it (a re-delivered message carries the
same Message-ID, so distinct ids are distinct mails)."""

from __future__ import annotations

import signal
import sys
import threading
from email import message_from_bytes
from pathlib import Path
from typing import Any


class Keep:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message_id = message_from_bytes(envelope.content).get("Message-ID", "?")
        with self.lock, self.path.open("a") as fh:
            fh.write(f"{message_id}\n")
        return "250 OK"


def main(argv: list[str]) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(Keep(Path(argv[1])), hostname="127.0.0.1", port=int(argv[0]))
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
