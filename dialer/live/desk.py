"""The live desk: the agents of the campaigns this process runs, the live answers waiting
for them, and the messages that go to their desktops.

It imports no web framework and no telephony: what it must tell others it tells through
callables the runtime hands it — `send(agent_id, message)` to a desktop, `post(attempt_id,
event)` to a call's task, `want_leg(agent_id)` to ask telephony for an agent's phone leg.
An agent is routable only while a desktop is connected **and** their phone leg is up.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from dialer.core.agents import Agent, AgentState
from dialer.core.routing import LiveAgent, longest_idle
from dialer.errors import AgentNotLoggedIn, IllegalTransition, NoSuchCall
from dialer.live.inbox import AgentFound, AgentHungUp, AgentLost, DeskEvent, Disposed
from dialer.live.outcomes import DispositionEntry
from dialer.store.journeys import utcnow

Message = dict[str, Any]
Send = Callable[[int, Message], None]
Post = Callable[[int, DeskEvent], None]

PAUSE_REASONS = ("break", "lunch", "training", "meeting", "technical", "disconnected")


@dataclasses.dataclass(kw_only=True, slots=True)
class DeskCall:
    """What the desk tracks for a call on an agent (talking or wrapping up)."""

    attempt_id: int
    agent_id: int
    campaign_id: int
    popped_at: dt.datetime = dataclasses.field(default_factory=utcnow)  # the pop sent
    acked_at: dt.datetime | None = None
    recovered: bool = False  # its process died: only the disposition is left to do
    held: bool = False  # call controls (issue 14), as the agent's desktop shows them
    muted: bool = False
    # an inbound call's queue (None: outbound): it may go to agents skilled for it
    queue_id: int | None = None


def _in(at_s: float | None, now_s: float) -> float | None:
    return None if at_s is None else round(max(0.0, at_s - now_s), 1)


def scaled_clock(time_scale: float) -> Callable[[], float]:
    """Monotonic seconds divided by `time_scale`: scenario seconds under a scaled sim."""
    if time_scale == 1.0:
        return time.monotonic
    return lambda: time.monotonic() / time_scale


class LiveDesk:
    def __init__(
        self, *, send: Send | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.agents: dict[int, LiveAgent] = {}
        self.clock = clock
        self.send: Send = send or (lambda agent_id, message: None)
        self.post: Post = lambda attempt_id, event: None
        self.want_leg: Callable[[int], None] = lambda agent_id: None
        self.drop_leg: Callable[[int], None] = lambda agent_id: None
        self.legs: set[int] = set()  # agents whose phone leg is up
        self.on_ack: Callable[[int, dt.datetime], None] | None = None
        self.on_order: Callable[[int, int, float], None] | None = None
        self.on_recovered_disposition: Callable[[DeskCall, DispositionEntry], None] | None = None
        self.on_change: Callable[[LiveAgent], None] = lambda agent: None  # state to persist
        # live answers waiting for an agent, per campaign: attempt id -> since (clock)
        self._waiting: dict[int, dict[int, float]] = collections.defaultdict(dict)
        self._calls: dict[int, DeskCall] = {}
        # dispositions saved for calls still coming back from a dead process
        self.pending: dict[int, DispositionEntry] = {}
        # agents taken out of routing because their session went stale (`gone`), not
        # because they left: only these come back when their web node beats again (`back`)
        self.stale: set[int] = set()
        # Inbound (issue 15, dialer.live.inbound): agents the hold plan keeps off outbound,
        # and the line's offer of a waiting caller to an agent who became free (True: taken)
        self.held: frozenset[int] = frozenset()
        self.offer_inbound: Callable[[LiveAgent], bool] = lambda agent: False
        # whether an agent holds a skill on an inbound queue: (queue id, agent id)
        self.skilled: Callable[[int, int], bool] = lambda queue_id, agent_id: False

    # -- the agent's side ------------------------------------------------------------------
    def attach(self, agent_id: int, username: str) -> LiveAgent:
        """A desktop connected (first time or again): its state is where it was."""
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = LiveAgent(
                agent_id=agent_id, username=username, core=Agent(agent_id, at_s=self.clock())
            )
            self.agents[agent_id] = agent
        agent.username = username
        agent.connections += 1
        self.stale.discard(agent_id)
        if agent.state is not AgentState.OFFLINE and agent_id not in self.legs:
            self.want_leg(agent_id)
        self._offer(agent)
        return agent

    def seen(self, agent_id: int, username: str) -> LiveAgent:
        """An agent heard from through the bus: known here, with a desktop somewhere."""
        agent = self.agents.get(agent_id)
        if agent is None or agent.connections == 0:
            return self.attach(agent_id, username)
        return agent

    def restore(
        self,
        *,
        agent_id: int,
        username: str,
        campaign_id: int,
        state: str,
        pause_reason: str | None,
        preview: bool,
        attempt_id: int | None = None,
        pop: Message | None = None,
    ) -> LiveAgent:
        """An agent this desk did not know, as their session says (the campaign moved
        here, or this process restarted): ready or paused; one who was on a call waits in
        wrap-up for that call to come back (`give_back`) or be closed (`release_orphan`),
        and gets no other call meanwhile."""
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = LiveAgent(
                agent_id=agent_id, username=username, core=Agent(agent_id, at_s=self.clock())
            )
            self.agents[agent_id] = agent
        agent.connections = max(1, agent.connections)
        self.stale.discard(agent_id)
        if agent.state is AgentState.OFFLINE:
            on_call = attempt_id is not None and state in (
                AgentState.RESERVED.value,
                AgentState.ON_CALL.value,
                AgentState.WRAP_UP.value,
            )
            if state == AgentState.PAUSED.value and pause_reason:
                agent.core.transition(AgentState.PAUSED, at_s=self.clock(), reason=pause_reason)
            elif state != AgentState.OFFLINE.value:
                agent.core.transition(AgentState.READY, at_s=self.clock())
            if on_call:
                for step in (AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP):
                    agent.core.transition(step, at_s=self.clock())
                agent.attempt_id = attempt_id
                agent.pop = pop
            agent.campaign_id = campaign_id
            agent.preview = preview
        if agent.state is not AgentState.OFFLINE and agent_id not in self.legs:
            self.want_leg(agent_id)
        self._offer(agent)
        self.push_state(agent, with_pop=True)
        return agent

    def detach(self, agent_id: int) -> None:
        """A desktop went away. A ready agent stays ready but gets no calls until back."""
        agent = self.agents.get(agent_id)
        if agent is not None:
            agent.connections = max(0, agent.connections - 1)
        self.stale.discard(agent_id)  # they left: a session beating again is not them

    def gone(self, agent_id: int) -> None:
        """The web node holding the agent's desktop stopped beating their session (it
        stalled, lost the database or the bus): no calls for them until it beats again
        (`back`). Their state and any call stay as they are, as for a dropped desktop."""
        agent = self.agents.get(agent_id)
        if agent is None or agent.connections == 0:
            return
        agent.connections = 0
        self.stale.add(agent_id)
        # Lost when the bus is what broke; when the node only stalled it arrives late,
        # just before `back`'s notice.
        self.notice(
            agent_id,
            "desktop_lost",
            "The dialer lost sight of your desktop: no calls until it is back",
        )

    def back(self, agent_id: int) -> LiveAgent | None:
        """An agent taken out by `gone` whose web node beats their session again, the
        desktop open all along: routed again in the state this desk kept (the state that
        desktop shows), told so. None when they left or came back another way meanwhile."""
        if agent_id not in self.stale:
            return None
        self.stale.discard(agent_id)
        agent = self.agents.get(agent_id)
        if agent is None or agent.connections > 0 or agent.state is AgentState.OFFLINE:
            return None
        agent.connections = 1
        if agent_id not in self.legs:
            self.want_leg(agent_id)
        self.notice(agent_id, "desktop_back", "The dialer sees your desktop again")
        self._offer(agent)
        # with the pop: what the desk published while the node was cut off never came
        self.push_state(agent, with_pop=True)
        return agent

    def agent(self, agent_id: int) -> LiveAgent:
        found = self.agents.get(agent_id)
        if found is None:
            raise AgentNotLoggedIn(str(agent_id))
        return found

    def ready(self, agent_id: int, *, campaign_id: int, preview: bool = False) -> LiveAgent:
        agent = self.agent(agent_id)
        if agent.attempt_id is not None:
            raise IllegalTransition(
                "set a disposition for the last call first", code="dispose_first"
            )
        if agent.state is AgentState.RESERVED:
            raise IllegalTransition("a call is being connected to you", code="connecting")
        if agent.state is not AgentState.READY:
            agent.core.transition(AgentState.READY, at_s=self.clock())
        agent.core.returns_at_s = None
        agent.campaign_id = campaign_id
        agent.preview = preview
        agent.preview_lead = None
        if agent_id not in self.legs:
            self.want_leg(agent_id)
        self._offer(agent)
        self.push_state(agent)
        return agent

    def schedule(self, agent_id: int, *, leaves_in_s: float | None) -> LiveAgent:
        """The agent's next break or logout is known (in clock seconds from now; None: no
        longer): the planner stops counting on them from then (`Agent.leaves_at_s`)."""
        agent = self.agent(agent_id)
        agent.core.leaves_at_s = None if leaves_in_s is None else self.clock() + leaves_in_s
        self.push_state(agent)
        return agent

    def pause(self, agent_id: int, *, reason: str, back_in_s: float | None = None) -> LiveAgent:
        agent = self.agent(agent_id)
        if reason not in PAUSE_REASONS:
            raise IllegalTransition(f"unknown pause reason {reason!r}", code="unknown_pause_reason")
        if agent.attempt_id is not None:
            raise IllegalTransition(
                "set a disposition for the last call first", code="dispose_first"
            )
        if agent.state is AgentState.RESERVED:
            raise IllegalTransition("a call is being connected to you", code="connecting")
        if agent.state is AgentState.PAUSED:
            agent.core.pause_reason = reason
        else:
            agent.core.transition(AgentState.PAUSED, at_s=self.clock(), reason=reason)
        # the departure happened; a known return lets the planner count on them again
        agent.core.leaves_at_s = None
        agent.core.returns_at_s = None if back_in_s is None else self.clock() + back_in_s
        agent.preview_lead = None
        self.push_state(agent)
        return agent

    def logout(self, agent_id: int) -> None:
        agent = self.agent(agent_id)
        if agent.attempt_id is not None or agent.state is AgentState.RESERVED:
            raise IllegalTransition("finish the call first", code="finish_call_first")
        if agent.state is not AgentState.OFFLINE:
            agent.core.transition(AgentState.OFFLINE, at_s=self.clock())
        agent.core.leaves_at_s = agent.core.returns_at_s = None
        if agent_id in self.legs:
            self.drop_leg(agent_id)
        self.push_state(agent)

    def ack(self, agent_id: int, attempt_id: int, *, at: dt.datetime | None = None) -> dt.datetime:
        """The browser shows the screen pop: `at`, when the web node holding its websocket
        heard so (else now). Returns when that was recorded.

        The web node may be another host: its time is kept between the pop's sending and
        now on this clock, so a skewed clock cannot put the ack before the answer or after
        the desk heard of it."""
        call = self._call_of(agent_id, attempt_id)
        if call.acked_at is None:
            now = utcnow()
            call.acked_at = now if at is None else min(max(at, call.popped_at), now)
            if self.on_ack is not None:
                self.on_ack(attempt_id, call.acked_at)
        return call.acked_at

    def hangup(self, agent_id: int, attempt_id: int) -> LiveAgent:
        """The agent ends the conversation: wrap-up starts, the trunk goes down."""
        self._call_of(agent_id, attempt_id)
        agent = self.agent(agent_id)
        if agent.state is AgentState.ON_CALL:
            agent.core.transition(AgentState.WRAP_UP, at_s=self.clock())
            self.post(attempt_id, AgentHungUp(agent_id=agent_id))
        self.push_state(agent)
        return agent

    def dispose(
        self, entry: DispositionEntry, *, attempt_id: int, pause_reason: str | None = None
    ) -> LiveAgent:
        """The call's disposition: the agent goes ready again (or pauses). For a call
        whose process died and that has not come back yet, it is kept until it does."""
        agent = self.agent(entry.agent_id)
        if attempt_id not in self._calls and agent.attempt_id == attempt_id:
            self.pending[attempt_id] = entry
            self._calls[attempt_id] = DeskCall(
                attempt_id=attempt_id,
                agent_id=agent.agent_id,
                campaign_id=agent.campaign_id or 0,
                recovered=True,
            )
        call = self._call_of(entry.agent_id, attempt_id)
        if agent.state is AgentState.ON_CALL:
            agent.core.transition(AgentState.WRAP_UP, at_s=self.clock())
        if agent.state is not AgentState.WRAP_UP:
            raise IllegalTransition(
                f"agent is {agent.state.value}, not wrapping up", code="not_wrapping_up"
            )
        del self._calls[attempt_id]
        if call.recovered and attempt_id not in self.pending:
            if self.on_recovered_disposition is not None:
                self.on_recovered_disposition(call, entry)
        else:
            self.post(attempt_id, Disposed(entry=entry))
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

    def call_of(self, attempt_id: int) -> DeskCall | None:
        return self._calls.get(attempt_id)

    def _call_of(self, agent_id: int, attempt_id: int) -> DeskCall:
        call = self._calls.get(attempt_id)
        if call is None or call.agent_id != agent_id:
            raise NoSuchCall(str(attempt_id))
        return call

    # -- the telephony side ----------------------------------------------------------------
    def leg_up(self, agent_id: int) -> None:
        self.legs.add(agent_id)
        agent = self.agents.get(agent_id)
        if agent is not None:
            self._offer(agent)
            self.push_state(agent)

    def leg_down(self, agent_id: int, reason: str) -> None:
        """The agent's phone leg dropped: no calls until it is back (telephony is asked
        again while they are logged in); a call on it ends, the agent wraps it up."""
        self.legs.discard(agent_id)
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        if agent.attempt_id is not None and agent.state is AgentState.ON_CALL:
            agent.core.transition(AgentState.WRAP_UP, at_s=self.clock())
            self.post(agent.attempt_id, AgentLost(agent_id=agent_id, reason=reason))
            self.notice(
                agent_id, "phone_dropped", f"Your phone line dropped ({reason})", reason=reason
            )
        if agent.state is not AgentState.OFFLINE:
            self.want_leg(agent_id)
        self.push_state(agent)

    # -- the dialer's side -----------------------------------------------------------------
    def routable(self, agent: LiveAgent) -> bool:
        return agent.routable and agent.agent_id in self.legs

    def agents_on(self, campaign_id: int) -> list[LiveAgent]:
        return [
            a
            for a in self.agents.values()
            if a.campaign_id == campaign_id and a.state is not AgentState.OFFLINE
        ]

    def reachable(self, campaign_id: int) -> int:
        """Agents of this campaign with a desktop connected."""
        return sum(1 for a in self.agents_on(campaign_id) if a.connections > 0)

    def waiting_since(self, campaign_id: int) -> tuple[float, ...]:
        """When each live answer waiting for an agent came in (clock seconds)."""
        return tuple(self._waiting.get(campaign_id, {}).values())

    def route(self, campaign_id: int, attempt_id: int) -> LiveAgent | None:
        """A live answer: the longest-idle routable agent, reserved now; or None, and the
        call waits: the first agent to become ready is reserved and posted to the call
        (`AgentFound`) until `stop_waiting`."""
        agent = longest_idle(
            (
                a
                for a in self.agents.values()
                if a.agent_id in self.legs and a.agent_id not in self.held
            ),
            campaign_id,
        )
        if agent is not None:
            agent.core.transition(AgentState.RESERVED, at_s=self.clock())
            self.push_state(agent)
            return agent
        self._waiting[campaign_id][attempt_id] = self.clock()
        return None

    def stop_waiting(self, campaign_id: int, attempt_id: int) -> None:
        self._waiting.get(campaign_id, {}).pop(attempt_id, None)

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

    def connect(
        self,
        agent: LiveAgent,
        *,
        attempt_id: int,
        campaign_id: int,
        pop: Message,
        queue_id: int | None = None,
    ) -> None:
        """The callee (or an inbound caller of `queue_id`) is bridged to the agent: on
        call, the screen pop goes out."""
        agent.core.transition(AgentState.ON_CALL, at_s=self.clock())
        agent.attempt_id = attempt_id
        agent.pop = pop
        agent.preview_lead = None
        self._calls[attempt_id] = DeskCall(
            attempt_id=attempt_id,
            agent_id=agent.agent_id,
            campaign_id=campaign_id,
            queue_id=queue_id,
        )
        self.send(agent.agent_id, {"type": "pop", "attempt_id": attempt_id, "pop": pop})
        self.push_state(agent)

    def transfer(self, attempt_id: int, *, to: LiveAgent) -> None:
        """Telephony moved the call to another agent (issue 14): they are on it with the
        same screen pop and will dispose it; the first agent is free again."""
        call = self._calls.get(attempt_id)
        if call is None:
            raise NoSuchCall(str(attempt_id))
        old = self.agents.get(call.agent_id)
        pop = old.pop if old is not None else None
        if old is not None:
            old.attempt_id, old.pop = None, None
            if old.state is AgentState.ON_CALL:
                old.core.transition(AgentState.WRAP_UP, at_s=self.clock())
            if old.state is AgentState.WRAP_UP:
                old.core.transition(AgentState.READY, at_s=self.clock())
            self.notice(old.agent_id, "transferred", "The call was transferred")
            self.push_state(old)
            self._offer(old)
        to.core.transition(AgentState.RESERVED, at_s=self.clock())
        self.connect(
            to,
            attempt_id=attempt_id,
            campaign_id=call.campaign_id,
            pop=pop or {},
            queue_id=call.queue_id,
        )
        self.send(
            to.agent_id,
            {
                "type": "notice",
                "code": "transferred_in",
                "text": "A call transferred to you",
                "from": old.username if old is not None else None,
            },
        )

    def controlled(
        self, attempt_id: int, *, held: bool | None = None, muted: bool | None = None
    ) -> None:
        """Telephony held or resumed, muted or unmuted the call: the desktop shows it."""
        call = self._calls.get(attempt_id)
        if call is None:
            return
        call.held = call.held if held is None else held
        call.muted = call.muted if muted is None else muted
        agent = self.agents.get(call.agent_id)
        if agent is not None:
            self.push_state(agent)

    def _may_take(self, me: LiveAgent, other: LiveAgent) -> bool:
        """Whether `other` may be handed `me`'s call: ready (desktop and phone leg up) and,
        for an outbound call, on the same campaign; for an inbound call, holding a skill
        on its queue, whatever campaign they are ready on (as the ACD routes callers)."""
        if other.agent_id == me.agent_id or not self.routable(other):
            return False
        call = self._calls.get(me.attempt_id) if me.attempt_id is not None else None
        if call is not None and call.queue_id is not None:
            return self.skilled(call.queue_id, other.agent_id)
        return other.campaign_id == (call.campaign_id if call is not None else me.campaign_id)

    def transfer_targets(self, agent_id: int) -> list[Message]:
        """Whom an agent may transfer their call to (what `transfer_target` accepts)."""
        me = self.agent(agent_id)
        return [
            {"agent_id": a.agent_id, "username": a.username}
            for a in sorted(self.agents.values(), key=lambda a: a.username)
            if self._may_take(me, a)
        ]

    def transfer_target(self, agent_id: int, to_agent_id: int | None) -> LiveAgent:
        """The agent a call of `agent_id` may be transferred to now, or IllegalTransition."""
        if to_agent_id == agent_id:
            raise IllegalTransition("a call cannot be transferred to yourself")
        me = self.agent(agent_id)
        target = self.agents.get(to_agent_id or 0)
        if target is None or not self._may_take(me, target):
            raise IllegalTransition(
                "that agent cannot take this call now (not ready on its"
                " campaign, or without a skill for its inbound queue)"
            )
        return target

    def talk_ended(self, attempt_id: int, *, code: str, text: str) -> None:
        """The line went down from the far side (the customer hung up, the bridge
        failed): the agent goes to wrap-up and sees why."""
        call = self._calls.get(attempt_id)
        if call is None:
            return
        agent = self.agents.get(call.agent_id)
        if agent is not None and agent.state is AgentState.ON_CALL:
            agent.core.transition(AgentState.WRAP_UP, at_s=self.clock())
            self.notice(agent.agent_id, code, text)
            self.push_state(agent)

    def drop_call(self, attempt_id: int) -> None:
        """A call that closed without a disposition (it failed or ran too long)."""
        call = self._calls.pop(attempt_id, None)
        agent = self.agents.get(call.agent_id) if call is not None else None
        if agent is None or agent.attempt_id != attempt_id:
            return
        if agent.state is AgentState.ON_CALL:
            agent.core.transition(AgentState.WRAP_UP, at_s=self.clock())
        agent.attempt_id = None
        agent.pop = None
        if agent.state is AgentState.WRAP_UP:
            agent.core.transition(AgentState.READY, at_s=self.clock())
            self._offer(agent)
        self.push_state(agent)

    def orphans(self) -> dict[int, int]:
        """Agents waiting in wrap-up for a call this desk does not run: attempt -> agent."""
        return {
            a.attempt_id: a.agent_id
            for a in self.agents.values()
            if a.attempt_id is not None and a.attempt_id not in self._calls
        }

    def release_orphan(self, agent_id: int) -> None:
        """The call an agent waited for was closed without them: ready again."""
        agent = self.agents.get(agent_id)
        if agent is None or agent.attempt_id is None or agent.attempt_id in self._calls:
            return
        agent.attempt_id = None
        agent.pop = None
        if agent.state is AgentState.WRAP_UP:
            agent.core.transition(AgentState.READY, at_s=self.clock())
            self._offer(agent)
        self.push_state(agent)

    def give_back(
        self,
        *,
        agent_id: int,
        username: str,
        attempt_id: int,
        campaign_id: int,
        pop: Message | None,
    ) -> LiveAgent:
        """A call whose process died comes back to its agent in wrap-up, so the
        disposition can be saved here."""
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = LiveAgent(
                agent_id=agent_id, username=username, core=Agent(agent_id, at_s=self.clock())
            )
            self.agents[agent_id] = agent
        if agent.attempt_id is not None and agent.attempt_id != attempt_id:
            raise IllegalTransition(f"agent {agent_id} is on another call", code="on_another_call")
        state = agent.state
        if state in (AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE):
            if state is not AgentState.READY:
                agent.core.transition(AgentState.READY, at_s=self.clock())
            agent.core.transition(AgentState.RESERVED, at_s=self.clock())
            state = AgentState.RESERVED
        if state is AgentState.RESERVED:
            agent.core.transition(AgentState.ON_CALL, at_s=self.clock())
        if agent.state is AgentState.ON_CALL:
            agent.core.transition(AgentState.WRAP_UP, at_s=self.clock())
        agent.campaign_id = campaign_id
        agent.attempt_id = attempt_id
        agent.pop = pop
        self._calls[attempt_id] = DeskCall(
            attempt_id=attempt_id, agent_id=agent_id, campaign_id=campaign_id, recovered=True
        )
        self.notice(
            agent_id, "call_recovered", "The dialer serving this call stopped: save its disposition"
        )
        self.push_state(agent, with_pop=True)
        return agent

    def _offer(self, agent: LiveAgent) -> None:
        """A ready agent takes the longest-waiting live answer of their campaign, if any;
        else a waiting inbound caller. An agent held for inbound takes inbound only."""
        if not self.routable(agent):
            return
        if agent.agent_id in self.held:
            self.offer_inbound(agent)
            return
        waiting = self._waiting.get(agent.campaign_id) if agent.campaign_id is not None else None
        if not waiting:
            self.offer_inbound(agent)
            return
        attempt_id = min(waiting, key=waiting.__getitem__)
        del waiting[attempt_id]
        agent.core.transition(AgentState.RESERVED, at_s=self.clock())
        self.push_state(agent)
        self.post(attempt_id, AgentFound(agent=agent))

    # -- what the desktops see -------------------------------------------------------------
    def state_message(self, agent: LiveAgent, *, with_pop: bool = True) -> Message:
        call = self._calls.get(agent.attempt_id) if agent.attempt_id is not None else None
        return {
            "type": "state",
            "state": agent.state.value,
            "campaign_id": agent.campaign_id,
            "preview": agent.preview,
            "pause_reason": agent.core.pause_reason,
            "in_state_s": round(agent.core.elapsed_s(self.clock()), 1),
            "attempt_id": agent.attempt_id,
            "pop": agent.pop if with_pop else None,
            "preview_lead": agent.preview_lead,
            "phone": agent.agent_id in self.legs,
            "held": call is not None and call.held,
            "muted": call is not None and call.muted,
            "leaves_in_s": _in(agent.core.leaves_at_s, self.clock()),
            "back_in_s": _in(agent.core.returns_at_s, self.clock()),
        }

    def notice(self, agent_id: int, code: str, text: str, **detail: str) -> None:
        """A line on the desktop. `code` says what happened: the page says it from its
        catalog in the agent's language (server/static/agent.js, NOTICES); `text` is the
        English for logs and other clients; `detail` (an outcome, a reason) fills it in."""
        self.send(agent_id, {"type": "notice", "code": code, "text": text, **detail})

    def push_state(self, agent: LiveAgent, *, with_pop: bool = False) -> None:
        """The agent's state to their desktops. The screen pop (22 kB, most of it the order
        form's products) goes once, in the `pop` message; a state repeats it only for a
        desktop that may not have it (`with_pop`: it connected, asked, or the call came
        back to it). Repeated in every state it was most of the bytes a call sent."""
        self.send(agent.agent_id, self.state_message(agent, with_pop=with_pop))
        self.on_change(agent)

    def board(self) -> list[Message]:
        """Every agent for the wallboard."""
        now = self.clock()
        out = []
        for a in sorted(self.agents.values(), key=lambda a: a.username):
            times = a.core.time_in_state(now)
            logged = sum(
                s for st, s in times.items() if st not in (AgentState.OFFLINE, AgentState.PAUSED)
            )
            busy = (
                times[AgentState.ON_CALL] + times[AgentState.WRAP_UP] + times[AgentState.RESERVED]
            )
            out.append({
                "agent_id": a.agent_id, "username": a.username, "state": a.state.value,
                "campaign_id": a.campaign_id, "in_state_s": round(a.core.elapsed_s(now), 1),
                "pause_reason": a.core.pause_reason, "connected": a.connections > 0,
                "phone": a.agent_id in self.legs,
                "preview": a.preview, "busy_s": busy, "available_s": logged,
            })  # fmt: skip
        return out
