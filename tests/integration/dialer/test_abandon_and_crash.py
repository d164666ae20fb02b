"""No agent within the connect window: safe-harbor and an abandoned attempt. A killed
`telemart dialer` process: its advisory lock frees and its leases come back."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp.test_utils import TestClient

from dialer.live import recovery
from dialer.live.call import call_id_for
from dialer.live.runtime import campaign_lock_key
from dialer.sim.seed import seed_campaign
from dialer.store import calls, hopper
from dialer.store.campaigns_config import ComplianceIn
from dialer.store.journeys import utcnow
from dialer.telephony.port import SAFE_HARBOR
from dialer.telephony.sim import SimCarrier
from server.auth import Role
from server.keys import LIVE
from tests.conftest import token_for
from tests.integration.dialer.helpers import TIMEOUT_S, receive_until


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    """For another process's work: re-check until true (fails after the timeout)."""
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - the change is in another process or task
            await asyncio.sleep(0.05)


async def test_answer_with_no_agent_free_is_abandoned_with_safe_harbor(
    live_client: TestClient, pool: asyncpg.Pool, db_url: str  # type: ignore[type-arg]
) -> None:
    async with pool.acquire() as conn:
        # ratio 3: two extra lines per agent, so answers find the only agent busy
        campaign_id = await seed_campaign(conn, leads=20, strategy="ratio",
                                          compliance=ComplianceIn(connect_window_s=0.2))
        await conn.execute("UPDATE campaigns SET pacing_settings = '{\"dial_ratio\": 3}'"
                           " WHERE id = $1", campaign_id)
    headers = await token_for(live_client, db_url, Role.AGENT)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    await receive_until(ws, lambda m: m["type"] == "pop")
    runtime = live_client.app[LIVE].runtime
    assert runtime is not None
    carrier = runtime.port

    async def abandoned() -> bool:
        async with pool.acquire() as conn:
            n: int = await conn.fetchval("SELECT count(*) FROM contact_attempts"
                                         " WHERE outcome = 'abandoned'")
        return n > 0

    await eventually(abandoned, TIMEOUT_S)
    async with pool.acquire() as conn:
        attempt = await conn.fetchrow("SELECT * FROM contact_attempts WHERE outcome = 'abandoned'"
                                      " LIMIT 1")
        journey = await conn.fetchrow("SELECT * FROM call_journeys WHERE attempt_id = $1",
                                      attempt["id"])
    assert isinstance(carrier, SimCarrier)
    assert (call_id_for(campaign_id, attempt["id"]), SAFE_HARBOR) in carrier.prompts
    assert journey["outcome"] == "abandoned"
    assert journey["agent_connected_at"] is None
    waited = (journey["ended_at"] - journey["answered_at"]).total_seconds()
    assert 0.2 <= waited < 1.0
    await ws.close()


async def test_killed_dialer_frees_its_campaign_and_a_survivor_closes_its_calls(
    pool: asyncpg.Pool, db_url: str
) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=10)
    env = {**os.environ, "TELEMART_DATABASE_URL": db_url, "TELEMART_LOG_LEVEL": "WARNING"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "dialer", "--sim-agents", "2",
        "--campaign", str(campaign_id), "--owner", "doomed", "--lease-seconds", "2",
        "--tick", "0.1", "--scan", "0.1", "--time-scale", "1",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async def leased() -> bool:
            async with pool.acquire() as conn:
                n: int = await conn.fetchval(
                    "SELECT count(*) FROM live_calls WHERE owner = 'doomed'")
            return n >= 2

        await eventually(leased)
        async with pool.acquire() as conn:
            held = await conn.fetchval("SELECT pg_try_advisory_lock($1)",
                                       campaign_lock_key(campaign_id))
            assert held is False  # the dialer process runs the campaign
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    async with pool.acquire() as conn:
        doomed = {r["lead_id"] for r in await conn.fetch(
            "SELECT lead_id FROM live_calls WHERE owner = 'doomed'")}
    assert len(doomed) >= 2

    async def lock_free() -> bool:
        async with pool.acquire() as conn:
            got: bool = await conn.fetchval("SELECT pg_try_advisory_lock($1)",
                                            campaign_lock_key(campaign_id))
            if got:
                await conn.execute("SELECT pg_advisory_unlock($1)",
                                   campaign_lock_key(campaign_id))
            return got

    await eventually(lock_free)
    async with pool.acquire() as conn:
        # Their calls are not closed yet: even past the lease, no one dials them again.
        late = await hopper.lease_leads(conn, campaign_id=campaign_id, owner="survivor",
                                        count=10, now=utcnow() + dt.timedelta(seconds=31))
        assert doomed.isdisjoint(lead.lead_id for lead in late)

    async def dead() -> bool:
        async with pool.acquire() as conn:
            return "doomed" in await calls.dead_owners(conn, me="survivor", stale_s=2.0)

    await eventually(dead)
    await recovery.close_dead_owner(pool, dead="doomed", me="survivor")
    async with pool.acquire() as conn:
        left = await conn.fetchval("SELECT count(*) FROM live_calls WHERE owner = 'doomed'")
        rows = await conn.fetch(
            "SELECT l.id, l.status, a.outcome FROM campaign_leads l"
            " LEFT JOIN contact_attempts a ON a.details ->> 'lead_id' = l.id::text"
            "  AND (a.details ->> 'interrupted')::bool"
            " WHERE l.id = ANY($1::bigint[])", list(doomed))
    assert left == 0
    for r in rows:  # unanswered: retried later; answered: a person follows it up
        assert (r["status"], r["outcome"]) in (("new", "interrupted"),
                                               ("follow_up", "answered_live"),
                                               ("follow_up", None)), dict(r)
