"""Thai first: every message the code or a template can show has a Thai translation.

The ids are extracted exactly as ``make messages`` does (babel.cfg and the Makefile's keywords).
Field names given as dict keys next to a message (``errors={"entry_ids": t(...)}``) are
extracted too; they are identifiers, not text, and are left out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from contest.i18n import catalogue

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = ("t N_ both NotFound Conflict PermissionDenied NotAuthenticated ValidationFailed RateLimited "
            "DomainError _message").split()
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_.]*$")


def test_catalogue_every_message_in_code_and_templates_has_thai() -> None:
    keywords = {**DEFAULT_KEYWORDS, **dict.fromkeys(KEYWORDS)}
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    thai = catalogue("th")
    missing = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        for text in message if isinstance(message, tuple) else (message,):
            if text and not IDENTIFIER.match(text) and text not in thai:
                missing.append(f"{filename}:{lineno}: {text!r}")
    assert missing == [], "\n".join(missing)
