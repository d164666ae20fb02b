"""Simulated telemarketers that use the same APIs a person's browser does.

Each bot holds an API token, opens the agent websocket, goes ready on a campaign,
acknowledges every screen pop, talks for a random time, places an order through
`POST /api/v1/orders` on some calls, hangs up, wraps up and sets a disposition.
`telemart bench connect` measures with them; `telemart demo` fills a call centre
with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

POP_PREFIX = '{"type": "pop"'  # how the desk's json.dumps begins a screen pop


@dataclass(kw_only=True)
class BotStats:
    orders: int = 0
    order_errors: int = 0
    calls: int = 0
    # attempt id -> wall-clock time (`time.time()`) the screen pop reached the desktop:
    # the end of answer-to-pop, as the agent sees it (the servers stamp the answer on
    # the same host's clock)
    pops_seen_s: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class BotBehaviour:
    talk_mean_s: float = 4.0  # exponential talk time
    wrap_s: float = 1.0
    order_rate: float = 0.2  # share of calls that end in an order
    payment: str = "cod"


@dataclass(kw_only=True)
class AgentBot:
    base: str  # http://host:port
    token: str
    campaign_id: int
    rng: random.Random
    skus: list[int]
    behaviour: BotBehaviour = field(default_factory=BotBehaviour)
    stats: BotStats = field(default_factory=BotStats)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def run(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        ws_url = self.base.replace("http", "ws", 1) + "/api/v1/dialer/ws"
        async with session.ws_connect(ws_url, headers=self.headers, heartbeat=None) as ws:
            await ws.send_json({"type": "ready", "campaign_id": self.campaign_id})
            calls: set[asyncio.Task[None]] = set()
            reader = asyncio.create_task(self._read(ws, session, calls), name="bot-reader")
            await stop.wait()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            for task in calls:
                task.cancel()

    async def _read(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        session: aiohttp.ClientSession,
        calls: set[asyncio.Task[None]],
    ) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT or not msg.data.startswith(POP_PREFIX):
                continue  # a bot acts on pops only; hundreds share one process, so the
                # rest (states, notices) are not parsed: they were half its time
            seen_s = time.time()
            data = json.loads(msg.data)
            if data.get("type") == "pop":
                self.stats.pops_seen_s.setdefault(data["attempt_id"], seen_s)
                await ws.send_json({"type": "ack", "attempt_id": data["attempt_id"]})
                task = asyncio.create_task(self._talk(ws, session, data), name="bot-call")
                calls.add(task)
                task.add_done_callback(calls.discard)

    async def _talk(
        self, ws: aiohttp.ClientWebSocketResponse, session: aiohttp.ClientSession,
        pop: dict[str, Any],
    ) -> None:  # fmt: skip
        try:
            await self._call(ws, session, pop)
        except (aiohttp.ClientError, ConnectionError):
            pass  # the server went away mid-call (shutdown): nothing left to do

    async def _call(
        self, ws: aiohttp.ClientWebSocketResponse, session: aiohttp.ClientSession,
        pop: dict[str, Any],
    ) -> None:  # fmt: skip
        attempt_id = pop["attempt_id"]
        self.stats.calls += 1
        await asyncio.sleep(self.rng.expovariate(1.0 / self.behaviour.talk_mean_s))
        code = "no_sale"
        if self.skus and self.rng.random() < self.behaviour.order_rate:
            if await self._order(session, pop["pop"], ws):
                code = "sale"
        await ws.send_json({"type": "hangup", "attempt_id": attempt_id})
        await asyncio.sleep(self.behaviour.wrap_s)
        await ws.send_json({"type": "disposition", "attempt_id": attempt_id, "code": code})

    async def _order(
        self, session: aiohttp.ClientSession, pop: dict[str, Any],
        ws: aiohttp.ClientWebSocketResponse,
    ) -> bool:  # fmt: skip
        customer = pop["customer"]
        body = {
            "customer_id": customer["id"],
            "attempt_id": pop["attempt_id"],
            "lines": [{"sku_id": self.rng.choice(self.skus), "qty": 1}],
            "delivery": {
                "name": customer["name"], "phone": customer["phone"],
                "address": customer["address"], "postal_code": customer["postal_code"],
            },
            "payment": {"method": self.behaviour.payment},
        }  # fmt: skip
        headers = {**self.headers, "Idempotency-Key": secrets.token_hex(8)}
        started = time.perf_counter()
        async with session.post(self.base + "/api/v1/orders", json=body, headers=headers) as resp:
            data = await resp.json()
        if resp.status != 201:
            self.stats.order_errors += 1
            return False
        self.stats.orders += 1
        await ws.send_json({
            "type": "order", "attempt_id": pop["attempt_id"], "order_id": data["id"],
            "submit_ms": (time.perf_counter() - started) * 1000,
        })  # fmt: skip
        return True


async def wait_until_up(session: aiohttp.ClientSession, base: str, timeout_s: float = 60) -> None:
    """Until the server answers /healthz."""
    async with asyncio.timeout(timeout_s):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(base + "/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
