"""The deployments, as real processes on one PostgreSQL: one `telemart serve`; two web
nodes and a `telemart dialer` joined by NATS; a dialer node kill -9'd mid-campaign while
another carries on. A NATS URL that does not answer stops `serve` with a clear message."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg

from config.scratch import free_port
from dialer.sim.seed import seed_campaign
from tests.integration.dialer.processes import (
    GENEROUS_LEASE_S,
    DeskBot,
    agent_token,
    node_env,
    nodes,
    start_dialer,
    start_serve,
)

TIMEOUT_S = 60.0


async def until(check: Callable[[], bool | Awaitable[bool]], timeout_s: float = TIMEOUT_S) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            got = check()
            if got if isinstance(got, bool) else await got:
                return
            await asyncio.sleep(0.05)


async def _bots(db_url: str, campaign_id: int, count: int, talk_s: float = 0.05) -> list[DeskBot]:
    tokens = [await agent_token(db_url, f"agent-{i}") for i in range(count)]
    return [DeskBot(token=token, campaign_id=campaign_id, talk_s=talk_s) for _, token in tokens]


async def _dialers(pool: asyncpg.Pool) -> set[str]:
    async with pool.acquire() as conn:
        return {r["dialer"] for r in await conn.fetch("SELECT DISTINCT dialer FROM call_journeys")}


async def _twice(pool: asyncpg.Pool) -> list[int]:
    async with pool.acquire() as conn:
        return [
            r["lead_id"]
            for r in await conn.fetch(
                "SELECT lead_id FROM call_journeys GROUP BY lead_id HAVING count(*) > 1"
            )
        ]


async def test_one_serve_node(db_url: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=30)
    (bot,) = await _bots(db_url, campaign_id, 1)
    stop = asyncio.Event()
    async with nodes() as started, aiohttp.ClientSession() as session:
        web = await start_serve("one", node_env(db_url, tmp_path))
        started.append(web)
        task = asyncio.create_task(bot.run(session, web.ws, stop))
        await until(lambda: len(bot.handled) >= 3)
        stop.set()
        await task
    assert len(await _dialers(pool)) == 1
    assert await _twice(pool) == []


async def test_two_web_nodes_and_a_dialer_process_on_nats(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path, nats_url: str
) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=60)
    bots = await _bots(db_url, campaign_id, 2)
    env = node_env(db_url, tmp_path, nats_url=nats_url, lease_s=GENEROUS_LEASE_S)
    web_env = {**env, "TELEMART_DIALER_ENABLED": "false"}
    stop = asyncio.Event()
    async with nodes() as started, aiohttp.ClientSession() as session:
        webs = [await start_serve(f"web-{i}", web_env) for i in (1, 2)]
        started.extend(webs)
        started.append(await start_dialer("dialer-1", env))
        tasks = [
            asyncio.create_task(bot.run(session, web.ws, stop))
            for bot, web in zip(bots, webs, strict=True)
        ]
        await until(lambda: all(len(b.handled) >= 3 for b in bots))
        stop.set()
        await asyncio.gather(*tasks)
    assert await _dialers(pool) == {"dialer-1"}  # the campaign ran in the dialer process
    assert await _twice(pool) == []


async def test_a_dialer_node_killed_mid_campaign_and_another_carries_on(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path, nats_url: str
) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=200)
    bots = await _bots(db_url, campaign_id, 2, talk_s=0.3)
    env = node_env(db_url, tmp_path, nats_url=nats_url, lease_s=GENEROUS_LEASE_S)
    web_env = {**env, "TELEMART_DIALER_ENABLED": "false"}
    stop = asyncio.Event()
    async with nodes() as started, aiohttp.ClientSession() as session:
        webs = [await start_serve(f"web-{i}", web_env) for i in (1, 2)]
        dialers = {name: await start_dialer(name, env) for name in ("dialer-a", "dialer-b")}
        started.extend([*webs, *dialers.values()])
        tasks = [
            asyncio.create_task(bot.run(session, web.ws, stop))
            for bot, web in zip(bots, webs, strict=True)
        ]
        await until(lambda: sum(len(b.handled) for b in bots) >= 4)
        (holder,) = await _dialers(pool)
        survivor = "dialer-b" if holder == "dialer-a" else "dialer-a"
        killed_at = time.monotonic()
        await dialers[holder].kill()
        before = [len(b.handled) for b in bots]
        await until(lambda: all(len(b.handled) >= n + 2 for b, n in zip(bots, before, strict=True)))
        carried_on_s = time.monotonic() - killed_at

        async def closed() -> bool:
            async with pool.acquire() as conn:
                left: int = await conn.fetchval(
                    "SELECT count(*) FROM live_calls WHERE owner = $1 OR state = 'recovered'",
                    holder,
                )
            return left == 0

        await until(closed)
        stop.set()
        await asyncio.gather(*tasks)
    print(
        f"the survivor carried on {carried_on_s:.1f} s after the kill (lease {GENEROUS_LEASE_S} s)",
        file=sys.stderr,
    )
    assert survivor in await _dialers(pool)
    assert await _twice(pool) == []  # no lead dialled twice across the take-over


async def test_serve_with_a_nats_url_that_does_not_answer_says_so(
    db_url: str, tmp_path: Path
) -> None:
    env = node_env(db_url, tmp_path, nats_url=f"nats://127.0.0.1:{free_port()}")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "serve", "--port", str(free_port()), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(TIMEOUT_S):
        _, err = await proc.communicate()
    assert proc.returncode == 1
    text = err.decode()
    assert "NATS" in text
    assert "does not answer" in text
    assert "Traceback" not in text
