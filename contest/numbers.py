"""Whole numbers as clients send them: a JSON number, or its ASCII digits as text (a form field).
Never 3.7 read as 3, True as 1, "²" or "①" (``str.isdigit`` says yes to those, ``int`` refuses),
and never a number a database integer cannot hold: ids, years and versions are PostgreSQL
``integer`` columns (32 bits)."""

from __future__ import annotations

from typing import Any, Final

_LIMIT: Final = 2**31
MAX_DB_INTEGER: Final = _LIMIT - 1


def whole_number(value: Any) -> int | None:
    """``value`` as an int, or None when it is not a whole number within a database integer."""
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None
    if isinstance(value, int) and not isinstance(value, bool) and -_LIMIT < value < _LIMIT:
        return value
    return None
