"""Agent state machine with every second of logged-in time accounted for."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from dialer.errors import IllegalTransition


class AgentState(enum.Enum):
    # members are singletons: hashing by identity keeps the state tables fast
    __hash__ = object.__hash__

    OFFLINE = "offline"
    READY = "ready"
    RESERVED = "reserved"  # a call is being connected to this agent
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


_S = AgentState

# Only these moves are legal. An agent on a call cannot go offline or pause mid-call:
# logging out a busy agent waits for the call and its wrap-up to finish.
LEGAL_TRANSITIONS: Mapping[AgentState, frozenset[AgentState]] = {
    _S.OFFLINE: frozenset({_S.READY, _S.PAUSED}),
    _S.READY: frozenset({_S.RESERVED, _S.PAUSED, _S.OFFLINE}),
    _S.RESERVED: frozenset({_S.ON_CALL, _S.READY}),  # READY: the call failed to connect
    _S.ON_CALL: frozenset({_S.WRAP_UP}),
    _S.WRAP_UP: frozenset({_S.READY, _S.PAUSED, _S.OFFLINE}),
    _S.PAUSED: frozenset({_S.READY, _S.OFFLINE}),
}

BUSY_STATES = frozenset({_S.RESERVED, _S.ON_CALL, _S.WRAP_UP})
LOGGED_IN_STATES = frozenset(s for s in AgentState if s is not _S.OFFLINE)


class Agent:
    """One telemarketer. Times are seconds on the caller's clock (virtual or epoch).

    `seconds_in` holds the closed time per state; the open interval of the current
    state is added by `time_in_state(now)`, so the totals always sum to the elapsed time.
    """

    __slots__ = (
        "agent_id",
        "leaves_at_s",
        "logout_requested",
        "pause_reason",
        "ready_since_s",
        "returns_at_s",
        "seconds_in",
        "since_s",
        "started_s",
        "state",
    )

    def __init__(self, agent_id: int, *, at_s: float) -> None:
        self.agent_id = agent_id
        self.state = AgentState.OFFLINE
        self.since_s = at_s
        self.started_s = at_s
        self.ready_since_s = at_s
        self.pause_reason: str | None = None
        self.logout_requested = False
        # the schedule as far as it is known (the planner reads it; see dialer.core.planner)
        self.leaves_at_s: float | None = None  # next break or logout; None: none known
        self.returns_at_s: float | None = None  # while paused: the scheduled return
        self.seconds_in: dict[AgentState, float] = dict.fromkeys(AgentState, 0.0)

    def transition(self, to: AgentState, *, at_s: float, reason: str | None = None) -> None:
        if to not in LEGAL_TRANSITIONS[self.state]:
            raise IllegalTransition(f"agent {self.agent_id}: {self.state.value} -> {to.value}")
        if at_s < self.since_s:
            raise IllegalTransition(f"agent {self.agent_id}: time goes backwards ({at_s})")
        if to is AgentState.PAUSED and not reason:
            raise IllegalTransition(f"agent {self.agent_id}: a pause needs a reason code")
        self.seconds_in[self.state] += at_s - self.since_s
        self.state = to
        self.since_s = at_s
        self.pause_reason = reason if to is AgentState.PAUSED else None
        if to is AgentState.READY:
            self.ready_since_s = at_s
        if to is AgentState.OFFLINE:
            self.logout_requested = False

    def elapsed_s(self, now_s: float) -> float:
        """Time spent in the current state."""
        return now_s - self.since_s

    def time_in_state(self, now_s: float) -> dict[AgentState, float]:
        totals = dict(self.seconds_in)
        totals[self.state] += now_s - self.since_s
        return totals

    @property
    def routable(self) -> bool:
        """Ready for a call (the live desk adds: desktop and phone leg present)."""
        return self.state is AgentState.READY

    @property
    def is_busy(self) -> bool:
        return self.state in BUSY_STATES

    @property
    def logged_in(self) -> bool:
        return self.state is not AgentState.OFFLINE
