"""One inbound caller, from arrival to disposition: a task reading its call's events.

The port answered the caller and holds the call (`InboundCall`). The caller waits in a
queue of the inbound line (`dialer.live.inbound`), hears their position and estimated wait
every `announce_every_s`, and may keep their place and hang up (the callback key, or the
offer made after `callback_after_s`). When the ACD reserves an agent the call is bridged to
the agent's phone leg and the screen pop goes out; the agent ends it with a disposition,
as for an outbound call. A caller who hangs up first is a queue abandon.

A keep-my-place callback waits in the same queue with the time the caller first called.
When its turn comes an agent is already reserved for it, and only then is the number
dialled: a callback is never abandoned (a callback nobody answers frees the agent, who was
never on a call, and is tried again up to `CALLBACK_TRIES` times).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import logging
import math
from typing import Any, Protocol

from crm import contacts
from dialer.core.routing import LiveAgent
from dialer.inbound import acd, services, store
from dialer.inbound.acd import QueueRule
from dialer.live.deps import DB_DOWN, Deps
from dialer.live.inbound_ars import AGENT, ArsHooks, run_menu
from dialer.live.inbox import (
    AgentFound,
    AgentHungUp,
    AgentLost,
    DeskEvent,
    Disposed,
    Transferred,
)
from dialer.live.outcomes import DispositionEntry
from dialer.store import journeys
from dialer.store.journeys import Journey, utcnow
from dialer.telephony import prompts
from dialer.telephony.events import (
    Answered,
    BridgeFailed,
    CallEvent,
    Dtmf,
    HungUp,
    InboundCall,
    PromptDone,
)
from dialer.telephony.port import Originate

log = logging.getLogger(__name__)

Event = CallEvent | DeskEvent

CALLBACK_KEY = "1"  # "press 1 to keep your place and be called back"
CALLBACK_TRIES = 3  # a callback nobody answers is dialled this many times in all
CALLBACK_RETRY_S = 120.0  # ... this long apart, keeping its place
CALLBACK_RING_S = 30.0
PROMPT_WAIT_S = 15.0  # a goodbye prompt that never reports done is cut after this
CLOSE_S = 2.0  # on the way out, the call's row gets this long to close


def position_prompt(position: int) -> str:
    return prompts.POSITION.format(n=min(position, prompts.MAX_POSITION))


def wait_prompt(wait_s: float) -> str:
    if math.isinf(wait_s):
        return prompts.WAIT_UNKNOWN
    return prompts.WAIT.format(m=min(acd.announced_minutes(wait_s), prompts.MAX_WAIT_MIN))


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Caller:
    """What the line knows of a caller when they arrive (or of a callback's caller)."""

    call_id: str
    caller_e164: str | None
    called: str
    queue_id: int
    queue: str
    unknown_number: bool
    customer: dict[str, Any] | None
    broadcast: dict[str, Any] | None  # on air on the queue when they called
    arrived_at: dt.datetime


class Line(Protocol):
    """The inbound line, as one caller's task sees it."""

    ars: ArsHooks | None  # None: the ARS is not wired (callers go to the queue)

    def rule(self, queue_id: int) -> QueueRule: ...
    def enqueue(self, task: InboundCallTask) -> None: ...
    def leave(self, key: str) -> None: ...
    def position(self, key: str) -> int: ...
    def serving(self, queue_id: int) -> int: ...
    def claim_call_id(self, task: InboundCallTask, call_id: str) -> None: ...
    async def build_pop(self, task: InboundCallTask) -> dict[str, Any]: ...


class InboundCallTask:
    def __init__(
        self,
        deps: Deps,
        line: Line,
        *,
        event: InboundCall | None = None,
        callback: dict[str, Any] | None = None,
    ) -> None:
        """From a caller who just arrived (`event`), or from a stored callback row
        (`callback`: claimed from a process that stopped, or at start)."""
        assert (event is None) != (callback is None)
        self.deps, self.line = deps, line
        self.event = event
        self.callback: dict[str, Any] | None = callback
        self.call_id = event.call_id if event else f"tm-cb-{callback['id']}-0"  # type: ignore[index]
        self.attempt_id = 0  # reserved on arrival
        self.caller: Caller | None = None
        self.since_s = deps.desk.clock()  # the place in the queue (clock seconds)
        self.inbox: asyncio.Queue[Event] = asyncio.Queue()
        self.journey: Journey | None = None
        self.agent: LiveAgent | None = None
        self.pop: dict[str, Any] | None = None
        self.outcome: str | None = None  # how it ended (inbound_calls.outcome)
        self.trunk_up = event is not None
        self.ars_first = False  # the called number's ARS menu answers first
        self._prompts: collections.deque[str] = collections.deque()
        self._playing: str | None = None  # the queue's prompt being said now
        self._starting: asyncio.Task[None] | None = None  # its play() on the way to the port

    @property
    def key(self) -> str:
        """The caller's entry in the queue (a callback keeps its caller's place)."""
        return f"cb-{self.callback['id']}" if self.callback else self.call_id

    @property
    def is_callback(self) -> bool:
        return self.callback is not None

    def post(self, event: Event) -> None:
        self.inbox.put_nowait(event)

    # -- the inbox -------------------------------------------------------------------------
    async def _next(self, timeout_s: float | None) -> Event | None:
        if timeout_s is not None and timeout_s <= 0:
            try:
                return self._track(self.inbox.get_nowait())
            except asyncio.QueueEmpty:
                return None
        try:
            real_s = None if timeout_s is None else timeout_s * self.deps.time_scale
            async with asyncio.timeout(real_s):
                return self._track(await self.inbox.get())
        except TimeoutError:
            return None

    def _track(self, event: Event) -> Event:
        if isinstance(event, HungUp) and event.call_id == self.call_id:
            self.trunk_up = False
        return event

    async def _hangup(self) -> None:
        if self.trunk_up:
            self.trunk_up = False
            await self.deps.port.hangup(self.call_id)

    def _play(self, *prompts: str) -> None:
        """Queue prompts: each starts when the one before reports done."""
        self._prompts.extend(prompts)
        self._play_next()

    def _play_next(self) -> None:
        if self._playing is not None or not self._prompts or not self.trunk_up:
            return
        self._playing = self._prompts.popleft()
        self._starting = asyncio.get_running_loop().create_task(
            self.deps.port.play(self.call_id, self._playing), name=f"prompt-{self.call_id}"
        )

    def _prompt_done(self, event: PromptDone) -> None:
        # only the queue's own prompt frees the queue: the ARS's last words and prompts cut
        # by a key report done too, later, with other names
        if event.prompt == self._playing:
            self._playing = None
            self._play_next()

    async def _stop_prompts(self) -> None:
        """A key cuts the announcement: what is said now stops, what was queued is not
        said (the stopped prompt's PromptDone comes later and frees nothing)."""
        self._prompts.clear()
        if self._starting is not None:  # a play() still on its way would start after
            await asyncio.wait([self._starting])
        self._playing = None
        await self.deps.port.stop_prompts(self.call_id)

    # -- the call --------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._arrive()
            if self.ars_first and not await self._menu():
                return
            self.line.enqueue(self)
            while True:
                agent = await self._wait_for_agent()
                if agent is None:
                    return
                if self.is_callback:
                    agent = await self._dial_back(agent)
                    if agent is None:
                        if not await self._callback_again():
                            return
                        continue
                if await self._talk(agent):
                    return
        except asyncio.CancelledError:
            # Stopping: the caller is let go and their row closed, so the wallboard does
            # not count them as waiting (a stored callback stays for another process).
            self.line.leave(self.key)
            self._let_agent_go()
            with contextlib.suppress(Exception):
                await asyncio.shield(self._hangup())
            if self.caller is not None and self.outcome is None and self.event is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(self._end("failed")), CLOSE_S)
            raise
        except Exception:
            log.exception("inbound call %s failed", self.call_id)
            self.line.leave(self.key)
            self._let_agent_go()
            with contextlib.suppress(Exception):
                await self._hangup()
            with contextlib.suppress(Exception):
                await self._end("failed")

    def _let_agent_go(self) -> None:
        desk = self.deps.desk
        if desk.call_of(self.attempt_id) is not None:
            desk.drop_call(self.attempt_id)
        elif self.agent is not None:
            desk.release(self.agent)
        self.agent = None

    async def _arrive(self) -> None:
        """Reserve the attempt id, route the called number, recognise the caller, log the
        call and its journey; then take a place in the queue."""
        d = self.deps
        async with d.pool.acquire() as conn, conn.transaction():
            self.attempt_id = (await contacts.reserve_attempt_ids(conn, count=1))[0]
            if self.event is not None:
                ev = self.event
                route = await store.route(conn, ev.called)
                self.ars_first = route.ars and self.line.ars is not None
                if route.unknown:
                    log.info(
                        "inbound call %s: number %s feeds no queue; default queue",
                        ev.call_id,
                        ev.called,
                    )
                customer = await services.find_customer(conn, ev.caller_e164)
                broadcast = await store.on_air(conn, queue_id=route.queue_id, now=ev.at)
                await store.log_call(
                    conn,
                    call_id=ev.call_id,
                    caller=ev.caller_e164,
                    called=ev.called,
                    route=route,
                    customer_id=customer["id"] if customer else None,
                    broadcast_id=broadcast["id"] if broadcast else None,
                    at=ev.at,
                    attempt_id=self.attempt_id,
                )
                self.caller = Caller(
                    call_id=ev.call_id,
                    caller_e164=ev.caller_e164,
                    called=ev.called,
                    queue_id=route.queue_id,
                    queue=self.line.rule(route.queue_id).name,
                    unknown_number=route.unknown,
                    customer=customer,
                    broadcast=broadcast,
                    arrived_at=ev.at,
                )
            else:
                cb = self.callback
                assert cb is not None
                customer = await services.find_customer(conn, cb["phone_e164"])
                broadcast = await store.on_air(conn, queue_id=cb["queue_id"], now=utcnow())
                await store.callback_attempt(conn, callback_id=cb["id"], attempt_id=self.attempt_id)
                self.caller = Caller(
                    call_id=cb["call_id"],
                    caller_e164=cb["phone_e164"],
                    called="",
                    queue_id=cb["queue_id"],
                    queue=cb["queue"],
                    unknown_number=False,
                    customer=customer,
                    broadcast=broadcast,
                    arrived_at=cb["place_since"],
                )
                # the place is the time the caller first called, on this desk's clock
                self.since_s = d.desk.clock() - max(
                    0.0, (utcnow() - cb["place_since"]).total_seconds()
                )
            self.journey = Journey(
                attempt_id=self.attempt_id,
                campaign_id=None,
                lead_id=None,
                dialer=d.owner,
                mode="inbound",
                queued_at=self.caller.arrived_at,
                answered_at=self.event.at if self.event else None,
            )
            await journeys.save(conn, self.journey)
        self.pop = await self.line.build_pop(self)

    async def _menu(self) -> bool:
        """The ARS answers first: True when the caller goes on to the agent queue (their
        wait starts now), False when the call ended in the menu."""
        assert self.caller is not None
        assert self.line.ars is not None
        outcome = await run_menu(self.deps, self.line.ars, call_id=self.call_id,
                                 caller_e164=self.caller.caller_e164,
                                 queue_id=self.caller.queue_id, customer=self.caller.customer,
                                 next_event=self._next)  # fmt: skip
        if outcome == AGENT and self.trunk_up:
            self._prompts.clear()
            self._playing = None
            self.since_s = self.deps.desk.clock()
            return True
        await self._hangup()
        await self._end(outcome)
        return False

    async def _wait_for_agent(self) -> LiveAgent | None:
        """Wait for the ACD to reserve an agent. None: the caller hung up (an abandon) or
        kept their place for a callback and the callback is done with."""
        clock = self.deps.desk.clock
        assert self.caller is not None
        rule = self.line.rule(self.caller.queue_id)
        if self.is_callback:
            while True:
                event = await self._next(None)
                if isinstance(event, AgentFound):
                    return event.agent
        next_announce_s = clock()
        offer_s: float | None = None
        if rule.callback_after_s > 0 and self.caller.caller_e164:
            offer_s = self.since_s + rule.callback_after_s
        while True:
            now_s = clock()
            wake_s = min(next_announce_s, offer_s if offer_s is not None else math.inf)
            event = await self._next(wake_s - now_s)
            if event is None:
                now_s = clock()
                if now_s >= next_announce_s:
                    next_announce_s = now_s + rule.announce_every_s
                    self._announce(rule)
                if offer_s is not None and now_s >= offer_s:
                    offer_s = None
                    self._play(prompts.CALLBACK_OFFER)
            elif isinstance(event, AgentFound):
                return event.agent
            elif isinstance(event, PromptDone):
                self._prompt_done(event)
            elif isinstance(event, HungUp) and event.call_id == self.call_id:
                self.line.leave(self.key)
                self._release_found()
                await self._end("abandoned")
                return None
            elif (
                isinstance(event, Dtmf) and event.digit == CALLBACK_KEY and self.caller.caller_e164
            ):
                await self._keep_place()
                return await self._wait_for_agent()  # now as a callback

    def _announce(self, rule: QueueRule) -> None:
        position = self.line.position(self.key)
        wait_s = acd.estimated_wait_s(
            position=position, agents=self.line.serving(rule.queue_id), aht_s=rule.aht_s
        )
        self._play(position_prompt(position), wait_prompt(wait_s))

    def _release_found(self) -> None:
        """An agent reserved for this caller in the same instant they left: free again."""
        while True:
            try:
                event = self.inbox.get_nowait()
            except asyncio.QueueEmpty:
                return
            if isinstance(event, AgentFound):
                self.deps.desk.release(event.agent)

    async def _keep_place(self) -> None:
        """The caller keeps their place and hangs up: a callback row, the same place."""
        d, caller = self.deps, self.caller
        assert caller is not None
        assert caller.caller_e164 is not None
        await self._stop_prompts()  # the key cuts the announcement or the offer
        self.line.leave(self.key)
        self._release_found()
        async with d.pool.acquire() as conn, conn.transaction():
            callback_id = await store.add_callback(
                conn,
                queue_id=caller.queue_id,
                call_id=caller.call_id,
                phone=caller.caller_e164,
                customer_id=caller.customer["id"] if caller.customer else None,
                place_since=caller.arrived_at,
                owner=d.owner,
            )
            rows = [r for r in await store.pending_callbacks(conn) if r["id"] == callback_id]
            await store.callback_attempt(
                conn, callback_id=callback_id or 0, attempt_id=self.attempt_id
            )
        self._play(prompts.CALLBACK_CONFIRMED)
        await self._until_prompt(prompts.CALLBACK_CONFIRMED)
        await self._hangup()
        await self._end("callback")
        if not rows:  # asked twice (or stored already): nothing more to keep
            return
        self.callback = rows[0]
        self.call_id = f"tm-cb-{callback_id}-0"
        self.line.enqueue(self)

    async def _until_prompt(self, prompt: str) -> None:
        start_s = self.deps.desk.clock()
        while self.trunk_up:
            event = await self._next(PROMPT_WAIT_S - (self.deps.desk.clock() - start_s))
            if event is None:
                return
            if isinstance(event, PromptDone):
                self._prompt_done(event)
                if event.prompt == prompt:
                    return
            if isinstance(event, AgentFound):  # too late for this call: free again
                self.deps.desk.release(event.agent)

    async def _dial_back(self, agent: LiveAgent) -> LiveAgent | None:
        """Its turn came and `agent` is reserved: dial the caller. The agent if they
        answered (the call is then bridged like an inbound one), else None."""
        d, cb = self.deps, self.callback
        assert cb is not None
        self.agent = agent
        tries = int(cb.get("attempts") or 0) + 1
        self.call_id = f"tm-cb-{cb['id']}-{tries}"
        self.line.claim_call_id(self, self.call_id)
        async with d.pool.acquire() as conn:
            self.callback = {
                **cb,
                **await store.set_callback(
                    conn,
                    callback_id=cb["id"],
                    status="dialing",
                    agent_id=agent.agent_id,
                    attempt=True,
                ),
            }
        d.desk.notice(
            agent.agent_id, "callback_dialing", "Calling back a caller who kept their place"
        )
        self.trunk_up = True
        await d.port.originate(
            Originate(call_id=self.call_id, phone_e164=cb["phone_e164"], max_ring_s=CALLBACK_RING_S)
        )
        while True:
            event = await self._next(CALLBACK_RING_S + 30.0)
            if event is None:
                await self._hangup()
                break
            if isinstance(event, Answered) and event.call_id == self.call_id:
                if self.journey is not None:
                    self.journey.answered_at = event.at
                return agent
            if isinstance(event, HungUp) and event.call_id == self.call_id:
                break
        self.agent = None
        d.desk.release(agent)
        return None

    async def _callback_again(self) -> bool:
        """Nobody answered the callback: again later with the same place, or given up."""
        d, cb = self.deps, self.callback
        assert cb is not None
        again = int(cb.get("attempts") or 0) < CALLBACK_TRIES
        async with d.pool.acquire() as conn:
            self.callback = {
                **cb,
                **await store.set_callback(
                    conn,
                    callback_id=cb["id"],
                    status="pending" if again else "failed",
                    agent_id=None,
                ),
            }
        if not again:
            await self._close_journey("callback_failed")
            return False
        await asyncio.sleep(CALLBACK_RETRY_S * d.time_scale)
        self.line.enqueue(self)
        return True

    async def _talk(self, agent: LiveAgent) -> bool:
        """Bridge the caller to the reserved agent and wait for the disposition. False:
        the bridge failed and the caller (still holding) waits again in their place."""
        d, clock, caller, j = self.deps, self.deps.desk.clock, self.caller, self.journey
        assert caller is not None
        assert j is not None
        assert self.pop is not None
        self.agent = agent
        await d.port.bridge(self.call_id, agent_id=agent.agent_id)
        j.agent_connected_at, j.agent_id = utcnow(), agent.agent_id
        pop = {
            **self.pop,
            "inbound": {
                **self.pop.get("inbound", {}),
                "waited_s": round(max(0.0, clock() - self.since_s), 1),
                "callback": self.is_callback,
            },
        }
        d.desk.connect(
            agent,
            attempt_id=self.attempt_id,
            campaign_id=agent.campaign_id or 0,
            pop=pop,
            queue_id=caller.queue_id,
        )
        async with d.pool.acquire() as conn:
            if self.callback is None:  # a callback's speed of answer is not the queue's
                await store.answer_call(
                    conn, call_id=caller.call_id, agent_id=agent.agent_id, at=j.agent_connected_at
                )
            else:
                await store.set_callback(
                    conn,
                    callback_id=self.callback["id"],
                    status="connected",
                    agent_id=agent.agent_id,
                )
            await journeys.save(conn, j)
        entry: DispositionEntry | None = None
        deadline_s = clock() + d.max_call_s
        while entry is None:
            event = await self._next(deadline_s - clock())
            if event is None:
                entry = DispositionEntry(code="no_disposition", agent_id=agent.agent_id)
                d.desk.drop_call(self.attempt_id)
            elif isinstance(event, BridgeFailed):
                d.desk.notice(
                    agent.agent_id,
                    "bridge_failed",
                    f"The call could not be connected to your phone ({event.reason})",
                )
                d.desk.drop_call(self.attempt_id)
                self.agent = None
                j.agent_connected_at = j.agent_id = None
                if self.is_callback or not self.trunk_up:
                    await self._hangup()
                    await self._end("failed")
                    return True
                self.line.enqueue(self)  # the caller still holds: same place
                return False
            elif isinstance(event, HungUp | AgentHungUp | AgentLost):
                if isinstance(event, HungUp):
                    if event.call_id != self.call_id:
                        continue
                    d.desk.talk_ended(
                        self.attempt_id, code="customer_hung_up", text="The customer hung up"
                    )
                await self._hangup()
            elif isinstance(event, Disposed):
                entry = event.entry
                self.agent = None  # free again (or away): no longer answering this caller
            elif isinstance(event, Transferred):  # the other agent holds it and disposes it
                self.agent = event.agent
                j.hand_over(event.agent.agent_id, event.at)
                # the wallboard's journeys show it now (else at the end, as any milestone)
                with contextlib.suppress(*DB_DOWN):
                    async with d.pool.acquire() as conn:
                        await journeys.save(conn, j)
            elif isinstance(event, PromptDone):
                self._prompt_done(event)
        await self._hangup()
        async with d.pool.acquire() as conn:
            await store.dispose_call(conn, call_id=caller.call_id, disposition=entry.code)
        await self._end("answered", disposition=entry.code)
        return True

    async def _end(self, outcome: str, *, disposition: str | None = None) -> None:
        """The inbound call's log row and its journey close (a callback keeps its row
        open as `callback` until it is dialled and answered)."""
        assert self.caller is not None
        if self.outcome is None:
            self.outcome = outcome
            async with self.deps.pool.acquire() as conn:
                await store.end_call(
                    conn, call_id=self.caller.call_id, outcome=outcome, at=utcnow()
                )
        if outcome != "callback":
            await self._close_journey(disposition or outcome)

    async def _close_journey(self, outcome: str) -> None:
        j = self.journey
        if j is None or j.ended_at is not None:
            return
        j.outcome, j.ended_at = outcome, utcnow()
        async with self.deps.pool.acquire() as conn:
            await journeys.save(conn, j)
