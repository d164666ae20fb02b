"""One campaign's pacing loop, run only while its process holds the campaign's advisory
lock (on `lock_conn`; closing that connection, or the process dying, frees it).

Each tick: the snapshot from the desk, the planner (strategy, trunk ceiling, abandon cap),
then lease, screen and dial. Calls report their outcomes back (`observe`), exactly as the
simulator's calls do.
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
from dialer.core.agents import AgentState
from dialer.core.compliance import Refusal, Rule, cap_dials
from dialer.core.pacing.base import Outcome, OutcomeKind, OutcomeStats, Snapshot
from dialer.core.pacing.registry import load_strategy
from dialer.live.campaign import LiveCampaign, load_live_campaign
from dialer.live.deps import DB_DOWN, Deps
from dialer.live.throttle import LogThrottle
from dialer.store import hopper
from dialer.store.hopper import LeasedLead
from dialer.store.journeys import utcnow

log = logging.getLogger(__name__)

MAX_LINES_PER_AGENT = 10  # trunk ceiling, whatever a strategy asks (as in the simulator)
RELOAD_S = 2.0  # re-read the campaign's status and settings this often
CAP_REFUSAL_EVERY_S = 60.0  # record an abandon-cap hold-back at most this often

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
        self.strategy = load_strategy(campaign.strategy, campaign.pacing)
        self.window = AbandonWindow(window_s=campaign.compliance.window_s,
                                    uk_mode=campaign.compliance.uk_mode)
        self.in_flight: dict[int, float] = {}  # attempt id -> dial time (clock)
        self.dials = 0
        self.paused_for: str | None = None  # why no dials go out now (outage)
        self._last_cap_refusal_s = -CAP_REFUSAL_EVERY_S
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
        self.strategy.observe(Outcome(kind=kind, at_s=self.deps.desk.clock(),
                                      duration_s=duration_s))
        answer = {OutcomeKind.CONNECTED: AnswerKind.CONNECTED,
                  OutcomeKind.ABANDONED: AnswerKind.ABANDONED,
                  OutcomeKind.ANSWERED_MACHINE: AnswerKind.MACHINE}.get(kind)
        if answer is not None:
            self.window.record(answer, at_s=time.time())

    # -- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        clock = time.monotonic  # the loop's own timing is in real seconds
        try:
            await self._seed_window()
            next_reload_s = clock() + RELOAD_S
            idle_since_s: float | None = None
            while not self.stopping.is_set():
                if self.lock_conn.is_closed():
                    log.warning("campaign %s: lost the lock connection", self.campaign_id)
                    return
                if clock() >= next_reload_s:
                    next_reload_s = clock() + RELOAD_S
                    try:
                        if not await self._reload():
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
                        log.info("campaign %s: no agent reachable here; giving it up",
                                 self.campaign_id)
                        return
                if self.paused_for is None:
                    try:
                        await self.tick()
                    except DB_DOWN as exc:
                        self._database_lost(exc)
                try:
                    async with asyncio.timeout(self.tick_s):
                        await self.stopping.wait()
                except TimeoutError:
                    pass
        finally:
            if not self.lock_conn.is_closed():
                await self.lock_conn.close()  # frees the advisory lock

    def _database_lost(self, exc: BaseException) -> None:
        """Nothing is dialled blind: no dials until the database answers again."""
        if self.paused_for is None:
            self.paused_for = "database"
            self._tell_agents("reconnecting", "The dialer lost its database: reconnecting")
        self._throttle.warning("db", "campaign %s: database unreachable (%s); holding dials",
                               self.campaign_id, exc)

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
        since = utcnow() - dt.timedelta(seconds=self.window.window_s)
        async with self.deps.pool.acquire() as conn:
            answers = await contacts.campaign_answers_since(conn, campaign_id=self.campaign_id,
                                                            since=since)
        kinds = {"answered_live": AnswerKind.CONNECTED, "abandoned": AnswerKind.ABANDONED,
                 "answered_machine": AnswerKind.MACHINE}
        for at_s, outcome in answers:
            self.window.record(kinds[outcome], at_s=at_s)

    async def _reload(self) -> bool:
        async with self.deps.pool.acquire() as conn:
            fresh = await load_live_campaign(conn, self.campaign_id)
        if fresh.status != "running":
            return False
        if fresh.strategy != self.campaign.strategy or fresh.pacing != self.campaign.pacing:
            self.strategy = load_strategy(fresh.strategy, fresh.pacing)
        self.campaign = fresh
        return True

    def snapshot(self) -> Snapshot:
        desk = self.deps.desk
        now = desk.clock()
        agents = desk.agents_on(self.campaign_id)
        counts = self.window.counts(time.time())

        def since(state: AgentState) -> tuple[float, ...]:
            return tuple(now - a.core.since_s for a in agents if a.state is state)

        return Snapshot(
            now_s=now,
            ready_s=tuple(now - a.core.ready_since_s for a in agents if desk.routable(a)),
            reserved=sum(1 for a in agents if a.state is AgentState.RESERVED),
            on_call_s=since(AgentState.ON_CALL),
            wrap_up_s=since(AgentState.WRAP_UP),
            paused=sum(1 for a in agents if a.state is AgentState.PAUSED),
            ringing_s=tuple(now - t for t in self.in_flight.values()),
            waiting_s=desk.waiting_s(self.campaign_id),
            stats=OutcomeStats(dials=self.dials, live_answers=counts.live_answers,
                               machines=counts.machines, abandoned=counts.abandoned),
            settings=self.campaign.pacing,
        )

    async def tick(self) -> None:
        if self.strategy.dedicated_agent:
            return  # preview campaigns: agents ask for each lead from their desktop
        snap = self.snapshot()
        wanted = self.strategy.calls_to_place(snap)
        ceiling = min(MAX_LINES_PER_AGENT * snap.logged_in - len(self.in_flight),
                      self.deps.port.capacity())
        wanted = max(0, min(wanted, ceiling))
        rate = self.window.rate(time.time())
        count, capped = cap_dials(wanted, free_lines=snap.free_lines, abandon_rate=rate,
                                  cap=self.campaign.compliance.abandon_cap)
        d = self.deps
        async with d.pool.acquire() as conn:
            if capped is not None:
                await self._record_cap(conn, capped)
            if count <= 0:
                return
            now = utcnow()
            leased = await hopper.lease_leads(conn, campaign_id=self.campaign_id,
                                              owner=d.owner, count=count, now=now,
                                              lease_s=d.lease_s)
            allowed = await hopper.screen(conn, leads=leased, settings=self.campaign.compliance,
                                          owner=d.owner, now=now,
                                          campaign_window=self.campaign.window)
            ids = await contacts.reserve_attempt_ids(conn, count=len(allowed))
        for lead, attempt_id in zip(allowed, ids, strict=True):
            self.dials += 1
            self.start_call(self.campaign, lead, attempt_id, self)

    async def _record_cap(self, conn: asyncpg.Connection, refusal: Refusal) -> None:
        now_s = time.monotonic()
        if now_s - self._last_cap_refusal_s < CAP_REFUSAL_EVERY_S:
            return
        self._last_cap_refusal_s = now_s
        await conn.execute(hopper.Q["insert_refusal"], self.campaign_id, None,
                           Rule.ABANDON_CAP.value, refusal.detail)

