"""The dialer runtime: one pacing loop per running campaign, elected across processes.

Every few seconds the runtime lists running campaigns and, for each it does not run yet,
opens a dedicated connection and tries `pg_try_advisory_lock`. The process that gets the
lock runs that campaign's loop and holds the connection while it does; when the process
dies the connection closes, the lock frees and a surviving process takes the campaign on
its next scan. Leads are leased (not locked), so calls already in flight elsewhere are
never dialled twice, and a dead process's leases lapse and come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from config.db import connect
from config.locks import lock_key
from crm import contacts
from dialer.core.agents import AgentState
from dialer.core.routing import LiveAgent
from dialer.errors import DialerError, IllegalTransition, NoSuchCall
from dialer.live.call import run_call
from dialer.live.campaign_loop import CampaignLoop, LiveCampaign, load_live_campaign
from dialer.live.desk import DispositionEntry, LiveDesk
from dialer.store import hopper, journeys
from dialer.store.hopper import LeasedLead
from dialer.store.journeys import Journey, utcnow
from dialer.telephony.port import DialingPort

log = logging.getLogger(__name__)

PopBuilder = Callable[
    [asyncpg.Connection, LiveCampaign, LeasedLead, int], Awaitable[dict[str, Any]]
]
Observe = Callable[[str, float], None]
SCAN_S = 2.0  # look for running campaigns to take on this often
SHUTDOWN_S = 5.0
PREVIEW_TRIES = 5  # leads the guard may refuse before preview gives up


def campaign_lock_key(campaign_id: int) -> int:
    return lock_key(f"telemart:dialer:campaign:{campaign_id}")


async def basic_pop(
    conn: asyncpg.Connection, campaign: LiveCampaign, lead: LeasedLead, attempt_id: int
) -> dict[str, Any]:
    """The smallest screen pop (the server's builder adds history, script and products)."""
    return {"attempt_id": attempt_id, "lead_id": lead.lead_id, "customer_id": lead.customer_id,
            "phone": lead.phone_e164, "campaign": {"id": campaign.campaign_id,
                                                   "name": campaign.name}}


class DialerRuntime:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        url: str,
        desk: LiveDesk,
        port: DialingPort,
        owner: str | None = None,
        pop_builder: PopBuilder = basic_pop,
        observe: Observe | None = None,
        scan_s: float = SCAN_S,
        tick_s: float = 1.0,
        lease_s: float = hopper.DEFAULT_LEASE_S,
    ) -> None:
        self.pool, self.url, self.desk, self.port = pool, url, desk, port
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.pop_builder = pop_builder
        self.observe = observe
        self.scan_s, self.tick_s, self.lease_s = scan_s, tick_s, lease_s
        self.stopping = asyncio.Event()
        self.loops: dict[int, CampaignLoop] = {}
        self._loop_tasks: dict[int, asyncio.Task[None]] = {}
        self.calls: dict[int, asyncio.Task[None]] = {}
        self._call_leads: dict[int, int] = {}  # attempt id -> lead id (lease heartbeat)
        self._call_campaigns: dict[int, LiveCampaign] = {}
        self.journeys: dict[int, Journey] = {}
        self._previews: dict[int, tuple[LiveCampaign, LeasedLead, dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        desk.on_ack = self._acked

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"dialer-{self.owner}")

    async def stop(self) -> None:
        self.stopping.set()
        tasks = [t for t in (self._task, *self._loop_tasks.values()) if t is not None]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_S):
                await asyncio.gather(*tasks, return_exceptions=True)
        for task in (*tasks, *self.calls.values()):
            task.cancel()
        await asyncio.gather(*tasks, *self.calls.values(), return_exceptions=True)

    async def __aenter__(self) -> DialerRuntime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def held(self) -> list[int]:
        """Campaigns whose loop runs in this process."""
        return sorted(self.loops)

    async def _supervise(self) -> None:
        heartbeat_s = self.lease_s / 3
        next_beat = self.desk.clock() + heartbeat_s
        while not self.stopping.is_set():
            try:
                await self._scan()
                if self.desk.clock() >= next_beat:
                    next_beat = self.desk.clock() + heartbeat_s
                    await self._heartbeat()
            except (OSError, asyncpg.PostgresError, DialerError):
                log.exception("dialer scan failed; retrying")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.scan_s):
                    await self.stopping.wait()

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
            if cid not in self._loop_tasks and not self.stopping.is_set():
                await self._claim(cid)

    async def _claim(self, campaign_id: int) -> None:
        lock_conn = await connect(self.url)
        try:
            got = await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)",
                                           campaign_lock_key(campaign_id))
            if got:
                async with self.pool.acquire() as conn:
                    campaign = await load_live_campaign(conn, campaign_id)
                loop = CampaignLoop(self, campaign, lock_conn)
        except BaseException:
            await lock_conn.close()
            raise
        if not got:
            await lock_conn.close()
            return
        log.info("campaign %s: pacing loop runs here (%s)", campaign_id, self.owner)
        self.loops[campaign_id] = loop
        self._loop_tasks[campaign_id] = asyncio.create_task(loop.run(),
                                                            name=f"campaign-{campaign_id}")

    async def _heartbeat(self) -> None:
        lead_ids = list(self._call_leads.values())
        lead_ids += [lead.lead_id for _, lead, _ in self._previews.values()]
        async with self.pool.acquire() as conn:
            await hopper.extend_leases(conn, lead_ids=lead_ids, owner=self.owner, now=utcnow(),
                                       lease_s=self.lease_s)

    # -- calls -----------------------------------------------------------------------------
    async def build_pop(self, campaign: LiveCampaign, lead: LeasedLead,
                        attempt_id: int) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            return await self.pop_builder(conn, campaign, lead, attempt_id)

    def start_call(
        self,
        campaign: LiveCampaign,
        lead: LeasedLead,
        *,
        attempt_id: int,
        loop: CampaignLoop | None = None,
        agent: LiveAgent | None = None,
        pop: dict[str, Any] | None = None,
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(
            run_call(self, campaign, lead, attempt_id=attempt_id, loop=loop, agent=agent,
                     pop=pop),
            name=f"call-{attempt_id}",
        )  # fmt: skip
        self.calls[attempt_id] = task
        self._call_leads[attempt_id] = lead.lead_id
        self._call_campaigns[attempt_id] = campaign

        def done(_: asyncio.Task[None]) -> None:
            self.calls.pop(attempt_id, None)
            self._call_leads.pop(attempt_id, None)
            self._call_campaigns.pop(attempt_id, None)

        task.add_done_callback(done)
        return task

    async def next_attempt_ids(self, count: int) -> list[int]:
        if count <= 0:
            return []
        async with self.pool.acquire() as conn:
            return await contacts.reserve_attempt_ids(conn, count=count)

    def observe_latencies(self, journey: Journey) -> None:
        if self.observe is None:
            return
        for name, seconds in journeys.latencies(journey).items():
            if name != journeys.ANSWER_TO_SCREEN_POP:  # observed when the ack arrives
                self.observe(name, seconds)

    def _acked(self, attempt_id: int, at: Any) -> None:
        journey = self.journeys.get(attempt_id)
        if journey is None:
            return
        journey.pop_acked_at = at
        if self.observe is not None and journey.answered_at is not None:
            self.observe(journeys.ANSWER_TO_SCREEN_POP,
                         (at - journey.answered_at).total_seconds())

    # -- what agents ask for ---------------------------------------------------------------
    def dispose(self, entry: DispositionEntry, *, attempt_id: int,
                pause_reason: str | None = None) -> None:
        campaign = self._call_campaigns.get(attempt_id)
        if campaign is None:
            raise NoSuchCall(str(attempt_id))
        rule = campaign.dispositions.get(entry.code)
        if rule is None:
            raise IllegalTransition(f"unknown disposition {entry.code!r}: use one of "
                                    + ", ".join(campaign.dispositions))
        if rule.callback:
            if entry.callback_at is None:
                raise IllegalTransition("a callback needs a time")
            if entry.callback_at <= utcnow():
                raise IllegalTransition("a callback time must be in the future")
        self.desk.dispose(entry, attempt_id=attempt_id, pause_reason=pause_reason)

    async def preview_next(self, agent_id: int, campaign_id: int) -> dict[str, Any] | None:
        """Manual mode: lease one lead for this agent and show it before dialling."""
        agent = self.desk.agent(agent_id)
        if agent.state is not AgentState.READY or not agent.preview:
            raise IllegalTransition("go ready in preview mode first")
        if agent_id in self._previews:
            return agent.preview_lead
        async with self.pool.acquire() as conn:
            campaign = await load_live_campaign(conn, campaign_id)
            for _ in range(PREVIEW_TRIES):
                now = utcnow()
                lead = await hopper.lease_for_agent(conn, campaign_id=campaign_id,
                                                    owner=self.owner, agent_id=agent_id,
                                                    now=now, lease_s=self.lease_s)
                if lead is None:
                    return None
                ok = await hopper.screen(conn, leads=[lead], settings=campaign.compliance,
                                         owner=self.owner, now=now,
                                         campaign_window=campaign.window)
                if ok:
                    break
            else:
                return None
        attempt_id = (await self.next_attempt_ids(1))[0]
        pop = await self.build_pop(campaign, lead, attempt_id)
        self._previews[agent_id] = (campaign, lead, pop)
        agent.preview_lead = {"attempt_id": attempt_id, "pop": pop}
        self.desk.push_state(agent)
        return agent.preview_lead

    def preview_dial(self, agent_id: int) -> int:
        found = self._previews.pop(agent_id, None)
        if found is None:
            raise IllegalTransition("no lead in preview")
        campaign, lead, pop = found
        agent = self.desk.agent(agent_id)
        self.desk.reserve(agent)
        attempt_id = int(pop["attempt_id"])
        self.start_call(campaign, lead, attempt_id=attempt_id, agent=agent, pop=pop)
        return attempt_id

    async def preview_skip(self, agent_id: int) -> None:
        found = self._previews.pop(agent_id, None)
        agent = self.desk.agent(agent_id)
        agent.preview_lead = None
        if found is not None:
            async with self.pool.acquire() as conn:
                await hopper.give_back(conn, lead_id=found[1].lead_id, owner=self.owner)
        self.desk.push_state(agent)
