"""The live desk: agents on this process's campaigns, the calls waiting for them, and the
messages that go to their desktops.

One desk per process, shared by the campaign loops (which route answers to agents) and the
agents' websockets (which report ready, pause, pop acknowledged, hang-up, disposition).
It imports no web framework: the server hands it a `send(agent_id, message)` function.
Across processes the same messages would travel over PostgreSQL LISTEN/NOTIFY (see
docs/live-dialer.md); one process runs it fully.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from dialer.core.agents import Agent, AgentState
from dialer.core.routing import LiveAgent, longest_idle
from dialer.errors import AgentNotLoggedIn, IllegalTransition, NoSuchCall
from dialer.store.journeys import utcnow

Message = dict[str, Any]
Send = Callable[[int, Message], None]

PAUSE_REASONS = ("break", "lunch", "training", "meeting", "technical", "disconnected")
MAX_CALL_S = 3600.0  # a call with no disposition after this is closed without one


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DispositionEntry:
    code: str  # one of the campaign's disposition codes (checked by the caller)
    agent_id: int
    callback_at: dt.datetime | None = None
    callback_mine: bool = False  # own callback: only this agent gets it back
    note: str = ""


@dataclasses.dataclass(kw_only=True, slots=True)
class LiveCall:
    """What the desk tracks for a call bridged to an agent."""

    attempt_id: int
    agent_id: int
    acked: asyncio.Future[dt.datetime]
    ended: asyncio.Future[DispositionEntry]
    hung_up_s: float | None = None


class LiveDesk:
    def __init__(
        self, *, send: Send | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.agents: dict[int, LiveAgent] = {}
        self.clock = clock
        self.send: Send = send or (lambda agent_id, message: None)
        self._waiting: dict[int, collections.deque[tuple[asyncio.Future[LiveAgent], float]]] = (
            collections.defaultdict(collections.deque)
        )
        self._calls: dict[int, LiveCall] = {}
        self.on_ack: Callable[[int, dt.datetime], None] | None = None
        self.on_order: Callable[[int, int, float], None] | None = None

    # -- the agent's side ------------------------------------------------------------------
    def attach(self, agent_id: int, username: str) -> LiveAgent:
        """A desktop connected (first time or again): its state is where it was."""
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = LiveAgent(agent_id=agent_id, username=username,
                              core=Agent(agent_id, at_s=self.clock()))
            self.agents[agent_id] = agent
        agent.connections += 1
        if agent.state is AgentState.READY:
            self._offer(agent)
        return agent

    def detach(self, agent_id: int) -> None:
        """A desktop went away. A ready agent stays ready but gets no calls until back."""
        agent = self.agents.get(agent_id)
        if agent is not None:
            agent.connections = max(0, agent.connections - 1)

    def agent(self, agent_id: int) -> LiveAgent:
        found = self.agents.get(agent_id)
        if found is None:
            raise AgentNotLoggedIn(str(agent_id))
        return found

    def ready(self, agent_id: int, *, campaign_id: int, preview: bool = False) -> LiveAgent:
        agent = self.agent(agent_id)
        if agent.attempt_id is not None:
            raise IllegalTransition("set a disposition for the last call first")
        if agent.state is not AgentState.READY:
            agent.core.transition(AgentState.READY, at_s=self.clock())
        agent.campaign_id = campaign_id
        agent.preview = preview
        agent.preview_lead = None
        self._offer(agent)
        self.push_state(agent)
        return agent

    def pause(self, agent_id: int, *, reason: str) -> LiveAgent:
        agent = self.agent(agent_id)
        if reason not in PAUSE_REASONS:
            raise IllegalTransition(f"unknown pause reason {reason!r}")
        if agent.attempt_id is not None:
            raise IllegalTransition("set a disposition for the last call first")
        if agent.state is AgentState.PAUSED:
            agent.core.pause_reason = reason
        else:
            agent.core.transition(AgentState.PAUSED, at_s=self.clock(), reason=reason)
        agent.preview_lead = None
        self.push_state(agent)
        return agent

    def logout(self, agent_id: int) -> None:
        agent = self.agent(agent_id)
        if agent.state is not AgentState.OFFLINE:
            agent.core.transition(AgentState.OFFLINE, at_s=self.clock())
        self.push_state(agent)

    def ack(self, agent_id: int, attempt_id: int) -> dt.datetime:
        """The browser shows the screen pop. Returns when that was recorded."""
        call = self._call_of(agent_id, attempt_id)
        at = utcnow()
        if not call.acked.done():
            call.acked.set_result(at)
            if self.on_ack is not None:
                self.on_ack(attempt_id, at)
        return call.acked.result()

    def hangup(self, agent_id: int, attempt_id: int) -> LiveAgent:
        """The agent ends the conversation: wrap-up starts."""
        call = self._call_of(agent_id, attempt_id)
        agent = self.agent(agent_id)
        if agent.state is AgentState.ON_CALL:
            agent.core.transition(AgentState.WRAP_UP, at_s=self.clock())
            call.hung_up_s = self.clock()
        self.push_state(agent)
        return agent

    def dispose(
        self, entry: DispositionEntry, *, attempt_id: int, pause_reason: str | None = None
    ) -> LiveAgent:
        """The call's disposition: the agent goes ready again (or pauses)."""
        call = self._call_of(entry.agent_id, attempt_id)
        agent = self.agent(entry.agent_id)
        if agent.state is AgentState.ON_CALL:
            agent.core.transition(AgentState.WRAP_UP, at_s=self.clock())
            call.hung_up_s = self.clock()
        if agent.state is not AgentState.WRAP_UP:
            raise IllegalTransition(f"agent is {agent.state.value}, not wrapping up")
        if not call.ended.done():
            call.ended.set_result(entry)
        del self._calls[attempt_id]
        agent.attempt_id = None
        agent.pop = None
        if pause_reason:
            agent.core.transition(AgentState.PAUSED, at_s=self.clock(), reason=pause_reason)
            self.push_state(agent)
        else:
            agent.core.transition(AgentState.READY, at_s=self.clock())
            self.push_state(agent)
            self._offer(agent)
        return agent

    def order_placed(self, agent_id: int, attempt_id: int, order_id: int, submit_s: float) -> None:
        self._call_of(agent_id, attempt_id)
        if self.on_order is not None:
            self.on_order(attempt_id, order_id, submit_s)

    def _call_of(self, agent_id: int, attempt_id: int) -> LiveCall:
        call = self._calls.get(attempt_id)
        if call is None or call.agent_id != agent_id:
            raise NoSuchCall(str(attempt_id))
        return call

    # -- the dialer's side -----------------------------------------------------------------
    def agents_on(self, campaign_id: int) -> list[LiveAgent]:
        return [a for a in self.agents.values()
                if a.campaign_id == campaign_id and a.state is not AgentState.OFFLINE]

    def waiting_s(self, campaign_id: int) -> tuple[float, ...]:
        now = self.clock()
        return tuple(now - since for fut, since in self._waiting.get(campaign_id, ())
                     if not fut.done())

    async def route(self, campaign_id: int, *, window_s: float) -> LiveAgent | None:
        """A live answer: the longest-idle ready agent, reserved; or, when none is free,
        the first to become ready within the connect window; else None (abandon)."""
        agent = longest_idle(self.agents.values(), campaign_id)
        if agent is not None:
            agent.core.transition(AgentState.RESERVED, at_s=self.clock())
            return agent
        fut: asyncio.Future[LiveAgent] = asyncio.get_running_loop().create_future()
        entry = (fut, self.clock())
        queue = self._waiting[campaign_id]
        queue.append(entry)
        try:
            async with asyncio.timeout(window_s):
                return await fut
        except TimeoutError:
            if fut.done() and not fut.cancelled():
                return fut.result()
            return None
        finally:
            if entry in queue:
                queue.remove(entry)

    def reserve(self, agent: LiveAgent) -> None:
        """Preview mode: hold this agent for the call they asked for."""
        agent.core.transition(AgentState.RESERVED, at_s=self.clock())
        self.push_state(agent)

    def release(self, agent: LiveAgent) -> None:
        """The call for a reserved agent did not connect: ready again."""
        if agent.state is AgentState.RESERVED:
            agent.core.transition(AgentState.READY, at_s=self.clock())
            self._offer(agent)
        self.push_state(agent)

    def connect(self, agent: LiveAgent, *, attempt_id: int, pop: Message) -> LiveCall:
        """The callee is bridged to the agent: on call, the screen pop goes out."""
        loop = asyncio.get_running_loop()
        agent.core.transition(AgentState.ON_CALL, at_s=self.clock())
        agent.attempt_id = attempt_id
        agent.pop = pop
        agent.preview_lead = None
        call = LiveCall(attempt_id=attempt_id, agent_id=agent.agent_id,
                     acked=loop.create_future(), ended=loop.create_future())
        self._calls[attempt_id] = call
        self.send(agent.agent_id, {"type": "pop", "attempt_id": attempt_id, "pop": pop})
        self.push_state(agent)
        return call

    def _offer(self, agent: LiveAgent) -> None:
        """A ready agent takes the longest-waiting live answer of their campaign, if any."""
        if not agent.routable or agent.campaign_id is None:
            return
        queue = self._waiting.get(agent.campaign_id)
        while queue:
            fut, _ = queue.popleft()
            if not fut.done():
                agent.core.transition(AgentState.RESERVED, at_s=self.clock())
                fut.set_result(agent)
                return

    # -- what the desktops see -------------------------------------------------------------
    def state_message(self, agent: LiveAgent) -> Message:
        return {
            "type": "state",
            "state": agent.state.value,
            "campaign_id": agent.campaign_id,
            "preview": agent.preview,
            "pause_reason": agent.core.pause_reason,
            "in_state_s": round(agent.core.elapsed_s(self.clock()), 1),
            "attempt_id": agent.attempt_id,
            "pop": agent.pop,
            "preview_lead": agent.preview_lead,
        }

    def push_state(self, agent: LiveAgent) -> None:
        self.send(agent.agent_id, self.state_message(agent))

    def board(self) -> list[Message]:
        """Every agent for the wallboard."""
        now = self.clock()
        out = []
        for a in sorted(self.agents.values(), key=lambda a: a.username):
            times = a.core.time_in_state(now)
            logged = sum(s for st, s in times.items()
                         if st not in (AgentState.OFFLINE, AgentState.PAUSED))
            busy = times[AgentState.ON_CALL] + times[AgentState.WRAP_UP] \
                + times[AgentState.RESERVED]
            out.append({
                "agent_id": a.agent_id, "username": a.username, "state": a.state.value,
                "campaign_id": a.campaign_id, "in_state_s": round(a.core.elapsed_s(now), 1),
                "pause_reason": a.core.pause_reason, "connected": a.connections > 0,
                "preview": a.preview, "busy_s": busy, "available_s": logged,
            })  # fmt: skip
        return out
