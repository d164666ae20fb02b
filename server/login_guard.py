"""Password checks that cannot stall the server, and login throttling.

Argon2 costs tens of milliseconds of CPU per check (more under load). It runs in a small
pool of threads at the lowest CPU priority, so the event loop (screen pops, websockets,
orders) keeps a core's worth of priority over a storm of logins; at most `MAX_WAITING`
checks wait for that pool, past which a login is told to retry (429).

Failed logins are counted per account and per address in PostgreSQL (so every server
process sees them). Past a free allowance each failure doubles the wait before the next
try; during the wait the login is refused with 429 and `Retry-After` without checking the
password at all, which is what keeps a storm cheap. A success clears the account's count.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.sql import load_queries

Q = load_queries("server", "login.sql")
HASH_THREADS = 2
MAX_WAITING = 64  # checks queued for the pool before logins are refused
LOWEST_PRIORITY = 19  # nice value of the hashing threads (Linux: per thread)

# Free failures before waits begin, then 1 s, 2 s, 4 s ... up to the cap.
ACCOUNT_FREE_FAILURES = 5
# One office behind one address: the floor's typos must not lock everyone out.
ADDRESS_FREE_FAILURES = 30
FIRST_WAIT_S = 1.0
MAX_WAIT_S = 15 * 60.0
FORGET_AFTER_S = 60 * 60.0  # a failure count this old starts again from zero

hasher = PasswordHasher()
# Verifying against a throwaway hash when the user does not exist keeps the
# response time the same, so usernames cannot be probed by timing.
DUMMY_HASH = hasher.hash("not a password")


def _lower_priority() -> None:
    # Threads of one process can have their own nice value on Linux; threads that
    # libargon2 starts from here inherit it.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


class Busy(Exception):
    """Too many password checks are waiting: retry in a moment."""


class PasswordPool:
    """A bounded pool of low-priority threads for password hashing and checks."""

    def __init__(self, threads: int = HASH_THREADS, max_waiting: int = MAX_WAITING) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="telemart-argon2", initializer=_lower_priority
        )
        self.max_waiting = max_waiting
        self.waiting = 0

    async def _run(self, fn: object, *args: str) -> object:
        if self.waiting >= self.max_waiting:
            raise Busy
        self.waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, fn, *args)  # type: ignore[arg-type]
        finally:
            self.waiting -= 1

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True if `password` matches `password_hash` (None: checks a dummy, says False)."""
        ok = await self._run(_verify, password_hash or DUMMY_HASH, password)
        return bool(ok) and password_hash is not None

    async def hash(self, password: str) -> str:
        return str(await self._run(hasher.hash, password))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_default_pool: PasswordPool | None = None


def password_pool() -> PasswordPool:
    """The process's pool (one per process: its size bounds the CPU logins may take)."""
    global _default_pool
    if _default_pool is None:
        _default_pool = PasswordPool()
    return _default_pool


# --- throttling ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Throttled:
    key: str
    retry_after_s: int


def wait_after(failures: int, free: int) -> float:
    """Seconds to wait after the `failures`-th failure in a row."""
    over = failures - free
    if over <= 0:
        return 0.0
    return min(MAX_WAIT_S, FIRST_WAIT_S * 2.0 ** (over - 1))


def keys_for(username: str, address: str | None) -> list[tuple[str, int]]:
    """(throttle key, free failures) for an attempt."""
    keys = [(f"user:{username.lower()}", ACCOUNT_FREE_FAILURES)]
    if address:
        keys.append((f"addr:{address}", ADDRESS_FREE_FAILURES))
    return keys


async def check(conn: asyncpg.Connection, username: str, address: str | None) -> Throttled | None:
    """The throttle that refuses this attempt now, if any."""
    keys = [k for k, _ in keys_for(username, address)]
    rows = await conn.fetch(Q["throttle_blocked"], keys)
    if not rows:
        return None
    worst = max(rows, key=lambda r: r["wait_s"])
    return Throttled(key=worst["key"], retry_after_s=max(1, math.ceil(worst["wait_s"])))


async def failed(conn: asyncpg.Connection, username: str, address: str | None) -> float:
    """Count a failure; returns the wait it starts (0 while within the allowance)."""
    longest = 0.0
    for key, free in keys_for(username, address):
        failures = await conn.fetchval(Q["throttle_fail"], key, FORGET_AFTER_S)
        wait = wait_after(failures, free)
        if wait:
            await conn.execute(Q["throttle_block"], key, wait)
        longest = max(longest, wait)
    return longest


async def succeeded(conn: asyncpg.Connection, username: str) -> None:
    await conn.execute(Q["throttle_clear"], f"user:{username.lower()}")
