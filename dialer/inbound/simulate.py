"""A shift of blended agents, simulated: the outbound campaign and the order line's peaks
on one team, under three blending strategies (see blending.py).

The production rules run here: the agent state machine, the pacing strategy and the
abandon cap (dialer.core), the ACD (acd.py), the hold-back plan (blending.py, Erlang A).
Simulated are the carrier and callees (as in the outbound simulator), inbound arrivals
following the schedule's order curve, callers' patience, ARS callers, keep-my-place
callbacks, talk and wrap times. Virtual clock, seeded; a shift simulates in seconds.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import random
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dialer.core.abandon import AbandonWindow, AnswerKind
from dialer.core.agents import Agent, AgentState
from dialer.core.compliance import cap_dials
from dialer.core.pacing.base import Outcome, OutcomeKind, OutcomeStats, Snapshot
from dialer.core.pacing.registry import load_strategy
from dialer.errors import ScenarioError
from dialer.inbound.acd import (
    AgentView,
    QueueRule,
    Waiting,
    next_overflow_s,
    pick_agent,
    pick_call,
)
from dialer.inbound.blending import (
    BLENDED,
    NO_DIAL_WHILE_WAITING,
    SPLIT_TEAMS,
    STRATEGIES,
    NeedCurve,
    Seat,
    TalkModel,
    hold_set,
    lead_for,
)
from dialer.inbound.schedule import INTERVAL_S, _shape, _shape_total
from dialer.sim.scenario import Dist, Scenario, parse_scenario

SCENARIO_DIR = Path(__file__).parent / "scenarios"
TICK_S = 1.0
CONNECT_SETUP_S = 0.25
NEED_STEP_S = 30.0
TARGET_S = 20.0
CALLBACK_ANSWER = 0.85  # callers called back who pick up
ORDER_QUEUE = 1
MAX_LINES_PER_AGENT = 10
PLAN_EVERY_S = 5.0  # the hold plan is made again this often (calls waiting count at each)
CONNECT_WAIT_S = 15.0  # an agent back on outbound waits about this long for an answer
SPLIT_SERVICE_LEVEL = 0.90  # split teams: the inbound team answers this at the peak

(
    _RESOLVE,
    _CONNECTED,
    _TALK_END,
    _WRAP_END,
    _OUT_ABANDON,
    _ARRIVE,
    _ARS_END,
    _PATIENCE,
    _CB_OFFER,
    _CB_ANSWER,
    _OVERFLOW,
    _TICK,
) = range(12)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class BroadcastSlot:
    start_s: float
    end_s: float
    expected_calls: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class InboundScenario:
    outbound: Scenario
    level1: int
    base_calls_per_hour: float
    talk: Dist
    wrap: Dist
    patience: Dist
    overflow_s: float
    callback_after_s: float
    callback_accept: float
    ars_share: float
    ars_to_agent: float
    ars: Dist
    broadcasts: tuple[BroadcastSlot, ...]
    # the blended plan staffs for this (above the 80 % goal: the goal holds in every
    # interval only if the plan aims higher than the average it would otherwise reach)
    plan_service_level: float = 0.90

    def arrival_rate(self, t_s: float) -> float:
        """Calls per second reaching the order line (before the ARS takes its share)."""
        rate = self.base_calls_per_hour / 3600.0
        for b in self.broadcasts:
            span = b.end_s - b.start_s
            rate += b.expected_calls * _shape(t_s - b.start_s, span) / _shape_total(span)
        return rate

    @property
    def agent_share(self) -> float:
        """Share of callers who end up needing an agent."""
        return 1.0 - self.ars_share * (1.0 - self.ars_to_agent)


def load_inbound_scenario(name_or_path: str) -> InboundScenario:
    path = Path(name_or_path)
    if not path.is_file():
        path = SCENARIO_DIR / f"{name_or_path.removesuffix('.toml')}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise ScenarioError(f"no blended scenario {name_or_path!r} (bundled: {known})")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return parse_inbound(raw)


def parse_inbound(raw: Mapping[str, Any]) -> InboundScenario:
    outbound = parse_scenario(raw)
    inbound = raw.get("inbound", {})
    try:
        return InboundScenario(
            outbound=outbound,
            level1=int(raw["staffing"].get("level1", outbound.agents)),
            base_calls_per_hour=float(inbound.get("base_calls_per_hour", 0.0)),
            talk=Dist.parse(inbound["talk_s"], "inbound.talk_s"),
            wrap=Dist.parse(inbound.get("wrap_s", 10.0), "inbound.wrap_s"),
            patience=Dist.parse(inbound["patience_s"], "inbound.patience_s"),
            overflow_s=float(inbound.get("overflow_s", 15.0)),
            callback_after_s=float(inbound.get("callback_after_s", 45.0)),
            callback_accept=float(inbound.get("callback_accept", 0.0)),
            ars_share=float(inbound.get("ars_share", 0.0)),
            ars_to_agent=float(inbound.get("ars_to_agent", 0.0)),
            ars=Dist.parse(inbound.get("ars_s", 60.0), "inbound.ars_s"),
            plan_service_level=float(inbound.get("plan_service_level", 0.90)),
            broadcasts=tuple(
                BroadcastSlot(
                    start_s=float(b["start_s"]),
                    end_s=float(b["end_s"]),
                    expected_calls=int(b["expected_calls"]),
                )
                for b in raw.get("broadcasts", [])
            ),
        )
    except KeyError as exc:
        raise ScenarioError(f"missing key {exc.args[0]!r}") from exc


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class _Caller:
    """Everything chance decides about one inbound caller, drawn when they call from a
    stream of their own (the n-th caller of a seed): every strategy meets the same callers,
    whatever order the strategies' events put the draws in."""

    ars: bool  # orders by keypad first
    ars_s: float
    ars_to_agent: bool  # ... and presses 0 or times out to an agent
    patience_s: float
    takes_callback: bool  # when offered keep-my-place
    callback_answer_s: float
    picks_up_callback: bool
    talk_s: float
    wrap_s: float

    @classmethod
    def draw(cls, sc: InboundScenario, rng: random.Random) -> _Caller:
        return cls(
            ars=rng.random() < sc.ars_share,
            ars_s=sc.ars.sample(rng),
            ars_to_agent=rng.random() < sc.ars_to_agent,
            patience_s=sc.patience.sample(rng),
            takes_callback=rng.random() < sc.callback_accept,
            callback_answer_s=sc.outbound.answer_after.sample(rng),
            picks_up_callback=rng.random() < CALLBACK_ANSWER,
            talk_s=sc.talk.sample(rng),
            wrap_s=sc.wrap.sample(rng),
        )


@dataclasses.dataclass(kw_only=True, slots=True)
class _InCall:
    call_id: int
    queued_s: float  # entered the agent queue
    caller: _Caller
    callback: bool = False
    done: bool = False


@dataclasses.dataclass(kw_only=True, slots=True)
class _Desk:
    agent: Agent
    level: int
    inbound_team: bool = False  # split teams: answers inbound only
    on_inbound: bool = False
    caller: _Caller | None = None  # the inbound caller being served


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class BlendResult:
    strategy: str
    seed: int
    service_level: float
    service_level_worst_interval: float
    asa_s: float
    queue_abandon_rate: float
    outbound_contacts_per_agent_hour: float
    outbound_abandon_rate: float
    inbound_offered: int
    ars_orders: int
    callbacks: int
    callbacks_pending_at_end: int
    outbound_dials: int
    outbound_connected: int
    intervals: tuple[tuple[int, int, int], ...]  # (start_s, offered, in target) of the peak
    # agent-hours free with no call, sampled every tick; `held_idle_agent_hours` of them
    # held for inbound (blended): where outbound time goes besides inbound calls
    idle_agent_hours: float = 0.0
    held_idle_agent_hours: float = 0.0

    def as_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.pop("intervals")
        return out


class BlendedShift:
    def __init__(self, sc: InboundScenario, strategy: str, *, seed: int) -> None:
        if strategy not in STRATEGIES:
            raise ScenarioError(f"unknown blending {strategy!r}: {', '.join(STRATEGIES)}")
        self.sc, self.out, self.mode, self.seed = sc, sc.outbound, strategy, seed
        # separate streams, so that one strategy's extra draws never shift another's:
        # the n-th dial, the n-th outbound talk and the n-th caller are the same in all
        self.callee_rng = random.Random(f"{seed}:callee")
        self.agent_rng = random.Random(f"{seed}:agent")  # outbound talk and wrap
        self.arrival_rng = random.Random(f"{seed}:arrivals")
        self._callers = 0
        self.callers: dict[int, _Caller] = {}  # ARS calls in progress
        self.pacer = load_strategy("predictive", self.out.pacing_settings())
        self.rule = QueueRule(
            queue_id=ORDER_QUEUE,
            name="order-line",
            overflow_s=sc.overflow_s,
            callback_after_s=sc.callback_after_s,
        )
        self.now = 0.0
        self._events: list[tuple[float, int, int, int]] = []
        self._seq = 0
        self.desks: list[_Desk] = []
        self.free: dict[int, _Desk] = {}  # insertion order: longest idle first
        self.busy_call: dict[int, tuple[bool, int]] = {}  # agent -> (inbound?, call)
        self.held: frozenset[int] = frozenset()
        self.in_flight: dict[int, float] = {}
        self.pending: dict[int, AnswerKind | str] = {}
        self.out_waiting: dict[int, float] = {}
        self.in_waiting: dict[int, _InCall] = {}
        self.window = AbandonWindow(window_s=30 * 86_400.0)
        self.dial_times: list[float] = []
        self.dials = self.live = self.connected = self.out_abandoned = 0
        self.offered: dict[int, list[int]] = {}  # interval -> [offered, in target]
        self.answer_waits: list[float] = []
        self.idle_s = self.held_idle_s = 0.0
        self.in_abandoned = self.ars_orders = self.callbacks = self.callbacks_served = 0
        self._next = 0
        self.curve_rates = curve_rates = [
            sc.arrival_rate((i + 0.5) * NEED_STEP_S) * sc.agent_share
            for i in range(int(self.out.duration_s / NEED_STEP_S) + 1)
        ]
        cycle_s = self.out.talk.mean + self.out.wrap.mean + CONNECT_WAIT_S
        self.need = NeedCurve.from_rates(
            curve_rates,
            start_s=0.0,
            step_s=NEED_STEP_S,
            aht_s=sc.talk.mean + sc.wrap.mean,
            patience_s=sc.patience.mean,
            target_s=TARGET_S,
            service_level=sc.plan_service_level,
            outbound_agents=self._answer_in_time(),
            outbound_cycle_s=cycle_s,
            offered_load=True,
        )
        self._next_plan_s = 0.0
        self.lead_s = lead_for(self.out.talk.mean, self.out.talk.sd, self.out.wrap.mean)
        self.talk_model = TalkModel(
            talk_mean_s=self.out.talk.mean,
            talk_sd_s=self.out.talk.sd,
            wrap_mean_s=self.out.wrap.mean,
            connect_wait_s=CONNECT_WAIT_S,
        )

    def _answer_in_time(self) -> int:
        """The agents the ACD may give a caller to within the 20-s target (level 1 at once,
        level 2 once the call has waited `overflow_s`): finishing an outbound call while
        a caller waits, they take the caller."""
        if self.sc.overflow_s < TARGET_S:
            return self.out.agents
        return self.sc.level1

    def _split_team(self, rates: list[float]) -> int:
        """Split teams: a fixed inbound team, as many as a team doing nothing else needs at
        the peak (Erlang A at SPLIT_SERVICE_LEVEL)."""
        sc = self.sc
        curve = NeedCurve.from_rates(
            rates,
            start_s=0.0,
            step_s=NEED_STEP_S,
            aht_s=sc.talk.mean + sc.wrap.mean,
            patience_s=sc.patience.mean,
            target_s=TARGET_S,
            service_level=SPLIT_SERVICE_LEVEL,
        )
        return max(curve.needs)

    # -- plumbing --------------------------------------------------------------------------
    def _push(self, at_s: float, kind: int, ref: int) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at_s, kind, self._seq, ref))

    def _id(self) -> int:
        self._next += 1
        return self._next

    def _tell(self, kind: OutcomeKind, duration_s: float) -> None:
        self.pacer.observe(Outcome(kind=kind, at_s=self.now, duration_s=duration_s))

    def _outbound_ok(self, desk: _Desk) -> bool:
        if self.mode == SPLIT_TEAMS:
            return not desk.inbound_team
        if self.mode == BLENDED:
            return desk.agent.agent_id not in self.held
        return True

    def _inbound_ok(self, desk: _Desk) -> bool:
        return desk.inbound_team if self.mode == SPLIT_TEAMS else True

    def _view(self, desk: _Desk) -> AgentView:
        return AgentView(
            agent_id=desk.agent.agent_id,
            skills={ORDER_QUEUE: desk.level},
            free_since_s=desk.agent.ready_since_s,
        )

    # -- agents ----------------------------------------------------------------------------
    def _become_free(self, desk: _Desk) -> None:
        desk.agent.transition(AgentState.READY, at_s=self.now)
        desk.on_inbound = False
        desk.caller = None
        first_outbound = self.mode == BLENDED and self._outbound_ok(desk)
        if first_outbound and self.out_waiting:
            self._take_outbound(desk)
            return
        if self._inbound_ok(desk) and self.in_waiting:
            waiting = [
                Waiting(
                    call_id=str(c.call_id),
                    queue_id=ORDER_QUEUE,
                    since_s=c.queued_s,
                    callback=c.callback,
                )
                for c in self.in_waiting.values()
            ]
            found = pick_call(self._view(desk), waiting, {ORDER_QUEUE: self.rule}, self.now)
            if found is not None:
                self._answer_inbound(desk, self.in_waiting.pop(int(found.call_id)))
                return
        if self._outbound_ok(desk) and self.out_waiting:
            self._take_outbound(desk)
            return
        self.free[desk.agent.agent_id] = desk

    def _take_outbound(self, desk: _Desk) -> None:
        call_id, answered_at = next(iter(self.out_waiting.items()))
        del self.out_waiting[call_id]
        self._connect_outbound(call_id, desk, answered_at)

    def _connect_outbound(self, call_id: int, desk: _Desk, answered_at: float) -> None:
        self.free.pop(desk.agent.agent_id, None)
        desk.agent.transition(AgentState.RESERVED, at_s=self.now)
        self.connected += 1
        self.window.record(AnswerKind.CONNECTED, at_s=self.now)
        self._tell(OutcomeKind.CONNECTED, self.now - answered_at)
        self.busy_call[desk.agent.agent_id] = (False, call_id)
        self._push(self.now + CONNECT_SETUP_S, _CONNECTED, desk.agent.agent_id)

    def _answer_inbound(self, desk: _Desk, call: _InCall) -> None:
        self.free.pop(desk.agent.agent_id, None)
        desk.agent.transition(AgentState.RESERVED, at_s=self.now)
        desk.on_inbound = True
        desk.caller = call.caller
        call.done = True
        self.busy_call[desk.agent.agent_id] = (True, call.call_id)
        if call.callback:  # the agent is reserved first, then the caller is dialled
            self._push(self.now + call.caller.callback_answer_s, _CB_ANSWER, desk.agent.agent_id)
            return
        wait = self.now - call.queued_s
        self.answer_waits.append(wait)
        if wait <= TARGET_S:
            self.offered[int(call.queued_s // INTERVAL_S)][1] += 1
        self._push(self.now + CONNECT_SETUP_S, _CONNECTED, desk.agent.agent_id)

    # -- inbound ---------------------------------------------------------------------------
    def _arrive(self, _ref: int) -> None:
        self._callers += 1
        caller = _Caller.draw(self.sc, random.Random(f"{self.seed}:caller:{self._callers}"))
        if caller.ars:
            self.callers[self._callers] = caller
            self._push(self.now + caller.ars_s, _ARS_END, self._callers)
        else:
            self._enqueue(caller)
        self._schedule_arrival()

    def _ars_end(self, ref: int) -> None:
        caller = self.callers.pop(ref)
        if caller.ars_to_agent:
            self._enqueue(caller)  # pressed 0 or timed out: to an agent
        else:
            self.ars_orders += 1

    def _enqueue(self, caller: _Caller) -> None:
        call = _InCall(call_id=self._id(), queued_s=self.now, caller=caller)
        self.offered.setdefault(int(self.now // INTERVAL_S), [0, 0])[0] += 1
        if self._offer_inbound(call):
            return
        self.in_waiting[call.call_id] = call
        self._overflow_timer(call)
        self._push(self.now + caller.patience_s, _PATIENCE, call.call_id)
        if self.sc.callback_after_s > 0:
            self._push(self.now + self.sc.callback_after_s, _CB_OFFER, call.call_id)

    def _offer_inbound(self, call: _InCall) -> bool:
        """A free agent allowed at the call's wait takes it (held agents first)."""
        free = [d for d in self.free.values() if self._inbound_ok(d)]
        if self.mode == BLENDED:  # held agents answer first, the others if none is free
            held = [d for d in free if d.agent.agent_id in self.held]
            free = held or free
        found = pick_agent(self.rule, self.now - call.queued_s, [self._view(d) for d in free])
        if found is None:
            return False
        self._answer_inbound(self.desks[found.agent_id], call)
        return True

    def _overflow_timer(self, call: _InCall) -> None:
        step = next_overflow_s(self.rule, self.now - call.queued_s)
        if step is not None:
            self._push(self.now + step, _OVERFLOW, call.call_id)

    def _overflow(self, call_id: int) -> None:
        """The call's wait opens the next skill level: its agents may take it now."""
        call = self.in_waiting.get(call_id)
        if call is None:
            return
        if self._offer_inbound(call):
            del self.in_waiting[call_id]
        else:
            self._overflow_timer(call)

    def _patience(self, call_id: int) -> None:
        call = self.in_waiting.get(call_id)
        if call is not None and not call.callback:
            del self.in_waiting[call_id]
            self.in_abandoned += 1

    def _callback_offer(self, call_id: int) -> None:
        call = self.in_waiting.get(call_id)
        if call is not None and not call.callback and call.caller.takes_callback:
            call.callback = True  # hangs up, keeps the place: no patience any more
            self.callbacks += 1

    def _callback_answer(self, agent_id: int) -> None:
        desk = self.desks[agent_id]
        # dialled only now that the agent is reserved: a callback is never abandoned
        assert desk.agent.state is AgentState.RESERVED
        caller = desk.caller
        if caller is not None and caller.picks_up_callback:
            self.callbacks_served += 1
            self._push(self.now + CONNECT_SETUP_S, _CONNECTED, agent_id)
        else:  # nobody picked up: the agent was never on a call, and is free for the next
            self.busy_call.pop(agent_id, None)
            self._become_free(desk)

    def _schedule_arrival(self) -> None:
        # thinning against the highest rate of the shift
        top = max(self.need_rates_max, 1e-9)
        t = self.now
        while True:
            t += self.arrival_rng.expovariate(top)
            if t >= self.out.duration_s:
                return
            if self.arrival_rng.random() * top <= self.sc.arrival_rate(t):
                self._push(t, _ARRIVE, 0)
                return

    # -- outbound --------------------------------------------------------------------------
    def _dial(self) -> None:
        call_id = self._id()
        self.in_flight[call_id] = self.now
        self.dials += 1
        self.dial_times.append(self.now)
        sc, mix, rng = self.out, self.out.mix, self.callee_rng
        u = rng.random()
        if u < mix.live + mix.machine:
            delay = sc.answer_after.sample(rng)
            if delay > sc.max_ring_s:
                outcome, delay = "no_answer", sc.max_ring_s
            elif u < mix.live:
                outcome = "live"
            else:
                outcome, delay = "machine", delay + sc.amd_s
        elif u < mix.live + mix.machine + mix.busy:
            outcome, delay = "busy", min(sc.busy_after.sample(rng), sc.max_ring_s)
        elif u < mix.live + mix.machine + mix.busy + mix.failed:
            outcome, delay = "failed", min(sc.failed_after.sample(rng), sc.max_ring_s)
        else:
            outcome, delay = "no_answer", sc.max_ring_s
        self.pending[call_id] = outcome
        self._push(self.now + delay, _RESOLVE, call_id)

    def _resolve(self, call_id: int) -> None:
        outcome = self.pending.pop(call_id)
        dialed = self.in_flight.pop(call_id)
        kinds = {
            "live": OutcomeKind.ANSWERED_LIVE,
            "machine": OutcomeKind.ANSWERED_MACHINE,
            "busy": OutcomeKind.BUSY,
            "failed": OutcomeKind.FAILED,
            "no_answer": OutcomeKind.NO_ANSWER,
        }
        self._tell(kinds[str(outcome)], self.now - dialed)
        if outcome == "machine":
            self.window.record(AnswerKind.MACHINE, at_s=self.now)
        if outcome != "live":
            return
        self.live += 1
        free = [d for d in self.free.values() if self._outbound_ok(d)]
        if free:
            self._connect_outbound(call_id, free[0], self.now)
        else:
            self.out_waiting[call_id] = self.now
            self._push(self.now + self.out.connect_window_s, _OUT_ABANDON, call_id)

    def _out_abandon(self, call_id: int) -> None:
        answered = self.out_waiting.pop(call_id, None)
        if answered is None:
            return
        self.out_abandoned += 1
        self.window.record(AnswerKind.ABANDONED, at_s=self.now)
        self._tell(OutcomeKind.ABANDONED, self.now - answered)

    def _connected(self, agent_id: int) -> None:
        desk = self.desks[agent_id]
        desk.agent.transition(AgentState.ON_CALL, at_s=self.now)
        talk = (
            desk.caller.talk_s
            if desk.on_inbound and desk.caller
            else self.out.talk.sample(self.agent_rng)
        )
        self._push(self.now + talk, _TALK_END, agent_id)

    def _talk_end(self, agent_id: int) -> None:
        desk = self.desks[agent_id]
        if not desk.on_inbound:
            self._tell(OutcomeKind.TALK_ENDED, desk.agent.elapsed_s(self.now))
        desk.agent.transition(AgentState.WRAP_UP, at_s=self.now)
        wrap = (
            desk.caller.wrap_s
            if desk.on_inbound and desk.caller
            else self.out.wrap.sample(self.agent_rng)
        )
        self._push(self.now + wrap, _WRAP_END, agent_id)

    def _wrap_end(self, agent_id: int) -> None:
        desk = self.desks[agent_id]
        inbound, _ = self.busy_call.pop(agent_id, (False, 0))
        if not inbound:
            self._tell(OutcomeKind.WRAP_ENDED, desk.agent.elapsed_s(self.now))
        self._become_free(desk)

    # -- the pacing loop -------------------------------------------------------------------
    def _plan_hold(self) -> None:
        seats = []
        for d in self.desks:
            state, elapsed = d.agent.state, d.agent.elapsed_s(self.now)
            free = state is AgentState.READY and d.agent.agent_id in self.free
            seats.append(
                Seat(
                    agent_id=d.agent.agent_id,
                    level=d.level,
                    inbound=free or d.on_inbound,
                    on_inbound_call=d.on_inbound and not free,
                    talking_for_s=elapsed
                    if state is AgentState.ON_CALL
                    else (0.0 if state is AgentState.RESERVED else None),
                    wrapping_for_s=elapsed if state is AgentState.WRAP_UP else None,
                )
            )
        floor = sum(1 for d in self.desks if d.on_inbound) + len(self.in_waiting)
        self.held = hold_set(
            need=self.need,
            now_s=self.now,
            lead_s=self.lead_s,
            seats=seats,
            talk=self.talk_model,
            floor=floor,
            held_before=self.held,
        )

    def _tick(self, _ref: int) -> None:
        if self.mode == BLENDED and self.now >= self._next_plan_s:
            self._plan_hold()
            self._next_plan_s = self.now + PLAN_EVERY_S
        self.idle_s += TICK_S * len(self.free)
        self.held_idle_s += TICK_S * sum(1 for a in self.free if a in self.held)
        pool = [d for d in self.desks if self._outbound_ok(d)]
        now = self.now
        ready = [
            now - d.agent.since_s
            for d in pool
            if d.agent.state is AgentState.READY and d.agent.agent_id in self.free
        ]
        snap = Snapshot(
            now_s=now,
            ready_s=tuple(ready),
            reserved=sum(1 for d in pool if d.agent.state is AgentState.RESERVED),
            on_call_s=tuple(
                now - d.agent.since_s
                for d in pool
                if d.agent.state is AgentState.ON_CALL and not d.on_inbound
            ),
            wrap_up_s=tuple(
                now - d.agent.since_s
                for d in pool
                if d.agent.state is AgentState.WRAP_UP and not d.on_inbound
            ),
            paused=0,
            ringing_s=tuple(now - t for t in self.in_flight.values()),
            waiting_s=tuple(now - t for t in self.out_waiting.values()),
            stats=self._stats(),
            settings=self.out.pacing_settings(),
        )
        wanted = self.pacer.calls_to_place(snap)
        if self.mode == NO_DIAL_WHILE_WAITING and self.in_waiting:
            wanted = 0  # VICIdial: no outbound dialing while an inbound call waits
        allowed, _ = cap_dials(
            wanted,
            free_lines=snap.free_lines,
            abandon_rate=self.window.rate(now),
            cap=self.out.abandon_cap,
        )
        allowed = min(allowed, MAX_LINES_PER_AGENT * len(pool) - len(self.in_flight))
        for _ in range(max(0, allowed)):
            self._dial()
        if now + TICK_S < self.out.duration_s:
            self._push(now + TICK_S, _TICK, 0)

    def _stats(self) -> OutcomeStats:
        c = self.window.counts(self.now)
        return OutcomeStats(
            dials=self.dials,
            live_answers=c.live_answers,
            machines=c.machines,
            abandoned=c.abandoned,
        )

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> BlendResult:
        sc = self.sc
        self.need_rates_max = (
            max(sc.arrival_rate(t) for t in range(0, int(self.out.duration_s), 10)) * 1.05
        )
        teams = self._split_team(self.curve_rates) if self.mode == SPLIT_TEAMS else 0
        for i in range(self.out.agents):
            agent = Agent(i, at_s=0.0)
            desk = _Desk(agent=agent, level=1 if i < sc.level1 else 2, inbound_team=i < teams)
            self.desks.append(desk)
            agent.transition(AgentState.READY, at_s=0.0)
            self.free[i] = desk
        self._schedule_arrival()
        self._push(0.0, _TICK, 0)
        handlers: dict[int, Callable[[int], None]] = {
            _RESOLVE: self._resolve, _CONNECTED: self._connected, _TALK_END: self._talk_end,
            _WRAP_END: self._wrap_end, _OUT_ABANDON: self._out_abandon, _ARRIVE: self._arrive,
            _ARS_END: self._ars_end, _PATIENCE: self._patience, _CB_OFFER: self._callback_offer,
            _CB_ANSWER: self._callback_answer, _OVERFLOW: self._overflow, _TICK: self._tick,
        }  # fmt: skip
        while self._events and self._events[0][0] < self.out.duration_s:
            at_s, kind, _, ref = heapq.heappop(self._events)
            self.now = at_s
            handlers[kind](ref)
        self.now = self.out.duration_s
        return self._result()

    def _peak_intervals(self) -> list[int]:
        out: set[int] = set()
        for b in self.sc.broadcasts:
            first = int(b.start_s // INTERVAL_S)
            last = math.ceil(b.end_s / INTERVAL_S)
            out.update(range(first, last))
        return sorted(out)

    def _result(self) -> BlendResult:
        end = self.out.duration_s
        logged = sum(
            sum(d.agent.time_in_state(end).values())
            - d.agent.time_in_state(end)[AgentState.OFFLINE]
            for d in self.desks
        )
        offered = sum(v[0] for v in self.offered.values())
        in_target = sum(v[1] for v in self.offered.values())
        peak = [(i * INTERVAL_S, *self.offered.get(i, [0, 0])) for i in self._peak_intervals()]
        worst = min((t / o for _, o, t in peak if o), default=1.0)
        live = self.connected + self.out_abandoned
        cb_pending = sum(1 for c in self.in_waiting.values() if c.callback)
        return BlendResult(
            strategy=self.mode, seed=self.seed,
            service_level=in_target / offered if offered else 1.0,
            service_level_worst_interval=worst,
            asa_s=sum(self.answer_waits) / len(self.answer_waits) if self.answer_waits else 0.0,
            queue_abandon_rate=self.in_abandoned / offered if offered else 0.0,
            outbound_contacts_per_agent_hour=self.connected / (logged / 3600.0),
            outbound_abandon_rate=self.out_abandoned / live if live else 0.0,
            inbound_offered=offered, ars_orders=self.ars_orders, callbacks=self.callbacks,
            callbacks_pending_at_end=cb_pending, outbound_dials=self.dials,
            outbound_connected=self.connected,
            intervals=tuple((s, o, t) for s, o, t in peak),
            idle_agent_hours=self.idle_s / 3600.0,
            held_idle_agent_hours=self.held_idle_s / 3600.0,
        )  # fmt: skip


def simulate_blended(sc: InboundScenario, strategy: str, *, seed: int) -> BlendResult:
    return BlendedShift(sc, strategy, seed=seed).run()
