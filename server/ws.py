"""The agents' websockets on this web node, and the bus that joins them to the desks.

Each open desktop has a bounded send queue and a writer task, so nothing waits on a slow
browser; a desktop that stops reading until its queue is full is closed and leaves routing
at once. While an agent has a desktop open here, this node listens to the agent's bus
subject and writes what comes to every desktop of theirs; it also keeps the agent's session
(presence and heartbeat) in PostgreSQL. Everything the live dialer holds for the app lives
in `LiveServices`, under `keys.LIVE`; `live_ctx` opens and closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
from aiohttp import web

from config.settings import Settings
from dialer.live.bus import Bus, BusDown, LocalBus, NoDesk, agent_subject, desk_subject
from dialer.live.desk import LiveDesk, Message
from dialer.live.nats_bus import NatsBus
from dialer.live.runtime import DialerRuntime
from dialer.live.throttle import LogThrottle
from dialer.store import agents

log = logging.getLogger(__name__)

SEND_QUEUE_MAX = 256  # messages waiting for one desktop before it is dropped as too slow
BEATS_PER_LEASE = 4  # agents' sessions are beaten this often within a lease
RESYNC_TIMEOUT_S = 2.0


class _Connection:
    def __init__(self, ws: web.WebSocketResponse, on_overflow: Callable[[], None]) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=SEND_QUEUE_MAX)
        self.writer = asyncio.create_task(self._write(), name="ws-writer")
        self.on_overflow = on_overflow
        self.dropped = False

    async def _write(self) -> None:
        while (text := await self.queue.get()) is not None:
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    def put(self, text: str) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped = True
            self.on_overflow()

    async def close(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            async with asyncio.timeout(1.0):
                await self.writer
        self.writer.cancel()


class AgentHub:
    """Open desktops on this node by agent (users.id); an agent may have several tabs."""

    def __init__(self, *, bus: Bus, node: str, beat_s: float) -> None:
        self.bus = bus
        self.node = node
        self.beat_s = beat_s
        self._conns: dict[int, set[_Connection]] = {}
        self._unsubscribe: dict[int, Callable[[], Awaitable[None]]] = {}
        self.campaign_of: dict[int, int] = {}  # the desk each agent's messages go to
        self.usernames: dict[int, str] = {}
        self.pool: asyncpg.Pool | None = None
        self._throttle = LogThrottle(log)

    def _deliver(self, agent_id: int, data: bytes) -> None:
        text = data.decode()
        for conn in list(self._conns.get(agent_id, ())):
            conn.put(text)

    def send(self, agent_id: int, message: Message) -> None:
        """A message from this node itself (errors, pong) to the agent's desktops here."""
        self._deliver(agent_id, json.dumps(message, default=str).encode())

    def count(self, agent_id: int) -> int:
        return len(self._conns.get(agent_id, ()))

    async def open(self, agent_id: int, ws: web.WebSocketResponse,
                   on_overflow: Callable[[], None]) -> _Connection:
        conn = _Connection(ws, on_overflow)
        first = agent_id not in self._conns
        self._conns.setdefault(agent_id, set()).add(conn)
        if first:
            self._unsubscribe[agent_id] = await self.bus.subscribe(
                agent_subject(agent_id), lambda data: self._deliver(agent_id, data))
        return conn

    async def close(self, agent_id: int, conn: _Connection) -> None:
        conns = self._conns.get(agent_id, set())
        conns.discard(conn)
        if not conns:
            self._conns.pop(agent_id, None)
            unsubscribe = self._unsubscribe.pop(agent_id, None)
            if unsubscribe is not None:
                await unsubscribe()
        await conn.close()

    async def close_all(self) -> None:
        for agent_id, conns in list(self._conns.items()):
            for conn in list(conns):
                await conn.ws.close(code=1001, message=b"server shutting down")
                await self.close(agent_id, conn)

    async def resync(self) -> None:
        """The bus is back: what the desks published meanwhile never came, so each agent
        with a desktop here asks the desk of their campaign for their state again (a
        disposition refused during the outage shows as wrap-up, to be saved again)."""
        for agent_id in list(self._conns):
            campaign_id = self.campaign_of.get(agent_id)
            username = self.usernames.get(agent_id)
            if campaign_id is None or username is None:
                continue
            payload = json.dumps({"type": "state", "agent_id": agent_id,
                                  "username": username}).encode()
            try:
                await self.bus.request(desk_subject(campaign_id), payload,
                                       timeout_s=RESYNC_TIMEOUT_S)
            except (NoDesk, BusDown, TimeoutError):
                continue  # no desk yet: the dialer that takes the campaign sends the state

    def notify_all(self, message: Message) -> None:
        for agent_id in list(self._conns):
            self.send(agent_id, message)

    async def beat(self) -> None:
        """Keep the sessions of the agents with a desktop here alive."""
        while True:
            await asyncio.sleep(self.beat_s)
            if self.pool is None or not self._conns:
                continue
            try:
                async with self.pool.acquire() as conn:
                    await agents.beat(conn, agent_ids=list(self._conns), node=self.node)
                self._throttle.clear("beat")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self._throttle.warning("beat", "agent sessions not beaten (%s)", exc)


@dataclasses.dataclass(kw_only=True, slots=True)
class LiveServices:
    bus: Bus
    desk: LiveDesk
    hub: AgentHub
    node: str
    runtime: DialerRuntime | None = None


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def live_services(settings: Settings) -> LiveServices:
    """The bus the settings name (NATS or in-process), a hub, a desk (served to agents by
    the dialer runtime when this process runs one)."""
    bus: Bus = NatsBus(settings.nats_url) if settings.nats_url else LocalBus()
    node = node_name()
    hub = AgentHub(bus=bus, node=node, beat_s=settings.dialer_lease_s / BEATS_PER_LEASE)
    return LiveServices(bus=bus, desk=LiveDesk(), hub=hub, node=node)


def runtime_time_scale(settings: Settings) -> float:
    """The live runtime keeps the sim carrier's time (1 with real telephony)."""
    return settings.sim_time_scale if settings.telephony == "sim" else 1.0


def live_ctx(key: web.AppKey[LiveServices],
             pool_key: web.AppKey[asyncpg.Pool]) -> Callable[[web.Application],
                                                              AsyncIterator[None]]:
    """Open the bus (a NATS URL that does not answer stops the start with the reason),
    beat the agents' sessions; close the desktops and the bus on the way out."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        services = app[key]
        await services.bus.open()
        services.hub.pool = app[pool_key]

        def bus_state(up: bool) -> None:
            services.hub.notify_all({"type": "notice", "code": "reconnected" if up
                                     else "reconnecting", "text": "The dialer is back" if up
                                     else "Lost the dialer: reconnecting"})

            if up:
                resync.add(asyncio.get_running_loop().create_task(services.hub.resync(),
                                                                  name="agents-resync"))
                for task in [t for t in resync if t.done()]:
                    resync.discard(task)

        resync: set[asyncio.Task[None]] = set()
        services.bus.on_state(bus_state)
        beat = asyncio.create_task(services.hub.beat(), name="agent-sessions-beat")
        try:
            yield
        finally:
            for task in (beat, *resync):
                task.cancel()
            await asyncio.gather(beat, *resync, return_exceptions=True)
            await services.hub.close_all()
            await services.bus.close()

    return ctx
