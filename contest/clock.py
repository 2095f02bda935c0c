"""Server time. Deadlines are decided here, in Asia/Bangkok, never by the client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware (UTC). Tests may freeze it with ``freeze``."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze (or with None, release) the clock: for tests and demo scenarios only."""
    global _frozen
    _frozen = at


def to_bangkok(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BANGKOK)


def utc_iso(value: datetime) -> str:
    """Canonical text form used wherever a time is hashed."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 date and time as people and clients send it (``Z`` or an offset; without one it
    is Bangkok time). None when it is not one, or when its year lies outside 2000-2199: such a
    time is a typing mistake here, and the far ends (year 1, 9999 at -12:00) overflow when
    converted to UTC or stored."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if not 2000 <= parsed.year <= 2199:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BANGKOK)
