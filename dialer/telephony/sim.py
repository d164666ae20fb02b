"""The simulator's carrier model in real time: the same seeded callee mix and ring times
as `telemart bench pacing`, with asyncio sleeps instead of a virtual clock.

`time_scale` shrinks every delay (tests and benchmarks run a shift in seconds)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from dialer.core.calls import CallState
from dialer.sim.scenario import Scenario, load_scenario
from dialer.telephony.port import DialResult

DEFAULT_SCENARIO = "steady-50"
RING_AFTER_S = 0.5  # carrier progress: ringing reported half a second after the dial


class SimCarrier:
    """A seeded stochastic carrier: live / machine / busy / failed / no answer."""

    def __init__(
        self, *, seed: int = 1, time_scale: float = 1.0, scenario: Scenario | None = None
    ) -> None:
        self.scenario = scenario or load_scenario(DEFAULT_SCENARIO)
        self.rng = random.Random(f"{seed}:sim-carrier")
        self.time_scale = time_scale
        self.bridged: dict[int, int] = {}
        self.safe_harbored: set[int] = set()
        self.dials = 0

    def _draw(self, max_ring_s: float) -> tuple[CallState, float]:
        sc, mix, rng = self.scenario, self.scenario.mix, self.rng
        u = rng.random()
        if u < mix.live + mix.machine:
            delay = sc.answer_after.sample(rng)
            if delay > max_ring_s:
                return CallState.NO_ANSWER, max_ring_s
            if u < mix.live:
                return CallState.ANSWERED_LIVE, delay
            return CallState.ANSWERED_MACHINE, delay + sc.amd_s
        if u < mix.live + mix.machine + mix.busy:
            return CallState.BUSY, min(sc.busy_after.sample(rng), max_ring_s)
        if u < mix.live + mix.machine + mix.busy + mix.failed:
            return CallState.FAILED, min(sc.failed_after.sample(rng), max_ring_s)
        return CallState.NO_ANSWER, max_ring_s

    async def dial(
        self, *, call_id: int, phone_e164: str, max_ring_s: float,
        on_ringing: Callable[[], None],
    ) -> DialResult:
        self.dials += 1
        outcome, delay_s = self._draw(max_ring_s)
        rings = outcome not in (CallState.BUSY, CallState.FAILED)
        delay_s *= self.time_scale
        ring_at_s = min(RING_AFTER_S * self.time_scale, delay_s)
        if rings:
            await asyncio.sleep(ring_at_s)
            on_ringing()
            delay_s -= ring_at_s
        await asyncio.sleep(delay_s)
        return DialResult(outcome=outcome, rang=rings)

    async def bridge(self, *, call_id: int, agent_id: int) -> None:
        self.bridged[call_id] = agent_id

    async def safe_harbor(self, *, call_id: int) -> None:
        self.safe_harbored.add(call_id)

    async def hangup(self, *, call_id: int) -> None:
        self.bridged.pop(call_id, None)
