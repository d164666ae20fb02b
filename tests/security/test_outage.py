"""A database outage answers 503 + Retry-After at once, workers back off, logs stay small
(finding 6). The database is cut with a TCP relay between the app and the real PostgreSQL
(the shared server cannot be killed): cutting drops every connection and refuses new ones,
as a killed server does; `hang` accepts and never answers, as an unreachable host does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from config.logging import RepeatFilter
from config.settings import Settings
from server.app import create_app
from server.auth import Role
from server.views_orders import batcher_for
from tests.conftest import make_user
from tests.integration.orders.seed import DELIVERY


class Relay:
    """127.0.0.1:port -> PostgreSQL, with a switch: up, cut (refuse) or hang."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "up"
        self._pairs: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "cut":
            writer.close()
            return
        if self.mode == "hang":
            self._pairs.add(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._pairs.update((writer, up_writer))

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    def cut(self) -> None:
        self.mode = "cut"
        for writer in list(self._pairs):
            writer.transport.abort()
        self._pairs.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def relay(db_url: str) -> AsyncIterator[Relay]:
    url = URL(db_url)
    found = Relay(url.host or "127.0.0.1", url.port or 5432)
    await found.start()
    try:
        yield found
    finally:
        await found.close()


@pytest.fixture
async def cut_client(relay: Relay, db_url: str, settings: Settings) -> AsyncIterator[Any]:
    url = str(URL(db_url).with_port(relay.port))
    app = create_app(settings, url=url, background=False)
    async with TestClient(TestServer(app)) as c:
        yield c


async def _token(client: Any, db_url: str, role: Role) -> dict[str, str]:
    name = f"{role.value}-{secrets.token_hex(3)}"
    await make_user(db_url, name, role)
    resp = await client.post("/api/v1/auth/token",
                             json={"username": name, "password": "password-1"})  # fmt: skip
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


@pytest.mark.parametrize("how", ["cut", "hang"])
async def test_an_outage_is_503_with_retry_after_not_a_hang(
    cut_client: Any, relay: Relay, db_url: str, how: str
) -> None:
    headers = await _token(cut_client, db_url, Role.SUPERVISOR)
    assert (await cut_client.get("/api/v1/campaigns", headers=headers)).status == 200
    relay.cut()
    relay.mode = how
    async with asyncio.timeout(60):  # a guard against hanging (connect timeout 5 s), not a timing
        for path in ("/api/v1/campaigns", "/api/v1/orders", "/customers"):
            resp = await cut_client.get(path, headers=headers)
            assert resp.status == 503, (path, await resp.text())
            assert resp.headers["Retry-After"] == "1"
            if not path.startswith("/api/"):  # a page: a page, in Korean, not the API's JSON
                assert "데이터베이스에 연결할 수 없습니다" in await resp.text()
        health = await cut_client.get("/healthz")
        assert health.status == 503
    relay.mode = "up"
    async with asyncio.timeout(15):
        for _ in range(30):  # the pool reconnects on its own
            if (await cut_client.get("/api/v1/campaigns", headers=headers)).status == 200:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("no recovery after the database came back")


async def test_orders_during_an_outage_fail_fast_and_the_batcher_backs_off(
    cut_client: Any, relay: Relay, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await _token(cut_client, db_url, Role.AGENT)
    batcher = batcher_for(cut_client.app)
    relay.cut()
    caplog.set_level(logging.WARNING)
    statuses = []
    async with asyncio.timeout(20):
        for i in range(40):
            resp = await cut_client.post("/api/v1/orders", headers=agent | {
                "Idempotency-Key": f"k{i}"}, json={
                "customer_id": 1, "lines": [{"sku_id": 1, "qty": 1}], "delivery": DELIVERY,
                "payment": {"method": "cod"}})  # fmt: skip
            statuses.append(resp.status)
            await asyncio.sleep(0.01)
    assert set(statuses) == {503}
    # Without back-off a worker restarted for every failure, ~640 a second on 1a94a10.
    assert batcher.workers_started <= 12
    assert len([r for r in caplog.records if r.name == "orders.batcher"]) <= 12
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]


def test_a_repeated_warning_is_written_once_per_interval() -> None:
    log_filter = RepeatFilter(interval_s=3600)
    records = [logging.LogRecord("x", logging.WARNING, __file__, 1, "db gone: %s", (i,), None)
               for i in range(1000)]  # fmt: skip
    passed = [r for r in records if log_filter.filter(r)]
    assert len(passed) == 1
    other = logging.LogRecord("x", logging.WARNING, __file__, 1, "another fault", (), None)
    assert log_filter.filter(other)
    info = logging.LogRecord("x", logging.INFO, __file__, 1, "db gone: %s", (1,), None)
    assert log_filter.filter(info)
    log_filter.interval_s = 0.0
    again = logging.LogRecord("x", logging.WARNING, __file__, 1, "db gone: %s", (0,), None)
    assert log_filter.filter(again)
    assert "999 more like this" in again.getMessage()
