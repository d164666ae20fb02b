"""Leases under contention, advisory-lock election and fail-over between runtimes."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest

from config.db import create_pool
from dialer.core.compliance import ComplianceSettings
from dialer.live.desk import LiveDesk
from dialer.live.runtime import DialerRuntime, campaign_lock_key
from dialer.live.sim_agents import SimulatedAgents
from dialer.sim.scenario import Dist
from dialer.sim.seed import seed_campaign
from dialer.store import hopper
from dialer.store.journeys import utcnow
from dialer.telephony import SimCarrier
from tests.integration.dialer.helpers import TIMEOUT_S, scenario


@pytest.fixture
async def pools(db_url: str) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    a = await create_pool(db_url, min_size=1, max_size=5)
    b = await create_pool(db_url, min_size=1, max_size=5)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_racing_leases_never_share_a_lead(
    pool: asyncpg.Pool, pools: tuple[asyncpg.Pool, asyncpg.Pool]
) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=200)

    async def grab(p: asyncpg.Pool, owner: str) -> list[int]:
        got: list[int] = []
        for _ in range(20):
            async with p.acquire() as conn:
                leads = await hopper.lease_leads(conn, campaign_id=campaign_id, owner=owner,
                                                 count=7, now=utcnow())
            got += [lead.lead_id for lead in leads]
        return got

    a, b = pools
    results = await asyncio.gather(grab(a, "a1"), grab(a, "a2"), grab(b, "b1"), grab(b, "b2"))
    every = [lead for r in results for lead in r]
    assert len(every) == len(set(every)) == 200


async def test_expired_leases_come_back_and_priority_orders_the_claim(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=5)
        await conn.execute("UPDATE campaign_leads SET priority = 1 WHERE position = 4")
        now = utcnow()
        first = await hopper.lease_leads(conn, campaign_id=campaign_id, owner="dead",
                                         count=2, now=now, lease_s=30)
        assert [lead.position for lead in first] == [4, 1]
        assert await hopper.lease_leads(conn, campaign_id=campaign_id, owner="live", count=5,
                                        now=now + dt.timedelta(seconds=10)) != []
        back = await hopper.lease_leads(conn, campaign_id=campaign_id, owner="live2", count=5,
                                        now=now + dt.timedelta(seconds=31))
    assert {lead.lead_id for lead in back} == {lead.lead_id for lead in first}


async def test_guard_refuses_dnc_at_dial_time_and_records_the_rule(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=3)
        phone = await conn.fetchval(
            "SELECT phone_e164 FROM campaign_leads WHERE position = 2 AND campaign_id = $1",
            campaign_id)
        # The customer asked not to be called after the list was built.
        await conn.execute("INSERT INTO do_not_call (phone_e164, kind, source)"
                           " VALUES ($1, 'internal', 'test')", phone)
        now = utcnow()
        leased = await hopper.lease_leads(conn, campaign_id=campaign_id, owner="d", count=3,
                                          now=now)
        allowed = await hopper.screen(conn, leads=leased, settings=ComplianceSettings(),
                                      owner="d", now=now)
        status = await conn.fetchval(
            "SELECT status FROM campaign_leads WHERE phone_e164 = $1", phone)
        rule = await conn.fetchval("SELECT rule FROM dial_refusals WHERE campaign_id = $1",
                                   campaign_id)
    assert len(allowed) == 2
    assert phone not in {lead.phone_e164 for lead in allowed}
    assert status == "dnc"
    assert rule == "do_not_call"


def _runtime(pool: asyncpg.Pool, url: str, owner: str) -> DialerRuntime:
    port = SimCarrier(seed=5, time_scale=0.01, scenario=scenario())
    return DialerRuntime(pool=pool, url=url, desk=LiveDesk(), port=port, owner=owner,
                         tick_s=0.02, scan_s=0.02)


async def test_one_loop_per_campaign_and_a_survivor_takes_over(
    db_url: str, pool: asyncpg.Pool, pools: tuple[asyncpg.Pool, asyncpg.Pool]
) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=40)
    a, b = _runtime(pools[0], db_url, "A"), _runtime(pools[1], db_url, "B")
    quick = Dist(kind="fixed", mean=1.0, sd=0.0)
    agents_a = SimulatedAgents(a, count=3, campaign_id=campaign_id, time_scale=0.01,
                               talk=quick, wrap=quick)
    agents_b = SimulatedAgents(b, count=3, campaign_id=campaign_id, time_scale=0.01,
                               talk=quick, wrap=quick, first_id=2_000_000)
    agents_a.log_in()
    agents_b.log_in()
    await a.start()
    async with asyncio.timeout(TIMEOUT_S):
        await agents_a.wait_handled(5)
    await b._scan()  # B looks for work and loses the election
    assert a.held == [campaign_id]
    assert b.held == []
    await b.start()
    await a.stop()  # A "dies": its lock connection closes
    await agents_a.stop()
    async with asyncio.timeout(TIMEOUT_S):
        await agents_b.wait_handled(5)
    assert b.held == [campaign_id]
    await b.stop()
    await agents_b.stop()
    async with pool.acquire() as conn:
        dialled = await conn.fetch("SELECT lead_id, count(*) AS n FROM call_journeys"
                                   " GROUP BY lead_id HAVING count(*) > 1")
        owners = await conn.fetch("SELECT DISTINCT dialer FROM call_journeys")
        free = await conn.fetchval("SELECT pg_try_advisory_lock($1)",
                                   campaign_lock_key(campaign_id))
    assert dialled == []  # no lead dialled twice
    assert {r["dialer"] for r in owners} == {"A", "B"}
    assert free


async def test_a_live_call_keeps_its_lease(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=1)
        now = utcnow()
        (lead,) = await hopper.lease_leads(conn, campaign_id=campaign_id, owner="d", count=1,
                                           now=now, lease_s=5)
        await hopper.extend_leases(conn, lead_ids=[lead.lead_id], owner="d",
                                   now=now + dt.timedelta(seconds=4), lease_s=5)
        stolen = await hopper.lease_leads(conn, campaign_id=campaign_id, owner="x", count=1,
                                          now=now + dt.timedelta(seconds=6))
    assert stolen == []


async def test_campaign_hours_hold_back_a_number_in_another_zone(pool: asyncpg.Pool) -> None:
    from dialer.core.timezones import CallingWindow

    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=2)
        await conn.execute("UPDATE customers SET phone_e164 = '+12125550123' WHERE id = "
                           "(SELECT customer_id FROM campaign_leads WHERE position = 2"
                           " AND campaign_id = $1)", campaign_id)
        await conn.execute("UPDATE campaign_leads SET phone_e164 = '+12125550123'"
                           " WHERE position = 2 AND campaign_id = $1", campaign_id)
        # 10:00 in Seoul is 20:00 the day before in New York
        now = dt.datetime(2027, 3, 2, 1, 0, tzinfo=dt.UTC)  # after the leads are due
        leased = await hopper.lease_leads(conn, campaign_id=campaign_id, owner="d", count=2,
                                          now=now)
        allowed = await hopper.screen(
            conn, leads=leased, settings=ComplianceSettings(), owner="d", now=now,
            campaign_window=CallingWindow(start=dt.time(9), end=dt.time(20)),
        )  # fmt: skip
        refusal = await conn.fetchrow("SELECT * FROM dial_refusals WHERE campaign_id = $1",
                                      campaign_id)
        held = await conn.fetchrow("SELECT * FROM campaign_leads WHERE phone_e164 = $1",
                                   "+12125550123")
    assert [lead.phone_e164.startswith("+8210") for lead in allowed] == [True]
    assert refusal["rule"] == "calling_window"
    assert "America/New_York" in refusal["detail"]
    assert held["status"] == "new"
    assert held["next_attempt_at"] > now
