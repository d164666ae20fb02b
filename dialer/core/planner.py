"""The one per-tick planner, shared by the shift simulator and the live campaign loop.

Each tick: a snapshot of the floor → the pacing strategy → the ceiling (lines per
logged-in agent, the telephony port's free lines, one agent per dial for strategies that
hold one) → the abandon cap (`compliance.cap_dials`) → how many calls to place now.

Both sides describe their floor the same neutral way: agents that tell their state, since
when, whether they can take a call now and their known schedule (`FloorAgent`), grouped
by state (`Floor`), the times their calls in flight were dialled and the times their
waiting live answers came in. Both call `Planner.plan` with that description and the
port's capacity, get the same frozen
`Decision`, record it the same way (`PlanTally`), and feed the strategy the same outcomes
through `Planner.observe`, which also keeps the abandon window the cap is judged on.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable, Collection, Iterable
from typing import Protocol, TypeVar

from dialer.core.abandon import AbandonWindow, AnswerKind
from dialer.core.agents import AgentState
from dialer.core.compliance import Refusal, cap_dials
from dialer.core.pacing.base import (
    Outcome,
    OutcomeKind,
    OutcomeStats,
    PacingSettings,
    PacingStrategy,
    Snapshot,
)

MAX_LINES_PER_AGENT = 10  # trunk ceiling per logged-in agent, whatever a strategy asks
REFUSAL_EVERY_S = 60.0  # an abandon-cap hold-back is written down at most this often

Clock = Callable[[], float]

_READY, _RESERVED, _ON_CALL = AgentState.READY, AgentState.RESERVED, AgentState.ON_CALL
_WRAP_UP, _PAUSED = AgentState.WRAP_UP, AgentState.PAUSED

_CONNECTED, _ABANDONED = OutcomeKind.CONNECTED, OutcomeKind.ABANDONED
_MACHINE = OutcomeKind.ANSWERED_MACHINE


class FloorAgent(Protocol):
    """An agent as the planner needs to know it; times are on the caller's clock.

    `dialer.core.agents.Agent` (the simulator's agents) and
    `dialer.core.routing.LiveAgent` (the live desk's) both fit."""

    @property
    def state(self) -> AgentState: ...

    @property
    def since_s(self) -> float:
        """When the agent entered its current state."""

    @property
    def routable(self) -> bool:
        """A ready agent that can take a call now (live: desktop and phone leg present)."""

    @property
    def leaves_at_s(self) -> float | None:
        """The next scheduled departure (break or logout) once known; None if none."""

    @property
    def returns_at_s(self) -> float | None:
        """While paused: when the agent is scheduled back; None if not scheduled."""


A = TypeVar("A", bound=FloorAgent)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Floor:
    """A campaign's logged-in agents by state: the neutral description both sides give.

    The simulator hands over the groups it keeps anyway; the live loop groups its desk's
    agents with `Floor.of`."""

    ready: Collection[FloorAgent]  # ready agents that can take a call now
    reserved: int  # agents being connected to a live answer
    on_call: Collection[FloorAgent]
    wrap_up: Collection[FloorAgent]
    paused: Collection[FloorAgent]

    @classmethod
    def of(cls, agents: Iterable[A], *, routable: Callable[[A], bool] | None = None) -> Floor:
        """Group agents by state, leaving out offline ones and ready ones that cannot take
        a call (`routable`, default: the agent's own `routable`)."""
        ready: list[A] = []
        on_call: list[A] = []
        wrap: list[A] = []
        paused: list[A] = []
        reserved = 0
        for agent in agents:
            state = agent.state
            if state is _READY:
                if agent.routable if routable is None else routable(agent):
                    ready.append(agent)
            elif state is _ON_CALL:
                on_call.append(agent)
            elif state is _WRAP_UP:
                wrap.append(agent)
            elif state is _RESERVED:
                reserved += 1
            elif state is _PAUSED:
                paused.append(agent)
        return cls(ready=ready, reserved=reserved, on_call=on_call, wrap_up=wrap, paused=paused)


def _leaves(group: Collection[FloorAgent], now_s: float) -> tuple[float, ...] | None:
    """Seconds until each agent leaves (0 when due, inf when not scheduled); None when no
    agent of the group has a departure scheduled."""
    leaves = [a.leaves_at_s for a in group]
    if leaves.count(None) == len(leaves):
        return None
    inf = math.inf
    return tuple(inf if t is None else (t - now_s if t > now_s else 0.0) for t in leaves)


def build_snapshot(
    *,
    now_s: float,
    floor: Floor,
    dialed_at_s: Iterable[float],
    answered_at_s: Iterable[float],
    stats: OutcomeStats,
    settings: PacingSettings,
) -> Snapshot:
    """The snapshot of a floor, its calls in flight (by dial time) and its live answers
    waiting for an agent (by answer time)."""
    ready_leave = _leaves(floor.ready, now_s)
    on_call_leave = _leaves(floor.on_call, now_s)
    wrap_leave = _leaves(floor.wrap_up, now_s)
    scheduled = not (ready_leave is None and on_call_leave is None and wrap_leave is None)
    returns = [a.returns_at_s for a in floor.paused]
    return Snapshot(
        now_s=now_s,
        ready_s=tuple([now_s - a.since_s for a in floor.ready]),
        reserved=floor.reserved,
        on_call_s=tuple([now_s - a.since_s for a in floor.on_call]),
        wrap_up_s=tuple([now_s - a.since_s for a in floor.wrap_up]),
        paused=len(floor.paused),
        ringing_s=tuple([now_s - t for t in dialed_at_s]),
        waiting_s=tuple([now_s - t for t in answered_at_s]),
        stats=stats,
        settings=settings,
        ready_leave_s=(ready_leave or (math.inf,) * len(floor.ready)) if scheduled else (),
        on_call_leave_s=(on_call_leave or (math.inf,) * len(floor.on_call)) if scheduled else (),
        wrap_up_leave_s=(wrap_leave or (math.inf,) * len(floor.wrap_up)) if scheduled else (),
        paused_return_s=tuple(t - now_s if t > now_s else 0.0 for t in returns if t is not None),
    )


class Limit(enum.StrEnum):
    """What set a tick's count."""

    STRATEGY = "strategy"  # the strategy's own number
    LINES_PER_AGENT = "lines_per_agent"  # MAX_LINES_PER_AGENT x logged-in agents
    TRUNK = "trunk"  # the telephony port's free lines
    DEDICATED_AGENTS = "dedicated_agents"  # one ready agent held per dial (preview)
    ABANDON_CAP = "abandon_cap"  # at the cap: one line per free agent, no overdial


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    count: int  # calls to place now
    wanted: int  # what the strategy asked for
    ceiling: int  # what the ceiling left of `wanted`, before the abandon cap
    limited_by: Limit
    refusal: Refusal | None = None  # the abandon cap's, when it held dials back

    @property
    def held_by_cap(self) -> int:
        """Dials the abandon cap held back."""
        return self.ceiling - self.count


def decide(
    strategy: PacingStrategy, snapshot: Snapshot, *, abandon_rate: float, capacity: int | None
) -> Decision:
    """Strategy → ceiling → abandon cap, for one snapshot. `capacity`: the port's free
    lines now (None: no trunk limit)."""
    wanted = max(0, strategy.calls_to_place(snapshot))
    count, limit = wanted, Limit.STRATEGY
    lines = MAX_LINES_PER_AGENT * snapshot.logged_in - len(snapshot.ringing_s)
    if lines < count:
        count, limit = max(0, lines), Limit.LINES_PER_AGENT
    if capacity is not None and capacity < count:
        count, limit = max(0, capacity), Limit.TRUNK
    if strategy.dedicated_agent and len(snapshot.ready_s) < count:
        count, limit = len(snapshot.ready_s), Limit.DEDICATED_AGENTS
    ceiling = count
    allowed, refusal = cap_dials(
        count,
        free_lines=snapshot.free_lines,
        abandon_rate=abandon_rate,
        cap=snapshot.settings.abandon_cap,
    )
    if refusal is not None:
        count, limit = allowed, Limit.ABANDON_CAP
    return Decision(count=count, wanted=wanted, limited_by=limit, refusal=refusal, ceiling=ceiling)


@dataclasses.dataclass(kw_only=True, slots=True)
class PlanTally:
    """What the planner decided over a run, kept the same way by both sides."""

    ticks: int = 0
    wanted: int = 0  # summed over ticks
    planned: int = 0  # summed over ticks (the dialler may place fewer: leads run out)
    held_by_cap: int = 0  # dials the abandon cap held back, summed over ticks
    limited: dict[Limit, int] = dataclasses.field(
        default_factory=lambda: dict.fromkeys(Limit, 0)
    )  # ticks each limit decided
    _last_refusal_s: float = -math.inf
    _due: Refusal | None = None

    def record(self, decision: Decision, *, at_s: float) -> None:
        self.ticks += 1
        self.wanted += decision.wanted
        self.planned += decision.count
        self.held_by_cap += decision.held_by_cap
        self.limited[decision.limited_by] += 1
        if decision.refusal is not None and at_s - self._last_refusal_s >= REFUSAL_EVERY_S:
            self._last_refusal_s = at_s
            self._due = decision.refusal

    def take_refusal(self) -> Refusal | None:
        """The cap's refusal to write down now, if one is due (one every REFUSAL_EVERY_S)."""
        due, self._due = self._due, None
        return due


class Planner:
    """One campaign's planner: its strategy, the abandon window, the outcome feed.

    `clock` times the strategy's outcomes and the snapshot (the same clock as the agents'
    and calls' times); `window_clock` times the abandon window (the live loop seeds it from
    stored epoch times; the simulator uses one virtual clock for both)."""

    def __init__(
        self,
        strategy: PacingStrategy,
        *,
        settings: PacingSettings,
        window: AbandonWindow,
        clock: Clock,
        window_clock: Clock | None = None,
    ) -> None:
        self.strategy = strategy
        self.settings = settings
        self.window = window
        self.clock = clock
        self.window_clock = window_clock or clock
        self.dials = 0
        self.tally = PlanTally()
        self.last: Decision | None = None

    def use(self, strategy: PacingStrategy, settings: PacingSettings) -> None:
        """The campaign's strategy or settings changed: pace with these from now on."""
        self.strategy = strategy
        self.settings = settings

    # -- the outcome feed ------------------------------------------------------------------
    def observe(self, kind: OutcomeKind, duration_s: float) -> None:
        """An outcome, as it happens: told to the strategy; answers go to the window."""
        self.strategy.observe(Outcome(kind=kind, at_s=self.clock(), duration_s=duration_s))
        if kind is _CONNECTED:
            self.window.record(AnswerKind.CONNECTED, at_s=self.window_clock())
        elif kind is _ABANDONED:
            self.window.record(AnswerKind.ABANDONED, at_s=self.window_clock())
        elif kind is _MACHINE:
            self.window.record(AnswerKind.MACHINE, at_s=self.window_clock())

    def dialed(self, count: int = 1) -> None:
        """Calls actually placed (fewer than planned when leads run out)."""
        self.dials += count

    def stats(self) -> tuple[OutcomeStats, float]:
        """Counts over the compliance window, and the abandon rate the cap is judged on."""
        counts = self.window.counts(self.window_clock())
        stats = OutcomeStats(
            dials=self.dials,
            live_answers=counts.live_answers,
            machines=counts.machines,
            abandoned=counts.abandoned,
        )
        return stats, self.window.rate_of(counts)

    # -- the tick --------------------------------------------------------------------------
    def snapshot(
        self,
        *,
        floor: Floor,
        dialed_at_s: Iterable[float],
        answered_at_s: Iterable[float],
    ) -> Snapshot:
        stats, _ = self.stats()
        return build_snapshot(
            now_s=self.clock(),
            floor=floor,
            dialed_at_s=dialed_at_s,
            answered_at_s=answered_at_s,
            stats=stats,
            settings=self.settings,
        )

    def plan(
        self,
        *,
        floor: Floor,
        dialed_at_s: Iterable[float],
        answered_at_s: Iterable[float],
        capacity: int | None,
    ) -> Decision:
        """How many calls to place now (`capacity`: the telephony port's free lines, None
        for no limit); recorded in `tally`."""
        stats, rate = self.stats()
        now = self.clock()
        snapshot = build_snapshot(
            now_s=now,
            floor=floor,
            dialed_at_s=dialed_at_s,
            answered_at_s=answered_at_s,
            stats=stats,
            settings=self.settings,
        )
        decision = decide(self.strategy, snapshot, abandon_rate=rate, capacity=capacity)
        self.tally.record(decision, at_s=now)
        self.last = decision
        return decision
