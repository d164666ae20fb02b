"""The bus between the node that holds an agent's websocket and the node that runs the
agent's campaign: a port with a lifecycle, publish/subscribe and request/reply.

`LocalBus` runs everything in one process (the default: nothing else to start);
`dialer.live.nats_bus.NatsBus` carries the same subjects over NATS when
`TELEMART_NATS_URL` is set. Payloads are bytes (JSON): encoded once, written to the
websocket as they are.

Subjects:
- `telemart.agent.<agent id>`: messages to an agent's desktops (state, pop, notice, error);
  every node holding a websocket of that agent subscribes.
- `telemart.desk.<campaign id>`: requests from an agent to the desk of their campaign;
  only the process holding the campaign serves it. On the local bus one desk serves every
  campaign (`DESK_ANY`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from dialer.errors import DialerError

log = logging.getLogger(__name__)

Listener = Callable[[bytes], None]
Responder = Callable[[bytes], Awaitable[bytes]]
Unsubscribe = Callable[[], Awaitable[None]]
StateListener = Callable[[bool], None]  # connected?

DESK_ANY = "*"


def agent_subject(agent_id: int) -> str:
    return f"telemart.agent.{agent_id}"


def desk_subject(campaign_id: int | str) -> str:
    return f"telemart.desk.{campaign_id}"


class NoDesk(DialerError):
    """No dialer runs this campaign right now (it is being taken over, or not started)."""


class BusDown(DialerError):
    """The message bus is unreachable: reconnecting."""


class Bus(Protocol):
    name: str
    spans_nodes: bool  # True when other processes are reached through it

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    @property
    def connected(self) -> bool: ...
    def on_state(self, listener: StateListener) -> None: ...
    def publish(self, subject: str, data: bytes) -> None:
        """Send without waiting (in order, per bus); lost when nobody listens."""

    async def subscribe(self, subject: str, listener: Listener) -> Unsubscribe: ...
    async def serve(self, subject: str, responder: Responder) -> Unsubscribe: ...
    async def request(self, subject: str, data: bytes, *, timeout_s: float) -> bytes:
        """The responder's answer; NoDesk when nobody serves `subject`, BusDown."""


class LocalBus:
    """Everything in this process: subscribers are called at once, in order."""

    name = "local"
    spans_nodes = False

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = {}
        self._responders: dict[str, Responder] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        self._listeners.clear()
        self._responders.clear()

    @property
    def connected(self) -> bool:
        return True

    def on_state(self, listener: StateListener) -> None:
        return None  # never disconnects

    def publish(self, subject: str, data: bytes) -> None:
        for listener in list(self._listeners.get(subject, ())):
            try:
                listener(data)
            except Exception:
                log.exception("bus listener on %s failed", subject)

    async def subscribe(self, subject: str, listener: Listener) -> Unsubscribe:
        self._listeners.setdefault(subject, []).append(listener)

        async def unsubscribe() -> None:
            found = self._listeners.get(subject, [])
            with contextlib.suppress(ValueError):
                found.remove(listener)
            if not found:
                self._listeners.pop(subject, None)

        return unsubscribe

    async def serve(self, subject: str, responder: Responder) -> Unsubscribe:
        self._responders[subject] = responder

        async def unsubscribe() -> None:
            if self._responders.get(subject) is responder:
                del self._responders[subject]

        return unsubscribe

    async def request(self, subject: str, data: bytes, *, timeout_s: float) -> bytes:
        responder = self._responders.get(subject) or self._responders.get(desk_subject(DESK_ANY))
        if responder is None:
            raise NoDesk(subject)
        async with asyncio.timeout(timeout_s):
            return await responder(data)
