"""Discrete-event simulation of one shift: virtual clock, seeded carrier and agents.

The planner (strategy, ceiling and abandon cap: `dialer.core.planner`), the agent state
machine and the call lifecycle are the production code; the callees come from the shared
carrier model (`dialer.sim.carrier`), the agents' talk and wrap times from the scenario.
Leads are an endless synthetic list that passes the per-lead rules.

The floor follows a roster worked out before the shift starts (`roster`): who logs in and
out at each staffing change and who takes each break. The planner learns each departure
when the scenario says it is announced (`notice_s`, by default from the start), as a real
floor knows its schedule; a busy agent leaves once its call and wrap-up are over.

Events are (time, kind, sequence, ref) in a heap; kinds that fall on the same instant run
in `Ev` order. A new kind of event is a member of `Ev` and a handler in `_handlers`.
"""

from __future__ import annotations

import dataclasses
import enum
import heapq
import math
import random
import time
from collections.abc import Callable

from dialer.core.abandon import AbandonWindow
from dialer.core.agents import Agent, AgentState
from dialer.core.calls import CallAttempt, CallState
from dialer.core.pacing.base import OutcomeKind, PacingStrategy
from dialer.core.planner import Decision, Floor, Planner
from dialer.sim.carrier import CarrierModel
from dialer.sim.results import ShiftResult, hourly, percentile, worst_hour_rate
from dialer.sim.scenario import Scenario

TICK_S = 1.0  # the planner is asked every second of virtual time
CONNECT_SETUP_S = 0.25  # bridging a live answer to the chosen agent
COMPLIANCE_WINDOW_S = 30 * 86_400.0  # the abandon rate the cap is judged on (US rules)


_DIAL_OUTCOME = {state: OutcomeKind(state.value) for state in (
    CallState.ANSWERED_LIVE, CallState.ANSWERED_MACHINE, CallState.BUSY, CallState.FAILED,
    CallState.NO_ANSWER)}  # fmt: skip


class Ev(enum.IntEnum):
    """Event kinds, in the order they run when they fall on the same instant."""

    RESOLVE = enum.auto()  # the carrier reports a dial's outcome
    CONNECTED = enum.auto()  # a live answer is bridged to its agent
    TALK_END = enum.auto()
    WRAP_END = enum.auto()
    ABANDON_CHECK = enum.auto()  # the connect window of a waiting live answer ran out
    NOTICE = enum.auto()  # a scheduled departure becomes known to the planner
    LOGIN = enum.auto()
    RETURN = enum.auto()  # back from a break
    DEPART = enum.auto()  # a scheduled break or logout is due
    TICK = enum.auto()  # the planner decides


class Move(enum.Enum):
    LOGIN = "login"
    LOGOUT = "logout"
    BREAK = "break"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RosterItem:
    """One agent's scheduled move."""

    agent: int
    move: Move
    at_s: float
    notice_at_s: float = 0.0  # when the planner learns of a departure
    for_s: float = 0.0  # a break's length
    reason: str = "break"


def roster(scenario: Scenario) -> tuple[int, list[RosterItem]]:
    """How many agents the shift needs, and every login, logout and break, in time order.

    Staffing changes log out the agents who logged in last (and log back in those who
    left last); breaks go round the agents logged in at the time, in id order, skipping
    anyone on a break already or whose shift ends before the break would."""
    active = list(range(scenario.agents))  # the last to log in at the end
    gone: list[int] = []  # logged out, the last to leave at the end
    intervals: dict[int, list[list[float]]] = {a: [[0.0, math.inf]] for a in active}
    size = scenario.agents
    items: list[RosterItem] = []
    for change in scenario.staffing_changes:
        notice_at = _notice_at(change.at_s, change.notice_s)
        for _ in range(len(active) - change.agents):
            agent = active.pop()
            gone.append(agent)
            intervals[agent][-1][1] = change.at_s
            items.append(
                RosterItem(agent=agent, move=Move.LOGOUT, at_s=change.at_s, notice_at_s=notice_at)
            )
        for _ in range(change.agents - len(active)):
            if gone:
                agent = gone.pop()
            else:
                agent, size = size, size + 1
            active.append(agent)
            intervals.setdefault(agent, []).append([change.at_s, math.inf])
            items.append(RosterItem(agent=agent, move=Move.LOGIN, at_s=change.at_s))
    on_break_until = dict.fromkeys(intervals, -math.inf)
    turn = 0  # round-robin over agent ids
    for brk in scenario.breaks:
        for i in range(brk.agents):
            start = brk.at_s + (brk.spread_s * i / brk.agents if brk.agents else 0.0)
            end = start + brk.for_s
            eligible = sorted(
                a
                for a, spans in intervals.items()
                if on_break_until[a] <= start and any(lo <= start and end < hi for lo, hi in spans)
            )
            if not eligible:
                continue
            agent = next((a for a in eligible if a >= turn), eligible[0])
            turn = agent + 1
            on_break_until[agent] = end
            items.append(
                RosterItem(
                    agent=agent,
                    move=Move.BREAK,
                    at_s=start,
                    for_s=brk.for_s,
                    notice_at_s=_notice_at(start, brk.notice_s),
                    reason=brk.reason,
                )
            )
    items.sort(key=lambda item: item.at_s)
    return size, items


def _notice_at(at_s: float, notice_s: float | None) -> float:
    return 0.0 if notice_s is None else max(0.0, at_s - notice_s)


class ShiftSimulator:
    def __init__(self, scenario: Scenario, strategy: PacingStrategy, *, seed: int) -> None:
        self.scenario = scenario
        self.strategy = strategy
        self.seed = seed
        self.carrier = CarrierModel(scenario, rng=random.Random(f"{seed}:callee"))
        self.agent_rng = random.Random(f"{seed}:agent")
        self.now = 0.0
        self._events: list[tuple[float, int, int, int]] = []
        self._seq = 0
        size, self.roster = roster(scenario)
        self.agents: list[Agent] = [Agent(i, at_s=0.0) for i in range(size)]
        self.ready: dict[int, Agent] = {}  # insertion order: longest idle first
        self.on_call: dict[int, Agent] = {}
        self.wrap: dict[int, Agent] = {}
        self.reserved: dict[int, Agent] = {}
        self.paused: dict[int, Agent] = {}  # on a break
        self.in_flight: dict[int, float] = {}  # call id -> dial time
        self.waiting: dict[int, float] = {}  # live answers waiting: call id -> answer time
        self.calls: dict[int, CallAttempt] = {}
        self.preview_agent: dict[int, Agent] = {}  # call id -> agent held for it
        self._pending: dict[int, CallState] = {}  # call id -> outcome the carrier drew
        self._known: dict[int, list[RosterItem]] = {}  # agent -> departures announced
        self._due: dict[int, RosterItem] = {}  # agent -> departure waiting for its call
        self.window = AbandonWindow(window_s=COMPLIANCE_WINDOW_S)
        self.planner = Planner(
            strategy,
            settings=scenario.pacing_settings(),
            window=self.window,
            clock=lambda: self.now,
        )
        self.answers: list[tuple[float, bool]] = []
        self.connect_waits: list[float] = []
        self.dials = self.live = self.connected = self.abandoned = 0
        self._next_call_id = 0

    # -- events ---------------------------------------------------------------------------
    def _push(self, at_s: float, kind: Ev, ref: int) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at_s, kind, self._seq, ref))

    def _handlers(self) -> list[Callable[[int], None]]:
        """Each kind's handler, indexed by kind (a list: enum members hash slowly)."""
        by_kind: dict[Ev, Callable[[int], None]] = {
            Ev.RESOLVE: self._resolve,
            Ev.CONNECTED: self._on_connected,
            Ev.TALK_END: self._on_talk_end,
            Ev.WRAP_END: self._on_wrap_end,
            Ev.ABANDON_CHECK: self._abandon_check,
            Ev.NOTICE: self._on_notice,
            Ev.LOGIN: self._on_login,
            Ev.RETURN: self._on_return,
            Ev.DEPART: self._on_depart,
            Ev.TICK: self._tick,
        }
        return [
            by_kind.get(Ev(k), self._unknown) if k else self._unknown for k in range(max(Ev) + 1)
        ]

    def _unknown(self, ref: int) -> None:
        raise AssertionError(f"an event kind without a handler (ref {ref})")

    def _tell(self, kind: OutcomeKind, duration_s: float) -> None:
        self.planner.observe(kind, duration_s)

    # -- agents ---------------------------------------------------------------------------
    def _make_ready(self, agent: Agent) -> None:
        """The agent is free (after wrap-up, or a held preview call that did not connect):
        a departure that came due meanwhile happens now; otherwise ready for calls."""
        due = self._due.pop(agent.agent_id, None)
        if due is not None:
            if agent.state is AgentState.RESERVED:
                agent.transition(AgentState.READY, at_s=self.now)  # never was on a call
            self._leave(agent, due)
            return
        agent.transition(AgentState.READY, at_s=self.now)
        if self.waiting:
            call_id, answered_at = next(iter(self.waiting.items()))
            del self.waiting[call_id]
            self._connect(call_id, agent, answered_at)
        else:
            self.ready[agent.agent_id] = agent

    def _leave(self, agent: Agent, item: RosterItem) -> None:
        """A logout or a break starts now (the agent is ready, paused or wrapping up)."""
        self._forget(agent, item)
        if item.move is Move.LOGOUT:
            self.paused.pop(agent.agent_id, None)
            agent.returns_at_s = None
            agent.transition(AgentState.OFFLINE, at_s=self.now)
            return
        self.paused[agent.agent_id] = agent
        agent.transition(AgentState.PAUSED, at_s=self.now, reason=item.reason)
        agent.returns_at_s = self.now + item.for_s
        self._push(agent.returns_at_s, Ev.RETURN, agent.agent_id)

    def _forget(self, agent: Agent, item: RosterItem) -> None:
        known = self._known.get(agent.agent_id)
        if known and item in known:
            known.remove(item)
        agent.leaves_at_s = min((k.at_s for k in known), default=None) if known else None

    def _on_notice(self, index: int) -> None:
        item = self.roster[index]
        agent = self.agents[item.agent]
        self._known.setdefault(item.agent, []).append(item)
        if agent.leaves_at_s is None or item.at_s < agent.leaves_at_s:
            agent.leaves_at_s = item.at_s

    def _on_login(self, index: int) -> None:
        agent = self.agents[self.roster[index].agent]
        due = self._due.get(agent.agent_id)
        if due is not None and due.move is Move.LOGOUT:  # still on its last call: stays
            del self._due[agent.agent_id]
            agent.logout_requested = False
            self._forget(agent, due)
        elif agent.state is AgentState.OFFLINE:
            self._make_ready(agent)

    def _on_depart(self, index: int) -> None:
        item = self.roster[index]
        agent = self.agents[item.agent]
        state = agent.state
        if state is AgentState.READY:
            del self.ready[agent.agent_id]
            self._leave(agent, item)
        elif state is AgentState.PAUSED:
            if item.move is Move.LOGOUT:
                self._leave(agent, item)
            else:
                self._forget(agent, item)  # already paused: this break is skipped
        elif state is AgentState.OFFLINE:
            self._forget(agent, item)
        else:  # busy: leaves once the call and its wrap-up are over (a logout wins)
            earlier = self._due.get(agent.agent_id)
            if earlier is None or item.move is Move.LOGOUT:
                if earlier is not None:
                    self._forget(agent, earlier)
                self._due[agent.agent_id] = item
                agent.logout_requested = item.move is Move.LOGOUT
            else:
                self._forget(agent, item)

    def _on_return(self, agent_id: int) -> None:
        agent = self.agents[agent_id]
        if agent.state is AgentState.PAUSED and agent.returns_at_s == self.now:
            del self.paused[agent_id]
            agent.returns_at_s = None
            self._make_ready(agent)

    def _connect(self, call_id: int, agent: Agent, answered_at: float) -> None:
        agent.transition(AgentState.RESERVED, at_s=self.now)
        self.reserved[agent.agent_id] = agent
        wait = self.now - answered_at
        self.connect_waits.append(wait)
        self.connected += 1
        self.answers.append((answered_at, False))
        call = self.calls.pop(call_id)
        call.advance(CallState.CONNECTED, at_s=self.now)
        self._tell(OutcomeKind.CONNECTED, wait)
        self._push(self.now + CONNECT_SETUP_S, Ev.CONNECTED, agent.agent_id)

    # -- calls ----------------------------------------------------------------------------
    def _dial(self, count: int) -> None:
        """Place `count` calls now, a tick's worth: ~5 a second on a 100-agent floor, so
        the loop keeps what it uses at hand."""
        now, ready, calls, in_flight = self.now, self.ready, self.calls, self.in_flight
        pending, draw = self._pending, self.carrier.draw
        dedicated = self.strategy.dedicated_agent
        self.dials += count
        self.planner.dialed(count)
        for call_id in range(self._next_call_id, self._next_call_id + count):
            call = CallAttempt(call_id, lead_id=call_id, at_s=now)
            call.advance(CallState.DIALING, at_s=now)
            calls[call_id] = call
            in_flight[call_id] = now
            if dedicated and ready:
                agent = ready.pop(next(iter(ready)))
                agent.transition(AgentState.RESERVED, at_s=now)
                self.reserved[agent.agent_id] = agent
                self.preview_agent[call_id] = agent
            outcome, after_s = draw(at_s=now)
            pending[call_id] = outcome
            self._push(now + after_s, Ev.RESOLVE, call_id)
        self._next_call_id += count

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
        self._tell(_DIAL_OUTCOME[state], self.now - dialed_at)
        if state is not CallState.ANSWERED_LIVE:
            del self.calls[call_id]
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
            self._push(self.now + self.scenario.connect_window_s, Ev.ABANDON_CHECK, call_id)

    def _abandon_check(self, call_id: int) -> None:
        answered_at = self.waiting.pop(call_id, None)
        if answered_at is None:
            return  # an agent took it in time
        self.abandoned += 1
        self.answers.append((answered_at, True))
        self.calls.pop(call_id).advance(CallState.ABANDONED, at_s=self.now)
        self._tell(OutcomeKind.ABANDONED, self.now - answered_at)

    # -- the pacing loop ------------------------------------------------------------------
    def floor(self) -> Floor:
        """The floor as the planner sees it (the groups the simulator keeps)."""
        return Floor(
            ready=self.ready.values(),
            reserved=len(self.reserved),
            on_call=self.on_call.values(),
            wrap_up=self.wrap.values(),
            paused=self.paused.values(),
        )

    def _capacity(self) -> int | None:
        lines = self.carrier.lines
        return None if lines is None else lines - len(self.in_flight)

    def plan(self) -> Decision:
        """The planner's decision for the floor as it is now."""
        return self.planner.plan(
            floor=self.floor(),
            dialed_at_s=self.in_flight.values(),
            answered_at_s=self.waiting.values(),
            capacity=self._capacity(),
        )

    def _tick(self, _ref: int) -> None:
        decision = self.plan()
        if decision.count:
            self._dial(decision.count)
        if self.now + TICK_S < self.scenario.duration_s:
            self._push(self.now + TICK_S, Ev.TICK, 0)

    def run(self) -> ShiftResult:
        started = time.perf_counter()
        sc = self.scenario
        for agent in self.agents[: sc.agents]:
            self._make_ready(agent)
        for index, item in enumerate(self.roster):
            if item.move is Move.LOGIN:
                self._push(item.at_s, Ev.LOGIN, index)
            else:
                self._push(item.notice_at_s, Ev.NOTICE, index)
                self._push(item.at_s, Ev.DEPART, index)
        self._push(0.0, Ev.TICK, 0)
        handlers, events, pop, end = self._handlers(), self._events, heapq.heappop, sc.duration_s
        while events and events[0][0] < end:
            at_s, kind, _seq, ref = pop(events)
            self.now = at_s
            handlers[kind](ref)
        self.now = sc.duration_s
        return self._result(time.perf_counter() - started)

    def _on_connected(self, agent_id: int) -> None:
        agent = self.reserved.pop(agent_id)
        agent.transition(AgentState.ON_CALL, at_s=self.now)
        self.on_call[agent_id] = agent
        self._push(self.now + self.scenario.talk.sample(self.agent_rng), Ev.TALK_END, agent_id)

    def _on_talk_end(self, agent_id: int) -> None:
        agent = self.on_call.pop(agent_id)
        self._tell(OutcomeKind.TALK_ENDED, agent.elapsed_s(self.now))
        agent.transition(AgentState.WRAP_UP, at_s=self.now)
        self.wrap[agent_id] = agent
        self._push(self.now + self.scenario.wrap.sample(self.agent_rng), Ev.WRAP_END, agent_id)

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
        answers = sorted(self.answers)
        return ShiftResult(
            scenario=sc.name,
            strategy=self.strategy.name,
            seed=self.seed,
            agents=sc.agents,
            dials=self.dials,
            live_answers=live,
            connected=self.connected,
            abandoned=self.abandoned,
            abandon_rate=self.abandoned / live if live else 0.0,
            worst_hour_abandon_rate=worst_hour_rate(answers, duration_s=end),
            occupancy=(talk + wrap) / logged if logged else 0.0,
            talk_occupancy=talk / logged if logged else 0.0,
            contacts_per_agent_hour=per_hour,
            contacts_bound=sc.contacts_bound,
            bound_ratio=per_hour / sc.contacts_bound,
            connect_wait_p50_s=percentile(self.connect_waits, 50),
            connect_wait_p99_s=percentile(self.connect_waits, 99),
            refused_dials=self.planner.tally.held_by_cap,
            sim_seconds=end,
            wall_seconds=wall_s,
            hours=hourly(answers, duration_s=end),
        )


def simulate(scenario: Scenario, strategy: PacingStrategy, *, seed: int) -> ShiftResult:
    return ShiftSimulator(scenario, strategy, seed=seed).run()
