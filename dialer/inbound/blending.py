"""Blended agents, pure: how many agents to keep off outbound so that inbound service
holds, and which.

Outbound calls last minutes, so an agent cannot be taken back from outbound the moment the
order line rings. The plan (`hold_set`) looks `lead_s` ahead (most of an outbound call)
on the need the schedule's expected arrivals make (Erlang A with caller patience, `NeedCurve`)
and keeps off outbound the fewest agents who, free now or likely to have finished their
outbound call by each moment, cover it. The pacer stops dialing for them; as the order
curve falls the need falls and they go back to outbound. Calls being answered and calls
waiting count too, so a surprise peak holds agents as well.

Three strategies are compared by `telemart bench blended`:
- `blended` (this plan), `no_dial_while_waiting` (VICIdial: stop dialing while any
  inbound call waits), `split_teams` (a fixed inbound team sized for the peak).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

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


def lead_for(talk_mean_s: float, talk_sd_s: float, wrap_mean_s: float) -> float:
    """How far ahead to look: most outbound calls started now are over by then (talk
    times are skewed: the mean alone leaves a third of the agents still talking)."""
    return max(60.0, talk_mean_s + 1.5 * talk_sd_s + wrap_mean_s)


@functools.lru_cache(maxsize=64)
def _lognormal(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the log of a lognormal time with this mean and sd."""
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class TalkModel:
    """Outbound talk times (lognormal, as the scenarios and real floors show) and wrap."""

    talk_mean_s: float
    talk_sd_s: float
    wrap_mean_s: float

    @property
    def _mu_sigma(self) -> tuple[float, float]:
        return _lognormal(self.talk_mean_s, self.talk_sd_s)

    def talk_cdf(self, t_s: float) -> float:
        if t_s <= 0:
            return 0.0
        mu, sigma = self._mu_sigma
        if sigma == 0:
            return 1.0 if t_s >= self.talk_mean_s else 0.0
        return 0.5 * (1.0 + math.erf((math.log(t_s) - mu) / (sigma * math.sqrt(2.0))))

    def free_within(self, *, talking_for_s: float | None, wrapping_for_s: float | None,
                    within_s: float) -> float:
        """P(an agent busy on an outbound call is free within `within_s`)."""
        if wrapping_for_s is not None:
            return 1.0 if within_s >= max(0.0, self.wrap_mean_s - wrapping_for_s) else 0.0
        elapsed = talking_for_s or 0.0
        left = within_s - self.wrap_mean_s
        if left <= 0:
            return 0.0
        survive = 1.0 - self.talk_cdf(elapsed)
        if survive <= 1e-9:
            return 1.0
        return (self.talk_cdf(elapsed + left) - self.talk_cdf(elapsed)) / survive


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Seat:
    """An agent as the hold plan sees them."""

    agent_id: int
    level: int  # skill level for the broadcast's queue (1 best)
    inbound: bool = False  # free, or answering inbound: serves inbound from now on
    talking_for_s: float | None = None  # on an outbound call for this long
    wrapping_for_s: float | None = None  # in its after-call work for this long


def hold_set(
    *,
    need: NeedCurve,
    now_s: float,
    lead_s: float,
    seats: Sequence[Seat],
    talk: TalkModel,
    floor: int = 0,
    held_before: frozenset[int] = frozenset(),
    step_s: float = 30.0,
    z: float = 1.65,
) -> frozenset[int]:
    """The agents to keep off outbound from now on: the fewest such that, at every moment
    of the next `lead_s`, the held agents who will be free by then (expected, from their
    outbound talk time so far, counted `z` standard deviations low) cover inbound's need.
    Free agents count at once; an agent on an outbound call counts as they are likely to
    have finished it. Far from airtime nobody is held; close to it, the agents likeliest
    to be free are, and the pacer stops dialing for them. `floor` (calls being answered
    and waiting) is needed now whatever the forecast says."""
    taus = [0.0]
    while taus[-1] + step_s <= lead_s:
        taus.append(taus[-1] + step_s)
    needs = [max(need.at(now_s + t), floor if t == 0.0 else 0) for t in taus]
    if not any(needs):
        return frozenset()
    ones = [1.0] * len(taus)
    probs = {
        s.agent_id: ones if s.inbound else [talk.free_within(
            talking_for_s=s.talking_for_s, wrapping_for_s=s.wrapping_for_s, within_s=t)
            for t in taus]
        for s in seats
    }
    order = {s.agent_id: (s.agent_id not in held_before, s.level, s.agent_id) for s in seats}
    chosen: list[int] = []
    mean = [0.0] * len(taus)
    var = [0.0] * len(taus)
    left = set(probs)
    for i, wanted in enumerate(needs):
        if mean[i] - z * math.sqrt(var[i]) >= wanted - 1e-9:
            continue
        # the agents likeliest to be free by then first (held already, better level, id)
        for best in sorted(left, key=lambda a: (-probs[a][i], order[a])):
            if probs[best][i] <= 0.0 or mean[i] - z * math.sqrt(var[i]) >= wanted - 1e-9:
                break  # met, or nobody else can be free by then
            left.discard(best)
            chosen.append(best)
            for j, p in enumerate(probs[best]):
                mean[j] += p
                var[j] += p * (1.0 - p)
    return frozenset(chosen)
