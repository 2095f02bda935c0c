"""Rate limits on log-in, sign-up, password reset and confirmation mails.

Two kinds of limit, both counted atomically so parallel requests cannot slip past a limit that
was read before it was written:

* **Growing delay** (log-in). Every attempt is counted *before* the password is checked. The
  first few attempts of a key are free; after that each attempt must wait 1, 2, 4, 8, 16 and at
  most 30 seconds after the previous one. A successful log-in clears the account's counters.
  Three keys are counted: the account from this address, the account from anywhere, and the
  address for all accounts. The account-wide delay never exceeds the cap, so an attacker can slow
  the rightful owner down by seconds but never lock them out.
* **Fixed window** (sign-up, forgot password, resend confirmation): at most N requests per email
  and per address in the window.

Counters live in Redis when it is configured (one Lua script or one INCR per change, shared by
every app process) and in the database otherwise (one ``INSERT ... ON CONFLICT ... RETURNING``
statement per change). If Redis stops answering, the database takes over, so log-in keeps working.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from contest import clock
from contest.db import fetch, lazy_commits, one_commit
from contest.errors import RateLimited
from contest.tables import RateCounter

log = logging.getLogger(__name__)

DELAY_CAP_SECONDS = 30
LOGIN_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Delay:
    """A growing-delay limit: ``free`` attempts without waiting, then 1, 2, 4 ... seconds up to
    ``cap`` between attempts; the count is forgotten ``window`` seconds after the last attempt."""

    prefix: str
    free: int
    cap: int = DELAY_CAP_SECONDS
    window: int = LOGIN_WINDOW_SECONDS

    def wait_after(self, hits: int) -> int:
        """Seconds the next attempt must wait after attempt number ``hits``."""
        if hits < self.free:
            return 0
        return min(self.cap, 2 ** (hits - self.free))


@dataclass(frozen=True)
class Window:
    """A fixed-window limit: at most ``limit`` requests per ``seconds``."""

    prefix: str
    limit: int
    seconds: int


LOGIN_PAIR = Delay("login:pair", free=5)  # one account from one address
LOGIN_ACCOUNT = Delay("login:account", free=20)  # one account from anywhere
LOGIN_ADDRESS = Delay("login:address", free=50)  # one address (an office behind NAT), any account
MAIL_PER_EMAIL = Window("mail:email", limit=5, seconds=3600)
MAIL_PER_ADDRESS = Window("mail:address", limit=100, seconds=3600)  # a training room on one Wi-Fi


class Counter(Protocol):
    async def attempt(self, key: str, rule: Delay) -> int:
        """Count an attempt if its delay has passed: 0 if allowed, else seconds still to wait."""

    async def hit(self, key: str, rule: Window) -> int:
        """Count a request: 0 if within the limit, else seconds until the window ends."""

    async def clear(self, key: str) -> None: ...

    async def attempts(self, items: list[tuple[str, Delay]]) -> int:
        """``attempt`` for each key in turn, stopping at the first that must wait: 0 if all
        allowed, else seconds still to wait."""

    async def clear_all(self, keys: list[str]) -> None: ...

    async def clear_outside_database(self, keys: list[str]) -> None:
        """``clear_all`` for the copies kept outside the database (Redis's); the database's
        rows stay for the caller to delete in its own transaction."""


def _now() -> int:
    return math.floor(clock.now().timestamp())


def _ladder(hits_sql: str, rule: Delay) -> str:
    """SQL for ``rule.wait_after(hits)`` without POWER(), which SQLite may lack."""
    steps = []
    hits = rule.free
    while True:
        wait = rule.wait_after(hits)
        steps.append(f"WHEN {hits_sql} <= {hits} THEN {wait}")
        if wait >= rule.cap:
            break
        hits += 1
    return f"CASE WHEN {hits_sql} < {rule.free} THEN 0 {' '.join(steps)} ELSE {rule.cap} END"


async def _first_wait(counter: Counter, items: list[tuple[str, Delay]]) -> int:
    """``counter.attempt`` for each key in turn, stopping at the first that must wait."""
    for key, rule in items:
        wait = await counter.attempt(key, rule)
        if wait:
            return wait
    return 0


class DatabaseCounter:
    """Counters in the ``rate_counter`` table, one atomic statement per change."""

    async def attempt(self, key: str, rule: Delay) -> int:
        now = _now()
        # A stale row (its window over) starts again at one attempt.
        hits = (f"CASE WHEN rate_counter.expires <= {now} THEN 1 ELSE rate_counter.hits + 1 END")
        sql = (
            "INSERT INTO rate_counter (key, hits, not_before, expires) VALUES ({}, 1, {}, {}) "
            "ON CONFLICT (key) DO UPDATE SET "
            f"hits = {hits}, "
            f"not_before = {now} + ({_ladder(hits, rule)}), "
            f"expires = {now + rule.window} "
            f"WHERE rate_counter.not_before <= {now} OR rate_counter.expires <= {now} "
            "RETURNING hits"
        )
        rows = await RateCounter.raw(sql, key, now + rule.wait_after(1), now + rule.window)
        if rows:
            return 0
        row = await RateCounter.select(RateCounter.not_before).where(RateCounter.key == key).first()
        return max(1, int(row["not_before"]) - now) if row else 1

    async def hit(self, key: str, rule: Window) -> int:
        now = _now()
        sql = (
            "INSERT INTO rate_counter (key, hits, not_before, expires) VALUES ({}, 1, 0, {}) "
            "ON CONFLICT (key) DO UPDATE SET "
            f"hits = CASE WHEN rate_counter.expires <= {now} THEN 1 ELSE rate_counter.hits + 1 END, "
            f"expires = CASE WHEN rate_counter.expires <= {now} THEN {now + rule.seconds} "
            "ELSE rate_counter.expires END "
            "RETURNING hits, expires"
        )
        rows = await RateCounter.raw(sql, key, now + rule.seconds)
        if rows and int(rows[0]["hits"]) <= rule.limit:
            return 0
        return max(1, int(rows[0]["expires"]) - now) if rows else 1

    async def clear(self, key: str) -> None:
        await RateCounter.delete().where(RateCounter.key == key)

    async def attempts(self, items: list[tuple[str, Delay]]) -> int:
        # One commit for the log-in's counters (on SQLite one turn of the database's writer). A
        # count lost to a power cut costs an attacker's guesses, not a person's work.
        with lazy_commits():
            async with one_commit():
                return await _first_wait(self, items)

    async def clear_all(self, keys: list[str]) -> None:
        if keys:
            await fetch("DELETE FROM rate_counter WHERE key IN (" + ", ".join("{}" for _ in keys) + ")", *keys)

    async def clear_outside_database(self, keys: list[str]) -> None:
        pass


async def purge_expired() -> int:
    """Forget counters whose window is over (housekeeping; Redis expires its own keys)."""
    rows = await RateCounter.delete().where(RateCounter.expires <= _now()).returning(RateCounter.id)
    return len(rows)


# KEYS[1]: the counter; ARGV: now, free, cap, window. Returns 0 when allowed, else seconds to wait.
_ATTEMPT_LUA = """
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local nb = tonumber(redis.call('HGET', KEYS[1], 'nb') or '0')
if nb > now then return nb - now end
local hits = redis.call('HINCRBY', KEYS[1], 'h', 1)
local wait = 0
if hits >= free then wait = math.floor(math.min(cap, 2 ^ (hits - free))) end
redis.call('HSET', KEYS[1], 'nb', now + wait)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 0
"""


class RedisCounter:
    """Counters in Redis; if Redis fails or stalls, the database counts instead, and goes on
    counting for ``rest_seconds`` before Redis is tried again (a frozen Redis costs one request
    half a second, not every request)."""

    def __init__(self, url: str, *, timeout: float = 0.5, rest_seconds: float = 30.0) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._fallback = DatabaseCounter()
        self._rest_seconds = rest_seconds
        self._resting_until = 0.0

    def _usable(self) -> bool:
        return time.monotonic() >= self._resting_until

    def _failed(self) -> None:
        log.warning("rate limit: Redis unavailable, counting in the database for %.0f s", self._rest_seconds)
        self._resting_until = time.monotonic() + self._rest_seconds

    def _key(self, key: str) -> str:
        return f"contest:rate:{key}"

    async def attempt(self, key: str, rule: Delay) -> int:
        if self._usable():
            try:
                wait = await self._redis.eval(_ATTEMPT_LUA, 1, self._key(key), _now(), rule.free, rule.cap,
                                              rule.window)
                return int(wait)
            except Exception:  # noqa: BLE001 - any Redis failure: count in the database instead
                self._failed()
        return await self._fallback.attempt(key, rule)

    async def hit(self, key: str, rule: Window) -> int:
        if not self._usable():
            return await self._fallback.hit(key, rule)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._key(key), 0, ex=rule.seconds, nx=True)
                pipe.incr(self._key(key))
                pipe.ttl(self._key(key))
                _, hits, ttl = await pipe.execute()
            return 0 if int(hits) <= rule.limit else max(1, int(ttl))
        except Exception:  # noqa: BLE001 - any Redis failure: count in the database instead
            self._failed()
            return await self._fallback.hit(key, rule)

    async def clear(self, key: str) -> None:
        await self.clear_all([key])

    async def attempts(self, items: list[tuple[str, Delay]]) -> int:
        return await _first_wait(self, items)

    async def clear_all(self, keys: list[str]) -> None:
        await self.clear_outside_database(keys)
        await self._fallback.clear_all(keys)

    async def clear_outside_database(self, keys: list[str]) -> None:
        if self._usable():
            try:
                await self._redis.delete(*(self._key(key) for key in keys))
            except Exception:  # noqa: BLE001 - the database copy is cleared by the caller either way
                self._failed()


_counter: Counter = DatabaseCounter()


def use_counter(counter: Counter) -> None:
    global _counter
    _counter = counter


def use_redis(url: str) -> None:
    use_counter(RedisCounter(url))


def use_database() -> None:
    use_counter(DatabaseCounter())




async def check_login_allowed(email: str, address: str) -> None:
    """Count a log-in attempt before its password is checked; 429 with Retry-After while one of
    its counters asks it to wait."""
    wait = await _counter.attempts([(f"{rule.prefix}:{key}", rule) for rule, key in (
        (LOGIN_ADDRESS, address), (LOGIN_ACCOUNT, email), (LOGIN_PAIR, f"{email}|{address}"))])
    if wait:
        raise RateLimited("Too many log-in attempts. Wait {seconds} seconds and try again.", retry_after=wait)


def _account_keys(email: str, address: str) -> list[str]:
    return [f"{LOGIN_ACCOUNT.prefix}:{email}", f"{LOGIN_PAIR.prefix}:{email}|{address}"]


async def reset_login_failures(email: str, address: str) -> None:
    """After a successful log-in: the account's counters start again (the address's does not, or
    one valid account would unlock guessing at all the others)."""
    await _counter.clear_all(_account_keys(email, address))


@asynccontextmanager
async def login_succeeded(email: str, address: str) -> AsyncIterator[None]:
    """``reset_login_failures`` committed with what the caller writes next (the token it
    issues): on SQLite one transaction, one turn of the database's writer and one commit for
    both; on PostgreSQL each commits by itself (``db.one_commit``). Redis's copies, if any,
    are cleared first, outside the transaction, so no Redis call holds the database's writer.
    The commit does not wait for the disk (``lazy_commits``): a power cut can lose at most this
    token and counters, and the person logs in again."""
    keys = _account_keys(email, address)
    await _counter.clear_outside_database(keys)
    with lazy_commits():
        async with one_commit():
            await DatabaseCounter().clear_all(keys)
            yield


async def check_mail_request(email: str, address: str) -> None:
    """Sign-up, forgot password and resend confirmation: a few mails per email and per address an
    hour, so the system cannot be used to flood an inbox."""
    for rule, key in ((MAIL_PER_ADDRESS, address), (MAIL_PER_EMAIL, email)):
        wait = await _counter.hit(f"{rule.prefix}:{key}", rule)
        if wait:
            raise RateLimited("Too many requests. Wait {minutes} minutes and try again.", retry_after=wait,
                              minutes=math.ceil(wait / 60))
