"""Polling carriers that do not push: due shipments, a per-carrier rate limit, ingest."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from config.sql import load_queries
from logistics.carriers import CARRIERS
from logistics.carriers_sim import CarrierAdapter, SimulatedCarrier
from logistics.tracking import TrackingEvent
from logistics.tracking_ingest import ingest

Q = load_queries("logistics", "shipments.sql")


class RateLimiter:
    """At most `rate_per_s` acquisitions per second, evenly spaced (no bursts)."""

    def __init__(
        self, rate_per_s: float, *, clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:  # fmt: skip
        if rate_per_s <= 0:
            raise ValueError("rate must be positive")
        self.interval_s = 1.0 / rate_per_s
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._next > now:
                await self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval_s


@dataclass(kw_only=True)
class PollConfig:
    """What the poll job uses; `telemart demo` may speed the simulated carrier up."""

    adapters: Mapping[str, CarrierAdapter] = field(default_factory=dict)
    every: timedelta = timedelta(minutes=30)  # per shipment, between two polls
    batch: int = 200  # shipments per run
    limiters: dict[str, RateLimiter] = field(default_factory=dict)

    def limiter(self, carrier: str) -> RateLimiter:
        if carrier not in self.limiters:
            self.limiters[carrier] = RateLimiter(CARRIERS[carrier].poll_rps)
        return self.limiters[carrier]


def default_config(*, speed: float = 1.0) -> PollConfig:
    """Every carrier without push is answered by the simulated carrier."""
    sim = SimulatedCarrier(speed=speed)
    return PollConfig(
        adapters={c.code: sim for c in CARRIERS.values() if not c.push},
        every=timedelta(minutes=30) / max(speed, 1.0),
    )


CONFIG = default_config()


@dataclass(frozen=True, kw_only=True)
class PollResult:
    polled: int
    events: int
    stored: int
    moved: int
    errors: int


async def poll_once(
    conn: asyncpg.Connection, *, config: PollConfig | None = None, now: datetime | None = None
) -> PollResult:
    """Ask the carriers about due shipments; store what they say. Caller owns the transaction."""
    config = config or CONFIG
    now = now or datetime.now(UTC)
    due = await conn.fetch(Q["due_for_poll"], sorted(config.adapters), now, config.batch)
    errors = 0

    async def ask(row: asyncpg.Record) -> list[TrackingEvent]:
        nonlocal errors
        await config.limiter(row["carrier"]).acquire()
        try:
            return await config.adapters[row["carrier"]].track(
                carrier=row["carrier"], tracking_number=row["tracking_number"],
                dispatched_at=row["dispatched_at"], now=now,
            )  # fmt: skip
        except Exception:  # one carrier's outage must not stop the others
            errors += 1
            return []

    answers = await asyncio.gather(*(ask(r) for r in due))
    events = [e for answer in answers for e in answer]
    result = await ingest(conn, provider="poll", events=events, actor="poller")
    if due:
        await conn.execute(Q["set_next_poll"], [r["id"] for r in due], now + config.every)
    return PollResult(
        polled=len(due), events=len(events), stored=result.stored, moved=result.moved,
        errors=errors,
    )  # fmt: skip
