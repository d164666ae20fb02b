"""The websocket hub: each agent's desktops, fed from the live desk.

A message for an agent goes on a queue per open websocket and a writer task sends it, so
the dialer never waits on a slow browser. Everything the live dialer holds for the app
(desk, hub, runtime) lives in `LiveServices`, one per application, under `keys.LIVE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging

from aiohttp import web

from dialer.live.desk import LiveDesk, Message
from dialer.live.runtime import DialerRuntime

log = logging.getLogger(__name__)

SEND_QUEUE_MAX = 1000  # messages waiting for one slow browser before it is dropped


class _Connection:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=SEND_QUEUE_MAX)
        self.writer = asyncio.create_task(self._write(), name="ws-writer")

    async def _write(self) -> None:
        while (text := await self.queue.get()) is not None:
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    def put(self, text: str) -> None:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            log.warning("websocket send queue full: closing a slow desktop")
            self.writer.cancel()

    async def close(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            async with asyncio.timeout(1.0):
                await self.writer
        self.writer.cancel()


class AgentHub:
    """Open desktops by agent (users.id); an agent may have several tabs open."""

    def __init__(self) -> None:
        self._conns: dict[int, set[_Connection]] = {}

    def send(self, agent_id: int, message: Message) -> None:
        conns = self._conns.get(agent_id)
        if not conns:
            return
        text = json.dumps(message, default=str)
        for conn in conns:
            conn.put(text)

    def open(self, agent_id: int, ws: web.WebSocketResponse) -> _Connection:
        conn = _Connection(ws)
        self._conns.setdefault(agent_id, set()).add(conn)
        return conn

    async def close(self, agent_id: int, conn: _Connection) -> None:
        conns = self._conns.get(agent_id, set())
        conns.discard(conn)
        if not conns:
            self._conns.pop(agent_id, None)
        await conn.close()

    async def close_all(self) -> None:
        for agent_id, conns in list(self._conns.items()):
            for conn in list(conns):
                await conn.ws.close(code=1001, message=b"server shutting down")
                await self.close(agent_id, conn)


@dataclasses.dataclass(kw_only=True, slots=True)
class LiveServices:
    desk: LiveDesk
    hub: AgentHub
    runtime: DialerRuntime | None = None


def live_services() -> LiveServices:
    """A desk and a hub for a new application (the desk works without a runtime)."""
    hub = AgentHub()
    return LiveServices(desk=LiveDesk(send=hub.send), hub=hub)
