"""The campaign loop's planner sees the calls it just placed, as the simulator's does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg

from config.db import connect
from dialer.core.planner import Decision
from dialer.live.campaign import LiveCampaign, load_live_campaign
from dialer.live.campaign_loop import CampaignLoop
from dialer.live.deps import Deps
from dialer.live.desk import LiveDesk
from dialer.live.runtime import basic_pop
from dialer.sim.seed import seed_campaign
from dialer.store.hopper import LeasedLead
from dialer.telephony import SimCarrier
from tests.integration.dialer.helpers import scenario

AGENTS = 3


def _ready_desk(campaign_id: int) -> LiveDesk:
    """AGENTS agents ready for the campaign, desktop and phone leg up."""
    desk = LiveDesk()
    for agent_id in range(1, AGENTS + 1):
        desk.attach(agent_id, f"a{agent_id}")
        desk.ready(agent_id, campaign_id=campaign_id)
        desk.leg_up(agent_id)
    return desk


def _deps(
    pool: asyncpg.Pool, desk: LiveDesk, *, on_decision: Callable[[int, Decision], None]
) -> Deps:
    """The loop's dependencies on the sim carrier; `on_decision` hears each tick's plan."""
    return Deps(
        pool=pool,
        port=SimCarrier(scenario=scenario()),
        desk=desk,
        owner="test",
        lease_s=60.0,
        build_pop=basic_pop,
        observe=lambda name, s: None,
        on_decision=on_decision,
    )


async def test_a_tick_counts_the_calls_the_last_tick_placed(
    db_url: str, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=20)
        campaign = await load_live_campaign(conn, campaign_id)
    desk = _ready_desk(campaign_id)
    deps = _deps(pool, desk, on_decision=lambda campaign, decision: decided.append(decision))
    placed: list[int] = []
    decided: list[Decision] = []

    # The calls' tasks have not run yet (their first write is still ahead of them), as
    # when the next tick comes before they are scheduled.
    def start_call(c: LiveCampaign, lead: LeasedLead, attempt_id: int, loop: CampaignLoop) -> None:
        placed.append(attempt_id)

    lock_conn = await connect(db_url)
    try:
        loop = CampaignLoop(
            deps, campaign, lock_conn, start_call=start_call, stopping=asyncio.Event()
        )
        await loop.tick()
        assert len(placed) == AGENTS  # progressive: one dial per ready agent
        assert set(loop.in_flight) == set(placed)
        await loop.tick()
        assert len(placed) == AGENTS  # the agents are spoken for by the calls in flight
        loop.resolved(placed[0])  # one call ends without a live answer: one more dial
        await loop.tick()
        assert len(placed) == AGENTS + 1
        assert [d.count for d in decided] == [AGENTS, 0, 1]  # told, tick by tick (metrics)
    finally:
        await lock_conn.close()


async def test_a_tick_whose_bus_drops_during_its_queries_dials_nothing(
    db_url: str, pool: asyncpg.Pool
) -> None:
    """The bus drops after the planner's decision, while the leads are leased: the tick
    starts no call and the leads are dialable again at once."""
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=20)
        campaign = await load_live_campaign(conn, campaign_id)
    desk = _ready_desk(campaign_id)
    placed: list[int] = []
    decided: list[Decision] = []

    def drop_the_bus(_: int, decision: Decision) -> None:
        decided.append(decision)
        loop.paused_for = "bus"  # as the runtime's bus listener does, mid-tick

    deps = _deps(pool, desk, on_decision=drop_the_bus)

    def start_call(c: LiveCampaign, lead: LeasedLead, attempt_id: int, loop: CampaignLoop) -> None:
        placed.append(attempt_id)

    lock_conn = await connect(db_url)
    try:
        loop = CampaignLoop(
            deps, campaign, lock_conn, start_call=start_call, stopping=asyncio.Event()
        )
        await loop.tick()
        assert [d.count for d in decided] == [AGENTS]  # it meant to dial ...
        assert placed == []  # ... and dialled nothing
        assert loop.in_flight == {}
        async with pool.acquire() as conn:
            leased = await conn.fetchval(
                "SELECT count(*) FROM campaign_leads WHERE lease_owner IS NOT NULL"
                " OR status = 'leased'"
            )
        assert leased == 0
    finally:
        await lock_conn.close()
