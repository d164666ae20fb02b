"""A running campaign as the live dialer needs it, and its pacing loop."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

import asyncpg

from crm import contacts
from dialer.core.abandon import AbandonWindow, AnswerKind
from dialer.core.agents import AgentState
from dialer.core.compliance import ComplianceSettings, Refusal, Rule, cap_dials
from dialer.core.pacing.base import Outcome, OutcomeKind, OutcomeStats, PacingSettings, Snapshot
from dialer.core.pacing.registry import load_strategy
from dialer.core.timezones import CallingWindow
from dialer.store import hopper
from dialer.store.campaigns import Campaign, get_campaign
from dialer.store.campaigns_config import CallbacksIn, DispositionIn
from dialer.store.journeys import utcnow

if TYPE_CHECKING:
    from dialer.live.runtime import DialerRuntime

log = logging.getLogger(__name__)

MAX_LINES_PER_AGENT = 10  # trunk ceiling, whatever a strategy asks (as in the simulator)
RELOAD_S = 2.0  # re-read the campaign's status and settings this often
CAP_REFUSAL_EVERY_S = 60.0  # record an abandon-cap hold-back at most this often


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LiveCampaign:
    campaign_id: int
    name: str
    status: str
    strategy: str
    pacing: PacingSettings
    compliance: ComplianceSettings
    window: CallingWindow  # the campaign's own hours, on top of the legal ones
    script: str
    data_source_line: str
    dispositions: dict[str, DispositionIn]
    callbacks: CallbacksIn


def live_campaign(campaign: Campaign) -> LiveCampaign:
    cfg = campaign.config
    c = cfg.compliance
    pacing_fields = {k: v for k, v in cfg.pacing_settings.items() if v is not None}
    pacing = PacingSettings(**{
        **pacing_fields, "abandon_cap": c.abandon_cap, "connect_window_s": c.connect_window_s,
        "max_ring_s": c.ring_timeout_s,
    })  # fmt: skip
    compliance = ComplianceSettings(
        abandon_cap=c.abandon_cap, uk_mode=c.uk_mode, abandon_window_s=c.abandon_window_s,
        connect_window_s=c.connect_window_s, max_ring_s=c.ring_timeout_s,
        night_calling=c.night_calling, require_marketing_consent=c.require_marketing_consent,
        max_attempts_total=c.max_attempts_total, max_attempts_per_day=c.max_attempts_per_day,
        default_tz=cfg.calling_window.tz,
    )  # fmt: skip
    return LiveCampaign(
        campaign_id=campaign.id, name=cfg.name, status=campaign.status.value,
        strategy=cfg.pacing_strategy, pacing=pacing, compliance=compliance,
        window=CallingWindow(start=cfg.calling_window.start, end=cfg.calling_window.end),
        script=cfg.script, data_source_line=cfg.data_source_line,
        dispositions={d.code: d for d in cfg.dispositions}, callbacks=cfg.callbacks,
    )  # fmt: skip


async def load_live_campaign(conn: asyncpg.Connection, campaign_id: int) -> LiveCampaign:
    return live_campaign(await get_campaign(conn, campaign_id=campaign_id))


class CampaignLoop:
    """One campaign's pacing loop. It runs only while its process holds the campaign's
    advisory lock on `lock_conn`; closing that connection (or the process dying) frees it."""

    def __init__(
        self, runtime: DialerRuntime, campaign: LiveCampaign, lock_conn: asyncpg.Connection
    ) -> None:
        self.rt = runtime
        self.campaign = campaign
        self.lock_conn = lock_conn
        self.strategy = load_strategy(campaign.strategy, campaign.pacing)
        self.window = AbandonWindow(window_s=campaign.compliance.window_s,
                                    uk_mode=campaign.compliance.uk_mode)
        self.in_flight: dict[int, float] = {}  # attempt id -> dial time (monotonic)
        self.dials = 0
        self._last_cap_refusal_s = 0.0

    @property
    def campaign_id(self) -> int:
        return self.campaign.campaign_id

    # -- what the calls report -------------------------------------------------------------
    def observe(self, kind: OutcomeKind, duration_s: float) -> None:
        self.strategy.observe(Outcome(kind=kind, at_s=self.rt.desk.clock(),
                                      duration_s=duration_s))
        answer = {OutcomeKind.CONNECTED: AnswerKind.CONNECTED,
                  OutcomeKind.ABANDONED: AnswerKind.ABANDONED,
                  OutcomeKind.ANSWERED_MACHINE: AnswerKind.MACHINE}.get(kind)
        if answer is not None:
            self.window.record(answer, at_s=time.time())

    # -- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._seed_window()
            next_reload_s = self.rt.desk.clock() + RELOAD_S
            while not self.rt.stopping.is_set():
                if self.lock_conn.is_closed():
                    log.warning("campaign %s: lost the lock connection", self.campaign_id)
                    return
                if self.rt.desk.clock() >= next_reload_s:
                    next_reload_s = self.rt.desk.clock() + RELOAD_S
                    if not await self._reload():
                        return
                await self.tick()
                try:
                    async with asyncio.timeout(self.rt.tick_s):
                        await self.rt.stopping.wait()
                except TimeoutError:
                    pass
        finally:
            if not self.lock_conn.is_closed():
                await self.lock_conn.close()  # frees the advisory lock

    async def _seed_window(self) -> None:
        since = utcnow() - dt.timedelta(seconds=self.window.window_s)
        async with self.rt.pool.acquire() as conn:
            answers = await contacts.campaign_answers_since(conn, campaign_id=self.campaign_id,
                                                            since=since)
        kinds = {"answered_live": AnswerKind.CONNECTED, "abandoned": AnswerKind.ABANDONED,
                 "answered_machine": AnswerKind.MACHINE}
        for at_s, outcome in answers:
            self.window.record(kinds[outcome], at_s=at_s)

    async def _reload(self) -> bool:
        async with self.rt.pool.acquire() as conn:
            fresh = await load_live_campaign(conn, self.campaign_id)
        if fresh.status != "running":
            return False
        if fresh.strategy != self.campaign.strategy or fresh.pacing != self.campaign.pacing:
            self.strategy = load_strategy(fresh.strategy, fresh.pacing)
        self.campaign = fresh
        return True

    def snapshot(self) -> Snapshot:
        now = self.rt.desk.clock()
        agents = self.rt.desk.agents_on(self.campaign_id)
        counts = self.window.counts(time.time())

        def since(state: AgentState) -> tuple[float, ...]:
            return tuple(now - a.core.since_s for a in agents if a.state is state)

        return Snapshot(
            now_s=now,
            ready_s=tuple(now - a.core.ready_since_s for a in agents if a.routable),
            reserved=sum(1 for a in agents if a.state is AgentState.RESERVED),
            on_call_s=since(AgentState.ON_CALL),
            wrap_up_s=since(AgentState.WRAP_UP),
            paused=sum(1 for a in agents if a.state is AgentState.PAUSED),
            ringing_s=tuple(now - t for t in self.in_flight.values()),
            waiting_s=self.rt.desk.waiting_s(self.campaign_id),
            stats=OutcomeStats(dials=self.dials, live_answers=counts.live_answers,
                               machines=counts.machines, abandoned=counts.abandoned),
            settings=self.campaign.pacing,
        )

    async def tick(self) -> None:
        if self.strategy.dedicated_agent:
            return  # preview campaigns: agents ask for each lead from their desktop
        snap = self.snapshot()
        wanted = self.strategy.calls_to_place(snap)
        ceiling = MAX_LINES_PER_AGENT * snap.logged_in - len(self.in_flight)
        wanted = max(0, min(wanted, ceiling))
        rate = self.window.rate(time.time())
        count, capped = cap_dials(wanted, free_lines=snap.free_lines, abandon_rate=rate,
                                  cap=self.campaign.compliance.abandon_cap)
        async with self.rt.pool.acquire() as conn:
            if capped is not None:
                await self._record_cap(conn, capped)
            if count <= 0:
                return
            now = utcnow()
            leased = await hopper.lease_leads(
                conn, campaign_id=self.campaign_id, owner=self.rt.owner, count=count, now=now,
                lease_s=self.rt.lease_s,
            )  # fmt: skip
            allowed = await hopper.screen(
                conn, leads=leased, settings=self.campaign.compliance, owner=self.rt.owner,
                now=now, campaign_window=self.campaign.window,
            )  # fmt: skip
        ids = await self.rt.next_attempt_ids(len(allowed))
        for lead, attempt_id in zip(allowed, ids, strict=True):
            self.dials += 1
            self.rt.start_call(self.campaign, lead, attempt_id=attempt_id, loop=self)

    async def _record_cap(self, conn: asyncpg.Connection, refusal: Refusal) -> None:
        now_s = self.rt.desk.clock()
        if now_s - self._last_cap_refusal_s < CAP_REFUSAL_EVERY_S:
            return
        self._last_cap_refusal_s = now_s
        await conn.execute(hopper.Q["insert_refusal"], self.campaign_id, None,
                           Rule.ABANDON_CAP.value, refusal.detail)
