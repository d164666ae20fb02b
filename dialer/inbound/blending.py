"""Blended agents, pure: how many agents to keep off outbound so that inbound service
holds, and which.

Outbound calls last minutes, so an agent cannot be taken back from outbound the moment the
order line rings: the plan looks `lead_s` ahead (about one outbound talk and wrap time) on
the schedule's expected arrivals and holds, from now on, as many of the skilled agents as
the busiest moment of that window needs (Erlang A, 80 % in 20 s with caller patience).
Calls waiting and calls being answered count too, so a surprise peak holds agents as well.
As the order curve falls the need falls and the agents go back to outbound.

Three strategies are compared by `telemart bench blended`:
- `blended` (this plan), `no_dial_while_waiting` (VICIdial: stop dialing while any
  inbound call waits), `split_teams` (a fixed inbound team sized for the peak).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Iterable, Sequence

from dialer.inbound.erlang import agents_needed

BLENDED = "blended"
NO_DIAL_WHILE_WAITING = "no_dial_while_waiting"
SPLIT_TEAMS = "split_teams"
STRATEGIES = (BLENDED, NO_DIAL_WHILE_WAITING, SPLIT_TEAMS)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class NeedCurve:
    """Agents inbound needs, step by step from `start_s` (the caller's clock)."""

    start_s: float
    step_s: float
    needs: tuple[int, ...]

    @classmethod
    def from_rates(
        cls,
        rates: Sequence[float],
        *,
        start_s: float,
        step_s: float,
        aht_s: float,
        patience_s: float,
        target_s: float = 20.0,
        service_level: float = 0.80,
    ) -> NeedCurve:
        memo: dict[float, int] = {}
        needs = []
        for rate in rates:
            key = round(rate, 4)
            if key not in memo:
                memo[key] = agents_needed(arrival_rate=key, aht_s=aht_s, patience_s=patience_s,
                                          target_s=target_s, service_level=service_level).agents
            needs.append(memo[key])
        return cls(start_s=start_s, step_s=step_s, needs=tuple(needs))

    def at(self, t_s: float) -> int:
        i = math.floor((t_s - self.start_s) / self.step_s)
        return self.needs[i] if 0 <= i < len(self.needs) else 0

    def ahead(self, t_s: float, lead_s: float) -> int:
        """The most agents needed at any moment from now to `lead_s` ahead."""
        first = max(0, math.floor((t_s - self.start_s) / self.step_s))
        last = min(len(self.needs), math.floor((t_s + lead_s - self.start_s) / self.step_s) + 1)
        return max(self.needs[first:last], default=0)


def hold_count(*, need_ahead: int, waiting: int, on_inbound: int, skilled: int) -> int:
    """Agents to keep for inbound: the forecast's need, or every call being answered and
    waiting if that is more; never more than the agents with the skill."""
    return max(0, min(skilled, max(need_ahead, on_inbound + waiting)))


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    agent_id: int
    level: int  # skill level for the broadcast's queue (1 best)
    free: bool  # ready now (no call, no wrap-up)
    busy_for_s: float  # how long they have been on their current call (0 when free)


def choose_held(
    candidates: Iterable[Candidate], count: int, *, held_before: frozenset[int] = frozenset()
) -> frozenset[int]:
    """Which agents to hold: those held already (no flapping), then the best level,
    free agents first, then those longest into their call (soonest free)."""
    ranked = sorted(
        candidates,
        key=lambda c: (c.agent_id not in held_before, c.level, not c.free, -c.busy_for_s,
                       c.agent_id),
    )
    return frozenset(c.agent_id for c in ranked[:max(0, count)])


def lead_for(outbound_talk_s: float, outbound_wrap_s: float) -> float:
    """How far ahead to look: an outbound call started now ends about this much later."""
    return max(60.0, outbound_talk_s + outbound_wrap_s)


def rates_between(times: Sequence[float], t0: float, t1: float) -> int:
    """How many of the sorted `times` fall in [t0, t1) (recent arrivals)."""
    return bisect.bisect_left(times, t1) - bisect.bisect_left(times, t0)
