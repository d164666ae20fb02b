"""The one pacing interface: what a strategy sees, what it is told, what it returns.

A strategy sees only what a real dialer can see at this instant (a `Snapshot`) and is
told every outcome as it happens (`observe`). It never sees the future: no talk time
before the call ends, no callee class before the carrier reports it.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
from typing import ClassVar


class OutcomeKind(enum.Enum):
    __hash__ = object.__hash__  # members are singletons: hash by identity (fast)

    ANSWERED_LIVE = "answered_live"  # duration_s: ring time before the person picked up
    ANSWERED_MACHINE = "answered_machine"  # duration_s: ring time + machine detection
    BUSY = "busy"  # duration_s: time to the busy signal
    FAILED = "failed"  # duration_s: time to the failure
    NO_ANSWER = "no_answer"  # duration_s: the ring timeout
    CONNECTED = "connected"  # duration_s: wait between the answer and the agent
    ABANDONED = "abandoned"  # duration_s: the connect window that ran out
    TALK_ENDED = "talk_ended"  # duration_s: talk time of the call
    WRAP_ENDED = "wrap_ended"  # duration_s: after-call work


DIAL_OUTCOMES = frozenset(
    {
        OutcomeKind.ANSWERED_LIVE,
        OutcomeKind.ANSWERED_MACHINE,
        OutcomeKind.BUSY,
        OutcomeKind.FAILED,
        OutcomeKind.NO_ANSWER,
    }
)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    kind: OutcomeKind
    at_s: float
    duration_s: float


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PacingSettings:
    """The campaign's settings that bear on pacing."""

    abandon_cap: float = 0.03
    connect_window_s: float = 2.0
    max_ring_s: float = 20.0
    amd_s: float = 3.0
    dial_ratio: float = 1.5  # lines per agent for `ratio`, the starting level for `adaptive`
    max_dial_level: float = 3.0  # VICIdial's adaptive_maximum_level
    target_abandon: float | None = None  # None: the strategy's own default below the cap


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OutcomeStats:
    """Counts over the campaign's compliance window (what the abandon cap is judged on)."""

    dials: int = 0
    live_answers: int = 0
    machines: int = 0
    abandoned: int = 0

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live_answers if self.live_answers else 0.0


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Snapshot:
    """What the dialer can see now. Each tuple holds seconds, one per item.

    A real floor knows its schedule: the `*_leave_s` tuples run parallel to `ready_s`,
    `on_call_s` and `wrap_up_s` and hold the seconds until that agent's next scheduled
    departure (a break or the end of the shift; 0 when it is due and the agent leaves as
    soon as this call and its wrap-up are over; `math.inf` when nothing is scheduled).
    Empty tuples mean nobody is scheduled to leave. `paused_return_s` holds, for each
    paused agent whose return is scheduled (a break), the seconds until it is back.
    Build snapshots with `dialer.core.planner.build_snapshot`, which fills all of them.
    """

    now_s: float
    ready_s: tuple[float, ...]  # ready agents: time idle
    reserved: int  # agents being connected to a live call
    on_call_s: tuple[float, ...]  # agents talking: talk time so far
    wrap_up_s: tuple[float, ...]  # agents in after-call work: wrap time so far
    paused: int
    ringing_s: tuple[float, ...]  # calls in flight (dialing, ringing, being classified)
    waiting_s: tuple[float, ...]  # live answers waiting for an agent: wait so far
    stats: OutcomeStats
    settings: PacingSettings
    ready_leave_s: tuple[float, ...] = ()
    on_call_leave_s: tuple[float, ...] = ()
    wrap_up_leave_s: tuple[float, ...] = ()
    paused_return_s: tuple[float, ...] = ()

    @property
    def logged_in(self) -> int:
        return (
            len(self.ready_s) + self.reserved + len(self.on_call_s) + len(self.wrap_up_s)
            + self.paused
        )

    @property
    def dial_horizon_s(self) -> float:
        """How far ahead a dial placed now may need an agent: its live answer can come up
        to the ring timeout later. An agent leaving sooner than this is not soon-free."""
        return self.settings.max_ring_s

    def leaving(self, leave_s: tuple[float, ...], within_s: float | None = None) -> int:
        """How many of these agents leave within `within_s` (default: the dial horizon)."""
        if not leave_s:
            return 0
        horizon = self.dial_horizon_s if within_s is None else within_s
        return sum(1 for s in leave_s if s <= horizon)

    @property
    def ready_staying(self) -> int:
        """Ready agents who stay beyond the dial horizon."""
        return len(self.ready_s) - self.leaving(self.ready_leave_s)

    @property
    def on_call_staying(self) -> int:
        """Talking agents not scheduled to leave within the dial horizon."""
        return len(self.on_call_s) - self.leaving(self.on_call_leave_s)

    @property
    def staying(self) -> int:
        """Logged-in agents (paused ones too) not leaving within the dial horizon."""
        return self.logged_in - (self.leaving(self.ready_leave_s)
                                 + self.leaving(self.on_call_leave_s)
                                 + self.leaving(self.wrap_up_leave_s))

    @property
    def free_lines(self) -> int:
        """Ready agents not yet covered by a call in flight or waiting, leaving out those
        about to leave: progressive dialing."""
        return max(0, self.ready_staying - len(self.ringing_s) - len(self.waiting_s))


class PacingStrategy(abc.ABC):
    """Decides how many calls to place now. Subclass it and load it by `module:Class`."""

    name: ClassVar[str] = "custom"
    # True when every dial holds a ready agent until the call resolves (preview).
    dedicated_agent: ClassVar[bool] = False

    def __init__(self, settings: PacingSettings) -> None:
        self.settings = settings

    @abc.abstractmethod
    def calls_to_place(self, snapshot: Snapshot) -> int:
        """How many new calls to dial now (the compliance guard may place fewer)."""

    def observe(self, outcome: Outcome) -> None:  # noqa: B027 - optional hook
        """Told every outcome, in order, as it happens."""
