"""Which agent takes a live answer: the campaign's longest-idle ready agent.

Pure code over the core agent state machine; the caller's clock (monotonic seconds)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from dialer.core.agents import Agent, AgentState


@dataclasses.dataclass(kw_only=True, slots=True, eq=False)
class LiveAgent:
    """A logged-in telemarketer as the dialer sees them (mutable: it is live state)."""

    agent_id: int  # users.id
    username: str
    core: Agent
    campaign_id: int | None = None
    connections: int = 0  # open websockets: an unreachable agent gets no calls
    preview: bool = False  # manual dial: predictive calls never route to this agent
    attempt_id: int | None = None  # the call they are on or wrapping up
    pop: dict[str, Any] | None = None  # the screen pop of that call, resent on reconnect
    preview_lead: dict[str, Any] | None = None  # the lead shown in preview mode

    @property
    def state(self) -> AgentState:
        return self.core.state

    @property
    def since_s(self) -> float:
        return self.core.since_s

    @property
    def leaves_at_s(self) -> float | None:
        return self.core.leaves_at_s

    @property
    def returns_at_s(self) -> float | None:
        return self.core.returns_at_s

    @property
    def routable(self) -> bool:
        return self.core.state is AgentState.READY and self.connections > 0 and not self.preview


def longest_idle(agents: Iterable[LiveAgent], campaign_id: int) -> LiveAgent | None:
    """The ready, reachable agent on `campaign_id` who has waited longest (ties: lowest id)."""
    best: LiveAgent | None = None
    for agent in agents:
        if agent.campaign_id != campaign_id or not agent.routable:
            continue
        if best is None or (agent.core.ready_since_s, agent.agent_id) < (
            best.core.ready_since_s, best.agent_id
        ):
            best = agent
    return best
