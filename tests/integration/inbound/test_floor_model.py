"""The hold plan's and the staffing page's model of the floor, measured from the last week's
calls: callers' patience (abandons over the time callers waited) and outbound talk."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from dialer.inbound import services
from dialer.inbound.services import DEFAULT_PATIENCE_S, DEFAULT_TALK, floor_model
from server.auth import Role

Client = TestClient  # type: ignore[type-arg]
NOW = dt.datetime.now(dt.UTC)


async def _callers(conn: asyncpg.Connection, *, n: int, patience_s: float, service_s: float,
                   seed: int = 1, days_ago: float = 1.0, ars: bool = False) -> None:  # fmt: skip
    """n callers with exponential patience, each answered after an exponential wait of mean
    `service_s` unless their patience runs out first."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        arrived = NOW - dt.timedelta(days=days_ago, seconds=i * 30)
        patience, wait = rng.expovariate(1 / patience_s), rng.expovariate(1 / service_s)
        answered = wait <= patience
        waited = dt.timedelta(seconds=wait if answered else patience)
        rows.append((f"fm-{seed}-{i}", "+821055500000", "15880000", arrived,
                     arrived + waited if answered else None, arrived + waited + (
                         dt.timedelta(seconds=150) if answered else dt.timedelta()),
                     "answered" if answered else "abandoned"))  # fmt: skip
    await conn.executemany(
        "INSERT INTO inbound_calls (call_id, caller_e164, called, arrived_at, answered_at,"
        " ended_at, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)", rows)
    if ars:
        await conn.executemany("INSERT INTO ars_sessions (call_id, started_at) VALUES ($1, $2)",
                               [(r[0], r[3]) for r in rows])  # fmt: skip


async def _outbound(conn: asyncpg.Connection, talks_s: list[float]) -> None:
    rows = [(100_000 + i, NOW - dt.timedelta(hours=2, seconds=i * 400), s)
            for i, s in enumerate(talks_s)]  # fmt: skip
    await conn.executemany(
        "INSERT INTO call_journeys (attempt_id, campaign_id, lead_id, dialer, queued_at,"
        " agent_connected_at, ended_at) VALUES ($1, 1, 1, 'test', $2::timestamptz, $2,"
        " $2::timestamptz + make_interval(secs => $3))", rows)


async def test_too_few_calls_keep_the_defaults(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        assert await floor_model(conn, now=NOW) == services.FloorModel()
        await _callers(conn, n=60, patience_s=40.0, service_s=30.0)  # under 100 calls
        await _outbound(conn, [200.0] * 49)  # under 50 calls
        model = await floor_model(conn, now=NOW)
    assert model.patience_s == DEFAULT_PATIENCE_S
    assert model.patience_calls == 0
    assert model.talk == DEFAULT_TALK
    assert model.talk_calls == 0


async def test_patience_and_talk_are_measured_from_the_last_week(pool: asyncpg.Pool) -> None:
    rng = random.Random(7)
    talks = [rng.lognormvariate(math.log(150.0), 0.5) for _ in range(400)]
    async with pool.acquire() as conn:
        await _callers(conn, n=3000, patience_s=35.0, service_s=25.0)
        # not counted: callers of a month ago, and callers who began in the ARS
        await _callers(conn, n=2000, patience_s=500.0, service_s=25.0, seed=2, days_ago=30)
        await _callers(conn, n=2000, patience_s=500.0, service_s=25.0, seed=3, ars=True)
        await _outbound(conn, [*talks, 2.0, 9000.0])  # a glitch and a line left open
        model = await floor_model(conn, now=NOW)
    assert model.patience_calls == 3000
    assert abs(model.patience_s - 35.0) / 35.0 < 0.08, model  # censored estimate, 3000 calls
    assert model.talk_calls == 400
    mean = sum(talks) / len(talks)
    assert abs(model.talk.talk_mean_s - mean) < 0.01 * mean
    assert model.talk.wrap_mean_s == DEFAULT_TALK.wrap_mean_s


async def test_staffing_plans_on_the_measured_patience_unless_given(
    client: Client, auth_headers: Any, pool: asyncpg.Pool
) -> None:
    sup = await auth_headers(Role.SUPERVISOR)
    url = "/api/v1/inbound/staffing?date=2026-12-04&aht_s=180"
    before = await (await client.get(url, headers=sup)).json()
    assert (before["patience_s"], before["patience_source"]) == (60.0, "default")
    async with pool.acquire() as conn:
        await _callers(conn, n=1000, patience_s=30.0, service_s=40.0)
    after = await (await client.get(url, headers=sup)).json()
    assert after["patience_source"] == "measured"
    assert after["patience_calls"] == 1000
    assert 24.0 < after["patience_s"] < 36.0
    given = await (await client.get(url + "&patience_s=90", headers=sup)).json()
    assert (given["patience_s"], given["patience_source"]) == (90.0, "given")
    bad = await client.get(url + "&patience_s=0", headers=sup)
    assert bad.status == 422
    assert (await bad.json())["field"] == "patience_s"
