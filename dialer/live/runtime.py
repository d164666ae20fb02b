"""The dialer runtime: one pacing loop per running campaign, elected across processes;
the telephony port's events routed to the calls and the desk; calls of dead processes
closed.

Every few seconds the runtime lists running campaigns and, for each it does not run yet
and may serve (it can reach agents of it), opens a dedicated connection and tries
`pg_try_advisory_lock`. The process that gets the lock runs that campaign's loop and
holds the connection while it does; when the process dies the connection closes, the lock
frees and a surviving process takes the campaign on its next scan. Leads are leased (not
locked); calls are rows (`live_calls`) owned by this process, which keeps a heartbeat:
when it stops beating, a survivor closes its calls (`dialer.live.recovery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from config.db import connect
from config.locks import lock_key
from crm import contacts
from dialer.core.agents import AgentState
from dialer.core.compliance import Rule
from dialer.core.routing import LiveAgent
from dialer.errors import DialerError, IllegalTransition, NoSuchCall
from dialer.live import agent_requests, recovery
from dialer.live.agent_requests import AgentActions
from dialer.live.bus import DESK_ANY, Bus, LocalBus, agent_subject, desk_subject
from dialer.live.call import CallTask
from dialer.live.campaign import LiveCampaign, load_live_campaign
from dialer.live.campaign_loop import CampaignLoop
from dialer.live.deps import DB_DOWN, Deps, Observe, OnDecision, PopBuilder
from dialer.live.desk import DeskCall, LiveDesk, scaled_clock
from dialer.live.inbound import InboundLine, InboundPopBuilder
from dialer.live.inbound_ars import ArsHooks
from dialer.live.inbound_call import InboundCallTask
from dialer.live.inbox import DeskEvent, Transferred
from dialer.live.outcomes import DispositionEntry
from dialer.live.overload import LoopLag
from dialer.live.throttle import LogThrottle
from dialer.recordings import store as recordings
from dialer.store import agents, calls, hopper, journeys, lists
from dialer.store.calls import LiveCallRow
from dialer.store.hopper import LeasedLead
from dialer.store.journeys import utcnow
from dialer.telephony.events import (
    AgentLegDown,
    AgentLegUp,
    InboundCall,
    PortEvent,
    RecordingDone,
)
from dialer.telephony.port import AmdMode, CallControls, MonitorMode, TelephonyPort

log = logging.getLogger(__name__)

SCAN_S = 2.0  # look for running campaigns to take on this often
SHUTDOWN_S = 5.0
PREVIEW_TRIES = 5  # leads the guard may refuse before preview gives up
# A hand dial the guard refuses: the rule, in the code the desktop says in words.
HAND_DIAL_REFUSALS: dict[Rule, str] = {
    Rule.DO_NOT_CALL: "guard_do_not_call",
    Rule.CALLING_WINDOW: "guard_calling_window",
    Rule.NIGHT_CONSENT: "guard_calling_window",
    Rule.ATTEMPTS_TOTAL: "guard_attempts",
    Rule.ATTEMPTS_PER_DAY: "guard_attempts",
    Rule.RETRY_DELAY: "guard_attempts",
    Rule.UK_ABANDON_REDIAL: "guard_attempts",
    Rule.NO_MARKETING_CONSENT: "guard_no_consent",
}
LEG_RETRY_S = 2.0  # ask again for an agent's phone leg that dropped after this
IDLE_RELEASE_S = 10.0  # a campaign with no agent reachable here is given up after this
SAVE_AGENTS_S = 0.25  # agents' states are written to their sessions this often
REQUEST_TIMEOUT_S = 5.0


def campaign_lock_key(campaign_id: int) -> int:
    return lock_key(f"telemart:dialer:campaign:{campaign_id}")


async def basic_pop(campaign: LiveCampaign, lead: LeasedLead, attempt_id: int) -> dict[str, Any]:
    """The smallest screen pop (the server's builder adds history, script and products)."""
    return {
        "attempt_id": attempt_id,
        "lead_id": lead.lead_id,
        "customer_id": lead.customer_id,
        "phone": lead.phone_e164,
        "campaign": {"id": campaign.campaign_id, "name": campaign.name},
    }


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class DialerRuntime:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        url: str,
        desk: LiveDesk,
        port: TelephonyPort,
        owner: str | None = None,
        pop_builder: PopBuilder = basic_pop,
        observe: Observe | None = None,
        on_decision: OnDecision | None = None,
        scan_s: float = SCAN_S,
        tick_s: float = 1.0,
        lease_s: float = hopper.DEFAULT_LEASE_S,
        amd: AmdMode = AmdMode.ASTERISK,
        idle_release_s: float | None = IDLE_RELEASE_S,
        leg_retry_s: float = LEG_RETRY_S,
        bus: Bus | None = None,
        time_scale: float = 1.0,
        inbound_pop: InboundPopBuilder | None = None,
        ars: ArsHooks | None = None,
    ) -> None:
        self.url, self.desk, self.port = url, desk, port
        if time_scale != 1.0:  # the desk keeps scenario time, as the sim carrier does
            desk.clock = scaled_clock(time_scale)
        self.lag = LoopLag(pool=pool, clock=lambda: desk.clock())  # budget in runtime time
        self.deps = Deps(pool=pool, port=port, desk=desk,
                         owner=owner or default_owner(), lease_s=lease_s,
                         build_pop=pop_builder, observe=observe or (lambda name, s: None),
                         amd=amd, time_scale=time_scale, headroom=self.lag.headroom,
                         on_decision=on_decision or (lambda campaign, decision: None))  # fmt: skip
        self.scan_s, self.tick_s = scan_s, tick_s
        self.bus: Bus = bus or LocalBus()
        self._desk_subs: dict[int | str, Callable[[], Awaitable[None]]] = {}
        self._dirty: dict[int, LiveAgent] = {}
        self._bus_down_since: float | None = None
        self._database_up = True
        self._throttle = LogThrottle(log)
        self.idle_release_s = idle_release_s
        self.leg_retry_s = leg_retry_s
        self._leg_pending: set[int] = set()
        self._leg_had: set[int] = set()
        self._port_open = False
        self.stopping = asyncio.Event()
        self.loops: dict[int, CampaignLoop] = {}
        self._loop_tasks: dict[int, asyncio.Task[None]] = {}
        self.calls: dict[int, CallTask] = {}  # by attempt id
        self._by_call_id: dict[str, CallTask] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}  # call tasks by attempt id
        self._previews: dict[int, tuple[LiveCampaign, LeasedLead, dict[str, Any]]] = {}
        # calls of dead processes given back to agents, by attempt id
        self._recovered: dict[int, tuple[LiveCallRow, LiveCampaign]] = {}
        self._task: asyncio.Task[None] | None = None
        self._aside: set[asyncio.Task[Any]] = set()
        # Supervisors on agents' lines here (issue 14): supervisor -> (agent, mode)
        self.monitors: dict[int, tuple[int, MonitorMode]] = {}
        # Inbound calls (issue 15): the line queues them for skilled agents; a runtime
        # without one (on_inbound None) refuses them.
        self.inbound = InboundLine(
            self.deps, pop_builder=inbound_pop, dispatch_s=min(tick_s, 0.5), ars=ars
        )
        self.on_inbound: Callable[[InboundCall], None] | None = self.inbound.arrive
        desk.post = self._post
        desk.send = self._send
        desk.on_change = self._changed
        desk.want_leg = self._want_leg
        desk.drop_leg = self._drop_leg
        desk.on_ack = self._acked
        desk.on_recovered_disposition = self._recovered_disposition

    @property
    def owner(self) -> str:
        return self.deps.owner

    @property
    def pool(self) -> asyncpg.Pool:
        return self.deps.pool

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        await self.port.open(self._on_event)
        self.lag.start()
        self.bus.on_state(self._bus_state)
        if not self.bus.spans_nodes:  # one desk for every campaign: agents are all here
            self._desk_subs[DESK_ANY] = await self.bus.serve(
                desk_subject(DESK_ANY), self._responder()
            )
        self._aside_task(self._save_agents(), "agent-sessions")
        await self.inbound.start()
        self._port_open = True
        for agent in list(self.desk.agents.values()):  # logged in before the port opened
            if agent.state is not AgentState.OFFLINE:
                self._want_leg(agent.agent_id)
        async with self.pool.acquire() as conn:
            await calls.heartbeat(conn, owner=self.owner)
        self._task = asyncio.create_task(self._supervise(), name=f"dialer-{self.owner}")

    async def stop(self) -> None:
        """Stop dialing; calls still up are hung up and closed as a dead process's would
        be (an agent's call comes back to them wherever the campaign runs next)."""
        self.stopping.set()
        tasks = [t for t in (self._task, *self._loop_tasks.values()) if t is not None]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_S):
                await asyncio.gather(*tasks, return_exceptions=True)
        for task in (*tasks, *self.tasks.values(), *self._aside):
            task.cancel()
        await asyncio.gather(*tasks, *self.tasks.values(), *self._aside, return_exceptions=True)
        await self.inbound.stop()
        for unsubscribe in self._desk_subs.values():
            await unsubscribe()
        self._desk_subs.clear()
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self._flush_agents()
            await recovery.close_dead_owner(self.pool, dead=self.owner, me=self.owner)
            async with self.pool.acquire() as conn:
                await calls.node_gone(conn, owner=self.owner)
        self._port_open = False
        await self.port.close()
        await self.lag.stop()

    async def __aenter__(self) -> DialerRuntime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def held(self) -> list[int]:
        """Campaigns whose loop runs in this process."""
        return sorted(self.loops)

    def _aside_task(self, coro: Any, name: str) -> None:
        task: asyncio.Task[Any] = asyncio.create_task(coro, name=name)
        self._aside.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._aside.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("%s failed", name, exc_info=t.exception())

        task.add_done_callback(done)

    async def _supervise(self) -> None:
        heartbeat_s = self.deps.lease_s / 3
        next_beat = time.monotonic()
        while not self.stopping.is_set():
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + heartbeat_s
                    await self._heartbeat()
                    await self._recover()
                await self._give_back_recovered()
                await self._release_if_bus_down()
                await self._scan()
                self._throttle.clear("scan")
                self._database_is(up=True)
            except DB_DOWN as exc:
                self._throttle.warning("scan", "dialer scan failed (%s); retrying", exc)
                self._database_is(up=False)
            except (asyncpg.PostgresError, DialerError) as exc:
                self._throttle.warning("scan", "dialer scan failed (%s); retrying", exc)
            except Exception:  # never let the supervisor die: it is what restarts the rest
                self._throttle.warning("scan-bug", "dialer scan failed; retrying", exc_info=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.scan_s):
                    await self.stopping.wait()

    def _database_is(self, *, up: bool) -> None:
        """Tell the agents on this desk when the database goes and comes back (a campaign
        whose lock connection dropped stops its loop: nobody else would tell them)."""
        if up == self._database_up:
            return
        self._database_up = up
        code, text = (
            ("reconnected", "The dialer is back")
            if up
            else ("reconnecting", "The dialer lost its database: reconnecting")
        )
        for agent in self.desk.agents.values():
            if agent.state is not AgentState.OFFLINE:
                self.desk.notice(agent.agent_id, code, text)

    def may_serve(self, campaign_id: int) -> bool:
        """Only a process that can reach agents of a campaign may run it: over a bus that
        spans nodes, every agent while it is up; else the agents connected here."""
        if self.bus.spans_nodes:
            return self.bus.connected
        return self.desk.reachable(campaign_id) > 0

    # -- the bus ---------------------------------------------------------------------------
    def _send(self, agent_id: int, message: dict[str, Any]) -> None:
        self.bus.publish(agent_subject(agent_id), json.dumps(message, default=str).encode())

    def _responder(self) -> Callable[[bytes], Awaitable[bytes]]:
        return agent_requests.responder(self.desk, AgentActions(
            hello=self._hello, dispose=lambda e, a, p: self.dispose(e, attempt_id=a,
                                                                    pause_reason=p),
            preview_next=self.preview_next, preview_dial=self.preview_dial,
            preview_skip=self.preview_skip, order=self._order, control=self.control,
            monitor=lambda s, a, m: self.monitor(supervisor_id=s, agent_id=a, mode=m),
            supervisor_phone=lambda s, c: self.supervisor_phone(s, connect=c),
        ))  # fmt: skip

    def _bus_state(self, up: bool) -> None:
        """Nothing is dialled blind: loops hold their dials while the bus is down."""
        self._bus_down_since = None if up else time.monotonic()
        for loop in self.loops.values():
            loop.paused_for = None if up else "bus"

    async def _release_if_bus_down(self) -> None:
        """Down longer than a lease: give the campaigns up (others may reach the agents)."""
        down = self._bus_down_since
        if down is None or time.monotonic() - down < self.deps.lease_s:
            return
        for task in self._loop_tasks.values():
            task.cancel()

    async def _hello(self, agent_id: int, username: str) -> None:
        """A desktop connected: an agent this desk does not know comes back as their
        session says (this process restarted, or their campaign moved here)."""
        agent = self.desk.agents.get(agent_id)
        if agent is None:
            async with self.pool.acquire() as conn:
                found = await agents.one(conn, agent_id=agent_id)
                sessions, pops = await _with_calls(conn, [found] if found is not None else [])
            session = sessions[0] if sessions else None
            if (
                session is not None
                and session.campaign_id is not None
                and session.state != AgentState.OFFLINE.value
            ):
                self._restore(session, session.campaign_id, pops)
                return
        agent = self.desk.attach(agent_id, username)
        self.desk.push_state(agent, with_pop=True)

    async def _order(self, agent_id: int, attempt_id: int, order_id: int, submit_s: float) -> None:
        self.deps.observe(journeys.ORDER_SUBMIT, submit_s)
        committed = utcnow()
        async with self.pool.acquire() as conn:
            await journeys.order_captured(
                conn, attempt_id=attempt_id, order_id=order_id,
                submitted_at=committed - dt.timedelta(seconds=submit_s), committed_at=committed,
            )  # fmt: skip

    def _changed(self, agent: LiveAgent) -> None:
        self._dirty[agent.agent_id] = agent

    async def _save_agents(self) -> None:
        """Agents' states to their sessions (batched), so a desk elsewhere can take over."""
        while True:
            await asyncio.sleep(SAVE_AGENTS_S)
            await self._flush_agents()

    async def _flush_agents(self) -> None:
        if self._dirty:
            dirty, self._dirty = self._dirty, {}
            rows = [agents.AgentStateRow(
                agent_id=a.agent_id, username=a.username, campaign_id=a.campaign_id,
                state=a.state.value, pause_reason=a.core.pause_reason, preview=a.preview,
                attempt_id=a.attempt_id) for a in dirty.values()]  # fmt: skip
            try:
                async with self.pool.acquire() as conn:
                    await agents.save_states(conn, rows)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self._throttle.warning("sessions", "agent sessions not saved (%s)", exc)
                self._dirty = {**dirty, **self._dirty}  # again next time

    async def _scan(self) -> None:
        for cid, task in list(self._loop_tasks.items()):
            if task.done():
                del self._loop_tasks[cid]
                self.loops.pop(cid, None)
                if not task.cancelled() and task.exception() is not None:
                    log.error("campaign %s loop died", cid, exc_info=task.exception())
        async with self.pool.acquire() as conn:
            running = [r["id"] for r in await conn.fetch(journeys.Q["running_campaigns"])]
        for cid in running:
            if cid not in self._loop_tasks and not self.stopping.is_set() and self.may_serve(cid):
                await self._claim(cid)

    async def _claim(self, campaign_id: int) -> None:
        lock_conn = await connect(self.url)
        try:
            got = await lock_conn.fetchval(
                "SELECT pg_try_advisory_lock($1)", campaign_lock_key(campaign_id)
            )
            if got:
                async with self.pool.acquire() as conn:
                    campaign = await load_live_campaign(conn, campaign_id)
                # Over a bus spanning nodes every agent is reachable: no idle release.
                idle = None if self.bus.spans_nodes else self.idle_release_s
                loop = CampaignLoop(
                    self.deps,
                    campaign,
                    lock_conn,
                    start_call=self._start_loop_call,
                    stopping=self.stopping,
                    tick_s=self.tick_s,
                    idle_release_s=idle,
                )
        except BaseException:
            await lock_conn.close()
            raise
        if not got:
            await lock_conn.close()
            return
        log.info("campaign %s: pacing loop runs here (%s)", campaign_id, self.owner)
        self.loops[campaign_id] = loop
        if self.bus.spans_nodes:
            self._desk_subs[campaign_id] = await self.bus.serve(
                desk_subject(campaign_id), self._responder()
            )
            await self._restore_agents([campaign_id])
        self._loop_tasks[campaign_id] = asyncio.create_task(
            self._run_loop(loop), name=f"campaign-{campaign_id}"
        )

    async def _run_loop(self, loop: CampaignLoop) -> None:
        try:
            await loop.run()
        finally:
            unsubscribe = self._desk_subs.pop(loop.campaign_id, None)
            if unsubscribe is not None:
                await unsubscribe()

    async def _restore_agents(self, campaign_ids: list[int], *, missing: bool = False) -> None:
        """The agents of campaigns this process holds, as their sessions say: every one
        whose desktop beats, of a campaign it just took on; with `missing`, only those this
        desk never met (their web node was stalled at the take-over and beats again). One
        the desk knows is left as it has them: who closed the desktop or logged out stays
        out."""
        known = list(self.desk.agents) if missing else []
        async with self.pool.acquire() as conn:
            found, pops = await _with_calls(conn, await agents.of_campaigns(
                conn, campaign_ids=campaign_ids, fresh_s=self.deps.lease_s, leave_out=known
            ))  # fmt: skip
        for session in found:
            if session.campaign_id is None or (missing and session.agent_id in self.desk.agents):
                continue  # met while the query ran (a message of theirs): as the desk has them
            self._restore(session, session.campaign_id, pops)

    def _restore(
        self, session: agents.Session, campaign_id: int, pops: dict[int, dict[str, Any]]
    ) -> None:
        self.desk.restore(
            agent_id=session.agent_id,
            username=session.username,
            campaign_id=campaign_id,
            state=session.state,
            pause_reason=session.pause_reason,
            preview=session.preview,
            attempt_id=session.attempt_id,
            pop=pops.get(session.attempt_id) if session.attempt_id else None,
        )

    async def _heartbeat(self) -> None:
        lead_ids = [task.lead.lead_id for task in self.calls.values()]
        lead_ids += [lead.lead_id for _, lead, _ in self._previews.values()]
        here = [a.agent_id for a in self.desk.agents.values() if a.connections > 0]
        stale = sorted(self.desk.stale)
        gone: set[int] = set()
        beating: set[int] = set()
        async with self.pool.acquire() as conn:
            await calls.heartbeat(conn, owner=self.owner)
            await hopper.extend_leases(
                conn, lead_ids=lead_ids, owner=self.owner, now=utcnow(), lease_s=self.deps.lease_s
            )
            if self.bus.spans_nodes:  # in one process the desk sees desktops come and go
                gone = await agents.gone(conn, agent_ids=here, stale_s=self.deps.lease_s)
                beating = await agents.beating(conn, agent_ids=stale, fresh_s=self.deps.lease_s)
        for agent_id in gone:  # their web node stopped beating: no calls for them
            self.desk.gone(agent_id)
        # Their web node beats again (it stalled, or lost the database or the bus, and its
        # desktops stayed open): nothing else would bring them back short of a reload.
        for agent_id in beating:
            self.desk.back(agent_id)
        if self.bus.spans_nodes:
            # Agents whose web node was stalled when a campaign came here: the take-over
            # left them out, and no `gone` put them in `desk.stale` for `back`.
            running = [cid for cid, task in self._loop_tasks.items() if not task.done()]
            if running:
                await self._restore_agents(running, missing=True)

    async def _recover(self) -> None:
        """Close the calls of dialer processes that stopped beating."""
        async with self.pool.acquire() as conn:
            dead = await calls.dead_owners(conn, me=self.owner, stale_s=self.deps.lease_s)
        for owner in dead:
            await recovery.close_dead_owner(self.pool, dead=owner, me=self.owner)
        await recovery.expire_recovered(self.pool, me=self.owner)

    async def _give_back_recovered(self) -> None:
        """Recovered calls whose agents are on this desk go back to them in wrap-up; an
        agent who waited for a call that was closed without them is ready again."""
        here = [a.agent_id for a in self.desk.agents.values() if a.connections > 0]
        orphans = {a: agent for a, agent in self.desk.orphans().items() if a not in self.calls}
        if not here and not orphans and not self.desk.pending:
            return
        async with self.pool.acquire() as conn:
            rows = await calls.recovered_for_agents(conn, agent_ids=here)
            alive = await calls.existing(conn, attempt_ids=[*orphans, *self.desk.pending])
        for attempt_id, agent_id in orphans.items():
            if attempt_id not in alive:
                self.desk.release_orphan(agent_id)
        for attempt_id in [a for a in self.desk.pending if a not in alive]:
            del self.desk.pending[attempt_id]  # closed without its agent meanwhile
        async with self.pool.acquire() as conn:
            for row in rows:
                if row.attempt_id in self._recovered or row.agent_id is None:
                    continue
                entry = self.desk.pending.pop(row.attempt_id, None)
                if entry is not None:  # disposed while it was coming back
                    await recovery.dispose_recovered(conn, row, entry)
                    continue
                campaign = await load_live_campaign(conn, row.campaign_id)
                self._give_back(row, campaign)

    def _give_back(self, row: LiveCallRow, campaign: LiveCampaign) -> None:
        assert row.agent_id is not None
        agent = self.desk.agents[row.agent_id]
        try:
            self.desk.give_back(
                agent_id=row.agent_id,
                username=agent.username,
                attempt_id=row.attempt_id,
                campaign_id=row.campaign_id,
                pop=row.pop,
            )
        except IllegalTransition:
            return  # on another call now: later
        self._recovered[row.attempt_id] = (row, campaign)

    def _recovered_disposition(self, call: DeskCall, entry: DispositionEntry) -> None:
        found = self._recovered.get(call.attempt_id)
        if found is None:
            return
        row = found[0]

        async def write() -> None:
            try:
                async with self.pool.acquire() as conn:
                    await recovery.dispose_recovered(conn, row, entry)
            finally:  # the row is gone now: it is not given back again
                self._recovered.pop(call.attempt_id, None)

        self._aside_task(write(), f"recovered-{call.attempt_id}")

    # -- telephony events ------------------------------------------------------------------
    def _on_event(self, event: PortEvent) -> None:
        if isinstance(event, AgentLegUp):
            self.desk.leg_up(event.agent_id)
        elif isinstance(event, AgentLegDown):
            self.desk.leg_down(event.agent_id, event.reason)
            # a supervisor's line, or the agent's listened to, is gone: so is the monitoring
            for sup, (watched, _) in list(self.monitors.items()):
                if event.agent_id in (sup, watched):
                    del self.monitors[sup]
        elif isinstance(event, RecordingDone):  # often after the call's task is over
            self._aside_task(self._keep_recording(event), f"recording-{event.name}")
        elif isinstance(event, InboundCall):
            if self.on_inbound is not None:
                self.on_inbound(event)
            else:
                self._aside_task(self.port.hangup(event.call_id), f"refuse-{event.call_id}")
        else:
            task = self._by_call_id.get(event.call_id)
            if task is not None:
                task.post(event)
            else:
                self.inbound.post(event)

    async def _keep_recording(self, event: RecordingDone) -> None:
        async with self.pool.acquire() as conn:
            await recordings.save(
                conn,
                call_id=event.call_id,
                name=event.name,
                duration_s=event.duration_s,
                at=event.at,
                port=self.port.name,
            )

    def _post(self, attempt_id: int, event: DeskEvent) -> None:
        task = self.calls.get(attempt_id)
        if task is not None:
            task.post(event)
        else:
            self.inbound.post_desk(attempt_id, event)

    def _want_leg(self, agent_id: int) -> None:
        """Ask telephony for the agent's phone leg (again, after a pause, if it dropped)."""
        if agent_id in self._leg_pending or not self._port_open:
            return
        self._leg_pending.add(agent_id)
        delay_s = self.leg_retry_s if agent_id in self._leg_had else 0.0
        self._leg_had.add(agent_id)

        async def attach() -> None:
            try:
                if delay_s:
                    await asyncio.sleep(delay_s)
                agent = self.desk.agents.get(agent_id)
                if (
                    agent is not None
                    and agent.state is not AgentState.OFFLINE
                    and agent_id not in self.desk.legs
                ):
                    await self.port.attach_agent(agent_id)
            finally:
                self._leg_pending.discard(agent_id)

        self._aside_task(attach(), f"leg-{agent_id}")

    def _drop_leg(self, agent_id: int) -> None:
        self._aside_task(self.port.detach_agent(agent_id), f"unleg-{agent_id}")

    def _acked(self, attempt_id: int, at: Any) -> None:
        task = self.calls.get(attempt_id)
        if task is None:
            self.inbound.acked(attempt_id, at)
            return
        journey = task.journey
        journey.pop_acked_at = at
        if journey.answered_at is not None:
            self.deps.observe(
                journeys.ANSWER_TO_SCREEN_POP, (at - journey.answered_at).total_seconds()
            )

    # -- calls -----------------------------------------------------------------------------
    def _start_loop_call(
        self, campaign: LiveCampaign, lead: LeasedLead, attempt_id: int, loop: CampaignLoop
    ) -> None:
        self.lag.took()
        self.start_call(CallTask(self.deps, campaign, lead, attempt_id=attempt_id, feed=loop))

    def start_call(self, call: CallTask) -> asyncio.Task[None]:
        task = asyncio.create_task(call.run(), name=f"call-{call.attempt_id}")
        self.calls[call.attempt_id] = call
        self._by_call_id[call.call_id] = call
        self.tasks[call.attempt_id] = task

        def done(_: asyncio.Task[None]) -> None:
            self.calls.pop(call.attempt_id, None)
            self._by_call_id.pop(call.call_id, None)
            self.tasks.pop(call.attempt_id, None)

        task.add_done_callback(done)
        return task

    # -- what agents ask for ---------------------------------------------------------------
    def dispose(
        self, entry: DispositionEntry, *, attempt_id: int, pause_reason: str | None = None
    ) -> None:
        task = self.calls.get(attempt_id)
        recovered = self._recovered.get(attempt_id)
        if task is None and attempt_id in self.inbound.tasks:
            self.inbound.dispose(entry, attempt_id=attempt_id, pause_reason=pause_reason)
            return
        if task is not None:
            campaign = task.campaign
        elif recovered is not None:
            campaign = recovered[1]
        elif self.desk.agent(entry.agent_id).attempt_id == attempt_id:
            # a call still coming back from a dead process: kept until it is here
            self.desk.dispose(entry, attempt_id=attempt_id, pause_reason=pause_reason)
            return
        else:
            raise NoSuchCall(str(attempt_id))
        rule = campaign.dispositions.get(entry.code)
        if rule is None:
            raise IllegalTransition(
                f"unknown disposition {entry.code!r}: use one of "
                + ", ".join(campaign.dispositions),
                code="unknown_disposition",
            )
        if rule.callback:
            if entry.callback_at is None:
                raise IllegalTransition("a callback needs a time", code="callback_needs_time")
            if entry.callback_at <= utcnow():
                raise IllegalTransition(
                    "a callback time must be in the future", code="callback_in_past"
                )
        self.desk.dispose(entry, attempt_id=attempt_id, pause_reason=pause_reason)

    async def preview_next(
        self, agent_id: int, campaign_id: int, lead_id: int | None = None, phone: str | None = None
    ) -> dict[str, Any] | None:
        """Manual mode: lease one lead for this agent and show it before dialling; with
        `lead_id`, that one of the agent's own callbacks (chosen from My callbacks); with
        `phone` (E.164), the lead of the customer with that number, dialled by hand."""
        agent = self.desk.agent(agent_id)
        if agent.state is not AgentState.READY or not agent.preview:
            raise IllegalTransition("go ready in preview mode first", code="not_in_preview")
        if agent_id in self._previews:
            if lead_id is not None or phone is not None:
                raise IllegalTransition(
                    "dial or skip the customer in preview first", code="preview_first"
                )
            return agent.preview_lead
        async with self.pool.acquire() as conn:
            campaign = await load_live_campaign(conn, campaign_id)
            lead: LeasedLead | None
            if phone is not None:
                lead = await self._lease_by_hand(conn, campaign, agent_id, phone)
            elif lead_id is not None:
                now = utcnow()
                lead = await hopper.lease_callback_for_agent(
                    conn,
                    campaign_id=campaign_id,
                    owner=self.owner,
                    agent_id=agent_id,
                    lead_id=lead_id,
                    now=now,
                    lease_s=self.deps.lease_s,
                )
                if lead is None:
                    raise IllegalTransition(
                        f"callback {lead_id} cannot be called now", code="callback_unavailable"
                    )
                # The same guard as every dial: do-not-call, consent, calling hours.
                if not await hopper.screen(
                    conn,
                    leads=[lead],
                    settings=campaign.compliance,
                    owner=self.owner,
                    now=now,
                    campaign_window=campaign.window,
                ):
                    raise IllegalTransition(
                        f"callback {lead_id} may not be called now", code="guard_refused"
                    )
            else:
                for _ in range(PREVIEW_TRIES):
                    now = utcnow()
                    lead = await hopper.lease_for_agent(
                        conn,
                        campaign_id=campaign_id,
                        owner=self.owner,
                        agent_id=agent_id,
                        now=now,
                        lease_s=self.deps.lease_s,
                    )
                    if lead is None:
                        return None
                    ok = await hopper.screen(
                        conn,
                        leads=[lead],
                        settings=campaign.compliance,
                        owner=self.owner,
                        now=now,
                        campaign_window=campaign.window,
                    )
                    if ok:
                        break
                else:
                    return None
            attempt_id = (await contacts.reserve_attempt_ids(conn, count=1))[0]
        pop = await self.deps.build_pop(campaign, lead, attempt_id)
        self._previews[agent_id] = (campaign, lead, pop)
        agent.preview_lead = {"attempt_id": attempt_id, "pop": pop}
        self.desk.push_state(agent)
        return agent.preview_lead

    async def _lease_by_hand(
        self, conn: asyncpg.Connection, campaign: LiveCampaign, agent_id: int, phone: str
    ) -> LeasedLead:
        """A number dialled by hand, leased for the agent if the compliance guard allows it
        now. The lease (and a lead made for it) is one transaction, rolled back on any
        refusal: a refused dial leaves the lead as it was, or no lead at all."""
        now = utcnow()
        tx = conn.transaction()
        await tx.start()
        try:
            got = await hopper.lease_by_hand(
                conn,
                campaign_id=campaign.campaign_id,
                owner=self.owner,
                phone_e164=phone,
                now=now,
                lease_s=self.deps.lease_s,
                list_id=lambda: lists.hand_dial_list(conn, campaign_id=campaign.campaign_id),
            )
            refusal = None
            if not isinstance(got, hopper.HandDialRefused):
                refusal = await hopper.judge(
                    conn,
                    lead=got,
                    settings=campaign.compliance,
                    now=now,
                    campaign_window=campaign.window,
                )
        except BaseException:
            await tx.rollback()
            raise
        if isinstance(got, hopper.HandDialRefused):
            await tx.rollback()
            raise IllegalTransition(
                f"{phone} cannot be dialled by hand: {got.value}", code=got.value
            )
        lead = got
        if refusal is None:
            await tx.commit()
            return lead
        await tx.rollback()
        # Kept like every refusal of the guard, with who dialled (a lead made for this dial
        # was rolled back: no lead id then).
        made = lead.by_hand == hopper.MADE_BY_HAND
        kept = dataclasses.replace(
            refusal,
            lead_id=None if made else lead.lead_id,
            detail=f"{refusal.detail} (dialled by hand by agent {agent_id})",
        )
        await hopper.record_refusal(conn, campaign_id=campaign.campaign_id, refusal=kept)
        raise IllegalTransition(
            f"{phone} may not be called now: {refusal.rule.value}",
            code=HAND_DIAL_REFUSALS.get(refusal.rule, "guard_refused"),
        )

    def preview_dial(self, agent_id: int) -> int:
        found = self._previews.pop(agent_id, None)
        if found is None:
            raise IllegalTransition("no lead in preview", code="no_preview_lead")
        campaign, lead, pop = found
        agent = self.desk.agent(agent_id)
        self.desk.reserve(agent)
        attempt_id = int(pop["attempt_id"])
        self.start_call(
            CallTask(
                self.deps, campaign, lead, attempt_id=attempt_id, feed=None, agent=agent, pop=pop
            )
        )
        return attempt_id

    async def control(
        self, agent_id: int, attempt_id: int, action: str, to_agent_id: int | None
    ) -> None:
        """Call controls on an agent's own call (issue 14): telephony does them; a
        transferred call moves on the desk to the other agent, who disposes it."""
        call = self.desk.call_of(attempt_id)
        task: CallTask | InboundCallTask | None = self.calls.get(
            attempt_id
        ) or self.inbound.tasks.get(attempt_id)
        if call is None or call.agent_id != agent_id or task is None:
            raise NoSuchCall(str(attempt_id))
        if not isinstance(self.port, CallControls):
            raise IllegalTransition("this telephony has no call controls")
        port, call_id = self.port, task.call_id
        if action in ("hold", "resume"):
            await (port.hold if action == "hold" else port.resume)(call_id)
            self.desk.controlled(attempt_id, held=action == "hold")
        elif action in ("mute", "unmute"):
            await port.mute(call_id, muted=action == "mute")
            self.desk.controlled(attempt_id, muted=action == "mute")
        elif action == "transfer":
            target = self.desk.transfer_target(agent_id, to_agent_id)
            await port.transfer(call_id, to_agent_id=target.agent_id)
            self.desk.transfer(attempt_id, to=target)
            # the call's journey and attempt name whoever holds the call at the end
            task.post(Transferred(agent=target, at=utcnow()))
        else:
            raise IllegalTransition(f"unknown call control {action!r}")
        self.desk.send(agent_id, {"type": "control", "attempt_id": attempt_id, "action": action})

    async def supervisor_phone(
        self, supervisor_id: int, *, connect: bool, endpoint: str | None = None
    ) -> None:
        """Call a supervisor's phone and keep it in their own bridge (or hang it up): the
        line they listen, whisper or barge from (issue 14)."""
        if connect:
            await self.port.attach_agent(supervisor_id, endpoint=endpoint)
        else:
            if supervisor_id in self.monitors and isinstance(self.port, CallControls):
                await self.port.stop_monitor(supervisor_id)
            self.monitors.pop(supervisor_id, None)
            await self.port.detach_agent(supervisor_id)

    async def monitor(self, *, supervisor_id: int, agent_id: int, mode: str | None) -> None:
        """A supervisor listens, whispers or barges on an agent's line (mode None: stops),
        from their own phone leg (`supervisor_phone`)."""
        if not isinstance(self.port, CallControls):
            raise IllegalTransition("this telephony has no call controls")
        if mode is None:
            await self.port.stop_monitor(supervisor_id)
            self.monitors.pop(supervisor_id, None)
            return
        await self.port.monitor(
            agent_id=agent_id, supervisor_id=supervisor_id, mode=MonitorMode(mode)
        )
        self.monitors[supervisor_id] = (agent_id, MonitorMode(mode))

    async def preview_skip(self, agent_id: int) -> None:
        found = self._previews.pop(agent_id, None)
        agent = self.desk.agent(agent_id)
        agent.preview_lead = None
        if found is not None:
            async with self.pool.acquire() as conn:
                await hopper.give_back(conn, lead=found[1], owner=self.owner)
        self.desk.push_state(agent)


async def _with_calls(
    conn: asyncpg.Connection, sessions: list[agents.Session]
) -> tuple[list[agents.Session], dict[int, dict[str, Any]]]:
    """Sessions as the call rows say (`agents.as_calls_say`), with the pops of their calls."""
    fixed = await agents.as_calls_say(conn, sessions)
    pops = await calls.pops(conn, attempt_ids=[s.attempt_id for s in fixed if s.attempt_id])
    return fixed, pops
