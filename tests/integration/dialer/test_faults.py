"""Faults, against the real parts: the NATS server killed and started again mid-campaign
and a web node kill -9'd (real processes); the database out of reach for a few seconds.
(A NATS URL that does not answer: test_deployments.py.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from config.settings import Settings
from dialer.sim.seed import seed_campaign
from server.app import create_app
from server.auth import Role
from server.dialer_runtime import make_dialer_ctx
from tests.conftest import token_for
from tests.integration.dialer.helpers import receive_until, scenario
from tests.integration.dialer.processes import (
    LEASE_S,
    DeskBot,
    NatsServer,
    agent_token,
    node_env,
    nodes,
    start_dialer,
    start_serve,
)
from tests.integration.dialer.proxy import CutProxy
from tests.integration.dialer.test_deployments import until

OUTAGE_S = 2.5 * LEASE_S  # longer than a lease: the dialer gives its campaign up meanwhile
# Once the dialer knows of the drop (the database's or the bus's), no tick starts a call;
# a call whose task a tick created just before may still write its dial time this long
# after. The NATS test counts from the dialer's own log line saying it heard of the drop
# (how long that takes after the kill is up to the machine's load); the database test,
# in one process with the test, from the cut.
NOTICE_S = 1.0
# A web node's agents leave routing once their sessions are a lease old, seen by the
# dialer's check every lease/3.
GONE_S = LEASE_S + LEASE_S / 3 + 0.5
MAX_LOG_LINES = 12  # per process over the whole outage: a few lines, never one per retry


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _bots(db_url: str, campaign_id: int, names: list[str]) -> list[tuple[int, DeskBot]]:
    out = []
    for name in names:
        agent_id, token = await agent_token(db_url, name)
        out.append((agent_id, DeskBot(token=token, campaign_id=campaign_id)))
    return out


def _timed_lines(path: Path) -> list[tuple[dt.datetime, str]]:
    """Log lines (`2026-12-03 11:40:15,249 LEVEL …`) with the instant each was written (UTC)."""
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        found = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ", line)
        if found is None:
            continue
        at = (
            dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S")
            .replace(microsecond=int(found[2]) * 1000)
            .astimezone(dt.UTC)
        )
        out.append((at, line))
    return out


def _lines_between(path: Path, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Log lines written between two instants (UTC)."""
    return [line for at, line in _timed_lines(path) if start <= at <= end]


def _heard_at(path: Path, text: str, since: dt.datetime) -> dt.datetime:
    """When a process logged `text` first, at or after `since` (the log's clock has
    milliseconds: a line of the same millisecond counts)."""
    since = since.replace(microsecond=since.microsecond // 1000 * 1000)
    for at, line in _timed_lines(path):
        if at >= since and text in line:
            return at
    raise AssertionError(f"{path.name}: no line with {text!r} since {since}")


async def test_nats_killed_and_restarted_mid_campaign(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=400)
    bots = [bot for _, bot in await _bots(db_url, campaign_id, ["agent-1", "agent-2"])]
    nats = NatsServer()
    await nats.start()
    env = node_env(db_url, tmp_path, nats_url=nats.url)
    web_env = {**env, "TELEMART_DIALER_ENABLED": "false"}
    logs = {name: tmp_path / f"{name}.log" for name in ("web-1", "web-2", "dialer-1")}
    stop = asyncio.Event()
    try:
        async with nodes() as started, aiohttp.ClientSession() as session:
            webs = [await start_serve(name, web_env, log=logs[name]) for name in ("web-1", "web-2")]
            started.extend(webs)
            started.append(await start_dialer("dialer-1", env, log=logs["dialer-1"]))
            tasks = [
                asyncio.create_task(bot.run(session, web.ws, stop))
                for bot, web in zip(bots, webs, strict=True)
            ]
            await until(lambda: all(len(b.handled) >= 2 for b in bots))

            down_at = _now()
            await nats.kill()
            # every desktop hears it, in words from the page's catalog (by code)
            await until(lambda: all("reconnecting" in b.notices for b in bots), 10)
            await asyncio.sleep(OUTAGE_S)
            up_at = _now()
            before = [len(b.handled) for b in bots]
            await nats.start()
            await until(lambda: all("reconnected" in b.notices for b in bots), 30)
            # dialling resumes for agents on both web nodes
            await until(
                lambda: all(len(b.handled) >= n + 2 for b, n in zip(bots, before, strict=True))
            )
            stop.set()
            await asyncio.gather(*tasks)
    finally:
        await nats.kill()
    # The dialer holds its dials from when it hears of the drop: counted from there, not
    # from the kill (a loaded machine runs the dialer's callback late). It must hear of it
    # while the outage lasts, with time left to show that it held.
    heard_at = _heard_at(logs["dialer-1"], "disconnected", down_at)
    assert heard_at + dt.timedelta(seconds=NOTICE_S + 1.0) < up_at, (
        f"the dialer heard of the drop {(heard_at - down_at).total_seconds():.1f} s"
        f" after it, too late in a {(up_at - down_at).total_seconds():.1f} s outage"
    )
    async with pool.acquire() as conn:
        blind = await conn.fetchval(
            "SELECT count(*) FROM call_journeys WHERE dialed_at > $1 AND dialed_at < $2",
            heard_at + dt.timedelta(seconds=NOTICE_S),
            up_at,
        )
        twice = await conn.fetchval(
            "SELECT count(*) FROM (SELECT lead_id FROM call_journeys GROUP BY lead_id"
            " HAVING count(*) > 1) AS t"
        )
    assert blind == 0, "calls were dialled while no agent could be reached"
    assert twice == 0
    for name, path in logs.items():
        lines = _lines_between(path, down_at, up_at)
        assert len(lines) <= MAX_LOG_LINES, f"{name} flooded its log:\n" + "\n".join(lines)
        assert "Traceback" not in path.read_text(encoding="utf-8", errors="replace"), name


async def test_a_web_node_killed_its_agents_leave_routing_the_others_carry_on(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path, nats_url: str
) -> None:
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=400)
    doomed = await _bots(db_url, campaign_id, ["doomed-1", "doomed-2"])
    kept = await _bots(db_url, campaign_id, ["kept-1", "kept-2"])
    env = node_env(db_url, tmp_path, nats_url=nats_url)
    web_env = {**env, "TELEMART_DIALER_ENABLED": "false"}
    stop = asyncio.Event()
    async with nodes() as started, aiohttp.ClientSession() as session:
        web_1, web_2 = [await start_serve(name, web_env) for name in ("web-1", "web-2")]
        started.extend([web_1, web_2])
        started.append(await start_dialer("dialer-1", env))
        doomed_tasks = [asyncio.create_task(bot.run(session, web_1.ws, stop)) for _, bot in doomed]
        kept_tasks = [asyncio.create_task(bot.run(session, web_2.ws, stop)) for _, bot in kept]
        await until(lambda: all(len(b.handled) >= 2 for _, b in [*doomed, *kept]))

        # The campaign pauses and its calls end, so that no call is on its way to the
        # doomed agents when their node dies: they are ready, idle, and would be the
        # first routed to if the dialer still counted them.
        async with pool.acquire() as conn:
            await conn.execute("UPDATE campaigns SET status = 'paused' WHERE id = $1", campaign_id)

        async def calls_ended() -> bool:
            async with pool.acquire() as conn:
                left: int = await conn.fetchval("SELECT count(*) FROM live_calls")
            return left == 0

        await until(calls_ended)
        await web_1.kill()
        await asyncio.sleep(GONE_S)
        resumed_at = _now()
        async with pool.acquire() as conn:
            await conn.execute("UPDATE campaigns SET status = 'running' WHERE id = $1", campaign_id)
        before = [len(b.handled) for _, b in kept]
        await until(
            lambda: all(len(b.handled) >= n + 3 for (_, b), n in zip(kept, before, strict=True))
        )
        stop.set()
        await asyncio.gather(*kept_tasks)
        await asyncio.gather(*doomed_tasks, return_exceptions=True)  # their sockets dropped
    doomed_ids = [agent_id for agent_id, _ in doomed]
    async with pool.acquire() as conn:
        routed = await conn.fetch(
            "SELECT attempt_id, agent_id, outcome FROM call_journeys"
            " WHERE dialed_at >= $1 AND agent_id = ANY($2::bigint[])",
            resumed_at,
            doomed_ids,
        )
    assert routed == [], "calls went to agents whose web node was dead"


async def test_a_database_outage_holds_the_dials_tells_the_agent_and_logs_a_few_lines(
    settings: Settings, db_url: str, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    """The process's every connection to PostgreSQL drops and none can be made for a few
    seconds (a proxy in between is cut): the agent is told, nothing is dialled, the log
    gets a handful of lines, not one per retry; then calls come again."""
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=100)
    proxy = CutProxy(db_url)
    await proxy.start()
    ctx = make_dialer_ctx(time_scale=0.01, tick_s=0.05, scan_s=0.05, scenario=scenario())
    app = create_app(settings, url=proxy.url, background=False, extra_ctx=[ctx])
    try:
        async with TestClient(TestServer(app)) as client:
            headers = await token_for(client, db_url, Role.AGENT)
            ws = await client.ws_connect("/api/v1/dialer/ws", headers=headers)
            await ws.send_json({"type": "ready", "campaign_id": campaign_id})
            await _take_call(ws)
            with caplog.at_level(logging.WARNING):
                caplog.clear()
                proxy.cut()
                down_at = _now()
                await receive_until(ws, lambda m: m.get("code") == "reconnecting", 15)
                await asyncio.sleep(OUTAGE_S)
                during = [r for r in caplog.records if r.levelno >= logging.WARNING]
                up_at = _now()
                proxy.mend()
            await receive_until(ws, lambda m: m.get("code") == "reconnected", 30)
            await _take_call(ws)
            await ws.close()
    finally:
        await proxy.close()
    async with pool.acquire() as conn:
        blind = await conn.fetchval(
            "SELECT count(*) FROM call_journeys WHERE dialed_at > $1 AND dialed_at < $2",
            down_at + dt.timedelta(seconds=NOTICE_S),
            up_at,
        )
    assert blind == 0
    text = "\n".join(f"{r.name}: {r.getMessage()}" for r in during)
    assert len(during) <= MAX_LOG_LINES, f"the log was flooded:\n{text}"


async def _take_call(ws: aiohttp.ClientWebSocketResponse) -> int:
    pop = await receive_until(ws, lambda m: m["type"] == "pop", timeout_s=30)
    attempt_id = int(pop["attempt_id"])
    await ws.send_json({"type": "ack", "attempt_id": attempt_id})
    await ws.send_json({"type": "hangup", "attempt_id": attempt_id})
    await ws.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "no_sale"})
    return attempt_id
