"""The inbound line inside the live runtime: callers waiting in queues, the ACD that
reserves agents for them, keep-my-place callbacks, and the hold plan that keeps blended
agents off outbound while inbound needs them.

The runtime hands every `InboundCall` to `arrive()`; each caller is one task
(`dialer.live.inbound_call`). The rules are `dialer.inbound.acd`'s: a call goes to the
longest-idle free agent of the best skill level allowed so far, a level more every
`overflow_s` of waiting; a freed agent takes the waiting call of the highest queue priority
(VIP), then the one waiting longest. Inbound has priority over outbound: agents the hold
plan keeps (`held`) answer inbound first and the campaign loops do not count them; a freed
agent is offered a waiting caller before an outbound answer (the desk asks `offer`).

Agents take inbound calls while they are ready on the desk (a desktop connected and their
phone leg up) and hold a skill on the caller's queue (`agent_skills`), whatever campaign
they are ready on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from dialer.core.agents import AgentState
from dialer.core.routing import LiveAgent
from dialer.errors import IllegalTransition
from dialer.inbound import acd, services, store
from dialer.inbound.acd import AgentView, QueueRule, Waiting
from dialer.inbound.blending import NeedCurve, Seat, hold_set, lead_for
from dialer.inbound.schedule import TAIL_SPAN_S, Broadcast, rate_curve
from dialer.live.deps import DB_DOWN, Deps
from dialer.live.inbound_ars import ArsHooks
from dialer.live.inbound_call import Caller, InboundCallTask
from dialer.live.inbox import AgentFound, DeskEvent
from dialer.live.outcomes import DispositionEntry
from dialer.live.throttle import LogThrottle
from dialer.store import journeys
from dialer.store.journeys import utcnow
from dialer.telephony.events import CallEvent, InboundCall

log = logging.getLogger(__name__)

RELOAD_S = 5.0  # queues and skills re-read this often (real seconds)
PLAN_EVERY_S = 5.0  # the hold plan is made again this often (real seconds)
DISPATCH_S = 0.5  # the ACD looks again (overflow steps open levels as calls wait)
NEED_STEP_S = 60.0  # the schedule's need, minute by minute
# The hold plan's model of callers and outbound calls is measured from the last week's calls
# this often (real seconds); until there are enough, the defaults (services.FloorModel).
MEASURE_EVERY_S = 900.0
PLAN_SERVICE_LEVEL = 0.90
SERVICE_TARGET_S = 20.0  # the order line's goal: 80 % answered within this
# the need is planned on the load built by the calls of this long before now (the load of
# a call begun 15 minutes ago has decayed below 1 % for AHTs up to 3 minutes)
LOAD_PAST_S = 900.0
# What an agent may set at the end of an inbound call (default dispositions' codes).
INBOUND_DISPOSITIONS: tuple[dict[str, Any], ...] = (
    {"code": "sale", "label": "Sale", "callback": False},
    {"code": "no_sale", "label": "No sale", "callback": False},
    {"code": "wrong_number", "label": "Wrong number", "callback": False},
)

InboundPopBuilder = Callable[[Caller, int], Awaitable[dict[str, Any]]]


async def basic_inbound_pop(caller: Caller, attempt_id: int) -> dict[str, Any]:
    """The inbound screen pop without the other domains (the server's builder adds the
    customer's orders and contacts, the catalog and the on-air products' names)."""
    c = caller.customer or {}
    on_air = caller.broadcast
    return {
        "attempt_id": attempt_id,
        "kind": "inbound",
        "campaign": {"id": None, "name": caller.queue,
                     "dispositions": list(INBOUND_DISPOSITIONS), "personal_callbacks": False},
        "customer": {"id": c.get("id"), "name": c.get("name") or "",
                     "phone": caller.caller_e164, "email": c.get("email"),
                     "address": c.get("address"), "postal_code": c.get("postal_code"),
                     "region": c.get("region")},
        "orders": [], "contacts": [], "products": [], "bought_product_ids": [],
        "script": "", "source_line": "",
        "inbound": {
            "queue": caller.queue, "called": caller.called,
            "unknown_caller": caller.customer is None,
            "caller_withheld": caller.caller_e164 is None,
            "unknown_number": caller.unknown_number,
            "arrived_at": caller.arrived_at.isoformat(),
            "on_air": None if on_air is None else {
                "title": on_air.get("title") or "", "codes": list(on_air.get("products") or []),
                "products": [], "ends_at": on_air["ends_at"].isoformat()},
        },
    }  # fmt: skip


class InboundLine:
    def __init__(
        self,
        deps: Deps,
        *,
        pop_builder: InboundPopBuilder | None = None,
        dispatch_s: float = DISPATCH_S,
        ars: ArsHooks | None = None,
    ) -> None:
        self.deps = deps
        self.ars = ars
        self.pop_builder = pop_builder or basic_inbound_pop
        self.dispatch_s = dispatch_s
        self.rules: dict[int, QueueRule] = {}
        self.skills: dict[int, dict[int, int]] = {}  # agent -> {queue id: level}
        self.waiting: dict[str, tuple[InboundCallTask, Waiting]] = {}
        self.tasks: dict[int, InboundCallTask] = {}  # by attempt id (the desktop's id)
        self.by_call_id: dict[str, InboundCallTask] = {}
        self.running: dict[InboundCallTask, asyncio.Task[None]] = {}
        self.held: frozenset[int] = frozenset()
        self.model = services.FloorModel()  # callers' patience, outbound talk: measured
        self._measured_at: float | None = None  # time.monotonic() of the last measure
        self._callbacks_held: set[int] = set()
        self._loop: asyncio.Task[None] | None = None
        self._aside: set[asyncio.Task[Any]] = set()
        self._throttle = LogThrottle(log)
        deps.desk.offer_inbound = self.offer
        deps.desk.skilled = self.skilled

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        await self.reload()
        self._loop = asyncio.create_task(self._run(), name="inbound-line")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop, *self.running.values(), *self._aside) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.deps.desk.held = self.held = frozenset()

    async def reload(self) -> None:
        async with self.deps.pool.acquire() as conn:
            self.rules = await store.queue_rules(conn)
            self.skills = await store.skills(conn)

    async def _run(self) -> None:
        clock = time.monotonic
        next_reload_s = next_plan_s = next_claim_s = clock()
        while True:
            try:
                now_s = clock()
                if now_s >= next_claim_s:
                    next_claim_s = now_s + self.deps.lease_s
                    await self.recover()
                if now_s >= next_reload_s:
                    next_reload_s = now_s + RELOAD_S
                    await self.reload()
                if now_s >= next_plan_s:
                    next_plan_s = now_s + PLAN_EVERY_S
                    await self.plan_hold()
                self.dispatch()
                self._throttle.clear("line")
            except DB_DOWN as exc:
                self._throttle.warning("line", "inbound line: database unreachable (%s)", exc)
            except Exception:  # the line must outlive a bug in one round
                self._throttle.warning("line-bug", "inbound line round failed", exc_info=True)
            await asyncio.sleep(self.dispatch_s)

    # -- callers ---------------------------------------------------------------------------
    def arrive(self, event: InboundCall) -> None:
        """A caller reached one of our numbers (the port answered and holds the call)."""
        task = InboundCallTask(self.deps, self, event=event)
        self.by_call_id[event.call_id] = task
        self._start(task)

    def _start(self, task: InboundCallTask) -> None:
        running = asyncio.create_task(task.run(), name=f"inbound-{task.call_id}")
        self.running[task] = running

        def done(_: asyncio.Task[None]) -> None:
            self.running.pop(task, None)
            self.waiting.pop(task.key, None)
            self.tasks.pop(task.attempt_id, None)
            for call_id in [c for c, t in self.by_call_id.items() if t is task]:
                del self.by_call_id[call_id]
            if task.callback is not None:
                self._callbacks_held.discard(int(task.callback["id"]))

        running.add_done_callback(done)

    async def recover(self) -> None:
        """Callers of processes that stopped are closed; callbacks no live process holds
        (this one restarted, or another stopped) wait here in their callers' places."""
        async with self.deps.pool.acquire() as conn:
            closed = await store.close_orphaned_calls(conn, stale_s=self.deps.lease_s)
            if closed:
                log.warning("closed %d inbound call(s) of dialer processes that stopped", closed)
            rows = await store.claim_callbacks(
                conn, owner=self.deps.owner, stale_s=self.deps.lease_s
            )
        for row in rows:
            if int(row["id"]) in self._callbacks_held:
                continue
            self._callbacks_held.add(int(row["id"]))
            self._start(InboundCallTask(self.deps, self, callback=row))

    def post(self, event: CallEvent) -> bool:
        """A telephony event for one of the line's calls (False: not one of ours)."""
        task = self.by_call_id.get(event.call_id)
        if task is None:
            return False
        task.post(event)
        return True

    def post_desk(self, attempt_id: int, event: DeskEvent) -> bool:
        task = self.tasks.get(attempt_id)
        if task is None:
            return False
        task.post(event)
        return True

    # -- what a caller's task asks (inbound_call.Line) -------------------------------------
    def rule(self, queue_id: int) -> QueueRule:
        found = self.rules.get(queue_id)
        if found is None:  # made since the last reload: its settings come with the next
            return QueueRule(queue_id=queue_id, name=str(queue_id))
        return found

    def enqueue(self, task: InboundCallTask) -> None:
        assert task.caller is not None
        self.tasks[task.attempt_id] = task
        self.waiting[task.key] = (
            task,
            Waiting(
                call_id=task.key,
                queue_id=task.caller.queue_id,
                since_s=task.since_s,
                callback=task.is_callback,
            ),
        )
        self.dispatch()

    def leave(self, key: str) -> None:
        self.waiting.pop(key, None)

    def position(self, key: str) -> int:
        found = self.waiting.get(key)
        if found is None:
            return 1
        return acd.position(found[1], (w for _, w in self.waiting.values()))

    def serving(self, queue_id: int) -> int:
        """Agents logged in (not away) with a skill on the queue."""
        desk = self.deps.desk
        return sum(
            1
            for a in desk.agents.values()
            if queue_id in self.skills.get(a.agent_id, {})
            and a.state not in (AgentState.OFFLINE, AgentState.PAUSED)
            and a.connections > 0
        )

    def skilled(self, queue_id: int, agent_id: int) -> bool:
        """Whether the agent holds a skill on the queue (any level): whom an inbound call
        may be transferred to."""
        return queue_id in self.skills.get(agent_id, {})

    def claim_call_id(self, task: InboundCallTask, call_id: str) -> None:
        self.by_call_id[call_id] = task

    async def build_pop(self, task: InboundCallTask) -> dict[str, Any]:
        assert task.caller is not None
        try:
            return await self.pop_builder(task.caller, task.attempt_id)
        except Exception:  # a pop without history beats a caller left waiting
            log.exception("inbound pop for %s failed; the basic one instead", task.call_id)
            return await basic_inbound_pop(task.caller, task.attempt_id)

    # -- the ACD ---------------------------------------------------------------------------
    def _view(self, agent: LiveAgent) -> AgentView:
        return AgentView(
            agent_id=agent.agent_id,
            skills=self.skills.get(agent.agent_id, {}),
            free_since_s=agent.core.ready_since_s,
        )

    def dispatch(self) -> None:
        """Waiting callers (VIP queues first, then the longest waiting) get the free agent
        the ACD picks: held agents first, then the others."""
        desk = self.deps.desk
        if not self.waiting:
            return
        free = {
            a.agent_id: a
            for a in desk.agents.values()
            if a.agent_id in self.skills and desk.routable(a)
        }
        if not free:
            return
        now_s = desk.clock()
        order = sorted(
            self.waiting.items(),
            key=lambda kv: (-self.rule(kv[1][1].queue_id).priority, kv[1][1].since_s, kv[0]),
        )
        for key, (_, waiting) in order:
            views = [self._view(a) for a in free.values()]
            rule = self.rule(waiting.queue_id)
            waited_s = now_s - waiting.since_s
            chosen = acd.pick_agent(
                rule, waited_s, [v for v in views if v.agent_id in self.held]
            ) or acd.pick_agent(rule, waited_s, views)
            if chosen is None:
                continue
            self._reserve(key, free.pop(chosen.agent_id))
            if not free:
                return

    def offer(self, agent: LiveAgent) -> bool:
        """An agent became free: the waiting call they should take, if any (True: taken)."""
        if agent.agent_id not in self.skills or not self.waiting:
            return False
        found = acd.pick_call(
            self._view(agent),
            (w for _, w in self.waiting.values()),
            self.rules,
            self.deps.desk.clock(),
        )
        if found is None:
            return False
        self._reserve(found.call_id, agent)
        return True

    def _reserve(self, key: str, agent: LiveAgent) -> None:
        task, _ = self.waiting.pop(key)
        self.deps.desk.reserve(agent)
        task.post(AgentFound(agent=agent))

    # -- blending: who stays off outbound --------------------------------------------------
    async def plan_hold(self) -> None:
        """Keep off outbound the fewest skilled agents who cover what inbound needs over
        most of an outbound call ahead: the schedule's expected calls (Erlang A at the
        planning target) and, now, the calls waiting and being answered."""
        desk = self.deps.desk
        now = utcnow()
        async with self.deps.pool.acquire() as conn:
            if self._measured_at is None or time.monotonic() - self._measured_at >= MEASURE_EVERY_S:
                await self._measure(conn, now)
            talk = self.model.talk
            lead_s = lead_for(talk.talk_mean_s, talk.talk_sd_s, talk.wrap_mean_s)
            rows = await store.list_broadcasts(
                conn,
                since=now - dt.timedelta(seconds=TAIL_SPAN_S + LOAD_PAST_S),
                until=now + dt.timedelta(seconds=lead_s),
            )
        broadcasts = [
            Broadcast(
                start=r["starts_at"],
                end=r["ends_at"],
                title=r["title"],
                products=tuple(r["products"]),
                expected_calls=r["expected_calls"],
                queue=r["queue"],
            )
            for r in rows
        ]
        aht_s = max((r.aht_s + r.wrap_s for r in self.rules.values()), default=acd.DEFAULT_AHT_S)
        # from LOAD_PAST_S ago: the need follows the load the calls so far have built
        rates = (
            rate_curve(
                broadcasts,
                start=now - dt.timedelta(seconds=LOAD_PAST_S),
                span_s=LOAD_PAST_S + lead_s + NEED_STEP_S,
                step_s=NEED_STEP_S,
            )
            if broadcasts
            else []
        )
        # Agents on outbound who finish a call while a caller waits take the caller, as in
        # the simulator's plan: those whose level the ACD opens within the 20-s target.
        reach = max(
            (acd.allowed_level(rule, SERVICE_TARGET_S) for rule in self.rules.values()),
            default=1,
        )
        answer_in_time = sum(
            1 for levels in self.skills.values() if levels and min(levels.values()) <= reach
        )
        # Erlang A for a handful of rates: milliseconds, but kept off the event loop
        need = await asyncio.to_thread(
            NeedCurve.from_rates,
            rates,
            start_s=-LOAD_PAST_S,
            step_s=NEED_STEP_S,
            aht_s=aht_s,
            patience_s=self.model.patience_s,
            target_s=SERVICE_TARGET_S,
            service_level=PLAN_SERVICE_LEVEL,
            outbound_agents=answer_in_time,
            outbound_cycle_s=talk.talk_mean_s + talk.wrap_mean_s,
            offered_load=True,
        )
        now_s = desk.clock()
        seats = []
        for agent in desk.agents.values():
            levels = self.skills.get(agent.agent_id)
            if (
                not levels
                or agent.state in (AgentState.OFFLINE, AgentState.PAUSED)
                or agent.connections == 0
            ):
                continue
            on_inbound = agent.attempt_id is not None and agent.attempt_id in self.tasks
            state, elapsed = agent.state, agent.core.elapsed_s(now_s)
            seats.append(Seat(
                agent_id=agent.agent_id, level=min(levels.values()),
                inbound=state is AgentState.READY or on_inbound,
                # busy with a caller: serves inbound next, but is not free now
                on_inbound_call=on_inbound and state is not AgentState.READY,
                talking_for_s=elapsed if state is AgentState.ON_CALL else (
                    0.0 if state is AgentState.RESERVED else None),
                wrapping_for_s=elapsed if state is AgentState.WRAP_UP else None))  # fmt: skip
        answering = sum(
            1 for t in self.tasks.values() if t.agent is not None and t.key not in self.waiting
        )
        floor = answering + len(self.waiting)
        if self.waiting:
            # Callers waiting need an agent until one answers them, not only this instant:
            # across the look-ahead, so that an agent on an outbound call who will be free
            # first is held for them (and the pacer dials nothing that would take them).
            # A caller already being answered needs no one later: only `floor`, now.
            steps = int((lead_s - need.start_s) // NEED_STEP_S) + 2  # from LOAD_PAST_S ago
            padded = list(need.needs) + [0] * max(0, steps - len(need.needs))
            waiting = len(self.waiting)
            need = NeedCurve(start_s=need.start_s, step_s=need.step_s,
                             needs=tuple(max(n, waiting) for n in padded))  # fmt: skip
        held = hold_set(
            need=need,
            now_s=0.0,
            lead_s=lead_s,
            seats=seats,
            talk=talk,
            floor=floor,
            held_before=self.held,
        )
        if held != self.held:
            log.info("inbound holds %d agent(s) off outbound: %s", len(held), sorted(held))
        self.held = desk.held = held

    async def _measure(self, conn: asyncpg.Connection, now: dt.datetime) -> None:
        model = await services.floor_model(conn, now=now)
        self._measured_at = time.monotonic()
        if model != self.model:
            log.info("inbound plans on patience %.0f s (%d calls), outbound talk %.0f ± %.0f s "
                     "(%d calls)", model.patience_s, model.patience_calls,
                     model.talk.talk_mean_s, model.talk.talk_sd_s, model.talk_calls)  # fmt: skip
        self.model = model

    # -- the agent's side ------------------------------------------------------------------
    def dispose(
        self, entry: DispositionEntry, *, attempt_id: int, pause_reason: str | None
    ) -> None:
        codes = [d["code"] for d in INBOUND_DISPOSITIONS]
        if entry.code not in codes:
            raise IllegalTransition(
                f"unknown disposition {entry.code!r}: use one of " + ", ".join(codes)
            )
        self.deps.desk.dispose(entry, attempt_id=attempt_id, pause_reason=pause_reason)

    def acked(self, attempt_id: int, at: dt.datetime) -> bool:
        task = self.tasks.get(attempt_id)
        if task is None or task.journey is None:
            return False
        task.journey.pop_acked_at = at

        async def write() -> None:
            with contextlib.suppress(*DB_DOWN):
                async with self.deps.pool.acquire() as conn:
                    await journeys.pop_acked(conn, attempt_id=attempt_id, at=at)

        aside = asyncio.create_task(write(), name=f"inbound-ack-{attempt_id}")
        self._aside.add(aside)
        aside.add_done_callback(self._aside.discard)
        return True
