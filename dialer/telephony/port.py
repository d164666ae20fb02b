"""What the dialer asks of telephony: a lifecycle, a few commands, and a stream of events
(`dialer.telephony.events`). Media never passes through Telemart.

A port is opened with a sink that receives every event; commands return once the media
server accepted them, and what follows (answered, hung up, bridge failed, ...) arrives as
events. Call ids are chosen by the caller of `originate()` (campaign and attempt in them,
so the media server's logs and ours join up); inbound calls arrive with the port's id.

Agents sit on a phone leg kept up while they are logged in (`attach_agent`), in their own
holding bridge; `bridge(call_id, agent_id=…)` joins a call to it, which costs milliseconds,
not a second call set-up. An agent is routable only while that leg is up.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Protocol, runtime_checkable

from dialer.telephony.events import EventSink
from dialer.telephony.prompts import MACHINE_MESSAGE as MACHINE_MESSAGE
from dialer.telephony.prompts import SAFE_HARBOR as SAFE_HARBOR


class AmdMode(enum.StrEnum):
    OFF = "off"  # connect at once; every answer is `unknown` (treated as live)
    ASTERISK = "asterisk"  # the media server's AMD decides before the answer is reported
    VAD = "vad"  # connect first, decide in parallel from the callee's first audio


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Originate:
    call_id: str
    phone_e164: str
    max_ring_s: float  # hang up unanswered after this (the port reports NO_ANSWER, side dialer)
    caller_id: str | None = None  # the campaign's registered number shown to the callee
    amd: AmdMode = AmdMode.OFF
    record: bool = False  # record from the answer (the announcement is played first)


class TelephonyPort(Protocol):
    name: str

    async def open(self, sink: EventSink) -> None:
        """Connect to the carrier / media server; events go to `sink` from now on."""

    async def close(self) -> None:
        """Stop: calls still up are hung up, agent legs detached."""

    def capacity(self) -> int:
        """How many more outbound calls the trunk takes now (lines free)."""

    async def originate(self, request: Originate) -> None:
        """Place a call; progress arrives as Ringing, Answered, HungUp events."""

    async def bridge(self, call_id: str, *, agent_id: int) -> None:
        """Join an answered call to the agent's holding bridge (BridgeFailed if it cannot)."""

    async def play(self, call_id: str, prompt: str, *, words: str | None = None) -> None:
        """Play a prompt (a sound name, e.g. SAFE_HARBOR) to the caller; PromptDone follows.
        `words`: what the prompt says when it is made for this call (the ARS's steps with
        the products on air and the total filled in): a port that can speak words says
        them, others play the prompt's recording."""

    async def stop_prompts(self, call_id: str) -> None:
        """Stop what the caller hears now: the prompt playing and any queued behind it (a
        key pressed during a menu's words cuts them). Each stopped prompt still reports its
        PromptDone, soon after: one PromptDone answers every `play()` of a call still up,
        heard to its end or not, so a caller counting the prompts it asked for knows when
        the last one ended (an old PromptDone never passes for a new prompt of the same
        name). A no-op when nothing plays or the call is gone; never raises for a call that
        hung up."""

    async def hangup(self, call_id: str, *, cause: int = 16) -> None:
        """End a call (no-op for one already gone); HungUp(side=dialer) follows."""

    async def attach_agent(self, agent_id: int, *, endpoint: str | None = None) -> None:
        """Call the agent's phone and keep it in its holding bridge; AgentLegUp follows."""

    async def detach_agent(self, agent_id: int) -> None:
        """Hang up the agent's leg (logout); AgentLegDown follows."""


class MonitorMode(enum.StrEnum):
    """How a supervisor joins an agent's call (from the supervisor's own phone leg)."""

    LISTEN = "listen"  # hears both sides, heard by no one
    WHISPER = "whisper"  # heard by the agent only (coaching)
    BARGE = "barge"  # heard by both: a three-way call


@runtime_checkable
class CallControls(Protocol):
    """What an agent and a supervisor do to a call already bridged (issue 14). A port
    that offers them has these methods too; each raises `TelephonyError` when the call or
    leg is not in a state that allows it."""

    async def hold(self, call_id: str) -> None:
        """Take the caller out of the agent's bridge: the caller hears hold, the agent
        hears nothing of the caller."""

    async def resume(self, call_id: str) -> None:
        """Bring a held caller back into the agent's bridge."""

    async def mute(self, call_id: str, *, muted: bool) -> None:
        """Stop (or restart) the agent's voice reaching the caller; the agent still hears."""

    async def transfer(self, call_id: str, *, to_agent_id: int) -> None:
        """Move the caller to another agent's holding bridge (that agent's leg is up)."""

    async def monitor(self, *, agent_id: int, supervisor_id: int, mode: MonitorMode) -> None:
        """Join the supervisor's phone leg (attached like an agent's) to the agent's line:
        listen, whisper or barge. A second call replaces the supervisor's previous one."""

    async def stop_monitor(self, supervisor_id: int) -> None:
        """The supervisor leaves the agent's line (no-op when not monitoring)."""
