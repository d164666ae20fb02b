"""What the dialer asks of telephony. Media never passes through Telemart."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

from dialer.calls import CallState

DIAL_OUTCOMES = frozenset({
    CallState.ANSWERED_LIVE, CallState.ANSWERED_MACHINE, CallState.BUSY,
    CallState.NO_ANSWER, CallState.FAILED,
})  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DialResult:
    outcome: CallState  # one of DIAL_OUTCOMES
    rang: bool  # the carrier reported ringing before the outcome


class TelephonyPort(Protocol):
    async def dial(
        self, *, call_id: int, phone_e164: str, max_ring_s: float,
        on_ringing: Callable[[], None],
    ) -> DialResult:
        """Place a call; return when it is answered (live or machine) or fails."""

    async def bridge(self, *, call_id: int, agent_id: int) -> None:
        """Connect the answered callee to the agent's phone."""

    async def safe_harbor(self, *, call_id: int) -> None:
        """Play the identification message and hang up (an abandoned call)."""

    async def hangup(self, *, call_id: int) -> None:
        """End the call."""
