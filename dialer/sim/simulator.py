"""Discrete-event simulation of one shift: virtual clock, seeded carrier and agents.

The pacing strategy, the agent state machine, the call lifecycle and the abandon-cap part
of the compliance guard are the production code; only the carrier, the callees and the
agents' talk and wrap times are simulated. Leads are an endless synthetic list that passes
the per-lead rules.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable

from dialer.core.abandon import AbandonWindow, AnswerKind
from dialer.core.agents import Agent, AgentState
from dialer.core.calls import CallAttempt, CallState
from dialer.core.compliance import cap_dials
from dialer.core.pacing.base import Outcome, OutcomeKind, OutcomeStats, PacingStrategy, Snapshot
from dialer.sim.results import ShiftResult, percentile, worst_hour_rate
from dialer.sim.scenario import CalleeMix, Scenario

TICK_S = 1.0  # the strategy is asked every second of virtual time
CONNECT_SETUP_S = 0.25  # bridging a live answer to the chosen agent
MAX_LINES_PER_AGENT = 10  # trunk ceiling, whatever a strategy asks

# event kinds, in the order they run when they fall on the same instant
_RESOLVE, _CONNECTED, _TALK_END, _WRAP_END, _ABANDON_CHECK, _STAFFING, _DRIFT, _TICK = range(8)


class ShiftSimulator:
    def __init__(self, scenario: Scenario, strategy: PacingStrategy, *, seed: int) -> None:
        self.scenario = scenario
        self.strategy = strategy
        self.seed = seed
        self.callee_rng = random.Random(f"{seed}:callee")
        self.agent_rng = random.Random(f"{seed}:agent")
        self.mix: CalleeMix = scenario.mix
        self.now = 0.0
        self._events: list[tuple[float, int, int, int]] = []
        self._seq = 0
        self.agents: list[Agent] = []
        self.ready: dict[int, Agent] = {}  # insertion order: longest idle first
        self.on_call: dict[int, Agent] = {}
        self.wrap: dict[int, Agent] = {}
        self.reserved: dict[int, Agent] = {}
        self.in_flight: dict[int, float] = {}  # call id -> dial time
        self.waiting: dict[int, float] = {}  # live answers waiting: call id -> answer time
        self.calls: dict[int, CallAttempt] = {}
        self.preview_agent: dict[int, Agent] = {}  # call id -> agent held for it
        self.window = AbandonWindow(window_s=30 * 86_400.0)
        self.answers: list[tuple[float, bool]] = []
        self.connect_waits: list[float] = []
        self.dials = self.live = self.connected = self.abandoned = self.refused = 0
        self._next_call_id = 0

    # -- events ---------------------------------------------------------------------------
    def _push(self, at_s: float, kind: int, ref: int) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at_s, kind, self._seq, ref))

    def _tell(self, kind: OutcomeKind, duration_s: float) -> None:
        self.strategy.observe(Outcome(kind=kind, at_s=self.now, duration_s=duration_s))

    # -- agents ---------------------------------------------------------------------------
    def _log_in(self) -> None:
        agent = Agent(len(self.agents), at_s=self.now)
        self.agents.append(agent)
        self._make_ready(agent)

    def _make_ready(self, agent: Agent) -> None:
        if agent.logout_requested:
            if agent.state is AgentState.RESERVED:
                # A preview call that did not connect: the agent was never on a call.
                agent.transition(AgentState.READY, at_s=self.now)
            agent.transition(AgentState.OFFLINE, at_s=self.now)
            return
        agent.transition(AgentState.READY, at_s=self.now)
        if self.waiting:
            call_id, answered_at = next(iter(self.waiting.items()))
            del self.waiting[call_id]
            self._connect(call_id, agent, answered_at)
        else:
            self.ready[agent.agent_id] = agent

    def _connect(self, call_id: int, agent: Agent, answered_at: float) -> None:
        agent.transition(AgentState.RESERVED, at_s=self.now)
        self.reserved[agent.agent_id] = agent
        wait = self.now - answered_at
        self.connect_waits.append(wait)
        self.connected += 1
        self.answers.append((answered_at, False))
        self.window.record(AnswerKind.CONNECTED, at_s=self.now)
        call = self.calls.pop(call_id)
        call.advance(CallState.CONNECTED, at_s=self.now)
        self._tell(OutcomeKind.CONNECTED, wait)
        self._push(self.now + CONNECT_SETUP_S, _CONNECTED, agent.agent_id)

    def _staff(self, target: int) -> None:
        active = [a for a in self.agents if a.logged_in and not a.logout_requested]
        for _ in range(target - len(active)):
            returning = next((a for a in self.agents if a.logout_requested), None)
            if returning is not None:  # still finishing a call: cancel the logout
                returning.logout_requested = False
            else:
                self._log_in()
        excess = len(active) - target
        # the most recently idle leave first; busy agents finish their call, then leave
        for agent in reversed(list(self.ready.values())):
            if excess <= 0:
                break
            del self.ready[agent.agent_id]
            agent.transition(AgentState.OFFLINE, at_s=self.now)
            excess -= 1
        for agent in active:
            if excess <= 0:
                break
            if agent.is_busy:
                agent.logout_requested = True
                excess -= 1

    # -- calls ----------------------------------------------------------------------------
    def _dial(self) -> None:
        call_id = self._next_call_id
        self._next_call_id += 1
        call = CallAttempt(call_id, lead_id=call_id, at_s=self.now)
        call.advance(CallState.DIALING, at_s=self.now)
        self.calls[call_id] = call
        self.in_flight[call_id] = self.now
        self.dials += 1
        if self.strategy.dedicated_agent and self.ready:
            agent = self.ready.pop(next(iter(self.ready)))
            agent.transition(AgentState.RESERVED, at_s=self.now)
            self.reserved[agent.agent_id] = agent
            self.preview_agent[call_id] = agent
        sc, mix, rng = self.scenario, self.mix, self.callee_rng
        u = rng.random()
        if u < mix.live + mix.machine:
            delay = sc.answer_after.sample(rng)
            if delay > sc.max_ring_s:
                self._pending[call_id] = CallState.NO_ANSWER
                delay = sc.max_ring_s
            elif u < mix.live:
                self._pending[call_id] = CallState.ANSWERED_LIVE
            else:
                self._pending[call_id] = CallState.ANSWERED_MACHINE
                delay += sc.amd_s
        elif u < mix.live + mix.machine + mix.busy:
            self._pending[call_id] = CallState.BUSY
            delay = min(sc.busy_after.sample(rng), sc.max_ring_s)
        elif u < mix.live + mix.machine + mix.busy + mix.failed:
            self._pending[call_id] = CallState.FAILED
            delay = min(sc.failed_after.sample(rng), sc.max_ring_s)
        else:
            self._pending[call_id] = CallState.NO_ANSWER
            delay = sc.max_ring_s
        self._push(self.now + delay, _RESOLVE, call_id)

    def _resolve(self, call_id: int) -> None:
        state = self._pending.pop(call_id)
        dialed_at = self.in_flight.pop(call_id)
        call = self.calls[call_id]
        if state in (CallState.BUSY, CallState.FAILED):
            call.advance(state, at_s=self.now)
        else:
            call.advance(CallState.RINGING, at_s=dialed_at)
            call.advance(state, at_s=self.now)
        held = self.preview_agent.pop(call_id, None)
        kind = OutcomeKind(state.value)
        self._tell(kind, self.now - dialed_at)
        if state is not CallState.ANSWERED_LIVE:
            del self.calls[call_id]
            if state is CallState.ANSWERED_MACHINE:
                self.window.record(AnswerKind.MACHINE, at_s=self.now)
            if held is not None:
                del self.reserved[held.agent_id]
                self._make_ready(held)
            return
        self.live += 1
        if held is not None:
            del self.reserved[held.agent_id]
            held.transition(AgentState.READY, at_s=self.now)
            self._connect(call_id, held, self.now)
        elif self.ready:
            agent = self.ready.pop(next(iter(self.ready)))
            self._connect(call_id, agent, self.now)
        else:
            self.waiting[call_id] = self.now
            self._push(self.now + self.scenario.connect_window_s, _ABANDON_CHECK, call_id)

    def _abandon_check(self, call_id: int) -> None:
        answered_at = self.waiting.pop(call_id, None)
        if answered_at is None:
            return  # an agent took it in time
        self.abandoned += 1
        self.answers.append((answered_at, True))
        self.window.record(AnswerKind.ABANDONED, at_s=self.now)
        self.calls.pop(call_id).advance(CallState.ABANDONED, at_s=self.now)
        self._tell(OutcomeKind.ABANDONED, self.now - answered_at)

    # -- the pacing loop ------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        now = self.now
        counts = self.window.counts(now)
        stats = OutcomeStats(dials=self.dials, live_answers=counts.live_answers,
                             machines=counts.machines, abandoned=counts.abandoned)
        paused = sum(1 for a in self.agents if a.state is AgentState.PAUSED)
        return Snapshot(
            now_s=now,
            ready_s=tuple(now - a.since_s for a in self.ready.values()),
            reserved=len(self.reserved),
            on_call_s=tuple(now - a.since_s for a in self.on_call.values()),
            wrap_up_s=tuple(now - a.since_s for a in self.wrap.values()),
            paused=paused,
            ringing_s=tuple(now - t for t in self.in_flight.values()),
            waiting_s=tuple(now - t for t in self.waiting.values()),
            stats=stats,
            settings=self._settings,
        )

    def _tick(self) -> None:
        snap = self.snapshot()
        wanted = self.strategy.calls_to_place(snap)
        rate = self.window.rate(self.now)
        allowed, refusal = cap_dials(wanted, free_lines=snap.free_lines, abandon_rate=rate,
                                     cap=self.scenario.abandon_cap)
        if refusal is not None:
            self.refused += wanted - allowed
        logged_in = snap.logged_in
        allowed = min(allowed, MAX_LINES_PER_AGENT * logged_in - len(self.in_flight))
        if self.strategy.dedicated_agent:
            allowed = min(allowed, len(self.ready))
        for _ in range(max(0, allowed)):
            self._dial()
        if self.now + TICK_S < self.scenario.duration_s:
            self._push(self.now + TICK_S, _TICK, 0)

    def run(self) -> ShiftResult:
        started = time.perf_counter()
        sc = self.scenario
        self._settings = sc.pacing_settings()
        self._pending: dict[int, CallState] = {}
        for _ in range(sc.agents):
            self._log_in()
        for i, change in enumerate(sc.staffing_changes):
            self._push(change.at_s, _STAFFING, i)
        for i, drift in enumerate(sc.drift):
            self._push(drift.at_s, _DRIFT, i)
        self._push(0.0, _TICK, 0)
        handlers: dict[int, Callable[[int], None]] = {
            _RESOLVE: self._resolve,
            _CONNECTED: self._on_connected,
            _TALK_END: self._on_talk_end,
            _WRAP_END: self._on_wrap_end,
            _ABANDON_CHECK: self._abandon_check,
            _STAFFING: lambda i: self._staff(sc.staffing_changes[i].agents),
            _DRIFT: self._on_drift,
            _TICK: lambda _ref: self._tick(),
        }
        events = self._events
        while events and events[0][0] < sc.duration_s:
            at_s, kind, _seq, ref = heapq.heappop(events)
            self.now = at_s
            handlers[kind](ref)
        self.now = sc.duration_s
        return self._result(time.perf_counter() - started)

    def _on_drift(self, i: int) -> None:
        self.mix = self.scenario.drift[i].mix

    def _on_connected(self, agent_id: int) -> None:
        agent = self.reserved.pop(agent_id)
        agent.transition(AgentState.ON_CALL, at_s=self.now)
        self.on_call[agent_id] = agent
        self._push(self.now + self.scenario.talk.sample(self.agent_rng), _TALK_END, agent_id)

    def _on_talk_end(self, agent_id: int) -> None:
        agent = self.on_call.pop(agent_id)
        self._tell(OutcomeKind.TALK_ENDED, agent.elapsed_s(self.now))
        agent.transition(AgentState.WRAP_UP, at_s=self.now)
        self.wrap[agent_id] = agent
        self._push(self.now + self.scenario.wrap.sample(self.agent_rng), _WRAP_END, agent_id)

    def _on_wrap_end(self, agent_id: int) -> None:
        agent = self.wrap.pop(agent_id)
        self._tell(OutcomeKind.WRAP_ENDED, agent.elapsed_s(self.now))
        self._make_ready(agent)

    # -- results --------------------------------------------------------------------------
    def _result(self, wall_s: float) -> ShiftResult:
        sc, end = self.scenario, self.scenario.duration_s
        talk = wrap = logged = 0.0
        for agent in self.agents:
            spent = agent.time_in_state(end)
            talk += spent[AgentState.ON_CALL]
            wrap += spent[AgentState.WRAP_UP]
            logged += sum(spent.values()) - spent[AgentState.OFFLINE] - spent[AgentState.PAUSED]
        live = self.connected + self.abandoned
        per_hour = self.connected / (logged / 3600.0) if logged else 0.0
        return ShiftResult(
            scenario=sc.name, strategy=self.strategy.name, seed=self.seed, agents=sc.agents,
            dials=self.dials, live_answers=live, connected=self.connected,
            abandoned=self.abandoned, abandon_rate=self.abandoned / live if live else 0.0,
            worst_hour_abandon_rate=worst_hour_rate(sorted(self.answers)),
            occupancy=(talk + wrap) / logged if logged else 0.0,
            talk_occupancy=talk / logged if logged else 0.0,
            contacts_per_agent_hour=per_hour, contacts_bound=sc.contacts_bound,
            bound_ratio=per_hour / sc.contacts_bound, connect_wait_p50_s=percentile(
                self.connect_waits, 50), connect_wait_p99_s=percentile(self.connect_waits, 99),
            refused_dials=self.refused, sim_seconds=end, wall_seconds=wall_s,
        )


def simulate(scenario: Scenario, strategy: PacingStrategy, *, seed: int) -> ShiftResult:
    return ShiftSimulator(scenario, strategy, seed=seed).run()
