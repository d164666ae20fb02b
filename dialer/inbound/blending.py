"""Blended agents, pure: how many agents to keep off outbound so that inbound service
holds, and which.

Outbound calls last minutes, so an agent cannot be taken back from outbound the moment the
order line rings. The plan (`hold_set`) looks `lead_s` ahead (most of an outbound call)
on the need the schedule's expected arrivals make (`NeedCurve`: Erlang A with caller
patience, less what the agents still on outbound answer as they finish their calls) and
keeps off outbound the fewest agents who, free now or likely to have finished their
outbound call by each moment, cover it. A free agent is lent one more outbound call while
the need is further away than such a call lasts. The pacer stops dialing for the held; as
the order curve falls the need falls and they go back to outbound. Calls being answered
and calls waiting count too, so a surprise peak holds agents as well.

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
        outbound_agents: int = 0,
        outbound_cycle_s: float = math.inf,
        offered_load: bool = False,
    ) -> NeedCurve:
        """The agents to keep for inbound at each step's expected arrival rate. With
        `outbound_agents` (those who may answer within the target while on outbound), the
        ones among them still on outbound answer part of the callers as they finish a call
        (erlang.agents_needed): a light load needs nobody kept at all. With `offered_load`
        each step is planned on the load the calls so far have built (`offered_rates`),
        not on its own arrival rate."""
        if offered_load:
            rates = offered_rates(rates, step_s=step_s, aht_s=aht_s)
        memo: dict[float, int] = {}
        needs = []
        for rate in rates:
            key = round(rate, 4)
            if key not in memo:
                memo[key] = agents_needed(
                    arrival_rate=key,
                    aht_s=aht_s,
                    patience_s=patience_s,
                    target_s=target_s,
                    service_level=service_level,
                    outbound_agents=outbound_agents,
                    outbound_cycle_s=outbound_cycle_s,
                ).agents
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


def offered_rates(rates: Sequence[float], *, step_s: float, aht_s: float) -> list[float]:
    """The arrival rate whose steady state has as many callers in service as the calls so
    far would (the modified offered load of Jennings, Mandelbaum, Massey and Whitt, "Server
    staffing to meet time-varying demand", 1996), step by step, from a steady start.

    Erlang A is a steady state: on a broadcast's ramp (full rate 90 s after airtime) it
    staffs at once for the peak's load, while the calls in service build up over about an
    AHT (m' = λ − m/AHT): at 60 s there were 8 agents on calls where the peak needs 33,
    and the agents held for the rest sat idle. As the rate falls the load lags it the same
    way. Exact over each step for exponential service: m → λ·AHT + (m − λ·AHT)·e^(−step/AHT);
    the step's rate is its mean load ÷ AHT."""
    if not rates:
        return []
    decay = math.exp(-step_s / aht_s)
    # the mean over the step of λ·AHT + (m − λ·AHT)·e^(−t/AHT)
    mean_of_gap = aht_s / step_s * (1.0 - decay)
    load = rates[0] * aht_s
    out = []
    for rate in rates:
        steady = rate * aht_s
        out.append((steady + (load - steady) * mean_of_gap) / aht_s)
        load = steady + (load - steady) * decay
    return out


def lead_for(talk_mean_s: float, talk_sd_s: float, wrap_mean_s: float) -> float:
    """How far ahead to look: most outbound calls started now are over by then (talk
    times are skewed: the mean alone leaves a third of the agents still talking)."""
    return max(60.0, talk_mean_s + 1.5 * talk_sd_s + wrap_mean_s)


@functools.lru_cache(maxsize=64)
def _lognormal(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma·√2) of the log of a lognormal time with this mean and sd."""
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(2.0 * sigma2)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class TalkModel:
    """Outbound talk times (lognormal, as the scenarios and real floors show) and wrap."""

    talk_mean_s: float
    talk_sd_s: float
    wrap_mean_s: float
    # an agent given back to outbound waits this long, on average, for the pacer's next
    # answer before talking (0: counted as if a call were waiting for them)
    connect_wait_s: float = 0.0

    def talk_cdf(self, t_s: float) -> float:
        if t_s <= 0:
            return 0.0
        mu, scale = _lognormal(self.talk_mean_s, self.talk_sd_s)
        if scale == 0:
            return 1.0 if t_s >= self.talk_mean_s else 0.0
        return 0.5 * (1.0 + math.erf((math.log(t_s) - mu) / scale))

    def free_within(
        self, *, talking_for_s: float | None, wrapping_for_s: float | None, within_s: float
    ) -> float:
        """P(an agent busy on an outbound call is free within `within_s`)."""
        return self.free_profile(
            talking_for_s=talking_for_s, wrapping_for_s=wrapping_for_s, within_s=(within_s,)
        )[0]

    def free_profile(
        self,
        *,
        talking_for_s: float | None,
        wrapping_for_s: float | None,
        within_s: Sequence[float],
    ) -> list[float]:
        """`free_within` at each of `within_s` (the plan asks for a whole window at once)."""
        if wrapping_for_s is not None:
            # still wrapping up: not free this instant, even past the mean wrap time
            left_wrap = max(0.0, self.wrap_mean_s - wrapping_for_s)
            return [1.0 if t > 0.0 and t >= left_wrap else 0.0 for t in within_s]
        elapsed = talking_for_s or 0.0
        done = self.talk_cdf(elapsed)
        survive = 1.0 - done
        if survive <= 1e-9:
            return [1.0 if t > self.wrap_mean_s else 0.0 for t in within_s]
        return [
            (self.talk_cdf(elapsed + t - self.wrap_mean_s) - done) / survive
            if t > self.wrap_mean_s
            else 0.0
            for t in within_s
        ]

    def cycle_within(self, within_s: float) -> float:
        """P(an agent given one more outbound call now is free again within `within_s`):
        waits for the answer, talks, wraps up."""
        return self.talk_cdf(within_s - self.connect_wait_s - self.wrap_mean_s)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Seat:
    """An agent as the hold plan sees them."""

    agent_id: int
    level: int  # skill level for the broadcast's queue (1 best)
    inbound: bool = False  # free, or answering inbound: serves inbound from now on
    talking_for_s: float | None = None  # on an outbound call for this long
    wrapping_for_s: float | None = None  # in its after-call work for this long
    on_inbound_call: bool = False  # `inbound`, and busy with a caller (not free)


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
    lend: bool = True,
) -> frozenset[int]:
    """The agents to keep off outbound from now on: the fewest such that, at every moment
    of the next `lead_s`, the agents who will be free for inbound by then (expected, counted
    `z` standard deviations low) cover inbound's need.

    A held agent on an outbound call counts as they are likely to have finished it. With
    `lend`, a free agent not held counts too: they take one more outbound call and are back
    by a moment as likely as that call is over by then. So a free agent is lent to outbound
    while the need is more than a call away, and held when it is closer; far from airtime
    nobody is held; as the order curve falls the need falls and agents go back. Each agent
    is held where holding adds most at the moment still short (the agents likeliest to be
    free by then, over what lending would give). `floor` (calls being answered and waiting)
    is needed now whatever the forecast says."""
    taus = [0.0]
    while taus[-1] + step_s <= lead_s:
        taus.append(taus[-1] + step_s)
    needs = [max(need.at(now_s + t), floor if t == 0.0 else 0) for t in taus]
    if not any(needs):
        return frozenset()
    held_p: dict[int, list[float]] = {}
    lent_p: dict[int, list[float]] = {}
    lent_free = [0.0] + [talk.cycle_within(t) for t in taus[1:]]
    zero = [0.0] * len(taus)
    for s in seats:
        if s.inbound:
            held_p[s.agent_id] = [1.0] * len(taus)
            if s.on_inbound_call:  # answering inbound now; after the call, outbound
                lent_p[s.agent_id] = [1.0] + [0.0] * (len(taus) - 1)
            else:
                lent_p[s.agent_id] = lent_free if lend else zero
        else:
            held_p[s.agent_id] = talk.free_profile(
                talking_for_s=s.talking_for_s, wrapping_for_s=s.wrapping_for_s, within_s=taus
            )
            lent_p[s.agent_id] = zero
    order = {s.agent_id: (s.agent_id not in held_before, s.level, s.agent_id) for s in seats}
    mean = [sum(p[i] for p in lent_p.values()) for i in range(len(taus))]
    var = [sum(p[i] * (1.0 - p[i]) for p in lent_p.values()) for i in range(len(taus))]
    chosen: list[int] = []
    left = set(held_p)

    def short(i: int) -> bool:
        return mean[i] - z * math.sqrt(max(0.0, var[i])) < needs[i] - 1e-9

    for i, _wanted in enumerate(needs):
        while short(i) and left:
            # the agent whose holding adds most now (held already, better level, id)
            best = min(left, key=lambda a: (-(held_p[a][i] - lent_p[a][i]), order[a]))
            if held_p[best][i] - lent_p[best][i] <= 1e-9:
                break  # nobody else can be free by then
            left.discard(best)
            chosen.append(best)
            for j in range(len(taus)):
                h, g = held_p[best][j], lent_p[best][j]
                mean[j] += h - g
                var[j] += h * (1.0 - h) - g * (1.0 - g)
    return frozenset(chosen)
