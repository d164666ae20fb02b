"""The ARI driver against the ARI fake (`tests/fakes/ari.py`): no Asterisk in CI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from dialer.telephony import events as ev
from dialer.telephony.ari import AriPort, AriSettings
from tests.fakes.ari import AriFake
from tests.integration.dialer.conftest import live_app_factory, live_client

__all__ = ["live_app_factory", "live_client"]  # the live dialer's fixtures, shared
GREETINGS = Path(__file__).parents[2] / "fakes" / "greetings"
E = TypeVar("E", bound=ev.PortEvent)


class Recorder:
    """The port's sink: every event, and a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[ev.PortEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: ev.PortEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type[E], call_id: str | None = None) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)
                and (call_id is None or getattr(e, "call_id", None) == call_id)]

    async def wait(self, kind: type[E], call_id: str | None = None,
                   where: Callable[[E], bool] = lambda e: True, within: float = 5.0) -> E:
        async with asyncio.timeout(within):
            while True:
                found = [e for e in self.of(kind, call_id) if where(e)]
                if found:
                    return found[0]
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def fake() -> AsyncIterator[AriFake]:
    async with AriFake().running() as running:
        yield running


def settings_for(fake: AriFake, **overrides: object) -> AriSettings:
    return AriSettings(**{"url": fake.url, "user": "telemart", "password": "secret",
                          "app": "telemart-test", **overrides})  # type: ignore[arg-type]


@pytest.fixture
async def sink() -> Recorder:
    return Recorder()


@pytest.fixture
async def port(fake: AriFake, sink: Recorder) -> AsyncIterator[AriPort]:
    opened = AriPort(settings_for(fake))
    await opened.open(sink)
    try:
        yield opened
    finally:
        await opened.close()


def greeting(name: str) -> bytes:
    return (GREETINGS / f"{name}.ul").read_bytes()
