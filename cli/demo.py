"""`telemart demo`: a home-shopping call centre at work on one machine.

Seeds a company once (catalog with stock, 50,000 customers with purchase history and
consents, a segment and a running campaign), then, while the server runs: simulated
agents take calls and place orders through the same websocket and HTTP APIs a person's
browser uses, a simulated warehouse hands parcels to carriers, and a simulated carrier
moves them to the door. A second run finds the data and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web

from cli import demo_data
from cli.agent_bots import AgentBot, BotBehaviour, BotStats, wait_until_up
from crm.rfm import refresh_rfm
from crm.segments import SegmentKind, save_segment
from dialer.store.campaigns import Action, change_status, create_campaign
from dialer.store.campaigns_config import CallingWindowIn, CampaignConfig
from dialer.store.lists import build_list
from logistics.polling import default_config, poll_once
from logistics.relay import relay_all
from logistics.shipments import dispatch
from server.auth import Role, User, issue_token
from server.keys import POOL

log = logging.getLogger(__name__)

PASSWORD_FILE = "demo-password"  # under the state folder, beside the embedded database


def demo_password(home: Path) -> tuple[str, str]:
    """The demo's one password and where it came from: TELEMART_DEMO_PASSWORD if set, else
    the one chosen on the first run and kept in HOME/demo-password (readable by the owner
    only), so every later run's logins still work."""
    given = os.environ.get("TELEMART_DEMO_PASSWORD")
    if given:
        return given, "TELEMART_DEMO_PASSWORD"
    path = home / PASSWORD_FILE
    if path.is_file():
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return kept, str(path)
    home.mkdir(parents=True, exist_ok=True)
    chosen = secrets.token_urlsafe(9)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(chosen + "\n")
    return chosen, str(path)

CAMPAIGN_NAME = "데모: 주방·리빙 재구매"
SEGMENT_NAME = "주방·리빙 구매 고객 30–70세"
SEGMENT_FILTER = {
    "all": [
        {"field": "bought_category", "op": "in", "value": ["kitchen", "living"]},
        {"field": "age", "op": "between", "value": [30, 70]},
    ]
}
SCRIPT = (
    "안녕하세요, {{name}} 고객님. {{campaign}} 상담원 {{agent}}입니다. "
    "지난번 구매해 주신 상품과 어울리는 방송 특가를 안내해 드리려고 연락드렸습니다."
)
DATA_SOURCE_LINE = "고객님의 연락처는 당사 쇼핑 구매 이력에서 확인했습니다."
# A simulated day of a parcel's journey passes in under a minute.
CARRIER_SPEED = 1800.0
LOGISTICS_TICK_S = 3.0
# Poll-only carriers, so the simulated carrier answers for them.
DEMO_CARRIERS = (("lotte", 12), ("epost", 13), ("logen", 11))


@dataclass(frozen=True, kw_only=True)
class DemoOptions:
    base_url: str
    agents: int
    customers: int = 50_000
    history_orders: int = 120_000


async def seed_company(conn: asyncpg.Connection, options: DemoOptions) -> bool:
    """Seed once; False when an earlier run already did."""
    if await conn.fetchval("SELECT 1 FROM audit_log WHERE action = 'demo.seeded' LIMIT 1"):
        return False
    rng = random.Random(demo_data.SEED)
    async with conn.transaction():
        products, skus = await demo_data.seed_catalog(conn, rng)
        customers = await demo_data.seed_customers(conn, options.customers, rng)
        orders = await demo_data.seed_order_history(conn, options.history_orders)
        await conn.execute(
            "INSERT INTO audit_log (actor, action, details) VALUES ('demo', 'demo.seeded', $1)",
            {"products": products, "skus": skus, "customers": customers, "orders": orders},
        )
    await refresh_rfm(conn, trigger="demo")
    segment = await save_segment(
        conn, name=SEGMENT_NAME, kind=SegmentKind.DYNAMIC, filter_doc=SEGMENT_FILTER, actor="demo"
    )
    config = CampaignConfig(
        name=CAMPAIGN_NAME, pacing_strategy="predictive", script=SCRIPT,
        data_source_line=DATA_SOURCE_LINE,
        # All day by the campaign; the compliance guard still holds 21:00-08:00 (callee's
        # local time) for customers without night-time consent.
        calling_window=CallingWindowIn(start=dt.time(0, 0), end=dt.time(0, 0)),
    )  # fmt: skip
    campaign = await create_campaign(conn, config=config, actor="demo")
    await build_list(
        conn, campaign_id=campaign.id, segment=segment, exclude_contacted_days=None,
        priority=5, actor="demo",
    )  # fmt: skip
    return True


async def running_campaign(conn: asyncpg.Connection) -> int:
    """The demo campaign's id, started if it is not running."""
    row = await conn.fetchrow(
        "SELECT id, status FROM campaigns WHERE name = $1 ORDER BY id LIMIT 1", CAMPAIGN_NAME
    )
    if row is None:
        raise RuntimeError("the demo campaign is missing: was it deleted?")
    if row["status"] in ("draft", "paused"):
        await change_status(conn, campaign_id=row["id"], action=Action.START, actor="demo")
    return int(row["id"])


async def bot_tokens(conn: asyncpg.Connection, usernames: list[str]) -> list[str]:
    rows = await conn.fetch(
        "SELECT id, username FROM users WHERE username = ANY($1::text[]) ORDER BY username",
        usernames,
    )
    tokens = []
    for r in rows:
        user = User(id=r["id"], username=r["username"], role=Role.AGENT)
        tokens.append(await issue_token(conn, user=user, kind="api", hours=24))
    return tokens


async def warehouse_and_carrier(pool: asyncpg.Pool, stop: asyncio.Event) -> None:
    """Relay paid orders to shipments, hand parcels to carriers, let carriers move them."""
    rng = random.Random(demo_data.SEED + 1)
    config = default_config(speed=CARRIER_SPEED)
    while not stop.is_set():
        try:
            async with pool.acquire() as conn:
                await relay_all(conn)
                pending = await conn.fetch(
                    "SELECT id FROM shipments WHERE status = 'pending'"
                    " AND tracking_number IS NULL ORDER BY id LIMIT 50"
                )
                for row in pending:
                    carrier, digits = rng.choice(DEMO_CARRIERS)
                    # Unique per shipment, so a rerun of the demo never reuses a number.
                    number = str(10 ** (digits - 1) + row["id"])
                    async with conn.transaction():
                        await dispatch(
                            conn, shipment_id=row["id"], carrier_code=carrier,
                            tracking_number=number, actor="demo-warehouse",
                            first_poll_after=config.every,
                        )  # fmt: skip
                async with conn.transaction():
                    await poll_once(conn, config=config)
        except Exception:
            # A demo keeps going: one bad tick is logged, the next one tries again.
            log.exception("demo logistics tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), LOGISTICS_TICK_S)


async def run_bots(
    base_url: str, tokens: list[str], campaign_id: int, skus: list[int], stop: asyncio.Event
) -> BotStats:
    stats = BotStats()
    # Talk times are short so that a newcomer sees orders within the first minute.
    behaviour = BotBehaviour(talk_mean_s=25.0, wrap_s=5.0, order_rate=0.3)
    rng = random.Random(demo_data.SEED + 2)
    async with aiohttp.ClientSession() as session:
        await wait_until_up(session, base_url)
        bots = [
            AgentBot(base=base_url, token=t, campaign_id=campaign_id, skus=skus, stats=stats,
                     rng=random.Random(rng.random()), behaviour=behaviour)
            for t in tokens
        ]  # fmt: skip
        await asyncio.gather(*(b.run(session, stop) for b in bots), return_exceptions=True)
    return stats


class DemoRunner:
    """Seeds on start-up, runs the bots and the logistics loop, and stops them first on
    shutdown: the bots are websocket clients of this very server, so they must hang up
    before the server waits for its open connections."""

    def __init__(self, options: DemoOptions, bot_usernames: list[str]) -> None:
        self.options = options
        self.bot_usernames = bot_usernames
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[object]] = []

    async def ctx(self, app: web.Application) -> AsyncIterator[None]:
        pool = app[POOL]
        async with pool.acquire() as conn:
            if await seed_company(conn, self.options):
                print("  seeded a company: products, customers, purchase history, a campaign")
            campaign_id = await running_campaign(conn)
            tokens = await bot_tokens(conn, self.bot_usernames)
            skus = [r["id"] for r in await conn.fetch("SELECT id FROM skus WHERE NOT is_set")]
        self.tasks = [
            asyncio.create_task(warehouse_and_carrier(pool, self.stop), name="demo-logistics"),
            asyncio.create_task(
                run_bots(self.options.base_url, tokens, campaign_id, skus, self.stop),
                name="demo-agents",
            ),
        ]
        try:
            yield
        finally:
            await self.shutdown(app)

    async def shutdown(self, app: web.Application) -> None:
        self.stop.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=10)
        for task in self.tasks:
            task.cancel()
