"""Is this process keeping up? Two probes: how late the event loop wakes a task that asked
to sleep `PROBE_S`, and how long a database connection takes to come out of the pool.

A dialer process that places more calls than it can carry (database round trips, screen
pops, messages) does not fail: its event loop falls behind or its pool's queue grows, and
a live answer waits seconds for its screen pop (built while the phone rings, from the
pool) while the pacing loop, seeing idle agents, dials even more. Measured (`telemart
bench connect --agents 500`, before this): answer→pop p50 15 s. So while either probe is
late, the campaign loops place no new calls (the planner is told there are no free lines);
the calls in flight go on, the queues shrink, dialling resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import asyncpg

PROBE_S = 0.02  # how often the loop is asked to wake
POOL_PROBE_S = 0.1  # how often a connection is taken from the pool and given back
LAG_LIMIT_S = 0.05  # later than this (either probe): the process is behind, no new calls
DECAY = 0.9  # per probe: one late wake-up keeps the process "behind" a little while
# New calls a process sets up per second (of the runtime's clock: scenario seconds when a
# scaled sim carrier drives it), a burst of one second's worth at most. Measured: with 500
# idle agents the planner asked for 1,000 calls in one tick; their screen pops and rows
# queued for seconds and the first answers waited that long for their pop (p99 13 s).
# Trunks have such a limit too (calls per second); 50 is far above a floor's need (500
# agents on 3-minute calls: about 15).
DIALS_PER_S = 50.0
WAIT_CAP_S = 1.0


class LoopLag:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool | None = None,
        probe_s: float = PROBE_S,
        limit_s: float = LAG_LIMIT_S,
        dials_per_s: float = DIALS_PER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pool = pool
        self.dials_per_s = dials_per_s
        self.clock = clock
        self._tokens = dials_per_s  # calls that may be set up now
        self._tokens_at = clock()
        self.probe_s = probe_s
        self.limit_s = limit_s
        self.lag_s = 0.0  # the recent worst lateness of the loop, decaying
        self.pool_wait_s = 0.0  # the recent worst wait for a connection, decaying
        self.held = 0  # ticks told "no headroom" (for the logs and tests)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._probe_loop(), name="loop-lag"))
        if self.pool is not None:
            self._tasks.append(asyncio.create_task(self._probe_pool(self.pool), name="pool-wait"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _probe_loop(self) -> None:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(self.probe_s)
            late_s = time.monotonic() - asked - self.probe_s
            self.lag_s = max(late_s, self.lag_s * DECAY)

    async def _probe_pool(self, pool: asyncpg.Pool) -> None:
        while True:
            await asyncio.sleep(POOL_PROBE_S)
            asked = time.monotonic()
            try:
                async with pool.acquire():
                    pass
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                continue  # an outage: the campaign loops hold their dials for that already
            # capped: one long wait must not hold the dials for long after it is over
            waited_s = min(time.monotonic() - asked, WAIT_CAP_S)
            self.pool_wait_s = max(waited_s, self.pool_wait_s * DECAY)

    def headroom(self, lines: int) -> int:
        """How many of `lines` free lines this process may dial on now: none while it
        is behind, else what the calls-per-second budget has left."""
        if self.behind():
            return 0
        now = self.clock()
        self._tokens = min(
            self.dials_per_s, self._tokens + (now - self._tokens_at) * self.dials_per_s
        )
        self._tokens_at = now
        return max(0, min(lines, int(self._tokens)))

    def took(self, count: int = 1) -> None:
        """Calls were set up (they spend the budget)."""
        self._tokens -= count

    def behind(self) -> bool:
        """True while the process is late: place no new calls now."""
        if self.lag_s > self.limit_s or self.pool_wait_s > self.limit_s:
            self.held += 1
            return True
        return False
