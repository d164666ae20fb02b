"""One dial, from lease to disposition: a task reading its call's events.

The inbox holds the telephony port's events for this call id (ringing, answered, hung up,
bridge failed, prompt done) and the desk's (an agent found, the agent hung up or lost
their phone, the disposition). The call is durable before it is dialled (`live_calls`),
its trunk is hung up as soon as either side hangs up, and a cancelled call is hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from crm import contacts, dnc
from dialer.core.calls import CallState
from dialer.core.pacing.base import OutcomeKind
from dialer.core.routing import LiveAgent
from dialer.live.campaign import LiveCampaign
from dialer.live.deps import DB_DOWN, Deps
from dialer.live.inbox import (
    AgentFound,
    AgentHungUp,
    AgentLost,
    DeskEvent,
    Disposed,
    Transferred,
)
from dialer.live.outcomes import (
    DispositionEntry,
    NextStep,
    after_dial,
    after_disposition,
)
from dialer.live.throttle import LogThrottle
from dialer.store import calls, hopper, journeys
from dialer.store.calls import LiveState
from dialer.store.hopper import LeadStatus, LeasedLead
from dialer.store.journeys import Journey, utcnow
from dialer.telephony.causes import unanswered_outcome
from dialer.telephony.events import (
    AmdDecided,
    Answered,
    AnswerKind,
    BridgeFailed,
    CallEvent,
    HungUp,
    PromptDone,
    Ringing,
)
from dialer.telephony.port import MACHINE_MESSAGE, SAFE_HARBOR, Originate

log = logging.getLogger(__name__)
T = TypeVar("T")

PROMPT_MAX_S = 30.0  # a safe-harbor prompt that never reports done is cut after this
RING_GRACE_S = 30.0  # after the ring timeout, a port that stays silent is given up on
CLOSE_TRIES = 8  # the closing transaction is retried (database outage) with backoff

Event = CallEvent | DeskEvent


class PacingFeed(Protocol):
    """The campaign loop, as a call reports to it."""

    def dialed(self, attempt_id: int, at_s: float) -> None: ...
    def resolved(self, attempt_id: int) -> None: ...
    def observe(self, kind: OutcomeKind, duration_s: float) -> None: ...


def call_id_for(campaign_id: int, attempt_id: int) -> str:
    return f"tm-{campaign_id}-{attempt_id}"


_throttle = LogThrottle(log)


async def retrying(what: str, fn: Callable[[], Awaitable[T]], tries: int = CLOSE_TRIES) -> T:
    """Run `fn`, again after a database outage (backoff 0.2 s doubling to 5 s)."""
    delay_s = 0.2
    for i in range(tries):
        try:
            return await fn()
        except DB_DOWN:
            if i == tries - 1:
                raise
            # one line per interval for all calls: an outage with 200 calls up is not
            # 200 lines a second
            _throttle.warning("db", "%s: database unreachable, retrying in %.1f s",
                              what, delay_s)
            await asyncio.sleep(delay_s)
            delay_s = min(5.0, delay_s * 2)
    raise AssertionError("unreachable")


class _Closed(Exception):
    """The call's row was closed by another process (it took the call over)."""


class CallTask:
    def __init__(
        self,
        deps: Deps,
        campaign: LiveCampaign,
        lead: LeasedLead,
        *,
        attempt_id: int,
        feed: PacingFeed | None,
        agent: LiveAgent | None = None,
        pop: dict[str, Any] | None = None,
    ) -> None:
        self.deps, self.campaign, self.lead = deps, campaign, lead
        self.attempt_id = attempt_id
        self.call_id = call_id_for(campaign.campaign_id, attempt_id)
        self.feed = feed
        self.agent = agent  # preview: the agent held for this call
        self.pop = pop
        self.inbox: asyncio.Queue[Event] = asyncio.Queue()
        self.journey = Journey(attempt_id=attempt_id, campaign_id=campaign.campaign_id,
                               lead_id=lead.lead_id, dialer=deps.owner,
                               mode="preview" if agent is not None else "predictive",
                               queued_at=utcnow())
        self.trunk_up = False  # originated and not hung up yet
        self._pop_task: asyncio.Task[dict[str, Any]] | None = None
        self._writes: asyncio.Task[None] | None = None  # the last state write, in order

    def post(self, event: Event) -> None:
        self.inbox.put_nowait(event)

    # -- the call's row, in order, off the answer-to-agent path ----------------------------
    def _persist(self, state: LiveState, *, agent_id: int | None = None,
                 pop: dict[str, Any] | None = None) -> None:
        """Write the call's state (and its journey) after the writes before it."""
        before = self._writes
        d = self.deps

        async def write() -> None:
            if before is not None:
                await asyncio.gather(before, return_exceptions=True)

            async def once() -> None:
                async with d.pool.acquire() as conn:
                    await calls.set_state(conn, attempt_id=self.attempt_id, owner=d.owner,
                                          state=state, agent_id=agent_id, pop=pop)
                    await journeys.save(conn, self.journey)

            await retrying(f"call {self.attempt_id} {state.value}", once)

        self._writes = asyncio.create_task(write(), name=f"call-{self.attempt_id}-{state}")

    async def _persisted(self) -> None:
        if self._writes is not None:
            await self._writes

    # -- reading the inbox -----------------------------------------------------------------
    async def _next(self, timeout_s: float | None) -> Event | None:
        """The next event; None when `timeout_s` passes first."""
        if timeout_s is not None and timeout_s <= 0:
            return self._take_nowait()
        try:
            real_s = None if timeout_s is None else timeout_s * self.deps.time_scale
            async with asyncio.timeout(real_s):
                event = await self.inbox.get()
        except TimeoutError:
            return None
        self._track(event)
        return event

    def _take_nowait(self) -> Event | None:
        try:
            event = self.inbox.get_nowait()
        except asyncio.QueueEmpty:
            return None
        self._track(event)
        return event

    def _track(self, event: Event) -> None:
        if isinstance(event, HungUp):
            self.trunk_up = False

    async def _hangup(self) -> None:
        if self.trunk_up:
            self.trunk_up = False
            await self.deps.port.hangup(self.call_id)

    def _observe(self, kind: OutcomeKind, duration_s: float) -> None:
        if self.feed is not None:
            self.feed.observe(kind, duration_s)

    # -- the call --------------------------------------------------------------------------
    async def run(self) -> None:
        d, lead, j = self.deps, self.lead, self.journey
        clock = d.desk.clock
        if self.pop is None:  # built while the phone rings, so the answer finds it ready
            self._pop_task = asyncio.create_task(
                d.build_pop(self.campaign, lead, self.attempt_id), name=f"pop-{self.attempt_id}")
        try:
            j.dialed_at = utcnow()
            async with d.pool.acquire() as conn, conn.transaction():
                await calls.insert(
                    conn, attempt_id=self.attempt_id, call_id=self.call_id,
                    campaign_id=self.campaign.campaign_id, lead_id=lead.lead_id,
                    customer_id=lead.customer_id, phone_e164=lead.phone_e164, owner=d.owner,
                    mode=j.mode, dialed_at=j.dialed_at,
                )  # fmt: skip
                await journeys.save(conn, j)
            await self._dial(clock)
        except asyncio.CancelledError:
            # Stopping: the trunk goes down now; the call's row stays for recovery.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._hangup())
            raise
        except _Closed:
            log.warning("call %s was closed by another process", self.attempt_id)
        except Exception:
            log.exception("call %s (lead %s) failed", self.attempt_id, lead.lead_id)
            with contextlib.suppress(Exception):
                await self._hangup()
            self._let_agent_go()
            with contextlib.suppress(Exception):
                await self._close(CallState.FAILED.value,
                                  after_dial(self.campaign, lead.attempts, CallState.FAILED,
                                             utcnow()),
                                  details={"error": "dialer error"})
        finally:
            if self.feed is not None:  # however the call ended, it is no longer ringing
                self.feed.resolved(self.attempt_id)
            if self._pop_task is not None and not self._pop_task.done():
                self._pop_task.cancel()

    def _let_agent_go(self) -> None:
        desk = self.deps.desk
        if desk.call_of(self.attempt_id) is not None:
            desk.drop_call(self.attempt_id)
        elif self.agent is not None:
            desk.release(self.agent)

    async def _dial(self, clock: Callable[[], float]) -> None:
        d, campaign, lead, j = self.deps, self.campaign, self.lead, self.journey
        dialed_s = clock()
        if self.feed is not None:
            self.feed.dialed(self.attempt_id, dialed_s)
        try:
            self.trunk_up = True
            await d.port.originate(Originate(
                call_id=self.call_id, phone_e164=lead.phone_e164,
                max_ring_s=campaign.compliance.max_ring_s, caller_id=campaign.caller_id,
                amd=campaign.amd or d.amd, record=campaign.record,
            ))  # fmt: skip
            answer = await self._until_answer()
        finally:
            if self.feed is not None:
                self.feed.resolved(self.attempt_id)
        if not isinstance(answer, Answered):
            if answer is None:
                await self._hangup()
                outcome, reason = CallState.FAILED, "no_signal"
            else:
                found = unanswered_outcome(answer.cause)
                outcome, reason = found.outcome, found.reason
            self._observe(OutcomeKind(outcome.value), clock() - dialed_s)
            await self._no_agent(outcome, f"no live answer: {reason}", cause=reason)
            return
        if answer.kind is AnswerKind.MACHINE:
            self._observe(OutcomeKind.ANSWERED_MACHINE, clock() - dialed_s)
            await self._machine_message()
            await self._hangup()
            await self._no_agent(CallState.ANSWERED_MACHINE, "an answering machine answered")
            return
        j.answered_at = answer.at  # the journey's "answered" is a person's answer
        self._observe(OutcomeKind.ANSWERED_LIVE, clock() - dialed_s)
        answered_s = clock()
        self._persist(LiveState.ANSWERED)  # written beside the routing, not before it
        agent = await self._find_agent(answered_s + campaign.compliance.connect_window_s)
        if agent is None:
            return
        await self._talk(agent, answered_s, clock)

    async def _no_agent(self, outcome: CallState, text: str, *, cause: str | None = None
                        ) -> None:
        """The call ended before reaching an agent; a preview agent is free again."""
        if self.agent is not None:
            self.deps.desk.release(self.agent)
            self.deps.desk.notice(self.agent.agent_id, "no_live_answer", text,
                                  outcome=outcome.value)
        await self._close(outcome.value,
                          after_dial(self.campaign, self.lead.attempts, outcome, utcnow()),
                          details={"cause": cause} if cause else None)

    async def _until_answer(self) -> Answered | HungUp | None:
        limit_s = self.campaign.compliance.max_ring_s + RING_GRACE_S
        while True:
            event = await self._next(limit_s)
            if event is None:
                log.warning("call %s: no answer nor hang-up from telephony", self.attempt_id)
                return None
            if isinstance(event, Ringing):
                self.journey.ringing_at = event.at
            elif isinstance(event, Answered | HungUp):
                return event

    async def _find_agent(self, deadline_s: float) -> LiveAgent | None:
        """Route the live answer within the connect window; else abandon it."""
        d, clock = self.deps, self.deps.desk.clock
        cid = self.campaign.campaign_id
        agent = self.agent or d.desk.route(cid, self.attempt_id)
        while agent is None:
            event = await self._next(deadline_s - clock())
            if event is None:
                d.desk.stop_waiting(cid, self.attempt_id)
                found = self._take_nowait()  # an agent may have been posted just now
                if isinstance(found, AgentFound):
                    agent = found.agent
                    break
                await self._abandon(deadline_s, "no agent within the connect window")
                return None
            if isinstance(event, AgentFound):
                agent = event.agent
            elif isinstance(event, HungUp):
                d.desk.stop_waiting(cid, self.attempt_id)
                await self._abandon(deadline_s, "the customer hung up before an agent came",
                                    play=False)
                return None
        await d.port.bridge(self.call_id, agent_id=agent.agent_id)
        return agent

    async def _abandon(self, answered_deadline_s: float, why: str, *, play: bool = True) -> None:
        """No agent: the identification message, hang up, an abandoned attempt."""
        d = self.deps
        window_s = self.campaign.compliance.connect_window_s
        self._observe(OutcomeKind.ABANDONED, d.desk.clock() - (answered_deadline_s - window_s))
        if play and self.trunk_up:
            await d.port.play(self.call_id, SAFE_HARBOR)
            started = d.desk.clock()
            while self.trunk_up:
                event = await self._next(PROMPT_MAX_S - (d.desk.clock() - started))
                if event is None or isinstance(event, PromptDone | HungUp):
                    break
        await self._hangup()
        await self._close(CallState.ABANDONED.value,
                          after_dial(self.campaign, self.lead.attempts, CallState.ABANDONED,
                                     utcnow()),
                          details={"why": why})

    async def _talk(self, agent: LiveAgent, answered_s: float,
                    clock: Callable[[], float]) -> None:
        d, j = self.deps, self.journey
        j.agent_connected_at = utcnow()
        j.agent_id = agent.agent_id
        connected_s = clock()
        pop = self.pop
        if pop is None:
            assert self._pop_task is not None
            pop = await self._pop_task  # normally ready: built while the phone rang
        d.desk.connect(agent, attempt_id=self.attempt_id, campaign_id=self.campaign.campaign_id,
                       pop=pop)
        self._observe(OutcomeKind.CONNECTED, connected_s - answered_s)
        for name, seconds in journeys.latencies(j).items():
            if name != journeys.ANSWER_TO_SCREEN_POP:  # observed when the ack arrives
                d.observe(name, seconds)
        self._persist(LiveState.CONNECTED, agent_id=agent.agent_id, pop=pop)  # after the pop
        await self._persisted()
        hung_s: float | None = None
        entry: DispositionEntry | None = None
        deadline_s = connected_s + d.max_call_s
        while entry is None:
            event = await self._next(deadline_s - clock())
            if event is None:
                entry = DispositionEntry(code="no_disposition", agent_id=agent.agent_id)
                d.desk.drop_call(self.attempt_id)
            elif isinstance(event, AmdDecided) and event.kind is AnswerKind.MACHINE \
                    and hung_s is None:
                await self._machine_after_connect(agent, event.detail)
                return
            elif isinstance(event, BridgeFailed):
                await self._bridge_failed(agent, event.reason, answered_s)
                return
            elif isinstance(event, HungUp | AgentHungUp | AgentLost):
                if isinstance(event, HungUp):
                    d.desk.talk_ended(self.attempt_id, code="customer_hung_up",
                                      text="The customer hung up")
                await self._hangup()
                if hung_s is None:
                    hung_s = clock()
                    self._persist(LiveState.WRAP_UP)
            elif isinstance(event, Transferred):
                # the new agent holds the call: theirs the attempt and the disposition
                agent = event.agent
                j.hand_over(agent.agent_id, event.at)
                self._persist(LiveState.CONNECTED, agent_id=agent.agent_id)
            elif isinstance(event, Disposed):
                entry = event.entry
        await self._hangup()
        ended_s = clock()
        hung_s = ended_s if hung_s is None else hung_s
        self._observe(OutcomeKind.TALK_ENDED, hung_s - connected_s)
        self._observe(OutcomeKind.WRAP_ENDED, ended_s - hung_s)
        step = after_disposition(self.campaign, self.lead, entry, utcnow())
        await self._close(CallState.ANSWERED_LIVE.value, step, entry=entry)

    async def _machine_message(self) -> None:
        """A machine answered: the campaign's message when it wants one (amd_machine)."""
        d = self.deps
        if self.campaign.amd_machine != "message" or not self.trunk_up:
            return
        await d.port.play(self.call_id, MACHINE_MESSAGE)
        started = d.desk.clock()
        while self.trunk_up:
            event = await self._next(PROMPT_MAX_S - (d.desk.clock() - started))
            if event is None or isinstance(event, PromptDone | HungUp):
                break

    async def _machine_after_connect(self, agent: LiveAgent, detail: str) -> None:
        """AMD vad: the call went to the agent at once and turned out to be a machine. The
        agent is free again; the machine is dropped (or hears the message first)."""
        d = self.deps
        d.desk.notice(agent.agent_id, "machine", "An answering machine: the call was taken away")
        d.desk.drop_call(self.attempt_id)
        await self._machine_message()
        await self._hangup()
        await self._close(CallState.ANSWERED_MACHINE.value,
                          after_dial(self.campaign, self.lead.attempts,
                                     CallState.ANSWERED_MACHINE, utcnow()),
                          details={"amd": detail})

    async def _bridge_failed(self, agent: LiveAgent, reason: str, answered_s: float) -> None:
        """The agent got the pop but the call could not be joined to their phone: the
        customer hears the identification message; the agent is free again."""
        d = self.deps
        d.desk.notice(agent.agent_id, "bridge_failed",
                      f"The call could not be connected to your phone ({reason})", reason=reason)
        d.desk.drop_call(self.attempt_id)
        self.journey.agent_connected_at = None
        self.journey.agent_id = None
        await self._abandon(answered_s + self.campaign.compliance.connect_window_s,
                            f"bridge failed: {reason}")

    # -- closing ---------------------------------------------------------------------------
    async def _close(
        self,
        outcome: str,
        step: NextStep,
        *,
        entry: DispositionEntry | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """One transaction: the attempt on the customer's timeline, the journey, the lead,
        and the call's row gone."""
        d, lead, j = self.deps, self.lead, self.journey
        j.outcome = entry.code if entry is not None else outcome
        j.ended_at = utcnow()
        info: dict[str, Any] = {"lead_id": lead.lead_id, "dialer": d.owner, "mode": j.mode,
                                **(details or {})}
        if j.transferred_from is not None:
            info["transferred_from"] = j.transferred_from
        if entry is not None:
            info["note"] = entry.note
            if entry.callback_at is not None:
                info["callback_at"] = entry.callback_at.isoformat()
                info["callback_mine"] = step.callback_agent_id is not None

        if self._writes is not None:
            await asyncio.gather(self._writes, return_exceptions=True)

        async def write() -> None:
            async with d.pool.acquire() as conn, conn.transaction():
                if not await calls.delete(conn, attempt_id=self.attempt_id, owner=d.owner):
                    raise _Closed(str(self.attempt_id))
                await contacts.record_attempt(conn, contacts.Attempt(
                    attempt_id=self.attempt_id, customer_id=lead.customer_id,
                    campaign_id=self.campaign.campaign_id, phone_e164=lead.phone_e164,
                    at=j.dialed_at or j.queued_at, outcome=outcome,
                    disposition=entry.code if entry is not None else None,
                    agent_id=j.agent_id, details=info,
                ))  # fmt: skip
                await journeys.save(conn, j)
                if step.status is LeadStatus.DNC:
                    # through crm, which writes the audit row beside the do-not-call entry
                    await dnc.add_internal(
                        conn, phone_e164=lead.phone_e164,
                        source=f"agent {j.agent_id} on attempt {self.attempt_id}",
                        actor=f"agent:{j.agent_id}",
                    )  # fmt: skip
                kept = await hopper.finish(
                    conn, lead_id=lead.lead_id, owner=d.owner, status=step.status,
                    outcome=outcome, next_attempt_at=step.next_attempt_at,
                    callback_at=step.callback_at, callback_agent_id=step.callback_agent_id,
                )  # fmt: skip
                if not kept:
                    log.warning("lead %s: lease lost before attempt %s ended", lead.lead_id,
                                self.attempt_id)

        await retrying(f"closing call {self.attempt_id}", write)
        if entry is not None and entry.agent_id:
            # The attempt, the lead and its callback are written now (the desk let the agent
            # go before): the desktop refreshes the figures and callbacks that read them.
            d.desk.send(entry.agent_id, {"type": "closed", "attempt_id": self.attempt_id})
