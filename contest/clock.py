"""Server time. Deadlines are decided here, in Asia/Bangkok, never by the client."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware (UTC). Tests may freeze it with ``freeze``."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc)


def freeze(at: datetime | None) -> None:
    """Freeze (or with None, release) the clock: for tests and demo scenarios only."""
    global _frozen
    _frozen = at


def to_bangkok(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(BANGKOK)


def utc_iso(value: datetime) -> str:
    """Canonical text form used wherever a time is hashed."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
