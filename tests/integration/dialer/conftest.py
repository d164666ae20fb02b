"""Fixtures for the live dialer: an app running the dialer on a fast, seeded sim carrier."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config.settings import Settings
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
