"""Call attempt lifecycle: every step of one dial, timestamped."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from dialer.errors import IllegalTransition


class CallState(enum.Enum):
    # members are singletons: hashing by identity keeps the transition tables fast
    __hash__ = object.__hash__

    QUEUED = "queued"
    DIALING = "dialing"
    RINGING = "ringing"
    ANSWERED_LIVE = "answered_live"
    ANSWERED_MACHINE = "answered_machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CONNECTED = "connected"  # an agent is on the line with the callee
    ABANDONED = "abandoned"  # no agent within the connect window: safe-harbor message played
    COMPLETED = "completed"


_C = CallState

LEGAL_CALL_TRANSITIONS: Mapping[CallState, frozenset[CallState]] = {
    _C.QUEUED: frozenset({_C.DIALING}),
    _C.DIALING: frozenset({_C.RINGING, _C.BUSY, _C.FAILED}),
    _C.RINGING: frozenset(
        {_C.ANSWERED_LIVE, _C.ANSWERED_MACHINE, _C.NO_ANSWER, _C.BUSY, _C.FAILED}
    ),
    _C.ANSWERED_LIVE: frozenset({_C.CONNECTED, _C.ABANDONED}),
    _C.ANSWERED_MACHINE: frozenset(),
    _C.BUSY: frozenset(),
    _C.NO_ANSWER: frozenset(),
    _C.FAILED: frozenset(),
    _C.CONNECTED: frozenset({_C.COMPLETED}),
    _C.ABANDONED: frozenset(),
    _C.COMPLETED: frozenset(),
}

FINAL_CALL_STATES = frozenset(s for s, nxt in LEGAL_CALL_TRANSITIONS.items() if not nxt)


class CallAttempt:
    """One dial of one lead. `history` is append-only: (state, at_s)."""

    __slots__ = ("agent_id", "attempt_id", "history", "lead_id", "state")

    def __init__(self, attempt_id: int, *, lead_id: int, at_s: float) -> None:
        self.attempt_id = attempt_id
        self.lead_id = lead_id
        self.state = CallState.QUEUED
        self.agent_id: int | None = None
        self.history: list[tuple[CallState, float]] = [(CallState.QUEUED, at_s)]

    def advance(self, to: CallState, *, at_s: float) -> None:
        if to not in LEGAL_CALL_TRANSITIONS[self.state]:
            raise IllegalTransition(f"call {self.attempt_id}: {self.state.value} -> {to.value}")
        if at_s < self.history[-1][1]:
            raise IllegalTransition(f"call {self.attempt_id}: time goes backwards ({at_s})")
        self.state = to
        self.history.append((to, at_s))

    def at(self, state: CallState) -> float | None:
        """When the call entered `state`, if it did."""
        for seen, at_s in self.history:
            if seen is state:
                return at_s
        return None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_CALL_STATES
