"""What a campaign loop and a call's task need from the process, handed down as one
frozen record (nothing below the runtime imports the runtime)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from dialer.core.planner import Decision
from dialer.live.campaign import LiveCampaign
from dialer.live.desk import LiveDesk
from dialer.store.hopper import LeasedLead
from dialer.telephony.port import AmdMode, TelephonyPort

PopBuilder = Callable[[LiveCampaign, LeasedLead, int], Coroutine[Any, Any, dict[str, Any]]]
Observe = Callable[[str, float], None]  # a latency by name, in seconds
OnDecision = Callable[[int, Decision], None]  # a campaign's tick decided (metrics)

MAX_CALL_S = 3600.0  # a call with no disposition after this is closed without one
# What a database outage looks like: a restart terminates the connections with 57P01,
# and a connection cut in the middle of an operation can come back from the pool saying
# another operation is in progress (asyncpg's InternalClientError); a retry gets another.
DB_DOWN: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Deps:
    pool: asyncpg.Pool
    port: TelephonyPort
    desk: LiveDesk
    owner: str  # this process's name on leases and calls
    lease_s: float
    build_pop: PopBuilder
    observe: Observe
    amd: AmdMode = AmdMode.ASTERISK
    max_call_s: float = MAX_CALL_S
    on_decision: OnDecision = lambda campaign_id, decision: None
    # The desk's clock runs in scenario seconds when a scaled sim carrier drives the
    # runtime (benchmarks, tests): a wait of t clock seconds lasts t x time_scale.
    time_scale: float = 1.0
    # Of these free lines, how many the process may dial on now (dialer.live.overload:
    # none while it lags, at most its calls-per-second budget).
    headroom: Callable[[int], int] = lambda lines: lines
