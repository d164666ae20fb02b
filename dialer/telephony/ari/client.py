"""Asterisk's REST interface over aiohttp: the REST calls, and the events websocket kept
open with reconnects and backoff.

Only what the driver needs, named after ARI's own resources (`/channels`, `/bridges`,
`/recordings`); every call goes through `request()`, which turns ARI's answers into
`AriHttpError` and a refused connection into `TelephonyUnavailable`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from dialer.errors import TelephonyConfigError, TelephonyError, TelephonyUnavailable

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 10.0
BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 10.0
HEARTBEAT_S = 15.0  # websocket ping: a dead Asterisk is noticed within about this

OnEvent = Callable[[dict[str, Any]], None]
OnConnect = Callable[[bool], Awaitable[None]]  # True on a reconnect
OnDisconnect = Callable[[], None]


class AriHttpError(TelephonyError):
    """Asterisk refused the request."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status
        self.message = message


def backoff_delays(first_s: float = BACKOFF_FIRST_S, max_s: float = BACKOFF_MAX_S,
                   rng: random.Random | None = None) -> Any:
    """0.2 s, 0.4 s, ... up to `max_s`, each with ±20 % jitter (so many nodes that lost
    the same Asterisk do not knock on it in step)."""
    rng = rng or random.Random()
    delay = first_s
    while True:
        yield delay * rng.uniform(0.8, 1.2)
        delay = min(max_s, delay * 2)


class AriClient:
    """One ARI application on one Asterisk."""

    def __init__(self, *, url: str, user: str, password: str, app: str) -> None:
        self.base = url.rstrip("/")
        self.user = user
        self.app = app
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {token}"}
        self._session: aiohttp.ClientSession | None = None
        self.connected = asyncio.Event()

    # -- REST ------------------------------------------------------------------------------
    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=60),
            )  # fmt: skip
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float | bool] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """One REST call. Returns the decoded JSON (None for 204)."""
        query = {k: _param(v) for k, v in (params or {}).items()}
        try:
            async with self.session.request(method, self.base + path, params=query,
                                            json=body) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    raise AriHttpError(resp.status, method, path, _error_text(text))
                if not text:
                    return None
                return json.loads(text)
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise TelephonyUnavailable(f"{self.base}: {exc or type(exc).__name__}") from exc

    async def get_bytes(self, path: str) -> bytes:
        """A file (a stored recording)."""
        try:
            async with self.session.get(self.base + path) as resp:
                if resp.status >= 400:
                    raise AriHttpError(resp.status, "GET", path, _error_text(await resp.text()))
                return await resp.read()
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise TelephonyUnavailable(f"{self.base}: {exc or type(exc).__name__}") from exc

    async def check(self) -> dict[str, Any]:
        """Ask Asterisk who it is, so wrong settings fail at start with a message that
        says which setting to look at."""
        try:
            info = await self.request("GET", "/asterisk/info", params={"only": "system"})
        except TelephonyUnavailable as exc:
            raise TelephonyConfigError(
                f"cannot reach ARI at {self.base} ({exc.detail}); is Asterisk running, "
                "with http.conf enabled=yes on that address and port?") from exc
        except AriHttpError as exc:
            if exc.status == 401:
                raise TelephonyConfigError(
                    f"ARI at {self.base} refused user {self.user!r}: wrong user or password "
                    "(TELEMART_ARI_USER / TELEMART_ARI_PASSWORD, ari.conf)") from exc
            if exc.status == 404:
                raise TelephonyConfigError(
                    f"no ARI at {self.base}: the URL must end in /ari and res_ari must be "
                    "loaded (TELEMART_ARI_URL, ari.conf enabled=yes)") from exc
            raise TelephonyConfigError(f"ARI at {self.base}: {exc.detail}") from exc
        return dict(info or {})

    # -- events ----------------------------------------------------------------------------
    @property
    def events_url(self) -> str:
        parts = urlsplit(self.base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, parts.path + "/events", "", ""))

    async def connect_events(self) -> aiohttp.ClientWebSocketResponse:
        try:
            return await self.session.ws_connect(
                self.events_url, params={"app": self.app, "subscribeAll": "false"},
                heartbeat=HEARTBEAT_S, autoping=True, max_msg_size=0,
            )  # fmt: skip
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 401:
                raise TelephonyConfigError(
                    f"ARI events at {self.events_url} refused user {self.user!r}") from exc
            raise TelephonyUnavailable(f"{self.events_url}: {exc.status} {exc.message}") from exc
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise TelephonyUnavailable(f"{self.events_url}: {exc}") from exc

    async def listen(
        self,
        first: aiohttp.ClientWebSocketResponse,
        *,
        on_event: OnEvent,
        on_connect: OnConnect,
        on_disconnect: OnDisconnect,
        stopping: asyncio.Event,
    ) -> None:
        """Read events until `stopping`; reconnect with backoff whenever the socket drops.
        `first` is the socket `open()` already connected (so a wrong URL fails there)."""
        ws: aiohttp.ClientWebSocketResponse | None = first
        delays = backoff_delays()
        reconnect = False
        while not stopping.is_set():
            if ws is None:
                try:
                    ws = await self.connect_events()
                except (TelephonyError, OSError) as exc:
                    delay = next(delays)
                    log.warning("ARI events: %s; again in %.1f s", exc, delay)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await stopping.wait()
                    continue
            delays = backoff_delays()
            try:
                await on_connect(reconnect)
                self.connected.set()  # only now: a reconnect reconciles before new calls
                await self._read(ws, on_event)
            except (TelephonyError, aiohttp.ClientError, OSError) as exc:
                log.warning("ARI events connection failed: %s", exc)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await ws.close()
                ws = None
            if not stopping.is_set():
                log.warning("ARI events connection lost; reconnecting")
                on_disconnect()
                reconnect = True

    @staticmethod
    async def _read(ws: aiohttp.ClientWebSocketResponse, on_event: OnEvent) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            try:
                event = json.loads(msg.data)
            except ValueError:
                log.warning("ARI sent a message that is not JSON: %.80r", msg.data)
                continue
            try:
                on_event(event)
            except Exception:
                log.exception("ARI event %s could not be handled", event.get("type"))
            if event.get("type") == "StasisStart":
                # an answer: let what it started (the bridge) run before the rest of a backlog
                await asyncio.sleep(0)


def _param(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_text(text: str) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        return str(json.loads(text).get("message") or text)
    return text[:200]
