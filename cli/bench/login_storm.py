"""`telemart bench login-storm`: an agent's screen-pop reads during a storm of logins.

On a scratch database: an agent on a call (an open call journey), and N users. The "pop"
is what the agent's desktop asks the server when a call lands: the customer of its call
(`GET /api/v1/customers/{id}`: the access check on the dialer's state, the read, the audit
row). The pops are timed first alone (the baseline, in the same run), then while N clients
log in again and again with right passwords (argon2 each time; a storm of wrong ones is
cheaper, as throttling answers those without hashing). The server runs in this process
(`measure`) so the test of the same name can call it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from config.db import _init_connection, connect
from config.scratch import free_port, scratch_database
from config.settings import Settings
from dialer.sim.seed import seed_campaign
from server.app import create_app
from server.auth import Role, create_user, issue_token

PASSWORD = "storm-password-1"


@dataclass(frozen=True, kw_only=True)
class StormResult:
    baseline_ms: list[float]
    storm_ms: list[float]
    logins: int
    refused: int

    def as_json(self) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float:
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

        return {
            "pops": len(self.storm_ms),
            "baseline_p50_ms": pct(self.baseline_ms, 0.5),
            "baseline_p99_ms": pct(self.baseline_ms, 0.99),
            "storm_p50_ms": pct(self.storm_ms, 0.5),
            "storm_p99_ms": pct(self.storm_ms, 0.99),
            "logins_during_storm": self.logins,
            "logins_refused_busy": self.refused,
            "ratio_p50": round(statistics.median(self.storm_ms)
                               / max(statistics.median(self.baseline_ms), 0.001), 2),
        }  # fmt: skip


async def _seed(url: str, clients: int) -> tuple[int, str, list[str]]:
    """(customer on the agent's call, the agent's token, usernames of the storm)."""
    conn = await connect(url)
    await _init_connection(conn)
    try:
        agent = await create_user(conn, username=f"agent-{secrets.token_hex(3)}",
                                  password=PASSWORD, role=Role.AGENT)  # fmt: skip
        token = await issue_token(conn, user=agent, kind="api", hours=1)
        campaign_id = await seed_campaign(conn, leads=1, start=False, prefix=7)
        lead = await conn.fetchrow(
            "SELECT id, customer_id FROM campaign_leads WHERE campaign_id = $1", campaign_id)
        await conn.execute(
            "INSERT INTO call_journeys (attempt_id, campaign_id, lead_id, agent_id, dialer,"
            " queued_at, answered_at, agent_connected_at) VALUES (nextval("
            "pg_get_serial_sequence('contact_attempts', 'id')), $1, $2, $3, 'bench', now(),"
            " now(), now())", campaign_id, lead["id"], agent.id)  # fmt: skip
        names = []
        for i in range(clients):
            name = f"storm-{i}-{secrets.token_hex(2)}"
            await create_user(conn, username=name, password=PASSWORD, role=Role.AGENT)
            names.append(name)
    finally:
        await conn.close()
    return int(lead["customer_id"]), token, names


async def _pops(session: aiohttp.ClientSession, url: str, token: str, n: int) -> list[float]:
    took = []
    for _ in range(n):
        started = time.perf_counter()
        async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"pop answered {resp.status}")
        took.append((time.perf_counter() - started) * 1000.0)
        await asyncio.sleep(0.02)  # pops arrive one by one, as calls do
    return took


async def measure(
    url: str, settings: Settings, *, clients: int = 8, pops: int = 40
) -> StormResult:
    """Serve the app on `url` here and time `pops` pops alone, then during the storm."""
    customer_id, token, names = await _seed(url, clients)
    app = create_app(settings, url=url, background=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    pop_url = f"{base}/api/v1/customers/{customer_id}"
    stop = asyncio.Event()
    counts = {"logins": 0, "refused": 0}

    async def storm(session: aiohttp.ClientSession, name: str) -> None:
        while not stop.is_set():
            async with session.post(f"{base}/api/v1/auth/token",
                                    json={"username": name, "password": PASSWORD}) as resp:
                await resp.read()
                counts["logins" if resp.status == 200 else "refused"] += 1

    try:
        async with aiohttp.ClientSession() as session:
            await _pops(session, pop_url, token, 5)  # warm the pool and caches
            baseline = await _pops(session, pop_url, token, pops)
            storms = [asyncio.create_task(storm(session, n)) for n in names]
            await asyncio.sleep(0.5)  # let the storm build up
            try:
                during = await _pops(session, pop_url, token, pops)
            finally:
                stop.set()
                await asyncio.gather(*storms, return_exceptions=True)
    finally:
        await runner.cleanup()
    return StormResult(baseline_ms=baseline, storm_ms=during, logins=counts["logins"],
                       refused=counts["refused"])  # fmt: skip


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from cli.main import settings_from

    settings = settings_from(args)
    async with scratch_database(settings, migrated=True) as url:
        result = await measure(url, settings, clients=args.clients, pops=args.pops)
    return {"clients": args.clients, **result.as_json()}


def cmd_bench_login_storm(args: argparse.Namespace) -> int:
    result = asyncio.run(_run(args))
    print(json.dumps(result))
    return 0


def register(bench_sub: Any) -> None:
    """Adds `telemart bench login-storm`."""
    p = bench_sub.add_parser("login-storm", help="screen-pop latency during a storm of logins")
    p.add_argument("--clients", type=int, default=8, help="clients logging in without pause")
    p.add_argument("--pops", type=int, default=200, help="pops timed alone, then in the storm")
    p.set_defaults(func=cmd_bench_login_storm)

