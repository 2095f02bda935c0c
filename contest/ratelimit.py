"""Fixed-window counters for log-in attempts, in Redis when configured (shared by every app
process), else in this process's memory."""

from __future__ import annotations

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from contest.errors import RateLimited

_store: Store = MemoryStore()

LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_MAX_PER_EMAIL = 10
LOGIN_MAX_PER_IP = 50


def use_store(store: Store) -> None:
    global _store
    _store = store


async def _count(key: str) -> int:
    value = await _store.get(key)
    return int(value) if value else 0


async def check_login_allowed(email: str, ip: str) -> None:
    if (await _count(f"login:e:{email}") >= LOGIN_MAX_PER_EMAIL
            or await _count(f"login:i:{ip}") >= LOGIN_MAX_PER_IP):
        raise RateLimited("Too many failed log-in attempts. Wait 15 minutes and try again.")


async def record_login_failure(email: str, ip: str) -> None:
    for key in (f"login:e:{email}", f"login:i:{ip}"):
        current = await _count(key)
        ttl = await _store.expires_in(key) if current else None
        await _store.set(key, str(current + 1), expires_in=ttl if ttl and ttl > 0 else LOGIN_WINDOW_SECONDS)


async def reset_login_failures(email: str) -> None:
    await _store.delete(f"login:e:{email}")
