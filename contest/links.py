"""Web addresses as officials type them: ``www.example.go.th`` or ``example.go.th/service`` is
taken as ``https://www.example.go.th``; ``http://`` and ``https://`` addresses are kept as
typed. Anything else (another scheme, no host name, spaces, a user name or password in the
address) is refused, and the caller says so in Thai and English."""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import urlsplit

MAX_LENGTH: Final = 500
_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _host_ok(host: str) -> bool:
    labels = host.split(".")
    return len(labels) >= 2 and all(
        label and len(label) <= 63 and not label.startswith("-") and not label.endswith("-")
        and all(c.isalnum() or c == "-" or unicodedata.category(c).startswith("M") for c in label)
        for label in labels)


def web_address(text: str) -> str | None:
    """``text`` as a full http(s) address (``https://`` put in front when no scheme was typed),
    or None when it is not a web address."""
    text = text.strip()
    if not text or len(text) > MAX_LENGTH or any(c.isspace() or ord(c) < 32 for c in text):
        return None
    if text.startswith("//"):
        text = "https:" + text
    elif not _SCHEME.match(text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc or not _host_ok(host.rstrip(".")):
        return None
    text = parts.scheme.lower() + text[len(parts.scheme):]
    return text if len(text) <= MAX_LENGTH else None
