"""One campaign's pacing loop, run only while its process holds the campaign's advisory
lock (on `lock_conn`; closing that connection, or the process dying, frees it).

Each tick: the desk's floor (`Floor.of`: routable = desktop and phone leg), the calls in
flight and the live answers waiting go to the one planner (`dialer.core.planner`, the
simulator's: strategy → lines per agent and the port's capacity → abandon cap), then
lease, screen and dial. Calls report their outcomes back (`observe`) to the planner,
exactly as the simulator's calls do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable

import asyncpg

from crm import contacts
from dialer.core.abandon import AbandonWindow, AnswerKind
from dialer.core.compliance import Refusal, Rule
from dialer.core.pacing.base import OutcomeKind, Snapshot
from dialer.core.pacing.registry import load_strategy
from dialer.core.planner import Floor, Planner
from dialer.live.campaign import LiveCampaign, load_live_campaign
from dialer.live.deps import DB_DOWN, Deps
from dialer.live.throttle import LogThrottle
from dialer.store import hopper
from dialer.store.hopper import LeasedLead
from dialer.store.journeys import utcnow

log = logging.getLogger(__name__)

RELOAD_S = 2.0  # re-read the campaign's status and settings this often

StartCall = Callable[[LiveCampaign, LeasedLead, int, "CampaignLoop"], None]


class CampaignLoop:
    def __init__(
        self,
        deps: Deps,
        campaign: LiveCampaign,
        lock_conn: asyncpg.Connection,
        *,
        start_call: StartCall,
        stopping: asyncio.Event,
        tick_s: float = 1.0,
        idle_release_s: float | None = None,
    ) -> None:
        self.deps = deps
        self.campaign = campaign
        self.lock_conn = lock_conn
        self.start_call = start_call
        self.stopping = stopping
        self.tick_s = tick_s
        self.idle_release_s = idle_release_s  # give the campaign up with no agents reachable
        self.planner = Planner(
            load_strategy(campaign.strategy, campaign.pacing), settings=campaign.pacing,
            window=AbandonWindow(window_s=campaign.compliance.window_s,
                                 uk_mode=campaign.compliance.uk_mode),
            clock=deps.desk.clock, window_clock=time.time,
        )  # fmt: skip
        self.in_flight: dict[int, float] = {}  # attempt id -> dial time (clock)
        self.paused_for: str | None = None  # why no dials go out now (outage)
        self._throttle = LogThrottle(log)

    @property
    def campaign_id(self) -> int:
        return self.campaign.campaign_id

    # -- what the calls report (PacingFeed) ------------------------------------------------
    def dialed(self, attempt_id: int, at_s: float) -> None:
        self.in_flight[attempt_id] = at_s

    def resolved(self, attempt_id: int) -> None:
        self.in_flight.pop(attempt_id, None)

    def observe(self, kind: OutcomeKind, duration_s: float) -> None:
        self.planner.observe(kind, duration_s)

    # -- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        clock = time.monotonic  # the loop's own timing is in real seconds
        try:
            await self._seed_window()
            next_reload_s = clock() + RELOAD_S
            idle_since_s: float | None = None
            winding_down = False  # stopped or paused: no new calls, the desk stays up
            while not self.stopping.is_set():
                if self.lock_conn.is_closed():
                    log.warning("campaign %s: lost the lock connection", self.campaign_id)
                    return
                if clock() >= next_reload_s:
                    next_reload_s = clock() + RELOAD_S
                    try:
                        # A campaign stopped or paused with calls still up keeps its lock
                        # and its desk until they end: its agents hang up and save their
                        # dispositions through it (over NATS only the holder serves them).
                        winding_down = not await self._reload()
                        if winding_down and not self._calls_up():
                            return
                        self._database_back()
                    except DB_DOWN as exc:
                        self._database_lost(exc)
                if self.idle_release_s is not None:
                    if self.deps.desk.reachable(self.campaign_id) or self.in_flight:
                        idle_since_s = None
                    elif idle_since_s is None:
                        idle_since_s = clock()
                    elif clock() - idle_since_s >= self.idle_release_s:
                        log.info(
                            "campaign %s: no agent reachable here; giving it up", self.campaign_id
                        )
                        return
                tick_at_s = clock()
                if self.paused_for is None and not winding_down:
                    try:
                        await self.tick()
                    except DB_DOWN as exc:
                        self._database_lost(exc)
                # Ticks keep their period (the simulator's one a second): the tick's own
                # queries come out of the wait, not on top of it.
                wait_s = tick_at_s + self.tick_s - clock()
                if wait_s <= 0:
                    await asyncio.sleep(0)
                    continue
                try:
                    async with asyncio.timeout(wait_s):
                        await self.stopping.wait()
                except TimeoutError:
                    pass
        finally:
            if not self.lock_conn.is_closed():
                await self.lock_conn.close()  # frees the advisory lock

    def _calls_up(self) -> bool:
        desk = self.deps.desk
        return bool(self.in_flight or desk.waiting_since(self.campaign_id)) or any(
            a.attempt_id is not None for a in desk.agents_on(self.campaign_id)
        )

    def _database_lost(self, exc: BaseException) -> None:
        """Nothing is dialled blind: no dials until the database answers again."""
        if self.paused_for is None:
            self.paused_for = "database"
            self._tell_agents("reconnecting", "The dialer lost its database: reconnecting")
        self._throttle.warning(
            "db", "campaign %s: database unreachable (%s); holding dials", self.campaign_id, exc
        )

    def _database_back(self) -> None:
        if self.paused_for == "database":
            self.paused_for = None
            self._throttle.clear("db")
            log.warning("campaign %s: database back; dialling again", self.campaign_id)
            self._tell_agents("reconnected", "The dialer is back")

    def _tell_agents(self, code: str, text: str) -> None:
        for agent in self.deps.desk.agents_on(self.campaign_id):
            self.deps.desk.notice(agent.agent_id, code, text)

    async def _seed_window(self) -> None:
        since = utcnow() - dt.timedelta(seconds=self.planner.window.window_s)
        async with self.deps.pool.acquire() as conn:
            answers = await contacts.campaign_answers_since(
                conn, campaign_id=self.campaign_id, since=since
            )
        kinds = {
            "answered_live": AnswerKind.CONNECTED,
            "abandoned": AnswerKind.ABANDONED,
            "answered_machine": AnswerKind.MACHINE,
        }
        for at_s, outcome in answers:
            self.planner.window.record(kinds[outcome], at_s=at_s)

    async def _reload(self) -> bool:
        async with self.deps.pool.acquire() as conn:
            fresh = await load_live_campaign(conn, self.campaign_id)
        if fresh.status != "running":
            return False
        if fresh.strategy != self.campaign.strategy or fresh.pacing != self.campaign.pacing:
            self.planner.use(load_strategy(fresh.strategy, fresh.pacing), fresh.pacing)
        self.campaign = fresh
        return True

    def floor(self) -> Floor:
        desk = self.deps.desk  # agents held for inbound (blending) are not the pacer's
        return Floor.of(
            [a for a in desk.agents_on(self.campaign_id) if a.agent_id not in desk.held],
            routable=desk.routable,
        )

    def snapshot(self) -> Snapshot:
        return self.planner.snapshot(
            floor=self.floor(),
            dialed_at_s=self.in_flight.values(),
            answered_at_s=self.deps.desk.waiting_since(self.campaign_id),
        )

    async def tick(self) -> None:
        if self.planner.strategy.dedicated_agent:
            return  # preview campaigns: agents ask for each lead from their desktop
        d = self.deps
        decision = self.planner.plan(
            floor=self.floor(), dialed_at_s=self.in_flight.values(),
            answered_at_s=d.desk.waiting_since(self.campaign_id),
            capacity=d.headroom(d.port.capacity()),  # what this process can set up now
        )  # fmt: skip
        d.on_decision(self.campaign_id, decision)
        refusal = self.planner.tally.take_refusal()  # one hold-back a minute is written
        if refusal is None and decision.count <= 0:
            return
        async with d.pool.acquire() as conn:
            if refusal is not None:
                await self._record_cap(conn, refusal)
            if decision.count <= 0:
                return
            now = utcnow()
            leased = await hopper.lease_leads(
                conn,
                campaign_id=self.campaign_id,
                owner=d.owner,
                count=decision.count,
                now=now,
                lease_s=d.lease_s,
            )
            allowed = await hopper.screen(
                conn,
                leads=leased,
                settings=self.campaign.compliance,
                owner=d.owner,
                now=now,
                campaign_window=self.campaign.window,
            )
            ids = await contacts.reserve_attempt_ids(conn, count=len(allowed))
            if self.paused_for is not None or self.stopping.is_set():
                # The bus dropped (or stopping began) while these queries ran: nothing is
                # dialled blind, the leases go back untouched.
                for lead in allowed:
                    await hopper.give_back(conn, lead=lead, owner=d.owner)
                return
        self.planner.dialed(len(allowed))
        placed_s = d.desk.clock()
        for lead, attempt_id in zip(allowed, ids, strict=True):
            # In flight from now, not from the call's first write: the next tick must see
            # the calls this one placed, or it dials for the same free agents again (as
            # the simulator's dials, which are in flight the moment they are placed).
            self.in_flight[attempt_id] = placed_s
            self.start_call(self.campaign, lead, attempt_id, self)

    async def _record_cap(self, conn: asyncpg.Connection, refusal: Refusal) -> None:
        await conn.execute(
            hopper.Q["insert_refusal"],
            self.campaign_id,
            None,
            Rule.ABANDON_CAP.value,
            refusal.detail,
        )
