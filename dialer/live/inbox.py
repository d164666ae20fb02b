"""What the desk tells a call's task, beside the telephony events: records only.

A call's task reads one inbox: the port's events for its call id and these."""

from __future__ import annotations

import dataclasses
import datetime as dt

from dialer.core.routing import LiveAgent
from dialer.live.outcomes import DispositionEntry


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentFound:
    """A waiting live answer got an agent (reserved for it)."""

    agent: LiveAgent


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentHungUp:
    """The agent ended the conversation from the desktop: the trunk goes down now."""

    agent_id: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentLost:
    """The agent's phone leg dropped during the call."""

    agent_id: int
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Disposed:
    """The agent saved the disposition: the call can close."""

    entry: DispositionEntry


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Transferred:
    """The agent transferred the call (issue 14): `agent` holds it now and disposes it."""

    agent: LiveAgent
    at: dt.datetime


DeskEvent = AgentFound | AgentHungUp | AgentLost | Disposed | Transferred
