"""The per-tick planner: the snapshot from a floor, the order strategy → ceiling → cap,
the record of each decision and the outcome feed."""

from __future__ import annotations

import math

import pytest

from dialer.core.abandon import AbandonWindow
from dialer.core.agents import Agent, AgentState
from dialer.core.compliance import Rule
from dialer.core.pacing.base import (
    OutcomeKind,
    OutcomeStats,
    PacingSettings,
    PacingStrategy,
    Snapshot,
)
from dialer.core.pacing.simple import Preview, Progressive
from dialer.core.planner import (
    MAX_LINES_PER_AGENT,
    REFUSAL_EVERY_S,
    Floor,
    FloorAgent,
    Limit,
    Planner,
    build_snapshot,
    decide,
)

SETTINGS = PacingSettings(max_ring_s=20.0)


class Asks(PacingStrategy):
    """Asks for a fixed number of calls and remembers what it was told."""

    name = "asks"

    def __init__(self, settings: PacingSettings, wants: int = 0) -> None:
        super().__init__(settings)
        self.wants = wants
        self.told: list[tuple[OutcomeKind, float, float]] = []
        self.seen: list[Snapshot] = []

    def calls_to_place(self, snapshot: Snapshot) -> int:
        self.seen.append(snapshot)
        return self.wants

    def observe(self, outcome: object) -> None:
        from dialer.core.pacing.base import Outcome

        assert isinstance(outcome, Outcome)
        self.told.append((outcome.kind, outcome.at_s, outcome.duration_s))


def agent(state: AgentState, *, since: float = 0.0, leaves: float | None = None,
          back: float | None = None, agent_id: int = 0) -> Agent:
    a = Agent(agent_id, at_s=since)
    path = {
        AgentState.READY: [AgentState.READY],
        AgentState.RESERVED: [AgentState.READY, AgentState.RESERVED],
        AgentState.ON_CALL: [AgentState.READY, AgentState.RESERVED, AgentState.ON_CALL],
        AgentState.WRAP_UP: [AgentState.READY, AgentState.RESERVED, AgentState.ON_CALL,
                             AgentState.WRAP_UP],
        AgentState.PAUSED: [AgentState.PAUSED],
        AgentState.OFFLINE: [],
    }[state]
    for step in path:
        a.transition(step, at_s=since, reason="break" if step is AgentState.PAUSED else None)
    a.leaves_at_s = leaves
    a.returns_at_s = back
    return a


def snapshot_of(agents: list[Agent], *, now: float = 100.0, dialed: tuple[float, ...] = (),
                answered: tuple[float, ...] = ()) -> Snapshot:
    return build_snapshot(now_s=now, floor=Floor.of(agents), dialed_at_s=dialed,
                          answered_at_s=answered, stats=OutcomeStats(), settings=SETTINGS)


def test_snapshot_sorts_the_floor_by_state_and_keeps_the_schedule() -> None:
    floor = [
        agent(AgentState.READY, since=90.0),
        agent(AgentState.READY, since=95.0, leaves=110.0),
        agent(AgentState.ON_CALL, since=40.0, leaves=80.0),  # overdue: leaves after the call
        agent(AgentState.WRAP_UP, since=97.0),
        agent(AgentState.RESERVED, since=99.0),
        agent(AgentState.PAUSED, since=50.0, back=160.0),
        agent(AgentState.PAUSED, since=50.0),  # paused with no return scheduled
        agent(AgentState.OFFLINE, since=10.0),
    ]
    snap = snapshot_of(floor, dialed=(95.0, 99.0), answered=(99.5,))
    assert snap.ready_s == (10.0, 5.0)
    assert snap.ready_leave_s == (math.inf, 10.0)
    assert snap.on_call_s == (60.0,)
    assert snap.on_call_leave_s == (0.0,)
    assert snap.wrap_up_s == (3.0,)
    assert snap.wrap_up_leave_s == (math.inf,)
    assert snap.reserved == 1
    assert snap.paused == 2
    assert snap.paused_return_s == (60.0,)
    assert snap.ringing_s == (5.0, 1.0)
    assert snap.waiting_s == (0.5,)
    assert snap.logged_in == 7
    # the ready agent leaving in 10 s and the talking one due to leave are not staying
    assert snap.ready_staying == 1
    assert snap.on_call_staying == 0
    assert snap.staying == 5


def test_a_floor_without_a_schedule_gives_empty_leave_tuples() -> None:
    snap = snapshot_of([agent(AgentState.READY), agent(AgentState.ON_CALL)])
    assert (snap.ready_leave_s, snap.on_call_leave_s, snap.wrap_up_leave_s) == ((), (), ())
    assert snap.staying == snap.logged_in == 2


def test_a_ready_agent_that_cannot_take_calls_is_left_out() -> None:
    class Unreachable:
        state = AgentState.READY
        since_s = 0.0
        routable = False
        leaves_at_s = None
        returns_at_s = None

    floor: list[FloorAgent] = [Unreachable(), agent(AgentState.READY)]
    snap = build_snapshot(now_s=1.0, floor=Floor.of(floor), dialed_at_s=(), answered_at_s=(),
                          stats=OutcomeStats(), settings=SETTINGS)
    assert snap.ready_s == (1.0,)
    assert snap.logged_in == 1


def test_progressive_does_not_count_an_agent_about_to_leave() -> None:
    soon = snapshot_of([agent(AgentState.READY, leaves=105.0), agent(AgentState.READY)])
    later = snapshot_of([agent(AgentState.READY, leaves=100.0 + 60.0), agent(AgentState.READY)])
    assert Progressive(SETTINGS).calls_to_place(soon) == 1  # within the 20 s ring timeout
    assert Progressive(SETTINGS).calls_to_place(later) == 2


def test_the_order_is_strategy_then_ceiling_then_cap() -> None:
    floor = [agent(AgentState.READY, agent_id=i) for i in range(2)]
    snap = snapshot_of(floor, dialed=(99.0,) * 5)
    asks = Asks(SETTINGS, wants=50)
    # 2 agents x 10 lines - 5 in flight = 15
    d = decide(asks, snap, abandon_rate=0.0, capacity=None)
    assert (d.count, d.wanted, d.ceiling, d.limited_by) == (
        2 * MAX_LINES_PER_AGENT - 5, 50, 15, Limit.LINES_PER_AGENT)
    assert d.refusal is None
    assert d.held_by_cap == 0
    d = decide(asks, snap, abandon_rate=0.0, capacity=4)
    assert (d.count, d.limited_by) == (4, Limit.TRUNK)
    # at the cap only free lines go: 2 ready - 5 in flight -> 0
    d = decide(asks, snap, abandon_rate=0.03, capacity=4)
    assert (d.count, d.ceiling, d.limited_by) == (0, 4, Limit.ABANDON_CAP)
    assert d.refusal is not None
    assert d.refusal.rule is Rule.ABANDON_CAP
    assert d.held_by_cap == 4
    asks.wants = 1
    d = decide(asks, snap, abandon_rate=0.0, capacity=4)
    assert (d.count, d.limited_by) == (1, Limit.STRATEGY)


def test_a_strategy_that_holds_an_agent_per_dial_gets_one_dial_per_ready_agent() -> None:
    snap = snapshot_of([agent(AgentState.READY, agent_id=i) for i in range(3)])
    d = decide(Asks(SETTINGS, wants=9), snap, abandon_rate=0.0, capacity=None)
    assert d.count == 9
    preview = Preview(SETTINGS)
    d = decide(preview, snap, abandon_rate=0.0, capacity=2)
    assert (d.count, d.limited_by) == (2, Limit.TRUNK)
    assert decide(preview, snap, abandon_rate=0.0, capacity=None).count == 3


def test_the_planner_feeds_outcomes_and_records_decisions() -> None:
    now = [0.0]
    asks = Asks(SETTINGS, wants=30)
    planner = Planner(asks, settings=SETTINGS, window=AbandonWindow(window_s=3600.0),
                      clock=lambda: now[0])
    now[0] = 5.0
    planner.observe(OutcomeKind.ANSWERED_LIVE, 4.0)
    planner.observe(OutcomeKind.ABANDONED, 2.0)
    planner.observe(OutcomeKind.ANSWERED_MACHINE, 6.0)
    planner.observe(OutcomeKind.TALK_ENDED, 60.0)
    assert asks.told[0] == (OutcomeKind.ANSWERED_LIVE, 5.0, 4.0)
    assert [k for k, _, _ in asks.told] == [OutcomeKind.ANSWERED_LIVE, OutcomeKind.ABANDONED,
                                            OutcomeKind.ANSWERED_MACHINE,
                                            OutcomeKind.TALK_ENDED]
    planner.dialed(3)
    stats, rate = planner.stats()
    assert (stats.dials, stats.live_answers, stats.abandoned, stats.machines) == (3, 1, 1, 1)
    assert rate == 1.0  # one abandon in one live answer
    floor = [agent(AgentState.READY, agent_id=i) for i in range(2)]
    d = planner.plan(floor=Floor.of(floor), dialed_at_s=(), answered_at_s=(), capacity=None)
    assert (d.count, d.limited_by) == (2, Limit.ABANDON_CAP)  # only the free lines
    assert asks.seen[-1].stats == stats
    refusal = planner.tally.take_refusal()
    assert refusal is not None
    assert refusal.rule is Rule.ABANDON_CAP
    assert planner.tally.take_refusal() is None
    now[0] = 5.0 + REFUSAL_EVERY_S / 2
    planner.plan(floor=Floor.of(floor), dialed_at_s=(), answered_at_s=(), capacity=None)
    assert planner.tally.take_refusal() is None  # written down at most once a minute
    now[0] = 5.0 + REFUSAL_EVERY_S
    planner.plan(floor=Floor.of(floor), dialed_at_s=(), answered_at_s=(), capacity=None)
    assert planner.tally.take_refusal() is not None
    tally = planner.tally
    assert (tally.ticks, tally.wanted, tally.planned) == (3, 90, 6)
    assert tally.held_by_cap == 3 * (20 - 2)  # 2 agents x 10 lines, less 2 free lines
    assert tally.limited[Limit.ABANDON_CAP] == 3


def test_the_window_has_its_own_clock() -> None:
    planner = Planner(Asks(SETTINGS), settings=SETTINGS, window=AbandonWindow(window_s=10.0),
                      clock=lambda: 1.0, window_clock=lambda: 1_000.0)
    planner.observe(OutcomeKind.CONNECTED, 0.1)
    assert planner.window.counts(1_000.0).connected == 1
    assert planner.window.counts(1_011.0).connected == 0


@pytest.mark.parametrize("leave", [0.0, 10.0, 19.9])
def test_ratio_leaves_out_agents_about_to_leave_and_their_calls(leave: float) -> None:
    from dialer.core.pacing.simple import dial_level_calls

    staying = [agent(AgentState.ON_CALL, agent_id=i) for i in range(4)]
    leaving = [agent(AgentState.ON_CALL, agent_id=9, leaves=100.0 + leave)]
    # level 1.5 x 4 staying agents = 6 lines; their 4 calls exist -> 2 new
    assert dial_level_calls(snapshot_of(staying + leaving), 1.5) == 2
    assert dial_level_calls(snapshot_of(staying), 1.5) == 2


def test_the_caller_may_say_who_is_routable() -> None:
    floor = [agent(AgentState.READY, agent_id=i) for i in range(3)]
    snap = build_snapshot(now_s=1.0, floor=Floor.of(floor, routable=lambda a: a.agent_id != 1),
                          dialed_at_s=(), answered_at_s=(), stats=OutcomeStats(),
                          settings=SETTINGS)
    assert len(snap.ready_s) == 2
