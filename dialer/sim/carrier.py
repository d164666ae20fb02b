"""The callees a scenario describes: who picks up, after how long, and how that drifts.

One model, two clocks: the shift simulator draws from it on its virtual clock, and the
real-time `sim` telephony carrier (`dialer.telephony.sim`) draws from it on scenario time
(wall time divided by its time scale). Same seed, same stream of random numbers, same
calls, whichever side draws.

A draw is the call's fate and when the carrier reports it, in seconds after the dial:
 * a person or an answering machine picks up after `answer_after_s`, unless that is past
   the ring timeout (then: no answer, at the timeout); a machine is reported `amd_s` later,
   the time the detector needs;
 * busy and failed are signalled after `busy_after_s` / `failed_after_s` (capped at the
   ring timeout), without ringing;
 * everything else rings out unanswered at the ring timeout.
"""

from __future__ import annotations

import bisect
import random
from typing import NamedTuple

from dialer.core.calls import CallState
from dialer.sim.scenario import CalleeMix, Scenario

RING_AFTER_S = 0.5  # carrier progress: ringing reported half a second after the dial
UNRINGING = frozenset({CallState.BUSY, CallState.FAILED})


class Draw(NamedTuple):
    outcome: CallState  # ANSWERED_LIVE, ANSWERED_MACHINE, BUSY, FAILED or NO_ANSWER
    after_s: float  # seconds from the dial to the outcome

    @property
    def rings(self) -> bool:
        """The carrier reports ringing before the outcome (not for busy or failed)."""
        return self.outcome not in UNRINGING

    @property
    def ringing_after_s(self) -> float | None:
        """When ringing is reported (seconds after the dial), or None if it never rings."""
        return min(RING_AFTER_S, self.after_s) if self.rings else None


class CarrierModel:
    """Seeded callee draws for one scenario. Draws must come in time order (`at_s`
    never goes back), as both clocks guarantee."""

    def __init__(self, scenario: Scenario, *, rng: random.Random) -> None:
        self.scenario = scenario
        self.rng = rng
        self._drift_at = [d.at_s for d in scenario.drift]
        self._mixes = [scenario.mix, *(d.mix for d in scenario.drift)]

    @classmethod
    def seeded(cls, scenario: Scenario, *, seed: int, stream: str = "callee") -> CarrierModel:
        """The model with its own random stream: `"{seed}:{stream}"`."""
        return cls(scenario, rng=random.Random(f"{seed}:{stream}"))

    @property
    def lines(self) -> int | None:
        """Trunk lines (calls at once) the scenario allows; None when unlimited."""
        return self.scenario.trunk_lines

    def mix_at(self, at_s: float) -> CalleeMix:
        """The callee mix in force at `at_s` of the shift (drift steps included)."""
        return self._mixes[bisect.bisect_right(self._drift_at, at_s)]

    def draw(self, *, at_s: float, max_ring_s: float | None = None) -> Draw:
        """The fate of a call dialled at `at_s` (scenario seconds). `max_ring_s` is the
        ring timeout the dialer asked for (default: the scenario's)."""
        sc, rng = self.scenario, self.rng
        mix = self.mix_at(at_s) if self._drift_at else sc.mix
        ring_s = sc.max_ring_s if max_ring_s is None else max_ring_s
        u = rng.random()
        if u < mix.live + mix.machine:
            delay = sc.answer_after.sample(rng)
            if delay > ring_s:
                return Draw(CallState.NO_ANSWER, ring_s)
            if u < mix.live:
                return Draw(CallState.ANSWERED_LIVE, delay)
            return Draw(CallState.ANSWERED_MACHINE, delay + sc.amd_s)
        if u < mix.live + mix.machine + mix.busy:
            return Draw(CallState.BUSY, min(sc.busy_after.sample(rng), ring_s))
        if u < mix.live + mix.machine + mix.busy + mix.failed:
            return Draw(CallState.FAILED, min(sc.failed_after.sample(rng), ring_s))
        return Draw(CallState.NO_ANSWER, ring_s)
