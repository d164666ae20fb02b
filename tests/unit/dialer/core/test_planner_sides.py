"""The planner decides the same in the simulator and in the live loop for the same floor.

Hypothesis draws one neutral description of a floor (agents by state with their time in
state and schedule, calls in flight, live answers waiting, the outcomes seen so far, the
strategy, the trunk's free lines); it is then built twice, the way each side keeps it:

* the simulator: core `Agent`s in its own dictionaries, its virtual clock, its carrier's
  trunk lines, its `plan()` (the one its tick runs);
* live: `LiveAgent`s as the desk keeps them (a desktop connected, a campaign), grouped
  with `Floor.of` and the desk's routability, a monotonic-like clock for the strategy and
  an epoch clock for the abandon window, the port's capacity.

Times are multiples of 1/8 s on both clocks, so both sides compute exactly the same
seconds and any difference in the decision is a real one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.core.abandon import AbandonWindow
from dialer.core.agents import Agent, AgentState
from dialer.core.pacing.base import OutcomeKind
from dialer.core.pacing.registry import load_strategy
from dialer.core.planner import Decision, Floor, Planner
from dialer.core.routing import LiveAgent
from dialer.sim.scenario import Scenario, load_scenario
from dialer.sim.simulator import COMPLIANCE_WINDOW_S, ShiftSimulator

SIM_NOW = 4_096.0  # the simulator's virtual clock at the tick
LIVE_NOW = 1_048_576.0  # the live desk's monotonic clock at the tick
EPOCH_NOW = 1_764_000_000.0  # the live window's clock (epoch seconds)
CAMPAIGN = 7

PATHS = {
    AgentState.READY: [AgentState.READY],
    AgentState.RESERVED: [AgentState.READY, AgentState.RESERVED],
    AgentState.ON_CALL: [AgentState.READY, AgentState.RESERVED, AgentState.ON_CALL],
    AgentState.WRAP_UP: [AgentState.READY, AgentState.RESERVED, AgentState.ON_CALL,
                         AgentState.WRAP_UP],
    AgentState.PAUSED: [AgentState.PAUSED],
}

eighths = st.integers(min_value=0, max_value=8 * 900).map(lambda n: n / 8.0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AgentSpec:
    state: AgentState
    in_state_s: float
    leaves_in_s: float | None  # negative: overdue (leaves after this call)
    returns_in_s: float | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class FloorSpec:
    agents: list[AgentSpec]
    ringing_s: list[float]
    waiting_s: list[float]
    history: list[tuple[OutcomeKind, float]]
    strategy: str
    capacity: int | None


agent_specs = st.builds(
    AgentSpec,
    state=st.sampled_from(list(PATHS)),
    in_state_s=eighths,
    leaves_in_s=st.one_of(st.none(), st.integers(-8 * 60, 8 * 120).map(lambda n: n / 8.0)),
    returns_in_s=st.one_of(st.none(), eighths),
)
outcomes = st.tuples(st.sampled_from(list(OutcomeKind)),
                     st.integers(min_value=1, max_value=8 * 400).map(lambda n: n / 8.0))
floor_specs = st.builds(
    FloorSpec,
    agents=st.lists(agent_specs, max_size=30),
    ringing_s=st.lists(st.integers(0, 8 * 25).map(lambda n: n / 8.0), max_size=40),
    waiting_s=st.lists(st.integers(0, 16).map(lambda n: n / 8.0), max_size=4),
    history=st.lists(outcomes, max_size=400),
    strategy=st.sampled_from(["progressive", "ratio", "adaptive", "predictive", "preview"]),
    capacity=st.one_of(st.none(), st.integers(min_value=0, max_value=60)),
)


def core_agent(agent_id: int, spec: AgentSpec, now: float) -> Agent:
    since = now - spec.in_state_s
    agent = Agent(agent_id, at_s=since)
    for step in PATHS[spec.state]:
        agent.transition(step, at_s=since, reason="break" if step is AgentState.PAUSED else None)
    if spec.leaves_in_s is not None:
        agent.leaves_at_s = now + spec.leaves_in_s
    if spec.state is AgentState.PAUSED and spec.returns_in_s is not None:
        agent.returns_at_s = now + spec.returns_in_s
    return agent


def scenario_for(spec: FloorSpec) -> Scenario:
    sc = load_scenario("steady-50")
    lines = None if spec.capacity is None else spec.capacity + len(spec.ringing_s)
    return dataclasses.replace(sc, trunk_lines=lines)


def sim_decision(spec: FloorSpec) -> tuple[Decision, Any]:
    sc = scenario_for(spec)
    sim = ShiftSimulator(sc, load_strategy(spec.strategy, sc.pacing_settings()), seed=1)
    start = SIM_NOW - len(spec.history)
    for i, (kind, duration_s) in enumerate(spec.history):  # one outcome a second
        sim.now = start + i
        sim._tell(kind, duration_s)
    sim.now = SIM_NOW
    sim.agents = []
    homes = {AgentState.READY: sim.ready, AgentState.RESERVED: sim.reserved,
             AgentState.ON_CALL: sim.on_call, AgentState.WRAP_UP: sim.wrap,
             AgentState.PAUSED: sim.paused}
    for i, agent_spec in enumerate(spec.agents):
        agent = core_agent(i, agent_spec, SIM_NOW)
        sim.agents.append(agent)
        homes[agent.state][i] = agent
    sim.in_flight = {i: SIM_NOW - r for i, r in enumerate(spec.ringing_s)}
    sim.waiting = {i: SIM_NOW - w for i, w in enumerate(spec.waiting_s)}
    decision = sim.plan()
    return decision, sim.strategy


def live_decision(spec: FloorSpec) -> tuple[Decision, Any]:
    sc = scenario_for(spec)
    clock = [LIVE_NOW - len(spec.history)]
    epoch = [EPOCH_NOW - len(spec.history)]
    strategy = load_strategy(spec.strategy, sc.pacing_settings())
    planner = Planner(strategy, settings=sc.pacing_settings(),
                      window=AbandonWindow(window_s=COMPLIANCE_WINDOW_S),
                      clock=lambda: clock[0], window_clock=lambda: epoch[0])
    for kind, duration_s in spec.history:
        planner.observe(kind, duration_s)
        clock[0] += 1.0
        epoch[0] += 1.0
    assert clock[0] == LIVE_NOW
    desk_agents = [
        LiveAgent(agent_id=100 + i, username=f"agent{i}", core=core_agent(100 + i, a, LIVE_NOW),
                  campaign_id=CAMPAIGN, connections=1)
        for i, a in enumerate(spec.agents)
    ]
    in_flight = {9_000 + i: LIVE_NOW - r for i, r in enumerate(spec.ringing_s)}
    waiting_since = [LIVE_NOW - w for w in spec.waiting_s]
    decision = planner.plan(floor=Floor.of(desk_agents, routable=lambda a: a.routable),
                            dialed_at_s=in_flight.values(), answered_at_s=waiting_since,
                            capacity=spec.capacity)
    return decision, strategy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=floor_specs)
def test_the_simulator_and_live_decide_the_same(spec: FloorSpec) -> None:
    sim, sim_strategy = sim_decision(spec)
    live, live_strategy = live_decision(spec)
    assert sim == live
    if spec.strategy == "predictive":  # and it has learnt the same
        assert sim_strategy.recent_rate == live_strategy.recent_rate
        assert sim_strategy.dials.class_weight == live_strategy.dials.class_weight


def test_the_property_reaches_the_interesting_cases() -> None:
    """The same check on hand-made floors that hypothesis might only reach rarely: a
    trained predictive pacer, agents about to leave, the trunk and the cap deciding."""
    history = ([(OutcomeKind.NO_ANSWER, 20.0), (OutcomeKind.ANSWERED_LIVE, 8.0),
                (OutcomeKind.CONNECTED, 0.125), (OutcomeKind.TALK_ENDED, 150.0),
                (OutcomeKind.WRAP_ENDED, 15.0), (OutcomeKind.ANSWERED_MACHINE, 11.0)] * 40)
    busy = [AgentSpec(state=AgentState.ON_CALL, in_state_s=10.0 * i, leaves_in_s=None,
                      returns_in_s=None) for i in range(20)]
    leaving = [AgentSpec(state=s, in_state_s=30.0, leaves_in_s=5.0, returns_in_s=None)
               for s in (AgentState.READY, AgentState.ON_CALL, AgentState.WRAP_UP)]
    ready = [AgentSpec(state=AgentState.READY, in_state_s=2.5, leaves_in_s=None,
                       returns_in_s=None) for _ in range(3)]
    paused = [AgentSpec(state=AgentState.PAUSED, in_state_s=800.0, leaves_in_s=None,
                        returns_in_s=6.0)]
    limits = set()
    for strategy in ("predictive", "adaptive", "ratio", "progressive"):
        for capacity in (None, 2):
            for abandons in (0, 30):
                spec = FloorSpec(
                    agents=busy + leaving + ready + paused, ringing_s=[1.0, 4.5, 12.0],
                    waiting_s=[], history=history + [(OutcomeKind.ABANDONED, 2.0)] * abandons,
                    strategy=strategy, capacity=capacity)
                sim, _ = sim_decision(spec)
                live, _ = live_decision(spec)
                assert sim == live
                limits.add(sim.limited_by)
                if strategy == "predictive" and capacity is None and not abandons:
                    assert sim.wanted > 0  # trained, it overdials
    assert {lim.value for lim in limits} >= {"strategy", "trunk", "abandon_cap"}
